//! Every route of the router, with every layer of the registry, for every audience: the
//! public (no credentials) and each role (its personal access token). The list of URLs is
//! generated from `server::route_table()` (the router's own table, every route with its access
//! rule) and the layer registry, never written by hand, so a new route or layer is covered the
//! day it is added. On the demo Ambito:
//! - a URL that names a layer the caller may not see is answered `401` with the challenge for
//!   the public, `403` for a signed-in caller; so are the account and administrator routes;
//! - no response of any route — JSON, HTML, CSV, MVT tiles, GeoPackage, XLSX, GeoParquet, the
//!   style — holds what the caller may not see: for the public (and the administrator) the
//!   address of any individual unit, public or private, the code of a private offer and the id
//!   of a candidate area made from a public parcel with empty flats (`PP-…`); for the Tavolo
//!   and the owner bodies the codes and addresses of the private units;
//! - responses to a signed-in caller are `Cache-Control: private`;
//! - every error is an `application/problem+json` document;
//! - `X-Forwarded-Host` sent by a client never reaches a link (no proxy configured);
//! - every response has `nosniff`; every HTML page a Content-Security-Policy and no framing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::{Arc, OnceLock};

use abitare::analysis::Analisi;
use abitare::auth::Role;
use abitare::output::layers::{self, Audience};
use abitare::server::routes::{Access, Method, FALLBACK};
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
    send(app, "GET", uri, None).await
}

/// A request as `role` (its token as Bearer; none for the public), with spoofed forwarding
/// headers.
async fn send(app: axum::Router, method: &str, uri: &str, role: Option<Role>) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "localhost:8080")
        .header("x-forwarded-host", SPOOFED)
        .header("x-forwarded-proto", "https");
    if let Some(r) = role {
        req = req.header(
            "authorization",
            format!("Bearer {}", common::signed().token(r)),
        );
    }
    let resp = app
        .oneshot(req.body(Body::empty()).expect("request"))
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
        // The drafters' package of one comune in a projected CRS, and a comune's workbook.
        let istat = &a.model.comuni[0].istat;
        files.push(format!("pacchetto_pgt.gpkg?comune={istat}&crs=32632"));
        files.push(format!("tutto.xlsx?comune={istat}"));
        return fill(out, "{file}", &files);
    }
    if path == "/tiles/{file}" {
        let mut files: Vec<String> = every_layer.iter().map(|l| format!("{l}.json")).collect();
        files.push("metadata.json".into());
        return fill(out, "{file}", &files);
    }
    if path == "/fonts/{fontstack}/{range}" {
        return vec![
            "/fonts/DejaVu%20Sans/0-255.pbf".into(),
            "/fonts/DejaVu%20Sans/8192-8447.pbf".into(),
            "/fonts/Arial/0-255.pbf".into(),
            "/fonts/DejaVu%20Sans/0-254.pbf".into(),
        ];
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
    // A token number nobody holds: the sweep must not revoke its own credentials.
    out = fill(out, "{id}", &["987654".to_string()]);
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

/// What a caller of `role` must never find in a response.
fn hidden_for(a: &Analisi, role: Option<Role>) -> Vec<String> {
    let audience = role.map_or(Audience::Pubblico, abitare::server::auth::audience_of);
    let mut hidden: Vec<String> = Vec::new();
    let long = |i: &String| i.len() > 8;
    if audience < Audience::Ufficio {
        hidden.extend(a.model.alloggi_privati.iter().map(|p| p.codice.clone()));
        let public_addresses: BTreeSet<String> = a
            .model
            .alloggi_pubblici
            .iter()
            .filter_map(|u| u.indirizzo.clone())
            .collect();
        hidden.extend(
            a.model
                .alloggi_privati
                .iter()
                .filter_map(|p| p.indirizzo.clone())
                .filter(long)
                // The Tavolo sees public units' addresses, which may hold a private one.
                .filter(|i| {
                    audience == Audience::Pubblico
                        || !public_addresses.iter().any(|p| p.contains(i.as_str()))
                }),
        );
    }
    if audience < Audience::Tavolo {
        hidden.extend(
            a.model
                .alloggi_pubblici
                .iter()
                .filter_map(|u| u.indirizzo.clone())
                .filter(long),
        );
        hidden.extend(
            a.candidate
                .candidate
                .iter()
                .map(|c| c.id.clone())
                .chain(a.candidate.escluse.iter().map(|e| e.id.clone()))
                .filter(|id| id.starts_with("PP-")),
        );
    }
    hidden.sort();
    hidden.dedup();
    hidden
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_and_layer_for_every_audience() {
    let loaded = Arc::new(demo().load());
    let a = &loaded;
    assert!(
        a.model.alloggi_privati.len() >= 3,
        "the demo must have private units to hide"
    );
    assert!(
        a.candidate
            .candidate
            .iter()
            .any(|c| c.id.starts_with("PP-")),
        "the demo must have candidate areas from public parcels to hide"
    );

    let tiles: Vec<(u32, u32, u32)> = a
        .model
        .alloggi_privati
        .iter()
        .filter_map(|p| p.lonlat)
        .take(2)
        .chain(
            a.model
                .alloggi_pubblici
                .iter()
                .filter_map(|u| u.posizione)
                .take(1),
        )
        .flat_map(|p| {
            [10u32, 14].map(|z| {
                let (x, y) = tile(p.x(), p.y(), z);
                (z, x, y)
            })
        })
        .collect();
    assert!(!tiles.is_empty(), "private units with coordinates");

    let table = abitare::server::route_table();
    assert!(table.len() >= 25, "{table:?}");
    let app = common::app_signed(loaded.clone());
    let mut served_ok: BTreeMap<(&str, Method), BTreeSet<String>> = BTreeMap::new();
    let mut requests = 0usize;
    let mut ok_urls: BTreeMap<&str, usize> = BTreeMap::new();
    let callers = [
        None,
        Some(Role::Tavolo),
        Some(Role::Ente),
        Some(Role::Ufficio),
        Some(Role::Amministratore),
    ];
    for role in callers {
        let audience = role.map_or(Audience::Pubblico, abitare::server::auth::audience_of);
        let who = role.map_or("pubblico", |r| r.code());
        let hidden = hidden_for(a, role);
        if audience < Audience::Ufficio {
            assert!(hidden.len() > 3, "{who}: {hidden:?}");
        }
        let finder = aho_corasick::AhoCorasick::new(&hidden).expect("patterns");
        let restricted: Vec<&str> = layers::visible(Audience::Ufficio)
            .filter(|l| !l.info().visible_to(audience))
            .map(|l| l.name())
            .collect();
        for rule in &table {
            let method = if rule.method == Method::Post {
                "POST"
            } else {
                "GET"
            };
            for url in expand(rule.path, a, &tiles) {
                // The representations a route offers: OGC pages in HTML, reports in every
                // format.
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
                    let r = send(app.clone(), method, &uri, role).await;
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
                    let by_rule = match rule.access {
                        Access::Public | Access::Layer => false,
                        Access::Account => role.is_none(),
                        Access::Admin => role != Some(Role::Amministratore),
                        Access::Audience(need) => audience < need,
                    };
                    if names_restricted || by_rule {
                        let want = if role.is_none() {
                            StatusCode::UNAUTHORIZED
                        } else {
                            StatusCode::FORBIDDEN
                        };
                        assert_eq!(r.status, want, "{who} {method} {uri}");
                        if names_restricted {
                            assert_eq!(rule.access, Access::Layer, "{uri}: {:?}", rule.path);
                        }
                    }
                    if r.status == StatusCode::UNAUTHORIZED {
                        let challenge = r
                            .headers
                            .get("www-authenticate")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        assert!(
                            challenge.contains("Basic realm=\"abitare\"")
                                && challenge.contains("Bearer"),
                            "{who} {uri}: challenge {challenge:?}"
                        );
                    }
                    let html_page = ct.starts_with("text/html");
                    if r.status.is_client_error() || r.status.is_server_error() {
                        assert!(
                            ct.starts_with("application/problem+json") || html_page,
                            "{who} {method} {uri}: {} as {ct:?}",
                            r.status
                        );
                        if !html_page {
                            let v: serde_json::Value = serde_json::from_slice(&r.body)
                                .unwrap_or_else(|e| panic!("{uri}: {e}"));
                            assert_eq!(v["status"], r.status.as_u16(), "{uri}");
                            assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{uri}");
                            assert!(
                                !v["detail"].as_str().unwrap_or("").contains("/tmp"),
                                "{uri}: internal detail sent: {v}"
                            );
                        }
                    } else if r.status.is_success() || r.status.is_redirection() {
                        served_ok
                            .entry((rule.path, rule.method))
                            .or_default()
                            .insert(who.to_string());
                        *ok_urls.entry(who).or_default() += 1;
                    }
                    assert_eq!(
                        r.headers
                            .get("x-content-type-options")
                            .map(|v| v.as_bytes()),
                        Some(&b"nosniff"[..]),
                        "{uri}"
                    );
                    let cache = r
                        .headers
                        .get("cache-control")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if role.is_some() {
                        assert!(cache.starts_with("private"), "{who} {uri}: {cache:?}");
                        assert!(
                            r.headers.get("access-control-allow-origin").is_none(),
                            "{who} {uri}: CORS on a signed-in answer"
                        );
                    } else {
                        assert!(!cache.contains("private"), "{uri}: {cache:?}");
                    }
                    if html_page {
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
                        panic!("{who}: {uri} holds {:?}", hidden[m.pattern().as_usize()]);
                    }
                    assert!(
                        !text.contains(SPOOFED),
                        "{uri}: a spoofed host became a link"
                    );
                }
            }
        }
    }
    for rule in &table {
        if rule.method == Method::Post {
            // State-changing routes: exercised with their forms in tests/access.rs.
            continue;
        }
        assert!(
            served_ok.contains_key(&(rule.path, rule.method)),
            "{} never answered 2xx for any audience: the sweep does not exercise it",
            rule.path
        );
    }
    // Each audience was served what it may see: the office more than the Tavolo, the Tavolo
    // more than the public, the administrator its own routes too.
    let ok = |who: &str| ok_urls.get(who).copied().unwrap_or(0);
    assert!(ok("ufficio") > ok("tavolo"), "{ok_urls:?}");
    assert!(ok("tavolo") > ok("pubblico"), "{ok_urls:?}");
    assert_eq!(ok("tavolo"), ok("ente"), "{ok_urls:?}");
    assert!(ok("amministratore") > ok("pubblico"), "{ok_urls:?}");
    assert!(requests > 2000, "{requests} requests");
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
