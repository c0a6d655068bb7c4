//! Reading sessions and traffic: who is online (the console), a subscriber's sessions and
//! traffic per day (the cabinet and the subscriber page), and closing sessions whose NAS stopped
//! sending interim updates.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use kabinet_core::SubscriberId;
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::NetworkError;

#[derive(Clone, Debug)]
pub struct Session {
    pub nas_id: Uuid,
    pub nas_name: String,
    pub acct_session_id: String,
    pub subscriber: SubscriberId,
    pub account_number: String,
    pub username: String,
    pub framed_ip: Option<IpAddr>,
    pub calling_station_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub input_octets: i64,
    pub output_octets: i64,
    pub state: String,
    pub terminate_cause: Option<String>,
}

const COLUMNS: &str = "s.nas_id, n.name AS nas_name, s.acct_session_id, s.subscriber_id, sub.account_number, \
     s.username, host(s.framed_ip) AS framed_ip, s.calling_station_id, s.started_at, s.updated_at, s.stopped_at, \
     s.input_octets, s.output_octets, s.state, s.terminate_cause";

const FROM: &str = "FROM radius_sessions s \
     JOIN nas n ON n.tenant_id = s.tenant_id AND n.id = s.nas_id \
     JOIN subscribers sub ON sub.tenant_id = s.tenant_id AND sub.id = s.subscriber_id";

fn from_row(row: &PgRow) -> Result<Session, NetworkError> {
    let ip: Option<String> = row.try_get("framed_ip")?;
    Ok(Session {
        nas_id: row.try_get("nas_id")?,
        nas_name: row.try_get("nas_name")?,
        acct_session_id: row.try_get("acct_session_id")?,
        subscriber: SubscriberId(row.try_get("subscriber_id")?),
        account_number: row.try_get("account_number")?,
        username: row.try_get("username")?,
        framed_ip: ip.and_then(|ip| ip.parse().ok()),
        calling_station_id: row.try_get("calling_station_id")?,
        started_at: row.try_get("started_at")?,
        updated_at: row.try_get("updated_at")?,
        stopped_at: row.try_get("stopped_at")?,
        input_octets: row.try_get("input_octets")?,
        output_octets: row.try_get("output_octets")?,
        state: row.try_get("state")?,
        terminate_cause: row.try_get("terminate_cause")?,
    })
}

/// Where the previous page of online sessions ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineCursor {
    pub started_at: DateTime<Utc>,
    pub nas_id: Uuid,
    pub acct_session_id: String,
}

impl OnlineCursor {
    pub fn encode(&self) -> String {
        format!(
            "{}|{}|{}",
            self.started_at.timestamp_micros(),
            self.nas_id,
            self.acct_session_id
        )
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '|');
        let micros: i64 = parts.next()?.parse().ok()?;
        let nas_id = parts.next()?.parse().ok()?;
        let acct_session_id = parts.next()?.to_owned();
        Some(Self {
            started_at: DateTime::from_timestamp_micros(micros)?,
            nas_id,
            acct_session_id,
        })
    }
}

/// The ISP's open sessions, newest first, keyset-paginated.
pub async fn online(
    tx: &mut TenantTx,
    after: Option<&OnlineCursor>,
    limit: i64,
) -> Result<(Vec<Session>, Option<OnlineCursor>), NetworkError> {
    let limit = limit.clamp(1, 200);
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} {FROM} WHERE s.tenant_id = $1 AND s.state = 'open' \
           AND ($2::timestamptz IS NULL OR (s.started_at, s.nas_id, s.acct_session_id) < ($2, $3, $4)) \
         ORDER BY s.started_at DESC, s.nas_id DESC, s.acct_session_id DESC LIMIT $5"
    ))
    .bind(tx.tenant().as_uuid())
    .bind(after.map(|c| c.started_at))
    .bind(after.map(|c| c.nas_id))
    .bind(after.map(|c| c.acct_session_id.clone()))
    .bind(limit + 1)
    .fetch_all(tx.conn())
    .await?;
    let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|s| OnlineCursor {
            started_at: s.started_at,
            nas_id: s.nas_id,
            acct_session_id: s.acct_session_id.clone(),
        })
    } else {
        None
    };
    Ok((items, next))
}

/// A subscriber's recent sessions: open ones first, then the latest closed.
pub async fn of_subscriber(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    limit: i64,
) -> Result<Vec<Session>, NetworkError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} {FROM} WHERE s.tenant_id = $1 AND s.subscriber_id = $2 \
         ORDER BY s.started_at DESC LIMIT $3"
    ))
    .bind(tx.tenant().as_uuid())
    .bind(subscriber.as_uuid())
    .bind(limit.clamp(1, 100))
    .fetch_all(tx.conn())
    .await?;
    let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    items.sort_by_key(|s| s.state != "open");
    Ok(items)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayTraffic {
    pub day: NaiveDate,
    /// From the subscriber: upload.
    pub input_octets: i64,
    /// To the subscriber: download.
    pub output_octets: i64,
}

/// Traffic per day over the last `days` days (the ISP's calendar), newest first.
pub async fn traffic(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    days: i32,
) -> Result<Vec<DayTraffic>, NetworkError> {
    let rows = sqlx::query(
        "SELECT day, input_octets, output_octets FROM traffic_daily \
         WHERE tenant_id = $1 AND subscriber_id = $2 \
           AND day > (now() AT TIME ZONE (SELECT time_zone FROM tenants WHERE id = $1))::date - $3 \
         ORDER BY day DESC",
    )
    .bind(tx.tenant().as_uuid())
    .bind(subscriber.as_uuid())
    .bind(days.clamp(1, 366))
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DayTraffic {
                day: r.try_get("day")?,
                input_octets: r.try_get("input_octets")?,
                output_octets: r.try_get("output_octets")?,
            })
        })
        .collect()
}

/// Marks open sessions `stale` when their NAS sent nothing for three interim intervals (the
/// NAS rebooted without Accounting-On, or the Stop was lost). One statement per ISP.
pub async fn close_stale(tx: &mut TenantTx) -> Result<u64, NetworkError> {
    let done = sqlx::query(
        "UPDATE radius_sessions SET state = 'stale', stopped_at = updated_at, terminate_cause = COALESCE(terminate_cause, 'Lost-Interim') \
         WHERE tenant_id = $1 AND state = 'open' \
           AND updated_at < now() - make_interval(secs => 3 * COALESCE( \
               (SELECT interim_interval_secs FROM network_settings WHERE tenant_id = $1), 300))",
    )
    .bind(tx.tenant().as_uuid())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = OnlineCursor {
            started_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("time"),
            nas_id: Uuid::nil(),
            acct_session_id: "a|b".into(),
        };
        assert_eq!(OnlineCursor::decode(&c.encode()), Some(c));
        assert_eq!(OnlineCursor::decode("nonsense"), None);
    }
}
