//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1: OWASP's recommended minimum),
//! always off the async runtime: one hash takes tens of milliseconds of CPU.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::AccessError;

fn argon2() -> Argon2<'static> {
    // INVARIANT: constant, valid parameters.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of nothing anyone knows, verified when an account does not exist so that the time a
/// failed sign-in takes does not reveal whether the account is real.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(b"kabinet-dummy-password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

pub async fn hash_password(password: &str) -> Result<String, AccessError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AccessError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| AccessError::Hashing(e.to_string()))?
}

/// Verifies `password` against a stored PHC string, or against a dummy when there is none.
pub async fn verify_password(password: &str, stored: Option<&str>) -> Result<bool, AccessError> {
    let password = password.to_owned();
    let (hash, real) = match stored {
        Some(h) => (h.to_owned(), true),
        None => (DUMMY_HASH.clone(), false),
    };
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| AccessError::Hashing(e.to_string()))?;
        Ok(real
            && argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
    })
    .await
    .map_err(|e| AccessError::Hashing(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hash = hash_password("correct horse").await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify_password("correct horse", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(!verify_password("wrong", Some(&hash)).await.expect("verify"));
    }

    #[tokio::test]
    async fn a_missing_hash_never_verifies() {
        assert!(
            !verify_password("kabinet-dummy-password", None)
                .await
                .expect("verify")
        );
    }
}
