//! Portal sessions: signing in with the tenant's API key sets a cookie holding a sealed value
//! (AES-GCM under the master key, see `crypto.rs`) of the key's digest, a CSRF token and an
//! expiry. Nothing is kept server-side, so every instance sharing the master key accepts it,
//! and every request looks the key up again: revoking the key ends its sessions at once.

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::api::auth::Tenant;
use crate::app::AppState;
use crate::crypto::hash_api_key;
use crate::store::StoreError;

/// The cookie's name; scoped to `/portal` so the API never sees it.
const COOKIE_NAME: &str = "ledgerline_portal";
/// What the sealed value is bound to, so no other sealed value (a secret, a token) opens as one.
const SEAL_CONTEXT: &str = "portal/session";
/// A working day: an admin signs in again the next morning.
const LIFETIME_MS: i64 = 8 * 3600 * 1000;

/// What the cookie carries, sealed.
#[derive(Debug, Serialize, Deserialize)]
struct Sealed {
    /// Digest of the API key signed in with (never the key itself).
    key_hash: String,
    /// The per-session token every form sends back in a hidden field.
    csrf: String,
    /// Epoch ms after which the session is refused.
    expires: i64,
}

/// A signed-in tenant admin.
#[derive(Debug, Clone)]
pub struct Session {
    pub tenant: Tenant,
    pub csrf: String,
}

impl Session {
    /// Refuses a form whose hidden `csrf` field is not this session's token. A page of another
    /// site cannot read it, so it cannot forge a form that passes.
    pub fn check_csrf(&self, sent: &str) -> Result<(), CsrfRefused> {
        // Constant-time comparison of equal-length tokens.
        let same = sent.len() == self.csrf.len()
            && sent
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same { Ok(()) } else { Err(CsrfRefused) }
    }
}

/// A form without the session's CSRF token: 403 with a page that says what to do.
#[derive(Debug)]
pub struct CsrfRefused;

impl IntoResponse for CsrfRefused {
    fn into_response(self) -> Response {
        (
            StatusCode::FORBIDDEN,
            super::pages::message_page(
                "Form expired",
                "This form was not sent from your portal session (or the session changed). \
                 Go back, reload the page and try again.",
            ),
        )
            .into_response()
    }
}

/// Signs in with an API key: the tenant and the `Set-Cookie` header of its new session.
pub async fn sign_in(state: &AppState, api_key: &str) -> Result<(Tenant, HeaderValue), StoreError> {
    let key_hash = hash_api_key(api_key.trim());
    let tenant = state.store.tenant_by_api_key(&key_hash).await?;
    let mut csrf = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut csrf);
    let sealed = Sealed {
        key_hash,
        csrf: URL_SAFE_NO_PAD.encode(csrf),
        expires: state.clock.now_ms() + LIFETIME_MS,
    };
    let value = state.master_key.seal(
        &serde_json::to_string(&sealed).expect("a session serialises"),
        SEAL_CONTEXT,
    );
    let cookie = format!(
        "{COOKIE_NAME}={value}; Path=/portal; HttpOnly; SameSite=Strict; Max-Age={}{}",
        LIFETIME_MS / 1000,
        secure_attribute(state)
    );
    Ok((
        Tenant(tenant),
        HeaderValue::from_str(&cookie).expect("base64 is a valid header value"),
    ))
}

/// The `Set-Cookie` header that ends a session in the browser.
pub fn sign_out_cookie(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}=; Path=/portal; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure_attribute(state)
    ))
    .expect("a valid header value")
}

/// `Secure` when people reach the server over https; over plain http a browser would drop it.
fn secure_attribute(state: &AppState) -> &'static str {
    if state.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    }
}

/// The portal's answer to a request without a valid session: back to the sign-in page.
#[derive(Debug)]
pub struct SignInFirst;

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        super::integrations::see_other("/portal/sign-in")
    }
}

fn cookie_value(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE_NAME && !value.is_empty()).then(|| value.to_string())
        })
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let sealed = cookie_value(parts)
            .and_then(|value| state.master_key.open(&value, SEAL_CONTEXT).ok())
            .and_then(|plain| serde_json::from_str::<Sealed>(plain.expose_secret()).ok())
            .filter(|s| s.expires > state.clock.now_ms())
            .ok_or_else(|| SignInFirst.into_response())?;
        match state.store.tenant_by_api_key(&sealed.key_hash).await {
            Ok(tenant) => Ok(Session {
                tenant: Tenant(tenant),
                csrf: sealed.csrf,
            }),
            // The key was revoked since: the session ends with it.
            Err(StoreError::NotFound) => Err(SignInFirst.into_response()),
            Err(other) => Err(crate::api::error::ApiError::from(other).into_response()),
        }
    }
}
