//! Calls to Exact's REST API: the budget before every call, the token on every call, and the
//! retry policy — 429 waits for the reset its headers give, 5xx and timeouts back off with
//! jitter, a 401 refreshes once, other 4xx fail at once.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use super::budget::{BudgetKey, CallBudget};
use super::odata::{self, ListPage};
use crate::provider::{ProviderError, RetryKind, Session};

/// How many 429s in a row one call sits out before giving up.
const MAX_RATE_LIMIT_WAITS: u32 = 3;

/// What to do with an answer: the pure policy, testable without a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAction {
    Done,
    RefreshAndRetry,
    WaitForReset,
    Backoff,
    Fail,
}

/// The policy for one status, given whether a refresh was already tried.
pub fn retry_action(status: StatusCode, refreshed: bool) -> RetryAction {
    match status.as_u16() {
        200..=299 => RetryAction::Done,
        401 if !refreshed => RetryAction::RefreshAndRetry,
        429 => RetryAction::WaitForReset,
        408 | 500 | 502 | 503 | 504 => RetryAction::Backoff,
        _ => RetryAction::Fail,
    }
}

/// Exact's REST API for one region.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub http: reqwest::Client,
}

impl ApiClient {
    /// GETs `url` as JSON. `budget_key` is `None` for calls Exact does not count (`current/Me`).
    pub async fn get(
        &self,
        session: &Session<'_>,
        budget: &CallBudget,
        budget_key: Option<&BudgetKey>,
        url: &Url,
    ) -> Result<Value, ProviderError> {
        let mut token = session.tokens.access_token().await?;
        let mut refreshed = false;
        let mut rate_limit_waits = 0;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_max_delay(Duration::from_secs(8))
            .with_max_times(4)
            .with_jitter()
            .build();
        loop {
            if let Some(key) = budget_key {
                budget.acquire(key, session.priority).await?;
            }
            let sent = self
                .http
                .get(url.clone())
                .bearer_auth(token.expose_secret())
                .header("Accept", "application/json")
                .send()
                .await;
            let division = budget_key.map_or("", |key| key.1.as_str());
            crate::telemetry::upstream_call(
                session.integration_key,
                division,
                sent.as_ref().ok().map(|r| r.status().as_u16()),
            );
            let response = match sent {
                Ok(response) => response,
                Err(error) => match backoff.next() {
                    // Timeouts and dropped connections are worth another try.
                    Some(delay) => {
                        tracing::warn!(error = %error.without_url(), ?delay, "Exact did not answer; retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    None => {
                        return Err(ProviderError::RetryLater {
                            kind: RetryKind::Outage,
                            message: "Exact did not answer after several tries".into(),
                            after: None,
                        });
                    }
                },
            };
            let status = response.status();
            if let Some(key) = budget_key {
                budget.observe(key, response.headers()).await;
            }
            match retry_action(status, refreshed) {
                RetryAction::Done => {
                    return response.json().await.map_err(|e| {
                        ProviderError::Upstream(format!(
                            "Exact's answer was not JSON: {}",
                            e.without_url()
                        ))
                    });
                }
                RetryAction::RefreshAndRetry => {
                    token = session.tokens.after_rejection().await?;
                    refreshed = true;
                }
                RetryAction::WaitForReset => {
                    rate_limit_waits += 1;
                    // A wait beyond a minute window (a spent day) ends the call instead.
                    let wait = match budget_key {
                        Some(key) => budget.on_too_many_requests(key, response.headers()).await?,
                        None => Duration::from_secs(1),
                    };
                    if rate_limit_waits > MAX_RATE_LIMIT_WAITS {
                        return Err(ProviderError::RetryLater {
                            kind: RetryKind::MinuteLimit,
                            message: "Exact keeps answering 429 Too Many Requests".into(),
                            after: Some(wait),
                        });
                    }
                    tracing::warn!(?wait, "Exact answered 429; waiting for the window to reset");
                    budget.clock().sleep(wait).await;
                }
                RetryAction::Backoff => match backoff.next() {
                    Some(delay) => {
                        tracing::warn!(%status, ?delay, "Exact failed; retrying");
                        tokio::time::sleep(delay).await;
                    }
                    None => {
                        return Err(ProviderError::RetryLater {
                            kind: RetryKind::Outage,
                            message: format!("Exact answered {status} several times in a row"),
                            after: None,
                        });
                    }
                },
                RetryAction::Fail => return Err(refusal(status, response).await),
            }
        }
    }

    /// GETs every page of a list, following `__next` in order.
    pub async fn get_all(
        &self,
        session: &Session<'_>,
        budget: &CallBudget,
        budget_key: Option<&BudgetKey>,
        first: Url,
    ) -> Result<Vec<Value>, ProviderError> {
        let mut calls = 0;
        self.get_all_counted(session, budget, budget_key, first, &mut calls)
            .await
    }

    /// [`ApiClient::get_all`], adding the number of pages fetched to `calls`.
    pub async fn get_all_counted(
        &self,
        session: &Session<'_>,
        budget: &CallBudget,
        budget_key: Option<&BudgetKey>,
        first: Url,
        calls: &mut u32,
    ) -> Result<Vec<Value>, ProviderError> {
        let mut rows = Vec::new();
        let mut url = Some(first);
        while let Some(this) = url {
            let page = self.get_page(session, budget, budget_key, &this).await?;
            *calls += 1;
            rows.extend(page.results);
            url = page.next;
        }
        Ok(rows)
    }

    /// One page of a list: its rows (without `__metadata`, which is never read) and the next
    /// page's URL.
    pub async fn get_page(
        &self,
        session: &Session<'_>,
        budget: &CallBudget,
        budget_key: Option<&BudgetKey>,
        url: &Url,
    ) -> Result<Page, ProviderError> {
        let body = self.get(session, budget, budget_key, url).await?;
        let ListPage { results, next } = odata::list_page(body).map_err(ProviderError::Upstream)?;
        let results = results
            .into_iter()
            .map(|mut row| {
                if let Value::Object(fields) = &mut row {
                    fields.remove("__metadata");
                }
                row
            })
            .collect();
        let next = next
            .map(|next| {
                Url::parse(&next).map_err(|e| {
                    ProviderError::Upstream(format!("Exact's __next is not a URL: {e}"))
                })
            })
            .transpose()?;
        Ok(Page { results, next })
    }
}

/// One page of an Exact list, as [`ApiClient::get_page`] reads it.
#[derive(Debug, Clone)]
pub struct Page {
    pub results: Vec<Value>,
    pub next: Option<Url>,
}

/// Turns a final 4xx into what the caller must do, quoting Exact's message and `Reason`.
async fn refusal(status: StatusCode, response: reqwest::Response) -> ProviderError {
    let reason = response
        .headers()
        .get("Reason")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"]["value"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let said = match &reason {
        Some(reason) => format!("{message} (Reason: {reason})"),
        None => message.clone(),
    };
    match status.as_u16() {
        401 => ProviderError::Reconnect(format!(
            "Exact refuses the connection's tokens even after a refresh: {said}"
        )),
        403 if message.contains("Scope") => ProviderError::AdminAction(format!(
            "the Exact app lacks a scope this needs; tick it in the App Center: {said}"
        )),
        403 if reason.is_some() => ProviderError::Reconnect(format!(
            "Exact denies access to this administration: {said}"
        )),
        _ => ProviderError::Upstream(format!("Exact answered {status}: {said}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_policy_matches_exacts_rules() {
        assert_eq!(retry_action(StatusCode::OK, false), RetryAction::Done);
        assert_eq!(
            retry_action(StatusCode::UNAUTHORIZED, false),
            RetryAction::RefreshAndRetry
        );
        assert_eq!(
            retry_action(StatusCode::UNAUTHORIZED, true),
            RetryAction::Fail
        );
        assert_eq!(
            retry_action(StatusCode::TOO_MANY_REQUESTS, true),
            RetryAction::WaitForReset
        );
        for s in [500, 502, 503, 504, 408] {
            assert_eq!(
                retry_action(StatusCode::from_u16(s).unwrap(), false),
                RetryAction::Backoff
            );
        }
        for s in [400, 403, 404, 405] {
            assert_eq!(
                retry_action(StatusCode::from_u16(s).unwrap(), false),
                RetryAction::Fail
            );
        }
    }
}
