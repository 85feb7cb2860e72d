//! What the web map needs from the server besides the layers: the glyph ranges of its labels
//! (decoded as MapLibre decodes them), the neighbouring comuni, the labels in the style, and
//! the optional raster background of the project file (style and security policy).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use abitare::analysis::Analisi;
use abitare::auth::Role;
use abitare::project::Project;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::Contains;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn state() -> Arc<Analisi> {
    Arc::new(Analisi::from_model(common::two_comuni_model()))
}

/// Status, headers and body of one GET through `router`.
async fn fetch(router: axum::Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::get(uri)
        .header("host", "localhost:8080")
        .body(Body::empty())
        .expect("request");
    let resp = router.oneshot(req).await.expect("response");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, body.to_vec())
}

// A protobuf reader for the glyph messages: varints and length-delimited fields only.
struct Pbf<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Pbf<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Pbf { buf, pos: 0 }
    }
    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.buf[self.pos];
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
        }
        panic!("varint too long");
    }
    /// The next (field, value) where value is a varint or a byte slice.
    fn next(&mut self) -> Option<(u64, Result<u64, &'a [u8]>)> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let key = self.varint();
        match key & 7 {
            0 => Some((key >> 3, Ok(self.varint()))),
            2 => {
                let n = self.varint() as usize;
                let s = &self.buf[self.pos..self.pos + n];
                self.pos += n;
                Some((key >> 3, Err(s)))
            }
            w => panic!("unexpected wire type {w}"),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Glyph {
    id: u32,
    bitmap: Vec<u8>,
    width: u32,
    height: u32,
    left: i32,
    top: i32,
    advance: u32,
}

fn unzigzag(v: u64) -> i32 {
    ((v >> 1) as i64 ^ -((v & 1) as i64)) as i32
}

/// Decodes a `glyphs` message: (fontstack name, range, glyphs).
fn decode(buf: &[u8]) -> Vec<(String, String, Vec<Glyph>)> {
    let mut stacks = Vec::new();
    let mut top = Pbf::new(buf);
    while let Some((field, v)) = top.next() {
        assert_eq!(field, 1, "glyphs has only stacks");
        let mut s = Pbf::new(v.expect_err("stack is a message"));
        let (mut name, mut range, mut glyphs) = (String::new(), String::new(), Vec::new());
        while let Some((f, v)) = s.next() {
            match f {
                1 => name = String::from_utf8(v.expect_err("name").to_vec()).expect("utf8"),
                2 => range = String::from_utf8(v.expect_err("range").to_vec()).expect("utf8"),
                3 => {
                    let mut g = Pbf::new(v.expect_err("glyph"));
                    let mut out = Glyph::default();
                    while let Some((f, v)) = g.next() {
                        match (f, v) {
                            (1, Ok(x)) => out.id = x as u32,
                            (2, Err(b)) => out.bitmap = b.to_vec(),
                            (3, Ok(x)) => out.width = x as u32,
                            (4, Ok(x)) => out.height = x as u32,
                            (5, Ok(x)) => out.left = unzigzag(x),
                            (6, Ok(x)) => out.top = unzigzag(x),
                            (7, Ok(x)) => out.advance = x as u32,
                            other => panic!("unexpected glyph field {other:?}"),
                        }
                    }
                    glyphs.push(out);
                }
                _ => panic!("unexpected fontstack field {f}"),
            }
        }
        stacks.push((name, range, glyphs));
    }
    stacks
}

async fn range(uri: &str) -> Vec<Glyph> {
    let (status, headers, body) = fetch(abitare::server::app(state()), uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    assert_eq!(headers["content-type"], "application/x-protobuf", "{uri}");
    let stacks = decode(&body);
    assert_eq!(stacks.len(), 1, "{uri}");
    let (name, range, glyphs) = stacks.into_iter().next().expect("one stack");
    assert_eq!(name, "DejaVu Sans");
    let want = uri.rsplit('/').next().unwrap().trim_end_matches(".pbf");
    assert_eq!(range, want);
    for g in &glyphs {
        let n = if g.width == 0 {
            0
        } else {
            ((g.width + 6) * (g.height + 6)) as usize
        };
        assert_eq!(
            g.bitmap.len(),
            n,
            "bitmap of U+{:04X}: (w + 6) × (h + 6)",
            g.id
        );
    }
    glyphs
}

fn glyph(glyphs: &[Glyph], c: char) -> Glyph {
    glyphs
        .iter()
        .find(|g| g.id == u32::from(c))
        .cloned()
        .unwrap_or_else(|| panic!("no glyph for {c:?}"))
}

/// Pixels at or above the edge value (inside the ink) in one row or column of the bitmap.
fn inside(g: &Glyph, row: Option<usize>, col: Option<usize>) -> usize {
    let w = (g.width + 6) as usize;
    let h = (g.height + 6) as usize;
    match (row, col) {
        (Some(r), None) => (0..w).filter(|&c| g.bitmap[r * w + c] >= 192).count(),
        (None, Some(c)) => (0..h).filter(|&r| g.bitmap[r * w + c] >= 192).count(),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn glyph_ranges_hold_the_letters_of_italian_names() {
    let latin = range("/fonts/DejaVu%20Sans/0-255.pbf").await;
    let a = glyph(&latin, 'a');
    let grave = glyph(&latin, 'à');
    let capital = glyph(&latin, 'A');
    // 'à' is 'a' with an accent above: the same advance, a taller bitmap reaching higher.
    assert_eq!(a.advance, grave.advance);
    assert!((13..=16).contains(&a.advance), "{a:?}");
    assert!(
        grave.height >= a.height + 3 && grave.top >= a.top + 3,
        "{a:?} {grave:?}"
    );
    assert!(capital.top > a.top);
    // 'I' of DejaVu Sans is a bar 202 × 1493 units (2.4 × 17.5 px at 24 px): the field is
    // inside over about 2–3 pixels across and 17–18 down, outside everywhere else.
    let i = glyph(&latin, 'I');
    let mid_row = (i.height / 2 + 3) as usize;
    let mid_col = (i.width / 2 + 3) as usize;
    assert!((2..=3).contains(&inside(&i, Some(mid_row), None)), "{i:?}");
    assert!(
        (17..=18).contains(&inside(&i, None, Some(mid_col))),
        "{i:?}"
    );
    assert!(
        i.bitmap[0] < 64,
        "the border is far outside: {}",
        i.bitmap[0]
    );
    // The space has no ink but an advance.
    let space = glyph(&latin, ' ');
    assert!(space.bitmap.is_empty() && space.advance > 0);
    // Latin Extended-A (ł, ő, Ž in foreign names) and the euro sign.
    let ext = range("/fonts/DejaVu%20Sans/256-511.pbf").await;
    assert!(ext.len() > 100, "{}", ext.len());
    glyph(&ext, 'Ž');
    let punct = range("/fonts/DejaVu%20Sans/8192-8447.pbf").await;
    let euro = glyph(&punct, '€');
    assert!(euro.width > 5 && inside(&euro, Some((euro.height / 2 + 3) as usize), None) >= 2);
}

#[tokio::test]
async fn unknown_fonts_and_ranges_are_not_found() {
    for uri in [
        "/fonts/Arial/0-255.pbf",
        "/fonts/DejaVu%20Sans%20Bold/0-255.pbf",
        "/fonts/DejaVu%20Sans/0-254.pbf",
        "/fonts/DejaVu%20Sans/1-256.pbf",
        "/fonts/DejaVu%20Sans/65536-65791.pbf",
        "/fonts/DejaVu%20Sans/0-255",
        "/fonts/DejaVu%20Sans/0-255.json",
    ] {
        let (status, headers, body) = fetch(abitare::server::app(state()), uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(headers["content-type"], "application/problem+json", "{uri}");
        let v: Value = serde_json::from_slice(&body).expect("problem");
        let detail = v["detail"].as_str().unwrap_or("");
        assert!(
            detail.contains("DejaVu Sans") || detail.contains("0-255.pbf"),
            "{uri}: {detail}"
        );
    }
}

#[tokio::test]
async fn neighbouring_comuni_are_served_with_their_label_points() {
    let (status, headers, body) = fetch(
        abitare::server::app(state()),
        "/api/contesto/confinanti.geojson",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/geo+json");
    let fc: geojson::FeatureCollection = serde_json::from_slice::<Value>(&body)
        .unwrap()
        .try_into()
        .expect("FeatureCollection");
    assert!(fc.features.len() >= 2, "{}", fc.features.len());
    let ambito: Vec<String> = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ambito9_comuni.csv"),
    )
    .unwrap()
    .lines()
    .skip(1)
    .filter_map(|l| l.split(',').next().map(str::to_string))
    .collect();
    let labels = abitare::output::contesto::confinanti_etichette();
    let points = labels["features"].as_array().expect("points");
    assert_eq!(points.len(), fc.features.len());
    for (f, p) in fc.features.iter().zip(points) {
        let name = f.property("name").and_then(Value::as_str).expect("name");
        let code = f
            .property("com_istat_code")
            .and_then(Value::as_str)
            .expect("code");
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
        assert!(
            !ambito.contains(&code.to_string()),
            "{name} is a comune of the Ambito"
        );
        let g = geo::Geometry::<f64>::try_from(f.geometry.clone().expect("geometry")).unwrap();
        assert!(matches!(
            g,
            geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_)
        ));
        assert_eq!(p["properties"]["nome"], name);
        let c = p["geometry"]["coordinates"].as_array().expect("point");
        let pt = geo::Point::new(c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!(g.contains(&pt), "the label of {name} lies inside it");
    }
}

async fn style_json(router: axum::Router, auth: Option<Role>) -> Value {
    let mut req = Request::get("/style.json").header("host", "localhost:8080");
    if let Some(r) = auth {
        req = req.header(
            "authorization",
            format!("Bearer {}", common::signed().token(r)),
        );
    }
    let resp = router
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

fn layer_ids(style: &Value) -> Vec<String> {
    style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn style_labels_the_map_from_local_glyphs() {
    let s = style_json(common::app_signed(state()), None).await;
    assert_eq!(
        s["glyphs"],
        "http://localhost:8080/fonts/{fontstack}/{range}.pbf"
    );
    let ids = layer_ids(&s);
    // The neighbouring comuni right above the background, under everything of the Ambito.
    assert_eq!(ids[..3], ["sfondo", "confinanti-fill", "confinanti-line"]);
    assert_eq!(
        s["sources"]["contesto"]["attribution"],
        "Confini comunali: ISTAT / openpolis, CC-BY 4.0"
    );
    // One label per comune, from a point inside it; the names are placed first (last layer).
    assert_eq!(ids.last().map(String::as_str), Some("comuni-etichette"));
    let pts = s["sources"]["comuni-etichette"]["data"]["features"]
        .as_array()
        .unwrap();
    let m = common::two_comuni_model();
    assert_eq!(pts.len(), m.comuni.len());
    for (p, c) in pts.iter().zip(&m.comuni) {
        assert_eq!(p["properties"]["nome"], c.nome.as_str());
        let xy = p["geometry"]["coordinates"].as_array().unwrap();
        let pt = geo::Point::new(xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap());
        assert!(c.geometry.contains(&pt), "{}", c.nome);
    }
    for l in s["layers"].as_array().unwrap() {
        if l["type"] == "symbol" && l["layout"].get("text-field").is_some() {
            assert_eq!(
                l["layout"]["text-font"],
                serde_json::json!(["DejaVu Sans"]),
                "{l}"
            );
            assert!(
                l["paint"]["text-halo-width"].as_f64().unwrap_or(0.0) >= 1.0,
                "{l}"
            );
        }
    }
    assert!(
        ids.contains(&"fogli-etichette".into()) && ids.contains(&"particelle-etichette".into())
    );
    // Addresses only for those who may see the units.
    assert!(!ids.contains(&"alloggi-indirizzi".into()));
    assert!(!s.to_string().contains("indirizzo"));
    let t = style_json(common::app_signed(state()), Some(Role::Tavolo)).await;
    let tids = layer_ids(&t);
    let at = tids
        .iter()
        .position(|l| l == "alloggi-indirizzi")
        .expect("addresses");
    assert!(at > tids.iter().position(|l| l == "alloggi").unwrap());
    // No background unless the project names one.
    assert!(s["sources"].get("sfondo-raster").is_none() && !ids.contains(&"sfondo-raster".into()));
}

const PROJECT: &str = r#"
[ambito]
nome = "Prova"
anno = 2026

[mappa.sfondo]
tipo = "xyz"
url = "https://tiles.example.org/osm/{z}/{x}/{y}.png"
attribuzione = "© OpenStreetMap contributors"
"#;

#[tokio::test]
async fn a_project_background_is_in_the_style_and_the_page_policy() {
    let p = Project::parse(PROJECT, Path::new("abitare.toml")).expect("project");
    let app = || {
        abitare::server::App::new(state())
            .sfondo(p.mappa.sfondo.clone())
            .router()
    };
    let s = style_json(app(), None).await;
    let src = &s["sources"]["sfondo-raster"];
    assert_eq!(src["type"], "raster");
    assert_eq!(
        src["tiles"][0],
        "https://tiles.example.org/osm/{z}/{x}/{y}.png"
    );
    assert_eq!(src["tileSize"], 256);
    assert_eq!(src["attribution"], "© OpenStreetMap contributors");
    // Under every layer of the data, above the plain background.
    assert_eq!(
        layer_ids(&s)[..3],
        ["sfondo", "sfondo-raster", "confinanti-fill"]
    );

    let policy = |headers: &axum::http::HeaderMap| -> Vec<(String, String)> {
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .split(';')
            .filter_map(|d| {
                let d = d.trim();
                d.split_once(' ')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect()
    };
    let directive = |p: &[(String, String)], k: &str| {
        p.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (status, headers, _) = fetch(app(), "/index.html").await;
    assert_eq!(status, StatusCode::OK);
    let with = policy(&headers);
    for k in ["img-src", "connect-src"] {
        assert!(
            directive(&with, k)
                .split(' ')
                .any(|o| o == "https://tiles.example.org"),
            "{k}: {}",
            directive(&with, k)
        );
    }
    assert_eq!(
        directive(&with, "script-src").split(' ').next(),
        Some("'self'")
    );
    assert!(!directive(&with, "default-src").contains("example"));
    // Without a background the images come from the server only.
    let (_, headers, _) = fetch(abitare::server::app(state()), "/index.html").await;
    let without = policy(&headers);
    assert_eq!(directive(&without, "img-src"), "'self' data: blob:");
    let plain = style_json(abitare::server::app(state()), None).await;
    assert!(plain["sources"].get("sfondo-raster").is_none());

    // A WMS: the box where the URL asks for it, the images at the tile size.
    let wms = PROJECT.replace("\"xyz\"", "\"wms\"").replace(
        "/osm/{z}/{x}/{y}.png",
        "/wms?SERVICE=WMS&REQUEST=GetMap&LAYERS=ortofoto&CRS=EPSG:3857&BBOX={bbox-epsg-3857}&WIDTH={width}&HEIGHT={height}&FORMAT=image/png",
    );
    let p = Project::parse(&wms, Path::new("abitare.toml")).expect("wms project");
    let s = style_json(
        abitare::server::App::new(state())
            .sfondo(p.mappa.sfondo)
            .router(),
        None,
    )
    .await;
    let url = s["sources"]["sfondo-raster"]["tiles"][0].as_str().unwrap();
    assert!(
        url.contains("BBOX={bbox-epsg-3857}") && url.contains("WIDTH=256&HEIGHT=256"),
        "{url}"
    );
}
