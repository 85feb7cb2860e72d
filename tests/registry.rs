//! The layer registry is the one description of every layer: each rendered property is a
//! declared column of the declared type, every consumer (API, OGC, TileJSON, style, exports,
//! workspace) lists exactly the layers the caller may see, and the page gets its palettes from
//! the style instead of repeating them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use abitare::analysis::Analisi;
use abitare::output::export::{self, value_fits};
use abitare::output::geojson::{layer_features, layer_len};
use abitare::output::layers::{self, Audience, Palette, LAYERS};
use axum::http::StatusCode;

struct Fixture {
    _demo: common::BuiltDemo,
    loaded: Arc<Analisi>,
}

fn demo() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let demo = common::build_demo();
        let loaded = Arc::new(demo.load());
        Fixture {
            _demo: demo,
            loaded,
        }
    })
}

async fn json(uri: &str) -> serde_json::Value {
    let (st, _, body) = common::get_text(demo().loaded.clone(), uri).await;
    assert_eq!(st, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: {e}"))
}

/// Columns the demo has no value for: its comuni have no cadastral sections.
const DEMO_EMPTY: &[(&str, &str)] = &[("fogli", "sezione"), ("particelle", "sezione")];

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
            if DEMO_EMPTY.contains(&(info.name, c.name)) {
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
    // The style's own colour of the unit states is the registry's.
    let alloggi = style["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .find(|l| l["id"] == "alloggi")
        .expect("alloggi layer");
    let expr = alloggi["paint"]["circle-color"].to_string();
    for c in layers::STATI {
        assert!(expr.contains(c.colour), "{} in {expr}", c.colour);
    }
    assert!(!style.to_string().contains("alloggi_privati"));
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

#[tokio::test]
async fn a_restricted_layer_is_refused_on_every_route_for_the_public() {
    for uri in [
        "/api/layers/alloggi_privati",
        "/collections/alloggi_privati/items",
        "/api/export/alloggi_privati.geojson",
        "/tiles/alloggi_privati/14/8619/5846.mvt",
    ] {
        let (st, _, body) = common::get_text(demo().loaded.clone(), uri).await;
        assert!(
            st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND,
            "{uri}: {st}"
        );
        assert!(!body.contains("PRV-"), "{uri}: {body}");
    }
}
