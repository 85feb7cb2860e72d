//! The layer registry is the one description of every layer: each rendered property is a
//! declared column of the declared type, every consumer (API, OGC, TileJSON, style, exports,
//! workspace) lists exactly the layers the caller may see, and the page gets its palettes from
//! the style instead of repeating them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use abitare::auth::Role;
use abitare::output::export::{self, value_fits};
use abitare::output::geojson::{layer_features, layer_len};
use abitare::output::layers::{self, Audience, Palette, LAYERS};
use axum::http::StatusCode;

fn demo() -> &'static common::LoadedDemo {
    common::loaded_demo()
}

async fn json(uri: &str) -> serde_json::Value {
    json_as(uri, None).await
}

/// [`json`] as the account of `role` (the public when `None`).
async fn json_as(uri: &str, role: Option<Role>) -> serde_json::Value {
    let (st, _, body) = common::get_text_as(demo().loaded.clone(), uri, role).await;
    assert_eq!(st, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: {e}"))
}

/// One GET as the account of `role` (the public when `None`): status, headers and body.
async fn get_with_headers(
    uri: &str,
    role: Option<Role>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = Request::get(uri).header("host", "localhost:8080");
    if let Some(r) = role {
        req = req.header(
            "authorization",
            format!("Bearer {}", common::signed().token(r)),
        );
    }
    let resp = common::app_signed(demo().loaded.clone())
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, body.to_vec())
}

/// Columns the demo has no value for: its comuni have no cadastral sections.
const DEMO_EMPTY: &[(&str, &str)] = &[("fogli", "sezione"), ("particelle", "sezione")];

/// The column naming the cells withheld from the public: empty for every other audience.
const WITHHELD: &str = abitare::output::protect::WITHHELD_PROPERTY;
const WITHHELD_SMALL: &str = abitare::output::protect::SMALL_PROPERTY;

#[test]
fn every_rendered_property_is_a_declared_column_of_its_type() {
    let a = &demo().loaded;
    let mut dead = Vec::new();
    let mut empty = Vec::new();
    for layer in layers::visible(Audience::Ufficio) {
        let info = layer.info();
        let feats = layer_features(a, layer, None);
        assert_eq!(feats.len(), layer_len(a, layer), "{}", info.name);
        if feats.is_empty() {
            empty.push(info.name);
            continue;
        }
        let mut seen = BTreeSet::new();
        for f in &feats {
            let props = f.properties.as_ref().expect("properties");
            for (k, v) in props {
                let col = info.column(k).unwrap_or_else(|| {
                    panic!("{}: property {k} is not in the registry", info.name)
                });
                assert!(
                    value_fits(v, col.kind),
                    "{}: {k} = {v} is not {:?}",
                    info.name,
                    col.kind
                );
                if k == WITHHELD || k == WITHHELD_SMALL {
                    // The office sees every value: nothing is withheld from it.
                    assert!(v.is_null(), "{}: {k} = {v} for the office", info.name);
                }
                if !v.is_null() {
                    seen.insert(k.clone());
                }
            }
            let kind = f.geometry.as_ref().map(|g| match g.value {
                geojson::Value::Point(_) => "Point",
                geojson::Value::MultiPolygon(_) => "MultiPolygon",
                _ => "other",
            });
            if let Some(k) = kind {
                assert_eq!(k, info.geometry.name(), "{}", info.name);
            }
        }
        // Every declared column carries a value somewhere in the demo (no dead columns),
        // but for the ones the demo's inputs leave empty by nature.
        for c in info.columns {
            if DEMO_EMPTY.contains(&(info.name, c.name))
                || c.name == WITHHELD
                || c.name == WITHHELD_SMALL
            {
                continue;
            }
            if !seen.contains(c.name) {
                dead.push(format!("{}.{}", info.name, c.name));
            }
        }
    }
    assert!(
        dead.is_empty(),
        "columns never valued in the demo: {dead:?}"
    );
    // Buildings come from CXF sheets only, which the demo does not have.
    assert_eq!(empty, ["fabbricati"]);

    // The withheld cells are named for the public, where the demo's small counts are: every
    // named cell is a declared column, null for the public, and at least one of them is a
    // count of 1 or 2 that the office sees.
    let mut with_column = Vec::new();
    for info in LAYERS.iter().filter(|l| l.column(WITHHELD).is_some()) {
        assert_eq!(info.audience, Audience::Pubblico, "{}", info.name);
        let public = layers::layer(info.name, Audience::Pubblico).expect("public layer");
        let office = layers::layer(info.name, Audience::Ufficio).expect("office layer");
        let (pf, of) = (
            layer_features(a, public, None),
            layer_features(a, office, None),
        );
        assert_eq!(pf.len(), of.len(), "{}", info.name);
        let mut withheld_features = Vec::new();
        let mut small_seen = false;
        for (p, o) in pf.iter().zip(&of) {
            let (p, o) = (
                p.properties.as_ref().expect("properties"),
                o.properties.as_ref().expect("properties"),
            );
            for (k, v) in p {
                let col = info.column(k).expect("declared");
                assert!(value_fits(v, col.kind), "{}: {k} = {v}", info.name);
            }
            let Some(named) = p[WITHHELD].as_str() else {
                // Nothing withheld: the public sees what the office sees.
                assert_eq!(p, o, "{}", info.name);
                continue;
            };
            for cell in named.split(',') {
                let col = info
                    .column(cell)
                    .unwrap_or_else(|| panic!("{}: withheld {cell} is not a column", info.name));
                assert_ne!(
                    col.protection,
                    layers::Protection::Open,
                    "{}.{cell}",
                    info.name
                );
                assert!(
                    p[cell].is_null(),
                    "{}: {cell} = {} shown",
                    info.name,
                    p[cell]
                );
                let exact = o[cell].as_u64();
                if col.protection == layers::Protection::SmallCount && matches!(exact, Some(1 | 2))
                {
                    small_seen = true;
                }
            }
            // The cells named small are the withheld counts of 1 or 2, and only those.
            let small: Vec<&str> = p[WITHHELD_SMALL]
                .as_str()
                .map(|s| s.split(',').collect())
                .unwrap_or_default();
            for cell in named.split(',') {
                let exact = o[cell].as_u64();
                let is_small = info.column(cell).map(|c| c.protection)
                    == Some(layers::Protection::SmallCount)
                    && matches!(exact, Some(1 | 2));
                assert_eq!(small.contains(&cell), is_small, "{}: {cell}", info.name);
            }
            // The cells not named are shown as the office sees them.
            for (k, v) in p {
                if k != WITHHELD && k != WITHHELD_SMALL && !named.split(',').any(|c| c == k) {
                    assert_eq!(v, &o[k], "{}: {k}", info.name);
                }
            }
            let label = p
                .get("nome")
                .or_else(|| p.get("comune"))
                .and_then(|n| n.as_str())
                .unwrap_or("?")
                .to_string();
            withheld_features.push(format!("{label}: {named}"));
        }
        eprintln!(
            "{}: withheld for the public: {withheld_features:?}",
            info.name
        );
        assert!(
            !withheld_features.is_empty() && small_seen,
            "{}: no small count withheld in the demo",
            info.name
        );
        with_column.push(info.name);
    }
    assert_eq!(with_column, ["comuni", "stock_privato"]);
}

#[test]
fn export_tables_follow_the_registry_order() {
    let a = &demo().loaded;
    for layer in layers::visible(Audience::Pubblico) {
        let t = export::table(a, layer);
        let names: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
        let declared: Vec<&str> = layer.info().columns.iter().map(|c| c.name).collect();
        assert_eq!(names, declared, "{}", layer.name());
    }
}

#[tokio::test]
async fn every_consumer_lists_the_public_layers_of_the_registry() {
    let public = layers::names(Audience::Pubblico);
    assert!(!public.contains(&"alloggi_privati"));
    assert!(!public.contains(&"alloggi_pubblici"));
    let ids = |v: &serde_json::Value, key: &str, field: &str| -> Vec<String> {
        v[key]
            .as_array()
            .expect(key)
            .iter()
            .filter_map(|c| c[field].as_str().map(str::to_string))
            .collect()
    };
    let api = json("/api/layers").await;
    assert_eq!(ids(&api, "layer", "nome"), public);
    // The Tavolo's list has the unit-level public stock too, not the private units.
    let tavolo = layers::names(Audience::Tavolo);
    assert!(tavolo.contains(&"alloggi_pubblici"));
    assert!(!tavolo.contains(&"alloggi_privati"));
    let api = json_as("/api/layers", Some(Role::Tavolo)).await;
    assert_eq!(ids(&api, "layer", "nome"), tavolo);
    let ogc = json("/collections").await;
    assert_eq!(ids(&ogc, "collections", "id"), public);
    for c in ogc["collections"].as_array().expect("collections") {
        let info = layers::info(c["id"].as_str().expect("id")).expect("registered");
        assert_eq!(c["title"], info.title);
        assert_eq!(c["description"], info.description);
    }
    let tj = json("/tiles.json").await;
    assert_eq!(ids(&tj, "vector_layers", "id"), public);
    for l in tj["vector_layers"].as_array().expect("vector_layers") {
        let info = layers::info(l["id"].as_str().expect("id")).expect("registered");
        assert_eq!(l["minzoom"], info.min_zoom, "{}", info.name);
        assert_eq!(l["description"], info.description);
    }
    let health = json("/health").await;
    let counted: Vec<String> = health["layer"]
        .as_object()
        .expect("layer")
        .keys()
        .cloned()
        .collect();
    let mut sorted = public.clone();
    sorted.sort_unstable();
    assert_eq!(counted, sorted);
    let openapi = json("/api").await;
    for name in &public {
        assert!(
            openapi["paths"][format!("/collections/{name}/items")].is_object(),
            "{name} in OpenAPI"
        );
    }
    assert!(openapi["paths"]["/collections/alloggi_privati/items"].is_null());
}

#[tokio::test]
async fn the_style_carries_the_registry_palettes_for_the_page() {
    let style = json("/style.json").await;
    let meta = &style["metadata"]["abitare:layer"];
    let names: Vec<&str> = meta
        .as_object()
        .expect("abitare:layer")
        .keys()
        .map(String::as_str)
        .collect();
    let mut public = layers::names(Audience::Pubblico);
    public.sort_unstable();
    assert_eq!(names, public);
    for info in LAYERS.iter().filter(|l| l.audience == Audience::Pubblico) {
        let p = &meta[info.name]["palette"];
        assert_eq!(meta[info.name]["titolo"], info.title);
        assert_eq!(meta[info.name]["minzoom"], info.min_zoom, "{}", info.name);
        match info.palette {
            Palette::Categorie { classes, other, .. } => {
                assert_eq!(p["tipo"], "categorie");
                let served: Vec<(&str, &str, &str)> = p["classes"]
                    .as_array()
                    .expect("classes")
                    .iter()
                    .filter_map(|c| {
                        Some((
                            c["value"].as_str()?,
                            c["label"].as_str()?,
                            c["colour"].as_str()?,
                        ))
                    })
                    .collect();
                let declared: Vec<(&str, &str, &str)> = classes
                    .iter()
                    .map(|c| (c.value, c.label, c.colour))
                    .collect();
                assert_eq!(served, declared, "{}", info.name);
                assert_eq!(p["other"], other);
            }
            Palette::Soglie {
                thresholds,
                colours,
                ..
            } => {
                assert_eq!(p["tipo"], "soglie");
                assert_eq!(p["thresholds"], serde_json::json!(thresholds));
                assert_eq!(p["colours"], serde_json::json!(colours));
            }
            Palette::Quantili {
                colours,
                none,
                none_label,
                ..
            } => {
                assert_eq!(p["colours"], serde_json::json!(colours));
                assert_eq!(p["none"], none);
                assert_eq!(p["none_label"], none_label);
            }
            Palette::Unico { fill, outline, .. } => {
                assert_eq!(p["fill"], fill);
                assert_eq!(p["outline"], outline);
            }
        }
    }
    // What the page draws beyond the layers' palettes comes from the registry too.
    assert_eq!(
        style["metadata"]["abitare:palettes"]["privati_offerti"],
        layers::COLORE_OFFERTI
    );
    let fonti = &style["metadata"]["abitare:fonti_candidate"];
    for f in abitare::analysis::candidates::FonteCandidata::ALL {
        assert_eq!(fonti[f.code()], f.label_it(), "{}", f.code());
    }
    // The public's style draws no unit point: the unit-level layers are not its.
    let style_layer = |style: &serde_json::Value, id: &str| {
        style["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .find(|l| l["id"] == id)
            .cloned()
    };
    assert!(style_layer(&style, "alloggi").is_none(), "public alloggi");
    assert!(!style.to_string().contains("alloggi_pubblici"));
    assert!(!style.to_string().contains("alloggi_privati"));

    // The Tavolo's style draws the units, in the registry's colours of the unit states, and
    // lists the layers the Tavolo may see.
    let tavolo = json_as("/style.json", Some(Role::Tavolo)).await;
    let mut visible = layers::names(Audience::Tavolo);
    visible.sort_unstable();
    let names: Vec<&str> = tavolo["metadata"]["abitare:layer"]
        .as_object()
        .expect("abitare:layer")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, visible);
    let alloggi = style_layer(&tavolo, "alloggi").expect("alloggi layer for the Tavolo");
    let expr = alloggi["paint"]["circle-color"].to_string();
    for c in layers::STATI {
        assert!(expr.contains(c.colour), "{} in {expr}", c.colour);
    }
    assert!(!tavolo.to_string().contains("alloggi_privati"));
}

/// The page's scripts hold no colour of a layer palette: they read them from `/style.json`.
#[test]
fn the_page_scripts_do_not_repeat_the_registry_palettes() {
    let mut colours: Vec<&str> = vec![layers::COLORE_OFFERTI];
    for info in &LAYERS {
        match info.palette {
            Palette::Categorie { classes, other, .. } => {
                colours.extend(classes.iter().map(|c| c.colour));
                colours.push(other);
            }
            Palette::Soglie {
                colours: c, none, ..
            }
            | Palette::Quantili {
                colours: c, none, ..
            } => {
                colours.extend_from_slice(c);
                colours.push(none);
            }
            Palette::Unico { fill, hatched, .. } => {
                if hatched {
                    colours.push(fill);
                }
            }
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/js");
    let mut scripts = 0;
    for entry in std::fs::read_dir(&dir).expect("web/js") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("js") {
            continue;
        }
        scripts += 1;
        let text = std::fs::read_to_string(&path)
            .expect("script")
            .to_lowercase();
        for c in &colours {
            assert!(
                !text.contains(&c.to_lowercase()),
                "{} repeats the registry colour {c}",
                path.display()
            );
        }
    }
    assert!(scripts > 1, "no scripts in {}", dir.display());
}

/// How the codes of the demo's private units offered to the desk begin (`OFF-2024-001`).
const PRIVATE_CODE: &str = "OFF-20";

#[tokio::test]
async fn a_restricted_layer_is_refused_on_every_route_for_the_public() {
    // The z14 tile holding the first private unit of the demo.
    let office = json_as("/api/layers/alloggi_privati", Some(Role::Ufficio)).await;
    let lonlat = &office["features"][0]["geometry"]["coordinates"];
    let (lon, lat) = (
        lonlat[0].as_f64().expect("lon"),
        lonlat[1].as_f64().expect("lat"),
    );
    let n = f64::from(1u32 << 14);
    let x = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    let tile = format!("/tiles/alloggi_privati/14/{x}/{y}.mvt");
    for uri in [
        "/api/layers/alloggi_privati",
        "/collections/alloggi_privati/items",
        "/api/export/alloggi_privati.geojson",
        tile.as_str(),
    ] {
        // No credentials: asked to sign in, with the challenge of both schemes.
        let (st, headers, body) = get_with_headers(uri, None).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri}: {body}");
        let challenge = headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{uri}: no WWW-Authenticate"));
        assert!(
            challenge.starts_with("Basic realm=\"abitare\"") && challenge.contains("Bearer"),
            "{uri}: {challenge}"
        );
        assert!(!body.contains(PRIVATE_CODE), "{uri}: {body}");
        // The same without the accounts: still a 401 for the public.
        let (st, _, body) = common::get_text(demo().loaded.clone(), uri).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri}: {body}");
        assert!(!body.contains(PRIVATE_CODE), "{uri}: {body}");

        // Signed in without the role: refused.
        let (st, headers, body) = get_with_headers(uri, Some(Role::Tavolo)).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(st, StatusCode::FORBIDDEN, "{uri}: {body}");
        assert!(headers.get("www-authenticate").is_none(), "{uri}");
        assert!(!body.contains(PRIVATE_CODE), "{uri}: {body}");

        // The Ambito office reads it.
        let (st, _, body) = get_with_headers(uri, Some(Role::Ufficio)).await;
        assert_eq!(
            st,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&body)
        );
        if uri.ends_with(".mvt") {
            assert!(!body.is_empty(), "{uri}: empty tile for the office");
        } else {
            assert!(
                String::from_utf8_lossy(&body).contains(PRIVATE_CODE),
                "{uri}: no private unit for the office"
            );
        }
    }
}
