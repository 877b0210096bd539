//! Exact's token endpoint: code exchange and refresh, and what each refusal means.
//!
//! The `oauth2` crate is not used here: it insists on a numeric `expires_in`, and Exact sends
//! the string `"600"`. The protocol is two form POSTs; the value is in classifying the refusals.

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// How long a refresh request may take. Far longer than the client's 30 s: once sent, Exact may
/// have rotated the token, so its answer is worth waiting minutes for (a frozen process, a slow
/// network) rather than being thrown away.
const REFRESH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

use crate::provider::{AppCredentials, ProviderError, RetryKind, TokenGrant};

/// Exact's token answer. `expires_in` is a string at Exact, a number elsewhere: take both.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct TokenErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Which grant a token request was for: they fail for different reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    AuthorizationCode,
    RefreshToken,
}

/// Posts a token request and classifies the answer.
pub async fn request_tokens(
    http: &reqwest::Client,
    token_url: &Url,
    app: &AppCredentials,
    kind: GrantKind,
    form: &[(&str, &str)],
    default_lifetime_secs: u64,
) -> Result<TokenGrant, ProviderError> {
    let mut body: Vec<(&str, &str)> = form.to_vec();
    body.push(("client_id", &app.client_id));
    body.push(("client_secret", app.client_secret.expose_secret()));
    let mut request = http
        .post(token_url.clone())
        .header("Accept", "application/json")
        .form(&body);
    if kind == GrantKind::RefreshToken {
        request = request.timeout(REFRESH_TIMEOUT);
    }
    let response = request
        .send()
        .await
        .map_err(|e| ProviderError::RetryLater {
            kind: RetryKind::Outage,
            message: format!("Exact's token endpoint did not answer: {}", e.without_url()),
            after: None,
        })?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        let parsed: TokenResponse = serde_json::from_str(&text).map_err(|e| {
            ProviderError::Upstream(format!("Exact's token answer could not be read: {e}"))
        })?;
        let expires_in_secs = parsed
            .expires_in
            .as_ref()
            .and_then(|v| match v {
                serde_json::Value::String(s) => s.trim().parse().ok(),
                serde_json::Value::Number(n) => n.as_u64(),
                _ => None,
            })
            .unwrap_or(default_lifetime_secs);
        return Ok(TokenGrant {
            access_token: SecretString::from(parsed.access_token),
            refresh_token: SecretString::from(parsed.refresh_token),
            expires_in_secs,
        });
    }
    let error: TokenErrorBody = serde_json::from_str(&text).unwrap_or_default();
    Err(classify_refusal(status, kind, &error))
}

fn classify_refusal(status: StatusCode, kind: GrantKind, error: &TokenErrorBody) -> ProviderError {
    let description = error.error_description.clone().unwrap_or_default();
    let said = if description.is_empty() {
        error.error.clone()
    } else {
        format!("{} ({description})", error.error)
    };
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return ProviderError::RetryLater {
            kind: if status == StatusCode::TOO_MANY_REQUESTS {
                RetryKind::MinuteLimit
            } else {
                RetryKind::Outage
            },
            message: format!("Exact's token endpoint answered {status}: {said}"),
            after: None,
        };
    }
    let lower = description.to_ascii_lowercase();
    match (status.as_u16(), error.error.as_str(), kind) {
        (401, _, GrantKind::RefreshToken) if lower.contains("not expired") => {
            ProviderError::RefreshTooEarly
        }
        (401, _, GrantKind::RefreshToken) if lower.contains("old refresh token") => {
            ProviderError::Reconnect(
                "Exact refused the refresh token as already used (\"Old refresh token used.\"); \
                 a newer one was issued but never stored"
                    .into(),
            )
        }
        (400, "invalid_request", GrantKind::RefreshToken) if lower.contains("expired") => {
            ProviderError::Reconnect(format!(
                "the refresh token expired after 30 days without use: {description}"
            ))
        }
        (400, "invalid_grant", GrantKind::RefreshToken) => ProviderError::Reconnect(format!(
            "Exact no longer accepts the refresh token (revoked or unknown): {said}"
        )),
        (400, "invalid_grant", GrantKind::AuthorizationCode) => {
            ProviderError::CodeRejected(format!(
                "Exact refused the authorization code (expired after 3 minutes, used twice, or issued for \
             another redirect URL): {said}"
            ))
        }
        (400 | 401, "invalid_request" | "invalid_client" | "unauthorized_client", _) => {
            ProviderError::AdminAction(format!(
                "Exact refused the app's client id or secret ({said}). Check the credentials in \
                 PUT /settings/integrations/{{key}} against Exact's App Center"
            ))
        }
        _ => ProviderError::Upstream(format!("Exact's token endpoint answered {status}: {said}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(
        status: u16,
        kind: GrantKind,
        error: &str,
        description: Option<&str>,
    ) -> ProviderError {
        classify_refusal(
            StatusCode::from_u16(status).unwrap(),
            kind,
            &TokenErrorBody {
                error: error.into(),
                error_description: description.map(str::to_string),
            },
        )
    }

    #[test]
    fn exacts_refusals_map_to_what_the_caller_must_do() {
        use GrantKind::*;
        assert!(matches!(
            refusal(
                401,
                RefreshToken,
                "invalid_request",
                Some("Access Token not expired")
            ),
            ProviderError::RefreshTooEarly
        ));
        assert!(matches!(
            refusal(
                401,
                RefreshToken,
                "unauthorized_client",
                Some("Old refresh token used.")
            ),
            ProviderError::Reconnect(_)
        ));
        assert!(matches!(
            refusal(
                400,
                RefreshToken,
                "invalid_request",
                Some(
                    "The refresh token expired at 10/11/2022 9:18:20 PM and it is now 10/28/2022 4:15:50 PM."
                )
            ),
            ProviderError::Reconnect(_)
        ));
        assert!(matches!(
            refusal(400, AuthorizationCode, "invalid_grant", Some("code used")),
            ProviderError::CodeRejected(_)
        ));
        assert!(matches!(
            refusal(400, AuthorizationCode, "invalid_request", None),
            ProviderError::AdminAction(_)
        ));
        assert!(matches!(
            refusal(503, RefreshToken, "", None),
            ProviderError::RetryLater { .. }
        ));
    }
}
