//! Vector tiles on the demo: MVT through the router (decoded by a small independent decoder),
//! errors, ETag/304, gzip, TileJSON, style, and the PMTiles archive read back with the
//! `pmtiles` crate's reader.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use abitare::analysis::Analisi;
use abitare::output::mvt::{lat_to_y, lon_to_x, TileSource, BUFFER, EXTENT};
use abitare::server::app;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

struct Fixture {
    _demo: common::BuiltDemo,
    root: PathBuf,
    loaded: Arc<Analisi>,
}

fn demo() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let demo = common::build_demo();
        Fixture {
            root: demo.root.clone(),
            loaded: Arc::new(demo.load()),
            _demo: demo,
        }
    })
}

async fn send(
    router: &axum::Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri).header("host", "localhost:8080");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let h = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, h, bytes.to_vec())
}

// ---------------------------------------------------------------------------
// A small MVT decoder, written from the spec independently of the encoder.

#[derive(Debug, Default)]
struct Layer {
    name: String,
    version: u64,
    extent: u64,
    keys: Vec<String>,
    values: Vec<Val>,
    features: Vec<Feat>,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    S(String),
    F(f64),
    I(i64),
    U(u64),
    B(bool),
}

#[derive(Debug, Default)]
struct Feat {
    id: Option<u64>,
    tags: Vec<u32>,
    gtype: u64,
    /// Parts: for points one part of points; for polygons one part per ring.
    parts: Vec<Vec<(i64, i64)>>,
}

impl Feat {
    fn prop<'a>(&self, layer: &'a Layer, key: &str) -> Option<&'a Val> {
        self.tags.chunks(2).find_map(|kv| {
            (layer.keys.get(kv[0] as usize).map(String::as_str) == Some(key))
                .then(|| layer.values.get(kv[1] as usize))
                .flatten()
        })
    }
}

struct Pb<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Pb<'a> {
    fn new(b: &'a [u8]) -> Self {
        Pb { b, i: 0 }
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let byte = self.b[self.i];
            self.i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    fn key(&mut self) -> (u64, u64) {
        let k = self.varint();
        (k >> 3, k & 7)
    }
    fn bytes(&mut self) -> &'a [u8] {
        let n = self.varint() as usize;
        let s = &self.b[self.i..self.i + n];
        self.i += n;
        s
    }
    fn skip(&mut self, wire: u64) {
        match wire {
            0 => {
                self.varint();
            }
            1 => self.i += 8,
            2 => {
                self.bytes();
            }
            5 => self.i += 4,
            w => panic!("wire type {w}"),
        }
    }
    fn packed(&mut self) -> Vec<u32> {
        let mut p = Pb::new(self.bytes());
        let mut out = Vec::new();
        while !p.done() {
            out.push(p.varint() as u32);
        }
        out
    }
}

fn unzig(v: u32) -> i64 {
    i64::from((v >> 1) as i32 ^ -((v & 1) as i32))
}

fn decode_geometry(cmds: &[u32], gtype: u64) -> Vec<Vec<(i64, i64)>> {
    let (mut x, mut y) = (0i64, 0i64);
    let mut parts: Vec<Vec<(i64, i64)>> = Vec::new();
    let mut i = 0;
    while i < cmds.len() {
        let id = cmds[i] & 7;
        let count = (cmds[i] >> 3) as usize;
        i += 1;
        match id {
            1 | 2 => {
                if id == 1 && (gtype != 1 || parts.is_empty()) {
                    parts.push(Vec::new());
                }
                for _ in 0..count {
                    x += unzig(cmds[i]);
                    y += unzig(cmds[i + 1]);
                    i += 2;
                    parts.last_mut().expect("part").push((x, y));
                }
            }
            7 => assert_eq!(count, 1),
            c => panic!("command {c}"),
        }
    }
    parts
}

fn decode(tile: &[u8]) -> Vec<Layer> {
    let mut p = Pb::new(tile);
    let mut layers = Vec::new();
    while !p.done() {
        let (f, w) = p.key();
        if f != 3 {
            p.skip(w);
            continue;
        }
        let mut l = Layer {
            extent: 4096,
            ..Layer::default()
        };
        let mut lp = Pb::new(p.bytes());
        while !lp.done() {
            match lp.key() {
                (15, 0) => l.version = lp.varint(),
                (1, 2) => l.name = String::from_utf8(lp.bytes().to_vec()).expect("utf8"),
                (5, 0) => l.extent = lp.varint(),
                (3, 2) => l
                    .keys
                    .push(String::from_utf8(lp.bytes().to_vec()).expect("utf8")),
                (4, 2) => {
                    let mut vp = Pb::new(lp.bytes());
                    while !vp.done() {
                        let v = match vp.key() {
                            (1, 2) => Val::S(String::from_utf8(vp.bytes().to_vec()).expect("s")),
                            (3, 1) => {
                                let b: [u8; 8] = vp.b[vp.i..vp.i + 8].try_into().expect("8");
                                vp.i += 8;
                                Val::F(f64::from_le_bytes(b))
                            }
                            (4, 0) => Val::I(vp.varint() as i64),
                            (5, 0) => Val::U(vp.varint()),
                            (6, 0) => {
                                let v = vp.varint();
                                Val::I(((v >> 1) as i64) ^ -((v & 1) as i64))
                            }
                            (7, 0) => Val::B(vp.varint() != 0),
                            (f, w) => panic!("value field {f}/{w}"),
                        };
                        l.values.push(v);
                    }
                }
                (2, 2) => {
                    let mut fp = Pb::new(lp.bytes());
                    let mut feat = Feat::default();
                    let mut geom = Vec::new();
                    while !fp.done() {
                        match fp.key() {
                            (1, 0) => feat.id = Some(fp.varint()),
                            (2, 2) => feat.tags = fp.packed(),
                            (3, 0) => feat.gtype = fp.varint(),
                            (4, 2) => geom = fp.packed(),
                            (_, w) => fp.skip(w),
                        }
                    }
                    feat.parts = decode_geometry(&geom, feat.gtype);
                    l.features.push(feat);
                }
                (_, w) => lp.skip(w),
            }
        }
        layers.push(l);
    }
    layers
}

fn ring_area(r: &[(i64, i64)]) -> i64 {
    let n = r.len();
    (0..n)
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// The z14 tile holding the first public unit of Clusone.
fn clusone_tile(loaded: &Analisi) -> (u32, u32, String) {
    let u = loaded
        .model
        .alloggi_pubblici
        .iter()
        .find(|u| u.comune_nome.as_deref() == Some("Clusone") && u.posizione.is_some())
        .expect("a unit in Clusone");
    let p = u.posizione.expect("position");
    let n = f64::from(1u32 << 14);
    let x = (lon_to_x(p.x()) * n).floor() as u32;
    let y = (lat_to_y(p.y()) * n).floor() as u32;
    (x, y, format!("{}|{}", u.ente_proprietario, u.codice_unita))
}

/// The router with every request sent as a member of the Tavolo (its token), who sees the
/// individual public units.
fn as_tavolo(state: std::sync::Arc<abitare::analysis::Analisi>) -> axum::Router {
    let token = common::signed()
        .token(abitare::auth::Role::Tavolo)
        .to_string();
    common::app_signed(state).layer(axum::middleware::map_request(
        move |mut req: axum::extract::Request| {
            let value = format!("Bearer {token}");
            async move {
                if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
                    req.headers_mut().insert("authorization", v);
                }
                req
            }
        },
    ))
}

#[tokio::test]
async fn z14_tile_over_clusone_decodes() {
    let f = demo();
    let (x, y, unit_id) = clusone_tile(&f.loaded);
    // The public's tile: the comuni and the cadastre, no unit; cacheable by anyone.
    let (st, h, body) = send(
        &app(f.loaded.clone()),
        &format!("/tiles/14/{x}/{y}.mvt"),
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(h["cache-control"]
        .to_str()
        .expect("cc")
        .starts_with("public"));
    let public: Vec<String> = decode(&body).into_iter().map(|l| l.name).collect();
    assert!(public.iter().any(|n| n == "comuni"), "{public:?}");
    assert!(
        !public.iter().any(|n| n == "alloggi_pubblici"),
        "{public:?}"
    );
    let router = as_tavolo(f.loaded.clone());
    let (st, h, body) = send(&router, &format!("/tiles/14/{x}/{y}.mvt"), &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["content-type"], "application/vnd.mapbox-vector-tile");
    assert!(h["cache-control"]
        .to_str()
        .expect("cc")
        .starts_with("private"));
    let layers = decode(&body);
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    for expected in ["comuni", "fogli", "particelle", "alloggi_pubblici"] {
        assert!(names.contains(&expected), "{expected} not in {names:?}");
    }
    let lim = (-(BUFFER as i64), (EXTENT + BUFFER) as i64);
    for l in &layers {
        assert_eq!(l.version, 2);
        assert_eq!(l.extent, 4096);
        assert!(!l.features.is_empty(), "{}", l.name);
        for feat in &l.features {
            assert!(feat.id.is_some());
            assert!(!feat.parts.is_empty());
            for part in &feat.parts {
                for &(px, py) in part {
                    assert!(
                        (lim.0..=lim.1).contains(&px) && (lim.0..=lim.1).contains(&py),
                        "{}: ({px}, {py}) outside the buffered tile",
                        l.name
                    );
                }
            }
            if feat.gtype == 3 {
                // First ring of each polygon is exterior: positive area (y down).
                assert!(ring_area(&feat.parts[0]) > 0, "{}", l.name);
                for r in &feat.parts {
                    assert!(r.len() >= 3);
                }
            }
        }
    }
    let units = layers
        .iter()
        .find(|l| l.name == "alloggi_pubblici")
        .expect("units");
    assert!(units.features.iter().all(|f| f.gtype == 1));
    let ids: Vec<Val> = units
        .features
        .iter()
        .filter_map(|f| f.prop(units, "id").cloned())
        .collect();
    assert!(ids.contains(&Val::S(unit_id)), "unit missing in {ids:?}");
    let first = &units.features[0];
    assert!(matches!(first.prop(units, "stato"), Some(Val::S(_))));
    assert!(matches!(first.prop(units, "inutilizzato"), Some(Val::B(_))));
    let comuni = layers.iter().find(|l| l.name == "comuni").expect("comuni");
    let nomi: Vec<Val> = comuni
        .features
        .iter()
        .filter_map(|f| f.prop(comuni, "nome").cloned())
        .collect();
    assert!(nomi.contains(&Val::S("Clusone".into())));
    assert!(comuni
        .features
        .iter()
        .all(|f| matches!(f.prop(comuni, "inutilizzati"), Some(Val::U(_)))));

    // The layer's own tile holds that layer only, with the same features.
    let (st, _, body) = send(&router, &format!("/tiles/particelle/14/{x}/{y}.mvt"), &[]).await;
    assert_eq!(st, StatusCode::OK);
    let only = decode(&body);
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].name, "particelle");
    let combined = layers.iter().find(|l| l.name == "particelle").expect("p");
    assert_eq!(only[0].features.len(), combined.features.len());
}

#[tokio::test]
async fn small_features_follow_the_zoom_policy() {
    let f = demo();
    let router = as_tavolo(f.loaded.clone());
    let (x, y, _) = clusone_tile(&f.loaded);
    // z12 parent: no parcels or buildings (min zoom 14), fogli present (min zoom 12).
    let (st, _, body) = send(&router, &format!("/tiles/12/{}/{}.mvt", x / 4, y / 4), &[]).await;
    assert_eq!(st, StatusCode::OK);
    let names: Vec<String> = decode(&body).into_iter().map(|l| l.name).collect();
    assert!(!names.iter().any(|n| n == "particelle" || n == "fabbricati"));
    assert!(names.iter().any(|n| n == "fogli"));
    assert!(names.iter().any(|n| n == "alloggi_pubblici"));
    // z9: no cadastre at all.
    let (st, _, body) = send(&router, &format!("/tiles/9/{}/{}.mvt", x >> 5, y >> 5), &[]).await;
    assert_eq!(st, StatusCode::OK);
    let names: Vec<String> = decode(&body).into_iter().map(|l| l.name).collect();
    assert!(!names
        .iter()
        .any(|n| n == "particelle" || n == "fabbricati" || n == "fogli"));
    for expected in ["comuni", "alloggi_pubblici", "pgt_zone", "vincoli"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    // A layer below its min zoom answers an empty tile.
    let (st, _, body) = send(
        &router,
        &format!("/tiles/particelle/12/{}/{}.mvt", x / 4, y / 4),
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(body.is_empty());
}

#[tokio::test]
async fn bad_tiles_are_problems_not_crashes() {
    let f = demo();
    let router = app(f.loaded.clone());
    for uri in [
        "/tiles/3/8/0.mvt",
        "/tiles/3/0/8.mvt",
        "/tiles/23/0/0.mvt",
        "/tiles/300/0/0.mvt",
        "/tiles/a/0/0.mvt",
        "/tiles/1/-1/0.mvt",
        "/tiles/1/0/0.png",
        "/tiles/comuni/99/0/0.mvt",
        "/tiles/comuni/14/99999999999/0.mvt",
    ] {
        let (st, h, body) = send(&router, uri, &[]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(h["content-type"], "application/problem+json", "{uri}");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("problem json");
        assert_eq!(v["status"], 400);
    }
    // Individual private units are never tiled.
    for uri in [
        "/tiles/alloggi_privati/14/0/0.mvt",
        "/tiles/alloggi_privati.json",
    ] {
        let (st, h, _) = send(&router, uri, &[]).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(h["content-type"], "application/problem+json", "{uri}");
        let (st, _, _) = send(&as_tavolo(f.loaded.clone()), uri, &[]).await;
        assert_eq!(
            st,
            StatusCode::FORBIDDEN,
            "{uri}: the Tavolo is not the office"
        );
    }
    for uri in [
        "/tiles/nessuno/14/0/0.mvt",
        "/tiles/nessuno.json",
        "/tiles/qualcosa",
    ] {
        let (st, h, _) = send(&router, uri, &[]).await;
        assert!(st.is_client_error(), "{uri}: {st}");
        assert_ne!(st, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(h["content-type"], "application/problem+json", "{uri}");
    }
    // Far from the data: empty.
    let (st, _, _) = send(&router, "/tiles/14/0/0.mvt", &[]).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn etag_and_gzip() {
    let f = demo();
    let router = app(f.loaded.clone());
    let (x, y, _) = clusone_tile(&f.loaded);
    let uri = format!("/tiles/14/{x}/{y}.mvt");
    let (st, h, plain) = send(&router, &uri, &[]).await;
    assert_eq!(st, StatusCode::OK);
    let etag = h["etag"].to_str().expect("etag").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    assert!(h.get("content-encoding").is_none());
    let (st, h2, body) = send(&router, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!(st, StatusCode::NOT_MODIFIED);
    assert_eq!(h2["etag"], etag.as_str());
    assert!(body.is_empty());
    let (st, _, _) = send(&router, &uri, &[("if-none-match", "\"altro\"")]).await;
    assert_eq!(st, StatusCode::OK);

    let (st, h, gz) = send(&router, &uri, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["content-encoding"], "gzip");
    assert!(h["vary"]
        .to_str()
        .expect("vary")
        .contains("accept-encoding"));
    let gz_etag = h["etag"].to_str().expect("etag").to_string();
    assert_ne!(gz_etag, etag);
    assert!(gz.len() < plain.len());
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .expect("gunzip");
    assert_eq!(out, plain);
    let (st, _, _) = send(
        &router,
        &uri,
        &[("accept-encoding", "gzip"), ("if-none-match", &gz_etag)],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn tilejson_and_style() {
    let f = demo();
    let router = as_tavolo(f.loaded.clone());
    let (st, h, body) = send(&router, "/tiles.json", &[]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(h["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&body).expect("tilejson");
    assert_eq!(v["tilejson"], "3.0.0");
    assert_eq!(v["tiles"][0], "http://localhost:8080/tiles/{z}/{x}/{y}.mvt");
    let b = v["bounds"].as_array().expect("bounds");
    assert!(b[0].as_f64().expect("minlon") > 9.5 && b[2].as_f64().expect("maxlon") < 10.5);
    let layers = v["vector_layers"].as_array().expect("vector_layers");
    let ids: Vec<&str> = layers.iter().filter_map(|l| l["id"].as_str()).collect();
    for l in abitare::output::layers::names(abitare::output::layers::Audience::Tavolo) {
        assert!(ids.contains(&l), "{l} missing from {ids:?}");
    }
    let units = layers
        .iter()
        .find(|l| l["id"] == "alloggi_pubblici")
        .expect("units");
    assert_eq!(units["fields"]["stato"], "String");
    assert_eq!(units["fields"]["inutilizzato"], "Boolean");
    let particelle = layers.iter().find(|l| l["id"] == "particelle").expect("p");
    assert_eq!(particelle["minzoom"], 14);
    assert_eq!(particelle["fields"]["area_m2"], "Number");

    let (st, _, body) = send(&router, "/tiles/comuni.json", &[]).await;
    assert_eq!(st, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("tilejson");
    assert_eq!(
        v["tiles"][0],
        "http://localhost:8080/tiles/comuni/{z}/{x}/{y}.mvt"
    );
    assert_eq!(v["vector_layers"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["vector_layers"][0]["fields"]["inutilizzati"], "Number");

    let (st, _, body) = send(&router, "/style.json", &[]).await;
    assert_eq!(st, StatusCode::OK);
    let s: serde_json::Value = serde_json::from_slice(&body).expect("style");
    assert_eq!(s["version"], 8);
    // Everything the style points at is on this server: glyphs, tiles, the context layer.
    assert_eq!(
        s["glyphs"],
        "http://localhost:8080/fonts/{fontstack}/{range}.pbf"
    );
    assert!(s.get("sprite").is_none());
    let sources = s["sources"].as_object().expect("sources");
    assert_eq!(sources["abitare"]["type"], "vector");
    for (name, src) in sources {
        match src["type"].as_str() {
            Some("vector") => assert_eq!(
                src["tiles"][0],
                "http://localhost:8080/tiles/{z}/{x}/{y}.mvt"
            ),
            Some("geojson") => assert!(
                src["data"].is_object()
                    || src["data"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("http://localhost:8080/api/")),
                "{name}: {}",
                src["data"]
            ),
            other => panic!("{name}: source of type {other:?} with no background configured"),
        }
    }
    let style_layers = s["layers"].as_array().expect("layers");
    for l in style_layers {
        if let Some(sl) = l["source-layer"].as_str() {
            assert!(ids.contains(&sl), "{sl}");
        }
    }
    let units = style_layers
        .iter()
        .find(|l| l["source-layer"] == "alloggi_pubblici")
        .expect("units layer");
    let colour = units["paint"]["circle-color"].to_string();
    for c in ["#0072B2", "#009E73", "#E69F00", "#D55E00"] {
        assert!(colour.contains(c), "{c}");
    }
    let comuni = style_layers
        .iter()
        .find(|l| l["id"] == "comuni-fill")
        .expect("comuni-fill");
    let colour = comuni["paint"]["fill-color"].to_string();
    assert!(colour.contains("inutilizzati") && colour.contains("#ffffb2"));
}

#[tokio::test]
async fn pmtiles_archive_reads_back() {
    let f = demo();
    let source = TileSource::for_audience(&f.loaded, abitare::output::layers::Audience::Pubblico);
    let out = f.root.join("ambito.pmtiles");
    let stats = abitare::output::pmtiles::write_pmtiles(&source, &out, 8, 14, "abitare", "prova")
        .expect("pmtiles");
    assert!(stats.tiles > 0 && stats.tiles <= stats.candidates);
    // No temporary file left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&f.root)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());

    let reader = pmtiles::AsyncPmTilesReader::new_with_path(&out)
        .await
        .expect("reader");
    let header = reader.get_header();
    assert_eq!(
        header.n_addressed_tiles().map(|n| n.get()),
        Some(stats.tiles)
    );
    let meta: serde_json::Value =
        serde_json::from_str(&reader.get_metadata().await.expect("metadata")).expect("json");
    assert_eq!(
        meta["vector_layers"].as_array().map(Vec::len),
        Some(abitare::output::layers::names(abitare::output::layers::Audience::Pubblico).len())
    );
    let (x, y, _) = clusone_tile(&f.loaded);
    let tile = reader
        .get_tile_decompressed(pmtiles::TileCoord::new(14, x, y).expect("coord"))
        .await
        .expect("read")
        .expect("tile present");
    assert_eq!(tile.as_ref(), source.encode(None, 14, x, y).as_slice());
    let names: Vec<String> = decode(&tile).into_iter().map(|l| l.name).collect();
    assert!(names.contains(&"particelle".to_string()));
    // Nothing far away.
    assert!(reader
        .get_tile(pmtiles::TileCoord::new(8, 0, 0).expect("coord"))
        .await
        .expect("read")
        .is_none());

    // Privacy: no tile of the pyramid holds an individual private unit.
    let private: Vec<&str> = f
        .loaded
        .model
        .alloggi_privati
        .iter()
        .map(|u| u.codice.as_str())
        .collect();
    assert!(!private.is_empty(), "the demo has private units");
    let bounds = source.bounds().expect("bounds");
    let (x0, y0, x1, y1) = abitare::output::mvt::tile_range(bounds, 14);
    let mut seen = 0;
    for x in x0..=x1 {
        for y in y0..=y1 {
            for l in decode(&source.encode(None, 14, x, y)) {
                seen += 1;
                assert!(
                    abitare::output::layers::names(abitare::output::layers::Audience::Pubblico)
                        .contains(&l.name.as_str()),
                    "{}",
                    l.name
                );
                for v in &l.values {
                    if let Val::S(s) = v {
                        assert!(!private.contains(&s.as_str()), "private unit {s} in a tile");
                    }
                }
            }
        }
    }
    assert!(seen > 0);

    // Bad zooms are refused before anything is written.
    let bad = f.root.join("bad.pmtiles");
    assert!(
        abitare::output::pmtiles::write_pmtiles(&source, &bad, 10, 8, "abitare", "prova").is_err()
    );
    assert!(!bad.exists());
}
