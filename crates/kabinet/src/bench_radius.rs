//! `kabinet bench radius`: generates ISPs with service logins (and a NAS each) in a scratch
//! database, serves the internal listener in-process and drives it over HTTP as FreeRADIUS's
//! `rest` module does: authorizations (PAP, checked against the sealed password) and
//! accounting (Start, then Interim-Update), from concurrent clients. Prints requests per second
//! and latency percentiles. A benchmark, not a test: it asserts nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use kabinet_access::SecretKey;
use kabinet_core::TenantId;
use kabinet_db::bootstrap::{drop_database, ensure_database, ensure_roles, with_user};
use kabinet_db::{APP_ROLE, Database, OWNER_ROLE, sqlx};
use kabinet_gateway::{AppState, GatewayConfig, build_internal_app};
use kabinet_network::{NasSpec, Vendor};
use serde_json::json;
use uuid::Uuid;

pub struct RadiusBenchOptions {
    pub tenants: u32,
    pub logins_per_tenant: u32,
    pub requests: usize,
    pub concurrency: Vec<usize>,
    pub keep: bool,
}

const TOKEN: &str = "bench-radius-token";
const PASSWORD: &str = "bench-password";

fn nas_address(t: u32) -> String {
    format!("10.{}.{}.{}", 1 + t / 62_500, (t / 250) % 250, 1 + t % 250)
}

pub async fn radius(admin_url: &str, opts: RadiusBenchOptions) -> anyhow::Result<()> {
    let name = format!("kabinet_bench_radius_{}", Utc::now().format("%Y%m%d%H%M%S"));
    ensure_roles(admin_url).await?;
    ensure_database(admin_url, &name).await?;
    let result = run(admin_url, &name, &opts).await;
    if !opts.keep {
        drop_database(admin_url, &name).await?;
    }
    result
}

async fn run(admin_url: &str, name: &str, opts: &RadiusBenchOptions) -> anyhow::Result<()> {
    kabinet_db::migrate(&with_user(admin_url, OWNER_ROLE, Some(name))?).await?;
    let db = Database::connect(&with_user(admin_url, APP_ROLE, Some(name))?, 32).await?;
    let key = SecretKey::development();
    let total = u64::from(opts.tenants) * u64::from(opts.logins_per_tenant);
    println!(
        "bench radius: {} tenants × {} service logins = {total} logins (database {name})",
        opts.tenants, opts.logins_per_tenant
    );
    let started = Instant::now();
    generate(&db, &key, opts).await?;
    println!("  generated in {:.1} s", started.elapsed().as_secs_f64());

    let config = GatewayConfig {
        secret_key: key,
        ..GatewayConfig::default()
    };
    let state = AppState::new(db.clone(), config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let acceptor = poem::listener::TcpAcceptor::from_std(listener)?;
    let app = build_internal_app(state, TOKEN.into());
    let server = tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    let base = format!("http://{addr}");
    for &c in &opts.concurrency {
        drive(&base, opts, c, Kind::Authorize).await?;
    }
    for &c in &opts.concurrency {
        drive(&base, opts, c, Kind::Accounting).await?;
    }
    server.abort();
    db.close().await;
    Ok(())
}

async fn generate(db: &Database, key: &SecretKey, opts: &RadiusBenchOptions) -> anyhow::Result<()> {
    for t in 0..opts.tenants {
        let tenant = TenantId::new();
        let mut tx = db.tenant_tx(tenant).await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, display_name, saas_plan, currency) VALUES ($1, $2, $3, 'pro', 'RUB')",
        )
        .bind(tenant.as_uuid())
        .bind(format!("radius{t}"))
        .bind(format!("Radius ISP {t}"))
        .execute(tx.conn())
        .await?;
        let subscribers: Vec<Uuid> = sqlx::query_scalar(
            "WITH tariff AS ( \
               INSERT INTO tariffs (tenant_id, id, code, name, monthly_price_minor, currency, speed_mbps, upload_speed_mbps) \
               VALUES ($1, gen_random_uuid(), 'home', 'Home', 50000, 'RUB', 100, 50) RETURNING id), \
             subs AS ( \
               INSERT INTO subscribers (tenant_id, id, account_number, full_name) \
               SELECT $1, gen_random_uuid(), 'R' || g, 'Radius subscriber ' || g FROM generate_series(1, $2) g \
               RETURNING id), \
             acc AS ( \
               INSERT INTO accounts (tenant_id, subscriber_id, tariff_id, currency) \
               SELECT $1, subs.id, tariff.id, 'RUB' FROM subs, tariff RETURNING subscriber_id) \
             SELECT subscriber_id FROM acc",
        )
        .bind(tenant.as_uuid())
        .bind(i64::from(opts.logins_per_tenant))
        .fetch_all(tx.conn())
        .await?;
        kabinet_network::nas::register(
            &mut tx,
            key,
            &NasSpec {
                name: "bench".into(),
                address: nas_address(t).parse()?,
                vendor: Vendor::Mikrotik,
                area: String::new(),
                coa_port: 3799,
            },
        )
        .await?;
        let ids: Vec<Uuid> = subscribers.iter().map(|_| Uuid::now_v7()).collect();
        let names: Vec<String> = (0..subscribers.len()).map(|i| format!("user{i}")).collect();
        let sealed: Vec<Vec<u8>> = ids
            .iter()
            .map(|id| kabinet_network::logins::seal_password(key, tenant, *id, PASSWORD))
            .collect::<Result<_, _>>()?;
        sqlx::query(
            "INSERT INTO service_logins (tenant_id, id, subscriber_id, kind, username, password_sealed) \
             SELECT $1, i, s, 'pppoe', u, p FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::bytea[]) AS x(i, s, u, p)",
        )
        .bind(tenant.as_uuid())
        .bind(&ids)
        .bind(&subscribers)
        .bind(&names)
        .bind(&sealed)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        if (t + 1) % 25 == 0 {
            println!("  … {} tenants generated", t + 1);
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Authorize,
    Accounting,
}

async fn drive(
    base: &str,
    opts: &RadiusBenchOptions,
    concurrency: usize,
    kind: Kind,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let http = http.clone();
        let next = next.clone();
        let failures = failures.clone();
        let base = base.to_owned();
        let (tenants, per) = (opts.tenants, opts.logins_per_tenant);
        let limit = opts.requests;
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= limit {
                    break;
                }
                // Spread over every ISP and login (a cheap multiplicative hash of n).
                let h = (n as u64).wrapping_mul(2_654_435_761) as usize;
                let t = (h % tenants as usize) as u32;
                let user = format!("user{}", (h / tenants as usize) % per as usize);
                let src = nas_address(t);
                let (path, body) = match kind {
                    Kind::Authorize => (
                        "authorize",
                        json!({"User-Name": {"type": "string", "value": [user]},
                               "User-Password": {"type": "string", "value": [PASSWORD]}}),
                    ),
                    Kind::Accounting => (
                        "accounting",
                        json!({"Acct-Status-Type": {"type": "integer", "value": [if n.is_multiple_of(2) { "Start" } else { "Interim-Update" }]},
                               "User-Name": {"type": "string", "value": [user]},
                               "Acct-Session-Id": {"type": "string", "value": [format!("s{}", n / 2)]},
                               "Acct-Input-Octets": {"type": "integer", "value": [n * 1000]},
                               "Acct-Output-Octets": {"type": "integer", "value": [n * 4000]}}),
                    ),
                };
                let sent = Instant::now();
                let ok = http
                    .post(format!("{base}/radius/{path}?src={src}"))
                    .bearer_auth(TOKEN)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                latencies.push(sent.elapsed());
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for w in workers {
        all.extend(w.await?);
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| {
        let idx = ((all.len() as f64 - 1.0) * p).round() as usize;
        all.get(idx).copied().unwrap_or_default().as_secs_f64() * 1000.0
    };
    println!(
        "RESULT {} at Kabinet's internal endpoint, {concurrency} concurrent: {} requests in {:.2} s = {:.0} req/s; \
         p50 {:.2} ms, p99 {:.2} ms; {} failed",
        if kind == Kind::Authorize {
            "authorize"
        } else {
            "accounting"
        },
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        pct(0.5),
        pct(0.99),
        failures.load(Ordering::Relaxed)
    );
    Ok(())
}
