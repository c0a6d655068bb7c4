//! Staff corrections: a balance adjustment with a reason, and the reversal of a whole
//! transaction. Nothing in the ledger is ever changed; both are new, balanced transactions.

use kabinet_core::{Money, StaffId, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use uuid::Uuid;

use crate::error::BillingError;
use crate::ledger::post;
use crate::model::{LedgerAccount, Line, NewTransaction, PaymentMethod, Posted, TransactionKind};

/// A manual adjustment of a subscriber's balance (goodwill credit, a missed charge …).
#[derive(Clone, Debug)]
pub struct Correction<'a> {
    pub subscriber: SubscriberId,
    /// Positive credits the subscriber, negative debits them.
    pub amount: Money,
    pub staff: StaffId,
    /// Shown in the subscriber's history.
    pub reason: &'a str,
    /// The staff member's reference; one correction per reference, so a retry never doubles it.
    pub reference: &'a str,
}

fn check_text(text: &str) -> Result<(), BillingError> {
    if text.trim().is_empty() || text.chars().count() > 200 || text.chars().any(char::is_control) {
        return Err(BillingError::BadReference);
    }
    Ok(())
}

/// Records a correction once per reference; the status follows the new balance at once.
pub async fn correct_balance(
    tx: &mut TenantTx,
    correction: &Correction<'_>,
) -> Result<Posted, BillingError> {
    if correction.amount.minor == 0 {
        return Err(BillingError::NotPositive);
    }
    check_text(correction.reason)?;
    check_text(correction.reference)?;
    let amount = correction.amount;
    let posted = post(
        tx,
        &NewTransaction {
            kind: TransactionKind::Correction,
            description: format!("Correction: {}", correction.reason.trim()),
            idempotency_key: format!("correction:{}", correction.reference.trim()),
            subscriber: Some(correction.subscriber),
            staff: Some(correction.staff),
            reference: Some(correction.reference.trim().to_owned()),
            lines: vec![
                Line {
                    account: LedgerAccount::Subscriber(correction.subscriber),
                    amount,
                },
                Line {
                    account: LedgerAccount::Adjustments,
                    amount: Money::new(-amount.minor, amount.currency),
                },
            ],
        },
    )
    .await?;
    crate::accounts::refresh_status(tx, Some(&[correction.subscriber])).await?;
    Ok(posted)
}

/// Reverses one of the subscriber's transactions in full: every line negated, in one new
/// transaction that names the original. At most once per transaction (the database holds a
/// unique index on `reverses`); a reversal itself cannot be reversed.
pub async fn reverse_transaction(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    transaction: Uuid,
    staff: StaffId,
    reason: &str,
) -> Result<Posted, BillingError> {
    reverse(tx, subscriber, transaction, Some(staff), reason).await
}

/// [`reverse_transaction`] for the crate's own refunds too (a cancelled equipment order), which
/// may have no staff member behind them. Same key, same unique index: never twice.
pub(crate) async fn reverse(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    transaction: Uuid,
    staff: Option<StaffId>,
    reason: &str,
) -> Result<Posted, BillingError> {
    check_text(reason)?;
    let tenant = tx.tenant();
    let original: Option<(String, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT kind, description, reverses FROM ledger_transactions \
         WHERE tenant_id = $1 AND id = $2 AND subscriber_id = $3",
    )
    .bind(tenant.as_uuid())
    .bind(transaction)
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let Some((kind, description, reverses)) = original else {
        return Err(BillingError::NoTransaction);
    };
    if reverses.is_some() || kind == TransactionKind::Reversal.as_str() {
        return Err(BillingError::NotReversible);
    }
    let key = format!("reversal:{transaction}");
    let id = Uuid::now_v7();
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id, staff_id, reference, reverses) \
         VALUES ($1, $2, 'reversal', $3, $4, $5, $6, $7, $8) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(format!("Reversal of “{description}”: {}", reason.trim()))
    .bind(&key)
    .bind(subscriber.as_uuid())
    .bind(staff.map(|s| s.as_uuid()))
    .bind(transaction.to_string())
    .bind(transaction)
    .fetch_optional(tx.conn())
    .await?;
    let Some(id) = inserted else {
        // Reversed before (by this key or, racing, by the unique index): the first result.
        let first: Uuid = sqlx::query_scalar(
            "SELECT id FROM ledger_transactions WHERE tenant_id = $1 AND reverses = $2",
        )
        .bind(tenant.as_uuid())
        .bind(transaction)
        .fetch_one(tx.conn())
        .await?;
        return Ok(Posted {
            id: first,
            created: false,
        });
    };
    // Every line negated by one statement: the balance trigger checks the whole.
    sqlx::query(
        "INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
         SELECT tenant_id, $3, line, ledger_account, subscriber_id, -amount_minor, currency \
         FROM ledger_entries WHERE tenant_id = $1 AND transaction_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(transaction)
    .bind(id)
    .execute(tx.conn())
    .await?;
    crate::accounts::refresh_status(tx, Some(&[subscriber])).await?;
    Ok(Posted { id, created: true })
}

/// Money returned to the subscriber's card or bank: their balance down, the payment method's
/// clearing account up. `key` makes it idempotent (the caller knows what makes it unique).
pub async fn record_refund(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    amount: Money,
    method: PaymentMethod,
    reference: &str,
    staff: Option<StaffId>,
    key: &str,
) -> Result<Posted, BillingError> {
    if amount.minor <= 0 {
        return Err(BillingError::NotPositive);
    }
    let posted = post(
        tx,
        &NewTransaction {
            kind: TransactionKind::Refund,
            description: match method {
                PaymentMethod::Card => "Refund to card".into(),
                PaymentMethod::Cash => "Refund in cash".into(),
                PaymentMethod::BankTransfer => "Refund by bank transfer".into(),
            },
            idempotency_key: key.to_owned(),
            subscriber: Some(subscriber),
            staff,
            reference: Some(reference.to_owned()),
            lines: vec![
                Line {
                    account: LedgerAccount::Subscriber(subscriber),
                    amount: Money::new(-amount.minor, amount.currency),
                },
                Line {
                    account: LedgerAccount::Clearing(method),
                    amount,
                },
            ],
        },
    )
    .await?;
    crate::accounts::refresh_status(tx, Some(&[subscriber])).await?;
    Ok(posted)
}
