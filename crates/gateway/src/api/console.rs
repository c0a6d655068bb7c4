use chrono::{NaiveDate, Utc};
use kabinet_access::Permission;
use kabinet_access::audit::{AuditEntry, record};
use kabinet_core::{StaffId, TicketId};
use kabinet_ticketing::sla::{OpeningHours, SlaTargets};
use kabinet_ticketing::{
    AssigneeFilter, DeskSettings, QueueCursor, QueueFilter, SlaPolicy, add_note, add_staff_reply,
    agents, assign, get_for_staff, get_settings, normalize_tag, put_settings, queue, set_priority,
    set_status, set_tags, tags_in_use,
};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::dto::{
    Message, QueuePage, QueueTicket, QueueTicketThread, TicketCategory, TicketNote, TicketPriority,
    TicketStatus,
};
use super::text::Text;
use super::ticket_files::{NewMessageRequest, attach_files};
use crate::AppState;
use crate::auth::{Staff, StaffAuth};
use crate::problem::ApiError;
use kabinet_ticketing::attachments::{AttachTo, Uploader};

pub struct ConsoleApi;

#[derive(ApiResponse)]
enum ReplyAdded {
    #[oai(status = 201)]
    Created(Json<Message>),
}

#[derive(ApiResponse)]
enum NoteAdded {
    #[oai(status = 201)]
    Created(Json<TicketNote>),
}

/// Whose tickets the queue shows.
#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum QueueAssignee {
    /// Assigned to the signed-in staff member.
    Me,
    /// Assigned to nobody.
    Unassigned,
}

#[derive(Debug, Object)]
pub struct StatusChange {
    pub status: TicketStatus,
}

#[derive(Debug, Object)]
pub struct PriorityChange {
    pub priority: TicketPriority,
}

#[derive(Debug, Object)]
pub struct AssigneeChange {
    /// An active staff member of this ISP.
    pub staff_id: Uuid,
}

#[derive(Debug, Object)]
pub struct TagsChange {
    /// The ticket's whole tag set: each normalised (trimmed, lower case, single spaces; 1–40
    /// letters, digits, spaces, `-`, `_`, `.`), duplicates merged, at most 20.
    #[oai(validator(max_items = 20))]
    pub tags: Vec<Text>,
}

/// A staff member who can be assigned tickets.
#[derive(Debug, Object)]
pub struct Agent {
    pub id: Uuid,
    pub display_name: String,
    /// The signed-in staff member.
    pub me: bool,
}

#[derive(Debug, Object)]
pub struct AgentList {
    pub items: Vec<Agent>,
}

#[derive(Debug, Object)]
pub struct TagUse {
    pub tag: String,
    pub tickets: i64,
}

#[derive(Debug, Object)]
pub struct TagList {
    pub items: Vec<TagUse>,
}

/// One opening interval in the ISP's time zone.
#[derive(Debug, Object)]
pub struct OpeningInterval {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    #[oai(validator(minimum(value = "1"), maximum(value = "7")))]
    pub weekday: u8,
    /// Local time `HH:MM`.
    #[oai(validator(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"))]
    pub opens: Text,
    /// Local time `HH:MM` (`24:00` for midnight at the end of the day).
    #[oai(validator(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"))]
    pub closes: Text,
}

/// SLA targets in business minutes for a priority, optionally narrowed to one category.
#[derive(Debug, Object)]
pub struct SlaPolicyDto {
    pub priority: TicketPriority,
    /// Absent: the priority's default policy. A category's policy wins over it.
    #[oai(skip_serializing_if_is_none)]
    pub category: Option<TicketCategory>,
    #[oai(validator(minimum(value = "1"), maximum(value = "525600")))]
    pub first_response_minutes: i32,
    #[oai(validator(minimum(value = "1"), maximum(value = "525600")))]
    pub resolution_minutes: i32,
    /// Raise the ticket's priority one step when a target is breached.
    pub raise_priority_on_breach: bool,
}

/// The ISP's desk settings.
#[derive(Debug, Object)]
pub struct TicketSettings {
    /// Days after resolution during which the subscriber may reopen the ticket.
    #[oai(validator(minimum(value = "0"), maximum(value = "365")))]
    pub reopen_days: i32,
    /// Days after which a resolved ticket closes by itself.
    #[oai(validator(minimum(value = "1"), maximum(value = "365")))]
    pub auto_close_days: i32,
    /// Business hours the SLA counts, in the ISP's time zone.
    #[oai(validator(min_items = 1, max_items = 50))]
    pub opening_hours: Vec<OpeningInterval>,
    /// Days off: no business minutes.
    #[oai(validator(max_items = 400))]
    pub holidays: Vec<NaiveDate>,
    /// Saved as given; priorities without a policy of their own use the built-in targets
    /// (urgent 60/480, high 240/1440, normal 480/1620, low 1440/2700 minutes).
    #[oai(validator(max_items = 100))]
    pub policies: Vec<SlaPolicyDto>,
}

/// The desk settings as they apply, with the ISP's time zone.
#[derive(Debug, Object)]
pub struct TicketSettingsView {
    /// IANA time zone the business hours are in.
    pub time_zone: String,
    #[oai(flatten)]
    pub settings: TicketSettings,
}

fn minute_of_day(raw: &str) -> Result<u16, ApiError> {
    let bad = || ApiError::unprocessable("invalid", format!("{raw:?} is not a time HH:MM"));
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    Ok(h * 60 + m)
}

fn hhmm(minute: u16) -> Text {
    Text(format!("{:02}:{:02}", minute / 60, minute % 60))
}

fn settings_view(time_zone: &str, s: DeskSettings) -> TicketSettingsView {
    TicketSettingsView {
        time_zone: time_zone.to_owned(),
        settings: TicketSettings {
            reopen_days: s.reopen_days,
            auto_close_days: s.auto_close_days,
            opening_hours: s
                .opening_hours
                .iter()
                .map(|h| OpeningInterval {
                    weekday: h.weekday,
                    opens: hhmm(h.opens),
                    closes: hhmm(h.closes),
                })
                .collect(),
            holidays: s.holidays,
            policies: s
                .policies
                .iter()
                .map(|p| SlaPolicyDto {
                    priority: p.priority.into(),
                    category: p.category.clone().map(Into::into),
                    first_response_minutes: p.targets.first_response_minutes,
                    resolution_minutes: p.targets.resolution_minutes,
                    raise_priority_on_breach: p.targets.raise_priority_on_breach,
                })
                .collect(),
        },
    }
}

/// Changes one ticket inside a tenant transaction, writes the audit entry in the same
/// transaction, and answers with the ticket as it now is.
async fn change_ticket<F>(
    state: &AppState,
    staff: &Staff,
    id: TicketId,
    action: &'static str,
    change: F,
) -> Result<Json<QueueTicketThread>, ApiError>
where
    F: AsyncFnOnce(&mut kabinet_db::TenantTx) -> Result<serde_json::Value, ApiError>,
{
    let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
    let details = change(&mut tx).await?;
    record(
        &mut tx,
        AuditEntry {
            staff: Some(staff.id),
            action,
            target: format!("ticket:{id}"),
            details,
        },
        &staff.client,
    )
    .await?;
    let ticket = get_for_staff(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(ticket.into()))
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl ConsoleApi {
    /// The ticket queue, newest activity first, keyset-paginated. Filters combine (AND).
    #[oai(path = "/tickets", method = "get", operation_id = "listQueue")]
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Only tickets in this status.
        status: Query<Option<TicketStatus>>,
        /// Only tickets of this priority.
        priority: Query<Option<TicketPriority>>,
        /// Only tickets in this category.
        category: Query<Option<TicketCategory>>,
        /// Only tickets carrying this tag (normalised like tags are).
        #[oai(validator(max_length = 100))]
        tag: Query<Option<String>>,
        /// `me`: assigned to you; `unassigned`: assigned to nobody.
        assignee: Query<Option<QueueAssignee>>,
        /// Only tickets assigned to this staff member.
        assignee_id: Query<Option<Uuid>>,
        /// `true`: only tickets past a due time that are still with the ISP (new or open).
        overdue: Query<Option<bool>>,
        /// Page size (1–200, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
    ) -> Result<Json<QueuePage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let after = super::after_cursor(after.0.as_deref(), QueueCursor::decode)?;
        let tag =
            match tag.0.as_deref() {
                Some(raw) => Some(normalize_tag(raw).ok_or_else(|| {
                    ApiError::bad_request("invalid_tag", "`tag` is not a valid tag")
                })?),
                None => None,
            };
        let assignee = match (assignee.0, assignee_id.0) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "conflicting_filters",
                    "give `assignee` or `assignee_id`, not both",
                ));
            }
            (Some(QueueAssignee::Me), None) => Some(AssigneeFilter::Staff(staff.id)),
            (Some(QueueAssignee::Unassigned), None) => Some(AssigneeFilter::Unassigned),
            (None, Some(id)) => Some(AssigneeFilter::Staff(StaffId(id))),
            (None, None) => None,
        };
        let filter = QueueFilter {
            status: status.0.map(Into::into),
            priority: priority.0.map(Into::into),
            category: category.0.map(Into::into),
            assignee,
            tag,
            overdue: overdue.0.unwrap_or(false),
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let page = queue(&mut tx, &filter, after, limit.0.unwrap_or(50)).await?;
        tx.commit().await?;
        Ok(Json(QueuePage {
            items: page.items.iter().map(QueueTicket::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// One ticket with its conversation, internal notes, events, SLA due times and breach
    /// flags.
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

    /// Replies to the subscriber. The first reply is the SLA's first response; the ticket then
    /// waits on the customer (the SLA clock stops until they answer). Closed tickets refuse
    /// (`ticket_closed`). The subscriber is notified (in-app, and by e-mail when they have an
    /// address). JSON, or `multipart/form-data` with `body` and `files`.
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
        body: NewMessageRequest,
    ) -> Result<ReplyAdded, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        let ticket = TicketId(id.0);
        let input = body.into_input().await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let mut message = add_staff_reply(
            &mut tx,
            &staff.tenant.time_zone,
            staff.id,
            ticket,
            &input.body,
            Utc::now(),
        )
        .await?;
        let attached = attach_files(
            &state,
            &mut tx,
            ticket,
            AttachTo::Message(message.id),
            Uploader::Staff(staff.id),
            input.files,
        )
        .await?;
        record(
            &mut tx,
            AuditEntry {
                staff: Some(staff.id),
                action: "ticket.reply",
                target: format!("ticket:{ticket}"),
                details: json!({
                    "message_id": message.id,
                    "attachments": attached.attachments.iter().map(|a| a.id).collect::<Vec<_>>(),
                }),
            },
            &staff.client,
        )
        .await?;
        tx.commit().await?;
        message.attachments = attached.keep();
        Ok(ReplyAdded::Created(Json(message.into())))
    }

    /// Adds an internal note: staff only, never shown to the subscriber (its files neither);
    /// changes neither the status nor the SLA and notifies nobody. JSON, or
    /// `multipart/form-data` with `body` and `files`.
    #[oai(
        path = "/tickets/:id/notes",
        method = "post",
        operation_id = "addTicketNote"
    )]
    async fn note(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: NewMessageRequest,
    ) -> Result<NoteAdded, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsReply).await?;
        let ticket = TicketId(id.0);
        let input = body.into_input().await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let mut note = add_note(&mut tx, staff.id, ticket, &input.body).await?;
        let attached = attach_files(
            &state,
            &mut tx,
            ticket,
            AttachTo::Note(note.id),
            Uploader::Staff(staff.id),
            input.files,
        )
        .await?;
        record(
            &mut tx,
            AuditEntry {
                staff: Some(staff.id),
                action: "ticket.note",
                target: format!("ticket:{ticket}"),
                details: json!({
                    "note_id": note.id,
                    "attachments": attached.attachments.iter().map(|a| a.id).collect::<Vec<_>>(),
                }),
            },
            &staff.client,
        )
        .await?;
        tx.commit().await?;
        note.attachments = attached.keep();
        Ok(NoteAdded::Created(Json(note.into())))
    }

    /// Moves the ticket along its lifecycle. Legal moves: new → open, waiting on customer,
    /// resolved, closed; open → waiting on customer, resolved, closed; waiting on customer →
    /// open, resolved, closed; resolved → open, closed. Closed is final. Anything else is
    /// `illegal_ticket_transition` (409); the current status again changes nothing.
    #[oai(
        path = "/tickets/:id/status",
        method = "put",
        operation_id = "setTicketStatus"
    )]
    async fn set_status(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<StatusChange>,
    ) -> Result<Json<QueueTicketThread>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let ticket = TicketId(id.0);
        let next = body.0.status.into();
        let tz = staff.tenant.time_zone.clone();
        change_ticket(&state, &staff, ticket, "ticket.status", async |tx| {
            let changed = set_status(tx, &tz, staff.id, ticket, next, Utc::now()).await?;
            Ok(json!({ "status": next.as_str(), "changed": changed }))
        })
        .await
    }

    /// Sets the priority; the SLA targets and due times follow it.
    #[oai(
        path = "/tickets/:id/priority",
        method = "put",
        operation_id = "setTicketPriority"
    )]
    async fn set_priority(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<PriorityChange>,
    ) -> Result<Json<QueueTicketThread>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let ticket = TicketId(id.0);
        let priority: kabinet_ticketing::Priority = body.0.priority.into();
        let tz = staff.tenant.time_zone.clone();
        change_ticket(&state, &staff, ticket, "ticket.priority", async |tx| {
            let changed = set_priority(tx, &tz, staff.id, ticket, priority).await?;
            Ok(json!({ "priority": priority.as_str(), "changed": changed }))
        })
        .await
    }

    /// Assigns the ticket to an active staff member of this ISP (`unknown_assignee` otherwise).
    #[oai(
        path = "/tickets/:id/assignee",
        method = "put",
        operation_id = "assignTicket"
    )]
    async fn assign(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<AssigneeChange>,
    ) -> Result<Json<QueueTicketThread>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let ticket = TicketId(id.0);
        let assignee = StaffId(body.0.staff_id);
        change_ticket(&state, &staff, ticket, "ticket.assign", async |tx| {
            let changed = assign(tx, staff.id, ticket, Some(assignee)).await?;
            Ok(json!({ "staff_id": assignee, "changed": changed }))
        })
        .await
    }

    /// Unassigns the ticket.
    #[oai(
        path = "/tickets/:id/assignee",
        method = "delete",
        operation_id = "unassignTicket"
    )]
    async fn unassign(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<QueueTicketThread>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let ticket = TicketId(id.0);
        change_ticket(&state, &staff, ticket, "ticket.unassign", async |tx| {
            let changed = assign(tx, staff.id, ticket, None).await?;
            Ok(json!({ "changed": changed }))
        })
        .await
    }

    /// Replaces the ticket's tags; each addition and removal is recorded as an event.
    #[oai(
        path = "/tickets/:id/tags",
        method = "put",
        operation_id = "setTicketTags"
    )]
    async fn set_tags(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<TagsChange>,
    ) -> Result<Json<QueueTicketThread>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsManage).await?;
        let ticket = TicketId(id.0);
        let raw: Vec<String> = body.0.tags.into_iter().map(|t| t.0).collect();
        change_ticket(&state, &staff, ticket, "ticket.tags", async |tx| {
            let tags = set_tags(tx, staff.id, ticket, &raw).await?;
            Ok(json!({ "tags": tags }))
        })
        .await
    }

    /// The ISP's active staff, by name: whom a ticket can be assigned to.
    #[oai(
        path = "/ticket-agents",
        method = "get",
        operation_id = "listTicketAgents"
    )]
    async fn agents(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<AgentList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let list = agents(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(AgentList {
            items: list
                .into_iter()
                .map(|a| Agent {
                    me: a.id == staff.id,
                    id: a.id.as_uuid(),
                    display_name: a.display_name,
                })
                .collect(),
        }))
    }

    /// The ISP's tags in use, most used first (at most 200): suggestions for the tag editor.
    #[oai(path = "/ticket-tags", method = "get", operation_id = "listTicketTags")]
    async fn tags(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<TagList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let tags = tags_in_use(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(TagList {
            items: tags
                .into_iter()
                .map(|(tag, tickets)| TagUse { tag, tickets })
                .collect(),
        }))
    }

    /// The desk settings: reopen window, auto-close delay, business hours, holidays and SLA
    /// policies (built-in defaults filled in).
    #[oai(
        path = "/ticket-settings",
        method = "get",
        operation_id = "getTicketSettings"
    )]
    async fn settings(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<TicketSettingsView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let settings = get_settings(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(settings_view(&staff.tenant.time_zone, settings)))
    }

    /// Replaces the desk settings. Existing tickets keep their due times until they are next
    /// recomputed (priority change, reopen, the customer's answer).
    #[oai(
        path = "/ticket-settings",
        method = "put",
        operation_id = "putTicketSettings"
    )]
    async fn put_settings(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<TicketSettings>,
    ) -> Result<Json<TicketSettingsView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let body = body.0;
        let opening_hours = body
            .opening_hours
            .iter()
            .map(|h| {
                Ok(OpeningHours {
                    weekday: h.weekday,
                    opens: minute_of_day(&h.opens)?,
                    closes: minute_of_day(&h.closes)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let settings = DeskSettings {
            reopen_days: body.reopen_days,
            auto_close_days: body.auto_close_days,
            opening_hours,
            holidays: body.holidays,
            policies: body
                .policies
                .iter()
                .map(|p| SlaPolicy {
                    priority: p.priority.into(),
                    category: p.category.clone().map(Into::into),
                    targets: SlaTargets {
                        first_response_minutes: p.first_response_minutes,
                        resolution_minutes: p.resolution_minutes,
                        raise_priority_on_breach: p.raise_priority_on_breach,
                    },
                })
                .collect(),
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let saved = put_settings(&mut tx, &staff.tenant.time_zone, &settings).await?;
        record(
            &mut tx,
            AuditEntry {
                staff: Some(staff.id),
                action: "ticket_settings.update",
                target: "ticket_settings".into(),
                details: json!({
                    "reopen_days": saved.reopen_days,
                    "auto_close_days": saved.auto_close_days,
                    "opening_intervals": saved.opening_hours.len(),
                    "holidays": saved.holidays.len(),
                    "policies": settings.policies.len(),
                }),
            },
            &staff.client,
        )
        .await?;
        tx.commit().await?;
        Ok(Json(settings_view(&staff.tenant.time_zone, saved)))
    }
}
