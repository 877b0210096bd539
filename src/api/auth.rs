//! Who is calling: a tenant (by API key) or the operator (by the admin key).
//!
//! Keys arrive as `Authorization: Basic <base64 of the key>` (what Codat's SDKs send) or
//! `Bearer <key>`. Only digests are compared, so a key never sits in memory longer than a request.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::ApiError;
use crate::app::AppState;
use crate::crypto::hash_api_key;
use crate::store::{StoreError, TenantRow};

/// The authenticated tenant. Every tenant-scoped handler takes this, so a tenant can only
/// ever reach its own rows.
#[derive(Debug, Clone)]
pub struct Tenant(pub TenantRow);

/// The operator, authenticated with the admin key.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// A reader of `/metrics`: the metrics token (`LEDGERLINE_METRICS_TOKEN`) or the admin key.
#[derive(Debug, Clone, Copy)]
pub struct MetricsReader;

const NO_KEY: &str = "Unauthorized: send your API key as `Authorization: Basic <base64 of the key>` \
                      or `Authorization: Bearer <key>`";

/// Wrong keys one client address may present per window before it is refused for the rest
/// of the window: plenty for a developer's typos, far too few to guess a key.
const MAX_FAILURES_PER_WINDOW: u32 = 30;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Counts wrong API and admin keys per client address (successful requests are not
/// counted), so keys cannot be guessed by brute force. Cloning shares the counts.
#[derive(Debug, Clone)]
pub struct FailedAuthLimiter {
    /// Per address: when its window started and how many wrong keys it sent since.
    failures: moka::sync::Cache<IpAddr, (Instant, u32)>,
}

impl Default for FailedAuthLimiter {
    fn default() -> Self {
        FailedAuthLimiter {
            failures: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(FAILURE_WINDOW)
                .build(),
        }
    }
}

impl FailedAuthLimiter {
    /// Refuses an address that used up its failures in this window, before any key check.
    pub(crate) fn check(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        let Some((started, count)) = address.and_then(|a| self.failures.get(&a)) else {
            return Ok(());
        };
        let left = FAILURE_WINDOW.saturating_sub(started.elapsed());
        if count >= MAX_FAILURES_PER_WINDOW && !left.is_zero() {
            return Err(ApiError::too_many_requests(
                "Too many requests with a wrong API key from this address; wait before trying again",
                u32::try_from(left.as_secs()).unwrap_or(u32::MAX),
            ));
        }
        Ok(())
    }

    /// Counts one wrong key from an address.
    pub(crate) fn failed(&self, address: Option<IpAddr>) {
        let Some(address) = address else {
            return;
        };
        self.failures
            .entry(address)
            .and_upsert_with(|entry| match entry.map(|e| e.into_value()) {
                Some((started, count)) if started.elapsed() < FAILURE_WINDOW => {
                    (started, count + 1)
                }
                _ => (Instant::now(), 1),
            });
    }
}

/// The caller's address, when the server knows it.
pub(crate) fn client_address(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The key in an `Authorization` header, whichever of the two schemes carries it.
fn presented_key(parts: &Parts) -> Result<String, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized(NO_KEY))?;
    let (scheme, credential) = header.split_once(' ').unwrap_or((header, ""));
    let credential = credential.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty() {
        return Ok(credential.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(credential)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                ApiError::unauthorized("Unauthorized: the Basic credential is not valid base64")
            })?;
        // Tools that build Basic auth from user:password send `key:`; accept that too.
        let key = decoded.strip_suffix(':').unwrap_or(&decoded).trim();
        if !key.is_empty() {
            return Ok(key.to_string());
        }
    }
    Err(ApiError::unauthorized(NO_KEY))
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts)?;
        let address = client_address(parts);
        state.auth_failures.check(address)?;
        match state.store.tenant_by_api_key(&hash_api_key(&key)).await {
            Ok(tenant) => {
                tracing::Span::current().record("tenant.id", tracing::field::display(tenant.id));
                Ok(Tenant(tenant))
            }
            Err(StoreError::NotFound) => {
                state.auth_failures.failed(address);
                Err(ApiError::unauthorized(
                    "Unauthorized: the supplied API key is incorrect or has been revoked",
                ))
            }
            Err(other) => Err(other.into()),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts)?;
        let address = client_address(parts);
        state.auth_failures.check(address)?;
        if hash_api_key(&key) == *state.admin_key_hash {
            Ok(Admin)
        } else {
            state.auth_failures.failed(address);
            Err(ApiError::unauthorized(
                "Unauthorized: this endpoint needs the admin key (LEDGERLINE_ADMIN_KEY)",
            ))
        }
    }
}

impl FromRequestParts<AppState> for MetricsReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts)?;
        let address = client_address(parts);
        state.auth_failures.check(address)?;
        let digest = hash_api_key(&key);
        let token = state.metrics_token_hash.as_deref();
        if digest == *state.admin_key_hash || token == Some(&digest) {
            Ok(MetricsReader)
        } else {
            state.auth_failures.failed(address);
            Err(ApiError::unauthorized(
                "Unauthorized: /metrics needs the metrics token (LEDGERLINE_METRICS_TOKEN) or \
                 the admin key, as `Authorization: Bearer <token>`",
            ))
        }
    }
}
