//! The OpenAPI 3.0 description at `/api`.

use serde_json::{json, Value};

use super::{MT_GEOJSON, MT_JSON, MT_OPENAPI, OGC_DEFAULT_LIMIT, OGC_MAX_LIMIT};
use crate::analysis::Analisi;
use crate::output::layers::{self, Audience};

pub(super) fn openapi(base: &str, state: &Analisi, caller: Audience) -> Value {
    let f = json!({"name": "f", "in": "query", "required": false,
        "description": "Formato della risposta",
        "schema": {"type": "string", "enum": ["json", "html"]}});
    let limit = json!({"name": "limit", "in": "query", "required": false, "style": "form",
        "explode": false,
        "description": "Numero massimo di elementi per pagina (valori più grandi del massimo sono ridotti al massimo)",
        "schema": {"type": "integer", "minimum": 1, "maximum": OGC_MAX_LIMIT, "default": OGC_DEFAULT_LIMIT}});
    let offset = json!({"name": "offset", "in": "query", "required": false,
        "description": "Elementi da saltare (paginazione)",
        "schema": {"type": "integer", "minimum": 0, "default": 0}});
    let bbox = json!({"name": "bbox", "in": "query", "required": false, "style": "form",
        "explode": false,
        "description": "minlon,minlat,maxlon,maxlat (CRS84)",
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}});
    let datetime = json!({"name": "datetime", "in": "query", "required": false,
        "description": "Istante o intervallo RFC 3339 (i dati non hanno dimensione temporale: accettato e ignorato)",
        "schema": {"type": "string"}});
    let simple = |summary: &str, media: &str| {
        json!({"get": {"summary": summary, "parameters": [f.clone()],
            "responses": {"200": {"description": summary, "content": {media: {"schema": {"type": "object"}}}},
                          "400": {"description": "Parametri non validi"}}}})
    };
    let mut paths = serde_json::Map::new();
    paths.insert("/".into(), simple("Pagina iniziale", MT_JSON));
    paths.insert("/api".into(), simple("Descrizione dell'API", MT_OPENAPI));
    paths.insert(
        "/conformance".into(),
        simple("Classi di conformità", MT_JSON),
    );
    paths.insert("/collections".into(), simple("Collezioni", MT_JSON));
    for layer in layers::visible(caller) {
        let id = layer.name();
        paths.insert(
            format!("/collections/{id}"),
            simple(layer.info().title, MT_JSON),
        );
        paths.insert(
            format!("/collections/{id}/items"),
            json!({"get": {
                "summary": format!("Elementi di {id}"),
                "parameters": [f.clone(), limit.clone(), offset.clone(), bbox.clone(), datetime.clone()],
                "responses": {
                    "200": {"description": "FeatureCollection GeoJSON",
                            "content": {MT_GEOJSON: {"schema": {"type": "object"}}}},
                    "400": {"description": "Parametri non validi"},
                }}}),
        );
        paths.insert(
            format!("/collections/{id}/items/{{featureId}}"),
            json!({"get": {
            "summary": format!("Un elemento di {id}"),
            "parameters": [f.clone(), {"name": "featureId", "in": "path", "required": true,
                                       "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "Feature GeoJSON",
                        "content": {MT_GEOJSON: {"schema": {"type": "object"}}}},
                "404": {"description": "Elemento inesistente"},
            }}}),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": format!("abitare: {}", state.model.ambito.nome),
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OGC API - Features del patrimonio abitativo pubblico",
        },
        "servers": [{"url": format!("{base}/")}],
        "paths": paths,
    })
}
