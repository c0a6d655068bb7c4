//! The CoA/Disconnect outbox (RFC 5176). A trigger on `accounts` queues a request for every open
//! session of an account whose status or tariff changed, in the transaction of the change. This
//! worker claims due rows with `FOR UPDATE SKIP LOCKED` (nodes share the work), leases them past
//! the conversation, signs each with the NAS's secret, sends it to the NAS's CoA port and
//! records the answer: ACK, NAK with its Error-Cause, or, after the last attempt, a timeout.
//! A CoA carries the rate limit of the account's tariff as it is when sent.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use kabinet_access::SecretKey;
use kabinet_core::TenantId;
use kabinet_db::{Database, sqlx};
use sqlx::Row;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::aaa::{Speeds, rate_attrs};
use crate::nas::{Vendor, open_secret};
use crate::radius::{self, Attr, Packet};
use crate::{NetworkError, sessions};

pub const COA_CHANNEL: &str = "kabinet_coa";

#[derive(Clone, Debug)]
pub struct CoaSettings {
    /// How long to wait for the NAS's answer to one attempt.
    pub timeout: Duration,
    pub max_attempts: i32,
    /// The wait after the first failed attempt; doubles each time, up to ten minutes.
    pub retry_base: Duration,
    /// How often every ISP is swept (retries, stale sessions).
    pub sweep_every: Duration,
}

impl Default for CoaSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(3),
            max_attempts: 5,
            retry_base: Duration::from_secs(10),
            sweep_every: Duration::from_secs(30),
        }
    }
}

impl CoaSettings {
    fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(u32::try_from(attempts.max(1) - 1).unwrap_or(0));
        self.retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(600))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Ack,
    Nak(Option<u32>),
    Timeout(&'static str),
}

struct Claimed {
    id: Uuid,
    kind: String,
    attempts: i32,
    acct_session_id: String,
    nas_id: Uuid,
    target: SocketAddr,
    secret_sealed: Vec<u8>,
    vendor: Vendor,
    username: Option<String>,
    framed_ip: Option<IpAddr>,
    speeds: Option<Speeds>,
}

/// Sends one tenant's due requests, batch by batch (at most ten batches per call, so one busy
/// ISP cannot hold up the others). Returns how many were answered or given up.
pub async fn deliver_tenant(
    db: &Database,
    key: &SecretKey,
    settings: &CoaSettings,
    tenant: TenantId,
) -> Result<usize, NetworkError> {
    let mut finished = 0;
    for _ in 0..10 {
        let claimed = claim(db, settings, tenant).await?;
        if claimed.is_empty() {
            break;
        }
        let mut sends = JoinSet::new();
        for row in claimed {
            let secret = open_secret(key, tenant, row.nas_id, &row.secret_sealed);
            let timeout = settings.timeout;
            sends.spawn(async move {
                let answer = match secret {
                    Ok(secret) => send(&row, secret.as_bytes(), timeout).await,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot open a NAS secret");
                        Answer::Timeout("cannot open the NAS secret")
                    }
                };
                (row, answer)
            });
        }
        while let Some(done) = sends.join_next().await {
            let Ok((row, answer)) = done else { continue };
            if record(db, settings, tenant, &row, answer).await? {
                finished += 1;
            }
        }
    }
    Ok(finished)
}

async fn claim(
    db: &Database,
    settings: &CoaSettings,
    tenant: TenantId,
) -> Result<Vec<Claimed>, NetworkError> {
    let lease = settings.timeout.as_secs_f64() * 2.0 + 5.0;
    let mut tx = db.tenant_tx(tenant).await?;
    let rows = sqlx::query(
        "WITH due AS ( \
             SELECT id FROM coa_requests WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at <= now() \
             ORDER BY next_attempt_at, id LIMIT 32 FOR UPDATE SKIP LOCKED \
         ), claimed AS ( \
             UPDATE coa_requests c SET attempts = c.attempts + 1, next_attempt_at = now() + make_interval(secs => $2) \
             FROM due WHERE c.tenant_id = $1 AND c.id = due.id \
             RETURNING c.id, c.kind, c.attempts, c.nas_id, c.acct_session_id, c.subscriber_id \
         ) \
         SELECT claimed.*, host(n.address) AS address, n.coa_port, n.secret_sealed, n.vendor, \
                s.username, host(s.framed_ip) AS framed_ip, t.speed_mbps, COALESCE(t.upload_speed_mbps, t.speed_mbps) AS up_mbps \
         FROM claimed \
         JOIN nas n ON n.tenant_id = $1 AND n.id = claimed.nas_id \
         LEFT JOIN radius_sessions s ON s.tenant_id = $1 AND s.nas_id = claimed.nas_id AND s.acct_session_id = claimed.acct_session_id \
         LEFT JOIN accounts a ON a.tenant_id = $1 AND a.subscriber_id = claimed.subscriber_id \
         LEFT JOIN tariffs t ON t.tenant_id = $1 AND t.id = a.tariff_id",
    )
    .bind(tenant.as_uuid())
    .bind(lease)
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            let address: String = r.try_get("address")?;
            let port: i32 = r.try_get("coa_port")?;
            let vendor: String = r.try_get("vendor")?;
            let ip: Option<String> = r.try_get("framed_ip")?;
            let down: Option<i32> = r.try_get("speed_mbps")?;
            let up: Option<i32> = r.try_get("up_mbps")?;
            Ok(Claimed {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                attempts: r.try_get("attempts")?,
                acct_session_id: r.try_get("acct_session_id")?,
                nas_id: r.try_get("nas_id")?,
                target: SocketAddr::new(
                    address
                        .parse()
                        .map_err(|_| NetworkError::Corrupt(format!("nas address {address:?}")))?,
                    u16::try_from(port).unwrap_or(3799),
                ),
                secret_sealed: r.try_get("secret_sealed")?,
                vendor: Vendor::parse(&vendor)
                    .ok_or_else(|| NetworkError::Corrupt(format!("vendor {vendor:?}")))?,
                username: r.try_get("username")?,
                framed_ip: ip.and_then(|ip| ip.parse().ok()),
                speeds: down
                    .zip(up)
                    .map(|(down_mbps, up_mbps)| Speeds { down_mbps, up_mbps }),
            })
        })
        .collect()
}

/// The request packet for a claimed row: the session identified as RFC 5176 §3 asks
/// (Acct-Session-Id, User-Name, Framed-IP-Address), plus the new rate for a CoA.
fn packet(row: &Claimed) -> Packet {
    let code = if row.kind == "coa" {
        radius::COA_REQUEST
    } else {
        radius::DISCONNECT_REQUEST
    };
    // The same identifier on every attempt of one request, so a NAS can spot a repeat.
    let mut p = Packet::new(code, row.id.as_bytes()[15]);
    if let Some(user) = &row.username {
        p.attrs
            .push(Attr::new(radius::USER_NAME, user.as_bytes().to_vec()));
    }
    p.attrs.push(Attr::new(
        radius::ACCT_SESSION_ID,
        row.acct_session_id.as_bytes().to_vec(),
    ));
    if let Some(IpAddr::V4(ip)) = row.framed_ip {
        p.attrs
            .push(Attr::new(radius::FRAMED_IP_ADDRESS, ip.octets().to_vec()));
    }
    if code == radius::COA_REQUEST
        && let Some(speeds) = row.speeds
    {
        for a in rate_attrs(row.vendor, speeds) {
            match a.name {
                "Mikrotik-Rate-Limit" => p.attrs.push(Attr::vendor(
                    radius::VENDOR_MIKROTIK,
                    radius::MIKROTIK_RATE_LIMIT,
                    a.value.into_bytes(),
                )),
                "WISPr-Bandwidth-Max-Up" | "WISPr-Bandwidth-Max-Down" => {
                    let kind = if a.name.ends_with("Up") {
                        radius::WISPR_BANDWIDTH_MAX_UP
                    } else {
                        radius::WISPR_BANDWIDTH_MAX_DOWN
                    };
                    let bps = a.value.parse::<u64>().unwrap_or(0).min(u64::from(u32::MAX)) as u32;
                    p.attrs.push(Attr::vendor(
                        radius::VENDOR_WISPR,
                        kind,
                        bps.to_be_bytes().to_vec(),
                    ));
                }
                _ => {}
            }
        }
    }
    p.attrs
        .push(Attr::new(radius::MESSAGE_AUTHENTICATOR, vec![0; 16]));
    p
}

async fn send(row: &Claimed, secret: &[u8], timeout: Duration) -> Answer {
    let mut request = packet(row);
    let Ok(bytes) = request.encode_signed_request(secret) else {
        return Answer::Timeout("request does not fit a RADIUS packet");
    };
    let bind: SocketAddr = if row.target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let Ok(socket) = UdpSocket::bind(bind).await else {
        return Answer::Timeout("cannot open a UDP socket");
    };
    if socket.connect(row.target).await.is_err() || socket.send(&bytes).await.is_err() {
        return Answer::Timeout("cannot reach the NAS");
    }
    let wait = async {
        let mut buf = vec![0u8; radius::MAX_PACKET];
        loop {
            let Ok(n) = socket.recv(&mut buf).await else {
                return Answer::Timeout("no answer");
            };
            let reply = &buf[..n];
            // Anything that is not the answer to this request, signed with this secret, is
            // ignored (a spoofed or stray datagram must not settle the outcome).
            let Ok(p) = Packet::decode(reply) else {
                continue;
            };
            if p.id != request.id
                || radius::verify_response(reply, &request.authenticator, secret).is_err()
            {
                continue;
            }
            return match p.code {
                radius::DISCONNECT_ACK | radius::COA_ACK => Answer::Ack,
                radius::DISCONNECT_NAK | radius::COA_NAK => Answer::Nak(p.int(radius::ERROR_CAUSE)),
                _ => continue,
            };
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .unwrap_or(Answer::Timeout("no answer"))
}

/// Writes the outcome; `true` when the request is settled. Only a pending row changes, so a
/// late duplicate answer cannot record a second outcome.
async fn record(
    db: &Database,
    settings: &CoaSettings,
    tenant: TenantId,
    row: &Claimed,
    answer: Answer,
) -> Result<bool, NetworkError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let (status, error_cause, error, retry) = match answer {
        Answer::Ack => ("acked", None, None, None),
        Answer::Nak(cause) => ("nacked", cause.map(|c| c as i32), None, None),
        Answer::Timeout(why) if row.attempts >= settings.max_attempts => {
            ("timed_out", None, Some(why), None)
        }
        Answer::Timeout(why) => (
            "pending",
            None,
            Some(why),
            Some(settings.backoff(row.attempts)),
        ),
    };
    sqlx::query(
        "UPDATE coa_requests SET status = $3, error_cause = $4, last_error = $5, \
                answered_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END, \
                next_attempt_at = CASE WHEN $6::float8 IS NULL THEN next_attempt_at ELSE now() + make_interval(secs => $6) END \
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(tenant.as_uuid())
    .bind(row.id)
    .bind(status)
    .bind(error_cause)
    .bind(error)
    .bind(retry.map(|d| d.as_secs_f64()))
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    match answer {
        Answer::Ack => {
            tracing::info!(tenant = %tenant, request = %row.id, kind = %row.kind, "NAS acknowledged")
        }
        Answer::Nak(cause) => {
            tracing::warn!(tenant = %tenant, request = %row.id, kind = %row.kind, ?cause, "NAS refused")
        }
        Answer::Timeout(why) => {
            tracing::warn!(tenant = %tenant, request = %row.id, attempts = row.attempts, why, "no answer from the NAS")
        }
    }
    Ok(status != "pending")
}

/// One ISP's periodic work: due requests and stale sessions.
pub async fn sweep_tenant(
    db: &Database,
    key: &SecretKey,
    settings: &CoaSettings,
    tenant: TenantId,
) -> Result<(), NetworkError> {
    deliver_tenant(db, key, settings, tenant).await?;
    let mut tx = db.tenant_tx(tenant).await?;
    let closed = sessions::close_stale(&mut tx).await?;
    tx.commit().await?;
    if closed > 0 {
        tracing::info!(tenant = %tenant, closed, "closed sessions whose interim updates stopped");
    }
    Ok(())
}

/// One sweep over every ISP; returns how many it could not finish (all of them, counted as
/// one, when the tenant list itself could not be read).
async fn sweep_all(db: &Database, key: &SecretKey, settings: &CoaSettings) -> u32 {
    let tenants = match db.platform_tx().await {
        Ok(mut tx) => {
            let listed = kabinet_tenancy::list_tenants(&mut tx).await;
            let _ = tx.commit().await;
            match listed {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(error = %e, "network worker: listing tenants");
                    return 1;
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "network worker: database");
            return 1;
        }
    };
    let mut failures = 0;
    for (tenant, _) in tenants {
        if let Err(e) = sweep_tenant(db, key, settings, tenant.id).await {
            tracing::error!(tenant = %tenant.id, error = %e, "network worker round failed");
            failures += 1;
        }
    }
    failures
}

/// The worker of `kabinet serve`: wakes on `NOTIFY kabinet_coa` (that ISP's new requests) and
/// every `sweep_every` (every ISP: retries, stale sessions).
pub fn spawn_worker(
    db: Database,
    key: SecretKey,
    settings: CoaSettings,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut listener = None;
        let mut sweep = tokio::time::interval(settings.sweep_every);
        loop {
            if listener.is_none() {
                listener = db.listener(&[COA_CHANNEL]).await.ok();
            }
            tokio::select! {
                _ = sweep.tick() => {
                    let started = chrono::Utc::now();
                    let failures = sweep_all(&db, &key, &settings).await;
                    kabinet_tenancy::metrics::record_worker_pass(
                        &db,
                        kabinet_tenancy::metrics::Worker::Network,
                        started,
                        failures,
                    )
                    .await;
                }
                note = async {
                    match listener.as_mut() {
                        Some(l) => l.recv().await.ok(),
                        None => {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            None
                        }
                    }
                } => match note {
                    Some(note) => {
                        if let Ok(tenant) = note.payload().parse::<Uuid>()
                            && let Err(e) = deliver_tenant(&db, &key, &settings, TenantId(tenant)).await
                        {
                            tracing::error!(%tenant, error = %e, "sending CoA/Disconnect failed");
                        }
                    }
                    None => listener = None,
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_levels_off() {
        let s = CoaSettings::default();
        assert_eq!(s.backoff(1), Duration::from_secs(10));
        assert_eq!(s.backoff(2), Duration::from_secs(20));
        assert_eq!(s.backoff(30), Duration::from_secs(600));
    }
}
