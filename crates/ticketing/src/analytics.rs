//! Desk analytics computed in SQL: volume, response and resolution times, SLA, backlog, CSAT.
//!
//! A period is `[first_day, end_day)` of the ISP's calendar days in its time zone. What counts:
//!
//! - Volume, first-response and resolution times and SLA compliance: the tickets *opened* in the
//!   period (a cohort), by their current assignee. Times are wall-clock minutes from opening to
//!   the first public staff reply, and to the (latest) resolution; median and p90 by
//!   `percentile_cont` (to 0.01 minute). SLA: a ticket met its first-response (resolution) due
//!   time if it was answered (resolved) by then, and missed it if it was answered late or is
//!   still with the ISP past it; tickets without a due time, or whose due time is still ahead,
//!   are not counted.
//! - Backlog: tickets open *now* (new, open, waiting on the customer) by age.
//! - CSAT: ratings given in the period, by the agent who had the ticket when it was resolved.
//! - Deflection ([`crate::deflection::deflection_stats`]): the whole team only.
//!
//! Each figure is one set-based statement; the team row comes from the same `GROUPING SETS`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use kabinet_core::StaffId;
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::deflection::{DeflectionStats, deflection_stats};
use crate::{Category, StaffRef, TicketingError};

/// The longest period, in days.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// `[first_day, end_day)` in the ISP's time zone.
#[derive(Clone, Debug)]
pub struct Period {
    pub first_day: NaiveDate,
    /// Exclusive.
    pub end_day: NaiveDate,
    pub zone: Tz,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("`from` must be before `to`")]
    Empty,
    #[error("a period covers at most {MAX_PERIOD_DAYS} days")]
    TooLong,
}

impl Period {
    pub fn new(first_day: NaiveDate, end_day: NaiveDate, zone: Tz) -> Result<Self, PeriodError> {
        if first_day >= end_day {
            return Err(PeriodError::Empty);
        }
        if (end_day - first_day).num_days() > MAX_PERIOD_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Self {
            first_day,
            end_day,
            zone,
        })
    }

    /// Midnight of `day` in the zone (the first instant there is, should DST skip midnight).
    fn midnight(&self, day: NaiveDate) -> DateTime<Utc> {
        let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.zone
                    .from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }

    pub fn since(&self) -> DateTime<Utc> {
        self.midnight(self.first_day)
    }

    pub fn until(&self) -> DateTime<Utc> {
        self.midnight(self.end_day)
    }
}

/// Median and 90th percentile of a duration, in minutes; `None` without data.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub count: i64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// Tickets that met or missed a due time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Compliance {
    pub met: i64,
    pub missed: i64,
}

impl Compliance {
    /// met / (met + missed); `None` when nothing was due.
    pub fn rate(&self) -> Option<f64> {
        let total = self.met + self.missed;
        (total > 0).then(|| self.met as f64 / total as f64)
    }
}

/// Open tickets by age.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    pub under_1d: i64,
    pub from_1d_to_3d: i64,
    pub from_3d_to_7d: i64,
    pub over_7d: i64,
}

impl Backlog {
    pub fn total(&self) -> i64 {
        self.under_1d + self.from_1d_to_3d + self.from_3d_to_7d + self.over_7d
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Csat {
    pub count: i64,
    pub average: Option<f64>,
    /// Ratings with score 1..=5 (index 0 is score 1).
    pub distribution: [i64; 5],
}

/// The figures for the team or one agent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Tickets opened in the period.
    pub tickets: i64,
    pub first_response: Percentiles,
    pub resolution: Percentiles,
    pub first_response_sla: Compliance,
    pub resolution_sla: Compliance,
    pub backlog: Backlog,
    pub csat: Csat,
}

/// One agent's row; `agent` `None` is the unassigned tickets.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentMetrics {
    pub agent: Option<StaffRef>,
    pub metrics: Metrics,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayVolume {
    pub day: NaiveDate,
    pub tickets: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryVolume {
    pub category: Category,
    pub tickets: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeskAnalytics {
    /// The whole team (or the one agent asked for).
    pub team: Metrics,
    /// Agents by name, the unassigned tickets last.
    pub agents: Vec<AgentMetrics>,
    /// Every day of the period, days without tickets included.
    pub by_day: Vec<DayVolume>,
    /// Busiest category first; categories without tickets left out.
    pub by_category: Vec<CategoryVolume>,
    pub deflection: DeflectionStats,
}

/// A grouping-sets row key: the team total, or an agent (`None`: unassigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Team,
    Agent(Option<Uuid>),
}

fn key(row: &PgRow) -> Result<Key, sqlx::Error> {
    Ok(if row.try_get::<bool, _>("team")? {
        Key::Team
    } else {
        Key::Agent(row.try_get("agent")?)
    })
}

/// The desk's figures for `period` (only `agent`'s tickets when given), as of `now`.
pub async fn desk_analytics(
    tx: &mut TenantTx,
    period: &Period,
    agent: Option<StaffId>,
    now: DateTime<Utc>,
) -> Result<DeskAnalytics, TicketingError> {
    let tenant = tx.tenant().as_uuid();
    let (since, until) = (period.since(), period.until());
    let agent = agent.map(|a| a.as_uuid());
    let mut by_key: BTreeMap<Key, Metrics> = BTreeMap::new();

    let cohort = sqlx::query(
        "WITH c AS ( \
           SELECT assignee_staff_id AS agent, \
             extract(epoch FROM first_responded_at - created_at)::float8 / 60 AS frt, \
             extract(epoch FROM resolved_at - created_at)::float8 / 60 AS rt, \
             CASE WHEN first_response_due_at IS NULL THEN NULL \
                  WHEN first_responded_at IS NOT NULL THEN first_responded_at <= first_response_due_at \
                  WHEN status IN ('new', 'open') AND first_response_due_at <= $5 THEN false END AS fr_met, \
             CASE WHEN resolution_due_at IS NULL THEN NULL \
                  WHEN resolved_at IS NOT NULL THEN resolved_at <= resolution_due_at \
                  WHEN status IN ('new', 'open') AND resolution_due_at <= $5 THEN false END AS res_met \
           FROM tickets WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
             AND ($4::uuid IS NULL OR assignee_staff_id = $4)) \
         SELECT GROUPING(agent) = 1 AS team, agent, count(*) AS tickets, \
           count(frt) AS frt_n, \
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY frt)::numeric, 2)::float8 AS frt_median, \
           round(percentile_cont(0.9) WITHIN GROUP (ORDER BY frt)::numeric, 2)::float8 AS frt_p90, \
           count(rt) AS rt_n, \
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY rt)::numeric, 2)::float8 AS rt_median, \
           round(percentile_cont(0.9) WITHIN GROUP (ORDER BY rt)::numeric, 2)::float8 AS rt_p90, \
           count(*) FILTER (WHERE fr_met) AS fr_met, count(*) FILTER (WHERE NOT fr_met) AS fr_missed, \
           count(*) FILTER (WHERE res_met) AS res_met, count(*) FILTER (WHERE NOT res_met) AS res_missed \
         FROM c GROUP BY GROUPING SETS ((agent), ())",
    )
    .bind(tenant)
    .bind(since)
    .bind(until)
    .bind(agent)
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    for row in &cohort {
        let m = by_key.entry(key(row)?).or_default();
        m.tickets = row.try_get("tickets")?;
        m.first_response = Percentiles {
            count: row.try_get("frt_n")?,
            median: row.try_get("frt_median")?,
            p90: row.try_get("frt_p90")?,
        };
        m.resolution = Percentiles {
            count: row.try_get("rt_n")?,
            median: row.try_get("rt_median")?,
            p90: row.try_get("rt_p90")?,
        };
        m.first_response_sla = Compliance {
            met: row.try_get("fr_met")?,
            missed: row.try_get("fr_missed")?,
        };
        m.resolution_sla = Compliance {
            met: row.try_get("res_met")?,
            missed: row.try_get("res_missed")?,
        };
    }

    let backlog = sqlx::query(
        "SELECT GROUPING(assignee_staff_id) = 1 AS team, assignee_staff_id AS agent, \
           count(*) FILTER (WHERE created_at > $3 - interval '1 day') AS d1, \
           count(*) FILTER (WHERE created_at <= $3 - interval '1 day' AND created_at > $3 - interval '3 days') AS d3, \
           count(*) FILTER (WHERE created_at <= $3 - interval '3 days' AND created_at > $3 - interval '7 days') AS d7, \
           count(*) FILTER (WHERE created_at <= $3 - interval '7 days') AS older \
         FROM tickets WHERE tenant_id = $1 AND status IN ('new', 'open', 'waiting_on_customer') \
           AND ($2::uuid IS NULL OR assignee_staff_id = $2) \
         GROUP BY GROUPING SETS ((assignee_staff_id), ())",
    )
    .bind(tenant)
    .bind(agent)
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    for row in &backlog {
        by_key.entry(key(row)?).or_default().backlog = Backlog {
            under_1d: row.try_get("d1")?,
            from_1d_to_3d: row.try_get("d3")?,
            from_3d_to_7d: row.try_get("d7")?,
            over_7d: row.try_get("older")?,
        };
    }

    let csat = sqlx::query(
        "SELECT GROUPING(assignee_staff_id) = 1 AS team, assignee_staff_id AS agent, \
           count(*) AS n, avg(score)::float8 AS average, \
           count(*) FILTER (WHERE score = 1) AS s1, count(*) FILTER (WHERE score = 2) AS s2, \
           count(*) FILTER (WHERE score = 3) AS s3, count(*) FILTER (WHERE score = 4) AS s4, \
           count(*) FILTER (WHERE score = 5) AS s5 \
         FROM ticket_ratings WHERE tenant_id = $1 AND rated_at >= $2 AND rated_at < $3 \
           AND ($4::uuid IS NULL OR assignee_staff_id = $4) \
         GROUP BY GROUPING SETS ((assignee_staff_id), ())",
    )
    .bind(tenant)
    .bind(since)
    .bind(until)
    .bind(agent)
    .fetch_all(tx.conn())
    .await?;
    for row in &csat {
        by_key.entry(key(row)?).or_default().csat = Csat {
            count: row.try_get("n")?,
            average: row.try_get("average")?,
            distribution: [
                row.try_get("s1")?,
                row.try_get("s2")?,
                row.try_get("s3")?,
                row.try_get("s4")?,
                row.try_get("s5")?,
            ],
        };
    }

    let team = by_key.remove(&Key::Team).unwrap_or_default();
    let ids: Vec<Uuid> = by_key
        .keys()
        .filter_map(|k| match k {
            Key::Agent(Some(id)) => Some(*id),
            _ => None,
        })
        .collect();
    let names: BTreeMap<Uuid, String> =
        sqlx::query("SELECT id, display_name FROM staff WHERE tenant_id = $1 AND id = ANY($2)")
            .bind(tenant)
            .bind(&ids)
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?)))
            .collect::<Result<_, sqlx::Error>>()?;
    let mut agents: Vec<AgentMetrics> = by_key
        .into_iter()
        .filter_map(|(k, metrics)| match k {
            Key::Team => None,
            Key::Agent(id) => Some(AgentMetrics {
                agent: id.map(|id| StaffRef {
                    id: StaffId(id),
                    display_name: names.get(&id).cloned().unwrap_or_default(),
                }),
                metrics,
            }),
        })
        .collect();
    agents.sort_by(|a, b| match (&a.agent, &b.agent) {
        (Some(x), Some(y)) => x
            .display_name
            .cmp(&y.display_name)
            .then(x.id.as_uuid().cmp(&y.id.as_uuid())),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });

    let by_day = sqlx::query(
        "SELECT d.day, count(t.id) AS tickets \
         FROM generate_series($2::date, $3::date - 1, interval '1 day') AS g(ts) \
         CROSS JOIN LATERAL (SELECT g.ts::date AS day) AS d \
         LEFT JOIN tickets t ON t.tenant_id = $1 AND t.created_at >= $5 AND t.created_at < $6 \
              AND (t.created_at AT TIME ZONE $4)::date = d.day \
              AND ($7::uuid IS NULL OR t.assignee_staff_id = $7) \
         GROUP BY d.day ORDER BY d.day",
    )
    .bind(tenant)
    .bind(period.first_day)
    .bind(period.end_day)
    .bind(period.zone.name())
    .bind(since)
    .bind(until)
    .bind(agent)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(DayVolume {
            day: r.try_get("day")?,
            tickets: r.try_get("tickets")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let by_category = sqlx::query(
        "SELECT category, count(*) AS tickets FROM tickets \
         WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
           AND ($4::uuid IS NULL OR assignee_staff_id = $4) \
         GROUP BY category ORDER BY count(*) DESC, category",
    )
    .bind(tenant)
    .bind(since)
    .bind(until)
    .bind(agent)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        let raw: String = r.try_get("category")?;
        Ok(CategoryVolume {
            category: Category::parse(&raw)
                .ok_or_else(|| TicketingError::Corrupt(format!("category {raw}")))?,
            tickets: r.try_get("tickets")?,
        })
    })
    .collect::<Result<Vec<_>, TicketingError>>()?;

    let deflection = deflection_stats(tx, since, until).await?;
    Ok(DeskAnalytics {
        team,
        agents,
        by_day,
        by_category,
        deflection,
    })
}

/// A CSV field: quoted when it needs to be, and a leading formula character defused.
fn csv_field(raw: &str) -> String {
    let text = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_default()
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}", x * 100.0)).unwrap_or_default()
}

/// The team row then one row per agent, as CSV (header first). `team_label` and
/// `unassigned_label` name the rows without an agent.
pub fn to_csv(a: &DeskAnalytics, team_label: &str, unassigned_label: &str) -> String {
    let mut out = String::from(
        "agent,tickets,first_response_median_min,first_response_p90_min,\
         resolution_median_min,resolution_p90_min,first_response_sla_met_pct,\
         resolution_sla_met_pct,backlog_under_1d,backlog_1d_3d,backlog_3d_7d,backlog_over_7d,\
         csat_count,csat_average,csat_1,csat_2,csat_3,csat_4,csat_5\r\n",
    );
    let rows = std::iter::once((team_label.to_owned(), &a.team)).chain(a.agents.iter().map(|r| {
        (
            r.agent
                .as_ref()
                .map_or_else(|| unassigned_label.to_owned(), |s| s.display_name.clone()),
            &r.metrics,
        )
    }));
    for (name, m) in rows {
        let fields = [
            csv_field(&name),
            m.tickets.to_string(),
            num(m.first_response.median),
            num(m.first_response.p90),
            num(m.resolution.median),
            num(m.resolution.p90),
            pct(m.first_response_sla.rate()),
            pct(m.resolution_sla.rate()),
            m.backlog.under_1d.to_string(),
            m.backlog.from_1d_to_3d.to_string(),
            m.backlog.from_3d_to_7d.to_string(),
            m.backlog.over_7d.to_string(),
            m.csat.count.to_string(),
            m.csat
                .average
                .map(|x| format!("{x:.2}"))
                .unwrap_or_default(),
            m.csat.distribution[0].to_string(),
            m.csat.distribution[1].to_string(),
            m.csat.distribution[2].to_string(),
            m.csat.distribution[3].to_string(),
            m.csat.distribution[4].to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn periods_are_local_days_and_bounded() {
        let moscow: Tz = "Europe/Moscow".parse().unwrap_or(Tz::UTC);
        let p = Period::new(day(2026, 11, 1), day(2026, 11, 2), moscow);
        let p = p.as_ref().ok();
        assert_eq!(
            p.map(|p| p.since().to_rfc3339()),
            Some("2026-10-31T21:00:00+00:00".to_owned())
        );
        assert_eq!(
            p.map(|p| p.until().to_rfc3339()),
            Some("2026-11-01T21:00:00+00:00".to_owned())
        );
        assert_eq!(
            Period::new(day(2026, 11, 2), day(2026, 11, 2), moscow).err(),
            Some(PeriodError::Empty)
        );
        assert_eq!(
            Period::new(day(2025, 1, 1), day(2026, 1, 3), moscow).err(),
            Some(PeriodError::TooLong)
        );
        assert!(Period::new(day(2025, 1, 1), day(2026, 1, 2), moscow).is_ok());
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Анна"), "Анна");
        assert_eq!(csv_field("Smith, J"), "\"Smith, J\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
