//! `kabinet billing …`: operations over every tenant, one tenant transaction each.

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use kabinet_billing::{BillingMonth, run_monthly_charges, run_scheduled, verify};
use kabinet_db::Database;
use kabinet_db::sqlx;

#[derive(Subcommand)]
pub enum BillingCommand {
    /// Check every billing invariant for every tenant; exits non-zero on any violation.
    Verify,
    /// Charge every active account its tariff for a month (idempotent: rerun safely).
    Charge {
        /// The month, `YYYY-MM` (default: the current month).
        #[arg(long)]
        month: Option<String>,
    },
}

pub async fn run(db: &Database, command: BillingCommand) -> anyhow::Result<()> {
    let mut platform = db.platform_tx().await?;
    let tenants = kabinet_tenancy::list_tenants(&mut platform).await?;
    platform.commit().await?;
    match command {
        BillingCommand::Verify => {
            let mut violations = 0;
            for (tenant, _) in &tenants {
                let mut tx = db.tenant_tx(tenant.id).await?;
                let found = verify(&mut tx).await?;
                tx.commit().await?;
                for v in &found {
                    println!("{}: {}", tenant.slug, v.what);
                }
                violations += found.len();
            }
            if violations > 0 {
                bail!(
                    "{violations} billing invariant violation(s) in {} tenant(s) checked",
                    tenants.len()
                );
            }
            println!(
                "billing verify: {} tenant(s), every invariant holds",
                tenants.len()
            );
        }
        BillingCommand::Charge { month } => {
            let month = match month {
                Some(raw) => BillingMonth::parse(&raw)
                    .with_context(|| format!("--month {raw:?}: expected YYYY-MM"))?,
                None => BillingMonth::of(Utc::now().date_naive()),
            };
            for (tenant, _) in &tenants {
                let mut tx = db.tenant_tx(tenant.id).await?;
                let run = run_monthly_charges(&mut tx, month).await?;
                tx.commit().await?;
                println!(
                    "{}: {month}: charged {} account(s), blocked {}",
                    tenant.slug, run.charged, run.blocked
                );
            }
        }
    }
    Ok(())
}

/// The billing scheduler of `kabinet serve`: every `every`, each tenant's time-driven work
/// (expired promised payments, finished suspensions, the month's charges).
///
/// Safe on any number of nodes: a node works a tenant only while holding that tenant's
/// transaction-scoped advisory lock (others skip it this round), and every step is idempotent
/// besides, so a node dying mid-way loses nothing and a rerun repeats nothing.
///
/// With Stripe configured, each round also runs auto-pay (after the tenant's transaction: it
/// calls Stripe, and claims each attempt by a unique key so nodes never charge twice).
pub fn spawn_scheduler(
    db: Database,
    stripe: Option<kabinet_payments::Stripe>,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = tick_all(&db, stripe.as_ref()).await {
                tracing::warn!(error = %e, "billing scheduler round failed; retrying next round");
            }
        }
    })
}

async fn tick_all(db: &Database, stripe: Option<&kabinet_payments::Stripe>) -> anyhow::Result<()> {
    let mut platform = db.platform_tx().await?;
    let tenants = kabinet_tenancy::list_tenants(&mut platform).await?;
    platform.commit().await?;
    for (tenant, _) in tenants {
        let mut tx = db.tenant_tx(tenant.id).await?;
        let mine: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_xact_lock(hashtextextended('kabinet.billing.' || $1, 0))",
        )
        .bind(tenant.id.to_string())
        .fetch_one(tx.conn())
        .await?;
        if !mine {
            continue;
        }
        let report = run_scheduled(&mut tx, Utc::now()).await?;
        tx.commit().await?;
        if !report.is_empty() {
            tracing::info!(
                tenant = %tenant.slug,
                promises_expired = report.promises_expired,
                suspensions_ended = report.suspensions_ended,
                charged = report.charged,
                blocked = report.blocked,
                "billing round"
            );
        }
        if let Some(stripe) = stripe {
            let autopay = kabinet_payments::run_autopay(db, stripe, tenant.id, Utc::now()).await?;
            if autopay.attempted > 0 {
                tracing::info!(
                    tenant = %tenant.slug,
                    attempted = autopay.attempted,
                    succeeded = autopay.succeeded,
                    failed = autopay.failed,
                    "auto-pay round"
                );
            }
        }
    }
    Ok(())
}
