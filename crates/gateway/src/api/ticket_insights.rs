//! Satisfaction ratings and desk analytics.
//!
//! Subscribers rate their resolved tickets (`/me/tickets/{id}/rating`); staff see a ticket's
//! ratings (`tickets.read`) and the desk's figures for a period of the ISP's calendar days, as
//! JSON or CSV (`analytics.read`).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use kabinet_access::Permission;
use kabinet_core::{StaffId, TicketId};
use kabinet_ticketing::analytics::{
    self, AgentMetrics, Compliance, DeskAnalytics, Metrics, Percentiles, Period, PeriodError,
    desk_analytics,
};
use kabinet_ticketing::csat::{
    Rating, Score, rate_ticket, rating_for_subscriber, ratings_for_staff,
};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::dto::{Locale, TicketCategory};
use super::text::Text;
use crate::AppState;
use crate::auth::{Staff, StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

/// A ticket's ratings in the staff console; the desk's analytics.
pub struct ConsoleInsightsApi;

/// The subscriber rates their resolved tickets.
pub struct PortalRatingApi;

/// A satisfaction rating of one resolution of a ticket.
#[derive(Debug, Object)]
pub struct TicketRating {
    /// 1 (very unhappy) to 5 (very happy).
    pub score: i16,
    #[oai(skip_serializing_if_is_none)]
    pub comment: Option<String>,
    /// When the rated resolution happened.
    pub resolution_at: DateTime<Utc>,
    pub rated_at: DateTime<Utc>,
}

impl From<Rating> for TicketRating {
    fn from(r: Rating) -> Self {
        Self {
            score: r.score,
            comment: r.comment,
            resolution_at: r.resolution_at,
            rated_at: r.rated_at,
        }
    }
}

/// The subscriber's ticket page: whether the current resolution may be rated, and its rating.
#[derive(Debug, Object)]
pub struct MyTicketRating {
    /// The ticket is resolved or closed and the rating window is open.
    pub can_rate: bool,
    /// This resolution's rating, if given.
    #[oai(skip_serializing_if_is_none)]
    pub rating: Option<TicketRating>,
}

#[derive(Debug, Object)]
pub struct RateTicketInput {
    /// 1 (very unhappy) to 5 (very happy).
    #[oai(validator(minimum(value = "1"), maximum(value = "5")))]
    pub score: i64,
    /// Up to 2000 characters; blank or absent: no comment.
    #[oai(default, nullable, validator(max_length = 2000))]
    pub comment: Option<Text>,
}

/// A rating as staff see it, with the agent who had the ticket when it was resolved.
#[derive(Debug, Object)]
pub struct StaffTicketRating {
    #[oai(flatten)]
    pub rating: TicketRating,
    #[oai(skip_serializing_if_is_none)]
    pub agent_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub agent_name: Option<String>,
}

/// Median and 90th percentile, in wall-clock minutes.
#[derive(Debug, Object)]
pub struct DurationStats {
    /// Tickets measured.
    pub count: i64,
    #[oai(skip_serializing_if_is_none)]
    pub median_minutes: Option<f64>,
    #[oai(skip_serializing_if_is_none)]
    pub p90_minutes: Option<f64>,
}

impl From<Percentiles> for DurationStats {
    fn from(p: Percentiles) -> Self {
        Self {
            count: p.count,
            median_minutes: p.median,
            p90_minutes: p.p90,
        }
    }
}

/// Tickets that met or missed a due time.
#[derive(Debug, Object)]
pub struct SlaCompliance {
    pub met: i64,
    pub missed: i64,
    /// met / (met + missed), 0–1; absent when nothing was due.
    #[oai(skip_serializing_if_is_none)]
    pub rate: Option<f64>,
}

impl From<Compliance> for SlaCompliance {
    fn from(c: Compliance) -> Self {
        Self {
            met: c.met,
            missed: c.missed,
            rate: c.rate(),
        }
    }
}

/// Tickets open now, by age.
#[derive(Debug, Object)]
pub struct BacklogAges {
    pub under_1d: i64,
    pub from_1d_to_3d: i64,
    pub from_3d_to_7d: i64,
    pub over_7d: i64,
    pub total: i64,
}

#[derive(Debug, Object)]
pub struct CsatStats {
    pub count: i64,
    #[oai(skip_serializing_if_is_none)]
    pub average: Option<f64>,
    /// How many ratings gave 1, 2, 3, 4 and 5 (five numbers).
    pub distribution: Vec<i64>,
}

/// The figures for the team or one agent.
#[derive(Debug, Object)]
pub struct DeskMetrics {
    /// Tickets opened in the period.
    pub tickets: i64,
    /// From opening to the first public staff reply (tickets opened in the period).
    pub first_response: DurationStats,
    /// From opening to the (latest) resolution (tickets opened in the period).
    pub resolution: DurationStats,
    pub first_response_sla: SlaCompliance,
    pub resolution_sla: SlaCompliance,
    /// Open tickets now (not limited to the period).
    pub backlog: BacklogAges,
    /// Ratings given in the period.
    pub csat: CsatStats,
}

impl From<Metrics> for DeskMetrics {
    fn from(m: Metrics) -> Self {
        Self {
            tickets: m.tickets,
            first_response: m.first_response.into(),
            resolution: m.resolution.into(),
            first_response_sla: m.first_response_sla.into(),
            resolution_sla: m.resolution_sla.into(),
            backlog: BacklogAges {
                under_1d: m.backlog.under_1d,
                from_1d_to_3d: m.backlog.from_1d_to_3d,
                from_3d_to_7d: m.backlog.from_3d_to_7d,
                over_7d: m.backlog.over_7d,
                total: m.backlog.total(),
            },
            csat: CsatStats {
                count: m.csat.count,
                average: m.csat.average,
                distribution: m.csat.distribution.to_vec(),
            },
        }
    }
}

/// One agent's figures; no agent: the unassigned tickets.
#[derive(Debug, Object)]
pub struct AgentDeskMetrics {
    #[oai(skip_serializing_if_is_none)]
    pub agent_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub agent_name: Option<String>,
    pub metrics: DeskMetrics,
}

impl From<AgentMetrics> for AgentDeskMetrics {
    fn from(a: AgentMetrics) -> Self {
        Self {
            agent_id: a.agent.as_ref().map(|s| s.id.as_uuid()),
            agent_name: a.agent.map(|s| s.display_name),
            metrics: a.metrics.into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct DayCount {
    pub day: NaiveDate,
    pub tickets: i64,
}

#[derive(Debug, Object)]
pub struct CategoryCount {
    pub category: TicketCategory,
    pub tickets: i64,
}

#[derive(Debug, Object)]
pub struct DeflectionFigures {
    /// Form visits that ended without a ticket after a suggestion or a self-fix.
    pub deflected: i64,
    /// Tickets opened.
    pub tickets: i64,
    /// deflected / (deflected + tickets); absent when both are zero.
    #[oai(skip_serializing_if_is_none)]
    pub rate: Option<f64>,
}

/// The desk's figures for `[from, to)`, days in the ISP's time zone.
#[derive(Debug, Object)]
pub struct DeskAnalyticsView {
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub time_zone: String,
    /// The whole team, or the agent asked for.
    pub team: DeskMetrics,
    /// Agents by name; the unassigned tickets last.
    pub agents: Vec<AgentDeskMetrics>,
    /// Tickets opened each day of the period.
    pub by_day: Vec<DayCount>,
    /// Busiest first.
    pub by_category: Vec<CategoryCount>,
    /// The whole team's, whatever the agent filter.
    pub deflection: DeflectionFigures,
}

#[derive(ApiResponse)]
enum AnalyticsCsv {
    /// The team and each agent, one row each, to download.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

fn period(staff: &Staff, from: NaiveDate, to: NaiveDate) -> Result<Period, ApiError> {
    // The zone was checked when the manifest was applied; an unknown one falls back to UTC.
    let zone: Tz = staff.tenant.time_zone.parse().unwrap_or(Tz::UTC);
    Period::new(from, to, zone).map_err(|e| {
        ApiError::bad_request(
            match e {
                PeriodError::Empty => "bad_period",
                PeriodError::TooLong => "period_too_long",
            },
            e.to_string(),
        )
    })
}

async fn load(
    state: &AppState,
    staff: &Staff,
    from: NaiveDate,
    to: NaiveDate,
    agent: Option<Uuid>,
) -> Result<(Period, DeskAnalytics), ApiError> {
    staff.require(Permission::AnalyticsRead).await?;
    let period = period(staff, from, to)?;
    let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
    let a = desk_analytics(&mut tx, &period, agent.map(StaffId), Utc::now()).await?;
    tx.commit().await?;
    Ok((period, a))
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl ConsoleInsightsApi {
    /// Every satisfaction rating the ticket has had, the latest resolution first.
    #[oai(
        path = "/tickets/:id/ratings",
        method = "get",
        operation_id = "listTicketRatings"
    )]
    async fn ratings(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<StaffTicketRating>>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let ratings = ratings_for_staff(&mut tx, TicketId(id.0)).await?;
        tx.commit().await?;
        Ok(Json(
            ratings
                .into_iter()
                .map(|r| StaffTicketRating {
                    rating: r.rating.into(),
                    agent_id: r.agent.as_ref().map(|s| s.id.as_uuid()),
                    agent_name: r.agent.map(|s| s.display_name),
                })
                .collect(),
        ))
    }

    /// The desk's figures for `[from, to)` (days in the ISP's time zone, at most 366):
    /// volume by day and category, first-response and resolution times (median, p90,
    /// wall-clock minutes), SLA compliance, backlog by age, CSAT and deflection, for the team
    /// and each agent. With `agent`, only that agent's tickets.
    #[oai(
        path = "/tickets/analytics",
        method = "get",
        operation_id = "getDeskAnalytics"
    )]
    async fn analytics(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// First day (inclusive), `YYYY-MM-DD`.
        from: Query<NaiveDate>,
        /// Last day (exclusive), `YYYY-MM-DD`.
        to: Query<NaiveDate>,
        /// Only this staff member's tickets.
        agent: Query<Option<Uuid>>,
    ) -> Result<Json<DeskAnalyticsView>, ApiError> {
        let (period, a) = load(&state, &auth.0, from.0, to.0, agent.0).await?;
        Ok(Json(DeskAnalyticsView {
            from: period.first_day,
            to: period.end_day,
            time_zone: period.zone.name().to_owned(),
            team: a.team.into(),
            agents: a.agents.into_iter().map(Into::into).collect(),
            by_day: a
                .by_day
                .into_iter()
                .map(|d| DayCount {
                    day: d.day,
                    tickets: d.tickets,
                })
                .collect(),
            by_category: a
                .by_category
                .into_iter()
                .map(|c| CategoryCount {
                    category: c.category.into(),
                    tickets: c.tickets,
                })
                .collect(),
            deflection: DeflectionFigures {
                deflected: a.deflection.deflected,
                tickets: a.deflection.tickets,
                rate: a.deflection.rate,
            },
        }))
    }

    /// The same figures as CSV: a header, the team row, then one row per agent. Times in
    /// minutes, SLA shares in percent.
    #[oai(
        path = "/tickets/analytics/csv",
        method = "get",
        operation_id = "exportDeskAnalytics"
    )]
    async fn export(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// First day (inclusive), `YYYY-MM-DD`.
        from: Query<NaiveDate>,
        /// Last day (exclusive), `YYYY-MM-DD`.
        to: Query<NaiveDate>,
        /// Only this staff member's tickets.
        agent: Query<Option<Uuid>>,
        /// The language of the row labels; the ISP's default language when absent.
        lang: Query<Option<Locale>>,
    ) -> Result<AnalyticsCsv, ApiError> {
        let staff = auth.0;
        let (period, a) = load(&state, &staff, from.0, to.0, agent.0).await?;
        let english = match lang.0 {
            Some(l) => matches!(l, Locale::En),
            None => matches!(staff.tenant.default_locale, kabinet_tenancy::Locale::En),
        };
        let (team, unassigned) = if english {
            ("Team", "Unassigned")
        } else {
            ("Команда", "Не назначены")
        };
        Ok(AnalyticsCsv::Ok(
            PlainText(analytics::to_csv(&a, team, unassigned)),
            format!(
                "attachment; filename=\"desk-analytics-{}-{}.csv\"",
                period.first_day, period.end_day
            ),
        ))
    }
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl PortalRatingApi {
    /// Whether the ticket's current resolution may be rated, and its rating if given.
    #[oai(
        path = "/tickets/:id/rating",
        method = "get",
        operation_id = "getMyTicketRating"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<MyTicketRating>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let s = rating_for_subscriber(&mut tx, me.id, TicketId(id.0), Utc::now()).await?;
        tx.commit().await?;
        Ok(Json(MyTicketRating {
            can_rate: s.can_rate,
            rating: s.rating.map(Into::into),
        }))
    }

    /// Rates the ticket's current resolution (resolved or closed, within 30 days). Rating it
    /// again replaces the score and comment; the same rating sent twice changes nothing. A
    /// reopened ticket, once resolved again, may be rated anew.
    #[oai(
        path = "/tickets/:id/rating",
        method = "put",
        operation_id = "rateMyTicket"
    )]
    async fn rate(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
        body: Json<RateTicketInput>,
    ) -> Result<Json<TicketRating>, ApiError> {
        let me = auth.0;
        let score = Score::new(body.score)?;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let r = rate_ticket(
            &mut tx,
            me.id,
            TicketId(id.0),
            score,
            body.comment.as_deref(),
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }
}

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (ConsoleInsightsApi, PortalRatingApi);

pub fn apis() -> Apis {
    (ConsoleInsightsApi, PortalRatingApi)
}
