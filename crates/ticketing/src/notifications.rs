//! Telling subscribers what happened to their tickets: an in-app notification (`notifications`,
//! the portal's bell) and, when the subscriber has an e-mail address, a letter queued through
//! `kabinet_mail::enqueue_once`, both in the transaction of the event itself.
//!
//! Each event has a key (`reply:<message>`, `status:<event>`, `overdue:<ticket>:<kind>`) that
//! is unique per tenant for the notification and for the letter, so a retried transaction, a
//! second worker or a second node never tells the same thing twice. Letters speak the
//! subscriber's language (`subscribers.locale`, else the ISP's), are signed with the ISP's name
//! and link to the ticket on the ISP's own host. Internal notes never notify anyone. Staff get a
//! letter when a subscriber answers a ticket assigned to them.

use chrono::{DateTime, Utc};
use kabinet_core::{SubscriberId, TicketId};
use kabinet_db::{TenantTx, sqlx};
use kabinet_mail::{Language, Mail, MailError};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::TicketingError;
use crate::letters::{LetterKind, LetterValues, RenderedLetter, excerpt, render_stored};
use crate::model::{QueueCursor, Status};

impl From<MailError> for TicketingError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Db(db) => Self::Db(db),
            other => Self::Corrupt(format!("notification letter: {other}")),
        }
    }
}

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    /// Staff answered (a public reply; notes never notify).
    Reply,
    /// Staff moved the ticket to another status.
    StatusChanged,
    /// The answer is overdue: the ISP knows and is on it.
    Overdue,
    /// Staff joined the ticket with another one (`merged_into_*`): follow that one.
    Merged,
    /// An outage covering the subscriber was declared (`incident_*`, no ticket).
    IncidentDeclared,
    /// Staff posted news about an outage covering the subscriber.
    IncidentUpdate,
    /// The outage is over: service restored.
    IncidentRestored,
}

impl NotificationKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "ticket_reply",
            Self::StatusChanged => "ticket_status",
            Self::Overdue => "ticket_overdue",
            Self::Merged => "ticket_merged",
            Self::IncidentDeclared => "incident_declared",
            Self::IncidentUpdate => "incident_update",
            Self::IncidentRestored => "incident_restored",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ticket_reply" => Some(Self::Reply),
            "ticket_status" => Some(Self::StatusChanged),
            "ticket_overdue" => Some(Self::Overdue),
            "ticket_merged" => Some(Self::Merged),
            "incident_declared" => Some(Self::IncidentDeclared),
            "incident_update" => Some(Self::IncidentUpdate),
            "incident_restored" => Some(Self::IncidentRestored),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    /// The ticket it is about (absent for an incident notice).
    pub ticket_id: Option<TicketId>,
    pub ticket_number: Option<i64>,
    pub ticket_subject: Option<String>,
    /// The new status of a status change.
    pub status: Option<Status>,
    /// Where a merged ticket went (`Merged` only).
    pub merged_into_ticket_id: Option<TicketId>,
    pub merged_into_number: Option<i64>,
    /// The outage an incident notice is about, and its title then.
    pub incident_id: Option<Uuid>,
    pub incident_title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub unread: i64,
    pub next: Option<QueueCursor>,
}

/// The ISP as a letter presents it.
pub(crate) struct Site {
    pub(crate) isp_name: String,
    pub(crate) language: Language,
    pub(crate) support_email: Option<String>,
    /// `https://<the ISP's host>` (`http://<host>:<port>` when the platform serves plain HTTP).
    pub(crate) base_url: String,
}

fn language(raw: Option<&str>) -> Option<Language> {
    match raw {
        Some("ru") => Some(Language::Ru),
        Some("en") => Some(Language::En),
        _ => None,
    }
}

/// The ISP's name, language, support address and host: a verified custom domain first, else
/// its platform subdomain.
pub(crate) async fn site(tx: &mut TenantTx) -> Result<Site, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT t.display_name, t.default_locale, t.branding->>'support_email' AS support_email, \
           (SELECT h.host FROM tenant_hosts h WHERE h.tenant_id = t.id \
              AND (h.kind = 'subdomain' OR h.verified_at IS NOT NULL) \
            ORDER BY (h.kind = 'custom') DESC, h.created_at, h.host LIMIT 1) AS host \
         FROM tenants t WHERE t.id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    let host: Option<String> = row.try_get("host")?;
    let locale: String = row.try_get("default_locale")?;
    Ok(Site {
        isp_name: row.try_get("display_name")?,
        language: language(Some(&locale)).unwrap_or(Language::Ru),
        support_email: row.try_get("support_email")?,
        base_url: tx.public_origin(&host.unwrap_or_default()),
    })
}

/// One notification to insert (and its letter).
struct Event<'a> {
    ticket: TicketId,
    kind: NotificationKind,
    letter: LetterKind,
    key: String,
    /// The ticket a merged one went into, and its number; the letter links there.
    merged_into: Option<(TicketId, i64)>,
    status: Option<Status>,
    /// The reply's text, quoted in the letter.
    excerpt: Option<&'a str>,
    at: DateTime<Utc>,
}

/// Writes the notification unless its key exists, and then queues the letter when the
/// subscriber has an address. Returns whether it was new.
async fn notify(tx: &mut TenantTx, event: Event<'_>) -> Result<bool, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "WITH ins AS ( \
           INSERT INTO notifications (tenant_id, id, subscriber_id, ticket_id, kind, event_key, \
             ticket_number, ticket_subject, status, created_at, merged_into_ticket_id, \
             merged_into_number) \
           SELECT $1, $2, t.subscriber_id, t.id, $4, $5, t.number, t.subject, $6, $7, $8, $9 \
           FROM tickets t WHERE t.tenant_id = $1 AND t.id = $3 \
           ON CONFLICT (tenant_id, event_key) DO NOTHING \
           RETURNING subscriber_id, ticket_number, ticket_subject) \
         SELECT ins.ticket_number, ins.ticket_subject, s.full_name, s.email, s.locale, \
           lt.subject AS template_subject, lt.body AS template_body \
         FROM ins JOIN subscribers s ON s.tenant_id = $1 AND s.id = ins.subscriber_id \
         LEFT JOIN letter_templates lt ON lt.tenant_id = $1 AND lt.kind = $10 \
           AND lt.language = coalesce( \
             CASE WHEN s.locale IN ('ru', 'en') THEN s.locale END, \
             (SELECT CASE WHEN t.default_locale IN ('ru', 'en') THEN t.default_locale END \
              FROM tenants t WHERE t.id = $1), \
             'ru')",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(event.ticket.as_uuid())
    .bind(event.kind.as_str())
    .bind(&event.key)
    .bind(event.status.map(|s| s.as_str()))
    .bind(event.at)
    .bind(event.merged_into.map(|(id, _)| id.as_uuid()))
    .bind(event.merged_into.map(|(_, n)| n))
    .bind(event.letter.as_str())
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let recipient = recipient(&row)?;
    if recipient.email.is_some() {
        let site = site(tx).await?;
        send_letter(tx, &site, &recipient, &event).await?;
    }
    Ok(true)
}

struct Recipient {
    name: String,
    email: Option<String>,
    language: Option<Language>,
    number: i64,
    subject: String,
    /// The ISP's own subject and body for this letter in the recipient's language, if any.
    template: Option<(String, String)>,
}

fn recipient(row: &PgRow) -> Result<Recipient, sqlx::Error> {
    let locale: Option<String> = row.try_get("locale")?;
    Ok(Recipient {
        name: row.try_get("full_name")?,
        email: row.try_get("email")?,
        language: language(locale.as_deref()),
        number: row.try_get("ticket_number")?,
        subject: row.try_get("ticket_subject")?,
        template: match (
            row.try_get::<Option<String>, _>("template_subject")?,
            row.try_get::<Option<String>, _>("template_body")?,
        ) {
            (Some(subject), Some(body)) => Some((subject, body)),
            _ => None,
        },
    })
}

async fn send_letter(
    tx: &mut TenantTx,
    site: &Site,
    to: &Recipient,
    event: &Event<'_>,
) -> Result<(), TicketingError> {
    let Some(email) = &to.email else {
        return Ok(());
    };
    let lang = to.language.unwrap_or(site.language);
    let goes_to = event.merged_into.map_or(event.ticket, |(id, _)| id);
    let link = format!("{}/tickets/{}", site.base_url, goes_to);
    let letter = subscriber_letter(site, lang, to, event, &link);
    let queued = kabinet_mail::enqueue_once(
        tx,
        &event.key,
        Mail {
            to: email.clone(),
            from_name: Some(site.isp_name.clone()),
            reply_to: site.support_email.clone(),
            subject: letter.subject,
            text: letter.text,
            html: Some(letter.html),
        },
    )
    .await;
    skip_unsendable(queued)
}

/// An address the mailer refuses must not undo the reply or status change it tells about: the
/// in-app notification still goes out, the letter is left out and logged.
fn skip_unsendable(queued: Result<Option<Uuid>, MailError>) -> Result<(), TicketingError> {
    match queued {
        Ok(_) => Ok(()),
        Err(MailError::Invalid { field, reason }) => {
            tracing::warn!(field, %reason, "notification letter not queued");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The letter to the subscriber, in `lang`, signed by the ISP: the ISP's own wording for
/// this kind and language when it has one (read with the notification), else the built-in one.
fn subscriber_letter(
    site: &Site,
    lang: Language,
    to: &Recipient,
    event: &Event<'_>,
    link: &str,
) -> RenderedLetter {
    let kind = event.letter;
    let values = LetterValues {
        subscriber_name: to.name.clone(),
        ticket_number: to.number,
        ticket_subject: to.subject.clone(),
        status: event.status,
        merged_into_number: event.merged_into.map(|(_, n)| n),
        isp_name: site.isp_name.clone(),
    };
    render_stored(
        kind,
        lang,
        to.template.as_ref().map(|(s, b)| (s.as_str(), b.as_str())),
        &values,
        event.excerpt,
        link,
    )
}

/// Staff replied publicly to a ticket.
pub(crate) async fn staff_replied(
    tx: &mut TenantTx,
    ticket: TicketId,
    message: Uuid,
    body: &str,
    at: DateTime<Utc>,
) -> Result<(), TicketingError> {
    notify(
        tx,
        Event {
            ticket,
            kind: NotificationKind::Reply,
            letter: LetterKind::TicketReply,
            key: format!("reply:{message}"),
            merged_into: None,
            status: None,
            excerpt: Some(body),
            at,
        },
    )
    .await?;
    Ok(())
}

/// Staff moved a ticket to `status` (event `event` in its history).
pub(crate) async fn status_changed(
    tx: &mut TenantTx,
    ticket: TicketId,
    event: Uuid,
    status: Status,
    at: DateTime<Utc>,
) -> Result<(), TicketingError> {
    notify(
        tx,
        Event {
            ticket,
            kind: NotificationKind::StatusChanged,
            letter: LetterKind::TicketStatus,
            key: format!("status:{event}"),
            merged_into: None,
            status: Some(status),
            excerpt: None,
            at,
        },
    )
    .await?;
    Ok(())
}

/// Staff merged `source` into `target` (numbered `target_number`): the subscriber is told,
/// in-app and by letter, to follow the conversation there. Keyed `merged:<source>`: a ticket is
/// merged once, and a retried transaction tells it once.
pub(crate) async fn ticket_merged(
    tx: &mut TenantTx,
    source: TicketId,
    target: TicketId,
    target_number: i64,
    at: DateTime<Utc>,
) -> Result<(), TicketingError> {
    notify(
        tx,
        Event {
            ticket: source,
            kind: NotificationKind::Merged,
            letter: LetterKind::TicketMerged,
            key: format!("merged:{source}"),
            merged_into: Some((target, target_number)),
            status: None,
            excerpt: None,
            at,
        },
    )
    .await?;
    Ok(())
}

/// The SLA worker recorded breaches: each breached ticket still with the ISP gets one polite
/// reminder per breach (first response, resolution), but never two within a day (both targets
/// often pass at once). Looks at breaches of the last day without a reminder, so a rerun, a
/// second worker or a crash in between all end with exactly one; the unique event key settles
/// two workers racing.
pub(crate) async fn overdue_reminders(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
) -> Result<i64, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT DISTINCT ON (e.ticket_id) e.ticket_id, e.kind FROM ticket_events e \
         JOIN tickets t ON t.tenant_id = e.tenant_id AND t.id = e.ticket_id \
         WHERE e.tenant_id = $1 AND e.kind IN ('first_response_breach', 'resolution_breach') \
           AND e.created_at > $2 - interval '1 day' AND t.status IN ('new', 'open') \
           AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.tenant_id = e.tenant_id \
                 AND n.event_key = 'overdue:' || e.ticket_id || ':' || e.kind) \
           AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.tenant_id = e.tenant_id \
                 AND n.event_key IN ('overdue:' || e.ticket_id || ':first_response_breach', \
                                     'overdue:' || e.ticket_id || ':resolution_breach') \
                 AND n.created_at > $2 - interval '1 day') \
         ORDER BY e.ticket_id, e.kind",
    )
    .bind(tenant.as_uuid())
    .bind(now)
    .fetch_all(tx.conn())
    .await?;
    let mut sent = 0;
    for row in rows {
        let ticket: Uuid = row.try_get("ticket_id")?;
        let kind: String = row.try_get("kind")?;
        let new = notify(
            tx,
            Event {
                ticket: TicketId(ticket),
                kind: NotificationKind::Overdue,
                letter: LetterKind::TicketOverdue,
                key: format!("overdue:{ticket}:{kind}"),
                merged_into: None,
                status: None,
                excerpt: None,
                at: now,
            },
        )
        .await?;
        sent += i64::from(new);
    }
    Ok(sent)
}

/// A subscriber answered a ticket assigned to someone: that staff member gets a letter (no
/// in-app notification: the console's queue shows it).
pub(crate) async fn subscriber_replied(
    tx: &mut TenantTx,
    ticket: TicketId,
    message: Uuid,
    body: &str,
) -> Result<(), TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT t.number, t.subject, st.display_name, st.email, s.full_name AS subscriber_name \
         FROM tickets t JOIN staff st ON st.tenant_id = t.tenant_id AND st.id = t.assignee_staff_id \
         JOIN subscribers s ON s.tenant_id = t.tenant_id AND s.id = t.subscriber_id \
         WHERE t.tenant_id = $1 AND t.id = $2 AND st.active",
    )
    .bind(tenant.as_uuid())
    .bind(ticket.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let site = site(tx).await?;
    let number: i64 = row.try_get("number")?;
    let subject: String = row.try_get("subject")?;
    let staff_name: String = row.try_get("display_name")?;
    let email: String = row.try_get("email")?;
    let subscriber: String = row.try_get("subscriber_name")?;
    let link = format!("{}/console/tickets/{ticket}", site.base_url);
    let quote = excerpt(body);
    let (subject, text) = match site.language {
        Language::Ru => (
            format!("Новый ответ абонента по обращению №{number}"),
            format!(
                "{staff_name}, абонент {subscriber} ответил по обращению №{number} «{subject}», \
                 которое назначено вам:\n\n{quote}\n\n{link}\n"
            ),
        ),
        Language::En => (
            format!("The subscriber replied to ticket #{number}"),
            format!(
                "{staff_name}, {subscriber} replied to ticket #{number} \"{subject}\", which is \
                 assigned to you:\n\n{quote}\n\n{link}\n"
            ),
        ),
    };
    let queued = kabinet_mail::enqueue_once(
        tx,
        &format!("staff-reply:{message}"),
        Mail {
            to: email,
            from_name: Some(site.isp_name.clone()),
            reply_to: None,
            subject,
            text,
            html: None,
        },
    )
    .await;
    skip_unsendable(queued)
}

fn from_row(r: &PgRow) -> Result<Notification, TicketingError> {
    let kind: String = r.try_get("kind")?;
    let status: Option<String> = r.try_get("status")?;
    Ok(Notification {
        id: r.try_get("id")?,
        kind: NotificationKind::parse(&kind)
            .ok_or_else(|| TicketingError::Corrupt(format!("notification kind {kind:?}")))?,
        ticket_id: r.try_get::<Option<Uuid>, _>("ticket_id")?.map(TicketId),
        ticket_number: r.try_get("ticket_number")?,
        ticket_subject: r.try_get("ticket_subject")?,
        status: status.as_deref().and_then(Status::parse),
        merged_into_ticket_id: r
            .try_get::<Option<Uuid>, _>("merged_into_ticket_id")?
            .map(TicketId),
        merged_into_number: r.try_get("merged_into_number")?,
        incident_id: r.try_get("incident_id")?,
        incident_title: r.try_get("incident_title")?,
        created_at: r.try_get("created_at")?,
        read_at: r.try_get("read_at")?,
    })
}

/// The subscriber's notifications, newest first, keyset-paginated, with the unread count.
pub async fn notifications_for_subscriber(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    after: Option<QueueCursor>,
    limit: i64,
) -> Result<NotificationPage, TicketingError> {
    let tenant = tx.tenant();
    let limit = limit.clamp(1, 100);
    let rows = sqlx::query(
        "SELECT id, kind, ticket_id, ticket_number, ticket_subject, status, created_at, read_at, \
           merged_into_ticket_id, merged_into_number, incident_id, incident_title \
         FROM notifications WHERE tenant_id = $1 AND subscriber_id = $2 \
           AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(after.map(|c| c.updated_at))
    .bind(after.map(|c| c.id))
    .bind(limit + 1)
    .fetch_all(tx.conn())
    .await?;
    let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|n| QueueCursor {
            updated_at: n.created_at,
            id: n.id,
        })
    } else {
        None
    };
    let unread: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND read_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    Ok(NotificationPage {
        items,
        unread,
        next,
    })
}

/// Marks the listed notifications (or, with `None`, all of them) read, in one statement.
/// Another subscriber's ids are ignored. Returns how many changed.
pub async fn mark_notifications_read(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    ids: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> Result<u64, TicketingError> {
    let tenant = tx.tenant();
    Ok(sqlx::query(
        "UPDATE notifications SET read_at = $4 \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND read_at IS NULL \
           AND ($3::uuid[] IS NULL OR id = ANY($3))",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(ids)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            isp_name: "Демо <Телеком>".into(),
            language: Language::Ru,
            support_email: None,
            base_url: "https://demo.example".into(),
        }
    }

    fn to() -> Recipient {
        Recipient {
            name: "Иван".into(),
            email: Some("ivan@example.com".into()),
            language: None,
            number: 7,
            subject: "Нет интернета".into(),
            template: None,
        }
    }

    #[test]
    fn letters_speak_the_language_and_escape_html() {
        let event = Event {
            ticket: TicketId(Uuid::nil()),
            kind: NotificationKind::Reply,
            letter: LetterKind::TicketReply,
            key: "reply:x".into(),
            merged_into: None,
            status: None,
            excerpt: Some("Перезагрузите <роутер>"),
            at: Utc::now(),
        };
        let ru = subscriber_letter(
            &site(),
            Language::Ru,
            &to(),
            &event,
            "https://demo.example/tickets/1",
        );
        assert_eq!(ru.subject, "Ответ по обращению №7 — Демо <Телеком>");
        assert!(ru.text.contains("> Перезагрузите <роутер>"), "{}", ru.text);
        assert!(ru.html.contains("&lt;роутер&gt;"));
        assert!(!ru.html.contains("<роутер>"));
        let en = subscriber_letter(
            &site(),
            Language::En,
            &to(),
            &event,
            "https://demo.example/tickets/1",
        );
        assert!(en.subject.starts_with("New reply to your ticket #7"));
        assert!(en.text.contains("https://demo.example/tickets/1"));
    }
}
