//! Agents' weekly shift schedules (`agent_shift_schedules`, `agent_shift_spans`): each agent's
//! week as spans of local time in the ISP's time zone (`tenants.time_zone`), optionally off on
//! the ISP's holidays (`ticket_settings.holidays`, the SLA calendar's).
//!
//! [`run`] is the worker's step: at each span's start it puts the agent on shift, at its end it
//! takes them off with the hand-over of a manual "off shift" (their new and open tickets of
//! auto-assigned categories go back to the pool; [`crate::assignment::run`] hands them out right
//! after). Boundaries are computed in PostgreSQL (`date + time AT TIME ZONE zone`), so a span
//! keeps its local hours across a DST change; a local time the clocks skip starts an hour
//! later. An overnight span (ending at or before its start) ends the next day and belongs to
//! the day it starts on, holidays included.
//!
//! A manual toggle (`assignment::set_shift`) is an override until the next boundary: the
//! worker acts only on boundaries after the schedule's `applied_boundary_at`, and a saved
//! schedule takes effect from its next boundary.
//!
//! INVARIANT: one statement for the whole ISP, safe on several nodes at once. It takes the
//! tenant's group rows `FOR UPDATE` first (like every assignment pass), then the due schedules
//! `FOR UPDATE SKIP LOCKED`; `applied_boundary_at` only moves forward and the open-shift unique
//! index holds, so a boundary is acted on (and its tickets handed over) once.

use chrono::{DateTime, NaiveTime, Timelike, Utc};
use kabinet_core::StaffId;
use kabinet_db::{DbError, TenantTx, sqlx};
use sqlx::Row;

use crate::assignment::{auto_pools, lock_groups};
use crate::model::StaffRef;

/// At most this many spans in one week.
pub const SPANS_MAX: usize = 42;
const WEEK_MINUTES: i32 = 7 * 1440;

#[derive(Debug, thiserror::Error)]
pub enum ShiftError {
    /// No active staff member with this id in the ISP (another ISP's id reads the same).
    #[error("staff member not found")]
    NotFound,
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("two spans of the week overlap")]
    Overlap,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ShiftError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

impl From<crate::assignment::AssignmentError> for ShiftError {
    fn from(e: crate::assignment::AssignmentError) -> Self {
        match e {
            crate::assignment::AssignmentError::Db(db) => Self::Db(db),
            other => Self::Invalid {
                field: "assignment",
                reason: other.to_string(),
            },
        }
    }
}

impl From<ShiftError> for crate::TicketingError {
    fn from(e: ShiftError) -> Self {
        match e {
            ShiftError::Db(db) => Self::Db(db),
            other => Self::Corrupt(other.to_string()),
        }
    }
}

/// One span of an agent's week, in the ISP's local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShiftSpan {
    /// ISO weekday the span starts on: Monday = 1 … Sunday = 7.
    pub weekday: u8,
    pub starts_at: NaiveTime,
    /// At or before `starts_at`: the next day.
    pub ends_at: NaiveTime,
}

impl ShiftSpan {
    fn minutes(t: NaiveTime) -> i32 {
        (t.hour() * 60 + t.minute()) as i32
    }

    /// Minutes from Monday 00:00 to the start, and the length in minutes.
    fn in_week(&self) -> (i32, i32) {
        let start = Self::minutes(self.starts_at);
        let mut len = Self::minutes(self.ends_at) - start;
        if len <= 0 {
            len += 1440;
        }
        ((i32::from(self.weekday) - 1) * 1440 + start, len)
    }

    pub fn overnight(&self) -> bool {
        self.ends_at <= self.starts_at
    }
}

/// An agent's week as the console writes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScheduleSpec {
    pub off_on_holidays: bool,
    pub spans: Vec<ShiftSpan>,
}

/// One agent's week and where they stand now.
#[derive(Clone, Debug)]
pub struct AgentWeek {
    pub staff: StaffRef,
    pub on_shift: bool,
    /// Whether the agent has a schedule at all (else only manual toggles move them).
    pub scheduled: bool,
    pub off_on_holidays: bool,
    /// By weekday, then start.
    pub spans: Vec<ShiftSpan>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// What one worker pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShiftReport {
    /// Agents the schedule put on shift.
    pub started: i64,
    /// Agents the schedule took off shift.
    pub ended: i64,
    /// Tickets those agents handed back to the pool.
    pub released: i64,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ShiftError {
    ShiftError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Checks a week: weekdays 1–7, whole minutes, no empty span, at most [`SPANS_MAX`], no two
/// spans overlapping (an overnight span runs into the next day, Sunday's into Monday).
/// Returns the spans sorted.
pub fn check(spec: &ScheduleSpec) -> Result<Vec<ShiftSpan>, ShiftError> {
    if spec.spans.len() > SPANS_MAX {
        return Err(invalid("spans", format!("at most {SPANS_MAX}")));
    }
    for s in &spec.spans {
        if !(1..=7).contains(&s.weekday) {
            return Err(invalid("weekday", "must be 1 (Monday) to 7 (Sunday)"));
        }
        if s.starts_at.second() != 0
            || s.ends_at.second() != 0
            || s.starts_at.nanosecond() != 0
            || s.ends_at.nanosecond() != 0
        {
            return Err(invalid("spans", "times are whole minutes (HH:MM)"));
        }
        if s.starts_at == s.ends_at {
            return Err(invalid("spans", "a span must not end when it starts"));
        }
    }
    let mut spans = spec.spans.clone();
    spans.sort();
    let mut week: Vec<(i32, i32)> = spans.iter().map(ShiftSpan::in_week).collect();
    week.sort();
    for pair in week.windows(2) {
        if pair[0].0 + pair[0].1 > pair[1].0 {
            return Err(ShiftError::Overlap);
        }
    }
    if let (Some(first), Some(last)) = (week.first(), week.last())
        && week.len() > 1
        && last.0 + last.1 > first.0 + WEEK_MINUTES
    {
        return Err(ShiftError::Overlap);
    }
    Ok(spans)
}

/// Active staff of the ISP with this id, by name.
async fn staff_ref(tx: &mut TenantTx, staff: StaffId) -> Result<StaffRef, ShiftError> {
    let tenant = tx.tenant();
    let name: Option<String> = sqlx::query_scalar(
        "SELECT display_name FROM staff WHERE tenant_id = $1 AND id = $2 AND active",
    )
    .bind(tenant.as_uuid())
    .bind(staff.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    name.map(|display_name| StaffRef {
        id: staff,
        display_name,
    })
    .ok_or(ShiftError::NotFound)
}

/// The weeks of the agents picked by `filter` (`$2`: one staff id, or NULL for every active
/// staff member who may reply to tickets or has a schedule), by name. Two queries.
async fn weeks(tx: &mut TenantTx, one: Option<StaffId>) -> Result<Vec<AgentWeek>, ShiftError> {
    let tenant = tx.tenant();
    let (roles, perm) = crate::assignment::reply_grants();
    let rows = sqlx::query(&format!(
        "SELECT s.id, s.display_name, \
           EXISTS (SELECT 1 FROM agent_shifts sh WHERE sh.tenant_id = s.tenant_id \
             AND sh.staff_id = s.id AND sh.ended_at IS NULL) AS on_shift, \
           sc.staff_id IS NOT NULL AS scheduled, coalesce(sc.off_on_holidays, true) AS off_on_holidays, \
           sc.updated_at \
         FROM staff s LEFT JOIN agent_shift_schedules sc ON sc.tenant_id = s.tenant_id AND sc.staff_id = s.id \
         WHERE s.tenant_id = $1 AND s.active \
           AND CASE WHEN $2::uuid IS NULL THEN (sc.staff_id IS NOT NULL OR {}) ELSE s.id = $2 END \
         ORDER BY s.display_name, s.id LIMIT 1000",
        crate::assignment::eligible("$3", "$4")
    ))
    .bind(tenant.as_uuid())
    .bind(one.map(|s| s.as_uuid()))
    .bind(&roles)
    .bind(&perm)
    .fetch_all(tx.conn())
    .await?;
    let spans = sqlx::query(
        "SELECT staff_id, weekday, starts_at, ends_at FROM agent_shift_spans \
         WHERE tenant_id = $1 AND ($2::uuid IS NULL OR staff_id = $2) \
         ORDER BY staff_id, weekday, starts_at",
    )
    .bind(tenant.as_uuid())
    .bind(one.map(|s| s.as_uuid()))
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: uuid::Uuid = r.try_get("id")?;
        let mut mine = Vec::new();
        for s in spans
            .iter()
            .filter(|s| s.try_get::<uuid::Uuid, _>("staff_id").ok() == Some(id))
        {
            let weekday: i16 = s.try_get("weekday")?;
            mine.push(ShiftSpan {
                weekday: u8::try_from(weekday).unwrap_or(0),
                starts_at: s.try_get("starts_at")?,
                ends_at: s.try_get("ends_at")?,
            });
        }
        out.push(AgentWeek {
            staff: StaffRef {
                id: StaffId(id),
                display_name: r.try_get("display_name")?,
            },
            on_shift: r.try_get("on_shift")?,
            scheduled: r.try_get("scheduled")?,
            off_on_holidays: r.try_get("off_on_holidays")?,
            spans: mine,
            updated_at: r.try_get("updated_at")?,
        });
    }
    Ok(out)
}

/// Every agent's week (active staff who may reply, and anyone with a schedule), by name, with
/// whether they are on shift now.
pub async fn list_weeks(tx: &mut TenantTx) -> Result<Vec<AgentWeek>, ShiftError> {
    weeks(tx, None).await
}

/// One agent's week. Another ISP's or an inactive staff member's id is `NotFound`.
pub async fn get_week(tx: &mut TenantTx, staff: StaffId) -> Result<AgentWeek, ShiftError> {
    staff_ref(tx, staff).await?;
    weeks(tx, Some(staff))
        .await?
        .into_iter()
        .next()
        .ok_or(ShiftError::NotFound)
}

/// Replaces an agent's week (checked first). It takes effect from its next start or end: the
/// agent's current state stands until then. Returns the week before and after (for the audit).
pub async fn put_week(
    tx: &mut TenantTx,
    staff: StaffId,
    by: StaffId,
    spec: &ScheduleSpec,
    now: DateTime<Utc>,
) -> Result<(AgentWeek, AgentWeek), ShiftError> {
    let spans = check(spec)?;
    let before = get_week(tx, staff).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO agent_shift_schedules (tenant_id, staff_id, off_on_holidays, \
           applied_boundary_at, updated_by_staff_id, updated_at) VALUES ($1, $2, $3, $4, $5, $4) \
         ON CONFLICT (tenant_id, staff_id) DO UPDATE SET off_on_holidays = EXCLUDED.off_on_holidays, \
           applied_boundary_at = greatest(agent_shift_schedules.applied_boundary_at, EXCLUDED.applied_boundary_at), \
           updated_by_staff_id = EXCLUDED.updated_by_staff_id, updated_at = EXCLUDED.updated_at",
    )
    .bind(tenant.as_uuid())
    .bind(staff.as_uuid())
    .bind(spec.off_on_holidays)
    .bind(now)
    .bind(by.as_uuid())
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM agent_shift_spans WHERE tenant_id = $1 AND staff_id = $2")
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .execute(tx.conn())
        .await?;
    let weekdays: Vec<i16> = spans.iter().map(|s| i16::from(s.weekday)).collect();
    let starts: Vec<NaiveTime> = spans.iter().map(|s| s.starts_at).collect();
    let ends: Vec<NaiveTime> = spans.iter().map(|s| s.ends_at).collect();
    sqlx::query(
        "INSERT INTO agent_shift_spans (tenant_id, staff_id, weekday, starts_at, ends_at) \
         SELECT $1, $2, * FROM unnest($3::smallint[], $4::time[], $5::time[])",
    )
    .bind(tenant.as_uuid())
    .bind(staff.as_uuid())
    .bind(&weekdays)
    .bind(&starts)
    .bind(&ends)
    .execute(tx.conn())
    .await?;
    let after = get_week(tx, staff).await?;
    Ok((before, after))
}

/// The worker's step for one tenant (see the module doc): acts on each agent's latest schedule
/// boundary not acted on yet, in one statement. Call [`crate::assignment::run`] after it to
/// hand out what it released.
pub async fn run(tx: &mut TenantTx, now: DateTime<Utc>) -> Result<ShiftReport, ShiftError> {
    // The group locks come first, as in every assignment pass.
    let groups = lock_groups(tx).await?;
    let categories: Vec<String> = auto_pools(&groups)
        .into_iter()
        .flat_map(|(_, c)| c)
        .collect();
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH zone AS (SELECT time_zone AS tz FROM tenants WHERE id = $1), \
         holidays AS (SELECT coalesce((SELECT holidays FROM ticket_settings WHERE tenant_id = $1), \
             '{}'::date[]) AS days), \
         days AS (SELECT ($2::timestamptz AT TIME ZONE z.tz)::date - k AS day \
             FROM zone z CROSS JOIN generate_series(0, 8) AS k), \
         boundaries AS ( \
           SELECT sp.staff_id, b.at, b.on_shift \
           FROM agent_shift_spans sp \
           JOIN agent_shift_schedules sc ON sc.tenant_id = sp.tenant_id AND sc.staff_id = sp.staff_id \
           JOIN days d ON extract(isodow FROM d.day) = sp.weekday \
           CROSS JOIN zone z CROSS JOIN holidays h \
           CROSS JOIN LATERAL (VALUES \
             ((d.day + sp.starts_at) AT TIME ZONE z.tz, true), \
             ((d.day + sp.ends_at + CASE WHEN sp.ends_at <= sp.starts_at THEN interval '1 day' \
                 ELSE interval '0 days' END) AT TIME ZONE z.tz, false)) AS b(at, on_shift) \
           WHERE sp.tenant_id = $1 AND b.at <= $2 \
             AND NOT (sc.off_on_holidays AND d.day = ANY(h.days))), \
         latest AS ( \
           SELECT DISTINCT ON (staff_id) staff_id, at, on_shift FROM boundaries \
           ORDER BY staff_id, at DESC, on_shift DESC), \
         due AS MATERIALIZED ( \
           SELECT sc.staff_id, l.at, l.on_shift FROM agent_shift_schedules sc \
           JOIN latest l ON l.staff_id = sc.staff_id \
           WHERE sc.tenant_id = $1 AND l.at > sc.applied_boundary_at \
           FOR UPDATE OF sc SKIP LOCKED), \
         marked AS ( \
           UPDATE agent_shift_schedules sc SET applied_boundary_at = d.at FROM due d \
           WHERE sc.tenant_id = $1 AND sc.staff_id = d.staff_id), \
         started AS ( \
           INSERT INTO agent_shifts (tenant_id, id, staff_id, started_at) \
           SELECT $1, gen_random_uuid(), d.staff_id, $2 FROM due d \
           JOIN staff s ON s.tenant_id = $1 AND s.id = d.staff_id \
           WHERE d.on_shift AND s.active \
           ON CONFLICT (tenant_id, staff_id) WHERE ended_at IS NULL DO NOTHING \
           RETURNING staff_id), \
         ended AS ( \
           UPDATE agent_shifts sh SET ended_at = greatest($2, sh.started_at) FROM due d \
           WHERE sh.tenant_id = $1 AND sh.staff_id = d.staff_id AND NOT d.on_shift \
             AND sh.ended_at IS NULL \
           RETURNING sh.staff_id), \
         released AS ( \
           UPDATE tickets t SET assignee_staff_id = NULL, updated_at = $2 \
           FROM tickets old, ended e \
           WHERE t.tenant_id = $1 AND old.tenant_id = $1 AND old.id = t.id \
             AND t.assignee_staff_id = e.staff_id AND t.status IN ('new', 'open') \
             AND t.category = ANY($3) \
           RETURNING t.id, old.assignee_staff_id AS previous), \
         ev AS ( \
           INSERT INTO ticket_events (tenant_id, id, ticket_id, kind, old_value, new_value, created_at) \
           SELECT $1, gen_random_uuid(), r.id, 'assignee', r.previous::text, NULL, $2 FROM released r \
           RETURNING 1) \
         SELECT (SELECT count(*) FROM started) AS started, (SELECT count(*) FROM ended) AS ended, \
           (SELECT count(*) FROM ev) AS released",
    )
    .bind(tenant.as_uuid())
    .bind(now)
    .bind(&categories)
    .fetch_one(tx.conn())
    .await?;
    Ok(ShiftReport {
        started: row.try_get("started")?,
        ended: row.try_get("ended")?,
        released: row.try_get("released")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(weekday: u8, from: (u32, u32), to: (u32, u32)) -> ShiftSpan {
        ShiftSpan {
            weekday,
            starts_at: NaiveTime::from_hms_opt(from.0, from.1, 0).expect("time"),
            ends_at: NaiveTime::from_hms_opt(to.0, to.1, 0).expect("time"),
        }
    }

    fn week(spans: Vec<ShiftSpan>) -> ScheduleSpec {
        ScheduleSpec {
            off_on_holidays: true,
            spans,
        }
    }

    #[test]
    fn a_plain_week_is_sorted() {
        let spans = check(&week(vec![
            span(3, (9, 0), (18, 0)),
            span(1, (9, 0), (18, 0)),
        ]))
        .expect("valid");
        assert_eq!(spans[0].weekday, 1);
        assert_eq!(spans[1].weekday, 3);
    }

    #[test]
    fn adjacent_and_overnight_spans_are_fine() {
        check(&week(vec![
            span(1, (9, 0), (18, 0)),
            span(1, (18, 0), (2, 0)),
            span(2, (2, 0), (6, 0)),
            // Sunday night into Monday morning, up to Monday's 09:00.
            span(7, (22, 0), (9, 0)),
        ]))
        .expect("valid");
        assert!(span(7, (22, 0), (9, 0)).overnight());
        assert!(!span(1, (9, 0), (18, 0)).overnight());
    }

    #[test]
    fn overlaps_are_refused_including_across_the_week_end() {
        assert!(matches!(
            check(&week(vec![
                span(1, (9, 0), (18, 0)),
                span(1, (17, 0), (20, 0))
            ])),
            Err(ShiftError::Overlap)
        ));
        assert!(
            check(&week(vec![
                span(1, (22, 0), (3, 0)),
                span(2, (2, 0), (5, 0))
            ]))
            .is_err()
        );
        assert!(
            check(&week(vec![
                span(7, (22, 0), (9, 30)),
                span(1, (9, 0), (18, 0))
            ]))
            .is_err()
        );
    }

    #[test]
    fn bad_weekdays_empty_spans_and_seconds_are_refused() {
        assert!(check(&week(vec![span(0, (9, 0), (18, 0))])).is_err());
        assert!(check(&week(vec![span(8, (9, 0), (18, 0))])).is_err());
        assert!(check(&week(vec![span(1, (9, 0), (9, 0))])).is_err());
        let mut s = span(1, (9, 0), (18, 0));
        s.starts_at = NaiveTime::from_hms_opt(9, 0, 30).expect("time");
        assert!(check(&week(vec![s])).is_err());
        let many: Vec<ShiftSpan> = (0..43)
            .map(|i| span(1 + (i % 7) as u8, (i / 7, 0), (i / 7, 30)))
            .collect();
        assert!(check(&week(many)).is_err());
    }
}
