//! `kabinet bench tickets`: generates ISPs with tickets and messages (Russian and English text
//! from an ISP vocabulary) in a scratch database on the same server, set-based, then prints
//! full-text search latency and agent-queue page latency for one tenant, measured at the
//! database through the same domain functions the API calls (one statement per page).
//!
//! A benchmark, not a test: it prints numbers and asserts nothing.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use kabinet_core::TenantId;
use kabinet_db::bootstrap::{drop_database, ensure_database, ensure_roles, with_user};
use kabinet_db::{APP_ROLE, Database, OWNER_ROLE, sqlx};
use kabinet_ticketing::search::{SearchQuery, SearchScope, search_tickets};
use kabinet_ticketing::{QueueFilter, Status, queue};

pub struct TicketBenchOptions {
    pub tenants: u32,
    /// Tickets over all tenants (spread evenly unless `big_tenant` is set).
    pub tickets: u64,
    pub messages_per_ticket: u32,
    /// Tickets of the measured tenant (tenant 0); 0: an even share like the others.
    pub big_tenant: u64,
    /// Runs per kind of query.
    pub queries: u32,
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
    ensure_roles(admin_url).await?;
    ensure_database(admin_url, &name).await?;
    let result = run(admin_url, &name, &opts).await;
    if !opts.keep {
        drop_database(admin_url, &name).await?;
    }
    result
}

async fn run(admin_url: &str, name: &str, opts: &TicketBenchOptions) -> anyhow::Result<()> {
    let owner_url = with_user(admin_url, OWNER_ROLE, Some(name))?;
    kabinet_db::migrate(&owner_url).await?;
    let db = Database::connect(&with_user(admin_url, APP_ROLE, Some(name))?, 4).await?;
    let even = opts.tickets / u64::from(opts.tenants.max(1));
    println!(
        "bench tickets: {} tenants, {} tickets ({} per tenant{}), {} messages each (database {name})",
        opts.tenants,
        opts.tickets,
        even,
        if opts.big_tenant > 0 {
            format!("; the measured tenant {}", opts.big_tenant)
        } else {
            String::new()
        },
        opts.messages_per_ticket
    );
    let started = Instant::now();
    let mut measured = None;
    for t in 0..opts.tenants {
        let count = if t == 0 && opts.big_tenant > 0 {
            opts.big_tenant
        } else {
            even
        };
        let tenant = generate(&db, t, count, opts.messages_per_ticket).await?;
        measured.get_or_insert(tenant);
        if (t + 1) % 20 == 0 {
            println!(
                "  … {} tenants generated ({:.0} s)",
                t + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "  generated in {:.1} s; analysing",
        started.elapsed().as_secs_f64()
    );
    {
        use sqlx::Connection;
        let mut owner = sqlx::PgConnection::connect(&owner_url).await?;
        sqlx::query("ANALYZE").execute(&mut owner).await?;
        let size: String = sqlx::query_scalar(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c \
             WHERE c.relname IN ('tickets', 'ticket_messages')",
        )
        .fetch_one(&mut owner)
        .await?;
        println!("  tickets + messages with indexes: {size}");
    }
    let tenant = measured.context("no tenants")?;

    let searches = [
        "подключение",
        "роутер не работает",
        "низкая скорость вечером",
        "оплата картой",
        "connection",
        "slow internet",
        "\"charged twice\"",
        "refund -card",
    ];
    let mut all = Vec::new();
    for q in searches {
        let query = SearchQuery::parse(q)?;
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..opts.queries {
            let t0 = Instant::now();
            let mut tx = db.tenant_tx(tenant).await?;
            let page = search_tickets(&mut tx, SearchScope::Staff, &query, None, 20).await?;
            tx.commit().await?;
            times.push(t0.elapsed());
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
    report("search, first page of 20, all queries", all);

    let mut first = Vec::new();
    let mut next = Vec::new();
    let mut open = Vec::new();
    for _ in 0..opts.queries {
        let t0 = Instant::now();
        let mut tx = db.tenant_tx(tenant).await?;
        let page = queue(&mut tx, &QueueFilter::default(), None, 50).await?;
        tx.commit().await?;
        first.push(t0.elapsed());
        let t0 = Instant::now();
        let mut tx = db.tenant_tx(tenant).await?;
        queue(&mut tx, &QueueFilter::default(), page.next, 50).await?;
        tx.commit().await?;
        next.push(t0.elapsed());
        let t0 = Instant::now();
        let mut tx = db.tenant_tx(tenant).await?;
        let filter = QueueFilter {
            status: Some(Status::Open),
            ..QueueFilter::default()
        };
        queue(&mut tx, &filter, None, 50).await?;
        tx.commit().await?;
        open.push(t0.elapsed());
    }
    report("queue page of 50, newest first", first);
    report("queue page of 50, second page (keyset)", next);
    report("queue page of 50, status open", open);
    db.close().await;
    Ok(())
}

/// One tenant with `count` tickets from `count / 4` subscribers and `messages` messages per
/// ticket, set-based: one statement per table.
async fn generate(
    db: &Database,
    index: u32,
    count: u64,
    messages: u32,
) -> anyhow::Result<TenantId> {
    let tenant = TenantId::new();
    let mut tx = db.tenant_tx(tenant).await?;
    sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, saas_plan, currency) VALUES ($1, $2, $3, 'pro', 'RUB')",
    )
    .bind(tenant.as_uuid())
    .bind(format!("tbench{index}"))
    .bind(format!("Ticket bench ISP {index}"))
    .execute(tx.conn())
    .await?;
    let count = i64::try_from(count)?;
    let subscribers = (count / 4).max(1);
    sqlx::query(
        "INSERT INTO subscribers (tenant_id, id, account_number, full_name) \
         SELECT $1, gen_random_uuid(), 'T' || g, 'Bench subscriber ' || g FROM generate_series(1, $2) g",
    )
    .bind(tenant.as_uuid())
    .bind(subscribers)
    .execute(tx.conn())
    .await?;
    // A subject of 3–6 words and bodies of 8–30; `g` in the word subquery makes it run per row.
    sqlx::query(
        "WITH subs AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM subscribers WHERE tenant_id = $1) \
         INSERT INTO tickets (tenant_id, id, number, subscriber_id, category, subject, status, priority, created_at, updated_at) \
         SELECT $1, gen_random_uuid(), g, subs.id, \
                (ARRAY['connectivity','speed','payments','tariff','addons','equipment','complaint','other'])[1 + g % 8], \
                (SELECT string_agg(($4::text[])[1 + floor(random() * cardinality($4::text[]))::int], ' ') \
                   FROM generate_series(1, 3 + (g % 4))), \
                (ARRAY['new','open','waiting_on_customer','resolved','closed','closed','closed','closed'])[1 + g % 8], \
                (ARRAY['low','normal','normal','high','urgent'])[1 + g % 5], \
                now() - make_interval(mins => (g * 7)::int), now() - make_interval(mins => (g * 5)::int) \
         FROM generate_series(1, $2) g JOIN subs ON subs.n = 1 + g % $3",
    )
    .bind(tenant.as_uuid())
    .bind(count)
    .bind(subscribers)
    .bind(VOCABULARY)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO ticket_messages (tenant_id, id, ticket_id, author_subscriber_id, body, created_at) \
         SELECT $1, gen_random_uuid(), t.id, t.subscriber_id, \
                (SELECT string_agg(($3::text[])[1 + floor(random() * cardinality($3::text[]))::int], ' ') \
                   FROM generate_series(1, 8 + ((t.number + m) % 23))), \
                t.created_at + make_interval(mins => m::int) \
         FROM tickets t CROSS JOIN generate_series(1, $2) m WHERE t.tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .bind(i64::from(messages))
    .bind(VOCABULARY)
    .execute(tx.conn())
    .await?;
    sqlx::query("INSERT INTO ticket_counters (tenant_id, last_number) VALUES ($1, $2)")
        .bind(tenant.as_uuid())
        .bind(count)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(tenant)
}
