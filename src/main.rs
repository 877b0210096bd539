//! The `ledgerline` binary: parses the command line and hands over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = ledgerline::cli::Cli::parse();
    ledgerline::cli::run(cli).await
}
