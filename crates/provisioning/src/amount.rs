//! Money amounts as people write them in manifests ("1250.50", "-300", 990), parsed exactly to
//! minor units. Floats never appear: a TOML float is refused with a hint to quote it.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount in minor units (two decimal places).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub i64);

impl Amount {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim().replace(['_', ' '], "");
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let bad = || format!("{raw:?} is not an amount like \"1250.50\"");
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || frac.len() > 2
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        let minor = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(bad)?;
        Ok(Self(if negative { -minor } else { minor }))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AmountVisitor;
        impl Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount as a string (\"1250.50\") or a whole number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                Amount::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                v.checked_mul(100)
                    .map(Amount)
                    .ok_or_else(|| E::custom("amount too large"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(100))
                    .map(Amount)
                    .ok_or_else(|| E::custom("amount too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                Err(E::custom(format!(
                    "write amounts as strings (\"{v}\"), not floating-point numbers"
                )))
            }
        }
        d.deserialize_any(AmountVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::Amount;

    #[test]
    fn parses_exact_minor_units() {
        assert_eq!(Amount::parse("1250.50"), Ok(Amount(125_050)));
        assert_eq!(Amount::parse("-300"), Ok(Amount(-30_000)));
        assert_eq!(Amount::parse("0.5"), Ok(Amount(50)));
        assert_eq!(Amount::parse("1 000.05"), Ok(Amount(100_005)));
        for bad in [
            "",
            "1.234",
            "abc",
            "1e3",
            "--1",
            ".5",
            "99999999999999999999",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Amount(-5).to_string(), "-0.05");
        assert_eq!(Amount(125_050).to_string(), "1250.50");
    }
}
