//! Custom domains: an ISP adds its own host name in the console, proves that it controls it with
//! a DNS TXT record, and from then on its portal is served there.
//!
//! The proof is `_kabinet-challenge.<host> TXT "kabinet-verification=<token>"`, looked up with
//! a real resolver ([`DomainVerifier`], hickory) — the system's or one named in the config. The
//! lookup runs outside any transaction; [`record_check`] then stores its outcome. Setting
//! `verified_at` changes `tenant_hosts`, whose trigger tells every node's [`crate::Directory`] to
//! drop its cache, so the domain is served everywhere as soon as the check commits.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};
use kabinet_db::{DbError, TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The label under the domain where the TXT record is looked for.
pub const CHALLENGE_LABEL: &str = "_kabinet-challenge";
/// What the TXT record's value starts with; the token follows.
pub const TXT_PREFIX: &str = "kabinet-verification=";
/// Custom domains one ISP may have at a time (pending ones included).
pub const MAX_CUSTOM_DOMAINS: i64 = 10;
/// The longest domain whose challenge name (`_kabinet-challenge.` + domain) still fits in 253.
pub const MAX_DOMAIN_LEN: usize = 253 - CHALLENGE_LABEL.len() - 1;
/// A domain another ISP added but never verified may be claimed after this long, so nobody can
/// squat on a name by adding it and walking away.
pub const STALE_CLAIM_DAYS: i64 = 7;
/// A verified domain's proof is looked up again this often.
pub const RECHECK_VERIFIED_HOURS: i64 = 24;
/// A domain not verified yet is retried automatically this often, for [`STALE_CLAIM_DAYS`]
/// after it was added (the ISP need not come back and press "check").
pub const RECHECK_PENDING_HOURS: i64 = 1;
/// How long a verified domain's proof may stay missing before the domain stops being served.
pub const PROOF_GRACE_DAYS: i64 = 7;
/// Domains one ISP's scheduler round checks at most.
pub const RECHECKS_PER_ROUND: i64 = 20;

/// A custom domain as the ISP typed it, made canonical: lower-case ASCII (IDN → punycode), no
/// trailing dot, at least two labels, not an IP address, not a special-use name, and not under
/// the platform's own domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DomainName(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    #[error("the domain is empty")]
    Empty,
    #[error("the domain is longer than {MAX_DOMAIN_LEN} characters")]
    TooLong,
    #[error("an IP address is not a domain name")]
    IpAddress,
    #[error("a domain needs at least two labels, like portal.example.ru")]
    SingleLabel,
    #[error("{0:?} is not a valid domain name")]
    Malformed(String),
    #[error("{0} is a special-use name that cannot be reached on the internet")]
    SpecialUse(String),
    #[error("{0} is the platform's own domain; the portal is already served there")]
    PlatformDomain(String),
}

/// Names that never resolve on the public internet (RFC 6761 and friends).
const SPECIAL_USE: &[&str] = &["localhost", "local", "invalid", "onion", "arpa", "internal"];

impl DomainName {
    pub fn parse(raw: &str, platform_domain: &str) -> Result<Self, DomainNameError> {
        let trimmed = raw.trim();
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Err(DomainNameError::Empty);
        }
        let shown = || trimmed.chars().take(100).collect::<String>();
        if trimmed.parse::<IpAddr>().is_ok()
            || trimmed
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .is_some_and(|s| s.parse::<IpAddr>().is_ok())
        {
            return Err(DomainNameError::IpAddress);
        }
        let ascii = idna::domain_to_ascii_strict(trimmed)
            .map_err(|_| DomainNameError::Malformed(shown()))?;
        if ascii.len() > MAX_DOMAIN_LEN {
            return Err(DomainNameError::TooLong);
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if !labels.iter().all(label_ok) {
            return Err(DomainNameError::Malformed(shown()));
        }
        let Some(tld) = labels.last() else {
            return Err(DomainNameError::Empty);
        };
        if tld.bytes().all(|b| b.is_ascii_digit()) {
            // `1.2.3.4` in disguise (or `1.2.3.4.5`): no top-level domain is numeric.
            return Err(DomainNameError::IpAddress);
        }
        let platform = platform_domain.trim_end_matches('.').to_ascii_lowercase();
        if ascii == platform || ascii.ends_with(&format!(".{platform}")) {
            return Err(DomainNameError::PlatformDomain(ascii));
        }
        if labels.len() < 2 {
            return Err(DomainNameError::SingleLabel);
        }
        if SPECIAL_USE.contains(tld) {
            return Err(DomainNameError::SpecialUse(ascii));
        }
        Ok(Self(ascii))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name people read: `портал.провайдер.рф` for `xn--80a…`.
    pub fn unicode(&self) -> String {
        unicode_of(&self.0)
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn unicode_of(ascii: &str) -> String {
    match idna::domain_to_unicode(ascii) {
        (unicode, Ok(())) => unicode,
        _ => ascii.to_owned(),
    }
}

/// Why the last check did not find the proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckFailure {
    /// `_kabinet-challenge.<domain>` does not exist (NXDOMAIN).
    Nxdomain,
    /// The name exists but has no TXT record.
    NoRecord,
    /// TXT records are there, none with the expected value.
    WrongValue,
    /// The resolver did not answer in time.
    Timeout,
    /// The resolver failed otherwise (refused, unreachable, SERVFAIL…).
    ResolverError,
}

impl CheckFailure {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Nxdomain => "nxdomain",
            Self::NoRecord => "no_record",
            Self::WrongValue => "wrong_value",
            Self::Timeout => "timeout",
            Self::ResolverError => "resolver_error",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Nxdomain,
            Self::NoRecord,
            Self::WrongValue,
            Self::Timeout,
            Self::ResolverError,
        ]
        .into_iter()
        .find(|f| f.as_str() == raw)
    }
}

/// What one DNS check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    Verified,
    /// With a detail for people: the values found, or the resolver's words.
    Failed(CheckFailure, Option<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainStatus {
    /// Added, not checked yet.
    Pending,
    /// Proven; the portal is served there.
    Verified,
    /// Checked, and the proof was not found (see the failure).
    Failed,
}

/// The TXT record the ISP must create.
#[derive(Clone, Debug)]
pub struct TxtChallenge {
    /// Fully qualified, without the trailing dot: `_kabinet-challenge.portal.example.ru`.
    pub name: String,
    pub value: String,
}

/// One custom domain of the ISP, with the state of its verification.
#[derive(Clone, Debug)]
pub struct CustomDomain {
    pub host: String,
    pub unicode: String,
    pub status: DomainStatus,
    pub challenge: TxtChallenge,
    pub verified_at: Option<DateTime<Utc>>,
    pub checked_at: Option<DateTime<Utc>>,
    pub failure: Option<CheckFailure>,
    pub failure_detail: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A verified domain whose proof the daily re-check no longer finds: since when. It is
    /// served until [`PROOF_GRACE_DAYS`] after that.
    pub failing_since: Option<DateTime<Utc>>,
}

impl CustomDomain {
    /// The stored host name (validated when it was added).
    pub fn name(&self) -> DomainName {
        DomainName(self.host.clone())
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let host: String = row.try_get("host")?;
        let token: String = row.try_get("verification_token")?;
        let verified_at: Option<DateTime<Utc>> = row.try_get("verified_at")?;
        let failure: Option<String> = row.try_get("check_failure")?;
        let failure = failure.as_deref().and_then(CheckFailure::parse);
        let status = match (verified_at, failure) {
            (Some(_), _) => DomainStatus::Verified,
            (None, Some(_)) => DomainStatus::Failed,
            (None, None) => DomainStatus::Pending,
        };
        Ok(Self {
            unicode: unicode_of(&host),
            challenge: TxtChallenge {
                name: format!("{CHALLENGE_LABEL}.{host}"),
                value: format!("{TXT_PREFIX}{token}"),
            },
            host,
            status,
            verified_at,
            checked_at: row.try_get("checked_at")?,
            failure,
            failure_detail: row.try_get("check_detail")?,
            created_at: row.try_get("created_at")?,
            failing_since: row.try_get("failing_since")?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Invalid(#[from] DomainNameError),
    #[error("{0} is already one of your domains")]
    AlreadyAdded(String),
    #[error("{0} is already connected to another provider on the platform")]
    Taken(String),
    #[error("at most {MAX_CUSTOM_DOMAINS} custom domains per provider")]
    LimitReached,
    #[error("no such custom domain")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

const COLUMNS: &str = "host, verification_token, verified_at, checked_at, check_failure, \
     check_detail, created_at, failing_since";

/// The ISP's custom domains, oldest first.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<CustomDomain>, DomainError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenant_hosts WHERE tenant_id = $1 AND kind = 'custom' \
         ORDER BY created_at, host"
    ))
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .iter()
        .map(CustomDomain::from_row)
        .collect::<Result<_, _>>()?)
}

/// One custom domain of the ISP (by its canonical host).
pub async fn get(tx: &mut TenantTx, host: &DomainName) -> Result<CustomDomain, DomainError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenant_hosts WHERE tenant_id = $1 AND host = $2 AND kind = 'custom'"
    ))
    .bind(tenant.as_uuid())
    .bind(host.as_str())
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref()
        .map(CustomDomain::from_row)
        .transpose()?
        .ok_or(DomainError::NotFound)
}

/// Adds a pending custom domain with a fresh token. A host is unique on the platform: one that
/// another ISP holds is refused, unless that ISP never verified it in [`STALE_CLAIM_DAYS`].
pub async fn add(
    tx: &mut TenantTx,
    host: &DomainName,
    now: DateTime<Utc>,
) -> Result<CustomDomain, DomainError> {
    let tenant = tx.tenant();
    // Serialises concurrent adds of one ISP, so the limit below cannot be overrun by a race.
    sqlx::query("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE")
        .bind(tenant.as_uuid())
        .execute(tx.conn())
        .await?;
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tenant_hosts WHERE tenant_id = $1 AND kind = 'custom'",
    )
    .bind(tenant.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    if count >= MAX_CUSTOM_DOMAINS {
        return Err(DomainError::LimitReached);
    }
    let row = sqlx::query(&format!(
        "INSERT INTO tenant_hosts (host, tenant_id, kind, created_at) VALUES ($1, $2, 'custom', $3) \
         ON CONFLICT (host) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, \
           verification_token = DEFAULT, created_at = EXCLUDED.created_at, \
           checked_at = NULL, check_failure = NULL, check_detail = NULL \
         WHERE tenant_hosts.kind = 'custom' AND tenant_hosts.verified_at IS NULL \
           AND tenant_hosts.tenant_id <> $2 \
           AND tenant_hosts.created_at < $3 - make_interval(days => $4) \
         RETURNING {COLUMNS}"
    ))
    .bind(host.as_str())
    .bind(tenant.as_uuid())
    .bind(now)
    .bind(STALE_CLAIM_DAYS as i32)
    .fetch_optional(tx.conn())
    .await?;
    match row {
        Some(row) => Ok(CustomDomain::from_row(&row)?),
        None => {
            let owner: Option<uuid::Uuid> =
                sqlx::query_scalar("SELECT tenant_id FROM tenant_hosts WHERE host = $1")
                    .bind(host.as_str())
                    .fetch_optional(tx.conn())
                    .await?;
            if owner == Some(tenant.as_uuid()) {
                Err(DomainError::AlreadyAdded(host.to_string()))
            } else {
                Err(DomainError::Taken(host.to_string()))
            }
        }
    }
}

/// Stores what a check found. Success verifies the domain (and so starts serving it on every
/// node); a failure is recorded but never un-verifies a domain that was proven before — a
/// momentary DNS hiccup must not take a working portal off the air.
pub async fn record_check(
    tx: &mut TenantTx,
    host: &DomainName,
    outcome: &CheckOutcome,
    now: DateTime<Utc>,
) -> Result<CustomDomain, DomainError> {
    let tenant = tx.tenant();
    let (failure, detail) = match outcome {
        CheckOutcome::Verified => (None, None),
        CheckOutcome::Failed(f, d) => (
            Some(f.as_str()),
            d.as_ref().map(|d| d.chars().take(500).collect::<String>()),
        ),
    };
    // Only a success writes `verified_at` (the trigger announces changes to it); a failure
    // leaves the column out of the statement so that nodes keep their caches.
    let sql = if failure.is_none() {
        format!(
            "UPDATE tenant_hosts SET verified_at = COALESCE(verified_at, $3), checked_at = $3, \
               check_failure = NULL, check_detail = NULL, failing_since = NULL \
             WHERE tenant_id = $1 AND host = $2 AND kind = 'custom' RETURNING {COLUMNS}"
        )
    } else {
        format!(
            "UPDATE tenant_hosts SET checked_at = $3, check_failure = $4, check_detail = $5 \
             WHERE tenant_id = $1 AND host = $2 AND kind = 'custom' RETURNING {COLUMNS}"
        )
    };
    let row = sqlx::query(&sql)
        .bind(tenant.as_uuid())
        .bind(host.as_str())
        .bind(now)
        .bind(failure)
        .bind(detail)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref()
        .map(CustomDomain::from_row)
        .transpose()?
        .ok_or(DomainError::NotFound)
}

/// What a scheduled re-check changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recheck {
    /// Proven: `newly` when it was not verified before this check.
    Verified { newly: bool },
    /// A verified domain's proof is missing since `since`; it is still served until the grace
    /// period ends. `first`: this check is the one that found it missing.
    Failing { since: DateTime<Utc>, first: bool },
    /// The proof stayed missing through the grace period: the domain is no longer served.
    Unverified { since: DateTime<Utc> },
    /// Not verified, and still not proven.
    StillPending,
}

/// Takes the ISP's custom domains that are due a check — verified ones every
/// [`RECHECK_VERIFIED_HOURS`], unverified ones every [`RECHECK_PENDING_HOURS`] while they are
/// young — and marks them checked now, so another node's round skips them (rows another node is
/// claiming are skipped too). The caller looks them up and records each outcome with
/// [`record_recheck`].
pub async fn claim_due_checks(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
) -> Result<Vec<CustomDomain>, DomainError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "UPDATE tenant_hosts h SET checked_at = $2 \
         FROM (SELECT host FROM tenant_hosts \
               WHERE tenant_id = $1 AND kind = 'custom' \
                 AND CASE WHEN verified_at IS NOT NULL \
                          THEN coalesce(checked_at, verified_at) <= $2 - make_interval(hours => $3) \
                          ELSE created_at > $2 - make_interval(days => $5) \
                               AND coalesce(checked_at, created_at) <= $2 - make_interval(hours => $4) END \
               ORDER BY checked_at NULLS FIRST LIMIT $6 FOR UPDATE SKIP LOCKED) due \
         WHERE h.host = due.host AND h.tenant_id = $1 \
         RETURNING {}",
        COLUMNS
            .split(", ")
            .map(|c| format!("h.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(tenant.as_uuid())
    .bind(now)
    .bind(RECHECK_VERIFIED_HOURS as i32)
    .bind(RECHECK_PENDING_HOURS as i32)
    .bind(STALE_CLAIM_DAYS as i32)
    .bind(RECHECKS_PER_ROUND)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .iter()
        .map(CustomDomain::from_row)
        .collect::<Result<_, _>>()?)
}

/// Records a scheduled re-check. Unlike a check the ISP asks for ([`record_check`]), a missing
/// proof on a verified domain counts: it starts the grace period, and once that is over the
/// domain is no longer served. Proof found again ends the grace period.
pub async fn record_recheck(
    tx: &mut TenantTx,
    host: &DomainName,
    outcome: &CheckOutcome,
    now: DateTime<Utc>,
) -> Result<Recheck, DomainError> {
    let tenant = tx.tenant();
    let before = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenant_hosts \
         WHERE tenant_id = $1 AND host = $2 AND kind = 'custom' FOR UPDATE"
    ))
    .bind(tenant.as_uuid())
    .bind(host.as_str())
    .fetch_optional(tx.conn())
    .await?
    .as_ref()
    .map(CustomDomain::from_row)
    .transpose()?
    .ok_or(DomainError::NotFound)?;
    let (failure, detail) = match outcome {
        CheckOutcome::Verified => {
            record_check(tx, host, outcome, now).await?;
            return Ok(Recheck::Verified {
                newly: before.verified_at.is_none(),
            });
        }
        CheckOutcome::Failed(f, d) => (
            f.as_str(),
            d.as_ref().map(|d| d.chars().take(500).collect::<String>()),
        ),
    };
    let Some(_) = before.verified_at else {
        record_check(tx, host, outcome, now).await?;
        return Ok(Recheck::StillPending);
    };
    let since = before.failing_since.unwrap_or(now);
    let expired = since <= now - chrono::Duration::days(PROOF_GRACE_DAYS);
    // `verified_at` is in the statement only when it changes: its trigger makes every node
    // drop its host cache.
    let sql = if expired {
        "UPDATE tenant_hosts SET verified_at = NULL, checked_at = $3, check_failure = $4, \
           check_detail = $5, failing_since = $6 \
         WHERE tenant_id = $1 AND host = $2 AND kind = 'custom'"
    } else {
        "UPDATE tenant_hosts SET checked_at = $3, check_failure = $4, check_detail = $5, \
           failing_since = $6 \
         WHERE tenant_id = $1 AND host = $2 AND kind = 'custom'"
    };
    sqlx::query(sql)
        .bind(tenant.as_uuid())
        .bind(host.as_str())
        .bind(now)
        .bind(failure)
        .bind(detail)
        .bind(since)
        .execute(tx.conn())
        .await?;
    Ok(if expired {
        Recheck::Unverified { since }
    } else {
        Recheck::Failing {
            since,
            first: before.failing_since.is_none(),
        }
    })
}

/// Removes a custom domain; it stops being served on every node when the transaction commits.
pub async fn remove(tx: &mut TenantTx, host: &DomainName) -> Result<CustomDomain, DomainError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "DELETE FROM tenant_hosts WHERE tenant_id = $1 AND host = $2 AND kind = 'custom' \
         RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(host.as_str())
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref()
        .map(CustomDomain::from_row)
        .transpose()?
        .ok_or(DomainError::NotFound)
}

/// Which DNS server answers the checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResolverAddress {
    /// The system's (`/etc/resolv.conf`).
    #[default]
    System,
    /// One server, over UDP and TCP (`KABINET_DNS_RESOLVER=127.0.0.1:5353`).
    At(SocketAddr),
}

/// Looks the proof up in DNS.
///
/// A resolver is built per check, without a cache: the ISP typically creates the record and
/// presses "check" a minute later, and a remembered NXDOMAIN would wrongly fail that check.
#[derive(Clone, Debug)]
pub struct DomainVerifier {
    pub resolver: ResolverAddress,
    /// For one query; the whole check is bounded by a little more than twice this.
    pub timeout: Duration,
}

impl Default for DomainVerifier {
    fn default() -> Self {
        Self {
            resolver: ResolverAddress::System,
            timeout: Duration::from_secs(3),
        }
    }
}

impl DomainVerifier {
    pub fn at(addr: SocketAddr) -> Self {
        Self {
            resolver: ResolverAddress::At(addr),
            ..Self::default()
        }
    }

    fn resolver(&self) -> Result<TokioResolver, NetError> {
        let mut builder = match self.resolver {
            ResolverAddress::System => TokioResolver::builder_tokio()?,
            ResolverAddress::At(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
        };
        let opts = builder.options_mut();
        opts.timeout = self.timeout;
        opts.attempts = 1;
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        builder.build()
    }

    /// Looks up `_kabinet-challenge.<host>` and compares its TXT values with the expected one.
    /// Never fails: every way the lookup can go wrong is a [`CheckFailure`].
    #[tracing::instrument(skip_all, fields(host = %domain.host))]
    pub async fn check(&self, domain: &CustomDomain) -> CheckOutcome {
        let resolver = match self.resolver() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot set up the DNS resolver");
                return CheckOutcome::Failed(CheckFailure::ResolverError, Some(e.to_string()));
            }
        };
        // Fully qualified (trailing dot): no search domains are tried.
        let name = format!("{}.", domain.challenge.name);
        let bound = self.timeout * 2 + Duration::from_millis(500);
        let values = match tokio::time::timeout(bound, resolver.txt_lookup(name)).await {
            Err(_) => return CheckOutcome::Failed(CheckFailure::Timeout, None),
            Ok(Err(e)) => return failure_of(&e),
            Ok(Ok(lookup)) => lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part))
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        };
        judge(&values, &domain.challenge.value)
    }
}

fn failure_of(e: &NetError) -> CheckOutcome {
    if e.is_nx_domain() {
        CheckOutcome::Failed(CheckFailure::Nxdomain, None)
    } else if e.is_no_records_found() {
        CheckOutcome::Failed(CheckFailure::NoRecord, None)
    } else if matches!(e, NetError::Timeout) {
        CheckOutcome::Failed(CheckFailure::Timeout, None)
    } else {
        CheckOutcome::Failed(CheckFailure::ResolverError, Some(e.to_string()))
    }
}

/// The verdict on the TXT values found (a record split into several strings is joined first).
fn judge(values: &[String], expected: &str) -> CheckOutcome {
    if values.iter().any(|v| v.trim() == expected) {
        return CheckOutcome::Verified;
    }
    if values.is_empty() {
        return CheckOutcome::Failed(CheckFailure::NoRecord, None);
    }
    let found = values
        .iter()
        .map(|v| format!("\"{}\"", v.chars().take(120).collect::<String>()))
        .collect::<Vec<_>>()
        .join(", ");
    CheckOutcome::Failed(CheckFailure::WrongValue, Some(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<String, DomainNameError> {
        DomainName::parse(raw, "kabinet.example").map(|d| d.0)
    }

    #[test]
    fn domains_are_made_canonical() {
        assert_eq!(
            parse(" Portal.Demo-ISP.ru. ").as_deref(),
            Ok("portal.demo-isp.ru")
        );
        assert_eq!(
            parse("кабинет.провайдер.рф").as_deref(),
            Ok("xn--80acmlhv0b.xn--80adhes1agig.xn--p1ai")
        );
        let d = DomainName::parse("кабинет.провайдер.рф", "kabinet.example").expect("idn");
        assert_eq!(d.unicode(), "кабинет.провайдер.рф");
    }

    #[test]
    fn things_that_are_not_public_domains_are_refused() {
        assert_eq!(parse(""), Err(DomainNameError::Empty));
        assert_eq!(parse("  . "), Err(DomainNameError::Empty));
        assert_eq!(parse("10.0.0.1"), Err(DomainNameError::IpAddress));
        assert_eq!(parse("::1"), Err(DomainNameError::IpAddress));
        assert_eq!(parse("[2001:db8::1]"), Err(DomainNameError::IpAddress));
        assert_eq!(parse("portal"), Err(DomainNameError::SingleLabel));
        assert!(matches!(
            parse("portal.localhost"),
            Err(DomainNameError::SpecialUse(_))
        ));
        assert!(matches!(
            parse("a_b.example.ru"),
            Err(DomainNameError::Malformed(_))
        ));
        assert!(matches!(
            parse("https://portal.example.ru"),
            Err(DomainNameError::Malformed(_))
        ));
        assert!(matches!(
            parse("-bad.example.ru"),
            Err(DomainNameError::Malformed(_))
        ));
        assert!(matches!(
            parse("a..example.ru"),
            Err(DomainNameError::Malformed(_))
        ));
        let long = format!("{}.ru", vec!["a".repeat(60); 4].join("."));
        assert_eq!(parse(&long), Err(DomainNameError::TooLong));
        assert!(matches!(
            parse(&format!("{}.ru", "a".repeat(64))),
            Err(DomainNameError::Malformed(_))
        ));
    }

    #[test]
    fn the_platform_domain_and_its_subdomains_are_refused() {
        for raw in [
            "kabinet.example",
            "demo.kabinet.example",
            "ADMIN.Kabinet.Example.",
        ] {
            assert!(
                matches!(parse(raw), Err(DomainNameError::PlatformDomain(_))),
                "{raw}"
            );
        }
        assert_eq!(
            parse("notkabinet.example").as_deref(),
            Ok("notkabinet.example")
        );
    }

    #[test]
    fn the_verdict_names_what_was_wrong() {
        let expected = "kabinet-verification=abc";
        assert_eq!(
            judge(&["kabinet-verification=abc".into()], expected),
            CheckOutcome::Verified
        );
        assert_eq!(
            judge(
                &["v=spf1 -all".into(), " kabinet-verification=abc ".into()],
                expected
            ),
            CheckOutcome::Verified
        );
        assert_eq!(
            judge(&[], expected),
            CheckOutcome::Failed(CheckFailure::NoRecord, None)
        );
        assert_eq!(
            judge(&["kabinet-verification=abd".into()], expected),
            CheckOutcome::Failed(
                CheckFailure::WrongValue,
                Some("\"kabinet-verification=abd\"".into())
            )
        );
    }

    #[test]
    fn failure_codes_round_trip() {
        for f in [
            CheckFailure::Nxdomain,
            CheckFailure::NoRecord,
            CheckFailure::WrongValue,
            CheckFailure::Timeout,
            CheckFailure::ResolverError,
        ] {
            assert_eq!(CheckFailure::parse(f.as_str()), Some(f));
        }
    }
}
