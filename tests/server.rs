//! HTTP API through the axum `Router`, without a socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use abitare::analysis::linkage::link_units;
use abitare::analysis::Analisi;
use abitare::auth::Role;
use abitare::model::{Servizio, Stato};
use axum::http::StatusCode;
use common::*;

fn state() -> Arc<Analisi> {
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
    Arc::new(Analisi::from_model(m))
}

async fn get(uri: &str) -> (StatusCode, String, String) {
    common::get_text(state(), uri).await
}

/// [`get`] as the account of `role` (the public when `None`), on the router with accounts.
async fn get_as(uri: &str, role: Option<Role>) -> (StatusCode, String, String) {
    common::get_text_as(state(), uri, role).await
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).expect("json body")
}

#[tokio::test]
async fn health_lists_layer_counts() {
    let (st, _, body) = get("/health").await;
    assert_eq!(st, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["stato"], "ok");
    assert_eq!(v["layer"]["particelle"], 3);
    // The unit-level public stock is counted for the Tavolo, not listed for the public.
    assert!(v["layer"].get("alloggi_pubblici").is_none(), "{v}");
    assert!(v["layer"].get("alloggi_privati").is_none(), "{v}");
    let (st, _, body) = get_as("/health", Some(Role::Tavolo)).await;
    assert_eq!(st, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["layer"]["particelle"], 3);
    assert_eq!(v["layer"]["alloggi_pubblici"], 2);
    assert!(v["layer"].get("alloggi_privati").is_none(), "{v}");
}

#[tokio::test]
async fn layer_geojson_with_bbox_and_limit() {
    // The individual units are the Tavolo's: the public is asked to sign in.
    let (st, ct, _) = get_as("/api/layers/alloggi_pubblici", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(ct, "application/problem+json");
    let (st, ct, body) = get_as("/api/layers/alloggi_pubblici", Some(Role::Tavolo)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "application/geo+json");
    let v = json(&body);
    assert_eq!(v["type"], "FeatureCollection");
    assert_eq!(v["numberMatched"], 2);
    let f = &v["features"][0];
    assert_eq!(f["geometry"]["type"], "Point");
    assert_eq!(f["properties"]["stato"], "libero");
    assert_eq!(f["properties"]["stato_label"], "Libero");
    assert_eq!(f["properties"]["mesi_sfitto"], 12);
    assert_eq!(f["properties"]["inutilizzato"], true);
    assert_eq!(
        f["properties"]["riferimento_catastale"],
        "Foglio 1, particella 10"
    );
    let lon = f["geometry"]["coordinates"][0].as_f64().expect("lon");
    assert!((9.901..9.902).contains(&lon), "{lon}");

    // Only Beta's unit lies east of 9.95.
    let (_, _, body) = get_as(
        "/api/layers/alloggi_pubblici?bbox=9.95,45.8,10.0,45.9",
        Some(Role::Tavolo),
    )
    .await;
    let v = json(&body);
    assert_eq!(v["numberMatched"], 1);
    assert_eq!(v["features"][0]["properties"]["comune"], "Beta");

    let (_, _, body) = get("/api/layers/particelle?limit=2").await;
    let v = json(&body);
    assert_eq!(v["numberMatched"], 3);
    assert_eq!(v["numberReturned"], 2);
    assert_eq!(v["features"].as_array().expect("array").len(), 2);

    let (_, _, body) = get_as("/api/layers/comuni", Some(Role::Tavolo)).await;
    let v = json(&body);
    assert_eq!(v["features"][0]["id"], "016001");
    assert_eq!(v["features"][0]["properties"]["inutilizzati"], 1);
    assert_eq!(v["features"][0]["properties"]["tasso_inutilizzo"], 1.0);
    assert_eq!(
        v["features"][0]["properties"]["valori_protetti"],
        serde_json::Value::Null
    );
    assert_eq!(v["features"][1]["properties"]["inutilizzati"], 0);

    // The public sees the comuni with the counts of 1 withheld, and what derives from them.
    let (st, _, body) = get("/api/layers/comuni").await;
    assert_eq!(st, StatusCode::OK);
    let v = json(&body);
    let alfa = &v["features"][0]["properties"];
    assert_eq!(v["features"][0]["id"], "016001");
    assert_eq!(alfa["inutilizzati"], serde_json::Value::Null);
    assert_eq!(alfa["liberi"], serde_json::Value::Null);
    assert_eq!(alfa["alloggi"], serde_json::Value::Null);
    assert_eq!(alfa["tasso_inutilizzo"], serde_json::Value::Null);
    let named = alfa["valori_protetti"].as_str().expect("valori_protetti");
    for cell in ["alloggi", "liberi", "inutilizzati", "tasso_inutilizzo"] {
        assert!(named.split(',').any(|n| n == cell), "{cell} in {named}");
    }
    // Beta's unused count is 0: shown.
    assert_eq!(v["features"][1]["properties"]["inutilizzati"], 0);
}

#[tokio::test]
async fn bad_requests_are_problems() {
    for uri in [
        "/api/layers/particelle?bbox=1,2,3",
        "/api/layers/particelle?bbox=10,45,9,46",
        "/api/layers/particelle?bbox=a,b,c,d",
        "/api/layers/particelle?limit=0",
        "/api/layers/particelle?limit=tanti",
        "/api/report/piano-annuale?format=pdf",
    ] {
        let (st, ct, body) = get(uri).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(ct, "application/problem+json", "{uri}");
        assert!(json(&body)["detail"].as_str().is_some(), "{uri}");
    }
    let (st, _, body) = get("/api/layers/nonesiste").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(body.contains("particelle"), "{body}");
}

#[tokio::test]
async fn report_json_follows_the_contract() {
    let (st, ct, body) = get("/api/report/piano-annuale").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "application/json");
    let v = json(&body);
    for key in [
        "ambito",
        "anno",
        "stato_per_ente",
        "totale",
        "consistenza",
        "sezioni",
        "avvisi",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let row = &v["stato_per_ente"][0];
    for key in [
        "ente",
        "di_proprieta",
        "libero",
        "sfitto_carenze_manutentive",
        "sfitto_ristrutturazione",
        "occupato",
        "disponibili_anno",
    ] {
        assert!(row.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["totale"]["di_proprieta"], 2);
    assert_eq!(v["totale"]["libero"], 1);
    for s in ["b", "c", "d", "e", "f", "g", "h", "i", "j", "k"] {
        assert!(v["sezioni"].get(s).is_some(), "missing section {s}");
    }
    let (st, ct, body) = get("/api/report/piano-annuale?format=html").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/html"));
    assert!(body.contains("Piano Annuale dell'offerta abitativa 2026"));
    let (_, ct, body) = get("/api/report/piano-annuale?format=csv").await;
    assert!(ct.starts_with("text/csv"));
    assert!(body.starts_with("sezione,ente,voce,valore"));
}

#[tokio::test]
async fn ambito_summary() {
    let (_, _, body) = get_as("/api/ambito", Some(Role::Tavolo)).await;
    let v = json(&body);
    assert_eq!(v["nome"], "Ambito di prova");
    assert_eq!(v["totali"]["alloggi"], 2);
    assert_eq!(v["totali"]["inutilizzati"], 1);
    assert_eq!(v["totali"]["liberi"], 1);
    // The public reads the small counts as "< 3" and the rates derived from them as null.
    let (_, _, body) = get("/api/ambito").await;
    let v = json(&body);
    assert_eq!(v["nome"], "Ambito di prova");
    assert_eq!(v["totali"]["alloggi"], "< 3");
    assert_eq!(v["totali"]["inutilizzati"], "< 3");
    assert_eq!(v["totali"]["liberi"], "< 3");
    assert_eq!(v["totali"]["tasso_inutilizzo"], serde_json::Value::Null);
    let bbox = v["bbox"].as_array().expect("bbox");
    assert_eq!(bbox.len(), 4);
    assert!((bbox[0].as_f64().expect("x") - 9.90).abs() < 1e-9);
    assert!((bbox[2].as_f64().expect("x") - 10.0).abs() < 1e-9);
}

#[tokio::test]
async fn web_map_and_vendored_maplibre_are_served_from_the_binary() {
    let (st, ct, body) = get("/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/html"));
    assert!(
        body.contains("vendor/maplibre-gl.css"),
        "page does not load MapLibre"
    );
    assert!(
        body.contains("src=\"js/main.js\""),
        "page does not load js/main.js"
    );
    assert!(
        !body.contains("unpkg.com") && !body.contains("cdn."),
        "page uses a CDN"
    );
    // Every module the page imports, followed from js/main.js, is served as JavaScript; so is
    // every file of web/js (none is left unreachable or unserved).
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec!["/js/main.js".to_string()];
    while let Some(path) = todo.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (st, ct, js) = get(&path).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        assert!(ct.starts_with("text/javascript"), "{path}: {ct}");
        if !path.starts_with("/js/") {
            continue;
        }
        for spec in js
            .split("from '")
            .skip(1)
            .filter_map(|s| s.split('\'').next())
        {
            if let Some(rel) = spec.strip_prefix("./") {
                todo.push(format!("/js/{rel}"));
            } else if let Some(rel) = spec.strip_prefix("../") {
                todo.push(format!("/{rel}"));
            }
        }
    }
    assert!(seen.contains("/vendor/maplibre-gl.mjs"), "{seen:?}");
    assert!(seen.contains("/js/palette.js"), "{seen:?}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/js");
    for entry in std::fs::read_dir(&dir).expect("web/js") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".js") {
            assert!(
                seen.contains(&format!("/js/{name}")),
                "{name} is not imported"
            );
        }
    }
    assert_eq!(get("/app.js").await.0, StatusCode::NOT_FOUND);
    let (st, ct, body) = get("/vendor/maplibre-gl.mjs").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/javascript"));
    assert!(body.len() > 100_000);
    for path in [
        "/../Cargo.toml",
        "/vendor/../../Cargo.toml",
        "/src/main.rs",
        "/web/index.html",
    ] {
        let (st, _, _) = get(path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
}
