//! Reading the Agenzia delle Entrate cadastral GML: the real WFS sample, hand-written fixtures
//! with known geometry, and the files that must be rejected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use abitare::ingest::gml::{read_gml, read_gml_file, CadastralFeature, GmlError, GmlSummary};
use abitare::model::{Foglio, Particella};
use geo::{Area, Centroid, GeodesicArea};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gml")
        .join(name)
}

fn read_all(path: &Path) -> Result<(GmlSummary, Vec<Particella>, Vec<Foglio>), GmlError> {
    let mut parcels = Vec::new();
    let mut sheets = Vec::new();
    let summary = read_gml_file(path, &mut |f| match f {
        CadastralFeature::Particella(p) => parcels.push(p),
        CadastralFeature::Foglio(s) => sheets.push(s),
    })?;
    Ok((summary, parcels, sheets))
}

fn error_of(name: &str) -> String {
    match read_all(&fixture(name)) {
        Ok((summary, _, _)) => panic!("{name} should be rejected, read {summary:?}"),
        Err(e) => {
            let msg = e.to_string();
            eprintln!("{name}: {msg}");
            msg
        }
    }
}

fn parcel<'a>(parcels: &'a [Particella], riferimento: &str) -> &'a Particella {
    parcels
        .iter()
        .find(|p| p.riferimento == riferimento)
        .unwrap_or_else(|| panic!("parcel {riferimento} missing"))
}

#[test]
fn real_wfs_sample_is_read_in_lon_lat() {
    let Some(path) = common::shared_or_skip("data/cadastre/ade_wfs_cadastralparcel_sample.gml")
    else {
        return;
    };
    let (summary, parcels, sheets) = read_all(&path).expect("the real sample is valid");
    assert_eq!(summary.particelle, 1);
    assert_eq!(summary.fogli, 0);
    assert_eq!(summary.crs, Some(6706));
    assert!(summary.avvisi.is_empty(), "{:?}", summary.avvisi);
    assert!(sheets.is_empty());
    let p = &parcels[0];
    assert_eq!(p.particella, "STRADA001");
    assert_eq!(p.sezione.as_deref(), Some("W"));
    assert_eq!(p.foglio, "2");
    assert_eq!(p.belfiore, "A000");
    assert_eq!(p.riferimento, "A000W000200.STRADA001");
    let c = p.geometry.centroid().expect("non-empty geometry");
    assert!((9.12..9.14).contains(&c.x()), "longitude {}", c.x());
    assert!((39.54..39.56).contains(&c.y()), "latitude {}", c.y());
    let first = p.geometry.0[0].exterior().0[0];
    assert_eq!((first.x, first.y), (9.13011880, 39.54843572));
}

#[test]
fn square_parcel_has_known_centroid_and_geodesic_area() {
    let (summary, parcels, _) = read_all(&fixture("C800_CLUSONE_ple.gml")).expect("valid");
    assert_eq!(summary.crs, Some(6706));
    let p = parcel(&parcels, "C800_001300.125");
    assert_eq!(p.belfiore, "C800");
    assert_eq!(p.sezione, None);
    assert_eq!(p.foglio, "13");
    assert_eq!(p.particella, "125");
    let c = p.geometry.centroid().expect("non-empty");
    assert!((c.x() - 9.9005).abs() < 1e-9, "lon {}", c.x());
    assert!((c.y() - 45.9005).abs() < 1e-9, "lat {}", c.y());
    // Area of the ellipsoidal quadrangle 45.900–45.901 N × 0.001° on WGS84, by the authalic
    // formula A = Δλ·b²/2·[q(φ2) − q(φ1)], q(φ) = sinφ/(1−e²sin²φ) + 1/(2e)·ln((1+e sinφ)/(1−e sinφ)):
    // 8625.42 m² (the geodesic edges differ from the parallels by far less than 1 m²).
    let area = p.geometry.geodesic_area_unsigned();
    assert!((area - 8625.42).abs() < 0.5, "area {area}");
}

#[test]
fn parcel_with_hole_and_multisurface() {
    let (summary, parcels, _) = read_all(&fixture("C800_CLUSONE_ple.gml")).expect("valid");
    assert_eq!(summary.particelle, 3, "{:?}", summary.avvisi);

    let holed = parcel(&parcels, "C800_0013A0.200");
    assert_eq!(holed.foglio, "13A");
    assert_eq!(holed.geometry.0.len(), 1);
    let poly = &holed.geometry.0[0];
    assert_eq!(poly.interiors().len(), 1);
    assert_eq!(poly.exterior().0.len(), 5);
    // 3D positions: the height is dropped, lat/lon swapped.
    assert_eq!(
        (poly.exterior().0[1].x, poly.exterior().0[1].y),
        (9.912, 45.910)
    );
    // Planar area in square degrees: 0.002² − 0.001² = 3e-6.
    assert!((holed.geometry.unsigned_area() - 3e-6).abs() < 1e-12);

    let multi = parcel(&parcels, "C800B000700.ACQUA002");
    assert_eq!(multi.sezione.as_deref(), Some("B"));
    assert_eq!(multi.foglio, "7");
    assert_eq!(multi.particella, "ACQUA002");
    assert_eq!(multi.geometry.0.len(), 2);
    let second = multi.geometry.0[1].exterior().0[2];
    assert_eq!((second.x, second.y), (9.918, 45.918));
    assert!((multi.geometry.unsigned_area() - 2e-6).abs() < 1e-12);
}

#[test]
fn bad_features_are_skipped_with_an_avviso() {
    let (summary, parcels, _) = read_all(&fixture("C800_CLUSONE_ple.gml")).expect("valid");
    assert_eq!(parcels.len(), 3);
    assert_eq!(summary.avvisi.len(), 3, "{:?}", summary.avvisi);
    let bad_ref = summary
        .avvisi
        .iter()
        .find(|a| a.contains("CadastralParcel.BAD.REF"))
        .expect("avviso for the bad reference");
    assert!(bad_ref.contains("C800_13.5"), "{bad_ref}");
    assert!(
        bad_ref.contains("CP:NATIONALCADASTRALREFERENCE"),
        "{bad_ref}"
    );
    assert!(bad_ref.contains("C800_CLUSONE_ple.gml"), "{bad_ref}");
    assert!(summary
        .avvisi
        .iter()
        .any(|a| a.contains("C800_001300.126") && a.contains("anello con 3 posizioni")));
    assert!(summary
        .avvisi
        .iter()
        .any(|a| a.contains("C800_001300.127") && a.contains("numero di valori")));
}

#[test]
fn sheet_of_the_map_file() {
    let (summary, parcels, sheets) = read_all(&fixture("C800_CLUSONE_map.gml")).expect("valid");
    assert!(parcels.is_empty());
    assert_eq!(summary.fogli, 1);
    assert_eq!(summary.crs, Some(6706));
    let s = &sheets[0];
    assert_eq!(s.riferimento, "C800_0013A0");
    assert_eq!(s.belfiore, "C800");
    assert_eq!(s.sezione, None);
    assert_eq!(s.foglio, "13A");
    assert_eq!(s.scala, Some(2000));
    // The srsName comes from the feature's envelope: lat/lon, swapped.
    let c = s.geometry.centroid().expect("non-empty");
    assert!((c.x() - 9.905).abs() < 1e-9 && (c.y() - 45.905).abs() < 1e-9);
}

#[test]
fn missing_srs_name_assumes_agenzia_lat_lon_with_avviso() {
    let (summary, parcels, _) = read_all(&fixture("no_srs.gml")).expect("valid");
    assert_eq!(summary.crs, Some(6706));
    assert_eq!(summary.avvisi.len(), 1);
    assert!(
        summary.avvisi[0].contains("srsName"),
        "{:?}",
        summary.avvisi
    );
    let c = parcels[0].geometry.centroid().expect("non-empty");
    assert!((c.x() - 9.9005).abs() < 1e-9 && (c.y() - 45.9005).abs() < 1e-9);
}

#[test]
fn projected_srs_is_converted_to_lon_lat() {
    let (summary, parcels, _) = read_all(&fixture("utm32.gml")).expect("valid");
    assert_eq!(summary.crs, Some(32632));
    let first = parcels[0].geometry.0[0].exterior().0[0];
    assert!((first.x - 9.67).abs() < 1e-7 && (first.y - 45.69).abs() < 1e-7);
}

#[test]
fn truncated_file_is_rejected() {
    let msg = error_of("truncated_ple.gml");
    assert!(msg.contains("truncated_ple.gml"), "{msg}");
    assert!(msg.contains("troncato"), "{msg}");
    assert!(
        msg.contains("CadastralParcel.IT.AGE.PLA.C800_0013A0.200"),
        "{msg}"
    );
}

#[test]
fn csv_renamed_gml_is_rejected() {
    let msg = error_of("not_xml.gml");
    assert!(msg.contains("not_xml.gml"), "{msg}");
    assert!(msg.contains("non è un documento XML"), "{msg}");
}

#[test]
fn xml_with_another_root_is_rejected() {
    let msg = error_of("wrong_root.gml");
    assert!(msg.contains("wrong_root.gml"), "{msg}");
    assert!(msg.contains("<kml>"), "{msg}");
    assert!(msg.contains("wfs:FeatureCollection"), "{msg}");
}

#[test]
fn unknown_srs_name_is_rejected() {
    let msg = error_of("unknown_srs.gml");
    assert!(msg.contains("unknown_srs.gml"), "{msg}");
    assert!(msg.contains("urn:ogc:def:crs:EPSG::27700"), "{msg}");
    assert!(
        msg.contains("CadastralParcel.IT.AGE.PLA.C800_001300.9"),
        "{msg}"
    );
}

#[test]
fn huge_coordinate_is_rejected() {
    let msg = error_of("huge_coord.gml");
    assert!(msg.contains("huge_coord.gml"), "{msg}");
    assert!(msg.contains("fuori intervallo"), "{msg}");
    assert!(msg.contains("5080000"), "{msg}");
    assert!(
        msg.contains("CadastralParcel.IT.AGE.PLA.C800_001300.9"),
        "{msg}"
    );
}

#[test]
fn non_numeric_coordinate_is_rejected() {
    let msg = error_of("non_numeric.gml");
    assert!(msg.contains("non_numeric.gml"), "{msg}");
    assert!(msg.contains("\"9,901\""), "{msg}");
    assert!(msg.contains("gml:posList"), "{msg}");
    assert!(
        msg.contains("CadastralParcel.IT.AGE.PLA.C800_001300.9"),
        "{msg}"
    );
}

#[test]
fn empty_stream_and_missing_file_are_errors() {
    let err = read_gml(&b""[..], "vuoto.gml", &mut |_| {}).expect_err("empty");
    assert!(err.to_string().contains("vuoto.gml"), "{err}");
    let err = read_all(&fixture("non_esiste.gml")).expect_err("missing");
    assert!(matches!(err, GmlError::Io { .. }));
    assert!(err.to_string().contains("non_esiste.gml"), "{err}");
}

#[test]
fn bare_feature_root_is_accepted() {
    let xml = r#"<?xml version="1.0"?>
<CP:CadastralParcel xmlns:CP="http://mapserver.gis.umn.edu/mapserver" xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="solo">
  <CP:msGeometry><gml:Polygon srsName="urn:ogc:def:crs:EPSG::6706"><gml:exterior><gml:LinearRing>
  <gml:posList>45.9 9.9 45.9 9.901 45.901 9.901 45.9 9.9</gml:posList>
  </gml:LinearRing></gml:exterior></gml:Polygon></CP:msGeometry>
  <CP:LABEL>1</CP:LABEL><CP:NATIONALCADASTRALREFERENCE>C800_001300.1</CP:NATIONALCADASTRALREFERENCE>
</CP:CadastralParcel>"#;
    let mut n = 0;
    let summary = read_gml(xml.as_bytes(), "solo.gml", &mut |_| n += 1).expect("valid");
    assert_eq!((summary.particelle, n), (1, 1));
}

#[test]
fn lat_lon_data_declared_lon_lat_gets_an_avviso() {
    // Legacy `EPSG:4326` means x = longitude, but the numbers are latitude first.
    let xml = r#"<wfs:FeatureCollection xmlns:CP="http://mapserver.gis.umn.edu/mapserver" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:wfs="http://www.opengis.net/wfs/2.0">
<wfs:member><CP:CadastralParcel gml:id="p1"><CP:msGeometry><gml:Polygon srsName="EPSG:4326"><gml:exterior><gml:LinearRing>
<gml:posList>45.9 9.9 45.9 9.901 45.901 9.901 45.9 9.9</gml:posList>
</gml:LinearRing></gml:exterior></gml:Polygon></CP:msGeometry>
<CP:NATIONALCADASTRALREFERENCE>C800_001300.1</CP:NATIONALCADASTRALREFERENCE>
</CP:CadastralParcel></wfs:member></wfs:FeatureCollection>"#;
    let summary = read_gml(xml.as_bytes(), "invertito.gml", &mut |_| {}).expect("readable");
    assert_eq!(summary.crs, Some(4326));
    assert_eq!(summary.avvisi.len(), 1, "{:?}", summary.avvisi);
    assert!(summary.avvisi[0].contains("invertito.gml"));
    assert!(summary.avvisi[0].contains("scambiando gli assi"));
}

#[test]
fn empty_feature_collection_is_an_error() {
    let xml = r#"<?xml version='1.0' encoding="UTF-8" ?>
<wfs:FeatureCollection xmlns:CP="http://mapserver.gis.umn.edu/mapserver" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:wfs="http://www.opengis.net/wfs/2.0" numberMatched="0" numberReturned="0">
</wfs:FeatureCollection>"#;
    let err = abitare::ingest::gml::read_gml(xml.as_bytes(), "C800_CLUSONE_ple.gml", &mut |_| {})
        .expect_err("empty layer");
    let msg = err.to_string();
    assert!(
        msg.contains("C800_CLUSONE_ple.gml") && msg.contains("vuoto"),
        "{msg}"
    );
}
