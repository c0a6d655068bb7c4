use kabinet_core::{Money, SubscriberId};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    /// Blocked for debt: the balance fell below the credit limit.
    Blocked,
    /// Voluntarily suspended by the subscriber.
    Suspended,
}

impl AccountStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Blocked => "blocked",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "blocked" => Some(Self::Blocked),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    OpeningBalance,
    Payment,
    Charge,
    Adjustment,
}

impl EntryKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OpeningBalance => "opening_balance",
            Self::Payment => "payment",
            Self::Charge => "charge",
            Self::Adjustment => "adjustment",
        }
    }
}

#[derive(Clone, Debug)]
pub struct TariffSpec {
    pub code: String,
    pub name: String,
    pub monthly_price: Money,
    pub speed_mbps: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TariffView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub monthly_price: Money,
    pub speed_mbps: i32,
}

#[derive(Clone, Debug)]
pub struct NewEntry {
    pub subscriber: SubscriberId,
    pub amount: Money,
    pub kind: EntryKind,
    pub description: String,
    /// Unique per tenant: the same key twice is the same movement, applied once.
    pub idempotency_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSummary {
    pub status: AccountStatus,
    /// The sum of the account's ledger entries.
    pub balance: Money,
    pub credit_limit: Money,
    pub tariff: Option<TariffView>,
}
