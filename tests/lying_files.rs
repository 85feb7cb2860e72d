//! Inputs that lie about themselves: a `.prj` whose name and parameters disagree, an
//! inventory saved as UTF-16, a cadastral GML with one enormous coordinate list.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use abitare::ingest::gml::{read_gml_file, GmlError, MAX_TEXT_NODE_BYTES};
use abitare::ingest::inventory::{read_inventory, InventoryOptions};
use abitare::ingest::pgt::{read_pgt_dir, PgtRead};
use abitare::ingest::ReadErrorKind;
use geo::MultiPolygon;
use shapefile::dbase::{self, FieldValue, TableWriterBuilder};
use shapefile::{Point, Polygon, PolygonRing, ShapeWriter, Writer};

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

// --- A `.prj` that lies -------------------------------------------------------------------

/// The `.prj` GDAL writes for EPSG:32632 (`gdalsrsinfo -o wkt_esri --single-line EPSG:32632`,
/// GDAL 3.6: the text `ogr2ogr` and QGIS put in a Shapefile's `.prj`).
fn gdal_prj() -> String {
    std::fs::read_to_string(fixture("prj/WGS_1984_UTM_Zone_32N.prj")).expect("prj fixture")
}

#[test]
fn prj_fixture_is_what_gdal_writes() {
    let out = Command::new("gdalsrsinfo")
        .args(["-o", "wkt_esri", "--single-line", "EPSG:32632"])
        .output();
    let ok = matches!(&out, Ok(o) if o.status.success());
    if !common::available_or_skip(ok, "gdalsrsinfo not on the PATH") {
        return;
    }
    let live = String::from_utf8(out.expect("ran").stdout).expect("utf-8");
    assert_eq!(live.trim(), gdal_prj().trim());
}

const X0: f64 = 570_000.0;
const Y0: f64 = 5_080_000.0;

/// A one-square `TESSUTO_URBANO_CONSOLIDATO` layer with `prj` as its `.prj`.
fn layer_with_prj(dir: &Path, prj: &str) {
    let shp = dir.join("TESSUTO_URBANO_CONSOLIDATO.shp");
    let table = TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(
        encoding_rs::WINDOWS_1252,
    ))
    .add_character_field(dbase::FieldName::try_from("NOME_COM").expect("name"), 40)
    .add_character_field(dbase::FieldName::try_from("LEGENDA").expect("name"), 40);
    {
        let shapes = ShapeWriter::from_path(&shp).expect("shp writer");
        let dbf = table
            .build_with_file_dest(shp.with_extension("dbf"))
            .expect("dbf writer");
        let mut writer = Writer::new(shapes, dbf);
        // Clockwise: an ESRI outer ring.
        let ring = [
            (X0, Y0),
            (X0, Y0 + 100.0),
            (X0 + 100.0, Y0 + 100.0),
            (X0 + 100.0, Y0),
            (X0, Y0),
        ]
        .iter()
        .map(|(x, y)| Point::new(*x, *y))
        .collect();
        let mut record = dbase::Record::default();
        record.insert(
            "NOME_COM".to_string(),
            FieldValue::Character(Some("Clusone".to_string())),
        );
        record.insert(
            "LEGENDA".to_string(),
            FieldValue::Character(Some("Residenziale".to_string())),
        );
        writer
            .write_shape_and_record(
                &Polygon::with_rings(vec![PolygonRing::Outer(ring)]),
                &record,
            )
            .expect("write feature");
    }
    std::fs::write(shp.with_extension("prj"), prj).expect("write prj");
}

fn read_with_prj(prj: &str) -> PgtRead {
    let tmp = tempfile::tempdir().expect("temp dir");
    layer_with_prj(tmp.path(), prj);
    read_pgt_dir(tmp.path()).expect("layer read")
}

fn south_west(g: &MultiPolygon<f64>) -> (f64, f64) {
    g.0[0]
        .exterior()
        .0
        .iter()
        .fold((f64::MAX, f64::MAX), |(x, y), c| (x.min(c.x), y.min(c.y)))
}

fn prj_warnings(read: &PgtRead) -> Vec<&String> {
    read.avvisi.iter().filter(|a| a.contains(".prj")).collect()
}

#[test]
fn prj_with_shifted_false_easting_is_read_with_its_own_parameters_and_a_warning() {
    let honest_prj = gdal_prj();
    let lying_prj = honest_prj.replace(
        r#"PARAMETER["False_Easting",500000.0]"#,
        r#"PARAMETER["False_Easting",500300.0]"#,
    );
    assert_ne!(lying_prj, honest_prj);

    let honest = read_with_prj(&honest_prj);
    assert!(prj_warnings(&honest).is_empty(), "{:?}", honest.avvisi);
    let lying = read_with_prj(&lying_prj);
    let warnings = prj_warnings(&lying);
    assert_eq!(warnings.len(), 1, "{:?}", lying.avvisi);
    let w = warnings[0];
    eprintln!("{w}");
    assert!(
        w.contains("TESSUTO_URBANO_CONSOLIDATO.prj")
            && w.contains("EPSG:32632")
            && w.contains("False_Easting")
            && w.contains("500300")
            && w.contains("500000"),
        "{w}"
    );

    // The same numbers, 300 m further from the false origin: the lying layer lands 300 m west
    // (along the grid, which near Clusone is turned 0.6° from the parallels).
    let (lon_h, lat_h) = south_west(&honest.zone[0].geometry);
    let (lon_l, lat_l) = south_west(&lying.zone[0].geometry);
    let dx = (lon_h - lon_l) * 111_320.0 * lat_h.to_radians().cos();
    let dy = (lat_h - lat_l) * 110_540.0;
    assert!(dx > 0.0, "lands west");
    assert!((dx.hypot(dy) - 300.0).abs() < 1.0, "shift ({dx}, {dy}) m");
    // Every vertex exactly where the honest reading puts the same corner 300 m west.
    let to = abitare::crs::ToLonLat::new(32632).expect("supported");
    for c in &lying.zone[0].geometry.0[0].exterior().0 {
        let found = [
            (X0, Y0),
            (X0, Y0 + 100.0),
            (X0 + 100.0, Y0 + 100.0),
            (X0 + 100.0, Y0),
        ]
        .iter()
        .map(|(x, y)| to.convert(x - 300.0, *y).expect("transform"))
        .any(|(lon, lat)| (c.x - lon).abs() < 1e-8 && (c.y - lat).abs() < 1e-8);
        assert!(found, "vertex {c:?} is not a corner shifted by 300 m");
    }
}

#[test]
fn prj_naming_utm_with_another_projection_is_refused() {
    let lying = gdal_prj().replace("Transverse_Mercator", "Lambert_Conformal_Conic");
    let tmp = tempfile::tempdir().expect("temp dir");
    layer_with_prj(tmp.path(), &lying);
    let msg = read_pgt_dir(tmp.path()).expect_err("refused").to_string();
    eprintln!("{msg}");
    assert!(
        msg.contains("TESSUTO_URBANO_CONSOLIDATO.prj")
            && msg.contains("PROJECTION")
            && msg.contains("Lambert_Conformal_Conic")
            && msg.contains("Transverse_Mercator"),
        "{msg}"
    );
}

// --- UTF-16 inventories -------------------------------------------------------------------

const INVENTORY: &str = "inventory/inventario_piano_annuale.csv";

/// The text of the real-format inventory (a Windows-1252 file).
fn inventory_text() -> String {
    let bytes = std::fs::read(fixture(INVENTORY)).expect("fixture");
    let (text, _, bad) = encoding_rs::WINDOWS_1252.decode(&bytes);
    assert!(!bad);
    assert!(text.contains('à'), "the fixture has accented letters");
    text.into_owned()
}

fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom
        .then_some(0xFEFF_u16)
        .into_iter()
        .chain(text.encode_utf16());
    for u in units {
        out.extend(if little_endian {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

#[test]
fn utf16_inventories_read_like_the_original() {
    let opts = InventoryOptions::default();
    let original = read_inventory(&fixture(INVENTORY), &opts).expect("original");
    assert!(!original.units.is_empty());
    let text = inventory_text();
    let tmp = tempfile::tempdir().expect("temp dir");
    for (name, bytes, encoding, delimiter) in [
        ("le_bom.csv", utf16(&text, true, true), "UTF-16LE", b';'),
        ("be.csv", utf16(&text, false, false), "UTF-16BE", b';'),
        ("le.csv", utf16(&text, true, false), "UTF-16LE", b';'),
        // Excel's "Testo Unicode": UTF-16LE with BOM, tab-separated.
        (
            "testo_unicode.txt",
            utf16(&text.replace(';', "\t"), true, true),
            "UTF-16LE",
            b'\t',
        ),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write copy");
        let read = read_inventory(&path, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(read.encoding, encoding, "{name}");
        assert_eq!(read.delimiter, delimiter, "{name}");
        assert_eq!(read.units, original.units, "{name}");
        assert_eq!(read.skipped.len(), original.skipped.len(), "{name}");
    }
}

#[test]
fn broken_utf16_and_nul_bytes_get_a_clean_message() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // A lone high surrogate in a UTF-16LE file.
    let mut broken = utf16("Ente proprietario;Codice unità\r\n", true, true);
    broken.extend([0x00, 0xD8, b'x', 0x00]);
    // UTF-32LE: NUL bytes that are not UTF-16.
    let utf32: Vec<u8> = "Ente;Codice\r\nA;B\r\n"
        .chars()
        .flat_map(|c| u32::from(c).to_le_bytes())
        .collect();
    for (name, bytes, expected) in [
        ("rotto.csv", broken, "UTF-16LE"),
        ("utf32.csv", utf32, "byte nulli"),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let err = read_inventory(&path, &InventoryOptions::default()).expect_err(name);
        assert!(
            matches!(err.kind, ReadErrorKind::Format(_)),
            "{name}: {err:?}"
        );
        let msg = err.to_string();
        eprintln!("{msg}");
        assert!(msg.contains(name) && msg.contains(expected), "{msg}");
        assert!(msg.contains("UTF-8"), "says how to save it: {msg}");
        assert!(
            !msg.contains('\0') && !msg.contains('\u{FFFD}'),
            "no raw bytes in {msg:?}"
        );
    }
}

// --- A huge GML text node -----------------------------------------------------------------

#[test]
fn gml_text_node_over_the_limit_is_refused_while_reading() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("C800_enorme_ple.gml");
    {
        // Streamed to disk: the test never holds the coordinate list either.
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        write!(
            w,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:CP="http://mapserver.gis.umn.edu/mapserver" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:wfs="http://www.opengis.net/wfs/2.0">
  <wfs:member>
    <CP:CadastralParcel gml:id="CadastralParcel.IT.AGE.PLA.C800_001300.9">
      <CP:msGeometry>
        <gml:Polygon srsName="urn:ogc:def:crs:EPSG::6706">
          <gml:exterior>
            <gml:LinearRing>
              <gml:posList>"#
        )
        .expect("write");
        let pair = b"45.873450000 9.938060000 ";
        let mut written = 0;
        while written <= MAX_TEXT_NODE_BYTES + 1024 * 1024 {
            w.write_all(pair).expect("write");
            written += pair.len();
        }
        write!(
            w,
            "</gml:posList>\n            </gml:LinearRing>\n          </gml:exterior>\n        \
             </gml:Polygon>\n      </CP:msGeometry>\n    </CP:CadastralParcel>\n  </wfs:member>\n\
             </wfs:FeatureCollection>\n"
        )
        .expect("write");
    }
    let mut features = 0;
    let err = read_gml_file(&path, &mut |_| features += 1).expect_err("too large");
    assert_eq!(features, 0);
    match &err {
        GmlError::TextTooLarge {
            source_name,
            feature,
            limit,
            ..
        } => {
            assert!(source_name.contains("C800_enorme_ple.gml"), "{source_name}");
            assert_eq!(
                feature.as_deref(),
                Some(r#"CP:CadastralParcel gml:id "CadastralParcel.IT.AGE.PLA.C800_001300.9""#)
            );
            assert_eq!(*limit, MAX_TEXT_NODE_BYTES);
        }
        other => panic!("expected TextTooLarge, got {other:?}"),
    }
    let msg = err.to_string();
    eprintln!("{msg}");
    assert!(
        msg.contains("C800_enorme_ple.gml")
            && msg.contains("C800_001300.9")
            && msg.contains("32 MiB"),
        "{msg}"
    );
}

#[test]
fn gml_text_split_into_cdata_sections_is_bounded_too() {
    // CDATA sections split one text node into many short events, each starting with `<`: the
    // text they make is bounded in the reader's own buffer.
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("cdata_ple.gml");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        write!(
            w,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:CP="http://mapserver.gis.umn.edu/mapserver" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:wfs="http://www.opengis.net/wfs/2.0">
  <wfs:member>
    <CP:CadastralParcel gml:id="P.1">
      <CP:msGeometry>
        <gml:Polygon srsName="urn:ogc:def:crs:EPSG::6706">
          <gml:exterior>
            <gml:LinearRing>
              <gml:posList>"#
        )
        .expect("write");
        // Each chunk is short, but the text they make is over the limit.
        let chunk = format!("{}<![CDATA[ ]]>", "45.873450000 9.938060000 ".repeat(400));
        let mut written = 0;
        while written <= MAX_TEXT_NODE_BYTES + 1024 * 1024 {
            w.write_all(chunk.as_bytes()).expect("write");
            written += chunk.len();
        }
        w.write_all(
            b"</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></CP:msGeometry>\
              </CP:CadastralParcel></wfs:member></wfs:FeatureCollection>\n",
        )
        .expect("write");
    }
    let err = read_gml_file(&path, &mut |_| {}).expect_err("too large");
    assert!(
        matches!(&err, GmlError::TextTooLarge { feature: Some(f), .. } if f.contains("P.1")),
        "{err:?}"
    );
}
