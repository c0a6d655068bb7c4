use std::fmt;

use chrono::{DateTime, Utc};
use kabinet_core::{Currency, TenantId};
use serde::{Deserialize, Serialize};

/// A tenant's subdomain label: lower-case letters, digits and inner hyphens, 1–32 characters,
/// and not one of the names the platform keeps for itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlugError {
    #[error(
        "a slug is 1-32 lower-case letters, digits or inner hyphens (like `north-net`), got {0:?}"
    )]
    Malformed(String),
    #[error("{0:?} is reserved by the platform")]
    Reserved(String),
}

/// Labels the platform serves itself or may need later; no ISP can take them.
pub const RESERVED_SLUGS: &[&str] = &[
    "admin", "api", "www", "app", "mail", "smtp", "static", "assets", "cdn", "status", "docs",
    "help", "support", "billing", "signup", "login", "console", "platform", "kabinet", "radius",
];

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, SlugError> {
        let ok_chars = raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if raw.is_empty()
            || raw.len() > 32
            || !ok_chars
            || raw.starts_with('-')
            || raw.ends_with('-')
        {
            return Err(SlugError::Malformed(raw.to_owned()));
        }
        if RESERVED_SLUGS.contains(&raw) {
            return Err(SlugError::Reserved(raw.to_owned()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A DNS host name as it arrives in a `Host` header, lower-cased and without the port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Host(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a valid host name")]
pub struct HostError(pub String);

impl Host {
    /// Parses a `Host` header value (`Demo.Example.com:8080` → `demo.example.com`).
    pub fn parse(raw: &str) -> Result<Self, HostError> {
        let bad = || HostError(raw.chars().take(100).collect());
        let without_port = match raw.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => {
                host
            }
            Some(_) => return Err(bad()),
            None => raw,
        };
        let host = without_port.trim_end_matches('.').to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
            return Err(bad());
        }
        Ok(Self(host))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Host {
    type Error = HostError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Host> for String {
    fn from(value: Host) -> Self {
        value.0
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    Ru,
    En,
}

impl Locale {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ru" => Some(Self::Ru),
            "en" => Some(Self::En),
            _ => None,
        }
    }
}

/// How an ISP's portal looks: stored as JSON on the tenant, served to the web app.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    pub primary_color: Option<String>,
    pub accent_color: Option<String>,
    pub logo_url: Option<String>,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
}

/// An ISP as the rest of the platform sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: Slug,
    pub display_name: String,
    pub status: TenantStatus,
    pub saas_plan: String,
    pub currency: Currency,
    pub default_locale: Locale,
    pub time_zone: String,
    pub branding: Branding,
    /// Subscribers may sign in only once the ISP has published its portal (signup's checklist);
    /// staff work in the console before that.
    pub published: bool,
    /// The end of a self-serve signup's free trial; `None` for tenants on a paid plan.
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// Why the operator suspended the tenant (shown on its suspended portal).
    pub suspended_reason: Option<String>,
    /// Read-only for unpaid SaaS invoices (dunning): reads and sign-in work, changes do not.
    pub read_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_accepts_dns_labels_and_refuses_reserved_names() {
        assert!(Slug::parse("north-net2").is_ok());
        for bad in [
            "",
            "-a",
            "a-",
            "UPPER",
            "dot.ted",
            "under_score",
            &"x".repeat(33),
        ] {
            assert!(
                matches!(Slug::parse(bad), Err(SlugError::Malformed(_))),
                "{bad}"
            );
        }
        assert_eq!(
            Slug::parse("admin"),
            Err(SlugError::Reserved("admin".into()))
        );
    }

    #[test]
    fn host_strips_port_and_case_and_rejects_garbage() {
        assert_eq!(
            Host::parse("Demo.LocalHost:8080").map(|h| h.0),
            Ok("demo.localhost".into())
        );
        assert_eq!(
            Host::parse("my.isp.example.").map(|h| h.0),
            Ok("my.isp.example".into())
        );
        for bad in [
            "",
            ":80",
            "a..b",
            "a b",
            "host:port",
            "-bad.example",
            "[::1]:8080",
            "x/y",
        ] {
            assert!(Host::parse(bad).is_err(), "{bad}");
        }
    }
}
