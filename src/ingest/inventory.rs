//! The public-housing inventory in abitare's canonical table (FORMATS.md §4): its columns
//! with their aliases, and the conversion of a row into an [`AlloggioPubblico`]. Reading the
//! file (CSV with its encodings and delimiters, or XLSX), the header and the typed cells are
//! the generic [`super::table`] reader's.

use std::collections::HashMap;
use std::path::Path;

use super::error::{ReadError, ReadErrorKind};
use super::table::{
    normalize_value, parse_categoria, parse_date, parse_superficie, read_file, read_rows, Row,
    Schema, TableField,
};
use crate::model::{AlloggioPubblico, FlagPiano, Localizzazione, Servizio, Stato};

pub use super::table::{normalize_header, TableOptions as InventoryOptions};

#[derive(Debug)]
pub struct InventoryRead {
    pub units: Vec<AlloggioPubblico>,
    pub skipped: Vec<ReadError>,
    /// `UTF-8`, `UTF-16LE`, `UTF-16BE`, `windows-1252` or `XLSX`.
    pub encoding: &'static str,
    /// The CSV delimiter; `0` for a spreadsheet.
    pub delimiter: u8,
}

const SCHEMA: Schema<Field> = Schema {
    required: &[
        Field::EnteProprietario,
        Field::CodiceUnita,
        Field::Servizio,
        Field::Stato,
    ],
    one_of: &[&[Field::ComuneIstat, Field::Belfiore, Field::ComuneNome]],
};

/// Reads an inventory file: CSV (`,` or `;`, UTF-8 with or without BOM, or Windows-1252) or a
/// spreadsheet (XLSX, first sheet).
pub fn read_inventory(path: &Path, opts: &InventoryOptions) -> Result<InventoryRead, ReadError> {
    let bytes = read_file(path)?;
    read_inventory_bytes(&bytes, path, opts)
}

/// Same as [`read_inventory`] over the bytes of a file; `path` names it in messages.
pub fn read_inventory_bytes(
    bytes: &[u8],
    path: &Path,
    opts: &InventoryOptions,
) -> Result<InventoryRead, ReadError> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let read = read_rows(bytes, path, &SCHEMA, opts, |row| {
        let unit = parse_row(row)?;
        let key = (unit.ente_proprietario.clone(), unit.codice_unita.clone());
        row.unique(&mut seen, key, Field::CodiceUnita, |first| {
            format!(
                "codice unità duplicato: già usato alla riga {first} per l'ente \"{}\"",
                unit.ente_proprietario
            )
        })?;
        Ok(unit)
    })?;
    Ok(InventoryRead {
        units: read.items,
        skipped: read.skipped,
        encoding: read.encoding,
        delimiter: read.delimiter,
    })
}

/// The columns abitare understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    EnteProprietario,
    CodiceUnita,
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
    Servizio,
    Stato,
    SfittoDal,
    AssegnabileStatoDiFatto,
    InProgrammaRistrutturazione,
    NuovaEdificazione,
    TurnOver,
    ConferitaDaPrivati,
    DisponibileAnno,
    AssegnataAnnoPrecedente,
    Lon,
    Lat,
}

impl TableField for Field {
    fn from_normalized(name: &str) -> Option<Field> {
        Some(match name {
            "ente_proprietario" | "ente" | "proprietario" => Field::EnteProprietario,
            "codice_unita" | "codice" | "id_unita" | "codice_alloggio" => Field::CodiceUnita,
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
            "servizio" | "tipo_servizio" => Field::Servizio,
            "stato" | "stato_alloggio" => Field::Stato,
            "sfitto_dal" => Field::SfittoDal,
            "assegnabile_stato_di_fatto" => Field::AssegnabileStatoDiFatto,
            "in_programma_ristrutturazione" => Field::InProgrammaRistrutturazione,
            "nuova_edificazione" => Field::NuovaEdificazione,
            "turn_over" | "turnover" => Field::TurnOver,
            "conferita_da_privati" => Field::ConferitaDaPrivati,
            "disponibile_anno" => Field::DisponibileAnno,
            "assegnata_anno_precedente" => Field::AssegnataAnnoPrecedente,
            "lon" | "longitudine" => Field::Lon,
            "lat" | "latitudine" => Field::Lat,
            _ => return None,
        })
    }

    fn canonical(self) -> &'static str {
        match self {
            Field::EnteProprietario => "ente_proprietario",
            Field::CodiceUnita => "codice_unita",
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
            Field::Servizio => "servizio",
            Field::Stato => "stato",
            Field::SfittoDal => "sfitto_dal",
            Field::AssegnabileStatoDiFatto => "assegnabile_stato_di_fatto",
            Field::InProgrammaRistrutturazione => "in_programma_ristrutturazione",
            Field::NuovaEdificazione => "nuova_edificazione",
            Field::TurnOver => "turn_over",
            Field::ConferitaDaPrivati => "conferita_da_privati",
            Field::DisponibileAnno => "disponibile_anno",
            Field::AssegnataAnnoPrecedente => "assegnata_anno_precedente",
            Field::Lon => "lon",
            Field::Lat => "lat",
        }
    }
}

fn parse_row(row: &Row<'_, Field>) -> Result<AlloggioPubblico, ReadError> {
    let ente_proprietario = row.required(Field::EnteProprietario)?;
    let codice_unita = row.required(Field::CodiceUnita)?;
    let (comune_istat, belfiore, comune_nome) =
        row.comune(Field::ComuneIstat, Field::Belfiore, Field::ComuneNome)?;
    let servizio =
        row.required_with(Field::Servizio, parse_servizio, " (SAP, SAS, SAT o altro)")?;
    let stato = row.required_with(
        Field::Stato,
        parse_stato,
        " (occupato, libero, sfitto_carenze_manutentive, sfitto_ristrutturazione)",
    )?;
    let lonlat = row.lonlat(Field::Lon, Field::Lat)?;
    Ok(AlloggioPubblico {
        ente_proprietario,
        codice_unita,
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
        servizio,
        stato,
        sfitto_dal: row.parse_with(Field::SfittoDal, parse_date)?,
        flag: FlagPiano {
            assegnabile_stato_di_fatto: row.flag(Field::AssegnabileStatoDiFatto)?,
            in_programma_ristrutturazione: row.flag(Field::InProgrammaRistrutturazione)?,
            nuova_edificazione: row.flag(Field::NuovaEdificazione)?,
            turn_over: row.flag(Field::TurnOver)?,
            conferita_da_privati: row.flag(Field::ConferitaDaPrivati)?,
            disponibile_anno: row.flag(Field::DisponibileAnno)?,
            assegnata_anno_precedente: row.flag(Field::AssegnataAnnoPrecedente)?,
        },
        lonlat,
        riga: row.line,
        posizione: None,
        localizzazione: Localizzazione::NonLocalizzato,
    })
}

fn parse_servizio(v: &str) -> Result<Servizio, ReadErrorKind> {
    match normalize_value(v).as_str() {
        "sap" => Ok(Servizio::Sap),
        "sas" => Ok(Servizio::Sas),
        "sat" => Ok(Servizio::Sat),
        "altro" | "altro_uso_residenziale" | "altri_usi_residenziali" => Ok(Servizio::Altro),
        _ => Err(ReadErrorKind::UnknownCode(
            "servizio non riconosciuto (attesi SAP, SAS, SAT o altro)".to_string(),
        )),
    }
}

fn parse_stato(v: &str) -> Result<Stato, ReadErrorKind> {
    match normalize_value(v).as_str() {
        "occupato" | "stato_occupato" => Ok(Stato::Occupato),
        "libero" | "stato_libero" => Ok(Stato::Libero),
        "sfitto_carenze_manutentive" | "sfitto_per_carenze_manutentive" => {
            Ok(Stato::SfittoCarenzeManutentive)
        }
        "sfitto_ristrutturazione" | "sfitto_per_ristrutturazione" => {
            Ok(Stato::SfittoRistrutturazione)
        }
        _ => Err(ReadErrorKind::UnknownCode(
            "stato non riconosciuto (attesi occupato, libero, sfitto_carenze_manutentive, \
             sfitto_ristrutturazione o le etichette della piattaforma regionale)"
                .to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_recognised() {
        assert_eq!(
            parse_stato("  Sfitto per   carenze manutentive").ok(),
            Some(Stato::SfittoCarenzeManutentive)
        );
        assert_eq!(parse_stato("STATO OCCUPATO").ok(), Some(Stato::Occupato));
        assert!(matches!(
            parse_stato("affittato"),
            Err(ReadErrorKind::UnknownCode(_))
        ));
        assert_eq!(
            parse_servizio("Altro uso residenziale").ok(),
            Some(Servizio::Altro)
        );
    }
}
