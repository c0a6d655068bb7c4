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
    /// A second-factor code at sign-in (TOTP or recovery) was wrong; the challenge lives on.
    #[error("the code is not correct")]
    SecondFactorInvalid,
    /// The sign-in challenge is unknown, expired, used, or has had too many wrong codes.
    #[error("this sign-in has expired; start again with your password")]
    ChallengeExpired,
    /// A code given to manage two-factor authentication (confirm, new recovery codes) was wrong.
    #[error("the authenticator code is not correct")]
    TwoFactorCodeInvalid,
    #[error("two-factor authentication is already on")]
    TwoFactorAlreadyEnabled,
    #[error("two-factor authentication is not on")]
    TwoFactorNotEnabled,
    #[error("no two-factor setup has been started")]
    NoTwoFactorEnrollment,
    /// A password reset link that is unknown, expired, already used or replaced by a newer one.
    #[error("this password reset link is not valid any more; ask for a new one")]
    ResetTokenInvalid,
    /// A signup confirmation link that is unknown, expired or already used.
    #[error("this confirmation link is not valid any more; sign in or sign up again")]
    SignupLinkInvalid,
    /// A staff member or custom role that does not exist in this ISP (or not any more).
    #[error("not found")]
    NotFound,
    /// A custom role still held by a staff member cannot be deleted.
    #[error("the role is still assigned to staff; give them another role first")]
    RoleInUse,
    /// Nobody grants, edits or takes away more than they hold themselves.
    #[error("that would grant or change permissions you do not hold yourself")]
    BeyondOwnPermissions,
    /// Own role and own deactivation are someone else's call, so no owner locks themselves out.
    #[error("you cannot change your own role or deactivate yourself")]
    OwnAccess,
    /// The ISP requires two-factor sign-in and this staff member has not set it up.
    #[error("set up two-factor sign-in first: this ISP requires it for all staff")]
    TwoFactorRequired,
    /// Writing an export to its client failed (usually: the client went away).
    #[error("export: {0}")]
    Export(String),
    #[error("stored secret: {0}")]
    Secret(String),
    #[error("mail: {0}")]
    Mail(#[from] kabinet_mail::MailError),
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
