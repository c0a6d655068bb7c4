use kabinet_core::{Money, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::error::{BillingError, currency};
use crate::model::{AccountStatus, AccountSummary, TariffView};

/// Opens the subscriber's account (with `status` as its initial status) or updates its tariff
/// and credit limit. Returns whether anything changed. An existing account's status is never
/// touched here: it follows the balance (`refresh_status`) and the subscriber's own choices.
pub async fn ensure_account(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    tariff_code: Option<&str>,
    credit_limit: Money,
    status: AccountStatus,
) -> Result<bool, BillingError> {
    let tenant = tx.tenant();
    let tariff_id: Option<Uuid> = match tariff_code {
        Some(code) => Some(
            sqlx::query_scalar("SELECT id FROM tariffs WHERE tenant_id = $1 AND code = $2")
                .bind(tenant.as_uuid())
                .bind(code)
                .fetch_optional(tx.conn())
                .await?
                .ok_or_else(|| BillingError::UnknownTariff(code.to_owned()))?,
        ),
        None => None,
    };
    let changed = sqlx::query(
        "INSERT INTO accounts (tenant_id, subscriber_id, tariff_id, status, credit_limit_minor, currency) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, subscriber_id) DO UPDATE SET tariff_id = EXCLUDED.tariff_id, \
           credit_limit_minor = EXCLUDED.credit_limit_minor \
         WHERE (accounts.tariff_id, accounts.credit_limit_minor) \
           IS DISTINCT FROM (EXCLUDED.tariff_id, EXCLUDED.credit_limit_minor)",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(tariff_id)
    .bind(status.as_str())
    .bind(credit_limit.minor)
    .bind(credit_limit.currency.code())
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0;
    Ok(changed)
}

/// Status, balance, credit limit and tariff of one account.
pub async fn account_summary(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<AccountSummary, BillingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT a.status, a.credit_limit_minor, a.currency, a.balance_minor, \
                t.id, t.code, t.name, t.monthly_price_minor, t.currency AS tariff_currency, t.speed_mbps \
         FROM accounts a LEFT JOIN tariffs t ON t.tenant_id = a.tenant_id AND t.id = a.tariff_id \
         WHERE a.tenant_id = $1 AND a.subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(BillingError::NoAccount)?;
    let cur = currency(&row.try_get::<String, _>("currency")?)?;
    let status: String = row.try_get("status")?;
    let tariff = match row.try_get::<Option<Uuid>, _>("id")? {
        Some(id) => Some(TariffView {
            id,
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            monthly_price: Money::new(
                row.try_get("monthly_price_minor")?,
                currency(&row.try_get::<String, _>("tariff_currency")?)?,
            ),
            speed_mbps: row.try_get("speed_mbps")?,
        }),
        None => None,
    };
    Ok(AccountSummary {
        status: AccountStatus::parse(&status)
            .ok_or_else(|| BillingError::Corrupt(format!("account status {status:?}")))?,
        balance: Money::new(row.try_get("balance_minor")?, cur),
        credit_limit: Money::new(row.try_get("credit_limit_minor")?, cur),
        tariff,
    })
}

/// An account whose status the balance changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusChange {
    pub subscriber: SubscriberId,
    pub status: AccountStatus,
}

/// Makes status follow the balance, in one statement: active accounts below their credit limit
/// are blocked; blocked accounts back within it are unblocked unless staff blocked them
/// (`set_staff_block`). Suspended accounts are left alone.
/// `only` narrows it to some subscribers (after a payment); `None` means the whole tenant.
pub async fn refresh_status(
    tx: &mut TenantTx,
    only: Option<&[SubscriberId]>,
) -> Result<Vec<StatusChange>, BillingError> {
    let tenant = tx.tenant();
    let only: Option<Vec<Uuid>> = only.map(|s| s.iter().map(|id| id.as_uuid()).collect());
    let rows = sqlx::query(
        "UPDATE accounts SET status = CASE status WHEN 'active' THEN 'blocked' ELSE 'active' END, \
                             status_changed_at = now() \
         WHERE tenant_id = $1 AND ($2::uuid[] IS NULL OR subscriber_id = ANY($2)) \
           AND ((status = 'active' AND balance_minor < -credit_limit_minor) \
             OR (status = 'blocked' AND NOT staff_blocked AND balance_minor >= -credit_limit_minor)) \
         RETURNING subscriber_id, status",
    )
    .bind(tenant.as_uuid())
    .bind(only)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get("status")?;
            Ok(StatusChange {
                subscriber: SubscriberId(row.try_get("subscriber_id")?),
                status: AccountStatus::parse(&status)
                    .ok_or_else(|| BillingError::Corrupt(format!("account status {status:?}")))?,
            })
        })
        .collect()
}
