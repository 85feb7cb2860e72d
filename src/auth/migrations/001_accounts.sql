-- abitare accounts store, schema version 1.
--
-- Portable types only: INTEGER and TEXT. Every timestamp is TEXT holding RFC 3339 UTC with
-- fixed microsecond precision and a `Z` suffix ("2025-03-01T08:15:00.000000Z"), so that
-- string order is time order and comparisons work the same in SQLite and PostgreSQL.
-- Booleans are INTEGER 0/1. Secrets are never stored: sessions and tokens keep only the
-- SHA-256 (lowercase hex) of their secret; passwords only their argon2id PHC string.
-- The triggers at the end are SQLite syntax; a PostgreSQL store creates the same tables and
-- enforces the same rule with a trigger function.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL
                  CHECK (role IN ('tavolo', 'ente', 'ufficio', 'amministratore')),
    ente          TEXT,
    password_hash TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    -- An "ente proprietario" account belongs to exactly one ente; no other role has one.
    CHECK ((role = 'ente' AND ente IS NOT NULL) OR (role <> 'ente' AND ente IS NULL))
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    secret_hash  TEXT    NOT NULL,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    created_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL,
    -- Absolute end of the session; the idle limit is computed from last_seen_at.
    expires_at   TEXT    NOT NULL,
    address      TEXT
);
CREATE UNIQUE INDEX sessions_secret_hash ON sessions (secret_hash);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    secret_hash  TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    name         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE UNIQUE INDEX tokens_secret_hash ON tokens (secret_hash);
CREATE INDEX tokens_account ON tokens (account_id);

-- Append-only: the triggers below refuse every UPDATE and DELETE.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT,
    event   TEXT NOT NULL,
    detail  TEXT NOT NULL,
    address TEXT
);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'il registro di controllo non si modifica: le voci sono solo aggiunte');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'il registro di controllo non si cancella: le voci sono solo aggiunte');
END;
