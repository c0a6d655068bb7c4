//! Recurring charges, run as one set-based statement per tenant and period.

use kabinet_db::{TenantTx, sqlx};

use crate::accounts::refresh_status;
use crate::error::BillingError;
use crate::model::{AccountStatus, BillingMonth, ChargeRun};

/// `price` pro-rated from `since`: the whole price when `since` is before the month ($3), the
/// share of days from `since` on (rounded half up, like `tariff_change::prorate`) within it,
/// nothing when it is after the month ($4). $5 is the month's length in days.
fn prorated(price: &str, since: &str) -> String {
    format!(
        "CASE WHEN {since} >= $4 THEN 0 WHEN {since} > $3 \
           THEN ({price} * ($5 - extract(day FROM {since} AT TIME ZONE 'UTC')::bigint + 1) * 2 + $5) / (2 * $5) \
           ELSE {price} END"
    )
}

/// Charges every active account its tariff and its connected add-ons for `month`, in advance,
/// after switching the accounts whose next-period tariff change is due.
///
/// INVARIANT: at most one charge per (account, service, month), whatever happens: the keys
/// `charge:tariff:<subscriber>:<month>` and `charge:addon:<subscriber>:<addon>:<month>` are
/// unique per tenant, so a rerun after a crash, a retry, or the same run on two nodes at once
/// charges each exactly once (a concurrent duplicate waits on the key's index entry, then
/// skips). The whole run is one transaction; killed part way, it leaves nothing behind.
/// Accounts pushed below their credit limit are blocked in the same transaction.
///
/// An account that became active during the month (new, unblocked, resumed) or an add-on
/// connected during it pays from that day on; one active since before the month began pays the
/// whole month.
pub async fn run_monthly_charges(
    tx: &mut TenantTx,
    month: BillingMonth,
) -> Result<ChargeRun, BillingError> {
    let tenant = tx.tenant();
    let period = month.to_string();
    crate::tariff_change::apply_due_changes(tx, month).await?;
    let (start, next) = month.bounds()?;
    let days = i64::from(crate::tariff_change::days_in(month));
    let sql = format!(
        "WITH candidates AS ( \
           SELECT a.subscriber_id, 'tariff' AS service, \
                  'charge:tariff:' || a.subscriber_id || ':' || $2 AS key, \
                  'Tariff ' || t.name || ', ' || $2 AS description, \
                  {tariff_amount} AS amount, a.currency \
           FROM accounts a JOIN tariffs t ON t.tenant_id = a.tenant_id AND t.id = a.tariff_id \
           WHERE a.tenant_id = $1 AND a.status = 'active' AND t.monthly_price_minor > 0 \
           UNION ALL \
           SELECT s.subscriber_id, 'addon', \
                  'charge:addon:' || s.subscriber_id || ':' || s.addon_id || ':' || $2, \
                  ad.name || ', ' || $2, {addon_amount}, a.currency \
           FROM addon_subscriptions s \
           JOIN accounts a ON a.tenant_id = s.tenant_id AND a.subscriber_id = s.subscriber_id \
           JOIN addons ad ON ad.tenant_id = s.tenant_id AND ad.id = s.addon_id \
           WHERE s.tenant_id = $1 AND s.disconnected_at IS NULL AND a.status = 'active' \
             AND ad.monthly_price_minor > 0), \
         due AS (SELECT * FROM candidates WHERE amount > 0), \
         txn AS ( \
           INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id) \
           SELECT $1, gen_random_uuid(), 'charge', due.description, due.key, due.subscriber_id FROM due \
           ON CONFLICT (tenant_id, idempotency_key) DO NOTHING \
           RETURNING id, idempotency_key), \
         lines AS ( \
           INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
           SELECT $1, txn.id, l.line, l.account, l.subscriber_id, l.amount, due.currency \
           FROM txn JOIN due ON due.key = txn.idempotency_key \
           CROSS JOIN LATERAL (VALUES \
             (1::smallint, 'subscriber', due.subscriber_id, -due.amount), \
             (2::smallint, 'revenue:' || due.service, NULL::uuid, due.amount)) AS l(line, account, subscriber_id, amount) \
           RETURNING 1) \
         SELECT count(*) FILTER (WHERE due.service = 'tariff'), count(*) FILTER (WHERE due.service = 'addon') \
         FROM txn JOIN due ON due.key = txn.idempotency_key",
        tariff_amount = prorated("t.monthly_price_minor", "a.status_changed_at"),
        addon_amount = prorated(
            "ad.monthly_price_minor",
            "GREATEST(a.status_changed_at, s.connected_at)"
        ),
    );
    let (tariffs, addons): (i64, i64) = sqlx::query_as(&sql)
        .bind(tenant.as_uuid())
        .bind(&period)
        .bind(start)
        .bind(next)
        .bind(days)
        .fetch_one(tx.conn())
        .await?;
    crate::equipment::charge_monthly_rent(tx, month).await?;
    let changes = refresh_status(tx, None).await?;
    Ok(ChargeRun {
        charged: tariffs as u64,
        addons_charged: addons as u64,
        blocked: changes
            .iter()
            .filter(|c| c.status == AccountStatus::Blocked)
            .count() as u64,
    })
}
