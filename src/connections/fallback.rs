//! Rotated token pairs the database has not taken yet, kept in a local file until it does.
//!
//! Once Exact has answered a refresh, the old refresh token is dead: the new pair must not be
//! lost to a database that is briefly unreachable. The token engine keeps such a pair in memory
//! and in one file per connection under `{data dir}/unsaved-tokens/`, written atomically (a
//! temporary file, fsync, rename, fsync of the folder). The tokens in it are sealed with the
//! master key, as in the database. Start-up replays the files into the store and deletes them.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::store::SealedTokens;

/// A rotated pair not stored yet, and the generation it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnsavedTokens {
    pub connection_id: Uuid,
    /// The stored generation whose refresh token was spent for this pair: the pair is stored
    /// only over that generation, never over a newer one.
    pub replaces_generation: i64,
    pub tokens: SealedTokens,
}

/// The folder of unsaved pairs.
#[derive(Debug, Clone)]
pub struct FallbackDir {
    dir: PathBuf,
}

impl FallbackDir {
    /// The folder under a server's data folder.
    pub fn in_data_dir(data_dir: &Path) -> FallbackDir {
        FallbackDir {
            dir: data_dir.join("unsaved-tokens"),
        }
    }

    fn path(&self, connection_id: Uuid) -> PathBuf {
        self.dir.join(format!("{connection_id}.json"))
    }

    /// Writes (or replaces) a connection's unsaved pair, atomically and durably.
    pub fn save(&self, unsaved: &UnsavedTokens) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(unsaved.connection_id);
        let temporary = self
            .dir
            .join(format!(".{}.{}.tmp", unsaved.connection_id, Uuid::new_v4()));
        let json = serde_json::to_vec(unsaved).expect("unsaved tokens serialise");
        let mut file = std::fs::File::create(&temporary)?;
        restrict_to_owner(&file);
        file.write_all(&json)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, &path)?;
        // The rename is durable only once the folder is.
        if let Ok(folder) = std::fs::File::open(&self.dir) {
            let _ = folder.sync_all();
        }
        Ok(path)
    }

    /// Deletes a connection's file once its pair is stored.
    pub fn remove(&self, connection_id: Uuid) {
        match std::fs::remove_file(self.path(connection_id)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(connection.id = %connection_id, error = %e, "an unsaved-tokens file could not be deleted")
            }
        }
    }

    /// Every unsaved pair on disk (unreadable files are reported and skipped).
    pub fn load_all(&self) -> Vec<UnsavedTokens> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
            {
                Ok(unsaved) => found.push(unsaved),
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "an unsaved-tokens file cannot be read")
                }
            }
        }
        found
    }
}

#[cfg(unix)]
fn restrict_to_owner(file: &std::fs::File) {
    use std::os::unix::fs::PermissionsExt;
    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_to_owner(_file: &std::fs::File) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsaved(generation: i64) -> UnsavedTokens {
        UnsavedTokens {
            connection_id: Uuid::new_v4(),
            replaces_generation: generation,
            tokens: SealedTokens {
                access_token_sealed: "v1:access".into(),
                refresh_token_sealed: "v1:refresh".into(),
                issued_at: 1,
                expires_at: 2,
            },
        }
    }

    #[test]
    fn pairs_are_saved_replaced_listed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let fallback = FallbackDir::in_data_dir(dir.path());
        assert!(fallback.load_all().is_empty());
        let first = unsaved(3);
        fallback.save(&first).unwrap();
        let mut newer = first.clone();
        newer.replaces_generation = 4;
        fallback.save(&newer).unwrap();
        fallback.save(&unsaved(1)).unwrap();
        let all = fallback.load_all();
        assert_eq!(all.len(), 2, "one file per connection: {all:?}");
        assert!(all.contains(&newer));
        fallback.remove(first.connection_id);
        assert_eq!(fallback.load_all().len(), 1);
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("unsaved-tokens"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
