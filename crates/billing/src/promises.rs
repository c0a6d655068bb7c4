//! Promised payments (обещанный платёж): temporary credit a subscriber takes themselves.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::accounts::refresh_status;
use crate::error::{BillingError, currency};
use crate::ledger::post;
use crate::model::{LedgerAccount, Line, NewTransaction, TransactionKind};
use crate::rules::billing_settings;

/// An open promised payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promise {
    pub id: Uuid,
    pub amount: Money,
    pub granted_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let first = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).unwrap_or(now.date_naive());
    Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// Grants a promised payment: the balance goes up by `amount` until the next payment or
/// `promised_payment_days`, whichever comes first. Lifts a debt block at once.
///
/// Refused when the ISP does not offer it, above its maximum, while one is open, past the
/// monthly limit, or for a suspended account.
pub async fn take_promised_payment(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    amount: Money,
    now: DateTime<Utc>,
) -> Result<Promise, BillingError> {
    let tenant = tx.tenant();
    let rules = billing_settings(tx).await?;
    if rules.promised_payment_max_minor == 0 || rules.promised_payments_per_month == 0 {
        return Err(BillingError::PromisesOff);
    }
    if amount.minor <= 0 {
        return Err(BillingError::NotPositive);
    }
    // Lock the account: concurrent requests for one subscriber queue here.
    let row = sqlx::query(
        "SELECT status, currency FROM accounts WHERE tenant_id = $1 AND subscriber_id = $2 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(BillingError::NoAccount)?;
    let account_currency = currency(&row.try_get::<String, _>("currency")?)?;
    if account_currency != amount.currency {
        return Err(BillingError::CurrencyMismatch {
            given: amount.currency,
            account: account_currency,
        });
    }
    if row.try_get::<String, _>("status")? == "suspended" {
        return Err(BillingError::NotActive);
    }
    if amount.minor > rules.promised_payment_max_minor {
        return Err(BillingError::PromiseTooLarge {
            max: rules.promised_payment_max(account_currency),
        });
    }
    let (open, this_month): (bool, i64) = sqlx::query_as(
        "SELECT bool_or(settled_at IS NULL) IS TRUE, count(*) FILTER (WHERE granted_at >= $3) \
         FROM promised_payments WHERE tenant_id = $1 AND subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(month_start(now))
    .fetch_one(tx.conn())
    .await?;
    if open {
        return Err(BillingError::PromiseOpen);
    }
    if this_month >= i64::from(rules.promised_payments_per_month) {
        return Err(BillingError::PromiseLimitReached {
            limit: rules.promised_payments_per_month,
        });
    }
    let id = Uuid::now_v7();
    let due_at = now + Duration::days(i64::from(rules.promised_payment_days));
    let posted = post(
        tx,
        &NewTransaction {
            kind: TransactionKind::PromisedCredit,
            description: format!("Promised payment until {}", due_at.format("%Y-%m-%d")),
            idempotency_key: format!("promise:{id}"),
            subscriber: Some(subscriber),
            staff: None,
            reference: None,
            lines: vec![
                Line {
                    account: LedgerAccount::Subscriber(subscriber),
                    amount,
                },
                Line {
                    account: LedgerAccount::PromisedCredit,
                    amount: Money::new(-amount.minor, amount.currency),
                },
            ],
        },
    )
    .await?;
    sqlx::query(
        "INSERT INTO promised_payments (tenant_id, id, subscriber_id, amount_minor, currency, granted_at, due_at, grant_transaction) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(subscriber.as_uuid())
    .bind(amount.minor)
    .bind(amount.currency.code())
    .bind(now)
    .bind(due_at)
    .bind(posted.id)
    .execute(tx.conn())
    .await?;
    refresh_status(tx, Some(&[subscriber])).await?;
    Ok(Promise {
        id,
        amount,
        granted_at: now,
        due_at,
    })
}

/// The subscriber's open promised payment, if any.
pub async fn open_promise(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Option<Promise>, BillingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT id, amount_minor, currency, granted_at, due_at FROM promised_payments \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND settled_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| {
        Ok(Promise {
            id: r.try_get("id")?,
            amount: Money::new(
                r.try_get("amount_minor")?,
                currency(&r.try_get::<String, _>("currency")?)?,
            ),
            granted_at: r.try_get("granted_at")?,
            due_at: r.try_get("due_at")?,
        })
    })
    .transpose()
}

/// Which open promised payments to settle.
pub(crate) enum Settle {
    /// The subscriber paid: their open promise is repaid from the payment.
    Paid(SubscriberId),
    /// Every promise due by this time expires.
    DueBy(DateTime<Utc>),
}

/// Settles promises in one statement: the reverse movement, and the promise closed. Keyed
/// `promise-settle:<id>`, so settling twice (two nodes, a retry) moves money once. Returns the
/// subscribers whose promise was settled (their status must then be refreshed).
pub(crate) async fn settle(
    tx: &mut TenantTx,
    which: Settle,
    now: DateTime<Utc>,
) -> Result<Vec<SubscriberId>, BillingError> {
    let tenant = tx.tenant();
    let (subscriber, due_by, settlement, description) = match which {
        Settle::Paid(s) => (Some(s.as_uuid()), None, "repaid", "Promised payment repaid"),
        Settle::DueBy(t) => (None, Some(t), "expired", "Promised payment ended"),
    };
    let rows: Vec<Uuid> = sqlx::query_scalar(
        "WITH due AS ( \
           SELECT id, subscriber_id, amount_minor, currency FROM promised_payments \
           WHERE tenant_id = $1 AND settled_at IS NULL \
             AND ($2::uuid IS NULL OR subscriber_id = $2) AND ($3::timestamptz IS NULL OR due_at <= $3) \
           FOR UPDATE SKIP LOCKED), \
         txn AS ( \
           INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id) \
           SELECT $1, gen_random_uuid(), 'promised_repayment', $5, 'promise-settle:' || due.id, due.subscriber_id FROM due \
           ON CONFLICT (tenant_id, idempotency_key) DO NOTHING \
           RETURNING id, idempotency_key), \
         lines AS ( \
           INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
           SELECT $1, txn.id, l.line, l.account, l.subscriber_id, l.amount, due.currency \
           FROM txn JOIN due ON txn.idempotency_key = 'promise-settle:' || due.id \
           CROSS JOIN LATERAL (VALUES \
             (1::smallint, 'subscriber', due.subscriber_id, -due.amount_minor), \
             (2::smallint, 'promised_credit', NULL::uuid, due.amount_minor)) AS l(line, account, subscriber_id, amount) \
           RETURNING 1), \
         closed AS ( \
           UPDATE promised_payments p SET settled_at = $6, settlement = $4, settle_transaction = txn.id \
           FROM txn WHERE p.tenant_id = $1 AND txn.idempotency_key = 'promise-settle:' || p.id \
           RETURNING p.subscriber_id) \
         SELECT subscriber_id FROM closed",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber)
    .bind(due_by)
    .bind(settlement)
    .bind(description)
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(SubscriberId).collect())
}
