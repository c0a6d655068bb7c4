//! Creating the roles and the database on a server we administer (the embedded cluster, a test
//! server). In production a DBA runs the equivalent SQL in `deploy/postgres/roles.sql` once.

use sqlx::{Connection, PgConnection};

use crate::{APP_ROLE, DbError, OWNER_ROLE};

/// Creates the owner and app roles if they are missing. Safe to call concurrently: roles are
/// cluster-wide, and parallel test processes race to create them.
pub async fn ensure_roles(admin_url: &str) -> Result<(), DbError> {
    let mut conn = PgConnection::connect(admin_url).await?;
    for (role, attrs) in [
        (
            OWNER_ROLE,
            "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
        ),
        (
            APP_ROLE,
            "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
        ),
    ] {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(role)
                .fetch_one(&mut conn)
                .await?;
        if exists {
            continue;
        }
        match sqlx::query(&format!("CREATE ROLE {role} {attrs}"))
            .execute(&mut conn)
            .await
        {
            Ok(_) => {}
            // Lost the race to a concurrent creator: the role exists, which is all we need.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42710") | Some("23505")) => {}
            Err(e) => return Err(e.into()),
        }
    }
    conn.close().await?;
    Ok(())
}

/// Creates `name` owned by the owner role unless it exists. `name` must be a plain identifier.
pub async fn ensure_database(admin_url: &str, name: &str) -> Result<(), DbError> {
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(DbError::Embedded(format!("bad database name {name:?}")));
    }
    let mut conn = PgConnection::connect(admin_url).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {name} OWNER {OWNER_ROLE}"))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    tune_database(&with_user(admin_url, "postgres", Some(name))?).await
}

/// What only a superuser can set in Kabinet's database (`admin_db_url` names it), as
/// `deploy/postgres/roles.sql` does in production. Idempotent.
///
/// `ts_match_vq` (`tsvector @@ tsquery`) and `textlike` (`text LIKE text`) marked LEAKPROOF:
/// on a table with row-level security PostgreSQL applies a non-leakproof operator only after
/// the policy, never as an index condition, so ticket search's GIN indexes and subscriber
/// search's trigram index would serve `tenant_id` alone and every search would read the whole
/// ISP. Both reveal nothing but their result (LIKE's only error is about the pattern, which the
/// caller wrote).
pub async fn tune_database(admin_db_url: &str) -> Result<(), DbError> {
    let mut conn = PgConnection::connect(admin_db_url).await?;
    for statement in [
        "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF",
        "ALTER FUNCTION pg_catalog.textlike(text, text) LEAKPROOF",
    ] {
        sqlx::query(statement).execute(&mut conn).await?;
    }
    conn.close().await?;
    Ok(())
}

/// Drops a database (tests clean up after themselves).
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), DbError> {
    let mut conn = PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Replaces the user (and database, if given) of a `postgres://` URL.
pub fn with_user(url: &str, user: &str, database: Option<&str>) -> Result<String, DbError> {
    let parsed: sqlx::postgres::PgConnectOptions = url.parse()?;
    let host = parsed.get_host();
    let port = parsed.get_port();
    let db = database
        .map(str::to_owned)
        .or_else(|| parsed.get_database().map(str::to_owned))
        .unwrap_or_else(|| "postgres".to_owned());
    Ok(format!("postgres://{user}@{host}:{port}/{db}"))
}
