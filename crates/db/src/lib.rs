//! The database layer: the app-role pool, migrations, and the only two ways to reach tables —
//! [`TenantTx`] (a transaction bound to one ISP, enforced by row-level security) and
//! [`PlatformTx`] (platform tables only; tenant rows are invisible to it).
//!
//! Domain crates run their SQL through these types; they never see the pool. `embedded` starts a
//! project-local PostgreSQL cluster for the zero-configuration default and for tests.

pub mod bootstrap;
pub mod embedded;
mod error;
mod tx;

pub use error::{DbError, constraint_name};
pub use sqlx;
pub use tx::{Database, PlatformTx, PublicLinks, TenantTx};

/// Migrations under the repository's `migrations/`, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The login role the application runs as: owns nothing, cannot bypass row-level security.
pub const APP_ROLE: &str = "kabinet_app";
/// The role that owns the schema and runs migrations.
pub const OWNER_ROLE: &str = "kabinet_owner";

/// PostgreSQL NOTIFY channel on which tenancy changes (tenants, hosts) are announced.
pub const TENANCY_CHANNEL: &str = "kabinet_tenancy";
/// PostgreSQL NOTIFY channel on which role-grant changes are announced (payload: tenant id).
pub const AUTHZ_CHANNEL: &str = "kabinet_authz";

/// Applies pending migrations, connected as the owner role (or a superuser).
pub async fn migrate(owner_url: &str) -> Result<(), DbError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(owner_url).await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}
