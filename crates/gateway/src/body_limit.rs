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

/// The subscriber CSV import streams its body and gets its own, larger limit.
const IMPORT_PATH: &str = "/api/v1/console/subscribers/import";

pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    // Messages with files are multipart and get the larger limit; the attachment rules then
    // check each file and the total.
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let limit = req
        .data::<AppState>()
        .map(|s| {
            if req.uri().path() == IMPORT_PATH {
                s.config.max_import_bytes
            } else if multipart {
                s.config.max_upload_bytes
            } else {
                s.config.max_body_bytes
            }
        })
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
