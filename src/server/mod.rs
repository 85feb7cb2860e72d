//! HTTP server (axum): the web map, GeoJSON layers with `bbox`/`limit`, the Piano Annuale
//! report and a health check. Routes only: every figure comes from `analysis`, every format
//! from `output`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use geo::Rect;
use serde::Deserialize;
use serde_json::json;

use crate::analysis::Analisi;
use crate::output::geojson::{collection, layer_features, layer_index, layer_len};
use crate::output::layers::{self, Audience, Layer, Refusal};
use crate::output::report::{self, Formato};
use routes::{Access, Routes};

mod account;
pub mod auth;
pub mod base;
mod candidates;
pub mod heavy;
pub mod listen;
mod ogc;
pub mod routes;
mod tavolo;
mod tiles;

mod export;
mod fonts;
mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// Largest `limit` a layer request may ask for.
pub const MAX_LIMIT: usize = 100_000;
/// `limit` when none is given.
pub const DEFAULT_LIMIT: usize = 10_000;

pub type AppState = Arc<Analisi>;

/// The audience of the caller, as [`auth::resolve`] found it before any route (the public
/// when it found no credentials). Routes hand it to the layer registry, which refuses what
/// the caller may not see.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Audience);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Caller(
            parts
                .extensions
                .get::<auth::Resolved>()
                .map_or(Audience::Pubblico, |r| r.audience),
        ))
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
             pubblici i dati aggregati per comune (layer \"comuni\" e \"stock_privato\").",
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
    pub(crate) fn with_status(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
        }
    }
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
    pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
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

/// Every route with its access rule (see [`routes`]).
fn routes() -> Routes {
    Routes::new()
        .get("/", Access::Public, ogc::root)
        .get("/health", Access::Public, health)
        .get("/api/ambito", Access::Public, ambito)
        .get("/api/layers", Access::Public, layer_list)
        .get("/api/layers/{layer}", Access::Layer, layer)
        .get("/api/report/piano-annuale", Access::Public, piano_annuale)
        .merge(candidates::routes())
        .merge(tavolo::routes())
        .merge(ogc::routes())
        .merge(export::routes())
        .merge(tiles::routes())
        .merge(fonts::routes())
        .merge(account::routes())
        .fallback(Access::Public, static_asset)
}

/// The route table of [`app`]: each path with its access rule, read from the router as built.
pub fn route_table() -> Vec<routes::Rule> {
    routes().into_parts().1
}

/// The application router with the default [`base::UrlPolicy`] (links from `Host`), no
/// accounts (every caller is public) and the bound of heavy work from the environment; tests
/// call it without a socket.
pub fn app(state: AppState) -> Router {
    App::new(state).router()
}

/// The application router, its links written by `policy`.
pub fn app_with(state: AppState, policy: base::UrlPolicy) -> Router {
    App::new(state).policy(policy).router()
}

/// [`app`] with the given bound of heavy work (its counters stay readable by the caller).
pub fn app_with_heavy(state: AppState, heavy: Arc<heavy::Heavy>) -> Router {
    App::new(state).heavy(heavy).router()
}

/// The parts of an application router.
pub struct App {
    state: AppState,
    policy: base::UrlPolicy,
    heavy: Option<Arc<heavy::Heavy>>,
    accounts: Option<Arc<crate::auth::Accounts>>,
    sfondo: Option<crate::project::Sfondo>,
}

/// What the web map draws beyond the Ambito's data, as the project file sets it: the style
/// (`/style.json`) and the page's security policy read it.
#[derive(Debug, Clone, Default)]
pub struct MapConfig {
    /// The raster background under the layers (none: the map needs no network).
    pub sfondo: Option<crate::project::Sfondo>,
}

impl App {
    pub fn new(state: AppState) -> App {
        App {
            state,
            policy: base::UrlPolicy::default(),
            heavy: None,
            accounts: None,
            sfondo: None,
        }
    }
    /// A raster background under the map's layers (`[mappa.sfondo]` of the project file): the
    /// style gets its source and the page's policy allows its origin.
    pub fn sfondo(mut self, sfondo: Option<crate::project::Sfondo>) -> App {
        self.sfondo = sfondo;
        self
    }
    /// How links are written.
    pub fn policy(mut self, policy: base::UrlPolicy) -> App {
        self.policy = policy;
        self
    }
    /// The bound of heavy work (default: from the environment).
    pub fn heavy(mut self, heavy: Arc<heavy::Heavy>) -> App {
        self.heavy = Some(heavy);
        self
    }
    /// The accounts that may sign in (default: none, every caller is public).
    pub fn accounts(mut self, accounts: Arc<crate::auth::Accounts>) -> App {
        self.accounts = Some(accounts);
        self
    }

    pub fn router(self) -> Router {
        let heavy = self
            .heavy
            .unwrap_or_else(|| Arc::new(heavy::Heavy::new(heavy::HeavyLimits::from_env())));
        let (router, _) = routes().into_parts();
        let policy = Arc::new(self.policy);
        let vary = policy.clone();
        let csp = csp(self.sfondo.as_ref().map(|s| s.origin()));
        let map_config = Arc::new(MapConfig {
            sfondo: self.sfondo,
        });
        router
            .layer(axum::middleware::from_fn(auth::resolve))
            .layer(axum::middleware::map_response(move |r: Response| {
                let csp = csp.clone();
                async move { harden(r, &csp) }
            }))
            .layer(axum::middleware::map_response(move |mut r: Response| {
                let vary = vary.clone();
                async move {
                    vary.mark_vary(&mut r);
                    r
                }
            }))
            .layer(axum::Extension(policy))
            .layer(axum::Extension(heavy))
            .layer(axum::Extension(map_config))
            .layer(axum::Extension(auth::Auth::new(self.accounts)))
            .layer(tower_http::compression::CompressionLayer::new())
            .with_state(self.state)
    }
}

/// The policy of the HTML pages: scripts, styles, fonts and data from this server only
/// (inline styles allowed for the OGC pages and MapLibre; workers from `blob:`, as MapLibre
/// makes them; archives named by `?pmtiles=` may be fetched over HTTPS), images and data also
/// from the origin of the project's map background when there is one; never framed. The map
/// page's inline scripts (its import map) are allowed by their SHA-256, computed from the
/// embedded page itself, so an edit of the page cannot silently break the policy.
fn csp(sfondo: Option<&str>) -> HeaderValue {
    static HASHES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hashes = HASHES.get_or_init(|| {
        asset("/index.html")
            .map(|b| inline_script_hashes(&String::from_utf8_lossy(b)))
            .unwrap_or_default()
            .iter()
            .map(|h| format!(" 'sha256-{h}'"))
            .collect()
    });
    // The origin was checked when the project was read (scheme, host characters only).
    let extra = sfondo.map(|o| format!(" {o}")).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:{extra}; font-src 'self'; connect-src 'self' https:{extra}; \
         worker-src 'self' blob:; child-src blob:; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"))
}

/// Base64 SHA-256 of the content of each `<script>` without `src` in `html`.
fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body_and_more = &after[open_end + 1..];
        let Some(close) = body_and_more.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            let digest = sha2::Sha256::digest(&body_and_more.as_bytes()[..close]);
            out.push(base64::engine::general_purpose::STANDARD.encode(digest));
        }
        rest = &body_and_more[close..];
    }
    out
}

/// Headers every response gets, and a problem document for every error: an error answered
/// by axum itself (an unreadable path segment or query string, an unknown method) is
/// rewritten as `application/problem+json` with an Italian detail, so a client sees one
/// error format on every route.
fn harden(mut r: Response, csp: &HeaderValue) -> Response {
    let status = r.status();
    let content_type = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    // The framework's own errors are plain text; the problem documents and the HTML pages
    // (login) with an error status are the handlers' and stay as they are.
    if (status.is_client_error() || status.is_server_error())
        && !content_type.starts_with("application/problem+json")
        && !content_type.starts_with("text/html")
    {
        let detail = match status {
            StatusCode::BAD_REQUEST => "richiesta non valida: percorso o parametri non leggibili",
            StatusCode::NOT_FOUND => "risorsa non trovata",
            StatusCode::METHOD_NOT_ALLOWED => "metodo non ammesso: sono serviti solo GET e HEAD",
            StatusCode::PAYLOAD_TOO_LARGE => "corpo della richiesta troppo grande",
            StatusCode::REQUEST_TIMEOUT => "richiesta non completata in tempo",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "tipo di contenuto non supportato",
            _ if status.is_server_error() => "errore interno del server",
            _ => "richiesta non accettata",
        };
        tracing::debug!(
            status = status.as_u16(),
            "error answered by the framework, rewritten"
        );
        let headers = std::mem::take(r.headers_mut());
        r = ApiError {
            status,
            detail: detail.into(),
        }
        .into_response();
        for name in [
            header::ALLOW,
            header::RETRY_AFTER,
            header::CONNECTION,
            header::CACHE_CONTROL,
            header::VARY,
            header::WWW_AUTHENTICATE,
            header::SET_COOKIE,
        ] {
            for v in headers.get_all(&name) {
                r.headers_mut().append(name.clone(), v.clone());
            }
        }
    }
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if content_type.starts_with("text/html") {
        h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    r
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

async fn ambito(State(s): State<AppState>, Caller(c): Caller) -> Json<serde_json::Value> {
    let a = &s.model.ambito;
    let t = &s.vacancy.ambito;
    let bbox = s
        .index
        .comuni
        .envelope()
        .or_else(|| s.index.alloggi_pubblici.envelope())
        .map(|r| vec![r.min().x, r.min().y, r.max().x, r.max().y]);
    let mut v = json!({
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
    });
    crate::output::protect::protect_panel(&mut v, c);
    Json(v)
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

/// Records a read of a layer of unit-level private data ([`Audience::Ufficio`]) in the audit
/// log: who read it, through which route.
pub(crate) fn audit_read(auth: &auth::Auth, who: &auth::Resolved, layer: Layer, route: &str) {
    if layer.info().audience == Audience::Ufficio {
        auth.audit(
            who,
            crate::auth::event::LETTURA_RISERVATA,
            &format!("{} ({route})", layer.name()),
        );
    }
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

/// Selections larger than this are heavy work: they wait for a place within the bound of
/// [`heavy::Heavy`] (or get `503`) instead of building on the blocking pool unbounded.
const HEAVY_SELECTION: usize = 2_000;

async fn layer(
    State(s): State<AppState>,
    Caller(c): Caller,
    who: auth::Resolved,
    axum::Extension(guard): axum::Extension<auth::Auth>,
    axum::Extension(heavy): axum::Extension<Arc<heavy::Heavy>>,
    Path(name): Path<String>,
    Query(q): Query<LayerQuery>,
) -> Result<Response, heavy::Refusal> {
    let name = name.strip_suffix(".geojson").unwrap_or(&name).to_string();
    let layer = layer_for(c, &name)?;
    audit_read(&guard, &who, layer, "/api/layers");
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit non valido: {l:?} (intero tra 1 e {MAX_LIMIT})"
                ))
                .into())
            }
        },
    };
    let bbox = q.bbox.as_deref().map(parse_bbox).transpose()?;
    let matched: Vec<usize> = match bbox {
        Some(b) => layer_index(&s, layer).query_bbox(b),
        None => (0..layer_len(&s, layer)).collect(),
    };
    let total = matched.len();
    let selected: Vec<usize> = matched.into_iter().take(limit).collect();
    let state = s.clone();
    let render = move || {
        let feats = layer_features(&state, layer, Some(&selected));
        serde_json::to_vec(&collection(feats, total))
    };
    let body = if total.min(limit) > HEAVY_SELECTION {
        heavy.run(move |_| render()).await?
    } else {
        tokio::task::spawn_blocking(render)
            .await
            .map_err(ApiError::internal)?
    }
    .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

/// The parameters of the report routes: the format and the language (`lang=it|en`, for the
/// text and HTML forms; JSON and CSV are data). Any other parameter is refused (`400`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    format: Option<String>,
    lang: Option<String>,
}

impl ReportQuery {
    /// The language asked for, Italian when none is.
    pub fn lingua(&self) -> Result<crate::output::lingua::Lingua, ApiError> {
        lingua(self.lang.as_deref())
    }
}

/// The language a `lang` parameter asks for (Italian when absent), or a `400` naming it.
pub fn lingua(lang: Option<&str>) -> Result<crate::output::lingua::Lingua, ApiError> {
    match lang {
        None => Ok(crate::output::lingua::Lingua::It),
        Some(x) => crate::output::lingua::Lingua::parse(x).ok_or_else(|| {
            ApiError::bad_request(format!("lingua non valida: lang={x:?} (it, en)"))
        }),
    }
}

/// The report query, or a `400` naming the parameters the report routes accept.
pub fn report_query(
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<ReportQuery, ApiError> {
    q.map(|Query(q)| q).map_err(|_| {
        ApiError::bad_request(
            "parametri non validi: i resoconti accettano solo format e lang (it, en)",
        )
    })
}

async fn piano_annuale(
    State(s): State<AppState>,
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = report_query(q)?;
    let l = q.lingua()?;
    let f = match q.format.as_deref() {
        None => Formato::Json,
        Some(x) => Formato::parse(x).ok_or_else(|| {
            ApiError::bad_request(format!(
                "formato non valido: {x:?} (json, csv, html, testo)"
            ))
        })?,
    };
    let body = report::render_con_privato_in(&s.report, &s.privato, f, l);
    Ok(([(header::CONTENT_TYPE, f.content_type())], body).into_response())
}

/// Serves until SIGINT or SIGTERM with the default [`listen::Limits`] and links, no accounts.
pub async fn serve(loaded: Analisi, addr: SocketAddr) -> Result<(), listen::ServeError> {
    serve_with(
        App::new(Arc::new(loaded)),
        None,
        addr,
        listen::Limits::default(),
    )
    .await
}

/// Serves `app` until SIGINT or SIGTERM within `limits`; `/health` names `workspace` when
/// given.
pub async fn serve_with(
    app: App,
    workspace: Option<listen::ServedWorkspace>,
    addr: SocketAddr,
    limits: listen::Limits,
) -> Result<(), listen::ServeError> {
    let listener = listen::Listener::bind(addr, limits).await?;
    // The labels' first glyph range (Latin-1), rendered before the first page asks for it.
    tokio::task::spawn_blocking(|| {
        let font = crate::output::glyphs::FONT_NAME;
        if let Err(e) = crate::output::glyphs::glyph_range(font, "0-255") {
            tracing::error!("glifi {font} 0-255: {e}");
        }
    });
    let mut router = app.router();
    if let Some(w) = workspace {
        router = router.layer(axum::Extension(Arc::new(w)));
    }
    listener.serve(router, listen::shutdown_signal()).await
}
