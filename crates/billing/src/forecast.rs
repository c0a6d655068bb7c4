//! What the dashboard promises: the next charge and how long the balance lasts.

use chrono::{DateTime, Datelike, Utc};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;

use crate::error::{BillingError, currency};
use crate::model::BillingMonth;
use crate::tariff_change::{days_in, next_month_start};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forecast {
    /// The next monthly charge: the first of next month, at the tariff in force then, plus the
    /// connected add-ons and the rent of rented equipment.
    pub next_charge_at: DateTime<Utc>,
    pub next_charge: Money,
    /// Days of service the balance still pays for, counting the rest of an already charged
    /// month; `None` when the tariff is free (nothing runs out).
    pub days_left: Option<i64>,
}

/// Days of service `available` money buys at `monthly_minor` a month of `days` days.
pub fn days_covered(available_minor: i64, monthly_minor: i64, days: u32) -> i64 {
    if monthly_minor <= 0 || available_minor <= 0 {
        return 0;
    }
    ((i128::from(available_minor) * i128::from(days)) / i128::from(monthly_minor)) as i64
}

pub async fn forecast(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    now: DateTime<Utc>,
) -> Result<Forecast, BillingError> {
    let tenant = tx.tenant();
    let month = BillingMonth::of(now.date_naive());
    let row = sqlx::query(
        "SELECT a.balance_minor, a.credit_limit_minor, a.currency, a.status, \
                (COALESCE(pt.monthly_price_minor, t.monthly_price_minor, 0) \
                + COALESCE((SELECT sum(ad.monthly_price_minor) FROM addon_subscriptions s \
                     JOIN addons ad ON ad.tenant_id = s.tenant_id AND ad.id = s.addon_id \
                     WHERE s.tenant_id = a.tenant_id AND s.subscriber_id = a.subscriber_id \
                       AND s.disconnected_at IS NULL), 0) \
                + COALESCE((SELECT sum(o.price_minor) FROM equipment_orders o \
                     WHERE o.tenant_id = a.tenant_id AND o.subscriber_id = a.subscriber_id \
                       AND o.mode = 'rent' AND o.rent_ended_at IS NULL), 0))::bigint AS next_price, \
                EXISTS (SELECT 1 FROM ledger_transactions l WHERE l.tenant_id = a.tenant_id \
                        AND l.idempotency_key = 'charge:tariff:' || a.subscriber_id || ':' || $3) AS charged \
         FROM accounts a \
         LEFT JOIN tariffs t ON t.tenant_id = a.tenant_id AND t.id = a.tariff_id \
         LEFT JOIN tariff_changes c ON c.tenant_id = a.tenant_id AND c.subscriber_id = a.subscriber_id \
              AND c.applied_at IS NULL AND c.cancelled_at IS NULL \
         LEFT JOIN tariffs pt ON pt.tenant_id = c.tenant_id AND pt.id = c.to_tariff_id \
         WHERE a.tenant_id = $1 AND a.subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(month.to_string())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(BillingError::NoAccount)?;
    let cur = currency(&row.try_get::<String, _>("currency")?)?;
    let balance: i64 = row.try_get("balance_minor")?;
    let credit: i64 = row.try_get("credit_limit_minor")?;
    let price: i64 = row.try_get("next_price")?;
    let charged: bool = row.try_get("charged")?;
    let status: String = row.try_get("status")?;
    let next_charge_at = next_month_start(now);
    let next_month = BillingMonth::of(next_charge_at.date_naive());
    let days_left = if price == 0 {
        None
    } else if status != "active" {
        Some(0)
    } else {
        let rest_of_month = if charged {
            i64::from(days_in(month)) - i64::from(now.day()) + 1
        } else {
            0
        };
        Some(rest_of_month + days_covered(balance + credit, price, days_in(next_month)))
    };
    Ok(Forecast {
        next_charge_at,
        next_charge: Money::new(price, cur),
        days_left,
    })
}

#[cfg(test)]
mod tests {
    use super::days_covered;

    #[test]
    fn days_covered_rounds_down_and_never_goes_negative() {
        assert_eq!(days_covered(55_000, 55_000, 31), 31);
        assert_eq!(days_covered(54_999, 55_000, 31), 30);
        assert_eq!(days_covered(-100, 55_000, 31), 0);
        assert_eq!(days_covered(100, 0, 31), 0);
    }
}
