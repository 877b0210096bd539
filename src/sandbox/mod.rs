//! The Exact Online sandbox: a local stand-in for Exact Online NL and UK (issue 3).
//!
//! One listener serves each region under its path prefix (`/nl`, `/uk`) with Exact's OAuth and
//! OData behaviour, and an admin API under `/_sandbox`. Tests and `ledgerline demo` start it
//! in-process with [`spawn`]; `ledgerline sandbox` runs it with [`run`].

pub mod admin;
pub mod api;
pub mod books;
pub mod clock;
pub mod consent;
pub mod documented;
pub mod entities;
pub mod faults;
pub mod limits;
pub mod oauth;
pub mod odata;
pub mod region;
pub mod registry;
pub mod seed;
pub mod server;
pub mod state;
pub mod stats;
pub mod tokens;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub use clock::ClockStart;
pub use region::Region;
pub use seed::{App, Options, Seed, User};

/// Command-line arguments of `ledgerline sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Address the sandbox listens on.
    #[arg(
        long,
        env = "LEDGERLINE_SANDBOX_BIND",
        default_value = "127.0.0.1:9090"
    )]
    pub bind: SocketAddr,
    /// A seed file (apps, users, options) replacing the embedded default; see docs/sandbox.md.
    #[arg(long, env = "LEDGERLINE_SANDBOX_SEED_FILE")]
    pub seed_file: Option<PathBuf>,
    /// The books generator's seed (same seed, same books).
    #[arg(long, env = "LEDGERLINE_SANDBOX_BOOKS_SEED")]
    pub books_seed: Option<u64>,
    /// Sales invoices per division (default: the demo's few hundred).
    #[arg(long, env = "LEDGERLINE_SANDBOX_INVOICES")]
    pub invoices: Option<u32>,
}

/// Everything a sandbox starts from.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Apps, users and options.
    pub seed: Seed,
    /// The generated books.
    pub books: books::BooksConfig,
    /// Real time, or a frozen instant that only the admin API moves.
    pub clock: ClockStart,
}

impl SandboxConfig {
    /// The embedded seed, the demo books and the real clock.
    pub fn demo() -> Self {
        SandboxConfig {
            seed: Seed::demo(),
            books: books::BooksConfig::demo(),
            clock: ClockStart::Real,
        }
    }
}

/// A running sandbox.
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    state: state::Shared,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A region's base URL, e.g. `http://127.0.0.1:PORT/nl` (what a provider is pointed at).
    pub fn base_url(&self, region: Region) -> Url {
        Url::parse(&format!("http://{}/{}", self.addr, region.path_prefix())).expect("valid URL")
    }

    /// Where Ledgerline's Exact integrations point to use this sandbox, NL and UK
    /// (`ServerConfig::upstream_urls`).
    pub fn upstream_urls(&self) -> Vec<(String, Url)> {
        vec![
            ("exact-online-nl".into(), self.base_url(Region::Nl)),
            ("exact-online-uk".into(), self.base_url(Region::Uk)),
        ]
    }

    /// The admin API's base URL, `http://127.0.0.1:PORT/_sandbox/`.
    pub fn admin_url(&self) -> Url {
        Url::parse(&format!("http://{}/_sandbox/", self.addr)).expect("valid URL")
    }

    /// The registered apps (demo apps included), with credentials.
    pub fn apps(&self) -> Vec<App> {
        self.state.registry.read().apps().to_vec()
    }

    /// Keeps the sandbox's codes, grants and tokens in `path` from now on: loads them from
    /// it when it exists (true when it did), and saves them there after every token the
    /// sandbox issues and at shutdown. `ledgerline demo` uses it so that connections linked
    /// before a restart still work after it.
    pub fn keep_tokens_in(&self, path: PathBuf) -> anyhow::Result<bool> {
        let restored = match std::fs::read(&path) {
            Ok(bytes) => {
                let tokens: tokens::TokenStore = serde_json::from_slice(&bytes).map_err(|e| {
                    anyhow::anyhow!(
                        "{} is not the sandbox's tokens file ({e}); delete it to start afresh",
                        path.display()
                    )
                })?;
                *self.state.tokens.lock() = tokens;
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        };
        *self.state.tokens_file.lock() = Some(path);
        Ok(restored)
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.state.save_tokens();
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Generates the books and serves the sandbox on `listener` until the handle shuts it down.
pub async fn spawn(config: SandboxConfig, listener: TcpListener) -> anyhow::Result<SandboxHandle> {
    let addr = listener.local_addr()?;
    let books_cfg = config.books.clone();
    // Large books take a while to generate; keep the runtime's workers free meanwhile.
    let books = tokio::task::spawn_blocking(move || books::Books::generate(&books_cfg)).await?;
    let state = Arc::new(state::Sandbox {
        addr,
        options: config.seed.options.clone(),
        clock: clock::Clock::new(config.clock),
        registry: RwLock::new(registry::Registry::new(
            config.seed.apps.clone(),
            config.seed.users.clone(),
        )),
        tokens: Mutex::new(tokens::TokenStore::default()),
        tokens_file: Mutex::new(None),
        logins: Mutex::new(HashMap::new()),
        limits: Mutex::new(limits::Limiter::default()),
        books: RwLock::new(books),
        faults: Mutex::new(faults::Faults::default()),
        stats: Mutex::new(stats::Stats::default()),
    });
    let app = server::router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    Ok(SandboxHandle {
        addr,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Runs `ledgerline sandbox` until SIGINT/SIGTERM, printing the demo credentials at start.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let mut config = SandboxConfig::demo();
    if let Some(path) = &args.seed_file {
        config.seed = Seed::from_file(path)?;
    }
    if let Some(seed) = args.books_seed {
        config.books.seed = seed;
    }
    if let Some(n) = args.invoices {
        for d in &mut config.books.divisions {
            d.sales_invoices = n;
        }
    }
    let listener = TcpListener::bind(args.bind).await?;
    let handle = spawn(config, listener).await?;
    println!("{}", banner(&handle));
    shutdown_signal().await;
    handle.shutdown().await;
    Ok(())
}

/// What `ledgerline sandbox` prints at start: where it listens and the credentials to use.
fn banner(handle: &SandboxHandle) -> String {
    let mut out = format!(
        "Exact Online sandbox listening on http://{}\n",
        handle.addr()
    );
    for region in Region::ALL {
        out.push_str(&format!(
            "  {} base URL: {}\n",
            region.path_prefix().to_uppercase(),
            handle.base_url(region)
        ));
    }
    out.push_str(&format!("  admin API:   {}\n\nApps:\n", handle.admin_url()));
    for app in handle.apps() {
        out.push_str(&format!(
            "  [{}] {}{}\n    client_id     {}\n    client_secret {}\n    redirect_uri  {}\n",
            app.region.path_prefix(),
            app.name,
            if app.approved {
                ""
            } else {
                " (not approved: owner only)"
            },
            app.client_id,
            app.client_secret,
            app.redirect_uri,
        ));
    }
    out.push_str("\nUsers sign in on the consent page; the demo user is demo / demo.\n");
    out
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
