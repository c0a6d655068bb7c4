//! Liveness and readiness for load balancers and orchestrators; they answer on any Host.

use poem::handler;
use poem::http::StatusCode;
use poem::web::{Data, Json};
use serde_json::{Value, json};

use crate::AppState;

/// The process is up.
#[handler]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers and its schema is this binary's.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> (StatusCode, Json<Value>) {
    match state.db.check_ready().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "not_ready", "reason": "database unavailable or migrations pending" }),
                ),
            )
        }
    }
}
