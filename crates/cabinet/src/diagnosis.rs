//! Self-diagnosis for the new-ticket form: what about the subscriber's own account already
//! explains a problem, each with the fix the cabinet can offer inline.
//!
//! Findings come from billing (blocked for debt, voluntarily suspended) and from ticketing's
//! outage incidents (a declared outage covering the subscriber: nothing to fix, the ISP is on
//! it, so no need to write).

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
    /// A declared outage covers the subscriber; `latest_update` is staff's latest news on it.
    Outage {
        title: String,
        message: String,
        started_at: DateTime<Utc>,
        latest_update: Option<String>,
    },
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
    // After the account's own state: a blocked account is down whatever the network does.
    for outage in kabinet_ticketing::incidents::active_for_subscriber(tx, subscriber).await? {
        findings.push(Finding::Outage {
            title: outage.title,
            message: outage.message,
            started_at: outage.started_at,
            latest_update: outage.latest_update,
        });
    }
    Ok(findings)
}
