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
                    options: Options { csv_geometry: csv },
                    // The Tavolo's files: they hold the individual public units.
                    caller: Audience::Tavolo,
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
    };
    assert_eq!(export::export(&f.loaded, &req).expect("file"), vec![single]);

    let bad = Request {
        format: Format::Csv,
        layers: vec!["alloggi_privati".into()],
        out: dir.path().join("x.csv"),
        options: Options::default(),
        caller: Audience::Pubblico,
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
            "/api/export/comuni.gpkg?crs=EPSG:32632",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/export/comuni.csv?comune=016001",
            StatusCode::BAD_REQUEST,
        ),
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
