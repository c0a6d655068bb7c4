//! The SaaS operator's console API (`admin.<platform domain>`): the ISPs with their health,
//! suspension and resumption.

use chrono::{DateTime, Utc};
use kabinet_access::Principal;
use kabinet_access::audit::record_operator;
use kabinet_core::TenantId;
use kabinet_payments::saas_billing::{BillingSummary, billing_summaries};
use kabinet_provisioning::archive::{ExportState, LifecycleSummary, lifecycle_summaries};
use kabinet_provisioning::deletion::refuse_resume_while_scheduled;
use kabinet_provisioning::dunning::BillingState;
use kabinet_tenancy::{
    Slug, Tenant, TenantStatus, find_tenant_by_slug, set_tenant_status, tenant_hosts,
    tenant_overview,
};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::saas_billing::SaasInvoiceStatus;
use super::saas_plans::Billing;
use super::tenant_export::TenantExportState;
use super::text::Text;
use crate::AppState;
use crate::auth::{OperatorAuth, client_info};
use crate::problem::ApiError;

pub struct PlatformApi;

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum TenantState {
    Active,
    Suspended,
}

impl From<TenantStatus> for TenantState {
    fn from(s: TenantStatus) -> Self {
        match s {
            TenantStatus::Active => Self::Active,
            TenantStatus::Suspended => Self::Suspended,
        }
    }
}

/// What the last scheduler round measured of an ISP (refreshed about hourly).
#[derive(Debug, Object)]
pub struct TenantHealth {
    /// Accounts in service: what the SaaS plan prices.
    pub active_subscribers: i32,
    pub subscribers: i32,
    pub open_tickets: i32,
    pub staff_seats: i32,
    #[oai(skip_serializing_if_is_none)]
    pub last_activity_at: Option<DateTime<Utc>>,
    pub measured_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct TenantRow {
    pub slug: String,
    pub name: String,
    pub status: TenantState,
    /// Why the operator suspended it, when it is.
    #[oai(skip_serializing_if_is_none)]
    pub suspended_reason: Option<String>,
    pub saas_plan: String,
    pub hosts: Vec<String>,
    /// Whether subscribers can sign in yet (the ISP publishes its portal after setting up).
    pub published: bool,
    #[oai(skip_serializing_if_is_none)]
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// Not measured yet for a brand-new ISP.
    #[oai(skip_serializing_if_is_none)]
    pub health: Option<TenantHealth>,
    /// Its Kabinet billing (in the list; absent in the answers to suspend and resume).
    #[oai(skip_serializing_if_is_none)]
    pub billing: Option<TenantBillingSummary>,
    /// Its latest export and scheduled deletion (in the list; absent in the answers to suspend
    /// and resume).
    #[oai(skip_serializing_if_is_none)]
    pub lifecycle: Option<TenantLifecycleSummary>,
}

/// An ISP's latest full-data export, as the tenant list shows it.
#[derive(Debug, Object)]
pub struct TenantLatestExport {
    pub id: Uuid,
    pub state: TenantExportState,
    pub created_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<DateTime<Utc>>,
    /// The archive's size.
    #[oai(skip_serializing_if_is_none)]
    pub bytes: Option<i64>,
}

/// An ISP's deletion while it is scheduled (cancellable until `due_at`).
#[derive(Debug, Object)]
pub struct TenantScheduledDeletion {
    pub id: Uuid,
    pub due_at: DateTime<Utc>,
}

/// The end of an ISP's life at a glance: its latest export, its scheduled deletion, and
/// whether a deletion may be scheduled now (an export finished in the last 24 hours and none
/// scheduled).
#[derive(Debug, Object)]
pub struct TenantLifecycleSummary {
    #[oai(skip_serializing_if_is_none)]
    pub latest_export: Option<TenantLatestExport>,
    #[oai(skip_serializing_if_is_none)]
    pub scheduled_deletion: Option<TenantScheduledDeletion>,
    pub can_schedule: bool,
}

impl From<LifecycleSummary> for TenantLifecycleSummary {
    fn from(l: LifecycleSummary) -> Self {
        Self {
            latest_export: l.latest_export.map(|e| TenantLatestExport {
                id: e.id,
                state: match e.state {
                    ExportState::Queued => TenantExportState::Queued,
                    ExportState::Running => TenantExportState::Running,
                    ExportState::Done => TenantExportState::Done,
                    ExportState::Failed => TenantExportState::Failed,
                },
                created_at: e.created_at,
                finished_at: e.finished_at,
                bytes: e.bytes,
            }),
            scheduled_deletion: l
                .scheduled_deletion
                .map(|(id, due_at)| TenantScheduledDeletion { id, due_at }),
            can_schedule: l.can_schedule,
        }
    }
}

/// An ISP's last SaaS invoice, as the tenant list shows it.
#[derive(Debug, Object)]
pub struct TenantLastInvoice {
    /// Minor units of `currency`.
    pub amount_due: i64,
    pub currency: String,
    pub status: SaasInvoiceStatus,
    /// Its last payment attempt failed.
    pub payment_failed: bool,
}

/// An ISP's Kabinet billing at a glance: payment standing, whether it is set up at Stripe, its
/// card and its last invoice.
#[derive(Debug, Object)]
pub struct TenantBillingSummary {
    pub state: Billing,
    #[oai(skip_serializing_if_is_none)]
    pub payment_failed_at: Option<DateTime<Utc>>,
    /// A customer with a metered subscription at Stripe.
    pub subscribed: bool,
    /// A card is on file for the subscription.
    pub has_card: bool,
    #[oai(skip_serializing_if_is_none)]
    pub last_invoice: Option<TenantLastInvoice>,
}

impl From<BillingSummary> for TenantBillingSummary {
    fn from(b: BillingSummary) -> Self {
        Self {
            state: BillingState::parse(&b.state)
                .unwrap_or(BillingState::Current)
                .into(),
            payment_failed_at: b.payment_failed_at,
            subscribed: b.subscribed,
            has_card: b.card.is_some(),
            last_invoice: b.last_invoice.map(|i| TenantLastInvoice {
                amount_due: i.amount_due,
                currency: i.currency,
                status: SaasInvoiceStatus::parse(&i.status),
                payment_failed: i.payment_failed,
            }),
        }
    }
}

#[derive(Debug, Object)]
pub struct TenantList {
    pub items: Vec<TenantRow>,
}

/// Why the operator suspends an ISP: shown to nobody but recorded in the ISP's audit log.
#[derive(Debug, Object)]
pub struct SuspendTenant {
    #[oai(validator(min_length = 3, max_length = 500))]
    pub reason: Text,
}

fn row(tenant: &Tenant, hosts: Vec<String>, health: Option<TenantHealth>) -> TenantRow {
    TenantRow {
        slug: tenant.slug.to_string(),
        name: tenant.display_name.clone(),
        status: tenant.status.into(),
        suspended_reason: tenant.suspended_reason.clone(),
        saas_plan: tenant.saas_plan.clone(),
        hosts,
        published: tenant.published,
        trial_ends_at: tenant.trial_ends_at,
        health,
        billing: None,
        lifecycle: None,
    }
}

#[OpenApi(prefix_path = "/platform", tag = "Tag::Platform")]
impl PlatformApi {
    /// Every ISP on the platform with its hosts and health, optionally filtered by a part of its
    /// slug, name or host (`q`).
    #[oai(path = "/tenants", method = "get", operation_id = "listTenants")]
    async fn tenants(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        #[oai(validator(max_length = 100))] q: Query<Option<String>>,
    ) -> Result<Json<TenantList>, ApiError> {
        let _operator = auth.0;
        let mut tx = state.db.platform_tx().await?;
        let tenants = tenant_overview(&mut tx, q.0.as_deref()).await?;
        let ids: Vec<TenantId> = tenants.iter().map(|o| o.tenant.id).collect();
        // Every row's billing in one statement, never a request (or query) per row.
        let mut billing = billing_summaries(tx.conn(), &ids).await?;
        let mut lifecycle = lifecycle_summaries(tx.conn(), &ids, Utc::now()).await?;
        tx.commit().await?;
        Ok(Json(TenantList {
            items: tenants
                .into_iter()
                .map(|o| {
                    let health = o.usage.map(|u| TenantHealth {
                        active_subscribers: u.active_subscribers,
                        subscribers: u.subscribers,
                        open_tickets: u.open_tickets,
                        staff_seats: u.staff_seats,
                        last_activity_at: u.last_activity_at,
                        measured_at: u.measured_at,
                    });
                    let mut r = row(&o.tenant, o.hosts, health);
                    r.billing = billing.remove(&o.tenant.id).map(Into::into);
                    r.lifecycle = lifecycle.remove(&o.tenant.id).map(Into::into);
                    r
                })
                .collect(),
        }))
    }

    /// Suspends an ISP: its portal and console show a notice instead, its data is kept, and the
    /// reason goes into the ISP's own audit log (its owner sees who did it and why).
    #[oai(
        path = "/tenants/:slug/suspend",
        method = "post",
        operation_id = "suspendTenant"
    )]
    async fn suspend(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
        body: Json<SuspendTenant>,
    ) -> Result<Json<TenantRow>, ApiError> {
        change_status(
            req,
            &state,
            &auth,
            &slug,
            TenantStatus::Suspended,
            Some(&body.reason),
        )
        .await
    }

    /// Lifts a suspension: the portal and console work again at once on every node.
    #[oai(
        path = "/tenants/:slug/resume",
        method = "post",
        operation_id = "resumeTenant"
    )]
    async fn resume(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: OperatorAuth,
        slug: Path<String>,
    ) -> Result<Json<TenantRow>, ApiError> {
        change_status(req, &state, &auth, &slug, TenantStatus::Active, None).await
    }
}

async fn change_status(
    req: &Request,
    state: &AppState,
    auth: &OperatorAuth,
    slug: &str,
    status: TenantStatus,
    reason: Option<&str>,
) -> Result<Json<TenantRow>, ApiError> {
    let Principal::Operator {
        id: operator,
        display_name,
        ..
    } = &auth.0.principal
    else {
        return Err(ApiError::forbidden());
    };
    let slug = Slug::parse(slug).map_err(|_| ApiError::not_found())?;
    let mut lookup = state.db.platform_tx().await?;
    let tenant = find_tenant_by_slug(lookup.conn(), &slug)
        .await?
        .ok_or_else(ApiError::not_found)?;
    lookup.commit().await?;
    // The status change and the ISP's audit entry land together, in the ISP's transaction.
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    if status == TenantStatus::Active {
        // Resuming would quietly undo the suspension a scheduled deletion put in place.
        refuse_resume_while_scheduled(&mut tx).await?;
    }
    let (before, after) = set_tenant_status(&mut tx, status, reason).await?;
    record_operator(
        &mut tx,
        *operator,
        match status {
            TenantStatus::Suspended => "tenant.suspend",
            TenantStatus::Active => "tenant.resume",
        },
        format!("tenant:{}", before.slug),
        json!({
            "operator": { "id": operator, "name": display_name },
            "reason": reason,
            "before": { "status": before.status.as_str() },
            "after": { "status": after.status.as_str() },
        }),
        &client_info(req, state),
    )
    .await?;
    let hosts = tenant_hosts(&mut tx)
        .await?
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    tx.commit().await?;
    Ok(Json(row(&after, hosts, None)))
}
