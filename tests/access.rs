//! Signing in and out, tokens, the security behaviour of credentials and the audit log,
//! through the application router with a real accounts database (SQLite in a temporary
//! folder), on the demo Ambito.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use abitare::analysis::Analisi;
use abitare::auth::{Accounts, Clock, Role, SessionPolicy};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PASSWORD: &str = "una password lunga abbastanza";

fn demo() -> &'static Arc<Analisi> {
    static D: OnceLock<(common::BuiltDemo, Arc<Analisi>)> = OnceLock::new();
    &D.get_or_init(|| {
        let d = common::build_demo();
        let a = Arc::new(d.load());
        (d, a)
    })
    .1
}

/// A clock the test moves.
struct ManualClock(Mutex<DateTime<Utc>>);

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl ManualClock {
    fn advance(&self, d: chrono::Duration) {
        *self.0.lock().unwrap() += d;
    }
}

/// A fresh accounts database with one account per role.
struct Fixture {
    dir: tempfile::TempDir,
    accounts: Arc<Accounts>,
    clock: Arc<ManualClock>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
    let accounts = Accounts::open(&dir.path().join("abitare.sqlite"))
        .unwrap()
        .with_clock(clock.clone())
        .with_policy(SessionPolicy {
            idle: chrono::Duration::minutes(30),
            absolute: chrono::Duration::hours(12),
        });
    for (name, role, ente) in [
        ("tavolo", Role::Tavolo, None),
        ("ufficio", Role::Ufficio, None),
        ("amministratore", Role::Amministratore, None),
        ("ente", Role::Ente, Some("Comune di Clusone")),
    ] {
        accounts
            .add_account(name, role, ente, PASSWORD, None)
            .unwrap();
    }
    Fixture {
        dir,
        accounts: Arc::new(accounts),
        clock,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> String {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
    /// The session cookie set by the answer (`name=value`).
    fn cookie(&self) -> Option<String> {
        let c = self.header("set-cookie");
        let first = c.split(';').next()?.trim().to_string();
        first
            .strip_prefix("abitare_sessione=")
            .filter(|v| !v.is_empty())
            .map(|_| first.clone())
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn send(app: &axum::Router, req: Request<Body>) -> Answer {
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn get(uri: &str) -> axum::http::request::Builder {
    Request::get(uri).header("host", "localhost:8080")
}

fn login_request(user: &str, password: &str) -> Request<Body> {
    Request::post("/accesso")
        .header("host", "localhost:8080")
        .header("origin", "http://localhost:8080")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "utente={}&password={}",
            user,
            password.replace(' ', "+")
        )))
        .unwrap()
}

fn app(f: &Fixture) -> axum::Router {
    abitare::server::App::new(demo().clone())
        .accounts(f.accounts.clone())
        .router()
}

#[tokio::test]
async fn login_session_and_logout_through_the_form() {
    let f = fixture();
    let app = app(&f);
    // The page: an Italian form, fields with labels.
    let page = send(&app, get("/accesso").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .body
        .contains("<label for=\"utente\">Nome utente</label>"));
    assert!(page.body.contains("type=\"password\""));
    assert!(page
        .header("content-security-policy")
        .contains("frame-ancestors 'none'"));

    // Before: the public, refused the units with the challenge.
    let units = send(
        &app,
        get("/api/layers/alloggi_pubblici")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(units.status, StatusCode::UNAUTHORIZED);
    assert!(units
        .header("www-authenticate")
        .contains("Basic realm=\"abitare\""));

    let ok = send(&app, login_request("tavolo", PASSWORD)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let set = ok.header("set-cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain HTTP: no Secure flag: {set}");
    let cookie = ok.cookie().expect("session cookie");

    let me = send(
        &app,
        get("/api/sessione")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let v = me.json();
    assert_eq!(v["utente"], "tavolo");
    assert_eq!(v["pubblico"], "tavolo");
    assert_eq!(v["via"], "sessione");
    let units = send(
        &app,
        get("/api/layers/alloggi_pubblici?limit=1")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(units.status, StatusCode::OK);
    assert!(units.header("cache-control").starts_with("private"));
    // The Tavolo is not the office: private units are refused (403, not 401).
    let private = send(
        &app,
        get("/api/layers/alloggi_privati")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(private.status, StatusCode::FORBIDDEN);

    // Logging out from another site is refused; from this site it ends the session.
    let cross = send(
        &app,
        Request::post("/uscita")
            .header("host", "localhost:8080")
            .header("cookie", &cookie)
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let out = send(
        &app,
        Request::post("/uscita")
            .header("host", "localhost:8080")
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let after = send(
        &app,
        get("/api/layers/alloggi_pubblici")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "the old cookie still works"
    );

    let log: Vec<String> = f
        .accounts
        .audit_log(50, None)
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e.event, e.actor.as_deref().unwrap_or("-")))
        .collect();
    assert!(log.contains(&"accesso tavolo".to_string()), "{log:?}");
    assert!(log.contains(&"uscita tavolo".to_string()), "{log:?}");
}

#[tokio::test]
async fn secure_cookie_behind_https() {
    let f = fixture();
    let app = abitare::server::App::new(demo().clone())
        .accounts(f.accounts.clone())
        .policy(
            abitare::server::base::UrlPolicy::new(Some("https://abitare.example"), false).unwrap(),
        )
        .router();
    let r = send(
        &app,
        Request::post("/accesso")
            .header("host", "localhost:8080")
            .header("origin", "https://abitare.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(
                "utente=tavolo&password=una+password+lunga+abbastanza",
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.header("set-cookie").contains("; Secure"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_read_the_same_and_are_throttled() {
    let f = fixture();
    let app = app(&f);
    let wrong = send(&app, login_request("tavolo", "non è questa la password")).await;
    let unknown = send(&app, login_request("nessuno", "non è questa la password")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let msg = "Nome utente o password non corretti.";
    assert!(wrong.body.contains(msg) && unknown.body.contains(msg));
    assert!(wrong.cookie().is_none() && unknown.cookie().is_none());
    // An HTML page, not a browser's Basic dialog.
    assert!(wrong.header("www-authenticate").is_empty());
    // Five failures for an account: the next attempts wait, even with the right password.
    for _ in 0..4 {
        send(&app, login_request("tavolo", "ancora sbagliata!!")).await;
    }
    let locked = send(&app, login_request("tavolo", PASSWORD)).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    let wait: u64 = locked.header("retry-after").parse().unwrap();
    assert!(wait >= 1, "{wait}");
    assert!(locked.body.contains("Troppi tentativi"));
    // Another account from the same address still signs in.
    let other = send(&app, login_request("ufficio", PASSWORD)).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    let events: Vec<String> = f
        .accounts
        .audit_log(50, None)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.iter().filter(|e| *e == "accesso_fallito").count() >= 5);
    assert!(
        events.contains(&"accesso_bloccato".to_string()),
        "{events:?}"
    );
}

#[tokio::test]
async fn login_forms_from_other_sites_are_refused() {
    let f = fixture();
    let app = app(&f);
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = send(
            &app,
            Request::post("/accesso")
                .header("host", "localhost:8080")
                .header(header, value)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(
                    "utente=tavolo&password=una+password+lunga+abbastanza",
                ))
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{header}: {value}");
        assert!(r.cookie().is_none());
    }
    // No origin at all: refused too (a form of this site always says where it comes from).
    let r = send(
        &app,
        Request::post("/accesso")
            .header("host", "localhost:8080")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(
                "utente=tavolo&password=una+password+lunga+abbastanza",
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn tokens_by_bearer_and_basic_and_revocation_on_the_next_request() {
    let f = fixture();
    let app = app(&f);
    let login = send(&app, login_request("ufficio", PASSWORD)).await;
    let cookie = login.cookie().unwrap();
    // Created in the page: shown once.
    let created = send(
        &app,
        Request::post("/account/token")
            .header("host", "localhost:8080")
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("nome=QGIS+ufficio&giorni=30"))
            .unwrap(),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let start = created.body.find("abt_").unwrap();
    let token: String = created.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(token.len(), 4 + 43, "{token}");
    let page = send(
        &app,
        get("/account")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(page.body.contains("QGIS ufficio"));
    assert!(!page.body.contains(&token), "the token is shown once only");

    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ufficio:{token}"));
    let basic_wrong_user =
        base64::engine::general_purpose::STANDARD.encode(format!("tavolo:{token}"));
    for (auth, want) in [
        (format!("Bearer {token}"), StatusCode::OK),
        (format!("Basic {basic}"), StatusCode::OK),
        (
            format!("Basic {basic_wrong_user}"),
            StatusCode::UNAUTHORIZED,
        ),
        // The account's password is not a token.
        (
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("ufficio:{PASSWORD}"))
            ),
            StatusCode::UNAUTHORIZED,
        ),
        ("Bearer abt_sbagliato".to_string(), StatusCode::UNAUTHORIZED),
        ("Basic !!!".to_string(), StatusCode::UNAUTHORIZED),
        ("Negotiate abc".to_string(), StatusCode::UNAUTHORIZED),
        ("Bearer".to_string(), StatusCode::UNAUTHORIZED),
        (
            format!("Bearer {}", "a".repeat(10_000)),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = send(
            &app,
            get("/collections/alloggi_privati/items?limit=1")
                .header("authorization", &auth)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, want, "{}", &auth[..auth.len().min(40)]);
        if want == StatusCode::UNAUTHORIZED {
            assert!(r.header("www-authenticate").contains("Bearer"));
        }
        assert!(r.header("content-type").starts_with("application/")); // never a 500 page
    }
    // Two Authorization headers: 400.
    let twice = send(
        &app,
        get("/collections")
            .header("authorization", format!("Bearer {token}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    // A token in the query string is not a credential.
    let query = send(
        &app,
        get(&format!("/api/layers/alloggi_privati?token={token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(query.status, StatusCode::UNAUTHORIZED);

    // Revoked in the page: refused on the very next request.
    let id = f.accounts.tokens(Some("ufficio")).unwrap()[0].id;
    let revoked = send(
        &app,
        Request::post(format!("/account/token/{id}/revoca"))
            .header("host", "localhost:8080")
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let r = send(
        &app,
        get("/api/layers/alloggi_privati")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Revoked by another process on the same database (the CLI): refused too, though the
    // server had the token in memory (within `MARKER_FRESH_US`, 1 ms).
    let (cli_token, cli_secret) = f
        .accounts
        .create_token("ufficio", "da revocare", None, None)
        .unwrap();
    let by_cli = |app: axum::Router, secret: String| async move {
        send(
            &app,
            get("/api/layers/alloggi_privati?limit=1")
                .header("authorization", format!("Bearer {secret}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .status
    };
    assert_eq!(
        by_cli(app.clone(), cli_secret.clone()).await,
        StatusCode::OK
    );
    assert_eq!(
        by_cli(app.clone(), cli_secret.clone()).await,
        StatusCode::OK
    );
    let cli = Accounts::open(&f.dir.path().join("abitare.sqlite")).unwrap();
    cli.revoke_token(cli_token.id, None).unwrap();
    // Another process's change is seen by requests that start after the marker's freshness.
    tokio::time::sleep(std::time::Duration::from_micros(
        2 * abitare::auth::MARKER_FRESH_US,
    ))
    .await;
    assert_eq!(
        by_cli(app.clone(), cli_secret).await,
        StatusCode::UNAUTHORIZED
    );
    // Another account cannot revoke it (nor learn it exists).
    let (other, _) = f
        .accounts
        .create_token("ufficio", "secondo", None, None)
        .unwrap();
    let tavolo = send(&app, login_request("tavolo", PASSWORD))
        .await
        .cookie()
        .unwrap();
    let r = send(
        &app,
        Request::post(format!("/account/token/{}/revoca", other.id))
            .header("host", "localhost:8080")
            .header("cookie", &tavolo)
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(f
        .accounts
        .tokens(Some("ufficio"))
        .unwrap()
        .iter()
        .any(|t| t.id == other.id && t.revoked_at.is_none()));
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_their_lifetime() {
    let f = fixture();
    let app = app(&f);
    let who = |cookie: String| {
        let app = app.clone();
        async move {
            send(
                &app,
                get("/api/sessione")
                    .header("cookie", cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .json()["utente"]
                .clone()
        }
    };
    let c = send(&app, login_request("tavolo", PASSWORD))
        .await
        .cookie()
        .unwrap();
    f.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(who(c.clone()).await, "tavolo");
    f.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(who(c.clone()).await, serde_json::Value::Null, "idle expiry");
    // Used every 20 minutes, a session still ends 12 hours after login.
    let c = send(&app, login_request("tavolo", PASSWORD))
        .await
        .cookie()
        .unwrap();
    for _ in 0..35 {
        f.clock.advance(chrono::Duration::minutes(20));
        assert_eq!(who(c.clone()).await, "tavolo");
    }
    f.clock.advance(chrono::Duration::minutes(20));
    assert_eq!(who(c).await, serde_json::Value::Null, "absolute expiry");
}

#[tokio::test]
async fn the_audit_log_records_exports_and_reserved_reads_for_the_administrator() {
    let f = fixture();
    let app = app(&f);
    let (_, ufficio) = f.accounts.create_token("ufficio", "t", None, None).unwrap();
    let (_, admin) = f
        .accounts
        .create_token("amministratore", "t", None, None)
        .unwrap();
    let (_, tavolo) = f.accounts.create_token("tavolo", "t", None, None).unwrap();
    let bearer = |t: &str| format!("Bearer {t}");
    for uri in [
        "/api/layers/alloggi_privati?limit=2",
        "/collections/alloggi_privati/items?limit=2",
        "/api/export/alloggi_privati.csv",
        "/api/export/comuni.csv",
    ] {
        let r = send(
            &app,
            get(uri)
                .header("authorization", bearer(&ufficio))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
    }
    // Tiles with private units: one entry per account in a window, not one per tile.
    for (x, y) in [(8600, 5850), (8601, 5850), (8600, 5851)] {
        send(
            &app,
            get(&format!("/tiles/14/{x}/{y}.mvt"))
                .header("authorization", bearer(&ufficio))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    }
    // Only the administrator reads the log.
    let refused = send(
        &app,
        get("/api/amministrazione/registro")
            .header("authorization", bearer(&tavolo))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let anonymous = send(
        &app,
        get("/api/amministrazione/registro")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let log = send(
        &app,
        get("/api/amministrazione/registro?limite=100")
            .header("authorization", bearer(&admin))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(log.status, StatusCode::OK);
    let entries = log.json()["registro"].as_array().unwrap().clone();
    let by = |event: &str, detail: &str| {
        entries
            .iter()
            .filter(|e| {
                e["event"] == event
                    && e["actor"] == "ufficio"
                    && e["detail"].as_str().unwrap_or("").contains(detail)
            })
            .count()
    };
    assert_eq!(by("lettura_riservata", "/api/layers"), 1, "{entries:#?}");
    assert_eq!(by("lettura_riservata", "/collections"), 1);
    assert_eq!(by("lettura_riservata", "alloggi_privati.csv"), 1);
    assert_eq!(by("lettura_riservata", "(tile)"), 1);
    assert_eq!(by("esportazione", "alloggi_privati.csv"), 1);
    assert_eq!(by("esportazione", "comuni.csv"), 1);
    for e in &entries {
        assert!(e["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{e}");
    }
    // Accounts and tokens for the administrator, without any hash or secret.
    let users = send(
        &app,
        get("/api/amministrazione/utenti")
            .header("authorization", bearer(&admin))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(users.status, StatusCode::OK);
    assert!(users.body.contains("\"ufficio\""));
    assert!(!users.body.contains("argon2") && !users.body.contains(&ufficio));
    // The administrator sees the data as the public does.
    let units = send(
        &app,
        get("/api/layers/alloggi_pubblici")
            .header("authorization", bearer(&admin))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(units.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_public_reads_aggregates_with_small_counts_withheld() {
    let f = fixture();
    let app = app(&f);
    let (_, tavolo) = f.accounts.create_token("tavolo", "t", None, None).unwrap();
    let comuni = |auth: Option<String>| {
        let app = app.clone();
        async move {
            let mut r = get("/api/layers/comuni");
            if let Some(a) = auth {
                r = r.header("authorization", a);
            }
            send(&app, r.body(Body::empty()).unwrap()).await.json()
        }
    };
    let public = comuni(None).await;
    let full = comuni(Some(format!("Bearer {tavolo}"))).await;
    let feats = |v: &serde_json::Value| v["features"].as_array().unwrap().clone();
    let mut withheld = 0;
    for (p, t) in feats(&public).iter().zip(feats(&full)) {
        let (p, t) = (&p["properties"], &t["properties"]);
        assert_eq!(p["istat"], t["istat"]);
        assert!(t["valori_protetti"].is_null(), "the Tavolo sees everything");
        let names: Vec<&str> = p["valori_protetti"]
            .as_str()
            .map(|s| s.split(',').collect())
            .unwrap_or_default();
        for key in [
            "alloggi",
            "liberi",
            "inutilizzati",
            "privati_offerti",
            "sfitto_ristrutturazione",
        ] {
            let exact = t[key].as_u64().unwrap_or(0);
            if (1..3).contains(&exact) {
                assert!(p[key].is_null(), "{}: {key} = {exact} shown", p["nome"]);
                assert!(names.contains(&key), "{}: {key} not named", p["nome"]);
                withheld += 1;
            } else if !names.contains(&key) {
                assert_eq!(p[key], t[key], "{}: {key}", p["nome"]);
            }
        }
        if names.contains(&"inutilizzati") {
            assert!(
                p["tasso_inutilizzo"].is_null(),
                "{}: the rate gives it away",
                p["nome"]
            );
        }
    }
    assert!(withheld > 0, "the demo has small counts to withhold");

    // The panel reads "< 3".
    let istat = feats(&public)
        .iter()
        .find(|f| f["properties"]["valori_protetti"].is_string())
        .map(|f| f["properties"]["istat"].as_str().unwrap().to_string())
        .unwrap();
    let panel = send(
        &app,
        get(&format!("/api/sintesi/comuni/{istat}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(panel.body.contains("\"< 3\""), "{}", panel.body);

    // Candidate areas made from public parcels with empty flats: the Tavolo's only.
    let ids = |v: serde_json::Value| -> Vec<String> {
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let public_ids = ids(send(
        &app,
        get("/api/layers/aree_candidate")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .json());
    let tavolo_ids = ids(send(
        &app,
        get("/api/layers/aree_candidate")
            .header("authorization", format!("Bearer {tavolo}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .json());
    assert!(tavolo_ids.iter().any(|i| i.starts_with("PP-")));
    assert!(!public_ids.iter().any(|i| i.starts_with("PP-")));
    assert_eq!(
        public_ids.len(),
        tavolo_ids.iter().filter(|i| !i.starts_with("PP-")).count()
    );
}
