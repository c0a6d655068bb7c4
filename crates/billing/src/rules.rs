//! The ISP's billing rules (`billing_settings`); defaults when it never set any.

use kabinet_core::{Currency, Money};
use kabinet_db::{TenantTx, sqlx};

use crate::error::BillingError;

/// When a subscriber's tariff change takes effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TariffChangeRule {
    /// At once; the month's charge is pro-rated between the old and the new tariff.
    ImmediateProrated,
    /// From the first day of the next month.
    NextPeriod,
}

impl TariffChangeRule {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ImmediateProrated => "immediate_prorated",
            Self::NextPeriod => "next_period",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "immediate_prorated" => Some(Self::ImmediateProrated),
            "next_period" => Some(Self::NextPeriod),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillingSettings {
    /// 0 turns promised payments off.
    pub promised_payment_max_minor: i64,
    pub promised_payment_days: i32,
    pub promised_payments_per_month: i32,
    pub suspension_min_days: i32,
    pub suspension_max_days: i32,
    pub suspension_fee_minor: i64,
    pub tariff_change_rule: TariffChangeRule,
    /// A purchase or the first rent charge may take the balance below the credit limit (the
    /// account is then blocked until paid); otherwise such an order is refused.
    pub equipment_on_credit: bool,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            promised_payment_max_minor: 0,
            promised_payment_days: 3,
            promised_payments_per_month: 1,
            suspension_min_days: 7,
            suspension_max_days: 90,
            suspension_fee_minor: 0,
            tariff_change_rule: TariffChangeRule::NextPeriod,
            equipment_on_credit: false,
        }
    }
}

impl BillingSettings {
    pub fn promised_payment_max(&self, currency: Currency) -> Money {
        Money::new(self.promised_payment_max_minor, currency)
    }
}

type Row = (i64, i32, i32, i32, i32, i64, String, bool);

pub async fn billing_settings(tx: &mut TenantTx) -> Result<BillingSettings, BillingError> {
    let tenant = tx.tenant();
    let row: Option<Row> = sqlx::query_as(
        "SELECT promised_payment_max_minor, promised_payment_days, promised_payments_per_month, \
                suspension_min_days, suspension_max_days, suspension_fee_minor, tariff_change_rule, \
                equipment_on_credit \
         FROM billing_settings WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(row
        .map(|r| BillingSettings {
            promised_payment_max_minor: r.0,
            promised_payment_days: r.1,
            promised_payments_per_month: r.2,
            suspension_min_days: r.3,
            suspension_max_days: r.4,
            suspension_fee_minor: r.5,
            tariff_change_rule: TariffChangeRule::parse(&r.6)
                .unwrap_or(TariffChangeRule::NextPeriod),
            equipment_on_credit: r.7,
        })
        .unwrap_or_default())
}

/// Stores the rules; returns whether they changed. The database checks their ranges.
pub async fn set_billing_settings(
    tx: &mut TenantTx,
    s: &BillingSettings,
) -> Result<bool, BillingError> {
    let tenant = tx.tenant();
    let done = sqlx::query(
        "INSERT INTO billing_settings AS b (tenant_id, promised_payment_max_minor, promised_payment_days, \
           promised_payments_per_month, suspension_min_days, suspension_max_days, suspension_fee_minor, \
           tariff_change_rule, equipment_on_credit) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (tenant_id) DO UPDATE SET promised_payment_max_minor = EXCLUDED.promised_payment_max_minor, \
           promised_payment_days = EXCLUDED.promised_payment_days, \
           promised_payments_per_month = EXCLUDED.promised_payments_per_month, \
           suspension_min_days = EXCLUDED.suspension_min_days, suspension_max_days = EXCLUDED.suspension_max_days, \
           suspension_fee_minor = EXCLUDED.suspension_fee_minor, tariff_change_rule = EXCLUDED.tariff_change_rule, \
           equipment_on_credit = EXCLUDED.equipment_on_credit \
         WHERE (b.promised_payment_max_minor, b.promised_payment_days, b.promised_payments_per_month, \
                b.suspension_min_days, b.suspension_max_days, b.suspension_fee_minor, b.tariff_change_rule, \
                b.equipment_on_credit) \
           IS DISTINCT FROM (EXCLUDED.promised_payment_max_minor, EXCLUDED.promised_payment_days, \
                EXCLUDED.promised_payments_per_month, EXCLUDED.suspension_min_days, \
                EXCLUDED.suspension_max_days, EXCLUDED.suspension_fee_minor, EXCLUDED.tariff_change_rule, \
                EXCLUDED.equipment_on_credit)",
    )
    .bind(tenant.as_uuid())
    .bind(s.promised_payment_max_minor)
    .bind(s.promised_payment_days)
    .bind(s.promised_payments_per_month)
    .bind(s.suspension_min_days)
    .bind(s.suspension_max_days)
    .bind(s.suspension_fee_minor)
    .bind(s.tariff_change_rule.as_str())
    .bind(s.equipment_on_credit)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}
