//! The desk's time-driven work for one tenant: SLA warnings and breaches, and closing resolved
//! tickets nobody reopened. Each run is one statement per job, idempotent, and safe on several
//! nodes at once (a whole round runs on one node per tenant at a time): the escalation scan locks its rows `FOR UPDATE SKIP LOCKED` and only ever sets
//! a NULL `*_warned_at` / `*_breached_at` column, so each escalation is recorded once per ticket
//! and kind however many workers run.

use chrono::{DateTime, Utc};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;

use crate::TicketingError;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EscalationReport {
    pub warnings: i64,
    pub breaches: i64,
    /// Tickets whose priority a breach raised.
    pub raised: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeskReport {
    pub escalations: EscalationReport,
    pub auto_closed: i64,
    /// Subscribers told that their answer is overdue (once per ticket and breach).
    pub overdue_reminders: i64,
    /// Auto-assignment: tickets taken back from deactivated agents, tickets handed out.
    pub assignment: crate::assignment::AssignReport,
    /// Shift schedules: agents put on and taken off shift, tickets they handed back.
    pub shifts: crate::shifts::ShiftReport,
}

impl DeskReport {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Marks SLA warnings (80 % of a target used) and breaches on active tickets (new, open), as
/// events in the thread, and raises the priority one step on a breach when the ticket's policy
/// says so. The raised priority does not move the due times: the breach stays a breach.
pub async fn run_sla_escalations(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
) -> Result<EscalationReport, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH candidates AS ( \
           SELECT t.id, t.priority, t.sla_raise_on_breach, \
             (t.first_responded_at IS NULL AND t.first_response_warned_at IS NULL AND t.first_response_warn_at <= $2) AS frw, \
             (t.first_responded_at IS NULL AND t.first_response_breached_at IS NULL AND t.first_response_due_at <= $2) AS frb, \
             (t.resolution_warned_at IS NULL AND t.resolution_warn_at <= $2) AS rw, \
             (t.resolution_breached_at IS NULL AND t.resolution_due_at <= $2) AS rb \
           FROM tickets t \
           WHERE t.tenant_id = $1 AND t.status IN ('new', 'open') \
             AND ((t.first_responded_at IS NULL AND ( \
                    (t.first_response_warned_at IS NULL AND t.first_response_warn_at <= $2) \
                    OR (t.first_response_breached_at IS NULL AND t.first_response_due_at <= $2))) \
                  OR (t.resolution_warned_at IS NULL AND t.resolution_warn_at <= $2) \
                  OR (t.resolution_breached_at IS NULL AND t.resolution_due_at <= $2)) \
           FOR UPDATE SKIP LOCKED), \
         upd AS ( \
           UPDATE tickets t SET \
             first_response_warned_at = CASE WHEN c.frw THEN $2 ELSE t.first_response_warned_at END, \
             first_response_breached_at = CASE WHEN c.frb THEN $2 ELSE t.first_response_breached_at END, \
             resolution_warned_at = CASE WHEN c.rw THEN $2 ELSE t.resolution_warned_at END, \
             resolution_breached_at = CASE WHEN c.rb THEN $2 ELSE t.resolution_breached_at END, \
             priority = CASE WHEN (c.frb OR c.rb) AND c.sla_raise_on_breach THEN \
               CASE c.priority WHEN 'low' THEN 'normal' WHEN 'normal' THEN 'high' ELSE 'urgent' END \
               ELSE t.priority END \
           FROM candidates c WHERE t.tenant_id = $1 AND t.id = c.id \
           RETURNING t.id, c.frw, c.frb, c.rw, c.rb, c.priority AS old_priority, t.priority AS new_priority), \
         ev AS ( \
           INSERT INTO ticket_events (tenant_id, id, ticket_id, kind, old_value, new_value, created_at) \
           SELECT $1, gen_random_uuid(), u.id, k.kind, k.old, k.new, $2 \
           FROM upd u CROSS JOIN LATERAL (VALUES \
             ('first_response_warning', u.frw, NULL, NULL), \
             ('first_response_breach', u.frb, NULL, NULL), \
             ('resolution_warning', u.rw, NULL, NULL), \
             ('resolution_breach', u.rb, NULL, NULL), \
             ('priority', u.old_priority <> u.new_priority, u.old_priority, u.new_priority) \
           ) AS k(kind, hit, old, new) \
           WHERE k.hit \
           RETURNING kind) \
         SELECT count(*) FILTER (WHERE kind LIKE '%warning') AS warnings, \
                count(*) FILTER (WHERE kind LIKE '%breach') AS breaches, \
                count(*) FILTER (WHERE kind = 'priority') AS raised \
         FROM ev",
    )
    .bind(tenant.as_uuid())
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    Ok(EscalationReport {
        warnings: row.try_get("warnings")?,
        breaches: row.try_get("breaches")?,
        raised: row.try_get("raised")?,
    })
}

/// Closes tickets resolved longer ago than the ISP's auto-close delay.
pub async fn auto_close_resolved(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
) -> Result<i64, TicketingError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "WITH closed AS ( \
           UPDATE tickets t SET status = 'closed', closed_at = $2, updated_at = $2 \
           WHERE t.tenant_id = $1 AND t.status = 'resolved' \
             AND t.resolved_at <= $2 - make_interval(days => COALESCE( \
               (SELECT s.auto_close_days FROM ticket_settings s WHERE s.tenant_id = $1), 7)) \
           RETURNING t.id), \
         ev AS ( \
           INSERT INTO ticket_events (tenant_id, id, ticket_id, kind, old_value, new_value, created_at) \
           SELECT $1, gen_random_uuid(), id, 'status', 'resolved', 'closed', $2 FROM closed \
           RETURNING 1) \
         SELECT count(*) FROM ev",
    )
    .bind(tenant.as_uuid())
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// Everything time-driven on the desk for one tenant. One round per tenant at a time across
/// all nodes (a transaction-scoped advisory lock; a node that finds it taken skips, returning
/// an empty report): each step alone is safe to run concurrently, but two whole rounds lock the
/// same tickets in different orders (escalations, then assignment) and could deadlock.
pub async fn run_scheduled(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
) -> Result<DeskReport, TicketingError> {
    let mine: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('kabinet.desk.' || $1::text, 0))",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_one(tx.conn())
    .await?;
    if !mine {
        return Ok(DeskReport::default());
    }
    let escalations = run_sla_escalations(tx, now).await?;
    let overdue_reminders = crate::notifications::overdue_reminders(tx, now).await?;
    let auto_closed = auto_close_resolved(tx, now).await?;
    // Scheduled shifts start and end first, so the pass below hands out what they released.
    let shifts = crate::shifts::run(tx, now).await?;
    // Tickets waiting for an agent get one as soon as someone is on shift.
    let assignment = crate::assignment::run(tx, now).await?;
    Ok(DeskReport {
        escalations,
        auto_closed,
        overdue_reminders,
        assignment,
        shifts,
    })
}
