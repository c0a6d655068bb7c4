//! Online payments as subscribers and staff see them.

use chrono::{DateTime, Utc};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::error::{PaymentsError, stored_currency};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentPurpose {
    /// The subscriber paid through Stripe Checkout.
    TopUp,
    /// Kabinet charged the saved card because the balance fell below the subscriber's threshold.
    AutoPay,
}

impl PaymentPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TopUp => "top_up",
            Self::AutoPay => "auto_pay",
        }
    }
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "top_up" => Some(Self::TopUp),
            "auto_pay" => Some(Self::AutoPay),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Failed,
    Expired,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlinePayment {
    pub id: Uuid,
    pub subscriber: SubscriberId,
    pub purpose: PaymentPurpose,
    pub amount: Money,
    pub status: PaymentStatus,
    /// The ledger transaction that credited it.
    pub transaction: Option<Uuid>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, subscriber_id, purpose, amount_minor, currency, status, transaction_id, failure, created_at, settled_at";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<OnlinePayment, PaymentsError> {
    let purpose: String = row.try_get("purpose")?;
    let status: String = row.try_get("status")?;
    let currency: String = row.try_get("currency")?;
    let corrupt =
        |what: String| PaymentsError::Billing(kabinet_billing::BillingError::Corrupt(what));
    Ok(OnlinePayment {
        id: row.try_get("id")?,
        subscriber: SubscriberId(row.try_get("subscriber_id")?),
        purpose: PaymentPurpose::parse(&purpose)
            .ok_or_else(|| corrupt(format!("purpose {purpose:?}")))?,
        amount: Money::new(row.try_get("amount_minor")?, stored_currency(&currency)?),
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("status {status:?}")))?,
        transaction: row.try_get("transaction_id")?,
        failure: row.try_get("failure")?,
        created_at: row.try_get("created_at")?,
        settled_at: row.try_get("settled_at")?,
    })
}

/// One of the subscriber's online payments (a foreign id reads as missing).
pub async fn online_payment(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    id: Uuid,
) -> Result<OnlinePayment, PaymentsError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM online_payments WHERE tenant_id = $1 AND subscriber_id = $2 AND id = $3"
    ))
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(PaymentsError::NotFound)?;
    from_row(&row)
}

/// The subscriber's latest online payments, newest first.
pub async fn recent_online_payments(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    limit: i64,
) -> Result<Vec<OnlinePayment>, PaymentsError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM online_payments WHERE tenant_id = $1 AND subscriber_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(limit.clamp(1, 200))
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}
