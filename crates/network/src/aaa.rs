//! Authorization and accounting for FreeRADIUS, one ISP transaction each.
//!
//! Authorize checks the credentials here (PAP: the password; CHAP: the response against the
//! sealed cleartext), so the password never leaves Kabinet, and answers with the reply
//! attributes for the NAS's vendor. Accounting upserts the session keyed by
//! (ISP, NAS, Acct-Session-Id): duplicates change nothing, counters only move forward, a Stop
//! is final (a late Interim does not reopen it), and each forward step of the counters is added
//! to the subscriber's traffic of the day, all in one statement.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use kabinet_access::SecretKey;
use kabinet_core::TenantId;
use kabinet_db::{Database, TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::logins::{LoginKind, normalize_mac, open_password};
use crate::nas::{NasRef, Vendor};
use crate::{NetworkError, radius};

/// What the NAS sent, as FreeRADIUS passes it on.
#[derive(Clone, Debug, Default)]
pub struct AuthRequest {
    pub username: String,
    /// PAP, already revealed by FreeRADIUS.
    pub password: Option<Vec<u8>>,
    /// CHAP: ident ‖ 16-byte response.
    pub chap_password: Option<Vec<u8>>,
    pub chap_challenge: Option<Vec<u8>>,
    pub calling_station_id: Option<String>,
    /// DHCP Option 82 circuit id (IPoE).
    pub circuit_id: Option<String>,
}

/// One reply attribute, named as in FreeRADIUS's dictionaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyAttr {
    pub name: &'static str,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept(Vec<ReplyAttr>),
    Reject(String),
}

/// Why a request is refused. The wording reaches the subscriber's router (Reply-Message).
pub const REJECT_CREDENTIALS: &str = "Invalid login or password";
pub const REJECT_BLOCKED: &str =
    "Account blocked: the balance is below the credit limit. Please top up.";
pub const REJECT_STAFF_BLOCKED: &str = "Account blocked by the provider. Please contact support.";
pub const REJECT_SUSPENDED: &str = "Account suspended at the subscriber's request";
pub const REJECT_NO_TARIFF: &str = "No tariff is connected";

/// Tariff speeds in megabits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Speeds {
    pub down_mbps: i32,
    pub up_mbps: i32,
}

/// The rate-limit attributes for a vendor: MikroTik's own (`rx/tx` from the router's side:
/// upload/download) plus the WISPr pair that Cisco, Juniper, accel-ppp and most others read.
pub fn rate_attrs(vendor: Vendor, speeds: Speeds) -> Vec<ReplyAttr> {
    let mut out = Vec::new();
    if vendor == Vendor::Mikrotik {
        out.push(ReplyAttr {
            name: "Mikrotik-Rate-Limit",
            value: format!("{}M/{}M", speeds.up_mbps, speeds.down_mbps),
        });
    }
    out.push(ReplyAttr {
        name: "WISPr-Bandwidth-Max-Up",
        value: (i64::from(speeds.up_mbps) * 1_000_000).to_string(),
    });
    out.push(ReplyAttr {
        name: "WISPr-Bandwidth-Max-Down",
        value: (i64::from(speeds.down_mbps) * 1_000_000).to_string(),
    });
    out
}

/// Decides an Access-Request that came from `source`, with `nas` taken from a
/// [`crate::nas::NasCache`]: `None` when the NAS no longer has that address in this ISP
/// (the cache was stale: forget it, resolve again and retry). The check is a predicate of the
/// decision's own statement, so a hit costs nothing extra.
///
/// One round trip: the read is the `radius_decision` function, which scopes itself to the
/// NAS's ISP (row-level security applies as in a [`kabinet_db::TenantTx`]). A read of billing's
/// tables on the hot path, deliberately: authorization must answer in a round trip.
pub async fn authorize(
    db: &Database,
    key: &SecretKey,
    nas: NasRef,
    source: IpAddr,
    req: &AuthRequest,
) -> Result<Option<Decision>, NetworkError> {
    // The identifiers the subscriber may be known by: the user name as sent, the MAC (IPoE
    // DHCP sends it as User-Name or Calling-Station-Id), the circuit id.
    let mut candidates = vec![req.username.trim().to_owned()];
    for raw in [
        Some(req.username.as_str()),
        req.calling_station_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(mac) = normalize_mac(raw) {
            candidates.push(mac);
        }
    }
    if let Some(circuit) = &req.circuit_id {
        candidates.push(circuit.clone());
    }
    // Login, account, tariff, the static-IP add-on, the ISP's settings, the NAS's vendor and
    // whether the NAS still has that address.
    let row = db
        .fetch_self_scoped(
            sqlx::query("SELECT * FROM radius_decision($1, $2, $3, $4::inet)")
                .bind(nas.tenant.as_uuid())
                .bind(&candidates)
                .bind(nas.id)
                .bind(source.to_string()),
        )
        .await?
        .ok_or_else(|| NetworkError::Corrupt("radius_decision returned no row".into()))?;
    if !row.try_get::<bool, _>("nas_current")? {
        return Ok(None);
    }
    if row.try_get::<Option<Uuid>, _>("login_id")?.is_none() {
        return Ok(Some(Decision::Reject(REJECT_CREDENTIALS.into())));
    }
    judge(key, nas.tenant, &row, req).map(Some)
}

/// The decision from the row `decide` read: credentials, account state, reply attributes.
fn judge(
    key: &SecretKey,
    tenant: TenantId,
    row: &PgRow,
    req: &AuthRequest,
) -> Result<Decision, NetworkError> {
    let login_id: Uuid = row.try_get("login_id")?;
    let kind: String = row.try_get("kind")?;
    let kind = LoginKind::parse(&kind)
        .ok_or_else(|| NetworkError::Corrupt(format!("service_logins.kind {kind:?}")))?;
    if kind == LoginKind::Pppoe {
        let sealed: Option<Vec<u8>> = row.try_get("password_sealed")?;
        let sealed =
            sealed.ok_or_else(|| NetworkError::Corrupt("pppoe without password".into()))?;
        let password = open_password(key, tenant, login_id, &sealed)?;
        let ok = match (&req.password, &req.chap_password) {
            (Some(given), _) => bool::from(given.as_slice().ct_eq(&password)),
            (None, Some(chap)) => radius::chap_matches(
                chap,
                &password,
                req.chap_challenge.as_deref().unwrap_or_default(),
            ),
            (None, None) => false,
        };
        if !ok {
            return Ok(Decision::Reject(REJECT_CREDENTIALS.into()));
        }
    }

    let status: String = row.try_get("status")?;
    let staff_blocked: bool = row.try_get("staff_blocked")?;
    let session_timeout: i32 = row.try_get("session_timeout")?;
    let interim: i32 = row.try_get("interim")?;
    let mut attrs = vec![
        ReplyAttr {
            name: "Session-Timeout",
            value: session_timeout.to_string(),
        },
        ReplyAttr {
            name: "Acct-Interim-Interval",
            value: interim.to_string(),
        },
    ];
    match status.as_str() {
        "active" => {}
        "suspended" => return Ok(Decision::Reject(REJECT_SUSPENDED.into())),
        "blocked" if staff_blocked => return Ok(Decision::Reject(REJECT_STAFF_BLOCKED.into())),
        "blocked" => {
            let pool: Option<String> = row.try_get("debt_captive_pool")?;
            return Ok(match pool {
                // The "pay your bill" network: the NAS's pool and firewall do the rest.
                Some(pool) => {
                    attrs.push(ReplyAttr {
                        name: "Framed-Pool",
                        value: pool,
                    });
                    attrs.push(ReplyAttr {
                        name: "Reply-Message",
                        value: REJECT_BLOCKED.into(),
                    });
                    Decision::Accept(attrs)
                }
                None => Decision::Reject(REJECT_BLOCKED.into()),
            });
        }
        other => return Err(NetworkError::Corrupt(format!("account status {other:?}"))),
    }
    let down: Option<i32> = row.try_get("speed_mbps")?;
    let up: Option<i32> = row.try_get("up_mbps")?;
    let (Some(down_mbps), Some(up_mbps)) = (down, up) else {
        return Ok(Decision::Reject(REJECT_NO_TARIFF.into()));
    };
    let vendor: String = row.try_get("vendor")?;
    let vendor = Vendor::parse(&vendor)
        .ok_or_else(|| NetworkError::Corrupt(format!("vendor {vendor:?}")))?;
    attrs.extend(rate_attrs(vendor, Speeds { down_mbps, up_mbps }));
    let static_ip: bool = row.try_get("static_ip")?;
    let framed_ip: Option<String> = row.try_get("framed_ip")?;
    if let (true, Some(ip)) = (static_ip, framed_ip) {
        attrs.push(ReplyAttr {
            name: "Framed-IP-Address",
            value: ip,
        });
    }
    Ok(Decision::Accept(attrs))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcctStatus {
    Start,
    Interim,
    Stop,
    /// The NAS (re)booted: whatever it had open is over.
    AccountingOn,
    AccountingOff,
}

impl AcctStatus {
    /// RFC 2866 values, or their dictionary names as FreeRADIUS prints them.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "1" | "Start" => Some(Self::Start),
            "2" | "Stop" => Some(Self::Stop),
            "3" | "Interim-Update" | "Alive" => Some(Self::Interim),
            "7" | "Accounting-On" => Some(Self::AccountingOn),
            "8" | "Accounting-Off" => Some(Self::AccountingOff),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct AcctRequest {
    pub status: AcctStatus,
    pub session_id: String,
    pub username: String,
    pub framed_ip: Option<IpAddr>,
    pub calling_station_id: Option<String>,
    /// With Gigawords folded in.
    pub input_octets: u64,
    pub output_octets: u64,
    pub session_time: u64,
    /// When it happened (now less Acct-Delay-Time).
    pub at: DateTime<Utc>,
    pub terminate_cause: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcctOutcome {
    Recorded,
    /// For a login the ISP does not have (deleted, or never ours): acknowledged so the NAS stops
    /// resending, and logged.
    UnknownLogin,
    /// Accounting-On/Off: this many open sessions of the NAS were closed.
    NasRestarted(u64),
}

/// Records one Accounting-Request from `nas`.
pub async fn record_accounting(
    tx: &mut TenantTx,
    nas: NasRef,
    req: &AcctRequest,
) -> Result<AcctOutcome, NetworkError> {
    let tenant = tx.tenant();
    if matches!(
        req.status,
        AcctStatus::AccountingOn | AcctStatus::AccountingOff
    ) {
        let done = sqlx::query(
            "UPDATE radius_sessions SET state = 'closed', stopped_at = GREATEST(updated_at, LEAST($3, now())), \
                    terminate_cause = COALESCE(terminate_cause, 'NAS-Reboot') \
             WHERE tenant_id = $1 AND nas_id = $2 AND state = 'open'",
        )
        .bind(tenant.as_uuid())
        .bind(nas.id)
        .bind(req.at)
        .execute(tx.conn())
        .await?;
        return Ok(AcctOutcome::NasRestarted(done.rows_affected()));
    }
    if req.session_id.is_empty() || req.session_id.len() > 253 {
        return Err(crate::invalid(
            "Acct-Session-Id",
            "must be 1 to 253 characters",
        ));
    }
    let is_stop = req.status == AcctStatus::Stop;
    let input = i64::try_from(req.input_octets).unwrap_or(i64::MAX);
    let output = i64::try_from(req.output_octets).unwrap_or(i64::MAX);
    let session_time = i64::try_from(req.session_time).unwrap_or(i64::MAX);
    // Packets of one session queue up here: the lock makes the statement below read the
    // counters as the previous packet left them. (A FOR UPDATE inside it would skip the row
    // once the upsert has touched it.)
    sqlx::query(
        "SELECT 1 FROM radius_sessions WHERE tenant_id = $1 AND nas_id = $2 AND acct_session_id = $3 FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(nas.id)
    .bind(&req.session_id)
    .fetch_optional(tx.conn())
    .await?;
    // prev: the counters before this packet; up: the session after it; the traffic of the
    // day grows by the difference.
    let row = sqlx::query(
        "WITH login AS ( \
             SELECT subscriber_id FROM service_logins WHERE tenant_id = $1 AND username = $4 \
         ), prev AS ( \
             SELECT input_octets, output_octets FROM radius_sessions \
             WHERE tenant_id = $1 AND nas_id = $2 AND acct_session_id = $3 \
         ), up AS ( \
             INSERT INTO radius_sessions AS s (tenant_id, nas_id, acct_session_id, subscriber_id, username, \
                 framed_ip, calling_station_id, started_at, updated_at, stopped_at, input_octets, output_octets, \
                 session_time_secs, terminate_cause, state) \
             SELECT $1, $2, $3, login.subscriber_id, $4, $5::inet, $6, \
                    $7::timestamptz - make_interval(secs => $10::bigint), $7, \
                    CASE WHEN $12 THEN $7::timestamptz END, $8, $9, $10, $11, \
                    CASE WHEN $12 THEN 'closed' ELSE 'open' END \
             FROM login \
             ON CONFLICT (tenant_id, nas_id, acct_session_id) DO UPDATE SET \
                 input_octets = GREATEST(s.input_octets, EXCLUDED.input_octets), \
                 output_octets = GREATEST(s.output_octets, EXCLUDED.output_octets), \
                 session_time_secs = GREATEST(s.session_time_secs, EXCLUDED.session_time_secs), \
                 updated_at = GREATEST(s.updated_at, EXCLUDED.updated_at), \
                 started_at = LEAST(s.started_at, EXCLUDED.started_at), \
                 framed_ip = COALESCE(s.framed_ip, EXCLUDED.framed_ip), \
                 calling_station_id = COALESCE(s.calling_station_id, EXCLUDED.calling_station_id), \
                 stopped_at = CASE WHEN $12 AND s.state = 'open' THEN EXCLUDED.stopped_at ELSE s.stopped_at END, \
                 terminate_cause = COALESCE(s.terminate_cause, EXCLUDED.terminate_cause), \
                 state = CASE WHEN $12 THEN 'closed' ELSE s.state END \
             RETURNING s.subscriber_id, s.input_octets, s.output_octets \
         ), delta AS ( \
             SELECT up.subscriber_id, \
                    up.input_octets - COALESCE((SELECT input_octets FROM prev), 0) AS d_in, \
                    up.output_octets - COALESCE((SELECT output_octets FROM prev), 0) AS d_out \
             FROM up \
         ), traffic AS ( \
             INSERT INTO traffic_daily AS t (tenant_id, subscriber_id, day, input_octets, output_octets) \
             SELECT $1, delta.subscriber_id, \
                    ($7::timestamptz AT TIME ZONE (SELECT time_zone FROM tenants WHERE id = $1))::date, \
                    delta.d_in, delta.d_out \
             FROM delta WHERE delta.d_in > 0 OR delta.d_out > 0 \
             ON CONFLICT (tenant_id, subscriber_id, day) DO UPDATE SET \
                 input_octets = t.input_octets + EXCLUDED.input_octets, \
                 output_octets = t.output_octets + EXCLUDED.output_octets \
         ) \
         SELECT count(*) AS n FROM up",
    )
    .bind(tenant.as_uuid())
    .bind(nas.id)
    .bind(&req.session_id)
    .bind(req.username.trim())
    .bind(req.framed_ip.map(|ip| ip.to_string()))
    .bind(req.calling_station_id.as_deref())
    .bind(req.at)
    .bind(input)
    .bind(output)
    .bind(session_time)
    .bind(req.terminate_cause.as_deref())
    .bind(is_stop)
    .fetch_one(tx.conn())
    .await?;
    let n: i64 = row.try_get("n")?;
    Ok(if n == 0 {
        AcctOutcome::UnknownLogin
    } else {
        AcctOutcome::Recorded
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mikrotik_gets_its_own_rate_limit_and_everyone_wispr() {
        let speeds = Speeds {
            down_mbps: 100,
            up_mbps: 10,
        };
        let m = rate_attrs(Vendor::Mikrotik, speeds);
        assert_eq!(m[0].name, "Mikrotik-Rate-Limit");
        assert_eq!(m[0].value, "10M/100M");
        let c = rate_attrs(Vendor::Cisco, speeds);
        assert!(c.iter().all(|a| a.name != "Mikrotik-Rate-Limit"));
        assert!(
            c.iter()
                .any(|a| a.name == "WISPr-Bandwidth-Max-Down" && a.value == "100000000")
        );
    }

    #[test]
    fn status_types_parse_as_numbers_or_names() {
        assert_eq!(AcctStatus::parse("Start"), Some(AcctStatus::Start));
        assert_eq!(AcctStatus::parse("3"), Some(AcctStatus::Interim));
        assert_eq!(
            AcctStatus::parse("Interim-Update"),
            Some(AcctStatus::Interim)
        );
        assert_eq!(AcctStatus::parse("9"), None);
    }
}
