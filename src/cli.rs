//! The command line: `serve`, `demo`, `sandbox`, `openapi`, `migrate`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::{self, KeyPolicy};
use crate::config::{LogFormat, ServerConfig};
use crate::sandbox;

/// Ledgerline: a unified accounting API (Codat-compatible) for Exact Online NL and UK.
#[derive(Debug, Parser)]
#[command(name = "ledgerline", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (needs LEDGERLINE_MASTER_KEY).
    Serve(ServerConfig),
    /// Try Ledgerline without any set-up: the Exact sandbox, the server, and an NL and a UK
    /// company with every data type pulled.
    Demo(ServerConfig),
    /// Run the Exact Online sandbox (a local stand-in for Exact NL and UK).
    Sandbox(sandbox::SandboxArgs),
    /// Print the OpenAPI document (or write it to a file).
    Openapi {
        /// Write here instead of standard output, e.g. `openapi/openapi.json`.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Apply the database migrations and exit.
    Migrate(ServerConfig),
}

/// Runs the chosen subcommand to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => serve(config, KeyPolicy::Required).await,
        Command::Demo(config) => {
            init_tracing(config.log_format);
            crate::demo::run(config).await
        }
        Command::Sandbox(args) => {
            init_tracing(LogFormat::Text);
            sandbox::run(args).await
        }
        Command::Openapi { output } => {
            let json = crate::api::openapi_json();
            match output {
                Some(path) => std::fs::write(&path, json)?,
                None => print!("{json}"),
            }
            Ok(())
        }
        Command::Migrate(config) => {
            init_tracing(config.log_format);
            crate::store::Store::connect(&config.database_url()).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
    }
}

async fn serve(config: ServerConfig, key_policy: KeyPolicy) -> anyhow::Result<()> {
    init_tracing(config.log_format);
    tracing::info!(?config, "starting");
    let listener = TcpListener::bind(config.bind).await?;
    let bound = listener.local_addr()?;
    let public_url = config.public_url_or(bound);
    if let Some(warning) = config.public_url_warning(bound) {
        tracing::warn!("{warning}");
    }
    let (state, notes) = app::build_state(&config, public_url.clone(), key_policy).await?;
    if notes.generated_master_key {
        println!(
            "Demo mode: generated a master key into {} (set LEDGERLINE_MASTER_KEY in production).",
            config.data_dir.join("master.key").display()
        );
    }
    if let Some(admin_key) = &notes.generated_admin_key {
        println!(
            "Generated the admin key (shown once; set LEDGERLINE_ADMIN_KEY to choose your own):\n  {admin_key}"
        );
    }
    println!("Ledgerline listens on {public_url} (Swagger UI: {public_url}docs)");
    app::serve(listener, state, app::shutdown_signal()).await
}

/// Structured logs to stderr; `RUST_LOG` picks the levels (default `info`).
fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Colours only for a person at a terminal: piped into a file or a collector (docker
    // logs, journald), escape codes would break every line.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
