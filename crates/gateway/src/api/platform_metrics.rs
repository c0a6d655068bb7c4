//! The operator's platform view (`/platform/metrics`): request and error rates per minute, each
//! ISP's traffic, data size and queues, and how far behind each background worker is.

use chrono::{DateTime, TimeDelta, Utc};
use kabinet_tenancy::metrics::{PlatformMetrics, Worker, platform_metrics};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::Tag;
use crate::AppState;
use crate::auth::OperatorAuth;
use crate::problem::ApiError;

pub struct PlatformMetricsApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = PlatformMetricsApi;

pub fn apis() -> Apis {
    PlatformMetricsApi
}

/// One minute of traffic over all ISPs and nodes.
#[derive(Debug, Object)]
pub struct TrafficMinute {
    pub minute: DateTime<Utc>,
    pub requests: i64,
    /// 4xx answers (bad input, refused access: the client's side).
    pub client_errors: i64,
    /// 5xx answers: the platform's failures.
    pub server_errors: i64,
    /// Requests that took a second or more.
    pub slow: i64,
    pub latency_ms_avg: f64,
    pub latency_ms_max: f64,
}

/// One ISP over the window.
#[derive(Debug, Object)]
pub struct TenantTrafficRow {
    pub slug: String,
    pub name: String,
    pub requests: i64,
    pub client_errors: i64,
    pub server_errors: i64,
    #[oai(skip_serializing_if_is_none)]
    pub latency_ms_avg: Option<f64>,
    /// The bytes of the ISP's rows, as of its last scheduler round.
    #[oai(skip_serializing_if_is_none)]
    pub data_bytes: Option<i64>,
    /// Letters due to be sent and not yet sent, as of its last scheduler round.
    #[oai(skip_serializing_if_is_none)]
    pub mail_due: Option<i32>,
    /// When the oldest of those was written: the mail queue's lag.
    #[oai(skip_serializing_if_is_none)]
    pub oldest_mail_due_at: Option<DateTime<Utc>>,
    /// RADIUS CoA/Disconnect requests due and not yet answered.
    #[oai(skip_serializing_if_is_none)]
    pub coa_due: Option<i32>,
    #[oai(skip_serializing_if_is_none)]
    pub measured_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum BackgroundWorker {
    /// The scheduler round: billing, the desk's SLA work, usage figures.
    Billing,
    /// The mail sender's sweep.
    Mail,
    /// RADIUS CoA/Disconnect retries and stale sessions.
    Network,
    /// Card payments reconciled with Stripe.
    Reconcile,
}

impl From<Worker> for BackgroundWorker {
    fn from(w: Worker) -> Self {
        match w {
            Worker::Billing => Self::Billing,
            Worker::Mail => Self::Mail,
            Worker::Network => Self::Network,
            Worker::Reconcile => Self::Reconcile,
        }
    }
}

/// A background worker's most recent pass on any node.
#[derive(Debug, Object)]
pub struct WorkerRow {
    pub worker: BackgroundWorker,
    /// The node (`host/pid`) that finished it.
    pub node: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Seconds since that pass finished: the worker's lag.
    pub lag_seconds: i64,
    /// ISPs that pass could not finish.
    pub failures: i32,
    /// Nodes that ran this worker within the window.
    pub nodes: i64,
}

#[derive(Debug, Object)]
pub struct PlatformView {
    pub since: DateTime<Utc>,
    pub measured_at: DateTime<Utc>,
    pub requests: i64,
    pub server_errors: i64,
    pub client_errors: i64,
    /// Requests per second over the window.
    pub request_rate: f64,
    /// The share of requests answered with a 5xx (0–1).
    pub error_rate: f64,
    pub per_minute: Vec<TrafficMinute>,
    pub tenants: Vec<TenantTrafficRow>,
    pub workers: Vec<WorkerRow>,
    /// The whole database's size on disk.
    pub database_bytes: i64,
}

fn view(m: PlatformMetrics, now: DateTime<Utc>, window: TimeDelta) -> PlatformView {
    let requests: i64 = m.per_minute.iter().map(|p| p.requests).sum();
    let server_errors: i64 = m.per_minute.iter().map(|p| p.server_errors).sum();
    let client_errors: i64 = m.per_minute.iter().map(|p| p.client_errors).sum();
    PlatformView {
        since: m.since,
        measured_at: now,
        requests,
        server_errors,
        client_errors,
        request_rate: requests as f64 / window.num_seconds().max(1) as f64,
        error_rate: if requests == 0 {
            0.0
        } else {
            server_errors as f64 / requests as f64
        },
        per_minute: m
            .per_minute
            .into_iter()
            .map(|p| TrafficMinute {
                minute: p.minute,
                requests: p.requests,
                client_errors: p.client_errors,
                server_errors: p.server_errors,
                slow: p.slow,
                latency_ms_avg: p.latency_ms_avg,
                latency_ms_max: p.latency_ms_max,
            })
            .collect(),
        tenants: m
            .tenants
            .into_iter()
            .map(|t| TenantTrafficRow {
                slug: t.slug,
                name: t.name,
                requests: t.requests,
                client_errors: t.client_errors,
                server_errors: t.server_errors,
                latency_ms_avg: t.latency_ms_avg,
                data_bytes: t.data_bytes,
                mail_due: t.mail_due,
                oldest_mail_due_at: t.oldest_mail_due_at,
                coa_due: t.coa_due,
                measured_at: t.measured_at,
            })
            .collect(),
        workers: m
            .workers
            .into_iter()
            .map(|w| WorkerRow {
                worker: w.worker.into(),
                node: w.node,
                started_at: w.started_at,
                finished_at: w.finished_at,
                lag_seconds: (now - w.finished_at).num_seconds().max(0),
                failures: w.failures,
                nodes: w.nodes,
            })
            .collect(),
        database_bytes: m.database_bytes,
    }
}

#[OpenApi(prefix_path = "/platform", tag = "Tag::Platform")]
impl PlatformMetricsApi {
    /// The platform view over the last `minutes` (default 60, at most a week): request and
    /// error rates per minute, each ISP's traffic, data size and queues, and each background
    /// worker's last pass. Counts reach it within about ten seconds of the requests.
    #[oai(path = "/metrics", method = "get", operation_id = "platformMetrics")]
    async fn metrics(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
        #[oai(validator(minimum(value = "5"), maximum(value = "10080")))] minutes: Query<
            Option<i64>,
        >,
    ) -> Result<Json<PlatformView>, ApiError> {
        let _operator = auth.0;
        let window = TimeDelta::minutes(minutes.0.unwrap_or(60));
        let now = Utc::now();
        let mut tx = state.db.platform_tx().await?;
        let metrics = platform_metrics(&mut tx, now, window).await?;
        tx.commit().await?;
        Ok(Json(view(metrics, now, window)))
    }
}
