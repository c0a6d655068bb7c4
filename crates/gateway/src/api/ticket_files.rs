//! Ticket attachments and the subscriber's notifications over HTTP.
//!
//! Messages with files: `createTicket`, `addMyTicketMessage`, `replyToTicket` and `addTicketNote`
//! take either their JSON body or `multipart/form-data` with the same fields plus `files` (the
//! request types here). Downloads: `/me/tickets/{id}/attachments/{attachment_id}` (the
//! subscriber's own ticket, public messages only) and `/console/tickets/{id}/attachments/…`
//! (`tickets.read`), always `Content-Disposition: attachment`, `nosniff`, the sniffed type and
//! never stored by shared caches. The bell: `/me/notifications` and `/me/notifications/read`.

use chrono::{DateTime, Utc};
use kabinet_access::Permission;
use kabinet_core::TicketId;
use kabinet_ticketing::attachments::{
    self, AttachTo, Attached, Attachment as DomainAttachment, Download, IncomingFile, PreparedFile,
    Uploader,
};
use kabinet_ticketing::{NotificationKind, QueueCursor};
use poem::web::Data;
use poem::{IntoResponse, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiRequest, ApiResponse, Enum, Multipart, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::dto::{NewMessage, NewTicket, TicketCategory, TicketStatus};
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

/// A file on a message or note, as a thread lists it.
#[derive(Debug, Object)]
pub struct TicketAttachment {
    pub id: Uuid,
    pub file_name: String,
    /// Decided from the content: `image/png`, `image/jpeg`, `image/webp`, `image/gif`,
    /// `application/pdf` or `text/plain`.
    pub content_type: String,
    pub size_bytes: i64,
}

impl From<DomainAttachment> for TicketAttachment {
    fn from(a: DomainAttachment) -> Self {
        Self {
            id: a.id,
            file_name: a.file_name,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
        }
    }
}

/// A new ticket with files: the fields of the JSON body plus `files`.
#[derive(Debug, Multipart)]
pub struct NewTicketForm {
    pub category: TicketCategory,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub subject: String,
    #[oai(validator(min_length = 1, max_length = 20000))]
    pub description: String,
    /// Up to 10 files, 10 MiB each and 25 MiB together: PNG, JPEG, WebP or GIF images, PDF or
    /// plain text (checked by content). Image metadata (EXIF, GPS, colour profiles) is removed.
    /// At least one: a message without files is sent as JSON.
    #[oai(validator(min_items = 1, max_items = 10))]
    pub files: Vec<Upload>,
}

/// A message with files: `body` plus `files`.
#[derive(Debug, Multipart)]
pub struct NewMessageForm {
    #[oai(validator(min_length = 1, max_length = 20000))]
    pub body: String,
    /// As for a new ticket: up to 10 files, 10 MiB each, 25 MiB together.
    /// At least one: a message without files is sent as JSON.
    #[oai(validator(min_items = 1, max_items = 10))]
    pub files: Vec<Upload>,
}

#[derive(Debug, ApiRequest)]
pub enum NewTicketRequest {
    Json(Json<NewTicket>),
    Multipart(NewTicketForm),
}

#[derive(Debug, ApiRequest)]
pub enum NewMessageRequest {
    Json(Json<NewMessage>),
    Multipart(NewMessageForm),
}

/// A new ticket's fields and its checked files.
pub struct TicketInput {
    pub category: TicketCategory,
    pub subject: String,
    pub description: String,
    pub files: Vec<PreparedFile>,
}

/// A message's text and its checked files.
pub struct MessageInput {
    pub body: String,
    pub files: Vec<PreparedFile>,
}

async fn read_files(files: Vec<Upload>) -> Result<Vec<PreparedFile>, ApiError> {
    // The multipart form is for messages with files (the spec's minItems: 1); poem fills a
    // missing repeated field with an empty list, so it is checked here.
    if files.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_upload",
            "a multipart message carries at least one file; send JSON when there are none",
        ));
    }
    let mut incoming = Vec::with_capacity(files.len());
    for file in files {
        if file.size() > attachments::MAX_FILE_BYTES {
            // Refused before it is read into memory.
            return Err(attachments::AttachmentError::FileTooLarge {
                name: file.file_name().unwrap_or_default().to_owned(),
                max: attachments::MAX_FILE_BYTES,
            }
            .into());
        }
        // A browser always names the files it uploads; a part without a file name is a form
        // field sent where a file belongs.
        let Some(file_name) = file.file_name().map(str::to_owned) else {
            return Err(ApiError::bad_request(
                "invalid_upload",
                "every file needs a file name (Content-Disposition filename)",
            ));
        };
        let file_name = Some(file_name);
        let bytes = file.into_vec().await.map_err(|_| {
            ApiError::bad_request("invalid_upload", "an uploaded file could not be read")
        })?;
        incoming.push(IncomingFile { file_name, bytes });
    }
    // Stripping image metadata is CPU work on up to 25 MiB: off the async threads.
    tokio::task::spawn_blocking(move || attachments::prepare(incoming))
        .await
        .map_err(|e| ApiError::internal("attachments", &e))?
        .map_err(Into::into)
}

impl NewTicketRequest {
    /// The fields and the files, checked (limits, type by content) and cleaned: nothing is
    /// stored yet.
    pub async fn into_input(self) -> Result<TicketInput, ApiError> {
        match self {
            Self::Json(body) => Ok(TicketInput {
                category: body.0.category,
                subject: body.0.subject.0,
                description: body.0.description.0,
                files: Vec::new(),
            }),
            Self::Multipart(form) => Ok(TicketInput {
                category: form.category,
                subject: form.subject,
                description: form.description,
                files: read_files(form.files).await?,
            }),
        }
    }
}

impl NewMessageRequest {
    pub async fn into_input(self) -> Result<MessageInput, ApiError> {
        match self {
            Self::Json(body) => Ok(MessageInput {
                body: body.0.body.0,
                files: Vec::new(),
            }),
            Self::Multipart(form) => Ok(MessageInput {
                body: form.body,
                files: read_files(form.files).await?,
            }),
        }
    }
}

/// Stores the files on `to` inside `tx` (see [`attachments::attach`]: the ISP's limits are
/// checked there, `attachment_over_file_limit` / `attachments_over_message_limit`).
pub async fn attach_files(
    state: &AppState,
    tx: &mut kabinet_db::TenantTx,
    ticket: TicketId,
    to: AttachTo,
    uploader: Uploader,
    files: Vec<PreparedFile>,
) -> Result<Attached, ApiError> {
    Ok(attachments::attach(
        &state.db,
        tx,
        &state.config.attachments,
        ticket,
        to,
        uploader,
        files,
        Utc::now(),
    )
    .await?)
}

/// `filename*` per RFC 6266/5987, with a plain ASCII `filename` for old clients.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// An attachment's bytes, as a download.
pub struct FileDownload(Download);

const DOWNLOAD_TYPES: [&str; 6] = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
    "application/pdf",
    "text/plain",
];

impl IntoResponse for FileDownload {
    fn into_response(self) -> Response {
        let a = &self.0.attachment;
        Response::builder()
            .content_type(&a.content_type)
            .header("Content-Disposition", content_disposition(&a.file_name))
            .header("X-Content-Type-Options", "nosniff")
            // The user's browser may keep it; a proxy or CDN may not.
            .header("Cache-Control", "private, max-age=300")
            .body(self.0.bytes)
    }
}

impl ApiResponse for FileDownload {
    fn meta() -> MetaResponses {
        let header = |name: &str, description: &str| MetaHeader {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            required: true,
            deprecated: false,
            schema: String::schema_ref(),
        };
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The file, to download.",
                status: Some(200),
                status_range: None,
                content: DOWNLOAD_TYPES
                    .iter()
                    .map(|t| MetaMediaType {
                        content_type: t,
                        schema: <poem_openapi::payload::Binary<Vec<u8>> as poem_openapi::payload::Payload>::schema_ref(),
                    })
                    .collect(),
                headers: vec![
                    header(
                        "Content-Disposition",
                        "Always `attachment`, with the file name as `filename*` (UTF-8).",
                    ),
                    header("X-Content-Type-Options", "`nosniff`."),
                    header("Cache-Control", "`private`: never kept by shared caches."),
                ],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}

/// What a notification tells (the wire names say what they are about: `ticket_…`).
#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
#[allow(clippy::enum_variant_names)]
pub enum NotificationType {
    /// Staff replied to the ticket.
    TicketReply,
    /// Staff changed the ticket's status (`status`).
    TicketStatus,
    /// The answer is overdue; the ISP knows and is on it.
    TicketOverdue,
    /// Staff joined the ticket with another (`merged_into_*`): the conversation goes on there.
    TicketMerged,
    /// An outage covering the subscriber was declared (`incident_*`; no ticket).
    IncidentDeclared,
    /// News about an outage covering the subscriber.
    IncidentUpdate,
    /// The outage is over: service restored.
    IncidentRestored,
}

#[derive(Debug, Object)]
pub struct NotificationItem {
    pub id: Uuid,
    pub kind: NotificationType,
    /// The ticket it is about (`ticket_*` kinds).
    #[oai(skip_serializing_if_is_none)]
    pub ticket_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub ticket_number: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub ticket_subject: Option<String>,
    /// The new status (`ticket_status` only).
    #[oai(skip_serializing_if_is_none)]
    pub status: Option<TicketStatus>,
    /// The ticket a merged one went into (`ticket_merged` only).
    #[oai(skip_serializing_if_is_none)]
    pub merged_into_ticket_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub merged_into_number: Option<i64>,
    /// The outage (`incident_*` kinds) and its title.
    #[oai(skip_serializing_if_is_none)]
    pub incident_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub incident_title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Object)]
pub struct NotificationList {
    /// Newest first.
    pub items: Vec<NotificationItem>,
    /// All unread notifications of the subscriber, not only this page's.
    pub unread: i64,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct MarkRead {
    /// The notifications to mark read; absent or null: all of them.
    #[oai(validator(max_items = 200))]
    #[oai(nullable)]
    pub ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Object)]
pub struct MarkedRead {
    pub marked: u64,
    pub unread: i64,
}

pub struct TicketFilesApi;

#[OpenApi(tag = "Tag::Portal")]
impl TicketFilesApi {
    /// Downloads an attachment of one of the subscriber's tickets. Files on internal notes, on
    /// another subscriber's ticket or another ISP's are `not_found`.
    #[oai(
        path = "/me/tickets/:id/attachments/:attachment_id",
        method = "get",
        operation_id = "downloadMyTicketAttachment"
    )]
    async fn download(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
        attachment_id: Path<Uuid>,
    ) -> Result<FileDownload, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let file = attachments::open_for_subscriber(
            &mut tx,
            &state.config.attachments,
            me.id,
            TicketId(id.0),
            attachment_id.0,
        )
        .await?;
        tx.commit().await?;
        Ok(FileDownload(file))
    }

    /// The subscriber's notifications (the bell), newest first, with the unread count.
    #[oai(
        path = "/me/notifications",
        method = "get",
        operation_id = "listMyNotifications"
    )]
    async fn notifications(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        /// Page size (1–100, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
    ) -> Result<Json<NotificationList>, ApiError> {
        let me = auth.0;
        let after = super::after_cursor(after.0.as_deref(), QueueCursor::decode)?;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let page = kabinet_ticketing::notifications_for_subscriber(
            &mut tx,
            me.id,
            after,
            limit.0.unwrap_or(20),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(NotificationList {
            items: page
                .items
                .into_iter()
                .map(|n| NotificationItem {
                    id: n.id,
                    kind: match n.kind {
                        NotificationKind::Reply => NotificationType::TicketReply,
                        NotificationKind::StatusChanged => NotificationType::TicketStatus,
                        NotificationKind::Overdue => NotificationType::TicketOverdue,
                        NotificationKind::Merged => NotificationType::TicketMerged,
                        NotificationKind::IncidentDeclared => NotificationType::IncidentDeclared,
                        NotificationKind::IncidentUpdate => NotificationType::IncidentUpdate,
                        NotificationKind::IncidentRestored => NotificationType::IncidentRestored,
                    },
                    ticket_id: n.ticket_id.map(|t| t.as_uuid()),
                    ticket_number: n.ticket_number,
                    ticket_subject: n.ticket_subject,
                    status: n.status.map(Into::into),
                    merged_into_ticket_id: n.merged_into_ticket_id.map(|t| t.as_uuid()),
                    merged_into_number: n.merged_into_number,
                    incident_id: n.incident_id,
                    incident_title: n.incident_title,
                    created_at: n.created_at,
                    read: n.read_at.is_some(),
                })
                .collect(),
            unread: page.unread,
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// Marks notifications read: the listed ones, or all. Ids of other subscribers' are ignored.
    #[oai(
        path = "/me/notifications/read",
        method = "post",
        operation_id = "markMyNotificationsRead"
    )]
    async fn mark_read(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<MarkRead>,
    ) -> Result<Json<MarkedRead>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let marked = kabinet_ticketing::mark_notifications_read(
            &mut tx,
            me.id,
            body.0.ids.as_deref(),
            Utc::now(),
        )
        .await?;
        let page = kabinet_ticketing::notifications_for_subscriber(&mut tx, me.id, None, 1).await?;
        tx.commit().await?;
        Ok(Json(MarkedRead {
            marked,
            unread: page.unread,
        }))
    }
}

pub struct ConsoleTicketFilesApi;

#[OpenApi(tag = "Tag::Console")]
impl ConsoleTicketFilesApi {
    /// Downloads an attachment of a ticket, internal notes' included (`tickets.read`).
    #[oai(
        path = "/console/tickets/:id/attachments/:attachment_id",
        method = "get",
        operation_id = "downloadTicketAttachment"
    )]
    async fn download(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        attachment_id: Path<Uuid>,
    ) -> Result<FileDownload, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let file = attachments::open_for_staff(
            &mut tx,
            &state.config.attachments,
            TicketId(id.0),
            attachment_id.0,
        )
        .await?;
        tx.commit().await?;
        Ok(FileDownload(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_encoded_for_the_header() {
        assert_eq!(
            content_disposition("скан 1.pdf"),
            "attachment; filename=\"____ 1.pdf\"; filename*=UTF-8''%D1%81%D0%BA%D0%B0%D0%BD%201.pdf"
        );
        assert_eq!(
            content_disposition("a\"b;c.png"),
            "attachment; filename=\"a_b;c.png\"; filename*=UTF-8''a%22b%3Bc.png"
        );
    }
}
