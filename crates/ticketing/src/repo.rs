use chrono::{DateTime, Duration, Utc};
use kabinet_core::{StaffId, SubscriberId, TicketId};
use kabinet_db::{DbError, TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::attachments::{self, Attachment, Visible};
use crate::model::{
    Actor, AssigneeFilter, Author, Category, EventKind, NewTicket, Priority, QueueCursor,
    QueueFilter, QueuePage, SlaState, StaffRef, Status, TicketDetail, TicketEvent, TicketMessage,
    TicketNote, TicketSummary, normalize_tag,
};
use crate::settings::{load_calendar, reopen_days, targets_for};
use crate::sla::{BusinessCalendar, SlaTargets, due_times};

#[derive(Debug, thiserror::Error)]
pub enum TicketingError {
    #[error("ticket not found")]
    NotFound,
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the ticket is closed; open a new one")]
    Closed,
    #[error("a ticket cannot go from {} to {}", from.as_str(), to.as_str())]
    IllegalTransition { from: Status, to: Status },
    #[error("the ticket was resolved more than {days} days ago; open a new one")]
    ReopenWindowPassed { days: i32 },
    #[error("no active staff member with that id")]
    UnknownAssignee,
    /// Not one of the ISP's categories (or, for a new ticket, not an active one).
    #[error("unknown ticket category {0:?}")]
    UnknownCategory(String),
    #[error("corrupt ticket data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for TicketingError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

const SUBJECT_MAX: usize = 200;
const BODY_MAX: usize = 20_000;
const TAGS_MAX: usize = 20;

pub(crate) fn clean_text(
    field: &'static str,
    raw: &str,
    max: usize,
) -> Result<String, TicketingError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(TicketingError::Invalid {
            field,
            reason: "must not be empty".into(),
        });
    }
    if text.chars().count() > max {
        return Err(TicketingError::Invalid {
            field,
            reason: format!("must be at most {max} characters"),
        });
    }
    // Line breaks and tabs belong in a message; other control characters are noise (or an
    // attempt to mess with terminals and exports), and a subject is a single line.
    let allowed =
        |c: char| !c.is_control() || (max > SUBJECT_MAX && matches!(c, '\n' | '\r' | '\t'));
    if !text.chars().all(allowed) {
        return Err(TicketingError::Invalid {
            field,
            reason: "must not contain control characters".into(),
        });
    }
    Ok(text.to_owned())
}

/// One ticket row with what every view shows. `$1` is always the tenant. The tag list and the
/// SLA flags are computed per row in the same statement (no N+1).
pub(crate) const SUMMARY_SELECT: &str = "SELECT t.id, t.number, t.subject, t.category, t.status, t.priority, \
       t.created_at, t.updated_at, t.resolved_at, \
       s.full_name AS subscriber_name, s.account_number, \
       t.assignee_staff_id, a.display_name AS assignee_name, \
       ARRAY(SELECT g.tag FROM ticket_tags g WHERE g.tenant_id = t.tenant_id AND g.ticket_id = t.id ORDER BY g.tag) AS tags, \
       t.first_response_due_at, t.first_responded_at, t.resolution_due_at, \
       (t.sla_paused_at IS NOT NULL) AS sla_paused, \
       (t.first_response_breached_at IS NOT NULL OR t.first_responded_at > t.first_response_due_at \
         OR (t.first_responded_at IS NULL AND t.status IN ('new', 'open') AND t.first_response_due_at < now())) AS fr_breached, \
       (t.resolution_breached_at IS NOT NULL OR (t.status IN ('new', 'open') AND t.resolution_due_at < now()) \
         OR (t.status IN ('resolved', 'closed') AND t.resolved_at > t.resolution_due_at)) AS res_breached, \
       (t.status IN ('new', 'open') AND ((t.first_responded_at IS NULL AND t.first_response_due_at < now()) \
         OR t.resolution_due_at < now())) AS overdue, \
       CASE WHEN t.status = 'resolved' THEN t.resolved_at + make_interval(days => \
         COALESCE((SELECT ts.reopen_days FROM ticket_settings ts WHERE ts.tenant_id = t.tenant_id), 7)) END AS reopen_until \
     FROM tickets t JOIN subscribers s ON s.tenant_id = t.tenant_id AND s.id = t.subscriber_id \
     LEFT JOIN staff a ON a.tenant_id = t.tenant_id AND a.id = t.assignee_staff_id";

fn corrupt(what: &str, raw: &str) -> TicketingError {
    TicketingError::Corrupt(format!("{what} {raw:?}"))
}

pub(crate) fn summary_from_row(row: &PgRow) -> Result<TicketSummary, TicketingError> {
    let category: String = row.try_get("category")?;
    let status: String = row.try_get("status")?;
    let priority: String = row.try_get("priority")?;
    let assignee: Option<Uuid> = row.try_get("assignee_staff_id")?;
    Ok(TicketSummary {
        id: TicketId(row.try_get("id")?),
        number: row.try_get("number")?,
        subject: row.try_get("subject")?,
        category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
        status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        subscriber_name: row.try_get("subscriber_name")?,
        account_number: row.try_get("account_number")?,
        priority: Priority::parse(&priority).ok_or_else(|| corrupt("priority", &priority))?,
        assignee: match assignee {
            Some(id) => Some(StaffRef {
                id: StaffId(id),
                display_name: row.try_get("assignee_name")?,
            }),
            None => None,
        },
        tags: row.try_get("tags")?,
        sla: SlaState {
            first_response_due_at: row.try_get("first_response_due_at")?,
            first_responded_at: row.try_get("first_responded_at")?,
            resolution_due_at: row.try_get("resolution_due_at")?,
            first_response_breached: row
                .try_get::<Option<bool>, _>("fr_breached")?
                .unwrap_or(false),
            resolution_breached: row
                .try_get::<Option<bool>, _>("res_breached")?
                .unwrap_or(false),
            overdue: row.try_get::<Option<bool>, _>("overdue")?.unwrap_or(false),
            paused: row.try_get("sla_paused")?,
        },
        resolved_at: row.try_get("resolved_at")?,
        reopen_until: row.try_get("reopen_until")?,
    })
}

/// The SLA-relevant state of a locked ticket, changed in memory and written back at once.
#[derive(Clone, Debug)]
struct Lifecycle {
    status: Status,
    priority: Priority,
    category: Category,
    created_at: DateTime<Utc>,
    first_responded_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    paused_minutes: i32,
    paused_at: Option<DateTime<Utc>>,
    targets: Option<SlaTargets>,
    /// The due times need computing again (created, priority changed, clock restarted).
    recompute: bool,
}

fn paused_status(status: Status) -> bool {
    matches!(status, Status::WaitingOnCustomer | Status::Resolved)
}

impl Lifecycle {
    /// Moves to `next`, stopping or restarting the SLA clock and stamping resolved/closed.
    fn move_to(&mut self, next: Status, now: DateTime<Utc>, calendar: &BusinessCalendar) {
        let was_paused = self.paused_at.is_some();
        if paused_status(next) && !was_paused {
            self.paused_at = Some(now);
        } else if !paused_status(next)
            && next != Status::Closed
            && let Some(since) = self.paused_at.take()
        {
            let minutes = calendar.business_minutes_between(since, now);
            self.paused_minutes = self
                .paused_minutes
                .saturating_add(i32::try_from(minutes).unwrap_or(i32::MAX));
            self.recompute = true;
        }
        match next {
            Status::Resolved => self.resolved_at = Some(now),
            Status::Closed => self.closed_at = Some(now),
            Status::Open | Status::New => self.resolved_at = None,
            Status::WaitingOnCustomer => {}
        }
        self.status = next;
    }
}

async fn lock(
    tx: &mut TenantTx,
    id: TicketId,
    owner: Option<SubscriberId>,
) -> Result<Lifecycle, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT status, priority, category, created_at, first_responded_at, resolved_at, closed_at, \
                sla_paused_minutes, sla_paused_at, sla_first_response_minutes, sla_resolution_minutes, \
                sla_raise_on_breach \
         FROM tickets WHERE tenant_id = $1 AND id = $2 \
           AND ($3::uuid IS NULL OR subscriber_id = $3) FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(owner.map(|s| s.as_uuid()))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)?;
    let status: String = row.try_get("status")?;
    let priority: String = row.try_get("priority")?;
    let category: String = row.try_get("category")?;
    let fr: Option<i32> = row.try_get("sla_first_response_minutes")?;
    let res: Option<i32> = row.try_get("sla_resolution_minutes")?;
    Ok(Lifecycle {
        status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        priority: Priority::parse(&priority).ok_or_else(|| corrupt("priority", &priority))?,
        category: Category::parse(&category).ok_or_else(|| corrupt("category", &category))?,
        created_at: row.try_get("created_at")?,
        first_responded_at: row.try_get("first_responded_at")?,
        resolved_at: row.try_get("resolved_at")?,
        closed_at: row.try_get("closed_at")?,
        paused_minutes: row.try_get("sla_paused_minutes")?,
        paused_at: row.try_get("sla_paused_at")?,
        targets: match (fr, res) {
            (Some(first_response_minutes), Some(resolution_minutes)) => Some(SlaTargets {
                first_response_minutes,
                resolution_minutes,
                raise_priority_on_breach: row.try_get("sla_raise_on_breach")?,
            }),
            _ => None,
        },
        recompute: false,
    })
}

/// Writes the lifecycle back, with fresh due times when they moved.
async fn save(
    tx: &mut TenantTx,
    id: TicketId,
    state: &mut Lifecycle,
    time_zone: &str,
) -> Result<(), TicketingError> {
    let mut due = None;
    if state.recompute || state.targets.is_none() {
        let targets = match state.targets {
            Some(t) if !state.recompute => t,
            _ => targets_for(tx, state.priority, &state.category).await?,
        };
        let calendar = load_calendar(tx, time_zone).await?;
        state.targets = Some(targets);
        due = Some(due_times(
            &calendar,
            state.created_at,
            targets,
            i64::from(state.paused_minutes),
        ));
    }
    let tenant = tx.tenant();
    let targets = state.targets;
    sqlx::query(
        "UPDATE tickets SET status = $3, priority = $4, first_responded_at = $5, resolved_at = $6, \
           closed_at = $7, sla_paused_minutes = $8, sla_paused_at = $9, \
           sla_first_response_minutes = $10, sla_resolution_minutes = $11, sla_raise_on_breach = $12, \
           first_response_due_at = COALESCE($13, first_response_due_at), \
           first_response_warn_at = COALESCE($14, first_response_warn_at), \
           resolution_due_at = COALESCE($15, resolution_due_at), \
           resolution_warn_at = COALESCE($16, resolution_warn_at), updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(state.status.as_str())
    .bind(state.priority.as_str())
    .bind(state.first_responded_at)
    .bind(state.resolved_at)
    .bind(state.closed_at)
    .bind(state.paused_minutes)
    .bind(state.paused_at)
    .bind(targets.map(|t| t.first_response_minutes))
    .bind(targets.map(|t| t.resolution_minutes))
    .bind(targets.is_some_and(|t| t.raise_priority_on_breach))
    .bind(due.map(|d| d.first_response_due))
    .bind(due.map(|d| d.first_response_warn))
    .bind(due.map(|d| d.resolution_due))
    .bind(due.map(|d| d.resolution_warn))
    .execute(tx.conn())
    .await?;
    state.recompute = false;
    Ok(())
}

/// Records changes as events, in one statement.
async fn record_events(
    tx: &mut TenantTx,
    id: TicketId,
    actor: Actor,
    events: &[(EventKind, Option<String>, Option<String>)],
) -> Result<Vec<Uuid>, TicketingError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let tenant = tx.tenant();
    let (staff, subscriber) = match actor {
        Actor::Staff(s) => (Some(s.as_uuid()), None),
        Actor::Subscriber(s) => (None, Some(s.as_uuid())),
        Actor::System => (None, None),
    };
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    let old: Vec<Option<String>> = events.iter().map(|e| e.1.clone()).collect();
    let new: Vec<Option<String>> = events.iter().map(|e| e.2.clone()).collect();
    sqlx::query(
        "INSERT INTO ticket_events (tenant_id, id, ticket_id, actor_staff_id, actor_subscriber_id, kind, old_value, new_value) \
         SELECT $1, e.id, $2, $3, $4, e.kind, e.old, e.new \
         FROM unnest($5::uuid[], $6::text[], $7::text[], $8::text[]) AS e(id, kind, old, new)",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(staff)
    .bind(subscriber)
    .bind(&ids)
    .bind(&kinds)
    .bind(&old)
    .bind(&new)
    .execute(tx.conn())
    .await?;
    Ok(ids)
}

fn status_event(from: Status, to: Status) -> (EventKind, Option<String>, Option<String>) {
    (
        EventKind::Status,
        Some(from.as_str().to_owned()),
        Some(to.as_str().to_owned()),
    )
}

/// Opens a ticket with its first message and its SLA due times. Numbers are per tenant and
/// gap-free under concurrency: the counter row is locked by the UPDATE until the transaction
/// ends.
pub async fn create_ticket(
    tx: &mut TenantTx,
    time_zone: &str,
    new: &NewTicket,
    now: DateTime<Utc>,
) -> Result<TicketDetail, TicketingError> {
    let tenant = tx.tenant();
    // PostgreSQL keeps microseconds: due times are computed from the instant as stored.
    let now = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let subject = clean_text("subject", &new.subject, SUBJECT_MAX)?;
    let description = clean_text("description", &new.description, BODY_MAX)?;
    crate::categories::require_active(tx, &new.category).await?;
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO ticket_counters (tenant_id, last_number) VALUES ($1, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_number = ticket_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(tenant.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    let id = TicketId::new();
    sqlx::query(
        "INSERT INTO tickets (tenant_id, id, number, subscriber_id, category, subject, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(number)
    .bind(new.subscriber.as_uuid())
    .bind(new.category.as_str())
    .bind(&subject)
    .bind(now)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO ticket_messages (tenant_id, id, ticket_id, author_subscriber_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(id.as_uuid())
    .bind(new.subscriber.as_uuid())
    .bind(&description)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let mut state = lock(tx, id, None).await?;
    state.recompute = true;
    save(tx, id, &mut state, time_zone).await?;
    // Routed to a group with an agent on shift: assigned before the subscriber sees it.
    crate::assignment::assign_waiting(tx, now).await?;
    load_detail(tx, id, Some(new.subscriber)).await
}

/// The subscriber's own tickets, most recently active first.
pub async fn list_for_subscriber(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Vec<TicketSummary>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "{SUMMARY_SELECT} WHERE t.tenant_id = $1 AND t.subscriber_id = $2 ORDER BY t.updated_at DESC, t.id DESC LIMIT 500"
    ))
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(summary_from_row).collect()
}

pub async fn count_open_for_subscriber(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<i64, TicketingError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM tickets WHERE tenant_id = $1 AND subscriber_id = $2 AND status NOT IN ('resolved', 'closed')",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_one(tx.conn())
    .await?)
}

/// One of the subscriber's tickets; another subscriber's ticket is "not found". Internal notes
/// and events are never loaded here.
pub async fn get_for_subscriber(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    id: TicketId,
) -> Result<TicketDetail, TicketingError> {
    load_detail(tx, id, Some(subscriber)).await
}

/// The staff view: thread, internal notes and events.
pub async fn get_for_staff(
    tx: &mut TenantTx,
    id: TicketId,
) -> Result<TicketDetail, TicketingError> {
    let mut detail = load_detail(tx, id, None).await?;
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT n.id, n.body, n.created_at, st.display_name AS author_name \
         FROM ticket_notes n JOIN staff st ON st.tenant_id = n.tenant_id AND st.id = n.author_staff_id \
         WHERE n.tenant_id = $1 AND n.ticket_id = $2 ORDER BY n.created_at, n.id",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    detail.notes = rows
        .iter()
        .map(|r| {
            Ok(TicketNote {
                id: r.try_get("id")?,
                author_name: r.try_get("author_name")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
                attachments: Vec::new(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let files = attachments::for_ticket(tx, id, Visible::Notes).await?;
    distribute(
        &mut detail.notes,
        files,
        |n| n.id,
        |a| a.note_id,
        |n| &mut n.attachments,
    );
    let rows = sqlx::query(
        "SELECT e.id, e.kind, e.created_at, e.actor_staff_id IS NOT NULL AS by_staff, \
                COALESCE(st.display_name, s.full_name) AS actor_name, \
                CASE WHEN e.kind = 'assignee' THEN so.display_name ELSE e.old_value END AS old_value, \
                CASE WHEN e.kind = 'assignee' THEN sn.display_name ELSE e.new_value END AS new_value \
         FROM ticket_events e \
         LEFT JOIN staff st ON st.tenant_id = e.tenant_id AND st.id = e.actor_staff_id \
         LEFT JOIN subscribers s ON s.tenant_id = e.tenant_id AND s.id = e.actor_subscriber_id \
         LEFT JOIN staff so ON so.tenant_id = e.tenant_id \
           AND so.id = CASE WHEN e.kind = 'assignee' THEN e.old_value::uuid END \
         LEFT JOIN staff sn ON sn.tenant_id = e.tenant_id \
           AND sn.id = CASE WHEN e.kind = 'assignee' THEN e.new_value::uuid END \
         WHERE e.tenant_id = $1 AND e.ticket_id = $2 ORDER BY e.created_at, e.id",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    detail.events = rows
        .iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(TicketEvent {
                id: r.try_get("id")?,
                kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind", &kind))?,
                actor_name: r.try_get("actor_name")?,
                actor_is_staff: r.try_get("by_staff")?,
                old_value: r.try_get("old_value")?,
                new_value: r.try_get("new_value")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, TicketingError>>()?;
    Ok(detail)
}

async fn load_detail(
    tx: &mut TenantTx,
    id: TicketId,
    owner: Option<SubscriberId>,
) -> Result<TicketDetail, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "{SUMMARY_SELECT} WHERE t.tenant_id = $1 AND t.id = $2 AND ($3::uuid IS NULL OR t.subscriber_id = $3)"
    ))
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(owner.map(|s| s.as_uuid()))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)?;
    let summary = summary_from_row(&row)?;
    let rows = sqlx::query(
        "SELECT m.id, m.body, m.created_at, m.author_staff_id IS NOT NULL AS by_staff, \
                COALESCE(st.display_name, s.full_name) AS author_name \
         FROM ticket_messages m \
         LEFT JOIN staff st ON st.tenant_id = m.tenant_id AND st.id = m.author_staff_id \
         LEFT JOIN subscribers s ON s.tenant_id = m.tenant_id AND s.id = m.author_subscriber_id \
         WHERE m.tenant_id = $1 AND m.ticket_id = $2 ORDER BY m.created_at, m.id",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let messages = rows
        .iter()
        .map(|r| {
            Ok(TicketMessage {
                id: r.try_get("id")?,
                author: if r.try_get("by_staff")? {
                    Author::Staff
                } else {
                    Author::Subscriber
                },
                author_name: r.try_get("author_name")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
                attachments: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let mut messages = messages;
    let files = attachments::for_ticket(tx, id, Visible::Messages).await?;
    distribute(
        &mut messages,
        files,
        |m| m.id,
        |a| a.message_id,
        |m| &mut m.attachments,
    );
    Ok(TicketDetail {
        summary,
        messages,
        notes: Vec::new(),
        events: Vec::new(),
    })
}

/// A resolved ticket may be reopened by its subscriber within the ISP's window.
async fn check_reopen_window(
    tx: &mut TenantTx,
    state: &Lifecycle,
    now: DateTime<Utc>,
) -> Result<(), TicketingError> {
    let days = reopen_days(tx).await?;
    let resolved = state.resolved_at.unwrap_or(now);
    if now > resolved + Duration::days(i64::from(days)) {
        return Err(TicketingError::ReopenWindowPassed { days });
    }
    Ok(())
}

/// The subscriber writes again: the ticket goes back to the agents. Waiting on the customer
/// becomes open; resolved reopens within the ISP's reopen window (after it, the subscriber is
/// told to open a new ticket); closed is final.
pub async fn add_subscriber_message(
    tx: &mut TenantTx,
    time_zone: &str,
    subscriber: SubscriberId,
    id: TicketId,
    body: &str,
    now: DateTime<Utc>,
) -> Result<TicketMessage, TicketingError> {
    let body = clean_text("body", body, BODY_MAX)?;
    let mut state = lock(tx, id, Some(subscriber)).await?;
    let from = state.status;
    match from {
        Status::Closed => return Err(TicketingError::Closed),
        Status::Resolved => check_reopen_window(tx, &state, now).await?,
        _ => {}
    }
    let message = insert_message(tx, id, Author::Subscriber, subscriber.as_uuid(), &body).await?;
    crate::notifications::subscriber_replied(tx, id, message.id, &body).await?;
    if matches!(from, Status::WaitingOnCustomer | Status::Resolved) {
        let calendar = load_calendar(tx, time_zone).await?;
        state.move_to(Status::Open, now, &calendar);
        record_events(
            tx,
            id,
            Actor::Subscriber(subscriber),
            &[status_event(from, Status::Open)],
        )
        .await?;
    }
    save(tx, id, &mut state, time_zone).await?;
    Ok(message)
}

/// The subscriber reopens their resolved ticket (within the reopen window).
pub async fn reopen_for_subscriber(
    tx: &mut TenantTx,
    time_zone: &str,
    subscriber: SubscriberId,
    id: TicketId,
    now: DateTime<Utc>,
) -> Result<TicketDetail, TicketingError> {
    let mut state = lock(tx, id, Some(subscriber)).await?;
    match state.status {
        Status::Resolved => check_reopen_window(tx, &state, now).await?,
        Status::Closed => return Err(TicketingError::Closed),
        from => {
            return Err(TicketingError::IllegalTransition {
                from,
                to: Status::Open,
            });
        }
    }
    let calendar = load_calendar(tx, time_zone).await?;
    state.move_to(Status::Open, now, &calendar);
    save(tx, id, &mut state, time_zone).await?;
    record_events(
        tx,
        id,
        Actor::Subscriber(subscriber),
        &[status_event(Status::Resolved, Status::Open)],
    )
    .await?;
    load_detail(tx, id, Some(subscriber)).await
}

/// A public staff reply: the first one is the first response; the ticket then waits on the
/// customer (the SLA clock stops until they answer).
pub async fn add_staff_reply(
    tx: &mut TenantTx,
    time_zone: &str,
    staff: StaffId,
    id: TicketId,
    body: &str,
    now: DateTime<Utc>,
) -> Result<TicketMessage, TicketingError> {
    let body = clean_text("body", body, BODY_MAX)?;
    let mut state = lock(tx, id, None).await?;
    let from = state.status;
    if from == Status::Closed {
        return Err(TicketingError::Closed);
    }
    let message = insert_message(tx, id, Author::Staff, staff.as_uuid(), &body).await?;
    crate::notifications::staff_replied(tx, id, message.id, &body, now).await?;
    state.first_responded_at.get_or_insert(now);
    if from != Status::WaitingOnCustomer {
        let calendar = load_calendar(tx, time_zone).await?;
        state.move_to(Status::WaitingOnCustomer, now, &calendar);
        record_events(
            tx,
            id,
            Actor::Staff(staff),
            &[status_event(from, Status::WaitingOnCustomer)],
        )
        .await?;
    }
    save(tx, id, &mut state, time_zone).await?;
    Ok(message)
}

/// An internal note: staff only, changes nothing else about the ticket.
pub async fn add_note(
    tx: &mut TenantTx,
    staff: StaffId,
    id: TicketId,
    body: &str,
) -> Result<TicketNote, TicketingError> {
    let body = clean_text("body", body, BODY_MAX)?;
    lock(tx, id, None).await?;
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH note AS ( \
           INSERT INTO ticket_notes (tenant_id, id, ticket_id, author_staff_id, body) \
           VALUES ($1, $2, $3, $4, $5) RETURNING id, body, created_at, author_staff_id), \
         bump AS (UPDATE tickets SET updated_at = now() WHERE tenant_id = $1 AND id = $3) \
         SELECT note.id, note.body, note.created_at, st.display_name AS author_name \
         FROM note JOIN staff st ON st.tenant_id = $1 AND st.id = note.author_staff_id",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(id.as_uuid())
    .bind(staff.as_uuid())
    .bind(&body)
    .fetch_one(tx.conn())
    .await?;
    Ok(TicketNote {
        id: row.try_get("id")?,
        author_name: row.try_get("author_name")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        attachments: Vec::new(),
    })
}

/// Staff move a ticket along its lifecycle. Moving to the status it already has changes
/// nothing; an illegal move is refused.
pub async fn set_status(
    tx: &mut TenantTx,
    time_zone: &str,
    staff: StaffId,
    id: TicketId,
    next: Status,
    now: DateTime<Utc>,
) -> Result<bool, TicketingError> {
    let mut state = lock(tx, id, None).await?;
    let from = state.status;
    if from == next {
        return Ok(false);
    }
    if !from.can_move_to(next) {
        return Err(TicketingError::IllegalTransition { from, to: next });
    }
    let calendar = load_calendar(tx, time_zone).await?;
    state.move_to(next, now, &calendar);
    save(tx, id, &mut state, time_zone).await?;
    let events = record_events(tx, id, Actor::Staff(staff), &[status_event(from, next)]).await?;
    if let Some(event) = events.first() {
        crate::notifications::status_changed(tx, id, *event, next, now).await?;
    }
    Ok(true)
}

/// Staff change the priority: the SLA targets and due times follow.
pub async fn set_priority(
    tx: &mut TenantTx,
    time_zone: &str,
    staff: StaffId,
    id: TicketId,
    priority: Priority,
) -> Result<bool, TicketingError> {
    let mut state = lock(tx, id, None).await?;
    let from = state.priority;
    if from == priority {
        return Ok(false);
    }
    if state.status == Status::Closed {
        return Err(TicketingError::Closed);
    }
    state.priority = priority;
    state.recompute = true;
    save(tx, id, &mut state, time_zone).await?;
    record_events(
        tx,
        id,
        Actor::Staff(staff),
        &[(
            EventKind::Priority,
            Some(from.as_str().to_owned()),
            Some(priority.as_str().to_owned()),
        )],
    )
    .await?;
    Ok(true)
}

/// Assigns the ticket to an active staff member of the ISP, or unassigns it (`None`).
pub async fn assign(
    tx: &mut TenantTx,
    staff: StaffId,
    id: TicketId,
    assignee: Option<StaffId>,
) -> Result<bool, TicketingError> {
    lock(tx, id, None).await?;
    let tenant = tx.tenant();
    if let Some(a) = assignee {
        let active: Option<bool> =
            sqlx::query_scalar("SELECT active FROM staff WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_uuid())
                .bind(a.as_uuid())
                .fetch_optional(tx.conn())
                .await?;
        if active != Some(true) {
            return Err(TicketingError::UnknownAssignee);
        }
    }
    let previous: Option<Option<Uuid>> = sqlx::query_scalar(
        "WITH old AS (SELECT assignee_staff_id FROM tickets WHERE tenant_id = $1 AND id = $2) \
         UPDATE tickets t SET assignee_staff_id = $3, updated_at = now() FROM old \
         WHERE t.tenant_id = $1 AND t.id = $2 AND t.assignee_staff_id IS DISTINCT FROM $3 \
         RETURNING old.assignee_staff_id",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(assignee.map(|a| a.as_uuid()))
    .fetch_optional(tx.conn())
    .await?;
    let Some(previous) = previous else {
        return Ok(false);
    };
    record_events(
        tx,
        id,
        Actor::Staff(staff),
        &[(
            EventKind::Assignee,
            previous.map(|p| p.to_string()),
            assignee.map(|a| a.to_string()),
        )],
    )
    .await?;
    Ok(true)
}

/// Replaces the ticket's tags (normalised; duplicates merge). Returns the tags now on it.
pub async fn set_tags(
    tx: &mut TenantTx,
    staff: StaffId,
    id: TicketId,
    raw: &[String],
) -> Result<Vec<String>, TicketingError> {
    let mut tags = Vec::with_capacity(raw.len());
    for r in raw {
        let tag = normalize_tag(r).ok_or_else(|| TicketingError::Invalid {
            field: "tags",
            reason: format!("{r:?} is not a tag: 1–40 letters, digits, spaces, '-', '_' or '.'"),
        })?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(TicketingError::Invalid {
            field: "tags",
            reason: format!("at most {TAGS_MAX} tags"),
        });
    }
    lock(tx, id, None).await?;
    let tenant = tx.tenant();
    let removed: Vec<String> = sqlx::query_scalar(
        "DELETE FROM ticket_tags WHERE tenant_id = $1 AND ticket_id = $2 AND NOT (tag = ANY($3)) RETURNING tag",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(&tags)
    .fetch_all(tx.conn())
    .await?;
    let added: Vec<String> = sqlx::query_scalar(
        "INSERT INTO ticket_tags (tenant_id, ticket_id, tag) SELECT $1, $2, unnest($3::text[]) \
         ON CONFLICT DO NOTHING RETURNING tag",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(&tags)
    .fetch_all(tx.conn())
    .await?;
    let events: Vec<_> = removed
        .into_iter()
        .map(|t| (EventKind::TagRemoved, Some(t), None))
        .chain(
            added
                .into_iter()
                .map(|t| (EventKind::TagAdded, None, Some(t))),
        )
        .collect();
    if !events.is_empty() {
        sqlx::query("UPDATE tickets SET updated_at = now() WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(tx.conn())
            .await?;
    }
    record_events(tx, id, Actor::Staff(staff), &events).await?;
    tags.sort();
    Ok(tags)
}

/// The ISP's active staff a ticket can be assigned to, by name.
pub async fn agents(tx: &mut TenantTx) -> Result<Vec<StaffRef>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT id, display_name FROM staff WHERE tenant_id = $1 AND active          ORDER BY display_name, id LIMIT 1000",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StaffRef {
                id: StaffId(r.try_get("id")?),
                display_name: r.try_get("display_name")?,
            })
        })
        .collect()
}

/// The ISP's tags in use, most used first (for suggestions).
pub async fn tags_in_use(tx: &mut TenantTx) -> Result<Vec<(String, i64)>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT tag, count(*) AS uses FROM ticket_tags WHERE tenant_id = $1 \
         GROUP BY tag ORDER BY uses DESC, tag LIMIT 200",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("tag")?, r.try_get("uses")?)))
        .collect()
}

async fn insert_message(
    tx: &mut TenantTx,
    id: TicketId,
    author: Author,
    author_id: Uuid,
    body: &str,
) -> Result<TicketMessage, TicketingError> {
    let tenant = tx.tenant();
    let (subscriber, staff) = match author {
        Author::Subscriber => (Some(author_id), None),
        Author::Staff => (None, Some(author_id)),
    };
    let row = sqlx::query(
        "WITH msg AS ( \
           INSERT INTO ticket_messages (tenant_id, id, ticket_id, author_subscriber_id, author_staff_id, body) \
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, body, created_at, author_subscriber_id, author_staff_id) \
         SELECT msg.id, msg.body, msg.created_at, COALESCE(st.display_name, s.full_name) AS author_name \
         FROM msg \
         LEFT JOIN staff st ON st.tenant_id = $1 AND st.id = msg.author_staff_id \
         LEFT JOIN subscribers s ON s.tenant_id = $1 AND s.id = msg.author_subscriber_id",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(id.as_uuid())
    .bind(subscriber)
    .bind(staff)
    .bind(body)
    .fetch_one(tx.conn())
    .await?;
    Ok(TicketMessage {
        id: row.try_get("id")?,
        author,
        author_name: row.try_get("author_name")?,
        body: row.try_get("body")?,
        created_at: row.try_get::<DateTime<Utc>, _>("created_at")?,
        attachments: Vec::new(),
    })
}

/// One page of the agent queue, newest activity first, keyset-paginated.
pub async fn queue(
    tx: &mut TenantTx,
    filter: &QueueFilter,
    after: Option<QueueCursor>,
    limit: i64,
) -> Result<QueuePage, TicketingError> {
    let tenant = tx.tenant();
    let limit = limit.clamp(1, 200);
    let (assignee, unassigned) = match filter.assignee {
        Some(AssigneeFilter::Staff(s)) => (Some(s.as_uuid()), false),
        Some(AssigneeFilter::Unassigned) => (None, true),
        None => (None, false),
    };
    let rows = sqlx::query(&format!(
        "{SUMMARY_SELECT} WHERE t.tenant_id = $1 AND ($2::text IS NULL OR t.status = $2) \
           AND ($3::timestamptz IS NULL OR (t.updated_at, t.id) < ($3, $4)) \
           AND ($6::text IS NULL OR t.priority = $6) \
           AND ($7::text IS NULL OR t.category = $7) \
           AND ($8::uuid IS NULL OR t.assignee_staff_id = $8) \
           AND (NOT $9 OR t.assignee_staff_id IS NULL) \
           AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM ticket_tags g \
                WHERE g.tenant_id = t.tenant_id AND g.ticket_id = t.id AND g.tag = $10)) \
           AND (NOT $11 OR (t.status IN ('new', 'open') AND \
                ((t.first_responded_at IS NULL AND t.first_response_due_at < now()) OR t.resolution_due_at < now()))) \
         ORDER BY t.updated_at DESC, t.id DESC LIMIT $5"
    ))
    .bind(tenant.as_uuid())
    .bind(filter.status.map(|s| s.as_str()))
    .bind(after.map(|c| c.updated_at))
    .bind(after.map(|c| c.id))
    .bind(limit + 1)
    .bind(filter.priority.map(|p| p.as_str()))
    .bind(filter.category.as_ref().map(Category::as_str))
    .bind(assignee)
    .bind(unassigned)
    .bind(filter.tag.as_deref().and_then(normalize_tag))
    .bind(filter.overdue)
    .fetch_all(tx.conn())
    .await?;
    let mut items = rows
        .iter()
        .map(summary_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|t| QueueCursor {
            updated_at: t.updated_at,
            id: t.id.as_uuid(),
        })
    } else {
        None
    };
    Ok(QueuePage { items, next })
}

/// Hands a thread's attachments (loaded in one query) to the messages or notes they belong to.
fn distribute<T>(
    items: &mut [T],
    files: Vec<Attachment>,
    id: impl Fn(&T) -> Uuid,
    owner: impl Fn(&Attachment) -> Option<Uuid>,
    slot: impl Fn(&mut T) -> &mut Vec<Attachment>,
) {
    let index: std::collections::HashMap<Uuid, usize> =
        items.iter().enumerate().map(|(i, t)| (id(t), i)).collect();
    for file in files {
        if let Some(&i) = owner(&file).and_then(|o| index.get(&o)) {
            slot(&mut items[i]).push(file);
        }
    }
}
