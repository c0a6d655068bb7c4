//! Changing tariff: at once with pro-rating, or from the next month, per the ISP's rule.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::accounts::refresh_status;
use crate::error::{BillingError, currency};
use crate::ledger::post;
use crate::model::{BillingMonth, LedgerAccount, Line, NewTransaction, TransactionKind};
use crate::rules::{TariffChangeRule, billing_settings};

/// Days in `month`.
pub fn days_in(month: BillingMonth) -> u32 {
    let first = NaiveDate::from_ymd_opt(month.year, month.month, 1);
    let next = if month.month == 12 {
        NaiveDate::from_ymd_opt(month.year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(month.year, month.month + 1, 1)
    };
    match (first, next) {
        (Some(a), Some(b)) => (b - a).num_days() as u32,
        _ => 30,
    }
}

/// The part of a monthly price for the days from `day` to the end of the month, inclusive,
/// rounded half up to the minor unit. Integer arithmetic only.
pub fn prorate(monthly_minor: i64, month: BillingMonth, day: u32) -> i64 {
    let days = i128::from(days_in(month));
    let remaining = (days - i128::from(day) + 1).clamp(0, days);
    let numerator = i128::from(monthly_minor) * remaining * 2 + days;
    (numerator / (2 * days)) as i64
}

pub(crate) fn next_month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let date = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(now.date_naive());
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The outcome of a change request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TariffChange {
    pub id: Uuid,
    pub rule: TariffChangeRule,
    pub effective_at: DateTime<Utc>,
    /// Unused part of the old tariff returned to the balance (immediate changes).
    pub credited: Money,
    /// The new tariff's part of the month charged (immediate changes).
    pub charged: Money,
}

pub async fn change_tariff(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    to_code: &str,
    now: DateTime<Utc>,
) -> Result<TariffChange, BillingError> {
    let tenant = tx.tenant();
    let rules = billing_settings(tx).await?;
    let account = sqlx::query(
        "SELECT a.tariff_id, a.currency, t.monthly_price_minor AS old_price \
         FROM accounts a LEFT JOIN tariffs t ON t.tenant_id = a.tenant_id AND t.id = a.tariff_id \
         WHERE a.tenant_id = $1 AND a.subscriber_id = $2 FOR UPDATE OF a",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(BillingError::NoAccount)?;
    let from: Option<Uuid> = account.try_get("tariff_id")?;
    let cur = currency(&account.try_get::<String, _>("currency")?)?;
    let old_price: Option<i64> = account.try_get("old_price")?;
    let target = sqlx::query(
        "SELECT id, name, monthly_price_minor FROM tariffs WHERE tenant_id = $1 AND code = $2 AND active",
    )
    .bind(tenant.as_uuid())
    .bind(to_code)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| BillingError::UnknownTariff(to_code.to_owned()))?;
    let to: Uuid = target.try_get("id")?;
    let to_name: String = target.try_get("name")?;
    let new_price: i64 = target.try_get("monthly_price_minor")?;
    if from == Some(to) {
        return Err(BillingError::SameTariff);
    }
    // A newer request replaces a pending one.
    sqlx::query(
        "UPDATE tariff_changes SET cancelled_at = $3 \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND applied_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(now)
    .execute(tx.conn())
    .await?;

    let id = Uuid::now_v7();
    let month = BillingMonth::of(now.date_naive());
    let (effective_at, applied_at) = match rules.tariff_change_rule {
        TariffChangeRule::ImmediateProrated => (now, Some(now)),
        TariffChangeRule::NextPeriod => (next_month_start(now), None),
    };
    sqlx::query(
        "INSERT INTO tariff_changes (tenant_id, id, subscriber_id, from_tariff_id, to_tariff_id, rule, requested_at, effective_at, applied_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(subscriber.as_uuid())
    .bind(from)
    .bind(to)
    .bind(rules.tariff_change_rule.as_str())
    .bind(now)
    .bind(effective_at)
    .bind(applied_at)
    .execute(tx.conn())
    .await?;

    let (mut credited, mut charged) = (Money::zero(cur), Money::zero(cur));
    if rules.tariff_change_rule == TariffChangeRule::ImmediateProrated {
        // Pro-rate only a month that was charged; an uncharged month (blocked, suspended, new
        // account) is charged in full for the new tariff by the next run.
        let charged_this_month: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM ledger_transactions WHERE tenant_id = $1 AND idempotency_key = $2)",
        )
        .bind(tenant.as_uuid())
        .bind(format!("charge:tariff:{subscriber}:{month}"))
        .fetch_one(tx.conn())
        .await?;
        if charged_this_month {
            let day = now.day();
            credited = Money::new(prorate(old_price.unwrap_or(0), month, day), cur);
            charged = Money::new(prorate(new_price, month, day), cur);
            let mut lines = Vec::new();
            let delta = charged.minor - credited.minor;
            if delta != 0 {
                lines.push(Line {
                    account: LedgerAccount::Subscriber(subscriber),
                    amount: Money::new(-delta, cur),
                });
                lines.push(Line {
                    account: LedgerAccount::Revenue("tariff"),
                    amount: Money::new(delta, cur),
                });
                post(
                    tx,
                    &NewTransaction {
                        kind: if delta > 0 { TransactionKind::Charge } else { TransactionKind::Refund },
                        description: format!(
                            "Tariff change to {to_name} from {}: {} for the new tariff, {} back for the old",
                            now.format("%Y-%m-%d"),
                            charged,
                            credited
                        ),
                        idempotency_key: format!("tariff-change:{id}"),
                        subscriber: Some(subscriber),
                        staff: None,
                        reference: None,
                        lines,
                    },
                )
                .await?;
            }
        }
        sqlx::query(
            "UPDATE accounts SET tariff_id = $3 WHERE tenant_id = $1 AND subscriber_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(subscriber.as_uuid())
        .bind(to)
        .execute(tx.conn())
        .await?;
        refresh_status(tx, Some(&[subscriber])).await?;
    }
    Ok(TariffChange {
        id,
        rule: rules.tariff_change_rule,
        effective_at,
        credited,
        charged,
    })
}

/// Switches accounts whose next-period change is due by `month`'s first day. One statement;
/// the charge run calls it first, so the month is charged at the new price.
pub(crate) async fn apply_due_changes(
    tx: &mut TenantTx,
    month: BillingMonth,
) -> Result<u64, BillingError> {
    let tenant = tx.tenant();
    let start = NaiveDate::from_ymd_opt(month.year, month.month, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d))
        .ok_or_else(|| BillingError::Corrupt(format!("month {month}")))?;
    let done = sqlx::query(
        "WITH due AS ( \
           UPDATE tariff_changes SET applied_at = now() \
           WHERE tenant_id = $1 AND applied_at IS NULL AND cancelled_at IS NULL AND effective_at <= $2 \
           RETURNING subscriber_id, to_tariff_id) \
         UPDATE accounts a SET tariff_id = due.to_tariff_id FROM due \
         WHERE a.tenant_id = $1 AND a.subscriber_id = due.subscriber_id",
    )
    .bind(tenant.as_uuid())
    .bind(start)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// A pending (next-period) change, if any: (tariff code, effective from).
pub async fn pending_change(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Option<(String, DateTime<Utc>)>, BillingError> {
    let tenant = tx.tenant();
    let row: Option<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT t.code, c.effective_at FROM tariff_changes c \
         JOIN tariffs t ON t.tenant_id = c.tenant_id AND t.id = c.to_tariff_id \
         WHERE c.tenant_id = $1 AND c.subscriber_id = $2 AND c.applied_at IS NULL AND c.cancelled_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(raw: &str) -> BillingMonth {
        BillingMonth::parse(raw).expect("month")
    }

    #[test]
    fn months_have_their_calendar_length() {
        assert_eq!(days_in(month("2026-02")), 28);
        assert_eq!(days_in(month("2028-02")), 29);
        assert_eq!(days_in(month("2026-11")), 30);
        assert_eq!(days_in(month("2026-12")), 31);
    }

    #[test]
    fn prorating_is_exact_and_rounds_half_up() {
        // 550.00 over November (30 days): from the 1st, the whole price; from the 30th, 1/30.
        assert_eq!(prorate(55_000, month("2026-11"), 1), 55_000);
        assert_eq!(prorate(55_000, month("2026-11"), 30), 1_833); // 1833.33…
        assert_eq!(prorate(55_000, month("2026-11"), 16), 27_500);
        // 1.00 over 3 of 31 days = 0.0967… → 10 kopecks.
        assert_eq!(prorate(100, month("2026-12"), 29), 10);
        assert_eq!(prorate(0, month("2026-12"), 5), 0);
        // Every day's remainder adds up to at most the price.
        for day in 1..=31 {
            assert!(prorate(99_999, month("2026-12"), day) <= 99_999);
        }
    }
}
