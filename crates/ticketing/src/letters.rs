//! The letters subscribers get about their tickets, in the ISP's own words when it has some
//! (`letter_templates`, per letter kind and language), else the built-in ones.
//!
//! A subject and a body are [`LetterTemplate`]s: text with `{{ticket.number}}`-style
//! placeholders, parsed when saved so an unknown or unclosed one is refused then (the same
//! rules as canned replies). The body's first paragraph is the greeting, the rest are
//! paragraphs; the quoted reply, the button to the ticket and the ISP's signature are the
//! layout's (`kabinet_mail::HtmlLetter`), so an ISP cannot lose the link. The built-in letters
//! are templates too, so one renderer makes both. `notifications` reads an ISP's template in the
//! same statement that records the notification.

use chrono::{DateTime, Utc};
use kabinet_core::StaffId;
use kabinet_db::{TenantTx, sqlx};
use kabinet_mail::{HtmlLetter, Language};
use sqlx::Row;

use crate::model::Status;
use crate::repo::TicketingError;

const SUBJECT_MAX: usize = 200;
const BODY_MAX: usize = 5000;

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("unknown placeholder {{{{{name}}}}} in the {field}; known here: {known}")]
    UnknownPlaceholder {
        field: &'static str,
        name: String,
        known: String,
    },
    #[error("a placeholder opened with {{{{ in the {0} is not closed with }}}}")]
    UnclosedPlaceholder(&'static str),
    #[error(transparent)]
    Ticketing(#[from] TicketingError),
}

impl From<sqlx::Error> for LetterError {
    fn from(e: sqlx::Error) -> Self {
        Self::Ticketing(e.into())
    }
}

/// Which letter: one per thing that happens to a subscriber's ticket.
// The names are the stored and wire values (`ticket_reply`…), letters about tickets.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LetterKind {
    /// Staff answered.
    TicketReply,
    /// Staff moved the ticket to another status.
    TicketStatus,
    /// The answer is overdue; the ISP is on it.
    TicketOverdue,
    /// Staff joined the ticket with another one; the conversation goes on there.
    TicketMerged,
}

impl LetterKind {
    pub const ALL: [LetterKind; 4] = [
        Self::TicketReply,
        Self::TicketStatus,
        Self::TicketOverdue,
        Self::TicketMerged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TicketReply => "ticket_reply",
            Self::TicketStatus => "ticket_status",
            Self::TicketOverdue => "ticket_overdue",
            Self::TicketMerged => "ticket_merged",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// The placeholders this letter can carry (a status only where there is one).
    pub fn placeholders(self) -> &'static [LetterPlaceholder] {
        use LetterPlaceholder as P;
        match self {
            Self::TicketStatus => &[
                P::SubscriberName,
                P::TicketNumber,
                P::TicketSubject,
                P::TicketStatus,
                P::IspName,
            ],
            Self::TicketMerged => &[
                P::SubscriberName,
                P::TicketNumber,
                P::TicketSubject,
                P::MergedIntoNumber,
                P::IspName,
            ],
            Self::TicketReply | Self::TicketOverdue => &[
                P::SubscriberName,
                P::TicketNumber,
                P::TicketSubject,
                P::IspName,
            ],
        }
    }
}

pub fn language_code(lang: Language) -> &'static str {
    match lang {
        Language::Ru => "ru",
        Language::En => "en",
    }
}

pub fn parse_language(raw: &str) -> Option<Language> {
    match raw {
        "ru" => Some(Language::Ru),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// A value a letter can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LetterPlaceholder {
    SubscriberName,
    TicketNumber,
    TicketSubject,
    /// The new status, in the letter's language.
    TicketStatus,
    /// The number of the ticket a merged one went into.
    MergedIntoNumber,
    IspName,
}

impl LetterPlaceholder {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubscriberName => "subscriber.name",
            Self::TicketNumber => "ticket.number",
            Self::TicketSubject => "ticket.subject",
            Self::TicketStatus => "ticket.status",
            Self::MergedIntoNumber => "merged_into.number",
            Self::IspName => "isp.name",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(LetterPlaceholder),
}

/// A parsed subject or body: literal text and placeholders. `{{ name }}` (spaces inside
/// allowed) is a placeholder; single braces are text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterTemplate(Vec<Segment>);

/// What the placeholders stand for in one letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterValues {
    pub subscriber_name: String,
    pub ticket_number: i64,
    pub ticket_subject: String,
    pub status: Option<Status>,
    /// The ticket a merged one went into (merge letters only).
    pub merged_into_number: Option<i64>,
    pub isp_name: String,
}

impl LetterTemplate {
    /// `field` names the part (`subject`, `body`) in errors.
    pub fn parse(kind: LetterKind, field: &'static str, raw: &str) -> Result<Self, LetterError> {
        let known = kind.placeholders();
        let mut segments = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or(LetterError::UnclosedPlaceholder(field))?;
            let name = after[..close].trim();
            let placeholder = known
                .iter()
                .copied()
                .find(|p| p.as_str() == name)
                .ok_or_else(|| LetterError::UnknownPlaceholder {
                    field,
                    name: name.to_owned(),
                    known: known
                        .iter()
                        .map(|p| format!("{{{{{}}}}}", p.as_str()))
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            segments.push(Segment::Field(placeholder));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_owned()));
        }
        Ok(Self(segments))
    }

    pub fn render(&self, lang: Language, values: &LetterValues) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Field(p) => match p {
                    LetterPlaceholder::SubscriberName => out.push_str(&values.subscriber_name),
                    LetterPlaceholder::TicketNumber => {
                        out.push_str(&values.ticket_number.to_string());
                    }
                    LetterPlaceholder::TicketSubject => out.push_str(&values.ticket_subject),
                    LetterPlaceholder::TicketStatus => {
                        out.push_str(values.status.map(|s| status_label(s, lang)).unwrap_or(""));
                    }
                    LetterPlaceholder::MergedIntoNumber => {
                        if let Some(n) = values.merged_into_number {
                            out.push_str(&n.to_string());
                        }
                    }
                    LetterPlaceholder::IspName => out.push_str(&values.isp_name),
                },
            }
        }
        out
    }
}

pub(crate) fn status_label(status: Status, lang: Language) -> &'static str {
    match (lang, status) {
        (Language::Ru, Status::New) => "новое",
        (Language::Ru, Status::Open) => "в работе",
        (Language::Ru, Status::WaitingOnCustomer) => "ждёт вашего ответа",
        (Language::Ru, Status::Resolved) => "решено",
        (Language::Ru, Status::Closed) => "закрыто",
        (Language::En, Status::New) => "new",
        (Language::En, Status::Open) => "in progress",
        (Language::En, Status::WaitingOnCustomer) => "waiting for your answer",
        (Language::En, Status::Resolved) => "resolved",
        (Language::En, Status::Closed) => "closed",
    }
}

/// The built-in subject and body of a letter, as template text.
pub fn default_text(kind: LetterKind, lang: Language) -> (&'static str, &'static str) {
    match (lang, kind) {
        (Language::Ru, LetterKind::TicketReply) => (
            "Ответ по обращению №{{ticket.number}} — {{isp.name}}",
            "Здравствуйте, {{subscriber.name}}!\n\nСпециалист {{isp.name}} ответил на ваше \
             обращение №{{ticket.number}} «{{ticket.subject}}».",
        ),
        (Language::Ru, LetterKind::TicketStatus) => (
            "Обращение №{{ticket.number}}: {{ticket.status}} — {{isp.name}}",
            "Здравствуйте, {{subscriber.name}}!\n\nСтатус вашего обращения №{{ticket.number}} \
             «{{ticket.subject}}» изменён: {{ticket.status}}.",
        ),
        (Language::Ru, LetterKind::TicketOverdue) => (
            "Мы помним о вашем обращении №{{ticket.number}} — {{isp.name}}",
            "Здравствуйте, {{subscriber.name}}!\n\nОтвет на ваше обращение №{{ticket.number}} \
             «{{ticket.subject}}» задерживается. Мы знаем об этом и уже работаем над ним — \
             специалист {{isp.name}} ответит вам как можно скорее. Приносим извинения за ожидание.",
        ),
        (Language::Ru, LetterKind::TicketMerged) => (
            "Обращение №{{ticket.number}} объединено с №{{merged_into.number}} — {{isp.name}}",
            "Здравствуйте, {{subscriber.name}}!\n\nВаше обращение №{{ticket.number}} \
             «{{ticket.subject}}» объединено с обращением №{{merged_into.number}}: вся переписка \
             теперь там. Следите за ответами в обращении №{{merged_into.number}}.",
        ),
        (Language::En, LetterKind::TicketReply) => (
            "New reply to your ticket #{{ticket.number}} — {{isp.name}}",
            "Hello {{subscriber.name}},\n\n{{isp.name}} support replied to your ticket \
             #{{ticket.number}} \"{{ticket.subject}}\".",
        ),
        (Language::En, LetterKind::TicketStatus) => (
            "Ticket #{{ticket.number}}: {{ticket.status}} — {{isp.name}}",
            "Hello {{subscriber.name}},\n\nYour ticket #{{ticket.number}} \"{{ticket.subject}}\" \
             is now {{ticket.status}}.",
        ),
        (Language::En, LetterKind::TicketOverdue) => (
            "We haven't forgotten your ticket #{{ticket.number}} — {{isp.name}}",
            "Hello {{subscriber.name}},\n\nOur answer to your ticket #{{ticket.number}} \
             \"{{ticket.subject}}\" is taking longer than it should. We know, and we are on it: \
             {{isp.name}} support will get back to you as soon as possible. Sorry for the wait.",
        ),
        (Language::En, LetterKind::TicketMerged) => (
            "Ticket #{{ticket.number}} was joined with #{{merged_into.number}} — {{isp.name}}",
            "Hello {{subscriber.name}},\n\nYour request #{{ticket.number}} \"{{ticket.subject}}\" \
             was joined with #{{merged_into.number}}, and the whole conversation is there now. \
             Follow it in ticket #{{merged_into.number}}.",
        ),
    }
}

/// A letter ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedLetter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A quoted reply is cut at 1,000 characters: the letter points to the ticket for the rest.
pub(crate) fn excerpt(text: &str) -> String {
    let mut cut: String = text.chars().take(1000).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// A subject on one line: a template cannot start a second header.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The letter from a subject and body template: the body's first paragraph greets, the rest
/// follow; then the quote, the button to `link` and the ISP's signature.
pub fn render(
    subject: &LetterTemplate,
    body: &LetterTemplate,
    lang: Language,
    values: &LetterValues,
    quote: Option<&str>,
    link: &str,
) -> RenderedLetter {
    let subject = one_line(&subject.render(lang, values));
    let body = body.render(lang, values).replace("\r\n", "\n");
    let paragraphs: Vec<&str> = body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let quote = quote.map(excerpt);
    let isp = &values.isp_name;
    let button = match lang {
        Language::Ru => "Открыть обращение",
        Language::En => "Open the ticket",
    };
    let quoted = quote
        .as_deref()
        .map(|q| {
            format!(
                "{}\n\n",
                q.lines()
                    .map(|l| format!("> {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
        .unwrap_or_default();
    let text = format!("{}\n\n{quoted}{link}\n\n— {isp}\n", paragraphs.join("\n\n"));
    let mut html = HtmlLetter::new(paragraphs.first().copied().unwrap_or(""));
    for p in paragraphs.iter().skip(1) {
        html = html.paragraph(p);
    }
    if let Some(q) = &quote {
        html = html.quote(q);
    }
    let html = html.button(link, button).signature(&[isp]).finish();
    RenderedLetter {
        subject,
        text,
        html,
    }
}

/// Renders stored template text, falling back to the built-in letter if the text no longer
/// parses (it was checked when saved; a placeholder retired since must not stop the mail).
pub(crate) fn render_stored(
    kind: LetterKind,
    lang: Language,
    stored: Option<(&str, &str)>,
    values: &LetterValues,
    quote: Option<&str>,
    link: &str,
) -> RenderedLetter {
    let parsed = stored.and_then(|(s, b)| {
        match (
            LetterTemplate::parse(kind, "subject", s),
            LetterTemplate::parse(kind, "body", b),
        ) {
            (Ok(s), Ok(b)) => Some((s, b)),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(kind = kind.as_str(), error = %e, "stored letter template skipped");
                None
            }
        }
    });
    let (subject, body) = parsed.unwrap_or_else(|| defaults(kind, lang));
    render(&subject, &body, lang, values, quote, link)
}

fn defaults(kind: LetterKind, lang: Language) -> (LetterTemplate, LetterTemplate) {
    let (s, b) = default_text(kind, lang);
    // INVARIANT: the built-in texts use only their kind's placeholders (tested below).
    (
        LetterTemplate::parse(kind, "subject", s).unwrap_or(LetterTemplate(Vec::new())),
        LetterTemplate::parse(kind, "body", b).unwrap_or(LetterTemplate(Vec::new())),
    )
}

/// One letter as the ISP sees it in the editor.
#[derive(Clone, Debug)]
pub struct LetterTemplateView {
    pub kind: LetterKind,
    pub language: Language,
    pub subject: String,
    pub body: String,
    /// The ISP's own wording (else the built-in one is shown).
    pub customized: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Every letter kind in both languages, the ISP's wording where it has one.
pub async fn list_templates(tx: &mut TenantTx) -> Result<Vec<LetterTemplateView>, LetterError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT kind, language, subject, body, updated_at FROM letter_templates \
         WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::new();
    for kind in LetterKind::ALL {
        for language in [Language::Ru, Language::En] {
            let stored = rows.iter().find(|r| {
                r.try_get::<String, _>("kind").ok().as_deref() == Some(kind.as_str())
                    && r.try_get::<String, _>("language").ok().as_deref()
                        == Some(language_code(language))
            });
            out.push(match stored {
                Some(r) => LetterTemplateView {
                    kind,
                    language,
                    subject: r.try_get("subject")?,
                    body: r.try_get("body")?,
                    customized: true,
                    updated_at: Some(r.try_get("updated_at")?),
                },
                None => {
                    let (subject, body) = default_text(kind, language);
                    LetterTemplateView {
                        kind,
                        language,
                        subject: subject.to_owned(),
                        body: body.to_owned(),
                        customized: false,
                        updated_at: None,
                    }
                }
            });
        }
    }
    Ok(out)
}

fn checked(
    kind: LetterKind,
    subject: &str,
    body: &str,
) -> Result<(LetterTemplate, LetterTemplate), LetterError> {
    let invalid = |field: &'static str, reason: &str| {
        LetterError::Ticketing(TicketingError::Invalid {
            field,
            reason: reason.to_owned(),
        })
    };
    let subject_len = subject.trim().chars().count();
    if subject_len == 0 || subject_len > SUBJECT_MAX {
        return Err(invalid("subject", "must be 1 to 200 characters"));
    }
    let body_len = body.trim().chars().count();
    if body_len == 0 || body_len > BODY_MAX {
        return Err(invalid("body", "must be 1 to 5000 characters"));
    }
    Ok((
        LetterTemplate::parse(kind, "subject", subject)?,
        LetterTemplate::parse(kind, "body", body)?,
    ))
}

/// Saves the ISP's wording of a letter (checked first). Returns what was there before, for
/// the audit log.
pub async fn put_template(
    tx: &mut TenantTx,
    kind: LetterKind,
    language: Language,
    subject: &str,
    body: &str,
    by: StaffId,
) -> Result<LetterTemplateView, LetterError> {
    checked(kind, subject, body)?;
    let tenant = tx.tenant();
    let updated_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO letter_templates (tenant_id, kind, language, subject, body, updated_by_staff_id) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, kind, language) DO UPDATE SET subject = EXCLUDED.subject, \
           body = EXCLUDED.body, updated_by_staff_id = EXCLUDED.updated_by_staff_id, \
           updated_at = now() \
         RETURNING updated_at",
    )
    .bind(tenant.as_uuid())
    .bind(kind.as_str())
    .bind(language_code(language))
    .bind(subject.trim())
    .bind(body.trim())
    .bind(by.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    Ok(LetterTemplateView {
        kind,
        language,
        subject: subject.trim().to_owned(),
        body: body.trim().to_owned(),
        customized: true,
        updated_at: Some(updated_at),
    })
}

/// Back to the built-in letter. Returns whether the ISP had its own wording.
pub async fn reset_template(
    tx: &mut TenantTx,
    kind: LetterKind,
    language: Language,
) -> Result<bool, LetterError> {
    let tenant = tx.tenant();
    let deleted = sqlx::query(
        "DELETE FROM letter_templates WHERE tenant_id = $1 AND kind = $2 AND language = $3",
    )
    .bind(tenant.as_uuid())
    .bind(kind.as_str())
    .bind(language_code(language))
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(deleted > 0)
}

/// The letter as a subscriber would get it, from unsaved text and sample values (the ISP's
/// real name and host).
pub async fn preview(
    tx: &mut TenantTx,
    kind: LetterKind,
    language: Language,
    subject: &str,
    body: &str,
) -> Result<RenderedLetter, LetterError> {
    let (subject, body) = checked(kind, subject, body)?;
    let site = crate::notifications::site(tx).await?;
    let values = sample_values(language, &site.isp_name);
    let quote = match (kind, language) {
        (LetterKind::TicketReply, Language::Ru) => Some("Перезагрузите роутер, пожалуйста."),
        (LetterKind::TicketReply, Language::En) => Some("Please restart your router."),
        _ => None,
    };
    let link = format!("{}/tickets/…", site.base_url);
    Ok(render(&subject, &body, language, &values, quote, &link))
}

fn sample_values(language: Language, isp_name: &str) -> LetterValues {
    let (name, subject) = match language {
        Language::Ru => ("Иван Петров", "Нет интернета"),
        Language::En => ("Ivan Petrov", "No internet"),
    };
    LetterValues {
        subscriber_name: name.to_owned(),
        ticket_number: 1234,
        ticket_subject: subject.to_owned(),
        status: Some(Status::Resolved),
        merged_into_number: Some(1240),
        isp_name: isp_name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> LetterValues {
        LetterValues {
            subscriber_name: "Иван".into(),
            ticket_number: 7,
            ticket_subject: "Нет <интернета>".into(),
            status: Some(Status::Resolved),
            merged_into_number: None,
            isp_name: "Демо".into(),
        }
    }

    #[test]
    fn every_built_in_letter_parses() {
        for kind in LetterKind::ALL {
            for lang in [Language::Ru, Language::En] {
                let (s, b) = default_text(kind, lang);
                LetterTemplate::parse(kind, "subject", s).expect("subject");
                LetterTemplate::parse(kind, "body", b).expect("body");
            }
        }
    }

    #[test]
    fn unknown_unclosed_and_out_of_place_placeholders_are_refused() {
        let kind = LetterKind::TicketReply;
        assert!(matches!(
            LetterTemplate::parse(kind, "body", "Hi {{subscriber.nick}}"),
            Err(LetterError::UnknownPlaceholder { name, .. }) if name == "subscriber.nick"
        ));
        assert!(matches!(
            LetterTemplate::parse(kind, "subject", "Hi {{isp.name"),
            Err(LetterError::UnclosedPlaceholder("subject"))
        ));
        // A reply has no status to tell.
        assert!(LetterTemplate::parse(kind, "body", "{{ticket.status}}").is_err());
        assert!(
            LetterTemplate::parse(LetterKind::TicketStatus, "body", "{{ ticket.status }}").is_ok()
        );
    }

    #[test]
    fn a_template_renders_paragraphs_quote_link_and_escapes_html() {
        let kind = LetterKind::TicketStatus;
        let subject =
            LetterTemplate::parse(kind, "subject", "№{{ticket.number}}\r\n{{ticket.status}}")
                .expect("subject");
        let body = LetterTemplate::parse(
            kind,
            "body",
            "Добрый день, {{subscriber.name}}!\n\n«{{ticket.subject}}»: {{ticket.status}}.",
        )
        .expect("body");
        let letter = render(
            &subject,
            &body,
            Language::Ru,
            &values(),
            Some("<b>"),
            "https://demo.example/tickets/1",
        );
        assert_eq!(letter.subject, "№7 решено");
        assert!(
            letter
                .text
                .starts_with("Добрый день, Иван!\n\n«Нет <интернета>»: решено.")
        );
        assert!(
            letter
                .text
                .contains("> <b>\n\nhttps://demo.example/tickets/1")
        );
        assert!(letter.html.contains("&lt;интернета&gt;") && !letter.html.contains("<b>"));
        assert!(letter.html.contains("Открыть обращение"));
    }
}
