use kabinet_core::Money;
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::error::{BillingError, currency};
use crate::model::{TariffSpec, TariffView};

/// Creates or updates a tariff by code; returns its id and whether anything changed.
pub async fn upsert_tariff(
    tx: &mut TenantTx,
    spec: &TariffSpec,
) -> Result<(Uuid, bool), BillingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH upsert AS ( \
           INSERT INTO tariffs (tenant_id, id, code, name, monthly_price_minor, currency, speed_mbps, upload_speed_mbps) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
           ON CONFLICT (tenant_id, code) DO UPDATE SET name = EXCLUDED.name, \
             monthly_price_minor = EXCLUDED.monthly_price_minor, currency = EXCLUDED.currency, \
             speed_mbps = EXCLUDED.speed_mbps, upload_speed_mbps = EXCLUDED.upload_speed_mbps \
           WHERE (tariffs.name, tariffs.monthly_price_minor, tariffs.currency, tariffs.speed_mbps, tariffs.upload_speed_mbps) \
             IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.monthly_price_minor, EXCLUDED.currency, EXCLUDED.speed_mbps, EXCLUDED.upload_speed_mbps) \
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
    .bind(spec.upload_speed_mbps)
    .fetch_one(tx.conn())
    .await?;
    Ok((row.try_get("id")?, row.try_get("changed")?))
}

/// The tariffs on offer, cheapest first.
pub async fn list_tariffs(tx: &mut TenantTx) -> Result<Vec<TariffView>, BillingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT id, code, name, monthly_price_minor, currency, speed_mbps FROM tariffs \
         WHERE tenant_id = $1 AND active ORDER BY monthly_price_minor, code",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let cur: String = row.try_get("currency")?;
            Ok(TariffView {
                id: row.try_get("id")?,
                code: row.try_get("code")?,
                name: row.try_get("name")?,
                monthly_price: Money::new(row.try_get("monthly_price_minor")?, currency(&cur)?),
                speed_mbps: row.try_get("speed_mbps")?,
            })
        })
        .collect()
}
