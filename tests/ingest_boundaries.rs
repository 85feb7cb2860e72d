//! Comune boundaries from the ISTAT/openpolis GeoJSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use abitare::ingest::boundaries::read_boundaries;
use abitare::ingest::{ReadErrorKind, Record};
use geo::GeodesicArea;

fn bergamo_file() -> Option<PathBuf> {
    common::shared_or_skip("data/boundaries/limits_P_16_municipalities.geojson")
}

/// (istat, belfiore, area_km2) of the comuni of the Ambito in `data/ambito9_comuni.csv`.
fn ambito_comuni() -> Vec<(String, String, f64)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/ambito9_comuni.csv");
    let mut reader = csv::Reader::from_path(&path).expect("ambito9_comuni.csv readable");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (istat, belfiore, area) = (col("istat"), col("belfiore"), col("area_km2"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            (
                r[istat].to_string(),
                r[belfiore].to_string(),
                r[area].parse::<f64>().expect("area"),
            )
        })
        .collect()
}

#[test]
fn reads_the_comuni_of_the_ambito_with_their_areas() {
    let Some(path) = bergamo_file() else { return };
    let comuni = ambito_comuni();
    assert_eq!(comuni.len(), 24);
    let wanted: Vec<String> = comuni.iter().map(|c| c.0.clone()).collect();
    let features = read_boundaries(&path, &wanted).expect("boundaries read");
    assert_eq!(features.len(), 24);
    for (istat, belfiore, area_km2) in &comuni {
        let f = features
            .iter()
            .find(|f| &f.istat == istat)
            .unwrap_or_else(|| panic!("{istat} returned"));
        assert_eq!(f.belfiore.as_deref(), Some(belfiore.as_str()), "{istat}");
        let area = f.geometry.geodesic_area_unsigned() / 1e6;
        assert!(
            (area - area_km2).abs() / area_km2 < 0.01,
            "{istat} {}: {area:.3} km² vs {area_km2}",
            f.nome
        );
    }
    let clusone = features
        .iter()
        .find(|f| f.istat == "016077")
        .expect("Clusone");
    assert_eq!(clusone.belfiore.as_deref(), Some("C800"));
    assert_eq!(clusone.nome, "Clusone");
}

#[test]
fn empty_wanted_list_reads_every_comune() {
    let Some(path) = bergamo_file() else { return };
    let features = read_boundaries(&path, &[]).expect("boundaries read");
    assert_eq!(features.len(), 243);
    assert!(features.iter().all(|f| f.istat.len() == 6));
}

#[test]
fn missing_code_is_named() {
    let Some(path) = bergamo_file() else { return };
    let wanted = vec!["016077".to_string(), "099999".to_string()];
    let err = read_boundaries(&path, &wanted).expect_err("099999 is not in Bergamo");
    assert!(
        matches!(&err.kind, ReadErrorKind::NotFound { missing } if missing == &["099999"]),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("099999"), "{msg}");
    assert!(!msg.contains("016077"), "{msg}");
}

#[test]
fn truncated_json_names_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("confini_troncati.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"com_istat_code":"016077""#,
    )
    .expect("write");
    let err = read_boundaries(&path, &[]).expect_err("truncated");
    assert!(matches!(err.kind, ReadErrorKind::Format(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("confini_troncati.geojson"), "{msg}");
}

fn write(dir: &tempfile::TempDir, name: &str, json: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, json).expect("write");
    path
}

const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[9.9,45.8],[9.9,45.9],[10.0,45.9],[10.0,45.8],[9.9,45.8]]]}"#;

fn collection(crs: &str, features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection",{crs}"features":[{}]}}"#,
        features.join(",")
    )
}

fn feature(properties: &str, geometry: &str) -> String {
    format!(r#"{{"type":"Feature","properties":{{{properties}}},"geometry":{geometry}}}"#)
}

const CLUSONE: &str = r#""com_istat_code":"016077","com_catasto_code":"C800","name":"Clusone""#;

#[test]
fn numeric_codes_are_padded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ok = write(
        &dir,
        "ok.geojson",
        &collection(
            "",
            &[feature(
                r#""com_istat_code":16077,"com_catasto_code":"C800","name":"Clusone""#,
                SQUARE,
            )],
        ),
    );
    let f = read_boundaries(&ok, &["16077".to_string()]).expect("read");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].istat, "016077");
    assert_eq!(f[0].geometry.0.len(), 1);
}

#[test]
fn missing_property_and_wrong_geometry_name_feature_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let no_name = write(
        &dir,
        "no_name.geojson",
        &collection(
            "",
            &[
                feature(CLUSONE, SQUARE),
                feature(r#""com_istat_code":"016012""#, SQUARE),
            ],
        ),
    );
    let e = read_boundaries(&no_name, &[]).expect_err("no name");
    assert_eq!(e.record, Some(Record::Feature(2)), "{e}");
    assert_eq!(e.field.as_deref(), Some("name"), "{e}");
    assert!(matches!(e.kind, ReadErrorKind::MissingValue(_)), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("no_name.geojson") && msg.contains("feature n. 2") && msg.contains("name"),
        "{msg}"
    );

    let no_code = write(
        &dir,
        "no_code.geojson",
        &collection("", &[feature(r#""name":"Clusone""#, SQUARE)]),
    );
    let e = read_boundaries(&no_code, &[]).expect_err("no code");
    assert_eq!(e.record, Some(Record::Feature(1)), "{e}");
    assert_eq!(e.field.as_deref(), Some("com_istat_code"), "{e}");
    assert!(matches!(e.kind, ReadErrorKind::MissingValue(_)), "{e}");

    let point = write(
        &dir,
        "point.geojson",
        &collection(
            "",
            &[feature(
                CLUSONE,
                r#"{"type":"Point","coordinates":[9.9,45.8]}"#,
            )],
        ),
    );
    let e = read_boundaries(&point, &[]).expect_err("point");
    assert_eq!(
        (e.record, e.field.as_deref()),
        (Some(Record::Feature(1)), Some("geometry"))
    );
    assert!(matches!(e.kind, ReadErrorKind::Geometry(_)), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("feature n. 1") && msg.contains("geometry") && msg.contains("Point"),
        "{msg}"
    );
}

#[test]
fn crs_member_must_name_wgs84() {
    let dir = tempfile::tempdir().expect("temp dir");
    let utm = write(
        &dir,
        "utm.geojson",
        &collection(
            r#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32632"}},"#,
            &[feature(CLUSONE, SQUARE)],
        ),
    );
    let e = read_boundaries(&utm, &[]).expect_err("crs");
    assert!(matches!(e.kind, ReadErrorKind::Format(_)), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("utm.geojson") && msg.contains("32632"),
        "{msg}"
    );

    for name in ["urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326"] {
        let ok = write(
            &dir,
            "wgs84.geojson",
            &collection(
                &format!(r#""crs":{{"type":"name","properties":{{"name":"{name}"}}}},"#),
                &[feature(CLUSONE, SQUARE)],
            ),
        );
        assert_eq!(read_boundaries(&ok, &[]).expect(name).len(), 1);
    }
}
