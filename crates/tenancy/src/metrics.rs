//! The operator's platform view: request and error rates per minute (counted in memory on each
//! node, added to `request_minutes` every few seconds), each background worker's last pass
//! (`worker_passes`: how far behind it is), and each ISP's data size and mail queue (measured in
//! its scheduler round, see [`crate::record_usage`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use kabinet_core::TenantId;
use kabinet_db::{Database, PlatformTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::repo::TenancyError;

/// How long per-minute request counts and stale worker rows are kept.
const KEEP: TimeDelta = TimeDelta::days(7);
/// A request this slow counts as slow.
const SLOW_MS: f64 = 1000.0;

/// This process, as the platform view names it: `host/pid`, so two nodes on one machine differ.
pub fn node_name() -> &'static str {
    static NODE: OnceLock<String> = OnceLock::new();
    NODE.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".to_owned());
        format!("{host}/{}", std::process::id())
    })
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Counts {
    requests: i64,
    client_errors: i64,
    server_errors: i64,
    slow: i64,
    latency_ms_sum: f64,
    latency_ms_max: f64,
}

/// One minute of one ISP (`None`: the platform's own hosts).
type MinuteKey = (DateTime<Utc>, Option<Uuid>);

/// Request counts of this node not yet written, per (minute, ISP). Cheap to clone; every clone
/// counts into the same table.
#[derive(Clone, Default)]
pub struct RequestMeter {
    pending: Arc<Mutex<HashMap<MinuteKey, Counts>>>,
}

impl RequestMeter {
    /// Counts one finished request (`tenant`: the ISP whose host it reached, if any).
    pub fn record(
        &self,
        at: DateTime<Utc>,
        tenant: Option<TenantId>,
        status: u16,
        elapsed_ms: f64,
    ) {
        let minute = at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at);
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let c = pending
            .entry((minute, tenant.map(|t| t.as_uuid())))
            .or_default();
        c.requests += 1;
        c.client_errors += i64::from((400..500).contains(&status));
        c.server_errors += i64::from(status >= 500);
        c.slow += i64::from(elapsed_ms >= SLOW_MS);
        c.latency_ms_sum += elapsed_ms;
        c.latency_ms_max = c.latency_ms_max.max(elapsed_ms);
    }

    /// Adds what was counted since the last flush to `request_minutes`, in one statement. On
    /// failure the counts go back, to be added next time (nothing counted twice: the table only
    /// changes when the statement commits).
    pub async fn flush(&self, db: &Database) -> Result<usize, TenancyError> {
        let batch: Vec<_> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match write_minutes(db, &batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (key, c) in batch {
                    let into = pending.entry(key).or_default();
                    into.requests += c.requests;
                    into.client_errors += c.client_errors;
                    into.server_errors += c.server_errors;
                    into.slow += c.slow;
                    into.latency_ms_sum += c.latency_ms_sum;
                    into.latency_ms_max = into.latency_ms_max.max(c.latency_ms_max);
                }
                Err(e)
            }
        }
    }

    /// Flushes every `every` until the task is aborted.
    pub fn spawn_flusher(&self, db: Database, every: Duration) -> tokio::task::JoinHandle<()> {
        let meter = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Err(e) = meter.flush(&db).await {
                    tracing::warn!(error = %e, "writing request counts failed; retrying");
                }
            }
        })
    }
}

async fn write_minutes(db: &Database, batch: &[(MinuteKey, Counts)]) -> Result<(), TenancyError> {
    let minutes: Vec<DateTime<Utc>> = batch.iter().map(|((m, _), _)| *m).collect();
    let tenants: Vec<Option<Uuid>> = batch.iter().map(|((_, t), _)| *t).collect();
    let col = |f: fn(&Counts) -> i64| batch.iter().map(|(_, c)| f(c)).collect::<Vec<i64>>();
    let sums: Vec<f64> = batch.iter().map(|(_, c)| c.latency_ms_sum).collect();
    let maxes: Vec<f64> = batch.iter().map(|(_, c)| c.latency_ms_max).collect();
    let mut tx = db.platform_tx().await?;
    // A tenant deleted meanwhile has no row to point at: its counts go to the platform's.
    sqlx::query(
        "INSERT INTO request_minutes AS r (minute, node, tenant_id, requests, client_errors, \
           server_errors, slow, latency_ms_sum, latency_ms_max) \
         SELECT b.minute, $2, t.id, b.requests, b.client_errors, b.server_errors, b.slow, b.sum, b.max \
         FROM unnest($1::timestamptz[], $3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[], \
                     $7::bigint[], $8::float8[], $9::float8[]) \
              AS b(minute, tenant, requests, client_errors, server_errors, slow, sum, max) \
         LEFT JOIN tenants t ON t.id = b.tenant \
         ON CONFLICT (minute, node, tenant_id) DO UPDATE SET \
           requests = r.requests + EXCLUDED.requests, \
           client_errors = r.client_errors + EXCLUDED.client_errors, \
           server_errors = r.server_errors + EXCLUDED.server_errors, \
           slow = r.slow + EXCLUDED.slow, \
           latency_ms_sum = r.latency_ms_sum + EXCLUDED.latency_ms_sum, \
           latency_ms_max = greatest(r.latency_ms_max, EXCLUDED.latency_ms_max)",
    )
    .bind(&minutes)
    .bind(node_name())
    .bind(&tenants)
    .bind(col(|c| c.requests))
    .bind(col(|c| c.client_errors))
    .bind(col(|c| c.server_errors))
    .bind(col(|c| c.slow))
    .bind(&sums)
    .bind(&maxes)
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM request_minutes WHERE minute < $1")
        .bind(Utc::now() - KEEP)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The background workers whose passes the platform view follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Worker {
    /// The scheduler round: billing, the desk's SLA work, usage figures.
    Billing,
    /// The mail sender's sweep over every ISP's outbox.
    Mail,
    /// CoA/Disconnect retries and stale RADIUS sessions.
    Network,
    /// Reconciling card payments with Stripe.
    Reconcile,
}

impl Worker {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Billing => "billing",
            Self::Mail => "mail",
            Self::Network => "network",
            Self::Reconcile => "reconcile",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Billing, Self::Mail, Self::Network, Self::Reconcile]
            .into_iter()
            .find(|w| w.as_str() == s)
    }
}

/// Records that `worker` finished a pass on this node (`failures`: ISPs it could not finish).
/// Never fails the worker: a lost heartbeat only makes the worker look late.
pub async fn record_worker_pass(
    db: &Database,
    worker: Worker,
    started_at: DateTime<Utc>,
    failures: u32,
) {
    let result = async {
        let mut tx = db.platform_tx().await?;
        sqlx::query(
            "INSERT INTO worker_passes (worker, node, started_at, finished_at, failures) \
             VALUES ($1, $2, $3, greatest(now(), $3), $4) \
             ON CONFLICT (worker, node) DO UPDATE SET started_at = EXCLUDED.started_at, \
               finished_at = EXCLUDED.finished_at, failures = EXCLUDED.failures",
        )
        .bind(worker.as_str())
        .bind(node_name())
        .bind(started_at)
        .bind(i32::try_from(failures).unwrap_or(i32::MAX))
        .execute(tx.conn())
        .await?;
        sqlx::query("DELETE FROM worker_passes WHERE finished_at < $1")
            .bind(Utc::now() - KEEP)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok::<_, TenancyError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(worker = worker.as_str(), error = %e, "recording the worker's pass failed");
    }
}

/// One minute of the platform's traffic (all ISPs and nodes).
#[derive(Clone, Debug, PartialEq)]
pub struct MinuteTraffic {
    pub minute: DateTime<Utc>,
    pub requests: i64,
    pub client_errors: i64,
    pub server_errors: i64,
    pub slow: i64,
    pub latency_ms_avg: f64,
    pub latency_ms_max: f64,
}

/// One ISP's traffic over the window, with its last measured size and mail queue.
#[derive(Clone, Debug, PartialEq)]
pub struct TenantTraffic {
    pub tenant: TenantId,
    pub slug: String,
    pub name: String,
    pub requests: i64,
    pub client_errors: i64,
    pub server_errors: i64,
    pub latency_ms_avg: Option<f64>,
    pub data_bytes: Option<i64>,
    pub mail_due: Option<i32>,
    pub oldest_mail_due_at: Option<DateTime<Utc>>,
    pub coa_due: Option<i32>,
    pub measured_at: Option<DateTime<Utc>>,
}

/// A worker's most recent pass on any node.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerState {
    pub worker: Worker,
    pub node: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub failures: i32,
    /// Nodes that ran a pass within the window.
    pub nodes: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlatformMetrics {
    pub since: DateTime<Utc>,
    pub per_minute: Vec<MinuteTraffic>,
    pub tenants: Vec<TenantTraffic>,
    pub workers: Vec<WorkerState>,
    pub database_bytes: i64,
}

/// The platform view over the last `window`: three statements, however many ISPs and nodes.
pub async fn platform_metrics(
    tx: &mut PlatformTx,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Result<PlatformMetrics, TenancyError> {
    let since = (now - window)
        .duration_trunc(TimeDelta::minutes(1))
        .unwrap_or(now - window);
    let per_minute = sqlx::query(
        "SELECT minute, sum(requests)::bigint AS requests, sum(client_errors)::bigint AS client_errors, \
           sum(server_errors)::bigint AS server_errors, sum(slow)::bigint AS slow, \
           sum(latency_ms_sum) / greatest(sum(requests), 1) AS avg, max(latency_ms_max) AS max \
         FROM request_minutes WHERE minute >= $1 GROUP BY minute ORDER BY minute",
    )
    .bind(since)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(MinuteTraffic {
            minute: r.try_get("minute")?,
            requests: r.try_get("requests")?,
            client_errors: r.try_get("client_errors")?,
            server_errors: r.try_get("server_errors")?,
            slow: r.try_get("slow")?,
            latency_ms_avg: r.try_get("avg")?,
            latency_ms_max: r.try_get("max")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let tenants = sqlx::query(
        "SELECT t.id, t.slug, t.display_name, \
           coalesce(m.requests, 0)::bigint AS requests, coalesce(m.client_errors, 0)::bigint AS client_errors, \
           coalesce(m.server_errors, 0)::bigint AS server_errors, m.avg, \
           u.data_bytes, u.mail_due, u.oldest_mail_due_at, u.coa_due, u.measured_at \
         FROM tenants t \
         LEFT JOIN (SELECT tenant_id, sum(requests) AS requests, sum(client_errors) AS client_errors, \
                      sum(server_errors) AS server_errors, \
                      sum(latency_ms_sum) / greatest(sum(requests), 1) AS avg \
                    FROM request_minutes WHERE minute >= $1 AND tenant_id IS NOT NULL \
                    GROUP BY tenant_id) m ON m.tenant_id = t.id \
         LEFT JOIN tenant_usage u ON u.tenant_id = t.id \
         ORDER BY coalesce(m.requests, 0) DESC, t.slug",
    )
    .bind(since)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| {
        Ok(TenantTraffic {
            tenant: TenantId(r.try_get("id")?),
            slug: r.try_get("slug")?,
            name: r.try_get("display_name")?,
            requests: r.try_get("requests")?,
            client_errors: r.try_get("client_errors")?,
            server_errors: r.try_get("server_errors")?,
            latency_ms_avg: r.try_get("avg")?,
            data_bytes: r.try_get("data_bytes")?,
            mail_due: r.try_get("mail_due")?,
            oldest_mail_due_at: r.try_get("oldest_mail_due_at")?,
            coa_due: r.try_get("coa_due")?,
            measured_at: r.try_get("measured_at")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let rows = sqlx::query(
        "SELECT DISTINCT ON (worker) worker, node, started_at, finished_at, failures, \
           count(*) FILTER (WHERE finished_at >= $1) OVER (PARTITION BY worker) AS nodes \
         FROM worker_passes ORDER BY worker, finished_at DESC",
    )
    .bind(since)
    .fetch_all(tx.conn())
    .await?;
    let mut workers = Vec::with_capacity(rows.len());
    for r in &rows {
        let name: String = r.try_get("worker")?;
        let Some(worker) = Worker::parse(&name) else {
            continue;
        };
        workers.push(WorkerState {
            worker,
            node: r.try_get("node")?,
            started_at: r.try_get("started_at")?,
            finished_at: r.try_get("finished_at")?,
            failures: r.try_get("failures")?,
            nodes: r.try_get("nodes")?,
        });
    }
    let database_bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(tx.conn())
        .await?;
    Ok(PlatformMetrics {
        since,
        per_minute,
        tenants,
        workers,
        database_bytes,
    })
}
