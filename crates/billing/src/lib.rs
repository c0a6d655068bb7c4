//! Billing: tariffs, one prepaid account per subscriber, and the append-only ledger whose sum
//! is the balance.
//!
//! Owns `tariffs`, `accounts` and `ledger_entries`. Every money movement is a ledger entry
//! with an idempotency key unique per tenant, so a retried request never moves money twice.
//! (The billing issue grows this into double entry, recurring charges and payments.)

mod model;
mod repo;

pub use model::{AccountStatus, AccountSummary, EntryKind, NewEntry, TariffSpec, TariffView};
pub use repo::{
    BillingError, account_summary, ensure_account, list_tariffs, post_entry, upsert_tariff,
};
