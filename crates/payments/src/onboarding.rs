//! Connect onboarding from the console: an ISP creates its own Stripe account (Express) through
//! the platform, finishes Stripe's hosted onboarding, and comes back able to take card payments.
//!
//! The account is created before the ISP has finished anything, so it is recorded at once with
//! `charges_enabled = false` (a *pending* connection: checkout and auto-pay ignore it) and turns
//! enabled when Stripe says so — either the `account.updated` webhook or the console's return
//! from onboarding, which asks Stripe directly so the owner never waits on a webhook. No Stripe
//! call is made inside a database transaction: creating the account is idempotent per tenant at
//! Stripe (`Idempotency-Key`), and recording it is idempotent in the database.

use kabinet_core::TenantId;
use kabinet_db::{Database, sqlx};

use crate::connections::{Connection, connection};
use crate::error::PaymentsError;
use crate::stripe_api::Stripe;

/// Where an ISP stands with card payments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectState {
    /// No Stripe account yet.
    NotConnected,
    /// An account exists but Stripe does not let it take charges yet (onboarding unfinished,
    /// or Stripe needs more details).
    Pending(Connection),
    /// Card payments work.
    Enabled(Connection),
}

impl ConnectState {
    fn of(connection: Option<Connection>) -> Self {
        match connection {
            None => Self::NotConnected,
            Some(c) if c.charges_enabled => Self::Enabled(c),
            Some(c) => Self::Pending(c),
        }
    }
}

/// What Stripe is told about the ISP when its account is created.
#[derive(Clone, Debug)]
pub struct ConnectProfile {
    /// ISO 3166-1 alpha-2, e.g. `RU`.
    pub country: String,
    pub business_name: String,
    pub email: Option<String>,
    /// The platform's fee on each payment, in basis points.
    pub application_fee_bps: i32,
}

/// Where Stripe's hosted onboarding sends the owner back: `return_url` when they finished (or
/// left), `refresh_url` when the link expired or was used and a new one is needed.
#[derive(Clone, Debug)]
pub struct OnboardingReturn {
    pub return_url: String,
    pub refresh_url: String,
}

/// The tenant's state, from the database alone.
pub async fn connect_state(db: &Database, tenant: TenantId) -> Result<ConnectState, PaymentsError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let state = ConnectState::of(connection(&mut tx).await?);
    tx.commit().await?;
    Ok(state)
}

/// Starts (or resumes) onboarding and returns the one-time URL of Stripe's hosted form.
///
/// An ISP whose account already takes charges gets [`PaymentsError::AlreadyConnected`]; one with
/// a pending account resumes it (a fresh link for the same account), so pressing the button twice
/// never creates two accounts.
pub async fn begin_onboarding(
    db: &Database,
    stripe: &Stripe,
    tenant: TenantId,
    profile: &ConnectProfile,
    back: &OnboardingReturn,
) -> Result<String, PaymentsError> {
    let account = match connect_state(db, tenant).await? {
        ConnectState::Enabled(_) => return Err(PaymentsError::AlreadyConnected),
        ConnectState::Pending(c) => c.account_id,
        ConnectState::NotConnected => {
            // Before Stripe is asked: a plan without card payments must not leave an account
            // behind at Stripe (the insert below would refuse it anyway).
            let mut tx = db.tenant_tx(tenant).await?;
            kabinet_tenancy::plans::require_feature(
                &mut tx,
                kabinet_tenancy::PlanFeature::OnlinePayments,
            )
            .await?;
            tx.commit().await?;
            let created = stripe.create_express_account(tenant, profile).await?;
            record_pending(db, tenant, &created, profile.application_fee_bps).await?
        }
    };
    stripe
        .create_onboarding_link(&account, &back.refresh_url, &back.return_url)
        .await
}

/// Asks Stripe whether the tenant's account may take charges now and records the answer.
pub async fn refresh_connect_state(
    db: &Database,
    stripe: &Stripe,
    tenant: TenantId,
) -> Result<ConnectState, PaymentsError> {
    let account = match connect_state(db, tenant).await? {
        ConnectState::NotConnected => return Ok(ConnectState::NotConnected),
        ConnectState::Pending(c) | ConnectState::Enabled(c) => c.account_id,
    };
    let enabled = stripe.account_charges_enabled(&account).await?;
    let mut tx = db.tenant_tx(tenant).await?;
    crate::connections::set_charges_enabled(&mut tx, &account, enabled).await?;
    let state = ConnectState::of(connection(&mut tx).await?);
    tx.commit().await?;
    Ok(state)
}

/// Records a just-created account as the tenant's pending connection and returns the account
/// the tenant ends up with: when two presses raced, both got the same account from Stripe (one
/// idempotency key per tenant), and the second insert finds it already there.
async fn record_pending(
    db: &Database,
    tenant: TenantId,
    account: &str,
    application_fee_bps: i32,
) -> Result<String, PaymentsError> {
    let mut tx = db.tenant_tx(tenant).await?;
    sqlx::query(
        "INSERT INTO stripe_accounts (account_id, tenant_id, application_fee_bps, charges_enabled) \
         VALUES ($1, $2, $3, false) ON CONFLICT DO NOTHING",
    )
    .bind(account)
    .bind(tenant.as_uuid())
    .bind(application_fee_bps)
    .execute(tx.conn())
    .await?;
    let current = connection(&mut tx).await?;
    tx.commit().await?;
    match current {
        Some(c) => Ok(c.account_id),
        // The account id belongs to another ISP: cannot happen with a fresh account from
        // Stripe, but never hand out someone else's onboarding.
        None => Err(PaymentsError::AccountTaken),
    }
}
