//! Billing: tariffs, one prepaid account per subscriber, and the double-entry ledger.
//!
//! Owns `tariffs`, `accounts`, `ledger_transactions` and `ledger_entries` (and the add-ons,
//! promises, suspensions and equipment orders charged through them). Every money movement
//! is one transaction whose entries sum to zero (the database refuses anything else), recorded
//! once per idempotency key. The subscriber's balance is the sum of their entries; the account
//! status follows it at once (blocked below the credit limit, unblocked when paid back).
//! Charge runs are single set-based statements per tenant, safe to repeat and to run on many
//! nodes at once.

mod accounts;
mod addons;
mod catalogue;
pub mod catalogue_admin;
mod charges;
mod corrections;
mod equipment;
mod error;
mod forecast;
mod ledger;
mod model;
mod promises;
mod rules;
mod scheduled;
mod subscriber_accounts;
mod suspensions;
mod tariff_change;

pub use accounts::{StatusChange, account_summary, ensure_account, refresh_status};
pub use addons::{
    AddonOffer, AddonSpec, addons_for, connect_addon, disconnect_addon, upsert_addon,
};
pub use catalogue::{list_tariffs, upsert_tariff};
pub use charges::run_monthly_charges;
pub use corrections::{Correction, correct_balance, record_refund, reverse_transaction};
pub use equipment::{
    EquipmentItem, EquipmentKind, EquipmentSpec, NewOrder, Order, OrderActor, OrderChange,
    OrderCursor, OrderDetail, OrderEvent, OrderMode, OrderQuote, OrderStatus, OrdersPage, Placed,
    cancel_order, change_order_status, charge_monthly_rent, equipment_catalogue, order_detail,
    orders_queue, place_order, quote_order, subscriber_order, subscriber_orders, upsert_equipment,
};
pub use error::BillingError;
pub use forecast::{Forecast, days_covered, forecast};
pub use ledger::{
    IncomingPayment, Statement, history, movement, post, receive_payment, record_payment,
    statement, verify,
};
pub use model::{
    AccountStatus, AccountSummary, BillingMonth, ChargeRun, HistoryItem, LedgerAccount, Line,
    NewTransaction, PaymentMethod, Posted, TariffSpec, TariffView, TransactionKind, Violation,
};
pub use promises::{Promise, open_promise, take_promised_payment};
pub use rules::{BillingSettings, TariffChangeRule, billing_settings, set_billing_settings};
pub use scheduled::{TickReport, run_scheduled};
pub use subscriber_accounts::{
    AccountOverview, AccountSeed, Seeded, account_overviews, seed_accounts, set_staff_block,
    tariff_codes,
};
pub use suspensions::{Suspension, current_suspension, resume, suspend};
pub use tariff_change::{TariffChange, change_tariff, days_in, pending_change, prorate};
