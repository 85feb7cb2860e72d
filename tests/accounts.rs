#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The accounts store (src/auth) on real SQLite files: schema migrations, file mode, account
//! management rules, login, sessions with idle and absolute expiry, personal access tokens,
//! throttling and the append-only audit log.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use abitare::auth::{event, Accounts, AuthError, Clock, LoginError, Role, SessionPolicy, Via};
use chrono::{DateTime, Duration, SubsecRound, Utc};

const PASSWORD: &str = "corretta-cavallo-batteria";

/// A clock the test moves by hand.
#[derive(Debug)]
struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(Utc::now().trunc_subsecs(6))))
    }
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accessi.sqlite");
    (dir, path)
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn user_version(path: &Path) -> i64 {
    raw(path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn events(accounts: &Accounts) -> Vec<(String, Option<String>, String)> {
    let mut log = accounts.audit_log(1000, None).unwrap();
    log.reverse();
    log.into_iter()
        .map(|e| (e.event, e.actor, e.detail))
        .collect()
}

#[test]
fn migrations_apply_on_a_new_file_and_reopening_is_idempotent() {
    let (_dir, path) = db();
    assert!(!path.exists());
    {
        let accounts = Accounts::open(&path).unwrap();
        accounts
            .add_account("mario", Role::Ufficio, None, PASSWORD, None)
            .unwrap();
    }
    assert_eq!(user_version(&path), 1);
    let conn = raw(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    assert_eq!(tables, ["accounts", "audit", "sessions", "tokens"]);
    drop(conn);

    for _ in 0..2 {
        let accounts = Accounts::open(&path).unwrap();
        assert_eq!(user_version(&path), 1);
        let all = accounts.accounts().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].username, "mario");
    }
}

#[cfg(unix)]
#[test]
fn a_new_file_has_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = db();
    let _accounts = Accounts::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{:o}", mode & 0o777);
}

#[test]
fn a_newer_schema_is_refused_with_an_italian_message() {
    let (_dir, path) = db();
    drop(Accounts::open(&path).unwrap());
    raw(&path).pragma_update(None, "user_version", 7).unwrap();
    let err = Accounts::open(&path).unwrap_err();
    assert!(
        matches!(err, AuthError::SchemaTooNew { found: 7, known: 1 }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("versione 7"), "{msg}");
    assert!(msg.contains("aggiornare abitare"), "{msg}");
    // Nothing was changed.
    assert_eq!(user_version(&path), 7);
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let (dir, _) = db();
    let err = Accounts::open(&dir.path().join("manca").join("accessi.sqlite")).unwrap_err();
    assert!(matches!(err, AuthError::Io { .. }), "{err:?}");
}

#[test]
fn accounts_are_added_listed_changed_and_deactivated() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    let mario = accounts
        .add_account("Mario.Rossi", Role::Ufficio, None, PASSWORD, Some("admin"))
        .unwrap();
    assert_eq!(mario.username, "mario.rossi");
    assert_eq!(mario.role, Role::Ufficio);
    assert!(mario.active);
    let aler = accounts
        .add_account(
            "aler",
            Role::Ente,
            Some("ALER Milano"),
            PASSWORD,
            Some("admin"),
        )
        .unwrap();
    assert_eq!(aler.ente.as_deref(), Some("ALER Milano"));

    let err = accounts
        .add_account("MARIO.ROSSI", Role::Tavolo, None, PASSWORD, None)
        .unwrap_err();
    assert!(matches!(err, AuthError::AccountExists(_)), "{err:?}");
    assert!(err.to_string().contains("esiste già"));

    let names: Vec<_> = accounts
        .accounts()
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(names, ["aler", "mario.rossi"]);
    assert_eq!(accounts.account("MARIO.rossi").unwrap().unwrap(), mario);
    assert!(accounts.account("nessuno").unwrap().is_none());

    // The serialised account has no password hash.
    let json = serde_json::to_string(&mario).unwrap();
    assert!(!json.contains("argon2"), "{json}");
    assert!(json.contains("\"role\":\"ufficio\""), "{json}");

    let changed = accounts
        .set_role("mario.rossi", Role::Amministratore, None, Some("admin"))
        .unwrap();
    assert_eq!(changed.role, Role::Amministratore);
    assert!(accounts.has_active_admin().unwrap());
    let err = accounts
        .set_role("mario.rossi", Role::Ente, None, None)
        .unwrap_err();
    assert!(matches!(err, AuthError::EnteRequired));
    let err = accounts
        .set_role("aler", Role::Tavolo, Some("ALER Milano"), None)
        .unwrap_err();
    assert!(matches!(err, AuthError::EnteNotAllowed));
    let aler = accounts.set_role("aler", Role::Tavolo, None, None).unwrap();
    assert_eq!(aler.ente, None);
    assert!(matches!(
        accounts.set_role("nessuno", Role::Tavolo, None, None),
        Err(AuthError::UnknownAccount(_))
    ));

    accounts.deactivate("mario.rossi", Some("admin")).unwrap();
    let mario = accounts.account("mario.rossi").unwrap().unwrap();
    assert!(!mario.active, "the row is kept, inactive");
    assert!(!accounts.has_active_admin().unwrap());
    assert_eq!(accounts.accounts().unwrap().len(), 2);
    assert!(matches!(
        accounts.deactivate("nessuno", None),
        Err(AuthError::UnknownAccount(_))
    ));
}

#[test]
fn the_ente_rule_is_enforced() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    let err = accounts
        .add_account("aler", Role::Ente, None, PASSWORD, None)
        .unwrap_err();
    assert!(matches!(err, AuthError::EnteRequired), "{err:?}");
    assert!(err.to_string().contains("ente proprietario"), "{err}");
    let err = accounts
        .add_account("aler", Role::Ente, Some("   "), PASSWORD, None)
        .unwrap_err();
    assert!(matches!(err, AuthError::EnteRequired), "{err:?}");
    let err = accounts
        .add_account("tavolo1", Role::Tavolo, Some("ALER"), PASSWORD, None)
        .unwrap_err();
    assert!(matches!(err, AuthError::EnteNotAllowed), "{err:?}");
    assert!(accounts.accounts().unwrap().is_empty());

    // The schema refuses it too, whatever writes the row.
    let conn = raw(&path);
    let err = conn
        .execute(
            "INSERT INTO accounts (username, role, ente, password_hash, active, created_at, \
             updated_at) VALUES ('x1', 'ente', NULL, 'h', 1, 't', 't')",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
}

#[test]
fn weak_passwords_and_bad_usernames_are_refused_in_italian() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    let err = accounts
        .add_account("mario", Role::Tavolo, None, "corta123456", None)
        .unwrap_err();
    assert!(matches!(err, AuthError::WeakPassword), "{err:?}");
    assert!(err.to_string().contains("almeno 12 caratteri"), "{err}");
    // Twelve characters (not bytes) are enough.
    accounts
        .add_account("mario", Role::Tavolo, None, "àèìòùàèìòùàè", None)
        .unwrap();

    for bad in [
        "m",
        "_mario",
        "mario rossi",
        "mario@ats",
        "niccolò",
        &"a".repeat(65),
    ] {
        let err = accounts
            .add_account(bad, Role::Tavolo, None, PASSWORD, None)
            .unwrap_err();
        assert!(
            matches!(err, AuthError::InvalidUsername(_)),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains("nome utente non valido"), "{err}");
    }
    let err = accounts.set_password("mario", "breve", None).unwrap_err();
    assert!(matches!(err, AuthError::WeakPassword));
    assert_eq!(accounts.accounts().unwrap().len(), 1);
}

#[tokio::test]
async fn login_opens_a_session_that_logout_ends() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    let mario = accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    let session = accounts
        .login("Mario", PASSWORD, ip("192.0.2.10"))
        .await
        .unwrap();
    assert_eq!(session.account, mario);
    assert_eq!(session.secret.len(), 43);
    let remaining = session.expires_at - Utc::now();
    assert!(
        remaining > Duration::hours(11) && remaining <= Duration::hours(12),
        "{remaining}"
    );

    let identity = accounts.session(&session.secret).unwrap().unwrap();
    assert_eq!(identity.account.username, "mario");
    assert_eq!(identity.via, Via::Session);
    assert!(accounts.session("nonesiste").unwrap().is_none());
    assert!(accounts.session(&"A".repeat(43)).unwrap().is_none());

    // The secret is not in the database, only its hash.
    let stored: String = raw(&path)
        .query_row("SELECT secret_hash FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, session.secret);
    assert_eq!(stored.len(), 64);

    accounts.logout(&session.secret).unwrap();
    assert!(accounts.session(&session.secret).unwrap().is_none());
    // Logging out twice is harmless.
    accounts.logout(&session.secret).unwrap();

    let log = events(&accounts);
    let accesso = log.iter().find(|e| e.0 == event::ACCESSO).unwrap();
    assert_eq!(accesso.1.as_deref(), Some("mario"));
    let uscite: Vec<_> = log.iter().filter(|e| e.0 == event::USCITA).collect();
    assert_eq!(uscite.len(), 1);
    assert_eq!(uscite[0].1.as_deref(), Some("mario"));
    let entry = accounts
        .audit_log(10, None)
        .unwrap()
        .into_iter()
        .find(|e| e.event == event::ACCESSO)
        .unwrap();
    assert_eq!(entry.address.as_deref(), Some("192.0.2.10"));
}

#[tokio::test]
async fn wrong_password_unknown_user_and_inactive_account_are_all_invalid() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    accounts
        .add_account("luisa", Role::Tavolo, None, PASSWORD, None)
        .unwrap();
    accounts.deactivate("luisa", None).unwrap();

    let wrong = accounts.login("mario", "sbagliata-davvero", None).await;
    let unknown = accounts.login("nessuno", PASSWORD, None).await;
    let inactive = accounts.login("luisa", PASSWORD, None).await;
    let garbage = accounts.login("x y\n", PASSWORD, None).await;
    for outcome in [&wrong, &unknown, &inactive, &garbage] {
        assert!(matches!(outcome, Err(LoginError::Invalid)), "{outcome:?}");
    }
    assert_eq!(
        wrong.unwrap_err().to_string(),
        "nome utente o password non validi"
    );

    let failed: Vec<_> = events(&accounts)
        .into_iter()
        .filter(|e| e.0 == event::ACCESSO_FALLITO)
        .collect();
    assert_eq!(failed.len(), 4);
    let details: Vec<_> = failed.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(details, ["mario", "nessuno", "luisa", "x y\u{FFFD}"]);
    // Never the password.
    let everything = format!("{:?}", accounts.audit_log(1000, None).unwrap());
    assert!(!everything.contains("sbagliata-davvero"));
    assert!(!everything.contains(PASSWORD));
}

#[tokio::test]
async fn five_failures_throttle_the_account() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    for _ in 0..5 {
        let r = accounts
            .login("mario", "password-sbagliata", ip("198.51.100.1"))
            .await;
        assert!(matches!(r, Err(LoginError::Invalid)), "{r:?}");
    }
    // Even the right password is refused now, from any address.
    for address in ["198.51.100.1", "203.0.113.5"] {
        match accounts.login("MARIO", PASSWORD, ip(address)).await {
            Err(LoginError::Throttled { retry_after }) => {
                assert!(retry_after.as_secs() <= 30 && retry_after.as_secs() >= 29);
            }
            other => panic!("{other:?}"),
        }
    }
    let err = accounts.login("mario", PASSWORD, None).await.unwrap_err();
    assert!(err.to_string().contains("troppi tentativi"), "{err}");
    // Another account is not affected.
    accounts
        .add_account("luisa", Role::Tavolo, None, PASSWORD, None)
        .unwrap();
    accounts
        .login("luisa", PASSWORD, ip("203.0.113.5"))
        .await
        .unwrap();

    let log = events(&accounts);
    let blocked: Vec<_> = log
        .iter()
        .filter(|e| e.0 == event::ACCESSO_BLOCCATO)
        .collect();
    assert_eq!(blocked.len(), 1, "recorded once per lock-out: {log:?}");
    assert_eq!(blocked[0].2, "MARIO");
    assert_eq!(
        log.iter().filter(|e| e.0 == event::ACCESSO_FALLITO).count(),
        5
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_and_at_their_absolute_end() {
    let (_dir, path) = db();
    let clock = ManualClock::new();
    let accounts = Accounts::open(&path)
        .unwrap()
        .with_clock(clock.clone())
        .with_policy(SessionPolicy {
            idle: Duration::minutes(30),
            absolute: Duration::hours(2),
        });
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();

    // Idle: 29 minutes is fine, 30 without use is not.
    let idle = accounts.login("mario", PASSWORD, None).await.unwrap();
    clock.advance(Duration::minutes(29));
    assert!(accounts.session(&idle.secret).unwrap().is_some());
    clock.advance(Duration::minutes(30));
    assert!(accounts.session(&idle.secret).unwrap().is_none());
    let count: i64 = raw(&path)
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0, "the expired row was deleted");

    // Absolute: used every 20 minutes it stays alive, until two hours after login.
    let busy = accounts.login("mario", PASSWORD, None).await.unwrap();
    assert_eq!(busy.expires_at, clock.now() + Duration::hours(2));
    for _ in 0..5 {
        clock.advance(Duration::minutes(20));
        assert!(accounts.session(&busy.secret).unwrap().is_some());
    }
    clock.advance(Duration::minutes(19));
    assert!(accounts.session(&busy.secret).unwrap().is_some());
    clock.advance(Duration::minutes(1));
    assert!(accounts.session(&busy.secret).unwrap().is_none());
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let (_dir, path) = db();
    let clock = ManualClock::new();
    let accounts = Accounts::open(&path).unwrap().with_clock(clock.clone());
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    let s = accounts.login("mario", PASSWORD, None).await.unwrap();
    let seen = || -> String {
        raw(&path)
            .query_row("SELECT last_seen_at FROM sessions", [], |r| r.get(0))
            .unwrap()
    };
    let first = seen();
    clock.advance(Duration::seconds(30));
    accounts.session(&s.secret).unwrap().unwrap();
    assert_eq!(seen(), first);
    clock.advance(Duration::seconds(31));
    accounts.session(&s.secret).unwrap().unwrap();
    assert_ne!(seen(), first);
}

#[tokio::test]
async fn role_and_password_changes_end_sessions() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    let s = accounts.login("mario", PASSWORD, None).await.unwrap();
    accounts
        .set_role("mario", Role::Tavolo, None, Some("admin"))
        .unwrap();
    assert!(accounts.session(&s.secret).unwrap().is_none());

    let s = accounts.login("mario", PASSWORD, None).await.unwrap();
    accounts
        .set_password("mario", "una-nuova-password-lunga", Some("mario"))
        .unwrap();
    assert!(accounts.session(&s.secret).unwrap().is_none());
    assert!(matches!(
        accounts.login("mario", PASSWORD, None).await,
        Err(LoginError::Invalid)
    ));
    accounts
        .login("mario", "una-nuova-password-lunga", None)
        .await
        .unwrap();
    let log = events(&accounts);
    assert!(log
        .iter()
        .any(|e| e.0 == event::RUOLO_CAMBIATO && e.2.contains("ufficio → tavolo")));
    assert!(log
        .iter()
        .any(|e| e.0 == event::PASSWORD_CAMBIATA && e.1.as_deref() == Some("mario")));
}

#[test]
fn tokens_are_created_used_and_revoked() {
    let (_dir, path) = db();
    let clock = ManualClock::new();
    let accounts = Accounts::open(&path).unwrap().with_clock(clock.clone());
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    let (info, secret) = accounts
        .create_token("mario", "script mensile", None, Some("mario"))
        .unwrap();
    assert!(secret.starts_with("abt_") && secret.len() == 47, "{secret}");
    assert_eq!(info.prefix, &secret[4..12]);
    assert_eq!(info.name, "script mensile");
    assert_eq!(info.username, "mario");
    assert!(info.expires_at.is_none() && info.revoked_at.is_none());
    assert!(info.last_used_at.is_none());

    let identity = accounts.token(&secret).unwrap().unwrap();
    assert_eq!(identity.account.username, "mario");
    assert_eq!(identity.via, Via::Token { id: info.id });
    let listed = accounts.tokens(Some("mario")).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(clock.now()));
    // Neither the secret nor its hash is in the serialised description.
    let json = serde_json::to_string(&listed).unwrap();
    assert!(!json.contains(&secret[4..]));

    // A well-formed but unknown token, and malformed ones.
    let mut other = secret.clone();
    other.replace_range(20..21, if &secret[20..21] == "A" { "B" } else { "A" });
    assert!(accounts.token(&other).unwrap().is_none());
    assert!(accounts.token(&secret[4..]).unwrap().is_none());
    assert!(accounts.token("abt_corto").unwrap().is_none());

    accounts.revoke_token(info.id, Some("mario")).unwrap();
    assert!(accounts.token(&secret).unwrap().is_none());
    // Revoking again changes nothing; unknown ids are an error.
    accounts.revoke_token(info.id, Some("mario")).unwrap();
    let revoked = &accounts.tokens(None).unwrap()[0];
    assert!(revoked.revoked_at.is_some());
    let err = accounts.revoke_token(9999, None).unwrap_err();
    assert!(matches!(err, AuthError::UnknownToken(9999)), "{err:?}");
    assert!(err.to_string().contains("inesistente"));

    let log = events(&accounts);
    let created: Vec<_> = log.iter().filter(|e| e.0 == event::TOKEN_CREATO).collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].1.as_deref(), Some("mario"));
    assert!(created[0].2.contains("script mensile") && created[0].2.contains(&info.prefix));
    assert!(!created[0].2.contains(&secret));
    let revoked: Vec<_> = log
        .iter()
        .filter(|e| e.0 == event::TOKEN_REVOCATO)
        .collect();
    assert_eq!(revoked.len(), 1, "the second revocation wrote nothing");

    // Bad names and validities.
    assert!(matches!(
        accounts.create_token("mario", "  ", None, None),
        Err(AuthError::InvalidTokenName)
    ));
    assert!(matches!(
        accounts.create_token("mario", "x", Some(Duration::zero()), None),
        Err(AuthError::InvalidExpiry)
    ));
    assert!(matches!(
        accounts.create_token("nessuno", "x", None, None),
        Err(AuthError::UnknownAccount(_))
    ));
}

#[test]
fn expired_tokens_are_refused() {
    let (_dir, path) = db();
    let clock = ManualClock::new();
    let accounts = Accounts::open(&path).unwrap().with_clock(clock.clone());
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    let (info, secret) = accounts
        .create_token("mario", "prova", Some(Duration::days(30)), None)
        .unwrap();
    assert_eq!(info.expires_at, Some(clock.now() + Duration::days(30)));
    clock.advance(Duration::days(29));
    assert!(accounts.token(&secret).unwrap().is_some());
    clock.advance(Duration::days(1));
    assert!(accounts.token(&secret).unwrap().is_none());
}

#[tokio::test]
async fn deactivation_ends_sessions_and_revokes_tokens() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    accounts
        .add_account("aler", Role::Ente, Some("ALER Milano"), PASSWORD, None)
        .unwrap();
    let session = accounts.login("aler", PASSWORD, None).await.unwrap();
    let (info, secret) = accounts.create_token("aler", "export", None, None).unwrap();
    assert!(accounts.token(&secret).unwrap().is_some());

    accounts.deactivate("aler", Some("admin")).unwrap();
    assert!(accounts.token(&secret).unwrap().is_none());
    assert!(accounts.session(&session.secret).unwrap().is_none());
    let sessions: i64 = raw(&path)
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sessions, 0);
    let token = accounts.tokens(Some("aler")).unwrap();
    assert_eq!(token[0].id, info.id);
    assert!(token[0].revoked_at.is_some(), "the row is kept, revoked");
    assert!(matches!(
        accounts.create_token("aler", "nuovo", None, None),
        Err(AuthError::InactiveAccount(_))
    ));
    let log = events(&accounts);
    assert!(log
        .iter()
        .any(|e| e.0 == event::UTENTE_DISATTIVATO && e.1.as_deref() == Some("admin")));
}

#[tokio::test]
async fn the_audit_log_records_who_did_what() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    accounts
        .add_account("admin", Role::Amministratore, None, PASSWORD, None)
        .unwrap();
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, Some("admin"))
        .unwrap();
    let _ = accounts
        .login("mario", "sbagliata-sbagliata", ip("::ffff:192.0.2.7"))
        .await;
    let s = accounts.login("mario", PASSWORD, None).await.unwrap();
    let (info, _) = accounts
        .create_token("mario", "script", None, Some("mario"))
        .unwrap();
    accounts.revoke_token(info.id, Some("admin")).unwrap();
    accounts.logout(&s.secret).unwrap();
    accounts
        .audit(
            Some("mario"),
            event::ESPORTAZIONE,
            "gpkg comune di Lecco",
            ip("192.0.2.7"),
        )
        .unwrap();
    let err = accounts.audit(None, "inventato", "", None).unwrap_err();
    assert!(matches!(err, AuthError::UnknownEvent(_)));

    let log: Vec<_> = events(&accounts)
        .into_iter()
        .map(|(e, actor, _)| (e, actor))
        .collect();
    let s = |x: &str| Some(x.to_owned());
    assert_eq!(
        log,
        [
            (event::UTENTE_CREATO.to_owned(), None),
            (event::UTENTE_CREATO.to_owned(), s("admin")),
            (event::ACCESSO_FALLITO.to_owned(), None),
            (event::ACCESSO.to_owned(), s("mario")),
            (event::TOKEN_CREATO.to_owned(), s("mario")),
            (event::TOKEN_REVOCATO.to_owned(), s("admin")),
            (event::USCITA.to_owned(), s("mario")),
            (event::ESPORTAZIONE.to_owned(), s("mario")),
        ]
    );
    let full = accounts.audit_log(100, None).unwrap();
    assert!(full.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let failed = full
        .iter()
        .find(|e| e.event == event::ACCESSO_FALLITO)
        .unwrap();
    assert_eq!(
        failed.address.as_deref(),
        Some("192.0.2.7"),
        "IPv4-mapped shown as IPv4"
    );

    // Paging.
    let page1 = accounts.audit_log(3, None).unwrap();
    let page2 = accounts.audit_log(3, Some(page1[2].id)).unwrap();
    let page3 = accounts.audit_log(3, Some(page2[2].id)).unwrap();
    assert_eq!(page1.len() + page2.len() + page3.len(), 8);
    assert_eq!(page3.last().unwrap().id, full.last().unwrap().id);
    assert!(accounts.audit_log(0, None).unwrap().is_empty());
}

#[test]
fn the_database_refuses_to_change_the_audit_log() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    let conn = raw(&path);
    let err = conn.execute("DELETE FROM audit", []).unwrap_err();
    assert!(err.to_string().contains("registro di controllo"), "{err}");
    let err = conn
        .execute("UPDATE audit SET detail = 'niente'", [])
        .unwrap_err();
    assert!(err.to_string().contains("registro di controllo"), "{err}");
    let err = conn
        .execute("DELETE FROM audit WHERE id = 1", [])
        .unwrap_err();
    assert!(err.to_string().contains("solo aggiunte"), "{err}");
    drop(conn);
    let log = accounts.audit_log(10, None).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].event, event::UTENTE_CREATO);
    assert_eq!(log[0].detail, "utente mario, ruolo ufficio");
}

#[test]
fn the_first_administrator_comes_only_from_explicit_credentials() {
    let (_dir, path) = db();
    let accounts = Accounts::open(&path).unwrap();
    assert!(accounts.ensure_admin(None, None).unwrap().is_none());
    assert!(accounts
        .ensure_admin(Some("admin"), None)
        .unwrap()
        .is_none());
    assert!(accounts
        .ensure_admin(None, Some(PASSWORD))
        .unwrap()
        .is_none());
    assert!(accounts.ensure_admin(Some(""), Some("")).unwrap().is_none());
    assert!(
        accounts.accounts().unwrap().is_empty(),
        "no built-in default"
    );
    assert!(!accounts.has_active_admin().unwrap());

    assert!(matches!(
        accounts.ensure_admin(Some("admin"), Some("corta")),
        Err(AuthError::WeakPassword)
    ));
    let admin = accounts
        .ensure_admin(Some("Admin"), Some(PASSWORD))
        .unwrap()
        .unwrap();
    assert_eq!(admin.username, "admin");
    assert_eq!(admin.role, Role::Amministratore);
    assert!(accounts.has_active_admin().unwrap());
    // With an active administrator nothing more is created.
    assert!(accounts
        .ensure_admin(Some("altro"), Some(PASSWORD))
        .unwrap()
        .is_none());
    assert_eq!(accounts.accounts().unwrap().len(), 1);
}

#[tokio::test]
async fn accounts_can_be_shared_across_tasks() {
    let (_dir, path) = db();
    let accounts = Arc::new(Accounts::open(&path).unwrap());
    accounts
        .add_account("mario", Role::Ufficio, None, PASSWORD, None)
        .unwrap();
    let session = accounts.login("mario", PASSWORD, None).await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..8 {
        let accounts = Arc::clone(&accounts);
        let secret = session.secret.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..50 {
                assert!(accounts.session(&secret).unwrap().is_some());
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    // The login future is Send, so it can run inside a spawned task (as in axum).
    let a = Arc::clone(&accounts);
    let s = tokio::spawn(async move { a.login("mario", PASSWORD, None).await })
        .await
        .unwrap()
        .unwrap();
    assert!(accounts.session(&s.secret).unwrap().is_some());
}
