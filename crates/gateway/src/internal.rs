//! The internal listener: what FreeRADIUS's `rest` module calls (`deploy/freeradius/`).
//!
//! Served on its own address (`kabinet serve --internal-listen`, never a tenant Host), and
//! every request needs `Authorization: Bearer <KABINET_RADIUS_TOKEN>`, compared in constant
//! time. The ISP is the NAS's, found from `src` (the packet's source address, which FreeRADIUS
//! puts in the URL; `src6` for a NAS on IPv6); nothing in the body can choose it.
//!
//! - `POST /radius/client?src=`     dynamic clients: the NAS's secret, or 404 for a stranger
//! - `POST /radius/authorize?src=`  200 + reply attributes, or 401 + Reply-Message
//! - `POST /radius/accounting?src=` 204 once recorded (a 5xx makes the NAS resend)
//!
//! Bodies are rlm_rest's JSON (`{"User-Name": {"type": "string", "value": ["bob"]}}`); plain
//! `{"User-Name": "bob"}` is accepted too. Replies use rlm_rest's format with `do_xlat` off, so
//! nothing Kabinet returns is expanded by FreeRADIUS.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{Duration as ChronoDuration, Utc};
use kabinet_network::NasRef;
use kabinet_network::aaa::{AcctOutcome, AcctRequest, AcctStatus, AuthRequest, Decision};
use kabinet_network::nas::NasCache;
use poem::http::{StatusCode, header};
use poem::web::{Data, Query};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, handler, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::problem::ApiError;

/// Internal bodies are a few hundred bytes; anything much larger is not from FreeRADIUS.
const MAX_BODY: usize = 64 * 1024;

#[derive(Clone)]
struct Token(Arc<String>);

/// The internal application; `token` is `KABINET_RADIUS_TOKEN`.
pub fn build_internal_app(state: AppState, token: String) -> impl Endpoint {
    Route::new()
        .at("/radius/client", post(client))
        .at("/radius/authorize", post(authorize))
        .at("/radius/accounting", post(accounting))
        .around(require_token)
        .with(poem::middleware::CatchPanic::new().with_handler(crate::problem::panic_response))
        .around(crate::problem::problem_responses)
        .data(Token(Arc::new(token)))
        .data(NasCache::default())
        .data(state)
        .around(crate::telemetry::trace_request)
}

async fn require_token<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let expected = req.data::<Token>().map(|t| t.0.clone());
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let ok =
        expected.is_some_and(|t| !t.is_empty() && bool::from(t.as_bytes().ct_eq(given.as_slice())));
    if !ok {
        tracing::warn!("internal request without a valid token");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Not authorized",
            Some("Send `Authorization: Bearer <KABINET_RADIUS_TOKEN>`.".into()),
        )
        .into());
    }
    Ok(next.call(req).await?.into_response())
}

/// The packet's source: FreeRADIUS fills `src` for IPv4 and `src6` for IPv6 (each attribute
/// expands to nothing when the packet has the other kind).
#[derive(Deserialize)]
struct Source {
    src: Option<String>,
    src6: Option<String>,
}

fn source(q: &Source) -> Result<IpAddr, ApiError> {
    [q.src.as_deref(), q.src6.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request("invalid_source", "`src` must be the NAS's IP address")
        })
}

async fn read_body(body: Body) -> Result<Map<String, Value>, ApiError> {
    let bytes = body.into_bytes_limit(MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large",
            Some(format!(
                "Internal requests are limited to {MAX_BODY} bytes."
            )),
        )
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object of RADIUS attributes",
        )),
    }
}

/// Attribute values as text, whichever form they came in.
struct Attrs(Map<String, Value>);

impl Attrs {
    fn first(&self, name: &str) -> Option<&Value> {
        let v = self.0.get(name)?;
        match v {
            Value::Object(o) => match o.get("value")? {
                Value::Array(a) => a.first(),
                other => Some(other),
            },
            Value::Array(a) => a.first(),
            other => Some(other),
        }
    }

    fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.first(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= 4096 => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ApiError::bad_request(
                "invalid_attribute",
                format!("{name} is not a RADIUS value"),
            )),
        }
    }

    fn number(&self, name: &str) -> Result<u64, ApiError> {
        match self.text(name)? {
            None => Ok(0),
            Some(s) => s.trim().parse().map_err(|_| {
                ApiError::bad_request("invalid_attribute", format!("{name} is not a number"))
            }),
        }
    }

    /// rlm_rest writes octets as `0x…` hex.
    fn octets(&self, name: &str) -> Result<Option<Vec<u8>>, ApiError> {
        let bad =
            || ApiError::bad_request("invalid_attribute", format!("{name} is not 0x-hex octets"));
        let Some(raw) = self.text(name)? else {
            return Ok(None);
        };
        let hex = raw.strip_prefix("0x").ok_or_else(bad)?;
        if hex.len() % 2 != 0 || hex.len() > 512 {
            return Err(bad());
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad()))
            .collect::<Result<Vec<u8>, _>>()
            .map(Some)
    }
}

async fn find_nas(state: &AppState, src: IpAddr) -> Result<NasRef, ApiError> {
    kabinet_network::nas::resolve(&state.db, src)
        .await?
        .ok_or_else(|| unknown_nas(src))
}

fn unknown_nas(src: IpAddr) -> ApiError {
    tracing::warn!(%src, "RADIUS request from an address no ISP registered");
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_nas",
        "Unknown NAS",
        Some(format!("No ISP has registered a NAS at {src}.")),
    )
}

/// An rlm_rest attribute, never xlat-expanded by FreeRADIUS.
fn literal(value: impl Into<String>) -> Value {
    json!({"op": ":=", "do_xlat": false, "is_json": false, "value": value.into()})
}

#[handler]
async fn client(
    Data(state): Data<&AppState>,
    Query(q): Query<Source>,
) -> Result<Response, ApiError> {
    let src = source(&q)?;
    let nas = find_nas(state, src).await?;
    let mut tx = state.db.tenant_tx(nas.tenant).await?;
    let secret = kabinet_network::nas::secret(&mut tx, &state.config.secret_key, nas.id).await?;
    tx.commit().await?;
    let address_attribute = match src {
        IpAddr::V4(_) => "control:FreeRADIUS-Client-IP-Address",
        IpAddr::V6(_) => "control:FreeRADIUS-Client-IPv6-Address",
    };
    Ok(poem::web::Json(json!({
        address_attribute: literal(src.to_string()),
        "control:FreeRADIUS-Client-Secret": literal(secret),
        "control:FreeRADIUS-Client-Shortname": literal(format!("nas-{}", nas.id)),
        "control:FreeRADIUS-Client-Require-MA": literal("no"),
    }))
    .into_response())
}

#[handler]
async fn authorize(
    Data(state): Data<&AppState>,
    Data(nas_cache): Data<&NasCache>,
    Query(q): Query<Source>,
    body: Body,
) -> Result<Response, ApiError> {
    let src = source(&q)?;
    let attrs = Attrs(read_body(body).await?);
    let username = attrs
        .text("User-Name")?
        .filter(|u| !u.trim().is_empty() && u.len() <= 253)
        .ok_or_else(|| ApiError::bad_request("invalid_attribute", "User-Name is required"))?;
    let req = AuthRequest {
        username,
        password: attrs.text("User-Password")?.map(String::into_bytes),
        chap_password: attrs.octets("CHAP-Password")?,
        chap_challenge: attrs.octets("CHAP-Challenge")?,
        calling_station_id: attrs.text("Calling-Station-Id")?,
        // Octets in the dictionary: rlm_rest sends them as 0x-hex.
        circuit_id: attrs
            .octets("ADSL-Agent-Circuit-Id")?
            .map(|c| String::from_utf8_lossy(&c).into_owned()),
    };
    // The hot path: the NAS from the node's cache, checked in the decision's statement; a stale
    // entry is forgotten and the NAS looked up afresh, once.
    let mut nas = nas_cache
        .resolve(&state.db, src)
        .await?
        .ok_or_else(|| unknown_nas(src))?;
    let mut fresh = false;
    let decision = loop {
        let key = &state.config.secret_key;
        if let Some(d) = kabinet_network::aaa::authorize(&state.db, key, nas, src, &req).await? {
            break d;
        }
        nas_cache.forget(src).await;
        if fresh {
            // Moved again between two looks: answer as for a stranger; the NAS resends.
            return Err(unknown_nas(src));
        }
        fresh = true;
        nas = find_nas(state, src).await?;
    };
    Ok(match decision {
        Decision::Accept(reply) => {
            let mut out = Map::new();
            for a in reply {
                out.insert(format!("reply:{}", a.name), literal(a.value));
            }
            // Checked here already: FreeRADIUS need not authenticate again.
            out.insert("control:Auth-Type".into(), literal("Accept"));
            poem::web::Json(Value::Object(out)).into_response()
        }
        Decision::Reject(message) => {
            tracing::info!(tenant = %nas.tenant, nas = %nas.id, reason = %message, "access rejected");
            poem::web::Json(json!({"reply:Reply-Message": literal(message)}))
                .with_status(StatusCode::UNAUTHORIZED)
                .into_response()
        }
    })
}

#[handler]
async fn accounting(
    Data(state): Data<&AppState>,
    Query(q): Query<Source>,
    body: Body,
) -> Result<Response, ApiError> {
    let src = source(&q)?;
    let attrs = Attrs(read_body(body).await?);
    let status = attrs
        .text("Acct-Status-Type")?
        .as_deref()
        .and_then(AcctStatus::parse)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_attribute",
                "Acct-Status-Type is missing or unknown",
            )
        })?;
    let gigaword = 1u64 << 32;
    let delay = attrs.number("Acct-Delay-Time")?.min(86_400);
    let req = AcctRequest {
        status,
        session_id: attrs.text("Acct-Session-Id")?.unwrap_or_default(),
        username: attrs.text("User-Name")?.unwrap_or_default(),
        framed_ip: attrs
            .text("Framed-IP-Address")?
            .and_then(|ip| ip.parse().ok()),
        calling_station_id: attrs.text("Calling-Station-Id")?,
        input_octets: attrs
            .number("Acct-Input-Gigawords")?
            .saturating_mul(gigaword)
            .saturating_add(attrs.number("Acct-Input-Octets")?),
        output_octets: attrs
            .number("Acct-Output-Gigawords")?
            .saturating_mul(gigaword)
            .saturating_add(attrs.number("Acct-Output-Octets")?),
        session_time: attrs.number("Acct-Session-Time")?,
        at: Utc::now() - ChronoDuration::seconds(delay as i64),
        terminate_cause: attrs.text("Acct-Terminate-Cause")?,
    };
    let nas = find_nas(state, src).await?;
    let mut tx = state.db.tenant_tx(nas.tenant).await?;
    let outcome = kabinet_network::record_accounting(&mut tx, nas, &req).await?;
    tx.commit().await?;
    if outcome == AcctOutcome::UnknownLogin {
        tracing::warn!(tenant = %nas.tenant, nas = %nas.id, user = %req.username, "accounting for an unknown login");
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
