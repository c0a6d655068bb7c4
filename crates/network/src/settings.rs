//! The ISP's RADIUS behaviour (`network_settings`, one row per tenant; no row means the
//! defaults): whether subscribers blocked for debt are rejected or put in a captive "pay your
//! bill" pool, how long a session may last before the NAS re-authorizes it, and how often the
//! NAS should send interim accounting (which also decides when a silent session counts as stale).

use kabinet_db::{TenantTx, sqlx};

use crate::{NetworkError, invalid};

pub const DEFAULT_SESSION_TIMEOUT_SECS: i32 = 86_400;
pub const DEFAULT_INTERIM_INTERVAL_SECS: i32 = 300;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSettings {
    /// The NAS address pool for subscribers blocked for debt; `None`: they are rejected.
    pub debt_captive_pool: Option<String>,
    /// Session-Timeout sent with every Access-Accept (60 s … 7 days).
    pub session_timeout_secs: i32,
    /// Acct-Interim-Interval sent with every Access-Accept (30 s … 1 day).
    pub interim_interval_secs: i32,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        Self {
            debt_captive_pool: None,
            session_timeout_secs: DEFAULT_SESSION_TIMEOUT_SECS,
            interim_interval_secs: DEFAULT_INTERIM_INTERVAL_SECS,
        }
    }
}

impl NetworkSettings {
    /// Trims the pool name (empty means none) and checks every field against what the NAS
    /// vendors accept; the table's CHECKs say the same, this gives the reason.
    pub fn normalized(mut self) -> Result<Self, NetworkError> {
        self.debt_captive_pool = self
            .debt_captive_pool
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        if let Some(pool) = &self.debt_captive_pool {
            let ok = pool.len() <= 64
                && pool
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !ok {
                return Err(invalid(
                    "debt_captive_pool",
                    "must be 1–64 latin letters, digits, '-', '_' or '.' (the pool's name on the NAS)",
                ));
            }
        }
        if !(60..=604_800).contains(&self.session_timeout_secs) {
            return Err(invalid(
                "session_timeout_secs",
                "must be between 60 s and 7 days",
            ));
        }
        if !(30..=86_400).contains(&self.interim_interval_secs) {
            return Err(invalid(
                "interim_interval_secs",
                "must be between 30 s and 1 day",
            ));
        }
        Ok(self)
    }
}

/// The tenant's settings, or the defaults when it never changed them.
pub async fn get(tx: &mut TenantTx) -> Result<NetworkSettings, NetworkError> {
    let tenant = tx.tenant();
    let row: Option<(Option<String>, i32, i32)> = sqlx::query_as(
        "SELECT debt_captive_pool, session_timeout_secs, interim_interval_secs \
         FROM network_settings WHERE tenant_id = $1",
    )
    .bind(tenant.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(row
        .map(|(pool, timeout, interim)| NetworkSettings {
            debt_captive_pool: pool,
            session_timeout_secs: timeout,
            interim_interval_secs: interim,
        })
        .unwrap_or_default())
}

/// Stores the settings; returns (before, after). Takes effect with the next Access-Request.
pub async fn set(
    tx: &mut TenantTx,
    settings: NetworkSettings,
) -> Result<(NetworkSettings, NetworkSettings), NetworkError> {
    let after = settings.normalized()?;
    let before = get(tx).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO network_settings (tenant_id, debt_captive_pool, session_timeout_secs, interim_interval_secs) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id) DO UPDATE SET debt_captive_pool = EXCLUDED.debt_captive_pool, \
           session_timeout_secs = EXCLUDED.session_timeout_secs, \
           interim_interval_secs = EXCLUDED.interim_interval_secs",
    )
    .bind(tenant.as_uuid())
    .bind(&after.debt_captive_pool)
    .bind(after.session_timeout_secs)
    .bind(after.interim_interval_secs)
    .execute(tx.conn())
    .await?;
    Ok((before, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_trimmed_and_bounded() {
        let s = NetworkSettings {
            debt_captive_pool: Some("  captive-1 ".into()),
            ..NetworkSettings::default()
        }
        .normalized()
        .expect("valid");
        assert_eq!(s.debt_captive_pool.as_deref(), Some("captive-1"));
        let none = NetworkSettings {
            debt_captive_pool: Some("   ".into()),
            ..NetworkSettings::default()
        }
        .normalized()
        .expect("valid");
        assert_eq!(none.debt_captive_pool, None);
        for bad in [
            NetworkSettings {
                debt_captive_pool: Some("pool name".into()),
                ..NetworkSettings::default()
            },
            NetworkSettings {
                session_timeout_secs: 59,
                ..NetworkSettings::default()
            },
            NetworkSettings {
                interim_interval_secs: 86_401,
                ..NetworkSettings::default()
            },
        ] {
            assert!(bad.normalized().is_err());
        }
    }
}
