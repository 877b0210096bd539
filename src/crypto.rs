//! Secrets at rest and API keys.
//!
//! Client secrets (and, later, OAuth tokens) are sealed with AES-256-GCM under the master key:
//! a fresh random nonce per value, and the row's identity as associated data, so a ciphertext
//! copied into another tenant's row fails to open. API keys are random 256-bit strings stored
//! only as SHA-256 digests: with that much entropy a slow password hash buys nothing.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Why a master key or a sealed value could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "LEDGERLINE_MASTER_KEY must be 32 bytes, written as 64 hex characters or base64 \
         (generate one with `openssl rand -base64 32`)"
    )]
    BadMasterKey,
    #[error("a sealed value could not be opened: wrong master key or tampered data")]
    Unseal,
    #[error("cannot read or write the master key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
}

/// The key that seals secrets at rest. Cloning shares the cipher; `Debug` never shows the key.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
    /// Key for HMAC signatures (OAuth `state`), derived from the master key.
    signing_key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

const SEALED_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

impl MasterKey {
    /// Parses a key given as 64 hex characters or as base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| CryptoError::BadMasterKey)?
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text))
                .map_err(|_| CryptoError::BadMasterKey)?
        };
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::BadMasterKey);
        }
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| CryptoError::BadMasterKey)?;
        // A separate key for signatures, so the encryption key is used for one purpose only.
        let signing_key: [u8; 32] = Sha256::new()
            .chain_update(b"ledgerline/signing/v1")
            .chain_update(bytes)
            .finalize()
            .into();
        Ok(MasterKey {
            cipher,
            signing_key,
        })
    }

    /// Demo mode: reads `master.key` from the data folder, creating it on first use.
    /// Returns the key and whether it was just created (so the caller can say so).
    pub fn load_or_create(data_dir: &Path) -> Result<(Self, bool), CryptoError> {
        let path = data_dir.join("master.key");
        let io_error = |source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((Self::parse(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                std::fs::create_dir_all(data_dir).map_err(io_error)?;
                std::fs::write(&path, STANDARD.encode(bytes)).map_err(io_error)?;
                restrict_to_owner(&path);
                Ok((Self::from_bytes(&bytes)?, true))
            }
            Err(e) => Err(io_error(e)),
        }
    }

    /// Seals `plaintext`, bound to `context` (e.g. "tenant/…/exact-online-nl/clientSecret").
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption cannot fail for in-memory input");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    /// Opens a value made by [`MasterKey::seal`] with the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<SecretString, CryptoError> {
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|raw| raw.len() > NONCE_LEN)
            .ok_or(CryptoError::Unseal)?;
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Unseal)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Unseal)
    }
}

impl MasterKey {
    /// `HMAC-SHA256(signing key, message)` as lowercase hex.
    pub fn sign(&self, message: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key)
            .expect("HMAC takes keys of any length");
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is [`MasterKey::sign`] of `message` (compared in constant time).
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let Ok(signature) = hex::decode(signature) else {
            return false;
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key)
            .expect("HMAC takes keys of any length");
        mac.update(message.as_bytes());
        mac.verify_slice(&signature).is_ok()
    }
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) {}

/// The context a tenant's client secret is sealed under: it opens only in its own row.
pub fn client_secret_context(tenant_id: uuid::Uuid, integration_key: &str) -> String {
    format!("tenant/{tenant_id}/integration/{integration_key}/clientSecret")
}

/// The context a connection's access or refresh token is sealed under.
pub fn token_context(connection_id: uuid::Uuid, which: &str) -> String {
    format!("connection/{connection_id}/{which}")
}

/// A new random API key (`ll_` + 43 URL-safe characters), shown once and stored hashed.
pub fn new_api_key() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(format!("ll_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The digest under which an API key is stored and looked up.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The end of a secret, for a masked hint such as `••••ab12`: at most a quarter of it and
/// never more than four characters, so a short secret is never shown whole.
pub fn secret_hint(secret: &SecretString) -> String {
    let chars: Vec<char> = secret.expose_secret().chars().collect();
    let shown = (chars.len() / 4).min(4);
    let tail: String = chars[chars.len() - shown..].iter().collect();
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::parse(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn sealed_values_open_with_the_same_context_only() {
        let sealed = key().seal("s3cret-value", "tenant-a/nl");
        assert!(!sealed.contains("s3cret-value"));
        assert_eq!(
            key().open(&sealed, "tenant-a/nl").unwrap().expose_secret(),
            "s3cret-value"
        );
        assert!(key().open(&sealed, "tenant-b/nl").is_err());
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        assert_ne!(key().seal("x", "c"), key().seal("x", "c"));
    }

    #[test]
    fn another_master_key_cannot_open() {
        let sealed = key().seal("x", "c");
        let other = MasterKey::parse(&"cd".repeat(32)).unwrap();
        assert!(other.open(&sealed, "c").is_err());
    }

    #[test]
    fn master_keys_parse_from_hex_and_base64_and_reject_other_lengths() {
        assert!(MasterKey::parse(&"0f".repeat(32)).is_ok());
        assert!(MasterKey::parse(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(MasterKey::parse(&STANDARD.encode([7u8; 16])).is_err());
        assert!(MasterKey::parse("not a key").is_err());
    }

    #[test]
    fn demo_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = MasterKey::load_or_create(dir.path()).unwrap();
        assert!(created);
        let sealed = first.seal("x", "c");
        let (second, created_again) = MasterKey::load_or_create(dir.path()).unwrap();
        assert!(!created_again);
        assert_eq!(second.open(&sealed, "c").unwrap().expose_secret(), "x");
    }

    #[test]
    fn signatures_verify_only_for_the_same_message_and_key() {
        let signature = key().sign("state-1");
        assert!(key().verify("state-1", &signature));
        assert!(!key().verify("state-2", &signature));
        assert!(!key().verify("state-1", "00"));
        let other = MasterKey::parse(&"cd".repeat(32)).unwrap();
        assert!(!other.verify("state-1", &signature));
    }

    #[test]
    fn hints_show_at_most_a_quarter_and_never_more_than_four_characters() {
        assert_eq!(
            secret_hint(&SecretString::from("abcdef1234567890")),
            "••••7890"
        );
        assert_eq!(
            secret_hint(&SecretString::from("abcdefghijklmnopqrstuvwxyz")),
            "••••wxyz"
        );
        assert_eq!(secret_hint(&SecretString::from("abcdef123")), "••••23");
        assert_eq!(secret_hint(&SecretString::from("abcd")), "••••d");
        assert_eq!(secret_hint(&SecretString::from("abc")), "••••");
        assert_eq!(secret_hint(&SecretString::from("ab")), "••••");
        assert_eq!(secret_hint(&SecretString::from("")), "••••");
    }

    #[test]
    fn api_keys_are_random_and_hash_stably() {
        let a = new_api_key();
        let b = new_api_key();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().starts_with("ll_"));
        assert_eq!(
            hash_api_key(a.expose_secret()),
            hash_api_key(a.expose_secret())
        );
    }
}
