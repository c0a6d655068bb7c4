//! `kabinet bench billing`: generates ISPs with subscribers and a history of monthly charges in a
//! scratch database on the same server, then prints the figures billing is held to: one monthly
//! charge run over every tenant, payment apply throughput, dashboard (account + forecast) latency.
//! A benchmark, not a test: it prints numbers and asserts nothing.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{TimeZone, Utc};
use kabinet_billing::{
    BillingMonth, IncomingPayment, PaymentMethod, account_summary, forecast, receive_payment,
    run_monthly_charges,
};
use kabinet_core::{Currency, Money, SubscriberId, TenantId};
use kabinet_db::bootstrap::{drop_database, ensure_database, ensure_roles, with_user};
use kabinet_db::{APP_ROLE, Database, OWNER_ROLE, sqlx};

pub struct BenchOptions {
    pub tenants: u32,
    pub accounts_per_tenant: u32,
    pub months: u32,
    pub keep: bool,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub async fn billing(admin_url: &str, opts: BenchOptions) -> anyhow::Result<()> {
    let name = format!("kabinet_bench_{}", Utc::now().format("%Y%m%d%H%M%S"));
    ensure_roles(admin_url).await?;
    ensure_database(admin_url, &name).await?;
    let result = run(admin_url, &name, &opts).await;
    if !opts.keep {
        drop_database(admin_url, &name).await?;
    }
    result
}

async fn run(admin_url: &str, name: &str, opts: &BenchOptions) -> anyhow::Result<()> {
    kabinet_db::migrate(&with_user(admin_url, OWNER_ROLE, Some(name))?).await?;
    let db = Database::connect(&with_user(admin_url, APP_ROLE, Some(name))?, 16).await?;
    let rub = Currency::parse("RUB").context("currency")?;
    let total = u64::from(opts.tenants) * u64::from(opts.accounts_per_tenant);
    println!(
        "bench billing: {} tenants × {} accounts = {total} accounts, {} months of history (database {name})",
        opts.tenants, opts.accounts_per_tenant, opts.months
    );

    let started = Instant::now();
    let mut tenants = Vec::new();
    for t in 0..opts.tenants {
        let tenant = TenantId::new();
        let mut tx = db.tenant_tx(tenant).await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, display_name, saas_plan, currency) VALUES ($1, $2, $3, 'bench', 'RUB')",
        )
        .bind(tenant.as_uuid())
        .bind(format!("bench{t}"))
        .bind(format!("Bench ISP {t}"))
        .execute(tx.conn())
        .await?;
        // Set-based generation: subscribers, accounts on one tariff, and an opening payment
        // big enough to stay active for the whole history.
        sqlx::query(
            "WITH tariff AS ( \
               INSERT INTO tariffs (tenant_id, id, code, name, monthly_price_minor, currency, speed_mbps) \
               VALUES ($1, gen_random_uuid(), 'home', 'Home', 50000, 'RUB', 100) RETURNING id), \
             subs AS ( \
               INSERT INTO subscribers (tenant_id, id, account_number, full_name) \
               SELECT $1, gen_random_uuid(), 'B' || g, 'Bench subscriber ' || g FROM generate_series(1, $2) g \
               RETURNING id) \
             INSERT INTO accounts (tenant_id, subscriber_id, tariff_id, currency) \
             SELECT $1, subs.id, tariff.id, 'RUB' FROM subs, tariff",
        )
        .bind(tenant.as_uuid())
        .bind(i64::from(opts.accounts_per_tenant))
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "WITH txn AS ( \
               INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id) \
               SELECT $1, gen_random_uuid(), 'payment', 'Bench opening payment', 'bench:' || subscriber_id, subscriber_id \
               FROM accounts WHERE tenant_id = $1 RETURNING id, subscriber_id) \
             INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
             SELECT $1, txn.id, l.line, l.account, l.sub, l.amount, 'RUB' FROM txn \
             CROSS JOIN LATERAL (VALUES (1::smallint, 'subscriber', txn.subscriber_id, $2::bigint), \
                                        (2::smallint, 'clearing:bank_transfer', NULL::uuid, -$2::bigint)) AS l(line, account, sub, amount)",
        )
        .bind(tenant.as_uuid())
        .bind(50_000i64 * i64::from(opts.months + 2))
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        tenants.push(tenant);
    }
    println!(
        "  generated {total} accounts with opening payments in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut last = Duration::ZERO;
    for m in 0..opts.months {
        // Months after the accounts were created, so every account pays each month in full.
        let month = BillingMonth {
            year: 2030 + (m / 12) as i32,
            month: m % 12 + 1,
        };
        let run_started = Instant::now();
        let mut charged = 0;
        for tenant in &tenants {
            let mut tx = db.tenant_tx(*tenant).await?;
            charged += run_monthly_charges(&mut tx, month).await?.charged;
            tx.commit().await?;
        }
        last = run_started.elapsed();
        println!(
            "  charge run {month}: {charged} accounts in {:.2} s",
            last.as_secs_f64()
        );
    }
    println!(
        "RESULT monthly charge run over all tenants (with {} months of history): {:.2} s for {total} accounts ({:.0} accounts/s)",
        opts.months,
        last.as_secs_f64(),
        total as f64 / last.as_secs_f64().max(1e-9)
    );

    // Sample subscribers across tenants.
    let mut sample: Vec<(TenantId, SubscriberId)> = Vec::new();
    for tenant in tenants.iter().take(50) {
        let mut tx = db.tenant_tx(*tenant).await?;
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT subscriber_id FROM accounts WHERE tenant_id = $1 ORDER BY random() LIMIT 40",
        )
        .bind(tenant.as_uuid())
        .fetch_all(tx.conn())
        .await?;
        tx.commit().await?;
        sample.extend(ids.into_iter().map(|id| (*tenant, SubscriberId(id))));
    }

    // Payment apply throughput: 8 concurrent workers, each payment its own transaction.
    let payments_started = Instant::now();
    let mut workers = Vec::new();
    for (w, chunk) in sample.chunks(sample.len().div_ceil(8).max(1)).enumerate() {
        let db = db.clone();
        let chunk = chunk.to_vec();
        workers.push(tokio::spawn(async move {
            for (i, (tenant, subscriber)) in chunk.iter().enumerate() {
                let key = format!("bench-pay:{w}:{i}");
                let mut tx = db.tenant_tx(*tenant).await?;
                let payment = IncomingPayment {
                    subscriber: *subscriber,
                    amount: Money::new(10_000, rub),
                    method: PaymentMethod::Card,
                    reference: &key,
                    staff: None,
                    idempotency_key: &key,
                };
                receive_payment(&mut tx, &payment, Utc::now()).await?;
                tx.commit().await?;
            }
            anyhow::Ok(chunk.len())
        }));
    }
    let mut applied = 0;
    for worker in workers {
        applied += worker.await??;
    }
    let elapsed = payments_started.elapsed().as_secs_f64();
    println!(
        "RESULT payment apply: {applied} payments in {elapsed:.2} s = {:.0}/s (8 workers)",
        applied as f64 / elapsed.max(1e-9)
    );

    // Dashboard data latency at the database: account summary + forecast, one transaction each.
    let now = Utc
        .with_ymd_and_hms(2026, 11, 16, 12, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let mut latencies = Vec::with_capacity(sample.len() * 3);
    for _ in 0..3 {
        for (tenant, subscriber) in &sample {
            let t = Instant::now();
            let mut tx = db.tenant_tx(*tenant).await?;
            account_summary(&mut tx, *subscriber).await?;
            forecast(&mut tx, *subscriber, now).await?;
            tx.commit().await?;
            latencies.push(t.elapsed());
        }
    }
    latencies.sort();
    println!(
        "RESULT dashboard billing data: p50 {:.2} ms, p99 {:.2} ms over {} requests",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.len()
    );
    db.close().await;
    Ok(())
}
