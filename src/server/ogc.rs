//! OGC API - Features, Part 1 (Core) over the layers that `output::geojson` serves publicly:
//! landing page, OpenAPI 3.0 description, conformance, collections, items with `limit`/`offset`
//! paging, `bbox`, `datetime` and equality filters on properties, single features. JSON,
//! GeoJSON and simple Italian HTML pages, chosen by `f` or the `Accept` header.
//!
//! Feature ids are the ids `layer_features` gives when they are unique within the layer;
//! otherwise the feature's position in the layer (a number). The choice, the property names
//! and the layer extent are computed once per layer and kept beside the router.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, Weak};

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use geo::Rect;
use geojson::feature::Id;
use geojson::Feature;
use serde_json::{json, Value};

use super::{ApiError, AppState, Caller};
use crate::analysis::Analisi;
use crate::output::geojson as render;
use crate::output::layers::{self, Audience, Layer};

/// `limit` when none is given.
pub const OGC_DEFAULT_LIMIT: usize = 10;
/// Largest page; larger `limit` values are reduced to it.
pub const OGC_MAX_LIMIT: usize = 10_000;

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const MT_JSON: &str = "application/json";
const MT_GEOJSON: &str = "application/geo+json";
const MT_HTML: &str = "text/html; charset=utf-8";
const MT_OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The conformance classes declared at `/conformance`.
pub const CONFORMANCE: [&str; 4] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
];

/// Query parameters with a meaning of their own; any other one filters on a property.
const RESERVED: [&str; 7] = [
    "f", "limit", "offset", "bbox", "datetime", "crs", "bbox-crs",
];

/// The OGC API routes (the landing page is answered by [`root`], mounted at `/`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api", get(api))
        .route("/conformance", get(conformance))
        .route("/collections", get(collections))
        .route("/collections/{collection_id}", get(collection))
        .route("/collections/{collection_id}/items", get(items))
        .route("/collections/{collection_id}/items/{feature_id}", get(item))
        .layer(Extension(Arc::new(MetaCache::default())))
}

// ---------------------------------------------------------------------------------------------
// Per-layer facts, computed once

/// How features of a layer are named in URLs.
#[derive(Debug)]
enum Ids {
    /// The ids of `layer_features`, unique in the layer: id → position.
    Native(HashMap<String, usize>),
    /// Ids repeat: the position in the layer is the id.
    Positional,
}

#[derive(Debug)]
struct LayerMeta {
    ids: Ids,
    /// Property names, in order of first appearance.
    properties: Vec<String>,
    /// Bounding box of all geometries (lon/lat).
    extent: Option<[f64; 4]>,
}

/// Layer facts per loaded model; a `Weak` guards against a cache outliving its model.
#[derive(Debug, Default)]
struct MetaCache {
    layers: Mutex<HashMap<String, CacheEntry>>,
}

type Cache = Arc<MetaCache>;
type CacheEntry = (Weak<Analisi>, Arc<LayerMeta>);

impl MetaCache {
    /// Blocking: may build every feature of the layer once.
    fn get(&self, state: &AppState, layer: Layer) -> Arc<LayerMeta> {
        if let Ok(map) = self.layers.lock() {
            if let Some((weak, meta)) = map.get(layer.name()) {
                if weak.upgrade().is_some_and(|s| Arc::ptr_eq(&s, state)) {
                    return meta.clone();
                }
            }
        }
        let meta = Arc::new(compute_meta(state, layer));
        if let Ok(mut map) = self.layers.lock() {
            map.insert(
                layer.name().to_string(),
                (Arc::downgrade(state), meta.clone()),
            );
        }
        meta
    }
}

const CHUNK: usize = 2_000;

fn compute_meta(state: &Analisi, layer: Layer) -> LayerMeta {
    let n = render::layer_len(state, layer);
    let mut ids: HashMap<String, usize> = HashMap::with_capacity(n);
    let mut unique = true;
    let mut properties = Vec::new();
    let mut seen = HashSet::new();
    let mut extent: Option<[f64; 4]> = render::layer_index(state, layer)
        .envelope()
        .map(rect_to_array);
    let compute_extent = extent.is_none();
    let mut start = 0;
    while start < n {
        let sel: Vec<usize> = (start..(start + CHUNK).min(n)).collect();
        let feats = render::layer_features(state, layer, Some(&sel));
        for (&i, f) in sel.iter().zip(&feats) {
            if unique {
                match native_id(f) {
                    Some(id) => {
                        if ids.insert(id, i).is_some() {
                            unique = false;
                        }
                    }
                    None => unique = false,
                }
            }
            for k in f.properties.iter().flat_map(|p| p.keys()) {
                if seen.insert(k.clone()) {
                    properties.push(k.clone());
                }
            }
            if compute_extent {
                if let Some(b) = f.geometry.as_ref().and_then(geometry_bbox) {
                    extent = Some(match extent {
                        None => b,
                        Some(e) => [
                            e[0].min(b[0]),
                            e[1].min(b[1]),
                            e[2].max(b[2]),
                            e[3].max(b[3]),
                        ],
                    });
                }
            }
        }
        start += CHUNK;
    }
    LayerMeta {
        ids: if unique {
            Ids::Native(ids)
        } else {
            Ids::Positional
        },
        properties,
        extent,
    }
}

fn native_id(f: &Feature) -> Option<String> {
    match &f.id {
        Some(Id::String(s)) => Some(s.clone()),
        Some(Id::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

fn rect_to_array(r: Rect<f64>) -> [f64; 4] {
    [r.min().x, r.min().y, r.max().x, r.max().y]
}

fn geometry_bbox(g: &geojson::Geometry) -> Option<[f64; 4]> {
    fn walk(v: &geojson::Value, b: &mut Option<[f64; 4]>) {
        let mut add = |p: &Vec<f64>| {
            if p.len() >= 2 {
                let (x, y) = (p[0], p[1]);
                *b = Some(match *b {
                    None => [x, y, x, y],
                    Some(e) => [e[0].min(x), e[1].min(y), e[2].max(x), e[3].max(y)],
                });
            }
        };
        use geojson::Value as V;
        match v {
            V::Point(p) => add(p),
            V::MultiPoint(ps) | V::LineString(ps) => ps.iter().for_each(add),
            V::MultiLineString(ls) | V::Polygon(ls) => ls.iter().flatten().for_each(add),
            V::MultiPolygon(pls) => pls.iter().flatten().flatten().for_each(add),
            V::GeometryCollection(gs) => gs.iter().for_each(|g| walk(&g.value, b)),
        }
    }
    let mut b = None;
    walk(&g.value, &mut b);
    b
}

// ---------------------------------------------------------------------------------------------
// Requests: query string, representation

/// Decodes `application/x-www-form-urlencoded` (`+` is a space); `None` on bad UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Encodes everything but RFC 3986 unreserved characters (for path segments and values).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Query parameters, each name at most once.
#[derive(Debug, Default)]
struct Params(BTreeMap<String, String>);

impl Params {
    fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let mut map = BTreeMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = || ApiError::bad_request("query string non valida (codifica UTF-8 errata)");
            let k = percent_decode(k).ok_or_else(bad)?;
            let v = percent_decode(v).ok_or_else(bad)?;
            if map.insert(k.clone(), v).is_some() {
                return Err(ApiError::bad_request(format!(
                    "parametro ripetuto: {k:?} (indicarlo una volta sola)"
                )));
            }
        }
        Ok(Params(map))
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// Rejects any parameter outside `allowed`.
    fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(ApiError::bad_request(format!(
                "parametro sconosciuto: {k:?} (ammessi: {})",
                allowed.join(", ")
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repr {
    Json,
    Html,
}

/// q-value of the most specific media range of `accept` matching one of `types`.
fn accept_q(accept: &str, types: &[&str]) -> f32 {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let specificity = if types.iter().any(|t| *t == media) {
            3
        } else if media.ends_with("/*")
            && types
                .iter()
                .any(|t| t.starts_with(&media[..media.len() - 1]))
        {
            2
        } else if media == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map(|(_, q)| q).unwrap_or(0.0)
}

const HTML_TYPES: [&str; 2] = ["text/html", "application/xhtml+xml"];
const JSON_TYPES: [&str; 6] = [
    "application/json",
    "application/geo+json",
    "application/problem+json",
    "application/vnd.oai.openapi+json",
    "application/openapi+json",
    "application/schema+json",
];

/// `f` wins; then `Accept`; `None` when neither expresses a preference.
fn preference(params: &Params, headers: &HeaderMap) -> Result<Option<Repr>, ApiError> {
    if let Some(f) = params.get("f") {
        return match f {
            "json" | "geojson" => Ok(Some(Repr::Json)),
            "html" => Ok(Some(Repr::Html)),
            other => Err(ApiError::bad_request(format!(
                "formato non valido: f={other:?} (json, html)"
            ))),
        };
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let (h, j) = (accept_q(accept, &HTML_TYPES), accept_q(accept, &JSON_TYPES));
    Ok(if h > j {
        Some(Repr::Html)
    } else if j > h {
        Some(Repr::Json)
    } else {
        None
    })
}

fn representation(params: &Params, headers: &HeaderMap) -> Result<Repr, ApiError> {
    Ok(preference(params, headers)?.unwrap_or(Repr::Json))
}

fn respond(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    r
}

fn json_response(content_type: &'static str, v: &Value) -> Response {
    respond(content_type, v.to_string())
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        detail: format!("errore interno: {e}"),
    }
}

/// Scheme and authority of the request (`X-Forwarded-Proto`/`-Host` honoured), so that
/// links are absolute; empty (root-relative links) when the request names no host.
fn base_url(headers: &HeaderMap) -> String {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).map(str::trim);
    let host = get("x-forwarded-host")
        .and_then(|h| h.split(',').next())
        .map(str::trim)
        .or_else(|| get("host"))
        .unwrap_or("");
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid {
        return String::new();
    }
    let scheme = match get("x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

fn link(base: &str, href: impl Into<String>, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": format!("{base}{}", href.into()), "rel": rel, "type": kind, "title": title})
}

// ---------------------------------------------------------------------------------------------
// Collections

/// The layer `id` if the caller may see it, with its feature count.
fn served(state: &Analisi, id: &str, caller: Audience) -> Result<(Layer, usize), ApiError> {
    let layer = layers::layer(id, caller).map_err(|_| {
        ApiError::not_found(format!(
            "collezione sconosciuta: {id:?} (disponibili: {})",
            layers::visible_names(caller)
        ))
    })?;
    Ok((layer, render::layer_len(state, layer)))
}

fn collection_json(
    base: &str,
    state: &AppState,
    cache: &MetaCache,
    layer: Layer,
    count: usize,
) -> Value {
    let id = layer.name();
    let extent = render::layer_index(state, layer)
        .envelope()
        .map(rect_to_array)
        .or_else(|| cache.get(state, layer).extent);
    let enc = percent_encode(id);
    let mut c = json!({
        "id": id,
        "title": layer.info().title,
        "description": layer.info().description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "numberMatched": count,
        "links": [
            link(base, format!("/collections/{enc}"), "self", MT_JSON, "Questa collezione"),
            link(base, format!("/collections/{enc}?f=html"), "alternate", "text/html", "Questa collezione in HTML"),
            link(base, format!("/collections/{enc}/items"), "items", MT_GEOJSON, "Elementi (GeoJSON)"),
            link(base, format!("/collections/{enc}/items?f=html"), "items", "text/html", "Elementi (HTML)"),
        ],
    });
    if let Some(b) = extent {
        c["extent"] = json!({"spatial": {"bbox": [b], "crs": CRS84}});
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Landing page, API, conformance

fn landing_json(base: &str, state: &Analisi) -> Value {
    json!({
        "title": format!("abitare: {}", state.model.ambito.nome),
        "description": "Patrimonio abitativo pubblico dell'Ambito territoriale: OGC API - Features.",
        "links": [
            link(base, "/?f=json", "self", MT_JSON, "Questa pagina"),
            link(base, "/?f=html", "alternate", "text/html", "Questa pagina in HTML"),
            link(base, "/api", "service-desc", MT_OPENAPI, "Descrizione dell'API (OpenAPI 3.0)"),
            link(base, "/api?f=html", "service-doc", "text/html", "Documentazione dell'API"),
            link(base, "/conformance", "conformance", MT_JSON, "Classi di conformità"),
            link(base, "/collections", "data", MT_JSON, "Collezioni"),
        ],
    })
}

/// `/`: the OGC landing page for JSON (`f=json`, `Accept: application/json`) or `f=html`,
/// the web map otherwise.
pub async fn root(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = match Params::parse(q.as_deref()) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let explicit_f = params.get("f").is_some();
    match preference(&params, &headers) {
        Err(e) => e.into_response(),
        Ok(Some(Repr::Json)) => json_response(MT_JSON, &landing_json(&base_url(&headers), &s)),
        Ok(Some(Repr::Html)) if explicit_f => respond(MT_HTML, landing_html(&s)),
        Ok(_) => super::index().await,
    }
}

async fn conformance(RawQuery(q): RawQuery, headers: HeaderMap) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    Ok(match representation(&params, &headers)? {
        Repr::Json => json_response(MT_JSON, &json!({ "conformsTo": CONFORMANCE })),
        Repr::Html => {
            let mut b = page_start("Classi di conformità");
            b.push_str("<ul>");
            for c in CONFORMANCE {
                let _ = write!(b, "<li><code>{}</code></li>", esc(c));
            }
            b.push_str("</ul>");
            respond(MT_HTML, page_end(b, "/conformance?f=json"))
        }
    })
}

async fn api(
    State(s): State<AppState>,
    Caller(caller): Caller,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    Ok(match representation(&params, &headers)? {
        Repr::Json => json_response(MT_OPENAPI, &openapi(&base_url(&headers), &s, caller)),
        Repr::Html => {
            let mut b = page_start("Descrizione dell'API");
            b.push_str(
                "<p>L'API segue OGC API - Features, Parte 1. La descrizione completa in \
                 OpenAPI 3.0 è in <a href=\"/api?f=json\">JSON</a>.</p><ul>",
            );
            for p in [
                "/",
                "/conformance",
                "/collections",
                "/collections/{collectionId}",
                "/collections/{collectionId}/items",
                "/collections/{collectionId}/items/{featureId}",
            ] {
                let _ = write!(b, "<li><code>GET {}</code></li>", esc(p));
            }
            b.push_str("</ul>");
            respond(MT_HTML, page_end(b, "/api?f=json"))
        }
    })
}

fn openapi(base: &str, state: &Analisi, caller: Audience) -> Value {
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

async fn collections(
    State(s): State<AppState>,
    Caller(caller): Caller,
    Extension(cache): Extension<Cache>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    let repr = representation(&params, &headers)?;
    let base = &base_url(&headers);
    let b = base.to_string();
    let state = s.clone();
    let list: Vec<Value> = tokio::task::spawn_blocking(move || {
        layers::visible(caller)
            .map(|layer| {
                let n = render::layer_len(&state, layer);
                collection_json(&b, &state, &cache, layer, n)
            })
            .collect()
    })
    .await
    .map_err(internal)?;
    Ok(match repr {
        Repr::Json => json_response(
            MT_JSON,
            &json!({
                "links": [
                    link(base, "/collections", "self", MT_JSON, "Collezioni"),
                    link(base, "/collections?f=html", "alternate", "text/html", "Collezioni in HTML"),
                ],
                "collections": list,
            }),
        ),
        Repr::Html => {
            let mut b = page_start("Collezioni");
            b.push_str(
                "<table><tr><th>Collezione</th><th>Descrizione</th><th>Elementi</th><th></th></tr>",
            );
            for c in &list {
                let id = c["id"].as_str().unwrap_or("");
                let enc = percent_encode(id);
                let _ = write!(
                    b,
                    "<tr><td><a href=\"/collections/{enc}?f=html\">{}</a></td><td>{}</td>\
                     <td class=\"n\">{}</td><td><a href=\"/collections/{enc}/items?f=html\">elementi</a></td></tr>",
                    esc(c["title"].as_str().unwrap_or(id)),
                    esc(c["description"].as_str().unwrap_or("")),
                    c["numberMatched"],
                );
            }
            b.push_str("</table>");
            respond(MT_HTML, page_end(b, "/collections?f=json"))
        }
    })
}

async fn collection(
    State(s): State<AppState>,
    Caller(caller): Caller,
    Extension(cache): Extension<Cache>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(id) = path.map_err(|e| ApiError::bad_request(format!("percorso non valido: {e}")))?;
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    let repr = representation(&params, &headers)?;
    let (layer, n) = served(&s, &id, caller)?;
    let state = s.clone();
    let b = base_url(&headers);
    let c = tokio::task::spawn_blocking(move || collection_json(&b, &state, &cache, layer, n))
        .await
        .map_err(internal)?;
    Ok(match repr {
        Repr::Json => json_response(MT_JSON, &c),
        Repr::Html => {
            let enc = percent_encode(&id);
            let mut b = page_start(layer.info().title);
            let _ = write!(
                b,
                "<p>{}</p><dl><dt>Identificativo</dt><dd><code>{}</code></dd>\
                 <dt>Elementi</dt><dd>{n}</dd><dt>Sistema di riferimento</dt><dd><code>{CRS84}</code></dd>",
                esc(layer.info().description),
                esc(&id)
            );
            if let Some(bb) = c["extent"]["spatial"]["bbox"][0].as_array() {
                let nums: Vec<String> = bb.iter().map(|v| v.to_string()).collect();
                let _ = write!(
                    b,
                    "<dt>Estensione (lon/lat)</dt><dd>{}</dd>",
                    nums.join(", ")
                );
            }
            let _ = write!(
                b,
                "</dl><p><a href=\"/collections/{enc}/items?f=html\">Elementi</a> · \
                 <a href=\"/collections/{enc}/items?f=json\">GeoJSON</a></p>"
            );
            respond(MT_HTML, page_end(b, &format!("/collections/{enc}?f=json")))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Items

#[derive(Debug, Clone)]
struct ItemsQuery {
    limit: usize,
    offset: usize,
    /// One box, or two when the box crosses the antimeridian.
    bbox: Vec<Rect<f64>>,
    bbox_raw: Option<String>,
    datetime: Option<String>,
    filters: Vec<(String, String)>,
}

fn parse_limit(s: &str) -> Result<usize, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "limit non valido: {s:?} (intero positivo; massimo {OGC_MAX_LIMIT})"
        ))
    };
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // All digits: a number too large for usize is above the maximum anyway.
    let n = s.parse::<usize>().unwrap_or(usize::MAX);
    if n == 0 {
        return Err(bad());
    }
    Ok(n.min(OGC_MAX_LIMIT))
}

fn parse_offset(s: &str) -> Result<usize, ApiError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(format!(
            "offset non valido: {s:?} (intero non negativo)"
        )));
    }
    Ok(s.parse::<usize>().unwrap_or(usize::MAX))
}

fn parse_bbox(s: &str) -> Result<Vec<Rect<f64>>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "bbox non valido: {s:?} (atteso minlon,minlat,maxlon,maxlat in gradi, CRS84)"
        ))
    };
    let n: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let (x0, y0, x1, y1) = match n.len() {
        4 => (n[0], n[1], n[2], n[3]),
        6 => (n[0], n[1], n[3], n[4]),
        _ => return Err(bad()),
    };
    if n.iter().any(|v| !v.is_finite())
        || y0 > y1
        || !(-90.0..=90.0).contains(&y0)
        || !(-90.0..=90.0).contains(&y1)
        || !(-180.0..=180.0).contains(&x0)
        || !(-180.0..=180.0).contains(&x1)
    {
        return Err(bad());
    }
    Ok(if x0 <= x1 {
        vec![Rect::new((x0, y0), (x1, y1))]
    } else {
        // Across the antimeridian.
        vec![
            Rect::new((x0, y0), (180.0, y1)),
            Rect::new((-180.0, y0), (x1, y1)),
        ]
    })
}

/// An RFC 3339 instant (date-time or date), or an interval with `..`/empty open ends.
fn parse_datetime(s: &str) -> Result<(), ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "datetime non valido: {s:?} (istante RFC 3339 o intervallo inizio/fine, con '..' per un estremo aperto)"
        ))
    };
    let instant = |t: &str| -> Option<chrono::NaiveDateTime> {
        if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
            return Some(d.naive_utc());
        }
        chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    };
    match s.split_once('/') {
        None => instant(s).map(|_| ()).ok_or_else(bad),
        Some((a, b)) => {
            let end = |t: &str| -> Result<Option<chrono::NaiveDateTime>, ApiError> {
                if t.is_empty() || t == ".." {
                    Ok(None)
                } else {
                    instant(t).map(Some).ok_or_else(bad)
                }
            };
            match (end(a)?, end(b)?) {
                (None, None) if a == b && a.is_empty() => Err(bad()),
                (Some(x), Some(y)) if x > y => Err(bad()),
                _ => Ok(()),
            }
        }
    }
}

fn check_crs(params: &Params) -> Result<(), ApiError> {
    for k in ["crs", "bbox-crs"] {
        if let Some(v) = params.get(k) {
            let v = v.trim_start_matches('[').trim_end_matches(']');
            if v != CRS84 {
                return Err(ApiError::bad_request(format!(
                    "{k} non supportato: {v:?} (disponibile solo {CRS84})"
                )));
            }
        }
    }
    Ok(())
}

fn parse_items_query(params: &Params, meta_properties: &[String]) -> Result<ItemsQuery, ApiError> {
    check_crs(params)?;
    let mut filters = Vec::new();
    for (k, v) in &params.0 {
        if RESERVED.contains(&k.as_str()) {
            continue;
        }
        if !meta_properties.iter().any(|p| p == k) {
            return Err(ApiError::bad_request(format!(
                "parametro sconosciuto: {k:?} (ammessi: {} e le proprietà della collezione: {})",
                RESERVED.join(", "),
                meta_properties.join(", ")
            )));
        }
        filters.push((k.clone(), v.clone()));
    }
    if let Some(d) = params.get("datetime") {
        parse_datetime(d)?;
    }
    Ok(ItemsQuery {
        limit: params
            .get("limit")
            .map(parse_limit)
            .transpose()?
            .unwrap_or(OGC_DEFAULT_LIMIT),
        offset: params
            .get("offset")
            .map(parse_offset)
            .transpose()?
            .unwrap_or(0),
        bbox: params
            .get("bbox")
            .map(parse_bbox)
            .transpose()?
            .unwrap_or_default(),
        bbox_raw: params.get("bbox").map(str::to_string),
        datetime: params.get("datetime").map(str::to_string),
        filters,
    })
}

/// Equality of a property with a query value: strings exactly, numbers numerically,
/// booleans as `true`/`false`; `null`, arrays and objects never match.
fn matches(v: Option<&Value>, want: &str) -> bool {
    match v {
        Some(Value::String(s)) => s == want,
        Some(Value::Number(n)) => {
            n.to_string() == want
                || match (n.as_f64(), want.trim().parse::<f64>()) {
                    (Some(a), Ok(b)) => a == b,
                    _ => false,
                }
        }
        Some(Value::Bool(b)) => want == if *b { "true" } else { "false" },
        _ => false,
    }
}

/// Positions of the matching features, ascending (the paging order).
fn matching_positions(state: &Analisi, layer: Layer, q: &ItemsQuery) -> Vec<usize> {
    let n = render::layer_len(state, layer);
    let index = Some(render::layer_index(state, layer));
    let mut candidates: Vec<usize> = match (&q.bbox[..], index) {
        ([], _) => (0..n).collect(),
        (boxes, Some(index)) => {
            let mut v: Vec<usize> = boxes.iter().flat_map(|b| index.query_bbox(*b)).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        // A layer without an R-tree: boxes from the GeoJSON geometries.
        (_, None) => (0..n).collect(),
    };
    let needs_features = !q.filters.is_empty() || (!q.bbox.is_empty() && index.is_none());
    if !needs_features {
        return candidates;
    }
    let mut kept = Vec::new();
    for chunk in candidates.chunks(CHUNK) {
        let feats = render::layer_features(state, layer, Some(chunk));
        for (&i, f) in chunk.iter().zip(&feats) {
            let props = f.properties.as_ref();
            let ok_filters = q
                .filters
                .iter()
                .all(|(k, want)| matches(props.and_then(|p| p.get(k)), want));
            let ok_bbox = q.bbox.is_empty()
                || index.is_some()
                || f.geometry
                    .as_ref()
                    .and_then(geometry_bbox)
                    .is_some_and(|b| {
                        q.bbox.iter().any(|r| {
                            b[0] <= r.max().x
                                && b[2] >= r.min().x
                                && b[1] <= r.max().y
                                && b[3] >= r.min().y
                        })
                    });
            if ok_filters && ok_bbox {
                kept.push(i);
            }
        }
    }
    candidates = kept;
    candidates
}

/// The features at `positions`, with their OGC ids.
fn page_features(
    state: &Analisi,
    layer: Layer,
    meta: &LayerMeta,
    positions: &[usize],
) -> Vec<Feature> {
    let mut feats = render::layer_features(state, layer, Some(positions));
    if let Ids::Positional = meta.ids {
        for (f, &i) in feats.iter_mut().zip(positions) {
            f.id = Some(Id::Number(i.into()));
        }
    }
    feats
}

fn feature_id_string(f: &Feature) -> String {
    native_id(f).unwrap_or_default()
}

fn items_url(id: &str, q: &ItemsQuery, offset: usize, f: Option<&str>) -> String {
    let mut parts: Vec<String> = q
        .filters
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    if let Some(b) = &q.bbox_raw {
        parts.push(format!("bbox={}", percent_encode(b)));
    }
    if let Some(d) = &q.datetime {
        parts.push(format!("datetime={}", percent_encode(d)));
    }
    parts.push(format!("limit={}", q.limit));
    parts.push(format!("offset={offset}"));
    if let Some(f) = f {
        parts.push(format!("f={f}"));
    }
    format!(
        "/collections/{}/items?{}",
        percent_encode(id),
        parts.join("&")
    )
}

async fn items(
    State(s): State<AppState>,
    Caller(caller): Caller,
    Extension(cache): Extension<Cache>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(id) = path.map_err(|e| ApiError::bad_request(format!("percorso non valido: {e}")))?;
    let params = Params::parse(raw.as_deref())?;
    let repr = representation(&params, &headers)?;
    let (layer, _) = served(&s, &id, caller)?;
    let base = &base_url(&headers);
    let state = s.clone();
    let (page, total, q) = tokio::task::spawn_blocking(move || {
        let meta = cache.get(&state, layer);
        let q = parse_items_query(&params, &meta.properties)?;
        let matched = matching_positions(&state, layer, &q);
        let total = matched.len();
        let from = q.offset.min(total);
        let to = from.saturating_add(q.limit).min(total);
        let feats = page_features(&state, layer, &meta, &matched[from..to]);
        Ok::<_, ApiError>(((id, feats), total, q))
    })
    .await
    .map_err(internal)??;
    let (id, feats) = page;
    let returned = feats.len();
    let from = q.offset.min(total);
    let has_next = from + returned < total;
    let has_prev = from > 0;
    let prev_offset = from.saturating_sub(q.limit);
    match repr {
        Repr::Json => {
            let mut links = vec![
                link(
                    base,
                    items_url(&id, &q, q.offset, None),
                    "self",
                    MT_GEOJSON,
                    "Questa pagina",
                ),
                link(
                    base,
                    items_url(&id, &q, q.offset, Some("html")),
                    "alternate",
                    "text/html",
                    "Questa pagina in HTML",
                ),
                link(
                    base,
                    format!("/collections/{}", percent_encode(&id)),
                    "collection",
                    MT_JSON,
                    layer.info().title,
                ),
            ];
            if has_next {
                links.push(link(
                    base,
                    items_url(&id, &q, from + returned, None),
                    "next",
                    MT_GEOJSON,
                    "Pagina successiva",
                ));
            }
            if has_prev {
                links.push(link(
                    base,
                    items_url(&id, &q, prev_offset, None),
                    "prev",
                    MT_GEOJSON,
                    "Pagina precedente",
                ));
            }
            let body = json!({
                "type": "FeatureCollection",
                "numberMatched": total,
                "numberReturned": returned,
                "timeStamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "links": links,
                "features": feats,
            });
            let mut r = json_response(MT_GEOJSON, &body);
            r.headers_mut().insert(
                "content-crs",
                HeaderValue::from_static("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"),
            );
            Ok(r)
        }
        Repr::Html => {
            let enc = percent_encode(&id);
            let mut b = page_start(&format!("{}: elementi", layer.info().title));
            let _ = write!(
                b,
                "<p>Elementi {}–{} di {total}. <a href=\"/collections/{enc}?f=html\">Collezione</a></p>",
                if returned == 0 { 0 } else { from + 1 },
                from + returned
            );
            let mut cols: Vec<String> = Vec::new();
            for f in &feats {
                for k in f.properties.iter().flat_map(|p| p.keys()) {
                    if !cols.contains(k) {
                        cols.push(k.clone());
                    }
                }
            }
            b.push_str("<table><tr><th>identificativo</th>");
            for c in &cols {
                let _ = write!(b, "<th>{}</th>", esc(c));
            }
            b.push_str("</tr>");
            for f in &feats {
                let fid = feature_id_string(f);
                let _ = write!(
                    b,
                    "<tr><td><a href=\"/collections/{enc}/items/{}?f=html\">{}</a></td>",
                    percent_encode(&fid),
                    esc(&fid)
                );
                for c in &cols {
                    let v = f.properties.as_ref().and_then(|p| p.get(c));
                    let _ = write!(b, "<td>{}</td>", esc(&cell(v)));
                }
                b.push_str("</tr>");
            }
            b.push_str("</table><p>");
            if has_prev {
                let _ = write!(
                    b,
                    "<a href=\"{}\">« precedenti</a> ",
                    esc(&items_url(&id, &q, prev_offset, Some("html")))
                );
            }
            if has_next {
                let _ = write!(
                    b,
                    "<a href=\"{}\">successivi »</a>",
                    esc(&items_url(&id, &q, from + returned, Some("html")))
                );
            }
            b.push_str("</p>");
            let json_url = items_url(&id, &q, q.offset, Some("json"));
            Ok(respond(MT_HTML, page_end(b, &json_url)))
        }
    }
}

async fn item(
    State(s): State<AppState>,
    Caller(caller): Caller,
    Extension(cache): Extension<Cache>,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path((id, fid)) =
        path.map_err(|e| ApiError::bad_request(format!("percorso non valido: {e}")))?;
    let params = Params::parse(raw.as_deref())?;
    params.only(&["f", "crs"])?;
    check_crs(&params)?;
    let repr = representation(&params, &headers)?;
    let (layer, n) = served(&s, &id, caller)?;
    let base = &base_url(&headers);
    let state = s.clone();
    let fidc = fid.clone();
    let feat = tokio::task::spawn_blocking(move || {
        let meta = cache.get(&state, layer);
        let pos = match &meta.ids {
            Ids::Native(map) => map.get(&fidc).copied(),
            Ids::Positional => fidc
                .parse::<usize>()
                .ok()
                .filter(|i| *i < n && fidc.bytes().all(|b| b.is_ascii_digit())),
        };
        pos.and_then(|i| page_features(&state, layer, &meta, &[i]).into_iter().next())
    })
    .await
    .map_err(internal)?
    .ok_or_else(|| {
        ApiError::not_found(format!(
            "elemento inesistente: {fid:?} nella collezione {id:?}"
        ))
    })?;
    let enc = percent_encode(&id);
    let fenc = percent_encode(&fid);
    match repr {
        Repr::Json => {
            let mut v = serde_json::to_value(&feat).map_err(internal)?;
            v["links"] = json!([
                link(
                    base,
                    format!("/collections/{enc}/items/{fenc}"),
                    "self",
                    MT_GEOJSON,
                    "Questo elemento"
                ),
                link(
                    base,
                    format!("/collections/{enc}/items/{fenc}?f=html"),
                    "alternate",
                    "text/html",
                    "Questo elemento in HTML"
                ),
                link(
                    base,
                    format!("/collections/{enc}"),
                    "collection",
                    MT_JSON,
                    layer.info().title
                ),
            ]);
            let mut r = json_response(MT_GEOJSON, &v);
            r.headers_mut().insert(
                "content-crs",
                HeaderValue::from_static("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"),
            );
            Ok(r)
        }
        Repr::Html => {
            let mut b = page_start(&format!("{}: {}", layer.info().title, fid));
            b.push_str("<table>");
            for (k, v) in feat.properties.iter().flatten() {
                let _ = write!(
                    b,
                    "<tr><th>{}</th><td>{}</td></tr>",
                    esc(k),
                    esc(&cell(Some(v)))
                );
            }
            let geom = feat
                .geometry
                .as_ref()
                .map(|g| g.value.type_name().to_string())
                .unwrap_or_else(|| "nessuna".into());
            let _ = write!(
                b,
                "<tr><th>geometria</th><td>{}</td></tr></table>",
                esc(&geom)
            );
            let _ = write!(
                b,
                "<p><a href=\"/collections/{enc}/items?f=html\">Tutti gli elementi</a></p>"
            );
            Ok(respond(
                MT_HTML,
                page_end(b, &format!("/collections/{enc}/items/{fenc}?f=json")),
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTML

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(true)) => "sì".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(other) => other.to_string(),
    }
}

fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>{t} · abitare</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}\
         td.n{{text-align:right}}nav a{{margin-right:1em}}</style></head><body>\
         <nav><a href=\"/?f=html\">Inizio</a><a href=\"/collections?f=html\">Collezioni</a>\
         <a href=\"/api?f=html\">API</a><a href=\"/\">Mappa</a></nav><h1>{t}</h1>",
        t = esc(title)
    )
}

fn page_end(mut body: String, json_href: &str) -> String {
    let _ = write!(
        body,
        "<footer><p><a href=\"{}\">Questa pagina in JSON</a></p></footer></body></html>",
        esc(json_href)
    );
    body
}

fn landing_html(state: &Analisi) -> String {
    let a = &state.model.ambito;
    let mut b = page_start(&format!("abitare: {}", a.nome));
    if a.dimostrativo {
        b.push_str("<p><strong>Dati dimostrativi.</strong></p>");
    }
    b.push_str(
        "<p>Patrimonio abitativo pubblico dell'Ambito territoriale, secondo OGC API - Features.</p>\
         <ul><li><a href=\"/collections?f=html\">Collezioni</a></li>\
         <li><a href=\"/conformance?f=html\">Classi di conformità</a></li>\
         <li><a href=\"/api?f=html\">Descrizione dell'API</a> (<a href=\"/api\">OpenAPI 3.0</a>)</li>\
         <li><a href=\"/\">Mappa web</a></li></ul>",
    );
    page_end(b, "/?f=json")
}
