//! Host → site. Runs before any route: unknown hosts get 404, suspended tenants 403, and
//! everything downstream finds a [`SiteCtx`] in the request.

use std::sync::Arc;

use kabinet_tenancy::{Host, Site, Tenant, TenantStatus};
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::AppState;
use crate::problem::ApiError;

/// The resolved site of the current request.
#[derive(Clone, Debug)]
pub struct SiteCtx {
    pub host: Host,
    pub site: Site,
}

impl SiteCtx {
    pub fn tenant(&self) -> Option<&Arc<Tenant>> {
        match &self.site {
            Site::Tenant(t) => Some(t),
            Site::Platform => None,
        }
    }
}

/// What a read-only ISP (SaaS dunning) still serves: every read; signing in and out (with
/// password reset and two-factor enrolment, which sign-in may need); and subscribers paying
/// their bills, so money keeps reaching the ISP. Everything else that writes is refused.
fn allowed_while_read_only(req: &Request) -> bool {
    if matches!(
        *req.method(),
        poem::http::Method::GET | poem::http::Method::HEAD | poem::http::Method::OPTIONS
    ) {
        return true;
    }
    let path = req.uri().path();
    let Some(api) = path.strip_prefix("/api/v1") else {
        return true; // the web app's files
    };
    (api.starts_with("/auth/") && !api.starts_with("/auth/invitation"))
        || api.starts_with("/me/payments/")
        || api.starts_with("/me/two-factor")
        || api.starts_with("/console/me/two-factor")
}

fn wants_html(req: &Request) -> bool {
    !req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
}

fn suspended_page(tenant: &Tenant) -> Response {
    let name = kabinet_mail::escape_html(&tenant.display_name);
    let body = format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name}</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;\
         margin:15vh auto;padding:0 1.5rem;color:#1f2933;line-height:1.5}}h1{{font-size:1.5rem}}\
         p{{color:#52606d}}</style></head><body><h1>{name}</h1>\
         <p>Личный кабинет временно недоступен. Ваши данные в сохранности; пожалуйста, \
         обратитесь к провайдеру.</p>\
         <p lang=\"en\">This portal is temporarily unavailable. Your data is safe; please contact \
         your provider.</p></body></html>"
    );
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub async fn resolve_site<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let Some(state) = req.data::<AppState>().cloned() else {
        return Err(ApiError::internal("site", &"application state missing").into());
    };
    let raw_host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or_default()
        .to_owned();
    let Ok(host) = Host::parse(&raw_host) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_host",
            "Bad Host header",
            Some("The Host header is missing or not a valid host name.".into()),
        )
        .into());
    };
    let site = match state.directory.resolve(&host).await {
        Ok(Some(site)) => site,
        Ok(None) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_host",
                "No site here",
                Some(format!("Nothing is served at {host}.")),
            )
            .into());
        }
        Err(e) => return Err(ApiError::internal("resolving host", &e).into()),
    };
    if let Site::Tenant(tenant) = &site {
        tracing::Span::current().record("tenant", tenant.slug.as_str());
        if let Some(slot) = req.extensions().get::<crate::metrics::TenantSlot>() {
            slot.set(tenant.id);
        }
        if tenant.status == TenantStatus::Suspended {
            if wants_html(&req) {
                return Ok(suspended_page(tenant));
            }
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "tenant_suspended",
                "This provider's portal is suspended",
                Some("The data is kept; the provider has been notified.".into()),
            )
            .into());
        }
        if tenant.read_only && !allowed_while_read_only(&req) {
            return Err(ApiError::new(
                StatusCode::LOCKED,
                "tenant_read_only",
                "This provider's console is read-only",
                Some(
                    "The platform subscription is unpaid: changes are switched off until it is \
                     paid. Reading, signing in and subscribers' payments still work."
                        .into(),
                ),
            )
            .into());
        }
    } else {
        tracing::Span::current().record("tenant", "(platform)");
    }
    req.extensions_mut().insert(SiteCtx { host, site });
    Ok(next.call(req).await?.into_response())
}
