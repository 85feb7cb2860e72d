//! HTTP server (axum): the web map, GeoJSON layers with `bbox`/`limit`, the Piano Annuale
//! report and a health check. Routes only: every figure comes from `analysis`, every format
//! from `output`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use geo::Rect;
use serde::Deserialize;
use serde_json::json;

use crate::analysis::Analisi;
use crate::output::geojson::{collection, layer_features, layer_index, layer_len};
use crate::output::layers::{self, Audience, Layer, Refusal};
use crate::output::report::{self, Formato};

mod candidates;
pub mod heavy;
pub mod listen;
mod ogc;
mod tavolo;
mod tiles;

mod export;
mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// Largest `limit` a layer request may ask for.
pub const MAX_LIMIT: usize = 100_000;
/// `limit` when none is given.
pub const DEFAULT_LIMIT: usize = 10_000;

pub type AppState = Arc<Analisi>;

/// Who is asking. Every request is public until accounts exist; routes take this extractor
/// and hand its audience to the layer registry, which refuses what the caller may not see.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Audience);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Caller(Audience::Pubblico))
    }
}

/// The layer `name` for `caller`: `404` naming the layers it may see when there is no such
/// layer, `403` when the layer is for a narrower audience.
pub fn layer_for(caller: Audience, name: &str) -> Result<Layer, ApiError> {
    layers::layer(name, caller).map_err(|r| match r {
        Refusal::Unknown => ApiError::not_found(format!(
            "layer sconosciuto: {name:?} (disponibili: {})",
            layers::visible_names(caller)
        )),
        Refusal::Restricted { required } => ApiError::forbidden(format!(
            "il layer {name:?} è riservato a: {}. Per questo accesso non è disponibile; sono \
             pubblici solo i dati aggregati (layer \"stock_privato\" e proprietà del layer \
             \"comuni\").",
            required.label_it()
        )),
    })
}

/// An error answered as `application/problem+json`; the message is meant for the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
}

impl ApiError {
    fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            detail: detail.into(),
        }
    }
    fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            detail: detail.into(),
        }
    }
    fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            detail: detail.into(),
        }
    }
    /// A failure of the server itself: logged, and answered without its detail.
    fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("{e}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: "errore interno del server".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "status": self.status.as_u16(),
            "title": self.status.canonical_reason().unwrap_or(""),
            "detail": self.detail,
        });
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// The application router; tests call it without a socket.
pub fn app(state: AppState) -> Router {
    let heavy = heavy::Heavy::new(heavy::HeavyLimits::from_env());
    app_with(state, Arc::new(heavy))
}

/// [`app`] with the given bound of heavy work (its counters stay readable by the caller).
pub fn app_with(state: AppState, heavy: Arc<heavy::Heavy>) -> Router {
    Router::new()
        .route("/", get(ogc::root))
        .route("/health", get(health))
        .route("/api/ambito", get(ambito))
        .route("/api/layers", get(layer_list))
        .route("/api/layers/{layer}", get(layer))
        .route("/api/report/piano-annuale", get(piano_annuale))
        .merge(candidates::routes())
        .merge(tavolo::routes())
        .merge(ogc::routes())
        .merge(export::routes())
        .merge(tiles::routes())
        .fallback(get(static_asset))
        .layer(axum::Extension(heavy))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

fn asset(path: &str) -> Option<&'static [u8]> {
    assets::ASSETS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, b)| *b)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "text/plain; charset=utf-8",
    }
}

async fn index() -> Response {
    match asset("/index.html") {
        Some(b) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], b).into_response(),
        None => ApiError::not_found("mappa web non inclusa in questa build (manca web/index.html)")
            .into_response(),
    }
}

async fn static_asset(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    match asset(path) {
        Some(b) => {
            let mut r = ([(header::CONTENT_TYPE, content_type(path))], b).into_response();
            if path.starts_with("/vendor/") {
                r.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                );
            }
            r
        }
        None => ApiError::not_found(format!("risorsa non trovata: {path}")).into_response(),
    }
}

/// `workspace` is the build served (time and input hash), `null` when the router runs
/// without one (as in tests).
async fn health(
    State(s): State<AppState>,
    Caller(c): Caller,
    served: Option<axum::Extension<Arc<listen::ServedWorkspace>>>,
) -> Json<serde_json::Value> {
    let counts: serde_json::Map<String, serde_json::Value> = layers::visible(c)
        .map(|l| (l.name().to_string(), json!(layer_len(&s, l))))
        .collect();
    let workspace = served.map(|axum::Extension(w)| w);
    Json(json!({
        "stato": "ok",
        "ambito": s.model.ambito.nome,
        "layer": counts,
        "workspace": workspace.as_deref(),
    }))
}

async fn ambito(State(s): State<AppState>) -> Json<serde_json::Value> {
    let a = &s.model.ambito;
    let t = &s.vacancy.ambito;
    let bbox = s
        .index
        .comuni
        .envelope()
        .or_else(|| s.index.alloggi_pubblici.envelope())
        .map(|r| vec![r.min().x, r.min().y, r.max().x, r.max().y]);
    Json(json!({
        "nome": a.nome,
        "numero": a.numero,
        "capofila": a.capofila,
        "anno": a.anno,
        "data_riferimento": a.data_riferimento.format("%Y-%m-%d").to_string(),
        "dimostrativo": a.dimostrativo,
        "bbox": bbox,
        "popolazione": t.popolazione,
        "totali": {
            "alloggi": t.conteggi.alloggi,
            "sap": t.conteggi.alloggi_sap,
            "inutilizzati": t.conteggi.inutilizzati,
            "liberi": t.conteggi.liberi,
            "sfitto_carenze_manutentive": t.conteggi.sfitto_carenze_manutentive,
            "sfitto_ristrutturazione": t.conteggi.sfitto_ristrutturazione,
            "occupati": t.conteggi.occupati,
            "tasso_inutilizzo": t.tasso_inutilizzo,
            "alloggi_per_1000_ab": t.alloggi_per_1000_ab,
            "mesi_sfitto_medi": t.conteggi.mesi_sfitto_medi,
        },
        "per_ente": s.vacancy.per_ente,
        "privato": private_totals(&s.privato),
    }))
}

/// Private-stock totals of the Ambito (aggregates only; no individual unit).
fn private_totals(p: &crate::analysis::private::StockPrivato) -> serde_json::Value {
    let a = &p.ambito;
    json!({
        "dati_presenti": p.dati_presenti,
        "abitazioni_stimate": a.abitazioni_stimate,
        "abitazioni_non_occupate_stimate": a.abitazioni_non_occupate_stimate,
        "quota_non_occupate": a.quota_non_occupate,
        "aree_stima": a.aree_stima,
        "privati_offerti": a.privati_offerti,
        "privati_in_offerta": a.privati_in_offerta,
        "privati_locati_concordato": a.privati_locati_concordato,
        "privati_ritirati": a.privati_ritirati,
        "privati_rimessi_in_uso": a.privati_rimessi_in_uso,
        "finestra_rimessi": [p.finestra_rimessi.da_anno, p.finestra_rimessi.a_anno],
        "privati_ammissibili_misure": a.privati_ammissibili_misure,
        "privati_categoria_esclusa": a.privati_categoria_esclusa,
        "pubblici_inutilizzati": a.pubblici_inutilizzati,
        "per_anno": a.per_anno,
    })
}

async fn layer_list(State(s): State<AppState>, Caller(c): Caller) -> Json<serde_json::Value> {
    let list: Vec<serde_json::Value> = layers::visible(c)
        .map(|l| {
            json!({
                "nome": l.name(),
                "titolo": l.info().title,
                "elementi": layer_len(&s, l),
                "url": format!("/api/layers/{}", l.name()),
            })
        })
        .collect();
    Json(json!({ "layer": list }))
}

#[derive(Debug, Deserialize)]
pub struct LayerQuery {
    bbox: Option<String>,
    limit: Option<String>,
}

/// Parses `minlon,minlat,maxlon,maxlat`.
fn parse_bbox(s: &str) -> Result<Rect<f64>, ApiError> {
    let nums: Result<Vec<f64>, _> = s.split(',').map(|p| p.trim().parse::<f64>()).collect();
    let bad = || {
        ApiError::bad_request(format!(
            "bbox non valido: {s:?} (atteso minlon,minlat,maxlon,maxlat in gradi)"
        ))
    };
    let n = nums.map_err(|_| bad())?;
    if n.len() != 4 || n.iter().any(|v| !v.is_finite()) || n[0] > n[2] || n[1] > n[3] {
        return Err(bad());
    }
    if n[0] < -180.0 || n[2] > 180.0 || n[1] < -90.0 || n[3] > 90.0 {
        return Err(bad());
    }
    Ok(Rect::new((n[0], n[1]), (n[2], n[3])))
}

async fn layer(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
    Query(q): Query<LayerQuery>,
) -> Result<Response, ApiError> {
    let name = name.strip_suffix(".geojson").unwrap_or(&name).to_string();
    let layer = layer_for(c, &name)?;
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit non valido: {l:?} (intero tra 1 e {MAX_LIMIT})"
                )))
            }
        },
    };
    let bbox = q.bbox.as_deref().map(parse_bbox).transpose()?;
    let state = s.clone();
    let body = tokio::task::spawn_blocking(move || {
        let n = layer_len(&state, layer);
        let matched: Vec<usize> = match bbox {
            Some(b) => layer_index(&state, layer).query_bbox(b),
            None => (0..n).collect(),
        };
        let total = matched.len();
        let selected: Vec<usize> = matched.into_iter().take(limit).collect();
        let feats = layer_features(&state, layer, Some(&selected));
        serde_json::to_vec(&collection(feats, total))
    })
    .await
    .map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        detail: format!("errore interno: {e}"),
    })?
    .map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        detail: format!("errore interno: {e}"),
    })?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    format: Option<String>,
}

async fn piano_annuale(
    State(s): State<AppState>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let f = match q.format.as_deref() {
        None => Formato::Json,
        Some(x) => Formato::parse(x).ok_or_else(|| {
            ApiError::bad_request(format!(
                "formato non valido: {x:?} (json, csv, html, testo)"
            ))
        })?,
    };
    let body = report::render_con_privato(&s.report, &s.privato, f);
    Ok(([(header::CONTENT_TYPE, f.content_type())], body).into_response())
}

/// Serves until SIGINT or SIGTERM with the default [`listen::Limits`].
pub async fn serve(loaded: Analisi, addr: SocketAddr) -> Result<(), listen::ServeError> {
    serve_with(loaded, None, addr, listen::Limits::default()).await
}

/// Serves until SIGINT or SIGTERM within `limits`; `/health` names `workspace` when given.
pub async fn serve_with(
    loaded: Analisi,
    workspace: Option<listen::ServedWorkspace>,
    addr: SocketAddr,
    limits: listen::Limits,
) -> Result<(), listen::ServeError> {
    let listener = listen::Listener::bind(addr, limits).await?;
    let mut router = app(Arc::new(loaded));
    if let Some(w) = workspace {
        router = router.layer(axum::Extension(Arc::new(w)));
    }
    listener.serve(router, listen::shutdown_signal()).await
}
