use kabinet_billing::BillingError;
use kabinet_db::{DbError, sqlx};

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// Stripe is not configured on this platform, or the ISP has no (enabled) Stripe account.
    #[error("online payments are not available for this provider")]
    Unavailable,
    #[error("this Stripe account is connected to another provider")]
    AccountTaken,
    /// Onboarding asked for when the ISP's account already takes card payments.
    #[error("card payments are already connected")]
    AlreadyConnected,
    #[error("the amount must be between {min} and {max} minor units")]
    AmountOutOfRange { min: i64, max: i64 },
    #[error("no card is saved for this account")]
    NoSavedCard,
    #[error("auto-pay tops up between 1.00 and 1,000,000.00, at a threshold within ±1,000,000.00")]
    BadAutopayRule,
    #[error("this payment has been refunded in full")]
    AlreadyRefunded,
    #[error("the payment was not found")]
    NotFound,
    /// A card setup (Checkout in `setup` mode) asked to be applied before Stripe completed it.
    #[error("the card has not been saved at Stripe yet")]
    CardSetupIncomplete,
    /// Stripe refused or could not be reached; `code` is Stripe's error code when it gave one.
    #[error("Stripe: {message}")]
    Provider {
        code: Option<String>,
        message: String,
    },
    #[error("webhook rejected: {0}")]
    Webhook(#[from] WebhookRejection),
    #[error(transparent)]
    Billing(#[from] BillingError),
    #[error(transparent)]
    Access(#[from] kabinet_access::AccessError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Why a webhook delivery was refused (Stripe retries these, so they must be real problems).
#[derive(Debug, thiserror::Error)]
pub enum WebhookRejection {
    #[error("the Stripe-Signature header is missing or malformed")]
    BadHeader,
    #[error("no signature matches the payload")]
    BadSignature,
    #[error("the signature is older than the 300 s tolerance")]
    Stale,
    #[error("the payload is not a Stripe event: {0}")]
    BadPayload(String),
}

impl From<sqlx::Error> for PaymentsError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

impl From<stripe::StripeError> for PaymentsError {
    fn from(e: stripe::StripeError) -> Self {
        match e {
            stripe::StripeError::Stripe(api, status) => Self::Provider {
                code: api
                    .code
                    .as_ref()
                    .map(|c| c.to_string())
                    .or_else(|| api.decline_code.clone()),
                message: api
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("status {status}")),
            },
            other => Self::Provider {
                code: None,
                message: other.to_string(),
            },
        }
    }
}

/// A currency code read back from our own tables; a bad one is corrupt data, not user error.
pub(crate) fn stored_currency(raw: &str) -> Result<kabinet_core::Currency, PaymentsError> {
    kabinet_core::Currency::parse(raw.trim())
        .map_err(|e| PaymentsError::Billing(BillingError::Corrupt(e.to_string())))
}
