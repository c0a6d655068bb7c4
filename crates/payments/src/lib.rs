//! Online payments through Stripe Connect: Checkout top-ups, webhooks, saved cards with
//! auto-pay, and reconciliation against Stripe.
//!
//! Each ISP connects its own Stripe account (`stripe_accounts`, a platform table: webhooks name
//! only the account). A subscriber's top-up is an `online_payments` row created before Stripe is
//! called, so every Checkout Session and PaymentIntent carries our payment id (metadata and
//! idempotency key). Money reaches the ledger only through [`credit`](settle::credit), keyed
//! `online:<payment id>`: the webhook, the auto-pay run and the reconciliation job may all try,
//! and the subscriber is credited once. Webhooks are verified (signature, 300 s tolerance), routed
//! to the tenant by the connected account alone, and recorded in `stripe_events` in the same
//! transaction that applies them.

mod autopay;
mod checkout;
mod connections;
mod error;
mod model;
mod onboarding;
mod reconcile;
mod refunds;
pub mod saas_billing;
mod settle;
mod stripe_api;
mod webhook;

pub use autopay::{
    AutopayReport, AutopayRule, AutopayView, SavedCard, autopay_view, forget_card, run_autopay,
    set_autopay,
};
pub use checkout::{TopUp, TopUpStarted, cancel_top_up, start_top_up};
pub use connections::{Connection, connect_account, connection};
pub use error::{PaymentsError, WebhookRejection};
pub use model::{
    OnlinePayment, PaymentPurpose, PaymentStatus, online_payment, recent_online_payments,
};
pub use onboarding::{
    ConnectProfile, ConnectState, OnboardingReturn, begin_onboarding, connect_state,
    refresh_connect_state,
};
pub use reconcile::{Discrepancy, ReconcileReport, reconcile};
pub use refunds::{is_card_payment, refund_card_payment};
pub use stripe_api::{Stripe, StripeSettings};
pub use webhook::{WebhookOutcome, handle_webhook};

/// The smallest and largest top-up, in minor units (1.00 … 1,000,000.00).
pub const MIN_TOP_UP_MINOR: i64 = 100;
pub const MAX_TOP_UP_MINOR: i64 = 100_000_000;
