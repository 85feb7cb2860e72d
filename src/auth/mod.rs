//! The store of record for accounts, sessions, personal access tokens and the audit log.
//!
//! [`Accounts`] is the whole public surface: the server and the CLI call it, never the
//! database. It sits on a [`Store`] (row-level operations, one SQL schema) — today
//! [`SqliteStore`], a file next to the project, opened with mode 0600.
//!
//! Invariants, and what enforces each:
//! - no secret is stored: passwords as argon2id PHC strings ([`password`]), session ids and
//!   tokens as SHA-256 hex ([`secret`]); [`Account`] and [`TokenInfo`] have no hash field, and
//!   nothing here logs a password, a secret or a hash;
//! - an `ente` account has exactly one ente, other roles none: [`Accounts`] checks it
//!   ([`AuthError::EnteRequired`], [`AuthError::EnteNotAllowed`]) and a `CHECK` constraint in
//!   the schema refuses it anyway;
//! - the audit log is append-only: `BEFORE UPDATE` and `BEFORE DELETE` triggers on `audit`
//!   abort every change;
//! - a login answers the same [`LoginError::Invalid`] for an unknown user, a wrong password and
//!   a deactivated account, and spends the same argon2 time on each (a dummy hash stands in
//!   for a missing one);
//! - changing a role or a password ends the account's sessions; deactivating also revokes its
//!   tokens (in the same transaction); rows are never deleted except expired sessions;
//! - guessing is slowed by [`throttle`], per account and per address.

pub mod password;
pub mod secret;
pub mod store;
pub mod throttle;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use tokio::sync::Semaphore;

use store::AuditRecord;
pub use store::{SqliteStore, Store};
use throttle::{Throttle, ThrottlePolicy};

/// Stable codes of audit-log events (Italian, as the office reads them).
pub mod event {
    /// A successful login.
    pub const ACCESSO: &str = "accesso";
    /// A failed login (unknown user, wrong password or deactivated account).
    pub const ACCESSO_FALLITO: &str = "accesso_fallito";
    /// A login refused by the throttle (recorded once per lock-out).
    pub const ACCESSO_BLOCCATO: &str = "accesso_bloccato";
    /// A logout.
    pub const USCITA: &str = "uscita";
    /// A personal access token was created.
    pub const TOKEN_CREATO: &str = "token_creato";
    /// A personal access token was revoked.
    pub const TOKEN_REVOCATO: &str = "token_revocato";
    /// An account was created.
    pub const UTENTE_CREATO: &str = "utente_creato";
    /// An account's role (or ente) changed.
    pub const RUOLO_CAMBIATO: &str = "ruolo_cambiato";
    /// An account's password changed.
    pub const PASSWORD_CAMBIATA: &str = "password_cambiata";
    /// An account was deactivated.
    pub const UTENTE_DISATTIVATO: &str = "utente_disattivato";
    /// Data was exported (recorded by the server).
    pub const ESPORTAZIONE: &str = "esportazione";
    /// Restricted data was read (recorded by the server).
    pub const LETTURA_RISERVATA: &str = "lettura_riservata";

    /// Every code [`super::Accounts::audit`] accepts.
    pub const ALL: [&str; 12] = [
        ACCESSO,
        ACCESSO_FALLITO,
        ACCESSO_BLOCCATO,
        USCITA,
        TOKEN_CREATO,
        TOKEN_REVOCATO,
        UTENTE_CREATO,
        RUOLO_CAMBIATO,
        PASSWORD_CAMBIATA,
        UTENTE_DISATTIVATO,
        ESPORTAZIONE,
        LETTURA_RISERVATA,
    ];
}

/// What an account may do; the server maps roles to permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A member of the Tavolo Abitare.
    Tavolo,
    /// An ente proprietario (owner of public housing); the account names its ente.
    Ente,
    /// The Ambito's office.
    Ufficio,
    /// Manages accounts.
    Amministratore,
}

impl Role {
    /// Every role, in order of increasing reach.
    pub const ALL: [Role; 4] = [
        Role::Tavolo,
        Role::Ente,
        Role::Ufficio,
        Role::Amministratore,
    ];

    /// The stable code stored in the database and used on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::Tavolo => "tavolo",
            Role::Ente => "ente",
            Role::Ufficio => "ufficio",
            Role::Amministratore => "amministratore",
        }
    }

    /// The Italian name shown to users.
    pub fn label_it(self) -> &'static str {
        match self {
            Role::Tavolo => "Tavolo Abitare",
            Role::Ente => "ente proprietario",
            Role::Ufficio => "ufficio dell'Ambito",
            Role::Amministratore => "amministratore",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Role, AuthError> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| AuthError::InvalidRole(s.to_owned()))
    }
}

/// An account as the rest of the program sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Database id.
    pub id: i64,
    /// Lowercase username.
    pub username: String,
    /// Role.
    pub role: Role,
    /// The ente of an [`Role::Ente`] account; `None` for every other role.
    pub ente: Option<String>,
    /// False once deactivated: it can no longer log in or use tokens.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A personal access token, without its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Database id (what [`Accounts::revoke_token`] takes).
    pub id: i64,
    /// Owner.
    pub username: String,
    /// The owner's name for it ("script mensile").
    pub name: String,
    /// The first 8 characters after `abt_`, to recognise it.
    pub prefix: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// End of validity, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last use, to within a minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Increasing id (the log's order).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a username), when known.
    pub actor: Option<String>,
    /// One of the [`event`] codes.
    pub event: String,
    /// Free text (never a secret).
    pub detail: String,
    /// The client address, when known.
    pub address: Option<String>,
}

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A browser session (cookie).
    Session,
    /// A personal access token.
    Token {
        /// The token's id.
        id: i64,
    },
}

/// An authenticated account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The account (active).
    pub account: Account,
    /// Session or token.
    pub via: Via,
}

/// A session just opened by [`Accounts::login`].
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session id for the cookie: shown once, stored only as its hash.
    pub secret: String,
    /// Who logged in.
    pub account: Account,
    /// The absolute end of the session (the cookie's expiry); it ends earlier if idle for
    /// longer than [`SessionPolicy::idle`].
    pub expires_at: DateTime<Utc>,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends (default 30 minutes).
    pub idle: chrono::Duration,
    /// A session ends this long after login, used or not (default 12 hours).
    pub absolute: chrono::Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: chrono::Duration::minutes(30),
            absolute: chrono::Duration::hours(12),
        }
    }
}

/// The source of "now" for expiry decisions; [`SystemClock`] except in tests.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Errors of the accounts store. Messages are Italian: they reach the CLI and the admin pages.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The database failed.
    #[error("errore del database degli accessi: {0}")]
    Database(#[from] rusqlite::Error),
    /// A schema migration failed (the database is left at the previous version).
    #[error(
        "aggiornamento del database degli accessi alla versione {version} non riuscito: {source}"
    )]
    Migration {
        /// The version being applied.
        version: u32,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The database was written by a newer abitare.
    #[error(
        "il database degli accessi è alla versione {found}, ma questa versione di abitare \
         conosce solo le versioni fino alla {known}: aggiornare abitare"
    )]
    SchemaTooNew {
        /// The version found in the file.
        found: i64,
        /// The newest version this code knows.
        known: u32,
    },
    /// A stored value is not what the schema promises.
    #[error("dato non valido nel database degli accessi: {0}")]
    Corrupt(String),
    /// A username outside `^[a-z0-9][a-z0-9._-]{1,63}$` (after lowercasing).
    #[error(
        "nome utente non valido «{0}»: da 2 a 64 caratteri tra lettere minuscole, cifre, \
         punto, trattino e trattino basso, iniziando con una lettera o una cifra"
    )]
    InvalidUsername(String),
    /// A password shorter than 12 characters (or longer than 4096 bytes).
    #[error("password troppo debole: servono almeno 12 caratteri (e al massimo 4096 byte)")]
    WeakPassword,
    /// An `ente` account without its ente.
    #[error("un account con ruolo «ente» deve indicare l'ente proprietario")]
    EnteRequired,
    /// An ente given for a role other than `ente`.
    #[error("solo gli account con ruolo «ente» indicano un ente proprietario")]
    EnteNotAllowed,
    /// An unknown role code.
    #[error("ruolo sconosciuto «{0}»: i ruoli validi sono tavolo, ente, ufficio, amministratore")]
    InvalidRole(String),
    /// No such account.
    #[error("utente «{0}» inesistente")]
    UnknownAccount(String),
    /// The account is deactivated.
    #[error("l'utente «{0}» è disattivato")]
    InactiveAccount(String),
    /// The username is taken.
    #[error("l'utente «{0}» esiste già")]
    AccountExists(String),
    /// No such token.
    #[error("token n. {0} inesistente")]
    UnknownToken(i64),
    /// An empty, too long or unprintable token name.
    #[error("nome del token non valido: da 1 a 100 caratteri stampabili")]
    InvalidTokenName,
    /// A token validity that is not positive.
    #[error("la durata di validità del token deve essere positiva")]
    InvalidExpiry,
    /// An audit event not in [`event::ALL`].
    #[error("evento del registro sconosciuto «{0}»")]
    UnknownEvent(String),
    /// Password hashing failed.
    #[error("calcolo dell'hash della password non riuscito: {0}")]
    Hash(String),
    /// The system random generator failed.
    #[error("generatore di numeri casuali del sistema non disponibile: {0}")]
    Random(String),
    /// The database file could not be created or inspected.
    #[error("file del database degli accessi {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Why a login did not open a session.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password or deactivated account: deliberately indistinguishable.
    #[error("nome utente o password non validi")]
    Invalid,
    /// Too many recent failures for this account or address.
    #[error(
        "troppi tentativi di accesso non riusciti: riprovare tra {} secondi",
        whole_seconds(*retry_after)
    )]
    Throttled {
        /// When to try again.
        retry_after: std::time::Duration,
    },
    /// Something failed on our side.
    #[error("errore interno durante l'accesso: {0}")]
    Internal(AuthError),
}

/// Seconds to wait, rounded up (and at least 1), for messages.
fn whole_seconds(d: std::time::Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// Minimum password length, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Longest password accepted, in bytes: longer ones cannot be set and are refused at login
/// without spending argon2 time on them (4 KiB is far above any real password).
const MAX_PASSWORD_BYTES: usize = 4096;

/// Environment variables read by [`Accounts::ensure_admin_from_env`].
pub const ADMIN_USER_ENV: &str = "ABITARE_ADMIN_USER";
/// See [`ADMIN_USER_ENV`].
pub const ADMIN_PASSWORD_ENV: &str = "ABITARE_ADMIN_PASSWORD";

/// The longest interval between two writes of a session's `last_seen_at` or a token's
/// `last_used_at`, so that the hot path is a read.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// Accounts, sessions, tokens and the audit log. `Send + Sync`: share it in an `Arc`.
pub struct Accounts {
    store: Arc<dyn Store>,
    policy: SessionPolicy,
    clock: Arc<dyn Clock>,
    throttle: Mutex<Throttle>,
    /// Bounds concurrent argon2 verifications to the number of cores, so that a burst of
    /// logins cannot occupy every blocking thread and core.
    verify_slots: Arc<Semaphore>,
    /// Token rows read while the store's change marker was `marker`: a request with a known
    /// token costs one marker read instead of a query. Any commit (a revocation, also by the
    /// CLI) changes the marker and empties it, so a revoked token is refused on the next
    /// request.
    token_cache: std::sync::RwLock<TokenCache>,
    /// When the change marker was last read (microseconds since `started`; 0: never) and its
    /// value: it is read at most every [`MARKER_FRESH_US`], so that the store is not asked on
    /// every request.
    marker_read_at: std::sync::atomic::AtomicU64,
    marker: std::sync::atomic::AtomicI64,
    started: Instant,
}

#[derive(Default)]
struct TokenCache {
    marker: Option<i64>,
    rows: std::collections::HashMap<String, store::TokenRow>,
}

/// How long a read of the change marker stands: a change written by another process (the CLI
/// revoking a token) is seen by requests that start at most this long after it; changes made
/// through this `Accounts` are seen at once ([`ForgetTokens`]).
pub const MARKER_FRESH_US: u64 = 1_000;

/// Forgets the tokens held in memory when dropped (at the end of a change).
struct ForgetTokens<'a>(&'a Accounts);

impl Drop for ForgetTokens<'_> {
    fn drop(&mut self) {
        let a = self.0;
        let mut c = a
            .token_cache
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        c.rows.clear();
        c.marker = None;
        a.marker_read_at
            .store(0, std::sync::atomic::Ordering::Release);
    }
}

/// Most token rows kept in memory.
const TOKEN_CACHE_ROWS: usize = 10_000;

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Opens (creating it if missing, with mode 0600 on unix) the SQLite accounts database at
    /// `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Accounts, AuthError> {
        Ok(Accounts::with_store(Arc::new(SqliteStore::open(path)?)))
    }

    /// Accounts over any [`Store`].
    pub fn with_store(store: Arc<dyn Store>) -> Accounts {
        // Compute the dummy hash now, so that the first login for an unknown user does not
        // take longer than the others. A failure here shows again, as an error, at login.
        let _ = password::dummy_hash();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Accounts {
            store,
            policy: SessionPolicy::default(),
            clock: Arc::new(SystemClock),
            throttle: Mutex::new(Throttle::new(ThrottlePolicy::default())),
            verify_slots: Arc::new(Semaphore::new(cores)),
            token_cache: std::sync::RwLock::new(TokenCache::default()),
            marker_read_at: std::sync::atomic::AtomicU64::new(0),
            marker: std::sync::atomic::AtomicI64::new(0),
            started: Instant::now(),
        }
    }

    /// Replaces the session lifetimes.
    pub fn with_policy(self, policy: SessionPolicy) -> Accounts {
        Accounts { policy, ..self }
    }

    /// Replaces the clock used for expiry (tests move time forward with it). The login
    /// throttle keeps using the monotonic clock.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Accounts {
        Accounts { clock, ..self }
    }

    /// The clock's time, to the microsecond (what the database stores), so values returned
    /// from memory equal the same values read back.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// Replaces the login throttle's limits.
    pub fn with_throttle(self, policy: ThrottlePolicy) -> Accounts {
        Accounts {
            throttle: Mutex::new(Throttle::new(policy)),
            ..self
        }
    }

    /// Creates an account. The username is lowercased and must match
    /// `^[a-z0-9][a-z0-9._-]{1,63}$`; the password needs at least 12 characters; `ente` is
    /// required for [`Role::Ente`] and refused otherwise. `by` is the acting administrator
    /// (`None` from the command line). Hashes the password: tens of milliseconds of CPU, so
    /// call it from a blocking context. Audited as `utente_creato`.
    pub fn add_account(
        &self,
        username: &str,
        role: Role,
        ente: Option<&str>,
        password: &str,
        by: Option<&str>,
    ) -> Result<Account, AuthError> {
        let username = normalize_username(username)?;
        let ente = check_ente(role, ente)?;
        check_password(password)?;
        let hash = password::hash(password)?;
        let now = self.now();
        let detail = match &ente {
            Some(e) => format!("utente {username}, ruolo {role}, ente {e}"),
            None => format!("utente {username}, ruolo {role}"),
        };
        let audit = AuditRecord::new(now, by, event::UTENTE_CREATO, &detail, None);
        self.store
            .insert_account(&username, role, ente.as_deref(), &hash, now, &audit)
    }

    /// Changes an account's role (and ente, with the same rule as [`Accounts::add_account`]).
    /// Ends its sessions. Audited as `ruolo_cambiato`.
    pub fn set_role(
        &self,
        username: &str,
        role: Role,
        ente: Option<&str>,
        by: Option<&str>,
    ) -> Result<Account, AuthError> {
        // Tokens held in memory are forgotten once the change is written.
        let _forget = ForgetTokens(self);
        let username = username.to_lowercase();
        let ente = check_ente(role, ente)?;
        let old = self
            .store
            .account(&username)?
            .ok_or_else(|| AuthError::UnknownAccount(username.clone()))?
            .account;
        let now = self.now();
        let describe = |r: Role, e: Option<&str>| match e {
            Some(e) => format!("{r} ({e})"),
            None => r.code().to_owned(),
        };
        let detail = format!(
            "utente {username}: {} → {}",
            describe(old.role, old.ente.as_deref()),
            describe(role, ente.as_deref())
        );
        let audit = AuditRecord::new(now, by, event::RUOLO_CAMBIATO, &detail, None);
        self.store
            .update_role(&username, role, ente.as_deref(), now, &audit)?
            .ok_or(AuthError::UnknownAccount(username))
    }

    /// Sets a new password (at least 12 characters). Ends the account's sessions. Hashes the
    /// password (blocking). Audited as `password_cambiata`.
    pub fn set_password(
        &self,
        username: &str,
        password: &str,
        by: Option<&str>,
    ) -> Result<(), AuthError> {
        // Tokens held in memory are forgotten once the change is written.
        let _forget = ForgetTokens(self);
        let username = username.to_lowercase();
        check_password(password)?;
        let hash = password::hash(password)?;
        let now = self.now();
        let detail = format!("utente {username}");
        let audit = AuditRecord::new(now, by, event::PASSWORD_CAMBIATA, &detail, None);
        if self.store.update_password(&username, &hash, now, &audit)? {
            Ok(())
        } else {
            Err(AuthError::UnknownAccount(username))
        }
    }

    /// Deactivates an account: it can no longer log in, its sessions end and its tokens are
    /// revoked. The rows are kept (the audit log refers to them). Audited as
    /// `utente_disattivato`.
    pub fn deactivate(&self, username: &str, by: Option<&str>) -> Result<(), AuthError> {
        // Tokens held in memory are forgotten once the change is written.
        let _forget = ForgetTokens(self);
        let username = username.to_lowercase();
        let now = self.now();
        let detail = format!("utente {username}");
        let audit = AuditRecord::new(now, by, event::UTENTE_DISATTIVATO, &detail, None);
        if self.store.deactivate(&username, now, &audit)? {
            Ok(())
        } else {
            Err(AuthError::UnknownAccount(username))
        }
    }

    /// Every account, active or not, by username.
    pub fn accounts(&self) -> Result<Vec<Account>, AuthError> {
        self.store.accounts()
    }

    /// One account by username (case-insensitive).
    pub fn account(&self, username: &str) -> Result<Option<Account>, AuthError> {
        Ok(self
            .store
            .account(&username.to_lowercase())?
            .map(|s| s.account))
    }

    /// Whether some active account is an administrator.
    pub fn has_active_admin(&self) -> Result<bool, AuthError> {
        self.store.has_active_role(Role::Amministratore)
    }

    /// [`Accounts::ensure_admin`] with `ABITARE_ADMIN_USER` and `ABITARE_ADMIN_PASSWORD` from
    /// the environment (empty values count as unset).
    pub fn ensure_admin_from_env(&self) -> Result<Option<Account>, AuthError> {
        let user = std::env::var(ADMIN_USER_ENV).ok();
        let password = std::env::var(ADMIN_PASSWORD_ENV).ok();
        self.ensure_admin(user.as_deref(), password.as_deref())
    }

    /// The first administrator: if there is no active administrator and both `user` and
    /// `password` are given (non-empty), creates that administrator and returns it; otherwise
    /// does nothing and returns `None`. There is never a built-in default account.
    pub fn ensure_admin(
        &self,
        user: Option<&str>,
        password: Option<&str>,
    ) -> Result<Option<Account>, AuthError> {
        if self.has_active_admin()? {
            return Ok(None);
        }
        match (
            user.filter(|u| !u.is_empty()),
            password.filter(|p| !p.is_empty()),
        ) {
            (Some(user), Some(password)) => {
                let account = self.add_account(user, Role::Amministratore, None, password, None)?;
                tracing::info!(username = %account.username, "amministratore iniziale creato");
                Ok(Some(account))
            }
            _ => Ok(None),
        }
    }

    /// Checks a username and password and opens a session.
    ///
    /// The throttle is consulted first; then the password is verified with argon2 on a
    /// blocking thread, at most as many at once as there are cores. An unknown user is
    /// verified against a dummy hash, so the three failures (unknown user, wrong password,
    /// deactivated account) take the same time and give the same [`LoginError::Invalid`].
    /// Audited as `accesso`, `accesso_fallito` (detail: the attempted username) or
    /// `accesso_bloccato` (once per lock-out).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<NewSession, LoginError> {
        let address = address.map(|a| a.to_canonical());
        let shown_address = address.map(|a| a.to_string());
        let attempted = printable(username, 64);
        let key = attempted.to_lowercase();

        let attempt = match Attempt::begin(&self.throttle, &key, address) {
            Ok(attempt) => attempt,
            Err(refusal) => {
                if refusal.first {
                    let now = self.now();
                    let audit = AuditRecord::new(
                        now,
                        None,
                        event::ACCESSO_BLOCCATO,
                        &attempted,
                        shown_address.as_deref(),
                    );
                    self.store
                        .append_audit(&audit)
                        .map_err(LoginError::Internal)?;
                }
                return Err(LoginError::Throttled {
                    retry_after: refusal.retry_after,
                });
            }
        };

        let stored = if password.len() > MAX_PASSWORD_BYTES {
            None
        } else {
            match self.store.account(&key) {
                Ok(stored) => Some(stored),
                Err(e) => return Err(LoginError::Internal(e)),
            }
        };
        // `None`: an over-long password, a failure without spending argon2 time on it.
        if let Some(stored) = stored {
            let (hash, account) = match stored {
                Some(s) => (s.password_hash, Some(s.account)),
                None => (
                    password::dummy_hash()
                        .map_err(LoginError::Internal)?
                        .to_owned(),
                    None,
                ),
            };
            let permit = Arc::clone(&self.verify_slots)
                .acquire_owned()
                .await
                .map_err(|e| LoginError::Internal(AuthError::Hash(e.to_string())))?;
            let password = password.to_owned();
            let matches = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                password::verify(&password, &hash)
            })
            .await
            .map_err(|e| LoginError::Internal(AuthError::Hash(e.to_string())))?;
            if let Some(account) = account.filter(|a| matches && a.active) {
                return self
                    .open_session(account, attempt, shown_address.as_deref())
                    .map_err(LoginError::Internal);
            }
        }
        attempt.finish(false);
        let now = self.now();
        let audit = AuditRecord::new(
            now,
            None,
            event::ACCESSO_FALLITO,
            &attempted,
            shown_address.as_deref(),
        );
        self.store
            .append_audit(&audit)
            .map_err(LoginError::Internal)?;
        Err(LoginError::Invalid)
    }

    fn open_session(
        &self,
        account: Account,
        attempt: Attempt<'_>,
        address: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        let generated = secret::new_session_id()?;
        let now = self.now();
        let expires_at = now + self.policy.absolute;
        let audit = AuditRecord::new(now, Some(&account.username), event::ACCESSO, "", address);
        self.store.insert_session(
            &generated.hash,
            account.id,
            now,
            expires_at,
            address,
            &audit,
        )?;
        attempt.finish(true);
        Ok(NewSession {
            secret: generated.secret,
            account,
            expires_at,
        })
    }

    /// The identity behind a session id: `None` if unknown, expired (idle or absolute; the
    /// row is then deleted) or if the account is no longer active. Writes `last_seen_at` at
    /// most once a minute, so a lookup is normally one indexed read.
    pub fn session(&self, secret: &str) -> Result<Option<Identity>, AuthError> {
        if !secret::is_session_id(secret) {
            return Ok(None);
        }
        let hash = secret::sha256_hex(secret);
        let Some(row) = self.store.session(&hash)? else {
            return Ok(None);
        };
        let now = self.now();
        if now >= row.expires_at || now >= row.last_seen_at + self.policy.idle {
            self.store.delete_session(&hash, None)?;
            return Ok(None);
        }
        if !row.account.active {
            return Ok(None);
        }
        let interval = chrono::Duration::seconds(TOUCH_INTERVAL_SECS).min(self.policy.idle / 4);
        if now - row.last_seen_at >= interval {
            self.store.touch_session(&hash, now)?;
        }
        Ok(Some(Identity {
            account: row.account,
            via: Via::Session,
        }))
    }

    /// Ends a session (unknown ids are ignored). Audited as `uscita`.
    pub fn logout(&self, secret: &str) -> Result<(), AuthError> {
        if !secret::is_session_id(secret) {
            return Ok(());
        }
        let hash = secret::sha256_hex(secret);
        let Some(row) = self.store.session(&hash)? else {
            return Ok(());
        };
        let now = self.now();
        let audit = AuditRecord::new(now, Some(&row.account.username), event::USCITA, "", None);
        self.store.delete_session(&hash, Some(&audit))?;
        Ok(())
    }

    /// Creates a personal access token for an active account, valid for `expires_in` (or
    /// until revoked). Returns its description and the secret, which is shown this once and
    /// never stored. Audited as `token_creato` (detail: name and prefix).
    pub fn create_token(
        &self,
        username: &str,
        name: &str,
        expires_in: Option<chrono::Duration>,
        by: Option<&str>,
    ) -> Result<(TokenInfo, String), AuthError> {
        let username = username.to_lowercase();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AuthError::InvalidTokenName);
        }
        if expires_in.is_some_and(|d| d <= chrono::Duration::zero()) {
            return Err(AuthError::InvalidExpiry);
        }
        let account = self
            .store
            .account(&username)?
            .ok_or_else(|| AuthError::UnknownAccount(username.clone()))?
            .account;
        if !account.active {
            return Err(AuthError::InactiveAccount(username));
        }
        let (generated, prefix) = secret::new_token()?;
        let now = self.now();
        let expires_at = match expires_in {
            Some(d) => Some(now.checked_add_signed(d).ok_or(AuthError::InvalidExpiry)?),
            None => None,
        };
        let detail = format!("utente {username}, token «{name}», prefisso {prefix}");
        let audit = AuditRecord::new(now, by, event::TOKEN_CREATO, &detail, None);
        let info = self.store.insert_token(
            account.id,
            name,
            &prefix,
            &generated.hash,
            now,
            expires_at,
            &audit,
        )?;
        Ok((info, generated.secret))
    }

    /// Revokes a token (revoking it again changes nothing). Audited as `token_revocato`.
    pub fn revoke_token(&self, id: i64, by: Option<&str>) -> Result<(), AuthError> {
        // Tokens held in memory are forgotten once the change is written.
        let _forget = ForgetTokens(self);
        let now = self.now();
        let detail = format!("token n. {id}");
        let audit = AuditRecord::new(now, by, event::TOKEN_REVOCATO, &detail, None);
        match self.store.revoke_token(id, now, &audit)? {
            Some(_) => Ok(()),
            None => Err(AuthError::UnknownToken(id)),
        }
    }

    /// The tokens of one account, or of everyone when `username` is `None`, newest first.
    pub fn tokens(&self, username: Option<&str>) -> Result<Vec<TokenInfo>, AuthError> {
        let username = username.map(str::to_lowercase);
        self.store.tokens(username.as_deref())
    }

    /// The identity behind a token: `None` unless it is well-formed, known, not revoked, not
    /// expired and its account is active. Writes `last_used_at` at most once a minute.
    /// The store's change marker, read at most every [`MARKER_FRESH_US`].
    fn change_marker(&self) -> Result<Option<i64>, AuthError> {
        use std::sync::atomic::Ordering;
        let now = u64::try_from(self.started.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let read_at = self.marker_read_at.load(Ordering::Acquire);
        if read_at != 0 && now.saturating_sub(read_at) < MARKER_FRESH_US {
            return Ok(Some(self.marker.load(Ordering::Acquire)));
        }
        let m = self.store.change_marker()?;
        if let Some(v) = m {
            self.marker.store(v, Ordering::Release);
            self.marker_read_at.store(now, Ordering::Release);
        }
        Ok(m)
    }

    pub fn token(&self, secret: &str) -> Result<Option<Identity>, AuthError> {
        if !secret::is_token(secret) {
            return Ok(None);
        }
        let hash = secret::sha256_hex(secret);
        let marker = self.change_marker()?;
        let cached = marker.and_then(|m| {
            {
                let c = self
                    .token_cache
                    .read()
                    .unwrap_or_else(PoisonError::into_inner);
                if c.marker == Some(m) {
                    return c.rows.get(&hash).cloned();
                }
            }
            let mut c = self
                .token_cache
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if c.marker != Some(m) {
                c.rows.clear();
                c.marker = Some(m);
            }
            c.rows.get(&hash).cloned()
        });
        let row = match cached {
            Some(row) => row,
            None => {
                let Some(row) = self.store.token(&hash)? else {
                    return Ok(None);
                };
                if let Some(m) = marker {
                    let mut c = self
                        .token_cache
                        .write()
                        .unwrap_or_else(PoisonError::into_inner);
                    if c.marker == Some(m) {
                        if c.rows.len() >= TOKEN_CACHE_ROWS {
                            c.rows.clear();
                        }
                        c.rows.insert(hash, row.clone());
                    }
                }
                row
            }
        };
        let now = self.now();
        if row.info.revoked_at.is_some()
            || row.info.expires_at.is_some_and(|e| now >= e)
            || !row.account.active
        {
            return Ok(None);
        }
        let stale = row
            .info
            .last_used_at
            .is_none_or(|t| now - t >= chrono::Duration::seconds(TOUCH_INTERVAL_SECS));
        if stale {
            self.store.touch_token(row.info.id, now)?;
        }
        Ok(Some(Identity {
            account: row.account,
            via: Via::Token { id: row.info.id },
        }))
    }

    /// Appends an entry to the audit log. `event` must be one of [`event::ALL`]; `detail`
    /// must never hold a secret.
    pub fn audit(
        &self,
        actor: Option<&str>,
        event: &str,
        detail: &str,
        address: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        if !event::ALL.contains(&event) {
            return Err(AuthError::UnknownEvent(event.to_owned()));
        }
        let address = address.map(|a| a.to_canonical().to_string());
        let audit = AuditRecord::new(self.now(), actor, event, detail, address.as_deref());
        self.store.append_audit(&audit)
    }

    /// Up to `limit` (at most 10,000) audit entries, newest first, older than `before_id` when
    /// given (for paging).
    pub fn audit_log(
        &self,
        limit: usize,
        before_id: Option<i64>,
    ) -> Result<Vec<AuditEntry>, AuthError> {
        self.store.audit_log(limit.min(10_000), before_id)
    }
}

/// A login attempt registered with the throttle; if dropped unfinished (the request was
/// cancelled) it counts as a failure.
struct Attempt<'a> {
    throttle: &'a Mutex<Throttle>,
    key: String,
    address: Option<IpAddr>,
    done: bool,
}

impl<'a> Attempt<'a> {
    fn begin(
        throttle: &'a Mutex<Throttle>,
        key: &str,
        address: Option<IpAddr>,
    ) -> Result<Attempt<'a>, throttle::Refusal> {
        throttle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .begin(key, address, Instant::now())?;
        Ok(Attempt {
            throttle,
            key: key.to_owned(),
            address,
            done: false,
        })
    }

    fn finish(mut self, success: bool) {
        self.end(success);
    }

    fn end(&mut self, success: bool) {
        if !self.done {
            self.done = true;
            self.throttle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .finish(&self.key, self.address, success, Instant::now());
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.end(false);
    }
}

/// Lowercases and checks a username against `^[a-z0-9][a-z0-9._-]{1,63}$`.
fn normalize_username(username: &str) -> Result<String, AuthError> {
    let lower = username.to_lowercase();
    let bytes = lower.as_bytes();
    let ok = (2..=64).contains(&bytes.len())
        && bytes
            .first()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b));
    if ok {
        Ok(lower)
    } else {
        Err(AuthError::InvalidUsername(printable(username, 64)))
    }
}

fn check_password(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        Err(AuthError::WeakPassword)
    } else {
        Ok(())
    }
}

fn check_ente(role: Role, ente: Option<&str>) -> Result<Option<String>, AuthError> {
    let ente = ente.map(str::trim).filter(|e| !e.is_empty());
    match (role, ente) {
        (Role::Ente, Some(e)) => Ok(Some(e.to_owned())),
        (Role::Ente, None) => Err(AuthError::EnteRequired),
        (_, Some(_)) => Err(AuthError::EnteNotAllowed),
        (_, None) => Ok(None),
    }
}

/// At most `max` characters of user-supplied text, control characters replaced, for the
/// audit log and error messages.
fn printable(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert_eq!(Role::Ufficio.label_it(), "ufficio dell'Ambito");
        let err = "admin".parse::<Role>().unwrap_err().to_string();
        assert!(
            err.contains("tavolo, ente, ufficio, amministratore"),
            "{err}"
        );
        assert_eq!(
            serde_json::to_string(&Role::Amministratore).unwrap(),
            "\"amministratore\""
        );
    }

    #[test]
    fn usernames() {
        assert_eq!(normalize_username("Mario.Rossi").unwrap(), "mario.rossi");
        assert_eq!(normalize_username("a1").unwrap(), "a1");
        assert!(normalize_username("a").is_err());
        assert!(normalize_username(&"a".repeat(64)).is_ok());
        assert!(normalize_username(&"a".repeat(65)).is_err());
        assert!(normalize_username("_mario").is_err());
        assert!(normalize_username("-mario").is_err());
        assert!(normalize_username("mario rossi").is_err());
        assert!(normalize_username("niccolò").is_err());
        assert!(normalize_username("m@rio").is_err());
    }

    #[test]
    fn ente_rule() {
        assert_eq!(
            check_ente(Role::Ente, Some(" ALER Milano ")).unwrap(),
            Some("ALER Milano".to_owned())
        );
        assert!(matches!(
            check_ente(Role::Ente, Some("  ")),
            Err(AuthError::EnteRequired)
        ));
        assert!(matches!(
            check_ente(Role::Ufficio, Some("ALER")),
            Err(AuthError::EnteNotAllowed)
        ));
        assert_eq!(check_ente(Role::Tavolo, None).unwrap(), None);
    }

    #[test]
    fn printable_strips_control_characters() {
        assert_eq!(printable("a\nb\u{7}c", 64), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(printable(&"x".repeat(100), 64).len(), 64);
    }

    #[test]
    fn accounts_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Accounts>();
    }
}
