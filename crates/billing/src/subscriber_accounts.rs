//! Accounts as ISP staff manage them: an overview per subscriber for the console's lists,
//! blocking and unblocking by staff, and accounts with opening balances in bulk (the CSV
//! import), set-based: one statement per step for a whole batch.

use std::collections::{HashMap, HashSet};

use kabinet_core::{Currency, Money, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::accounts::refresh_status;
use crate::error::{BillingError, currency};
use crate::model::AccountStatus;

/// An account at a glance.
#[derive(Clone, Debug)]
pub struct AccountOverview {
    pub status: AccountStatus,
    /// Blocked by staff (not for debt): a payment does not lift it.
    pub staff_blocked: bool,
    pub balance: Money,
    pub tariff_code: Option<String>,
    pub tariff_name: Option<String>,
}

/// The accounts of `subscribers`, in one query; subscribers without an account are absent.
pub async fn account_overviews(
    tx: &mut TenantTx,
    subscribers: &[SubscriberId],
) -> Result<HashMap<SubscriberId, AccountOverview>, BillingError> {
    let tenant = tx.tenant();
    let ids: Vec<Uuid> = subscribers.iter().map(|s| s.as_uuid()).collect();
    let rows = sqlx::query(
        "SELECT a.subscriber_id, a.status, a.staff_blocked, a.balance_minor, a.currency, t.code, t.name \
         FROM accounts a LEFT JOIN tariffs t ON t.tenant_id = a.tenant_id AND t.id = a.tariff_id \
         WHERE a.tenant_id = $1 AND a.subscriber_id = ANY($2)",
    )
    .bind(tenant.as_uuid())
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in &rows {
        let status: String = row.try_get("status")?;
        let cur = currency(&row.try_get::<String, _>("currency")?)?;
        out.insert(
            SubscriberId(row.try_get("subscriber_id")?),
            AccountOverview {
                status: AccountStatus::parse(&status)
                    .ok_or_else(|| BillingError::Corrupt(format!("account status {status:?}")))?,
                staff_blocked: row.try_get("staff_blocked")?,
                balance: Money::new(row.try_get("balance_minor")?, cur),
                tariff_code: row.try_get("code")?,
                tariff_name: row.try_get("name")?,
            },
        );
    }
    Ok(out)
}

/// Blocks (`true`) or unblocks the account by staff decision. A staff block holds whatever the
/// balance; unblocking hands the status back to the balance (still below the credit limit: it
/// stays blocked for debt). A voluntarily suspended account is refused (`NotActive`). Returns
/// the status after and whether anything changed.
pub async fn set_staff_block(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    blocked: bool,
) -> Result<(AccountStatus, bool), BillingError> {
    let tenant = tx.tenant();
    let row: Option<(String, bool)> = sqlx::query_as(
        "SELECT status, staff_blocked FROM accounts WHERE tenant_id = $1 AND subscriber_id = $2 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let Some((status, staff_blocked)) = row else {
        return Err(BillingError::NoAccount);
    };
    let current = AccountStatus::parse(&status)
        .ok_or_else(|| BillingError::Corrupt(format!("account status {status:?}")))?;
    if staff_blocked == blocked {
        return Ok((current, false));
    }
    if blocked && current == AccountStatus::Suspended {
        return Err(BillingError::NotActive);
    }
    let status: String = sqlx::query_scalar(
        "UPDATE accounts SET staff_blocked = $3, \
           status = CASE WHEN $3 OR balance_minor < -credit_limit_minor THEN 'blocked' ELSE 'active' END, \
           status_changed_at = now() \
         WHERE tenant_id = $1 AND subscriber_id = $2 RETURNING status",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(blocked)
    .fetch_one(tx.conn())
    .await?;
    let after = AccountStatus::parse(&status)
        .ok_or_else(|| BillingError::Corrupt(format!("account status {status:?}")))?;
    Ok((after, true))
}

/// The codes of the ISP's tariffs (active or not): what an import may name.
pub async fn tariff_codes(tx: &mut TenantTx) -> Result<HashSet<String>, BillingError> {
    let tenant = tx.tenant();
    let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM tariffs WHERE tenant_id = $1")
        .bind(tenant.as_uuid())
        .fetch_all(tx.conn())
        .await?;
    Ok(codes.into_iter().collect())
}

/// One account of an import.
#[derive(Clone, Debug)]
pub struct AccountSeed {
    pub subscriber: SubscriberId,
    /// Names the opening balance's idempotency key (`import:opening:<account number>`).
    pub account_number: String,
    pub tariff_code: Option<String>,
    pub staff_blocked: bool,
    /// Minor units in the ISP's currency; 0 posts nothing.
    pub opening_balance: i64,
}

/// What [`seed_accounts`] did per seed (same order).
#[derive(Clone, Copy, Debug, Default)]
pub struct Seeded {
    /// Opened, or its tariff or staff block changed, or its opening balance was posted now.
    pub changed: bool,
    /// A different opening balance was already on the ledger, so this one was not posted.
    pub opening_balance_skipped: bool,
}

/// Opens or updates the accounts of a batch and posts their opening balances, set-based.
///
/// INVARIANT: an account gets at most one opening balance, ever: a seed whose subscriber has
/// an `opening_balance` transaction already (from an earlier import or a manifest) posts
/// nothing, and the key `import:opening:<account number>` makes a concurrent twin a no-op.
/// Existing accounts take the seed's tariff (at once, no pro-rating) and staff block; their
/// status then follows the balance (`refresh_status`), as a new account's does.
pub async fn seed_accounts(
    tx: &mut TenantTx,
    seeds: &[AccountSeed],
    cur: Currency,
) -> Result<Vec<Seeded>, BillingError> {
    let tenant = tx.tenant();
    let subscribers: Vec<Uuid> = seeds.iter().map(|s| s.subscriber.as_uuid()).collect();
    let tariffs: Vec<Option<&str>> = seeds.iter().map(|s| s.tariff_code.as_deref()).collect();
    let blocked: Vec<bool> = seeds.iter().map(|s| s.staff_blocked).collect();
    let changed_accounts: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO accounts (tenant_id, subscriber_id, tariff_id, status, staff_blocked, currency) \
         SELECT $1, u.subscriber_id, t.id, CASE WHEN u.blocked THEN 'blocked' ELSE 'active' END, u.blocked, $5 \
         FROM unnest($2::uuid[], $3::text[], $4::bool[]) AS u(subscriber_id, tariff, blocked) \
         LEFT JOIN tariffs t ON t.tenant_id = $1 AND t.code = u.tariff \
         ON CONFLICT (tenant_id, subscriber_id) DO UPDATE SET tariff_id = EXCLUDED.tariff_id, \
           staff_blocked = EXCLUDED.staff_blocked, \
           status = CASE WHEN EXCLUDED.staff_blocked THEN 'blocked' \
                         WHEN accounts.staff_blocked AND accounts.status = 'blocked' THEN 'active' \
                         ELSE accounts.status END, \
           status_changed_at = CASE WHEN accounts.staff_blocked IS DISTINCT FROM EXCLUDED.staff_blocked \
                                    THEN now() ELSE accounts.status_changed_at END \
         WHERE (accounts.tariff_id, accounts.staff_blocked) \
               IS DISTINCT FROM (EXCLUDED.tariff_id, EXCLUDED.staff_blocked) \
         RETURNING subscriber_id",
    )
    .bind(tenant.as_uuid())
    .bind(&subscribers)
    .bind(&tariffs)
    .bind(&blocked)
    .bind(cur.code())
    .fetch_all(tx.conn())
    .await?;
    let changed_accounts: HashSet<Uuid> = changed_accounts.into_iter().collect();

    let with_balance: Vec<&AccountSeed> = seeds.iter().filter(|s| s.opening_balance != 0).collect();
    let mut posted: HashSet<Uuid> = HashSet::new();
    let mut had_opening: HashSet<Uuid> = HashSet::new();
    let mut recorded_opening: HashMap<Uuid, i64> = HashMap::new();
    if !with_balance.is_empty() {
        let ids: Vec<Uuid> = with_balance
            .iter()
            .map(|s| s.subscriber.as_uuid())
            .collect();
        let tx_ids: Vec<Uuid> = with_balance.iter().map(|_| Uuid::now_v7()).collect();
        let keys: Vec<String> = with_balance
            .iter()
            .map(|s| format!("import:opening:{}", s.account_number))
            .collect();
        let amounts: Vec<i64> = with_balance.iter().map(|s| s.opening_balance).collect();
        let existing: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT t.subscriber_id, sum(e.amount_minor)::bigint FROM ledger_transactions t \
             JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id \
               AND e.ledger_account = 'subscriber' \
             WHERE t.tenant_id = $1 AND t.subscriber_id = ANY($2) AND t.kind = 'opening_balance' \
             GROUP BY t.subscriber_id",
        )
        .bind(tenant.as_uuid())
        .bind(&ids)
        .fetch_all(tx.conn())
        .await?;
        had_opening.extend(existing.iter().map(|(id, _)| *id));
        recorded_opening.extend(existing);
        // Only accounts without an opening balance go on (filtered here: a `NOT = ANY(array)`
        // in SQL would compare every row with every skipped account).
        let fresh: Vec<usize> = (0..ids.len())
            .filter(|i| !had_opening.contains(&ids[*i]))
            .collect();
        let pick = |v: &[Uuid]| fresh.iter().map(|i| v[*i]).collect::<Vec<_>>();
        let (tx_ids, fresh_ids) = (pick(&tx_ids), pick(&ids));
        let keys: Vec<&String> = fresh.iter().map(|i| &keys[*i]).collect();
        let inserted: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id) \
             SELECT $1, u.id, 'opening_balance', 'Opening balance', u.key, u.subscriber_id \
             FROM unnest($2::uuid[], $3::uuid[], $4::text[]) AS u(id, subscriber_id, key) \
             ON CONFLICT (tenant_id, idempotency_key) DO NOTHING \
             RETURNING id, subscriber_id",
        )
        .bind(tenant.as_uuid())
        .bind(&tx_ids)
        .bind(&fresh_ids)
        .bind(&keys)
        .fetch_all(tx.conn())
        .await?;
        let amount_of: HashMap<Uuid, i64> = ids.iter().copied().zip(amounts).collect();
        let mut entry_tx = Vec::with_capacity(inserted.len() * 2);
        let mut entry_line: Vec<i16> = Vec::with_capacity(inserted.len() * 2);
        let mut entry_account = Vec::with_capacity(inserted.len() * 2);
        let mut entry_subscriber: Vec<Option<Uuid>> = Vec::with_capacity(inserted.len() * 2);
        let mut entry_amount = Vec::with_capacity(inserted.len() * 2);
        for (tx_id, subscriber) in &inserted {
            let amount = amount_of.get(subscriber).copied().unwrap_or_default();
            posted.insert(*subscriber);
            entry_tx.extend([*tx_id, *tx_id]);
            entry_line.extend([1, 2]);
            entry_account.extend(["subscriber", "adjustments"]);
            entry_subscriber.extend([Some(*subscriber), None]);
            entry_amount.extend([amount, -amount]);
        }
        if !inserted.is_empty() {
            // One statement for every line of the batch: the balance trigger checks each
            // transaction and moves each cached balance.
            sqlx::query(
                "INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
                 SELECT $1, e.tx, e.line, e.account, e.subscriber_id, e.amount, $7 \
                 FROM unnest($2::uuid[], $3::int2[], $4::text[], $5::uuid[], $6::bigint[]) \
                   AS e(tx, line, account, subscriber_id, amount)",
            )
            .bind(tenant.as_uuid())
            .bind(&entry_tx)
            .bind(&entry_line)
            .bind(&entry_account)
            .bind(&entry_subscriber)
            .bind(&entry_amount)
            .bind(cur.code())
            .execute(tx.conn())
            .await?;
        }
    }
    let status_changed: HashSet<Uuid> = refresh_status(
        tx,
        Some(&seeds.iter().map(|s| s.subscriber).collect::<Vec<_>>()),
    )
    .await?
    .into_iter()
    .map(|c| c.subscriber.as_uuid())
    .collect();
    Ok(seeds
        .iter()
        .map(|s| {
            let id = s.subscriber.as_uuid();
            Seeded {
                changed: changed_accounts.contains(&id)
                    || posted.contains(&id)
                    || status_changed.contains(&id),
                opening_balance_skipped: s.opening_balance != 0
                    && recorded_opening
                        .get(&id)
                        .is_some_and(|recorded| *recorded != s.opening_balance),
            }
        })
        .collect())
}
