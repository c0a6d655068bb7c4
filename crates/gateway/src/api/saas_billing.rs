//! SaaS billing: each ISP as a customer of the platform's Stripe account. The ISP's plan page
//! (`GET /console/plan/billing`) and the operator's tenant view
//! (`GET /platform/tenants/:slug/billing`) show the same thing: the dunning standing, whether
//! the ISP is set up at Stripe, the card it pays with, the last daily usage reports and the
//! invoices. The owner (`subscription.manage`) adds or replaces that card through Stripe
//! Checkout in `setup` mode on the platform account (`POST /console/plan/billing/card`), and
//! the console applies the result when Stripe sends them back
//! (`POST /console/plan/billing/card/complete`; the platform webhook does the same if they
//! never come back).

use chrono::{DateTime, NaiveDate, Utc};
use kabinet_access::Permission;
use kabinet_core::TenantId;
use kabinet_payments::PaymentsError;
use kabinet_payments::saas_billing::{self, CardActor, SaasBillingView, SaasCard};
use kabinet_provisioning::dunning;
use kabinet_tenancy::{Slug, find_tenant_by_slug};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::Tag;
use super::saas_plans::Billing;
use crate::AppState;
use crate::auth::{OperatorAuth, StaffAuth, check_origin};
use crate::problem::ApiError;
use crate::site::SiteCtx;

/// The ISP's own view and the operator's.
pub struct SaasBillingApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = SaasBillingApi;

pub fn apis() -> Apis {
    SaasBillingApi
}

/// How many usage reports and invoices the views list.
const SHOWN: i64 = 12;

#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum SaasInvoiceStatus {
    Draft,
    Open,
    Paid,
    Uncollectible,
    Void,
}

impl SaasInvoiceStatus {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "draft" => Self::Draft,
            "paid" => Self::Paid,
            "uncollectible" => Self::Uncollectible,
            "void" => Self::Void,
            _ => Self::Open,
        }
    }
}

/// One day's usage report to Stripe.
#[derive(Debug, Object)]
pub struct SaasUsageReport {
    pub day: NaiveDate,
    /// Active subscribers counted that day: what the month's invoice is priced on.
    pub active_subscribers: i32,
    pub counted_at: DateTime<Utc>,
    /// Absent while Stripe has not acknowledged the report (it is retried).
    #[oai(skip_serializing_if_is_none)]
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

/// One SaaS invoice, as Stripe's webhooks told it.
#[derive(Debug, Object)]
pub struct SaasInvoice {
    pub id: String,
    #[oai(skip_serializing_if_is_none)]
    pub number: Option<String>,
    pub status: SaasInvoiceStatus,
    /// Minor units of `currency`.
    pub amount_due: i64,
    pub amount_paid: i64,
    pub currency: String,
    /// Active subscribers billed.
    #[oai(skip_serializing_if_is_none)]
    pub quantity: Option<i64>,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// The last payment attempt failed.
    pub payment_failed: bool,
    /// Stripe's page for the invoice (view, pay, download).
    #[oai(skip_serializing_if_is_none)]
    pub hosted_invoice_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The card the ISP's Kabinet subscription is charged to.
#[derive(Debug, Object)]
pub struct SaasBillingCard {
    /// Stripe's brand name: `visa`, `mastercard`, `amex` …
    pub brand: String,
    pub last4: String,
    pub exp_month: i16,
    pub exp_year: i16,
    /// When it became the subscription's card.
    pub set_at: DateTime<Utc>,
}

impl From<SaasCard> for SaasBillingCard {
    fn from(c: SaasCard) -> Self {
        Self {
            brand: c.brand,
            last4: c.last4,
            exp_month: c.exp_month,
            exp_year: c.exp_year,
            set_at: c.set_at,
        }
    }
}

/// Stripe's hosted page where the owner enters the card.
#[derive(Debug, Object)]
pub struct SaasCardSetupLink {
    pub url: String,
}

/// The setup session Stripe sent the owner back with (`?card_session=cs_…`).
#[derive(Debug, Object)]
pub struct CompleteSaasCardSetup {
    #[oai(validator(min_length = 1, max_length = 255))]
    pub session_id: String,
}

/// An ISP's SaaS billing.
#[derive(Debug, Object)]
pub struct SaasBilling {
    pub state: Billing,
    /// When the unpaid episode began.
    #[oai(skip_serializing_if_is_none)]
    pub payment_failed_at: Option<DateTime<Utc>>,
    /// When the next dunning step falls due if nothing is paid.
    #[oai(skip_serializing_if_is_none)]
    pub next_step_at: Option<DateTime<Utc>>,
    /// The ISP is a customer with a metered subscription at Stripe.
    pub subscribed: bool,
    /// The card the subscription is charged to; absent until the owner adds one.
    #[oai(skip_serializing_if_is_none)]
    pub card: Option<SaasBillingCard>,
    /// Newest first.
    pub usage_reports: Vec<SaasUsageReport>,
    /// Newest first.
    pub invoices: Vec<SaasInvoice>,
}

impl SaasBilling {
    fn new(standing: dunning::Standing, view: SaasBillingView, card: Option<SaasCard>) -> Self {
        Self {
            state: standing.state.into(),
            payment_failed_at: standing.payment_failed_at,
            next_step_at: standing.next_step_at,
            subscribed: view.subscription_id.is_some(),
            card: card.map(Into::into),
            usage_reports: view
                .reports
                .into_iter()
                .map(|r| SaasUsageReport {
                    day: r.day,
                    active_subscribers: r.active_subscribers,
                    counted_at: r.counted_at,
                    sent_at: r.sent_at,
                    attempts: r.attempts,
                })
                .collect(),
            invoices: view
                .invoices
                .into_iter()
                .map(|i| SaasInvoice {
                    id: i.invoice_id,
                    number: i.number,
                    status: SaasInvoiceStatus::parse(&i.status),
                    amount_due: i.amount_due,
                    amount_paid: i.amount_paid,
                    currency: i.currency,
                    quantity: i.quantity,
                    period_start: i.period_start,
                    period_end: i.period_end,
                    payment_failed: i.payment_failed,
                    hosted_invoice_url: i.hosted_invoice_url,
                    created_at: i.created_at,
                })
                .collect(),
        }
    }
}

async fn billing_of(state: &AppState, tenant: TenantId) -> Result<SaasBilling, ApiError> {
    let mut tx = state.db.tenant_tx(tenant).await?;
    let standing = dunning::standing(&mut tx).await?;
    let view = saas_billing::saas_billing_view(tx.conn(), tenant, SHOWN).await?;
    let card = saas_billing::saas_card(tx.conn(), tenant).await?;
    tx.commit().await?;
    Ok(SaasBilling::new(standing, view, card))
}

/// Makes `tenant` a Stripe customer on a metered subscription at its plan's price, after the
/// signup or plan change that needs it committed, without holding the request up. A failure is
/// logged; the scheduler's next round retries (every step is idempotent).
pub(crate) fn ensure_in_background(state: &AppState, tenant: TenantId) {
    let Some(stripe) = state.stripe.clone() else {
        return;
    };
    let db = state.db.clone();
    tokio::spawn(async move {
        if let Err(e) = saas_billing::ensure_subscription(&db, &stripe, tenant).await {
            tracing::warn!(%tenant, error = %e, "SaaS subscription not set up yet; retried next round");
        }
    });
}

#[OpenApi]
impl SaasBillingApi {
    /// The ISP's Kabinet subscription: standing, daily usage reports and invoices. Any staff
    /// member.
    #[oai(
        path = "/console/plan/billing",
        method = "get",
        operation_id = "getConsoleSaasBilling",
        tag = "Tag::Console"
    )]
    async fn console_billing(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<SaasBilling>, ApiError> {
        Ok(Json(billing_of(&state, auth.0.tenant.id).await?))
    }

    /// Opens Stripe's hosted page where the owner adds or replaces the card the Kabinet
    /// subscription is charged to (Checkout in `setup` mode on the platform account). Stripe
    /// sends them back to `/console/plan?card_session=…`. Owner only (`subscription.manage`).
    #[oai(
        path = "/console/plan/billing/card",
        method = "post",
        operation_id = "startSaasCardSetup",
        tag = "Tag::Console"
    )]
    async fn start_card_setup(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        auth: StaffAuth,
    ) -> Result<Json<SaasCardSetupLink>, ApiError> {
        check_origin(req, &site)?;
        let staff = auth.0;
        staff.require(Permission::SubscriptionManage).await?;
        let stripe = state.stripe.as_deref().ok_or(PaymentsError::Unavailable)?;
        let page = format!(
            "{}/console/plan",
            super::password_reset::base_url(req, &state, &site)
        );
        let setup =
            saas_billing::start_card_setup(&state.db, stripe, staff.tenant.id, &page).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        staff
            .audit(
                &mut tx,
                "saas_billing.card_setup_started",
                format!("checkout_session:{}", setup.session_id),
                serde_json::json!({}),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(SaasCardSetupLink { url: setup.url }))
    }

    /// Applies the card setup Stripe sent the owner back with: asks Stripe for its result and
    /// makes the saved card the subscription's default payment method. Safe to repeat (a
    /// reload, the webhook having done it first). 409 `card_setup_incomplete` while Stripe has
    /// not completed the session; 404 for a session that is not this ISP's. Owner only.
    #[oai(
        path = "/console/plan/billing/card/complete",
        method = "post",
        operation_id = "completeSaasCardSetup",
        tag = "Tag::Console"
    )]
    async fn complete_card_setup(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        auth: StaffAuth,
        body: Json<CompleteSaasCardSetup>,
    ) -> Result<Json<SaasBillingCard>, ApiError> {
        check_origin(req, &site)?;
        let staff = auth.0;
        staff.require(Permission::SubscriptionManage).await?;
        let stripe = state.stripe.as_deref().ok_or(PaymentsError::Unavailable)?;
        let actor = CardActor {
            staff: Some(staff.id),
            client: staff.client.clone(),
        };
        let (_, card) = saas_billing::complete_card_setup(
            &state.db,
            stripe,
            body.0.session_id.trim(),
            Some(staff.tenant.id),
            &actor,
        )
        .await?
        .ok_or_else(ApiError::not_found)?;
        Ok(Json(card.into()))
    }

    /// An ISP's Kabinet subscription as the operator sees it: payment standing, usage reports
    /// and invoices.
    #[oai(
        path = "/platform/tenants/:slug/billing",
        method = "get",
        operation_id = "getTenantSaasBilling",
        tag = "Tag::Platform"
    )]
    async fn tenant_billing(
        &self,
        state: Data<&AppState>,
        _auth: OperatorAuth,
        slug: Path<String>,
    ) -> Result<Json<SaasBilling>, ApiError> {
        let slug = Slug::parse(&slug).map_err(|_| ApiError::not_found())?;
        let mut lookup = state.db.platform_tx().await?;
        let tenant = find_tenant_by_slug(lookup.conn(), &slug)
            .await?
            .ok_or_else(ApiError::not_found)?;
        lookup.commit().await?;
        Ok(Json(billing_of(&state, tenant.id).await?))
    }
}
