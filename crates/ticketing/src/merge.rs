//! Merging a duplicate ticket into another, keeping its thread and attachments.
//!
//! [`merge_tickets`] moves the source ticket's messages, internal notes, attachments and tags to
//! the target (the thread stays ordered by time: rows keep their `created_at`), closes the
//! source and records the merge (`ticket_merges`, an event on both). Only tickets of the same
//! subscriber merge: anything else would show one subscriber's words to another. The subscriber
//! is told in the bell and by letter (`ticket_merged`) to follow the target from then on.

use chrono::{DateTime, Utc};
use kabinet_core::{StaffId, SubscriberId, TicketId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::model::{EventKind, Status};
use crate::repo::TicketingError;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("a ticket cannot be merged into itself")]
    SameTicket,
    #[error(
        "the tickets belong to different subscribers; merging would show one subscriber's thread to another"
    )]
    DifferentSubscribers,
    #[error("ticket #{0} was itself merged into another ticket; merge into that one")]
    TargetMerged(i64),
    #[error("ticket #{number} was already merged into #{into}")]
    AlreadyMerged { number: i64, into: i64 },
    #[error("ticket #{0} is closed; merge into an open ticket")]
    TargetClosed(i64),
    #[error(transparent)]
    Ticketing(#[from] TicketingError),
}

impl From<sqlx::Error> for MergeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Ticketing(e.into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TicketRef {
    pub id: TicketId,
    pub number: i64,
}

/// What a merge did. A retry of a merge that already happened moves nothing and says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeOutcome {
    pub source: TicketRef,
    pub target: TicketRef,
    pub moved_messages: i64,
    pub moved_notes: i64,
    pub moved_attachments: i64,
    pub already_merged: bool,
}

/// A ticket this one could be merged into: the same subscriber's, not closed, not merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeCandidate {
    pub id: TicketId,
    pub number: i64,
    pub subject: String,
    pub status: Status,
}

/// Where a ticket stands with merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeState {
    /// This ticket was merged into that one.
    pub merged_into: Option<TicketRef>,
    pub merged_at: Option<DateTime<Utc>>,
    /// Tickets merged into this one, by number.
    pub merged_from: Vec<TicketRef>,
    /// Staff only (empty for the subscriber, and once merged): where this one could go, most
    /// recently active first, at most 20.
    pub candidates: Vec<MergeCandidate>,
}

struct Locked {
    number: i64,
    subscriber: Uuid,
    status: Status,
}

/// Merges `source` into the ticket numbered `target` (agents name tickets by number). Both rows
/// are locked in id order, so two merges touching the same pair (A→B and B→A at once) queue up
/// instead of deadlocking, and the second sees the first's result: its target is merged, which
/// is refused.
pub async fn merge_tickets(
    tx: &mut TenantTx,
    staff: StaffId,
    source: TicketId,
    target: i64,
) -> Result<MergeOutcome, MergeError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT id, number, subscriber_id, status FROM tickets \
         WHERE tenant_id = $1 AND (id = $2 OR number = $3) ORDER BY id FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(source.as_uuid())
    .bind(target)
    .fetch_all(tx.conn())
    .await?;
    let mut src = None;
    let mut dst = None;
    for row in &rows {
        let id: Uuid = row.try_get("id")?;
        let number: i64 = row.try_get("number")?;
        let status: String = row.try_get("status")?;
        let locked = Locked {
            number: row.try_get("number")?,
            subscriber: row.try_get("subscriber_id")?,
            status: Status::parse(&status)
                .ok_or_else(|| TicketingError::Corrupt(format!("status {status:?}")))?,
        };
        if id == source.as_uuid() && number == target {
            return Err(MergeError::SameTicket);
        }
        if id == source.as_uuid() {
            src = Some(locked);
        } else {
            dst = Some((TicketId(id), locked));
        }
    }
    let (Some(src), Some((target, dst))) = (src, dst) else {
        return Err(TicketingError::NotFound.into());
    };
    let ids = [source.as_uuid(), target.as_uuid()];
    let source_ref = TicketRef {
        id: source,
        number: src.number,
    };
    let target_ref = TicketRef {
        id: target,
        number: dst.number,
    };
    // A statement of its own, after the locks: under READ COMMITTED it sees a merge that a
    // concurrent transaction committed while this one waited for the rows.
    let merged = sqlx::query(
        "SELECT m.ticket_id, m.into_ticket_id, t.number AS into_number FROM ticket_merges m \
         JOIN tickets t ON t.tenant_id = m.tenant_id AND t.id = m.into_ticket_id \
         WHERE m.tenant_id = $1 AND m.ticket_id = ANY($2)",
    )
    .bind(tenant.as_uuid())
    .bind(&ids[..])
    .fetch_all(tx.conn())
    .await?;
    let source_merge = merged
        .iter()
        .find(|r| r.try_get::<Uuid, _>("ticket_id").ok() == Some(source.as_uuid()));
    if let Some(row) = source_merge {
        let into: Uuid = row.try_get("into_ticket_id")?;
        if into == target.as_uuid() {
            return Ok(MergeOutcome {
                source: source_ref,
                target: target_ref,
                moved_messages: 0,
                moved_notes: 0,
                moved_attachments: 0,
                already_merged: true,
            });
        }
        return Err(MergeError::AlreadyMerged {
            number: src.number,
            into: row.try_get("into_number")?,
        });
    }
    if !merged.is_empty() {
        return Err(MergeError::TargetMerged(dst.number));
    }
    if src.subscriber != dst.subscriber {
        return Err(MergeError::DifferentSubscribers);
    }
    if dst.status == Status::Closed {
        return Err(MergeError::TargetClosed(dst.number));
    }
    let moved = sqlx::query(
        "WITH msgs AS (UPDATE ticket_messages SET ticket_id = $3 \
                       WHERE tenant_id = $1 AND ticket_id = $2 RETURNING 1), \
              notes AS (UPDATE ticket_notes SET ticket_id = $3 \
                        WHERE tenant_id = $1 AND ticket_id = $2 RETURNING 1), \
              files AS (UPDATE ticket_attachments SET ticket_id = $3 \
                        WHERE tenant_id = $1 AND ticket_id = $2 RETURNING 1), \
              tags AS (INSERT INTO ticket_tags (tenant_id, ticket_id, tag) \
                       SELECT tenant_id, $3, tag FROM ticket_tags WHERE tenant_id = $1 AND ticket_id = $2 \
                       ON CONFLICT DO NOTHING), \
              merge AS (INSERT INTO ticket_merges (tenant_id, ticket_id, into_ticket_id, merged_by_staff_id) \
                        VALUES ($1, $2, $3, $4)), \
              target AS (UPDATE tickets SET updated_at = now() WHERE tenant_id = $1 AND id = $3), \
              source AS (UPDATE tickets SET status = 'closed', closed_at = COALESCE(closed_at, now()), \
                           updated_at = now() WHERE tenant_id = $1 AND id = $2) \
         SELECT (SELECT count(*) FROM msgs) AS messages, (SELECT count(*) FROM notes) AS notes, \
                (SELECT count(*) FROM files) AS files",
    )
    .bind(tenant.as_uuid())
    .bind(source.as_uuid())
    .bind(target.as_uuid())
    .bind(staff.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    // The tags now live on the target (a separate statement: one statement sees one snapshot,
    // so the copy above and this delete both see the source's tags as they were).
    sqlx::query("DELETE FROM ticket_tags WHERE tenant_id = $1 AND ticket_id = $2")
        .bind(tenant.as_uuid())
        .bind(source.as_uuid())
        .execute(tx.conn())
        .await?;
    let mut events: Vec<(Uuid, &str, Option<String>, Option<String>)> = Vec::new();
    if src.status != Status::Closed {
        events.push((
            source.as_uuid(),
            EventKind::Status.as_str(),
            Some(src.status.as_str().to_owned()),
            Some(Status::Closed.as_str().to_owned()),
        ));
    }
    events.push((
        source.as_uuid(),
        EventKind::MergedInto.as_str(),
        None,
        Some(dst.number.to_string()),
    ));
    events.push((
        target.as_uuid(),
        EventKind::MergedFrom.as_str(),
        Some(src.number.to_string()),
        None,
    ));
    let event_ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
    let tickets: Vec<Uuid> = events.iter().map(|e| e.0).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.1).collect();
    let old: Vec<Option<String>> = events.iter().map(|e| e.2.clone()).collect();
    let new: Vec<Option<String>> = events.iter().map(|e| e.3.clone()).collect();
    sqlx::query(
        "INSERT INTO ticket_events (tenant_id, id, ticket_id, actor_staff_id, kind, old_value, new_value) \
         SELECT $1, e.id, e.ticket, $2, e.kind, e.old, e.new \
         FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[]) AS e(id, ticket, kind, old, new)",
    )
    .bind(tenant.as_uuid())
    .bind(staff.as_uuid())
    .bind(&event_ids)
    .bind(&tickets)
    .bind(&kinds)
    .bind(&old)
    .bind(&new)
    .execute(tx.conn())
    .await?;
    // The subscriber follows the conversation on the target from now on: tell them so, in this
    // transaction (keyed by the source, so once).
    crate::notifications::ticket_merged(tx, source, target, dst.number, Utc::now()).await?;
    Ok(MergeOutcome {
        source: source_ref,
        target: target_ref,
        moved_messages: moved.try_get("messages")?,
        moved_notes: moved.try_get("notes")?,
        moved_attachments: moved.try_get("files")?,
        already_merged: false,
    })
}

/// Whether `ticket` was merged into another and which were merged into it, in one query.
/// With `owner`, another subscriber's ticket is `NotFound`.
pub async fn merge_state(
    tx: &mut TenantTx,
    ticket: TicketId,
    owner: Option<SubscriberId>,
) -> Result<MergeState, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT m.into_ticket_id, it.number AS into_number, m.merged_at, \
                ARRAY(SELECT f.id FROM ticket_merges mf JOIN tickets f ON f.tenant_id = mf.tenant_id AND f.id = mf.ticket_id \
                      WHERE mf.tenant_id = t.tenant_id AND mf.into_ticket_id = t.id ORDER BY f.number) AS from_ids, \
                ARRAY(SELECT f.number FROM ticket_merges mf JOIN tickets f ON f.tenant_id = mf.tenant_id AND f.id = mf.ticket_id \
                      WHERE mf.tenant_id = t.tenant_id AND mf.into_ticket_id = t.id ORDER BY f.number) AS from_numbers \
         FROM tickets t \
         LEFT JOIN ticket_merges m ON m.tenant_id = t.tenant_id AND m.ticket_id = t.id \
         LEFT JOIN tickets it ON it.tenant_id = m.tenant_id AND it.id = m.into_ticket_id \
         WHERE t.tenant_id = $1 AND t.id = $2 AND ($3::uuid IS NULL OR t.subscriber_id = $3)",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .bind(owner.map(|s| s.as_uuid()))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)?;
    let into: Option<Uuid> = row.try_get("into_ticket_id")?;
    let into_number: Option<i64> = row.try_get("into_number")?;
    let from_ids: Vec<Uuid> = row.try_get("from_ids")?;
    let from_numbers: Vec<i64> = row.try_get("from_numbers")?;
    let candidates = if owner.is_none() && into.is_none() {
        merge_candidates(tx, ticket).await?
    } else {
        Vec::new()
    };
    Ok(MergeState {
        candidates,
        merged_into: into.zip(into_number).map(|(id, number)| TicketRef {
            id: TicketId(id),
            number,
        }),
        merged_at: row.try_get("merged_at")?,
        merged_from: from_ids
            .into_iter()
            .zip(from_numbers)
            .map(|(id, number)| TicketRef {
                id: TicketId(id),
                number,
            })
            .collect(),
    })
}

async fn merge_candidates(
    tx: &mut TenantTx,
    ticket: TicketId,
) -> Result<Vec<MergeCandidate>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT c.id, c.number, c.subject, c.status FROM tickets t \
         JOIN tickets c ON c.tenant_id = t.tenant_id AND c.subscriber_id = t.subscriber_id AND c.id <> t.id \
         WHERE t.tenant_id = $1 AND t.id = $2 AND c.status <> 'closed' \
           AND NOT EXISTS (SELECT 1 FROM ticket_merges m WHERE m.tenant_id = c.tenant_id AND m.ticket_id = c.id) \
         ORDER BY c.updated_at DESC, c.id DESC LIMIT 20",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            Ok(MergeCandidate {
                id: TicketId(r.try_get("id")?),
                number: r.try_get("number")?,
                subject: r.try_get("subject")?,
                status: Status::parse(&status)
                    .ok_or_else(|| TicketingError::Corrupt(format!("status {status:?}")))?,
            })
        })
        .collect()
}
