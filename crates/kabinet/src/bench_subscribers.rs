//! `kabinet bench subscribers`: one ISP, a generated CSV of N subscribers imported through the
//! real import (`provisioning::import`, streamed from a file), then console search latency
//! over that ISP. Prints the import's time and the process's peak memory (VmHWM) before and
//! after it, the re-import (nothing changes), and search p50/p99 per kind of query, in a
//! scratch database on the same server. A benchmark, not a test: it asserts nothing.

use std::io::Write;
use std::time::{Duration, Instant};

use kabinet_access::subscribers::search;
use kabinet_billing::{TariffSpec, account_overviews, upsert_tariff};
use kabinet_core::{Currency, Money, TenantId};
use kabinet_db::bootstrap::{drop_database, ensure_database, ensure_roles, with_user};
use kabinet_db::{APP_ROLE, Database, OWNER_ROLE, sqlx};
use kabinet_provisioning::import::{Encoding, ImportOptions, import_subscribers};

/// The `i`-th search text of one kind of query.
type QueryOf<'a> = Box<dyn Fn(u32) -> String + 'a>;

pub struct SubscriberBenchOptions {
    pub rows: u32,
    /// Searches per kind of query.
    pub queries: u32,
    pub keep: bool,
}

const LAST: [&str; 20] = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
];
const FIRST: [&str; 15] = [
    "Иван",
    "Мария",
    "Алексей",
    "Ольга",
    "Дмитрий",
    "Анна",
    "Сергей",
    "Елена",
    "Андрей",
    "Наталья",
    "Михаил",
    "Татьяна",
    "Павел",
    "Юлия",
    "Артём",
];
const STREETS: [&str; 12] = [
    "Ленина",
    "Мира",
    "Гагарина",
    "Советская",
    "Садовая",
    "Лесная",
    "Школьная",
    "Молодёжная",
    "Набережная",
    "Заречная",
    "Полевая",
    "Победы",
];

/// Peak resident memory of this process so far (kB), from /proc.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

pub async fn subscribers(admin_url: &str, opts: SubscriberBenchOptions) -> anyhow::Result<()> {
    let name = format!(
        "kabinet_bench_subs_{}",
        chrono::Utc::now().format("%Y%m%d%H%M%S")
    );
    ensure_roles(admin_url).await?;
    ensure_database(admin_url, &name).await?;
    let result = run(admin_url, &name, &opts).await;
    if !opts.keep {
        drop_database(admin_url, &name).await?;
    }
    result
}

fn write_csv(path: &std::path::Path, rows: u32) -> anyhow::Result<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "account_number;name;email;phone;address;tariff;balance;status"
    )?;
    for i in 0..rows {
        let last = LAST[(i as usize / 7) % LAST.len()];
        let first = FIRST[(i as usize / 3) % FIRST.len()];
        writeln!(
            out,
            "{};{last} {first};user{i}@mail.example;+7 9{:02} {:03}-{:02}-{:02};\
             \"г. Пермь, ул. {}, д. {}, кв. {}\";{};{},{:02};{}",
            1_000_000 + i,
            (i / 1_000_000) % 100 + 12,
            (i / 10_000) % 1000,
            (i / 100) % 100,
            i % 100,
            STREETS[i as usize % STREETS.len()],
            i % 150 + 1,
            i % 97 + 1,
            if i % 3 == 0 { "home-100" } else { "home-500" },
            i % 2000,
            i % 100,
            if i % 50 == 0 { "blocked" } else { "active" },
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

async fn run(admin_url: &str, name: &str, opts: &SubscriberBenchOptions) -> anyhow::Result<()> {
    kabinet_db::migrate(&with_user(admin_url, OWNER_ROLE, Some(name))?).await?;
    let db = Database::connect(&with_user(admin_url, APP_ROLE, Some(name))?, 8).await?;
    let tenant = TenantId::new();
    let currency = Currency::parse("RUB")?;
    let mut tx = db.tenant_tx(tenant).await?;
    sqlx::query(
        "INSERT INTO tenants (id, slug, display_name, saas_plan, currency) VALUES ($1, 'benchsubs', 'Bench', 'pro', 'RUB')",
    )
    .bind(tenant.as_uuid())
    .execute(tx.conn())
    .await?;
    for (code, price) in [("home-100", 50_000), ("home-500", 90_000)] {
        upsert_tariff(
            &mut tx,
            &TariffSpec {
                code: code.into(),
                name: code.into(),
                monthly_price: Money::new(price, currency),
                speed_mbps: 100,
                upload_speed_mbps: None,
            },
        )
        .await?;
    }
    tx.commit().await?;

    let path = std::env::temp_dir().join(format!("{name}.csv"));
    let bytes = write_csv(&path, opts.rows)?;
    println!(
        "bench subscribers: {} rows, {:.1} MiB CSV (`;`, UTF-8) at {} (database {name})",
        opts.rows,
        bytes as f64 / 1048576.0,
        path.display()
    );
    let options = ImportOptions {
        encoding: Encoding::Auto,
        currency,
    };
    let rss_before = peak_rss_kb();
    for attempt in ["import", "re-import (same file)"] {
        let started = Instant::now();
        let mut tx = db.tenant_tx(tenant).await?;
        let file = tokio::fs::File::open(&path).await?;
        let report = import_subscribers(&mut tx, file, &options).await?;
        anyhow::ensure!(
            report.is_clean(),
            "import reported {:?}",
            report.errors.first()
        );
        tx.commit().await?;
        let took = started.elapsed();
        println!(
            "RESULT {attempt}: {:.2} s ({:.0} rows/s): created {}, updated {}, unchanged {}",
            took.as_secs_f64(),
            f64::from(opts.rows) / took.as_secs_f64().max(1e-9),
            report.created,
            report.updated,
            report.unchanged
        );
    }
    let rss_after = peak_rss_kb();
    println!(
        "RESULT peak RSS of this process (VmHWM): {} kB before the imports, {} kB after",
        rss_before.unwrap_or(0),
        rss_after.unwrap_or(0)
    );
    let _ = std::fs::remove_file(&path);

    let mut tx = db.tenant_tx(tenant).await?;
    sqlx::query("ANALYZE subscribers")
        .execute(tx.conn())
        .await
        .ok();
    tx.commit().await?;

    let kinds: [(&str, QueryOf); 7] = [
        (
            "account number prefix",
            Box::new(|i| {
                format!("{}", 1_000_000 + (i * 7919) % opts.rows)
                    .chars()
                    .take(5)
                    .collect()
            }),
        ),
        (
            "exact account number",
            Box::new(|i| format!("{}", 1_000_000 + (i * 7919) % opts.rows)),
        ),
        (
            "surname (common, ~5%)",
            Box::new(|i| LAST[i as usize % LAST.len()].to_lowercase()),
        ),
        (
            "surname + name",
            Box::new(|i| {
                format!(
                    "{} {}",
                    LAST[i as usize % LAST.len()],
                    FIRST[i as usize % FIRST.len()]
                )
            }),
        ),
        (
            "phone digits",
            Box::new(|i| format!("{:03}-{:02}", (i * 13) % 1000, i % 100)),
        ),
        (
            "e-mail",
            Box::new(|i| format!("user{}@", (i * 7919) % opts.rows)),
        ),
        (
            "street + house",
            Box::new(|i| {
                format!(
                    "{}, д. {}",
                    STREETS[i as usize % STREETS.len()],
                    i % 150 + 1
                )
            }),
        ),
    ];
    let mut all = Vec::new();
    for (kind, query) in &kinds {
        let mut times = Vec::with_capacity(opts.queries as usize);
        let mut found = 0usize;
        for i in 0..opts.queries {
            let q = query(i);
            let started = Instant::now();
            let mut tx = db.tenant_tx(tenant).await?;
            let page = search(&mut tx, &q, None, 25).await?;
            let ids: Vec<_> = page.items.iter().map(|r| r.id).collect();
            account_overviews(&mut tx, &ids).await?;
            tx.commit().await?;
            times.push(started.elapsed());
            found += page.items.len();
        }
        times.sort();
        println!(
            "RESULT search {kind:<24} p50 {:6.2} ms  p99 {:6.2} ms  ({} queries, {:.1} hits on the first page)",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            opts.queries,
            found as f64 / f64::from(opts.queries.max(1))
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "RESULT search over all kinds: p50 {:.2} ms, p99 {:.2} ms ({} queries, first page of 25, with accounts)",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.len()
    );
    db.close().await;
    Ok(())
}
