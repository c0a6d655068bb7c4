use kabinet_access::Permission;
use kabinet_access::audit::{AuditEntry, record};
use kabinet_core::TicketId;
use kabinet_ticketing::{QueueCursor, QueueFilter, add_staff_reply, get_for_staff, queue};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::dto::{Message, NewMessage, QueuePage, QueueTicket, QueueTicketThread, TicketStatus};
use crate::AppState;
use crate::auth::StaffAuth;
use crate::problem::ApiError;

pub struct ConsoleApi;

#[derive(ApiResponse)]
enum ReplyAdded {
    #[oai(status = 201)]
    Created(Json<Message>),
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl ConsoleApi {
    /// The ticket queue, newest activity first, keyset-paginated.
    #[oai(path = "/tickets", method = "get", operation_id = "listQueue")]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Only tickets in this status.
        status: Query<Option<TicketStatus>>,
        /// Page size (1–200, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
    ) -> Result<Json<QueuePage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let after = match after.0.as_deref() {
            Some(raw) => Some(QueueCursor::decode(raw).ok_or_else(|| {
                ApiError::bad_request("invalid_cursor", "`after` is not a cursor this API issued")
            })?),
            None => None,
        };
        let filter = QueueFilter {
            status: status.0.map(Into::into),
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let page = queue(&mut tx, &filter, after, limit.0.unwrap_or(50)).await?;
        tx.commit().await?;
        Ok(Json(QueuePage {
            items: page.items.iter().map(QueueTicket::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// One ticket with its whole conversation.
    #[oai(path = "/tickets/:id", method = "get", operation_id = "getQueueTicket")]
    async fn ticket(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<QueueTicketThread>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let ticket = get_for_staff(&mut tx, TicketId(id.0)).await?;
        tx.commit().await?;
        Ok(Json(ticket.into()))
    }

    /// Replies to the subscriber; the ticket then waits on the customer.
    #[oai(
        path = "/tickets/:id/replies",
        method = "post",
        operation_id = "replyToTicket"
    )]
    async fn reply(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<NewMessage>,
    ) -> Result<ReplyAdded, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        let ticket = TicketId(id.0);
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let message = add_staff_reply(&mut tx, staff.id, ticket, &body.body).await?;
        record(
            &mut tx,
            AuditEntry {
                staff: Some(staff.id),
                action: "ticket.reply",
                target: format!("ticket:{ticket}"),
                details: json!({ "message_id": message.id }),
            },
            &staff.client,
        )
        .await?;
        tx.commit().await?;
        Ok(ReplyAdded::Created(Json(message.into())))
    }
}
