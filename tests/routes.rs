//! Every route of the router, with every layer of the registry, as the public sees them. The
//! list of URLs is generated from `server::route_table()` (the router's own table) and the
//! layer registry, never written by hand, so a new route or layer is covered the day it is
//! added. On the demo Ambito (which has individual private units, reserved to the office):
//! - a URL that names a reserved layer is answered `403`, on every route;
//! - no response of any route — JSON, HTML, CSV, MVT tiles, GeoPackage, XLSX, GeoParquet —
//!   holds the code or the address of an individual private unit;
//! - every error is an `application/problem+json` document;
//! - `X-Forwarded-Host` sent by a client never reaches a link (no proxy configured);
//! - every response has `nosniff`; every HTML page a Content-Security-Policy and no framing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::{Arc, OnceLock};

use abitare::analysis::Analisi;
use abitare::output::layers::{self, Audience};
use abitare::server::routes::{Access, FALLBACK};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

const SPOOFED: &str = "evil.example";

fn demo() -> &'static common::BuiltDemo {
    static D: OnceLock<common::BuiltDemo> = OnceLock::new();
    D.get_or_init(common::build_demo)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn get(state: Arc<Analisi>, uri: &str) -> Answer {
    get_from(abitare::server::app(state), uri).await
}

/// A GET with a spoofed `X-Forwarded-Host`/`-Proto`, as any client may send.
async fn get_from(app: axum::Router, uri: &str) -> Answer {
    let resp = app
        .oneshot(
            Request::get(uri)
                .header("host", "localhost:8080")
                .header("x-forwarded-host", SPOOFED)
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        headers,
        body: body.to_vec(),
    }
}

/// Web Mercator tile of a point.
fn tile(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

/// The concrete URLs of one route: its placeholders filled with every layer of the registry
/// (all audiences), every comune, the tiles holding the private units, and some features.
fn expand(path: &str, a: &Analisi, tiles: &[(u32, u32, u32)]) -> Vec<String> {
    let every_layer: Vec<&str> = layers::visible(Audience::Ufficio)
        .map(|l| l.name())
        .collect();
    let private_codes: Vec<String> = a
        .model
        .alloggi_privati
        .iter()
        .take(3)
        .map(|p| p.codice.clone())
        .collect();
    let mut out = vec![path.to_string()];
    let fill = |out: Vec<String>, key: &str, values: &[String]| -> Vec<String> {
        out.into_iter()
            .flat_map(|u| {
                if u.contains(key) {
                    values.iter().map(|v| u.replace(key, v)).collect::<Vec<_>>()
                } else {
                    vec![u]
                }
            })
            .collect()
    };
    let names: Vec<String> = every_layer.iter().map(|s| s.to_string()).collect();
    if path == "/api/export/{file}" {
        let mut files: Vec<String> = every_layer
            .iter()
            .flat_map(|l| {
                ["geojson", "gpkg", "parquet", "csv", "xlsx"]
                    .iter()
                    .map(move |e| format!("{l}.{e}"))
            })
            .collect();
        files.push("tutto.gpkg".into());
        files.push("tutto.xlsx".into());
        return fill(out, "{file}", &files);
    }
    if path == "/tiles/{file}" {
        let mut files: Vec<String> = every_layer.iter().map(|l| format!("{l}.json")).collect();
        files.push("metadata.json".into());
        return fill(out, "{file}", &files);
    }
    if path == FALLBACK {
        return vec![
            "/index.html".into(),
            "/js/main.js".into(),
            "/nessuna".into(),
        ];
    }
    out = fill(out, "{layer}", &names);
    out = fill(out, "{collection_id}", &names);
    let mut ids = private_codes;
    for l in layers::visible(Audience::Pubblico) {
        let first = abitare::output::geojson::layer_features(a, l, Some(&[0]));
        match first.first().and_then(|f| f.id.clone()) {
            Some(geojson::feature::Id::String(id)) => ids.push(
                percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
                    .to_string(),
            ),
            Some(geojson::feature::Id::Number(n)) => ids.push(n.to_string()),
            None => {}
        }
    }
    ids.push("0".to_string());
    out = fill(out, "{feature_id}", &ids);
    let istat: Vec<String> = a.model.comuni.iter().map(|c| c.istat.clone()).collect();
    out = fill(out, "{istat}", &istat);
    if path.contains("{z}") {
        out = out
            .into_iter()
            .flat_map(|u| {
                tiles
                    .iter()
                    .map(move |(z, x, y)| {
                        u.replace("{z}", &z.to_string())
                            .replace("{x}", &x.to_string())
                            .replace("{y}", &format!("{y}.mvt"))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    out
}

/// The text of a response, whatever its format: XLSX unzipped, GeoParquet read row by row,
/// everything else as bytes (GeoPackage and MVT hold their strings as they are).
fn text_of(uri: &str, body: &[u8]) -> String {
    if uri.contains(".xlsx") && body.starts_with(b"PK") {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("xlsx zip");
        let mut all = String::new();
        for i in 0..z.len() {
            let mut f = z.by_index(i).expect("entry");
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            all.push_str(&s);
        }
        return all;
    }
    if uri.contains(".parquet") && body.starts_with(b"PAR1") {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let tmp = tempfile::NamedTempFile::new().expect("tmp");
        std::fs::write(tmp.path(), body).expect("write");
        let f = std::fs::File::open(tmp.path()).expect("open");
        let r = SerializedFileReader::new(f).expect("parquet");
        let mut all = String::new();
        for row in r.get_row_iter(None).expect("rows") {
            all.push_str(&row.expect("row").to_string());
        }
        return all;
    }
    String::from_utf8_lossy(body).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_and_layer_as_the_public_sees_them() {
    let loaded = Arc::new(demo().load());
    let a = &loaded;
    assert!(
        a.model.alloggi_privati.len() >= 3,
        "the demo must have private units to hide"
    );

    // What the public must never see: the codes of the individual private units, and their
    // addresses where no public unit's address holds them.
    let public_addresses: BTreeSet<String> = a
        .model
        .alloggi_pubblici
        .iter()
        .filter_map(|u| u.indirizzo.clone())
        .collect();
    let mut hidden: Vec<String> = a
        .model
        .alloggi_privati
        .iter()
        .map(|p| p.codice.clone())
        .collect();
    hidden.extend(
        a.model
            .alloggi_privati
            .iter()
            .filter_map(|p| p.indirizzo.clone())
            .filter(|i| i.len() > 8 && !public_addresses.iter().any(|p| p.contains(i.as_str()))),
    );
    let finder = aho_corasick::AhoCorasick::new(&hidden).expect("patterns");
    let restricted: Vec<&str> = layers::visible(Audience::Ufficio)
        .filter(|l| l.info().audience > Audience::Pubblico)
        .map(|l| l.name())
        .collect();
    assert!(restricted.contains(&"alloggi_privati"), "{restricted:?}");

    let tiles: Vec<(u32, u32, u32)> = a
        .model
        .alloggi_privati
        .iter()
        .filter_map(|p| p.lonlat)
        .take(2)
        .flat_map(|p| {
            [10u32, 14].map(|z| {
                let (x, y) = tile(p.x(), p.y(), z);
                (z, x, y)
            })
        })
        .collect();
    assert!(!tiles.is_empty(), "private units with coordinates");

    let table = abitare::server::route_table();
    assert!(table.len() >= 20, "{table:?}");
    let mut served_ok: BTreeMap<&str, usize> = BTreeMap::new();
    let mut requests = 0usize;
    for rule in &table {
        for url in expand(rule.path, a, &tiles) {
            // The representations a route offers: OGC pages in HTML, reports in every format.
            let queries: &[&str] = if rule.path.contains("report") {
                &["", "?format=csv", "?format=html", "?format=testo"]
            } else if rule.path == "/"
                || rule.path == "/api"
                || rule.path == "/conformance"
                || rule.path.starts_with("/collections")
            {
                &["", "?f=html"]
            } else {
                &[""]
            };
            for q in queries {
                let uri = format!("{url}{q}");
                let r = get(loaded.clone(), &uri).await;
                requests += 1;
                let ct = r
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let names_restricted = restricted
                    .iter()
                    .any(|l| url.split(['/', '.', '?']).any(|seg| seg == *l));
                if names_restricted {
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}");
                    assert_eq!(rule.access, Access::Layer, "{uri}: {:?}", rule.path);
                }
                if r.status.is_client_error() || r.status.is_server_error() {
                    assert!(
                        ct.starts_with("application/problem+json"),
                        "{uri}: {} as {ct:?}",
                        r.status
                    );
                    let v: serde_json::Value =
                        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{uri}: {e}"));
                    assert_eq!(v["status"], r.status.as_u16(), "{uri}");
                    assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{uri}");
                    assert!(
                        !v["detail"].as_str().unwrap_or("").contains("/tmp"),
                        "{uri}: internal detail sent: {v}"
                    );
                } else if r.status.is_success() {
                    *served_ok.entry(rule.path).or_default() += 1;
                }
                assert_eq!(
                    r.headers
                        .get("x-content-type-options")
                        .map(|v| v.as_bytes()),
                    Some(&b"nosniff"[..]),
                    "{uri}"
                );
                if ct.starts_with("text/html") {
                    let csp = r
                        .headers
                        .get("content-security-policy")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp:?}");
                    assert!(csp.contains("script-src 'self'"), "{uri}: {csp:?}");
                }
                let text = text_of(&uri, &r.body);
                // (A value the request itself names may be echoed in its error.)
                if let Some(m) = finder
                    .find_iter(&text)
                    .find(|m| !uri.contains(hidden[m.pattern().as_usize()].as_str()))
                {
                    panic!("{uri} holds {:?}", hidden[m.pattern().as_usize()]);
                }
                assert!(
                    !text.contains(SPOOFED),
                    "{uri}: a spoofed host became a link"
                );
            }
        }
    }
    for rule in &table {
        assert!(
            served_ok.contains_key(rule.path),
            "{} never answered 2xx: the sweep does not exercise it",
            rule.path
        );
    }
    assert!(requests > 300, "{requests} requests");
}

#[tokio::test]
async fn framework_errors_are_problem_documents_too() {
    let loaded = Arc::new(demo().load());
    for (uri, status) in [
        ("/api/layers/%FF", StatusCode::BAD_REQUEST),
        ("/api/layers/comuni?limit=%FF%FE", StatusCode::BAD_REQUEST),
        ("/collections/%FF/items", StatusCode::BAD_REQUEST),
        ("/tiles/abc/1/2.mvt", StatusCode::BAD_REQUEST),
        ("/nessuna/risorsa", StatusCode::NOT_FOUND),
    ] {
        let r = get(loaded.clone(), uri).await;
        assert_eq!(r.status, status, "{uri}");
        let ct = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(ct.starts_with("application/problem+json"), "{uri}: {ct}");
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(v["status"], status.as_u16(), "{uri}");
    }
}

#[tokio::test]
async fn forwarded_headers_count_only_behind_a_proxy() {
    use abitare::server::base::UrlPolicy;
    let loaded = Arc::new(demo().load());
    for (policy, want) in [
        (UrlPolicy::default(), "http://localhost:8080/"),
        (
            UrlPolicy::new(None, true).expect("policy"),
            "https://evil.example/",
        ),
        (
            UrlPolicy::new(Some("https://abitare.example/a9"), true).expect("policy"),
            "https://abitare.example/a9/",
        ),
    ] {
        let proxied = policy.behind_proxy();
        for uri in [
            "/?f=json",
            "/collections",
            "/tiles.json",
            "/style.json",
            "/api",
        ] {
            let r = get_from(
                abitare::server::app_with(loaded.clone(), policy.clone()),
                uri,
            )
            .await;
            let vary = r
                .headers
                .get("vary")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = r.body;
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains(want), "{uri}: no link to {want}");
            if proxied && want.contains(SPOOFED) {
                assert!(vary.contains("X-Forwarded-Host"), "{uri}: Vary {vary:?}");
            }
        }
    }
}
