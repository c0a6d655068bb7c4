//! Recording money movements and reading them back.

use kabinet_core::{Money, StaffId, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::error::{BillingError, currency};
use crate::model::{
    HistoryItem, LedgerAccount, Line, NewTransaction, PaymentMethod, Posted, TransactionKind,
    Violation,
};

/// Records a transaction once per idempotency key.
///
/// A repeated key with the same movement returns the first result (`created: false`); a
/// repeated key with a different movement is an [`BillingError::IdempotencyConflict`], never a
/// second movement. The database itself refuses lines that do not balance.
pub async fn post(tx: &mut TenantTx, new: &NewTransaction) -> Result<Posted, BillingError> {
    let tenant = tx.tenant();
    let Some(first) = new.lines.first() else {
        return Err(BillingError::Unbalanced);
    };
    let cur = first.amount.currency;
    let sum: i128 = new.lines.iter().map(|l| i128::from(l.amount.minor)).sum();
    if sum != 0
        || new.lines.len() < 2
        || new
            .lines
            .iter()
            .any(|l| l.amount.currency != cur || l.amount.minor == 0)
    {
        return Err(BillingError::Unbalanced);
    }
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id, staff_id, reference) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(new.kind.as_str())
    .bind(&new.description)
    .bind(&new.idempotency_key)
    .bind(new.subscriber.map(|s| s.as_uuid()))
    .bind(new.staff.map(|s| s.as_uuid()))
    .bind(&new.reference)
    .fetch_optional(tx.conn())
    .await?;

    let Some(id) = inserted else {
        return same_movement(tx, new).await;
    };
    let accounts: Vec<String> = new.lines.iter().map(|l| l.account.code()).collect();
    let subscribers: Vec<Option<Uuid>> = new
        .lines
        .iter()
        .map(|l| l.account.subscriber().map(|s| s.as_uuid()))
        .collect();
    let amounts: Vec<i64> = new.lines.iter().map(|l| l.amount.minor).collect();
    // One statement for all lines: the balance trigger checks the transaction as a whole.
    sqlx::query(
        "INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
         SELECT $1, $2, l.n::smallint, l.account, l.subscriber_id, l.amount, $6 \
         FROM unnest($3::text[], $4::uuid[], $5::bigint[]) WITH ORDINALITY AS l(account, subscriber_id, amount, n)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&accounts)
    .bind(&subscribers)
    .bind(&amounts)
    .bind(cur.code())
    .execute(tx.conn())
    .await
    .map_err(|e| match kabinet_db::constraint_name(&e) {
        Some(c) if c.starts_with("ledger_entries_tenant_id_subscriber_id") => BillingError::NoAccount,
        _ => e.into(),
    })?;
    Ok(Posted { id, created: true })
}

/// The transaction already recorded under `new`'s key, if it is the same movement.
async fn same_movement(tx: &mut TenantTx, new: &NewTransaction) -> Result<Posted, BillingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT t.id, t.kind, e.ledger_account, e.subscriber_id, e.amount_minor, e.currency \
         FROM ledger_transactions t JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id \
         WHERE t.tenant_id = $1 AND t.idempotency_key = $2 ORDER BY e.line",
    )
    .bind(tenant.as_uuid())
    .bind(&new.idempotency_key)
    .fetch_all(tx.conn())
    .await?;
    let mut id = None;
    let mut recorded = Vec::with_capacity(rows.len());
    for row in &rows {
        id = Some(row.try_get::<Uuid, _>("id")?);
        let kind: String = row.try_get("kind")?;
        recorded.push((
            kind,
            row.try_get::<String, _>("ledger_account")?,
            row.try_get::<Option<Uuid>, _>("subscriber_id")?,
            row.try_get::<i64, _>("amount_minor")?,
            currency(&row.try_get::<String, _>("currency")?)?,
        ));
    }
    let wanted: Vec<_> = new
        .lines
        .iter()
        .map(|l| {
            (
                new.kind.as_str().to_owned(),
                l.account.code(),
                l.account.subscriber().map(|s| s.as_uuid()),
                l.amount.minor,
                l.amount.currency,
            )
        })
        .collect();
    match id {
        Some(id) if recorded == wanted => Ok(Posted { id, created: false }),
        _ => Err(BillingError::IdempotencyConflict(
            new.idempotency_key.clone(),
        )),
    }
}

/// A payment received for a subscriber: their balance up, the method's clearing account down.
/// The caller refreshes the account status (a payment can lift a block at once).
pub async fn record_payment(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    amount: Money,
    method: PaymentMethod,
    reference: &str,
    staff: Option<StaffId>,
    idempotency_key: &str,
) -> Result<Posted, BillingError> {
    if amount.minor <= 0 {
        return Err(BillingError::NotPositive);
    }
    if reference.trim().is_empty()
        || reference.len() > 100
        || reference.chars().any(char::is_control)
    {
        return Err(BillingError::BadReference);
    }
    let account_currency: Option<String> = sqlx::query_scalar(
        "SELECT currency FROM accounts WHERE tenant_id = $1 AND subscriber_id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let account_currency = currency(&account_currency.ok_or(BillingError::NoAccount)?)?;
    if account_currency != amount.currency {
        return Err(BillingError::CurrencyMismatch {
            given: amount.currency,
            account: account_currency,
        });
    }
    let description = match method {
        PaymentMethod::Cash => "Payment in cash",
        PaymentMethod::BankTransfer => "Payment by bank transfer",
        PaymentMethod::Card => "Payment by card",
    };
    post(
        tx,
        &NewTransaction {
            kind: TransactionKind::Payment,
            description: description.into(),
            idempotency_key: idempotency_key.to_owned(),
            subscriber: Some(subscriber),
            staff,
            reference: Some(reference.to_owned()),
            lines: vec![
                Line {
                    account: LedgerAccount::Subscriber(subscriber),
                    amount,
                },
                Line {
                    account: LedgerAccount::Clearing(method),
                    amount: Money::new(-amount.minor, amount.currency),
                },
            ],
        },
    )
    .await
}

/// A payment as it arrives, from staff or a payment provider.
#[derive(Clone, Copy, Debug)]
pub struct IncomingPayment<'a> {
    pub subscriber: SubscriberId,
    pub amount: Money,
    pub method: PaymentMethod,
    /// Receipt number, bank reference or provider id.
    pub reference: &'a str,
    pub staff: Option<StaffId>,
    /// Unique per tenant: the same payment delivered twice is recorded once.
    pub idempotency_key: &'a str,
}

/// A payment arrives: recorded once per key; an open promised payment is repaid from it; the
/// account's status follows the new balance at once (a debt block lifts immediately).
pub async fn receive_payment(
    tx: &mut TenantTx,
    payment: &IncomingPayment<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Posted, BillingError> {
    let subscriber = payment.subscriber;
    let posted = record_payment(
        tx,
        subscriber,
        payment.amount,
        payment.method,
        payment.reference,
        payment.staff,
        payment.idempotency_key,
    )
    .await?;
    if posted.created {
        crate::promises::settle(tx, crate::promises::Settle::Paid(subscriber), now).await?;
    }
    crate::accounts::refresh_status(tx, Some(&[subscriber])).await?;
    Ok(posted)
}

/// The subscriber's movements, newest first (charge details, payment history).
pub async fn history(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    limit: i64,
) -> Result<Vec<HistoryItem>, BillingError> {
    movements(tx, subscriber, None, limit).await
}

/// One movement of the subscriber's balance, by transaction id.
pub async fn movement(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    transaction: Uuid,
) -> Result<Option<HistoryItem>, BillingError> {
    Ok(movements(tx, subscriber, Some(transaction), 1).await?.pop())
}

async fn movements(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    only: Option<Uuid>,
    limit: i64,
) -> Result<Vec<HistoryItem>, BillingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT t.id, t.kind, t.description, t.reference, t.created_at, sum(e.amount_minor)::bigint AS amount, min(e.currency) AS currency, \
                EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.tenant_id = t.tenant_id AND r.reverses = t.id) AS reversed \
         FROM ledger_entries e JOIN ledger_transactions t ON t.tenant_id = e.tenant_id AND t.id = e.transaction_id \
         WHERE e.tenant_id = $1 AND e.subscriber_id = $2 AND ($4::uuid IS NULL OR t.id = $4) \
         GROUP BY t.tenant_id, t.id, t.kind, t.description, t.reference, t.created_at \
         ORDER BY t.created_at DESC, t.id DESC LIMIT $3",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(limit.clamp(1, 1000))
    .bind(only)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok(HistoryItem {
                transaction: row.try_get("id")?,
                kind: TransactionKind::parse(&kind)
                    .ok_or_else(|| BillingError::Corrupt(format!("transaction kind {kind:?}")))?,
                description: row.try_get("description")?,
                reference: row.try_get("reference")?,
                amount: Money::new(
                    row.try_get("amount")?,
                    currency(&row.try_get::<String, _>("currency")?)?,
                ),
                at: row.try_get("created_at")?,
                reversed: row.try_get("reversed")?,
            })
        })
        .collect()
}

/// Checks every billing invariant of the tenant; an empty list means all hold.
pub async fn verify(tx: &mut TenantTx) -> Result<Vec<Violation>, BillingError> {
    let tenant = tx.tenant();
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT 'transaction ' || transaction_id || ' does not sum to zero' FROM ledger_entries \
           WHERE tenant_id = $1 GROUP BY transaction_id HAVING sum(amount_minor) <> 0 OR count(DISTINCT currency) <> 1 \
         UNION ALL \
         SELECT 'transaction ' || t.id || ' has fewer than two entries' FROM ledger_transactions t \
           WHERE t.tenant_id = $1 AND (SELECT count(*) FROM ledger_entries e WHERE e.tenant_id = t.tenant_id AND e.transaction_id = t.id) < 2 \
         UNION ALL \
         SELECT 'account ' || a.subscriber_id || ' caches balance ' || a.balance_minor || ' but its entries sum to ' || COALESCE(s.total, 0) \
           FROM accounts a LEFT JOIN (SELECT subscriber_id, sum(amount_minor) AS total FROM ledger_entries \
                                      WHERE tenant_id = $1 AND subscriber_id IS NOT NULL GROUP BY subscriber_id) s \
             ON s.subscriber_id = a.subscriber_id \
           WHERE a.tenant_id = $1 AND a.balance_minor <> COALESCE(s.total, 0) \
         UNION ALL \
         SELECT 'entry ' || e.transaction_id || '/' || e.line || ' is in ' || e.currency || ', its account in ' || a.currency \
           FROM ledger_entries e JOIN accounts a ON a.tenant_id = e.tenant_id AND a.subscriber_id = e.subscriber_id \
           WHERE e.tenant_id = $1 AND e.currency <> a.currency \
         UNION ALL \
         SELECT 'account ' || subscriber_id || ' is ' || status || ' with balance ' || balance_minor || ' and credit limit ' || credit_limit_minor \
           FROM accounts WHERE tenant_id = $1 AND ( \
             (status = 'active' AND balance_minor < -credit_limit_minor) OR \
             (status = 'blocked' AND balance_minor >= -credit_limit_minor))",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(found.into_iter().map(|what| Violation { what }).collect())
}

/// A statement (выписка) of one subscriber's balance over a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
    /// The balance at `from`: every movement before it.
    pub opening: Money,
    /// The balance at `to`: opening plus the movements listed.
    pub closing: Money,
    /// Movements in `[from, to)`, oldest first.
    pub items: Vec<HistoryItem>,
}

/// Movements in `[from, to)` with the balance before and after. Two set-based queries.
pub async fn statement(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Statement, BillingError> {
    let tenant = tx.tenant();
    let (opening, cur): (i64, String) = sqlx::query_as(
        "SELECT COALESCE((SELECT sum(e.amount_minor) FROM ledger_entries e \
                  JOIN ledger_transactions t ON t.tenant_id = e.tenant_id AND t.id = e.transaction_id \
                  WHERE e.tenant_id = $1 AND e.subscriber_id = $2 AND t.created_at < $3), 0)::bigint, a.currency::text \
         FROM accounts a WHERE a.tenant_id = $1 AND a.subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(from)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(BillingError::NoAccount)?;
    let cur = currency(&cur)?;
    let rows = sqlx::query(
        "SELECT t.id, t.kind, t.description, t.reference, t.created_at, sum(e.amount_minor)::bigint AS amount, \
                EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.tenant_id = t.tenant_id AND r.reverses = t.id) AS reversed \
         FROM ledger_entries e JOIN ledger_transactions t ON t.tenant_id = e.tenant_id AND t.id = e.transaction_id \
         WHERE e.tenant_id = $1 AND e.subscriber_id = $2 AND t.created_at >= $3 AND t.created_at < $4 \
         GROUP BY t.tenant_id, t.id, t.kind, t.description, t.reference, t.created_at \
         ORDER BY t.created_at, t.id LIMIT 10000",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?;
    let mut closing = opening;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind: String = row.try_get("kind")?;
        let amount: i64 = row.try_get("amount")?;
        closing += amount;
        items.push(HistoryItem {
            transaction: row.try_get("id")?,
            kind: TransactionKind::parse(&kind)
                .ok_or_else(|| BillingError::Corrupt(format!("transaction kind {kind:?}")))?,
            description: row.try_get("description")?,
            reference: row.try_get("reference")?,
            amount: Money::new(amount, cur),
            at: row.try_get("created_at")?,
            reversed: row.try_get("reversed")?,
        });
    }
    Ok(Statement {
        from,
        to,
        opening: Money::new(opening, cur),
        closing: Money::new(closing, cur),
        items,
    })
}

impl Statement {
    /// The statement as CSV (RFC 4180): a header row, one row per movement, amounts as decimal
    /// strings with two places, and the opening and closing balances as the first and last rows.
    pub fn to_csv(&self) -> Result<String, BillingError> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let decimal = |m: Money| {
            let abs = m.minor.unsigned_abs();
            format!(
                "{}{}.{:02}",
                if m.minor < 0 { "-" } else { "" },
                abs / 100,
                abs % 100
            )
        };
        let write = |w: &mut csv::Writer<Vec<u8>>, row: [&str; 6]| {
            w.write_record(row)
                .map_err(|e| BillingError::Corrupt(e.to_string()))
        };
        write(
            &mut out,
            [
                "date",
                "kind",
                "description",
                "reference",
                "amount",
                "currency",
            ],
        )?;
        let cur = self.opening.currency.code().to_owned();
        write(
            &mut out,
            [
                &self.from.to_rfc3339(),
                "opening_balance",
                "Balance at the start of the period",
                "",
                &decimal(self.opening),
                &cur,
            ],
        )?;
        for item in &self.items {
            write(
                &mut out,
                [
                    &item.at.to_rfc3339(),
                    item.kind.as_str(),
                    &item.description,
                    item.reference.as_deref().unwrap_or(""),
                    &decimal(item.amount),
                    &cur,
                ],
            )?;
        }
        write(
            &mut out,
            [
                &self.to.to_rfc3339(),
                "closing_balance",
                "Balance at the end of the period",
                "",
                &decimal(self.closing),
                &cur,
            ],
        )?;
        let bytes = out
            .into_inner()
            .map_err(|e| BillingError::Corrupt(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| BillingError::Corrupt(e.to_string()))
    }
}
