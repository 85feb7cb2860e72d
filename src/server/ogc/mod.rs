//! OGC API - Features over the layers that `output::geojson` serves for the caller: Part 1
//! (Core: landing page, OpenAPI 3.0 description, conformance, collections, items with
//! `limit`/`offset` paging, `bbox`, `datetime` and equality filters on properties, single
//! features), Part 2 (answers and `bbox` in the CRSs of `crs::OUTPUT`, see [`crs`]) and Part 3
//! (queryables, CQL2 text `filter`, see [`cql2`]). JSON, GeoJSON and simple Italian HTML pages,
//! chosen by `f` or the `Accept` header.
//!
//! Feature ids are the ids `layer_features` gives when they are unique within the layer;
//! otherwise the feature's position in the layer (a number). The choice, the property names
//! and the layer extent are computed once per layer and kept beside the router.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use geojson::feature::Id;
use geojson::Feature;
use serde_json::{json, Value};

mod cql2;
mod crs;
mod html;
mod meta;
mod openapi;
mod params;
mod queryables;
mod response;
mod select;

use crs::{OgcCrs, Writer};
use html::{cell, esc, landing_html, page_end, page_start};
use meta::{native_id, rect_to_array, Cache, Ids, LayerMeta, MetaCache};
use openapi::openapi;
use params::{crs_param, parse_items_query, percent_encode, ItemsQuery, Params};
use response::{internal, json_response, link, preference, representation, respond, Repr};
use select::matching_positions;

use super::base::BaseUrl;
use super::heavy::{Heavy, HeavyError};
use super::routes::{Access, Routes};
use super::{ApiError, AppState, Caller};
use crate::analysis::Analisi;
use crate::output::geojson as render;
use crate::output::layers::{self, Audience, Layer};

/// `limit` when none is given.
pub const OGC_DEFAULT_LIMIT: usize = 10;
/// Largest page; larger `limit` values are reduced to it.
pub const OGC_MAX_LIMIT: usize = 10_000;

pub(super) const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
pub(super) const MT_JSON: &str = "application/json";
pub(super) const MT_GEOJSON: &str = "application/geo+json";
pub(super) const MT_HTML: &str = "text/html; charset=utf-8";
pub(super) const MT_OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The conformance classes declared at `/conformance`.
pub const CONFORMANCE: [&str; 15] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
];

/// Query parameters with a meaning of their own; any other one filters on a property.
pub(super) const RESERVED: [&str; 10] = [
    "f",
    "limit",
    "offset",
    "bbox",
    "datetime",
    "crs",
    "bbox-crs",
    "filter",
    "filter-lang",
    "filter-crs",
];

/// Link relation of the queryables (OGC API - Features Part 3).
pub(super) const REL_QUERYABLES: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";
pub(super) const MT_SCHEMA: &str = "application/schema+json";

/// The OGC API routes (the landing page is answered by [`root`], mounted at `/`).
pub fn routes() -> Routes {
    Routes::new()
        .get("/api", Access::Public, api)
        .get("/conformance", Access::Public, conformance)
        .get("/collections", Access::Public, collections)
        .get("/collections/{collection_id}", Access::Layer, collection)
        .get("/collections/{collection_id}/items", Access::Layer, items)
        .get(
            "/collections/{collection_id}/items/{feature_id}",
            Access::Layer,
            item,
        )
        .get(
            "/collections/{collection_id}/queryables",
            Access::Layer,
            queryables::queryables,
        )
        .map(|r| r.layer(Extension(Arc::new(MetaCache::default()))))
}

// ---------------------------------------------------------------------------------------------
// Collections

/// Pages larger than this are heavy work (see `items`).
const HEAVY_PAGE: usize = 2_000;

/// What the collection, items and item handlers read from every request.
struct Ctx {
    s: AppState,
    caller: Audience,
    cache: Cache,
    heavy: Arc<Heavy>,
    /// The raw query string.
    raw: Option<String>,
    headers: HeaderMap,
    base_url: String,
    who: super::auth::Resolved,
    auth: super::auth::Auth,
}

impl axum::extract::FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let missing = |what: &str| ApiError::internal(format!("router senza {what}"));
        let Ok(Caller(caller)) = Caller::from_request_parts(parts, state).await;
        let Ok(BaseUrl(base_url)) = BaseUrl::from_request_parts(parts, state).await;
        Ok(Ctx {
            s: state.clone(),
            caller,
            cache: parts
                .extensions
                .get::<Cache>()
                .cloned()
                .ok_or_else(|| missing("MetaCache"))?,
            heavy: parts
                .extensions
                .get::<Arc<Heavy>>()
                .cloned()
                .ok_or_else(|| missing("Heavy"))?,
            raw: parts.uri.query().map(str::to_string),
            headers: parts.headers.clone(),
            base_url,
            who: parts
                .extensions
                .get::<super::auth::Resolved>()
                .cloned()
                .unwrap_or_else(|| super::auth::Resolved::public(None)),
            auth: parts
                .extensions
                .get::<super::auth::Auth>()
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// The layer `id` if the caller may see it, with its feature count.
fn served(state: &Analisi, id: &str, caller: Audience) -> Result<(Layer, usize), ApiError> {
    let layer = match layers::layer(id, caller) {
        Ok(l) => l,
        Err(layers::Refusal::Unknown) => {
            return Err(ApiError::not_found(format!(
                "collezione sconosciuta: {id:?} (disponibili: {})",
                layers::visible_names(caller)
            )))
        }
        // The same answer as every other route that names a reserved layer.
        Err(layers::Refusal::Restricted { .. }) => {
            return Err(super::layer_for(caller, id)
                .err()
                .unwrap_or_else(|| ApiError::internal("registro dei layer incoerente")))
        }
    };
    Ok((layer, render::layer_len(state, layer)))
}

/// The extent of a layer: its R-tree's envelope, or for a layer without one the box of its
/// geometries (a layer fact, computed once within the bound of heavy work).
async fn extent(
    state: &AppState,
    cache: &MetaCache,
    heavy: &Heavy,
    layer: Layer,
) -> Result<Option<[f64; 4]>, HeavyError> {
    if let Some(e) = render::layer_index(state, layer).envelope() {
        return Ok(Some(rect_to_array(e)));
    }
    Ok(cache.get(state, layer, heavy).await?.extent)
}

fn collection_json(base: &str, layer: Layer, extent: Option<[f64; 4]>, count: usize) -> Value {
    let id = layer.name();
    let enc = percent_encode(id);
    let mut c = json!({
        "id": id,
        "title": layer.info().title,
        "description": layer.info().description,
        "itemType": "feature",
        "crs": crs::supported(),
        "storageCrs": CRS84,
        "numberMatched": count,
        "links": [
            link(base, format!("/collections/{enc}"), "self", MT_JSON, "Questa collezione"),
            link(base, format!("/collections/{enc}?f=html"), "alternate", "text/html", "Questa collezione in HTML"),
            link(base, format!("/collections/{enc}/items"), "items", MT_GEOJSON, "Elementi (GeoJSON)"),
            link(base, format!("/collections/{enc}/items?f=html"), "items", "text/html", "Elementi (HTML)"),
            link(base, format!("/collections/{enc}/queryables"), REL_QUERYABLES, MT_SCHEMA, "Proprietà interrogabili"),
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
    BaseUrl(base_url): BaseUrl,
) -> Response {
    let params = match Params::parse(q.as_deref()) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let explicit_f = params.get("f").is_some();
    match preference(&params, &headers) {
        Err(e) => e.into_response(),
        Ok(Some(Repr::Json)) => json_response(MT_JSON, &landing_json(&base_url, &s)),
        Ok(Some(Repr::Html)) if explicit_f => respond(MT_HTML, landing_html(&s)),
        Ok(_) => {
            let mut r = super::index().await;
            super::base::add_vary(&mut r, "Accept");
            r
        }
    }
}

/// A page that is a list of code items (`prefix` before each), after an optional intro.
fn code_list_page(
    title: &str,
    intro: &str,
    prefix: &str,
    items: &[&str],
    json_href: &str,
) -> Response {
    let mut b = page_start(title);
    b.push_str(intro);
    b.push_str("<ul>");
    for item in items {
        let _ = write!(b, "<li><code>{prefix}{}</code></li>", esc(item));
    }
    b.push_str("</ul>");
    respond(MT_HTML, page_end(b, json_href))
}

async fn conformance(RawQuery(q): RawQuery, headers: HeaderMap) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    Ok(match representation(&params, &headers)? {
        Repr::Json => json_response(MT_JSON, &json!({ "conformsTo": CONFORMANCE })),
        Repr::Html => code_list_page(
            "Classi di conformità",
            "",
            "",
            &CONFORMANCE,
            "/conformance?f=json",
        ),
    })
}

async fn api(
    State(s): State<AppState>,
    Caller(caller): Caller,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    BaseUrl(base_url): BaseUrl,
) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    Ok(match representation(&params, &headers)? {
        Repr::Json => json_response(MT_OPENAPI, &openapi(&base_url, &s, caller)),
        Repr::Html => code_list_page(
            "Descrizione dell'API",
            "<p>L'API segue OGC API - Features, Parti 1 (elementi), 2 (sistemi di riferimento: \
             parametri <code>crs</code> e <code>bbox-crs</code>) e 3 (filtri CQL2: parametri \
             <code>filter</code>, <code>filter-lang</code>, <code>filter-crs</code>; proprietà \
             interrogabili in <code>/collections/{collectionId}/queryables</code>). La \
             descrizione completa in OpenAPI 3.0 è in <a href=\"/api?f=json\">JSON</a>.</p>",
            "GET ",
            &[
                "/",
                "/conformance",
                "/collections",
                "/collections/{collectionId}",
                "/collections/{collectionId}/items",
                "/collections/{collectionId}/items/{featureId}",
                "/collections/{collectionId}/queryables",
            ],
            "/api?f=json",
        ),
    })
}

async fn collections(
    State(s): State<AppState>,
    Caller(caller): Caller,
    Extension(cache): Extension<Cache>,
    Extension(heavy): Extension<Arc<Heavy>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    BaseUrl(base_url): BaseUrl,
) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    let repr = representation(&params, &headers)?;
    let base = &base_url;
    let mut list: Vec<Value> = Vec::new();
    for layer in layers::visible(caller) {
        let e = match extent(&s, &cache, &heavy, layer).await {
            Ok(e) => e,
            Err(e) => return Ok(e.into_response()),
        };
        list.push(collection_json(
            base,
            layer,
            e,
            render::layer_len(&s, layer),
        ));
    }
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
    ctx: Ctx,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let Ctx {
        s,
        caller,
        cache,
        heavy,
        raw: q,
        headers,
        base_url,
        ..
    } = ctx;
    let Path(id) = path.map_err(|e| ApiError::bad_request(format!("percorso non valido: {e}")))?;
    let (layer, n) = served(&s, &id, caller)?;
    let params = Params::parse(q.as_deref())?;
    params.only(&["f"])?;
    let repr = representation(&params, &headers)?;
    let e = match extent(&s, &cache, &heavy, layer).await {
        Ok(e) => e,
        Err(e) => return Ok(e.into_response()),
    };
    let c = collection_json(&base_url, layer, e, n);
    Ok(match repr {
        Repr::Json => json_response(MT_JSON, &c),
        Repr::Html => {
            let enc = percent_encode(&id);
            let mut b = page_start(layer.info().title);
            let _ = write!(
                b,
                "<p>{}</p><dl><dt>Identificativo</dt><dd><code>{}</code></dd>\
                 <dt>Elementi</dt><dd>{n}</dd><dt>Sistema di riferimento dei dati</dt><dd><code>{CRS84}</code></dd>\
                 <dt>Sistemi di riferimento disponibili (<code>crs</code>, <code>bbox-crs</code>)</dt><dd>{}</dd>",
                esc(layer.info().description),
                esc(&id),
                crs::supported()
                    .iter()
                    .map(|u| format!("<code>{}</code>", esc(u)))
                    .collect::<Vec<_>>()
                    .join("<br>")
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
                 <a href=\"/collections/{enc}/items?f=json\">GeoJSON</a> · \
                 <a href=\"/collections/{enc}/queryables?f=html\">Proprietà interrogabili</a></p>"
            );
            respond(MT_HTML, page_end(b, &format!("/collections/{enc}?f=json")))
        }
    })
}

/// The `Content-Crs` header of a GeoJSON answer written in `crs`.
fn content_crs(r: &mut Response, crs: OgcCrs) -> Result<(), ApiError> {
    let v = HeaderValue::from_str(&crs.header()).map_err(internal)?;
    r.headers_mut().insert("content-crs", v);
    Ok(())
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
    for (k, v) in &q.carried {
        parts.push(format!("{k}={}", percent_encode(v)));
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
    ctx: Ctx,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let Ctx {
        s,
        caller,
        cache,
        heavy,
        raw,
        headers,
        base_url,
        who,
        auth,
    } = ctx;
    let Path(id) = path.map_err(|e| ApiError::bad_request(format!("percorso non valido: {e}")))?;
    let (layer, _) = served(&s, &id, caller)?;
    super::audit_read(&auth, &who, layer, "/collections/items");
    let params = Params::parse(raw.as_deref())?;
    let repr = representation(&params, &headers)?;
    let base = &base_url;
    let meta = match cache.get(&s, layer, &heavy).await {
        Ok(m) => m,
        Err(e) => return Ok(e.into_response()),
    };
    let state = s.clone();
    // Large pages are heavy work: within the bound of `Heavy` (or 503), like exports.
    let large = params
        .get("limit")
        .and_then(|l| l.trim().parse::<usize>().ok())
        .is_some_and(|n| n > HEAVY_PAGE);
    let counter = heavy.clone();
    let job = move || {
        let q = parse_items_query(&params, &meta.properties, layer)?;
        let writer = Writer::new(q.crs)?;
        let selection = matching_positions(&state, layer, &q);
        counter.count_filter_renders(selection.rendered);
        let matched = selection.positions;
        let total = matched.len();
        let from = q.offset.min(total);
        let to = from.saturating_add(q.limit).min(total);
        let mut feats = page_features(&state, layer, &meta, &matched[from..to]);
        if let Some(w) = &writer {
            for g in feats.iter_mut().filter_map(|f| f.geometry.as_mut()) {
                w.project(g).map_err(internal)?;
            }
        }
        Ok::<_, ApiError>(((id, feats), total, q))
    };
    let (page, total, q) = if large {
        match heavy.run(move |_| job()).await {
            Ok(r) => r?,
            Err(e) => return Ok(e.into_response()),
        }
    } else {
        tokio::task::spawn_blocking(job).await.map_err(internal)??
    };
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
            content_crs(&mut r, q.crs)?;
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
    ctx: Ctx,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let Ctx {
        s,
        caller,
        cache,
        heavy,
        raw,
        headers,
        base_url,
        who,
        auth,
    } = ctx;
    let Path((id, fid)) =
        path.map_err(|e| ApiError::bad_request(format!("percorso non valido: {e}")))?;
    let (layer, n) = served(&s, &id, caller)?;
    super::audit_read(&auth, &who, layer, "/collections/items/{id}");
    let params = Params::parse(raw.as_deref())?;
    params.only(&["f", "crs"])?;
    let out_crs = crs_param(&params, "crs")?;
    let repr = representation(&params, &headers)?;
    let base = &base_url;
    let state = s.clone();
    let fidc = fid.clone();
    let meta = match cache.get(&s, layer, &heavy).await {
        Ok(m) => m,
        Err(e) => return Ok(e.into_response()),
    };
    let feat = tokio::task::spawn_blocking(move || {
        let pos = match &meta.ids {
            Ids::Native(map) => map.get(&fidc).copied(),
            Ids::Positional => fidc
                .parse::<usize>()
                .ok()
                .filter(|i| *i < n && fidc.bytes().all(|b| b.is_ascii_digit())),
        };
        let mut f = pos.and_then(|i| page_features(&state, layer, &meta, &[i]).into_iter().next());
        if let (Some(w), Some(g)) = (
            Writer::new(out_crs)?,
            f.as_mut().and_then(|f| f.geometry.as_mut()),
        ) {
            w.project(g).map_err(internal)?;
        }
        Ok::<_, ApiError>(f)
    })
    .await
    .map_err(internal)??
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
            content_crs(&mut r, out_crs)?;
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
