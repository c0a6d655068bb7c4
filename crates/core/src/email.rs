//! What every form that takes an e-mail address accepts: one rule for subscribers, staff,
//! signup and support contacts, so an address one form took is never refused by another.

/// `local@domain.tld`, at most 254 characters, no spaces or control characters. Deliverability
/// is the mail sender's business; this only catches typing mistakes.
pub fn is_plausible_email(raw: &str) -> bool {
    raw.len() <= 254
        && !raw.chars().any(|c| c.is_control() || c.is_whitespace())
        && match raw.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses_pass_and_typos_do_not() {
        assert!(is_plausible_email("anna@acme.example"));
        for bad in [
            "",
            "a@b",
            "@b.ru",
            "a b@c.ru",
            "a@@b.ru",
            "a@b.",
            "a@.b",
            "a\u{0}@b.ru",
        ] {
            assert!(!is_plausible_email(bad), "{bad:?}");
        }
        assert!(!is_plausible_email(&format!("{}@b.ru", "x".repeat(250))));
    }
}
