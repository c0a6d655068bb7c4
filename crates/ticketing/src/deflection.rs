//! Deflection on the new-ticket form: what the form suggested, what the subscriber opened or
//! fixed themselves, and whether they sent the ticket anyway.
//!
//! One visit to the form is one `form_session` (the web makes the id). Opening a suggested
//! article or following a fix (pay, resume) records a `ticket_deflections` row; sending a
//! ticket from the same visit links those rows to it and records the articles that were
//! shown (`ticket_suggestions`). Visits with events and no ticket are the deflected tickets.

use chrono::{DateTime, Utc};
use kabinet_core::{SubscriberId, TicketId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::repo::TicketingError;

/// A fix the self-diagnosis panel offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfFix {
    /// Top up the balance of an account blocked for debt.
    Pay,
    /// End a voluntary suspension.
    Resume,
}

impl SelfFix {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::Resume => "resume",
        }
    }
}

/// What the subscriber did instead of writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deflection {
    /// Opened this suggested article.
    Article(Uuid),
    SelfFix(SelfFix),
}

/// Records that the subscriber opened a suggestion or followed a fix during `form_session`.
/// The article must be one they can read (published); anything else is `NotFound`.
pub async fn record_deflection(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    form_session: Uuid,
    what: Deflection,
) -> Result<Uuid, TicketingError> {
    let tenant = tx.tenant();
    let (kind, article, fix) = match what {
        Deflection::Article(a) => ("article", Some(a), None),
        Deflection::SelfFix(f) => ("self_fix", None, Some(f.as_str())),
    };
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO ticket_deflections (tenant_id, id, subscriber_id, form_session, kind, article_id, fix) \
         SELECT $1, $2, $3, $4, $5, $6, $7 \
         WHERE $6::uuid IS NULL OR EXISTS (SELECT 1 FROM kb_articles a \
               WHERE a.tenant_id = $1 AND a.id = $6 AND a.published_at IS NOT NULL) \
         RETURNING id",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(subscriber.as_uuid())
    .bind(form_session)
    .bind(kind)
    .bind(article)
    .bind(fix)
    .fetch_optional(tx.conn())
    .await?;
    id.ok_or(TicketingError::NotFound)
}

/// The subscriber sent `ticket` from `form_session` anyway: the session's deflection events
/// point at it, and the published articles among `shown` are kept as its suggestions.
/// Another subscriber's ticket is `NotFound`; unknown or draft article ids are skipped.
pub async fn record_ticket_suggestions(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    ticket: TicketId,
    form_session: Uuid,
    shown: &[Uuid],
) -> Result<(), TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH mine AS (SELECT id FROM tickets WHERE tenant_id = $1 AND id = $2 AND subscriber_id = $3), \
         linked AS (UPDATE ticket_deflections d SET ticket_id = mine.id FROM mine \
                    WHERE d.tenant_id = $1 AND d.subscriber_id = $3 AND d.form_session = $4 \
                      AND d.ticket_id IS NULL RETURNING d.id), \
         kept AS (INSERT INTO ticket_suggestions (tenant_id, ticket_id, article_id) \
                  SELECT $1, mine.id, a.id FROM mine JOIN kb_articles a \
                    ON a.tenant_id = $1 AND a.id = ANY($5) AND a.published_at IS NOT NULL \
                  ON CONFLICT DO NOTHING RETURNING article_id) \
         SELECT EXISTS (SELECT 1 FROM mine) AS found, \
                (SELECT count(*) FROM linked) AS linked, (SELECT count(*) FROM kept) AS kept",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(form_session)
    .bind(shown)
    .fetch_one(tx.conn())
    .await?;
    if !row.try_get::<bool, _>("found")? {
        return Err(TicketingError::NotFound);
    }
    Ok(())
}

/// Deflection over a period: form visits that ended without a ticket against tickets opened.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeflectionStats {
    /// Form visits where the subscriber opened a suggestion or fixed something and sent nothing.
    pub deflected: i64,
    /// Of those, visits where an article did it (the rest followed a fix).
    pub deflected_by_article: i64,
    /// Tickets opened in the period.
    pub tickets: i64,
    /// Tickets opened after at least one suggestion was shown.
    pub tickets_with_suggestions: i64,
    /// deflected / (deflected + tickets); `None` when both are zero.
    pub rate: Option<f64>,
}

/// [`DeflectionStats`] for `[since, until)`, in one statement.
pub async fn deflection_stats(
    tx: &mut TenantTx,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<DeflectionStats, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH sessions AS ( \
           SELECT subscriber_id, form_session, bool_or(ticket_id IS NOT NULL) AS sent, \
                  bool_or(kind = 'article') AS by_article \
           FROM ticket_deflections WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
           GROUP BY subscriber_id, form_session) \
         SELECT (SELECT count(*) FROM sessions WHERE NOT sent) AS deflected, \
                (SELECT count(*) FROM sessions WHERE NOT sent AND by_article) AS by_article, \
                (SELECT count(*) FROM tickets WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3) AS tickets, \
                (SELECT count(DISTINCT s.ticket_id) FROM ticket_suggestions s JOIN tickets t \
                   ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id \
                 WHERE s.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3) AS with_suggestions",
    )
    .bind(tenant.as_uuid())
    .bind(since)
    .bind(until)
    .fetch_one(tx.conn())
    .await?;
    let deflected: i64 = row.try_get("deflected")?;
    let tickets: i64 = row.try_get("tickets")?;
    let total = deflected + tickets;
    Ok(DeflectionStats {
        deflected,
        deflected_by_article: row.try_get("by_article")?,
        tickets,
        tickets_with_suggestions: row.try_get("with_suggestions")?,
        rate: (total > 0).then(|| deflected as f64 / total as f64),
    })
}
