//! Hand-built models shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use abitare::model::*;
use chrono::NaiveDate;
use geo::{polygon, MultiPolygon, Point};

/// Skips a test whose requirement (`what`, a sentence naming it) is missing: a notice where
/// it may be missing (a developer's machine), a failure under CI (the `CI` environment
/// variable set), which always has the real samples in `../shared` and GDAL installed.
pub fn skip(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what}: required when CI is set");
    }
    eprintln!("NOTICE: {what}: test skipped");
}

/// A file or folder of `../shared` (the real sample data), or `None` after [`skip`].
pub fn shared_or_skip(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        skip(&format!("{} not found", path.display()));
        None
    }
}

/// `available`, after [`skip`] when false (a tool such as `ogr2ogr` or `gdaltransform`).
pub fn available_or_skip(available: bool, what: &str) -> bool {
    if !available {
        skip(what);
    }
    available
}

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

pub fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![polygon![
        (x: x, y: y),
        (x: x + side, y: y),
        (x: x + side, y: y + side),
        (x: x, y: y + side),
        (x: x, y: y),
    ]])
}

pub fn unit(
    ente: &str,
    codice: &str,
    istat: &str,
    servizio: Servizio,
    stato: Stato,
) -> AlloggioPubblico {
    AlloggioPubblico {
        ente_proprietario: ente.into(),
        codice_unita: codice.into(),
        comune_istat: Some(istat.into()),
        belfiore: None,
        comune_nome: None,
        indirizzo: Some("Via Roma 1".into()),
        sezione: None,
        foglio: None,
        particella: None,
        subalterno: None,
        categoria_catastale: Some("A/3".into()),
        superficie_mq: Some(60.0),
        servizio,
        stato,
        sfitto_dal: None,
        flag: FlagPiano::default(),
        lonlat: None,
        riga: 2,
        posizione: None,
        localizzazione: Localizzazione::NonLocalizzato,
    }
}

pub fn ambito() -> AmbitoInfo {
    AmbitoInfo {
        numero: Some(9),
        nome: "Ambito di prova".into(),
        capofila: Some("Alfa".into()),
        anno: 2026,
        data_riferimento: date("2025-10-27"),
        dimostrativo: false,
    }
}

/// Two comuni side by side near Clusone (Alfa west, Beta east), one foglio each with two parcels.
pub fn two_comuni_model() -> Model {
    let mut m = Model::empty(ambito());
    m.comuni = vec![
        Comune {
            istat: "016001".into(),
            belfiore: "A001".into(),
            nome: "Alfa".into(),
            sub_ambito: None,
            popolazione: 2000,
            geometry: square(9.90, 45.85, 0.05),
        },
        Comune {
            istat: "016002".into(),
            belfiore: "B002".into(),
            nome: "Beta".into(),
            sub_ambito: None,
            popolazione: 500,
            geometry: square(9.95, 45.85, 0.05),
        },
    ];
    m.fogli = vec![Foglio {
        riferimento: "A001_000100".into(),
        belfiore: "A001".into(),
        sezione: None,
        foglio: "1".into(),
        scala: Some(2000),
        geometry: square(9.90, 45.85, 0.01),
    }];
    for (i, (b, x)) in [("A001", 9.901), ("A001", 9.903), ("B002", 9.951)]
        .into_iter()
        .enumerate()
    {
        m.particelle.push(Particella {
            riferimento: format!("{b}_000100.{}", i + 10),
            belfiore: b.into(),
            sezione: None,
            foglio: "1".into(),
            particella: format!("{}", i + 10),
            geometry: square(x, 45.851, 0.001),
        });
    }
    m
}

pub fn point(x: f64, y: f64) -> Point<f64> {
    Point::new(x, y)
}

/// Answers one GET through the application router (no accounts): status, content type and
/// body.
pub async fn get_raw(
    state: std::sync::Arc<abitare::analysis::Analisi>,
    uri: &str,
) -> (axum::http::StatusCode, String, Vec<u8>) {
    answer(abitare::server::app(state), uri, None).await
}

/// One GET through `router`, with `authorization` when given.
async fn answer(
    router: axum::Router,
    uri: &str,
    authorization: Option<String>,
) -> (axum::http::StatusCode, String, Vec<u8>) {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = Request::get(uri).header("host", "localhost:8080");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = router
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, ct, body.to_vec())
}

/// [`get_raw`] with the body as text.
pub async fn get_text(
    state: std::sync::Arc<abitare::analysis::Analisi>,
    uri: &str,
) -> (axum::http::StatusCode, String, String) {
    let (s, ct, body) = get_raw(state, uri).await;
    (s, ct, String::from_utf8_lossy(&body).into_owned())
}

/// The demo Ambito generated and built in a temporary folder (removed when dropped).
/// The demo built once per test binary and loaded: what most HTTP tests serve.
pub struct LoadedDemo {
    _demo: BuiltDemo,
    pub loaded: std::sync::Arc<abitare::analysis::Analisi>,
}

/// The [`LoadedDemo`] of this test binary, built on first use.
pub fn loaded_demo() -> &'static LoadedDemo {
    static F: std::sync::OnceLock<LoadedDemo> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let demo = build_demo();
        let loaded = std::sync::Arc::new(demo.load());
        LoadedDemo {
            _demo: demo,
            loaded,
        }
    })
}

pub struct BuiltDemo {
    pub dir: tempfile::TempDir,
    /// The demo folder (inputs, `abitare.toml`, `workspace/`).
    pub root: std::path::PathBuf,
    /// Its project file.
    pub project: std::path::PathBuf,
}

impl BuiltDemo {
    pub fn workspace(&self) -> std::path::PathBuf {
        self.root.join("workspace")
    }

    pub fn load(&self) -> abitare::analysis::Analisi {
        abitare::pipeline::load_workspace(&self.workspace()).expect("workspace")
    }
}

/// Generates the demo and builds its workspace through the same path as `abitare demo`.
pub fn build_demo() -> BuiltDemo {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("demo");
    let generated = abitare::demo::generate(&root).expect("demo generation");
    let project = abitare::project::Project::load(&generated.project).expect("demo project");
    abitare::pipeline::build(&project).expect("demo build");
    BuiltDemo {
        dir,
        root,
        project: generated.project,
    }
}

/// An accounts database in a temporary folder with one account per role and a personal
/// access token for each, shared by the tests of one binary.
pub struct Signed {
    _dir: tempfile::TempDir,
    pub accounts: std::sync::Arc<abitare::auth::Accounts>,
    tokens: Vec<(abitare::auth::Role, String)>,
}

impl Signed {
    /// The token of the account of role `role`.
    pub fn token(&self, role: abitare::auth::Role) -> &str {
        self.tokens
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, t)| t.as_str())
            .expect("a token per role")
    }
}

/// The shared [`Signed`] accounts (accounts `tavolo`, `ente` of "Comune di Alfa", `ufficio`,
/// `amministratore`).
pub fn signed() -> &'static Signed {
    use abitare::auth::{Accounts, Role};
    static SIGNED: std::sync::OnceLock<Signed> = std::sync::OnceLock::new();
    SIGNED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let accounts = Accounts::open(&dir.path().join("abitare.sqlite")).expect("accounts");
        let mut tokens = Vec::new();
        for (name, role, ente) in [
            ("tavolo", Role::Tavolo, None),
            ("ente", Role::Ente, Some("Comune di Alfa")),
            ("ufficio", Role::Ufficio, None),
            ("amministratore", Role::Amministratore, None),
        ] {
            accounts
                .add_account(name, role, ente, "una password lunga abbastanza", None)
                .expect("account");
            let (_, secret) = accounts
                .create_token(name, "test", Some(chrono::Duration::days(1)), None)
                .expect("token");
            tokens.push((role, secret));
        }
        Signed {
            _dir: dir,
            accounts: std::sync::Arc::new(accounts),
            tokens,
        }
    })
}

/// The application router with the shared [`signed`] accounts.
pub fn app_signed(state: std::sync::Arc<abitare::analysis::Analisi>) -> axum::Router {
    abitare::server::App::new(state)
        .accounts(signed().accounts.clone())
        .router()
}

/// Answers one GET as the account of `role` (its token as `Authorization: Bearer`), or as
/// the public when `role` is `None`: status, content type and body.
pub async fn get_raw_as(
    state: std::sync::Arc<abitare::analysis::Analisi>,
    uri: &str,
    role: Option<abitare::auth::Role>,
) -> (axum::http::StatusCode, String, Vec<u8>) {
    let auth = role.map(|r| format!("Bearer {}", signed().token(r)));
    answer(app_signed(state), uri, auth).await
}

/// [`get_raw_as`] with the body as text.
pub async fn get_text_as(
    state: std::sync::Arc<abitare::analysis::Analisi>,
    uri: &str,
    role: Option<abitare::auth::Role>,
) -> (axum::http::StatusCode, String, String) {
    let (s, ct, body) = get_raw_as(state, uri, role).await;
    (s, ct, String::from_utf8_lossy(&body).into_owned())
}
