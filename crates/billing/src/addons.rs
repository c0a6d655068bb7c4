//! Add-on services: connect and disconnect with their charges, and the catalogue per ISP.
//!
//! An add-on is charged monthly in advance with the tariff (key
//! `charge:addon:<subscriber>:<addon>:<month>`). Connected mid-month on a month already charged,
//! it costs the rest of the month (pro-rated, under that same key, so the month is never charged
//! twice); disconnected, the unused days of a charged month come back.

use chrono::{DateTime, Datelike, Utc};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::accounts::refresh_status;
use crate::error::{BillingError, currency};
use crate::ledger::post;
use crate::model::{BillingMonth, LedgerAccount, Line, NewTransaction, TransactionKind};
use crate::tariff_change::prorate;

#[derive(Clone, Debug)]
pub struct AddonSpec {
    pub code: String,
    pub name: String,
    pub description: String,
    pub monthly_price: Money,
}

/// An add-on as a subscriber sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddonOffer {
    pub code: String,
    pub name: String,
    pub description: String,
    pub monthly_price: Money,
    pub connected_at: Option<DateTime<Utc>>,
}

/// Creates or updates an add-on by code; returns whether anything changed.
pub async fn upsert_addon(tx: &mut TenantTx, spec: &AddonSpec) -> Result<bool, BillingError> {
    let tenant = tx.tenant();
    let done = sqlx::query(
        "INSERT INTO addons (tenant_id, id, code, name, description, monthly_price_minor, currency) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, code) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, \
           monthly_price_minor = EXCLUDED.monthly_price_minor, currency = EXCLUDED.currency \
         WHERE (addons.name, addons.description, addons.monthly_price_minor, addons.currency) \
           IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.monthly_price_minor, EXCLUDED.currency)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(&spec.code)
    .bind(&spec.name)
    .bind(&spec.description)
    .bind(spec.monthly_price.minor)
    .bind(spec.monthly_price.currency.code())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The ISP's add-ons with whether the subscriber has each. One query.
pub async fn addons_for(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Vec<AddonOffer>, BillingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT a.code, a.name, a.description, a.monthly_price_minor, a.currency, s.connected_at \
         FROM addons a LEFT JOIN addon_subscriptions s ON s.tenant_id = a.tenant_id AND s.addon_id = a.id \
              AND s.subscriber_id = $2 AND s.disconnected_at IS NULL \
         WHERE a.tenant_id = $1 AND (a.active OR s.id IS NOT NULL) ORDER BY a.monthly_price_minor, a.code",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AddonOffer {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
                monthly_price: Money::new(
                    r.try_get("monthly_price_minor")?,
                    currency(&r.try_get::<String, _>("currency")?)?,
                ),
                connected_at: r.try_get("connected_at")?,
            })
        })
        .collect()
}

fn tariff_charged_key(subscriber: SubscriberId, month: BillingMonth) -> String {
    format!("charge:tariff:{subscriber}:{month}")
}

fn addon_charge_key(subscriber: SubscriberId, addon: Uuid, month: BillingMonth) -> String {
    format!("charge:addon:{subscriber}:{addon}:{month}")
}

async fn key_exists(tx: &mut TenantTx, key: &str) -> Result<bool, BillingError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ledger_transactions WHERE tenant_id = $1 AND idempotency_key = $2)")
        .bind(tenant.as_uuid())
        .bind(key)
        .fetch_one(tx.conn())
        .await?)
}

/// Connects an add-on for an active account; returns what was charged now (the rest of an
/// already charged month), zero otherwise.
pub async fn connect_addon(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Money, BillingError> {
    let tenant = tx.tenant();
    let status: Option<String> = sqlx::query_scalar(
        "SELECT status FROM accounts WHERE tenant_id = $1 AND subscriber_id = $2 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    if status.ok_or(BillingError::NoAccount)? != "active" {
        return Err(BillingError::NotActive);
    }
    let addon = sqlx::query(
        "SELECT id, name, monthly_price_minor, currency FROM addons WHERE tenant_id = $1 AND code = $2 AND active",
    )
    .bind(tenant.as_uuid())
    .bind(code)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| BillingError::UnknownAddon(code.to_owned()))?;
    let addon_id: Uuid = addon.try_get("id")?;
    let name: String = addon.try_get("name")?;
    let cur = currency(&addon.try_get::<String, _>("currency")?)?;
    let price: i64 = addon.try_get("monthly_price_minor")?;
    sqlx::query(
        "INSERT INTO addon_subscriptions (tenant_id, id, subscriber_id, addon_id, connected_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(subscriber.as_uuid())
    .bind(addon_id)
    .bind(now)
    .execute(tx.conn())
    .await?;

    let month = BillingMonth::of(now.date_naive());
    let amount = prorate(price, month, now.day());
    let key = addon_charge_key(subscriber, addon_id, month);
    if amount == 0
        || !key_exists(tx, &tariff_charged_key(subscriber, month)).await?
        || key_exists(tx, &key).await?
    {
        return Ok(Money::zero(cur));
    }
    post(
        tx,
        &NewTransaction {
            kind: TransactionKind::Charge,
            description: format!("{name}, {month} (from {})", now.format("%Y-%m-%d")),
            idempotency_key: key,
            subscriber: Some(subscriber),
            staff: None,
            reference: None,
            lines: vec![
                Line {
                    account: LedgerAccount::Subscriber(subscriber),
                    amount: Money::new(-amount, cur),
                },
                Line {
                    account: LedgerAccount::Revenue("addon"),
                    amount: Money::new(amount, cur),
                },
            ],
        },
    )
    .await?;
    refresh_status(tx, Some(&[subscriber])).await?;
    Ok(Money::new(amount, cur))
}

/// Disconnects an add-on; returns what came back for the unused days of a charged month.
pub async fn disconnect_addon(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Money, BillingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "UPDATE addon_subscriptions s SET disconnected_at = $4 FROM addons a \
         WHERE s.tenant_id = $1 AND s.subscriber_id = $2 AND a.tenant_id = s.tenant_id AND a.id = s.addon_id \
           AND a.code = $3 AND s.disconnected_at IS NULL \
         RETURNING s.id, a.id AS addon_id, a.name, a.monthly_price_minor, a.currency",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(code)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| BillingError::NotConnected(code.to_owned()))?;
    let subscription: Uuid = row.try_get("id")?;
    let addon_id: Uuid = row.try_get("addon_id")?;
    let name: String = row.try_get("name")?;
    let cur = currency(&row.try_get::<String, _>("currency")?)?;
    let month = BillingMonth::of(now.date_naive());
    // Refund only what this month's charge paid for, from tomorrow on.
    let charged: Option<i64> = sqlx::query_scalar(
        "SELECT -sum(e.amount_minor)::bigint FROM ledger_transactions t \
         JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id AND e.subscriber_id IS NOT NULL \
         WHERE t.tenant_id = $1 AND t.idempotency_key = $2",
    )
    .bind(tenant.as_uuid())
    .bind(addon_charge_key(subscriber, addon_id, month))
    .fetch_one(tx.conn())
    .await?;
    let monthly: i64 = row.try_get("monthly_price_minor")?;
    let refund = charged.map_or(0, |paid| prorate(monthly, month, now.day() + 1).min(paid));
    if refund > 0 {
        post(
            tx,
            &NewTransaction {
                kind: TransactionKind::Refund,
                description: format!("{name}: unused days of {month}"),
                idempotency_key: format!("addon-refund:{subscription}"),
                subscriber: Some(subscriber),
                staff: None,
                reference: None,
                lines: vec![
                    Line {
                        account: LedgerAccount::Subscriber(subscriber),
                        amount: Money::new(refund, cur),
                    },
                    Line {
                        account: LedgerAccount::Revenue("addon"),
                        amount: Money::new(-refund, cur),
                    },
                ],
            },
        )
        .await?;
        refresh_status(tx, Some(&[subscriber])).await?;
    }
    Ok(Money::new(refund, cur))
}
