//! `kabinet bench billing`: generates ISPs with subscribers and a year of ledger history in a
//! scratch database on the same server, then prints the figures billing is held to:
//!
//! - one monthly charge run over every tenant, run the way the scheduler runs it
//!   ([`crate::billing::charge_all`]: tenants in parallel, one transaction each);
//! - webhook apply throughput: signed `checkout.session.completed` deliveries, shaped as Stripe
//!   sends them, through [`kabinet_payments::handle_webhook`] (signature check, tenant lookup,
//!   dedupe, credit) by concurrent workers;
//! - dashboard API latency under load: `GET /api/v1/me/dashboard` over HTTP against the real
//!   gateway, from concurrent signed-in subscribers.
//!
//! A benchmark, not a test: it prints numbers and asserts nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use hmac::{Hmac, Mac};
use kabinet_billing::BillingMonth;
use kabinet_core::TenantId;
use kabinet_db::bootstrap::{drop_database, ensure_database, ensure_roles, with_user};
use kabinet_db::{APP_ROLE, Database, OWNER_ROLE, sqlx};
use kabinet_gateway::{AppState, GatewayConfig, build_app};
use kabinet_payments::{Stripe, StripeSettings, WebhookOutcome, handle_webhook};
use serde_json::json;
use sha2::Sha256;

pub struct BenchOptions {
    pub tenants: u32,
    pub accounts_per_tenant: u32,
    pub months: u32,
    /// Tenants charged at once (the scheduler's `KABINET_BILLING_CONCURRENCY`).
    pub concurrency: usize,
    pub keep: bool,
}

const WEBHOOK_SECRET: &str = "whsec_bench";
const MONTHLY_PRICE: i64 = 50_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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
    let pool_size = (opts.concurrency as u32 * 2).max(24);
    let db = Database::connect(&with_user(admin_url, APP_ROLE, Some(name))?, pool_size).await?;
    let total = u64::from(opts.tenants) * u64::from(opts.accounts_per_tenant);
    println!(
        "bench billing: {} tenants × {} accounts = {total} accounts, {} months of history, \
         {} tenants charged at once (database {name})",
        opts.tenants, opts.accounts_per_tenant, opts.months, opts.concurrency
    );

    let started = Instant::now();
    let tenants = generate(&db, opts).await?;
    println!(
        "  generated {total} accounts with {} months of charges each in {:.1} s",
        opts.months,
        started.elapsed().as_secs_f64()
    );

    // The month after the generated history: every account pays it in full.
    let month = BillingMonth {
        year: 2027,
        month: opts.months.min(11) + 1,
    };
    let run_started = Instant::now();
    let summary = crate::billing::charge_all(&db, &tenants, month, opts.concurrency).await?;
    let run = run_started.elapsed();
    println!(
        "RESULT monthly charge run over all tenants (with {} months of history): {:.2} s for {total} accounts \
         ({:.0} accounts/s; {} charged, {} failed tenants)",
        opts.months,
        run.as_secs_f64(),
        total as f64 / run.as_secs_f64().max(1e-9),
        summary.charged,
        summary.failed
    );
    let rerun_started = Instant::now();
    let rerun = crate::billing::charge_all(&db, &tenants, month, opts.concurrency).await?;
    println!(
        "  rerun of the same month: {} charged (must be 0) in {:.2} s",
        rerun.charged,
        rerun_started.elapsed().as_secs_f64()
    );

    // Throughput and latency depend on how many requests are in flight; two levels each.
    for workers in [8, 16] {
        webhooks(&db, &tenants, workers).await?;
    }
    dashboard(&db, &tenants, &[8, 32]).await?;
    db.close().await;
    Ok(())
}

/// Tenants, subscribers on one tariff, an opening payment, and `months` of monthly charges
/// already in the ledger, all set-based (one statement per table and tenant).
async fn generate(db: &Database, opts: &BenchOptions) -> anyhow::Result<Vec<TenantId>> {
    let mut tenants = Vec::new();
    for t in 0..opts.tenants {
        let tenant = TenantId::new();
        let mut tx = db.tenant_tx(tenant).await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, display_name, saas_plan, currency) VALUES ($1, $2, $3, 'pro', 'RUB')",
        )
        .bind(tenant.as_uuid())
        .bind(format!("bench{t}"))
        .bind(format!("Bench ISP {t}"))
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "WITH tariff AS ( \
               INSERT INTO tariffs (tenant_id, id, code, name, monthly_price_minor, currency, speed_mbps) \
               VALUES ($1, gen_random_uuid(), 'home', 'Home', $3, 'RUB', 100) RETURNING id), \
             subs AS ( \
               INSERT INTO subscribers (tenant_id, id, account_number, full_name) \
               SELECT $1, gen_random_uuid(), 'B' || g, 'Bench subscriber ' || g FROM generate_series(1, $2) g \
               RETURNING id) \
             INSERT INTO accounts (tenant_id, subscriber_id, tariff_id, currency, status_changed_at) \
             SELECT $1, subs.id, tariff.id, 'RUB', '2026-01-01' FROM subs, tariff",
        )
        .bind(tenant.as_uuid())
        .bind(i64::from(opts.accounts_per_tenant))
        .bind(MONTHLY_PRICE)
        .execute(tx.conn())
        .await?;
        // Month 0 is the opening payment (enough for the history and two months more); months
        // 1..=N are the tariff charges of 2027, keyed as the charge run keys them.
        sqlx::query(
            "WITH months AS (SELECT g AS m FROM generate_series(0, $2) g), \
             txn AS ( \
               INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id, created_at) \
               SELECT $1, gen_random_uuid(), \
                      CASE WHEN m = 0 THEN 'payment' ELSE 'charge' END, \
                      CASE WHEN m = 0 THEN 'Bench opening payment' ELSE 'Tariff Home, ' || to_char(make_date(2027, m::int, 1), 'YYYY-MM') END, \
                      CASE WHEN m = 0 THEN 'bench:' || a.subscriber_id \
                           ELSE 'charge:tariff:' || a.subscriber_id || ':' || to_char(make_date(2027, m::int, 1), 'YYYY-MM') END, \
                      a.subscriber_id, \
                      CASE WHEN m = 0 THEN timestamptz '2026-12-15' ELSE make_date(2027, m::int, 1)::timestamptz END \
               FROM accounts a CROSS JOIN months WHERE a.tenant_id = $1 \
               RETURNING id, subscriber_id, kind) \
             INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
             SELECT $1, txn.id, l.line, l.account, l.sub, l.amount, 'RUB' FROM txn \
             CROSS JOIN LATERAL (VALUES \
               (1::smallint, 'subscriber', txn.subscriber_id, \
                CASE WHEN txn.kind = 'payment' THEN $3 * ($2 + 3) ELSE -$3 END), \
               (2::smallint, CASE WHEN txn.kind = 'payment' THEN 'clearing:bank_transfer' ELSE 'revenue:tariff' END, \
                NULL::uuid, CASE WHEN txn.kind = 'payment' THEN -$3 * ($2 + 3) ELSE $3 END)) \
               AS l(line, account, sub, amount)",
        )
        .bind(tenant.as_uuid())
        .bind(i64::from(opts.months.min(11)))
        .bind(MONTHLY_PRICE)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        tenants.push(tenant);
        if (t + 1) % 100 == 0 {
            println!("  … {} tenants generated", t + 1);
        }
    }
    Ok(tenants)
}

/// Up to `per_tenant` subscribers of each of the first `tenants` tenants.
async fn sample(
    db: &Database,
    tenants: &[TenantId],
    per_tenant: i64,
) -> anyhow::Result<Vec<(TenantId, uuid::Uuid)>> {
    let mut out = Vec::new();
    for tenant in tenants {
        let mut tx = db.tenant_tx(*tenant).await?;
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT subscriber_id FROM accounts WHERE tenant_id = $1 ORDER BY subscriber_id LIMIT $2",
        )
        .bind(tenant.as_uuid())
        .bind(per_tenant)
        .fetch_all(tx.conn())
        .await?;
        tx.commit().await?;
        out.extend(ids.into_iter().map(|id| (*tenant, id)));
    }
    Ok(out)
}

fn stripe_signature(payload: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any size"));
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// A `checkout.session.completed` event for a paid top-up, field for field as Stripe sends it
/// to a Connect endpoint (the same shape the fake Stripe emits).
fn completed_event(event: &str, account: &str, session: &str, payment: uuid::Uuid) -> String {
    let created = Utc::now().timestamp();
    let mut session_json = json!({
            "id": session, "object": "checkout.session",
            "adaptive_pricing": null, "after_expiration": null, "allow_promotion_codes": null,
            "amount_subtotal": 10_000, "amount_total": 10_000,
            "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
            "billing_address_collection": null, "cancel_url": "https://bench.example/cancel",
            "client_reference_id": null, "client_secret": null, "collected_information": null,
            "consent": null, "consent_collection": null, "created": created, "currency": "rub",
            "currency_conversion": null, "custom_fields": [],
            "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
            "customer": null, "customer_creation": "if_required", "customer_details": null,
            "customer_email": null, "discounts": [], "expires_at": created + 86_400,
            "invoice": null, "invoice_creation": null, "livemode": false, "locale": "ru",
            "metadata": { "kabinet_payment": payment.to_string() }, "mode": "payment",
    });
    let rest = json!({
            "payment_intent": format!("pi_{session}"), "payment_link": null,
            "payment_method_collection": "if_required", "payment_method_configuration_details": null,
            "payment_method_options": {}, "payment_method_types": ["card"], "payment_status": "paid",
            "phone_number_collection": { "enabled": false }, "recovered_from": null,
            "saved_payment_method_options": null, "setup_intent": null,
            "shipping_address_collection": null, "shipping_cost": null, "shipping_options": [],
            "status": "complete", "submit_type": null, "subscription": null,
            "success_url": "https://bench.example/ok",
            "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
            "ui_mode": "hosted_page", "url": null,
    });
    if let (Some(object), Some(rest)) = (session_json.as_object_mut(), rest.as_object()) {
        object.extend(rest.clone());
    }
    json!({
        "id": event,
        "object": "event",
        "account": account,
        "api_version": "2026-09-30.endive",
        "created": created,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": "checkout.session.completed",
        "data": { "object": session_json },
    })
    .to_string()
}

/// Pending card top-ups for sampled subscribers of 50 ISPs (each with a connected account),
/// then their `checkout.session.completed` deliveries through the real handler, plus one
/// redelivery in ten (Stripe retries), by 8 concurrent workers.
async fn webhooks(db: &Database, tenants: &[TenantId], workers_n: usize) -> anyhow::Result<()> {
    let targets = sample(db, &tenants[..tenants.len().min(50)], 80).await?;
    let mut deliveries = Vec::with_capacity(targets.len());
    for chunk in targets.chunk_by(|a, b| a.0 == b.0) {
        let tenant = chunk[0].0;
        let account = format!("acct_bench{}", tenant.as_uuid().simple());
        let mut platform = db.platform_tx().await?;
        sqlx::query(
            "INSERT INTO stripe_accounts (account_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
            .bind(&account)
            .bind(tenant.as_uuid())
            .execute(platform.conn())
            .await?;
        platform.commit().await?;
        let subscribers: Vec<uuid::Uuid> = chunk.iter().map(|(_, s)| *s).collect();
        let mut tx = db.tenant_tx(tenant).await?;
        let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as(
            "WITH p AS (SELECT s, gen_random_uuid() AS id FROM unnest($2::uuid[]) s) \
             INSERT INTO online_payments (tenant_id, id, subscriber_id, purpose, amount_minor, currency, stripe_account, checkout_session) \
             SELECT $1, p.id, p.s, 'top_up', 10000, 'RUB', $3, 'cs_bench_' || replace(p.id::text, '-', '') FROM p \
             RETURNING id, checkout_session",
        )
        .bind(tenant.as_uuid())
        .bind(&subscribers)
        .bind(&account)
        .fetch_all(tx.conn())
        .await?;
        tx.commit().await?;
        for (i, (payment, session)) in rows.into_iter().enumerate() {
            let event = format!("evt_bench_{}", payment.simple());
            let payload = completed_event(&event, &account, &session, payment);
            deliveries.push(payload.clone());
            if i % 10 == 0 {
                deliveries.push(payload);
            }
        }
    }
    let stripe = Arc::new(Stripe::new(&StripeSettings {
        secret_key: "sk_test_bench".into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        api_base: Some("http://127.0.0.1:9/".into()),
    })?);
    let deliveries = Arc::new(deliveries);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..workers_n {
        let (db, stripe, deliveries, next) =
            (db.clone(), stripe.clone(), deliveries.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let (mut applied, mut duplicates) = (0_u64, 0_u64);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(payload) = deliveries.get(i) else {
                    break;
                };
                let now = Utc::now();
                let signature = stripe_signature(payload, now.timestamp());
                match handle_webhook(&db, &stripe, payload, &signature, now).await? {
                    WebhookOutcome::Applied(_) => applied += 1,
                    WebhookOutcome::Duplicate => duplicates += 1,
                    WebhookOutcome::Ignored(why) => anyhow::bail!("webhook ignored: {why}"),
                    WebhookOutcome::Saas(_) => anyhow::bail!("unexpected platform invoice event"),
                }
            }
            anyhow::Ok((applied, duplicates))
        }));
    }
    let (mut applied, mut duplicates) = (0, 0);
    for worker in workers {
        let (a, d) = worker.await??;
        applied += a;
        duplicates += d;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "RESULT webhook apply: {} deliveries ({applied} credited, {duplicates} duplicates dropped) in {elapsed:.2} s \
         = {:.0}/s ({workers_n} workers, signature check + dedupe + ledger credit each)",
        deliveries.len(),
        deliveries.len() as f64 / elapsed.max(1e-9)
    );
    Ok(())
}

/// Sessions for sampled subscribers, the real gateway on a loopback port, and `levels` of concurrent
/// clients, each level requesting every dashboard three times.
async fn dashboard(db: &Database, tenants: &[TenantId], levels: &[usize]) -> anyhow::Result<()> {
    let users = sample(db, &tenants[..tenants.len().min(100)], 10).await?;
    let mut slugs = std::collections::HashMap::new();
    {
        let mut platform = db.platform_tx().await?;
        let rows: Vec<(uuid::Uuid, String)> =
            sqlx::query_as("SELECT id, slug FROM tenants WHERE slug LIKE 'bench%'")
                .fetch_all(platform.conn())
                .await?;
        platform.commit().await?;
        slugs.extend(rows);
    }
    let mut clients = Vec::new();
    for chunk in users.chunk_by(|a, b| a.0 == b.0) {
        let tenant = chunk[0].0;
        let subscribers: Vec<uuid::Uuid> = chunk.iter().map(|(_, s)| *s).collect();
        // Cookie values are 43 URL-safe characters; the database keeps only their SHA-256.
        let tokens: Vec<String> = subscribers
            .iter()
            .map(|s| format!("bench{}", &s.simple().to_string()[..32]) + "012345")
            .collect();
        let mut tx = db.tenant_tx(tenant).await?;
        sqlx::query(
            "INSERT INTO sessions (tenant_id, id, token_hash, subscriber_id, csrf_token, expires_at) \
             SELECT $1, gen_random_uuid(), sha256(convert_to(t, 'UTF8')), s, 'bench', now() + interval '1 hour' \
             FROM unnest($2::uuid[], $3::text[]) AS x(s, t)",
        )
        .bind(tenant.as_uuid())
        .bind(&subscribers)
        .bind(&tokens)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        let slug = slugs
            .get(&tenant.as_uuid())
            .context("bench tenant slug")?
            .clone();
        clients.extend(tokens.into_iter().map(|t| (slug.clone(), t)));
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    drop(listener);
    let state = AppState::new(db.clone(), GatewayConfig::default());
    let app = build_app(state);
    let server = tokio::spawn(async move {
        poem::Server::new(poem::listener::TcpListener::bind(format!(
            "127.0.0.1:{port}"
        )))
        .run(app)
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let request = |slug: &str, token: &str| {
        http.get(format!("http://127.0.0.1:{port}/api/v1/me/dashboard"))
            .header("Host", format!("{slug}.localhost:{port}"))
            .header("Cookie", format!("kabinet_session={token}"))
    };
    // Warm-up: one request each (host cache, connection pool).
    for (slug, token) in clients.iter().take(50) {
        let status = request(slug, token).send().await?.status();
        anyhow::ensure!(status.is_success(), "dashboard answered {status}");
    }
    let clients = Arc::new(clients);
    for &concurrency in levels {
        let started = Instant::now();
        let mut workers = Vec::new();
        for w in 0..concurrency {
            let (clients, http) = (clients.clone(), http.clone());
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                for round in 0..3 {
                    for (i, (slug, token)) in clients.iter().enumerate() {
                        if (i + round) % concurrency != w {
                            continue;
                        }
                        let t = Instant::now();
                        let resp = http
                            .get(format!("http://127.0.0.1:{port}/api/v1/me/dashboard"))
                            .header("Host", format!("{slug}.localhost:{port}"))
                            .header("Cookie", format!("kabinet_session={token}"))
                            .send()
                            .await?;
                        let status = resp.status();
                        resp.bytes().await?;
                        anyhow::ensure!(status.is_success(), "dashboard answered {status}");
                        latencies.push(t.elapsed());
                    }
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for worker in workers {
            latencies.extend(worker.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        println!(
            "RESULT dashboard API (GET /api/v1/me/dashboard over HTTP, {concurrency} concurrent clients): \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} requests ({:.0} requests/s)",
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.99)),
            ms(latencies.last().copied().unwrap_or_default()),
            latencies.len(),
            latencies.len() as f64 / elapsed.max(1e-9)
        );
    }
    server.abort();
    Ok(())
}
