//! Service logins: how a subscriber's equipment identifies itself to the NAS. A PPPoE login
//! has a password, sealed at rest (CHAP needs the cleartext to check a response, so a hash
//! will not do); an IPoE login is a MAC address or a DHCP Option 82 circuit id, vouched for by
//! the NAS. A static address (`framed_ip`) is handed out only while the subscriber has the
//! `static-ip` add-on.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use kabinet_access::SecretKey;
use kabinet_core::{SubscriberId, TenantId};
use kabinet_db::{TenantTx, constraint_name, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::{NetworkError, invalid};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKind {
    Pppoe,
    IpoeMac,
    IpoeOption82,
}

impl LoginKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pppoe => "pppoe",
            Self::IpoeMac => "ipoe_mac",
            Self::IpoeOption82 => "ipoe_option82",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pppoe, Self::IpoeMac, Self::IpoeOption82]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

#[derive(Clone, Debug)]
pub struct LoginSpec {
    pub kind: LoginKind,
    pub username: String,
    /// PPPoE: required when creating; `None` on update keeps the current one.
    pub password: Option<String>,
    pub framed_ip: Option<IpAddr>,
}

#[derive(Clone, Debug)]
pub struct ServiceLogin {
    pub id: Uuid,
    pub subscriber: SubscriberId,
    pub kind: LoginKind,
    pub username: String,
    pub framed_ip: Option<IpAddr>,
    pub created_at: DateTime<Utc>,
}

/// `aa:bb:cc:dd:ee:ff` from any of the usual spellings (`AA-BB-…`, `aabb.ccdd.eeff`).
pub fn normalize_mac(raw: &str) -> Option<String> {
    let hex: String = raw
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(
        hex.as_bytes()
            .chunks(2)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
            .join(":"),
    )
}

impl LoginSpec {
    /// The identifier as stored: MACs normalized, other names trimmed.
    fn username(&self) -> Result<String, NetworkError> {
        let raw = self.username.trim();
        if raw.is_empty() || raw.len() > 253 || raw.chars().any(char::is_control) {
            return Err(invalid("username", "must be 1 to 253 printable characters"));
        }
        match self.kind {
            LoginKind::IpoeMac => normalize_mac(raw)
                .ok_or_else(|| invalid("username", "is not a MAC address (aa:bb:cc:dd:ee:ff)")),
            _ => Ok(raw.to_owned()),
        }
    }

    fn password(&self, creating: bool) -> Result<Option<&str>, NetworkError> {
        match (self.kind, self.password.as_deref()) {
            (LoginKind::Pppoe, Some(p)) if (6..=128).contains(&p.chars().count()) => Ok(Some(p)),
            (LoginKind::Pppoe, Some(_)) => Err(invalid("password", "must be 6 to 128 characters")),
            (LoginKind::Pppoe, None) if creating => {
                Err(invalid("password", "is required for a PPPoE login"))
            }
            (LoginKind::Pppoe, None) => Ok(None),
            (_, Some(_)) => Err(invalid("password", "IPoE logins have no password")),
            (_, None) => Ok(None),
        }
    }

    fn framed_ip(&self) -> Result<Option<String>, NetworkError> {
        match self.framed_ip {
            Some(ip) if ip.is_unspecified() || ip.is_multicast() || ip.is_loopback() => {
                Err(invalid("framed_ip", "must be a unicast host address"))
            }
            other => Ok(other.map(|ip| ip.to_string())),
        }
    }
}

fn aad(tenant: TenantId, id: Uuid) -> Vec<u8> {
    format!("service_login:{tenant}:{id}").into_bytes()
}

const COLUMNS: &str = "id, subscriber_id, kind, username, host(framed_ip) AS framed_ip, created_at";

fn from_row(row: &PgRow) -> Result<ServiceLogin, NetworkError> {
    let kind: String = row.try_get("kind")?;
    let ip: Option<String> = row.try_get("framed_ip")?;
    Ok(ServiceLogin {
        id: row.try_get("id")?,
        subscriber: SubscriberId(row.try_get("subscriber_id")?),
        kind: LoginKind::parse(&kind)
            .ok_or_else(|| NetworkError::Corrupt(format!("service_logins.kind {kind:?}")))?,
        username: row.try_get("username")?,
        framed_ip: ip
            .map(|ip| {
                ip.parse()
                    .map_err(|_| NetworkError::Corrupt(format!("framed_ip {ip:?}")))
            })
            .transpose()?,
        created_at: row.try_get("created_at")?,
    })
}

fn map_unique(e: sqlx::Error, username: &str, spec: &LoginSpec) -> NetworkError {
    match constraint_name(&e) {
        Some("service_logins_username_key") => NetworkError::UsernameTaken(username.to_owned()),
        Some("service_logins_framed_ip_key") => {
            NetworkError::FramedIpTaken(spec.framed_ip.map(|ip| ip.to_string()).unwrap_or_default())
        }
        Some("service_logins_subscriber_id_fkey")
        | Some("service_logins_tenant_id_subscriber_id_fkey") => NetworkError::NotFound,
        _ => e.into(),
    }
}

pub async fn create(
    tx: &mut TenantTx,
    key: &SecretKey,
    subscriber: SubscriberId,
    spec: &LoginSpec,
) -> Result<ServiceLogin, NetworkError> {
    let username = spec.username()?;
    let password = spec.password(true)?;
    let framed_ip = spec.framed_ip()?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    let sealed = password
        .map(|p| key.seal(p.as_bytes(), &aad(tenant, id)))
        .transpose()?;
    sqlx::query(
        "INSERT INTO service_logins (tenant_id, id, subscriber_id, kind, username, password_sealed, framed_ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::inet)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(subscriber.as_uuid())
    .bind(spec.kind.as_str())
    .bind(&username)
    .bind(sealed)
    .bind(framed_ip)
    .execute(tx.conn())
    .await
    .map_err(|e| map_unique(e, &username, spec))?;
    get(tx, subscriber, id).await
}

/// Changes a login; the kind stays (delete and create to change it). A PPPoE password is
/// replaced only when one is given.
pub async fn update(
    tx: &mut TenantTx,
    key: &SecretKey,
    subscriber: SubscriberId,
    id: Uuid,
    spec: &LoginSpec,
) -> Result<ServiceLogin, NetworkError> {
    let current = get(tx, subscriber, id).await?;
    if current.kind != spec.kind {
        return Err(invalid(
            "kind",
            "cannot change; delete the login and add a new one",
        ));
    }
    let username = spec.username()?;
    let password = spec.password(false)?;
    let framed_ip = spec.framed_ip()?;
    let tenant = tx.tenant();
    let sealed = password
        .map(|p| key.seal(p.as_bytes(), &aad(tenant, id)))
        .transpose()?;
    sqlx::query(
        "UPDATE service_logins SET username = $4, password_sealed = COALESCE($5, password_sealed), \
                framed_ip = $6::inet, updated_at = now() \
         WHERE tenant_id = $1 AND subscriber_id = $2 AND id = $3",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(id)
    .bind(&username)
    .bind(sealed)
    .bind(framed_ip)
    .execute(tx.conn())
    .await
    .map_err(|e| map_unique(e, &username, spec))?;
    get(tx, subscriber, id).await
}

pub async fn delete(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    id: Uuid,
) -> Result<ServiceLogin, NetworkError> {
    let login = get(tx, subscriber, id).await?;
    sqlx::query(
        "DELETE FROM service_logins WHERE tenant_id = $1 AND subscriber_id = $2 AND id = $3",
    )
    .bind(tx.tenant().as_uuid())
    .bind(subscriber.as_uuid())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(login)
}

pub async fn get(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    id: Uuid,
) -> Result<ServiceLogin, NetworkError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM service_logins WHERE tenant_id = $1 AND subscriber_id = $2 AND id = $3"
    ))
    .bind(tx.tenant().as_uuid())
    .bind(subscriber.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(NetworkError::NotFound)?;
    from_row(&row)
}

/// A subscriber's logins (a handful at most: one per connection).
pub async fn list(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Vec<ServiceLogin>, NetworkError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM service_logins WHERE tenant_id = $1 AND subscriber_id = $2 \
         ORDER BY created_at, id LIMIT 100"
    ))
    .bind(tx.tenant().as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Seals a PPPoE password for login `id` as [`create`] does (bulk loads: the benchmark).
pub fn seal_password(
    key: &SecretKey,
    tenant: TenantId,
    id: Uuid,
    password: &str,
) -> Result<Vec<u8>, NetworkError> {
    Ok(key.seal(password.as_bytes(), &aad(tenant, id))?)
}

pub(crate) fn open_password(
    key: &SecretKey,
    tenant: TenantId,
    id: Uuid,
    sealed: &[u8],
) -> Result<Vec<u8>, NetworkError> {
    Ok(key.open(sealed, &aad(tenant, id))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_normalized() {
        assert_eq!(
            normalize_mac("AA-BB-CC-00-11-22").as_deref(),
            Some("aa:bb:cc:00:11:22")
        );
        assert_eq!(
            normalize_mac("aabb.cc00.1122").as_deref(),
            Some("aa:bb:cc:00:11:22")
        );
        assert_eq!(normalize_mac("aa:bb:cc:00:11"), None);
        assert_eq!(normalize_mac("zz:bb:cc:00:11:22"), None);
    }

    #[test]
    fn passwords_belong_to_pppoe_only() {
        let spec = |kind, password: Option<&str>| LoginSpec {
            kind,
            username: "x".into(),
            password: password.map(str::to_owned),
            framed_ip: None,
        };
        assert!(spec(LoginKind::Pppoe, None).password(true).is_err());
        assert!(spec(LoginKind::Pppoe, None).password(false).is_ok());
        assert!(
            spec(LoginKind::Pppoe, Some("short"))
                .password(true)
                .is_err()
        );
        assert!(
            spec(LoginKind::IpoeMac, Some("secret1"))
                .password(true)
                .is_err()
        );
    }
}
