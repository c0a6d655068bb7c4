//! Canned replies with placeholders (subscriber name, account, balance).
//!
//! The team's shared answers (`canned_replies`). A body is a [`Template`]: text with
//! `{{subscriber.name}}`-style placeholders, parsed when saved so an unknown placeholder is
//! refused then, not discovered in front of a subscriber. [`render_for_ticket`] fills one in for
//! a ticket, from one query; the agent edits the result before sending it as a reply.

use chrono::{DateTime, Utc};
use kabinet_core::{Currency, Money, StaffId, TicketId};
use kabinet_db::{TenantTx, constraint_name, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::model::normalize_tag;
use crate::repo::{TicketingError, clean_text};

const TITLE_MAX: usize = 120;
const BODY_MAX: usize = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum CannedError {
    #[error("unknown placeholder {{{{{0}}}}}; known: {known}", known = Placeholder::known_list())]
    UnknownPlaceholder(String),
    #[error("a placeholder opened with {{{{ is not closed with }}}}")]
    UnclosedPlaceholder,
    #[error("a canned reply with this title already exists")]
    TitleTaken,
    #[error(transparent)]
    Ticketing(#[from] TicketingError),
}

impl From<sqlx::Error> for CannedError {
    fn from(e: sqlx::Error) -> Self {
        Self::Ticketing(e.into())
    }
}

/// A value a canned reply can carry, filled in per ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholder {
    SubscriberName,
    AccountNumber,
    /// The prepaid balance with its currency, e.g. `-123.45 RUB`.
    AccountBalance,
    TicketNumber,
    TicketSubject,
    /// The agent who uses the reply.
    AgentName,
}

impl Placeholder {
    pub const ALL: [Placeholder; 6] = [
        Self::SubscriberName,
        Self::AccountNumber,
        Self::AccountBalance,
        Self::TicketNumber,
        Self::TicketSubject,
        Self::AgentName,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::SubscriberName => "subscriber.name",
            Self::AccountNumber => "account.number",
            Self::AccountBalance => "account.balance",
            Self::TicketNumber => "ticket.number",
            Self::TicketSubject => "ticket.subject",
            Self::AgentName => "agent.name",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    fn known_list() -> String {
        Self::ALL
            .iter()
            .map(|p| format!("{{{{{}}}}}", p.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(Placeholder),
}

/// A parsed canned-reply body: literal text and placeholders. `{{ name }}` (spaces inside are
/// allowed) is a placeholder; single braces are text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template(Vec<Segment>);

/// What the placeholders stand for on one ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Values {
    pub subscriber_name: String,
    pub account_number: String,
    /// `None`: the subscriber has no account yet (renders as nothing).
    pub balance: Option<Money>,
    pub ticket_number: i64,
    pub ticket_subject: String,
    pub agent_name: String,
}

impl Template {
    pub fn parse(raw: &str) -> Result<Self, CannedError> {
        let mut segments = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or(CannedError::UnclosedPlaceholder)?;
            let name = after[..close].trim();
            let field = Placeholder::parse(name)
                .ok_or_else(|| CannedError::UnknownPlaceholder(name.to_owned()))?;
            segments.push(Segment::Field(field));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_owned()));
        }
        Ok(Self(segments))
    }

    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.0.iter().filter_map(|s| match s {
            Segment::Field(p) => Some(*p),
            Segment::Text(_) => None,
        })
    }

    pub fn render(&self, values: &Values) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Field(p) => match p {
                    Placeholder::SubscriberName => out.push_str(&values.subscriber_name),
                    Placeholder::AccountNumber => out.push_str(&values.account_number),
                    Placeholder::AccountBalance => {
                        if let Some(balance) = values.balance {
                            out.push_str(&balance.to_string());
                        }
                    }
                    Placeholder::TicketNumber => out.push_str(&values.ticket_number.to_string()),
                    Placeholder::TicketSubject => out.push_str(&values.ticket_subject),
                    Placeholder::AgentName => out.push_str(&values.agent_name),
                },
            }
        }
        out
    }
}

/// A canned reply as staff write it.
#[derive(Clone, Debug)]
pub struct CannedSpec {
    pub title: String,
    pub body: String,
    pub category: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedReply {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Checked fields: trimmed title and body, a body whose placeholders are all known, the
/// category normalised like a tag.
struct Clean {
    title: String,
    body: String,
    category: Option<String>,
}

fn clean(spec: &CannedSpec) -> Result<Clean, CannedError> {
    let title = clean_text("title", &spec.title, TITLE_MAX)?;
    if title.contains(['\n', '\r', '\t']) {
        return Err(TicketingError::Invalid {
            field: "title",
            reason: "must be a single line".into(),
        }
        .into());
    }
    let body = clean_text("body", &spec.body, BODY_MAX)?;
    Template::parse(&body)?;
    let category = match spec.category.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(normalize_tag(raw).ok_or_else(|| TicketingError::Invalid {
            field: "category",
            reason: "must be 1–40 letters, digits, spaces, '-', '_' or '.'".into(),
        })?),
    };
    Ok(Clean {
        title,
        body,
        category,
    })
}

fn title_taken(e: sqlx::Error) -> CannedError {
    if constraint_name(&e) == Some("canned_replies_title_key") {
        CannedError::TitleTaken
    } else {
        e.into()
    }
}

fn from_row(row: &PgRow) -> Result<CannedReply, sqlx::Error> {
    Ok(CannedReply {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        category: row.try_get("category")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const COLUMNS: &str = "id, title, body, category, created_at, updated_at";

/// The ISP's canned replies by title, optionally only one category and only those whose title
/// or body contains `search` (case-insensitive). A small list per ISP: at most 500.
pub async fn list_canned(
    tx: &mut TenantTx,
    search: Option<&str>,
    category: Option<&str>,
) -> Result<Vec<CannedReply>, CannedError> {
    let tenant = tx.tenant();
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let category = category.and_then(normalize_tag);
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM canned_replies \
         WHERE tenant_id = $1 AND ($2::text IS NULL OR category = $2) \
           AND ($3::text IS NULL OR strpos(lower(title || ' ' || body), lower($3)) > 0) \
         ORDER BY title, id LIMIT 500"
    ))
    .bind(tenant.as_uuid())
    .bind(category)
    .bind(search)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn create_canned(
    tx: &mut TenantTx,
    staff: StaffId,
    spec: &CannedSpec,
) -> Result<CannedReply, CannedError> {
    let c = clean(spec)?;
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "INSERT INTO canned_replies (tenant_id, id, title, body, category, created_by_staff_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(&c.title)
    .bind(&c.body)
    .bind(&c.category)
    .bind(staff.as_uuid())
    .fetch_one(tx.conn())
    .await
    .map_err(title_taken)?;
    Ok(from_row(&row)?)
}

pub async fn update_canned(
    tx: &mut TenantTx,
    id: Uuid,
    spec: &CannedSpec,
) -> Result<CannedReply, CannedError> {
    let c = clean(spec)?;
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "UPDATE canned_replies SET title = $3, body = $4, category = $5, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&c.title)
    .bind(&c.body)
    .bind(&c.category)
    .fetch_optional(tx.conn())
    .await
    .map_err(title_taken)?
    .ok_or(TicketingError::NotFound)?;
    Ok(from_row(&row)?)
}

/// Deletes a canned reply and returns what it was (for the audit log).
pub async fn delete_canned(tx: &mut TenantTx, id: Uuid) -> Result<CannedReply, CannedError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "DELETE FROM canned_replies WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)?;
    Ok(from_row(&row)?)
}

/// Canned reply `id` filled in for `ticket` as `agent` would send it: one query reads the
/// template, the ticket, its subscriber, their account balance and the agent's name. Either id
/// unknown (or another ISP's) is `NotFound`.
pub async fn render_for_ticket(
    tx: &mut TenantTx,
    id: Uuid,
    ticket: TicketId,
    agent: StaffId,
) -> Result<String, CannedError> {
    let tenant = tx.tenant();
    let row = sqlx::query(
        "SELECT c.body, s.full_name, s.account_number, t.number, t.subject, \
                a.balance_minor, a.currency, st.display_name AS agent_name \
         FROM canned_replies c \
         JOIN tickets t ON t.tenant_id = c.tenant_id AND t.id = $3 \
         JOIN subscribers s ON s.tenant_id = t.tenant_id AND s.id = t.subscriber_id \
         JOIN staff st ON st.tenant_id = c.tenant_id AND st.id = $4 \
         LEFT JOIN accounts a ON a.tenant_id = t.tenant_id AND a.subscriber_id = t.subscriber_id \
         WHERE c.tenant_id = $1 AND c.id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(ticket.as_uuid())
    .bind(agent.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)?;
    let body: String = row.try_get("body")?;
    let minor: Option<i64> = row.try_get("balance_minor")?;
    let currency: Option<String> = row.try_get("currency")?;
    let balance = match (minor, currency) {
        (Some(minor), Some(code)) => Some(Money::new(
            minor,
            Currency::parse(code.trim())
                .map_err(|_| TicketingError::Corrupt(format!("currency {code:?}")))?,
        )),
        _ => None,
    };
    let values = Values {
        subscriber_name: row.try_get("full_name")?,
        account_number: row.try_get("account_number")?,
        balance,
        ticket_number: row.try_get("number")?,
        ticket_subject: row.try_get("subject")?,
        agent_name: row.try_get("agent_name")?,
    };
    // Saved bodies were parsed when written; one that no longer parses is corrupt data.
    let template = Template::parse(&body)
        .map_err(|e| TicketingError::Corrupt(format!("canned reply {id}: {e}")))?;
    Ok(template.render(&values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            subscriber_name: "Иван Петров".into(),
            account_number: "100200".into(),
            balance: Some(Money::new(-12_345, Currency::parse("RUB").expect("rub"))),
            ticket_number: 42,
            ticket_subject: "No internet".into(),
            agent_name: "Anna".into(),
        }
    }

    #[test]
    fn placeholders_are_filled_in_place() {
        let t = Template::parse(
            "Hello, {{subscriber.name}}! Account {{ account.number }}: {{account.balance}}. \
             Ticket #{{ticket.number}} ({{ticket.subject}}). — {{agent.name}}",
        )
        .expect("parses");
        assert_eq!(
            t.render(&values()),
            "Hello, Иван Петров! Account 100200: -123.45 RUB. Ticket #42 (No internet). — Anna"
        );
        assert_eq!(t.placeholders().count(), 6);
    }

    #[test]
    fn single_braces_and_plain_text_stay_text() {
        let t = Template::parse("{a} }} {b}").expect("parses");
        assert_eq!(t.render(&values()), "{a} }} {b}");
        assert_eq!(Template::parse("").expect("empty").render(&values()), "");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_refused() {
        assert!(matches!(
            Template::parse("Hi {{subscriber.password}}"),
            Err(CannedError::UnknownPlaceholder(name)) if name == "subscriber.password"
        ));
        assert!(matches!(
            Template::parse("Hi {{}}"),
            Err(CannedError::UnknownPlaceholder(name)) if name.is_empty()
        ));
        assert!(matches!(
            Template::parse("Hi {{subscriber.name"),
            Err(CannedError::UnclosedPlaceholder)
        ));
    }

    #[test]
    fn a_missing_account_renders_no_balance() {
        let mut v = values();
        v.balance = None;
        let t = Template::parse("[{{account.balance}}]").expect("parses");
        assert_eq!(t.render(&v), "[]");
    }

    #[test]
    fn every_placeholder_round_trips() {
        for p in Placeholder::ALL {
            assert_eq!(Placeholder::parse(p.as_str()), Some(p));
        }
    }
}
