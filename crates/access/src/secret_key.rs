//! Secrets at rest: AES-256-GCM under the deployment's key (`KABINET_SECRET_KEY`).
//!
//! A sealed value is `version (1 byte) ‖ nonce (12) ‖ ciphertext+tag`. The caller names what the
//! value belongs to (`aad`, e.g. the row's tenant and id), so a sealed secret copied onto another
//! row does not open there.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::AccessError;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// The 256-bit key that seals secrets stored in the database. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; 32],
    /// Derived from a public string: fine on a laptop, worthless in production.
    pub insecure_default: bool,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("insecure_default", &self.insecure_default)
            .finish_non_exhaustive()
    }
}

impl Default for SecretKey {
    fn default() -> Self {
        Self::development()
    }
}

impl SecretKey {
    /// `KABINET_SECRET_KEY`: 32 random bytes in standard base64 (`openssl rand -base64 32`).
    pub fn from_base64(raw: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(raw.trim())
            .map_err(|e| format!("not base64: {e}"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("{} bytes; expected 32", b.len()))?;
        Ok(Self {
            key,
            insecure_default: false,
        })
    }

    /// The development key: derived from a fixed string, so anyone can read secrets sealed
    /// with it. Used only when `KABINET_SECRET_KEY` is unset, with a loud warning.
    pub fn development() -> Self {
        Self {
            key: Sha256::digest(b"kabinet development secret key: never use in production").into(),
            insecure_default: true,
        }
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, AccessError> {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| AccessError::Secret("sealing failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a sealed value; fails on a different key, a different `aad` or any tampering.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, AccessError> {
        let (version, rest) = sealed
            .split_first()
            .ok_or_else(|| AccessError::Secret("empty sealed value".into()))?;
        if *version != VERSION || rest.len() < NONCE_LEN {
            return Err(AccessError::Secret("unknown sealed value format".into()));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key));
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| {
                AccessError::Secret(
                    "cannot open a stored secret (was KABINET_SECRET_KEY changed?)".into(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = SecretKey::from_base64(&STANDARD.encode([7u8; 32])).expect("key");
        let sealed = key
            .seal(b"JBSWY3DPEHPK3PXP", b"tenant:a:row:1")
            .expect("seal");
        assert_ne!(&sealed[1 + NONCE_LEN..], b"JBSWY3DPEHPK3PXP");
        assert_eq!(
            key.open(&sealed, b"tenant:a:row:1").expect("open"),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(key.open(&sealed, b"tenant:b:row:1").is_err());
        assert!(
            SecretKey::development()
                .open(&sealed, b"tenant:a:row:1")
                .is_err()
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key.open(&tampered, b"tenant:a:row:1").is_err());
        // A fresh nonce every time.
        assert_ne!(
            sealed,
            key.seal(b"JBSWY3DPEHPK3PXP", b"tenant:a:row:1")
                .expect("seal")
        );
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        assert!(SecretKey::from_base64(&STANDARD.encode([1u8; 32])).is_ok());
        assert!(SecretKey::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(SecretKey::from_base64("not base64!").is_err());
        assert!(SecretKey::development().insecure_default);
        assert!(!format!("{:?}", SecretKey::development()).contains('['));
    }
}
