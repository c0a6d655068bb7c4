//! SaaS billing: each ISP as a customer of the platform's Stripe account. The ISP's plan page
//! (`GET /console/plan/billing`) and the operator's tenant view
//! (`GET /platform/tenants/:slug/billing`) show the same thing: the dunning standing, whether
//! the ISP is set up at Stripe, the last daily usage reports and the invoices.

use chrono::{DateTime, NaiveDate, Utc};
use kabinet_core::TenantId;
use kabinet_payments::saas_billing::{self, SaasBillingView};
use kabinet_provisioning::dunning;
use kabinet_tenancy::{Slug, find_tenant_by_slug};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::Tag;
use super::saas_plans::Billing;
use crate::AppState;
use crate::auth::{OperatorAuth, StaffAuth};
use crate::problem::ApiError;

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
    fn parse(s: &str) -> Self {
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
    /// Newest first.
    pub usage_reports: Vec<SaasUsageReport>,
    /// Newest first.
    pub invoices: Vec<SaasInvoice>,
}

impl SaasBilling {
    fn new(standing: dunning::Standing, view: SaasBillingView) -> Self {
        Self {
            state: standing.state.into(),
            payment_failed_at: standing.payment_failed_at,
            next_step_at: standing.next_step_at,
            subscribed: view.subscription_id.is_some(),
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
    tx.commit().await?;
    Ok(SaasBilling::new(standing, view))
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
