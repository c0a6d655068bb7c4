//! Money as integer minor units with an ISO 4217 currency. No floats anywhere near money.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 alphabetic code, validated to three ASCII upper-case letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code such as RUB or EUR, got {0:?}")]
    BadCurrency(String),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflows")]
    Overflow,
}

impl Currency {
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let bytes = code.as_bytes();
        if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase) {
            Ok(Self([bytes[0], bytes[1], bytes[2]]))
        } else {
            Err(MoneyError::BadCurrency(code.to_owned()))
        }
    }

    pub fn code(&self) -> &str {
        // INVARIANT: constructed only from three ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money: `minor` units (kopecks, cents) of `currency`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }
}

impl fmt::Display for Money {
    /// Two-decimal display for logs and CLI output; the web formats with the locale.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rub() -> Currency {
        Currency::parse("RUB").expect("valid code")
    }

    #[test]
    fn currency_rejects_anything_but_three_upper_case_letters() {
        for bad in ["rub", "RU", "RUBL", "R1B", ""] {
            assert!(Currency::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(rub().code(), "RUB");
    }

    #[test]
    fn adding_different_currencies_is_an_error() {
        let eur = Currency::parse("EUR").expect("valid code");
        let sum = Money::new(1, rub()).checked_add(Money::new(1, eur));
        assert!(matches!(sum, Err(MoneyError::CurrencyMismatch(..))));
    }

    #[test]
    fn adding_detects_overflow() {
        let sum = Money::new(i64::MAX, rub()).checked_add(Money::new(1, rub()));
        assert_eq!(sum, Err(MoneyError::Overflow));
    }

    #[test]
    fn displays_minor_units_with_two_decimals() {
        assert_eq!(Money::new(-12345, rub()).to_string(), "-123.45 RUB");
        assert_eq!(Money::new(5, rub()).to_string(), "0.05 RUB");
    }
}
