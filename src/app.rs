//! The running server: shared state, start-up (keys, database) and graceful serving.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use url::Url;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::connections::link::Linker;
use crate::connections::tokens::TokenEngine;
use crate::crypto::{MasterKey, hash_api_key, new_api_key};
use crate::provider::{ProviderRegistry, UpstreamBudget};
use crate::store::Store;
use crate::sync::SyncEngine;
use crate::sync::cache::DataCache;
use crate::tasks::BackgroundTasks;

/// Largest request body accepted: settings and companies are small.
const BODY_LIMIT_BYTES: usize = 256 * 1024;
/// A request that takes longer is cut off, so shutdown never waits on it forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the keep-alive looks for connections idle long enough to need a refresh.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(3600);

/// Cheap handles shared by every request.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub master_key: MasterKey,
    pub catalog: Arc<Catalog>,
    pub public_url: Arc<Url>,
    pub admin_key_hash: Arc<String>,
    /// Digest of `LEDGERLINE_METRICS_TOKEN`, which reads `/metrics` beside the admin key.
    pub metrics_token_hash: Option<Arc<String>>,
    pub clock: Clock,
    pub registry: ProviderRegistry,
    pub tokens: TokenEngine,
    pub linker: Linker,
    pub sync: SyncEngine,
    pub cache: DataCache,
    /// Refreshes and pulls a stopping server waits for.
    pub tasks: BackgroundTasks,
    /// How long a stopping server waits for them.
    pub shutdown_grace: Duration,
    /// Wrong API and admin keys per client address, to stop brute force.
    pub auth_failures: crate::api::auth::FailedAuthLimiter,
}

impl AppState {
    /// The page where a company's end customer connects their accounting software.
    pub fn link_url(&self, company_id: Uuid) -> String {
        self.public_url(&format!("link/{company_id}"))
    }

    /// The page that shows how a link flow ended. Its OAuth `state` names it, as a `state`
    /// query parameter so that the request log redacts it as it does the callback's.
    pub fn link_result_url(&self, state: &str) -> String {
        let state =
            percent_encoding::utf8_percent_encode(state, percent_encoding::NON_ALPHANUMERIC);
        self.public_url(&format!("link/result?state={state}"))
    }

    /// The URL an end customer opens to link one connection.
    pub fn connection_link_url(&self, connection_id: Uuid) -> String {
        self.public_url(&format!("link/connections/{connection_id}"))
    }

    /// The OAuth redirect URL admins register with their Exact app.
    pub fn oauth_redirect_url(&self) -> String {
        self.public_url("oauth/callback")
    }

    fn public_url(&self, path: &str) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}/{path}")
    }
}

/// How the master key may be obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicy {
    /// `LEDGERLINE_MASTER_KEY` is required.
    Required,
    /// Demo mode: generate one into the data folder if none is given.
    GenerateIfMissing,
}

/// What start-up did that the operator must be told about once.
#[derive(Debug, Default)]
pub struct StartupNotes {
    /// A freshly generated admin key, to print once.
    pub generated_admin_key: Option<String>,
    /// The master key was generated into the data folder.
    pub generated_master_key: bool,
}

/// Opens the database, loads the keys and builds the shared state.
pub async fn build_state(
    config: &ServerConfig,
    public_url: Url,
    key_policy: KeyPolicy,
) -> anyhow::Result<(AppState, StartupNotes)> {
    // Installed before anything is counted: counts made before it would be lost.
    crate::telemetry::handle();
    let mut notes = StartupNotes::default();
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data folder {}",
            config.data_dir.display()
        )
    })?;
    let master_key = match (&config.master_key, key_policy) {
        (Some(text), _) => MasterKey::parse(text)?,
        (None, KeyPolicy::GenerateIfMissing) => {
            let (key, created) = MasterKey::load_or_create(&config.data_dir)?;
            notes.generated_master_key = created;
            key
        }
        (None, KeyPolicy::Required) => anyhow::bail!(
            "LEDGERLINE_MASTER_KEY is not set. It encrypts client secrets and tokens at rest: \
             generate one with `openssl rand -base64 32` and keep it safe (losing it means \
             re-entering every secret). To try Ledgerline without one, run `ledgerline demo`."
        ),
    };
    let store = Store::connect(&config.database_url())
        .await
        .context("cannot open the database")?;
    crate::key_check::verify_master_key(&store, &master_key).await?;
    let admin_key_hash = match &config.admin_key {
        Some(key) if !key.trim().is_empty() => hash_api_key(key.trim()),
        _ => match store.admin_key_hash().await? {
            Some(hash) => hash,
            None => {
                let key = new_api_key();
                let hash = hash_api_key(key.expose_secret());
                store.set_admin_key_hash(&hash).await?;
                notes.generated_admin_key = Some(key.expose_secret().to_string());
                hash
            }
        },
    };
    let catalog = Arc::new(Catalog::load());
    let clock = Clock::default();
    let overrides = config.upstream_urls.iter().cloned().collect();
    let budget = UpstreamBudget {
        store: store.clone(),
        on_demand_reserve_percent: config.on_demand_reserve_percent,
    };
    let registry = ProviderRegistry::new(&catalog, &overrides, clock.clone(), &budget);
    let oauth = &catalog
        .integrations()
        .next()
        .expect("the catalog offers at least one integration")
        .provider
        .oauth;
    let tasks = BackgroundTasks::default();
    let tokens = TokenEngine::new(
        store.clone(),
        master_key.clone(),
        clock.clone(),
        registry.clone(),
        oauth,
        &config.data_dir,
        tasks.clone(),
    );
    // Pairs Exact rotated that the database did not take before the last stop.
    let recovered = tokens.recover_unsaved_tokens().await;
    if recovered > 0 {
        tracing::info!(
            recovered,
            "settled rotated tokens kept in unsaved-tokens files"
        );
    }
    let redirect_url = format!(
        "{}/oauth/callback",
        public_url.as_str().trim_end_matches('/')
    );
    let linker = Linker {
        store: store.clone(),
        master_key: master_key.clone(),
        clock: clock.clone(),
        registry: registry.clone(),
        catalog: catalog.clone(),
        engine: tokens.clone(),
        redirect_url,
    };
    let sync = SyncEngine::new(
        store.clone(),
        tokens.clone(),
        registry.clone(),
        clock.clone(),
        tasks.clone(),
    );
    // Pulls cut off by a stop will never finish: mark them so a new one can be queued.
    let abandoned = sync.fail_abandoned_pulls(true).await?;
    if abandoned > 0 {
        tracing::warn!(
            abandoned,
            "marked pulls interrupted by the last stop as failed"
        );
    }
    let state = AppState {
        store,
        master_key,
        catalog,
        public_url: Arc::new(public_url),
        admin_key_hash: Arc::new(admin_key_hash),
        metrics_token_hash: config
            .metrics_token
            .as_deref()
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(|token| Arc::new(hash_api_key(token))),
        clock,
        registry,
        tokens,
        linker,
        sync,
        cache: DataCache::new(config.cache_max_mib.saturating_mul(1024 * 1024)),
        tasks,
        shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
        auth_failures: Default::default(),
    };
    Ok((state, notes))
}

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight requests and
/// waits (up to the shutdown grace) for token refreshes to be stored and pulls to finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with_routes(listener, state, axum::Router::new(), shutdown).await
}

/// [`serve`], with `extra` routes beside the API behind the same layers: benchmarks mount a
/// static route there, to compare the API with the machine's speed on the same server.
pub async fn serve_with_routes(
    listener: TcpListener,
    state: AppState,
    extra: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = state.store.clone();
    let sync = state.sync.clone();
    let (tasks, grace) = (state.tasks.clone(), state.shutdown_grace);
    // What other instances change, for what this one remembers for reads.
    let changes = tokio::spawn(state.store.clone().follow_changes());
    // Refresh dormant connections before their refresh tokens die.
    let keep_alive = tokio::spawn(state.tokens.clone().keep_alive_loop(KEEP_ALIVE_EVERY));
    // Refresh every Linked connection's data types on their sync schedules.
    let scheduler = tokio::spawn(
        crate::sync::schedule::Scheduler::new(
            state.sync.clone(),
            state.store.clone(),
            state.clock.clone(),
            crate::sync::schedule::START_UP_SPREAD,
        )
        .run(),
    );
    // Histogram samples are folded in between scrapes too, so memory stays bounded.
    let metrics_upkeep = tokio::spawn(async {
        let handle = crate::telemetry::handle();
        loop {
            tokio::time::sleep(crate::telemetry::UPKEEP_EVERY).await;
            handle.run_upkeep();
        }
    });
    let app = crate::api::router(state)
        .merge(extra)
        .route_layer(axum::middleware::from_fn(
            crate::api::request_log::tag_route,
        ))
        .layer((
            axum::middleware::from_fn(crate::api::request_log::log_request),
            DefaultBodyLimit::max(BODY_LIMIT_BYTES),
            crate::api::request_log::trace_layer(),
            TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                REQUEST_TIMEOUT,
            ),
        ));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    // Running pulls stop after the page they are storing: what they stored stays consistent.
    scheduler.abort();
    metrics_upkeep.abort();
    sync.stop_pulls();
    keep_alive.abort();
    changes.abort();
    tasks.drain(grace).await;
    store.close().await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
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
    tracing::info!("shutting down: finishing requests in flight");
}
