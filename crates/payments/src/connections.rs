//! Which Stripe account belongs to which ISP (`stripe_accounts`, a platform table).

use kabinet_core::TenantId;
use kabinet_db::{PlatformTx, TenantTx, sqlx};
use uuid::Uuid;

use crate::error::PaymentsError;

/// An ISP's connected Stripe account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub account_id: String,
    pub tenant: TenantId,
    /// The platform's fee per payment, in basis points.
    pub application_fee_bps: i32,
    /// What Stripe says: the account may take charges.
    pub charges_enabled: bool,
    /// The ISP's SaaS plan includes card payments (a downgrade keeps the account, not the use).
    pub plan_allows: bool,
}

impl Connection {
    /// Subscribers may pay by card now: Stripe allows it and so does the ISP's plan.
    pub fn takes_cards(&self) -> bool {
        self.charges_enabled && self.plan_allows
    }

    /// The platform's fee on `amount_minor`, rounded down (never more than agreed).
    pub fn application_fee(&self, amount_minor: i64) -> i64 {
        let fee = i128::from(amount_minor) * i128::from(self.application_fee_bps) / 10_000;
        i64::try_from(fee).unwrap_or(0)
    }
}

/// Connects the tenant's Stripe account, replacing an earlier one; `true` when something
/// changed. Runs inside the tenant's transaction so a manifest lands whole. An account already
/// connected to another ISP is refused: its webhooks would otherwise credit the wrong
/// subscribers.
pub async fn connect_account(
    tx: &mut TenantTx,
    account_id: &str,
    application_fee_bps: i32,
) -> Result<bool, PaymentsError> {
    let tenant = tx.tenant();
    let current = by_tenant(tx.conn(), tenant).await?;
    if let Some(c) = &current {
        if c.account_id == account_id && c.application_fee_bps == application_fee_bps {
            return Ok(false);
        }
        if c.account_id != account_id {
            sqlx::query("DELETE FROM stripe_accounts WHERE tenant_id = $1")
                .bind(tenant.as_uuid())
                .execute(tx.conn())
                .await?;
        }
    }
    let owner: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO stripe_accounts (account_id, tenant_id, application_fee_bps) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id) DO UPDATE SET application_fee_bps = EXCLUDED.application_fee_bps \
           WHERE stripe_accounts.tenant_id = EXCLUDED.tenant_id \
         RETURNING tenant_id",
    )
    .bind(account_id)
    .bind(tenant.as_uuid())
    .bind(application_fee_bps)
    .fetch_optional(tx.conn())
    .await?;
    if owner.is_none() {
        return Err(PaymentsError::AccountTaken);
    }
    Ok(true)
}

/// Whether the plan of `s.tenant_id` includes card payments (see migration 41).
const PLAN_ALLOWS: &str = "EXISTS (SELECT 1 FROM tenants te JOIN saas_plans p ON p.code = te.saas_plan \
     WHERE te.id = s.tenant_id AND 'online_payments' = ANY (p.features))";

/// The tenant's connected account, if it has one.
pub async fn connection(tx: &mut TenantTx) -> Result<Option<Connection>, PaymentsError> {
    let tenant = tx.tenant();
    by_tenant(tx.conn(), tenant).await
}

async fn by_tenant(
    conn: &mut sqlx::PgConnection,
    tenant: TenantId,
) -> Result<Option<Connection>, PaymentsError> {
    let row: Option<(String, i32, bool, bool)> = sqlx::query_as(&format!(
        "SELECT s.account_id, s.application_fee_bps, s.charges_enabled, {PLAN_ALLOWS} \
         FROM stripe_accounts s WHERE s.tenant_id = $1"
    ))
    .bind(tenant.as_uuid())
    .fetch_optional(conn)
    .await?;
    Ok(
        row.map(|(account_id, fee, enabled, plan_allows)| Connection {
            account_id,
            tenant,
            application_fee_bps: fee,
            charges_enabled: enabled,
            plan_allows,
        }),
    )
}

/// The ISP that owns a connected account: the only way a webhook finds its tenant.
pub(crate) async fn tenant_of_account(
    tx: &mut PlatformTx,
    account_id: &str,
) -> Result<Option<Connection>, PaymentsError> {
    let row: Option<(Uuid, i32, bool, bool)> = sqlx::query_as(&format!(
        "SELECT s.tenant_id, s.application_fee_bps, s.charges_enabled, {PLAN_ALLOWS} \
         FROM stripe_accounts s WHERE s.account_id = $1"
    ))
    .bind(account_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|(tenant, fee, enabled, plan_allows)| Connection {
        account_id: account_id.to_owned(),
        tenant: TenantId(tenant),
        application_fee_bps: fee,
        charges_enabled: enabled,
        plan_allows,
    }))
}

/// Stripe says whether the account may take charges (`account.updated`).
pub(crate) async fn set_charges_enabled(
    tx: &mut TenantTx,
    account_id: &str,
    enabled: bool,
) -> Result<(), PaymentsError> {
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE stripe_accounts SET charges_enabled = $3 WHERE account_id = $1 AND tenant_id = $2",
    )
    .bind(account_id)
    .bind(tenant.as_uuid())
    .bind(enabled)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_fee(bps: i32) -> Connection {
        Connection {
            account_id: "acct_1".into(),
            tenant: TenantId(Uuid::nil()),
            application_fee_bps: bps,
            charges_enabled: true,
            plan_allows: true,
        }
    }

    #[test]
    fn the_application_fee_rounds_down_and_never_overflows() {
        assert_eq!(with_fee(150).application_fee(50_000), 750);
        assert_eq!(with_fee(150).application_fee(99), 1);
        assert_eq!(with_fee(150).application_fee(66), 0);
        assert_eq!(with_fee(0).application_fee(1_000_000), 0);
        assert_eq!(with_fee(5000).application_fee(i64::MAX), i64::MAX / 2);
    }
}
