//! The Piano Annuale of a small hand-written inventory, independent of the demo: a file in the
//! officers' format (FORMATS.md §4) goes through the real reader and the plan, and every table
//! is compared with figures counted by hand from the file.
//!
//! `tests/fixtures/inventory/inventario_piano_annuale.csv`: `;`, Windows-1252, CRLF, the
//! headers an office writes (`Codice unità`, `Sub`, `Superficie (mq)`, `Turn-over`), the
//! platform's state labels in any case, dates as `gg/mm/aaaa` (one not zero-padded), a blank
//! line and a line of bare separators, trailing spaces, owners spelt in mixed case, a
//! five-digit ISTAT code, a unit with no cadastral reference and one with the comune name only,
//! flags (`x`, `X`, `sì`, `SI`) on non-SAP units that the plan must ignore.
//!
//! The 21 units (line: owner as written, code, service, state; flags):
//!
//! ```text
//!  2 Comune di Clusone               CL-001 SAP occupato
//!  3 Comune di Clusone               CL-002 SAP occupato        turn over, disponibile
//!  4 Comune di Clusone               CL-003 SAP libero          disponibile
//!  5 Comune di Clusone               CL-004 SAP carenze         stato di fatto (b), disponibile
//!  6 "Comune di Clusone "            CL-005 SAP ristrutturaz.   ristrutturazione (c)
//!  7 Comune di Clusone               CL-006 SAS occupato        disponibile (ignored: SAS)
//!  8 COMUNE DI CLUSONE               CL-007 SAP occupato        assegnata anno precedente (k)
//!  9 "comune di clusone "            CL-008 SAT libero
//! 10 (blank)
//! 11 Comune di Gromo                 GR-001 SAP occupato        no foglio/particella
//! 12 Comune di Gromo                 GR-002 SAP libero          disponibile
//! 13 Comune di Gromo                 GR-003 SAP occupato        conferita da privati (f), disponibile
//! 14 Comune di Gromo                 GR-004 altro occupato      comune by name only
//! 15 Comune di Parre                 PA-001 SAS occupato
//! 16 Comune di Parre                 PA-002 SAS libero
//! 17 (separators only)
//! 18 ALER Bergamo - Lecco - Sondrio  BG010017 SAP occupato      assegnata anno precedente (k)
//! 19 ALER Bergamo - Lecco - Sondrio  BG010024 SAP occupato
//! 20 ALER Bergamo - Lecco - Sondrio  BG010031 SAP carenze
//! 21 ALER Bergamo - Lecco - Sondrio  BG010038 SAP libero        nuova edificazione (d), disponibile
//! 22 ALER Bergamo - Lecco - Sondrio  BG010045 SAP ristrutturaz.
//! 23 Aler Bergamo - Lecco - Sondrio  BG010052 SAP occupato      turn over, disponibile
//! 24 ALER Bergamo - Lecco - Sondrio  BG010059 SAT occupato
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use abitare::analysis::piano_annuale::{PianoAnnuale, Sezione};
use abitare::ingest::inventory::{read_inventory, InventoryOptions};
use abitare::model::{Servizio, Stato};
use abitare::pipeline;

const ALER: &str = "ALER Bergamo - Lecco - Sondrio";
const CLUSONE: &str = "Comune di Clusone";
const GROMO: &str = "Comune di Gromo";
const PARRE: &str = "Comune di Parre";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inventory/inventario_piano_annuale.csv")
}

fn report() -> PianoAnnuale {
    let (r, skipped) = pipeline::report_from_inventory(&fixture(), "Ambito di prova", 2026, false)
        .expect("report");
    assert!(skipped.is_empty(), "{skipped:?}");
    r
}

fn pairs(s: &Sezione) -> Vec<(&str, u32)> {
    s.per_ente
        .iter()
        .map(|v| (v.ente.as_str(), v.valore))
        .collect()
}

#[test]
fn the_reader_takes_the_file_as_an_office_writes_it() {
    let read = read_inventory(&fixture(), &InventoryOptions::default()).expect("inventory");
    assert_eq!(read.encoding, "windows-1252");
    assert_eq!(read.delimiter, b';');
    assert!(read.skipped.is_empty());
    // 21 units; the blank line (10) and the separators-only line (17) are not units.
    assert_eq!(read.units.len(), 21);
    let lines: Vec<usize> = read.units.iter().map(|u| u.riga).collect();
    let want: Vec<usize> = (2..=9).chain(11..=16).chain(18..=24).collect();
    assert_eq!(lines, want);
    let unit = |code: &str| {
        read.units
            .iter()
            .find(|u| u.codice_unita == code)
            .unwrap_or_else(|| panic!("{code}"))
    };
    // Trailing spaces trimmed; the spelling of each row kept (merged later, by the plan).
    assert_eq!(unit("CL-005").ente_proprietario, "Comune di Clusone");
    assert_eq!(unit("CL-008").ente_proprietario, "comune di clusone");
    assert_eq!(unit("CL-007").ente_proprietario, "COMUNE DI CLUSONE");
    assert_eq!(unit("CL-005").servizio, Servizio::Sap);
    assert_eq!(unit("CL-008").stato, Stato::Libero);
    assert_eq!(unit("BG010031").stato, Stato::SfittoCarenzeManutentive);
    assert_eq!(unit("BG010045").stato, Stato::SfittoRistrutturazione);
    assert_eq!(unit("GR-004").servizio, Servizio::Altro);
    // Five-digit ISTAT code padded; comune by name only.
    assert_eq!(unit("CL-003").comune_istat.as_deref(), Some("016077"));
    assert_eq!(unit("GR-004").comune_istat, None);
    assert_eq!(unit("GR-004").comune_nome.as_deref(), Some("Gromo"));
    // No cadastral reference.
    let gr1 = unit("GR-001");
    assert_eq!(
        (gr1.foglio.as_deref(), gr1.particella.as_deref()),
        (None, None)
    );
    // Italian dates, zero-padded or not; decimal commas; category forms.
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    assert_eq!(unit("CL-003").sfitto_dal, Some(date("2023-03-15")));
    assert_eq!(unit("CL-004").sfitto_dal, Some(date("2022-02-01")));
    assert_eq!(unit("CL-003").superficie_mq, Some(54.25));
    assert_eq!(unit("CL-002").categoria_catastale.as_deref(), Some("A/3"));
    assert_eq!(unit("CL-003").categoria_catastale.as_deref(), Some("A/3"));
    // Flags as written: `x`, `X`, `sì`, `SI`.
    assert!(unit("CL-002").flag.turn_over && unit("CL-002").flag.disponibile_anno);
    assert!(unit("CL-003").flag.disponibile_anno);
    assert!(unit("CL-004").flag.assegnabile_stato_di_fatto);
    assert!(unit("BG010052").flag.turn_over);
    assert!(unit("GR-003").flag.conferita_da_privati);
}

#[test]
fn state_table_and_consistenza_match_the_hand_count() {
    let r = report();
    assert_eq!(r.ambito, "Ambito di prova");
    assert_eq!(r.anno, 2026);
    assert!(!r.dimostrativo);

    // SAP units per owner, owners merged whatever the case and trailing spaces, first spelling
    // kept; sorted by units owned, then name.
    //   ALER:    BG010017 occ, BG010024 occ, BG010031 carenze, BG010038 libero,
    //            BG010045 ristr., BG010052 occ → 6 = 1 libero + 1 carenze + 1 ristr. + 3 occ;
    //            available: BG010038, BG010052 → 2. (BG010059 is SAT.)
    //   Clusone: CL-001 occ, CL-002 occ, CL-003 libero, CL-004 carenze, CL-005 ristr.,
    //            CL-007 occ → 6 = 1 + 1 + 1 + 3; available: CL-002, CL-003, CL-004 → 3.
    //            (CL-006 is SAS, its flag does not count; CL-008 is SAT.)
    //   Gromo:   GR-001 occ, GR-002 libero, GR-003 occ → 3 = 1 libero + 2 occ;
    //            available: GR-002, GR-003 → 2. (GR-004 is altro uso.)
    //   Parre:   SAS only → a row of zeros.
    //   Totale:  6 + 6 + 3 = 15; libero 3, carenze 2, ristr. 2, occupato 8; available 7.
    let got: Vec<(&str, [u32; 6])> = r
        .stato_per_ente
        .iter()
        .map(|x| {
            (
                x.ente.as_str(),
                [
                    x.di_proprieta,
                    x.libero,
                    x.sfitto_carenze_manutentive,
                    x.sfitto_ristrutturazione,
                    x.occupato,
                    x.disponibili_anno,
                ],
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (ALER, [6, 1, 1, 1, 3, 2]),
            (CLUSONE, [6, 1, 1, 1, 3, 3]),
            (GROMO, [3, 1, 0, 0, 2, 2]),
            (PARRE, [0, 0, 0, 0, 0, 0]),
        ]
    );
    let t = &r.totale;
    assert_eq!(t.ente, "Totale");
    assert_eq!(
        [
            t.di_proprieta,
            t.libero,
            t.sfitto_carenze_manutentive,
            t.sfitto_ristrutturazione,
            t.occupato,
            t.disponibili_anno
        ],
        [15, 3, 2, 2, 8, 7]
    );

    // a) every unit: (complessivi, SAS, SAP, altro uso residenziale); SAT counts as altro uso.
    //   ALER:    7 = 6 SAP + 1 SAT
    //   Clusone: 8 = 6 SAP + 1 SAS (CL-006) + 1 SAT (CL-008)
    //   Gromo:   4 = 3 SAP + 1 altro (GR-004)
    //   Parre:   2 = 2 SAS
    //   Totale:  21 = 3 SAS + 15 SAP + 3 altro
    let got: Vec<(&str, [u32; 4])> = r
        .consistenza
        .iter()
        .chain(std::iter::once(&r.totale_consistenza))
        .map(|c| {
            (
                c.ente.as_str(),
                [
                    c.alloggi_complessivi,
                    c.sas,
                    c.sap,
                    c.altro_uso_residenziale,
                ],
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (ALER, [7, 0, 6, 1]),
            (CLUSONE, [8, 1, 6, 1]),
            (GROMO, [4, 0, 3, 1]),
            (PARRE, [2, 2, 0, 0]),
            ("Totale", [21, 3, 15, 3]),
        ]
    );
}

#[test]
fn sections_b_to_k_match_the_hand_count() {
    let r = report();
    let s = &r.sezioni;
    // b) CL-004.  c) CL-005.  d) BG010038.  e) CL-002, BG010052.  f) GR-003.
    assert_eq!(pairs(&s.b), vec![(CLUSONE, 1)]);
    assert_eq!(pairs(&s.c), vec![(CLUSONE, 1)]);
    assert_eq!(pairs(&s.d), vec![(ALER, 1)]);
    assert_eq!(pairs(&s.e), vec![(ALER, 1), (CLUSONE, 1)]);
    assert_eq!(pairs(&s.f), vec![(GROMO, 1)]);
    assert_eq!(
        [s.b.totale, s.c.totale, s.d.totale, s.e.totale, s.f.totale],
        [1, 1, 1, 2, 1]
    );
    // j) SAT units: CL-008, BG010059.  k) CL-007, BG010017.
    assert_eq!(pairs(&s.j), vec![(ALER, 1), (CLUSONE, 1)]);
    assert_eq!(pairs(&s.k), vec![(ALER, 1), (CLUSONE, 1)]);
    assert_eq!((s.j.totale, s.k.totale), (2, 2));

    // g) per owner: (declared available, sum of b–f flags, of which turnover).
    //   ALER:    BG010038 (d, available) + BG010052 (e, available) → (2, 2, 1)
    //   Clusone: CL-002 (e, available) + CL-003 (available) + CL-004 (b, available)
    //            + CL-005 (c) → (3, 3, 1)
    //   Gromo:   GR-002 (available) + GR-003 (f, available) → (2, 1, 0)
    //   Declared total 7 (the state table's), b–f 1 + 1 + 1 + 2 + 1 = 6.
    let g: Vec<(&str, u32, u32, u32)> =
        s.g.per_ente
            .iter()
            .map(|x| {
                (
                    x.ente.as_str(),
                    x.dichiarati,
                    x.somma_b_f,
                    x.di_cui_turn_over,
                )
            })
            .collect();
    assert_eq!(
        g,
        vec![(ALER, 2, 2, 1), (CLUSONE, 3, 3, 1), (GROMO, 2, 1, 0)]
    );
    assert_eq!((s.g.totale, s.g.somma_b_f), (7, 6));

    // 7 ≠ 6 is flagged, and so is the one owner whose figures differ (Gromo, 2 against 1).
    let avvisi: Vec<(&str, &str)> = r
        .avvisi
        .iter()
        .map(|a| (a.codice.as_str(), a.messaggio.as_str()))
        .collect();
    assert_eq!(
        avvisi,
        vec![
            (
                "totale_g_diverso_da_somma",
                "Sezione g): il totale dichiarato di unità SAP disponibili nell'anno (7) non \
                 coincide con la somma delle sezioni b–f (6)."
            ),
            (
                "totale_g_diverso_da_somma_ente",
                "Sezione g), Comune di Gromo: 2 dichiarate disponibili, 1 dalle sezioni b–f."
            ),
        ]
    );
}

#[test]
fn the_cli_prints_the_same_plan() {
    let out = Command::new(env!("CARGO_BIN_EXE_abitare"))
        .args([
            "report",
            "piano-annuale",
            "--format",
            "json",
            "--anno",
            "2026",
        ])
        .args(["--ambito", "Ambito di prova", "--inventory"])
        .arg(fixture())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(cli, serde_json::to_value(report()).expect("json"));

    let out = Command::new(env!("CARGO_BIN_EXE_abitare"))
        .args([
            "report",
            "piano-annuale",
            "--format",
            "csv",
            "--anno",
            "2026",
        ])
        .arg("--inventory")
        .arg(fixture())
        .output()
        .expect("run");
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    for line in [
        "stato_per_ente,Totale,di_proprieta,15\r\n",
        "stato_per_ente,Totale,disponibili_anno,7\r\n",
        "a,Totale,alloggi_complessivi,21\r\n",
        "e,ALER Bergamo - Lecco - Sondrio,unita,1\r\n",
        "g,Comune di Gromo,somma_b_f,1\r\n",
        "g,Totale,disponibili_anno,7\r\n",
    ] {
        assert!(csv.contains(line), "{line:?} missing from\n{csv}");
    }
}
