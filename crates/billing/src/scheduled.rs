//! The billing work that time triggers, for one tenant: expired promised payments, finished
//! suspensions, and the current month's charges. Every step is idempotent, so the scheduler can
//! run it as often as it likes, on as many nodes as it likes.

use chrono::{DateTime, Utc};
use kabinet_db::TenantTx;

use crate::accounts::refresh_status;
use crate::charges::run_monthly_charges;
use crate::error::BillingError;
use crate::model::BillingMonth;
use crate::promises::{Settle, settle};
use crate::suspensions::resume;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub promises_expired: usize,
    pub suspensions_ended: usize,
    pub charged: u64,
    pub blocked: u64,
}

impl TickReport {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

pub async fn run_scheduled(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
) -> Result<TickReport, BillingError> {
    let expired = settle(tx, Settle::DueBy(now), now).await?;
    if !expired.is_empty() {
        refresh_status(tx, Some(&expired)).await?;
    }
    let resumed = resume(tx, None, now).await?;
    let run = run_monthly_charges(tx, BillingMonth::of(now.date_naive())).await?;
    Ok(TickReport {
        promises_expired: expired.len(),
        suspensions_ended: resumed.len(),
        charged: run.charged,
        blocked: run.blocked,
    })
}
