//! Readers of the two private-stock inputs (FORMATS.md §5):
//!
//! * units offered by private owners to the housing desk: a table (CSV or XLSX) read with the
//!   same rules as the public inventory (header normalisation, aliases, row errors naming file,
//!   line, column and value, optional skipping of bad rows);
//! * area estimates of non-occupied dwellings: GeoJSON polygons (EPSG:4326) with
//!   `abitazioni_totali` and `abitazioni_non_occupate`.
//!
//! **Privacy.** Real offer lists often carry the owner's name (`proprietario`, `nominativo`,
//! `cognome e nome`…). That column is recognised and dropped here: no model type has a field
//! for it, so nothing downstream can store, export or serve it.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use geo::MultiPolygon;
use serde_json::Value;

use super::error::{ReadError, ReadErrorKind};
use super::table::{
    normalize_value, parse_categoria, parse_date, parse_decimal, parse_superficie, read_file,
    read_rows, Row, Schema, TableField, TableOptions,
};
use crate::model::{AlloggioPrivato, Localizzazione, StatoPrivato, StimaNonOccupate};

/// What the offered-units reader returns.
#[derive(Debug)]
pub struct PrivateUnitsRead {
    pub units: Vec<AlloggioPrivato>,
    pub skipped: Vec<ReadError>,
    /// `UTF-8`, `UTF-16LE`, `UTF-16BE`, `windows-1252` or `XLSX`.
    pub encoding: &'static str,
    /// True when the file had an owner-name column (read and dropped).
    pub nomi_scartati: bool,
}

/// The columns of the offered-units table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Codice,
    ComuneIstat,
    Belfiore,
    ComuneNome,
    Indirizzo,
    Sezione,
    Foglio,
    Particella,
    Subalterno,
    CategoriaCatastale,
    SuperficieMq,
    Canone,
    Stato,
    DataOfferta,
    DataLocazione,
    DataRitiro,
    Lon,
    Lat,
    /// The owner's name: recognised so that it is dropped on purpose, never read.
    NomeProprietario,
}

impl TableField for Field {
    fn from_normalized(name: &str) -> Option<Field> {
        Some(match name {
            "id" | "codice" | "codice_offerta" | "id_offerta" | "codice_alloggio" => Field::Codice,
            "comune_istat" | "codice_istat" | "istat" => Field::ComuneIstat,
            "belfiore" | "codice_catastale" | "codice_belfiore" => Field::Belfiore,
            "comune" | "nome_comune" => Field::ComuneNome,
            "indirizzo" => Field::Indirizzo,
            "sezione" => Field::Sezione,
            "foglio" => Field::Foglio,
            "particella" | "mappale" => Field::Particella,
            "subalterno" | "sub" => Field::Subalterno,
            "categoria_catastale" | "categoria" => Field::CategoriaCatastale,
            "superficie_mq" | "superficie" | "superficie_utile" => Field::SuperficieMq,
            "canone_offerto"
            | "canone"
            | "canone_mensile"
            | "canone_offerto_mese"
            | "canone_offerto_euro_mese"
            | "canone_euro_mese" => Field::Canone,
            "stato" | "stato_offerta" => Field::Stato,
            "data_offerta" | "offerto_il" => Field::DataOfferta,
            "data_locazione" | "locato_il" | "data_contratto" => Field::DataLocazione,
            "data_ritiro" | "ritirato_il" => Field::DataRitiro,
            "lon" | "longitudine" => Field::Lon,
            "lat" | "latitudine" => Field::Lat,
            "proprietario"
            | "nome_proprietario"
            | "proprietario_nome"
            | "nominativo"
            | "nominativo_proprietario"
            | "cognome_nome"
            | "cognome_e_nome"
            | "nome_e_cognome"
            | "intestatario" => Field::NomeProprietario,
            _ => return None,
        })
    }

    fn canonical(self) -> &'static str {
        match self {
            Field::Codice => "id",
            Field::ComuneIstat => "comune_istat",
            Field::Belfiore => "belfiore",
            Field::ComuneNome => "comune",
            Field::Indirizzo => "indirizzo",
            Field::Sezione => "sezione",
            Field::Foglio => "foglio",
            Field::Particella => "particella",
            Field::Subalterno => "subalterno",
            Field::CategoriaCatastale => "categoria_catastale",
            Field::SuperficieMq => "superficie_mq",
            Field::Canone => "canone_offerto",
            Field::Stato => "stato",
            Field::DataOfferta => "data_offerta",
            Field::DataLocazione => "data_locazione",
            Field::DataRitiro => "data_ritiro",
            Field::Lon => "lon",
            Field::Lat => "lat",
            Field::NomeProprietario => "proprietario",
        }
    }
}

const SCHEMA: Schema<Field> = Schema {
    required: &[Field::Codice, Field::Stato, Field::DataOfferta],
    one_of: &[&[Field::ComuneIstat, Field::Belfiore, Field::ComuneNome]],
};

/// Reads the units offered by private owners (CSV or XLSX).
pub fn read_private_units(path: &Path, opts: &TableOptions) -> Result<PrivateUnitsRead, ReadError> {
    let bytes = read_file(path)?;
    read_private_units_bytes(&bytes, path, opts)
}

/// Same as [`read_private_units`] over the bytes of a file; `path` names it in messages.
pub fn read_private_units_bytes(
    bytes: &[u8],
    path: &Path,
    opts: &TableOptions,
) -> Result<PrivateUnitsRead, ReadError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let read = read_rows(bytes, path, &SCHEMA, opts, |row| {
        let unit = parse_row(row)?;
        row.unique(&mut seen, unit.codice.clone(), Field::Codice, |first| {
            format!("codice duplicato: già usato alla riga {first}")
        })?;
        Ok(unit)
    })?;
    Ok(PrivateUnitsRead {
        units: read.items,
        skipped: read.skipped,
        encoding: read.encoding,
        nomi_scartati: read.columns.has(Field::NomeProprietario),
    })
}

fn parse_stato(v: &str) -> Result<StatoPrivato, ReadErrorKind> {
    match normalize_value(v).as_str() {
        "offerto" | "offerta" | "disponibile" => Ok(StatoPrivato::Offerto),
        "locato_concordato" | "locato_a_canone_concordato" | "locato" | "canone_concordato" => {
            Ok(StatoPrivato::LocatoConcordato)
        }
        "ritirato" | "ritirata" | "ritirato_dal_proprietario" => Ok(StatoPrivato::Ritirato),
        _ => Err(ReadErrorKind::UnknownCode(
            "stato non riconosciuto (attesi offerto, locato_concordato o ritirato)".into(),
        )),
    }
}

/// `450`, `450,00`, `€ 1.200,50`, `450 €/mese` → euro per month, greater than zero.
fn parse_canone(v: &str) -> Result<f64, ReadErrorKind> {
    let t = v
        .trim()
        .trim_end_matches("/mese")
        .trim_end_matches("/ mese")
        .replace(['€', ' ', '\u{a0}'], "");
    let t = t.strip_prefix("EUR").unwrap_or(&t);
    match parse_decimal(t) {
        Some(x) if x > 0.0 => Ok(x),
        Some(_) => Err(ReadErrorKind::InvalidValue(
            "il canone deve essere maggiore di zero (euro al mese)".to_string(),
        )),
        None => Err(ReadErrorKind::InvalidValue(
            "canone non numerico (euro al mese, ad esempio 450,00)".to_string(),
        )),
    }
}

fn parse_row(row: &Row<'_, Field>) -> Result<AlloggioPrivato, ReadError> {
    let codice = row.required(Field::Codice)?;
    let (comune_istat, belfiore, comune_nome) =
        row.comune(Field::ComuneIstat, Field::Belfiore, Field::ComuneNome)?;
    let stato = row.required_with(
        Field::Stato,
        parse_stato,
        " (offerto, locato_concordato o ritirato)",
    )?;
    let data_offerta = row.required_with(Field::DataOfferta, parse_date, "")?;
    let data_locazione = row.parse_with(Field::DataLocazione, parse_date)?;
    let data_ritiro = row.parse_with(Field::DataRitiro, parse_date)?;
    let not_before_offer = |field: Field, d: Option<NaiveDate>| -> Result<(), ReadError> {
        match d {
            Some(d) if d < data_offerta => Err(row.error(
                field,
                ReadErrorKind::Inconsistent(format!(
                    "data precedente alla data dell'offerta ({})",
                    data_offerta.format("%d/%m/%Y")
                )),
            )),
            _ => Ok(()),
        }
    };
    not_before_offer(Field::DataLocazione, data_locazione)?;
    not_before_offer(Field::DataRitiro, data_ritiro)?;
    match stato {
        StatoPrivato::LocatoConcordato if data_locazione.is_none() => {
            return Err(row.error(
                Field::DataLocazione,
                ReadErrorKind::MissingValue(
                    "data della locazione mancante per un alloggio locato a canone concordato"
                        .to_string(),
                ),
            ))
        }
        StatoPrivato::Ritirato if data_ritiro.is_none() => {
            return Err(row.error(
                Field::DataRitiro,
                ReadErrorKind::MissingValue(
                    "data del ritiro mancante per un alloggio ritirato".to_string(),
                ),
            ))
        }
        _ => {}
    }
    Ok(AlloggioPrivato {
        codice,
        comune_istat,
        belfiore,
        comune_nome,
        indirizzo: row.opt(Field::Indirizzo),
        sezione: row.opt(Field::Sezione),
        foglio: row.opt(Field::Foglio),
        particella: row.opt(Field::Particella),
        subalterno: row.opt(Field::Subalterno),
        categoria_catastale: row.parse_with(Field::CategoriaCatastale, parse_categoria)?,
        superficie_mq: row.parse_with(Field::SuperficieMq, parse_superficie)?,
        canone_mensile: row.parse_with(Field::Canone, parse_canone)?,
        stato,
        data_offerta,
        data_locazione,
        data_ritiro,
        lonlat: row.lonlat(Field::Lon, Field::Lat)?,
        riga: row.line,
        posizione: None,
        localizzazione: Localizzazione::NonLocalizzato,
    })
}

/// A non-negative integer given as number or text (`1.234` with a thousands dot too).
fn count(v: &Value) -> Result<u32, ReadErrorKind> {
    let bad =
        || ReadErrorKind::InvalidValue("atteso un numero intero non negativo di abitazioni".into());
    match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                return u32::try_from(u).map_err(|_| bad());
            }
            match n.as_f64() {
                Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= f64::from(u32::MAX) => Ok(f as u32),
                _ => Err(bad()),
            }
        }
        Value::String(s) => s.trim().replace('.', "").parse::<u32>().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads area estimates of non-occupied dwellings: a GeoJSON FeatureCollection (EPSG:4326) of
/// Polygon/MultiPolygon features with `abitazioni_totali` and `abitazioni_non_occupate`
/// (optional `codice`, `comune_istat`).
pub fn read_estimates(path: &Path) -> Result<Vec<StimaNonOccupate>, ReadError> {
    let bytes = read_file(path)?;
    let features = super::wgs84_features(&bytes, path, "nessuna area nel file")?;
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let n = i + 1;
        let err = |field: &str, kind: ReadErrorKind| ReadError::feature(path, n, field, kind);
        let props = f
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                err(
                    "properties",
                    ReadErrorKind::MissingValue("proprietà mancanti".into()),
                )
            })?;
        let get = |key: &str| -> Result<u32, ReadError> {
            let v = props.get(key).filter(|v| !v.is_null()).ok_or_else(|| {
                err(
                    key,
                    ReadErrorKind::MissingValue("proprietà mancante".into()),
                )
            })?;
            count(v).map_err(|k| ReadError {
                value: Some(v.to_string().into()),
                ..err(key, k)
            })
        };
        let totali = get("abitazioni_totali")?;
        let non_occupate = get("abitazioni_non_occupate")?;
        if non_occupate > totali {
            return Err(err(
                "abitazioni_non_occupate",
                ReadErrorKind::Inconsistent(format!(
                    "{non_occupate} abitazioni non occupate su {totali} totali: più del totale"
                )),
            ));
        }
        let comune_dichiarato = match text(props.get("comune_istat")) {
            None => None,
            Some(c) if c.len() <= 6 && c.bytes().all(|b| b.is_ascii_digit()) => {
                Some(format!("{c:0>6}"))
            }
            Some(c) => {
                return Err(err(
                    "comune_istat",
                    ReadErrorKind::InvalidValue(format!(
                        "codice ISTAT non valido: {c:?} (attese 6 cifre)"
                    )),
                ))
            }
        };
        let geometry: MultiPolygon<f64> = match super::feature_geometry(f) {
            Ok(geo::Geometry::Polygon(p)) => MultiPolygon(vec![p]),
            Ok(geo::Geometry::MultiPolygon(m)) => m,
            Ok(_) => {
                return Err(err(
                    "geometry",
                    ReadErrorKind::Geometry("attesa un'area (Polygon o MultiPolygon)".into()),
                ))
            }
            Err(k) => return Err(err("geometry", k)),
        };
        let lonlat_ok = geometry
            .0
            .iter()
            .flat_map(|p| p.exterior().coords())
            .all(|c| c.x.abs() <= 180.0 && c.y.abs() <= 90.0);
        if !lonlat_ok {
            return Err(err(
                "geometry",
                ReadErrorKind::Geometry(
                    "coordinate fuori dai limiti in gradi: attese EPSG:4326 (lon/lat)".into(),
                ),
            ));
        }
        out.push(StimaNonOccupate {
            codice: text(props.get("codice")),
            comune_istat_dichiarato: comune_dichiarato,
            comune_istat: None,
            abitazioni_totali: totali,
            abitazioni_non_occupate: non_occupate,
            elemento: n,
            geometry,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rents_and_states() {
        assert_eq!(parse_canone("450,00").ok(), Some(450.0));
        assert_eq!(parse_canone("€ 1.200,50").ok(), Some(1200.5));
        assert_eq!(parse_canone("380 €/mese").ok(), Some(380.0));
        assert!(parse_canone("0").is_err());
        assert!(parse_canone("trattabile").is_err());
        assert_eq!(
            parse_stato("Locato a canone concordato").ok(),
            Some(StatoPrivato::LocatoConcordato)
        );
        assert_eq!(parse_stato("RITIRATO").ok(), Some(StatoPrivato::Ritirato));
        assert!(parse_stato("venduto").is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(count(&serde_json::json!(12)).ok(), Some(12));
        assert_eq!(count(&serde_json::json!("1.234")).ok(), Some(1234));
        assert!(count(&serde_json::json!(-1)).is_err());
        assert!(count(&serde_json::json!(2.5)).is_err());
    }
}
