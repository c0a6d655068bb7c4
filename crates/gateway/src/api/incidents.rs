//! Outage incidents: the console declares and runs them (`/console/incidents…`), the cabinet
//! shows the active ones covering the subscriber (`/me/incidents`).

use chrono::{DateTime, Utc};
use kabinet_access::Permission;

use kabinet_core::TicketId;
use kabinet_db::TenantTx;
use kabinet_ticketing::incidents::{
    self, ActiveOutage, Incident, IncidentArea, IncidentDetail, IncidentUpdate, LinkedTicket,
    NewIncident, SuggestedIncident,
};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::dto::TicketStatus;
use super::text::Text;
use crate::AppState;
use crate::auth::{Staff, StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

/// Outage incidents in the staff console.
pub struct IncidentsConsoleApi;

#[derive(ApiResponse)]
enum SuggestionDismissed {
    /// Hidden until the NAS falls silent again.
    #[oai(status = 204)]
    Dismissed,
}

/// The outages covering the signed-in subscriber.
pub struct MyIncidentsApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (IncidentsConsoleApi, MyIncidentsApi);

pub fn apis() -> Apis {
    (IncidentsConsoleApi, MyIncidentsApi)
}

/// Where an outage is: any mix of NAS, NAS area codes and address fragments.
#[derive(Debug, Object)]
pub struct IncidentAreaBody {
    #[oai(default, validator(max_items = 100))]
    pub nas_ids: Vec<Uuid>,
    /// Compared with the NAS's `area`, case-insensitively.
    #[oai(default, validator(max_items = 100))]
    pub area_codes: Vec<Text>,
    /// Matched anywhere in a subscriber's address, case-insensitively (at least 3 characters).
    #[oai(default, validator(max_items = 100))]
    pub address_fragments: Vec<Text>,
}

impl From<&IncidentArea> for IncidentAreaBody {
    fn from(a: &IncidentArea) -> Self {
        Self {
            nas_ids: a.nas_ids.clone(),
            area_codes: a.area_codes.iter().cloned().map(Text).collect(),
            address_fragments: a.address_fragments.iter().cloned().map(Text).collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct DeclareIncident {
    #[oai(validator(max_length = 200))]
    pub title: Text,
    /// What affected subscribers are told.
    #[oai(validator(max_length = 5000))]
    pub message: Text,
    /// When the outage began; absent or null: now.
    #[oai(nullable)]
    pub started_at: Option<DateTime<Utc>>,
    pub area: IncidentAreaBody,
}

#[derive(Debug, Object)]
pub struct IncidentItem {
    pub id: Uuid,
    pub title: String,
    pub message: String,
    pub area: IncidentAreaBody,
    pub started_at: DateTime<Utc>,
    pub declared_by: String,
    pub created_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub closed_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub close_message: Option<String>,
    /// Subscribers the incident covers (computed when it was declared).
    pub affected: i64,
    pub linked_tickets: i64,
}

impl From<Incident> for IncidentItem {
    fn from(i: Incident) -> Self {
        Self {
            id: i.id,
            area: IncidentAreaBody::from(&i.area),
            title: i.title,
            message: i.message,
            started_at: i.started_at,
            declared_by: i.declared_by,
            created_at: i.created_at,
            closed_at: i.closed_at,
            close_message: i.close_message,
            affected: i.affected,
            linked_tickets: i.linked_tickets,
        }
    }
}

#[derive(Debug, Object)]
pub struct IncidentList {
    pub items: Vec<IncidentItem>,
}

#[derive(Debug, Object)]
pub struct IncidentTicketItem {
    pub id: Uuid,
    pub number: i64,
    pub subject: String,
    pub status: TicketStatus,
    pub subscriber_name: String,
    pub account_number: String,
    /// False: linked automatically when the affected subscriber opened it.
    pub linked_by_staff: bool,
    pub linked_at: DateTime<Utc>,
}

impl From<LinkedTicket> for IncidentTicketItem {
    fn from(t: LinkedTicket) -> Self {
        Self {
            id: t.id.as_uuid(),
            number: t.number,
            subject: t.subject,
            status: t.status.into(),
            subscriber_name: t.subscriber_name,
            account_number: t.account_number,
            linked_by_staff: t.linked_by_staff,
            linked_at: t.linked_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct IncidentUpdateItem {
    pub id: Uuid,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

impl From<IncidentUpdate> for IncidentUpdateItem {
    fn from(u: IncidentUpdate) -> Self {
        Self {
            id: u.id,
            body: u.body,
            author: u.author,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct IncidentDetailBody {
    pub incident: IncidentItem,
    pub tickets: Vec<IncidentTicketItem>,
    /// Newest first.
    pub updates: Vec<IncidentUpdateItem>,
}

impl From<IncidentDetail> for IncidentDetailBody {
    fn from(d: IncidentDetail) -> Self {
        Self {
            incident: d.incident.into(),
            tickets: d.tickets.into_iter().map(Into::into).collect(),
            updates: d.updates.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct LinkTickets {
    #[oai(validator(min_items = 1, max_items = 200))]
    pub ticket_numbers: Vec<i64>,
}

#[derive(Debug, Object)]
pub struct LinkedCount {
    /// Tickets newly linked (already linked ones are left as they are).
    pub linked: u64,
}

#[derive(Debug, Object)]
pub struct PostIncidentUpdate {
    /// The client's id for this update: posting the same id again changes nothing.
    pub id: Uuid,
    #[oai(validator(max_length = 5000))]
    pub body: Text,
}

#[derive(Debug, Object)]
pub struct IncidentUpdatePosted {
    pub update: IncidentUpdateItem,
    /// Linked tickets the update was posted into (0 for a repeated request).
    pub tickets_reached: u64,
}

#[derive(Debug, Object)]
pub struct CloseIncident {
    /// Told to subscribers with the "service restored" letter.
    #[oai(default, nullable, validator(max_length = 5000))]
    pub message: Option<Text>,
}

#[derive(Debug, Object)]
pub struct IncidentClosed {
    pub incident: IncidentItem,
    /// Linked tickets resolved by the close.
    pub tickets_resolved: u64,
}

#[derive(Debug, Object)]
pub struct SuggestedIncidentItem {
    pub nas_id: Uuid,
    pub nas_name: String,
    pub area: String,
    /// Sessions that were alive on the NAS when its accounting stopped.
    pub sessions: i64,
    pub last_accounting_at: DateTime<Utc>,
}

impl From<SuggestedIncident> for SuggestedIncidentItem {
    fn from(s: SuggestedIncident) -> Self {
        Self {
            nas_id: s.nas_id,
            nas_name: s.nas_name,
            area: s.area,
            sessions: s.sessions,
            last_accounting_at: s.last_accounting_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct SuggestedIncidentList {
    pub items: Vec<SuggestedIncidentItem>,
}

/// A declared outage covering the subscriber.
#[derive(Debug, Object)]
pub struct DeclaredOutage {
    pub title: String,
    pub message: String,
    pub started_at: DateTime<Utc>,
    /// Staff's latest news on it.
    #[oai(skip_serializing_if_is_none)]
    pub latest_update: Option<String>,
}

#[derive(Debug, Object)]
pub struct MyOutage {
    pub id: Uuid,
    pub title: String,
    pub message: String,
    pub started_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub latest_update: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<ActiveOutage> for MyOutage {
    fn from(o: ActiveOutage) -> Self {
        Self {
            id: o.id,
            title: o.title,
            message: o.message,
            started_at: o.started_at,
            latest_update: o.latest_update,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct MyOutageList {
    pub items: Vec<MyOutage>,
}

#[derive(Debug, Enum, Clone, Copy, Default, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum IncidentState {
    #[default]
    Active,
    Closed,
}

#[derive(ApiResponse)]
enum IncidentDeclared {
    #[oai(status = 201)]
    Created(Json<IncidentItem>),
}

#[derive(ApiResponse)]
enum Unlinked {
    #[oai(status = 204)]
    Unlinked,
}

async fn audit(
    tx: &mut TenantTx,
    staff: &Staff,
    action: &str,
    incident: Uuid,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    staff
        .audit(tx, action, format!("incident:{incident}"), details)
        .await
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl IncidentsConsoleApi {
    /// The ISP's incidents, newest first: the active ones (default) or the closed ones (the
    /// latest 100).
    #[oai(path = "/incidents", method = "get", operation_id = "listIncidents")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(name = "state")] which: Query<Option<IncidentState>>,
    ) -> Result<Json<IncidentList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = incidents::list(
            &mut tx,
            which.0.unwrap_or_default() == IncidentState::Active,
            100,
        )
        .await?;
        tx.commit().await?;
        Ok(Json(IncidentList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// NAS whose accounting stopped (sessions were alive on it, nothing came for 15 minutes):
    /// suggested incidents for staff to confirm by declaring one for that NAS.
    #[oai(
        path = "/incident-suggestions",
        method = "get",
        operation_id = "listSuggestedIncidents"
    )]
    async fn suggested(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<SuggestedIncidentList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = incidents::suggested(&mut tx, Utc::now(), 15).await?;
        tx.commit().await?;
        Ok(Json(SuggestedIncidentList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Dismisses a suggested incident: staff know why this NAS is quiet. It stays hidden for
    /// this silence only and comes back if the NAS speaks and then falls silent again. Audited.
    #[oai(
        path = "/incident-suggestions/:nas_id/dismiss",
        method = "post",
        operation_id = "dismissSuggestedIncident"
    )]
    async fn dismiss_suggestion(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        nas_id: Path<Uuid>,
    ) -> Result<SuggestionDismissed, ApiError> {
        let staff = auth.0;
        staff.require(Permission::IncidentsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let silent_since = incidents::dismiss_suggestion(&mut tx, nas_id.0, staff.id).await?;
        staff
            .audit(
                &mut tx,
                "incident.suggestion_dismissed",
                format!("nas:{}", nas_id.0),
                json!({ "silent_since": silent_since }),
            )
            .await?;
        tx.commit().await?;
        Ok(SuggestionDismissed::Dismissed)
    }

    /// Declares an incident: computes the subscribers it covers and sends each one letter.
    /// Audited.
    #[oai(path = "/incidents", method = "post", operation_id = "declareIncident")]
    async fn declare(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<DeclareIncident>,
    ) -> Result<IncidentDeclared, ApiError> {
        let staff = auth.0;
        staff.require(Permission::IncidentsManage).await?;
        let b = body.0;
        let new = NewIncident {
            title: b.title.0,
            message: b.message.0,
            started_at: b.started_at,
            area: IncidentArea {
                nas_ids: b.area.nas_ids,
                area_codes: b.area.area_codes.into_iter().map(|t| t.0).collect(),
                address_fragments: b.area.address_fragments.into_iter().map(|t| t.0).collect(),
            },
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let incident = incidents::declare(&mut tx, staff.id, &new, Utc::now()).await?;
        audit(
            &mut tx,
            &staff,
            "incident.declare",
            incident.id,
            json!({
                "title": incident.title,
                "nas_ids": incident.area.nas_ids,
                "area_codes": incident.area.area_codes,
                "address_fragments": incident.area.address_fragments,
                "affected": incident.affected,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(IncidentDeclared::Created(Json(incident.into())))
    }

    /// One incident with its linked tickets and updates.
    #[oai(path = "/incidents/:id", method = "get", operation_id = "getIncident")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<IncidentDetailBody>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let detail = incidents::get(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(detail.into()))
    }

    /// Links tickets (by number) to an active incident. Audited.
    #[oai(
        path = "/incidents/:id/tickets",
        method = "post",
        operation_id = "linkIncidentTickets"
    )]
    async fn link(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<LinkTickets>,
    ) -> Result<Json<LinkedCount>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::IncidentsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let linked =
            incidents::link_tickets(&mut tx, staff.id, id.0, &body.0.ticket_numbers, Utc::now())
                .await?;
        audit(
            &mut tx,
            &staff,
            "incident.link_tickets",
            id.0,
            json!({"ticket_numbers": body.0.ticket_numbers, "linked": linked}),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(LinkedCount { linked }))
    }

    /// Unlinks a ticket linked by mistake from an active incident. Audited.
    #[oai(
        path = "/incidents/:id/tickets/:ticket_id",
        method = "delete",
        operation_id = "unlinkIncidentTicket"
    )]
    async fn unlink(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        ticket_id: Path<Uuid>,
    ) -> Result<Unlinked, ApiError> {
        let staff = auth.0;
        staff.require(Permission::IncidentsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        if !incidents::unlink_ticket(&mut tx, id.0, TicketId(ticket_id.0)).await? {
            return Err(ApiError::not_found());
        }
        audit(
            &mut tx,
            &staff,
            "incident.unlink_ticket",
            id.0,
            json!({"ticket_id": ticket_id.0}),
        )
        .await?;
        tx.commit().await?;
        Ok(Unlinked::Unlinked)
    }

    /// Posts an update to an active incident: it goes into every linked ticket that is not
    /// closed as a public reply, and its subscriber is notified. Repeating a request (same `id`)
    /// posts nothing. Audited.
    #[oai(
        path = "/incidents/:id/updates",
        method = "post",
        operation_id = "postIncidentUpdate"
    )]
    async fn post_update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<PostIncidentUpdate>,
    ) -> Result<Json<IncidentUpdatePosted>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::IncidentsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (update, reached) =
            incidents::post_update(&mut tx, staff.id, id.0, body.0.id, &body.0.body, Utc::now())
                .await?;
        audit(
            &mut tx,
            &staff,
            "incident.update",
            id.0,
            json!({"update_id": update.id, "tickets_reached": reached}),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(IncidentUpdatePosted {
            update: update.into(),
            tickets_reached: reached,
        }))
    }

    /// Closes an active incident: every linked ticket still with the ISP is resolved, and the
    /// affected subscribers are told service is back. Audited.
    #[oai(
        path = "/incidents/:id/close",
        method = "post",
        operation_id = "closeIncident"
    )]
    async fn close(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<CloseIncident>,
    ) -> Result<Json<IncidentClosed>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::IncidentsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (incident, resolved) = incidents::close(
            &mut tx,
            staff.id,
            id.0,
            body.0.message.as_deref(),
            Utc::now(),
        )
        .await?;
        audit(
            &mut tx,
            &staff,
            "incident.close",
            id.0,
            json!({"tickets_resolved": resolved}),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(IncidentClosed {
            incident: incident.into(),
            tickets_resolved: resolved,
        }))
    }
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl MyIncidentsApi {
    /// Active outages covering the subscriber, newest first, each with staff's latest news.
    #[oai(path = "/incidents", method = "get", operation_id = "listMyIncidents")]
    async fn mine(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<MyOutageList>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let items = incidents::active_for_subscriber(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(Json(MyOutageList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }
}
