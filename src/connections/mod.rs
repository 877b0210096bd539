//! Connections of a company to an upstream: the link flow that creates them and the token
//! engine that keeps them usable.

pub mod fallback;
pub mod link;
pub mod return_url;
pub mod tokens;

use secrecy::SecretString;
use uuid::Uuid;

use crate::crypto::{MasterKey, client_secret_context};
use crate::provider::{AppCredentials, ProviderError};
use crate::store::{Store, StoreError};

/// The tenant's app credentials for an integration, opened from the store.
pub async fn app_credentials(
    store: &Store,
    master_key: &MasterKey,
    tenant_id: Uuid,
    integration_key: &str,
) -> Result<AppCredentials, ProviderError> {
    let row = match store
        .get_integration_setting(tenant_id, integration_key)
        .await
    {
        Ok(row) => row,
        Err(StoreError::NotFound) => {
            return Err(ProviderError::AdminAction(format!(
                "no client id and secret are set for {integration_key}: \
                 PUT /settings/integrations/{integration_key}"
            )));
        }
        Err(other) => return Err(ProviderError::Upstream(format!("store: {other}"))),
    };
    let secret: SecretString = master_key
        .open(
            &row.client_secret_sealed,
            &client_secret_context(tenant_id, integration_key),
        )
        .map_err(|e| {
            ProviderError::AdminAction(format!("the stored client secret cannot be read: {e}"))
        })?;
    Ok(AppCredentials {
        client_id: row.client_id,
        client_secret: secret,
    })
}
