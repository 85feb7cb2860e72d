//! Random secrets: session ids and personal access tokens.
//!
//! Both are 32 bytes from the operating system's generator ([`getrandom::fill`]), written as
//! unpadded base64url (43 characters). A token carries the `abt_` prefix so that it can be
//! recognised (by people, by secret scanners) and told apart from a session id.
//!
//! Only the SHA-256 of a secret is stored. A fast hash is right here: the secrets have 256
//! bits of entropy, so there is nothing to brute-force, unlike passwords (which get argon2id,
//! see [`super::password`]). Secrets are looked up *by* their hash through a unique index, so
//! no comparison of secret material happens in our code and a constant-time compare is not
//! needed: the index lookup learns nothing an attacker could use without already knowing a
//! preimage of the stored hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::AuthError;

/// The prefix of every personal access token.
pub const TOKEN_PREFIX: &str = "abt_";

/// Random bytes in a token or a session id.
const SECRET_BYTES: usize = 32;

/// Length of 32 bytes in unpadded base64url.
const ENCODED_LEN: usize = 43;

/// Characters of the token body kept (in clear) as its display prefix.
pub const DISPLAY_PREFIX_LEN: usize = 8;

/// A freshly generated secret: the value given to its owner once, and what is stored.
#[derive(Debug)]
pub struct Generated {
    /// The secret itself, shown once and never stored.
    pub secret: String,
    /// SHA-256 of the secret, lowercase hex: the lookup key in the database.
    pub hash: String,
}

/// A new personal access token: `abt_` + 43 base64url characters.
pub fn new_token() -> Result<(Generated, String), AuthError> {
    let body = random_body()?;
    let prefix = body.chars().take(DISPLAY_PREFIX_LEN).collect::<String>();
    let secret = format!("{TOKEN_PREFIX}{body}");
    let hash = sha256_hex(&secret);
    Ok((Generated { secret, hash }, prefix))
}

/// A new session id: 43 base64url characters.
pub fn new_session_id() -> Result<Generated, AuthError> {
    let secret = random_body()?;
    let hash = sha256_hex(&secret);
    Ok(Generated { secret, hash })
}

/// Whether `s` has the shape of a token (checked before hashing, so garbage never reaches the
/// database).
pub fn is_token(s: &str) -> bool {
    s.strip_prefix(TOKEN_PREFIX).is_some_and(is_body)
}

/// Whether `s` has the shape of a session id.
pub fn is_session_id(s: &str) -> bool {
    is_body(s)
}

/// SHA-256 of `s`, lowercase hex.
pub fn sha256_hex(s: &str) -> String {
    format!("{:x}", Sha256::digest(s.as_bytes()))
}

fn is_body(s: &str) -> bool {
    s.len() == ENCODED_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn random_body() -> Result<String, AuthError> {
    let mut buf = [0u8; SECRET_BYTES];
    getrandom::fill(&mut buf).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_has_the_documented_format() {
        let (t, prefix) = new_token().unwrap();
        assert!(t.secret.starts_with("abt_"));
        assert_eq!(t.secret.len(), 4 + 43);
        assert!(is_token(&t.secret));
        assert_eq!(prefix, &t.secret[4..12]);
        assert_eq!(t.hash, sha256_hex(&t.secret));
        assert_eq!(t.hash.len(), 64);
        assert!(t
            .hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let decoded = URL_SAFE_NO_PAD.decode(&t.secret[4..]).unwrap();
        assert_eq!(decoded.len(), 32);
    }

    #[test]
    fn session_ids_are_random_and_well_formed() {
        let a = new_session_id().unwrap();
        let b = new_session_id().unwrap();
        assert_ne!(a.secret, b.secret);
        assert_ne!(a.hash, b.hash);
        assert!(is_session_id(&a.secret));
        assert!(!is_token(&a.secret));
    }

    #[test]
    fn malformed_secrets_are_recognised() {
        assert!(!is_token(""));
        assert!(!is_token("abt_"));
        assert!(!is_token(&format!("abt_{}", "a".repeat(42))));
        assert!(!is_token(&format!("abt_{}", "a".repeat(44))));
        assert!(!is_token(&format!("abt_{}=", "a".repeat(42))));
        assert!(!is_token(&format!("xyz_{}", "a".repeat(43))));
        assert!(is_token(&format!("abt_{}", "a".repeat(43))));
        assert!(!is_session_id(&format!("{}+", "a".repeat(42))));
        assert!(!is_session_id(&format!("{}é", "a".repeat(41))));
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
