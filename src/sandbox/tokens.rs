//! Authorization codes, access and refresh tokens: lifetimes, rotation and revocation as Exact
//! enforces them (EXACT.md §1.2–1.3). Pure logic over sandbox time; the HTTP side is `oauth.rs`.

use std::collections::HashMap;

use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::clock::DAY_MS;
use super::region::Region;
use super::seed::RefreshGrace;

/// Codes live 3 minutes.
pub const CODE_TTL_MS: i64 = 3 * 60_000;
/// Access tokens live 600 s.
pub const ACCESS_TTL_MS: i64 = 600_000;
/// A refresh is refused earlier than 570 s after the last issue.
pub const MIN_REFRESH_AGE_MS: i64 = 570_000;
/// An unused refresh token dies after 30 days.
pub const REFRESH_TTL_MS: i64 = 30 * DAY_MS;

/// One user's consent for one app: the divisions it may reach.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    /// Internal id.
    pub id: u64,
    /// Region of the app and the tokens.
    pub region: Region,
    /// The app.
    pub client_id: Uuid,
    /// The user who consented.
    pub username: String,
    /// Divisions the user ticked on the consent page.
    pub divisions: Vec<i32>,
    /// Set by the revoke fault: every token of the grant stops working.
    pub revoked: bool,
    /// When the last access token was issued (the 570 s rule counts from here).
    pub last_issue_ms: i64,
}

/// What a code stands for until it is redeemed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeRequest {
    /// Region of the authorize call.
    pub region: Region,
    /// The app.
    pub client_id: Uuid,
    /// The redirect URI the code was sent to; the exchange must repeat it.
    pub redirect_uri: String,
    /// The consenting user.
    pub username: String,
    /// The granted divisions.
    pub divisions: Vec<i32>,
}

/// A token response's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenPair {
    /// The bearer token.
    pub access_token: String,
    /// The next refresh token.
    pub refresh_token: String,
}

/// Why the token endpoint refused; `oauth.rs` maps each to Exact's status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, used, expired or mismatched code, unknown or revoked refresh token (400 invalid_grant).
    InvalidGrant(String),
    /// Refresh within 570 s of the last issue (401 "Access Token not expired").
    TooEarly,
    /// A rotated-out refresh token (401 unauthorized_client "Old refresh token used.").
    OldToken,
    /// Refresh token idle 30 days (400 invalid_request with Exact's text).
    Expired {
        /// When it expired (epoch ms).
        at_ms: i64,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct CodeEntry {
    request: CodeRequest,
    issued_ms: i64,
    used: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessEntry {
    grant: u64,
    expires_ms: i64,
    used: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct RefreshEntry {
    grant: u64,
    issued_ms: i64,
    /// The access token issued by the refresh that retired this token, once it has been.
    successor_access: Option<String>,
}

/// Every code, grant and token the sandbox has issued. It serialises, so that a sandbox in
/// `ledgerline demo` can keep it under the data folder across restarts.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TokenStore {
    codes: HashMap<String, CodeEntry>,
    grants: HashMap<u64, Grant>,
    access: HashMap<String, AccessEntry>,
    refresh: HashMap<String, RefreshEntry>,
    next_grant: u64,
}

impl TokenStore {
    /// Issues a single-use code for an approved consent.
    pub fn issue_code(&mut self, request: CodeRequest, now: i64) -> String {
        let code = stamp(request.region, 40, 80);
        self.codes.insert(
            code.clone(),
            CodeEntry {
                request,
                issued_ms: now,
                used: false,
            },
        );
        code
    }

    /// Redeems a code for the first token pair of a new grant.
    pub fn redeem_code(
        &mut self,
        code: &str,
        region: Region,
        client_id: Uuid,
        redirect_uri: &str,
        now: i64,
    ) -> Result<(TokenPair, &Grant), Refusal> {
        let bad = |why: &str| Refusal::InvalidGrant(why.to_string());
        let entry = self
            .codes
            .get_mut(code)
            .ok_or_else(|| bad("Invalid authorization code."))?;
        if entry.request.region != region || entry.request.client_id != client_id {
            return Err(bad("The authorization code was issued to another client."));
        }
        if entry.used {
            return Err(bad("The authorization code has already been used."));
        }
        if now > entry.issued_ms + CODE_TTL_MS {
            return Err(bad("The authorization code has expired."));
        }
        if entry.request.redirect_uri != redirect_uri {
            return Err(bad(
                "The redirect_uri does not match the authorization request.",
            ));
        }
        entry.used = true;
        let request = entry.request.clone();
        self.next_grant += 1;
        let id = self.next_grant;
        self.grants.insert(
            id,
            Grant {
                id,
                region: request.region,
                client_id: request.client_id,
                username: request.username,
                divisions: request.divisions,
                revoked: false,
                last_issue_ms: now,
            },
        );
        let pair = self.issue_pair(id, now);
        Ok((pair, &self.grants[&id]))
    }

    /// Exchanges a refresh token for a new pair, rotating the refresh token.
    pub fn refresh(
        &mut self,
        token: &str,
        region: Region,
        client_id: Uuid,
        now: i64,
        grace: RefreshGrace,
    ) -> Result<(TokenPair, &Grant), Refusal> {
        let unknown = || Refusal::InvalidGrant("Invalid refresh token.".into());
        let entry = self.refresh.get(token).ok_or_else(unknown)?;
        let grant = self.grants.get(&entry.grant).ok_or_else(unknown)?;
        if grant.region != region || grant.client_id != client_id || grant.revoked {
            return Err(unknown());
        }
        if let Some(successor) = &entry.successor_access {
            let successor_used = self.access.get(successor).is_none_or(|a| a.used);
            if grace == RefreshGrace::Strict || successor_used {
                return Err(Refusal::OldToken);
            }
        }
        if now > entry.issued_ms + REFRESH_TTL_MS {
            return Err(Refusal::Expired {
                at_ms: entry.issued_ms + REFRESH_TTL_MS,
            });
        }
        if now < grant.last_issue_ms + MIN_REFRESH_AGE_MS {
            return Err(Refusal::TooEarly);
        }
        let grant_id = entry.grant;
        let pair = self.issue_pair(grant_id, now);
        if let Some(old) = self.refresh.get_mut(token) {
            old.successor_access = Some(pair.access_token.clone());
        }
        let grant = self.grants.get_mut(&grant_id).ok_or_else(unknown)?;
        grant.last_issue_ms = now;
        Ok((pair, grant))
    }

    /// The grant behind a live access token presented in `region`, marking the token used.
    pub fn authenticate(&mut self, access_token: &str, region: Region, now: i64) -> Option<&Grant> {
        let entry = self.access.get_mut(access_token)?;
        if now >= entry.expires_ms {
            return None;
        }
        entry.used = true;
        self.grants
            .get(&entry.grant)
            .filter(|g| g.region == region && !g.revoked)
    }

    /// The app behind a live access token, without marking it used (for stats of faulted calls).
    pub fn peek(&self, access_token: &str, region: Region, now: i64) -> Option<Uuid> {
        self.peek_grant(access_token, region, now)
            .map(|(_, client_id)| client_id)
    }

    /// The grant (its id) and app behind a live access token, without marking it used: one
    /// grant is one consent, so one client connection (for the stats of concurrent calls).
    pub fn peek_grant(&self, access_token: &str, region: Region, now: i64) -> Option<(u64, Uuid)> {
        let entry = self
            .access
            .get(access_token)
            .filter(|a| now < a.expires_ms)?;
        self.grants
            .get(&entry.grant)
            .filter(|g| g.region == region)
            .map(|g| (g.id, g.client_id))
    }

    /// Revokes the grants of an app (optionally only one user's); returns how many.
    pub fn revoke(&mut self, region: Region, client_id: Uuid, username: Option<&str>) -> usize {
        let mut count = 0;
        for grant in self.grants.values_mut() {
            let user_matches = username.is_none_or(|u| u == grant.username);
            if grant.region == region
                && grant.client_id == client_id
                && user_matches
                && !grant.revoked
            {
                grant.revoked = true;
                count += 1;
            }
        }
        count
    }

    fn issue_pair(&mut self, grant: u64, now: i64) -> TokenPair {
        let region = self.grants[&grant].region;
        let access_token = stamp(region, 120, 0);
        let refresh_token = stamp(region, 40, 60);
        self.access.insert(
            access_token.clone(),
            AccessEntry {
                grant,
                expires_ms: now + ACCESS_TTL_MS,
                used: false,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            RefreshEntry {
                grant,
                issued_ms: now,
                successor_access: None,
            },
        );
        TokenPair {
            access_token,
            refresh_token,
        }
    }
}

/// A token shaped like Exact's (`stampNL001.XXXX!IAAAA…`): region stamp, then randomness.
fn stamp(region: Region, head: usize, tail: usize) -> String {
    let stamp = match region {
        Region::Nl => "stampNL001.",
        Region::Uk => "stampUK001.",
    };
    let mut rng = rand::thread_rng();
    let mut random = |n: usize| -> String {
        (&mut rng)
            .sample_iter(rand::distributions::Alphanumeric)
            .take(n)
            .map(char::from)
            .collect()
    };
    if tail == 0 {
        format!("{stamp}{}", random(head))
    } else {
        format!("{stamp}{}!IAAAA{}", random(head), random(tail))
    }
}

/// Exact's wording for an expired refresh token: US-style local times (UNCONFIRMED time zone: UTC).
pub fn expired_message(at_ms: i64, now_ms: i64) -> String {
    let fmt = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string())
            .unwrap_or_default()
    };
    format!(
        "The refresh token expired at {} and it is now {}.",
        fmt(at_ms),
        fmt(now_ms)
    )
}
