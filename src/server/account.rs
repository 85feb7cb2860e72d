//! Signing in and out, personal access tokens and the administrator's views.
//!
//! - `GET /accesso`: the Italian login page (a plain form: it works without scripts and from
//!   the keyboard); `POST /accesso` signs in (one argon2id verification, throttled per
//!   account and per address) and sets the session cookie; `POST /uscita` signs out;
//! - `GET /api/sessione`: who the caller is (the map's header reads it);
//! - `GET /account`: the caller's tokens, with forms to create one (shown once) and revoke;
//! - `GET /api/amministrazione/utenti`, `GET /api/amministrazione/registro`: the accounts and
//!   the audit log, for the administrator.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;
use serde_json::json;

use super::auth::{
    audience_of, clear_cookie, cookie, session_cookie, Auth, Resolved, SESSION_COOKIE,
};
use super::base::UrlPolicy;
use super::routes::{Access, Routes};
use super::ApiError;
use crate::auth::{Accounts, LoginError, Via};

/// Path of the login page and form.
pub const LOGIN_PATH: &str = "/accesso";

pub fn routes() -> Routes {
    Routes::new()
        .get(LOGIN_PATH, Access::Public, login_page)
        .post(LOGIN_PATH, Access::Public, login)
        .post("/uscita", Access::Public, logout)
        .get("/api/sessione", Access::Public, session)
        .get("/account", Access::Account, account_page)
        .post("/account/token", Access::Account, create_token)
        .post("/account/token/{id}/revoca", Access::Account, revoke_token)
        .get("/api/amministrazione/utenti", Access::Admin, admin_accounts)
        .get("/api/amministrazione/registro", Access::Admin, admin_audit)
}

fn accounts(auth: &Auth) -> Result<&Arc<Accounts>, ApiError> {
    auth.accounts.as_ref().ok_or_else(|| {
        ApiError::with_status(
            StatusCode::NOT_FOUND,
            "questo server non ha account: tutti i dati serviti sono pubblici",
        )
    })
}

/// The accounts and the caller's user name (the routes of `Access::Account` run only for a
/// signed-in caller; the check stays, in case a rule changes).
fn signed_in<'a>(
    auth: &'a Auth,
    who: &'a Resolved,
) -> Result<(&'a Arc<Accounts>, &'a str), ApiError> {
    let accounts = accounts(auth)?;
    let user = who
        .username()
        .ok_or_else(|| ApiError::with_status(StatusCode::UNAUTHORIZED, "accedere prima"))?;
    Ok((accounts, user))
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:0;background:#f4f3ef;color:#1a1a1a}\
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:6px;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{margin-top:0;font-size:1.5rem}label{display:block;\
margin:1rem 0 .3rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;\
font-size:1rem;border:1px solid #767676;border-radius:4px}button{margin-top:1.2rem;\
padding:.55rem 1.2rem;font-size:1rem;background:#0b5394;color:#fff;border:0;border-radius:4px;\
cursor:pointer}button:focus,input:focus,a:focus{outline:3px solid #e69f00;outline-offset:2px}\
.errore{background:#fde0dc;border-left:4px solid #b00020;padding:.6rem .8rem}\
.ok{background:#e3f4ea;border-left:4px solid #1b7a3d;padding:.6rem .8rem}\
code{word-break:break-all;background:#f0f0f0;padding:.2rem .3rem}\
table{border-collapse:collapse;width:100%;margin-top:1rem}td,th{text-align:left;\
padding:.35rem;border-bottom:1px solid #ddd;font-size:.9rem}form.inline{display:inline}\
form.inline button{margin:0;padding:.25rem .6rem;font-size:.85rem;background:#8a1c1c}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} – abitare</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n",
        esc(title)
    )
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn login_form(message: Option<(&str, &str)>, user: &str) -> String {
    let msg = message
        .map(|(class, m)| format!("<p class=\"{class}\" role=\"alert\">{}</p>", esc(m)))
        .unwrap_or_default();
    page(
        "Accesso",
        &format!(
            "<h1>Accesso ad abitare</h1>{msg}\
             <p>I dati pubblici della mappa non richiedono un account. L'accesso è per i membri \
             del Tavolo Abitare, gli enti proprietari e l'ufficio dell'Ambito.</p>\
             <form method=\"post\" action=\"{LOGIN_PATH}\">\
             <label for=\"utente\">Nome utente</label>\
             <input id=\"utente\" name=\"utente\" autocomplete=\"username\" required autofocus \
             value=\"{}\">\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" \
             autocomplete=\"current-password\" required>\
             <button type=\"submit\">Accedi</button></form>\
             <p><a href=\"/\">Torna alla mappa</a></p>",
            esc(user)
        ),
    )
}

fn signed_in_page(who: &Resolved) -> String {
    let (name, role, ente) = match &who.identity {
        Some(i) => (
            i.account.username.as_str(),
            i.account.role.label_it(),
            i.account.ente.as_deref(),
        ),
        None => ("", "", None),
    };
    let ente = ente
        .map(|e| format!(" per <strong>{}</strong>", esc(e)))
        .unwrap_or_default();
    page(
        "Accesso",
        &format!(
            "<h1>Accesso effettuato</h1><p class=\"ok\">Accesso come <strong>{}</strong> \
             ({}){ente}.</p><p><a href=\"/\">Vai alla mappa</a> · \
             <a href=\"/account\">Token personali</a></p>\
             <form method=\"post\" action=\"/uscita\"><button type=\"submit\">Esci</button></form>",
            esc(name),
            esc(role)
        ),
    )
}

async fn login_page(who: Resolved, Extension(auth): Extension<Auth>) -> Response {
    if auth.accounts.is_none() {
        return html(
            StatusCode::NOT_FOUND,
            page(
                "Accesso",
                "<h1>Accesso</h1><p>Questo server non ha account: tutti i dati serviti sono \
                 pubblici.</p><p><a href=\"/\">Torna alla mappa</a></p>",
            ),
        );
    }
    if who.identity.is_some() && !who.by_header {
        return html(StatusCode::OK, signed_in_page(&who));
    }
    html(StatusCode::OK, login_form(None, ""))
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    utente: String,
    #[serde(default)]
    password: String,
}

async fn login(
    who: Resolved,
    Extension(auth): Extension<Auth>,
    Extension(policy): Extension<Arc<UrlPolicy>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let accounts = accounts(&auth)?;
    let user = f.utente.trim();
    match accounts.login(user, &f.password, who.address).await {
        Ok(s) => {
            let secure = policy.base_url(&headers).starts_with("https://");
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&s.secret, secure)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            tracing::info!(user = %s.account.username, "accesso");
            Ok(r)
        }
        Err(LoginError::Invalid) => Ok(html(
            StatusCode::UNAUTHORIZED,
            login_form(
                Some(("errore", "Nome utente o password non corretti.")),
                user,
            ),
        )),
        Err(LoginError::Throttled { retry_after }) => {
            let secs = retry_after.as_secs().max(1);
            let mut r = html(
                StatusCode::TOO_MANY_REQUESTS,
                login_form(
                    Some((
                        "errore",
                        &format!(
                            "Troppi tentativi non riusciti: riprovare tra {} secondi.",
                            secs
                        ),
                    )),
                    user,
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
        Err(LoginError::Internal(e)) => Err(ApiError::internal(e)),
    }
}

async fn logout(Extension(auth): Extension<Auth>, headers: HeaderMap) -> Response {
    if let (Some(secret), Some(accounts)) = (cookie(&headers, SESSION_COOKIE), &auth.accounts) {
        if let Err(e) = accounts.logout(secret) {
            tracing::error!("uscita: {e}");
        }
    }
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie()) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn session(who: Resolved, Extension(auth): Extension<Auth>) -> Json<serde_json::Value> {
    let account = who.identity.as_ref().map(|i| &i.account);
    Json(json!({
        "account_attivi": auth.accounts.is_some(),
        "utente": account.map(|a| a.username.clone()),
        "ruolo": account.map(|a| a.role.code()),
        "ruolo_label": account.map(|a| a.role.label_it()),
        "ente": account.and_then(|a| a.ente.clone()),
        "pubblico": who.audience.code(),
        "pubblico_label": who.audience.label_it(),
        "via": who.identity.as_ref().map(|i| match i.via {
            Via::Session => "sessione",
            Via::Token { .. } => "token",
        }),
    }))
}

fn account_html(
    who: &Resolved,
    accounts: &Accounts,
    notice: Option<String>,
) -> Result<String, ApiError> {
    let Some(identity) = &who.identity else {
        return Err(ApiError::with_status(
            StatusCode::UNAUTHORIZED,
            "accedere prima",
        ));
    };
    let a = &identity.account;
    let tokens = accounts
        .tokens(Some(&a.username))
        .map_err(ApiError::internal)?;
    let rows: String = tokens
        .iter()
        .map(|t| {
            let state = if t.revoked_at.is_some() {
                "revocato".to_string()
            } else {
                match t.expires_at {
                    Some(e) if e <= chrono::Utc::now() => "scaduto".into(),
                    Some(e) => format!("valido fino al {}", e.format("%d/%m/%Y")),
                    None => "valido, senza scadenza".into(),
                }
            };
            let revoke = if t.revoked_at.is_none() {
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/account/token/{}/revoca\">\
                     <button type=\"submit\" aria-label=\"Revoca il token {}\">Revoca</button></form>",
                    t.id,
                    esc(&t.name)
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td>{}</td><td><code>abt_{}…</code></td><td>{}</td><td>{}</td><td>{revoke}</td></tr>",
                esc(&t.name),
                esc(&t.prefix),
                t.created_at.format("%d/%m/%Y"),
                esc(&state)
            )
        })
        .collect();
    let table = if tokens.is_empty() {
        "<p>Nessun token.</p>".to_string()
    } else {
        format!(
            "<table><thead><tr><th>Nome</th><th>Inizio</th><th>Creato</th><th>Stato</th><th></th>\
             </tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let ente = a
        .ente
        .as_deref()
        .map(|e| format!(" per <strong>{}</strong>", esc(e)))
        .unwrap_or_default();
    Ok(page(
        "Token personali",
        &format!(
            "<h1>Token personali</h1><p>Accesso come <strong>{}</strong> ({}){ente}: vede i dati \
             riservati a <em>{}</em>.</p>{}\
             <p>Un token personale permette a QGIS, GDAL o a uno script di leggere ciò che questo \
             account vede: in QGIS una configurazione <em>Basic</em> con il nome utente e il \
             token come password, o <em>API Header</em> con <code>Authorization: Bearer …</code>; \
             con GDAL <code>GDAL_HTTP_AUTH=BEARER GDAL_HTTP_BEARER=…</code>.</p>{table}\
             <h2>Nuovo token</h2><form method=\"post\" action=\"/account/token\">\
             <label for=\"nome\">Nome (per riconoscerlo)</label>\
             <input id=\"nome\" name=\"nome\" required maxlength=\"80\" placeholder=\"QGIS ufficio\">\
             <label for=\"giorni\">Validità in giorni</label>\
             <input id=\"giorni\" name=\"giorni\" type=\"number\" min=\"1\" max=\"730\" value=\"90\">\
             <button type=\"submit\">Crea token</button></form>\
             <p><a href=\"/\">Torna alla mappa</a></p>\
             <form method=\"post\" action=\"/uscita\"><button type=\"submit\">Esci</button></form>",
            esc(&a.username),
            esc(a.role.label_it()),
            esc(audience_of(a.role).label_it()),
            notice.unwrap_or_default()
        ),
    ))
}

async fn account_page(
    who: Resolved,
    Extension(auth): Extension<Auth>,
) -> Result<Response, ApiError> {
    let accounts = accounts(&auth)?;
    Ok(html(StatusCode::OK, account_html(&who, accounts, None)?))
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    nome: String,
    #[serde(default)]
    giorni: Option<String>,
}

async fn create_token(
    who: Resolved,
    Extension(auth): Extension<Auth>,
    Form(f): Form<TokenForm>,
) -> Result<Response, ApiError> {
    let (accounts, user) = signed_in(&auth, &who)?;
    let name = f.nome.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ApiError::bad_request(
            "campo nome: indicare un nome da 1 a 80 caratteri",
        ));
    }
    let days = match f.giorni.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        None => 90,
        Some(g) => match g.parse::<i64>() {
            Ok(d) if (1..=730).contains(&d) => d,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "campo giorni: {g:?} non è un numero di giorni tra 1 e 730"
                )))
            }
        },
    };
    let (info, secret) = accounts
        .create_token(user, name, Some(chrono::Duration::days(days)), Some(user))
        .map_err(ApiError::internal)?;
    let notice = format!(
        "<div class=\"ok\" role=\"status\"><p>Token <strong>{}</strong> creato. Copiarlo ora: non \
         sarà più mostrato.</p><p><code id=\"nuovo-token\">{}</code></p></div>",
        esc(&info.name),
        esc(&secret)
    );
    Ok(html(
        StatusCode::CREATED,
        account_html(&who, accounts, Some(notice))?,
    ))
}

async fn revoke_token(
    who: Resolved,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (accounts, user) = signed_in(&auth, &who)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("token non valido: {id:?}")))?;
    let own = accounts
        .tokens(Some(user))
        .map_err(ApiError::internal)?
        .iter()
        .any(|t| t.id == id);
    let admin = who.role() == Some(crate::auth::Role::Amministratore);
    if !own && !admin {
        return Err(ApiError::not_found(format!(
            "token {id} non trovato tra i propri"
        )));
    }
    accounts
        .revoke_token(id, Some(user))
        .map_err(ApiError::internal)?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/account")]).into_response())
}

async fn admin_accounts(
    Extension(auth): Extension<Auth>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let accounts = accounts(&auth)?;
    let list = accounts.accounts().map_err(ApiError::internal)?;
    let tokens = accounts.tokens(None).map_err(ApiError::internal)?;
    Ok(Json(json!({ "utenti": list, "token": tokens })))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    limite: Option<String>,
    prima_di: Option<String>,
}

async fn admin_audit(
    Extension(auth): Extension<Auth>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let accounts = accounts(&auth)?;
    let limit = match q.limite.as_deref() {
        None => 200,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=5000).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limite non valido: {l:?} (intero tra 1 e 5000)"
                )))
            }
        },
    };
    let before = match q.prima_di.as_deref() {
        None => None,
        Some(b) => Some(b.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("prima_di non valido: {b:?} (id di una voce)"))
        })?),
    };
    let log = accounts
        .audit_log(limit, before)
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "registro": log })))
}
