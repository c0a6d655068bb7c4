use chrono::{DateTime, Utc};
use kabinet_core::{StaffId, SubscriberId, TicketId};
use kabinet_db::{DbError, TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::model::{
    Author, Category, NewTicket, QueueCursor, QueueFilter, QueuePage, Status, TicketDetail,
    TicketMessage, TicketSummary,
};

#[derive(Debug, thiserror::Error)]
pub enum TicketingError {
    #[error("ticket not found")]
    NotFound,
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the ticket is closed; open a new one")]
    Closed,
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

fn clean_text(field: &'static str, raw: &str, max: usize) -> Result<String, TicketingError> {
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

const SUMMARY_SELECT: &str = "SELECT t.id, t.number, t.subject, t.category, t.status, t.created_at, t.updated_at, \
       s.full_name AS subscriber_name, s.account_number \
     FROM tickets t JOIN subscribers s ON s.tenant_id = t.tenant_id AND s.id = t.subscriber_id";

fn summary_from_row(row: &PgRow) -> Result<TicketSummary, TicketingError> {
    let category: String = row.try_get("category")?;
    let status: String = row.try_get("status")?;
    Ok(TicketSummary {
        id: TicketId(row.try_get("id")?),
        number: row.try_get("number")?,
        subject: row.try_get("subject")?,
        category: Category::parse(&category)
            .ok_or_else(|| TicketingError::Corrupt(format!("category {category:?}")))?,
        status: Status::parse(&status)
            .ok_or_else(|| TicketingError::Corrupt(format!("status {status:?}")))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        subscriber_name: row.try_get("subscriber_name")?,
        account_number: row.try_get("account_number")?,
    })
}

/// Opens a ticket with its first message. Numbers are per tenant and gap-free under
/// concurrency: the counter row is locked by the UPDATE until the transaction ends.
pub async fn create_ticket(
    tx: &mut TenantTx,
    new: &NewTicket,
) -> Result<TicketDetail, TicketingError> {
    let tenant = tx.tenant();
    let subject = clean_text("subject", &new.subject, SUBJECT_MAX)?;
    let description = clean_text("description", &new.description, BODY_MAX)?;
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
        "INSERT INTO tickets (tenant_id, id, number, subscriber_id, category, subject) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(number)
    .bind(new.subscriber.as_uuid())
    .bind(new.category.as_str())
    .bind(&subject)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO ticket_messages (tenant_id, id, ticket_id, author_subscriber_id, body) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(id.as_uuid())
    .bind(new.subscriber.as_uuid())
    .bind(&description)
    .execute(tx.conn())
    .await?;
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

/// One of the subscriber's tickets; another subscriber's ticket is "not found".
pub async fn get_for_subscriber(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    id: TicketId,
) -> Result<TicketDetail, TicketingError> {
    load_detail(tx, id, Some(subscriber)).await
}

pub async fn get_for_staff(
    tx: &mut TenantTx,
    id: TicketId,
) -> Result<TicketDetail, TicketingError> {
    load_detail(tx, id, None).await
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
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(TicketDetail { summary, messages })
}

/// The subscriber writes again: the ticket goes back to the agents (a resolved one reopens).
pub async fn add_subscriber_message(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    id: TicketId,
    body: &str,
) -> Result<TicketMessage, TicketingError> {
    let body = clean_text("body", body, BODY_MAX)?;
    let status = lock_ticket(tx, id, Some(subscriber)).await?;
    if status == Status::Closed {
        return Err(TicketingError::Closed);
    }
    let next = match status {
        Status::New => Status::New,
        _ => Status::Open,
    };
    insert_message(
        tx,
        id,
        Author::Subscriber,
        subscriber.as_uuid(),
        &body,
        next,
    )
    .await
}

/// A staff reply: the ticket now waits on the customer.
pub async fn add_staff_reply(
    tx: &mut TenantTx,
    staff: StaffId,
    id: TicketId,
    body: &str,
) -> Result<TicketMessage, TicketingError> {
    let body = clean_text("body", body, BODY_MAX)?;
    let status = lock_ticket(tx, id, None).await?;
    if status == Status::Closed {
        return Err(TicketingError::Closed);
    }
    insert_message(
        tx,
        id,
        Author::Staff,
        staff.as_uuid(),
        &body,
        Status::WaitingOnCustomer,
    )
    .await
}

async fn lock_ticket(
    tx: &mut TenantTx,
    id: TicketId,
    owner: Option<SubscriberId>,
) -> Result<Status, TicketingError> {
    let tenant = tx.tenant();
    let status: String = sqlx::query_scalar(
        "SELECT status FROM tickets WHERE tenant_id = $1 AND id = $2 \
           AND ($3::uuid IS NULL OR subscriber_id = $3) FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(owner.map(|s| s.as_uuid()))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)?;
    Status::parse(&status).ok_or_else(|| TicketingError::Corrupt(format!("status {status:?}")))
}

async fn insert_message(
    tx: &mut TenantTx,
    id: TicketId,
    author: Author,
    author_id: Uuid,
    body: &str,
    next_status: Status,
) -> Result<TicketMessage, TicketingError> {
    let tenant = tx.tenant();
    let (subscriber, staff) = match author {
        Author::Subscriber => (Some(author_id), None),
        Author::Staff => (None, Some(author_id)),
    };
    let row = sqlx::query(
        "WITH msg AS ( \
           INSERT INTO ticket_messages (tenant_id, id, ticket_id, author_subscriber_id, author_staff_id, body) \
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, body, created_at, author_subscriber_id, author_staff_id), \
         bump AS (UPDATE tickets SET status = $7, updated_at = now() WHERE tenant_id = $1 AND id = $3) \
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
    .bind(next_status.as_str())
    .fetch_one(tx.conn())
    .await?;
    Ok(TicketMessage {
        id: row.try_get("id")?,
        author,
        author_name: row.try_get("author_name")?,
        body: row.try_get("body")?,
        created_at: row.try_get::<DateTime<Utc>, _>("created_at")?,
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
    let rows = sqlx::query(&format!(
        "{SUMMARY_SELECT} WHERE t.tenant_id = $1 AND ($2::text IS NULL OR t.status = $2) \
           AND ($3::timestamptz IS NULL OR (t.updated_at, t.id) < ($3, $4)) \
         ORDER BY t.updated_at DESC, t.id DESC LIMIT $5"
    ))
    .bind(tenant.as_uuid())
    .bind(filter.status.map(|s| s.as_str()))
    .bind(after.map(|c| c.updated_at))
    .bind(after.map(|c| c.id))
    .bind(limit + 1)
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
