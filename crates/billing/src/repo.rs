use kabinet_core::{Currency, Money, SubscriberId};
use kabinet_db::{DbError, TenantTx, constraint_name, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::model::{AccountStatus, AccountSummary, NewEntry, TariffSpec, TariffView};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("unknown tariff {0:?}")]
    UnknownTariff(String),
    #[error("the subscriber has no account")]
    NoAccount,
    #[error("amount is in {given}, the account is in {account}")]
    CurrencyMismatch { given: Currency, account: Currency },
    #[error("idempotency key {0:?} was already used for a different movement")]
    IdempotencyConflict(String),
    #[error("corrupt billing data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for BillingError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

fn currency(raw: &str) -> Result<Currency, BillingError> {
    Currency::parse(raw).map_err(|e| BillingError::Corrupt(e.to_string()))
}

/// Creates or updates a tariff by code; returns its id and whether anything changed.
pub async fn upsert_tariff(
    tx: &mut TenantTx,
    spec: &TariffSpec,
) -> Result<(Uuid, bool), BillingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH upsert AS ( \
           INSERT INTO tariffs (tenant_id, id, code, name, monthly_price_minor, currency, speed_mbps) \
           VALUES ($1, $2, $3, $4, $5, $6, $7) \
           ON CONFLICT (tenant_id, code) DO UPDATE SET name = EXCLUDED.name, \
             monthly_price_minor = EXCLUDED.monthly_price_minor, currency = EXCLUDED.currency, \
             speed_mbps = EXCLUDED.speed_mbps \
           WHERE (tariffs.name, tariffs.monthly_price_minor, tariffs.currency, tariffs.speed_mbps) \
             IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.monthly_price_minor, EXCLUDED.currency, EXCLUDED.speed_mbps) \
           RETURNING id) \
         SELECT id, true AS changed FROM upsert \
         UNION ALL SELECT id, false FROM tariffs WHERE tenant_id = $1 AND code = $3 \
         LIMIT 1",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(&spec.code)
    .bind(&spec.name)
    .bind(spec.monthly_price.minor)
    .bind(spec.monthly_price.currency.code())
    .bind(spec.speed_mbps)
    .fetch_one(tx.conn())
    .await?;
    Ok((row.try_get("id")?, row.try_get("changed")?))
}

pub async fn list_tariffs(tx: &mut TenantTx) -> Result<Vec<TariffView>, BillingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT id, code, name, monthly_price_minor, currency, speed_mbps FROM tariffs \
         WHERE tenant_id = $1 AND active ORDER BY monthly_price_minor, code",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(tariff_from_row).collect()
}

fn tariff_from_row(row: &sqlx::postgres::PgRow) -> Result<TariffView, BillingError> {
    let cur: String = row.try_get("currency")?;
    Ok(TariffView {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        monthly_price: Money::new(row.try_get("monthly_price_minor")?, currency(&cur)?),
        speed_mbps: row.try_get("speed_mbps")?,
    })
}

/// Opens (or updates) the subscriber's account on a tariff. Returns whether anything changed.
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
           status = EXCLUDED.status, credit_limit_minor = EXCLUDED.credit_limit_minor \
         WHERE (accounts.tariff_id, accounts.status, accounts.credit_limit_minor) \
           IS DISTINCT FROM (EXCLUDED.tariff_id, EXCLUDED.status, EXCLUDED.credit_limit_minor)",
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

/// Appends a ledger entry, once per idempotency key. Returns the entry's id and whether this
/// call created it (false: the same movement was already recorded, nothing was added).
pub async fn post_entry(tx: &mut TenantTx, entry: &NewEntry) -> Result<(Uuid, bool), BillingError> {
    let tenant = tx.tenant();
    let account_currency: Option<String> = sqlx::query_scalar(
        "SELECT currency FROM accounts WHERE tenant_id = $1 AND subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(entry.subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let account_currency = currency(&account_currency.ok_or(BillingError::NoAccount)?)?;
    if account_currency != entry.amount.currency {
        return Err(BillingError::CurrencyMismatch {
            given: entry.amount.currency,
            account: account_currency,
        });
    }
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO ledger_entries (tenant_id, id, subscriber_id, amount_minor, currency, kind, description, idempotency_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(entry.subscriber.as_uuid())
    .bind(entry.amount.minor)
    .bind(entry.amount.currency.code())
    .bind(entry.kind.as_str())
    .bind(&entry.description)
    .bind(&entry.idempotency_key)
    .fetch_optional(tx.conn())
    .await
    .map_err(|e| match constraint_name(&e) {
        Some("ledger_entries_amount_minor_check") => {
            BillingError::Corrupt("a ledger entry cannot be zero".into())
        }
        _ => e.into(),
    })?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let row = sqlx::query(
        "SELECT id, subscriber_id, amount_minor FROM ledger_entries WHERE tenant_id = $1 AND idempotency_key = $2",
    )
    .bind(tenant.as_uuid())
    .bind(&entry.idempotency_key)
    .fetch_one(tx.conn())
    .await?;
    let same = row.try_get::<Uuid, _>("subscriber_id")? == entry.subscriber.as_uuid()
        && row.try_get::<i64, _>("amount_minor")? == entry.amount.minor;
    if !same {
        return Err(BillingError::IdempotencyConflict(
            entry.idempotency_key.clone(),
        ));
    }
    Ok((row.try_get("id")?, false))
}

/// Status, balance (the sum of entries), credit limit and tariff of one account.
pub async fn account_summary(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<AccountSummary, BillingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT a.status, a.credit_limit_minor, a.currency, \
                COALESCE((SELECT sum(e.amount_minor) FROM ledger_entries e \
                          WHERE e.tenant_id = a.tenant_id AND e.subscriber_id = a.subscriber_id), 0)::bigint AS balance, \
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
        balance: Money::new(row.try_get("balance")?, cur),
        credit_limit: Money::new(row.try_get("credit_limit_minor")?, cur),
        tariff,
    })
}
