//! Password hashing: argon2id with the crate's default parameters, which are OWASP's
//! recommendation (m = 19456 KiB, t = 2, p = 1), stored as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! Hashing and verifying are deliberately slow (tens of milliseconds of CPU): callers on an
//! async runtime run them in `spawn_blocking` (see [`super::Accounts::login`]).

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use super::AuthError;

/// Hashes `password` with a fresh random salt; the PHC string to store.
pub fn hash(password: &str) -> Result<String, AuthError> {
    let hashed: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(hashed.to_string())
}

/// Whether `password` matches the PHC string `phc`. A string that does not parse never
/// matches (and is reported without its content).
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => {
            tracing::warn!("hash di password illeggibile nel database degli accessi");
            false
        }
    }
}

/// A valid argon2id hash, with the same parameters as real ones, of a password nobody knows.
/// Verified in place of a real hash when the user does not exist, so that a login for an
/// unknown user costs the same time as one with a wrong password.
pub fn dummy_hash() -> Result<&'static str, AuthError> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            // The salt is fixed (it only has to be valid); the password is random, so the
            // hash matches nothing anyone can type.
            let mut password = [0u8; 32];
            getrandom::fill(&mut password).ok()?;
            Argon2::default()
                .hash_password_with_salt(&password, b"abitare-dummy-salt")
                .ok()
                .map(|h: PasswordHash| h.to_string())
        })
        .as_deref()
        .ok_or_else(|| AuthError::Hash("hash fittizio non calcolabile".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash("una password abbastanza lunga").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("una password abbastanza lunga", &h));
        assert!(!verify("una password abbastanza lungA", &h));
        assert!(!verify("", &h));
    }

    #[test]
    fn salts_differ() {
        let a = hash("stessa password per due").unwrap();
        let b = hash("stessa password per due").unwrap();
        assert_ne!(a, b);
        assert!(verify("stessa password per due", &a));
        assert!(verify("stessa password per due", &b));
    }

    #[test]
    fn garbage_hash_never_matches() {
        assert!(!verify("x", "not a phc string"));
        assert!(!verify("", ""));
    }

    #[test]
    fn dummy_hash_is_stable_and_real() {
        let a = dummy_hash().unwrap();
        let b = dummy_hash().unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert!(PasswordHash::new(a).is_ok());
        assert!(!verify("", a));
        assert!(!verify("password", a));
    }
}
