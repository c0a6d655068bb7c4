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
    #[error("a payment needs a receipt or bank reference: 1-100 visible characters")]
    BadReference,
    #[error("the amount must be positive")]
    NotPositive,
    #[error("a transaction's lines must sum to zero in one currency")]
    Unbalanced,
    #[error("idempotency key {0:?} was already used for a different movement")]
    IdempotencyConflict(String),
    #[error("this provider does not offer promised payments")]
    PromisesOff,
    #[error("a promised payment can be at most {max}")]
    PromiseTooLarge { max: kabinet_core::Money },
    #[error("a promised payment is already open; it is settled by your next payment")]
    PromiseOpen,
    #[error("the monthly limit of {limit} promised payment(s) is used up")]
    PromiseLimitReached { limit: i32 },
    #[error("the account must be active for this")]
    NotActive,
    #[error("a suspension lasts between {min} and {max} days")]
    SuspensionLength { min: i32, max: i32 },
    #[error("unknown add-on {0:?}")]
    UnknownAddon(String),
    #[error("add-on {0:?} is not connected")]
    NotConnected(String),
    #[error("that add-on is already connected")]
    AlreadyConnected,
    #[error("that is already the current tariff")]
    SameTariff,
    #[error("the account is not suspended")]
    NotSuspended,
    #[error("no such transaction for this subscriber")]
    NoTransaction,
    #[error("a reversal cannot itself be reversed")]
    NotReversible,
    #[error("unknown equipment {0:?}")]
    UnknownEquipment(String),
    #[error("{code:?} cannot be ordered to {mode}")]
    ModeNotOffered { code: String, mode: &'static str },
    #[error("{0:?} is out of stock")]
    OutOfStock(String),
    #[error("the order needs {needed} on the balance; top up {shortfall} first")]
    InsufficientBalance {
        needed: kabinet_core::Money,
        shortfall: kabinet_core::Money,
    },
    #[error("no such order")]
    NoOrder,
    #[error("an order cannot go from {from} to {to}")]
    IllegalTransition {
        from: &'static str,
        to: &'static str,
    },
    #[error("{field} {reason}")]
    InvalidOrder { field: &'static str, reason: String },
    #[error("corrupt billing data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for BillingError {
    fn from(e: sqlx::Error) -> Self {
        match kabinet_db::constraint_name(&e) {
            Some("ledger_transaction_balanced") => Self::Unbalanced,
            Some("promised_payments_open_key") => Self::PromiseOpen,
            Some("suspensions_open_key") => Self::NotActive,
            Some("tariff_changes_pending_key") => Self::SameTariff,
            Some("addon_subscriptions_active_key") => Self::AlreadyConnected,
            Some("ledger_transactions_reverses_key") => Self::NotReversible,
            _ => Self::Db(e.into()),
        }
    }
}

pub(crate) fn currency(raw: &str) -> Result<Currency, BillingError> {
    Currency::parse(raw.trim()).map_err(|e| BillingError::Corrupt(e.to_string()))
}
