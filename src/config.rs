//! Server configuration: every setting is a CLI flag with an environment-variable fallback.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

/// Settings of `ledgerline serve` (and `demo`). Each field is `--flag` or `LEDGERLINE_…`.
#[derive(Clone, clap::Args)]
pub struct ServerConfig {
    /// Address the API listens on.
    #[arg(long, env = "LEDGERLINE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Folder for the embedded SQLite database and generated demo files.
    #[arg(long, env = "LEDGERLINE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// `postgres://…` to use PostgreSQL (several instances); unset means SQLite in the data folder.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// 32-byte key (base64 or hex) that encrypts client secrets and tokens at rest.
    #[arg(long, env = "LEDGERLINE_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// The operator's admin credential for `/admin/…`; generated and printed once if unset.
    #[arg(long, env = "LEDGERLINE_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,

    /// A token that reads `/metrics` (`Authorization: Bearer …`) without the admin key, for a
    /// Prometheus server; the admin key reads it too.
    #[arg(long, env = "LEDGERLINE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Public base URL of this server, used for redirect URLs and link pages
    /// (default: `http://{bind}`).
    #[arg(long, env = "LEDGERLINE_PUBLIC_URL")]
    pub public_url: Option<Url>,

    /// Points an integration at another host (repeatable), e.g.
    /// `--upstream-url exact-online-nl=http://127.0.0.1:9090/nl` for the sandbox. Also read from
    /// each region's variable: `LEDGERLINE_EXACT_NL_URL`, `LEDGERLINE_EXACT_UK_URL`.
    #[arg(long = "upstream-url", value_name = "KEY=URL", value_parser = parse_upstream_url)]
    pub upstream_urls: Vec<(String, Url)>,

    /// Seconds a stopping server waits for token refreshes to be stored and pulls to finish.
    #[arg(
        long = "shutdown-grace",
        env = "LEDGERLINE_SHUTDOWN_GRACE_SECS",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    pub shutdown_grace_secs: u64,

    /// Percent of each Exact division's daily call budget that scheduled pulls leave for
    /// on-demand pulls (0–100).
    #[arg(
        long = "on-demand-reserve",
        env = "LEDGERLINE_ON_DEMAND_RESERVE_PERCENT",
        default_value_t = crate::provider::exact::budget::DEFAULT_ON_DEMAND_RESERVE_PERCENT,
        value_parser = clap::value_parser!(u8).range(0..=100),
        value_name = "PERCENT"
    )]
    pub on_demand_reserve_percent: u8,

    /// MiB of memory the read cache may hold across every company (pages as sent, records,
    /// counts, and the columns and selections queries use); the process needs about 150 MiB
    /// more.
    #[arg(
        long = "cache-max-mib",
        env = "LEDGERLINE_CACHE_MAX_MIB",
        default_value_t = crate::sync::cache::DEFAULT_CACHE_MAX_MIB,
        value_name = "MIB"
    )]
    pub cache_max_mib: u64,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "LEDGERLINE_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl ServerConfig {
    /// A configuration for tests and embedding: SQLite in `data_dir`, everything else default.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            bind: "127.0.0.1:0".parse().expect("valid address"),
            data_dir: data_dir.into(),
            database_url: None,
            master_key: None,
            admin_key: None,
            metrics_token: None,
            public_url: None,
            upstream_urls: Vec::new(),
            shutdown_grace_secs: 30,
            on_demand_reserve_percent:
                crate::provider::exact::budget::DEFAULT_ON_DEMAND_RESERVE_PERCENT,
            cache_max_mib: crate::sync::cache::DEFAULT_CACHE_MAX_MIB,
            log_format: LogFormat::Text,
        }
    }

    /// The database to open: `DATABASE_URL` if set, else SQLite under the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("ledgerline.db").display()
            ),
        }
    }

    /// A warning for an address nobody can be sent to: bound to every interface (`0.0.0.0`,
    /// `[::]`) with no `LEDGERLINE_PUBLIC_URL`, the redirect URL and link URLs would name an
    /// address that no browser or Exact can open.
    pub fn public_url_warning(&self, bound: SocketAddr) -> Option<String> {
        (self.public_url.is_none() && bound.ip().is_unspecified()).then(|| {
            format!(
                "listening on {bound} without LEDGERLINE_PUBLIC_URL: the OAuth redirect URL \
                 and the end customers' link URLs would be {}oauth/callback and the like, \
                 which no browser and no Exact server can reach. Set LEDGERLINE_PUBLIC_URL \
                 (or --public-url) to the address people reach this server at, e.g. \
                 https://ledgerline.example.com",
                self.public_url_or(bound)
            )
        })
    }

    /// The base URL people and Exact reach this server at.
    pub fn public_url_or(&self, bound: SocketAddr) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{bound}")).expect("a socket address makes a valid URL")
        })
    }
}

// Written by hand so that a database password or a key never reaches a log line.
impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url_password),
            )
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "<redacted>"),
            )
            .field("admin_key", &self.admin_key.as_ref().map(|_| "<redacted>"))
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .field("upstream_urls", &self.upstream_urls)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("on_demand_reserve_percent", &self.on_demand_reserve_percent)
            .field("cache_max_mib", &self.cache_max_mib)
            .field("log_format", &self.log_format)
            .finish()
    }
}

fn parse_upstream_url(text: &str) -> Result<(String, Url), String> {
    let (key, url) = text
        .split_once('=')
        .ok_or("expected KEY=URL, e.g. exact-online-nl=http://127.0.0.1:9090/nl")?;
    let url = Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    Ok((key.trim().to_string(), url))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url_password(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_every_interface_without_a_public_url_is_warned_about() {
        let mut config = ServerConfig::for_data_dir("/tmp/x");
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let warning = config.public_url_warning(any).expect("a warning");
        assert!(warning.contains("LEDGERLINE_PUBLIC_URL"), "{warning}");
        assert!(
            warning.contains("http://0.0.0.0:8080/oauth/callback"),
            "{warning}"
        );
        assert!(
            config
                .public_url_warning("[::]:8080".parse().unwrap())
                .is_some()
        );
        assert_eq!(
            config.public_url_warning("127.0.0.1:8080".parse().unwrap()),
            None
        );
        config.public_url = Some(Url::parse("https://ll.example.com").unwrap());
        assert_eq!(config.public_url_warning(any), None);
    }

    #[test]
    fn debug_output_hides_passwords_and_keys() {
        let mut config = ServerConfig::for_data_dir("/tmp/x");
        config.database_url = Some("postgres://app:hunter2@db:5432/ledgerline".into());
        config.master_key = Some("master-key-material".into());
        config.admin_key = Some("admin-key-material".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("master-key-material"));
        assert!(!shown.contains("admin-key-material"));
        assert!(shown.contains("postgres://app:***@db:5432/ledgerline"));
    }
}
