use std::time::Duration;

use kabinet_core::TenantId;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::DbError;

/// The application's handle on PostgreSQL, connected as the unprivileged app role.
///
/// INVARIANT: the pool is private. Every query runs inside a [`TenantTx`] or a [`PlatformTx`]
/// (or is a function that sets its own tenant: [`Database::fetch_self_scoped`]), so the tenant
/// setting that row-level security reads is always the one the caller named.
#[derive(Clone)]
pub struct Database {
    pool: PgPool,
    links: PublicLinks,
}

/// How links in letters written by background work reach an ISP's host: `https://<host>`
/// behind TLS (production, the default), or `http://<host>:<port>` when the platform serves
/// plain HTTP itself (development). Requests build their links from their own Host instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublicLinks {
    #[default]
    Https,
    Http {
        port: u16,
    },
}

impl PublicLinks {
    /// `https://demo.example` or `http://demo.localhost:8080`.
    pub fn origin(self, host: &str) -> String {
        match self {
            Self::Https => format!("https://{host}"),
            Self::Http { port: 80 } => format!("http://{host}"),
            Self::Http { port } => format!("http://{host}:{port}"),
        }
    }
}

impl Database {
    pub async fn connect(app_url: &str, max_connections: u32) -> Result<Self, DbError> {
        let options: PgConnectOptions = app_url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // No ping before every acquire: it is a round trip on each request's critical path.
            // sqlx still pings on release, off that path: a connection that died meanwhile
            // fails its one request and is discarded there, and the next acquire opens another.
            .test_before_acquire(false)
            .connect_with(options.application_name("kabinet"))
            .await?;
        Ok(Self {
            pool,
            links: PublicLinks::default(),
        })
    }

    /// The same pool, with links in letters built as `links` says.
    pub fn with_public_links(mut self, links: PublicLinks) -> Self {
        self.links = links;
        self
    }

    /// Opens a transaction scoped to `tenant`: row-level security shows and accepts only its rows.
    pub async fn tenant_tx(&self, tenant: TenantId) -> Result<TenantTx, DbError> {
        // One round trip for both: the hot paths (RADIUS authorization, page loads) open a
        // transaction per request. `is_local = true`: the setting ends with the transaction, so
        // a pooled connection never carries one ISP's scope into another's work. The value is
        // a UUID's canonical text, so inlining it cannot inject anything.
        let tx = self
            .pool
            .begin_with(format!(
                "BEGIN; SELECT set_config('app.tenant_id', '{}', true)",
                tenant.as_uuid().hyphenated()
            ))
            .await?;
        Ok(TenantTx {
            tx,
            tenant,
            links: self.links,
        })
    }

    /// Runs one statement that scopes itself — a function that takes the tenant, sets
    /// `app.tenant_id` for its read and puts it back, such as `radius_decision` — on a pooled
    /// connection in its own implicit transaction: one round trip where a [`TenantTx`] costs
    /// three (BEGIN, the statement, COMMIT). Only for such functions: a plain query here runs
    /// with no tenant set, and row-level security shows it nothing.
    pub async fn fetch_self_scoped(
        &self,
        statement: Query<'_, Postgres, PgArguments>,
    ) -> Result<Option<PgRow>, DbError> {
        Ok(statement.fetch_optional(&self.pool).await?)
    }

    /// Like [`Database::tenant_tx`], but `REPEATABLE READ, READ ONLY`: every statement sees
    /// the same snapshot, so a multi-table export is consistent.
    pub async fn tenant_snapshot_tx(&self, tenant: TenantId) -> Result<TenantTx, DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(TenantTx {
            tx,
            tenant,
            links: self.links,
        })
    }

    /// Opens a transaction for platform tables (tenants, hosts, operators). No tenant is set,
    /// so every tenant-owned table reads as empty and refuses writes.
    pub async fn platform_tx(&self) -> Result<PlatformTx, DbError> {
        Ok(PlatformTx {
            tx: self.pool.begin().await?,
        })
    }

    /// A LISTEN connection for cross-process cache invalidation.
    pub async fn listener(&self, channels: &[&str]) -> Result<PgListener, DbError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen_all(channels.iter().copied()).await?;
        Ok(listener)
    }

    /// Readiness: the database answers and every embedded migration has been applied.
    pub async fn check_ready(&self) -> Result<(), DbError> {
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await?;
        let missing: Vec<i64> = crate::MIGRATOR
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DbError::Embedded(format!(
                "migrations not applied: {missing:?}"
            )))
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction bound to one tenant. The only path to tenant-owned tables.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
    links: PublicLinks,
}

impl TenantTx {
    /// Where a link in a letter written in this transaction points for `host`.
    pub fn public_origin(&self, host: &str) -> String {
        self.links.origin(host)
    }

    /// The tenant this transaction is scoped to. Queries still say `WHERE tenant_id = $1`
    /// with it: row-level security is the safety net, the predicate lets Citus prune shards.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A transaction over platform tables only.
pub struct PlatformTx {
    tx: Transaction<'static, Postgres>,
}

impl PlatformTx {
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::PublicLinks;

    #[test]
    fn links_follow_how_the_platform_is_served() {
        assert_eq!(
            PublicLinks::Https.origin("demo.example"),
            "https://demo.example"
        );
        assert_eq!(
            PublicLinks::Http { port: 8080 }.origin("demo.localhost"),
            "http://demo.localhost:8080"
        );
        assert_eq!(
            PublicLinks::Http { port: 80 }.origin("demo.localhost"),
            "http://demo.localhost"
        );
    }
}
