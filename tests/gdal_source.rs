//! GDAL/OGR sources: fixtures written by `ogr2ogr` from a small GeoJSON (GeoPackage in
//! EPSG:32632, MapInfo TAB in EPSG:3003, KML, DXF without a CRS), read back and mapped.
//!
//! `ABITARE_TEST_PG` (a GDAL connection string such as `PG:dbname=abitare_test`, to a database
//! with PostGIS where the test may create and drop a table) enables the PostGIS test; without
//! it that test prints a notice and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "gdal")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use abitare::ingest::gdal_source::{read_gdal_source, redact};
use abitare::ingest::pgt::mapping::{Destinazione, Mappatura};
use abitare::ingest::pgt::PgtRead;
use abitare::model::ClasseZona;
use geo::{Centroid, GeodesicArea};

/// Two squares near Clusone (lon/lat): an ambito di trasformazione (100 m × 100 m) and a
/// constraint (50 m × 50 m). `Layer` names the CAD layer when written to DXF.
const GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"Layer":"AMBITI_TRASFORMAZIONE","NOME_AMB":"AT-E.2","FUN_PREV1":"100","NOME_COM":"Clusone","COD_VINC":null,"NOME_VINC_PRINC":null},
 "geometry":{"type":"Polygon","coordinates":[[[9.9380,45.8730],[9.93929,45.8730],[9.93929,45.8739],[9.9380,45.8739],[9.9380,45.8730]]]}},
{"type":"Feature","properties":{"Layer":"VINCOLI","NOME_AMB":null,"FUN_PREV1":null,"NOME_COM":"Clusone","COD_VINC":"FR","NOME_VINC_PRINC":"Fascia di rispetto cimiteriale"},
 "geometry":{"type":"Polygon","coordinates":[[[9.9400,45.8750],[9.940645,45.8750],[9.940645,45.87545],[9.9400,45.87545],[9.9400,45.8750]]]}}
]}"#;

fn regionale() -> Mappatura {
    Mappatura::regionale().expect("built-in mapping")
}

fn have_ogr2ogr() -> bool {
    Command::new("ogr2ogr").arg("--version").output().is_ok()
}

fn ogr2ogr(args: &[&str]) {
    let out = Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("ogr2ogr runs");
    assert!(
        out.status.success(),
        "ogr2ogr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    geojson: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let geojson = root.join("pgt.geojson");
    std::fs::write(&geojson, GEOJSON).expect("write geojson");
    Fixture {
        _dir: dir,
        root,
        geojson,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Writes the two features as two layers (by the `Layer` attribute) of `out`.
fn write_layers(f: &Fixture, out: &Path, driver: &str, extra: &[&str]) {
    for (i, layer) in ["AMBITI_TRASFORMAZIONE", "VINCOLI"].into_iter().enumerate() {
        let filter = format!("Layer = '{layer}'");
        let mut args = vec!["-f", driver];
        if i > 0 {
            args.push("-update");
        }
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-where", &filter, "-nln", layer, s(out), s(&f.geojson)]);
        ogr2ogr(&args);
    }
}

fn check(read: &PgtRead, what: &str) {
    assert_eq!(read.zone.len(), 1, "{what}: {:?}", read.avvisi);
    assert_eq!(read.vincoli.len(), 1, "{what}: {:?}", read.avvisi);
    let z = &read.zone[0];
    assert_eq!(z.classe, ClasseZona::AmbitoTrasformazione, "{what}");
    assert_eq!(z.legenda.as_deref(), Some("AT-E.2"), "{what}");
    assert_eq!(z.codice_destinazione.as_deref(), Some("100"), "{what}");
    assert_eq!(z.comune_nome.as_deref(), Some("Clusone"), "{what}");
    let area = z.geometry.geodesic_area_unsigned();
    assert!((area - 10_000.0).abs() < 150.0, "{what}: area {area}");
    let c = z.geometry.centroid().expect("centroid");
    assert!(
        (c.x() - 9.938645).abs() < 1e-4 && (c.y() - 45.87345).abs() < 1e-4,
        "{what}: {c:?}"
    );
    let v = &read.vincoli[0];
    assert_eq!(v.codice.as_deref(), Some("FR"), "{what}");
    assert_eq!(v.nome, "Fascia di rispetto cimiteriale", "{what}");
    let area = v.geometry.geodesic_area_unsigned();
    assert!((area - 2_500.0).abs() < 60.0, "{what}: area {area}");
}

#[test]
fn layer_names_follow_the_regional_mapping() {
    let m = regionale();
    let class = |name: &str| m.rule_for(&[name]).and_then(|(r, _)| r.classe.clone());
    assert_eq!(
        class("ambiti_trasformazione"),
        Some(Destinazione::Zona(ClasseZona::AmbitoTrasformazione))
    );
    assert_eq!(
        class("Fasce di rispetto"),
        Some(Destinazione::Vincolo(None))
    );
    assert!(m.rule_for(&["SERVIZI"]).is_some());
    assert!(m.rule_for(&["pippo"]).is_none());
    assert_eq!(
        redact("PG:host=db dbname=pgt user=u password=segreta"),
        "PG:host=db dbname=pgt user=u password=***"
    );
}

#[test]
fn a_project_mapping_reads_a_gdal_source_with_its_own_names() {
    if !common::available_or_skip(have_ogr2ogr(), "ogr2ogr not on the PATH") {
        return;
    }
    let f = fixture();
    // A comune's own GeoPackage: one layer ZONIZZAZIONE, the class in field ZONA.
    let gj = f.root.join("zone.geojson");
    std::fs::write(
        &gj,
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"ZONA":"B1 residenziale","NOME_COM":"Clusone"},
 "geometry":{"type":"Polygon","coordinates":[[[9.9380,45.8730],[9.93929,45.8730],[9.93929,45.8739],[9.9380,45.8739],[9.9380,45.8730]]]}},
{"type":"Feature","properties":{"ZONA":"E agricola","NOME_COM":"Clusone"},
 "geometry":{"type":"Polygon","coordinates":[[[9.9400,45.8750],[9.940645,45.8750],[9.940645,45.87545],[9.9400,45.87545],[9.9400,45.8750]]]}},
{"type":"Feature","properties":{"ZONA":"X ignota","NOME_COM":"Clusone"},
 "geometry":{"type":"Polygon","coordinates":[[[9.9420,45.8750],[9.942645,45.8750],[9.942645,45.87545],[9.9420,45.87545],[9.9420,45.8750]]]}}
]}"#,
    )
    .expect("write");
    let out = f.root.join("comune.gpkg");
    ogr2ogr(&[
        "-f",
        "GPKG",
        "-t_srs",
        "EPSG:32632",
        "-nln",
        "ZONIZZAZIONE",
        s(&out),
        s(&gj),
    ]);
    // The regional mapping does not know the layer: a warning, nothing read.
    let read = read_gdal_source(s(&out), None, None, &regionale()).expect("read");
    assert!(read.zone.is_empty());
    assert!(
        read.avvisi
            .iter()
            .any(|a| a.contains("ZONIZZAZIONE") && a.contains("non riconosciuto")),
        "{:?}",
        read.avvisi
    );
    // The project's mapping names it, with the class by the start of ZONA.
    let m = Mappatura::from_toml(
        "[[layer]]\nnomi = [\"ZONIZZAZIONE\"]\ncampo = \"ZONA\"\nlegenda = [\"ZONA\"]\n\
         [layer.inizia]\n\"B\" = \"tessuto_urbano_consolidato\"\n\"E\" = \"agricolo\"\n",
        "mappatura.toml",
    )
    .expect("mapping");
    let read = read_gdal_source(s(&out), None, None, &m).expect("read");
    let classes: Vec<ClasseZona> = read.zone.iter().map(|z| z.classe).collect();
    assert_eq!(
        classes,
        [ClasseZona::TessutoUrbanoConsolidato, ClasseZona::Agricolo],
        "{:?}",
        read.avvisi
    );
    assert_eq!(read.zone[0].legenda.as_deref(), Some("B1 residenziale"));
    // The value no rule maps is listed with its record number, as for shapefiles.
    assert!(
        read.avvisi.iter().any(|a| a.contains("X ignota")
            && a.contains("non mappato")
            && a.contains("record n. 3")),
        "{:?}",
        read.avvisi
    );
}

#[test]
fn geopackage_in_utm() {
    if !common::available_or_skip(have_ogr2ogr(), "ogr2ogr not on the PATH") {
        return;
    }
    let f = fixture();
    let out = f.root.join("pgt.gpkg");
    write_layers(&f, &out, "GPKG", &["-t_srs", "EPSG:32632"]);
    let read = read_gdal_source(s(&out), None, None, &regionale()).expect("gpkg");
    check(&read, "GPKG");
    // One named layer only.
    let read = read_gdal_source(s(&out), Some("vincoli"), None, &regionale()).expect("gpkg layer");
    assert_eq!((read.zone.len(), read.vincoli.len()), (0, 1));
    let e = read_gdal_source(s(&out), Some("ZONE"), None, &regionale()).expect_err("missing layer");
    let msg = e.to_string();
    assert!(
        msg.contains("pgt.gpkg") && msg.contains("ZONE") && msg.contains("VINCOLI"),
        "{msg}"
    );
}

#[test]
fn mapinfo_tab_in_gauss_boaga() {
    if !common::available_or_skip(have_ogr2ogr(), "ogr2ogr not on the PATH") {
        return;
    }
    let f = fixture();
    let dir = f.root.join("tab");
    std::fs::create_dir(&dir).expect("mkdir");
    for layer in ["AMBITI_TRASFORMAZIONE", "VINCOLI"] {
        let filter = format!("Layer = '{layer}'");
        let out = dir.join(format!("{layer}.tab"));
        ogr2ogr(&[
            "-f",
            "MapInfo File",
            "-t_srs",
            "EPSG:3003",
            "-where",
            &filter,
            s(&out),
            s(&f.geojson),
        ]);
    }
    // A folder of TAB files is one GDAL dataset; MapInfo CRSs carry no EPSG code, so the
    // declared CRS is the fallback when GDAL cannot identify it.
    let read = read_gdal_source(s(&dir), None, Some("EPSG:3003"), &regionale()).expect("tab");
    check(&read, "MapInfo TAB");
}

#[test]
fn kml() {
    if !common::available_or_skip(have_ogr2ogr(), "ogr2ogr not on the PATH") {
        return;
    }
    let f = fixture();
    let out = f.root.join("pgt.kml");
    ogr2ogr(&[
        "-f",
        "KML",
        "-nln",
        "AMBITI_TRASFORMAZIONE",
        s(&out),
        s(&f.geojson),
    ]);
    let read = read_gdal_source(s(&out), None, None, &regionale()).expect("kml");
    // Both features in one KML folder named after the zone layer.
    assert_eq!(read.zone.len(), 2, "{:?}", read.avvisi);
    assert!(read
        .zone
        .iter()
        .any(|z| z.legenda.as_deref() == Some("AT-E.2")));
}

#[test]
fn dxf_cad_layers_without_crs() {
    if !common::available_or_skip(have_ogr2ogr(), "ogr2ogr not on the PATH") {
        return;
    }
    let f = fixture();
    let out = f.root.join("pgt.dxf");
    ogr2ogr(&["-f", "DXF", "-t_srs", "EPSG:32632", s(&out), s(&f.geojson)]);
    // DXF keeps no CRS and no attributes but the CAD layer.
    let e = read_gdal_source(s(&out), None, None, &regionale()).expect_err("no crs");
    let msg = e.to_string();
    assert!(
        msg.contains("pgt.dxf") && msg.contains("entities") && msg.contains("crs"),
        "{msg}"
    );
    let read = read_gdal_source(s(&out), None, Some("EPSG:32632"), &regionale()).expect("dxf");
    assert_eq!(read.zone.len(), 1, "{:?}", read.avvisi);
    assert_eq!(read.vincoli.len(), 1, "{:?}", read.avvisi);
    let area = read.zone[0].geometry.geodesic_area_unsigned();
    assert!((area - 10_000.0).abs() < 150.0, "area {area}");
    assert_eq!(read.vincoli[0].nome, "VINCOLI");
}

#[test]
fn wrong_declared_crs_names_source_layer_feature_and_field() {
    if !common::available_or_skip(have_ogr2ogr(), "ogr2ogr not on the PATH") {
        return;
    }
    let f = fixture();
    let out = f.root.join("pgt.dxf");
    ogr2ogr(&["-f", "DXF", "-t_srs", "EPSG:32632", s(&out), s(&f.geojson)]);
    let e = read_gdal_source(s(&out), None, Some("EPSG:4326"), &regionale())
        .expect_err("metres as degrees");
    let msg = e.to_string();
    assert!(
        msg.contains("pgt.dxf")
            && msg.contains("layer entities")
            && msg.contains("elemento")
            && msg.contains("campo geometria")
            && msg.contains("metri"),
        "{msg}"
    );
    let e = read_gdal_source(s(&f.root.join("manca.gpkg")), None, None, &regionale())
        .expect_err("missing");
    assert!(e.to_string().contains("manca.gpkg"), "{e}");
}

#[test]
fn postgis_when_configured() {
    let Ok(conn) = std::env::var("ABITARE_TEST_PG") else {
        eprintln!("ABITARE_TEST_PG non impostata: test PostGIS saltato");
        return;
    };
    let f = fixture();
    for layer in ["AMBITI_TRASFORMAZIONE", "VINCOLI"] {
        let filter = format!("Layer = '{layer}'");
        let name = format!("abitare_test_{}", layer.to_ascii_lowercase());
        ogr2ogr(&[
            "-f",
            "PostgreSQL",
            "-overwrite",
            "-t_srs",
            "EPSG:32632",
            "-where",
            &filter,
            "-nln",
            &name,
            &conn,
            s(&f.geojson),
        ]);
    }
    // The table of constraints: its name contains VINCOL, so it maps to vincoli.
    let read =
        read_gdal_source(&conn, Some("abitare_test_vincoli"), None, &regionale()).expect("postgis");
    assert_eq!(read.vincoli.len(), 1, "{:?}", read.avvisi);
}

#[test]
fn pipeline_reads_input_gdal() {
    if !common::available_or_skip(have_ogr2ogr(), "ogr2ogr not on the PATH") {
        return;
    }
    let f = fixture();
    write_layers(
        &f,
        &f.root.join("pgt.gpkg"),
        "GPKG",
        &["-t_srs", "EPSG:6707"],
    );
    let path = f.root.join("abitare.toml");
    let text =
        "[ambito]\nnome = \"Prova\"\nanno = 2026\n\n[[input.gdal]]\nsorgente = \"pgt.gpkg\"\n";
    std::fs::write(&path, text).expect("write");
    let project = abitare::project::Project::load(&path).expect("project");
    let abitare::pipeline::Ingested {
        model,
        inputs,
        avvisi,
        ..
    } = abitare::pipeline::ingest(&project).expect("ingest");
    assert_eq!(model.pgt_zone.len(), 1, "{avvisi:?}");
    assert_eq!(model.vincoli.len(), 1, "{avvisi:?}");
    assert!(inputs.iter().any(|i| i.path.ends_with("pgt.gpkg")));
}

#[test]
fn shapefile_prj_with_shifted_false_easting_is_read_with_its_own_parameters() {
    if !common::available_or_skip(have_ogr2ogr(), "ogr2ogr not on the PATH") {
        return;
    }
    let f = fixture();
    let shp = f.root.join("AMBITI_TRASFORMAZIONE.shp");
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-t_srs",
        "EPSG:32632",
        "-where",
        "Layer = 'AMBITI_TRASFORMAZIONE'",
        s(&shp),
        s(&f.geojson),
    ]);
    let honest = read_gdal_source(s(&shp), None, None, &regionale()).expect("honest");
    assert!(
        !honest.avvisi.iter().any(|a| a.contains("parametri")),
        "{:?}",
        honest.avvisi
    );
    // The .prj ogr2ogr wrote, with its false easting moved by 300 m.
    let prj = shp.with_extension("prj");
    let text = std::fs::read_to_string(&prj).expect("prj");
    let lying = text.replace(
        r#"PARAMETER["False_Easting",500000.0]"#,
        r#"PARAMETER["False_Easting",500300.0]"#,
    );
    assert_ne!(lying, text, "{text}");
    std::fs::write(&prj, lying).expect("write prj");
    let read = read_gdal_source(s(&shp), None, None, &regionale()).expect("lying");
    let warning = read
        .avvisi
        .iter()
        .find(|a| a.contains("EPSG:32632") && a.to_lowercase().contains("false_easting"))
        .unwrap_or_else(|| panic!("no warning in {:?}", read.avvisi));
    assert!(warning.contains("500300"), "{warning}");
    let a = honest.zone[0].geometry.centroid().expect("centroid");
    let b = read.zone[0].geometry.centroid().expect("centroid");
    let dx = (a.x() - b.x()) * 111_320.0 * a.y().to_radians().cos();
    let dy = (a.y() - b.y()) * 110_540.0;
    assert!(
        dx > 0.0 && (dx.hypot(dy) - 300.0).abs() < 1.0,
        "({dx}, {dy}) m"
    );
}
