//! Reading the public-housing inventory CSV: encodings, delimiters, header aliases, value
//! normalisation, and the row errors that reject a file or are skipped on request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use abitare::ingest::inventory::{read_inventory, InventoryOptions, InventoryRead};
use abitare::ingest::{ReadError, ReadErrorKind, Record};
use abitare::model::{AlloggioPubblico, Localizzazione, Servizio, Stato};
use chrono::NaiveDate;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inventory")
        .join(name)
}

fn read(name: &str) -> InventoryRead {
    read_inventory(
        &fixture(name),
        &InventoryOptions {
            skip_bad_rows: true,
        },
    )
    .unwrap_or_else(|e| panic!("{name} should be read: {e}"))
}

fn unit<'a>(units: &'a [AlloggioPubblico], ente: &str, codice: &str) -> &'a AlloggioPubblico {
    units
        .iter()
        .find(|u| u.ente_proprietario == ente && u.codice_unita == codice)
        .unwrap_or_else(|| panic!("unit {ente} / {codice} missing"))
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

#[test]
fn windows_1252_semicolon_file_with_platform_labels() {
    let read = read("inventario_cp1252.csv");
    assert_eq!(read.encoding, "windows-1252");
    assert_eq!(read.delimiter, b';');
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    assert_eq!(read.units.len(), 4);

    let u = unit(&read.units, "Comune di Clusone", "CL-001");
    assert_eq!(u.riga, 2);
    assert_eq!(u.comune_istat.as_deref(), Some("016077"));
    assert_eq!(u.belfiore, None);
    assert_eq!(u.comune_nome.as_deref(), Some("Clusone"));
    assert_eq!(u.indirizzo.as_deref(), Some("Via Sant'Alessandro 12"));
    assert_eq!(u.sezione, None);
    assert_eq!(u.foglio.as_deref(), Some("13"));
    assert_eq!(u.particella.as_deref(), Some("125"));
    assert_eq!(u.subalterno.as_deref(), Some("3"));
    assert_eq!(u.categoria_catastale.as_deref(), Some("A/3"));
    assert_eq!(u.superficie_mq, Some(72.5));
    assert_eq!(u.servizio, Servizio::Sap);
    assert_eq!(u.stato, Stato::Occupato);
    assert_eq!(u.sfitto_dal, None);
    assert_eq!(u.flag, Default::default());
    assert_eq!(u.lonlat, None);
    assert_eq!(u.posizione, None);
    assert_eq!(u.localizzazione, Localizzazione::NonLocalizzato);

    let u = unit(&read.units, "Comune di Clusone", "CL-002");
    assert_eq!(u.riga, 3);
    assert_eq!(u.indirizzo.as_deref(), Some("Via Città Alta 3"));
    assert_eq!(u.comune_istat.as_deref(), Some("016077"));
    assert_eq!(u.subalterno, None);
    assert_eq!(u.categoria_catastale.as_deref(), Some("A/3"));
    assert_eq!(u.superficie_mq, Some(54.25));
    assert_eq!(u.stato, Stato::SfittoCarenzeManutentive);
    assert_eq!(u.sfitto_dal, Some(date("2023-03-15")));
    assert!(u.flag.assegnabile_stato_di_fatto);
    assert!(u.flag.disponibile_anno);
    assert!(!u.flag.turn_over);
    let p = u.lonlat.expect("lon/lat given");
    assert_eq!((p.x(), p.y()), (9.9321, 45.8871));

    let u = unit(&read.units, "ALER Bergamo - Lecco - Sondrio", "ALER-77");
    assert_eq!(u.riga, 4);
    assert_eq!(u.foglio.as_deref(), Some("13A"));
    assert_eq!(u.categoria_catastale.as_deref(), Some("A/4"));
    assert_eq!(u.superficie_mq, Some(80.0));
    assert_eq!(u.servizio, Servizio::Sas);
    assert_eq!(u.stato, Stato::Libero);
    assert_eq!(u.sfitto_dal, Some(date("2024-11-02")));
    assert!(!u.flag.assegnabile_stato_di_fatto);
    assert!(u.flag.turn_over);

    // Same code as a Comune di Clusone unit, different owner: allowed. Line 5 is blank.
    let u = unit(&read.units, "ALER Bergamo - Lecco - Sondrio", "CL-001");
    assert_eq!(u.riga, 6);
    assert_eq!(u.servizio, Servizio::Altro);
    assert_eq!(u.stato, Stato::SfittoRistrutturazione);
    assert!(u.flag.disponibile_anno);
    assert_eq!(u.categoria_catastale, None);
    assert_eq!(u.superficie_mq, None);
    assert_eq!(u.indirizzo, None);
}

#[test]
fn utf8_bom_comma_file_with_quoted_commas() {
    let read = read("inventario_utf8_bom.csv");
    assert_eq!(read.encoding, "UTF-8");
    assert_eq!(read.delimiter, b',');
    assert_eq!(read.units.len(), 2);

    let u = unit(&read.units, "Comune di Rovetta, Ufficio casa", "R1");
    assert_eq!(u.riga, 2);
    assert_eq!(u.belfiore.as_deref(), Some("H615"));
    assert_eq!(u.comune_istat.as_deref(), Some("016187"));
    assert_eq!(u.comune_nome, None);
    assert_eq!(u.servizio, Servizio::Sat);
    assert_eq!(u.stato, Stato::Libero);
    assert_eq!(u.categoria_catastale.as_deref(), Some("A/2"));
    assert_eq!(u.superficie_mq, Some(61.5));
    assert_eq!(u.sfitto_dal, Some(date("2025-02-01")));
    assert!(u.flag.nuova_edificazione);
    assert!(!u.flag.conferita_da_privati);
    assert!(u.flag.assegnata_anno_precedente);
    assert!(!u.flag.in_programma_ristrutturazione);
    let p = u.lonlat.expect("lon/lat given");
    assert_eq!((p.x(), p.y()), (9.98, 45.89));

    let u = unit(&read.units, "Comune di Rovetta, Ufficio casa", "R2");
    assert_eq!(u.riga, 3);
    assert_eq!(u.comune_istat, None);
    assert_eq!(u.servizio, Servizio::Altro);
    assert_eq!(u.stato, Stato::SfittoRistrutturazione);
    assert_eq!(u.lonlat, None);
}

type KindCheck = fn(&ReadErrorKind) -> bool;

/// The rows of `righe_errate.csv` that break a rule: (line, column as written, value, kind).
const BAD_ROWS: [(usize, &str, &str, KindCheck); 6] = [
    (3, "stato", "affittato", |k| {
        matches!(k, ReadErrorKind::UnknownCode(_))
    }),
    (4, "sfitto_dal", "31/02/2024", |k| {
        matches!(k, ReadErrorKind::InvalidDate(_))
    }),
    (5, "categoria_catastale", "Z/9", |k| {
        matches!(k, ReadErrorKind::UnknownCode(_))
    }),
    (6, "superficie", "-12,5", |k| {
        matches!(k, ReadErrorKind::InvalidValue(_))
    }),
    (7, "lon", "9,93", |k| {
        matches!(k, ReadErrorKind::Inconsistent(_))
    }),
    (8, "codice", "1", |k| {
        matches!(k, ReadErrorKind::Duplicate(_))
    }),
];

fn assert_row_error(e: &ReadError, line: usize, column: &str, value: &str, kind: KindCheck) {
    assert_eq!(e.record, Some(Record::Row(line)), "{e}");
    assert_eq!(e.field.as_deref(), Some(column), "{e}");
    assert_eq!(e.value.as_deref(), Some(value), "{e}");
    assert!(kind(&e.kind), "{e}: {:?}", e.kind);
    // The message for the user names the file, the line, the column and the value.
    let msg = e.to_string();
    assert!(msg.contains("righe_errate.csv"), "{msg}");
    assert!(msg.contains(&format!("riga {line}")), "{msg}");
    assert!(msg.contains(&format!("{column:?}")), "{msg}");
    assert!(msg.contains(&format!("{value:?}")), "{msg}");
}

#[test]
fn bad_rows_are_listed_when_skipping() {
    let read = read_inventory(
        &fixture("righe_errate.csv"),
        &InventoryOptions {
            skip_bad_rows: true,
        },
    )
    .expect("bad rows are skipped");
    assert_eq!(read.skipped.len(), BAD_ROWS.len(), "{:?}", read.skipped);
    for (e, (line, column, value, kind)) in read.skipped.iter().zip(BAD_ROWS) {
        assert_row_error(e, line, column, value, kind);
    }
    let kept: Vec<(usize, &str)> = read
        .units
        .iter()
        .map(|u| (u.riga, u.codice_unita.as_str()))
        .collect();
    assert_eq!(kept, vec![(2, "1"), (9, "7")]);
}

#[test]
fn each_bad_row_rejects_the_file() {
    let original = std::fs::read_to_string(fixture("righe_errate.csv")).expect("fixture readable");
    let lines: Vec<&str> = original.lines().collect();
    let dir = tempfile::tempdir().expect("temp dir");
    for (line, column, value, kind) in BAD_ROWS {
        // Header, a good row, blank lines in place of the other bad rows, then the bad one:
        // it keeps its line number.
        let mut text = lines[..2].join("\n");
        text.push_str(&"\n".repeat(line - 2));
        text.push_str(lines[line - 1]);
        text.push('\n');
        let path = dir.path().join("righe_errate.csv");
        std::fs::write(&path, text).expect("write");
        match read_inventory(&path, &InventoryOptions::default()) {
            Err(e) => assert_row_error(&e, line, column, value, kind),
            Ok(read) => panic!(
                "line {line} should be rejected, read {} units",
                read.units.len()
            ),
        }
    }
}

#[test]
fn missing_required_column_is_named() {
    let err = read_inventory(
        &fixture("colonna_mancante.csv"),
        &InventoryOptions::default(),
    )
    .expect_err("stato is required");
    let ReadErrorKind::MissingColumn { expected, found } = &err.kind else {
        panic!("missing column expected: {err}");
    };
    assert_eq!(expected[..], ["stato"], "{err}");
    assert!(!found.is_empty(), "{err}");
    assert_eq!(err.field.as_deref(), Some("stato"));
    assert_eq!(err.record, None);
    assert!(err.file.ends_with("colonna_mancante.csv"), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("colonna_mancante.csv"), "{msg}");
    assert!(msg.contains("\"stato\""), "{msg}");
}

#[test]
fn empty_and_header_only_files_are_errors() {
    for (name, words) in [
        ("vuoto.csv", "vuoto"),
        ("solo_intestazione.csv", "solo l'intestazione"),
    ] {
        let err =
            read_inventory(&fixture(name), &InventoryOptions::default()).expect_err("no units");
        assert!(matches!(err.kind, ReadErrorKind::Empty(_)), "{err}");
        assert!(err.file.ends_with(name), "{err}");
        assert!(err.to_string().contains(words), "{err}");
    }
    let err = read_inventory(&fixture("non_esiste.csv"), &InventoryOptions::default())
        .expect_err("missing");
    assert!(matches!(err.kind, ReadErrorKind::Io(_)), "{err}");
}

#[test]
fn header_aliases_and_bad_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("alias.csv");
    std::fs::write(
        &path,
        "Proprietario,ID unità,Codice catastale,Nome comune,Tipo servizio,Stato alloggio,Superficie utile,Sub\n\
         ALER,7,c800,Clusone,sap,Libero,\"1.234,5\",12\n\
         ALER,8,C80,Clusone,sap,Libero,,\n",
    )
    .expect("write");
    let read = read_inventory(
        &path,
        &InventoryOptions {
            skip_bad_rows: true,
        },
    )
    .expect("readable");
    let u = &read.units[0];
    assert_eq!(u.codice_unita, "7");
    assert_eq!(u.belfiore.as_deref(), Some("C800"));
    assert_eq!(u.comune_nome.as_deref(), Some("Clusone"));
    assert_eq!(u.superficie_mq, Some(1234.5));
    assert_eq!(u.subalterno.as_deref(), Some("12"));
    assert_eq!(read.skipped.len(), 1);
    assert_eq!(read.skipped[0].row(), Some(3));
    assert_eq!(read.skipped[0].field.as_deref(), Some("Codice catastale"));
    assert_eq!(read.skipped[0].value.as_deref(), Some("C80"));
    assert!(matches!(
        read.skipped[0].kind,
        ReadErrorKind::InvalidValue(_)
    ));
}
