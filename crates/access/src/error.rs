use kabinet_db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Deliberately says nothing about whether the account exists.
    #[error("the sign-in details are not correct")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts; try again later")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("not signed in, or the session has ended")]
    Unauthenticated,
    #[error("the CSRF token is missing or wrong")]
    CsrfRejected,
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("{0} is already taken")]
    AlreadyTaken(&'static str),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("authorization model: {0}")]
    Authz(String),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<kabinet_db::sqlx::Error> for AccessError {
    fn from(e: kabinet_db::sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}
