//! Counting every request for the operator's platform view: status and latency per ISP, added
//! to this node's [`RequestMeter`](kabinet_tenancy::metrics::RequestMeter) as each response
//! leaves (after errors became problem+json, so a 500 is counted as one).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use kabinet_core::TenantId;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::AppState;

/// How often a node adds its counts to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// Which ISP the request reached: set by site resolution once the Host is known.
#[derive(Clone, Default)]
pub struct TenantSlot(Arc<OnceLock<TenantId>>);

impl TenantSlot {
    pub fn set(&self, tenant: TenantId) {
        let _ = self.0.set(tenant);
    }
}

pub async fn count_request<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let meter = req.data::<AppState>().map(|s| s.request_meter.clone());
    let slot = TenantSlot::default();
    req.extensions_mut().insert(slot.clone());
    let started = Instant::now();
    let resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    if let Some(meter) = meter {
        meter.record(
            Utc::now(),
            slot.0.get().copied(),
            resp.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0,
        );
    }
    Ok(resp)
}
