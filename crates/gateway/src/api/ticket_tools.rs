//! Canned replies and merging duplicate tickets.
//!
//! Canned replies: `/console/canned-replies…` (listing needs `tickets.reply`, writing
//! `canned.manage`; writes audited) and `/console/tickets/{id}/canned-replies/{reply_id}`, the
//! reply filled in for the ticket. Merging: `POST /console/tickets/{id}/merge`
//! (`tickets.manage`, audited), the merge state for staff (`/console/tickets/{id}/merge`) and
//! for the subscriber (`/me/tickets/{id}/merge`: "merged into #N").

use chrono::{DateTime, Utc};
use kabinet_access::Permission;

use kabinet_core::TicketId;
use kabinet_ticketing::canned::{
    CannedReply as DomainCannedReply, CannedSpec, Placeholder, create_canned, delete_canned,
    list_canned, render_for_ticket, update_canned,
};
use kabinet_ticketing::merge::{
    MergeCandidate as DomainCandidate, MergeState, TicketRef, merge_state, merge_tickets,
};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::dto::TicketStatus;
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

pub struct CannedRepliesApi;

pub struct TicketMergeApi;

pub struct MyTicketMergeApi;

/// A saved answer the team shares.
#[derive(Debug, Object)]
pub struct CannedReply {
    pub id: Uuid,
    pub title: String,
    /// The template: text with placeholders such as `{{subscriber.name}}`.
    pub body: String,
    /// A label for filtering the picker (normalised: lower case).
    #[oai(skip_serializing_if_is_none)]
    pub category: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DomainCannedReply> for CannedReply {
    fn from(c: DomainCannedReply) -> Self {
        Self {
            id: c.id,
            title: c.title,
            body: c.body,
            category: c.category,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct CannedReplyList {
    /// By title.
    pub items: Vec<CannedReply>,
    /// The placeholders a body may use, as written: `{{subscriber.name}}`, …
    pub placeholders: Vec<String>,
}

/// A canned reply as staff write it. An unknown placeholder is refused with 400
/// `unknown_placeholder`.
#[derive(Debug, Object)]
pub struct CannedReplyInput {
    #[oai(validator(min_length = 1, max_length = 120))]
    pub title: Text,
    #[oai(validator(min_length = 1, max_length = 20000))]
    pub body: Text,
    /// Absent, null or empty: no category.
    #[oai(nullable, validator(max_length = 40))]
    pub category: Option<Text>,
}

impl CannedReplyInput {
    fn spec(&self) -> CannedSpec {
        CannedSpec {
            title: self.title.0.clone(),
            body: self.body.0.clone(),
            category: self.category.as_ref().map(|c| c.0.clone()),
        }
    }
}

/// A canned reply filled in for one ticket, for the agent to edit and send.
#[derive(Debug, Object)]
pub struct RenderedCannedReply {
    pub text: String,
}

#[derive(ApiResponse)]
enum CannedCreated {
    #[oai(status = 201)]
    Created(Json<CannedReply>),
}

#[derive(ApiResponse)]
enum CannedDeleted {
    #[oai(status = 204)]
    Deleted,
}

fn canned_details(c: &DomainCannedReply) -> serde_json::Value {
    json!({ "title": c.title, "category": c.category })
}

#[OpenApi(tag = "Tag::Console")]
impl CannedRepliesApi {
    /// The team's canned replies by title; `q` matches title or body, `category` filters.
    #[oai(
        path = "/console/canned-replies",
        method = "get",
        operation_id = "listCannedReplies"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 200))] q: Query<Option<String>>,
        #[oai(validator(max_length = 40))] category: Query<Option<String>>,
    ) -> Result<Json<CannedReplyList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = list_canned(&mut tx, q.0.as_deref(), category.0.as_deref()).await?;
        tx.commit().await?;
        Ok(Json(CannedReplyList {
            items: items.into_iter().map(Into::into).collect(),
            placeholders: Placeholder::ALL
                .iter()
                .map(|p| format!("{{{{{}}}}}", p.as_str()))
                .collect(),
        }))
    }

    /// Saves a new canned reply. Audited.
    #[oai(
        path = "/console/canned-replies",
        method = "post",
        operation_id = "createCannedReply"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<CannedReplyInput>,
    ) -> Result<CannedCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::CannedManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let c = create_canned(&mut tx, staff.id, &body.spec()).await?;
        staff
            .audit(
                &mut tx,
                "canned.create",
                format!("canned:{}", c.id),
                canned_details(&c),
            )
            .await?;
        tx.commit().await?;
        Ok(CannedCreated::Created(Json(c.into())))
    }

    /// Replaces a canned reply. Audited.
    #[oai(
        path = "/console/canned-replies/:id",
        method = "put",
        operation_id = "updateCannedReply"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<CannedReplyInput>,
    ) -> Result<Json<CannedReply>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::CannedManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let c = update_canned(&mut tx, id.0, &body.spec()).await?;
        staff
            .audit(
                &mut tx,
                "canned.update",
                format!("canned:{}", c.id),
                canned_details(&c),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(c.into()))
    }

    /// Deletes a canned reply. Audited.
    #[oai(
        path = "/console/canned-replies/:id",
        method = "delete",
        operation_id = "deleteCannedReply"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<CannedDeleted, ApiError> {
        let staff = auth.0;
        staff.require(Permission::CannedManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let c = delete_canned(&mut tx, id.0).await?;
        staff
            .audit(
                &mut tx,
                "canned.delete",
                format!("canned:{}", c.id),
                canned_details(&c),
            )
            .await?;
        tx.commit().await?;
        Ok(CannedDeleted::Deleted)
    }

    /// A canned reply filled in for this ticket (subscriber, account, balance with currency,
    /// ticket, the calling agent), for the agent to edit before sending.
    #[oai(
        path = "/console/tickets/:id/canned-replies/:reply_id",
        method = "get",
        operation_id = "renderCannedReply"
    )]
    async fn render(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        reply_id: Path<Uuid>,
    ) -> Result<Json<RenderedCannedReply>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let text = render_for_ticket(&mut tx, reply_id.0, TicketId(id.0), staff.id).await?;
        tx.commit().await?;
        Ok(Json(RenderedCannedReply { text }))
    }
}

/// A ticket by id and number.
#[derive(Debug, Object)]
pub struct TicketLink {
    pub id: Uuid,
    pub number: i64,
}

impl From<TicketRef> for TicketLink {
    fn from(t: TicketRef) -> Self {
        Self {
            id: t.id.as_uuid(),
            number: t.number,
        }
    }
}

/// A ticket this one could be merged into.
#[derive(Debug, Object)]
pub struct MergeCandidate {
    pub id: Uuid,
    pub number: i64,
    pub subject: String,
    pub status: TicketStatus,
}

impl From<DomainCandidate> for MergeCandidate {
    fn from(c: DomainCandidate) -> Self {
        Self {
            id: c.id.as_uuid(),
            number: c.number,
            subject: c.subject,
            status: c.status.into(),
        }
    }
}

/// Where a ticket stands with merges.
#[derive(Debug, Object)]
pub struct TicketMergeState {
    /// This ticket was merged into that one (and closed).
    #[oai(skip_serializing_if_is_none)]
    pub merged_into: Option<TicketLink>,
    #[oai(skip_serializing_if_is_none)]
    pub merged_at: Option<DateTime<Utc>>,
    /// Tickets merged into this one, by number.
    pub merged_from: Vec<TicketLink>,
    /// Staff only: the same subscriber's tickets this one could be merged into (not closed, not
    /// merged), most recently active first; empty once merged and for the subscriber.
    pub candidates: Vec<MergeCandidate>,
}

impl From<MergeState> for TicketMergeState {
    fn from(m: MergeState) -> Self {
        Self {
            merged_into: m.merged_into.map(Into::into),
            merged_at: m.merged_at,
            merged_from: m.merged_from.into_iter().map(Into::into).collect(),
            candidates: m.candidates.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct MergeTicketInput {
    /// The number of the ticket to merge this one into: the same subscriber's, not closed, not
    /// merged.
    #[oai(validator(minimum(value = "1")))]
    pub into_ticket_number: i64,
}

#[derive(Debug, Object)]
pub struct TicketMerged {
    pub source: TicketLink,
    pub target: TicketLink,
    pub moved_messages: i64,
    pub moved_notes: i64,
    pub moved_attachments: i64,
    /// The merge had already happened (a retry): nothing moved this time.
    pub already_merged: bool,
}

#[OpenApi(tag = "Tag::Console")]
impl TicketMergeApi {
    /// Merges this ticket into another of the same subscriber: messages, internal notes,
    /// attachments and tags move there (the thread stays in time order), this ticket is closed
    /// and marked merged. Different subscribers: 409 `merge_different_subscribers`; a merged or
    /// closed target: 409; the ticket itself: 422. Retrying a done merge changes nothing.
    /// Audited.
    #[oai(
        path = "/console/tickets/:id/merge",
        method = "post",
        operation_id = "mergeTicket"
    )]
    async fn merge(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<MergeTicketInput>,
    ) -> Result<Json<TicketMerged>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let m = merge_tickets(&mut tx, staff.id, TicketId(id.0), body.into_ticket_number).await?;
        if !m.already_merged {
            staff
                .audit(
                    &mut tx,
                    "ticket.merge",
                    format!("ticket:{}", m.source.id),
                    json!({
                        "source_number": m.source.number,
                        "into": m.target.id.to_string(),
                        "into_number": m.target.number,
                        "moved_messages": m.moved_messages,
                        "moved_notes": m.moved_notes,
                        "moved_attachments": m.moved_attachments,
                    }),
                )
                .await?;
        }
        tx.commit().await?;
        Ok(Json(TicketMerged {
            source: m.source.into(),
            target: m.target.into(),
            moved_messages: m.moved_messages,
            moved_notes: m.moved_notes,
            moved_attachments: m.moved_attachments,
            already_merged: m.already_merged,
        }))
    }

    /// Whether this ticket was merged into another, and which were merged into it.
    #[oai(
        path = "/console/tickets/:id/merge",
        method = "get",
        operation_id = "getTicketMerge"
    )]
    async fn state(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<TicketMergeState>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let m = merge_state(&mut tx, TicketId(id.0), None).await?;
        tx.commit().await?;
        Ok(Json(m.into()))
    }
}

#[OpenApi(tag = "Tag::Portal")]
impl MyTicketMergeApi {
    /// Whether the subscriber's ticket was merged into another of theirs ("merged into #N").
    #[oai(
        path = "/me/tickets/:id/merge",
        method = "get",
        operation_id = "getMyTicketMerge"
    )]
    async fn state(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<TicketMergeState>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let m = merge_state(&mut tx, TicketId(id.0), Some(me.id)).await?;
        tx.commit().await?;
        Ok(Json(m.into()))
    }
}

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (CannedRepliesApi, TicketMergeApi, MyTicketMergeApi);

pub fn apis() -> Apis {
    (CannedRepliesApi, TicketMergeApi, MyTicketMergeApi)
}
