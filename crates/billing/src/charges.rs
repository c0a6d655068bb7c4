//! Recurring charges, run as one set-based statement per tenant and period.

use kabinet_db::{TenantTx, sqlx};

use crate::accounts::refresh_status;
use crate::error::BillingError;
use crate::model::{AccountStatus, BillingMonth, ChargeRun};

/// Charges every active account its tariff's monthly price for `month`, in advance, after
/// switching the accounts whose next-period tariff change is due.
///
/// INVARIANT: at most one charge per (account, month), whatever happens: the idempotency key
/// `charge:tariff:<subscriber>:<month>` is unique per tenant, so a rerun after a crash, a retry,
/// or the same run on two nodes at once charges each account exactly once (a concurrent
/// duplicate waits on the key's index entry, then skips). The whole run is one transaction;
/// killed part way, it leaves nothing behind. Accounts pushed below their credit limit are
/// blocked in the same transaction.
pub async fn run_monthly_charges(
    tx: &mut TenantTx,
    month: BillingMonth,
) -> Result<ChargeRun, BillingError> {
    let tenant = tx.tenant();
    let period = month.to_string();
    crate::tariff_change::apply_due_changes(tx, month).await?;
    let charged: i64 = sqlx::query_scalar(
        "WITH due AS ( \
           SELECT a.subscriber_id, t.monthly_price_minor AS amount, a.currency, t.name \
           FROM accounts a JOIN tariffs t ON t.tenant_id = a.tenant_id AND t.id = a.tariff_id \
           WHERE a.tenant_id = $1 AND a.status = 'active' AND t.monthly_price_minor > 0), \
         txn AS ( \
           INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id) \
           SELECT $1, gen_random_uuid(), 'charge', 'Tariff ' || due.name || ', ' || $2, \
                  'charge:tariff:' || due.subscriber_id || ':' || $2, due.subscriber_id \
           FROM due \
           ON CONFLICT (tenant_id, idempotency_key) DO NOTHING \
           RETURNING id, subscriber_id), \
         lines AS ( \
           INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
           SELECT $1, txn.id, l.line, l.account, l.subscriber_id, l.amount, due.currency \
           FROM txn JOIN due ON due.subscriber_id = txn.subscriber_id \
           CROSS JOIN LATERAL (VALUES \
             (1::smallint, 'subscriber', txn.subscriber_id, -due.amount), \
             (2::smallint, 'revenue:tariff', NULL::uuid, due.amount)) AS l(line, account, subscriber_id, amount) \
           RETURNING 1) \
         SELECT count(*) FROM txn",
    )
    .bind(tenant.as_uuid())
    .bind(&period)
    .fetch_one(tx.conn())
    .await?;
    let addons: i64 = sqlx::query_scalar(
        "WITH due AS ( \
           SELECT s.subscriber_id, s.addon_id, ad.monthly_price_minor AS amount, a.currency, ad.name \
           FROM addon_subscriptions s \
           JOIN accounts a ON a.tenant_id = s.tenant_id AND a.subscriber_id = s.subscriber_id \
           JOIN addons ad ON ad.tenant_id = s.tenant_id AND ad.id = s.addon_id \
           WHERE s.tenant_id = $1 AND s.disconnected_at IS NULL AND a.status = 'active' AND ad.monthly_price_minor > 0), \
         txn AS ( \
           INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id) \
           SELECT $1, gen_random_uuid(), 'charge', due.name || ', ' || $2, \
                  'charge:addon:' || due.subscriber_id || ':' || due.addon_id || ':' || $2, due.subscriber_id \
           FROM due \
           ON CONFLICT (tenant_id, idempotency_key) DO NOTHING \
           RETURNING id, idempotency_key), \
         lines AS ( \
           INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
           SELECT $1, txn.id, l.line, l.account, l.subscriber_id, l.amount, due.currency \
           FROM txn JOIN due ON txn.idempotency_key = 'charge:addon:' || due.subscriber_id || ':' || due.addon_id || ':' || $2 \
           CROSS JOIN LATERAL (VALUES \
             (1::smallint, 'subscriber', due.subscriber_id, -due.amount), \
             (2::smallint, 'revenue:addon', NULL::uuid, due.amount)) AS l(line, account, subscriber_id, amount) \
           RETURNING 1) \
         SELECT count(*) FROM txn",
    )
    .bind(tenant.as_uuid())
    .bind(&period)
    .fetch_one(tx.conn())
    .await?;
    let changes = refresh_status(tx, None).await?;
    Ok(ChargeRun {
        charged: charged as u64,
        addons_charged: addons as u64,
        blocked: changes
            .iter()
            .filter(|c| c.status == AccountStatus::Blocked)
            .count() as u64,
    })
}
