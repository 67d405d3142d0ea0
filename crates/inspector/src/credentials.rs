//! API keys for SigV4: the [`CredentialStore`] trait, an in-memory store, and
//! the SQLite store behind `warden apikey`, with secrets encrypted at rest.
//!
//! Why it exists: SigV4 proves possession of a secret by an HMAC the server
//! must recompute, so the server needs the secret itself, not a hash of it.
//! Secrets are therefore sealed with AES-256-GCM under a 32-byte master key
//! kept in a separate file (mode 0600) beside the database: a copy of the
//! database alone reveals no secret. Session tokens are only compared, never
//! used as keys, so only their SHA-256 is stored.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rusqlite::{Connection, OptionalExtension, params};

/// What the verifier needs to know about one access key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The secret access key, in plain text (SigV4 needs it).
    pub secret_access_key: String,
    /// SHA-256 of the session token the requests must carry, for session credentials.
    pub session_token_sha256: Option<[u8; 32]>,
    /// Epoch seconds after which the credential is refused (`ExpiredTokenException`).
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("secret_access_key", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Looks up an access key id. Called once per request, synchronously; a
/// revoked or unknown key is `Ok(None)`.
pub trait CredentialStore: Send + Sync {
    /// The credential of `access_key_id`, if it exists and is not revoked.
    fn lookup(&self, access_key_id: &str) -> Result<Option<StoredCredential>, String>;
}

/// A fixed set of long-term keys held in memory (embedding, tests).
pub struct StaticCredentials {
    keys: HashMap<String, StoredCredential>,
}

impl StaticCredentials {
    /// Keys from `(access key id, secret)` pairs.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> StaticCredentials {
        let keys = pairs
            .into_iter()
            .map(|(id, secret)| {
                (
                    id.to_string(),
                    StoredCredential {
                        secret_access_key: secret.to_string(),
                        session_token_sha256: None,
                        expires_at: None,
                    },
                )
            })
            .collect();
        StaticCredentials { keys }
    }
}

impl CredentialStore for StaticCredentials {
    fn lookup(&self, access_key_id: &str) -> Result<Option<StoredCredential>, String> {
        Ok(self.keys.get(access_key_id).cloned())
    }
}

/// The 32-byte master key that seals secrets, and derives the server's other keys.
pub struct MasterKey {
    bytes: [u8; 32],
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // Fails only when the OS has no randomness source at all.
    rand::fill(&mut out).expect("system random source");
    out
}

impl MasterKey {
    /// The default key file for a database: `<db dir>/inspector-master.key`.
    pub fn default_path(db: &Path) -> PathBuf {
        db.with_file_name("inspector-master.key")
    }

    /// Reads the key file, or creates it (mode 0600, 64 hex characters) when
    /// absent. A file readable or writable by group or others is refused.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, String> {
        let shown = path.display();
        match std::fs::metadata(path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(format!(
                        "{shown}: master key file has mode {mode:04o}; it must be readable by its owner only (chmod 600 {shown})"
                    ));
                }
                let text =
                    std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read master key: {e}"))?;
                let text = text.trim();
                if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("{shown}:1: master key must be 64 hexadecimal characters"));
                }
                let mut bytes = [0u8; 32];
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|e| format!("{shown}:1: {e}"))?;
                }
                Ok(MasterKey { bytes })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
                }
                let bytes = random_bytes::<32>();
                let hexed: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| format!("{shown}: cannot create master key: {e}"))?;
                file.write_all(format!("{hexed}\n").as_bytes())
                    .and_then(|_| file.sync_all())
                    .map_err(|e| format!("{shown}: {e}"))?;
                Ok(MasterKey { bytes })
            }
            Err(e) => Err(format!("{shown}: {e}")),
        }
    }

    /// A key from raw bytes (tests, embedding).
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey { bytes }
    }

    /// A sub-key for one purpose (HMAC-SHA256 of the label), so that the
    /// paging and webhook keys never equal the sealing key.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.bytes), label.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.derive("warden inspector secrets v1")).expect("32-byte AES key"),
        )
    }

    /// Seals `plaintext`, bound to `aad` (the access key id): returns nonce and ciphertext+tag.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> ([u8; NONCE_LEN], Vec<u8>) {
        let nonce = random_bytes::<NONCE_LEN>();
        let mut data = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad.as_bytes()), &mut data)
            .expect("AES-GCM sealing of a short secret");
        (nonce, data)
    }

    /// Opens what [`seal`](Self::seal) produced; `None` with another key, another `aad`, or altered bytes.
    pub fn open(&self, aad: &str, nonce: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = sealed.to_vec();
        let plain = self.aead().open_in_place(nonce, Aad::from(aad.as_bytes()), &mut data).ok()?;
        Some(plain.to_vec())
    }
}

/// A key just created: the only time its secret and token are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// `AKIA...` (long-term) or `ASIA...` (session).
    pub access_key_id: String,
    /// 40 characters.
    pub secret_access_key: String,
    /// Session credentials only.
    pub session_token: Option<String>,
    /// Session credentials only: epoch seconds.
    pub expires_at: Option<i64>,
}

/// What `warden apikey list` shows (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// Access key id.
    pub access_key_id: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds, session credentials only.
    pub expires_at: Option<i64>,
    /// Epoch seconds, when revoked.
    pub revoked_at: Option<i64>,
    /// Free text given at creation.
    pub description: String,
}

const MIGRATIONS: &[&str] = &["CREATE TABLE inspector_api_keys (
        access_key_id TEXT PRIMARY KEY,
        secret_nonce BLOB NOT NULL,
        secret_sealed BLOB NOT NULL,
        session_token_sha256 BLOB,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER,
        description TEXT NOT NULL DEFAULT '')"];

/// API keys in the server's SQLite file (`inspector_api_keys`).
pub struct SqliteCredentialStore {
    conn: Mutex<Connection>,
    key: MasterKey,
}

/// Characters of AWS-style access key ids (base32).
const KEY_ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

impl SqliteCredentialStore {
    /// Opens the store in `db` with the master key at `key_path` (created if absent).
    pub fn open(db: &Path, key_path: &Path) -> Result<SqliteCredentialStore, String> {
        let key = MasterKey::load_or_create(key_path)?;
        let mut conn = crate::db::open(db)?;
        crate::db::migrate(&mut conn, "credentials", MIGRATIONS)?;
        Ok(SqliteCredentialStore { conn: Mutex::new(conn), key })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-written state
        // (every write is one statement), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a key; with `session_seconds`, session credentials (an `ASIA`
    /// id, a session token, an expiry).
    pub fn create(&self, session_seconds: Option<i64>, description: &str, now: i64) -> Result<NewApiKey, String> {
        let prefix = if session_seconds.is_some() { "ASIA" } else { "AKIA" };
        let id_bytes = random_bytes::<16>();
        let access_key_id: String =
            prefix.chars().chain(id_bytes.iter().map(|b| KEY_ID_ALPHABET[usize::from(b % 32)] as char)).collect();
        let secret_access_key = STANDARD.encode(random_bytes::<30>());
        let session_token = session_seconds.map(|_| STANDARD.encode(random_bytes::<96>()));
        let expires_at = session_seconds.map(|s| now + s);
        let (nonce, sealed) = self.key.seal(&access_key_id, secret_access_key.as_bytes());
        let token_hash =
            session_token.as_ref().map(|t| digest::digest(&digest::SHA256, t.as_bytes()).as_ref().to_vec());
        self.conn()
            .execute(
                "INSERT INTO inspector_api_keys (access_key_id, secret_nonce, secret_sealed, session_token_sha256, created_at, expires_at, description)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![access_key_id, nonce.to_vec(), sealed, token_hash, now, expires_at, description],
            )
            .map_err(|e| format!("inspector_api_keys: {e}"))?;
        Ok(NewApiKey { access_key_id, secret_access_key, session_token, expires_at })
    }

    /// Every key, newest first.
    pub fn list(&self) -> Result<Vec<ApiKeyInfo>, String> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT access_key_id, created_at, expires_at, revoked_at, description FROM inspector_api_keys ORDER BY created_at DESC, access_key_id")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ApiKeyInfo {
                    access_key_id: r.get(0)?,
                    created_at: r.get(1)?,
                    expires_at: r.get(2)?,
                    revoked_at: r.get(3)?,
                    description: r.get(4)?,
                })
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| format!("inspector_api_keys: {e}"))
    }

    /// Revokes a key; `false` when no active key has that id.
    pub fn revoke(&self, access_key_id: &str, now: i64) -> Result<bool, String> {
        let n = self
            .conn()
            .execute(
                "UPDATE inspector_api_keys SET revoked_at = ?2 WHERE access_key_id = ?1 AND revoked_at IS NULL",
                params![access_key_id, now],
            )
            .map_err(|e| format!("inspector_api_keys: {e}"))?;
        Ok(n == 1)
    }

    /// The paging key of a server using this store (derived from the master key).
    pub fn paging_secret(&self) -> [u8; 32] {
        self.key.derive("warden inspector paging v1")
    }
}

impl CredentialStore for SqliteCredentialStore {
    fn lookup(&self, access_key_id: &str) -> Result<Option<StoredCredential>, String> {
        type Row = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, Option<i64>);
        let conn = self.conn();
        let row: Option<Row> = conn
            .prepare_cached(
                "SELECT secret_nonce, secret_sealed, session_token_sha256, expires_at FROM inspector_api_keys
                 WHERE access_key_id = ?1 AND revoked_at IS NULL",
            )
            .and_then(|mut s| {
                s.query_row([access_key_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional()
            })
            .map_err(|e| format!("inspector_api_keys: {e}"))?;
        let Some((nonce, sealed, token_hash, expires_at)) = row else { return Ok(None) };
        let secret = self.key.open(access_key_id, &nonce, &sealed).ok_or_else(|| {
            format!(
                "inspector_api_keys: the secret of {access_key_id} does not open with this master key (wrong key file?)"
            )
        })?;
        let secret_access_key = String::from_utf8(secret)
            .map_err(|_| format!("inspector_api_keys: secret of {access_key_id} is not text"))?;
        let session_token_sha256 = match token_hash {
            Some(h) => Some(
                h.try_into()
                    .map_err(|_| format!("inspector_api_keys: token hash of {access_key_id} is not 32 bytes"))?,
            ),
            None => None,
        };
        Ok(Some(StoredCredential { secret_access_key, session_token_sha256, expires_at }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_created_looked_up_and_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("warden.db");
        let store = SqliteCredentialStore::open(&db, &MasterKey::default_path(&db)).unwrap();
        let long = store.create(None, "ci", 1000).unwrap();
        assert!(long.access_key_id.starts_with("AKIA") && long.access_key_id.len() == 20);
        assert_eq!(long.secret_access_key.len(), 40);
        let session = store.create(Some(3600), "", 1000).unwrap();
        assert_eq!(session.expires_at, Some(4600));
        let found = store.lookup(&session.access_key_id).unwrap().unwrap();
        assert_eq!(found.secret_access_key, session.secret_access_key);
        let token_hash = digest::digest(&digest::SHA256, session.session_token.unwrap().as_bytes());
        assert_eq!(found.session_token_sha256.unwrap().as_slice(), token_hash.as_ref());
        assert_eq!(store.list().unwrap().len(), 2);
        assert!(store.revoke(&long.access_key_id, 2000).unwrap());
        assert!(!store.revoke(&long.access_key_id, 2000).unwrap());
        assert_eq!(store.lookup(&long.access_key_id).unwrap(), None);
        assert_eq!(store.lookup("AKIANOSUCHKEY").unwrap(), None);
    }

    #[test]
    fn secrets_are_not_stored_in_plain_text_and_need_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("warden.db");
        let key_path = dir.path().join("k");
        let store = SqliteCredentialStore::open(&db, &key_path).unwrap();
        let k = store.create(None, "", 1).unwrap();
        drop(store);
        let raw = std::fs::read(&db).unwrap();
        let wal = std::fs::read(dir.path().join("warden.db-wal")).unwrap_or_default();
        let needle = k.secret_access_key.as_bytes();
        assert!(!raw.windows(needle.len()).chain(wal.windows(needle.len())).any(|w| w == needle));
        assert_eq!(std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777, 0o600);
        // Another master key cannot open the secret: an error, not a wrong secret.
        let other = SqliteCredentialStore::open(&db, &dir.path().join("other")).unwrap();
        assert!(other.lookup(&k.access_key_id).unwrap_err().contains("does not open"));
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        MasterKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = MasterKey::load_or_create(&path).err().unwrap();
        assert!(e.contains("mode 0644"), "{e}");
    }

    #[test]
    fn sealing_is_bound_to_the_access_key_id() {
        let key = MasterKey::from_bytes([7; 32]);
        let (nonce, sealed) = key.seal("AKIA1", b"secret");
        assert_eq!(key.open("AKIA1", &nonce, &sealed).as_deref(), Some(&b"secret"[..]));
        assert_eq!(key.open("AKIA2", &nonce, &sealed), None);
    }
}
