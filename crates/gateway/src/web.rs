//! The built web app (`web/dist`).
//!
//! `/assets/*` are content-hashed files: cached for a year, and a missing one is a 404 (a tab
//! left open across a deploy must fail cleanly, not load HTML as JavaScript). Every other path
//! is the single-page app: `index.html`, never cached, so the client router can handle deep
//! links like `/console/tickets/…`. HEAD is answered like GET, without a body.

use poem::endpoint::StaticFilesEndpoint;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, handler};

use crate::GatewayConfig;
use crate::problem::ApiError;

#[handler]
fn not_built() -> Response {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .content_type("text/plain; charset=utf-8")
        .body("The web app is not built. Run `npm --prefix web ci && npm --prefix web run build`.")
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// GET and HEAD only; HEAD gets GET's headers and no body; every response gets `cache`.
async fn static_only<E: Endpoint>(
    next: E,
    mut req: Request,
    cache: &'static str,
) -> poem::Result<Response> {
    let head = req.method() == Method::HEAD;
    if head {
        req.set_method(Method::GET);
    } else if req.method() != Method::GET {
        let mut resp = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            None,
        )
        .into_response();
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(resp);
    }
    let mut resp = next.call(req).await?.into_response();
    if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    if head {
        resp.set_body(Body::empty());
    }
    Ok(resp)
}

pub fn endpoint(config: &GatewayConfig) -> poem::endpoint::BoxEndpoint<'static> {
    let dist = &config.web_dir;
    if !dist.join("index.html").is_file() {
        return not_built.map_to_response().boxed();
    }
    let assets = StaticFilesEndpoint::new(dist.join("assets"))
        .map_to_response()
        .around(|ep, req| static_only(ep, req, IMMUTABLE));
    let app = StaticFilesEndpoint::new(dist)
        .index_file("index.html")
        .fallback_to_index()
        .map_to_response()
        .around(|ep, req| static_only(ep, req, REVALIDATE));
    Route::new().nest("/assets", assets).nest("/", app).boxed()
}
