use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use kabinet_core::{StaffId, SubscriberId, TicketId};
use uuid::Uuid;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

string_enum!(
    /// What kind of thing a ticket category is about: the nine built-in categories. A category
    /// the ISP adds picks one; the kind (not the code) drives behaviour such as outage linking.
    CategoryKind {
        Connectivity => "connectivity",
        Speed => "speed",
        Payments => "payments",
        Tariff => "tariff",
        Addons => "addons",
        Equipment => "equipment",
        Complaint => "complaint",
        AccountSecurity => "account_security",
        Other => "other",
    }
);

/// A ticket category's code: one of the ISP's `ticket_categories` (see
/// [`crate::categories`]). [`Category::parse`] checks only the shape
/// (`^[a-z][a-z0-9_]{1,39}$`); whether the ISP has the category is the database's business.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category(Cow<'static, str>);

macro_rules! built_in_categories {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// The built-in codes, which every ISP has.
        #[allow(non_upper_case_globals)]
        impl Category {
            $(pub const $variant: Category = Category(Cow::Borrowed($text));)+
            pub const ALL: &'static [Category] = &[$(Self::$variant),+];
        }
    };
}

built_in_categories!(
    Connectivity => "connectivity",
    Speed => "speed",
    Payments => "payments",
    Tariff => "tariff",
    Addons => "addons",
    Equipment => "equipment",
    Complaint => "complaint",
    AccountSecurity => "account_security",
    Other => "other",
);

impl Category {
    pub const CODE_MAX: usize = 40;

    /// A well-formed code (`^[a-z][a-z0-9_]{1,39}$`), known to the ISP or not.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut chars = raw.chars();
        let ok = raw.len() >= 2
            && raw.len() <= Self::CODE_MAX
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        ok.then(|| match CategoryKind::parse(raw) {
            Some(kind) => Self::from(kind),
            None => Self(Cow::Owned(raw.to_owned())),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<CategoryKind> for Category {
    fn from(kind: CategoryKind) -> Self {
        Self(Cow::Borrowed(kind.as_str()))
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

string_enum!(
    /// new → open → waiting on customer → resolved → closed (and reopen).
    Status {
        New => "new",
        Open => "open",
        WaitingOnCustomer => "waiting_on_customer",
        Resolved => "resolved",
        Closed => "closed",
    }
);

string_enum!(
    /// How urgent a ticket is; picks the SLA targets.
    Priority {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
);

impl Priority {
    /// One step up, for an SLA breach (urgent stays urgent).
    pub fn raised(self) -> Self {
        match self {
            Self::Low => Self::Normal,
            Self::Normal => Self::High,
            Self::High | Self::Urgent => Self::Urgent,
        }
    }
}

impl Status {
    /// Whether staff may move a ticket from `self` to `next`. Closed is final (the subscriber
    /// opens a new ticket); nothing goes back to new.
    pub fn can_move_to(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (New, Open | WaitingOnCustomer | Resolved | Closed)
                | (Open, WaitingOnCustomer | Resolved | Closed)
                | (WaitingOnCustomer, Open | Resolved | Closed)
                | (Resolved, Open | Closed)
        )
    }

    /// The SLA clock runs only while the ball is in the ISP's court.
    pub fn sla_running(self) -> bool {
        matches!(self, Status::New | Status::Open)
    }
}

/// A tag as stored: trimmed, lower case, inner whitespace collapsed to one space; letters,
/// digits, space, `-`, `_` and `.` only; 1–40 characters.
pub fn normalize_tag(raw: &str) -> Option<String> {
    let tag = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let ok = !tag.is_empty()
        && tag.chars().count() <= 40
        && tag
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
    ok.then_some(tag)
}

/// Who did something to a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Staff(StaffId),
    Subscriber(SubscriberId),
    /// The SLA worker, auto-close.
    System,
}

#[derive(Clone, Debug)]
pub struct NewTicket {
    pub subscriber: SubscriberId,
    pub category: Category,
    pub subject: String,
    pub description: String,
}

#[derive(Clone, Debug)]
pub struct TicketSummary {
    pub id: TicketId,
    pub number: i64,
    pub subject: String,
    pub category: Category,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub subscriber_name: String,
    pub account_number: String,
    pub priority: Priority,
    pub assignee: Option<StaffRef>,
    pub tags: Vec<String>,
    pub sla: SlaState,
    pub resolved_at: Option<DateTime<Utc>>,
    /// While resolved: until when the subscriber may reopen it.
    pub reopen_until: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRef {
    pub id: StaffId,
    pub display_name: String,
}

/// Where a ticket stands against its SLA.
#[derive(Clone, Debug, Default)]
pub struct SlaState {
    pub first_response_due_at: Option<DateTime<Utc>>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    pub first_response_breached: bool,
    pub resolution_breached: bool,
    /// A due time has passed and the ticket is still with the ISP.
    pub overdue: bool,
    /// The clock stands (waiting on the customer, resolved).
    pub paused: bool,
}

impl SlaState {
    /// When the subscriber should hear from the ISP next: the first response while there has
    /// been none, then the resolution; nothing while the ball is in the subscriber's court.
    pub fn answer_due_at(&self, status: Status) -> Option<DateTime<Utc>> {
        if !status.sla_running() {
            return None;
        }
        if self.first_responded_at.is_none() {
            self.first_response_due_at
        } else {
            self.resolution_due_at
        }
    }
}

string_enum!(
    /// What an event records.
    EventKind {
        Status => "status",
        Priority => "priority",
        Assignee => "assignee",
        TagAdded => "tag_added",
        TagRemoved => "tag_removed",
        FirstResponseWarning => "first_response_warning",
        FirstResponseBreach => "first_response_breach",
        ResolutionWarning => "resolution_warning",
        ResolutionBreach => "resolution_breach",
        // A merge ([`crate::merge`]): on the merged ticket the target's number is the new
        // value; on the target the merged ticket's number is the old value.
        MergedInto => "merged_into",
        MergedFrom => "merged_from",
        // The subscriber rated the resolution; the score is the new value.
        Rated => "rated",
    }
);

/// A change to a ticket, shown as a system line in the staff thread.
#[derive(Clone, Debug)]
pub struct TicketEvent {
    pub id: Uuid,
    pub kind: EventKind,
    /// Staff or subscriber name; `None` for the system.
    pub actor_name: Option<String>,
    pub actor_is_staff: bool,
    /// Previous and new value: a status, priority or tag; for an assignment the staff
    /// member's display name (`None`: unassigned).
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An internal note: staff only.
#[derive(Clone, Debug)]
pub struct TicketNote {
    pub id: Uuid,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub attachments: Vec<crate::attachments::Attachment>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    Subscriber,
    Staff,
}

#[derive(Clone, Debug)]
pub struct TicketMessage {
    pub id: Uuid,
    pub author: Author,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub attachments: Vec<crate::attachments::Attachment>,
}

#[derive(Clone, Debug)]
pub struct TicketDetail {
    pub summary: TicketSummary,
    pub messages: Vec<TicketMessage>,
    /// Staff views only; always empty for the subscriber.
    pub notes: Vec<TicketNote>,
    /// Staff views only; always empty for the subscriber.
    pub events: Vec<TicketEvent>,
}

/// Whose tickets a queue shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    Staff(StaffId),
    Unassigned,
}

#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub category: Option<Category>,
    pub assignee: Option<AssigneeFilter>,
    /// Only tickets with this (normalised) tag.
    pub tag: Option<String>,
    /// Only tickets past a due time and still with the ISP.
    pub overdue: bool,
}

/// Keyset position in the queue: the (updated_at, id) of the last row seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueCursor {
    pub updated_at: DateTime<Utc>,
    pub id: Uuid,
}

impl QueueCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}|{}",
            self.updated_at.timestamp_micros(),
            self.id
        ))
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (micros, id) = text.split_once('|')?;
        Some(Self {
            updated_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

#[derive(Clone, Debug)]
pub struct QueuePage {
    pub items: Vec<TicketSummary>,
    pub next: Option<QueueCursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = QueueCursor {
            updated_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).expect("time"),
            id: Uuid::now_v7(),
        };
        assert_eq!(QueueCursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "!!!", "bm90LWEtY3Vyc29y"] {
            assert_eq!(QueueCursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_the_legal_moves_are_allowed() {
        use Status::*;
        let legal = [
            (New, Open),
            (New, WaitingOnCustomer),
            (New, Resolved),
            (New, Closed),
            (Open, WaitingOnCustomer),
            (Open, Resolved),
            (Open, Closed),
            (WaitingOnCustomer, Open),
            (WaitingOnCustomer, Resolved),
            (WaitingOnCustomer, Closed),
            (Resolved, Open),
            (Resolved, Closed),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_move_to(*to),
                    legal.contains(&(*from, *to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn tags_are_normalised() {
        assert_eq!(normalize_tag("  Fiber   Cut "), Some("fiber cut".into()));
        assert_eq!(normalize_tag("ОПТИКА"), Some("оптика".into()));
        assert_eq!(
            normalize_tag("vip-client_2.0"),
            Some("vip-client_2.0".into())
        );
        for bad in ["", "   ", "a,b", "<b>", &"x".repeat(41)] {
            assert_eq!(normalize_tag(bad), None, "{bad}");
        }
    }

    #[test]
    fn priority_raises_one_step() {
        assert_eq!(Priority::Low.raised(), Priority::Normal);
        assert_eq!(Priority::High.raised(), Priority::Urgent);
        assert_eq!(Priority::Urgent.raised(), Priority::Urgent);
    }

    #[test]
    fn categories_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()).as_ref(), Some(c));
        }
        for k in CategoryKind::ALL {
            assert_eq!(Category::from(*k).as_str(), k.as_str());
        }
    }

    #[test]
    fn category_codes_are_checked_for_shape() {
        for good in ["ab", "dacha_link", "vip2", &"x".repeat(40)] {
            assert_eq!(
                Category::parse(good).map(|c| c.to_string()).as_deref(),
                Some(good)
            );
        }
        for bad in [
            "",
            "a",
            "1abc",
            "_x",
            "Dacha",
            "da-cha",
            "da cha",
            &"x".repeat(41),
            "сеть",
        ] {
            assert_eq!(Category::parse(bad), None, "{bad}");
        }
    }
}
