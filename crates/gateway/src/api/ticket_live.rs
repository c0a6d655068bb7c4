//! Live ticket updates (server-sent events), cabinet and console.
//!
//! `GET /me/tickets/{id}/live` (one of the subscriber's tickets), `GET /me/live` (all of them),
//! `GET /console/tickets/{id}/live` and `GET /console/tickets/live` (the queue; `tickets.read`).
//! Each event's data is a [`LiveUpdate`] (`{"kind":"message","ticket_id":"…"}`, or
//! `{"kind":"resync"}`): ids and a kind only, never text — the page refetches through its usual
//! API, so a stream cannot show more than that API does. A subscriber's streams never carry
//! internal changes (notes, desk events). A `:` comment every 20 s keeps proxies from closing
//! the connection; the session (and for staff `tickets.read`) is checked again every 30 s and
//! the stream ends when it no longer holds.
//!
//! These operations are hidden from the OpenAPI document: a stream never ends, so contract
//! fuzzing (Schemathesis) and the roles matrix would wait on it forever.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use kabinet_access::sessions::find_tenant_session;
use kabinet_access::{Permission, Principal};
use kabinet_core::{StaffId, SubscriberId, TenantId, TicketId};
use kabinet_ticketing::live::{self, Audience, LiveKind, LiveStream, Update};
use poem::Request;
use poem::http::header;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::EventStream;
use poem_openapi::{Enum, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use crate::AppState;
use crate::auth::{SESSION_COOKIE, StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

const KEEP_ALIVE: Duration = Duration::from_secs(20);
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// What changed.
#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum LiveUpdateKind {
    Created,
    Status,
    Message,
    /// Staff streams only.
    Note,
    /// Priority, assignee, tags, SLA warnings: staff streams only.
    Event,
    Attachment,
    /// Updates may have been missed: refetch everything shown.
    Resync,
}

/// One event of a live stream.
#[derive(Debug, Object)]
pub struct LiveUpdate {
    pub kind: LiveUpdateKind,
    /// The ticket that changed (absent for `resync`).
    #[oai(skip_serializing_if_is_none)]
    pub ticket_id: Option<Uuid>,
}

impl From<Update> for LiveUpdate {
    fn from(update: Update) -> Self {
        match update {
            Update::Resync => Self {
                kind: LiveUpdateKind::Resync,
                ticket_id: None,
            },
            Update::Changed { ticket, kind } => Self {
                kind: match kind {
                    LiveKind::Created => LiveUpdateKind::Created,
                    LiveKind::Status => LiveUpdateKind::Status,
                    LiveKind::Message => LiveUpdateKind::Message,
                    LiveKind::Note => LiveUpdateKind::Note,
                    LiveKind::Event => LiveUpdateKind::Event,
                    LiveKind::Attachment => LiveUpdateKind::Attachment,
                },
                ticket_id: Some(ticket.0),
            },
        }
    }
}

type Live = EventStream<BoxStream<'static, LiveUpdate>>;

/// Whose session keeps a stream open.
#[derive(Clone, Copy)]
enum Holder {
    Subscriber(SubscriberId),
    Staff(StaffId),
}

/// Re-checks, while a stream is open, that the session it was opened with still holds.
struct SessionCheck {
    state: AppState,
    tenant: TenantId,
    token: String,
    holder: Holder,
}

impl SessionCheck {
    fn new(state: &AppState, req: &Request, tenant: TenantId, holder: Holder) -> Self {
        Self {
            state: state.clone(),
            tenant,
            token: session_token(req).unwrap_or_default(),
            holder,
        }
    }

    /// The session is live, still this principal's, and staff may still read tickets. Any
    /// failure (the database too) ends the stream; the browser reconnects and is checked anew.
    async fn holds(&self) -> bool {
        let principal = async {
            let mut tx = self.state.db.tenant_tx(self.tenant).await.ok()?;
            let principal = find_tenant_session(&mut tx, &self.token, self.state.config.sessions)
                .await
                .ok()?;
            tx.commit().await.ok()?;
            Some(principal)
        };
        match (principal.await, self.holder) {
            (Some(Principal::Subscriber { id, .. }), Holder::Subscriber(holder)) => id == holder,
            (
                Some(Principal::Staff {
                    id,
                    policy_version,
                    two_factor_required,
                    ..
                }),
                Holder::Staff(holder),
            ) => {
                id == holder
                    && !two_factor_required
                    && self
                        .state
                        .authorizer
                        .require(self.tenant, id, Permission::TicketsRead, policy_version)
                        .await
                        .is_ok()
            }
            _ => false,
        }
    }
}

/// The session cookie the request was authenticated with (after `normalize_session_cookie`).
fn session_token(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(&format!("{SESSION_COOKIE}=")))
        .map(str::to_owned)
        .next()
}

/// Authorizes `audience` and opens its stream.
async fn open(state: &AppState, audience: Audience, check: SessionCheck) -> Result<Live, ApiError> {
    let mut tx = state.db.tenant_tx(audience.tenant()).await?;
    live::authorize(&mut tx, &audience).await?;
    tx.commit().await?;
    let updates = state.live.subscribe(audience);
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + SESSION_CHECK, SESSION_CHECK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = stream::unfold(
        (updates, ticks, check),
        |(mut updates, mut ticks, check): (LiveStream, tokio::time::Interval, SessionCheck)| async move {
            loop {
                tokio::select! {
                    update = updates.next() => {
                        return update.map(|u| (LiveUpdate::from(u), (updates, ticks, check)));
                    }
                    _ = ticks.tick() => {
                        if !check.holds().await {
                            return None;
                        }
                    }
                }
            }
        },
    );
    Ok(EventStream::new(stream.boxed()).keep_alive(KEEP_ALIVE))
}

pub struct PortalLiveApi;

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl PortalLiveApi {
    /// Live updates of one of the subscriber's tickets (SSE). Someone else's ticket is 404.
    #[oai(
        path = "/tickets/:id/live",
        method = "get",
        operation_id = "followMyTicket",
        hidden
    )]
    async fn follow_ticket(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Live, ApiError> {
        let me = auth.0;
        let audience = Audience::Subscriber {
            tenant: me.tenant.id,
            subscriber: me.id,
            ticket: Some(TicketId(id.0)),
        };
        let check = SessionCheck::new(&state, req, me.tenant.id, Holder::Subscriber(me.id));
        open(&state, audience, check).await
    }

    /// Live updates of all the subscriber's tickets (SSE): the ticket list and the bell.
    #[oai(
        path = "/live",
        method = "get",
        operation_id = "followMyTickets",
        hidden
    )]
    async fn follow_tickets(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: SubscriberAuth,
    ) -> Result<Live, ApiError> {
        let me = auth.0;
        let audience = Audience::Subscriber {
            tenant: me.tenant.id,
            subscriber: me.id,
            ticket: None,
        };
        let check = SessionCheck::new(&state, req, me.tenant.id, Holder::Subscriber(me.id));
        open(&state, audience, check).await
    }
}

pub struct ConsoleLiveApi;

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl ConsoleLiveApi {
    /// Live updates of the ISP's ticket queue (SSE), internal changes included. `tickets.read`.
    #[oai(
        path = "/tickets/live",
        method = "get",
        operation_id = "followQueue",
        hidden
    )]
    async fn follow_queue(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: StaffAuth,
    ) -> Result<Live, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let audience = Audience::Staff {
            tenant: staff.tenant.id,
            ticket: None,
        };
        let check = SessionCheck::new(&state, req, staff.tenant.id, Holder::Staff(staff.id));
        open(&state, audience, check).await
    }

    /// Live updates of one ticket (SSE), internal changes included. `tickets.read`.
    #[oai(
        path = "/tickets/:id/live",
        method = "get",
        operation_id = "followQueueTicket",
        hidden
    )]
    async fn follow_ticket(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Live, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let audience = Audience::Staff {
            tenant: staff.tenant.id,
            ticket: Some(TicketId(id.0)),
        };
        let check = SessionCheck::new(&state, req, staff.tenant.id, Holder::Staff(staff.id));
        open(&state, audience, check).await
    }
}

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (PortalLiveApi, ConsoleLiveApi);

pub fn apis() -> Apis {
    (PortalLiveApi, ConsoleLiveApi)
}
