//! Row-level storage behind [`super::Accounts`]: the [`Store`] trait, written so that a
//! PostgreSQL store can implement it over the same schema, and [`SqliteStore`].
//!
//! Every operation that changes state takes the audit record that describes it and writes
//! both in one transaction: a change is never recorded without happening, nor the reverse.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, TryLockError};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};

use super::{Account, AuditEntry, AuthError, Role, TokenInfo};

/// The schema migrations, in order: version `n` is the n-th file. Applied at open.
const MIGRATIONS: &[(u32, &str)] = &[(1, include_str!("migrations/001_accounts.sql"))];

/// The schema version this code writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Connections in the SQLite pool.
const POOL_SIZE: usize = 4;

/// An audit-log entry to append.
#[derive(Debug, Clone, Copy)]
pub struct AuditRecord<'a> {
    /// When.
    pub at: DateTime<Utc>,
    /// Who, when known.
    pub actor: Option<&'a str>,
    /// One of [`super::event::ALL`].
    pub event: &'a str,
    /// Free text, never a secret.
    pub detail: &'a str,
    /// Client address, when known.
    pub address: Option<&'a str>,
}

impl<'a> AuditRecord<'a> {
    /// An audit record.
    pub fn new(
        at: DateTime<Utc>,
        actor: Option<&'a str>,
        event: &'a str,
        detail: &'a str,
        address: Option<&'a str>,
    ) -> AuditRecord<'a> {
        AuditRecord {
            at,
            actor,
            event,
            detail,
            address,
        }
    }
}

/// An account with its password hash (never leaves [`super::Accounts`]).
#[derive(Clone)]
pub struct StoredAccount {
    /// The account.
    pub account: Account,
    /// Its argon2id PHC string.
    pub password_hash: String,
}

/// A session row with its account.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// The account.
    pub account: Account,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// Last recorded use (written at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// Absolute end.
    pub expires_at: DateTime<Utc>,
}

/// A token row with its account.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// The token.
    pub info: TokenInfo,
    /// Its owner.
    pub account: Account,
}

/// The row-level operations of the accounts database. Usernames are already lowercased and
/// validated; secrets arrive as their SHA-256 hex.
pub trait Store: Send + Sync {
    /// Inserts an account; [`AuthError::AccountExists`] if the username is taken.
    fn insert_account(
        &self,
        username: &str,
        role: Role,
        ente: Option<&str>,
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<Account, AuthError>;
    /// An account by username, with its hash.
    fn account(&self, username: &str) -> Result<Option<StoredAccount>, AuthError>;
    /// Every account, by username.
    fn accounts(&self) -> Result<Vec<Account>, AuthError>;
    /// Whether an active account has `role`.
    fn has_active_role(&self, role: Role) -> Result<bool, AuthError>;
    /// Sets role and ente and deletes the account's sessions; `None` if it does not exist.
    fn update_role(
        &self,
        username: &str,
        role: Role,
        ente: Option<&str>,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<Option<Account>, AuthError>;
    /// Sets the password hash and deletes the account's sessions; false if no such account.
    fn update_password(
        &self,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<bool, AuthError>;
    /// Marks the account inactive, deletes its sessions and revokes its tokens; false if no
    /// such account.
    fn deactivate(
        &self,
        username: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<bool, AuthError>;
    /// Inserts a session.
    fn insert_session(
        &self,
        secret_hash: &str,
        account_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        address: Option<&str>,
        audit: &AuditRecord<'_>,
    ) -> Result<(), AuthError>;
    /// A session by the hash of its id.
    fn session(&self, secret_hash: &str) -> Result<Option<SessionRow>, AuthError>;
    /// Records a use of a session.
    fn touch_session(&self, secret_hash: &str, at: DateTime<Utc>) -> Result<(), AuthError>;
    /// Deletes a session (appending `audit` if given); false if it did not exist.
    fn delete_session(
        &self,
        secret_hash: &str,
        audit: Option<&AuditRecord<'_>>,
    ) -> Result<bool, AuthError>;
    /// Inserts a token.
    #[allow(clippy::too_many_arguments)]
    fn insert_token(
        &self,
        account_id: i64,
        name: &str,
        prefix: &str,
        secret_hash: &str,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        audit: &AuditRecord<'_>,
    ) -> Result<TokenInfo, AuthError>;
    /// A token by the hash of its secret.
    fn token(&self, secret_hash: &str) -> Result<Option<TokenRow>, AuthError>;
    /// A value that changes whenever anything is committed to the store, by this process or
    /// another (the CLI revoking a token), and is cheap to read: rows read before may be kept
    /// in memory while it is unchanged. `None` (the default): no such value, nothing is kept.
    fn change_marker(&self) -> Result<Option<i64>, AuthError> {
        Ok(None)
    }
    /// Tokens of one account or of all, newest first.
    fn tokens(&self, username: Option<&str>) -> Result<Vec<TokenInfo>, AuthError>;
    /// Revokes a token: `None` if unknown, `Some(false)` if it already was (nothing is
    /// written), `Some(true)` if revoked now (with `audit`).
    fn revoke_token(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<Option<bool>, AuthError>;
    /// Records a use of a token.
    fn touch_token(&self, id: i64, at: DateTime<Utc>) -> Result<(), AuthError>;
    /// Appends to the audit log.
    fn append_audit(&self, audit: &AuditRecord<'_>) -> Result<(), AuthError>;
    /// Up to `limit` entries older than `before_id`, newest first.
    fn audit_log(&self, limit: usize, before_id: Option<i64>)
        -> Result<Vec<AuditEntry>, AuthError>;
}

/// The SQLite store: a small pool of connections to one file in WAL mode.
pub struct SqliteStore {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
    /// A connection that never writes, for `PRAGMA data_version`: its value changes with every
    /// commit of any other connection, in this process or another.
    watch: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("connections", &self.conns.len())
            .finish()
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file (mode 0600 on unix) if missing, and
    /// applies pending migrations in one transaction. A file whose `user_version` is newer
    /// than [`SCHEMA_VERSION`] is refused.
    pub fn open(path: &Path) -> Result<SqliteStore, AuthError> {
        create_private(path)?;
        let mut first = connect(path)?;
        migrate(&mut first)?;
        let mut conns = vec![Mutex::new(first)];
        for _ in 1..POOL_SIZE {
            conns.push(Mutex::new(connect(path)?));
        }
        Ok(SqliteStore {
            conns,
            next: AtomicUsize::new(0),
            watch: Mutex::new(connect(path)?),
        })
    }

    /// Runs `f` on a free connection, or waits for one.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        for conn in &self.conns {
            match conn.try_lock() {
                Ok(mut guard) => return f(&mut guard),
                // A panic while holding a connection leaves it usable: an open transaction
                // was rolled back when it was dropped.
                Err(TryLockError::Poisoned(p)) => return f(&mut p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len().max(1);
        let conn = self
            .conns
            .get(i)
            .ok_or_else(|| AuthError::Corrupt("nessuna connessione".into()))?;
        let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }
}

/// Creates `path` with mode 0600 if it does not exist; warns if an existing file is readable
/// by others.
fn create_private(path: &Path) -> Result<(), AuthError> {
    let io = |source| AuthError::Io {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        mode = format!("{:o}", mode & 0o777),
                        "il database degli accessi è leggibile da altri utenti: \
                         si consiglia chmod 600"
                    );
                }
            }
            Ok(())
        }
        Err(e) => Err(io(e)),
    }
}

fn connect(path: &Path) -> Result<Connection, AuthError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(AuthError::Corrupt(format!(
            "modalità journal «{mode}» invece di WAL"
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Applies the migrations newer than the file's `user_version`, all in one transaction.
fn migrate(conn: &mut Connection) -> Result<(), AuthError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > i64::from(SCHEMA_VERSION) {
        return Err(AuthError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for &(version, sql) in MIGRATIONS {
        if i64::from(version) <= found {
            continue;
        }
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|source| AuthError::Migration { version, source })?;
        tracing::info!(version, "database degli accessi aggiornato");
    }
    tx.commit()?;
    Ok(())
}

/// Timestamps are stored as fixed-width RFC 3339 UTC text, so text order is time order.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, AuthError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| AuthError::Corrupt(format!("data «{s}»")))
}

fn parse_opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>, AuthError> {
    s.as_deref().map(parse_ts).transpose()
}

const ACCOUNT_COLUMNS: &str = "a.id, a.username, a.role, a.ente, a.active, a.created_at";
const TOKEN_COLUMNS: &str = "t.id, a.username, t.name, t.prefix, t.created_at, t.expires_at, \
                             t.revoked_at, t.last_used_at";

/// An account row as read, before its text columns are checked.
struct RawAccount {
    id: i64,
    username: String,
    role: String,
    ente: Option<String>,
    active: i64,
    created_at: String,
}

impl RawAccount {
    /// Reads [`ACCOUNT_COLUMNS`] starting at column `at`.
    fn read(row: &Row<'_>, at: usize) -> rusqlite::Result<RawAccount> {
        Ok(RawAccount {
            id: row.get(at)?,
            username: row.get(at + 1)?,
            role: row.get(at + 2)?,
            ente: row.get(at + 3)?,
            active: row.get(at + 4)?,
            created_at: row.get(at + 5)?,
        })
    }

    fn check(self) -> Result<Account, AuthError> {
        Ok(Account {
            id: self.id,
            role: self
                .role
                .parse()
                .map_err(|_| AuthError::Corrupt(format!("ruolo «{}»", self.role)))?,
            username: self.username,
            ente: self.ente,
            active: self.active != 0,
            created_at: parse_ts(&self.created_at)?,
        })
    }
}

/// A token row as read ([`TOKEN_COLUMNS`]).
struct RawToken {
    id: i64,
    username: String,
    name: String,
    prefix: String,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
}

impl RawToken {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawToken> {
        Ok(RawToken {
            id: row.get(0)?,
            username: row.get(1)?,
            name: row.get(2)?,
            prefix: row.get(3)?,
            created_at: row.get(4)?,
            expires_at: row.get(5)?,
            revoked_at: row.get(6)?,
            last_used_at: row.get(7)?,
        })
    }

    fn check(self) -> Result<TokenInfo, AuthError> {
        Ok(TokenInfo {
            id: self.id,
            username: self.username,
            name: self.name,
            prefix: self.prefix,
            created_at: parse_ts(&self.created_at)?,
            expires_at: parse_opt_ts(self.expires_at)?,
            revoked_at: parse_opt_ts(self.revoked_at)?,
            last_used_at: parse_opt_ts(self.last_used_at)?,
        })
    }
}

fn append(conn: &Connection, a: &AuditRecord<'_>) -> Result<(), AuthError> {
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, event, detail, address) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![ts(a.at), a.actor, a.event, a.detail, a.address])?;
    Ok(())
}

fn account_by_username(conn: &Connection, username: &str) -> Result<Option<Account>, AuthError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.username = ?1");
    conn.prepare_cached(&sql)?
        .query_row([username], |r| RawAccount::read(r, 0))
        .optional()?
        .map(RawAccount::check)
        .transpose()
}

fn token_by_id(conn: &Connection, id: i64) -> Result<Option<TokenInfo>, AuthError> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens t JOIN accounts a ON a.id = t.account_id \
         WHERE t.id = ?1"
    );
    conn.prepare_cached(&sql)?
        .query_row([id], RawToken::read)
        .optional()?
        .map(RawToken::check)
        .transpose()
}

fn delete_sessions_of(conn: &Connection, username: &str) -> Result<(), AuthError> {
    conn.prepare_cached(
        "DELETE FROM sessions WHERE account_id = (SELECT id FROM accounts WHERE username = ?1)",
    )?
    .execute([username])?;
    Ok(())
}

impl Store for SqliteStore {
    fn insert_account(
        &self,
        username: &str,
        role: Role,
        ente: Option<&str>,
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<Account, AuthError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if account_by_username(&tx, username)?.is_some() {
                return Err(AuthError::AccountExists(username.to_owned()));
            }
            tx.prepare_cached(
                "INSERT INTO accounts (username, role, ente, password_hash, active, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
            )?
            .execute(params![username, role.code(), ente, password_hash, ts(now)])?;
            append(&tx, audit)?;
            let account = account_by_username(&tx, username)?
                .ok_or_else(|| AuthError::UnknownAccount(username.to_owned()))?;
            tx.commit()?;
            Ok(account)
        })
    }

    fn account(&self, username: &str) -> Result<Option<StoredAccount>, AuthError> {
        self.with(|conn| {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM accounts a WHERE a.username = ?1"
            );
            let row = conn
                .prepare_cached(&sql)?
                .query_row([username], |r| {
                    Ok((RawAccount::read(r, 0)?, r.get::<_, String>(6)?))
                })
                .optional()?;
            row.map(|(raw, password_hash)| {
                Ok(StoredAccount {
                    account: raw.check()?,
                    password_hash,
                })
            })
            .transpose()
        })
    }

    fn accounts(&self) -> Result<Vec<Account>, AuthError> {
        self.with(|conn| {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a ORDER BY a.username");
            let mut stmt = conn.prepare_cached(&sql)?;
            let raws = stmt
                .query_map([], |r| RawAccount::read(r, 0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(RawAccount::check).collect()
        })
    }

    fn has_active_role(&self, role: Role) -> Result<bool, AuthError> {
        self.with(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM accounts WHERE role = ?1 AND active = 1)",
                )?
                .query_row([role.code()], |r| r.get(0))?)
        })
    }

    fn update_role(
        &self,
        username: &str,
        role: Role,
        ente: Option<&str>,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<Option<Account>, AuthError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx
                .prepare_cached(
                    "UPDATE accounts SET role = ?1, ente = ?2, updated_at = ?3 \
                     WHERE username = ?4",
                )?
                .execute(params![role.code(), ente, ts(now), username])?;
            if changed == 0 {
                return Ok(None);
            }
            delete_sessions_of(&tx, username)?;
            append(&tx, audit)?;
            let account = account_by_username(&tx, username)?;
            tx.commit()?;
            Ok(account)
        })
    }

    fn update_password(
        &self,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<bool, AuthError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx
                .prepare_cached(
                    "UPDATE accounts SET password_hash = ?1, updated_at = ?2 WHERE username = ?3",
                )?
                .execute(params![password_hash, ts(now), username])?;
            if changed == 0 {
                return Ok(false);
            }
            delete_sessions_of(&tx, username)?;
            append(&tx, audit)?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn deactivate(
        &self,
        username: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<bool, AuthError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx
                .prepare_cached(
                    "UPDATE accounts SET active = 0, updated_at = ?1 WHERE username = ?2",
                )?
                .execute(params![ts(now), username])?;
            if changed == 0 {
                return Ok(false);
            }
            delete_sessions_of(&tx, username)?;
            tx.prepare_cached(
                "UPDATE tokens SET revoked_at = ?1 WHERE revoked_at IS NULL \
                 AND account_id = (SELECT id FROM accounts WHERE username = ?2)",
            )?
            .execute(params![ts(now), username])?;
            append(&tx, audit)?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn insert_session(
        &self,
        secret_hash: &str,
        account_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        address: Option<&str>,
        audit: &AuditRecord<'_>,
    ) -> Result<(), AuthError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "INSERT INTO sessions (secret_hash, account_id, created_at, last_seen_at, \
                 expires_at, address) VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
            )?
            .execute(params![
                secret_hash,
                account_id,
                ts(now),
                ts(expires_at),
                address
            ])?;
            append(&tx, audit)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn session(&self, secret_hash: &str) -> Result<Option<SessionRow>, AuthError> {
        self.with(|conn| {
            let sql = format!(
                "SELECT s.created_at, s.last_seen_at, s.expires_at, {ACCOUNT_COLUMNS} \
                 FROM sessions s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.secret_hash = ?1"
            );
            let row = conn
                .prepare_cached(&sql)?
                .query_row([secret_hash], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        RawAccount::read(r, 3)?,
                    ))
                })
                .optional()?;
            row.map(|(created, seen, expires, raw)| {
                Ok(SessionRow {
                    account: raw.check()?,
                    created_at: parse_ts(&created)?,
                    last_seen_at: parse_ts(&seen)?,
                    expires_at: parse_ts(&expires)?,
                })
            })
            .transpose()
        })
    }

    fn touch_session(&self, secret_hash: &str, at: DateTime<Utc>) -> Result<(), AuthError> {
        self.with(|conn| {
            conn.prepare_cached("UPDATE sessions SET last_seen_at = ?1 WHERE secret_hash = ?2")?
                .execute(params![ts(at), secret_hash])?;
            Ok(())
        })
    }

    fn delete_session(
        &self,
        secret_hash: &str,
        audit: Option<&AuditRecord<'_>>,
    ) -> Result<bool, AuthError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let deleted = tx
                .prepare_cached("DELETE FROM sessions WHERE secret_hash = ?1")?
                .execute([secret_hash])?;
            if deleted > 0 {
                if let Some(audit) = audit {
                    append(&tx, audit)?;
                }
            }
            tx.commit()?;
            Ok(deleted > 0)
        })
    }

    fn insert_token(
        &self,
        account_id: i64,
        name: &str,
        prefix: &str,
        secret_hash: &str,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        audit: &AuditRecord<'_>,
    ) -> Result<TokenInfo, AuthError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "INSERT INTO tokens (secret_hash, prefix, account_id, name, created_at, \
                 expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                secret_hash,
                prefix,
                account_id,
                name,
                ts(now),
                expires_at.map(ts)
            ])?;
            let id = tx.last_insert_rowid();
            append(&tx, audit)?;
            let info = token_by_id(&tx, id)?.ok_or(AuthError::UnknownToken(id))?;
            tx.commit()?;
            Ok(info)
        })
    }

    fn token(&self, secret_hash: &str) -> Result<Option<TokenRow>, AuthError> {
        self.with(|conn| {
            let sql = format!(
                "SELECT {TOKEN_COLUMNS}, {ACCOUNT_COLUMNS} \
                 FROM tokens t JOIN accounts a ON a.id = t.account_id \
                 WHERE t.secret_hash = ?1"
            );
            let row = conn
                .prepare_cached(&sql)?
                .query_row([secret_hash], |r| {
                    Ok((RawToken::read(r)?, RawAccount::read(r, 8)?))
                })
                .optional()?;
            row.map(|(token, account)| {
                Ok(TokenRow {
                    info: token.check()?,
                    account: account.check()?,
                })
            })
            .transpose()
        })
    }

    fn tokens(&self, username: Option<&str>) -> Result<Vec<TokenInfo>, AuthError> {
        self.with(|conn| {
            let sql = format!(
                "SELECT {TOKEN_COLUMNS} FROM tokens t JOIN accounts a ON a.id = t.account_id \
                 WHERE ?1 IS NULL OR a.username = ?1 ORDER BY t.id DESC"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let raws = stmt
                .query_map([username], RawToken::read)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(RawToken::check).collect()
        })
    }

    fn revoke_token(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditRecord<'_>,
    ) -> Result<Option<bool>, AuthError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let revoked: Option<Option<String>> = tx
                .prepare_cached("SELECT revoked_at FROM tokens WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let outcome = match revoked {
                None => None,
                Some(Some(_)) => Some(false),
                Some(None) => {
                    tx.prepare_cached("UPDATE tokens SET revoked_at = ?1 WHERE id = ?2")?
                        .execute(params![ts(now), id])?;
                    append(&tx, audit)?;
                    Some(true)
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
    }

    fn change_marker(&self) -> Result<Option<i64>, AuthError> {
        let conn = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
        let v: i64 = conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        Ok(Some(v))
    }

    fn touch_token(&self, id: i64, at: DateTime<Utc>) -> Result<(), AuthError> {
        self.with(|conn| {
            conn.prepare_cached("UPDATE tokens SET last_used_at = ?1 WHERE id = ?2")?
                .execute(params![ts(at), id])?;
            Ok(())
        })
    }

    fn append_audit(&self, audit: &AuditRecord<'_>) -> Result<(), AuthError> {
        self.with(|conn| append(conn, audit))
    }

    fn audit_log(
        &self,
        limit: usize,
        before_id: Option<i64>,
    ) -> Result<Vec<AuditEntry>, AuthError> {
        self.with(|conn| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut stmt = conn.prepare_cached(
                "SELECT id, at, actor, event, detail, address FROM audit \
                 WHERE ?1 IS NULL OR id < ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![before_id, limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(id, at, actor, event, detail, address)| {
                    Ok(AuditEntry {
                        id,
                        at: parse_ts(&at)?,
                        actor,
                        event,
                        detail,
                        address,
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_text() {
        let a = DateTime::parse_from_rfc3339("2025-03-01T08:15:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = a + chrono::Duration::microseconds(1);
        let c = a + chrono::Duration::days(400);
        assert_eq!(ts(a), "2025-03-01T08:15:00.000000Z");
        assert!(ts(a) < ts(b) && ts(b) < ts(c));
        assert_eq!(parse_ts(&ts(b)).unwrap(), b);
        assert!(parse_ts("ieri").is_err());
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, (v, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v as usize, i + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.0), Some(SCHEMA_VERSION));
    }
}
