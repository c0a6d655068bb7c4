//! The `/v1` REST API: authentication, `Stripe-Account` scoping,
//! `Idempotency-Key` replay, and routing to the resource modules.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use poem::http::{Method, StatusCode};
use poem::web::Data;
use poem::{Body, Request, Response, handler};
use serde_json::Value;

use crate::error::ApiError;
use crate::events::{API_VERSION, RequestInfo, spawn_deliveries};
use crate::form::Params;
use crate::store::{CachedResponse, Scope, Store, new_id};
use crate::{Inner, accounts, checkout, customers, expand, payment_intents, refunds};

/// Who is calling, on whose account, as part of which request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) scope: Scope,
    pub(crate) request: RequestInfo,
}

impl Ctx {
    pub(crate) fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

#[handler]
pub(crate) async fn v1(req: &Request, body: Body, Data(inner): Data<&Arc<Inner>>) -> Response {
    let request_id = new_id("req_");
    let (status, json, replayed) = match serve(inner, req, body, &request_id).await {
        Ok(answer) => answer,
        Err(err) => (err.status, err.envelope(), false),
    };
    let mut response = Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .header("Request-Id", request_id)
        .header("Stripe-Version", API_VERSION);
    if let Some(key) = header(req, "Idempotency-Key") {
        response = response.header("Idempotency-Key", key);
    }
    if replayed {
        response = response.header("Idempotent-Replayed", "true");
    }
    response.body(serde_json::to_string_pretty(&json).unwrap_or_default())
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// Handles one API call: `(status, body, replayed)`.
async fn serve(
    inner: &Arc<Inner>,
    req: &Request,
    body: Body,
    request_id: &str,
) -> Result<(StatusCode, Value, bool), ApiError> {
    authenticate(inner, req)?;
    let scope = header(req, "Stripe-Account").map(str::to_owned);
    if let Some(account) = &scope
        && inner.lock().account(account).is_none()
    {
        return Err(ApiError::account_invalid(&inner.secret_key, account));
    }
    let body = body
        .into_string()
        .await
        .map_err(|_| ApiError::invalid_request(None, None, "Invalid request body."))?;
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let params = if method == Method::GET || method == Method::DELETE {
        Params::parse(req.uri().query().unwrap_or_default())?
    } else {
        Params::parse(&body)?
    };
    let idempotency_key = (method == Method::POST)
        .then(|| header(req, "Idempotency-Key").map(str::to_owned))
        .flatten();
    let ctx = Ctx {
        scope,
        request: RequestInfo {
            id: Some(request_id.to_owned()),
            idempotency_key: idempotency_key.clone(),
        },
    };
    let fingerprint = format!("{method} {path}\n{body}");

    let (result, outbox) = {
        let mut store = inner.lock();
        if let Some(key) = &idempotency_key
            && let Some(cached) = store.idempotency.get(&(ctx.scope.clone(), key.clone()))
        {
            if cached.fingerprint != fingerprint {
                return Err(ApiError::idempotency_mismatch(key));
            }
            let status = StatusCode::from_u16(cached.status).unwrap_or(StatusCode::OK);
            return Ok((status, cached.body.clone(), true));
        }
        let segments: Vec<&str> = path
            .trim_start_matches("/v1/")
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let result = route(&mut store, &ctx, &method, &segments, &params)
            .map(|mut json| {
                expand::apply(&store, ctx.scope(), &params, &mut json);
                (StatusCode::OK, json)
            })
            .unwrap_or_else(|err| (err.status, err.envelope()));
        if let Some(key) = idempotency_key {
            store.idempotency.insert(
                (ctx.scope.clone(), key),
                CachedResponse {
                    fingerprint,
                    status: result.0.as_u16(),
                    body: result.1.clone(),
                },
            );
        }
        (result, store.take_outbox())
    };
    spawn_deliveries(inner, outbox);
    Ok((result.0, result.1, false))
}

/// Accepts the secret key as a Bearer token or as the Basic-auth user name
/// (`curl -u sk_test_...:`), as Stripe does.
fn authenticate(inner: &Inner, req: &Request) -> Result<(), ApiError> {
    let provided = header(req, "Authorization").map(|value| {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return token.trim().to_owned();
        }
        value
            .strip_prefix("Basic ")
            .and_then(|encoded| BASE64.decode(encoded.trim()).ok())
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .map(|user_pass| user_pass.split(':').next().unwrap_or_default().to_owned())
            .unwrap_or_else(|| value.to_owned())
    });
    match provided {
        Some(key) if key == inner.secret_key => Ok(()),
        other => Err(ApiError::invalid_api_key(other.as_deref())),
    }
}

fn route(
    store: &mut Store,
    ctx: &Ctx,
    method: &Method,
    segments: &[&str],
    params: &Params,
) -> Result<Value, ApiError> {
    match (method.as_str(), segments) {
        ("POST", ["accounts"]) => accounts::create(store, ctx, params),
        ("GET", ["accounts", id]) => accounts::retrieve(store, ctx, Some(id)),
        ("GET", ["account"]) => accounts::retrieve(store, ctx, None),
        ("POST", ["account_links"]) => accounts::create_link(store, ctx, params),

        ("POST", ["checkout", "sessions"]) => checkout::create(store, ctx, params),
        ("GET", ["checkout", "sessions"]) => checkout::list(store, ctx, params),
        ("GET", ["checkout", "sessions", id]) => checkout::retrieve(store, ctx, id),
        ("POST", ["checkout", "sessions", id, "expire"]) => checkout::expire(store, ctx, id),

        ("POST", ["payment_intents"]) => payment_intents::create(store, ctx, params),
        ("GET", ["payment_intents"]) => payment_intents::list(store, ctx, params),
        ("GET", ["payment_intents", id]) => payment_intents::retrieve(store, ctx, id),
        ("GET", ["charges", id]) => payment_intents::retrieve_charge(store, ctx, id),

        ("POST", ["customers"]) => customers::create_customer(store, ctx, params),
        ("GET", ["customers", id]) => customers::retrieve_customer(store, ctx, id),
        ("POST", ["customers", id]) => customers::update_customer(store, ctx, id, params),
        ("GET", ["customers", id, "payment_methods"]) => {
            customers::list_customer_payment_methods(store, ctx, id, params)
        }
        ("GET", ["payment_methods"]) => customers::list_payment_methods(store, ctx, params),
        ("GET", ["payment_methods", id]) => customers::retrieve_payment_method(store, ctx, id),
        ("POST", ["payment_methods", id, "detach"]) => {
            customers::detach_payment_method(store, ctx, id)
        }

        ("GET", ["setup_intents"]) => crate::setup_intents::list(store, ctx, params),
        ("GET", ["setup_intents", id]) => crate::setup_intents::retrieve(store, ctx, id),

        ("POST", ["refunds"]) => refunds::create(store, ctx, params),
        ("GET", ["refunds"]) => refunds::list(store, ctx, params),
        ("GET", ["refunds", id]) => refunds::retrieve(store, ctx, id),

        ("GET", ["events"]) => crate::events::list(store, ctx, params),
        ("GET", ["events", id]) => crate::events::retrieve(store, ctx, id),

        (_, [first, ..]) if crate::billing::handles(first) => {
            crate::billing::route(store, ctx, method, segments, params)
        }

        _ => Err(ApiError::unrecognized_url(
            method.as_str(),
            &format!("/v1/{}", segments.join("/")),
        )),
    }
}
