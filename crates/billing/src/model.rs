use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use kabinet_core::{Money, StaffId, SubscriberId};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    /// Blocked for debt: the balance fell below the negative of the credit limit.
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

/// What a ledger transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionKind {
    OpeningBalance,
    Payment,
    Charge,
    Refund,
    Correction,
    Reversal,
    PromisedCredit,
    PromisedRepayment,
}

impl TransactionKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OpeningBalance => "opening_balance",
            Self::Payment => "payment",
            Self::Charge => "charge",
            Self::Refund => "refund",
            Self::Correction => "correction",
            Self::Reversal => "reversal",
            Self::PromisedCredit => "promised_credit",
            Self::PromisedRepayment => "promised_repayment",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::OpeningBalance,
            Self::Payment,
            Self::Charge,
            Self::Refund,
            Self::Correction,
            Self::Reversal,
            Self::PromisedCredit,
            Self::PromisedRepayment,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// How money reached the ISP; each method has its own clearing account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMethod {
    Cash,
    BankTransfer,
    Card,
}

impl PaymentMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::BankTransfer => "bank_transfer",
            Self::Card => "card",
        }
    }
}

/// Where a ledger entry's money sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerAccount {
    /// The subscriber's prepaid balance.
    Subscriber(SubscriberId),
    /// Income from a kind of service (`tariff`, later `addon`, `equipment`).
    Revenue(&'static str),
    /// Money received through a payment method, on its way to the bank.
    Clearing(PaymentMethod),
    /// Opening balances and corrections: the other side of movements with no real counterparty.
    Adjustments,
    /// Temporary credit extended to subscribers (promised payments).
    PromisedCredit,
}

impl LedgerAccount {
    pub fn code(&self) -> String {
        match self {
            Self::Subscriber(_) => "subscriber".into(),
            Self::Revenue(service) => format!("revenue:{service}"),
            Self::Clearing(method) => format!("clearing:{}", method.as_str()),
            Self::Adjustments => "adjustments".into(),
            Self::PromisedCredit => "promised_credit".into(),
        }
    }

    pub fn subscriber(&self) -> Option<SubscriberId> {
        match self {
            Self::Subscriber(s) => Some(*s),
            _ => None,
        }
    }
}

/// One side of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub account: LedgerAccount,
    pub amount: Money,
}

/// A money movement to record. Its lines must sum to zero in one currency.
#[derive(Clone, Debug)]
pub struct NewTransaction {
    pub kind: TransactionKind,
    pub description: String,
    /// Unique per tenant: the same key twice is the same movement, recorded once.
    pub idempotency_key: String,
    pub subscriber: Option<SubscriberId>,
    pub staff: Option<StaffId>,
    pub reference: Option<String>,
    pub lines: Vec<Line>,
}

/// The outcome of recording a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posted {
    pub id: Uuid,
    /// False when the idempotency key had been used: nothing new was recorded.
    pub created: bool,
}

#[derive(Clone, Debug)]
pub struct TariffSpec {
    pub code: String,
    pub name: String,
    pub monthly_price: Money,
    /// Download speed; upload too unless `upload_speed_mbps` says otherwise.
    pub speed_mbps: i32,
    pub upload_speed_mbps: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TariffView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub monthly_price: Money,
    pub speed_mbps: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSummary {
    pub status: AccountStatus,
    /// The sum of the account's ledger entries.
    pub balance: Money,
    pub credit_limit: Money,
    pub tariff: Option<TariffView>,
}

/// One line of a subscriber's history (детализация): a movement and what it did to the balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryItem {
    pub transaction: Uuid,
    pub kind: TransactionKind,
    pub description: String,
    pub reference: Option<String>,
    /// Positive: the balance went up.
    pub amount: Money,
    pub at: DateTime<Utc>,
    /// A later reversal undid it (staff may reverse a movement once).
    pub reversed: bool,
}

/// A calendar month, the period of monthly charges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BillingMonth {
    pub year: i32,
    pub month: u32,
}

impl BillingMonth {
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    /// `[first day 00:00 UTC, first day of the next month 00:00 UTC)`.
    pub fn bounds(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), crate::BillingError> {
        use chrono::TimeZone;
        let first = |y: i32, m: u32| {
            NaiveDate::from_ymd_opt(y, m, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| Utc.from_utc_datetime(&d))
                .ok_or_else(|| crate::BillingError::Corrupt(format!("month {y}-{m}")))
        };
        let (ny, nm) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        Ok((first(self.year, self.month)?, first(ny, nm)?))
    }

    /// `2026-11`.
    pub fn parse(raw: &str) -> Option<Self> {
        let (y, m) = raw.split_once('-')?;
        let month: u32 = m.parse().ok()?;
        let year: i32 = y.parse().ok()?;
        (y.len() == 4 && m.len() == 2 && (1..=12).contains(&month)).then_some(Self { year, month })
    }
}

impl fmt::Display for BillingMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// What a charge run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChargeRun {
    /// Accounts charged their tariff by this run (not those already charged for the period).
    pub charged: u64,
    /// Add-on charges made by this run.
    pub addons_charged: u64,
    /// Accounts whose status changed afterwards (blocked for debt).
    pub blocked: u64,
}

/// A broken billing invariant, found by [`crate::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub what: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_months_parse_and_print() {
        assert_eq!(
            BillingMonth::parse("2026-11")
                .map(|m| m.to_string())
                .as_deref(),
            Some("2026-11")
        );
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", ""] {
            assert_eq!(BillingMonth::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ledger_account_codes_match_the_schema() {
        assert_eq!(LedgerAccount::Revenue("tariff").code(), "revenue:tariff");
        assert_eq!(
            LedgerAccount::Clearing(PaymentMethod::BankTransfer).code(),
            "clearing:bank_transfer"
        );
        assert_eq!(LedgerAccount::Adjustments.code(), "adjustments");
    }
}
