//! The subscriber cabinet ("личный кабинет"): what a signed-in subscriber sees, composed from
//! access (profile), billing (account, tariff, balance) and ticketing (open tickets).
//!
//! Owns no tables yet (news, add-ons and equipment orders arrive with the billing issue); it
//! reads through the other domain crates' public functions, never their SQL.

use kabinet_access::directory::{SubscriberProfile, subscriber_profile};
use kabinet_billing::{AccountSummary, BillingError, Forecast, account_summary, forecast};
use kabinet_core::SubscriberId;
use kabinet_db::TenantTx;
use kabinet_ticketing::{TicketingError, count_open_for_subscriber};

#[derive(Debug, thiserror::Error)]
pub enum CabinetError {
    #[error("the subscriber no longer exists")]
    NoSubscriber,
    #[error(transparent)]
    Access(#[from] kabinet_access::AccessError),
    #[error(transparent)]
    Billing(#[from] BillingError),
    #[error(transparent)]
    Ticketing(#[from] TicketingError),
}

/// The dashboard: who I am, my balance and status, my tariff, my open tickets.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub profile: SubscriberProfile,
    pub account: AccountSummary,
    pub forecast: Forecast,
    pub open_tickets: i64,
}

pub async fn dashboard(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Dashboard, CabinetError> {
    let profile = subscriber_profile(tx, subscriber)
        .await?
        .ok_or(CabinetError::NoSubscriber)?;
    let account = account_summary(tx, subscriber).await?;
    let forecast = forecast(tx, subscriber, now).await?;
    let open_tickets = count_open_for_subscriber(tx, subscriber).await?;
    Ok(Dashboard {
        profile,
        account,
        forecast,
        open_tickets,
    })
}
