//! The OpenAPI 3.0 description at `/api`.

use serde_json::{json, Value};

use super::params::FILTER_LANGS;
use super::{crs, MT_GEOJSON, MT_JSON, MT_OPENAPI, MT_SCHEMA, OGC_DEFAULT_LIMIT, OGC_MAX_LIMIT};
use crate::analysis::Analisi;
use crate::output::layers::{self, Audience, Kind};

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
    let crs_list = crs::supported();
    let crs = json!({"name": "crs", "in": "query", "required": false,
        "description": "Sistema di riferimento delle geometrie della risposta (OGC API - Features, Parte 2)",
        "schema": {"type": "string", "format": "uri", "enum": crs_list, "default": super::CRS84}});
    let bbox_crs = json!({"name": "bbox-crs", "in": "query", "required": false,
        "description": "Sistema di riferimento delle coordinate di bbox, nell'ordine degli assi del sistema",
        "schema": {"type": "string", "format": "uri", "enum": crs_list, "default": super::CRS84}});
    let filter = json!({"name": "filter", "in": "query", "required": false,
        "description": "Filtro CQL2 testo sulle proprietà interrogabili (es. punteggio > 60 AND fonte = 'ambito_trasformazione'); S_INTERSECTS(geometry, BBOX(…)) per la geometria",
        "schema": {"type": "string"}});
    let filter_lang = json!({"name": "filter-lang", "in": "query", "required": false,
        "description": "Linguaggio del filtro (cql-text è il nome della bozza, accettato come cql2-text)",
        "schema": {"type": "string", "enum": FILTER_LANGS, "default": "cql2-text"}});
    let filter_crs = json!({"name": "filter-crs", "in": "query", "required": false,
        "description": "Sistema di riferimento delle coordinate delle geometrie nel filtro",
        "schema": {"type": "string", "format": "uri", "enum": crs_list, "default": super::CRS84}});
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
            format!("/collections/{id}/queryables"),
            simple(&format!("Proprietà interrogabili di {id}"), MT_SCHEMA),
        );
        let mut parameters = vec![
            f.clone(),
            limit.clone(),
            offset.clone(),
            bbox.clone(),
            bbox_crs.clone(),
            datetime.clone(),
            crs.clone(),
            filter.clone(),
            filter_lang.clone(),
            filter_crs.clone(),
        ];
        // Equality on each queryable property (`?fonte=ambito_trasformazione`).
        for c in layer.info().columns {
            let t = match c.kind {
                Kind::Text | Kind::Date => "string",
                Kind::Integer => "integer",
                Kind::Real => "number",
                Kind::Boolean => "boolean",
            };
            parameters.push(json!({"name": c.name, "in": "query", "required": false,
                "description": format!("{} (uguaglianza)", c.label),
                "schema": {"type": t}}));
        }
        paths.insert(
            format!("/collections/{id}/items"),
            json!({"get": {
            "summary": format!("Elementi di {id}"),
            "parameters": parameters,
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
            "parameters": [f.clone(), crs.clone(), {"name": "featureId", "in": "path", "required": true,
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
