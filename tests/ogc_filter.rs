//! OGC API - Features Part 3 on the demo: queryables, CQL2 text filters against selections
//! computed by hand from the rendered layers, parser errors, and access (the public cannot
//! filter into the counts withheld from it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use abitare::analysis::Analisi;
use abitare::auth::Role;
use abitare::output::geojson::layer_features;
use abitare::output::layers::{self, Audience, Kind, Protection};
use axum::http::StatusCode;
use geo::Intersects;
use serde_json::Value;

fn demo() -> &'static (common::BuiltDemo, Arc<Analisi>) {
    static D: OnceLock<(common::BuiltDemo, Arc<Analisi>)> = OnceLock::new();
    D.get_or_init(|| {
        let d = common::build_demo();
        let a = Arc::new(d.load());
        (d, a)
    })
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn get_as(uri: &str, role: Option<Role>) -> (StatusCode, String, Value) {
    let (status, ct, body) = common::get_text_as(demo().1.clone(), uri, role).await;
    let v = serde_json::from_str(&body).unwrap_or(Value::Null);
    (status, ct, v)
}

/// The ids of every feature `filter` selects, following `next` links (pages of 7).
async fn selected(layer: &str, filter: &str, role: Option<Role>) -> BTreeSet<String> {
    let mut uri = format!("/collections/{layer}/items?limit=7&filter={}", enc(filter));
    let mut ids = BTreeSet::new();
    let mut matched = None;
    for _ in 0..1000 {
        let (status, _, v) = get_as(&uri, role).await;
        assert_eq!(status, StatusCode::OK, "{layer} {filter}: {v}");
        matched.get_or_insert(v["numberMatched"].as_u64().expect("numberMatched"));
        for f in v["features"].as_array().expect("features") {
            assert!(
                ids.insert(f["id"].to_string()),
                "{filter}: repeated {}",
                f["id"]
            );
        }
        match v["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == "next")
            .and_then(|l| l["href"].as_str())
        {
            Some(next) => {
                uri = next
                    .strip_prefix("http://localhost:8080")
                    .expect("own link")
                    .to_string()
            }
            None => break,
        }
    }
    assert_eq!(matched, Some(ids.len() as u64), "{layer} {filter}");
    ids
}

/// The ids of the rendered features of `layer` for `audience` that `keep` accepts.
fn expected(
    layer: &str,
    audience: Audience,
    keep: impl Fn(&serde_json::Map<String, Value>, &geojson::Feature) -> bool,
) -> BTreeSet<String> {
    let l = layers::layer(layer, audience).expect("visible layer");
    layer_features(&demo().1, l, None)
        .iter()
        .filter(|f| keep(f.properties.as_ref().expect("properties"), f))
        .map(|f| {
            serde_json::to_value(f.id.as_ref().expect("id"))
                .expect("id")
                .to_string()
        })
        .collect()
}

fn num(p: &serde_json::Map<String, Value>, k: &str) -> Option<f64> {
    p.get(k).and_then(Value::as_f64)
}

fn text<'a>(p: &'a serde_json::Map<String, Value>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str)
}

#[tokio::test]
async fn cql2_filters_select_the_hand_computed_features() {
    type Keep = Box<dyn Fn(&serde_json::Map<String, Value>, &geojson::Feature) -> bool>;
    let square = geo::Rect::new((9.88, 45.86), (9.98, 45.94));
    let cases: Vec<(&str, &str, Keep)> = vec![
        (
            "aree_candidate",
            "punteggio > 60 AND fonte = 'ambito_trasformazione'",
            Box::new(|p, _| {
                num(p, "punteggio").is_some_and(|s| s > 60.0)
                    && text(p, "fonte") == Some("ambito_trasformazione")
            }),
        ),
        (
            "aree_candidate",
            "punteggio > 60",
            Box::new(|p, _| num(p, "punteggio").is_some_and(|s| s > 60.0)),
        ),
        (
            "aree_candidate",
            "fonte IN ('servizi_previsti', 'ambito_trasformazione') AND NOT (punteggio BETWEEN 40 AND 50)",
            Box::new(|p, _| {
                matches!(
                    text(p, "fonte"),
                    Some("servizi_previsti" | "ambito_trasformazione")
                ) && num(p, "punteggio").is_some_and(|s| !(40.0..=50.0).contains(&s))
            }),
        ),
        (
            "aree_candidate",
            "comune LIKE 'C%' OR alloggi_stimati >= 20",
            Box::new(|p, _| {
                text(p, "comune").is_some_and(|c| c.starts_with('C'))
                    || num(p, "alloggi_stimati").is_some_and(|n| n >= 20.0)
            }),
        ),
        (
            "aree_candidate",
            "fonte <> 'altra_proprieta_pubblica' and area_ha < 0.5",
            Box::new(|p, _| {
                text(p, "fonte").is_some_and(|f| f != "altra_proprieta_pubblica")
                    && num(p, "area_ha").is_some_and(|a| a < 0.5)
            }),
        ),
        (
            "aree_candidate",
            "S_INTERSECTS(geometry, BBOX(9.88, 45.86, 9.98, 45.94)) AND punteggio >= 45",
            Box::new(move |p, f| {
                let g = geo::Geometry::<f64>::try_from(
                    &f.geometry.as_ref().expect("geometry").value,
                )
                .expect("geometry");
                g.intersects(&square) && num(p, "punteggio").is_some_and(|s| s >= 45.0)
            }),
        ),
        (
            "pgt_zone",
            "classe = 'servizi_esistenti' OR (classe = 'ambito_trasformazione' AND comune_istat = '016077')",
            Box::new(|p, _| {
                text(p, "classe") == Some("servizi_esistenti")
                    || (text(p, "classe") == Some("ambito_trasformazione")
                        && text(p, "comune_istat") == Some("016077"))
            }),
        ),
        (
            "pgt_zone",
            "codice_destinazione IS NULL AND NOT (classe IN ('servizi_esistenti', 'agricolo'))",
            Box::new(|p, _| {
                p.get("codice_destinazione").is_none_or(Value::is_null)
                    && text(p, "classe")
                        .is_some_and(|c| c != "servizi_esistenti" && c != "agricolo")
            }),
        ),
    ];
    let mut partial = 0;
    for (layer, filter, keep) in &cases {
        let want = expected(layer, Audience::Pubblico, keep);
        let got = selected(layer, filter, None).await;
        assert_eq!(got, want, "{layer}: {filter}");
        let all = layers::layer(layer, Audience::Pubblico)
            .map(|l| abitare::output::geojson::layer_len(&demo().1, l))
            .expect("layer");
        if !want.is_empty() && want.len() < all {
            partial += 1;
        }
    }
    // The cases discriminate: most select some features and leave others.
    assert!(partial >= cases.len() - 2, "{partial} of {}", cases.len());

    // The Tavolo's units, with a date and a boolean.
    let want = expected("alloggi_pubblici", Audience::Tavolo, |p, _| {
        p.get("inutilizzato") == Some(&Value::Bool(true))
            && text(p, "sfitto_dal").is_some_and(|d| d < "2024-01-01")
    });
    assert!(!want.is_empty());
    let got = selected(
        "alloggi_pubblici",
        "inutilizzato = TRUE AND sfitto_dal < DATE('2024-01-01')",
        Some(Role::Tavolo),
    )
    .await;
    assert_eq!(got, want);

    // A box given in UTM 32N (filter-crs) selects what the lon/lat box around it selects.
    let (s, _, v) = get_as(
        &format!(
            "/collections/comuni/items?limit=100&filter-crs={}&filter={}",
            enc("http://www.opengis.net/def/crs/EPSG/0/32632"),
            enc("S_INTERSECTS(geometry, BBOX(570123.5, 5080321.7, 581877.3, 5091733.9))")
        ),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let utm: BTreeSet<String> = v["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].to_string())
        .collect();
    // The box's outline in lon/lat (densified: UTM grid lines are not meridians).
    let to = abitare::crs::ToLonLat::new(32632).expect("utm");
    let (x0, y0, x1, y1) = (570123.5, 5080321.7, 581877.3, 5091733.9);
    let mut ring = Vec::new();
    for (a, b) in [
        ((x0, y0), (x1, y0)),
        ((x1, y0), (x1, y1)),
        ((x1, y1), (x0, y1)),
        ((x0, y1), (x0, y0)),
    ] {
        for i in 0..100 {
            let t = f64::from(i) / 100.0;
            ring.push(
                to.convert(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
                    .expect("point"),
            );
        }
    }
    ring.push(ring[0]);
    let outline = geo::Polygon::new(geo::LineString::from(ring), vec![]);
    let want = expected("comuni", Audience::Pubblico, |_, f| {
        let g = geo::Geometry::<f64>::try_from(&f.geometry.as_ref().expect("geometry").value)
            .expect("geometry");
        g.intersects(&outline)
    });
    assert!(!want.is_empty() && want.len() < 24, "{want:?}");
    assert_eq!(utm, want);
}

#[tokio::test]
async fn the_public_cannot_filter_into_withheld_counts() {
    let info = layers::info("comuni").expect("comuni");
    let small: Vec<&str> = info
        .columns
        .iter()
        .filter(|c| c.protection == Protection::SmallCount)
        .map(|c| c.name)
        .collect();
    assert!(small.contains(&"inutilizzati") && small.contains(&"liberi"));
    let mut revealing = 0;
    for col in &small {
        for v in [1, 2] {
            let filter = format!("{col} = {v}");
            // The Tavolo sees the counts, and the filter finds them.
            let tavolo = expected("comuni", Audience::Tavolo, |p, _| {
                num(p, col) == Some(f64::from(v))
            });
            assert_eq!(
                selected("comuni", &filter, Some(Role::Tavolo)).await,
                tavolo,
                "{filter}"
            );
            revealing += usize::from(!tavolo.is_empty());
            // For the public they are null: nothing is selected.
            let public = selected("comuni", &filter, None).await;
            assert!(
                public.is_empty(),
                "the public's {filter} selects {public:?}"
            );
            let negated = format!("NOT ({filter})");
            let public_not = selected("comuni", &negated, None).await;
            let want = expected("comuni", Audience::Pubblico, |p, _| {
                num(p, col).is_some_and(|x| x != f64::from(v))
            });
            assert_eq!(public_not, want, "{negated}");
        }
        // A withheld count behaves as a null.
        let nulls = selected("comuni", &format!("{col} IS NULL"), None).await;
        let want = expected("comuni", Audience::Pubblico, |p, _| {
            p.get(*col).is_none_or(Value::is_null)
        });
        assert_eq!(nulls, want, "{col} IS NULL");
        let few = selected(
            "comuni",
            &format!("{col} < 3 OR {col} BETWEEN 1 AND 2"),
            None,
        )
        .await;
        let want = expected("comuni", Audience::Pubblico, |p, _| {
            num(p, col).is_some_and(|x| x < 3.0)
        });
        assert_eq!(few, want, "{col} < 3");
        // Below 3 the public sees only zeros.
        let zeros = expected("comuni", Audience::Pubblico, |p, _| {
            num(p, col) == Some(0.0)
        });
        assert_eq!(few, zeros, "{col}: the public's small values are zeros");
    }
    assert!(revealing >= 2, "the demo has small counts to withhold");
    // A rate derived from a withheld count is withheld with it.
    let rate = selected("comuni", "tasso_inutilizzo >= 0", None).await;
    let want = expected("comuni", Audience::Pubblico, |p, _| {
        num(p, "tasso_inutilizzo").is_some()
    });
    assert_eq!(rate, want);
    assert!(rate.len() < 24);

    // The units themselves are not the public's: not even through a filter.
    for uri in [
        "/collections/alloggi_pubblici/items?filter=stato%20%3D%20%27libero%27",
        "/collections/alloggi_pubblici/queryables",
        "/collections/alloggi_privati/items?filter=canone_mensile%20%3E%200",
    ] {
        let (s, _, _) = get_as(uri, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let (s, _, _) = get_as(
        "/collections/alloggi_privati/items?filter=canone_mensile%20%3E%200",
        Some(Role::Tavolo),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_filters_are_400_with_position_and_expectation() {
    for (filter, extra, detail) in [
        ("punteggio >", "", "posizione 12: atteso un valore"),
        (
            "punteggio 60",
            "",
            "posizione 11: atteso un operatore di confronto",
        ),
        (
            "colore = 'rosso'",
            "",
            "posizione 1: proprietà sconosciuta \"colore\"",
        ),
        (
            "fonte = 'abc",
            "",
            "posizione 9: testo tra apici non chiuso",
        ),
        (
            "punteggio = 'alto'",
            "",
            "posizione 13: tipi non confrontabili",
        ),
        ("(punteggio > 1", "", "posizione 15: atteso \")\""),
        (
            "punteggio > 1 fonte = 'x'",
            "",
            "posizione 15: atteso AND, OR",
        ),
        ("punteggio != 1", "", "posizione 11"),
        (
            "S_INTERSECTS(geometry, BBOX(500000, 5000000, 600000, 5100000))",
            "",
            "filter-crs",
        ),
        ("S_CROSSES(geometry, POINT(9 45))", "", "S_INTERSECTS"),
        (
            "punteggio > 1",
            "&filter-lang=cql2-json",
            "filter-lang non supportato",
        ),
    ] {
        let uri = format!(
            "/collections/aree_candidate/items?filter={}{extra}",
            enc(filter)
        );
        let (s, ct, v) = get_as(&uri, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{filter}: {v}");
        assert_eq!(ct, "application/problem+json");
        let d = v["detail"].as_str().expect("detail");
        assert!(d.contains(detail), "{filter}: {d}");
    }
    // The draft name GDAL 3.6 sends is CQL2 text.
    let got = selected("aree_candidate", "punteggio > 60", None).await;
    let (s, _, v) = get_as(
        &format!(
            "/collections/aree_candidate/items?limit=1000&filter-lang=cql-text&filter={}",
            enc("punteggio > 60")
        ),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["numberMatched"].as_u64(), Some(got.len() as u64));
    // Unknown parameters are still refused.
    let (s, _, v) = get_as("/collections/aree_candidate/items?filtro=1", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["detail"]
            .as_str()
            .expect("detail")
            .contains("filter-lang"),
        "{v}"
    );
}

#[tokio::test]
async fn queryables_are_the_registry_columns_with_types_and_labels() {
    for layer in layers::visible(Audience::Pubblico) {
        let info = layer.info();
        let (s, ct, v) = get_as(&format!("/collections/{}/queryables", info.name), None).await;
        assert_eq!(s, StatusCode::OK, "{}", info.name);
        assert_eq!(ct, "application/schema+json");
        assert_eq!(v["type"], "object");
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
        let props = v["properties"].as_object().expect("properties");
        let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut want: Vec<&str> = info.columns.iter().map(|c| c.name).collect();
        want.push("geometry");
        want.sort_unstable();
        assert_eq!(names, want, "{}", info.name);
        for c in info.columns {
            let p = &props[c.name];
            assert_eq!(p["title"], c.label, "{}.{}", info.name, c.name);
            let (t, format) = match c.kind {
                Kind::Text => ("string", None),
                Kind::Date => ("string", Some("date")),
                Kind::Integer => ("integer", None),
                Kind::Real => ("number", None),
                Kind::Boolean => ("boolean", None),
            };
            assert_eq!(p["type"], t, "{}.{}", info.name, c.name);
            assert_eq!(p["format"].as_str(), format, "{}.{}", info.name, c.name);
        }
        let geometry_format = match info.geometry {
            layers::GeometryKind::Point => "geometry-point",
            layers::GeometryKind::MultiPolygon => "geometry-multipolygon",
        };
        assert_eq!(props["geometry"]["format"], geometry_format);
        // The collection links to it.
        let (_, _, c) = get_as(&format!("/collections/{}", info.name), None).await;
        let link = c["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables")
            .expect("queryables link");
        assert_eq!(link["type"], "application/schema+json");
        assert!(link["href"]
            .as_str()
            .expect("href")
            .ends_with(&format!("/collections/{}/queryables", info.name)));
    }
    // The conformance classes of Part 3 and CQL2, and the parameters in the OpenAPI document.
    let (_, _, conf) = get_as("/conformance", None).await;
    let conf: Vec<&str> = conf["conformsTo"]
        .as_array()
        .expect("conformsTo")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for c in [
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    ] {
        assert!(conf.contains(&c), "{c}");
    }
    let (_, _, api) = get_as("/api", None).await;
    let params = api["paths"]["/collections/aree_candidate/items"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    for p in ["filter", "filter-lang", "filter-crs", "punteggio", "fonte"] {
        assert!(names.contains(&p), "{p} in {names:?}");
    }
    let lang = params
        .iter()
        .find(|p| p["name"] == "filter-lang")
        .expect("filter-lang");
    assert_eq!(lang["schema"]["default"], "cql2-text");
    assert!(api["paths"]["/collections/aree_candidate/queryables"].is_object());
}

#[tokio::test]
async fn service_points_are_a_public_layer_behind_the_distance_scores() {
    let (d, a) = demo();
    let n = a.model.servizi_puntuali.len();
    assert!(n >= 24, "the demo has service points: {n}");
    let (s, _, v) = get_as("/collections/punti_servizio/items?limit=10000", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let feats = v["features"].as_array().expect("features");
    assert_eq!(feats.len(), n);
    // The demo's input names each point's comune: the layer finds the same one by geometry.
    let input: Value = serde_json::from_str(
        &std::fs::read_to_string(d.root.join("input/servizi_puntuali.geojson")).expect("input"),
    )
    .expect("GeoJSON");
    let declared = input["features"].as_array().expect("input features");
    assert_eq!(declared.len(), n);
    for (f, i) in feats.iter().zip(declared) {
        let p = &f["properties"];
        assert_eq!(p["tipo"], i["properties"]["tipo"]);
        assert_eq!(p["nome"], i["properties"]["nome"]);
        assert_eq!(p["comune_istat"], i["properties"]["comune_istat"], "{p}");
        let comune = a
            .model
            .comuni
            .iter()
            .find(|c| p["comune_istat"] == c.istat.as_str())
            .expect("comune");
        assert_eq!(p["comune"], comune.nome.as_str());
        // The rules' weight of the kind, as the screening uses it.
        match a
            .regole
            .preferenze
            .servizi_puntuali
            .get(p["tipo"].as_str().expect("tipo"))
        {
            Some(pref) => {
                assert_eq!(p["nel_punteggio"], true);
                assert_eq!(p["distanza_max_m"].as_f64(), Some(pref.distanza_max_m));
                assert_eq!(p["punti"].as_f64(), Some(pref.punti));
            }
            None => {
                assert_eq!(p["nel_punteggio"], false);
                assert!(p["distanza_max_m"].is_null() && p["punti"].is_null());
            }
        }
    }
    let kinds: BTreeSet<&str> = feats
        .iter()
        .filter_map(|f| f["properties"]["tipo"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["commercio", "fermata", "sanita", "scuola"]
            .into_iter()
            .collect()
    );
    // Filtered like any layer.
    let got = selected(
        "punti_servizio",
        "tipo = 'scuola' AND nel_punteggio = TRUE",
        None,
    )
    .await;
    let want = expected("punti_servizio", Audience::Pubblico, |p, _| {
        text(p, "tipo") == Some("scuola") && p["nel_punteggio"] == true
    });
    assert!(!want.is_empty() && want.len() < n);
    assert_eq!(got, want);
    // And in the tiles, for everyone.
    let (s, _, tj) = get_as("/tiles.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(tj["vector_layers"]
        .as_array()
        .expect("vector_layers")
        .iter()
        .any(|l| l["id"] == "punti_servizio"));
}
