//! The HTTP gateway: everything between a socket and a domain function.
//!
//! A request passes, in order: telemetry (request id, span) → body size limit → site
//! resolution (Host → tenant via `kabinet_tenancy::Directory`; unknown hosts 404, suspended
//! tenants 403) → the poem-openapi service, where a security scheme authenticates the session
//! cookie and checks CSRF, the handler checks its one permission, and calls one domain function.
//! Every error leaves as RFC 9457 problem+json, mapped in `problem.rs` and nowhere else.

mod allow;
mod api;
mod auth;
mod body_limit;
mod config;
mod health;
mod internal;
mod metrics;
mod problem;
mod site;
mod stripe_webhook;
mod telemetry;
mod web;

use std::sync::Arc;

use kabinet_access::Authorizer;
use kabinet_db::Database;
use kabinet_tenancy::Directory;
use poem::{Endpoint, EndpointExt, Route, get};
use poem_openapi::OpenApiService;

pub use config::GatewayConfig;
pub use internal::build_internal_app;
pub use problem::{ApiError, Problem};

/// Everything a request handler may need, shared by all requests of the process.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub directory: Arc<Directory>,
    pub authorizer: Authorizer,
    pub config: Arc<GatewayConfig>,
    /// Stripe, when the platform takes online payments (`None`: top-ups are unavailable).
    pub stripe: Option<Arc<kabinet_payments::Stripe>>,
    /// This node's fan-out of ticket changes to the live (SSE) streams.
    pub live: kabinet_ticketing::live::LiveHub,
    /// This node's request counts, written to `request_minutes` for the operator's platform view.
    pub request_meter: kabinet_tenancy::metrics::RequestMeter,
}

impl AppState {
    pub fn new(db: Database, config: GatewayConfig) -> Self {
        let directory =
            Directory::new(db.clone(), &config.platform_domain, config.tenant_cache_ttl);
        let authorizer = Authorizer::new(db.clone());
        let live = kabinet_ticketing::live::LiveHub::new(db.clone());
        Self {
            db,
            directory,
            authorizer,
            config: Arc::new(config),
            stripe: None,
            live,
            request_meter: Default::default(),
        }
    }

    pub fn with_stripe(mut self, stripe: kabinet_payments::Stripe) -> Self {
        self.stripe = Some(Arc::new(stripe));
        self
    }

    /// Starts the cross-process listeners (LISTEN/NOTIFY): cache invalidation and the live
    /// ticket updates; and the writer of this node's request counts.
    pub fn spawn_background(&self) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            self.directory.spawn_invalidation_listener(),
            self.authorizer.spawn_invalidation_listener(),
            self.live.spawn_listener(),
            self.request_meter
                .spawn_flusher(self.db.clone(), metrics::FLUSH_EVERY),
            kabinet_provisioning::deletion::spawn_worker(
                self.db.clone(),
                self.config.attachments.objects(),
                kabinet_provisioning::deletion::WORKER_SWEEP,
            ),
        ]
    }
}

/// The OpenAPI service: every `/api/v1` operation, and the source of `/api/openapi.json`.
pub fn openapi_service(version: &str) -> OpenApiService<api::Apis, ()> {
    OpenApiService::new(api::apis(), "Kabinet API", version)
        .server("/api/v1")
        .description(
            "The whole Kabinet platform as one API: the subscriber cabinet (`/me`), the ISP staff \
             console (`/console`) and the operator console (`/platform`). The tenant is the \
             request's Host. Sign in to get a session cookie; send `X-CSRF-Token` with every \
             state-changing request. Errors are `application/problem+json` with a stable `code`.",
        )
}

/// The OpenAPI document as JSON (also served at `/api/openapi.json`).
pub fn openapi_json() -> String {
    openapi_service(env!("CARGO_PKG_VERSION")).spec()
}

/// Builds the whole HTTP application.
pub fn build_app(state: AppState) -> impl Endpoint {
    let service = openapi_service(env!("CARGO_PKG_VERSION"));
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    let web = web::endpoint(&state.config);

    // Unknown `/api/...` paths end in this Route's 404, never in the web app's index.html.
    let api = Route::new()
        .nest("/v1", service)
        .at("/openapi.json", spec)
        .nest("/docs", docs);
    let tenant_routes = Route::new()
        .nest("/api", api)
        .nest("/", web)
        .around(site::resolve_site);

    Route::new()
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        // Stripe calls the platform, not a tenant: the connected account names the ISP.
        .at("/webhooks/stripe", poem::post(stripe_webhook::receive))
        .nest("/", tenant_routes)
        .around(body_limit::limit_body)
        .with(poem::middleware::CatchPanic::new().with_handler(problem::panic_response))
        .around(problem::problem_responses)
        .around(auth::normalize_session_cookie)
        .around(metrics::count_request)
        .data(state)
        .around(telemetry::trace_request)
}
