//! Counting the SQL statements the server runs, on the server: a second disposable cluster
//! (`target/kabinet-test-stats-pg/pg`) that preloads `pg_stat_statements`, for the tests that
//! assert how many statements an endpoint costs (`tests/it/query_count.rs`).
//!
//! It is a cluster of its own because `shared_preload_libraries` needs a restart, which the
//! shared test cluster cannot take while other tests use it. `KABINET_TEST_STATS_ADMIN_URL`
//! (a superuser URL of a server that preloads the extension) replaces it.

use anyhow::Context;
use kabinet_db::APP_ROLE;
use kabinet_db::embedded::{Durability, EmbeddedCluster};
use kabinet_db::sqlx::{self, Connection, PgConnection};

use crate::{TestDb, repo_root};

/// The statements cluster, started (and restarted with the extension) on first use.
pub struct StatsCluster {
    base: String,
}

/// Statements run so far in one database by the app role, and how often the extension has
/// evicted entries (an eviction could hide statements, so a count across one is refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementCount {
    pub calls: i64,
    dealloc: i64,
}

impl StatsCluster {
    pub async fn get() -> anyhow::Result<Self> {
        static BASE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
        let base = BASE.get_or_try_init(start).await?;
        Ok(Self { base: base.clone() })
    }

    /// A fresh database (migrations applied) on this cluster.
    pub async fn database(&self) -> anyhow::Result<TestDb> {
        TestDb::new_on(&self.base).await
    }

    /// Top-level statements the app role has run in `database` so far (utility statements
    /// such as `BEGIN`, `SET` and `COMMIT` included). Read from the `postgres` database, so
    /// the reading itself is never counted.
    pub async fn count(&self, database: &str) -> anyhow::Result<StatementCount> {
        let mut conn = PgConnection::connect(&self.base).await?;
        let calls: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(s.calls), 0)::bigint FROM pg_stat_statements s \
             JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = $1 AND s.userid = $2::regrole",
        )
        .bind(database)
        .bind(APP_ROLE)
        .fetch_one(&mut conn)
        .await?;
        let dealloc: i64 = sqlx::query_scalar("SELECT dealloc FROM pg_stat_statements_info")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        Ok(StatementCount { calls, dealloc })
    }

    /// Statements between two readings.
    pub fn since(before: StatementCount, after: StatementCount) -> i64 {
        assert_eq!(
            before.dealloc, after.dealloc,
            "pg_stat_statements evicted entries in between: the count is not trustworthy"
        );
        after.calls - before.calls
    }
}

fn stats_port() -> u16 {
    let sum = repo_root().to_string_lossy().bytes().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    });
    // 25000–25999: clear of the shared cluster's (26xxx) and the served app's (27xxx) ranges,
    // below the ephemeral ports.
    25_000 + (sum % 1000) as u16
}

async fn start() -> anyhow::Result<String> {
    if let Ok(url) = std::env::var("KABINET_TEST_STATS_ADMIN_URL")
        && !url.is_empty()
    {
        ensure_extension(&url).await?;
        return Ok(url);
    }
    let dir = repo_root().join("target/kabinet-test-stats-pg/pg");
    let port = stats_port();
    let started = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let cluster = EmbeddedCluster::start(&dir, port, Durability::Disposable)
            .context("starting the statements cluster")?;
        Ok(cluster.admin_url("postgres"))
    })
    .await??;
    // The library first; its settings exist only once it is loaded. Each change is a restart.
    for (setting, wanted, sql) in [
        (
            "shared_preload_libraries",
            "pg_stat_statements",
            "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'",
        ),
        (
            // Every test database's migrations leave hundreds of entries behind.
            "pg_stat_statements.max",
            "50000",
            "ALTER SYSTEM SET pg_stat_statements.max = 50000",
        ),
    ] {
        let mut conn = PgConnection::connect(&started).await?;
        let current: String = sqlx::query_scalar(&format!("SHOW {setting}"))
            .fetch_one(&mut conn)
            .await?;
        if current.contains(wanted) {
            conn.close().await?;
            continue;
        }
        sqlx::query(sql).execute(&mut conn).await?;
        conn.close().await?;
        let dir = repo_root().join("target/kabinet-test-stats-pg/pg");
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            EmbeddedCluster::existing(&dir, port)?.stop()?;
            EmbeddedCluster::start(&dir, port, Durability::Disposable)?;
            Ok(())
        })
        .await??;
    }
    ensure_extension(&started).await?;
    Ok(started)
}

async fn ensure_extension(url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}
