//! Configuration from the environment, read once at start. Defaults make the embedded setup
//! work with nothing set; a bad value stops the process with the variable named.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use kabinet_db::bootstrap::{ensure_database, ensure_roles, with_user};
use kabinet_db::embedded::{Durability, EmbeddedCluster};
use kabinet_db::{APP_ROLE, OWNER_ROLE};
use kabinet_gateway::GatewayConfig;

#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`: the owner (migrating) connection. Unset: the local cluster.
    pub database_url: Option<String>,
    /// `KABINET_APP_DATABASE_URL`: the app-role connection (default: the owner URL with user
    /// `kabinet_app`).
    pub app_database_url: Option<String>,
    /// `KABINET_DATA_DIR`: where the local cluster lives.
    pub data_dir: PathBuf,
    /// `KABINET_PG_PORT`: the local cluster's port.
    pub pg_port: u16,
    pub max_connections: u32,
    /// `KABINET_BILLING_TICK_SECS`: how often the billing scheduler runs (0: never).
    pub billing_tick: Option<Duration>,
    pub log_format: LogFormat,
    pub gateway: GatewayConfig,
    /// `KABINET_STRIPE_SECRET_KEY`, `KABINET_STRIPE_WEBHOOK_SECRET`, `KABINET_STRIPE_API_BASE`:
    /// online payments. Unset: subscribers cannot pay by card online.
    pub stripe: Option<kabinet_payments::StripeSettings>,
    /// `KABINET_RECONCILE_SECS`: how often payments are reconciled with Stripe (0: never).
    pub reconcile_every: Option<Duration>,
    /// `KABINET_SMTP_URL`, `KABINET_MAIL_FROM`, `KABINET_MAIL_SWEEP_SECS`: outgoing mail. With no
    /// SMTP URL, mail stays queued.
    pub mail: kabinet_mail::MailSettings,
    /// `KABINET_RADIUS_TOKEN`: the bearer token FreeRADIUS sends to the internal listener
    /// (`--internal-listen`). Unset: the internal listener does not start.
    pub radius_token: Option<String>,
    /// `KABINET_COA_TIMEOUT_MS`, `KABINET_COA_RETRY_SECS`, `KABINET_COA_SWEEP_SECS`: the
    /// CoA/Disconnect sender and stale-session sweeper.
    pub coa: kabinet_network::coa::CoaSettings,
    /// `KABINET_ORPHAN_SWEEP_SECS` (default 600, 0: never) and `KABINET_ORPHAN_GRACE_SECS`
    /// (default 3600): how often objects that a crashed upload left in the attachment store are
    /// deleted, and how old their pending upload must be first.
    pub orphan_sweep: crate::attachment_sweeper::OrphanSweep,
}

#[derive(Clone, Copy, Debug)]
pub enum LogFormat {
    Json,
    Pretty,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        Some(raw) => raw
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={raw:?}: {e}")),
        None => Ok(default),
    }
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let mut gateway = GatewayConfig::default();
        if let Some(domain) = var("KABINET_PLATFORM_DOMAIN") {
            kabinet_tenancy::Host::parse(&domain)
                .map_err(|e| anyhow::anyhow!("KABINET_PLATFORM_DOMAIN: {e}"))?;
            gateway.platform_domain = domain.to_ascii_lowercase();
        }
        gateway.secure_cookies = parsed("KABINET_SECURE_COOKIES", false)?;
        gateway.trust_forwarded_for = parsed("KABINET_TRUST_FORWARDED_FOR", false)?;
        if let Some(dir) = var("KABINET_WEB_DIR") {
            gateway.web_dir = PathBuf::from(dir);
        }
        gateway.max_body_bytes = parsed("KABINET_MAX_BODY_BYTES", gateway.max_body_bytes)?;
        gateway.max_import_bytes = parsed("KABINET_MAX_IMPORT_BYTES", gateway.max_import_bytes)?;
        // Custom domains' TXT proof: one DNS server (`host:port`), else the system's resolver.
        if let Some(raw) = var("KABINET_DNS_RESOLVER") {
            let addr: std::net::SocketAddr = raw.parse().map_err(|e| {
                anyhow::anyhow!(
                    "KABINET_DNS_RESOLVER={raw:?}: {e} (expected ip:port, e.g. 127.0.0.1:53)"
                )
            })?;
            gateway.domain_verifier = kabinet_tenancy::domains::DomainVerifier::at(addr);
        }
        gateway.tenant_cache_ttl =
            Duration::from_secs(parsed("KABINET_TENANT_CACHE_TTL_SECS", 300u64)?);
        // Seals authenticator secrets in the database. Over HTTPS (production) it must be set;
        // locally a fixed development key stands in, with a warning at start.
        gateway.secret_key = match var("KABINET_SECRET_KEY") {
            Some(raw) => kabinet_access::SecretKey::from_base64(&raw).map_err(|e| {
                anyhow::anyhow!("KABINET_SECRET_KEY: {e} (make one with `openssl rand -base64 32`)")
            })?,
            None if gateway.secure_cookies => bail!(
                "KABINET_SECRET_KEY is required when KABINET_SECURE_COOKIES=true \
                 (32 random bytes in base64: `openssl rand -base64 32`)"
            ),
            None => kabinet_access::SecretKey::development(),
        };
        let mail = kabinet_mail::MailSettings {
            smtp_url: var("KABINET_SMTP_URL"),
            from: var("KABINET_MAIL_FROM")
                .unwrap_or_else(|| format!("noreply@{}", gateway.platform_domain)),
            sweep_every: Duration::from_secs(parsed("KABINET_MAIL_SWEEP_SECS", 30u64)?.max(1)),
            retry: kabinet_mail::RetryPolicy::default(),
        };
        mail.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        let data_dir = PathBuf::from(var("KABINET_DATA_DIR").unwrap_or_else(|| ".kabinet".into()));
        // Ticket attachments: `KABINET_OBJECT_STORE`, by default the `objects` folder of the
        // data directory. `file:///absolute/dir`; `s3://bucket` or `s3://bucket/prefix` for S3
        // or any S3-compatible service, set up by the standard variables `AWS_ACCESS_KEY_ID`,
        // `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` (e.g. `https://storage.example`
        // for MinIO/Ceph; path-style requests unless `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`) and
        // `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint; or `memory:` (lost at exit).
        let object_store = match var("KABINET_OBJECT_STORE") {
            Some(url) => url,
            None => format!(
                "file://{}",
                std::path::absolute(data_dir.join("objects"))
                    .context("KABINET_DATA_DIR")?
                    .display()
            ),
        };
        gateway.attachments =
            kabinet_ticketing::attachments::AttachmentStore::from_url(&object_store)
                .map_err(|e| anyhow::anyhow!("KABINET_OBJECT_STORE: {e}"))?;
        let log_format = match var("KABINET_LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => bail!("KABINET_LOG_FORMAT={other:?}: expected json or pretty"),
        };
        Ok(Self {
            database_url: var("DATABASE_URL"),
            app_database_url: var("KABINET_APP_DATABASE_URL"),
            data_dir,
            // Below the kernel's ephemeral range (32768+), so no outgoing connection can hold it.
            pg_port: parsed("KABINET_PG_PORT", 25432u16)?,
            max_connections: parsed("KABINET_DB_MAX_CONNECTIONS", 20u32)?,
            billing_tick: match parsed("KABINET_BILLING_TICK_SECS", 60u64)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            log_format,
            gateway,
            stripe: match (
                var("KABINET_STRIPE_SECRET_KEY"),
                var("KABINET_STRIPE_WEBHOOK_SECRET"),
            ) {
                (Some(secret_key), Some(webhook_secret)) => {
                    Some(kabinet_payments::StripeSettings {
                        secret_key,
                        webhook_secret,
                        api_base: var("KABINET_STRIPE_API_BASE"),
                    })
                }
                (None, None) => None,
                _ => bail!(
                    "KABINET_STRIPE_SECRET_KEY and KABINET_STRIPE_WEBHOOK_SECRET go together: set both or neither"
                ),
            },
            reconcile_every: match parsed("KABINET_RECONCILE_SECS", 3600u64)? {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
            mail,
            radius_token: var("KABINET_RADIUS_TOKEN"),
            coa: kabinet_network::coa::CoaSettings {
                timeout: Duration::from_millis(parsed("KABINET_COA_TIMEOUT_MS", 3000u64)?.max(50)),
                retry_base: Duration::from_secs(parsed("KABINET_COA_RETRY_SECS", 10u64)?.max(1)),
                sweep_every: Duration::from_secs(parsed("KABINET_COA_SWEEP_SECS", 30u64)?.max(1)),
                ..kabinet_network::coa::CoaSettings::default()
            },
            orphan_sweep: crate::attachment_sweeper::OrphanSweep {
                every: match parsed("KABINET_ORPHAN_SWEEP_SECS", 600u64)? {
                    0 => None,
                    secs => Some(Duration::from_secs(secs)),
                },
                grace: Duration::from_secs(parsed("KABINET_ORPHAN_GRACE_SECS", 3600u64)?.max(60)),
            },
        })
    }

    /// The local cluster, started, unless `DATABASE_URL` names a server.
    pub fn embedded_cluster(&self) -> anyhow::Result<Option<EmbeddedCluster>> {
        if self.database_url.is_some() {
            return Ok(None);
        }
        let cluster =
            EmbeddedCluster::start(&self.data_dir.join("pg"), self.pg_port, Durability::Durable)
                .context("starting the local PostgreSQL cluster")?;
        Ok(Some(cluster))
    }

    /// Where to migrate and where to serve from; the cluster handle when it is local.
    pub async fn database(&self) -> anyhow::Result<(DatabaseTarget, Option<EmbeddedCluster>)> {
        match &self.database_url {
            Some(url) => {
                // Creating roles needs CREATEROLE; a DBA may have done it already (deploy/postgres/roles.sql).
                if let Err(e) = ensure_roles(url).await {
                    tracing::info!(error = %e, "could not create roles; assuming they exist");
                }
                let app_url = match &self.app_database_url {
                    Some(u) => u.clone(),
                    None => with_user(url, APP_ROLE, None)?,
                };
                Ok((
                    DatabaseTarget {
                        owner_url: url.clone(),
                        app_url,
                        kind: TargetKind::External,
                    },
                    None,
                ))
            }
            None => {
                let cluster = self.embedded_cluster()?.context("local cluster expected")?;
                let admin = cluster.admin_url("postgres");
                ensure_roles(&admin).await?;
                ensure_database(&admin, "kabinet").await?;
                Ok((
                    DatabaseTarget {
                        owner_url: with_user(&admin, OWNER_ROLE, Some("kabinet"))?,
                        app_url: with_user(&admin, APP_ROLE, Some("kabinet"))?,
                        kind: TargetKind::Embedded,
                    },
                    Some(cluster),
                ))
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum TargetKind {
    Embedded,
    External,
}

#[derive(Clone, Debug)]
pub struct DatabaseTarget {
    pub owner_url: String,
    pub app_url: String,
    pub kind: TargetKind,
}

pub fn init_telemetry(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KABINET_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,poem=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Pretty => builder.init(),
    }
}
