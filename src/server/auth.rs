//! Who is asking: credentials are read once per request, before any route, by [`resolve`].
//!
//! - `Authorization: Bearer <token>` or HTTP Basic with a personal access token as password
//!   (the two ways QGIS and GDAL's OAPIF driver send credentials); account passwords are only
//!   accepted by the login form, never on each request;
//! - otherwise the session cookie of the web login ([`SESSION_COOKIE`]);
//! - otherwise the public audience.
//!
//! Bad credentials are a `401` with `WWW-Authenticate: Basic realm="abitare", Bearer` on any
//! route (a client with a wrong token must know); a malformed, oversized or repeated
//! `Authorization` header is a `400`. A `403` answered to a caller with no credentials becomes a
//! `401` with the same challenge: logging in is what they need. State-changing requests
//! carried by a session cookie, and every login form, must come from this site (`Origin` or
//! `Sec-Fetch-Site`). Responses to a signed-in caller are never stored by shared caches, and
//! every response varies on `Cookie` and `Authorization`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::base::UrlPolicy;
use super::listen::ClientAddr;
use super::routes::Access;
use super::ApiError;
use crate::auth::{Accounts, Identity, Role};
use crate::output::layers::Audience;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "abitare_sessione";
/// Longest `Authorization` header read.
const MAX_AUTHORIZATION: usize = 4096;
/// The challenge of a `401`.
pub const CHALLENGE: &str = "Basic realm=\"abitare\", charset=\"UTF-8\", Bearer realm=\"abitare\"";
/// Reads of reserved unit-level data through tiles are logged once per account in this window
/// (a map view asks for dozens of tiles).
const TILE_AUDIT_WINDOW: Duration = Duration::from_secs(600);

/// The data audience of an account's role. The administrator runs the service (accounts,
/// tokens, the audit log) and sees the data as the public does.
pub fn audience_of(role: Role) -> Audience {
    match role {
        Role::Tavolo | Role::Ente => Audience::Tavolo,
        Role::Ufficio => Audience::Ufficio,
        Role::Amministratore => Audience::Pubblico,
    }
}

/// The accounts behind a router (none: every request is public, credentials are refused).
#[derive(Clone, Default)]
pub struct Auth {
    pub accounts: Option<Arc<Accounts>>,
    tile_reads: Arc<Mutex<HashMap<i64, Instant>>>,
}

impl Auth {
    pub fn new(accounts: Option<Arc<Accounts>>) -> Auth {
        Auth {
            accounts,
            tile_reads: Arc::default(),
        }
    }

    /// Records an event of the audit log; a failure to record is logged, never shown.
    pub fn audit(&self, who: &Resolved, event: &str, detail: &str) {
        if let Some(a) = &self.accounts {
            let actor = who.identity.as_ref().map(|i| i.account.username.as_str());
            if let Err(e) = a.audit(actor, event, detail, who.address) {
                tracing::error!("registro degli accessi: {e}");
            }
        }
    }

    /// Records a read of reserved unit-level data through the tiles, at most once per account
    /// in [`TILE_AUDIT_WINDOW`].
    pub fn audit_tiles(&self, who: &Resolved, detail: &str) {
        let Some(id) = who.identity.as_ref().map(|i| i.account.id) else {
            return;
        };
        let now = Instant::now();
        let due = {
            let mut m = match self.tile_reads.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            match m.get(&id) {
                Some(t) if now.duration_since(*t) < TILE_AUDIT_WINDOW => false,
                _ => {
                    m.insert(id, now);
                    true
                }
            }
        };
        if due {
            self.audit(who, crate::auth::event::LETTURA_RISERVATA, detail);
        }
    }
}

/// The caller of a request, as [`resolve`] found it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub audience: Audience,
    pub identity: Option<Identity>,
    /// The client's address (the peer, or the proxy's `X-Forwarded-For` when behind one).
    pub address: Option<IpAddr>,
    /// Credentials came in an `Authorization` header (not a cookie).
    pub by_header: bool,
}

impl Resolved {
    pub(crate) fn public(address: Option<IpAddr>) -> Resolved {
        Resolved {
            audience: Audience::Pubblico,
            identity: None,
            address,
            by_header: false,
        }
    }
    pub fn role(&self) -> Option<Role> {
        self.identity.as_ref().map(|i| i.account.role)
    }
    pub fn username(&self) -> Option<&str> {
        self.identity.as_ref().map(|i| i.account.username.as_str())
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Resolved {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Resolved>()
            .cloned()
            .unwrap_or_else(|| Resolved::public(None)))
    }
}

/// A `401` problem document with the challenge.
pub fn unauthorized(detail: &str) -> Response {
    let mut r = ApiError::with_status(StatusCode::UNAUTHORIZED, detail).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(CHALLENGE),
    );
    r
}

/// The client's address: the peer, or behind a proxy the last `X-Forwarded-For` hop (the one
/// the proxy added; earlier ones are the client's own claims).
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    policy: &UrlPolicy,
) -> Option<IpAddr> {
    if policy.behind_proxy() {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|a| a.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether a state-changing request comes from a page of this site: `Sec-Fetch-Site:
/// same-origin`, or an `Origin` naming the host the request was sent to (or the public URL).
pub fn same_origin(headers: &HeaderMap, policy: &UrlPolicy) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let base = policy.base_url(headers);
    origin.trim_end_matches('/') == base.trim_end_matches('/')
}

enum Credential {
    None,
    Token(String),
    /// Basic: the user name given and the token as password.
    Basic(String, String),
}

/// Reads the `Authorization` header: `Err` is the response to give.
fn credential(headers: &HeaderMap) -> Result<Credential, Box<Response>> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(v) = values.next() else {
        return Ok(Credential::None);
    };
    if values.next().is_some() {
        return Err(Box::new(
            ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "intestazione Authorization ripetuta: inviarne una sola",
            )
            .into_response(),
        ));
    }
    if v.len() > MAX_AUTHORIZATION {
        return Err(Box::new(
            ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "intestazione Authorization troppo lunga",
            )
            .into_response(),
        ));
    }
    let bad = || {
        Box::new(unauthorized(
            "credenziali non valide: attesi Bearer <token> o Basic con il token come password",
        ))
    };
    let Ok(text) = v.to_str() else {
        return Err(bad());
    };
    let (scheme, rest) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Ok(Credential::Token(rest.to_string()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((user, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            return Ok(Credential::Basic(user.to_string(), secret.to_string()));
        }
    }
    Err(bad())
}

/// Resolves the caller of every request (see the module documentation).
pub async fn resolve(
    axum::Extension(auth): axum::Extension<Auth>,
    axum::Extension(policy): axum::Extension<Arc<UrlPolicy>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req.extensions().get::<ClientAddr>().map(|a| a.0);
    let address = client_address(req.headers(), peer, &policy);
    let mut resolved = Resolved::public(address);
    let mut stale_cookie = false;
    let wrong = "credenziali non valide o scadute";
    match credential(req.headers()) {
        Err(r) => return *r,
        Ok(Credential::None) => {
            if let (Some(secret), Some(accounts)) =
                (cookie(req.headers(), SESSION_COOKIE), &auth.accounts)
            {
                match accounts.session(secret) {
                    Ok(Some(identity)) => {
                        resolved.audience = audience_of(identity.account.role);
                        resolved.identity = Some(identity);
                    }
                    Ok(None) => stale_cookie = true,
                    Err(e) => return ApiError::internal(e).into_response(),
                }
            }
        }
        Ok(c) => {
            let Some(accounts) = &auth.accounts else {
                return unauthorized(
                    "questo server non ha account: le credenziali non sono accettate",
                );
            };
            let (secret, user) = match c {
                Credential::Token(t) => (t, None),
                Credential::Basic(u, t) => (t, Some(u)),
                Credential::None => (String::new(), None),
            };
            let identity = match accounts.token(&secret) {
                Ok(Some(i)) => i,
                Ok(None) => return unauthorized(wrong),
                Err(e) => return ApiError::internal(e).into_response(),
            };
            if let Some(u) = user.filter(|u| !u.is_empty()) {
                if !u.eq_ignore_ascii_case(&identity.account.username) {
                    return unauthorized(wrong);
                }
            }
            resolved.audience = audience_of(identity.account.role);
            resolved.identity = Some(identity);
            resolved.by_header = true;
        }
    }
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let cookie_session = resolved.identity.is_some() && !resolved.by_header;
    let login_form = req.uri().path() == super::account::LOGIN_PATH;
    let signed_in = resolved.identity.is_some();
    let cross_site =
        unsafe_method && (cookie_session || login_form) && !same_origin(req.headers(), &policy);
    let mut r = if cross_site {
        ApiError::with_status(
            StatusCode::FORBIDDEN,
            "richiesta rifiutata: non proviene da una pagina di questo sito",
        )
        .into_response()
    } else {
        req.extensions_mut().insert(resolved);
        next.run(req).await
    };
    if !signed_in && !cross_site && r.status() == StatusCode::FORBIDDEN {
        r = unauthorized(
            "accesso riservato: accedere (pagina /accesso) o inviare un token personale \
             (Authorization: Bearer, o Basic con il token come password)",
        );
    }
    super::base::add_vary(&mut r, "cookie");
    super::base::add_vary(&mut r, "authorization");
    let h = r.headers_mut();
    if signed_in {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
        h.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    }
    if stale_cookie && !h.contains_key(header::SET_COOKIE) {
        if let Ok(v) = HeaderValue::from_str(&clear_cookie()) {
            h.append(header::SET_COOKIE, v);
        }
    }
    r
}

/// The `Set-Cookie` of a new session.
pub fn session_cookie(secret: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether `resolved` may call a route of rule `access` (the layer rules are the registry's,
/// checked by the handlers).
fn allowed(access: Access, resolved: &Resolved) -> Result<(), Box<Response>> {
    let need = |ok: bool, what: &str| {
        if resolved.identity.is_none() {
            Err(Box::new(unauthorized(&format!(
                "accesso riservato a {what}: accedere prima"
            ))))
        } else if ok {
            Ok(())
        } else {
            Err(Box::new(
                ApiError::with_status(StatusCode::FORBIDDEN, format!("accesso riservato a {what}"))
                    .into_response(),
            ))
        }
    };
    match access {
        Access::Public | Access::Layer => Ok(()),
        Access::Account => need(resolved.identity.is_some(), "chi ha un account"),
        Access::Admin => need(
            resolved.role() == Some(Role::Amministratore),
            "l'amministratore del servizio",
        ),
        Access::Audience(a) => need(resolved.audience >= a, a.label_it()),
    }
}

/// The check of a route's rule, run before its handler.
pub async fn guard(access: Access, req: Request, next: Next) -> Response {
    let resolved = req
        .extensions()
        .get::<Resolved>()
        .cloned()
        .unwrap_or_else(|| Resolved::public(None));
    match allowed(access, &resolved) {
        Ok(()) => next.run(req).await,
        Err(r) => *r,
    }
}
