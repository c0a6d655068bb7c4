//! Voluntary suspension (добровольная блокировка): the subscriber pauses service and charges.

use chrono::{DateTime, Duration, Utc};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::accounts::refresh_status;
use crate::error::{BillingError, currency};
use crate::ledger::post;
use crate::model::{LedgerAccount, Line, NewTransaction, TransactionKind};
use crate::rules::billing_settings;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspension {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Pauses an active account for `days` (within the ISP's limits), charging the ISP's fee if it
/// has one. Charge runs skip suspended accounts; the account resumes by itself at `ends_at`.
pub async fn suspend(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    days: i32,
    now: DateTime<Utc>,
) -> Result<Suspension, BillingError> {
    let tenant = tx.tenant();
    let rules = billing_settings(tx).await?;
    if days < rules.suspension_min_days || days > rules.suspension_max_days {
        return Err(BillingError::SuspensionLength {
            min: rules.suspension_min_days,
            max: rules.suspension_max_days,
        });
    }
    let account_currency: Option<String> = sqlx::query_scalar(
        "UPDATE accounts SET status = 'suspended', status_changed_at = $3 \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND status = 'active' RETURNING currency",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    let Some(account_currency) = account_currency else {
        return Err(BillingError::NotActive);
    };
    let id = Uuid::now_v7();
    let ends_at = now + Duration::days(i64::from(days));
    sqlx::query(
        "INSERT INTO suspensions (tenant_id, id, subscriber_id, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(subscriber.as_uuid())
    .bind(now)
    .bind(ends_at)
    .execute(tx.conn())
    .await?;
    if rules.suspension_fee_minor > 0 {
        let fee = Money::new(rules.suspension_fee_minor, currency(&account_currency)?);
        post(
            tx,
            &NewTransaction {
                kind: TransactionKind::Charge,
                description: "Voluntary suspension fee".into(),
                idempotency_key: format!("suspension-fee:{id}"),
                subscriber: Some(subscriber),
                staff: None,
                reference: None,
                lines: vec![
                    Line {
                        account: LedgerAccount::Subscriber(subscriber),
                        amount: Money::new(-fee.minor, fee.currency),
                    },
                    Line {
                        account: LedgerAccount::Revenue("suspension"),
                        amount: fee,
                    },
                ],
            },
        )
        .await?;
    }
    Ok(Suspension {
        id,
        starts_at: now,
        ends_at,
    })
}

/// The subscriber's running suspension, if any.
pub async fn current_suspension(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Option<Suspension>, BillingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT id, starts_at, ends_at FROM suspensions WHERE tenant_id = $1 AND subscriber_id = $2 AND resumed_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| {
        Ok(Suspension {
            id: r.try_get("id")?,
            starts_at: r.try_get("starts_at")?,
            ends_at: r.try_get("ends_at")?,
        })
    })
    .transpose()
}

/// Ends suspensions — the subscriber's own (`Some`) early, or every one due by `now` — in one
/// statement, then lets status follow the balance again. Returns who resumed.
pub async fn resume(
    tx: &mut TenantTx,
    subscriber: Option<SubscriberId>,
    now: DateTime<Utc>,
) -> Result<Vec<SubscriberId>, BillingError> {
    let tenant = tx.tenant();
    let resumed: Vec<Uuid> = sqlx::query_scalar(
        "WITH ended AS ( \
           UPDATE suspensions SET resumed_at = $3 \
           WHERE tenant_id = $1 AND resumed_at IS NULL \
             AND (($2::uuid IS NOT NULL AND subscriber_id = $2) OR ($2::uuid IS NULL AND ends_at <= $3)) \
           RETURNING subscriber_id) \
         UPDATE accounts a SET status = 'active', status_changed_at = $3 FROM ended \
         WHERE a.tenant_id = $1 AND a.subscriber_id = ended.subscriber_id AND a.status = 'suspended' \
         RETURNING a.subscriber_id",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.map(|s| s.as_uuid()))
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    if subscriber.is_some() && resumed.is_empty() {
        return Err(BillingError::NotSuspended);
    }
    let resumed: Vec<SubscriberId> = resumed.into_iter().map(SubscriberId).collect();
    if !resumed.is_empty() {
        refresh_status(tx, Some(&resumed)).await?;
    }
    Ok(resumed)
}
