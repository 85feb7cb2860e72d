//! Readers of two optional inputs of the candidate-areas screening:
//!
//! * **other public property** (seed 004: the comune's offices, schools, depots that could be
//!   reused for housing services), listed by cadastral reference: a table (CSV or XLSX) read
//!   with the rules of the public inventory (header aliases, encodings, row errors naming file,
//!   line, column and value);
//! * **existing services as points** (schools, health centres, shops, public-transport stops):
//!   a GeoJSON FeatureCollection of points (EPSG:4326) with a `tipo` property, or a table with
//!   `tipo`, `nome`, `lon`, `lat`.

use std::collections::HashMap;
use std::path::Path;

use geo::Point;
use serde_json::Value;

use super::error::{ReadError, ReadErrorKind};
use super::table::{
    normalize_value, parse_superficie, read_file, read_rows, Row, Schema, TableField, TableOptions,
};
use crate::model::normalize::normalize_tipo;
use crate::model::{ProprietaPubblica, ServizioPuntuale, StatoProprieta};

/// The columns of the other-public-property table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PropField {
    Codice,
    ComuneIstat,
    Belfiore,
    ComuneNome,
    Sezione,
    Foglio,
    Particella,
    Ente,
    Uso,
    Stato,
    SuperficieMq,
    Note,
}

impl TableField for PropField {
    fn from_normalized(name: &str) -> Option<PropField> {
        Some(match name {
            "id" | "codice" | "codice_immobile" | "codice_bene" | "id_immobile" => {
                PropField::Codice
            }
            "comune_istat" | "codice_istat" | "istat" => PropField::ComuneIstat,
            "belfiore" | "codice_catastale" | "codice_belfiore" => PropField::Belfiore,
            "comune" | "nome_comune" => PropField::ComuneNome,
            "sezione" | "sezione_censuaria" => PropField::Sezione,
            "foglio" => PropField::Foglio,
            "particella" | "mappale" | "numero" => PropField::Particella,
            "ente" | "ente_proprietario" | "proprietario" | "proprieta" => PropField::Ente,
            "uso" | "destinazione" | "destinazione_uso" | "uso_attuale" | "tipologia" => {
                PropField::Uso
            }
            "stato" | "stato_utilizzo" | "stato_di_utilizzo" | "utilizzo" => PropField::Stato,
            "superficie_mq" | "superficie" | "superficie_lorda" | "slp" => PropField::SuperficieMq,
            "note" | "annotazioni" => PropField::Note,
            _ => return None,
        })
    }

    fn canonical(self) -> &'static str {
        match self {
            PropField::Codice => "codice",
            PropField::ComuneIstat => "comune_istat",
            PropField::Belfiore => "belfiore",
            PropField::ComuneNome => "comune",
            PropField::Sezione => "sezione",
            PropField::Foglio => "foglio",
            PropField::Particella => "particella",
            PropField::Ente => "ente",
            PropField::Uso => "uso",
            PropField::Stato => "stato",
            PropField::SuperficieMq => "superficie_mq",
            PropField::Note => "note",
        }
    }
}

/// What the other-public-property reader returns.
#[derive(Debug)]
pub struct ProprietaRead {
    pub items: Vec<ProprietaPubblica>,
    pub skipped: Vec<ReadError>,
    /// `UTF-8`, `UTF-16LE`, `UTF-16BE`, `windows-1252` or `XLSX`.
    pub encoding: &'static str,
}

const PROP_SCHEMA: Schema<PropField> = Schema {
    required: &[
        PropField::Foglio,
        PropField::Particella,
        PropField::Ente,
        PropField::Stato,
    ],
    one_of: &[&[
        PropField::ComuneIstat,
        PropField::Belfiore,
        PropField::ComuneNome,
    ]],
};

/// Reads the list of other public property (CSV or XLSX).
pub fn read_altra_proprieta(path: &Path, opts: &TableOptions) -> Result<ProprietaRead, ReadError> {
    let bytes = read_file(path)?;
    read_altra_proprieta_bytes(&bytes, path, opts)
}

/// Same as [`read_altra_proprieta`] over the bytes of a file; `path` names it in messages.
pub fn read_altra_proprieta_bytes(
    bytes: &[u8],
    path: &Path,
    opts: &TableOptions,
) -> Result<ProprietaRead, ReadError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let read = read_rows(bytes, path, &PROP_SCHEMA, opts, |row| {
        let item = parse_prop(row)?;
        row.unique(&mut seen, item.codice.clone(), PropField::Codice, |first| {
            format!("codice duplicato: già usato alla riga {first}")
        })?;
        Ok(item)
    })?;
    Ok(ProprietaRead {
        items: read.items,
        skipped: read.skipped,
        encoding: read.encoding,
    })
}

fn parse_stato_proprieta(v: &str) -> Result<StatoProprieta, ReadErrorKind> {
    match normalize_value(v).as_str() {
        "in_uso" | "utilizzato" | "in_utilizzo" | "occupato" | "uso" => Ok(StatoProprieta::InUso),
        "sottoutilizzato"
        | "sotto_utilizzato"
        | "parzialmente_utilizzato"
        | "parzialmente_libero" => Ok(StatoProprieta::Sottoutilizzato),
        "dismesso" | "inutilizzato" | "non_utilizzato" | "libero" | "vuoto" | "abbandonato" => {
            Ok(StatoProprieta::Dismesso)
        }
        _ => Err(ReadErrorKind::UnknownCode(
            "stato non riconosciuto (attesi in_uso, sottoutilizzato o dismesso)".into(),
        )),
    }
}

fn parse_prop(row: &Row<'_, PropField>) -> Result<ProprietaPubblica, ReadError> {
    let (comune_istat, belfiore, comune_nome) = row.comune(
        PropField::ComuneIstat,
        PropField::Belfiore,
        PropField::ComuneNome,
    )?;
    let foglio = row.required(PropField::Foglio)?;
    let particella = row.required(PropField::Particella)?;
    let ente = row.required(PropField::Ente)?;
    let stato = row.required_with(
        PropField::Stato,
        parse_stato_proprieta,
        " (in_uso, sottoutilizzato o dismesso)",
    )?;
    let sezione = row.opt(PropField::Sezione);
    let codice = row.opt(PropField::Codice).unwrap_or_else(|| {
        let comune = belfiore
            .clone()
            .or_else(|| comune_istat.clone())
            .or_else(|| comune_nome.clone())
            .unwrap_or_default();
        match &sezione {
            Some(s) => format!("{comune}-{s}-{foglio}-{particella}"),
            None => format!("{comune}-{foglio}-{particella}"),
        }
    });
    Ok(ProprietaPubblica {
        codice,
        comune_istat,
        belfiore,
        comune_nome,
        sezione,
        foglio,
        particella,
        ente,
        uso: row.opt(PropField::Uso),
        stato,
        superficie_mq: row.parse_with(PropField::SuperficieMq, parse_superficie)?,
        note: row.opt(PropField::Note),
        riga: row.line,
    })
}

/// The columns of a services table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SvcField {
    Tipo,
    Nome,
    Lon,
    Lat,
}

impl TableField for SvcField {
    fn from_normalized(name: &str) -> Option<SvcField> {
        Some(match name {
            "tipo" | "categoria" | "tipologia" | "tipo_servizio" => SvcField::Tipo,
            "nome" | "denominazione" | "name" => SvcField::Nome,
            "lon" | "longitudine" | "x" => SvcField::Lon,
            "lat" | "latitudine" | "y" => SvcField::Lat,
            _ => return None,
        })
    }
    fn canonical(self) -> &'static str {
        match self {
            SvcField::Tipo => "tipo",
            SvcField::Nome => "nome",
            SvcField::Lon => "lon",
            SvcField::Lat => "lat",
        }
    }
}

/// Reads existing services as points: a GeoJSON FeatureCollection of Point/MultiPoint features
/// (EPSG:4326) with `tipo` (and optional `nome`), or a CSV/XLSX table with `tipo`, `nome`,
/// `lon`, `lat`.
pub fn read_servizi_puntuali(path: &Path) -> Result<Vec<ServizioPuntuale>, ReadError> {
    let bytes = read_file(path)?;
    let first = bytes
        .iter()
        .copied()
        .find(|b| !(b.is_ascii_whitespace() || *b == 0xEF || *b == 0xBB || *b == 0xBF));
    if first == Some(b'{') {
        read_servizi_geojson(&bytes, path)
    } else {
        read_servizi_table(&bytes, path)
    }
}

const SVC_SCHEMA: Schema<SvcField> = Schema {
    required: &[SvcField::Tipo, SvcField::Lon, SvcField::Lat],
    one_of: &[],
};

fn read_servizi_table(bytes: &[u8], path: &Path) -> Result<Vec<ServizioPuntuale>, ReadError> {
    let read = read_rows(bytes, path, &SVC_SCHEMA, &TableOptions::default(), |row| {
        let tipo = normalize_tipo(&row.required(SvcField::Tipo)?);
        let posizione = row.lonlat(SvcField::Lon, SvcField::Lat)?.ok_or_else(|| {
            row.error(
                SvcField::Lon,
                ReadErrorKind::MissingValue(
                    "coordinate mancanti (lon e lat in gradi, EPSG:4326)".to_string(),
                ),
            )
        })?;
        Ok(ServizioPuntuale {
            tipo,
            nome: row.opt(SvcField::Nome),
            posizione,
        })
    })?;
    Ok(read.items)
}

fn read_servizi_geojson(bytes: &[u8], path: &Path) -> Result<Vec<ServizioPuntuale>, ReadError> {
    let features = super::wgs84_features(bytes, path, "nessun servizio nel file")?;
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let err = |field: &str, kind: ReadErrorKind| ReadError::feature(path, i + 1, field, kind);
        let props = f.get("properties").and_then(Value::as_object);
        let prop = |keys: &[&str]| -> Option<String> {
            let props = props?;
            keys.iter().find_map(|k| match props.get(*k) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                _ => None,
            })
        };
        let tipo = prop(&["tipo", "categoria", "tipologia"]).ok_or_else(|| {
            err(
                "tipo",
                ReadErrorKind::MissingValue(
                    "proprietà mancante (scuola, sanita, commercio, fermata…)".into(),
                ),
            )
        })?;
        let points: Vec<Point<f64>> = match super::feature_geometry(f) {
            Ok(geo::Geometry::Point(p)) => vec![p],
            Ok(geo::Geometry::MultiPoint(m)) => m.0,
            Ok(_) => {
                return Err(err(
                    "geometry",
                    ReadErrorKind::Geometry("atteso un punto (Point o MultiPoint)".into()),
                ))
            }
            Err(k) => return Err(err("geometry", k)),
        };
        for p in points {
            if !(p.x().is_finite()
                && p.y().is_finite()
                && p.x().abs() <= 180.0
                && p.y().abs() <= 90.0)
            {
                return Err(err(
                    "geometry",
                    ReadErrorKind::Geometry(format!(
                        "coordinate ({}, {}) fuori dai limiti di lon/lat: attese EPSG:4326",
                        p.x(),
                        p.y()
                    )),
                ));
            }
            out.push(ServizioPuntuale {
                tipo: normalize_tipo(&tipo),
                nome: prop(&["nome", "denominazione", "name"]),
                posizione: p,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_states_and_kinds_normalise() {
        assert_eq!(
            parse_stato_proprieta("Dismesso").ok(),
            Some(StatoProprieta::Dismesso)
        );
        assert_eq!(
            parse_stato_proprieta("sotto-utilizzato").ok(),
            Some(StatoProprieta::Sottoutilizzato)
        );
        assert!(parse_stato_proprieta("boh").is_err());
        assert_eq!(normalize_tipo("Sanità"), "sanita");
        assert_eq!(normalize_tipo(" Fermata TPL "), "fermata_tpl");
    }
}
