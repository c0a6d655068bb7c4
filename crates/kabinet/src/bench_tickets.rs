//! `kabinet bench tickets`: generates ISPs with tickets and messages (Russian and English text
//! from an ISP vocabulary) in a scratch database on the same server, then prints, measured at
//! the database through the same domain functions the API and the worker call:
//!
//! - agent-queue page latency (one statement per page), newest first, the keyset second page
//!   and a status filter;
//! - full-text search latency (first page of 20, ten queries in Russian and English: every
//!   vocabulary word is common, as "интернет" is on a real desk; one query needs four words and
//!   one finds nothing, the rare cases);
//! - the SLA worker ([`kabinet_ticketing::run_sla_escalations`]) over the measured tenant: a
//!   backlog round (every active ticket overdue and not yet escalated, e.g. after the worker
//!   was down) and steady rounds (nothing new), as tickets scanned per second.
//!
//! Each query runs once unmeasured before its measured runs, so the figures are for a warm
//! cache, as on a desk in use (a restarted server's first searches read from disk).
//!
//! With `--big-tenant N` the first ISP has N tickets and the others share the rest; queue and
//! search are then measured for that ISP and for a typical one.
//!
//! Loading is set-based and bulk, as a restore would be: per ISP one `INSERT … SELECT` per table
//! (`--load-jobs` ISPs at once), as superuser with `session_replication_role = replica` so no
//! per-row trigger runs (the search vectors are computed in the statement with the very function
//! the triggers call, `kabinet_search_vector`; nothing else those triggers do matters to an
//! empty desk: live NOTIFYs, incident links). The tickets' and messages' secondary indexes are
//! dropped before and rebuilt after the load from their own definitions, then `VACUUM ANALYZE`.
//!
//! A benchmark, not a test: it prints numbers and asserts nothing.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use kabinet_core::TenantId;
use kabinet_db::bootstrap::{drop_database, ensure_database, ensure_roles, with_user};
use kabinet_db::{APP_ROLE, Database, OWNER_ROLE, sqlx};
use kabinet_ticketing::search::{SearchQuery, SearchScope, search_tickets};
use kabinet_ticketing::{QueueFilter, Status, queue, run_sla_escalations};
use sqlx::{Connection, PgConnection};

pub struct TicketBenchOptions {
    pub tenants: u32,
    /// Tickets over all tenants (spread evenly unless `big_tenant` is set).
    pub tickets: u64,
    pub messages_per_ticket: u32,
    /// Tickets of the first tenant; the others share the rest. 0: an even share like the others.
    pub big_tenant: u64,
    /// Runs per kind of query.
    pub queries: u32,
    /// Tenants loaded at once (database connections during the load).
    pub load_jobs: usize,
    /// Measure a database an earlier `--keep` run loaded instead of loading a new one (kept).
    pub reuse: Option<String>,
    pub keep: bool,
}

/// Words tickets are written in: Russian in several grammatical forms, and English, so the
/// stemmers have real work and common words match many rows, as on a real desk.
const VOCABULARY: &[&str] = &[
    "интернет",
    "интернета",
    "интернету",
    "подключение",
    "подключения",
    "подключением",
    "роутер",
    "роутера",
    "роутером",
    "скорость",
    "скорости",
    "низкая",
    "пропадает",
    "пропал",
    "не",
    "работает",
    "работал",
    "вечером",
    "утром",
    "каждый",
    "день",
    "оплата",
    "оплатил",
    "картой",
    "баланс",
    "баланса",
    "списание",
    "списали",
    "тариф",
    "тарифа",
    "сменить",
    "кабель",
    "кабеля",
    "обрыв",
    "лампочка",
    "горит",
    "мигает",
    "красным",
    "терминал",
    "оптика",
    "wi-fi",
    "пароль",
    "сеть",
    "сети",
    "телевидение",
    "iptv",
    "каналы",
    "приставка",
    "договор",
    "адрес",
    "переезд",
    "жалоба",
    "мастер",
    "приезжал",
    "ждать",
    "когда",
    "почему",
    "снова",
    "опять",
    "помогите",
    "срочно",
    "пожалуйста",
    "спасибо",
    "здравствуйте",
    "connection",
    "connections",
    "internet",
    "slow",
    "speed",
    "drops",
    "dropping",
    "router",
    "payment",
    "paid",
    "card",
    "invoice",
    "bill",
    "tariff",
    "cable",
    "outage",
    "down",
    "since",
    "morning",
    "evening",
    "again",
    "please",
    "help",
    "wifi",
    "password",
    "network",
    "technician",
    "visit",
    "refund",
    "charged",
    "twice",
    "upgrade",
    "plan",
];

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

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "RESULT {label}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} runs)",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(times.last().copied().unwrap_or_default()),
        times.len()
    );
}

pub async fn tickets(admin_url: &str, opts: TicketBenchOptions) -> anyhow::Result<()> {
    let name = format!(
        "kabinet_bench_tickets_{}",
        Utc::now().format("%Y%m%d%H%M%S")
    );
    if let Some(name) = &opts.reuse {
        return measure(admin_url, name, &opts).await;
    }
    ensure_roles(admin_url).await?;
    ensure_database(admin_url, &name).await?;
    let result = run(admin_url, &name, &opts).await;
    if !opts.keep {
        drop_database(admin_url, &name).await?;
    }
    result
}

/// A superuser connection to the scratch database (the admin URL's user, on `name`).
async fn admin_conn(admin_url: &str, name: &str) -> anyhow::Result<PgConnection> {
    let options: sqlx::postgres::PgConnectOptions = admin_url.parse()?;
    Ok(PgConnection::connect_with(&options.database(name)).await?)
}

async fn run(admin_url: &str, name: &str, opts: &TicketBenchOptions) -> anyhow::Result<()> {
    let owner_url = with_user(admin_url, OWNER_ROLE, Some(name))?;
    kabinet_db::migrate(&owner_url).await?;
    let db = Database::connect(&with_user(admin_url, APP_ROLE, Some(name))?, 4).await?;
    let tenants_n = opts.tenants.max(1);
    let counts: Vec<u64> = (0..tenants_n)
        .map(|t| match (t, opts.big_tenant) {
            (_, 0) => opts.tickets / u64::from(tenants_n),
            (0, big) => big,
            (_, big) => opts.tickets.saturating_sub(big) / u64::from(tenants_n - 1).max(1),
        })
        .collect();
    let total: u64 = counts.iter().sum();
    println!(
        "bench tickets: {} tenants, {total} tickets ({} per tenant{}), {} messages each = {} messages \
         (database {name})",
        tenants_n,
        counts.last().copied().unwrap_or_default(),
        if opts.big_tenant > 0 {
            format!("; the first tenant {}", opts.big_tenant)
        } else {
            String::new()
        },
        opts.messages_per_ticket,
        total * u64::from(opts.messages_per_ticket)
    );

    load(admin_url, name, &counts, opts).await?;
    db.close().await;
    measure(admin_url, name, opts).await
}

/// Queue, search and SLA figures for the first tenant and, when it is the big one, a typical
/// one (`tbench2`).
async fn measure(admin_url: &str, name: &str, opts: &TicketBenchOptions) -> anyhow::Result<()> {
    let db = Database::connect(&with_user(admin_url, APP_ROLE, Some(name))?, 4).await?;
    let mut admin = admin_conn(admin_url, name).await?;
    // `ensure_database` marks `@@`'s function leakproof, as `deploy/postgres/roles.sql` sets up
    // a server: under row-level security PostgreSQL uses it as a GIN index condition only then
    // (see `kabinet_ticketing::search`). KABINET_BENCH_NO_LEAKPROOF measures without it: rare
    // words are then found by walking the newest rows.
    if std::env::var_os("KABINET_BENCH_NO_LEAKPROOF").is_some() {
        sqlx::query("ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) NOT LEAKPROOF")
            .execute(&mut admin)
            .await?;
    }
    let leakproof: bool = sqlx::query_scalar(
        "SELECT proleakproof FROM pg_proc WHERE oid = 'ts_match_vq(tsvector, tsquery)'::regprocedure",
    )
    .fetch_one(&mut admin)
    .await?;
    println!(
        "  ts_match_vq leakproof: {leakproof} (KABINET_BENCH_NO_LEAKPROOF set: measure without it)"
    );
    let rows: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
        "SELECT n.id, (SELECT count(*) FROM tickets t WHERE t.tenant_id = n.id) FROM tenants n \
         WHERE n.slug IN ('tbench1', 'tbench2') ORDER BY n.slug",
    )
    .fetch_all(&mut admin)
    .await?;
    admin.close().await?;
    let mut measured: Vec<(TenantId, u64)> = rows
        .into_iter()
        .map(|(id, n)| (TenantId(id), n as u64))
        .collect();
    let &(big, big_count) = measured.first().context("no tenants")?;
    if measured.get(1).is_some_and(|t| t.1 == big_count) {
        measured.truncate(1);
    }
    for &(tenant, count) in &measured {
        println!("measuring a tenant with {count} tickets");
        measure_queue(&db, tenant, count, opts.queries).await?;
        // A search over a very large tenant takes seconds: a few runs tell as much.
        let runs = if count > 20_000 {
            opts.queries.min(5)
        } else {
            opts.queries
        };
        measure_search(&db, tenant, count, runs).await?;
    }
    measure_sla(&db, big, big_count).await?;
    db.close().await;
    Ok(())
}

/// Tenants and subscribers with their triggers (categories, plan limits); tickets and messages
/// in bulk; indexes rebuilt; `VACUUM ANALYZE`. Returns the tenants in order.
async fn load(
    admin_url: &str,
    name: &str,
    counts: &[u64],
    opts: &TicketBenchOptions,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut admin = admin_conn(admin_url, name).await?;
    let tenants: Vec<TenantId> = counts.iter().map(|_| TenantId::new()).collect();
    let ids: Vec<uuid::Uuid> = tenants.iter().map(|t| t.as_uuid()).collect();
    let subs: Vec<i64> = counts.iter().map(|c| (*c as i64 / 4).max(1)).collect();
    sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, saas_plan, currency) \
         SELECT id, 'tbench' || n, 'Ticket bench ISP ' || n, 'pro', 'RUB' \
         FROM unnest($1::uuid[]) WITH ORDINALITY AS x(id, n)",
    )
    .bind(&ids)
    .execute(&mut admin)
    .await?;
    sqlx::query(
        "INSERT INTO subscribers (tenant_id, id, account_number, full_name) \
         SELECT x.id, gen_random_uuid(), 'T' || g, 'Bench subscriber ' || g \
         FROM unnest($1::uuid[], $2::bigint[]) AS x(id, n) CROSS JOIN LATERAL generate_series(1, x.n) g",
    )
    .bind(&ids)
    .bind(&subs)
    .execute(&mut admin)
    .await?;

    // The secondary indexes (not those behind constraints), rebuilt after the load.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.relname::text, pg_get_indexdef(i.oid) FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         WHERE t.relname IN ('tickets', 'ticket_messages') AND t.relnamespace = 'public'::regnamespace \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
         ORDER BY t.relname DESC, i.relname",
    )
    .fetch_all(&mut admin)
    .await?;
    for (index, _) in &indexes {
        sqlx::query(&format!("DROP INDEX {index}"))
            .execute(&mut admin)
            .await?;
    }
    println!(
        "  tenants and {} subscribers in {:.1} s; {} secondary indexes dropped for the load",
        subs.iter().sum::<i64>(),
        started.elapsed().as_secs_f64(),
        indexes.len()
    );

    // `load_jobs` connections, each taking the next tenant.
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let work: std::sync::Arc<Vec<(TenantId, u64)>> = std::sync::Arc::new(
        tenants
            .iter()
            .copied()
            .zip(counts.iter().copied())
            .collect(),
    );
    let mut jobs = Vec::new();
    for _ in 0..opts.load_jobs.max(1) {
        let mut conn = admin_conn(admin_url, name).await?;
        let (next, work) = (next.clone(), work.clone());
        let messages = opts.messages_per_ticket;
        jobs.push(tokio::spawn(async move {
            sqlx::query("SET session_replication_role = replica")
                .execute(&mut conn)
                .await?;
            sqlx::query("SET synchronous_commit = off")
                .execute(&mut conn)
                .await?;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(tenant, count)) = work.get(i) else {
                    break;
                };
                generate(&mut conn, tenant, count, messages).await?;
                if (i + 1) % 20 == 0 {
                    println!(
                        "  … {} tenants loaded ({:.0} s)",
                        i + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            anyhow::Ok(())
        }));
    }
    for job in jobs {
        job.await??;
    }
    println!(
        "  tickets and messages loaded at {:.1} s; rebuilding indexes",
        started.elapsed().as_secs_f64()
    );

    // Index builds, `load_jobs` at once, the messages' first (popped from the end) so the
    // long GIN build overlaps the others.
    let defs = std::sync::Arc::new(std::sync::Mutex::new(indexes));
    let mut jobs = Vec::new();
    for _ in 0..opts.load_jobs.max(1) {
        let mut conn = admin_conn(admin_url, name).await?;
        let defs = defs.clone();
        jobs.push(tokio::spawn(async move {
            sqlx::query("SET maintenance_work_mem = '512MB'")
                .execute(&mut conn)
                .await?;
            loop {
                let def = defs.lock().ok().and_then(|mut d| d.pop());
                let Some((_, def)) = def else { break };
                sqlx::query(&def).execute(&mut conn).await?;
            }
            anyhow::Ok(())
        }));
    }
    for job in jobs {
        job.await??;
    }
    println!(
        "  indexes rebuilt at {:.1} s; VACUUM ANALYZE",
        started.elapsed().as_secs_f64()
    );
    sqlx::query("VACUUM ANALYZE tickets, ticket_messages, subscribers")
        .execute(&mut admin)
        .await?;
    let size: String = sqlx::query_scalar(
        "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c \
         WHERE c.relname IN ('tickets', 'ticket_messages')",
    )
    .fetch_one(&mut admin)
    .await?;
    println!(
        "RESULT load: {} tickets and their messages in {:.1} s (tickets + messages with indexes: {size})",
        counts.iter().sum::<u64>(),
        started.elapsed().as_secs_f64()
    );
    admin.close().await?;
    Ok(())
}

/// One tenant's tickets (from `count / 4` subscribers) and `messages` messages per ticket, one
/// statement each. Active tickets (new, open) get SLA due and warning instants as the desk
/// stores them (first response 4 h, resolution 24 h, warnings at 80 %), none escalated yet.
async fn generate(
    conn: &mut PgConnection,
    tenant: TenantId,
    count: u64,
    messages: u32,
) -> anyhow::Result<()> {
    let count = i64::try_from(count)?;
    // A subject of 3–6 words and bodies of 8–30; `g` in the word subquery makes it run per row.
    sqlx::query(
        "WITH subs AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM subscribers WHERE tenant_id = $1), \
         src AS ( \
           SELECT g, subs.id AS subscriber_id, \
                  (SELECT string_agg(($3::text[])[1 + floor(random() * cardinality($3::text[]))::int], ' ') \
                     FROM generate_series(1, 3 + (g % 4))) AS subject, \
                  (ARRAY['new','open','waiting_on_customer','resolved','closed','closed','closed','closed'])[1 + g % 8] AS status, \
                  now() - make_interval(mins => (g * 7)::int) AS created_at \
           FROM generate_series(1, $2) g JOIN subs ON subs.n = 1 + g % (SELECT count(*) FROM subs)) \
         INSERT INTO tickets (tenant_id, id, number, subscriber_id, category, subject, status, priority, \
                              created_at, updated_at, search_tsv, sla_first_response_minutes, sla_resolution_minutes, \
                              sla_raise_on_breach, first_response_due_at, first_response_warn_at, \
                              resolution_due_at, resolution_warn_at) \
         SELECT $1, gen_random_uuid(), g, subscriber_id, \
                (ARRAY['connectivity','speed','payments','tariff','addons','equipment','complaint','other'])[1 + g % 8], \
                subject, status, (ARRAY['low','normal','normal','high','urgent'])[1 + g % 5], \
                created_at, now() - make_interval(mins => (g * 5)::int), kabinet_search_vector(subject, NULL), \
                240, 1440, g % 2 = 0, \
                CASE WHEN status IN ('new', 'open') THEN created_at + interval '4 hours' END, \
                CASE WHEN status IN ('new', 'open') THEN created_at + interval '192 minutes' END, \
                CASE WHEN status IN ('new', 'open') THEN created_at + interval '24 hours' END, \
                CASE WHEN status IN ('new', 'open') THEN created_at + interval '1152 minutes' END \
         FROM src",
    )
    .bind(tenant.as_uuid())
    .bind(count)
    .bind(VOCABULARY)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO ticket_messages (tenant_id, id, ticket_id, author_subscriber_id, body, created_at, search_tsv) \
         SELECT $1, gen_random_uuid(), ticket_id, subscriber_id, body, created_at, kabinet_search_vector(NULL, body) \
         FROM (SELECT t.id AS ticket_id, t.subscriber_id, \
                      (SELECT string_agg(($3::text[])[1 + floor(random() * cardinality($3::text[]))::int], ' ') \
                         FROM generate_series(1, 8 + ((t.number + m) % 23))) AS body, \
                      t.created_at + make_interval(mins => m::int) AS created_at \
               FROM tickets t CROSS JOIN generate_series(1, $2) m WHERE t.tenant_id = $1) AS src",
    )
    .bind(tenant.as_uuid())
    .bind(i64::from(messages))
    .bind(VOCABULARY)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO ticket_counters (tenant_id, last_number) VALUES ($1, $2)")
        .bind(tenant.as_uuid())
        .bind(count)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn measure_queue(
    db: &Database,
    tenant: TenantId,
    count: u64,
    queries: u32,
) -> anyhow::Result<()> {
    let mut first = Vec::new();
    let mut next = Vec::new();
    let mut open = Vec::new();
    // Run 0 warms the cache and is not counted.
    for run in 0..=queries {
        let counted = run > 0;
        let t0 = Instant::now();
        let mut tx = db.tenant_tx(tenant).await?;
        let page = queue(&mut tx, &QueueFilter::default(), None, 50).await?;
        tx.commit().await?;
        if counted {
            first.push(t0.elapsed());
        }
        let t0 = Instant::now();
        let mut tx = db.tenant_tx(tenant).await?;
        queue(&mut tx, &QueueFilter::default(), page.next, 50).await?;
        tx.commit().await?;
        if counted {
            next.push(t0.elapsed());
        }
        let t0 = Instant::now();
        let mut tx = db.tenant_tx(tenant).await?;
        let filter = QueueFilter {
            status: Some(Status::Open),
            ..QueueFilter::default()
        };
        queue(&mut tx, &filter, None, 50).await?;
        tx.commit().await?;
        if counted {
            open.push(t0.elapsed());
        }
    }
    report(
        &format!("queue page of 50, newest first ({count}-ticket tenant)"),
        first,
    );
    report(
        &format!("queue page of 50, second page by keyset ({count}-ticket tenant)"),
        next,
    );
    report(
        &format!("queue page of 50, status open ({count}-ticket tenant)"),
        open,
    );
    Ok(())
}

async fn measure_search(
    db: &Database,
    tenant: TenantId,
    count: u64,
    queries: u32,
) -> anyhow::Result<()> {
    let searches = [
        "подключение",
        "роутер не работает",
        "низкая скорость вечером",
        "оплата картой",
        "connection",
        "slow internet",
        "\"charged twice\"",
        "refund -card",
        // Every vocabulary word is common (each is in a fifth or more of the messages, forms of
        // one stem more); these two are rarer: four words at once, and a word nobody wrote.
        "оптика терминал мигает красным",
        "гарантия",
    ];
    let mut all = Vec::new();
    for q in searches {
        let query = SearchQuery::parse(q)?;
        let mut times = Vec::new();
        let mut hits = 0;
        // Run 0 warms the cache and is not counted.
        for run in 0..=queries {
            let t0 = Instant::now();
            let mut tx = db.tenant_tx(tenant).await?;
            let page = search_tickets(&mut tx, SearchScope::Staff, &query, None, 20).await?;
            tx.commit().await?;
            if run > 0 {
                times.push(t0.elapsed());
            }
            hits = page.items.len();
        }
        times.sort();
        println!(
            "  search {q:<28} p50 {:.2} ms, p99 {:.2} ms ({hits} on the first page)",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
        all.extend(times);
    }
    report(
        &format!("search, first page of 20, all queries ({count}-ticket tenant)"),
        all,
    );
    Ok(())
}

/// The SLA worker's escalation scan over one tenant, as the scheduler's round runs it (one
/// transaction): first over the backlog the load left (every active ticket overdue and not
/// escalated), then steady rounds with nothing new.
async fn measure_sla(db: &Database, tenant: TenantId, count: u64) -> anyhow::Result<()> {
    let active: i64 = {
        let mut tx = db.tenant_tx(tenant).await?;
        let n = sqlx::query_scalar(
            "SELECT count(*) FROM tickets WHERE tenant_id = $1 AND status IN ('new', 'open')",
        )
        .bind(tenant.as_uuid())
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        n
    };
    let t0 = Instant::now();
    let mut tx = db.tenant_tx(tenant).await?;
    let backlog = run_sla_escalations(&mut tx, Utc::now()).await?;
    tx.commit().await?;
    let elapsed = t0.elapsed();
    println!(
        "RESULT SLA worker, backlog round over a {count}-ticket tenant ({active} active): {:.2} s \
         = {:.0} tickets scanned/s ({} warnings, {} breaches, {} priorities raised)",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64().max(1e-9),
        backlog.warnings,
        backlog.breaches,
        backlog.raised
    );
    let mut rounds = Vec::new();
    for _ in 0..10 {
        let t0 = Instant::now();
        let mut tx = db.tenant_tx(tenant).await?;
        run_sla_escalations(&mut tx, Utc::now()).await?;
        tx.commit().await?;
        rounds.push(t0.elapsed());
    }
    rounds.sort();
    let p50 = percentile(&rounds, 0.5);
    println!(
        "RESULT SLA worker, steady round over a {count}-ticket tenant ({active} active): p50 {:.2} ms, \
         max {:.2} ms = {:.0} tickets scanned/s",
        ms(p50),
        ms(rounds.last().copied().unwrap_or_default()),
        count as f64 / p50.as_secs_f64().max(1e-9)
    );
    Ok(())
}
