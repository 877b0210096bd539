//! The sandbox's shared state: registry, tokens, limits, books, faults and stats behind locks.
//!
//! Locks are `parking_lot` and held only for synchronous sections, never across an `.await`.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::books::Books;
use super::clock::Clock;
use super::faults::Faults;
use super::limits::Limiter;
use super::region::Region;
use super::registry::Registry;
use super::seed::Options;
use super::stats::Stats;
use super::tokens::TokenStore;

/// A signed-in user between the login form and the consent form.
#[derive(Debug, Clone)]
pub struct Login {
    /// Who signed in.
    pub username: String,
    /// Region of the authorize call.
    pub region: Region,
    /// Ticket expiry (sandbox epoch ms).
    pub expires_ms: i64,
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct Sandbox {
    /// The address the listener is bound to (for links when a request has no Host header).
    pub addr: std::net::SocketAddr,
    /// UNCONFIRMED-behaviour switches.
    pub options: Options,
    /// Injectable clock.
    pub clock: Clock,
    /// Apps and users.
    pub registry: RwLock<Registry>,
    /// Codes, grants and tokens.
    pub tokens: Mutex<TokenStore>,
    /// Where the tokens are kept across restarts (see [`super::SandboxHandle::keep_tokens_in`]).
    pub tokens_file: Mutex<Option<std::path::PathBuf>>,
    /// Login tickets of the two-step consent page.
    pub logins: Mutex<HashMap<String, Login>>,
    /// Rate-limit windows.
    pub limits: Mutex<Limiter>,
    /// The generated books.
    pub books: RwLock<Books>,
    /// Pending faults.
    pub faults: Mutex<Faults>,
    /// Introspection counters.
    pub stats: Mutex<Stats>,
}

/// The state handle axum hands to every handler.
pub type Shared = Arc<Sandbox>;

impl Sandbox {
    /// Writes every code, grant and token to the tokens file, if there is one: atomically
    /// (a temporary file renamed over it), so a stop mid-write keeps the previous copy.
    pub fn save_tokens(&self) {
        let Some(path) = self.tokens_file.lock().clone() else {
            return;
        };
        let json = match serde_json::to_vec(&*self.tokens.lock()) {
            Ok(json) => json,
            Err(e) => {
                tracing::warn!(error = %e, "the sandbox's tokens could not be serialised");
                return;
            }
        };
        let temporary = path.with_extension("json.tmp");
        let written =
            std::fs::write(&temporary, json).and_then(|()| std::fs::rename(&temporary, &path));
        if let Err(e) = written {
            tracing::warn!(error = %e, path = %path.display(), "the sandbox's tokens could not be saved");
        }
    }

    /// Division codes that exist in a region, ascending.
    pub fn division_codes(&self, region: Region) -> Vec<i32> {
        self.books
            .read()
            .divisions()
            .filter(|d| d.region == region)
            .map(|d| d.code)
            .collect()
    }
}
