//! Request body size limit. poem's `SizeLimit` refuses every request without `Content-Length`
//! (even a GET), so this one checks the declared length when there is one and reads a chunked
//! body up to the limit when there is not.

use poem::http::{StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};

use crate::AppState;
use crate::problem::ApiError;

fn too_large(limit: usize) -> poem::Error {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "The request body is too large",
        Some(format!("Request bodies are limited to {limit} bytes.")),
    )
    .into()
}

pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let limit = req
        .data::<AppState>()
        .map(|s| s.config.max_body_bytes)
        .unwrap_or(1024 * 1024);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => return Err(too_large(limit)),
        Some(_) => {}
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = req
                .take_body()
                .into_bytes_limit(limit)
                .await
                .map_err(|_| too_large(limit))?;
            req.set_body(Body::from_bytes(body));
        }
        None => {}
    }
    Ok(next.call(req).await?.into_response())
}
