//! Network access servers (NAS) of an ISP: registered with their source address, vendor, area
//! and RADIUS shared secret. The secret is generated here, sealed at rest (AES-256-GCM under
//! `KABINET_SECRET_KEY`, bound to the row) and shown to staff once, at registration.
//!
//! `resolve` is the only lookup made before the tenant is known: source address → ISP and NAS,
//! through the platform table `nas_addresses` that a trigger keeps in step with `nas`.
//! [`NasCache`] remembers its answers for the authorization hot path, as a hint that
//! `aaa::authorize` re-checks in its own ISP-scoped statement.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use kabinet_access::SecretKey;
use kabinet_core::TenantId;
use kabinet_db::{Database, TenantTx, constraint_name, sqlx};
use rand::Rng;
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::{NetworkError, invalid};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    Mikrotik,
    Cisco,
    Juniper,
    AccelPpp,
    Other,
}

impl Vendor {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Mikrotik => "mikrotik",
            Self::Cisco => "cisco",
            Self::Juniper => "juniper",
            Self::AccelPpp => "accel_ppp",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Mikrotik,
            Self::Cisco,
            Self::Juniper,
            Self::AccelPpp,
            Self::Other,
        ]
        .into_iter()
        .find(|v| v.as_str() == raw)
    }
}

#[derive(Clone, Debug)]
pub struct NasSpec {
    pub name: String,
    pub address: IpAddr,
    pub vendor: Vendor,
    pub area: String,
    pub coa_port: u16,
}

impl NasSpec {
    fn validate(&self) -> Result<(), NetworkError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid("name", "must be 1 to 100 characters"));
        }
        if self.area.chars().count() > 100 {
            return Err(invalid("area", "must be at most 100 characters"));
        }
        if self.address.is_unspecified() || self.address.is_multicast() {
            return Err(invalid("address", "must be the NAS's own unicast address"));
        }
        if self.coa_port == 0 {
            return Err(invalid("coa_port", "must be 1 to 65535"));
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct Nas {
    pub id: Uuid,
    pub name: String,
    pub address: IpAddr,
    pub vendor: Vendor,
    pub area: String,
    pub coa_port: u16,
    pub open_sessions: i64,
    pub created_at: DateTime<Utc>,
}

/// The NAS a RADIUS request came from, as `resolve` finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NasRef {
    pub tenant: TenantId,
    pub id: Uuid,
}

const COLUMNS: &str = "n.id, n.name, host(n.address) AS address, n.vendor, n.area, n.coa_port, n.created_at, \
     (SELECT count(*) FROM radius_sessions s WHERE s.tenant_id = n.tenant_id AND s.nas_id = n.id AND s.state = 'open') AS open_sessions";

fn from_row(row: &PgRow) -> Result<Nas, NetworkError> {
    let address: String = row.try_get("address")?;
    let vendor: String = row.try_get("vendor")?;
    let port: i32 = row.try_get("coa_port")?;
    Ok(Nas {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        address: address
            .parse()
            .map_err(|_| NetworkError::Corrupt(format!("nas.address {address:?}")))?,
        vendor: Vendor::parse(&vendor)
            .ok_or_else(|| NetworkError::Corrupt(format!("nas.vendor {vendor:?}")))?,
        area: row.try_get("area")?,
        coa_port: u16::try_from(port)
            .map_err(|_| NetworkError::Corrupt(format!("nas.coa_port {port}")))?,
        open_sessions: row.try_get("open_sessions")?,
        created_at: row.try_get("created_at")?,
    })
}

fn aad(tenant: TenantId, id: Uuid) -> Vec<u8> {
    format!("nas:{tenant}:{id}").into_bytes()
}

/// 24 characters from an unambiguous alphabet: ~140 bits, and easy to type into a router.
fn generate_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..24)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

fn map_unique(e: sqlx::Error, spec: &NasSpec) -> NetworkError {
    match constraint_name(&e) {
        Some("nas_addresses_pkey") => NetworkError::AddressTaken(spec.address.to_string()),
        Some("nas_name_key") => NetworkError::NameTaken(spec.name.trim().to_owned()),
        _ => e.into(),
    }
}

/// Registers a NAS; returns it with its new shared secret (the only time it is readable).
pub async fn register(
    tx: &mut TenantTx,
    key: &SecretKey,
    spec: &NasSpec,
) -> Result<(Nas, String), NetworkError> {
    spec.validate()?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    let secret = generate_secret();
    let sealed = key.seal(secret.as_bytes(), &aad(tenant, id))?;
    sqlx::query(
        "INSERT INTO nas (tenant_id, id, name, address, vendor, area, secret_sealed, coa_port) \
         VALUES ($1, $2, $3, $4::inet, $5, $6, $7, $8)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(spec.name.trim())
    .bind(spec.address.to_string())
    .bind(spec.vendor.as_str())
    .bind(spec.area.trim())
    .bind(sealed)
    .bind(i32::from(spec.coa_port))
    .execute(tx.conn())
    .await
    .map_err(|e| map_unique(e, spec))?;
    Ok((get(tx, id).await?, secret))
}

pub async fn update(tx: &mut TenantTx, id: Uuid, spec: &NasSpec) -> Result<Nas, NetworkError> {
    spec.validate()?;
    let tenant = tx.tenant();
    let done = sqlx::query(
        "UPDATE nas SET name = $3, address = $4::inet, vendor = $5, area = $6, coa_port = $7, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(spec.name.trim())
    .bind(spec.address.to_string())
    .bind(spec.vendor.as_str())
    .bind(spec.area.trim())
    .bind(i32::from(spec.coa_port))
    .execute(tx.conn())
    .await
    .map_err(|e| map_unique(e, spec))?;
    if done.rows_affected() == 0 {
        return Err(NetworkError::NotFound);
    }
    get(tx, id).await
}

/// Replaces a NAS's shared secret with a fresh one and returns it (the only time it is
/// readable). FreeRADIUS keeps using the old one until its client cache expires
/// (`KABINET_RADIUS_CLIENT_LIFETIME`, 60 s by default), so the router is changed after that.
pub async fn rotate_secret(
    tx: &mut TenantTx,
    key: &SecretKey,
    id: Uuid,
) -> Result<(Nas, String), NetworkError> {
    let tenant = tx.tenant();
    let secret = generate_secret();
    let sealed = key.seal(secret.as_bytes(), &aad(tenant, id))?;
    let done = sqlx::query(
        "UPDATE nas SET secret_sealed = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(sealed)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(NetworkError::NotFound);
    }
    Ok((get(tx, id).await?, secret))
}

/// Deletes a NAS with its sessions' history and queued requests.
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<Nas, NetworkError> {
    let nas = get(tx, id).await?;
    let tenant = tx.tenant();
    sqlx::query("DELETE FROM nas WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(nas)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Nas, NetworkError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM nas n WHERE n.tenant_id = $1 AND n.id = $2"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(NetworkError::NotFound)?;
    from_row(&row)
}

/// The ISP's NAS by name, keyset-paginated (`after`: the last name of the previous page).
pub async fn list(
    tx: &mut TenantTx,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Nas>, NetworkError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM nas n WHERE n.tenant_id = $1 AND ($2::text IS NULL OR n.name > $2) \
         ORDER BY n.name LIMIT $3"
    ))
    .bind(tenant.as_uuid())
    .bind(after)
    .bind(limit.clamp(1, 200))
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Source address → the ISP and NAS it belongs to; `None` for an address no ISP registered.
pub async fn resolve(db: &Database, source: IpAddr) -> Result<Option<NasRef>, NetworkError> {
    let mut tx = db.platform_tx().await?;
    let row: Option<(Uuid, Uuid)> =
        sqlx::query_as("SELECT tenant_id, nas_id FROM nas_addresses WHERE address = $1::inet")
            .bind(source.to_string())
            .fetch_optional(tx.conn())
            .await?;
    tx.commit().await?;
    Ok(row.map(|(tenant, id)| NasRef {
        tenant: TenantId(tenant),
        id,
    }))
}

/// A node-local cache of [`resolve`] for the authorization hot path (it saves a platform
/// transaction, four round trips, per Access-Request). Only found NAS are kept.
///
/// INVARIANT: an entry is a hint, never trusted alone. [`crate::aaa::authorize`] checks in
/// the ISP's own scope, in the same statement, that the NAS still has the packet's source
/// address; when it does not (moved, re-addressed or deleted, on any node), the caller
/// [`forget`](Self::forget)s the entry and resolves afresh. So no invalidation channel is
/// needed and a console change takes effect at once.
#[derive(Clone)]
pub struct NasCache {
    entries: moka::future::Cache<IpAddr, NasRef>,
}

impl Default for NasCache {
    fn default() -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
        }
    }
}

impl NasCache {
    /// [`resolve`], answered from the cache when it can be.
    pub async fn resolve(
        &self,
        db: &Database,
        source: IpAddr,
    ) -> Result<Option<NasRef>, NetworkError> {
        if let Some(hit) = self.entries.get(&source).await {
            return Ok(Some(hit));
        }
        let found = resolve(db, source).await?;
        if let Some(nas) = found {
            self.entries.insert(source, nas).await;
        }
        Ok(found)
    }

    /// Drops what the cache says about `source` (it proved stale).
    pub async fn forget(&self, source: IpAddr) {
        self.entries.invalidate(&source).await;
    }
}

/// The NAS's shared secret, for FreeRADIUS's client lookup and for signing CoA.
pub async fn secret(tx: &mut TenantTx, key: &SecretKey, id: Uuid) -> Result<String, NetworkError> {
    let tenant = tx.tenant();
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT secret_sealed FROM nas WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(NetworkError::NotFound)?;
    open_secret(key, tenant, id, &sealed)
}

pub(crate) fn open_secret(
    key: &SecretKey,
    tenant: TenantId,
    id: Uuid,
    sealed: &[u8],
) -> Result<String, NetworkError> {
    let plain = key.open(sealed, &aad(tenant, id))?;
    String::from_utf8(plain).map_err(|_| NetworkError::Corrupt("nas secret is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_and_fresh() {
        let a = generate_secret();
        assert_eq!(a.len(), 24);
        assert_ne!(a, generate_secret());
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn vendors_round_trip() {
        for v in ["mikrotik", "cisco", "juniper", "accel_ppp", "other"] {
            assert_eq!(Vendor::parse(v).map(|v| v.as_str()), Some(v));
        }
        assert_eq!(Vendor::parse("huawei"), None);
    }
}
