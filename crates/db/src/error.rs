use thiserror::Error;

#[derive(Debug, Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("local PostgreSQL cluster: {0}")]
    Embedded(String),
}

/// The violated constraint's name, when `err` is a unique, foreign-key or check violation.
/// Domain crates turn these into answers ("already taken", "unknown tariff"), not 500s.
pub fn constraint_name(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}
