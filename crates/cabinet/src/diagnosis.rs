//! Self-diagnosis for the new-ticket form: what about the subscriber's own account already
//! explains a problem, each with the fix the cabinet can offer inline.
//!
//! Findings come from billing (blocked for debt, voluntarily suspended). Outages are the next
//! source: when incidents exist, their check adds a `Finding` variant here and the form shows
//! it like the others.

use chrono::{DateTime, Utc};
use kabinet_billing::{AccountStatus, account_summary, current_suspension};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::TenantTx;

use crate::CabinetError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The balance fell below the credit limit; paying `amount_due` unblocks the account.
    BlockedForDebt { amount_due: Money },
    /// The subscriber paused their service; resuming brings it back at once.
    Suspended { until: Option<DateTime<Utc>> },
}

/// Everything that applies to the subscriber now, most pressing first.
pub async fn diagnose(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Vec<Finding>, CabinetError> {
    let account = account_summary(tx, subscriber).await?;
    let mut findings = Vec::new();
    match account.status {
        AccountStatus::Blocked => {
            // Unblocked as soon as balance >= -credit_limit (billing's refresh_status).
            let due = (-account.credit_limit.minor)
                .saturating_sub(account.balance.minor)
                .max(0);
            findings.push(Finding::BlockedForDebt {
                amount_due: Money::new(due, account.balance.currency),
            });
        }
        AccountStatus::Suspended => {
            let suspension = current_suspension(tx, subscriber).await?;
            findings.push(Finding::Suspended {
                until: suspension.map(|s| s.ends_at),
            });
        }
        AccountStatus::Active => {}
    }
    Ok(findings)
}
