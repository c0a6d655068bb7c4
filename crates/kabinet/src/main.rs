//! The `kabinet` binary: wires configuration, telemetry, the database and the gateway together.
//! Thin by design — everything it calls lives in the crates it names.

mod attachment_sweeper;
mod audit;
mod bench;
mod bench_radius;
mod bench_subscribers;
mod bench_tickets;
mod billing;
mod config;
mod payments;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kabinet_db::embedded::EmbeddedCluster;
use kabinet_gateway::{AppState, build_app};
use poem::Server;
use poem::listener::TcpListener;

use crate::billing::BillingCommand;
use crate::config::Settings;
use crate::payments::PaymentsCommand;

#[derive(Parser)]
#[command(
    name = "kabinet",
    version,
    about = "Multi-tenant ISP cabinet, billing and ticketing platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrates first; with no DATABASE_URL also starts the local cluster and applies tenants/).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KABINET_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Tenant manifests to apply at start (default: applied only on the embedded database).
        #[arg(long, env = "KABINET_TENANTS_DIR")]
        tenants: Option<PathBuf>,
        /// Address of the internal listener FreeRADIUS calls (needs KABINET_RADIUS_TOKEN).
        /// Keep it on loopback or a private network: it is not behind the tenant Host check.
        #[arg(long, env = "KABINET_INTERNAL_LISTEN")]
        internal_listen: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Tenants as code.
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// The project-local PostgreSQL cluster (used when DATABASE_URL is unset).
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Billing operations over every tenant.
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
    /// The staff audit log's hash chains.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Online payments over every tenant (needs the Stripe settings).
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
    /// Benchmarks that print figures (they create and drop a scratch database).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// RADIUS authorize and accounting against the internal endpoint over generated ISPs.
    Radius {
        #[arg(long, default_value_t = 100)]
        tenants: u32,
        #[arg(long, default_value_t = 1000)]
        logins_per_tenant: u32,
        /// Requests per run (each concurrency level, authorize and accounting).
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
        /// Concurrency levels, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "16,64")]
        concurrency: Vec<usize>,
        /// Then also through a real FreeRADIUS (deploy/freeradius/) over UDP, as a NAS.
        #[arg(long)]
        through_freeradius: bool,
        /// Database connections (as `KABINET_DB_MAX_CONNECTIONS` for `serve`).
        #[arg(long, default_value_t = 20)]
        pool: u32,
        /// Keep the scratch database afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// Charge runs, payment throughput and dashboard latency over generated ISPs.
    Billing {
        #[arg(long, default_value_t = 100)]
        tenants: u32,
        #[arg(long, default_value_t = 1000)]
        accounts_per_tenant: u32,
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// Tenants charged at once (default: as `serve` does, `KABINET_BILLING_CONCURRENCY`).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Keep the scratch database afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// Ticket search, agent-queue latency and SLA worker throughput over generated ISPs.
    Tickets {
        #[arg(long, default_value_t = 200)]
        tenants: u32,
        /// Tickets over all tenants.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: u64,
        #[arg(long, default_value_t = 5)]
        messages_per_ticket: u32,
        /// Tickets of the first tenant, the others sharing the rest (0: an even share).
        #[arg(long, default_value_t = 0)]
        big_tenant: u64,
        /// Runs per kind of query.
        #[arg(long, default_value_t = 100)]
        queries: u32,
        /// Tenants loaded at once (database connections during the load).
        #[arg(long, default_value_t = 2)]
        load_jobs: usize,
        /// Measure this database (loaded by an earlier run with --keep) instead of loading one.
        #[arg(long)]
        reuse: Option<String>,
        /// Keep the scratch database afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// CSV import time and memory, then console search latency, over one generated ISP.
    Subscribers {
        #[arg(long, default_value_t = 100_000)]
        rows: u32,
        /// Searches per kind of query.
        #[arg(long, default_value_t = 200)]
        queries: u32,
        /// Keep the scratch database afterwards.
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Subcommand)]
enum TenantsCommand {
    /// Make the database match the manifests in DIR (idempotent).
    Apply {
        #[arg(default_value = "tenants")]
        dir: PathBuf,
    },
    /// Print a tenant's configuration, read from the database, as a manifest (TOML).
    Export { slug: String },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Start the local cluster (initialising it on first use) and print its superuser URL.
    Start,
    /// Stop the local cluster.
    Stop,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kabinet: invalid configuration: {e:#}");
            std::process::exit(2);
        }
    };
    config::init_telemetry(&settings);
    if let Err(e) = run(cli, settings).await {
        tracing::error!(error = format!("{e:#}"), "kabinet failed");
        eprintln!("kabinet: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi => {
            print!("{}", kabinet_gateway::openapi_json());
            Ok(())
        }
        Command::Db { command } => {
            let cluster = settings.embedded_cluster()?;
            match command {
                DbCommand::Start => {
                    let cluster = cluster
                        .context("DATABASE_URL is set; there is no local cluster to manage")?;
                    println!("{}", cluster.admin_url("postgres"));
                }
                DbCommand::Stop => {
                    if let Some(cluster) = cluster {
                        cluster.stop()?;
                    }
                }
            }
            Ok(())
        }
        Command::Migrate => {
            let (target, _cluster) = settings.database().await?;
            kabinet_db::migrate(&target.owner_url).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Tenants {
            command: TenantsCommand::Export { slug },
        } => {
            let (target, _cluster) = settings.database().await?;
            kabinet_db::migrate(&target.owner_url).await?;
            let db = kabinet_db::Database::connect(&target.app_url, 2).await?;
            let result = export_tenant(&db, &slug).await;
            db.close().await;
            result
        }
        Command::Tenants {
            command: TenantsCommand::Apply { dir },
        } => {
            let (target, _cluster) = settings.database().await?;
            kabinet_db::migrate(&target.owner_url).await?;
            let db = kabinet_db::Database::connect(&target.app_url, 4).await?;
            apply_tenants(&db, &dir, &settings.gateway.platform_domain).await?;
            db.close().await;
            Ok(())
        }
        Command::Billing { command } => {
            let (target, _cluster) = settings.database().await?;
            kabinet_db::migrate(&target.owner_url).await?;
            let db = kabinet_db::Database::connect(&target.app_url, 4).await?;
            let result = billing::run(&db, command).await;
            db.close().await;
            result
        }
        Command::Audit { command } => {
            let (target, _cluster) = settings.database().await?;
            kabinet_db::migrate(&target.owner_url).await?;
            let db = kabinet_db::Database::connect(&target.app_url, 2).await?;
            let result = audit::run(&db, command).await;
            db.close().await;
            result
        }
        Command::Payments { command } => {
            let stripe = settings.stripe.as_ref().context(
                "online payments need KABINET_STRIPE_SECRET_KEY and KABINET_STRIPE_WEBHOOK_SECRET",
            )?;
            let stripe = kabinet_payments::Stripe::new(stripe)?;
            let (target, _cluster) = settings.database().await?;
            kabinet_db::migrate(&target.owner_url).await?;
            let db = kabinet_db::Database::connect(&target.app_url, 4).await?;
            let result = payments::run(&db, &stripe, command).await;
            db.close().await;
            result
        }
        Command::Bench { command } => {
            // The benches make and drop their own databases: they need the admin connection.
            let admin = match &settings.database_url {
                Some(url) => url.clone(),
                None => settings
                    .embedded_cluster()?
                    .context("local cluster expected")?
                    .admin_url("postgres"),
            };
            match command {
                BenchCommand::Radius {
                    tenants,
                    logins_per_tenant,
                    requests,
                    concurrency,
                    through_freeradius,
                    pool,
                    keep,
                } => {
                    bench_radius::radius(
                        &admin,
                        bench_radius::RadiusBenchOptions {
                            tenants,
                            logins_per_tenant,
                            requests,
                            concurrency,
                            through_freeradius,
                            pool,
                            keep,
                        },
                    )
                    .await
                }
                BenchCommand::Billing {
                    tenants,
                    accounts_per_tenant,
                    months,
                    concurrency,
                    keep,
                } => {
                    bench::billing(
                        &admin,
                        bench::BenchOptions {
                            tenants,
                            accounts_per_tenant,
                            months,
                            concurrency: concurrency.unwrap_or_else(billing::concurrency),
                            keep,
                        },
                    )
                    .await
                }
                BenchCommand::Tickets {
                    tenants,
                    tickets,
                    messages_per_ticket,
                    big_tenant,
                    queries,
                    load_jobs,
                    reuse,
                    keep,
                } => {
                    bench_tickets::tickets(
                        &admin,
                        bench_tickets::TicketBenchOptions {
                            tenants,
                            tickets,
                            messages_per_ticket,
                            big_tenant,
                            queries,
                            load_jobs,
                            reuse,
                            keep,
                        },
                    )
                    .await
                }
                BenchCommand::Subscribers {
                    rows,
                    queries,
                    keep,
                } => {
                    bench_subscribers::subscribers(
                        &admin,
                        bench_subscribers::SubscriberBenchOptions {
                            rows,
                            queries,
                            keep,
                        },
                    )
                    .await
                }
            }
        }
        Command::Serve {
            listen,
            tenants,
            internal_listen,
        } => serve(settings, listen, tenants, internal_listen).await,
    }
}

async fn apply_tenants(
    db: &kabinet_db::Database,
    dir: &std::path::Path,
    platform_domain: &str,
) -> anyhow::Result<()> {
    let reports = kabinet_provisioning::apply_dir(db, dir, platform_domain)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for report in reports {
        if report.changes.is_empty() {
            println!("{}: unchanged", report.slug);
        } else {
            println!("{}: {}", report.slug, report.changes.join("; "));
        }
        for warning in report.warnings {
            println!("{}: warning: {warning}", report.slug);
        }
    }
    Ok(())
}

/// `kabinet tenants export SLUG`: the manifest on stdout, what it leaves out on stderr.
async fn export_tenant(db: &kabinet_db::Database, slug: &str) -> anyhow::Result<()> {
    let slug = kabinet_tenancy::Slug::parse(slug).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = db.platform_tx().await?;
    let tenant = kabinet_tenancy::find_tenant_by_slug(tx.conn(), &slug)
        .await?
        .with_context(|| format!("no tenant {slug}"))?;
    tx.commit().await?;
    let exported = kabinet_provisioning::export::export_manifest(db, tenant.id).await?;
    for l in &exported.left_out {
        eprintln!("{slug}: not included: {l}");
    }
    print!("{}", exported.toml);
    Ok(())
}

async fn serve(
    settings: Settings,
    listen: String,
    tenants: Option<PathBuf>,
    internal_listen: Option<String>,
) -> anyhow::Result<()> {
    let (target, cluster) = settings.database().await?;
    kabinet_db::migrate(&target.owner_url)
        .await
        .context("applying migrations")?;
    // Letters the background work writes link to the ISP's host as subscribers reach it: over
    // TLS in production, or to this very port when serving plain HTTP (development).
    let links = match listen.rsplit_once(':').and_then(|(_, p)| p.parse().ok()) {
        Some(port) if !settings.gateway.secure_cookies => kabinet_db::PublicLinks::Http { port },
        _ => kabinet_db::PublicLinks::Https,
    };
    let db = kabinet_db::Database::connect(&target.app_url, settings.max_connections)
        .await?
        .with_public_links(links);

    let tenants = tenants.or_else(|| {
        matches!(target.kind, config::TargetKind::Embedded).then(|| PathBuf::from("tenants"))
    });
    if let Some(dir) = tenants.filter(|d| d.is_dir()) {
        apply_tenants(&db, &dir, &settings.gateway.platform_domain).await?;
    }

    let mut state = AppState::new(db.clone(), settings.gateway.clone());
    let stripe = match &settings.stripe {
        Some(s) => Some(kabinet_payments::Stripe::new(s).context("configuring Stripe")?),
        None => None,
    };
    if let Some(stripe) = &stripe {
        state = state.with_stripe(stripe.clone());
    }
    if settings.gateway.secret_key.insecure_default {
        tracing::warn!(
            "KABINET_SECRET_KEY is not set: authenticator secrets are sealed with the public \
             DEVELOPMENT key. Never run like this in production (`openssl rand -base64 32`)."
        );
    }
    let mut listeners = state.spawn_background();
    listeners.push(
        kabinet_mail::spawn_worker(db.clone(), settings.mail.clone())
            .context("starting the mail sender")?,
    );
    if let Some(every) = settings.billing_tick {
        listeners.push(billing::spawn_scheduler(
            db.clone(),
            stripe.clone(),
            settings.gateway.domain_verifier.clone(),
            every,
        ));
    }
    if let (Some(stripe), Some(every)) = (stripe, settings.reconcile_every) {
        listeners.push(payments::spawn_reconciler(db.clone(), stripe, every));
    }
    listeners.extend(attachment_sweeper::spawn(
        db.clone(),
        settings.gateway.attachments.clone(),
        settings.orphan_sweep,
    ));
    listeners.push(kabinet_network::coa::spawn_worker(
        db.clone(),
        settings.gateway.secret_key.clone(),
        settings.coa.clone(),
    ));
    if let Some(internal) = internal_listen {
        let token = settings.radius_token.clone().context(
            "--internal-listen needs KABINET_RADIUS_TOKEN (the bearer token FreeRADIUS sends)",
        )?;
        let internal_app = kabinet_gateway::build_internal_app(state.clone(), token);
        let acceptor = TcpListener::bind(internal.clone());
        tracing::info!(%internal, "serving the internal (RADIUS) listener");
        listeners.push(tokio::spawn(async move {
            if let Err(e) = Server::new(acceptor).run(internal_app).await {
                tracing::error!(error = %e, "internal listener stopped");
            }
        }));
    }
    let app = build_app(state);
    let domain = settings.gateway.platform_domain.clone();
    let port = listen.rsplit(':').next().unwrap_or("8080").to_owned();
    tracing::info!(%listen, "serving");
    println!(
        "Kabinet is up: http://demo.{domain}:{port}/ (subscriber), http://demo.{domain}:{port}/console (staff), \
         http://admin.{domain}:{port}/ (operator). Ctrl-C stops it."
    );

    Server::new(TcpListener::bind(listen))
        .run_with_graceful_shutdown(
            app,
            shutdown_signal(),
            Some(std::time::Duration::from_secs(10)),
        )
        .await
        .context("HTTP server")?;

    for task in listeners {
        task.abort();
    }
    db.close().await;
    if let Some(cluster) = cluster.filter(EmbeddedCluster::started_here) {
        tracing::info!("stopping the local PostgreSQL cluster");
        cluster.stop()?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
