//! Faults on demand: the next N calls to a path answer 429/500/503, wait, or lose their connection.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::region::Region;

/// A fault as posted to `POST /_sandbox/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultSpec {
    /// The next `count` matching calls answer `status` (429, 500 or 503) with Exact's error body.
    Status {
        /// 429, 500 or 503.
        status: u16,
        /// Case-insensitive substring of the path after the region prefix ("" = every path).
        #[serde(default)]
        path: String,
        /// Only this region (default: both).
        #[serde(default)]
        region: Option<Region>,
        /// How many calls (default 1).
        #[serde(default = "one")]
        count: u32,
    },
    /// The next `count` matching calls are delayed by `ms` before being served normally.
    Latency {
        /// Added delay.
        ms: u64,
        /// As for `status`.
        #[serde(default)]
        path: String,
        /// As for `status`.
        #[serde(default)]
        region: Option<Region>,
        /// As for `status`.
        #[serde(default = "one")]
        count: u32,
    },
    /// The next `count` matching calls are served at once but their answers are held back `ms`:
    /// the work is done (a refresh token rotated) even if the caller stops waiting.
    LateAnswer {
        /// Delay before the answer is sent.
        ms: u64,
        /// As for `status`.
        #[serde(default)]
        path: String,
        /// As for `status`.
        #[serde(default)]
        region: Option<Region>,
        /// As for `status`.
        #[serde(default = "one")]
        count: u32,
    },
    /// The next `count` matching calls lose their connection before a complete response.
    Drop {
        /// As for `status`.
        #[serde(default)]
        path: String,
        /// As for `status`.
        #[serde(default)]
        region: Option<Region>,
        /// As for `status`.
        #[serde(default = "one")]
        count: u32,
    },
    /// The next `count` matching calls answer 429 with one window's `X-RateLimit-*` headers
    /// saying it resets `reset_in_secs` from the sandbox's now: hours or days away (or in the
    /// past), as a skewed clock would say, to test how far a client believes them.
    RateLimited {
        /// Which window is spent: `minutely` or `daily`.
        window: LimitWindow,
        /// Seconds from now to the reset the headers give (may be negative).
        reset_in_secs: i64,
        /// As for `status`.
        #[serde(default)]
        path: String,
        /// As for `status`.
        #[serde(default)]
        region: Option<Region>,
        /// As for `status`.
        #[serde(default = "one")]
        count: u32,
    },
    /// Revokes every token of an app's connections at once (optionally only one user's).
    Revoke {
        /// Region of the app.
        region: Region,
        /// The app.
        client_id: Uuid,
        /// Only this user's connections.
        #[serde(default)]
        username: Option<String>,
    },
}

/// One of Exact's two rate-limit windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitWindow {
    Minutely,
    Daily,
}

fn one() -> u32 {
    1
}

/// What a pending fault does to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status.
    Status {
        /// The status.
        status: u16,
    },
    /// Wait this long first.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Drop the connection.
    Drop,
    /// Serve, then hold the answer back this many milliseconds.
    LateAnswer {
        /// Milliseconds.
        ms: u64,
    },
    /// Answer 429 with one window's headers and a reset this far from now.
    RateLimited {
        /// The window.
        window: LimitWindow,
        /// Milliseconds from now to the reset.
        reset_in_ms: i64,
    },
}

/// A fault waiting for matching calls.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    /// The effect.
    pub action: FaultAction,
    /// Lower-cased path substring.
    pub path: String,
    /// Region filter.
    pub region: Option<Region>,
    /// Calls still to hit.
    pub remaining: u32,
}

/// The faults waiting for calls.
#[derive(Debug, Default)]
pub struct Faults {
    pending: Vec<Pending>,
}

impl Faults {
    /// Queues a call-level fault (`Revoke` is applied by the admin API, not queued).
    pub fn add(&mut self, spec: &FaultSpec) -> anyhow::Result<()> {
        let (action, path, region, count) = match spec {
            FaultSpec::Status {
                status,
                path,
                region,
                count,
            } => {
                anyhow::ensure!(
                    matches!(status, 429 | 500 | 503),
                    "status must be 429, 500 or 503"
                );
                (FaultAction::Status { status: *status }, path, region, count)
            }
            FaultSpec::Latency {
                ms,
                path,
                region,
                count,
            } => (FaultAction::Latency { ms: *ms }, path, region, count),
            FaultSpec::Drop {
                path,
                region,
                count,
            } => (FaultAction::Drop, path, region, count),
            FaultSpec::LateAnswer {
                ms,
                path,
                region,
                count,
            } => (FaultAction::LateAnswer { ms: *ms }, path, region, count),
            FaultSpec::RateLimited {
                window,
                reset_in_secs,
                path,
                region,
                count,
            } => (
                FaultAction::RateLimited {
                    window: *window,
                    reset_in_ms: reset_in_secs.saturating_mul(1000),
                },
                path,
                region,
                count,
            ),
            FaultSpec::Revoke { .. } => anyhow::bail!("revoke is applied at once, not queued"),
        };
        self.pending.push(Pending {
            action,
            path: path.to_lowercase(),
            region: *region,
            remaining: *count,
        });
        Ok(())
    }

    /// The faults still waiting.
    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    /// Removes every pending fault.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Takes what applies to one call: an optional delay, then an optional status or drop.
    pub fn take(&mut self, region: Region, path: &str) -> (Option<u64>, Option<FaultAction>) {
        let path = path.to_lowercase();
        let mut latency = None;
        let mut outcome = None;
        for p in &mut self.pending {
            let matches =
                p.remaining > 0 && p.region.is_none_or(|r| r == region) && path.contains(&p.path);
            if !matches {
                continue;
            }
            match p.action {
                FaultAction::Latency { ms } if latency.is_none() => latency = Some(ms),
                FaultAction::Status { .. }
                | FaultAction::Drop
                | FaultAction::RateLimited { .. }
                | FaultAction::LateAnswer { .. }
                    if outcome.is_none() =>
                {
                    outcome = Some(p.action)
                }
                _ => continue,
            }
            p.remaining -= 1;
        }
        self.pending.retain(|p| p.remaining > 0);
        (latency, outcome)
    }
}
