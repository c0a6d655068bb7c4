//! Satisfaction (CSAT 1–5 plus a comment) a subscriber gives a resolved ticket.
//!
//! One rating per resolution (`ticket_ratings.resolution_at`: when the ticket was resolved, or
//! closed without a resolution). Rating the same resolution again replaces the score and
//! comment, and sending the same rating twice changes nothing (a retry is safe). A reopened and
//! re-resolved ticket is a new resolution and may be rated again; the earlier rating stays.
//! Ratings are accepted while the ticket is resolved or closed and for [`RATING_WINDOW_DAYS`]
//! after the resolution; only the ticket's own subscriber may rate it. The rating row keeps who
//! had the ticket then, for per-agent CSAT.

use chrono::{DateTime, Utc};
use kabinet_core::{StaffId, SubscriberId, TicketId};
use kabinet_db::{DbError, TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

/// How long after a resolution its rating may be given or changed.
pub const RATING_WINDOW_DAYS: i32 = 30;
/// The longest comment, in characters.
pub const COMMENT_MAX: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum CsatError {
    /// No such ticket of this subscriber (another subscriber's or another ISP's ticket too).
    #[error("ticket not found")]
    NotFound,
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("only a resolved or closed ticket can be rated")]
    NotResolved,
    #[error("the ticket was resolved more than {days} days ago; it can no longer be rated")]
    WindowPassed { days: i32 },
    /// A duplicate merged into another ticket: that ticket is the one to rate.
    #[error("the ticket was merged into another one; rate that ticket instead")]
    Merged,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for CsatError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// A score from 1 (very unhappy) to 5 (very happy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Score(i16);

impl Score {
    pub fn new(raw: i64) -> Result<Self, CsatError> {
        match i16::try_from(raw) {
            Ok(s @ 1..=5) => Ok(Self(s)),
            _ => Err(CsatError::Invalid {
                field: "score",
                reason: "must be from 1 to 5".into(),
            }),
        }
    }

    pub fn get(self) -> i16 {
        self.0
    }
}

/// A rating as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Rating {
    pub id: Uuid,
    pub score: i16,
    pub comment: Option<String>,
    /// The resolution it rates.
    pub resolution_at: DateTime<Utc>,
    pub rated_at: DateTime<Utc>,
}

fn rating(row: &PgRow) -> Result<Rating, sqlx::Error> {
    Ok(Rating {
        id: row.try_get("id")?,
        score: row.try_get("score")?,
        comment: row.try_get("comment")?,
        resolution_at: row.try_get("resolution_at")?,
        rated_at: row.try_get("rated_at")?,
    })
}

/// What the subscriber's ticket page shows: whether the current resolution may be rated and
/// its rating if given.
#[derive(Clone, Debug, PartialEq)]
pub struct RatingState {
    pub can_rate: bool,
    pub rating: Option<Rating>,
}

/// A rating with the staff member who had the ticket then (the staff ticket view).
#[derive(Clone, Debug, PartialEq)]
pub struct StaffRating {
    pub rating: Rating,
    pub agent: Option<crate::StaffRef>,
}

fn clean_comment(raw: Option<&str>) -> Result<Option<String>, CsatError> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > COMMENT_MAX {
        return Err(CsatError::Invalid {
            field: "comment",
            reason: format!("must be at most {COMMENT_MAX} characters"),
        });
    }
    Ok(Some(text.to_owned()))
}

/// The subscriber rates the current resolution of their ticket at `now`. Rating it again
/// replaces the score and comment (`rated_at` moves only when something changed); each new or
/// changed rating is a `rated` event in the staff thread.
pub async fn rate_ticket(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    ticket: TicketId,
    score: Score,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Rating, CsatError> {
    let comment = clean_comment(comment)?;
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH t AS ( \
           SELECT id, subscriber_id, assignee_staff_id, status, \
                  coalesce(resolved_at, closed_at) AS resolution_at, \
                  EXISTS (SELECT 1 FROM ticket_merges m \
                          WHERE m.tenant_id = $1 AND m.ticket_id = $2) AS merged \
           FROM tickets WHERE tenant_id = $1 AND id = $2 AND subscriber_id = $3), \
         up AS ( \
           INSERT INTO ticket_ratings (tenant_id, id, ticket_id, subscriber_id, resolution_at, \
                                       assignee_staff_id, score, comment, rated_at) \
           SELECT $1, $4, t.id, t.subscriber_id, t.resolution_at, t.assignee_staff_id, $5, $6, $7 \
           FROM t WHERE t.status IN ('resolved', 'closed') AND NOT t.merged \
             AND t.resolution_at > $7 - make_interval(days => $8) \
           ON CONFLICT (tenant_id, ticket_id, resolution_at) DO UPDATE \
             SET score = EXCLUDED.score, comment = EXCLUDED.comment, \
                 rated_at = CASE WHEN ticket_ratings.score = EXCLUDED.score \
                                  AND ticket_ratings.comment IS NOT DISTINCT FROM EXCLUDED.comment \
                                 THEN ticket_ratings.rated_at ELSE EXCLUDED.rated_at END \
           RETURNING id, score, comment, resolution_at, rated_at) \
         SELECT (SELECT status FROM t) AS status, (SELECT merged FROM t) AS merged, up.*, \
           up.rated_at = $7 AS changed \
         FROM (SELECT 1) AS one LEFT JOIN up ON true",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(Uuid::now_v7())
    .bind(score.get())
    .bind(comment)
    .bind(now)
    .bind(RATING_WINDOW_DAYS)
    .fetch_one(tx.conn())
    .await?;
    let status: Option<String> = row.try_get("status")?;
    match status.as_deref() {
        None => Err(CsatError::NotFound),
        Some(_) if row.try_get::<Option<bool>, _>("merged")? == Some(true) => {
            Err(CsatError::Merged)
        }
        Some("resolved" | "closed") => match row.try_get::<Option<Uuid>, _>("id")? {
            Some(_) => {
                let rating = rating(&row)?;
                // A new or changed rating is a line in the staff thread (a retry moves nothing).
                if row.try_get::<Option<bool>, _>("changed")? == Some(true) {
                    sqlx::query(
                        "INSERT INTO ticket_events (tenant_id, id, ticket_id, actor_subscriber_id, kind, new_value, created_at) \
                         VALUES ($1, $2, $3, $4, 'rated', $5, $6)",
                    )
                    .bind(tenant.as_uuid())
                    .bind(Uuid::now_v7())
                    .bind(ticket.as_uuid())
                    .bind(subscriber.as_uuid())
                    .bind(rating.score.to_string())
                    .bind(now)
                    .execute(tx.conn())
                    .await?;
                }
                Ok(rating)
            }
            None => Err(CsatError::WindowPassed {
                days: RATING_WINDOW_DAYS,
            }),
        },
        Some(_) => Err(CsatError::NotResolved),
    }
}

/// The subscriber's view of their ticket's rating at `now`.
pub async fn rating_for_subscriber(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    ticket: TicketId,
    now: DateTime<Utc>,
) -> Result<RatingState, CsatError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT t.status IN ('resolved', 'closed') \
                AND coalesce(t.resolved_at, t.closed_at) > $4 - make_interval(days => $5) \
                AND NOT EXISTS (SELECT 1 FROM ticket_merges m \
                                WHERE m.tenant_id = t.tenant_id AND m.ticket_id = t.id) AS can_rate, \
                r.id, r.score, r.comment, r.resolution_at, r.rated_at \
         FROM tickets t \
         LEFT JOIN ticket_ratings r ON r.tenant_id = t.tenant_id AND r.ticket_id = t.id \
              AND t.status IN ('resolved', 'closed') \
              AND r.resolution_at = coalesce(t.resolved_at, t.closed_at) \
         WHERE t.tenant_id = $1 AND t.id = $2 AND t.subscriber_id = $3",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(now)
    .bind(RATING_WINDOW_DAYS)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(CsatError::NotFound)?;
    let rated = row.try_get::<Option<Uuid>, _>("id")?.is_some();
    Ok(RatingState {
        can_rate: row.try_get::<Option<bool>, _>("can_rate")?.unwrap_or(false),
        rating: if rated { Some(rating(&row)?) } else { None },
    })
}

/// Every rating the ticket has had, newest resolution first (staff).
pub async fn ratings_for_staff(
    tx: &mut TenantTx,
    ticket: TicketId,
) -> Result<Vec<StaffRating>, CsatError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT t.id AS ticket, r.id, r.score, r.comment, r.resolution_at, r.rated_at, \
                s.id AS agent_id, s.display_name AS agent_name \
         FROM tickets t \
         LEFT JOIN ticket_ratings r ON r.tenant_id = t.tenant_id AND r.ticket_id = t.id \
         LEFT JOIN staff s ON s.tenant_id = r.tenant_id AND s.id = r.assignee_staff_id \
         WHERE t.tenant_id = $1 AND t.id = $2 \
         ORDER BY r.resolution_at DESC",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    if rows.is_empty() {
        return Err(CsatError::NotFound);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<Option<Uuid>, _>("id")?.is_none() {
            continue;
        }
        let agent = match row.try_get::<Option<Uuid>, _>("agent_id")? {
            Some(id) => Some(crate::StaffRef {
                id: StaffId(id),
                display_name: row.try_get("agent_name")?,
            }),
            None => None,
        };
        out.push(StaffRating {
            rating: rating(row)?,
            agent,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_outside_one_to_five_are_refused() {
        assert!(Score::new(0).is_err());
        assert!(Score::new(6).is_err());
        assert!(Score::new(i64::MAX).is_err());
        assert_eq!(Score::new(5).map(Score::get).ok(), Some(5));
    }

    #[test]
    fn comments_are_trimmed_bounded_and_optional() {
        assert_eq!(clean_comment(None).ok(), Some(None));
        assert_eq!(clean_comment(Some("   ")).ok(), Some(None));
        assert_eq!(
            clean_comment(Some(" спасибо ")).ok(),
            Some(Some("спасибо".to_owned()))
        );
        assert!(clean_comment(Some(&"я".repeat(COMMENT_MAX))).is_ok());
        assert!(clean_comment(Some(&"я".repeat(COMMENT_MAX + 1))).is_err());
    }
}
