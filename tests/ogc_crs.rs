//! OGC API - Features Part 2 (CRS by reference) on the demo: the CRS list of the collections,
//! answers in each output CRS against PROJ (`gdaltransform`), `bbox-crs` against the
//! equivalent lon/lat `bbox`, and unsupported CRSs refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use abitare::analysis::Analisi;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

fn epsg_uri(code: u16) -> String {
    format!("http://www.opengis.net/def/crs/EPSG/0/{code}")
}

/// The output CRSs in the order the collections list them (after CRS84).
const OUTPUT: [u16; 7] = [4326, 32632, 25832, 6707, 7791, 3003, 6706];

fn demo() -> &'static (common::BuiltDemo, Arc<Analisi>) {
    static D: OnceLock<(common::BuiltDemo, Arc<Analisi>)> = OnceLock::new();
    D.get_or_init(|| {
        let d = common::build_demo();
        let a = Arc::new(d.load());
        (d, a)
    })
}

struct Answer {
    status: StatusCode,
    content_crs: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A GET as the public.
async fn get(uri: &str) -> Answer {
    let resp = abitare::server::app(demo().1.clone())
        .oneshot(
            Request::get(uri)
                .header("host", "localhost")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let status = resp.status();
    let content_crs = resp
        .headers()
        .get("content-crs")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        content_crs,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Every position of a GeoJSON geometry, in order.
fn positions(g: &Value) -> Vec<(f64, f64)> {
    fn walk(v: &Value, out: &mut Vec<(f64, f64)>) {
        match v.as_array() {
            Some(a) if a.first().is_some_and(Value::is_number) => {
                out.push((a[0].as_f64().expect("x"), a[1].as_f64().expect("y")));
            }
            Some(a) => a.iter().for_each(|x| walk(x, out)),
            None => {}
        }
    }
    let mut out = Vec::new();
    walk(&g["coordinates"], &mut out);
    out
}

/// PROJ's answer for lon/lat points in EPSG:`code`, easting (longitude) first.
fn gdaltransform(code: u16, points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut child = Command::new("gdaltransform")
        .args([
            "-s_srs",
            "EPSG:4326",
            "-t_srs",
            &format!("EPSG:{code}"),
            "-output_xy",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gdaltransform (GDAL is required)");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for (x, y) in points {
            writeln!(stdin, "{x} {y}").expect("write");
        }
    }
    let out = child.wait_with_output().expect("gdaltransform output");
    assert!(out.status.success(), "gdaltransform EPSG:{code}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let res: Vec<(f64, f64)> = text
        .lines()
        .map(|l| {
            let n: Vec<f64> = l
                .split_whitespace()
                .map(|v| v.parse().expect("number"))
                .collect();
            (n[0], n[1])
        })
        .collect();
    assert_eq!(res.len(), points.len(), "EPSG:{code}");
    res
}

fn northing_first(code: u16) -> bool {
    matches!(code, 4326 | 6706 | 6707)
}

fn geographic(code: u16) -> bool {
    matches!(code, 4326 | 6706)
}

/// Distance in metres between two positions of EPSG:`code` (easting first).
fn distance_m(code: u16, a: (f64, f64), b: (f64, f64)) -> f64 {
    if geographic(code) {
        let k = 111_320.0;
        let dx = (a.0 - b.0) * k * a.1.to_radians().cos();
        let dy = (a.1 - b.1) * k;
        (dx * dx + dy * dy).sqrt()
    } else {
        ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
    }
}

#[tokio::test]
async fn collections_list_the_output_crss() {
    let mut expected = vec![CRS84.to_string()];
    expected.extend(OUTPUT.iter().map(|c| epsg_uri(*c)));
    let v = get("/collections").await.json();
    let list = v["collections"].as_array().expect("collections");
    assert!(!list.is_empty());
    for c in list {
        let crs: Vec<&str> = c["crs"]
            .as_array()
            .expect("crs")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(crs, expected, "{}", c["id"]);
        assert_eq!(c["storageCrs"], CRS84, "{}", c["id"]);
    }
    let conf = get("/conformance").await.json();
    assert!(conf["conformsTo"]
        .as_array()
        .expect("conformsTo")
        .iter()
        .any(|c| c == "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"));
    // The OpenAPI document offers the same list for crs and bbox-crs.
    let api = get("/api").await.json();
    let params = api["paths"]["/collections/comuni/items"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    for name in ["crs", "bbox-crs"] {
        let p = params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in the OpenAPI document"));
        assert_eq!(p["schema"]["enum"], serde_json::json!(expected), "{name}");
    }
    let item = &api["paths"]["/collections/comuni/items/{featureId}"]["get"]["parameters"];
    assert!(item
        .as_array()
        .expect("item parameters")
        .iter()
        .any(|p| p["name"] == "crs"));
}

#[tokio::test]
async fn coordinates_in_every_output_crs_match_proj_within_a_metre() {
    for layer in ["comuni", "aree_candidate", "pgt_zone"] {
        let base = get(&format!("/collections/{layer}/items?limit=10000")).await;
        assert_eq!(base.status, StatusCode::OK);
        assert_eq!(base.content_crs.as_deref(), Some(&*format!("<{CRS84}>")));
        let base = base.json();
        let feats = base["features"].as_array().expect("features");
        assert!(feats.len() > 10, "{layer}");
        // A sample of vertices of every feature (every 7th, and the first).
        let mut sample: Vec<(usize, usize)> = Vec::new();
        let mut lonlat: Vec<(f64, f64)> = Vec::new();
        for (i, f) in feats.iter().enumerate() {
            for (j, p) in positions(&f["geometry"]).into_iter().enumerate() {
                if j % 7 == 0 {
                    sample.push((i, j));
                    lonlat.push(p);
                }
            }
        }
        for code in OUTPUT {
            let uri = epsg_uri(code);
            let a = get(&format!(
                "/collections/{layer}/items?limit=10000&crs={}",
                enc(&uri)
            ))
            .await;
            assert_eq!(a.status, StatusCode::OK, "{layer} {code}: {}", a.body);
            assert_eq!(a.content_crs, Some(format!("<{uri}>")), "{layer} {code}");
            let v = a.json();
            let out = v["features"].as_array().expect("features");
            assert_eq!(out.len(), feats.len(), "{layer} {code}");
            let projected: Vec<Vec<(f64, f64)>> =
                out.iter().map(|f| positions(&f["geometry"])).collect();
            for (f, g) in feats.iter().zip(out) {
                assert_eq!(f["id"], g["id"], "{layer} {code}: same order");
                assert_eq!(f["properties"], g["properties"], "{layer} {code}");
            }
            let reference = gdaltransform(code, &lonlat);
            let mut worst = 0.0f64;
            for (k, &(i, j)) in sample.iter().enumerate() {
                let (a, b) = projected[i][j];
                // Written in the EPSG axis order: northing first for 4326, 6706, 6707.
                let ours = if northing_first(code) { (b, a) } else { (a, b) };
                let d = distance_m(code, ours, reference[k]);
                worst = worst.max(d);
                assert!(
                    d < 1.0,
                    "{layer} EPSG:{code}: {ours:?} vs PROJ {:?} ({d} m)",
                    reference[k]
                );
            }
            assert!(worst.is_finite(), "{layer} {code}");
        }
    }
    // One feature: the same coordinates as in the page, and the header.
    let page = get(&format!(
        "/collections/comuni/items?limit=1&crs={}",
        enc(&epsg_uri(6707))
    ))
    .await
    .json();
    let f = &page["features"][0];
    let id = f["id"].as_str().expect("id");
    let one = get(&format!(
        "/collections/comuni/items/{id}?crs={}",
        enc(&epsg_uri(6707))
    ))
    .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.content_crs, Some(format!("<{}>", epsg_uri(6707))));
    assert_eq!(one.json()["geometry"], f["geometry"]);
    // Northing first: about 5.1 million metres, then the easting.
    let p = positions(&f["geometry"])[0];
    assert!(p.0 > 5_000_000.0 && p.1 < 1_000_000.0, "{p:?}");
    // The links of a page keep its CRS.
    let next = page["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "next")
        .and_then(|l| l["href"].as_str())
        .expect("next");
    let path = next.strip_prefix("http://localhost").expect("own link");
    let second = get(path).await;
    assert_eq!(second.status, StatusCode::OK, "{next}");
    assert_eq!(
        second.content_crs,
        Some(format!("<{}>", epsg_uri(6707))),
        "{next}"
    );
    let p = positions(&second.json()["features"][0]["geometry"])[0];
    assert!(p.0 > 5_000_000.0 && p.1 < 1_000_000.0, "{next}: {p:?}");
}

/// The lon/lat bounds of a rectangle of EPSG:`code` (easting first), from PROJ, its outline
/// densified.
fn lonlat_bounds(code: u16, r: [f64; 4]) -> [f64; 4] {
    let mut pts = Vec::new();
    for i in 0..=64 {
        let t = f64::from(i) / 64.0;
        let x = r[0] + (r[2] - r[0]) * t;
        let y = r[1] + (r[3] - r[1]) * t;
        pts.extend([(x, r[1]), (x, r[3]), (r[0], y), (r[2], y)]);
    }
    let mut child = Command::new("gdaltransform")
        .args([
            "-s_srs",
            &format!("EPSG:{code}"),
            "-t_srs",
            "EPSG:4326",
            "-output_xy",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gdaltransform");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for (x, y) in &pts {
            writeln!(stdin, "{x} {y}").expect("write");
        }
    }
    let out = child.wait_with_output().expect("output");
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for l in String::from_utf8(out.stdout).expect("utf-8").lines() {
        let n: Vec<f64> = l
            .split_whitespace()
            .map(|v| v.parse().expect("n"))
            .collect();
        b = [
            b[0].min(n[0]),
            b[1].min(n[1]),
            b[2].max(n[0]),
            b[3].max(n[1]),
        ];
    }
    b
}

async fn ids(uri: &str) -> BTreeSet<String> {
    let a = get(uri).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
    let v = a.json();
    let feats = v["features"].as_array().expect("features");
    assert_eq!(v["numberMatched"], feats.len(), "{uri}: one page");
    feats.iter().map(|f| f["id"].to_string()).collect()
}

#[tokio::test]
async fn bbox_crs_selects_what_the_equivalent_lonlat_bbox_selects() {
    // A box of UTM 32N around the middle of the Ambito, and its lon/lat bounds from PROJ.
    let utm = [570_123.5, 5_080_321.7, 581_877.3, 5_091_733.9];
    let ll = lonlat_bounds(32632, utm);
    for layer in ["comuni", "pgt_zone", "aree_candidate"] {
        let all = ids(&format!("/collections/{layer}/items?limit=10000")).await;
        let lonlat = ids(&format!(
            "/collections/{layer}/items?limit=10000&bbox={},{},{},{}",
            ll[0], ll[1], ll[2], ll[3]
        ))
        .await;
        assert!(
            !lonlat.is_empty() && lonlat.len() < all.len(),
            "{layer}: the box selects {} of {}",
            lonlat.len(),
            all.len()
        );
        for (code, b) in [
            (32632, utm),
            // EPSG:6707 is northing first, 7791 its easting-first twin (the same grid).
            (6707, [utm[1], utm[0], utm[3], utm[2]]),
            (7791, utm),
            // ETRS89 / UTM 32N: the same grid within a metre.
            (25832, utm),
        ] {
            let by_crs = ids(&format!(
                "/collections/{layer}/items?limit=10000&bbox={},{},{},{}&bbox-crs={}",
                b[0],
                b[1],
                b[2],
                b[3],
                enc(&epsg_uri(code))
            ))
            .await;
            assert_eq!(by_crs, lonlat, "{layer} bbox-crs EPSG:{code}");
        }
        // EPSG:4326 is latitude first.
        let lat_lon = ids(&format!(
            "/collections/{layer}/items?limit=10000&bbox={},{},{},{}&bbox-crs={}",
            ll[1],
            ll[0],
            ll[3],
            ll[2],
            enc(&epsg_uri(4326))
        ))
        .await;
        assert_eq!(lat_lon, lonlat, "{layer} bbox-crs EPSG:4326");
        let crs84 = ids(&format!(
            "/collections/{layer}/items?limit=10000&bbox={},{},{},{}&bbox-crs={}",
            ll[0],
            ll[1],
            ll[2],
            ll[3],
            enc(CRS84)
        ))
        .await;
        assert_eq!(crs84, lonlat, "{layer} bbox-crs CRS84");
    }
}

#[tokio::test]
async fn unsupported_crs_is_refused_naming_the_parameter() {
    for (uri, param) in [
        ("/collections/comuni/items?crs=EPSG:3857", "crs"),
        ("/collections/comuni/items?crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2056", "crs"),
        ("/collections/comuni/items?crs=", "crs"),
        ("/collections/comuni/items?bbox=1,2,3,4&bbox-crs=EPSG:3857", "bbox-crs"),
        ("/collections/comuni/items/016012?crs=EPSG:3857", "crs"),
        ("/collections/comuni/items?filter=TRUE&filter-crs=EPSG:3857", "filter-crs"),
    ] {
        let a = get(uri).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.body);
        let detail = a.json()["detail"].as_str().expect("detail").to_string();
        assert!(
            detail.starts_with(&format!("{param} non supportato")),
            "{uri}: {detail}"
        );
        assert!(detail.contains(&epsg_uri(32632)), "{uri}: {detail}");
    }
    // A box in metres given without its CRS is not read as degrees.
    let a = get("/collections/comuni/items?bbox=570000,5080000,582000,5092000").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json()["detail"]
        .as_str()
        .expect("detail")
        .contains("bbox-crs"));
    // Minima after maxima in the CRS's own order.
    let a = get(&format!(
        "/collections/comuni/items?bbox=5092000,570000,5080000,582000&bbox-crs={}",
        enc(&epsg_uri(32632))
    ))
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}
