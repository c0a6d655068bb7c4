//! `kabinet billing …`: operations over every tenant, one tenant transaction each.

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use kabinet_billing::{BillingMonth, run_monthly_charges, run_scheduled, verify};
use kabinet_core::TenantId;
use kabinet_db::Database;
use kabinet_db::sqlx;
use kabinet_tenancy::domains::DomainVerifier;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
            let ids: Vec<TenantId> = tenants.iter().map(|(t, _)| t.id).collect();
            let summary = charge_all(db, &ids, month, concurrency()).await?;
            println!(
                "{month}: charged {} account(s) in {} tenant(s), blocked {}",
                summary.charged,
                tenants.len(),
                summary.blocked
            );
            if summary.failed > 0 {
                bail!(
                    "{} tenant(s) failed; rerun to finish them (charges are idempotent)",
                    summary.failed
                );
            }
        }
    }
    Ok(())
}

/// How many tenants one node works at once: `KABINET_BILLING_CONCURRENCY`, by default the
/// number of CPUs. Each tenant is one transaction (one connection), so this also bounds the
/// connections billing takes from the pool.
pub fn concurrency() -> usize {
    std::env::var("KABINET_BILLING_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .min(32)
}

/// Runs `work` for every tenant, at most `concurrency` at once; a tenant that fails is logged
/// and counted, and the others go on.
async fn for_each_tenant<F, Fut, T>(
    tenants: &[TenantId],
    concurrency: usize,
    work: F,
) -> (Vec<T>, u64)
where
    F: Fn(TenantId) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
    T: Send + 'static,
{
    let queue: Arc<Vec<TenantId>> = Arc::new(tenants.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1).min(tenants.len().max(1)) {
        let (queue, next, work) = (queue.clone(), next.clone(), work.clone());
        workers.spawn(async move {
            let (mut done, mut failed) = (Vec::new(), 0_u64);
            while let Some(tenant) = queue.get(next.fetch_add(1, Ordering::Relaxed)) {
                match work(*tenant).await {
                    Ok(result) => done.push(result),
                    Err(e) => {
                        failed += 1;
                        tracing::warn!(%tenant, error = %e, "tenant billing work failed; it is retried next round");
                    }
                }
            }
            (done, failed)
        });
    }
    let (mut done, mut failed) = (Vec::new(), 0);
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok((d, f)) => {
                done.extend(d);
                failed += f;
            }
            Err(e) => {
                failed += 1;
                tracing::error!(error = %e, "billing worker panicked");
            }
        }
    }
    (done, failed)
}

/// What a charge run over many tenants did.
#[derive(Debug, Default)]
pub struct ChargeSummary {
    pub charged: u64,
    pub blocked: u64,
    /// Tenants whose run failed (rolled back; a rerun charges them once).
    pub failed: u64,
}

/// Charges `month` for every tenant, `concurrency` tenants at once, each in its own
/// transaction (see `run_monthly_charges` for why a rerun or a parallel node charges nothing
/// twice).
pub async fn charge_all(
    db: &Database,
    tenants: &[TenantId],
    month: BillingMonth,
    concurrency: usize,
) -> anyhow::Result<ChargeSummary> {
    let db = db.clone();
    let (runs, failed) = for_each_tenant(tenants, concurrency, move |tenant| {
        let db = db.clone();
        async move {
            let mut tx = db.tenant_tx(tenant).await?;
            let run = run_monthly_charges(&mut tx, month).await?;
            tx.commit().await?;
            anyhow::Ok(run)
        }
    })
    .await;
    Ok(ChargeSummary {
        charged: runs.iter().map(|r| r.charged).sum(),
        blocked: runs.iter().map(|r| r.blocked).sum(),
        failed,
    })
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
    verifier: DomainVerifier,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let started = Utc::now();
            let failures = match tick_all(&db, stripe.as_ref(), &verifier).await {
                Ok(()) => 0,
                Err(e) => {
                    tracing::warn!(error = %e, "billing scheduler round failed; retrying next round");
                    1
                }
            };
            kabinet_tenancy::metrics::record_worker_pass(
                &db,
                kabinet_tenancy::metrics::Worker::Billing,
                started,
                failures,
            )
            .await;
        }
    })
}

async fn tick_all(
    db: &Database,
    stripe: Option<&kabinet_payments::Stripe>,
    verifier: &DomainVerifier,
) -> anyhow::Result<()> {
    // SaaS billing on the platform's Stripe account: subscriptions in line with the price list,
    // the day's usage recorded once for every ISP and sent (idempotent; never stops the round).
    if let Some(stripe) = stripe {
        match kabinet_payments::saas_billing::run_saas_billing(db, stripe, Utc::now()).await {
            Ok((sync, sent)) if sync != Default::default() || sent != Default::default() => {
                tracing::info!(?sync, ?sent, "saas billing round");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "saas billing round failed; retried next round"),
        }
    }
    let mut platform = db.platform_tx().await?;
    let tenants = kabinet_tenancy::list_tenants(&mut platform).await?;
    platform.commit().await?;
    let slugs: std::collections::HashMap<TenantId, String> = tenants
        .iter()
        .map(|(t, _)| (t.id, t.slug.to_string()))
        .collect();
    let ids: Vec<TenantId> = tenants.iter().map(|(t, _)| t.id).collect();
    let (db, stripe, slugs) = (db.clone(), stripe.cloned(), Arc::new(slugs));
    let verifier = verifier.clone();
    let (_, failed) = for_each_tenant(&ids, concurrency(), move |tenant| {
        let (db, stripe, slugs) = (db.clone(), stripe.clone(), slugs.clone());
        let verifier = verifier.clone();
        async move {
            let slug = slugs.get(&tenant).map(String::as_str).unwrap_or("?");
            tick_tenant(&db, stripe.as_ref(), &verifier, tenant, slug).await
        }
    })
    .await;
    if failed > 0 {
        anyhow::bail!("{failed} tenant(s) failed this round");
    }
    Ok(())
}

/// One tenant's round, under its advisory lock: another node already on it means skip.
async fn tick_tenant(
    db: &Database,
    stripe: Option<&kabinet_payments::Stripe>,
    verifier: &DomainVerifier,
    tenant: TenantId,
    slug: &str,
) -> anyhow::Result<()> {
    let mut tx = db.tenant_tx(tenant).await?;
    let mine: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('kabinet.billing.' || $1, 0))",
    )
    .bind(tenant.to_string())
    .fetch_one(tx.conn())
    .await?;
    if !mine {
        return Ok(());
    }
    let report = run_scheduled(&mut tx, Utc::now()).await?;
    tx.commit().await?;
    if !report.is_empty() {
        tracing::info!(
            tenant = %slug,
            promises_expired = report.promises_expired,
            suspensions_ended = report.suspensions_ended,
            charged = report.charged,
            blocked = report.blocked,
            "billing round"
        );
    }
    // The ticket desk's time-driven work (SLA escalations, auto-close) in its own transaction
    // under its own lock, so it never holds billing up.
    let mut tx = db.tenant_tx(tenant).await?;
    let desk = kabinet_ticketing::run_scheduled(&mut tx, Utc::now()).await?;
    tx.commit().await?;
    if !desk.is_empty() {
        tracing::info!(tenant = %slug, ?desk, "ticket desk round");
    }
    if let Some(stripe) = stripe {
        let autopay = kabinet_payments::run_autopay(db, stripe, tenant, Utc::now()).await?;
        if autopay.attempted > 0 {
            tracing::info!(
                tenant = %slug,
                attempted = autopay.attempted,
                succeeded = autopay.succeeded,
                failed = autopay.failed,
                "auto-pay round"
            );
        }
    }
    // SaaS dunning: an unpaid ISP's next step (read-only, suspension) once it falls due.
    if let Some(state) = kabinet_provisioning::dunning::advance(db, tenant, Utc::now()).await? {
        tracing::info!(tenant = %slug, state = state.as_str(), "saas dunning step");
    }
    // Custom domains: verified ones re-checked daily, young unverified ones hourly.
    let domains =
        kabinet_provisioning::domain_checks::recheck_domains(db, verifier, tenant, Utc::now())
            .await?;
    if domains.newly_failing + domains.unverified + domains.verified > 0 {
        tracing::info!(tenant = %slug, ?domains, "custom domains re-checked");
    }
    // The figures the operator console shows (and SaaS billing prices), once per round.
    let mut tx = db.tenant_tx(tenant).await?;
    kabinet_tenancy::record_usage(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}
