//! The subscriber cabinet ("личный кабинет"): what a signed-in subscriber sees, composed from
//! access (profile), billing (account, tariff, balance) and ticketing (open tickets), plus the
//! ISP's news and promotions ([`news`]) and the new-ticket form's self-diagnosis
//! ([`diagnosis`]).
//!
//! Owns `news_posts`; everything else it reads through the other domain crates' public
//! functions, never their SQL.

pub mod diagnosis;
pub mod news;

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
    #[error(transparent)]
    News(#[from] news::NewsError),
}

/// The dashboard: who I am, my balance and status, my tariff, my open tickets, the latest news.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub profile: SubscriberProfile,
    pub account: AccountSummary,
    pub forecast: Forecast,
    pub open_tickets: i64,
    /// The first posts of the subscriber's news feed (pinned first, then newest).
    pub news: Vec<news::NewsPost>,
}

/// How many posts the dashboard shows.
pub const DASHBOARD_NEWS: i64 = 3;

/// `locale` is the language the subscriber reads in (posts in another language are left out).
pub async fn dashboard(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    locale: Option<news::PostLocale>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Dashboard, CabinetError> {
    let profile = subscriber_profile(tx, subscriber)
        .await?
        .ok_or(CabinetError::NoSubscriber)?;
    let account = account_summary(tx, subscriber).await?;
    let forecast = forecast(tx, subscriber, now).await?;
    let open_tickets = count_open_for_subscriber(tx, subscriber).await?;
    let audience = news::Audience {
        tariff: account.tariff.as_ref().map(|t| t.code.clone()),
        locale,
    };
    let news = news::feed(tx, &audience, now, None, DASHBOARD_NEWS)
        .await?
        .items;
    Ok(Dashboard {
        profile,
        account,
        forecast,
        open_tickets,
        news,
    })
}
