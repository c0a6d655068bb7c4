//! `kabinet payments …` and the reconciler of `kabinet serve`.

use anyhow::bail;
use chrono::{Duration, Utc};
use clap::Subcommand;
use kabinet_db::Database;
use kabinet_payments::{Discrepancy, Stripe, reconcile};

#[derive(Subcommand)]
pub enum PaymentsCommand {
    /// Compare Stripe with the ledger for every tenant: credit payments whose webhook was lost,
    /// close abandoned ones, and list what needs a person (exits non-zero if anything does).
    Reconcile {
        /// How far back to look, in hours.
        #[arg(long, default_value_t = 72)]
        hours: i64,
    },
}

pub async fn run(db: &Database, stripe: &Stripe, command: PaymentsCommand) -> anyhow::Result<()> {
    match command {
        PaymentsCommand::Reconcile { hours } => {
            let unresolved = reconcile_all(db, stripe, Duration::hours(hours), true).await?;
            if unresolved > 0 {
                bail!("{unresolved} payment discrepancy(ies) need a person");
            }
            Ok(())
        }
    }
}

/// Reconciles every tenant; returns how many discrepancies need a person.
async fn reconcile_all(
    db: &Database,
    stripe: &Stripe,
    window: Duration,
    print: bool,
) -> anyhow::Result<usize> {
    let mut platform = db.platform_tx().await?;
    let tenants = kabinet_tenancy::list_tenants(&mut platform).await?;
    platform.commit().await?;
    let now = Utc::now();
    let mut unresolved = 0;
    for (tenant, _) in tenants {
        let report = match reconcile(db, stripe, tenant.id, now - window, now).await {
            Ok(r) => r,
            Err(e) => {
                // One ISP's Stripe trouble must not stop the others' reconciliation.
                tracing::warn!(tenant = %tenant.slug, error = %e, "reconciliation failed");
                if print {
                    println!("{}: reconciliation failed: {e}", tenant.slug);
                }
                unresolved += 1;
                continue;
            }
        };
        unresolved += report.unresolved();
        for item in &report.items {
            let line = match item {
                Discrepancy::Repaired {
                    payment,
                    stripe_object,
                } => {
                    format!("repaired: payment {payment} credited from {stripe_object}")
                }
                Discrepancy::Closed { payment, status } => {
                    format!("closed: payment {payment} {status}")
                }
                Discrepancy::UnknownHere {
                    stripe_object,
                    detail,
                } => {
                    format!("NEEDS A PERSON: {stripe_object}: {detail}")
                }
                Discrepancy::UnknownAtStripe { payment, detail } => {
                    format!("NEEDS A PERSON: payment {payment}: {detail}")
                }
            };
            tracing::info!(tenant = %tenant.slug, "{line}");
            if print {
                println!("{}: {line}", tenant.slug);
            }
        }
        if print {
            println!(
                "{}: {} Stripe object(s) checked, {} finding(s)",
                tenant.slug,
                report.stripe_objects,
                report.items.len()
            );
        }
    }
    Ok(unresolved)
}

/// Reconciles the last three days every `every`. Idempotent (every repair goes through the
/// ledger's idempotency key), so several nodes doing it at once only repeat reads.
pub fn spawn_reconciler(
    db: Database,
    stripe: Stripe,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let started = Utc::now();
            let failures = match reconcile_all(&db, &stripe, Duration::days(3), false).await {
                Ok(_) => 0,
                Err(e) => {
                    tracing::warn!(error = %e, "reconciliation round failed; retrying next round");
                    1
                }
            };
            kabinet_tenancy::metrics::record_worker_pass(
                &db,
                kabinet_tenancy::metrics::Worker::Reconcile,
                started,
                failures,
            )
            .await;
        }
    })
}
