//! Exports of the demo Ambito in every format, read back: GeoJSON, GeoPackage and CSV through
//! GDAL's `ogrinfo` (skipped with a notice where it is not installed), GeoParquet with the
//! `parquet` crate, XLSX by unzipping its sheets; and the HTTP download routes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use abitare::analysis::Analisi;
use abitare::output::export::{self, CsvGeometry, ExportError, Format, Options, Request};
use abitare::output::geojson::{layer_features, layer_len};
use abitare::output::layers::{self, Audience, Layer};
use abitare::pipeline;
use abitare::project::Project;
use axum::body::Body;
use axum::http::{Request as HttpRequest, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    loaded: Arc<Analisi>,
    out: PathBuf,
    workspace: PathBuf,
}

/// The demo, generated, built, loaded and exported in every format once for this binary.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("demo");
        let generated = abitare::demo::generate(&root).expect("demo generation");
        let project = Project::load(&generated.project).expect("demo project");
        let outcome = pipeline::build(&project).expect("demo build");
        let loaded = pipeline::load_workspace(&outcome.workspace).expect("workspace");
        let out = dir.path().join("export");
        let run = |format: Format, layers: &[&str], path: &str, csv: CsvGeometry| {
            export::export(
                &loaded,
                &Request {
                    format,
                    layers: layers.iter().map(|s| s.to_string()).collect(),
                    out: out.join(path),
                    options: Options {
                        csv_geometry: csv,
                        ..Options::default()
                    },
                    // The Tavolo's files: they hold the individual public units.
                    caller: Audience::Tavolo,
                    comune: None,
                },
            )
            .unwrap_or_else(|e| panic!("export {path}: {e}"))
        };
        run(Format::GeoJson, &[], "geojson", CsvGeometry::Wkt);
        run(Format::Gpkg, &[], "tutto.gpkg", CsvGeometry::Wkt);
        run(Format::GeoParquet, &[], "parquet", CsvGeometry::Wkt);
        run(Format::Csv, &[], "csv_wkt", CsvGeometry::Wkt);
        run(
            Format::Csv,
            &["alloggi_pubblici", "comuni"],
            "csv_lonlat",
            CsvGeometry::LonLat,
        );
        run(Format::Xlsx, &["tutto"], "tutto.xlsx", CsvGeometry::Wkt);
        Fixture {
            _dir: dir,
            loaded: Arc::new(loaded),
            out,
            workspace: outcome.workspace.clone(),
        }
    })
}

fn count(layer: &str) -> usize {
    layer_len(&fixture().loaded, public(layer))
}

/// The layer as the fixture's exports see it (the Tavolo's audience).
fn public(name: &str) -> Layer {
    layers::layer(name, Audience::Tavolo).expect("layer of the Tavolo")
}

/// The layers of the fixture's exports (the Tavolo's audience).
fn public_layers() -> Vec<&'static str> {
    layers::visible(Audience::Tavolo).map(Layer::name).collect()
}

// --- GDAL ------------------------------------------------------------------------------------

/// `ogrinfo -ro -so -al …` as layer → (geometry, feature count), or `None` (with a notice)
/// when GDAL is not installed.
fn ogrinfo(file: &Path, open_options: &[&str]) -> Option<BTreeMap<String, (String, usize)>> {
    let mut cmd = Command::new("ogrinfo");
    cmd.args(["-ro", "-so", "-al"]);
    for o in open_options {
        cmd.args(["-oo", o]);
    }
    cmd.arg(file);
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => {
            common::skip(&format!(
                "ogrinfo (GDAL) not available ({e}) for the GDAL round-trip of {}",
                file.display()
            ));
            return None;
        }
    };
    assert!(
        out.status.success(),
        "ogrinfo {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut layers = BTreeMap::new();
    let mut name = String::new();
    let mut geometry = String::new();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("Layer name: ") {
            name = n.trim().to_string();
            geometry.clear();
        } else if let Some(g) = line.strip_prefix("Geometry: ") {
            geometry = g.trim().to_string();
        } else if let Some(c) = line.strip_prefix("Feature Count: ") {
            let n: usize = c.trim().parse().expect("feature count");
            layers.insert(name.clone(), (geometry.clone(), n));
        }
    }
    Some(layers)
}

/// The geometry type GDAL reports for a layer, from the registry.
fn expected_geometry(layer: &str) -> &'static str {
    match abitare::output::layers::info(layer).map(|l| l.geometry) {
        Some(abitare::output::layers::GeometryKind::Point) => "Point",
        _ => "Multi Polygon",
    }
}

#[test]
fn geojson_round_trips_through_gdal() {
    let f = fixture();
    for layer in &public_layers() {
        let path = f.out.join("geojson").join(format!("{layer}.geojson"));
        assert!(path.is_file(), "{}", path.display());
        let Some(info) = ogrinfo(&path, &[]) else {
            return;
        };
        let (geometry, n) = &info[*layer];
        assert_eq!(*n, count(layer), "{layer}");
        if *n > 0 {
            assert_eq!(geometry, expected_geometry(layer), "{layer}");
        }
    }
    assert_eq!(count("alloggi_pubblici"), 253);
    assert_eq!(count("comuni"), 24);
}

#[test]
fn geojson_carries_the_served_properties() {
    let f = fixture();
    let text =
        std::fs::read_to_string(f.out.join("geojson/alloggi_pubblici.geojson")).expect("geojson");
    let fc: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(fc["name"], "alloggi_pubblici");
    assert!(fc.get("crs").is_none(), "RFC 7946 has no crs member");
    let exported = &fc["features"][0];
    let served = layer_features(&f.loaded, public("alloggi_pubblici"), Some(&[0usize][..]));
    let served = serde_json::to_value(&served[0]).expect("feature");
    assert_eq!(exported["properties"], served["properties"]);
    assert_eq!(exported["geometry"], served["geometry"]);
}

#[test]
fn gpkg_lists_every_public_layer_through_gdal() {
    let f = fixture();
    let Some(info) = ogrinfo(&f.out.join("tutto.gpkg"), &[]) else {
        return;
    };
    for layer in &public_layers() {
        let (geometry, n) = info
            .get(*layer)
            .unwrap_or_else(|| panic!("{layer} missing from {info:?}"));
        assert_eq!(*n, count(layer), "{layer}");
        if *n > 0 {
            assert_eq!(geometry, expected_geometry(layer), "{layer}");
        }
    }
    assert_eq!(info["alloggi_pubblici"].1, 253);
    assert_eq!(info["comuni"].1, 24);
    assert_eq!(info["layer_styles"].1, public_layers().len());
}

#[test]
fn gpkg_tables_srs_index_and_styles() {
    let f = fixture();
    let db = rusqlite::Connection::open_with_flags(
        f.out.join("tutto.gpkg"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open gpkg");
    let app_id: i64 = db
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .expect("application_id");
    assert_eq!(app_id, 0x4750_4B47);
    let srs: i64 = db
        .query_row(
            "SELECT count(*) FROM gpkg_spatial_ref_sys WHERE srs_id = 4326 AND organization = 'EPSG'",
            [],
            |r| r.get(0),
        )
        .expect("srs");
    assert_eq!(srs, 1);
    for layer in &public_layers() {
        let (kind, srs_id): (String, i64) = db
            .query_row(
                "SELECT data_type, srs_id FROM gpkg_contents WHERE table_name = ?1",
                [layer],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("gpkg_contents row");
        assert_eq!((kind.as_str(), srs_id), ("features", 4326));
        let indexed: i64 = db
            .query_row(
                &format!("SELECT count(*) FROM rtree_{layer}_geom"),
                [],
                |r| r.get(0),
            )
            .expect("rtree");
        assert_eq!(indexed as usize, count(layer), "{layer} R-tree");
        let (qml, sld, default): (String, String, bool) = db
            .query_row(
                "SELECT styleQML, styleSLD, useAsDefault FROM layer_styles
                 WHERE f_table_name = ?1 AND f_geometry_column = 'geom'",
                [layer],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap_or_else(|e| panic!("style of {layer}: {e}"));
        assert!(default, "{layer}");
        assert!(qml.starts_with("<!DOCTYPE qgis"), "{layer}");
        assert!(sld.contains("StyledLayerDescriptor"), "{layer}");
    }
    let qml_sld = |layer: &str| -> (String, String) {
        db.query_row(
            "SELECT styleQML, styleSLD FROM layer_styles WHERE f_table_name = ?1",
            [layer],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("style")
    };
    let (qml, sld) = qml_sld("alloggi_pubblici");
    assert!(qml.contains("type=\"categorizedSymbol\" attr=\"stato\""));
    for (state, rgb, hex) in [
        ("occupato", "0,114,178,255", "#0072B2"),
        ("libero", "0,158,115,255", "#009E73"),
        ("sfitto_carenze_manutentive", "230,159,0,255", "#E69F00"),
        ("sfitto_ristrutturazione", "213,94,0,255", "#D55E00"),
    ] {
        assert!(qml.contains(&format!("value=\"{state}\"")), "{state}");
        assert!(qml.contains(rgb), "{state} colour in QML");
        assert!(sld.contains(hex), "{state} colour in SLD");
    }
    assert!(qml.contains("name=\"Ente proprietario\""), "Italian alias");
    let (qml, _) = qml_sld("comuni");
    assert!(qml.contains("type=\"graduatedSymbol\" attr=\"inutilizzati\""));
    assert!(qml.contains("189,0,38"), "darkest YlOrRd class");
    let (qml, _) = qml_sld("pgt_zone");
    assert!(qml.contains("attr=\"classe\""));
    let (qml, _) = qml_sld("vincoli");
    assert!(qml.contains("b_diagonal"), "hatched constraints");
    // Labelled as on the web map: comune names at every scale, parcel numbers zoomed in only.
    let (qml, _) = qml_sld("comuni");
    assert!(qml.contains("labelsEnabled=\"1\"") && qml.contains("<labeling type=\"simple\">"));
    assert!(qml.contains("fieldName=\"nome\"") && qml.contains("scaleVisibility=\"0\""));
    let (qml, _) = qml_sld("particelle");
    assert!(qml.contains("fieldName=\"particella\""));
    assert!(qml.contains("scaleVisibility=\"1\" scaleMin=\"4000\""));
    let (qml, _) = qml_sld("fabbricati");
    assert!(qml.contains("labelsEnabled=\"0\"") && !qml.contains("<labeling"));
    // Every label field is a column of its layer (a renamed column would leave QGIS blank).
    for layer in public_layers() {
        let (qml, _) = qml_sld(layer);
        if let Some(i) = qml.find("fieldName=\"") {
            let field = &qml[i + 11..];
            let field = &field[..field.find('"').expect("quote")];
            assert!(
                qml.contains(&format!("<alias field=\"{field}\"")),
                "{layer}: label field {field} is a column"
            );
        }
    }
}

#[test]
fn csv_round_trips_through_gdal() {
    let f = fixture();
    for layer in ["alloggi_pubblici", "comuni", "pgt_zone"] {
        let path = f.out.join("csv_wkt").join(format!("{layer}.csv"));
        let Some(info) = ogrinfo(&path, &["GEOM_POSSIBLE_NAMES=wkt", "KEEP_GEOM_COLUMNS=NO"])
        else {
            return;
        };
        let (geometry, n) = &info[layer];
        assert_eq!(*n, count(layer), "{layer}");
        // GDAL's CSV driver reports WKT columns as "Unknown (any)"; the count is what matters.
        assert!(!geometry.is_empty(), "{layer}");
    }
    for layer in ["alloggi_pubblici", "comuni"] {
        let path = f.out.join("csv_lonlat").join(format!("{layer}.csv"));
        let Some(info) = ogrinfo(&path, &["X_POSSIBLE_NAMES=lon", "Y_POSSIBLE_NAMES=lat"]) else {
            return;
        };
        assert_eq!(info[layer], ("Point".to_string(), count(layer)), "{layer}");
    }
}

#[test]
fn csv_figures_match_the_vacancy_analysis() {
    let f = fixture();
    let mut r = csv::Reader::from_path(f.out.join("csv_lonlat/comuni.csv")).expect("csv");
    let headers = r.headers().expect("headers").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (inutilizzati, lon, lat) = (col("inutilizzati"), col("lon"), col("lat"));
    let mut total = 0u32;
    for rec in r.records() {
        let rec = rec.expect("record");
        total += rec[inutilizzati].parse::<u32>().expect("integer");
        let (x, y): (f64, f64) = (
            rec[lon].parse().expect("lon"),
            rec[lat].parse().expect("lat"),
        );
        assert!(
            (9.5..10.5).contains(&x) && (45.5..46.5).contains(&y),
            "centroid {x} {y}"
        );
    }
    assert_eq!(total, f.loaded.vacancy.ambito.conteggi.inutilizzati);
}

#[test]
fn geoparquet_reads_back_with_geo_metadata() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let f = fixture();
    for layer in &public_layers() {
        let path = f.out.join("parquet").join(format!("{layer}.parquet"));
        let file = std::fs::File::open(&path).expect("parquet file");
        let reader = SerializedFileReader::new(file).expect("parquet reader");
        let meta = reader.metadata().file_metadata();
        assert_eq!(meta.num_rows() as usize, count(layer), "{layer}");
        let geo = meta
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
            .and_then(|k| k.value.clone())
            .expect("geo metadata");
        let geo: serde_json::Value = serde_json::from_str(&geo).expect("geo is JSON");
        assert_eq!(geo["version"], "1.1.0");
        assert_eq!(geo["primary_column"], "geometry");
        let column = &geo["columns"]["geometry"];
        assert_eq!(column["encoding"], "WKB");
        assert!(column.get("crs").is_none(), "CRS omitted: OGC:CRS84");
        assert_eq!(column["covering"]["bbox"]["xmin"][0], "bbox");
        let types = column["geometry_types"].as_array().expect("types");
        if count(layer) > 0 {
            let expected = abitare::output::layers::info(layer)
                .expect("registry layer")
                .geometry
                .name();
            assert_eq!(types, &vec![serde_json::json!(expected)], "{layer}");
            assert_eq!(column["bbox"].as_array().map(|b| b.len()), Some(4));
        }
        // Same fields as the served GeoJSON, plus geometry and bbox.
        let names: Vec<String> = reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .root_schema()
            .get_fields()
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        let table = export::table(&f.loaded, public(layer));
        let mut expected: Vec<String> = table.columns.iter().map(|c| c.name.to_string()).collect();
        expected.extend(["geometry".to_string(), "bbox".to_string()]);
        assert_eq!(names, expected, "{layer}");
    }
    // The first unit's WKB point is the served position.
    let file = std::fs::File::open(f.out.join("parquet/alloggi_pubblici.parquet")).expect("file");
    let reader = SerializedFileReader::new(file).expect("reader");
    let row = reader
        .get_row_iter(None)
        .expect("rows")
        .next()
        .expect("a row")
        .expect("row");
    let wkb = row
        .get_column_iter()
        .find(|(n, _)| n.as_str() == "geometry")
        .and_then(|(_, v)| match v {
            Field::Bytes(b) => Some(b.data().to_vec()),
            _ => None,
        })
        .expect("geometry bytes");
    assert_eq!(&wkb[..5], &[1, 1, 0, 0, 0], "little-endian WKB point");
    let x = f64::from_le_bytes(wkb[5..13].try_into().expect("x"));
    let y = f64::from_le_bytes(wkb[13..21].try_into().expect("y"));
    let p = f.loaded.model.alloggi_pubblici[0]
        .posizione
        .expect("position");
    assert!((x - p.x()).abs() < 1e-6 && (y - p.y()).abs() < 1e-6);
}

fn zip_entry(path: &Path, name: &str) -> String {
    let file = std::fs::File::open(path).expect("xlsx");
    let mut zip = zip::ZipArchive::new(file).expect("xlsx is a zip");
    let mut entry = zip.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut s = String::new();
    entry.read_to_string(&mut s).expect("utf-8 xml");
    s
}

#[test]
fn xlsx_has_italian_sheets_headers_and_the_vacancy_table() {
    let f = fixture();
    let path = f.out.join("tutto.xlsx");
    let workbook = zip_entry(&path, "xl/workbook.xml");
    let sheets = [
        "Informazioni",
        "Sfitto per comune",
        "Comuni",
        "Fogli catastali",
        "Particelle catastali",
        "Fabbricati",
        "Alloggi pubblici",
        "Zone PGT",
        "Vincoli",
    ];
    let mut last = 0;
    for s in sheets {
        let at = workbook
            .find(&format!("name=\"{s}\""))
            .unwrap_or_else(|| panic!("sheet {s}"));
        assert!(at >= last, "sheet order at {s}");
        last = at;
    }
    let strings = zip_entry(&path, "xl/sharedStrings.xml");
    for h in [
        "Ente proprietario",
        "Codice unità",
        "Stato",
        "Sfitto dal",
        "Longitudine",
        "Latitudine",
        "Inutilizzati",
        "Quota inutilizzati",
        "Totale Ambito",
        "Sfitti per carenze manutentive",
    ] {
        assert!(strings.contains(&format!(">{h}<")), "header {h:?}");
    }
    assert!(
        !strings.contains(">ente_proprietario<"),
        "no raw field names"
    );
    let rows = |n: usize| {
        zip_entry(&path, &format!("xl/worksheets/sheet{n}.xml"))
            .matches("<row ")
            .count()
    };
    assert_eq!(rows(2), 24 + 2, "header, 24 comuni, total");
    assert_eq!(rows(3), 24 + 1, "comuni");
    assert_eq!(rows(7), 253 + 1, "alloggi pubblici");
}

#[test]
fn folder_exports_replace_only_previous_exports() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("strati");
    let req = Request {
        format: Format::GeoJson,
        layers: vec!["comuni".into(), "vincoli".into()],
        out: out.clone(),
        options: Options::default(),
        caller: Audience::Pubblico,
        comune: None,
    };
    let files = export::export(&f.loaded, &req).expect("first export");
    assert_eq!(files.len(), 2);
    export::export(&f.loaded, &req).expect("replacing a previous export");
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let mut beside: Vec<String> = std::fs::read_dir(dir.path())
        .expect("parent")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(
        beside,
        [".strati.lock", "strati"],
        "no staging or temporary leftovers (the lock file stays)"
    );
    std::fs::write(out.join("appunti.txt"), "mine").expect("foreign file");
    let e = export::export(&f.loaded, &req).expect_err("folder with other files");
    assert!(matches!(e, ExportError::DirectoryNotEmpty { .. }), "{e}");
    assert!(out.join("appunti.txt").exists(), "foreign file untouched");

    let single = dir.path().join("comuni.parquet");
    let req = Request {
        format: Format::GeoParquet,
        layers: vec!["comuni".into()],
        out: single.clone(),
        options: Options::default(),
        caller: Audience::Pubblico,
        comune: None,
    };
    assert_eq!(export::export(&f.loaded, &req).expect("file"), vec![single]);

    let bad = Request {
        format: Format::Csv,
        layers: vec!["alloggi_privati".into()],
        out: dir.path().join("x.csv"),
        options: Options::default(),
        caller: Audience::Pubblico,
        comune: None,
    };
    let e = export::export(&f.loaded, &bad).expect_err("not a public layer");
    assert!(matches!(e, ExportError::UnknownLayer { .. }), "{e}");
}

/// A download as a member of the Tavolo (its token).
async fn get(uri: &str) -> (StatusCode, String, String, Vec<u8>) {
    get_as(uri, Some(abitare::auth::Role::Tavolo)).await
}

async fn get_as(
    uri: &str,
    role: Option<abitare::auth::Role>,
) -> (StatusCode, String, String, Vec<u8>) {
    let mut req = HttpRequest::get(uri);
    if let Some(r) = role {
        req = req.header(
            "authorization",
            format!("Bearer {}", common::signed().token(r)),
        );
    }
    let resp = common::app_signed(fixture().loaded.clone())
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (status, ct, cd) = (
        resp.status(),
        header("content-type"),
        header("content-disposition"),
    );
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, ct, cd, bytes.to_vec())
}

#[tokio::test]
async fn http_downloads_have_content_types_and_attachment_names() {
    for (uri, ct, magic) in [
        (
            "/api/export/alloggi_pubblici.geojson",
            "application/geo+json",
            &b"{"[..],
        ),
        (
            "/api/export/comuni.gpkg",
            "application/geopackage+sqlite3",
            b"SQLite format 3",
        ),
        (
            "/api/export/tutto.gpkg",
            "application/geopackage+sqlite3",
            b"SQLite format 3",
        ),
        (
            "/api/export/comuni.parquet",
            "application/vnd.apache.parquet",
            b"PAR1",
        ),
        (
            "/api/export/alloggi_pubblici.csv?geometry=lonlat",
            "text/csv; charset=utf-8",
            b"id,",
        ),
        (
            "/api/export/comuni.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK",
        ),
    ] {
        let (status, got_ct, cd, body) = get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(got_ct, ct, "{uri}");
        assert!(cd.starts_with("attachment; filename=\""), "{uri}: {cd}");
        assert!(body.starts_with(magic), "{uri}");
    }
    // The public: the units are not for it; its whole-Ambito file lacks them.
    let (status, _, _, _) = get_as("/api/export/alloggi_pubblici.csv", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _, xlsx) = get_as("/api/export/tutto.xlsx", None).await;
    assert_eq!(status, StatusCode::OK);
    let sheets = {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("xlsx");
        let mut wb = String::new();
        std::io::Read::read_to_string(
            &mut z.by_name("xl/workbook.xml").expect("workbook"),
            &mut wb,
        )
        .expect("read");
        wb
    };
    assert!(
        sheets.contains("Comuni") && !sheets.contains("Alloggi pubblici"),
        "{sheets}"
    );
    let (_, _, cd, body) = get("/api/export/alloggi_pubblici.csv").await;
    assert_eq!(cd, "attachment; filename=\"alloggi_pubblici.csv\"");
    let text = String::from_utf8(body).expect("utf-8");
    assert_eq!(text.lines().count(), 254);
    assert!(text.lines().next().is_some_and(|h| h.ends_with(",wkt")));
}

#[tokio::test]
async fn http_bad_exports_are_problems() {
    for (uri, status) in [
        ("/api/export/alloggi_privati.gpkg", StatusCode::FORBIDDEN),
        ("/api/export/nessuno.geojson", StatusCode::NOT_FOUND),
        ("/api/export/comuni.shp", StatusCode::BAD_REQUEST),
        ("/api/export/comuni", StatusCode::BAD_REQUEST),
        ("/api/export/tutto.csv", StatusCode::BAD_REQUEST),
        (
            "/api/export/comuni.csv?geometry=dxf",
            StatusCode::BAD_REQUEST,
        ),
        // Parameters the export routes do not know are refused, not ignored.
        (
            "/api/export/comuni.gpkg?srs=EPSG:32632",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/export/comuni.csv?comune=016077&formato=x",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/export/comuni.csv?crs=32632&crs=3003",
            StatusCode::BAD_REQUEST,
        ),
        // CRSs not offered, comuni not in the Ambito, lon/lat in metres, unknown CSV dialect.
        ("/api/export/comuni.gpkg?crs=3857", StatusCode::BAD_REQUEST),
        (
            "/api/export/comuni.gpkg?crs=EPSG:9999",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/export/pacchetto_pgt.gpkg?comune=999999",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/export/comuni.csv?geometry=lonlat&crs=32632",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/export/comuni.csv?csv=calc", StatusCode::BAD_REQUEST),
        // A reserved layer is refused whatever the parameters.
        (
            "/api/export/alloggi_privati.csv?crs=x",
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (got, ct, _, body) = get(uri).await;
        assert_eq!(got, status, "{uri}");
        assert_eq!(ct, "application/problem+json", "{uri}");
        let p: serde_json::Value = serde_json::from_slice(&body).expect("problem json");
        assert_eq!(p["status"], status.as_u16(), "{uri}");
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{uri}");
    }
    // The messages are Italian and name the parameter and its value (or what is accepted).
    for (uri, words) in [
        (
            "/api/export/comuni.gpkg?crs=3857",
            &["parametro crs", "\"3857\"", "32632"][..],
        ),
        (
            "/api/export/pacchetto_pgt.gpkg?comune=999999",
            &["parametro comune", "\"999999\"", "016077 Clusone"],
        ),
        (
            "/api/export/comuni.csv?geometry=lonlat&crs=6707",
            &["geometry", "crs", "EPSG:6707", "wkt"],
        ),
        (
            "/api/export/comuni.gpkg?srs=32632",
            &[
                "parametri non validi",
                "crs",
                "comune",
                "geometry",
                "csv=excel",
            ],
        ),
    ] {
        let (_, _, _, body) = get(uri).await;
        let p: serde_json::Value = serde_json::from_slice(&body).expect("problem json");
        let detail = p["detail"].as_str().expect("detail");
        for w in words {
            assert!(detail.contains(w), "{uri}: {w:?} in {detail:?}");
        }
    }
}

/// The public's workbook: the vacancy sheet withholds the same cells as the public `comuni`
/// layer (empty), the Tavolo's is exact.
#[tokio::test]
async fn the_public_vacancy_sheet_withholds_the_small_counts() {
    use calamine::{Data, Reader, Xlsx};
    let sheet = |bytes: Vec<u8>| -> Vec<Vec<Data>> {
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("xlsx");
        let range = wb
            .worksheet_range(abitare::output::export::xlsx::SHEET_VACANCY)
            .expect("sheet");
        range.rows().map(|r| r.to_vec()).collect()
    };
    let (_, _, _, public) = get_as("/api/export/tutto.xlsx", None).await;
    let (_, _, _, tavolo) = get("/api/export/tutto.xlsx").await;
    let (public, tavolo) = (sheet(public), sheet(tavolo));
    let col = public[0]
        .iter()
        .position(|c| *c == "Liberi")
        .expect("Liberi column");
    let (_, _, _, layer) = get_as("/api/layers/comuni", None).await;
    let layer: serde_json::Value = serde_json::from_slice(&layer).expect("json");
    let mut withheld = 0;
    for f in layer["features"].as_array().expect("features") {
        let p = &f["properties"];
        let name = p["nome"].as_str().expect("nome");
        let row = |rows: &Vec<Vec<Data>>| {
            rows.iter()
                .find(|r| r[0] == name)
                .map(|r| r[col].clone())
                .expect("row of the comune")
        };
        let (pub_cell, exact) = (row(&public), row(&tavolo));
        if p["liberi"].is_null() {
            assert!(
                matches!(pub_cell, Data::Empty),
                "{name}: {pub_cell:?} shown"
            );
            assert!(!matches!(exact, Data::Empty), "{name}: the Tavolo's cell");
            withheld += 1;
        } else {
            assert_eq!(pub_cell, exact, "{name}");
        }
    }
    assert!(withheld > 0, "the demo has small counts of free units");
}

// --- the per-comune drafters' package ----------------------------------------------------------

const CLUSONE: &str = "016077";

/// Opens a downloaded GeoPackage (kept in a temporary folder).
fn open_gpkg(bytes: &[u8]) -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pacchetto.gpkg");
    std::fs::write(&path, bytes).expect("write");
    let db =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open");
    (dir, db)
}

#[tokio::test]
async fn the_comune_package_holds_only_that_comune() {
    use abitare::auth::Role;
    use abitare::output::export::ComuneRule;
    use geo::{BoundingRect, Intersects};
    let f = fixture();
    let m = &f.loaded.model;
    let clusone = m
        .comuni
        .iter()
        .find(|c| c.istat == CLUSONE)
        .expect("Clusone");
    let bounds = clusone.geometry.bounding_rect().expect("bounds");
    for (role, audience) in [
        (Some(Role::Tavolo), Audience::Tavolo),
        (None, Audience::Pubblico),
    ] {
        let uri = format!("/api/export/pacchetto_pgt.gpkg?comune={CLUSONE}");
        let (status, _, cd, body) = get_as(&uri, role).await;
        assert_eq!(status, StatusCode::OK, "{role:?}");
        assert_eq!(cd, "attachment; filename=\"pacchetto_pgt_016077.gpkg\"");
        let (_dir, db) = open_gpkg(&body);
        let mut tables: Vec<String> = db
            .prepare("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")
            .expect("sql")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .map(|r| r.expect("name"))
            .collect();
        tables.sort();
        let mut expected: Vec<String> = export::PACCHETTO_PGT
            .iter()
            .filter(|n| layers::info(n).is_some_and(|i| i.visible_to(audience)))
            .map(|n| n.to_string())
            .collect();
        expected.sort();
        assert_eq!(tables, expected, "{role:?}");
        assert_eq!(
            tables.contains(&"alloggi_pubblici".to_string()),
            audience == Audience::Tavolo,
            "the units only for who may see them"
        );
        let styled: i64 = db
            .query_row("SELECT count(*) FROM layer_styles", [], |r| r.get(0))
            .expect("styles");
        assert_eq!(styled as usize, tables.len(), "every layer styled");
        for t in &tables {
            let info = layers::info(t).expect("registry layer");
            let rows: i64 = db
                .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                .expect("count");
            assert!(rows > 0 || *t == "aree_escluse", "{t}: Clusone has some");
            match export::comune_rule(info) {
                ComuneRule::Istat(col) => {
                    let other: i64 = db
                        .query_row(
                            &format!("SELECT count(*) FROM \"{t}\" WHERE \"{col}\" <> ?1"),
                            [CLUSONE],
                            |r| r.get(0),
                        )
                        .expect("other comuni");
                    assert_eq!(other, 0, "{t}: rows of another comune");
                    // Rows without a comune are those whose geometry meets Clusone.
                    let mut stmt = db
                        .prepare(&format!(
                            "SELECT r.minx, r.maxx, r.miny, r.maxy FROM \"{t}\" t
                             JOIN \"rtree_{t}_geom\" r ON r.id = t.fid WHERE t.\"{col}\" IS NULL"
                        ))
                        .expect("sql");
                    let boxes = stmt
                        .query_map([], |r| {
                            Ok::<[f64; 4], _>([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
                        })
                        .expect("rows");
                    for b in boxes {
                        let b = b.expect("box");
                        let r = geo::Rect::new((b[0], b[2]), (b[1], b[3]));
                        assert!(r.intersects(&bounds), "{t}: {b:?} far from Clusone");
                    }
                }
                ComuneRule::Belfiore => {
                    let other: i64 = db
                        .query_row(
                            &format!("SELECT count(*) FROM \"{t}\" WHERE belfiore IS NOT ?1"),
                            [&clusone.belfiore],
                            |r| r.get(0),
                        )
                        .expect("other cadastres");
                    assert_eq!(other, 0, "{t}: parcels of another cadastre");
                }
                ComuneRule::Spatial => panic!("{t}: every package layer has a comune column"),
            }
        }
        let count = |t: &str| -> usize {
            db.query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| {
                r.get::<_, i64>(0)
            })
            .expect("count") as usize
        };
        assert_eq!(count("comuni"), 1);
        assert_eq!(
            count("particelle"),
            m.particelle
                .iter()
                .filter(|p| p.belfiore == clusone.belfiore)
                .count()
        );
        assert_eq!(
            count("pgt_zone"),
            m.pgt_zone
                .iter()
                .filter(|z| z.comune_istat.as_deref() == Some(CLUSONE))
                .count()
        );
        if audience == Audience::Tavolo {
            assert_eq!(
                count("alloggi_pubblici"),
                m.alloggi_pubblici
                    .iter()
                    .filter(|u| u.comune_istat.as_deref() == Some(CLUSONE))
                    .count()
            );
        }
        // A neighbour's parcel that lies across Clusone's boundary box is not in the package.
        let neighbour = m
            .particelle
            .iter()
            .find(|p| {
                p.belfiore != clusone.belfiore
                    && p.geometry
                        .bounding_rect()
                        .is_some_and(|b| b.intersects(&bounds))
            })
            .expect("a neighbour's parcel near Clusone");
        let found: i64 = db
            .query_row(
                "SELECT count(*) FROM particelle WHERE riferimento = ?1",
                [&neighbour.riferimento],
                |r| r.get(0),
            )
            .expect("lookup");
        assert_eq!(found, 0, "{} is not Clusone's", neighbour.riferimento);
    }
}

#[test]
fn the_cli_names_the_flag_of_a_bad_comune_or_crs() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_abitare"))
            .args([
                "export",
                "--format",
                "gpkg",
                "--layer",
                "pacchetto_pgt",
                "--workspace",
            ])
            .arg(&f.workspace)
            .arg("--out")
            .arg(dir.path().join("p.gpkg"))
            .args(extra)
            .env_remove("RUST_BACKTRACE")
            .output()
            .expect("run abitare");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = run(&["--comune", "999999"]);
    assert!(!ok);
    assert!(err.contains("--comune") && err.contains("999999"), "{err}");
    let (ok, err) = run(&["--crs", "3857"]);
    assert!(!ok);
    assert!(err.contains("--crs") && err.contains("3857"), "{err}");
    assert!(!dir.path().join("p.gpkg").exists(), "nothing written");
    let (ok, err) = run(&["--comune", CLUSONE, "--crs", "EPSG:3003"]);
    assert!(ok, "{err}");
    let db = rusqlite::Connection::open(dir.path().join("p.gpkg")).expect("gpkg");
    let srs: i64 = db
        .query_row(
            "SELECT srs_id FROM gpkg_contents WHERE table_name = 'particelle'",
            [],
            |r| r.get(0),
        )
        .expect("srs");
    assert_eq!(srs, 3003);
}

// --- XLSX read back with calamine ---------------------------------------------------------------

#[test]
fn xlsx_headers_are_the_registry_labels_and_values_are_typed() {
    use calamine::{Data, Reader, Xlsx};
    let f = fixture();
    let mut wb: Xlsx<_> = calamine::open_workbook(f.out.join("tutto.xlsx")).expect("xlsx");
    // Every layer sheet: the registry's labels, in order (no raw field names).
    for l in layers::visible(Audience::Tavolo) {
        let info = l.info();
        let range = wb
            .worksheet_range(info.short_title)
            .expect(info.short_title);
        let header: Vec<String> = range
            .rows()
            .next()
            .expect("header")
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut expected: Vec<String> = info.columns.iter().map(|c| c.label.to_string()).collect();
        if info.geometry == layers::GeometryKind::Point {
            expected.extend(["Longitudine".to_string(), "Latitudine".to_string()]);
        }
        assert_eq!(header, expected, "{}", info.name);
    }
    // Vincoli: "Comune" heads the comune, the constraint's name is under its own header.
    let range = wb.worksheet_range("Vincoli").expect("Vincoli");
    let rows: Vec<&[Data]> = range.rows().collect();
    let col = |h: &str| {
        rows[0]
            .iter()
            .position(|c| *c == h)
            .unwrap_or_else(|| panic!("{h}"))
    };
    let v = &f.loaded.model.vincoli[0];
    assert_eq!(rows[1][col("Nome del vincolo")], v.nome.as_str());
    assert_eq!(
        rows[1][col("Comune")],
        v.comune_nome.as_deref().expect("comune")
    );
    assert_ne!(rows[1][col("Comune")], v.nome.as_str());
    // An empty layer keeps its sheet, with the headers and a note.
    assert_eq!(count("fabbricati"), 0, "the demo has no buildings");
    let range = wb.worksheet_range("Fabbricati").expect("Fabbricati");
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows.len(), 2, "header and note");
    assert_eq!(rows[0][0], "Riferimento");
    assert_eq!(rows[1][0], export::xlsx::NOTE_EMPTY);
    // The information sheet: the year a number, the dates real dates.
    let range = wb.worksheet_range(export::xlsx::SHEET_INFO).expect("info");
    let value = |k: &str| {
        range
            .rows()
            .find(|r| r[0] == k)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("{k}"))
    };
    let ambito = &f.loaded.model.ambito;
    assert_eq!(value("Anno del Piano"), Data::Float(f64::from(ambito.anno)));
    let Data::DateTime(d) = value("Data di riferimento") else {
        panic!("a date cell: {:?}", value("Data di riferimento"))
    };
    assert!(!d.is_duration());
    // Excel's serial day numbers count from 1899-12-30.
    let serial = |day: chrono::NaiveDate| {
        (day - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("epoch")).num_days() as f64
    };
    assert_eq!(
        d.as_f64(),
        serial(ambito.data_riferimento),
        "the reference date"
    );
    let Data::DateTime(t) = value("Esportato il") else {
        panic!("a date and time cell: {:?}", value("Esportato il"))
    };
    let today = serial(chrono::Local::now().date_naive());
    assert!(
        (t.as_f64() - today).abs() < 2.0,
        "exported today: {}",
        t.as_f64()
    );
    assert!(
        t.as_f64().fract() != 0.0 || t.as_f64() == today,
        "with the time"
    );
    // Dates of a layer are date cells too.
    let range = wb.worksheet_range("Alloggi pubblici").expect("units");
    let rows: Vec<&[Data]> = range.rows().collect();
    let c = rows[0]
        .iter()
        .position(|h| *h == "Sfitto dal")
        .expect("Sfitto dal");
    assert!(
        rows.iter()
            .skip(1)
            .any(|r| matches!(r[c], Data::DateTime(_))),
        "some unit empty since a date"
    );
    assert!(rows
        .iter()
        .skip(1)
        .all(|r| matches!(r[c], Data::DateTime(_) | Data::Empty)));
}

// --- CSV for Italian Excel ------------------------------------------------------------------------

#[tokio::test]
async fn csv_for_excel_has_bom_semicolons_and_decimal_commas() {
    let (status, ct, _, body) = get("/api/export/particelle.csv?csv=excel&comune=016077").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert!(body.starts_with(export::csv::BOM), "UTF-8 BOM");
    let text = std::str::from_utf8(&body[3..]).expect("utf-8");
    let header = text.lines().next().expect("header");
    assert_eq!(
        header,
        "riferimento;belfiore;sezione;foglio;particella;area_m2;wkt"
    );
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&body[3..]);
    let standard = export::table(&fixture().loaded, public("particelle"));
    let area_col = standard
        .columns
        .iter()
        .position(|c| c.name == "area_m2")
        .expect("area");
    let mut decimals = 0;
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.expect("record");
        n += 1;
        let area = &rec[5];
        assert!(!area.contains('.'), "decimal comma: {area}");
        let value: f64 = area.replace(',', ".").parse().expect("a number");
        let original = standard
            .rows
            .iter()
            .find(|row| row.values[0] == rec[0])
            .map(|row| row.values[area_col].as_f64().expect("area"))
            .expect("the parcel");
        assert!((value - original).abs() < 1e-9, "{value} vs {original}");
        decimals += usize::from(area.contains(','));
        assert!(
            rec[6].starts_with("MULTIPOLYGON ((("),
            "WKT keeps its syntax"
        );
        assert!(rec[6].contains('.') && rec[6].contains(", "), "{}", &rec[6]);
    }
    assert!(
        n > 100 && decimals > 0,
        "{n} rows, {decimals} with decimals"
    );
    // GDAL reads it: the separator, the BOM and the WKT.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("particelle.csv");
    std::fs::write(&path, &body).expect("write");
    if let Some(info) = ogrinfo(&path, &["GEOM_POSSIBLE_NAMES=wkt", "KEEP_GEOM_COLUMNS=NO"]) {
        assert_eq!(info["particelle"].1, n);
    }
    // The standard CSV is untouched by the option's existence.
    let (_, _, _, plain) = get("/api/export/particelle.csv?comune=016077").await;
    assert!(plain.starts_with(b"riferimento,belfiore,"));
}
