use kabinet_core::Currency;
use kabinet_db::{DbError, sqlx};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("unknown tariff {0:?}")]
    UnknownTariff(String),
    #[error("the subscriber has no account")]
    NoAccount,
    #[error("amount is in {given}, the account is in {account}")]
    CurrencyMismatch { given: Currency, account: Currency },
    #[error("the amount must be positive")]
    NotPositive,
    #[error("a transaction's lines must sum to zero in one currency")]
    Unbalanced,
    #[error("idempotency key {0:?} was already used for a different movement")]
    IdempotencyConflict(String),
    #[error("corrupt billing data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for BillingError {
    fn from(e: sqlx::Error) -> Self {
        match kabinet_db::constraint_name(&e) {
            Some("ledger_transaction_balanced") => Self::Unbalanced,
            _ => Self::Db(e.into()),
        }
    }
}

pub(crate) fn currency(raw: &str) -> Result<Currency, BillingError> {
    Currency::parse(raw.trim()).map_err(|e| BillingError::Corrupt(e.to_string()))
}
