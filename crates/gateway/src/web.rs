//! The built web app (`web/dist`), with every unknown path falling back to `index.html` so the
//! client-side router handles `/console/tickets/…` deep links.

use poem::endpoint::StaticFilesEndpoint;
use poem::http::StatusCode;
use poem::{EndpointExt, IntoEndpoint, Response, handler};

use crate::GatewayConfig;

#[handler]
fn not_built() -> Response {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .content_type("text/plain; charset=utf-8")
        .body("The web app is not built. Run `npm --prefix web ci && npm --prefix web run build`.")
}

pub fn endpoint(config: &GatewayConfig) -> poem::endpoint::BoxEndpoint<'static> {
    if config.web_dir.join("index.html").is_file() {
        StaticFilesEndpoint::new(&config.web_dir)
            .index_file("index.html")
            .fallback_to_index()
            .into_endpoint()
            .map_to_response()
            .boxed()
    } else {
        not_built.map_to_response().boxed()
    }
}
