//! Refuses to start with another master key than the one the database was set up with.
//!
//! A wrong `LEDGERLINE_MASTER_KEY` would otherwise show only when a secret is read, and every
//! secret or token saved meanwhile would be sealed with the wrong key. At first start a known
//! value is sealed with the key and stored; every later start must open it.

use anyhow::bail;

use crate::crypto::{MasterKey, client_secret_context};
use crate::store::Store;

const CHECK_CONTEXT: &str = "ledgerline/master-key-check";
const CHECK_VALUE: &str = "ledgerline master key check v1";

/// Checks `key` against the database, storing the check value on first start.
pub async fn verify_master_key(store: &Store, key: &MasterKey) -> anyhow::Result<()> {
    if store.master_key_check().await?.is_none() {
        // A database from before the check: a stored client secret tells whether the key fits.
        if let Some((tenant, integration, sealed)) = store.any_sealed_client_secret().await? {
            if key
                .open(&sealed, &client_secret_context(tenant, &integration))
                .is_err()
            {
                bail!(wrong_key_message());
            }
        }
        store
            .set_master_key_check(&key.seal(CHECK_VALUE, CHECK_CONTEXT))
            .await?;
    }
    let sealed = store
        .master_key_check()
        .await?
        .expect("the check value was just stored");
    match key.open(&sealed, CHECK_CONTEXT) {
        Ok(_) => Ok(()),
        Err(_) => bail!(wrong_key_message()),
    }
}

fn wrong_key_message() -> String {
    "LEDGERLINE_MASTER_KEY is not the key this database was set up with, so its client secrets \
     and tokens cannot be read (and new ones would be sealed with the wrong key). Start with the \
     original key (`./data/master.key` in demo mode). If it is lost for good, every tenant must \
     enter its client secrets again and every connection must be linked again: to accept the \
     new key anyway, delete the one row of the `master_key_check` table."
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: &str) -> MasterKey {
        MasterKey::parse(&byte.repeat(32)).unwrap()
    }

    async fn store(dir: &tempfile::TempDir) -> (Store, String) {
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("ledgerline.db").display()
        );
        (Store::connect(&url).await.unwrap(), url)
    }

    #[tokio::test]
    async fn the_first_key_is_remembered_and_another_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store(&dir).await;
        verify_master_key(&store, &key("ab")).await.unwrap();
        let refused = verify_master_key(&store, &key("cd")).await.unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("not the key this database was set up with"),
            "{refused}"
        );
        verify_master_key(&store, &key("ab")).await.unwrap();
    }

    #[tokio::test]
    async fn a_database_from_before_the_check_is_checked_against_a_stored_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (store, url) = store(&dir).await;
        let (tenant, _) = store.create_tenant("Acme", "digest").await.unwrap();
        let sealed = key("ab").seal(
            "secret",
            &client_secret_context(tenant.id, "exact-online-nl"),
        );
        store
            .upsert_integration_credentials(
                tenant.id,
                "exact-online-nl",
                "client",
                &sealed,
                "••••cret",
                None,
            )
            .await
            .unwrap();
        // As if the database predates the check value: none is stored.
        let raw = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("DELETE FROM master_key_check")
            .execute(&raw)
            .await
            .unwrap();
        assert!(verify_master_key(&store, &key("cd")).await.is_err());
        assert!(
            store.master_key_check().await.unwrap().is_none(),
            "the wrong key is not adopted"
        );
        verify_master_key(&store, &key("ab")).await.unwrap();
        assert!(store.master_key_check().await.unwrap().is_some());
    }
}
