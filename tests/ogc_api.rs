//! OGC API - Features (Part 1 Core) through the axum `Router`, without a socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use abitare::analysis::linkage::link_units;
use abitare::analysis::Analisi;
use abitare::model::{Servizio, Stato};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn model() -> abitare::model::Model {
    let mut m = two_comuni_model();
    let mut a = unit(
        "Comune di Alfa",
        "1",
        "016001",
        Servizio::Sap,
        Stato::Libero,
    );
    a.foglio = Some("1".into());
    a.particella = Some("10".into());
    a.sfitto_dal = Some(date("2024-10-27"));
    let mut b = unit(
        "Comune di Beta",
        "1",
        "016002",
        Servizio::Sap,
        Stato::Occupato,
    );
    b.foglio = Some("1".into());
    b.particella = Some("12".into());
    b.belfiore = Some("B002".into());
    m.alloggi_pubblici = vec![a, b];
    link_units(&mut m);
    m
}

fn state() -> Arc<Analisi> {
    Arc::new(Analisi::from_model(model()))
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A GET as a member of the Tavolo (who sees the individual public units).
async fn request(state: Arc<Analisi>, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let token = format!(
        "Bearer {}",
        common::signed().token(abitare::auth::Role::Tavolo)
    );
    let mut with = headers.to_vec();
    with.push(("authorization", token.as_str()));
    request_as(state, uri, &with).await
}

/// A GET with exactly these headers (the public without an `Authorization`).
async fn request_as(state: Arc<Analisi>, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = common::app_signed(state)
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(uri: &str) -> Answer {
    request(state(), uri, &[]).await
}

fn href(links: &Value, rel: &str) -> Option<String> {
    links
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
        .map(str::to_string)
}

#[tokio::test]
async fn landing_page_links_resolve() {
    let a = request(state(), "/", &[("accept", "application/json")]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, "application/json");
    let v = a.json();
    for (rel, media) in [
        ("self", "application/json"),
        (
            "service-desc",
            "application/vnd.oai.openapi+json;version=3.0",
        ),
        ("conformance", "application/json"),
        ("data", "application/json"),
    ] {
        let h = href(&v["links"], rel).unwrap_or_else(|| panic!("no {rel} link"));
        let a = get(&h).await;
        assert_eq!(a.status, StatusCode::OK, "{rel}: {h}");
        assert_eq!(a.content_type, media, "{rel}: {h}");
        a.json();
    }
    // `f=json` works too; with a Host header the links are absolute.
    let a = request(state(), "/?f=json", &[("host", "example.org:8080")]).await;
    let h = href(&a.json()["links"], "data").expect("data link");
    assert_eq!(h, "http://example.org:8080/collections");
}

#[tokio::test]
async fn root_keeps_the_web_map_for_browsers() {
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for headers in [vec![], vec![("accept", browser)], vec![("accept", "*/*")]] {
        let a = request(state(), "/", &headers).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.content_type.starts_with("text/html"));
        assert!(
            a.body.contains("js/main.js"),
            "not the web map for {headers:?}"
        );
    }
    let a = get("/?f=html").await;
    assert!(a.content_type.starts_with("text/html"));
    assert!(a.body.contains("href=\"/collections?f=html\""));
    assert!(a.body.contains("lang=\"it\""));
    assert_eq!(get("/?f=xml").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn conformance_declares_the_part_1_classes() {
    let a = get("/conformance").await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    let classes: BTreeSet<&str> = v["conformsTo"]
        .as_array()
        .expect("conformsTo")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for c in ["core", "geojson", "html", "oas30"] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}");
        assert!(classes.contains(uri.as_str()), "missing {c}");
    }
}

#[tokio::test]
async fn openapi_describes_every_collection() {
    let a = get("/api").await;
    assert_eq!(
        a.content_type,
        "application/vnd.oai.openapi+json;version=3.0"
    );
    let v = a.json();
    assert!(v["openapi"].as_str().expect("version").starts_with("3.0"));
    let limit = v["paths"]["/collections/particelle/items"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit parameter")
        .clone();
    assert_eq!(limit["schema"]["maximum"], 10_000);
    assert_eq!(limit["schema"]["default"], 10);
}

#[tokio::test]
async fn collections_are_the_public_layers() {
    // The public's list: no individual units.
    let p = request_as(state(), "/collections", &[]).await.json();
    let public: Vec<&str> = p["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(
        public.contains(&"comuni") && !public.contains(&"alloggi_pubblici"),
        "{public:?}"
    );
    let a = get("/collections").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, "application/json");
    let v = a.json();
    let list = v["collections"].as_array().expect("collections");
    let ids: Vec<&str> = list.iter().filter_map(|c| c["id"].as_str()).collect();
    assert!(ids.contains(&"alloggi_pubblici") && ids.contains(&"comuni"));
    for c in list {
        let id = c["id"].as_str().expect("id");
        assert!(
            abitare::output::layers::names(abitare::output::layers::Audience::Tavolo).contains(&id),
            "{id} is not a layer of the Tavolo"
        );
        assert_eq!(c["itemType"], "feature");
        assert_eq!(c["crs"][0], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
        assert!(c["title"].as_str().is_some());
        let items = href(&c["links"], "items").expect("items link");
        assert_eq!(items, format!("/collections/{id}/items"));
        let own = get(&href(&c["links"], "self").expect("self link")).await;
        assert_eq!(own.status, StatusCode::OK);
        assert_eq!(own.json()["id"], id);
    }
    let comuni = list.iter().find(|c| c["id"] == "comuni").expect("comuni");
    let bbox = comuni["extent"]["spatial"]["bbox"][0]
        .as_array()
        .expect("bbox");
    let b: Vec<f64> = bbox.iter().filter_map(Value::as_f64).collect();
    assert_eq!(b.len(), 4);
    assert!(
        (b[0] - 9.90).abs() < 1e-9 && (b[2] - 10.0).abs() < 1e-9,
        "{b:?}"
    );
}

/// Follows `next` links from `first` and returns every feature id.
async fn walk(state: Arc<Analisi>, first: &str, expected: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(uri) = next {
        let a = request(state.clone(), &uri, &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(a.content_type, "application/geo+json");
        let v = a.json();
        assert_eq!(v["type"], "FeatureCollection");
        assert_eq!(v["numberMatched"], expected, "{uri}");
        let feats = v["features"].as_array().expect("features");
        assert_eq!(v["numberReturned"], feats.len(), "{uri}");
        assert!(v["timeStamp"].as_str().is_some());
        assert!(href(&v["links"], "self").is_some());
        for f in feats {
            ids.push(match &f["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        next = href(&v["links"], "next");
        pages += 1;
        assert!(pages <= expected + 1, "paging does not end");
    }
    ids
}

#[tokio::test]
async fn paging_returns_every_feature_exactly_once() {
    let s = state();
    for (layer, n) in [("particelle", 3), ("alloggi_pubblici", 2), ("comuni", 2)] {
        let ids = walk(s.clone(), &format!("/collections/{layer}/items?limit=1"), n).await;
        assert_eq!(ids.len(), n, "{layer}");
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), n, "{layer}: {ids:?}");
        // The same order with another page size.
        let again = walk(s.clone(), &format!("/collections/{layer}/items?limit=2"), n).await;
        assert_eq!(ids, again, "{layer}");
    }
    let v = get("/collections/particelle/items?limit=2&offset=2")
        .await
        .json();
    assert_eq!(v["numberReturned"], 1);
    assert!(href(&v["links"], "prev").is_some());
    assert!(href(&v["links"], "next").is_none());
    let v = get("/collections/particelle/items?offset=50").await.json();
    assert_eq!(v["numberMatched"], 3);
    assert_eq!(v["numberReturned"], 0);
    // Above the maximum, the limit is reduced to it.
    let a = get("/collections/particelle/items?limit=99999999999999999999999").await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["numberReturned"], 3);
    assert!(href(&v["links"], "self")
        .expect("self")
        .contains("limit=10000"));
}

#[tokio::test]
async fn bbox_filters_items() {
    // Only Beta's unit lies east of 9.95.
    for bbox in ["9.95,45.8,10.0,45.9", "9.95,45.8,0,10.0,45.9,1000"] {
        let v = get(&format!("/collections/alloggi_pubblici/items?bbox={bbox}"))
            .await
            .json();
        assert_eq!(v["numberMatched"], 1, "{bbox}");
        assert_eq!(v["features"][0]["properties"]["comune"], "Beta");
        let next_or_self = href(&v["links"], "self").expect("self");
        assert!(next_or_self.contains("bbox="), "{next_or_self}");
    }
    let v = get("/collections/particelle/items?bbox=0,0,1,1")
        .await
        .json();
    assert_eq!(v["numberMatched"], 0);
    // Across the antimeridian: from 170°E eastwards to 9.92°E takes in Alfa's parcels.
    let v = get("/collections/particelle/items?bbox=170,45,9.92,46")
        .await
        .json();
    assert_eq!(v["numberMatched"], 2);
}

#[tokio::test]
async fn property_filters_are_equality_on_properties() {
    let count = |uri: String| async move {
        let a = get(&uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
        a.json()["numberMatched"].as_u64().expect("numberMatched")
    };
    let base = "/collections/alloggi_pubblici/items";
    assert_eq!(count(format!("{base}?comune=Alfa")).await, 1);
    assert_eq!(count(format!("{base}?stato=libero")).await, 1);
    assert_eq!(count(format!("{base}?comune=Alfa&stato=libero")).await, 1);
    assert_eq!(count(format!("{base}?comune=Alfa&stato=occupato")).await, 0);
    assert_eq!(count(format!("{base}?mesi_sfitto=12")).await, 1);
    assert_eq!(count(format!("{base}?inutilizzato=true")).await, 1);
    assert_eq!(
        count(format!("{base}?ente_proprietario=Comune+di+Beta")).await,
        1
    );
    assert_eq!(count(format!("{base}?servizio=SAP&limit=1")).await, 2);
    let v = get(&format!("{base}?stato=occupato")).await.json();
    assert_eq!(v["features"][0]["properties"]["comune"], "Beta");
    assert!(href(&v["links"], "self")
        .expect("self")
        .contains("stato=occupato"));
    // Also valid: an ignored datetime.
    assert_eq!(
        count(format!("{base}?datetime=2025-10-27T00:00:00Z")).await,
        2
    );
    assert_eq!(count(format!("{base}?datetime=2025-01-01/..")).await, 2);
}

#[tokio::test]
async fn item_by_percent_encoded_id() {
    let a = get("/collections/alloggi_pubblici/items/Comune%20di%20Alfa%7C1").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.content_type, "application/geo+json");
    let v = a.json();
    assert_eq!(v["type"], "Feature");
    assert_eq!(v["id"], "Comune di Alfa|1");
    assert_eq!(v["properties"]["stato"], "libero");
    let own = href(&v["links"], "self").expect("self");
    assert_eq!(
        own,
        "/collections/alloggi_pubblici/items/Comune%20di%20Alfa%7C1"
    );
    assert!(href(&v["links"], "collection").is_some());

    // Every id listed resolves to its feature.
    let list = get("/collections/particelle/items").await.json();
    for f in list["features"].as_array().expect("features") {
        let id = f["id"].as_str().expect("string id");
        let one = get(&format!("/collections/particelle/items/{id}")).await;
        assert_eq!(one.status, StatusCode::OK, "{id}");
        assert_eq!(one.json()["properties"], f["properties"]);
    }
}

#[tokio::test]
async fn repeated_ids_fall_back_to_positions() {
    let mut m = model();
    let mut twin = m.particelle[0].clone();
    twin.geometry = square(9.93, 45.851, 0.001);
    m.particelle.push(twin);
    let s = Arc::new(Analisi::from_model(m));
    let ids = walk(s.clone(), "/collections/particelle/items?limit=3", 4).await;
    assert_eq!(ids, ["0", "1", "2", "3"]);
    let a = request(s.clone(), "/collections/particelle/items/3", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["id"], 3);
    assert_eq!(v["properties"]["riferimento"], "A001_000100.10");
    for missing in ["4", "A001_000100.10", "-1", "+1"] {
        let a = request(
            s.clone(),
            &format!("/collections/particelle/items/{missing}"),
            &[],
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn bad_requests_are_problems() {
    for uri in [
        "/collections/particelle/items?limit=0",
        "/collections/particelle/items?limit=-1",
        "/collections/particelle/items?limit=1.5",
        "/collections/particelle/items?limit=tanti",
        "/collections/particelle/items?limit=",
        "/collections/particelle/items?limit=1&limit=2",
        "/collections/particelle/items?offset=-3",
        "/collections/particelle/items?bbox=1,2,3",
        "/collections/particelle/items?bbox=a,b,c,d",
        "/collections/particelle/items?bbox=9,46,10,45",
        "/collections/particelle/items?bbox=9,45,10,95",
        "/collections/particelle/items?datetime=ieri",
        "/collections/particelle/items?datetime=2026-01-01/2025-01-01",
        "/collections/particelle/items?colore=rosso",
        "/collections/particelle/items?f=xml",
        "/collections/particelle/items?crs=EPSG:3857",
        "/collections/particelle/items?bbox=1,2,3,4&bbox-crs=EPSG:3857",
        "/collections/particelle/items?filter=area_m2%20%3E",
        "/collections/particelle/items?filter=foglio%3D1&filter-lang=cql2-json",
        "/collections/particelle/items/A001_000100.10?crs=EPSG:3857",
        "/collections/particelle/queryables?limit=1",
        "/collections/particelle/items?q=%FF",
        "/collections?f=pdf",
        "/collections?limit=3",
        "/conformance?f=xml",
        "/api?f=yaml",
        "/collections/particelle?foo=1",
        "/collections/particelle/items/A001_000100.10?f=xml",
    ] {
        let a = get(uri).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.body);
        assert_eq!(a.content_type, "application/problem+json", "{uri}");
        let v = a.json();
        assert_eq!(v["status"], 400, "{uri}");
        assert!(v["detail"].as_str().is_some(), "{uri}");
    }
    for uri in [
        "/collections/nonesiste",
        "/collections/nonesiste/items",
        "/collections/nonesiste/items/1",
        "/collections/particelle/items/nonesiste",
        "/collections/alloggi_pubblici/items/Comune%20di%20Alfa%7C9",
    ] {
        let a = get(uri).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(a.content_type, "application/problem+json", "{uri}");
        assert_eq!(a.json()["status"], 404);
    }
}

#[tokio::test]
async fn html_by_accept_or_f() {
    let html = [("accept", "text/html")];
    for uri in [
        "/collections",
        "/collections/alloggi_pubblici",
        "/collections/alloggi_pubblici/items",
        "/collections/alloggi_pubblici/items/Comune%20di%20Alfa%7C1",
        "/conformance",
        "/api",
    ] {
        let a = request(state(), uri, &html).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(a.content_type, "text/html; charset=utf-8", "{uri}");
        assert!(a.body.starts_with("<!DOCTYPE html>"), "{uri}");
        assert!(a.body.contains("lang=\"it\""), "{uri}");
        // `f=json` wins over Accept.
        let sep = if uri.contains('?') { '&' } else { '?' };
        let j = request(state(), &format!("{uri}{sep}f=json"), &html).await;
        assert!(j.content_type.contains("json"), "{uri}");
    }
    let a = get("/collections/alloggi_pubblici/items?f=html&limit=1").await;
    assert!(a.body.contains("<table>"));
    assert!(a.body.contains("Elementi 1–1 di 2"));
    assert!(a.body.contains("successivi"));
    assert!(a.body.contains("Comune di Alfa|1"));
    assert!(a
        .body
        .contains("/collections/alloggi_pubblici/items/Comune%20di%20Alfa%7C1?f=html"));
    let a = get("/collections?f=html").await;
    assert!(a.body.contains("Alloggi pubblici"));
}
