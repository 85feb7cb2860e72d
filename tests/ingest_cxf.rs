//! The CXF reader on the real Rome sheet and on hand-written sheets near Clusone, its error
//! messages, and a project whose unit lands on the building of its parcel.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use abitare::analysis::linkage::link_units;
use abitare::ingest::cxf::{parse_cxf, read_cxf, Classe, CxfError};
use abitare::model::{Fabbricato, Localizzazione, Servizio, Stato};
use abitare::pipeline::{ingest, Ingested};
use abitare::project::Project;
use geo::{BoundingRect, Contains, Point};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cxf")
        .join(name)
}

fn rome_sheet() -> Option<PathBuf> {
    common::shared_or_skip("data/cadastre/H501D076700.CXF")
}

#[test]
fn rome_sheet_gives_381_parcels_and_131_buildings() {
    let Some(path) = rome_sheet() else {
        return;
    };
    // The sheet's CRS is a local Cassini-Soldner system: read raw coordinates.
    let sheet = read_cxf(&path, None).expect("the Rome sheet reads");
    assert_eq!(sheet.particelle.len(), 381);
    assert_eq!(sheet.fabbricati.len(), 131);
    assert_eq!(sheet.fogli.len(), 1, "the sheet boundary");
    assert!(sheet.avvisi.is_empty(), "{:?}", sheet.avvisi);
    assert_eq!(sheet.crs, None);

    let f = &sheet.fogli[0];
    assert_eq!(f.riferimento, "H501D076700");
    assert_eq!(f.belfiore, "H501");
    assert_eq!(f.sezione.as_deref(), Some("D"));
    assert_eq!(f.foglio, "767");
    assert_eq!(f.scala, Some(4000));
    assert_eq!(sheet.foglio_ref.to_string(), "H501D076700");

    // Roads and water, as parcels labelled like the GML.
    let mut labels: Vec<&str> = sheet
        .strade_acque
        .iter()
        .map(|p| p.particella.as_str())
        .collect();
    labels.sort();
    assert_eq!(labels, ["ACQUA", "ACQUA", "STRADA"]);
    // A lettered parcel (churches carry letters) is a parcel.
    assert!(sheet.particelle.iter().any(|p| p.particella == "A"));

    // Every building stands on a parcel of the sheet; 37 has several.
    let on_37: Vec<_> = sheet
        .fabbricati
        .iter()
        .filter(|b| b.particella == "37")
        .collect();
    assert!(on_37.len() > 1);
    assert_eq!(on_37[0].riferimento, "H501D076700.37");
    let p37 = sheet
        .particelle
        .iter()
        .find(|p| p.particella == "37")
        .expect("parcel 37");
    assert_eq!(p37.key(), on_37[0].key());
    for b in &sheet.fabbricati {
        assert!(
            sheet.particelle.iter().any(|p| p.key() == b.key()),
            "building {} without its parcel",
            b.riferimento
        );
    }

    // Raw coordinates in projected metres, inside the sheet boundary's box.
    let r = f.geometry.bounding_rect().expect("extent");
    assert!(r.min().x > 278_000.0 && r.max().x < 282_000.0, "{r:?}");
    assert!(r.min().y > 4_637_000.0 && r.max().y < 4_641_000.0, "{r:?}");
}

#[test]
fn rome_sheet_ring_counts_are_consistent() {
    let Some(path) = rome_sheet() else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("ASCII file");
    let raw = parse_cxf(&text, "H501D076700.CXF").expect("parses");
    assert_eq!(raw.intestazione, "MAPPA");
    assert_eq!(raw.codice_foglio, "H501D076700");
    assert_eq!(raw.bordi.len(), 516);
    assert_eq!(raw.testi, 88);
    assert_eq!(raw.simboli, 307);
    assert_eq!(raw.fiduciali, 27);
    assert_eq!(raw.linee, 645);
    let by_class = |c: Classe| raw.bordi.iter().filter(|b| b.classe() == c).count();
    assert_eq!(by_class(Classe::Foglio), 1);
    assert_eq!(by_class(Classe::Particella), 381);
    assert_eq!(by_class(Classe::StradaAcqua), 3);
    assert_eq!(by_class(Classe::Fabbricato), 131);
    // Every ring is closed and has at least 4 positions; holes are present (77 of them,
    // in 34 objects; one parcel has 23).
    let holes: usize = raw.bordi.iter().map(|b| b.anelli.len() - 1).sum();
    assert_eq!(holes, 77);
    assert_eq!(raw.bordi.iter().filter(|b| b.anelli.len() > 1).count(), 34);
    assert_eq!(raw.bordi.iter().map(|b| b.anelli.len() - 1).max(), Some(23));
    for b in &raw.bordi {
        for ring in &b.anelli {
            assert!(ring.len() >= 4, "{} riga {}", b.codice, b.riga);
            assert_eq!(ring.first(), ring.last(), "{} riga {}", b.codice, b.riga);
        }
    }
    let sheet = read_cxf(&path, None).expect("reads");
    assert_eq!(sheet.isole, 77);
}

#[test]
fn clusone_sheet_reprojects_from_gauss_boaga() {
    let sheet = read_cxf(&fixture("C800_001300.CXF"), Some(3003)).expect("reads");
    assert_eq!(sheet.crs, Some(3003));
    assert_eq!(sheet.fogli.len(), 1);
    assert_eq!(sheet.fogli[0].riferimento, "C800_001300");
    assert_eq!(sheet.fogli[0].sezione, None);
    assert_eq!(sheet.fogli[0].foglio, "13");
    assert_eq!(sheet.fogli[0].scala, Some(1000));
    let names: Vec<&str> = sheet
        .particelle
        .iter()
        .map(|p| p.particella.as_str())
        .collect();
    assert_eq!(names, ["125", "126"]);
    assert_eq!(sheet.strade_acque.len(), 1);
    assert_eq!(sheet.strade_acque[0].riferimento, "C800_001300.STRADA");
    assert_eq!(sheet.fabbricati.len(), 1);
    let b = &sheet.fabbricati[0];
    assert_eq!(b.particella, "125");
    assert_eq!(b.riferimento, "C800_001300.125");
    assert_eq!(b.belfiore, "C800");

    // The parcel keeps its courtyard as a hole; the building lies inside the parcel.
    let p = &sheet.particelle[0];
    assert_eq!(p.geometry.0.len(), 1);
    assert_eq!(p.geometry.0[0].interiors().len(), 1);
    assert_eq!(sheet.isole, 1);
    assert!(p.geometry.contains(&b.geometry));

    // Lon/lat near Clusone.
    let r = p.geometry.bounding_rect().expect("extent");
    let c = r.center();
    assert!((9.85..9.95).contains(&c.x), "lon {}", c.x);
    assert!((45.84..45.90).contains(&c.y), "lat {}", c.y);
    // 100 m of Gauss-Boaga are about 100 m on the ground.
    let width_m = (r.max().x - r.min().x) * 111_320.0 * c.y.to_radians().cos();
    assert!((95.0..105.0).contains(&width_m), "{width_m}");

    // The degenerate parcel 127 is skipped with an avviso naming file and line.
    assert_eq!(sheet.avvisi.len(), 1, "{:?}", sheet.avvisi);
    let a = &sheet.avvisi[0];
    assert!(a.contains("C800_001300.CXF"), "{a}");
    assert!(a.contains("\"127\"") && a.contains("degenere"), "{a}");
    assert!(a.contains("riga "), "{a}");
}

#[test]
fn clusone_sheet_raw_keeps_metres() {
    let sheet = read_cxf(&fixture("C800_001300.CXF"), None).expect("reads");
    let r = sheet.particelle[0]
        .geometry
        .bounding_rect()
        .expect("extent");
    assert_eq!(r.min().x, 1_570_000.0);
    assert_eq!(r.max().y, 5_080_100.0);
}

fn message(e: CxfError) -> String {
    e.to_string()
}

#[test]
fn truncated_file_is_rejected_with_line_and_object() {
    let e = message(read_cxf(&fixture("troncato.CXF"), Some(3003)).expect_err("truncated"));
    assert!(e.contains("troncato.CXF, riga 38"), "{e}");
    assert!(e.contains("file troncato"), "{e}");
    assert!(e.contains("BORDO \"11\""), "{e}");
    assert!(e.contains("iniziato alla riga 24"), "{e}");
    assert!(e.contains("y del vertice 3 di 5"), "{e}");
}

#[test]
fn non_numeric_value_names_the_field() {
    let e = message(read_cxf(&fixture("non_numerico.CXF"), None).expect_err("non numeric"));
    assert!(e.contains("non_numerico.CXF, riga 19"), "{e}");
    assert!(e.contains("valore non numerico \"5080O50.000\""), "{e}");
    assert!(e.contains("y del vertice 3 di 5"), "{e}");
    assert!(e.contains("BORDO \"10\""), "{e}");
}

#[test]
fn vertex_count_too_large_is_caught_at_the_next_object() {
    let e = message(read_cxf(&fixture("vertici_errati.CXF"), None).expect_err("bad count"));
    assert!(e.contains("vertici_errati.CXF, riga 24"), "{e}");
    assert!(e.contains("x del vertice 6 di 7"), "{e}");
    assert!(e.contains("nuovo oggetto BORDO"), "{e}");
    assert!(e.contains("numero di vertici"), "{e}");
}

const HEADER: &str = "MAPPA\nC800_001300\n1000\n";

fn bordo(code: &str, islands: &[usize], n: usize, coords: &[(f64, f64)]) -> String {
    // Code, size, angle, label x/y, interior point x/y, islands, vertices.
    let mut s = format!("BORDO\n{code}\n12\n0\n0\n0\n0\n0\n{}\n{n}\n", islands.len());
    for i in islands {
        s.push_str(&format!("{i}\n"));
    }
    for (x, y) in coords {
        s.push_str(&format!("{x}\n{y}\n"));
    }
    s
}

fn square() -> Vec<(f64, f64)> {
    vec![
        (0.0, 0.0),
        (10.0, 0.0),
        (10.0, 10.0),
        (0.0, 10.0),
        (0.0, 0.0),
    ]
}

#[test]
fn vertex_count_too_small_is_caught_at_the_next_line() {
    let text = format!("{HEADER}{}EOF\n", bordo("5", &[], 4, &square()));
    let e = message(parse_cxf(&text, "prova.CXF").expect_err("bad count"));
    // Header 3 lines, BORDO 10 lines + 8 coordinates: the 5th x is line 22.
    assert!(e.contains("prova.CXF, riga 22"), "{e}");
    assert!(e.contains("valore numerico \"0\""), "{e}");
    assert!(e.contains("BORDO \"5\" (riga 4)"), "{e}");
}

#[test]
fn islands_larger_than_the_total_are_rejected() {
    let text = format!("{HEADER}{}EOF\n", bordo("5", &[5], 5, &square()));
    let e = message(parse_cxf(&text, "prova.CXF").expect_err("bad islands"));
    assert!(e.contains("prova.CXF, riga 13"), "{e}");
    assert!(e.contains("conti dei vertici non tornano"), "{e}");
}

#[test]
fn unknown_object_and_missing_eof_are_rejected() {
    let text = format!("{HEADER}{}CERCHIO\n1\nEOF\n", bordo("5", &[], 5, &square()));
    let e = message(parse_cxf(&text, "prova.CXF").expect_err("unknown object"));
    assert!(e.contains("prova.CXF, riga 24"), "{e}");
    assert!(e.contains("oggetto sconosciuto \"CERCHIO\""), "{e}");

    let text = format!("{HEADER}{}", bordo("5", &[], 5, &square()));
    let e = message(parse_cxf(&text, "prova.CXF").expect_err("no EOF"));
    assert!(e.contains("manca il record EOF"), "{e}");
    assert!(e.contains("riga 23"), "{e}");

    let e = message(parse_cxf("PIPPO\n", "prova.CXF").expect_err("not a CXF"));
    assert!(e.contains("riga 1") && e.contains("MAPPA"), "{e}");

    // Header variants and a backslash keyword are accepted.
    let text = format!(
        "MAPPA FONDIARIO\nC800_001300\n1000\n{}TESTO\\\nx\n1\n0\n0\n0\nEOF\n",
        bordo("5", &[], 5, &square())
    );
    let raw = parse_cxf(&text, "prova.CXF").expect("valid");
    assert_eq!(raw.bordi.len(), 1);
    assert_eq!(raw.testi, 1);
}

const PROJECT: &str = r#"
[ambito]
nome = "Ambito di prova"
anno = 2026

[[comuni]]
istat = "016077"
belfiore = "C800"
nome = "Clusone"
popolazione = 8700

[input]
inventario = "inventario.csv"

[[input.cxf]]
percorso = "cxf/"
crs = "EPSG:3003"
"#;

fn project_dir(project: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("cxf")).expect("cxf dir");
    std::fs::copy(
        fixture("C800_001300.CXF"),
        dir.path().join("cxf/C800_001300.CXF"),
    )
    .expect("copy sheet");
    std::fs::write(
        dir.path().join("inventario.csv"),
        "ente_proprietario;codice_unita;belfiore;servizio;stato;foglio;particella\n\
         Comune di Clusone;CL-1;C800;SAP;occupato;0013;125\n\
         Comune di Clusone;CL-2;C800;SAP;libero;13;126\n",
    )
    .expect("inventory");
    std::fs::write(dir.path().join("abitare.toml"), project).expect("project");
    dir
}

#[test]
fn pipeline_places_the_unit_on_its_building() {
    let dir = project_dir(PROJECT);
    let project = Project::load(&dir.path().join("abitare.toml")).expect("project");
    let Ingested {
        model,
        linkage,
        inputs,
        avvisi,
    } = ingest(&project).expect("ingest");
    assert_eq!(model.fogli.len(), 1);
    assert_eq!(model.particelle.len(), 3, "125, 126 and the road");
    assert_eq!(model.fabbricati.len(), 1);
    assert!(inputs.iter().any(|i| i.path.ends_with("C800_001300.CXF")));
    assert!(avvisi.iter().any(|a| a.contains("\"127\"")), "{avvisi:?}");

    assert_eq!(linkage.collegate_a_particella, 2);
    assert_eq!(linkage.collegate_a_fabbricato, 1);
    let on_building: Point<f64> = model.alloggi_pubblici[0].posizione.expect("placed");
    assert!(model.fabbricati[0].geometry.contains(&on_building));
    // The other parcel has no building: the unit stands on the parcel.
    let on_parcel = model.alloggi_pubblici[1].posizione.expect("placed");
    let p126 = model
        .particelle
        .iter()
        .find(|p| p.particella == "126")
        .expect("parcel 126");
    assert!(p126.geometry.contains(&on_parcel));
}

#[test]
fn pipeline_names_the_project_field_for_an_unknown_crs() {
    let dir = project_dir(&PROJECT.replace("EPSG:3003", "Cassini-Soldner Roma"));
    let project = Project::load(&dir.path().join("abitare.toml")).expect("project");
    let e = ingest(&project).expect_err("unknown CRS").to_string();
    assert!(e.contains("abitare.toml"), "{e}");
    assert!(e.contains("[[input.cxf]]") && e.contains("crs"), "{e}");
    assert!(e.contains("Cassini-Soldner Roma"), "{e}");
}

#[test]
fn pipeline_error_names_the_cxf_file_and_line() {
    let dir = project_dir(PROJECT);
    std::fs::copy(
        fixture("non_numerico.CXF"),
        dir.path().join("cxf/C800_001400.CXF"),
    )
    .expect("copy");
    let project = Project::load(&dir.path().join("abitare.toml")).expect("project");
    let e = ingest(&project).expect_err("bad sheet").to_string();
    assert!(e.contains("C800_001400.CXF, riga 19"), "{e}");
    assert!(e.contains("y del vertice 3 di 5"), "{e}");
}

#[test]
fn linkage_prefers_the_largest_building_of_the_parcel() {
    let mut m = common::two_comuni_model();
    // Parcel 10 of Alfa (9.901..9.902, 45.851..45.852): a shed and a larger house on it.
    let building = |x: f64, side: f64| Fabbricato {
        riferimento: "A001_000100.10".into(),
        belfiore: "A001".into(),
        sezione: None,
        foglio: "1".into(),
        particella: "010".into(),
        geometry: common::square(x, 45.8512, side),
    };
    m.fabbricati = vec![building(9.9011, 0.0001), building(9.9014, 0.0004)];
    let mut on_10 = common::unit(
        "Comune di Alfa",
        "1",
        "016001",
        Servizio::Sap,
        Stato::Libero,
    );
    on_10.foglio = Some("1".into());
    on_10.particella = Some("10".into());
    let mut on_11 = on_10.clone();
    on_11.codice_unita = "2".into();
    on_11.particella = Some("11".into());
    m.alloggi_pubblici = vec![on_10, on_11];

    let r = link_units(&mut m);
    assert_eq!(r.collegate_a_particella, 2);
    assert_eq!(r.collegate_a_fabbricato, 1);
    let u = &m.alloggi_pubblici;
    assert_eq!(u[0].localizzazione, Localizzazione::Particella);
    assert!(m.fabbricati[1]
        .geometry
        .contains(&u[0].posizione.expect("placed")));
    assert!(m.particelle[1]
        .geometry
        .contains(&u[1].posizione.expect("placed")));
}
