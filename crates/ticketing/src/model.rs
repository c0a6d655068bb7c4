use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use kabinet_core::{SubscriberId, TicketId};
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
    /// What a ticket is about; drives routing and analytics.
    Category {
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
}

#[derive(Clone, Debug)]
pub struct TicketDetail {
    pub summary: TicketSummary,
    pub messages: Vec<TicketMessage>,
}

#[derive(Clone, Debug, Default)]
pub struct QueueFilter {
    pub status: Option<Status>,
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
    fn categories_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
        }
    }
}
