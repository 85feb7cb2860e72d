//! Private stock: the readers (CSV and XLSX quirks, every bad-row case), linkage of offered
//! units to parcels, the figures on a hand-built model, the dwelling rules at their edges,
//! and the privacy boundary (owners' names nowhere, individual units neither served nor
//! exported).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use abitare::analysis::private::{
    assign_tracts, idoneita, link_private_units, stock_privato, stock_privato_con,
    superficie_massima_mq, FinestraRimessi,
};
use abitare::analysis::Analisi;
use abitare::ingest::inventory::{read_inventory, InventoryOptions};
use abitare::ingest::private::{read_estimates, read_private_units, read_private_units_bytes};
use abitare::ingest::{ReadErrorKind, Record};
use abitare::model::{
    AlloggioPrivato, Localizzazione, Servizio, Stato, StatoPrivato, StimaNonOccupate,
};
use abitare::output::layers::{self, Audience, Refusal};
use abitare::pipeline;
use abitare::project::Project;
use abitare::server::app;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use tower::ServiceExt;

const OWNER: &str = "Ersilia Quagliarulo";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn reject() -> InventoryOptions {
    InventoryOptions::default()
}

const HEADER: &str = "Id;Comune;Codice ISTAT;Proprietario;Foglio;Particella;Superficie mq;Canone offerto €/mese;Stato;Data offerta;Data locazione;Data ritiro;Lon;Lat";

fn csv(rows: &[&str]) -> Vec<u8> {
    let mut t = String::from(HEADER);
    for r in rows {
        t.push_str("\r\n");
        t.push_str(r);
    }
    t.push_str("\r\n");
    encoding_rs::WINDOWS_1252.encode(&t).0.into_owned()
}

// ------------------------------------------------------------------------------------------
// Readers
// ------------------------------------------------------------------------------------------

#[test]
fn windows_1252_semicolon_offers_with_quirks_and_owner_dropped() {
    let bytes = csv(&[
        &format!("P-1;Alfa;16001;{OWNER};0001;010;72,5;€ 450,00;Locato a canone concordato;01/03/2025;15/05/2025;;;"),
        "",
        &format!("P-2;Beta;016002;{OWNER};;;118;520;OFFERTO;2024-06-12;;;9,9601;45,8612"),
        "P-3;Alfa;;;;;;;ritirato;10/01/2023;;30/06/2023;;",
    ]);
    let read = read_private_units_bytes(&bytes, Path::new("offerte.csv"), &reject()).expect("read");
    assert_eq!(read.encoding, "windows-1252");
    assert!(read.nomi_scartati);
    assert_eq!(read.units.len(), 3);
    let a = &read.units[0];
    assert_eq!(a.codice, "P-1");
    assert_eq!(a.riga, 2);
    assert_eq!(a.comune_istat.as_deref(), Some("016001"));
    assert_eq!(a.superficie_mq, Some(72.5));
    assert_eq!(a.canone_mensile, Some(450.0));
    assert_eq!(a.stato, StatoPrivato::LocatoConcordato);
    assert_eq!(a.data_locazione, Some(date("2025-05-15")));
    let b = &read.units[1];
    assert_eq!(b.riga, 4, "blank line counted");
    assert_eq!(b.stato, StatoPrivato::Offerto);
    assert_eq!(b.data_offerta, date("2024-06-12"));
    assert_eq!(b.lonlat, Some(point(9.9601, 45.8612)));
    assert_eq!(read.units[2].data_ritiro, Some(date("2023-06-30")));
    // The owner's name is in no field of what the reader returns.
    assert!(!format!("{:?}", read.units).contains("Quagliarulo"));
}

#[test]
fn each_bad_row_names_line_column_and_value() {
    let ok = "P-1;Alfa;016001;;;;70;400;offerto;01/02/2024;;;;";
    for (row, column, value, kind) in [
        (
            "P-2;Alfa;016001;;;;70;400;venduto;01/02/2024;;;;",
            "Stato",
            "venduto",
            (|k| matches!(k, ReadErrorKind::UnknownCode(_))) as fn(&ReadErrorKind) -> bool,
        ),
        (
            "P-2;Alfa;016001;;;;70;400;offerto;31/02/2024;;;;",
            "Data offerta",
            "31/02/2024",
            (|k| matches!(k, ReadErrorKind::InvalidDate(_))) as fn(&ReadErrorKind) -> bool,
        ),
        (
            "P-2;Alfa;016001;;;;70;quattrocento;offerto;01/02/2024;;;;",
            "Canone offerto €/mese",
            "quattrocento",
            (|k| matches!(k, ReadErrorKind::InvalidValue(_))) as fn(&ReadErrorKind) -> bool,
        ),
        (
            "P-2;Alfa;016001;;;;-40;400;offerto;01/02/2024;;;;",
            "Superficie mq",
            "-40",
            (|k| matches!(k, ReadErrorKind::InvalidValue(_))) as fn(&ReadErrorKind) -> bool,
        ),
        (
            "P-2;Alfa;016001;;;;70;400;offerto;01/02/2024;;;9,95;",
            "Lon",
            "9,95",
            (|k| matches!(k, ReadErrorKind::Inconsistent(_))) as fn(&ReadErrorKind) -> bool,
        ),
        (
            "P-2;Alfa;016001;;;;70;400;locato_concordato;01/02/2024;;;;",
            "Data locazione",
            "",
            (|k| matches!(k, ReadErrorKind::MissingValue(_))) as fn(&ReadErrorKind) -> bool,
        ),
        (
            "P-2;Alfa;016001;;;;70;400;ritirato;01/02/2024;;01/01/2024;;",
            "Data ritiro",
            "01/01/2024",
            (|k| matches!(k, ReadErrorKind::Inconsistent(_))) as fn(&ReadErrorKind) -> bool,
        ),
        (
            "P-1;Alfa;016001;;;;70;400;offerto;01/02/2024;;;;",
            "Id",
            "P-1",
            (|k| matches!(k, ReadErrorKind::Duplicate(_))) as fn(&ReadErrorKind) -> bool,
        ),
    ] {
        let bytes = csv(&[ok, row]);
        let e =
            read_private_units_bytes(&bytes, Path::new("offerte.csv"), &reject()).expect_err(row);
        assert_eq!(e.record, Some(Record::Row(3)), "{row}");
        assert_eq!(e.field.as_deref(), Some(column), "{row}");
        assert_eq!(e.value.as_deref(), Some(value), "{row}");
        assert!(kind(&e.kind), "{row}: {:?}", e.kind);
        let msg = e.to_string();
        assert!(
            msg.contains("offerte.csv")
                && msg.contains("riga 3")
                && msg.contains(&format!("{column:?}")),
            "{msg}"
        );
        // Skipping: the good row stays, the bad one is listed.
        let read = read_private_units_bytes(
            &bytes,
            Path::new("offerte.csv"),
            &InventoryOptions {
                skip_bad_rows: true,
            },
        )
        .expect("skip");
        assert_eq!((read.units.len(), read.skipped.len()), (1, 1), "{row}");
    }
}

#[test]
fn missing_required_column_is_reported() {
    let bytes = b"Id;Comune;Data offerta\r\nP-1;Alfa;01/02/2024\r\n";
    let e = read_private_units_bytes(bytes, Path::new("o.csv"), &reject()).expect_err("no stato");
    assert!(
        matches!(&e.kind, ReadErrorKind::MissingColumn { expected, .. } if expected[..] == ["stato"]),
        "{e}"
    );
    assert_eq!(e.field.as_deref(), Some("stato"));
}

#[test]
fn offers_read_from_xlsx_first_sheet() {
    let read =
        read_private_units(&fixture("private/alloggi_privati.xlsx"), &reject()).expect("xlsx read");
    assert_eq!(read.encoding, "XLSX");
    assert!(read.nomi_scartati);
    assert_eq!(read.units.len(), 2);
    let a = &read.units[0];
    assert_eq!(a.riga, 3, "sheet row, after a blank row and the header");
    assert_eq!(
        a.comune_istat.as_deref(),
        Some("016001"),
        "number 16001 padded"
    );
    assert_eq!(a.foglio.as_deref(), Some("1"));
    assert_eq!(a.particella.as_deref(), Some("10"));
    assert_eq!(a.superficie_mq, Some(72.5));
    assert_eq!(a.canone_mensile, Some(450.0));
    assert_eq!(a.categoria_catastale.as_deref(), Some("A/3"));
    assert_eq!(a.data_offerta, date("2025-03-01"), "date cell");
    assert_eq!(a.data_locazione, Some(date("2025-05-15")));
    let b = &read.units[1];
    assert_eq!(b.canone_mensile, Some(520.0));
    assert_eq!(b.categoria_catastale.as_deref(), Some("A/8"));
    assert_eq!(b.data_offerta, date("2024-06-12"), "date as text");
    assert!(!format!("{:?}", read.units).contains("Quagliarulo"));
}

#[test]
fn public_inventory_reads_xlsx_too() {
    let read = read_inventory(&fixture("inventory/inventario.xlsx"), &reject()).expect("xlsx");
    assert_eq!(read.encoding, "XLSX");
    assert_eq!(read.units.len(), 2);
    let u = &read.units[0];
    assert_eq!(u.riga, 2);
    assert_eq!(u.comune_istat.as_deref(), Some("016077"));
    assert_eq!(u.foglio.as_deref(), Some("13"));
    assert_eq!(u.particella.as_deref(), Some("125"));
    assert_eq!(u.superficie_mq, Some(72.5));
    assert_eq!(u.servizio, Servizio::Sap);
    assert_eq!(u.stato, Stato::Libero);
    assert_eq!(u.sfitto_dal, Some(date("2024-02-01")));
    assert_eq!(read.units[1].stato, Stato::Occupato);
}

/// (codice, comune_istat, totali, non occupate, x, y, side) of square areas.
type Area<'a> = (&'a str, Option<&'a str>, u32, u32, f64, f64, f64);

fn estimates_geojson(features: &[Area<'_>]) -> String {
    let f: Vec<String> = features
        .iter()
        .map(|(codice, comune, tot, non, x, y, side)| {
            let comune = comune.map_or("null".to_string(), |c| format!("\"{c}\""));
            format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"codice\":\"{codice}\",\"comune_istat\":{comune},\"abitazioni_totali\":{tot},\"abitazioni_non_occupate\":{non}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[[{x},{y}],[{x2},{y}],[{x2},{y2}],[{x},{y2}],[{x},{y}]]]}}}}",
                x2 = x + side,
                y2 = y + side
            )
        })
        .collect();
    format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
        f.join(",")
    )
}

#[test]
fn estimates_reader_checks_counts() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("stime.geojson");
    std::fs::write(
        &p,
        estimates_geojson(&[("S1", Some("16001"), 100, 40, 9.9, 45.85, 0.01)]),
    )
    .expect("write");
    let read = read_estimates(&p).expect("read");
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].comune_istat_dichiarato.as_deref(), Some("016001"));
    assert_eq!(
        (read[0].abitazioni_totali, read[0].abitazioni_non_occupate),
        (100, 40)
    );
    std::fs::write(
        &p,
        estimates_geojson(&[("S1", None, 10, 40, 9.9, 45.85, 0.01)]),
    )
    .expect("write");
    let e = read_estimates(&p).expect_err("more than total");
    assert_eq!(e.record, Some(Record::Feature(1)), "{e}");
    assert_eq!(e.field.as_deref(), Some("abitazioni_non_occupate"), "{e}");
    assert!(matches!(e.kind, ReadErrorKind::Inconsistent(_)), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("stime.geojson")
            && msg.contains("feature n. 1")
            && msg.contains("abitazioni_non_occupate"),
        "{msg}"
    );
}

// ------------------------------------------------------------------------------------------
// Linkage, assignment and figures on a hand-built model
// ------------------------------------------------------------------------------------------

fn offer(codice: &str, istat: &str, stato: StatoPrivato, offerta: &str) -> AlloggioPrivato {
    AlloggioPrivato {
        codice: codice.into(),
        comune_istat: (!istat.is_empty()).then(|| istat.to_string()),
        belfiore: None,
        comune_nome: None,
        indirizzo: None,
        sezione: None,
        foglio: None,
        particella: None,
        subalterno: None,
        categoria_catastale: None,
        superficie_mq: None,
        canone_mensile: None,
        stato,
        data_offerta: date(offerta),
        data_locazione: None,
        data_ritiro: None,
        lonlat: None,
        riga: 2,
        posizione: None,
        localizzazione: Localizzazione::NonLocalizzato,
    }
}

fn tract(codice: &str, tot: u32, non: u32, x: f64, y: f64, side: f64) -> StimaNonOccupate {
    StimaNonOccupate {
        codice: Some(codice.into()),
        comune_istat_dichiarato: None,
        comune_istat: None,
        abitazioni_totali: tot,
        abitazioni_non_occupate: non,
        elemento: 1,
        geometry: square(x, y, side),
    }
}

#[test]
fn private_units_are_linked_like_public_ones() {
    let mut m = two_comuni_model();
    let mut a = offer("P-1", "", StatoPrivato::Offerto, "2024-01-10");
    a.belfiore = Some("a001".into());
    a.foglio = Some("0001".into());
    a.particella = Some("010".into());
    let mut b = offer("P-2", "016002", StatoPrivato::Offerto, "2024-01-10");
    b.lonlat = Some(point(9.97, 45.87));
    let mut c = offer("P-3", "", StatoPrivato::Offerto, "2024-01-10");
    c.comune_nome = Some("  beta ".into());
    let d = offer("P-4", "016999", StatoPrivato::Offerto, "2024-01-10");
    m.alloggi_privati = vec![a, b, c, d];
    let r = link_private_units(&mut m);
    assert_eq!(r.collegate_a_particella, 1);
    assert_eq!(r.localizzate_da_coordinate, 1);
    assert_eq!(r.non_localizzate, 2);
    assert_eq!(r.fuori_ambito.len(), 1);
    let u = &m.alloggi_privati;
    assert_eq!(u[0].localizzazione, Localizzazione::Particella);
    assert_eq!(u[0].comune_istat.as_deref(), Some("016001"));
    assert_eq!(u[0].comune_nome.as_deref(), Some("Alfa"));
    use geo::Contains;
    assert!(m.particelle[0]
        .geometry
        .contains(&u[0].posizione.expect("placed")));
    assert_eq!(u[1].localizzazione, Localizzazione::Coordinate);
    assert_eq!(u[2].comune_istat.as_deref(), Some("016002"));
    assert_eq!(u[2].belfiore.as_deref(), Some("B002"));
    // The model's layers are back in place.
    assert_eq!((m.comuni.len(), m.particelle.len()), (2, 3));
}

#[test]
fn figures_match_hand_computed_values() {
    let mut m = two_comuni_model();
    // Public: Alfa 1 libero + 1 occupato, Beta 1 sfitto.
    m.alloggi_pubblici = vec![
        unit(
            "Comune di Alfa",
            "1",
            "016001",
            Servizio::Sap,
            Stato::Libero,
        ),
        unit(
            "Comune di Alfa",
            "2",
            "016001",
            Servizio::Sap,
            Stato::Occupato,
        ),
        unit(
            "Comune di Beta",
            "1",
            "016002",
            Servizio::Sap,
            Stato::SfittoCarenzeManutentive,
        ),
    ];
    let mut let24 = offer(
        "P-1",
        "016001",
        StatoPrivato::LocatoConcordato,
        "2024-02-01",
    );
    let24.data_locazione = Some(date("2024-04-01"));
    let mut let25 = offer(
        "P-2",
        "016001",
        StatoPrivato::LocatoConcordato,
        "2024-11-01",
    );
    let25.data_locazione = Some(date("2025-01-15"));
    let25.categoria_catastale = Some("A/8".into());
    let mut gone = offer("P-3", "016002", StatoPrivato::Ritirato, "2023-05-01");
    gone.data_ritiro = Some(date("2024-03-01"));
    let open = offer("P-4", "016002", StatoPrivato::Offerto, "2025-06-01");
    m.alloggi_privati = vec![let24, let25, gone, open];
    // Tracts: one inside Alfa, one mostly in Beta (75%), one outside both.
    m.stime_non_occupate = vec![
        tract("A1", 200, 50, 9.91, 45.86, 0.01),
        tract("B1", 100, 60, 9.94, 45.86, 0.04),
        tract("X1", 999, 999, 11.0, 46.5, 0.01),
    ];
    let warnings = assign_tracts(&mut m);
    assert_eq!(
        m.stime_non_occupate[0].comune_istat.as_deref(),
        Some("016001")
    );
    assert_eq!(
        m.stime_non_occupate[1].comune_istat.as_deref(),
        Some("016002")
    );
    assert_eq!(m.stime_non_occupate[2].comune_istat, None);
    assert_eq!(warnings.len(), 1, "{warnings:?}");

    m.ambito.anno = 2026;
    let s = stock_privato(&m);
    assert_eq!(
        s.finestra_rimessi,
        FinestraRimessi {
            da_anno: 2025,
            a_anno: 2026
        }
    );
    let alfa = &s.per_comune[0].figure;
    assert_eq!(alfa.abitazioni_stimate, 200);
    assert_eq!(alfa.abitazioni_non_occupate_stimate, 50);
    assert_eq!(alfa.quota_non_occupate, Some(0.25));
    assert_eq!(alfa.privati_offerti, 2);
    assert_eq!(alfa.privati_locati_concordato, 2);
    assert_eq!(alfa.privati_rimessi_in_uso, 1, "only the 2025 letting");
    assert_eq!(alfa.privati_categoria_esclusa, 1);
    assert_eq!(alfa.privati_ammissibili_misure, 1);
    assert_eq!(alfa.pubblici_inutilizzati, 1);
    let beta = &s.per_comune[1].figure;
    assert_eq!(beta.quota_non_occupate, Some(0.6));
    assert_eq!((beta.privati_ritirati, beta.privati_in_offerta), (1, 1));
    assert_eq!(beta.pubblici_inutilizzati, 1);
    let a = &s.ambito;
    assert_eq!(a.abitazioni_stimate, 300, "the tract outside is left out");
    assert_eq!(a.abitazioni_non_occupate_stimate, 110);
    assert!((a.quota_non_occupate.expect("share") - 110.0 / 300.0).abs() < 1e-12);
    assert_eq!(a.privati_offerti, 4);
    assert_eq!(a.pubblici_inutilizzati, 2);
    assert_eq!(s.aree_non_attribuite, 1);
    let years: Vec<(i32, u32, u32, u32)> = a
        .per_anno
        .iter()
        .map(|y| (y.anno, y.offerti, y.locati_concordato, y.ritirati))
        .collect();
    assert_eq!(
        years,
        vec![(2023, 1, 0, 0), (2024, 2, 1, 1), (2025, 1, 1, 0)]
    );
    // The window is a parameter: 2024 only.
    let s24 = stock_privato_con(
        &m,
        FinestraRimessi {
            da_anno: 2024,
            a_anno: 2024,
        },
    );
    assert_eq!(s24.ambito.privati_rimessi_in_uso, 1);
}

#[test]
fn dwelling_rules_at_their_edges() {
    assert_eq!(superficie_massima_mq(4), 110.0);
    assert_eq!(superficie_massima_mq(5), 121.0);
    assert_eq!(superficie_massima_mq(6), 132.0, "adds 11 m², not 133.1");
    assert_eq!(
        idoneita(Some("A/3"), Some(110.0)).componenti_minimi,
        Some(1)
    );
    assert_eq!(
        idoneita(Some("A/3"), Some(121.0)).componenti_minimi,
        Some(5)
    );
    assert_eq!(
        idoneita(Some("A/3"), Some(133.0)).componenti_minimi,
        Some(7)
    );
    assert!(!idoneita(Some("A/1"), Some(60.0)).ammissibile);
    assert!(!idoneita(Some("A/9"), None).ammissibile);
    assert!(idoneita(Some("A/7"), Some(60.0)).ammissibile);
}

// ------------------------------------------------------------------------------------------
// Privacy, through a real build and the HTTP API
// ------------------------------------------------------------------------------------------

const CONFINI: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"com_istat_code":"016001","com_catasto_code":"A001","name":"Alfa"},"geometry":{"type":"Polygon","coordinates":[[[9.90,45.85],[9.95,45.85],[9.95,45.90],[9.90,45.90],[9.90,45.85]]]}},
{"type":"Feature","properties":{"com_istat_code":"016002","com_catasto_code":"B002","name":"Beta"},"geometry":{"type":"Polygon","coordinates":[[[9.95,45.85],[10.00,45.85],[10.00,45.90],[9.95,45.90],[9.95,45.85]]]}}]}"#;

fn project_dir(private_rows: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path();
    std::fs::create_dir_all(p.join("input")).expect("mkdir");
    std::fs::write(p.join("input/confini.geojson"), CONFINI).expect("confini");
    std::fs::write(
        p.join("input/inventario.csv"),
        "ente_proprietario,codice_unita,comune_istat,servizio,stato\r\nComune di Alfa,1,016001,SAP,libero\r\n",
    )
    .expect("inventario");
    std::fs::write(p.join("input/offerte.csv"), csv(private_rows)).expect("offerte");
    std::fs::write(
        p.join("input/stime.geojson"),
        estimates_geojson(&[
            ("S1", Some("016001"), 120, 48, 9.91, 45.86, 0.02),
            ("S2", None, 80, 20, 9.96, 45.86, 0.02),
        ]),
    )
    .expect("stime");
    std::fs::write(
        p.join("abitare.toml"),
        r#"workspace = "workspace"
[ambito]
nome = "Ambito di prova"
anno = 2026
[[comuni]]
istat = "016001"
belfiore = "A001"
nome = "Alfa"
popolazione = 2000
[[comuni]]
istat = "016002"
belfiore = "B002"
nome = "Beta"
popolazione = 500
[input]
confini = "input/confini.geojson"
inventario = "input/inventario.csv"
alloggi_privati = "input/offerte.csv"
stime_non_occupate = "input/stime.geojson"
"#,
    )
    .expect("toml");
    dir
}

fn good_rows() -> Vec<String> {
    vec![
        format!("PRV-1;Alfa;016001;{OWNER};;;72;450;locato_concordato;01/03/2025;01/05/2025;;9,92;45,87"),
        format!("PRV-2;Beta;016002;{OWNER};;;60;380;offerto;01/06/2024;;;9,97;45,87"),
    ]
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A GET as a member of the Tavolo, who sees exact aggregates but no private unit.
async fn get(state: Arc<Analisi>, uri: &str) -> (StatusCode, String) {
    let (status, _, body) =
        common::get_text_as(state, uri, Some(abitare::auth::Role::Tavolo)).await;
    (status, body)
}

/// A GET as the public.
async fn get_public(state: Arc<Analisi>, uri: &str) -> (StatusCode, String) {
    let resp = app(state)
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn owner_names_and_individual_units_never_leave_the_model() {
    let rows = good_rows();
    let dir = project_dir(&rows.iter().map(String::as_str).collect::<Vec<_>>());
    let project = Project::load(&dir.path().join("abitare.toml")).expect("project");
    let outcome = pipeline::build(&project).expect("build");
    let ws = outcome.workspace;

    // No workspace file holds the owner's name; no public export holds a single unit.
    let mut files = Vec::new();
    all_files(&ws, &mut files);
    assert!(!files.is_empty());
    for f in &files {
        let bytes = std::fs::read(f).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("Quagliarulo"),
            "{} holds the name",
            f.display()
        );
        let rel = f.strip_prefix(&ws).expect("inside");
        if !rel.starts_with("model.json") {
            assert!(
                !text.contains("PRV-1"),
                "{} holds a private unit",
                f.display()
            );
        }
    }
    assert!(!ws.join("layers/alloggi_privati.geojson").exists());
    assert!(ws.join("layers/stock_privato.geojson").exists());

    let loaded = Arc::new(pipeline::load_workspace(&ws).expect("load"));
    assert_eq!(loaded.model.alloggi_privati.len(), 2, "kept for officers");
    assert_eq!(
        loaded.model.stime_non_occupate[1].comune_istat.as_deref(),
        Some("016002"),
        "assigned by area"
    );

    let (st, body) = get(loaded.clone(), "/api/layers/alloggi_privati").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(body.contains("riservato a: ufficio dell'Ambito"), "{body}");
    let (st, _) = get_public(loaded.clone(), "/api/layers/alloggi_privati").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // The public reads the two offers as a small count.
    let (_, ambito) = get_public(loaded.clone(), "/api/ambito").await;
    let v: serde_json::Value = serde_json::from_str(&ambito).expect("json");
    assert_eq!(v["privato"]["privati_offerti"], "< 3");
    let (_, list) = get(loaded.clone(), "/api/layers").await;
    assert!(!list.contains("alloggi_privati"), "{list}");
    assert!(list.contains("stock_privato"), "{list}");

    let (st, ambito) = get(loaded.clone(), "/api/ambito").await;
    assert_eq!(st, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&ambito).expect("json");
    assert_eq!(v["privato"]["privati_offerti"], 2);
    assert_eq!(v["privato"]["abitazioni_non_occupate_stimate"], 68);
    assert_eq!(v["privato"]["privati_rimessi_in_uso"], 1);

    let (_, comuni) = get(loaded.clone(), "/api/layers/comuni").await;
    let c: serde_json::Value = serde_json::from_str(&comuni).expect("json");
    let alfa = &c["features"][0]["properties"];
    assert_eq!(alfa["abitazioni_non_occupate_stimate"], 48);
    assert_eq!(alfa["quota_non_occupate"], 0.4);
    assert_eq!(alfa["privati_locati_concordato"], 1);

    let mut uris: Vec<String> = vec![
        "/".into(),
        "/health".into(),
        "/api/ambito".into(),
        "/api/layers".into(),
        "/api/report/piano-annuale?format=json".into(),
        "/api/report/piano-annuale?format=csv".into(),
        "/api/report/piano-annuale?format=html".into(),
        "/api/report/piano-annuale?format=testo".into(),
        "/api/layers/alloggi_privati".into(),
    ];
    uris.extend(
        layers::names(Audience::Pubblico)
            .iter()
            .map(|l| format!("/api/layers/{l}")),
    );
    for uri in &uris {
        let (_, body) = get(loaded.clone(), uri).await;
        let (_, public) = get_public(loaded.clone(), uri).await;
        assert!(!public.contains("Quagliarulo"), "{uri} holds the name");
        assert!(
            !public.contains("PRV-1") && !public.contains("PRV-2"),
            "{uri}"
        );
        assert!(!body.contains("Quagliarulo"), "{uri} holds the name");
        assert!(
            !body.contains("PRV-1") && !body.contains("PRV-2"),
            "{uri} holds an individual private unit"
        );
    }
    let (_, html) = get(loaded.clone(), "/api/report/piano-annuale?format=html").await;
    assert!(html.contains("Patrimonio privato"), "report section");
}

#[test]
fn visibility_is_explicit() {
    assert_eq!(
        layers::info("alloggi_privati").map(|l| l.audience),
        Some(Audience::Ufficio)
    );
    assert_eq!(
        layers::info("stock_privato").map(|l| l.audience),
        Some(Audience::Pubblico)
    );
    assert!(layers::info("nessuno").is_none());
    assert_eq!(
        layers::layer("alloggi_privati", Audience::Pubblico).err(),
        Some(Refusal::Restricted {
            required: Audience::Ufficio
        })
    );
    assert!(layers::visible(Audience::Pubblico).all(|l| l.name() != "alloggi_privati"));
}

#[test]
fn a_bad_offer_row_fails_the_build_and_leaves_the_workspace() {
    let rows = good_rows();
    let dir = project_dir(&rows.iter().map(String::as_str).collect::<Vec<_>>());
    let toml = dir.path().join("abitare.toml");
    let project = Project::load(&toml).expect("project");
    let ws = pipeline::build(&project).expect("first build").workspace;
    let before = std::fs::read(ws.join("manifest.json")).expect("manifest");

    let bad = [
        rows[0].as_str(),
        "PRV-3;Alfa;016001;;;;70;400;venduto;01/02/2024;;;;",
    ];
    std::fs::write(dir.path().join("input/offerte.csv"), csv(&bad)).expect("write");
    let project = Project::load(&toml).expect("project");
    let e = pipeline::build(&project).expect_err("bad row");
    let msg = e.to_string();
    assert!(
        msg.contains("offerte.csv") && msg.contains("riga 3") && msg.contains("venduto"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(ws.join("manifest.json")).expect("manifest"),
        before
    );
    let mut siblings: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    siblings.sort();
    // The workspace link, its live generation and the lock file: no staging left behind.
    assert_eq!(siblings.len(), 5, "{siblings:?}");
    assert!(siblings[0].starts_with(".workspace.gen-"), "{siblings:?}");
    assert_eq!(
        siblings[1..],
        [".workspace.lock", "abitare.toml", "input", "workspace"]
    );
}
