//! Outage incidents: staff declare one for an area, link tickets, post updates, close it.
//!
//! An area is any mix of NAS, NAS area codes (`nas.area`) and address fragments. The affected
//! subscribers are computed set-based when the incident is declared and again with each update
//! (`incident_subscribers`, only ever growing): those with a service login whose open session — else most recent
//! one — is on a listed NAS or on a NAS with a listed area code, and those whose address
//! contains a listed fragment (case-insensitively). Each is told once by letter (idempotency key
//! per incident and subscriber) and sees the incident on the dashboard and in the new-ticket
//! self-diagnosis while it is active.
//!
//! The portal's bell carries incident notices too (`notifications.kind` `incident_declared`,
//! `incident_update`, `incident_restored`), written in the statement that queues the letters
//! (or posts the update), keyed per event and subscriber so each is told once. An update's
//! notice goes to the affected subscribers its reply into a linked ticket did not reach.
//!
//! Tickets are linked by staff, or automatically (a database trigger) when an affected
//! subscriber opens a connectivity or speed ticket while the incident is active. An update is
//! posted once into every linked ticket still open as a public staff reply, with the usual reply
//! notification and letter. Closing resolves every linked open ticket in one statement (with its
//! status event and notification) and tells the affected subscribers that service is back.
//!
//! [`suggested`] lists NAS whose accounting stopped: sessions were alive on it and nothing has
//! come from it for a while. Confirming one is declaring an incident for that NAS.

use chrono::{DateTime, Duration, Utc};
use kabinet_core::{StaffId, SubscriberId, TicketId};
use kabinet_db::{TenantTx, sqlx};
use kabinet_mail::{HtmlLetter, Language};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::notifications::{Site, site};
use crate::repo::{TicketingError, clean_text};

const TITLE_MAX: usize = 200;
const MESSAGE_MAX: usize = 5000;
const AREA_ITEMS_MAX: usize = 100;
const AREA_ITEM_MAX: usize = 100;
const LINK_MAX: usize = 200;

/// Where an outage is, as staff declare it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncidentArea {
    pub nas_ids: Vec<Uuid>,
    pub area_codes: Vec<String>,
    pub address_fragments: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct NewIncident {
    pub title: String,
    /// What subscribers are told.
    pub message: String,
    /// When the outage began; absent: now.
    pub started_at: Option<DateTime<Utc>>,
    pub area: IncidentArea,
}

#[derive(Clone, Debug)]
pub struct Incident {
    pub id: Uuid,
    pub title: String,
    pub message: String,
    pub area: IncidentArea,
    pub started_at: DateTime<Utc>,
    pub declared_by: String,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub close_message: Option<String>,
    /// Subscribers the incident covers.
    pub affected: i64,
    pub linked_tickets: i64,
}

#[derive(Clone, Debug)]
pub struct LinkedTicket {
    pub id: TicketId,
    pub number: i64,
    pub subject: String,
    pub status: crate::Status,
    pub subscriber_name: String,
    pub account_number: String,
    /// False: linked automatically when the subscriber opened it.
    pub linked_by_staff: bool,
    pub linked_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct IncidentUpdate {
    pub id: Uuid,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub tickets: Vec<LinkedTicket>,
    /// Newest first.
    pub updates: Vec<IncidentUpdate>,
}

/// An active incident as an affected subscriber sees it.
#[derive(Clone, Debug)]
pub struct ActiveOutage {
    pub id: Uuid,
    pub title: String,
    pub message: String,
    pub started_at: DateTime<Utc>,
    /// The latest update, if any.
    pub latest_update: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A NAS whose accounting stopped: staff may confirm it as an incident.
#[derive(Clone, Debug)]
pub struct SuggestedIncident {
    pub nas_id: Uuid,
    pub nas_name: String,
    pub area: String,
    /// Sessions that were alive on it when accounting stopped.
    pub sessions: i64,
    pub last_accounting_at: DateTime<Utc>,
}

fn invalid(field: &'static str, reason: &str) -> TicketingError {
    TicketingError::Invalid {
        field,
        reason: reason.to_owned(),
    }
}

/// Trimmed, non-empty, single-line, deduplicated (case-insensitively) items.
fn clean_list(field: &'static str, raw: &[String]) -> Result<Vec<String>, TicketingError> {
    if raw.len() > AREA_ITEMS_MAX {
        return Err(invalid(field, "lists at most 100 items"));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for item in raw {
        let item = clean_text(field, item, AREA_ITEM_MAX)?;
        if !out.iter().any(|o| o.to_lowercase() == item.to_lowercase()) {
            out.push(item);
        }
    }
    Ok(out)
}

fn area_from_row(r: &PgRow) -> Result<IncidentArea, sqlx::Error> {
    Ok(IncidentArea {
        nas_ids: r.try_get("nas_ids")?,
        area_codes: r.try_get("area_codes")?,
        address_fragments: r.try_get("address_fragments")?,
    })
}

const INCIDENT_SELECT: &str = "SELECT i.id, i.title, i.message, i.nas_ids, i.area_codes, \
       i.address_fragments, i.started_at, i.created_at, i.closed_at, i.close_message, \
       st.display_name AS declared_by, \
       (SELECT count(*) FROM incident_subscribers x WHERE x.tenant_id = i.tenant_id \
          AND x.incident_id = i.id) AS affected, \
       (SELECT count(*) FROM incident_tickets l WHERE l.tenant_id = i.tenant_id \
          AND l.incident_id = i.id) AS linked_tickets \
     FROM incidents i JOIN staff st ON st.tenant_id = i.tenant_id AND st.id = i.declared_by_staff_id ";

fn incident_from_row(r: &PgRow) -> Result<Incident, sqlx::Error> {
    Ok(Incident {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        message: r.try_get("message")?,
        area: area_from_row(r)?,
        started_at: r.try_get("started_at")?,
        declared_by: r.try_get("declared_by")?,
        created_at: r.try_get("created_at")?,
        closed_at: r.try_get("closed_at")?,
        close_message: r.try_get("close_message")?,
        affected: r.try_get("affected")?,
        linked_tickets: r.try_get("linked_tickets")?,
    })
}

async fn fetch(tx: &mut TenantTx, id: Uuid) -> Result<Incident, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "{INCIDENT_SELECT} WHERE i.tenant_id = $1 AND i.id = $2"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)?;
    Ok(incident_from_row(&row)?)
}

/// The incident, locked, and whether it is still active. Another ISP's id is `NotFound`.
async fn lock_active(tx: &mut TenantTx, id: Uuid) -> Result<(), TicketingError> {
    let tenant = tx.tenant();
    let closed: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
        "SELECT closed_at FROM incidents WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    match closed {
        None => Err(TicketingError::NotFound),
        Some(Some(_)) => Err(invalid("incident", "is already closed")),
        Some(None) => Ok(()),
    }
}

/// A letter in both languages; the SQL that queues it picks the subscriber's.
struct Bilingual {
    ru: (String, String, String),
    en: (String, String, String),
}

fn letter(
    site: &Site,
    lang: Language,
    subject: String,
    lines: &[&str],
    link: &str,
    button: &str,
) -> (String, String, String) {
    let greeting = match lang {
        Language::Ru => "Здравствуйте!",
        Language::En => "Hello,",
    };
    let isp = &site.isp_name;
    let text = format!(
        "{greeting}\n\n{}\n\n{link}\n\n— {isp}\n",
        lines.join("\n\n")
    );
    let mut html = HtmlLetter::new(greeting);
    for line in lines {
        html = html.paragraph(line);
    }
    let html = html.button(link, button).signature(&[isp]).finish();
    (subject, text, html)
}

fn declared_letter(site: &Site, title: &str, message: &str) -> Bilingual {
    let isp = &site.isp_name;
    let link = format!("{}/", site.base_url);
    Bilingual {
        ru: letter(
            site,
            Language::Ru,
            format!("Авария: {title} — {isp}"),
            &[
                &format!("В вашем районе авария: {title}. Мы уже работаем над её устранением."),
                message,
                "Если у вас нет интернета, писать в поддержку не нужно: мы сообщим, когда всё заработает.",
            ],
            &link,
            "Открыть личный кабинет",
        ),
        en: letter(
            site,
            Language::En,
            format!("Outage: {title} — {isp}"),
            &[
                &format!("There is an outage in your area: {title}. We are already working on it."),
                message,
                "If your connection is down, there is no need to contact support: we will tell you when it is back.",
            ],
            &link,
            "Open your account",
        ),
    }
}

fn update_letter(site: &Site, title: &str, body: &str) -> Bilingual {
    let isp = &site.isp_name;
    // `{ticket}` is replaced by each ticket's id in SQL.
    let link = format!("{}/tickets/{{ticket}}", site.base_url);
    Bilingual {
        ru: letter(
            site,
            Language::Ru,
            format!("Новости об аварии: {title} — {isp}"),
            &[
                &format!("Новости об аварии «{title}», связанной с вашим обращением:"),
                body,
            ],
            &link,
            "Открыть обращение",
        ),
        en: letter(
            site,
            Language::En,
            format!("Outage update: {title} — {isp}"),
            &[
                &format!("An update on the outage \"{title}\" your ticket is about:"),
                body,
            ],
            &link,
            "Open the ticket",
        ),
    }
}

fn closed_letter(site: &Site, title: &str, message: Option<&str>) -> Bilingual {
    let isp = &site.isp_name;
    let link = format!("{}/", site.base_url);
    let ru_head = format!("Авария «{title}» устранена, связь восстановлена.");
    let en_head = format!("The outage \"{title}\" is over and service is back.");
    let ru_tail =
        "Если интернет не появился, перезагрузите роутер; если и это не поможет — напишите нам.";
    let en_tail = "If your connection is still down, restart your router; if that does not help, write to us.";
    let ru: Vec<&str> = [Some(ru_head.as_str()), message, Some(ru_tail)]
        .into_iter()
        .flatten()
        .collect();
    let en: Vec<&str> = [Some(en_head.as_str()), message, Some(en_tail)]
        .into_iter()
        .flatten()
        .collect();
    Bilingual {
        ru: letter(
            site,
            Language::Ru,
            format!("Связь восстановлена — {isp}"),
            &ru,
            &link,
            "Открыть личный кабинет",
        ),
        en: letter(
            site,
            Language::En,
            format!("Service restored — {isp}"),
            &en,
            &link,
            "Open your account",
        ),
    }
}

/// Binds the ISP's name, support address and default language and the letter in both
/// languages as `$3`…`$11` of an outbox insert (`$1` tenant, `$2` incident).
fn lang_code(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "ru",
        Language::En => "en",
    }
}

/// The outbox columns for a subscriber `s`, choosing the letter by their language.
const LETTER_COLUMNS: &str = "s.email, $3, $4, \
     CASE WHEN coalesce(s.locale, $5) = 'en' THEN $9 ELSE $6 END, \
     CASE WHEN coalesce(s.locale, $5) = 'en' THEN $10 ELSE $7 END, \
     CASE WHEN coalesce(s.locale, $5) = 'en' THEN $11 ELSE $8 END";

/// Declares an incident, computes whom it covers and queues one letter to each of them.
/// Unknown (or another ISP's) NAS ids are `Invalid`.
pub async fn declare(
    tx: &mut TenantTx,
    staff: StaffId,
    new: &NewIncident,
    now: DateTime<Utc>,
) -> Result<Incident, TicketingError> {
    let title = clean_text("title", &new.title, TITLE_MAX)?;
    let message = clean_text("message", &new.message, MESSAGE_MAX)?;
    let started_at = new.started_at.unwrap_or(now);
    if started_at > now + Duration::minutes(5) {
        return Err(invalid("started_at", "must not be in the future"));
    }
    let area_codes = clean_list("area_codes", &new.area.area_codes)?;
    let fragments = clean_list("address_fragments", &new.area.address_fragments)?;
    if fragments.iter().any(|f| f.chars().count() < 3) {
        return Err(invalid(
            "address_fragments",
            "each must be at least 3 characters",
        ));
    }
    let mut nas_ids = new.area.nas_ids.clone();
    nas_ids.sort_unstable();
    nas_ids.dedup();
    if nas_ids.len() > AREA_ITEMS_MAX {
        return Err(invalid("nas_ids", "lists at most 100 items"));
    }
    if nas_ids.is_empty() && area_codes.is_empty() && fragments.is_empty() {
        return Err(invalid(
            "area",
            "needs at least one NAS, area code or address fragment",
        ));
    }
    let tenant = tx.tenant();
    let known: i64 =
        sqlx::query_scalar("SELECT count(*) FROM nas WHERE tenant_id = $1 AND id = ANY($2)")
            .bind(tenant.as_uuid())
            .bind(&nas_ids)
            .fetch_one(tx.conn())
            .await?;
    if known != nas_ids.len() as i64 {
        return Err(invalid("nas_ids", "lists an unknown NAS"));
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO incidents (tenant_id, id, title, message, nas_ids, area_codes, \
           address_fragments, started_at, declared_by_staff_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&title)
    .bind(&message)
    .bind(&nas_ids)
    .bind(&area_codes)
    .bind(&fragments)
    .bind(started_at)
    .bind(staff.as_uuid())
    .bind(now)
    .execute(tx.conn())
    .await?;
    cover(tx, id).await?;
    let site = site(tx).await?;
    tell_affected(tx, id, &site, &title, &message, now).await?;
    fetch(tx, id).await
}

/// Queues the declaration's letter and bell notice to every affected subscriber not yet told
/// (the key is per incident and subscriber, so each gets it once however often this runs).
async fn tell_affected(
    tx: &mut TenantTx,
    incident: Uuid,
    site: &Site,
    title: &str,
    message: &str,
    at: DateTime<Utc>,
) -> Result<u64, TicketingError> {
    let letter = declared_letter(site, title, message);
    queue_letters(
        tx,
        incident,
        site,
        &letter,
        Bell {
            kind: "incident_declared",
            title,
            at,
        },
        "incident:",
        "SELECT s.* FROM incident_subscribers x \
         JOIN subscribers s ON s.tenant_id = x.tenant_id AND s.id = x.subscriber_id \
         WHERE x.tenant_id = $1 AND x.incident_id = $2",
    )
    .await
}

/// Adds to the incident's affected set everyone its area covers now, in one statement; returns
/// how many were added. A subscriber's place in the network is the NAS of their open session,
/// else of their most recent one; area codes compare case-insensitively. Run at declaration and
/// again with every update, so subscribers whose sessions moved onto the area since are told
/// too (never removed: whoever was told stays covered until the incident closes).
async fn cover(tx: &mut TenantTx, incident: Uuid) -> Result<u64, TicketingError> {
    let tenant = tx.tenant();
    Ok(sqlx::query(
        "INSERT INTO incident_subscribers (tenant_id, incident_id, subscriber_id) \
         SELECT s.tenant_id, i.id, s.id FROM incidents i \
         JOIN subscribers s ON s.tenant_id = i.tenant_id \
         WHERE i.tenant_id = $1 AND i.id = $2 AND ( \
           (EXISTS (SELECT 1 FROM service_logins sl WHERE sl.tenant_id = s.tenant_id \
                      AND sl.subscriber_id = s.id) \
            AND EXISTS (SELECT 1 FROM ( \
                  SELECT r.nas_id FROM radius_sessions r \
                  WHERE r.tenant_id = s.tenant_id AND r.subscriber_id = s.id \
                  ORDER BY (r.state = 'open') DESC, r.started_at DESC LIMIT 1) last \
                JOIN nas n ON n.tenant_id = s.tenant_id AND n.id = last.nas_id \
                WHERE n.id = ANY(i.nas_ids) OR (n.area <> '' AND lower(n.area) IN \
                      (SELECT lower(a) FROM unnest(i.area_codes) a)))) \
           OR (s.address IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(i.address_fragments) f \
                WHERE strpos(lower(s.address), lower(f)) > 0))) \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(incident)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// An incident notice in the portal's bell (`notifications.kind`, the incident's title).
struct Bell<'a> {
    kind: &'static str,
    title: &'a str,
    at: DateTime<Utc>,
}

/// Puts `bell` in the bell of every subscriber `recipients` selects (with `$1` tenant, `$2`
/// incident) and queues `letter` to those with an address, once per `key_prefix`, incident and
/// subscriber (the same key for both): one statement. Returns the letters queued.
async fn queue_letters(
    tx: &mut TenantTx,
    incident: Uuid,
    site: &Site,
    letter: &Bilingual,
    bell: Bell<'_>,
    key_prefix: &str,
    recipients: &str,
) -> Result<u64, TicketingError> {
    let tenant = tx.tenant();
    Ok(sqlx::query(&format!(
        "WITH bell AS ( \
           INSERT INTO notifications (tenant_id, id, subscriber_id, kind, event_key, incident_id, \
             incident_title, created_at) \
           SELECT $1, gen_random_uuid(), s.id, $13, $12 || $2 || ':' || s.id, $2, $14, $15 \
           FROM ({recipients}) s ON CONFLICT (tenant_id, event_key) DO NOTHING) \
         INSERT INTO mail_outbox (tenant_id, id, to_addr, from_name, reply_to, subject, \
           text_body, html_body, idempotency_key) \
         SELECT $1, gen_random_uuid(), {LETTER_COLUMNS}, $12 || $2 || ':' || s.id \
         FROM ({recipients}) s WHERE s.email IS NOT NULL \
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING"
    ))
    .bind(tenant.as_uuid())
    .bind(incident)
    .bind(&site.isp_name)
    .bind(&site.support_email)
    .bind(lang_code(site.language))
    .bind(&letter.ru.0)
    .bind(&letter.ru.1)
    .bind(&letter.ru.2)
    .bind(&letter.en.0)
    .bind(&letter.en.1)
    .bind(&letter.en.2)
    .bind(key_prefix)
    .bind(bell.kind)
    .bind(bell.title)
    .bind(bell.at)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// The ISP's incidents, newest first: the active ones, or the closed ones (at most `limit`).
pub async fn list(
    tx: &mut TenantTx,
    active: bool,
    limit: i64,
) -> Result<Vec<Incident>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "{INCIDENT_SELECT} WHERE i.tenant_id = $1 AND (i.closed_at IS NULL) = $2 \
         ORDER BY i.created_at DESC, i.id DESC LIMIT $3"
    ))
    .bind(tenant.as_uuid())
    .bind(active)
    .bind(limit.clamp(1, 200))
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .iter()
        .map(incident_from_row)
        .collect::<Result<_, _>>()?)
}

/// One incident with its linked tickets and updates (three statements, whatever the size).
pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<IncidentDetail, TicketingError> {
    let incident = fetch(tx, id).await?;
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT t.id, t.number, t.subject, t.status, s.full_name, s.account_number, \
           l.linked_by_staff_id IS NOT NULL AS by_staff, l.linked_at \
         FROM incident_tickets l \
         JOIN tickets t ON t.tenant_id = l.tenant_id AND t.id = l.ticket_id \
         JOIN subscribers s ON s.tenant_id = t.tenant_id AND s.id = t.subscriber_id \
         WHERE l.tenant_id = $1 AND l.incident_id = $2 ORDER BY t.number DESC LIMIT 500",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    let tickets = rows
        .iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            Ok(LinkedTicket {
                id: TicketId(r.try_get("id")?),
                number: r.try_get("number")?,
                subject: r.try_get("subject")?,
                status: crate::Status::parse(&status)
                    .ok_or_else(|| TicketingError::Corrupt(format!("status {status:?}")))?,
                subscriber_name: r.try_get("full_name")?,
                account_number: r.try_get("account_number")?,
                linked_by_staff: r.try_get("by_staff")?,
                linked_at: r.try_get("linked_at")?,
            })
        })
        .collect::<Result<Vec<_>, TicketingError>>()?;
    let rows = sqlx::query(
        "SELECT u.id, u.body, st.display_name, u.created_at FROM incident_updates u \
         JOIN staff st ON st.tenant_id = u.tenant_id AND st.id = u.author_staff_id \
         WHERE u.tenant_id = $1 AND u.incident_id = $2 ORDER BY u.created_at DESC, u.id DESC",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    let updates = rows
        .iter()
        .map(|r| {
            Ok(IncidentUpdate {
                id: r.try_get("id")?,
                body: r.try_get("body")?,
                author: r.try_get("display_name")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(IncidentDetail {
        incident,
        tickets,
        updates,
    })
}

/// Links the tickets with these numbers to an active incident. Unknown numbers are `Invalid`;
/// already linked ones are left as they are. Returns how many were newly linked.
pub async fn link_tickets(
    tx: &mut TenantTx,
    staff: StaffId,
    id: Uuid,
    numbers: &[i64],
    now: DateTime<Utc>,
) -> Result<u64, TicketingError> {
    if numbers.is_empty() || numbers.len() > LINK_MAX {
        return Err(invalid("ticket_numbers", "must list 1 to 200 tickets"));
    }
    lock_active(tx, id).await?;
    let tenant = tx.tenant();
    let mut numbers = numbers.to_vec();
    numbers.sort_unstable();
    numbers.dedup();
    let found: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tickets WHERE tenant_id = $1 AND number = ANY($2)",
    )
    .bind(tenant.as_uuid())
    .bind(&numbers)
    .fetch_one(tx.conn())
    .await?;
    if found != numbers.len() as i64 {
        return Err(invalid("ticket_numbers", "lists an unknown ticket"));
    }
    Ok(sqlx::query(
        "INSERT INTO incident_tickets (tenant_id, incident_id, ticket_id, linked_at, linked_by_staff_id) \
         SELECT $1, $2, t.id, $4, $5 FROM tickets t WHERE t.tenant_id = $1 AND t.number = ANY($3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&numbers)
    .bind(now)
    .bind(staff.as_uuid())
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Unlinks one ticket (a ticket linked by mistake). Returns whether it was linked.
pub async fn unlink_ticket(
    tx: &mut TenantTx,
    id: Uuid,
    ticket: TicketId,
) -> Result<bool, TicketingError> {
    lock_active(tx, id).await?;
    let tenant = tx.tenant();
    Ok(sqlx::query(
        "DELETE FROM incident_tickets WHERE tenant_id = $1 AND incident_id = $2 AND ticket_id = $3",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(ticket.as_uuid())
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

/// Posts an update: it goes into every linked ticket that is not closed as a public reply from
/// `staff` (with the reply notification and letter), in one statement. `request` is the
/// client's id for the update: posting it again changes nothing and returns the first one.
/// Returns the update and how many tickets it reached.
pub async fn post_update(
    tx: &mut TenantTx,
    staff: StaffId,
    id: Uuid,
    request: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(IncidentUpdate, u64), TicketingError> {
    let body = clean_text("body", body, MESSAGE_MAX)?;
    let tenant = tx.tenant();
    let existing = sqlx::query(
        "SELECT u.id, u.body, st.display_name, u.created_at FROM incident_updates u \
         JOIN staff st ON st.tenant_id = u.tenant_id AND st.id = u.author_staff_id \
         WHERE u.tenant_id = $1 AND u.id = $2 AND u.incident_id = $3",
    )
    .bind(tenant.as_uuid())
    .bind(request)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(r) = existing {
        return Ok((
            IncidentUpdate {
                id: r.try_get("id")?,
                body: r.try_get("body")?,
                author: r.try_get("display_name")?,
                created_at: r.try_get("created_at")?,
            },
            0,
        ));
    }
    lock_active(tx, id).await?;
    let row = sqlx::query(
        "WITH ins AS (INSERT INTO incident_updates (tenant_id, id, incident_id, body, author_staff_id, created_at) \
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id) \
         SELECT ins.id, st.display_name, i.title, i.message FROM ins \
         JOIN staff st ON st.tenant_id = $1 AND st.id = $5 \
         JOIN incidents i ON i.tenant_id = $1 AND i.id = $3",
    )
    .bind(tenant.as_uuid())
    .bind(request)
    .bind(id)
    .bind(&body)
    .bind(staff.as_uuid())
    .bind(now)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| invalid("id", "is used by another incident's update"))?;
    let author: String = row.try_get("display_name")?;
    let title: String = row.try_get("title")?;
    let site = site(tx).await?;
    // Subscribers the area covers now but did not at declaration (their session moved onto a
    // listed NAS) join the affected set and get the declaration's letter, once each.
    if cover(tx, id).await? > 0 {
        let message: String = row.try_get("message")?;
        tell_affected(tx, id, &site, &title, &message, now).await?;
    }
    let letter = update_letter(&site, &title, &body);
    // One message per linked ticket still with the ISP; its reply notification and letter are
    // keyed by the message like any staff reply's.
    let reached = sqlx::query(
        "WITH targets AS MATERIALIZED ( \
           SELECT t.id, t.subscriber_id, t.number, t.subject, gen_random_uuid() AS message_id \
           FROM incident_tickets l JOIN tickets t ON t.tenant_id = l.tenant_id AND t.id = l.ticket_id \
           WHERE l.tenant_id = $1 AND l.incident_id = $2 AND t.status <> 'closed' FOR UPDATE OF t), \
         msgs AS (INSERT INTO ticket_messages (tenant_id, id, ticket_id, author_staff_id, body, created_at) \
           SELECT $1, message_id, id, $13, $14, $15 FROM targets), \
         touched AS (UPDATE tickets t SET updated_at = $15, \
             first_responded_at = coalesce(t.first_responded_at, $15) \
           FROM targets WHERE t.tenant_id = $1 AND t.id = targets.id), \
         bell AS (INSERT INTO notifications (tenant_id, id, subscriber_id, ticket_id, kind, event_key, \
             ticket_number, ticket_subject, created_at) \
           SELECT $1, gen_random_uuid(), subscriber_id, id, 'ticket_reply', 'reply:' || message_id, \
             number, subject, $15 FROM targets ON CONFLICT (tenant_id, event_key) DO NOTHING), \
         mail AS (INSERT INTO mail_outbox (tenant_id, id, to_addr, from_name, reply_to, subject, \
             text_body, html_body, idempotency_key) \
           SELECT $1, gen_random_uuid(), s.email, $3, $4, \
             CASE WHEN coalesce(s.locale, $5) = 'en' THEN $9 ELSE $6 END, \
             replace(CASE WHEN coalesce(s.locale, $5) = 'en' THEN $10 ELSE $7 END, '{ticket}', tg.id::text), \
             replace(CASE WHEN coalesce(s.locale, $5) = 'en' THEN $11 ELSE $8 END, '{ticket}', tg.id::text), \
             $12 || tg.message_id \
           FROM targets tg JOIN subscribers s ON s.tenant_id = $1 AND s.id = tg.subscriber_id \
           WHERE s.email IS NOT NULL ON CONFLICT (tenant_id, idempotency_key) DO NOTHING), \
         notice AS (INSERT INTO notifications (tenant_id, id, subscriber_id, kind, event_key, \
             incident_id, incident_title, created_at) \
           SELECT $1, gen_random_uuid(), x.subscriber_id, 'incident_update', \
             'incident-update:' || $16 || ':' || x.subscriber_id, $2, $17, $15 \
           FROM incident_subscribers x WHERE x.tenant_id = $1 AND x.incident_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM targets tg WHERE tg.subscriber_id = x.subscriber_id) \
           ON CONFLICT (tenant_id, event_key) DO NOTHING) \
         SELECT count(*) FROM targets",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&site.isp_name)
    .bind(&site.support_email)
    .bind(lang_code(site.language))
    .bind(&letter.ru.0)
    .bind(&letter.ru.1)
    .bind(&letter.ru.2)
    .bind(&letter.en.0)
    .bind(&letter.en.1)
    .bind(&letter.en.2)
    .bind("reply:")
    .bind(staff.as_uuid())
    .bind(&body)
    .bind(now)
    .bind(request)
    .bind(&title)
    .fetch_one(tx.conn())
    .await?
    .try_get::<i64, _>(0)?;
    Ok((
        IncidentUpdate {
            id: request,
            body,
            author,
            created_at: now,
        },
        u64::try_from(reached).unwrap_or(0),
    ))
}

/// Closes an incident: every linked ticket still new, open or waiting is resolved in one
/// statement (status event and notification each), and the affected subscribers and the linked
/// tickets' subscribers get one "service restored" letter. Returns the closed incident and how
/// many tickets were resolved.
pub async fn close(
    tx: &mut TenantTx,
    staff: StaffId,
    id: Uuid,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Incident, u64), TicketingError> {
    let message = message
        .map(|m| clean_text("message", m, MESSAGE_MAX))
        .transpose()?;
    lock_active(tx, id).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE incidents SET closed_at = $3, closed_by_staff_id = $4, close_message = $5 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(now)
    .bind(staff.as_uuid())
    .bind(&message)
    .execute(tx.conn())
    .await?;
    let resolved: i64 = sqlx::query_scalar(
        "WITH targets AS MATERIALIZED ( \
           SELECT t.id, t.status, t.subscriber_id, t.number, t.subject, gen_random_uuid() AS event_id \
           FROM incident_tickets l JOIN tickets t ON t.tenant_id = l.tenant_id AND t.id = l.ticket_id \
           WHERE l.tenant_id = $1 AND l.incident_id = $2 \
             AND t.status IN ('new', 'open', 'waiting_on_customer') FOR UPDATE OF t), \
         upd AS (UPDATE tickets t SET status = 'resolved', resolved_at = $4, updated_at = $4, \
             sla_paused_at = coalesce(t.sla_paused_at, $4) \
           FROM targets WHERE t.tenant_id = $1 AND t.id = targets.id), \
         ev AS (INSERT INTO ticket_events (tenant_id, id, ticket_id, actor_staff_id, kind, old_value, \
             new_value, created_at) \
           SELECT $1, event_id, id, $3, 'status', status, 'resolved', $4 FROM targets), \
         bell AS (INSERT INTO notifications (tenant_id, id, subscriber_id, ticket_id, kind, event_key, \
             ticket_number, ticket_subject, status, created_at) \
           SELECT $1, gen_random_uuid(), subscriber_id, id, 'ticket_status', 'status:' || event_id, \
             number, subject, 'resolved', $4 FROM targets ON CONFLICT (tenant_id, event_key) DO NOTHING) \
         SELECT count(*) FROM targets",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(staff.as_uuid())
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    let incident = fetch(tx, id).await?;
    let site = site(tx).await?;
    let letter = closed_letter(&site, &incident.title, message.as_deref());
    queue_letters(
        tx,
        id,
        &site,
        &letter,
        Bell {
            kind: "incident_restored",
            title: &incident.title,
            at: now,
        },
        "incident-closed:",
        "SELECT s.* FROM subscribers s WHERE s.tenant_id = $1 AND s.id IN ( \
           SELECT x.subscriber_id FROM incident_subscribers x \
           WHERE x.tenant_id = $1 AND x.incident_id = $2 \
           UNION SELECT t.subscriber_id FROM incident_tickets l \
           JOIN tickets t ON t.tenant_id = l.tenant_id AND t.id = l.ticket_id \
           WHERE l.tenant_id = $1 AND l.incident_id = $2)",
    )
    .await?;
    Ok((incident, u64::try_from(resolved).unwrap_or(0)))
}

/// Active incidents covering the subscriber, newest first, each with its latest update.
pub async fn active_for_subscriber(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Vec<ActiveOutage>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT i.id, i.title, i.message, i.started_at, u.body, u.created_at AS updated_at \
         FROM incident_subscribers x \
         JOIN incidents i ON i.tenant_id = x.tenant_id AND i.id = x.incident_id \
         LEFT JOIN LATERAL (SELECT body, created_at FROM incident_updates u \
             WHERE u.tenant_id = i.tenant_id AND u.incident_id = i.id \
             ORDER BY u.created_at DESC, u.id DESC LIMIT 1) u ON true \
         WHERE x.tenant_id = $1 AND x.subscriber_id = $2 AND i.closed_at IS NULL \
         ORDER BY i.started_at DESC, i.id DESC LIMIT 10",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(ActiveOutage {
                id: r.try_get("id")?,
                title: r.try_get("title")?,
                message: r.try_get("message")?,
                started_at: r.try_get("started_at")?,
                latest_update: r.try_get("body")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// NAS whose accounting stopped: nothing came from it for `quiet_minutes` (but within the last
/// day), and sessions alive near its last accounting were neither stopped nor continued — the
/// NAS went silent, not its subscribers. A NAS an active incident already covers (by id or area
/// code), or whose current silence staff dismissed, is left out.
pub async fn suggested(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
    quiet_minutes: i64,
) -> Result<Vec<SuggestedIncident>, TicketingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "WITH last AS ( \
           SELECT r.nas_id, max(r.updated_at) AS last_at FROM radius_sessions r \
           WHERE r.tenant_id = $1 AND r.updated_at > $2 - interval '1 day' GROUP BY r.nas_id) \
         SELECT n.id, n.name, n.area, l.last_at, \
           (SELECT count(*) FROM radius_sessions r WHERE r.tenant_id = $1 AND r.nas_id = n.id \
              AND r.state IN ('open', 'stale') AND r.updated_at > l.last_at - interval '1 hour') AS sessions \
         FROM last l JOIN nas n ON n.tenant_id = $1 AND n.id = l.nas_id \
         WHERE l.last_at < $2 - make_interval(mins => $3::int) \
           AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.tenant_id = $1 AND i.closed_at IS NULL \
                 AND (n.id = ANY(i.nas_ids) OR (n.area <> '' AND lower(n.area) IN \
                      (SELECT lower(a) FROM unnest(i.area_codes) a)))) \
           AND NOT EXISTS (SELECT 1 FROM incident_suggestion_dismissals d WHERE d.tenant_id = $1 \
                 AND d.nas_id = n.id AND d.silent_since >= l.last_at) \
         ORDER BY l.last_at, n.name",
    )
    .bind(tenant.as_uuid())
    .bind(now)
    .bind(i32::try_from(quiet_minutes.clamp(1, 1440)).unwrap_or(15))
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let sessions: i64 = r.try_get("sessions")?;
        if sessions == 0 {
            continue;
        }
        out.push(SuggestedIncident {
            nas_id: r.try_get("id")?,
            nas_name: r.try_get("name")?,
            area: r.try_get("area")?,
            sessions,
            last_accounting_at: r.try_get("last_at")?,
        });
    }
    Ok(out)
}

/// Dismisses the suggestion for `nas` for its current silence (staff know why it is quiet);
/// returns the last accounting the dismissal covers. Once the NAS sends accounting again, a
/// later silence is suggested anew. Dismissing twice keeps one row. `NotFound` for a NAS that
/// never sent accounting (there is no silence to dismiss) or is not this ISP's.
pub async fn dismiss_suggestion(
    tx: &mut TenantTx,
    nas: Uuid,
    staff: StaffId,
) -> Result<DateTime<Utc>, TicketingError> {
    let tenant = tx.tenant();
    sqlx::query_scalar(
        "INSERT INTO incident_suggestion_dismissals (tenant_id, nas_id, silent_since, dismissed_by_staff_id) \
         SELECT $1, n.id, last.at, $3 FROM nas n \
           CROSS JOIN LATERAL (SELECT max(r.updated_at) AS at FROM radius_sessions r \
                               WHERE r.tenant_id = $1 AND r.nas_id = n.id) last \
         WHERE n.tenant_id = $1 AND n.id = $2 AND last.at IS NOT NULL \
         ON CONFLICT (tenant_id, nas_id) DO UPDATE SET silent_since = EXCLUDED.silent_since, \
           dismissed_by_staff_id = EXCLUDED.dismissed_by_staff_id, dismissed_at = now() \
         RETURNING silent_since",
    )
    .bind(tenant.as_uuid())
    .bind(nas)
    .bind(staff.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_trimmed_and_deduplicated() {
        let out = clean_list(
            "area_codes",
            &[" North ".into(), "north".into(), "South".into()],
        )
        .expect("a clean list");
        assert_eq!(out, vec!["North".to_owned(), "South".to_owned()]);
        assert!(clean_list("area_codes", &["  ".into()]).is_err());
        assert!(clean_list("area_codes", &["a\nb".into()]).is_err());
    }

    #[test]
    fn letters_escape_html_and_speak_both_languages() {
        let site = Site {
            isp_name: "Демо".into(),
            language: Language::Ru,
            support_email: None,
            base_url: "https://demo.example".into(),
        };
        let l = declared_letter(&site, "Нет связи <Север>", "Чиним");
        assert!(l.ru.0.starts_with("Авария: Нет связи <Север>"));
        assert!(l.ru.2.contains("&lt;Север&gt;"));
        assert!(l.en.1.contains("Чиним"));
        let u = update_letter(&site, "X", "Y");
        assert!(u.ru.1.contains("https://demo.example/tickets/{ticket}"));
    }
}
