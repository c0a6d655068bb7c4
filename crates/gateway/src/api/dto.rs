//! Wire types: what the API promises, separate from domain types so either can change alone.

use chrono::{DateTime, Utc};
use kabinet_ticketing::{
    Author, Category, EventKind, Priority, Status, TicketDetail, TicketEvent as DomainTicketEvent,
    TicketMessage, TicketNote as DomainTicketNote, TicketSummary,
};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use super::text::Text;

/// An amount in integer minor units (kopecks, cents) of an ISO 4217 currency.
#[derive(Debug, Object)]
pub struct Money {
    pub minor: i64,
    pub currency: String,
}

impl From<kabinet_core::Money> for Money {
    fn from(m: kabinet_core::Money) -> Self {
        Self {
            minor: m.minor,
            currency: m.currency.code().to_owned(),
        }
    }
}

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Locale {
    Ru,
    En,
}

/// How the ISP's portal looks.
#[derive(Debug, Object)]
pub struct Branding {
    pub slug: String,
    pub name: String,
    pub primary_color: String,
    pub accent_color: String,
    #[oai(skip_serializing_if_is_none)]
    pub logo_url: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub support_email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub support_phone: Option<String>,
    pub default_locale: Locale,
}

impl From<&kabinet_tenancy::Tenant> for Branding {
    fn from(t: &kabinet_tenancy::Tenant) -> Self {
        Self {
            slug: t.slug.to_string(),
            name: t.display_name.clone(),
            primary_color: t
                .branding
                .primary_color
                .clone()
                .unwrap_or_else(|| "#1f6feb".into()),
            accent_color: t
                .branding
                .accent_color
                .clone()
                .unwrap_or_else(|| "#f97316".into()),
            logo_url: t.branding.logo_url.clone(),
            support_email: t.branding.support_email.clone(),
            support_phone: t.branding.support_phone.clone(),
            default_locale: match t.default_locale {
                kabinet_tenancy::Locale::Ru => Locale::Ru,
                kabinet_tenancy::Locale::En => Locale::En,
            },
        }
    }
}

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum SiteKind {
    /// An ISP's portal and console.
    Tenant,
    /// The operator console.
    Platform,
}

#[derive(Debug, Object)]
pub struct Site {
    pub kind: SiteKind,
    /// Present on a tenant site.
    #[oai(skip_serializing_if_is_none)]
    pub branding: Option<Branding>,
    /// Whether subscribers may sign in yet: a new ISP publishes its portal once it is set up.
    pub published: bool,
}

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum PrincipalKind {
    Subscriber,
    Staff,
    Operator,
}

/// The signed-in principal and the CSRF token to send as `X-CSRF-Token`.
#[derive(Debug, Object)]
pub struct SessionInfo {
    pub kind: PrincipalKind,
    pub display_name: String,
    pub csrf_token: String,
    /// Staff roles (empty for others).
    pub roles: Vec<String>,
    /// Staff permissions, `object.action` (empty for others).
    pub permissions: Vec<String>,
    /// Staff only: the ISP requires two-factor sign-in and it is not set up yet. Until it is,
    /// `permissions` is empty and every console action answers `two_factor_required`.
    pub two_factor_required: bool,
    /// Staff console only: this session is a platform operator's support visit (show the banner).
    #[oai(skip_serializing_if_is_none)]
    pub impersonation: Option<super::operator_support::VisitBanner>,
}

#[derive(Debug, Object)]
pub struct SubscriberLogin {
    /// Account number, e-mail or phone.
    #[oai(validator(min_length = 1, max_length = 254))]
    pub login: Text,
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub password: Text,
}

#[derive(Debug, Object)]
pub struct EmailLogin {
    #[oai(validator(min_length = 3, max_length = 254))]
    pub email: Text,
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub password: Text,
}

/// A ticket category's code: one of the ISP's categories (`GET /me/ticket-categories`,
/// `GET /console/ticket-categories`). The shape is checked here (400); a code the ISP does not
/// have (or, for a new ticket, has switched off) is 422 `unknown_category`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCategory(pub Category);

impl TicketCategory {
    fn parse(raw: &str) -> Result<Self, String> {
        Category::parse(raw)
            .map(Self)
            .ok_or_else(|| format!("category must match {CATEGORY_PATTERN}"))
    }
}

const CATEGORY_PATTERN: &str = "^[a-z][a-z0-9_]{1,39}$";

impl From<TicketCategory> for Category {
    fn from(c: TicketCategory) -> Self {
        c.0
    }
}

impl From<Category> for TicketCategory {
    fn from(c: Category) -> Self {
        Self(c)
    }
}

impl poem_openapi::types::Type for TicketCategory {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        "string(ticket_category)".into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        poem_openapi::registry::MetaSchemaRef::Inline(Box::new(
            poem_openapi::registry::MetaSchema {
                pattern: Some(CATEGORY_PATTERN.into()),
                min_length: Some(2),
                max_length: Some(40),
                ..poem_openapi::registry::MetaSchema::new("string")
            },
        ))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl poem_openapi::types::ParseFromJSON for TicketCategory {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value.unwrap_or_default() {
            serde_json::Value::String(s) => {
                Self::parse(&s).map_err(poem_openapi::types::ParseError::custom)
            }
            other => Err(poem_openapi::types::ParseError::expected_type(other)),
        }
    }
}

impl poem_openapi::types::ParseFromParameter for TicketCategory {
    fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
        Self::parse(value).map_err(poem_openapi::types::ParseError::custom)
    }
}

impl poem_openapi::types::ParseFromMultipartField for TicketCategory {
    async fn parse_from_multipart(
        field: Option<poem::web::Field>,
    ) -> poem_openapi::types::ParseResult<Self> {
        let text = match field {
            Some(field) => field
                .text()
                .await
                .map_err(poem_openapi::types::ParseError::custom)?,
            None => return Err(poem_openapi::types::ParseError::expected_input()),
        };
        Self::parse(&text).map_err(poem_openapi::types::ParseError::custom)
    }
}

impl poem_openapi::types::ToJSON for TicketCategory {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.to_string()))
    }
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum TicketStatus {
    New,
    Open,
    WaitingOnCustomer,
    Resolved,
    Closed,
}

impl From<TicketStatus> for Status {
    fn from(s: TicketStatus) -> Self {
        match s {
            TicketStatus::New => Status::New,
            TicketStatus::Open => Status::Open,
            TicketStatus::WaitingOnCustomer => Status::WaitingOnCustomer,
            TicketStatus::Resolved => Status::Resolved,
            TicketStatus::Closed => Status::Closed,
        }
    }
}

impl From<Status> for TicketStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::New => Self::New,
            Status::Open => Self::Open,
            Status::WaitingOnCustomer => Self::WaitingOnCustomer,
            Status::Resolved => Self::Resolved,
            Status::Closed => Self::Closed,
        }
    }
}

/// How urgent a ticket is; picks its SLA targets.
#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum TicketPriority {
    Low,
    Normal,
    High,
    Urgent,
}

impl From<TicketPriority> for Priority {
    fn from(p: TicketPriority) -> Self {
        match p {
            TicketPriority::Low => Priority::Low,
            TicketPriority::Normal => Priority::Normal,
            TicketPriority::High => Priority::High,
            TicketPriority::Urgent => Priority::Urgent,
        }
    }
}

impl From<Priority> for TicketPriority {
    fn from(p: Priority) -> Self {
        match p {
            Priority::Low => Self::Low,
            Priority::Normal => Self::Normal,
            Priority::High => Self::High,
            Priority::Urgent => Self::Urgent,
        }
    }
}

#[derive(Debug, Object)]
pub struct NewTicket {
    pub category: TicketCategory,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub subject: Text,
    #[oai(validator(min_length = 1, max_length = 20000))]
    pub description: Text,
}

#[derive(Debug, Object)]
pub struct NewMessage {
    #[oai(validator(min_length = 1, max_length = 20000))]
    pub body: Text,
}

#[derive(Debug, Object)]
pub struct Ticket {
    pub id: Uuid,
    /// Per-ISP ticket number, shown to people.
    pub number: i64,
    pub subject: String,
    pub category: TicketCategory,
    pub status: TicketStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Display name of the agent handling the ticket; absent while nobody is assigned.
    #[oai(skip_serializing_if_is_none)]
    pub agent_name: Option<String>,
    /// When the ISP's next answer is due (SLA); absent while the ticket waits on the
    /// subscriber, is resolved or closed.
    #[oai(skip_serializing_if_is_none)]
    pub answer_due_at: Option<DateTime<Utc>>,
    /// While resolved: until when the subscriber may reopen it (by replying or `reopen`).
    #[oai(skip_serializing_if_is_none)]
    pub reopen_until: Option<DateTime<Utc>>,
}

impl From<&TicketSummary> for Ticket {
    fn from(t: &TicketSummary) -> Self {
        Self {
            id: t.id.as_uuid(),
            number: t.number,
            subject: t.subject.clone(),
            category: t.category.clone().into(),
            status: t.status.into(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            agent_name: t.assignee.as_ref().map(|a| a.display_name.clone()),
            answer_due_at: t.sla.answer_due_at(t.status),
            reopen_until: t.reopen_until,
        }
    }
}

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AuthorKind {
    Subscriber,
    Staff,
}

#[derive(Debug, Object)]
pub struct Message {
    pub id: Uuid,
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// Files on this message, in upload order.
    pub attachments: Vec<super::ticket_files::TicketAttachment>,
}

impl From<TicketMessage> for Message {
    fn from(m: TicketMessage) -> Self {
        Self {
            id: m.id,
            author_kind: match m.author {
                Author::Subscriber => AuthorKind::Subscriber,
                Author::Staff => AuthorKind::Staff,
            },
            author_name: m.author_name,
            body: m.body,
            created_at: m.created_at,
            attachments: m.attachments.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct TicketList {
    pub items: Vec<Ticket>,
}

#[derive(Debug, Object)]
pub struct TicketThread {
    #[oai(flatten)]
    pub ticket: Ticket,
    pub messages: Vec<Message>,
}

impl From<TicketDetail> for TicketThread {
    fn from(d: TicketDetail) -> Self {
        Self {
            ticket: Ticket::from(&d.summary),
            messages: d.messages.into_iter().map(Message::from).collect(),
        }
    }
}

/// A staff member a ticket is assigned to.
#[derive(Debug, Object)]
pub struct TicketAssignee {
    pub id: Uuid,
    pub display_name: String,
}

/// Where a ticket stands against its SLA (targets in the ISP's business hours).
#[derive(Debug, Object)]
pub struct TicketSla {
    #[oai(skip_serializing_if_is_none)]
    pub first_response_due_at: Option<DateTime<Utc>>,
    /// The first public staff reply.
    #[oai(skip_serializing_if_is_none)]
    pub first_responded_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub first_response_breached: bool,
    pub resolution_breached: bool,
    /// A due time has passed and the ticket is still with the ISP (new or open).
    pub overdue: bool,
    /// The clock stands: waiting on the customer, or resolved.
    pub paused: bool,
}

/// A ticket in the agent queue: the ticket plus whose it is and its desk fields.
#[derive(Debug, Object)]
pub struct QueueTicket {
    #[oai(flatten)]
    pub ticket: Ticket,
    pub subscriber_name: String,
    pub account_number: String,
    pub priority: TicketPriority,
    #[oai(skip_serializing_if_is_none)]
    pub assignee: Option<TicketAssignee>,
    pub tags: Vec<String>,
    pub sla: TicketSla,
}

impl From<&TicketSummary> for QueueTicket {
    fn from(t: &TicketSummary) -> Self {
        Self {
            ticket: Ticket::from(t),
            subscriber_name: t.subscriber_name.clone(),
            account_number: t.account_number.clone(),
            priority: t.priority.into(),
            assignee: t.assignee.as_ref().map(|a| TicketAssignee {
                id: a.id.as_uuid(),
                display_name: a.display_name.clone(),
            }),
            tags: t.tags.clone(),
            sla: TicketSla {
                first_response_due_at: t.sla.first_response_due_at,
                first_responded_at: t.sla.first_responded_at,
                resolution_due_at: t.sla.resolution_due_at,
                first_response_breached: t.sla.first_response_breached,
                resolution_breached: t.sla.resolution_breached,
                overdue: t.sla.overdue,
                paused: t.sla.paused,
            },
        }
    }
}

/// An internal note: staff only, never shown to the subscriber.
#[derive(Debug, Object)]
pub struct TicketNote {
    pub id: Uuid,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// Files on this note: staff only, like the note.
    pub attachments: Vec<super::ticket_files::TicketAttachment>,
}

impl From<DomainTicketNote> for TicketNote {
    fn from(n: DomainTicketNote) -> Self {
        Self {
            id: n.id,
            author_name: n.author_name,
            body: n.body,
            created_at: n.created_at,
            attachments: n.attachments.into_iter().map(Into::into).collect(),
        }
    }
}

/// What a ticket event records.
#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum TicketEventKind {
    Status,
    Priority,
    Assignee,
    TagAdded,
    TagRemoved,
    FirstResponseWarning,
    FirstResponseBreach,
    ResolutionWarning,
    ResolutionBreach,
    /// This ticket was merged into ticket number `new_value`.
    MergedInto,
    /// Ticket number `old_value` was merged into this one.
    MergedFrom,
    /// The subscriber rated the resolution `new_value` (1–5).
    Rated,
}

impl From<EventKind> for TicketEventKind {
    fn from(k: EventKind) -> Self {
        match k {
            EventKind::Status => Self::Status,
            EventKind::Priority => Self::Priority,
            EventKind::Assignee => Self::Assignee,
            EventKind::TagAdded => Self::TagAdded,
            EventKind::TagRemoved => Self::TagRemoved,
            EventKind::FirstResponseWarning => Self::FirstResponseWarning,
            EventKind::FirstResponseBreach => Self::FirstResponseBreach,
            EventKind::ResolutionWarning => Self::ResolutionWarning,
            EventKind::ResolutionBreach => Self::ResolutionBreach,
            EventKind::MergedInto => Self::MergedInto,
            EventKind::MergedFrom => Self::MergedFrom,
            EventKind::Rated => Self::Rated,
        }
    }
}

/// A change to the ticket (a system line in the staff thread).
#[derive(Debug, Object)]
pub struct TicketEvent {
    pub id: Uuid,
    pub kind: TicketEventKind,
    /// Who did it; absent when the system did (SLA worker, auto-close).
    #[oai(skip_serializing_if_is_none)]
    pub actor_name: Option<String>,
    /// The value before: a status, priority, tag or the previous assignee's name.
    #[oai(skip_serializing_if_is_none)]
    pub old_value: Option<String>,
    /// The value after (absent for "unassigned" and removed tags).
    #[oai(skip_serializing_if_is_none)]
    pub new_value: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<DomainTicketEvent> for TicketEvent {
    fn from(e: DomainTicketEvent) -> Self {
        Self {
            id: e.id,
            kind: e.kind.into(),
            actor_name: e.actor_name,
            old_value: e.old_value,
            new_value: e.new_value,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct QueuePage {
    pub items: Vec<QueueTicket>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct QueueTicketThread {
    #[oai(flatten)]
    pub ticket: QueueTicket,
    pub messages: Vec<Message>,
    /// Internal notes, oldest first.
    pub notes: Vec<TicketNote>,
    /// Status, priority, assignment, tag and SLA changes, oldest first.
    pub events: Vec<TicketEvent>,
}

impl From<TicketDetail> for QueueTicketThread {
    fn from(d: TicketDetail) -> Self {
        Self {
            ticket: QueueTicket::from(&d.summary),
            messages: d.messages.into_iter().map(Message::from).collect(),
            notes: d.notes.into_iter().map(TicketNote::from).collect(),
            events: d.events.into_iter().map(TicketEvent::from).collect(),
        }
    }
}

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum MovementKind {
    OpeningBalance,
    Payment,
    Charge,
    Refund,
    Correction,
    Reversal,
    /// Temporary credit taken by the subscriber.
    PromisedCredit,
    /// The promised credit settled (from a payment, or when it fell due).
    PromisedRepayment,
}

impl From<kabinet_billing::TransactionKind> for MovementKind {
    fn from(k: kabinet_billing::TransactionKind) -> Self {
        use kabinet_billing::TransactionKind as K;
        match k {
            K::OpeningBalance => Self::OpeningBalance,
            K::Payment => Self::Payment,
            K::Charge => Self::Charge,
            K::Refund => Self::Refund,
            K::Correction => Self::Correction,
            K::Reversal => Self::Reversal,
            K::PromisedCredit => Self::PromisedCredit,
            K::PromisedRepayment => Self::PromisedRepayment,
        }
    }
}

/// One movement of a subscriber's balance.
#[derive(Debug, Object)]
pub struct Movement {
    pub id: Uuid,
    pub kind: MovementKind,
    pub description: String,
    /// Receipt number or bank reference, for payments.
    #[oai(skip_serializing_if_is_none)]
    pub reference: Option<String>,
    /// What it did to the balance: positive for payments, negative for charges.
    pub amount: Money,
    pub at: DateTime<Utc>,
    /// Reversed by staff later (a reversal movement undoes it).
    pub reversed: bool,
}

impl From<kabinet_billing::HistoryItem> for Movement {
    fn from(h: kabinet_billing::HistoryItem) -> Self {
        Self {
            id: h.transaction,
            kind: h.kind.into(),
            description: h.description,
            reference: h.reference,
            amount: h.amount.into(),
            at: h.at,
            reversed: h.reversed,
        }
    }
}

#[derive(Debug, Object)]
pub struct MovementList {
    pub items: Vec<Movement>,
}

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    /// Blocked for debt: the balance is below the credit limit.
    Blocked,
    /// Voluntarily suspended by the subscriber.
    Suspended,
}

impl From<kabinet_billing::AccountStatus> for AccountStatus {
    fn from(s: kabinet_billing::AccountStatus) -> Self {
        match s {
            kabinet_billing::AccountStatus::Active => Self::Active,
            kabinet_billing::AccountStatus::Blocked => Self::Blocked,
            kabinet_billing::AccountStatus::Suspended => Self::Suspended,
        }
    }
}
