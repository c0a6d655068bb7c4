use kabinet_cabinet::dashboard;
use kabinet_core::TicketId;
use kabinet_ticketing::{
    NewTicket as DomainNewTicket, add_subscriber_message, create_ticket, get_for_subscriber,
    list_for_subscriber, reopen_for_subscriber,
};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::dto::{AccountStatus, Message, Money, MovementList, Ticket, TicketList, TicketThread};
use super::ticket_files::{NewMessageRequest, NewTicketRequest, attach_files};
use crate::AppState;
use crate::auth::SubscriberAuth;
use crate::problem::ApiError;
use kabinet_ticketing::attachments::{AttachTo, Uploader};

pub struct PortalApi;

#[derive(Debug, Object)]
pub struct SubscriberProfile {
    pub account_number: String,
    pub full_name: String,
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
}

#[derive(Debug, Object)]
pub struct Account {
    pub status: AccountStatus,
    pub balance: Money,
    pub credit_limit: Money,
}

#[derive(Debug, Object)]
pub struct Tariff {
    pub id: Uuid,
    pub name: String,
    pub monthly_price: Money,
    pub speed_mbps: i32,
}

#[derive(Debug, Object)]
pub struct Dashboard {
    pub subscriber: SubscriberProfile,
    pub account: Account,
    #[oai(skip_serializing_if_is_none)]
    pub tariff: Option<Tariff>,
    pub open_tickets: i64,
    /// The next monthly charge.
    pub next_charge: NextCharge,
    /// Days of service the balance still pays for (an estimate); absent on a free tariff.
    #[oai(skip_serializing_if_is_none)]
    pub days_left: Option<i64>,
    /// The first posts of the subscriber's news feed (at most 3, pinned first, then newest).
    pub latest_news: Vec<super::news::NewsItem>,
}

#[derive(Debug, Object)]
pub struct NextCharge {
    pub at: chrono::DateTime<chrono::Utc>,
    pub amount: Money,
}

#[derive(ApiResponse)]
enum TicketCreated {
    #[oai(status = 201)]
    Created(Json<TicketThread>),
}

#[derive(ApiResponse)]
enum MessageAdded {
    #[oai(status = 201)]
    Created(Json<Message>),
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl PortalApi {
    /// Balance, status, tariff, open tickets and the latest news of the signed-in subscriber.
    #[oai(path = "/dashboard", method = "get", operation_id = "getDashboard")]
    async fn dashboard(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        /// The language on screen: news written for the other language is left out.
        lang: poem_openapi::param::Query<Option<super::dto::Locale>>,
    ) -> Result<Json<Dashboard>, ApiError> {
        let me = auth.0;
        let locale = lang.0.as_ref().map(super::news::post_locale);
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let d = dashboard(&mut tx, me.id, locale, chrono::Utc::now()).await?;
        tx.commit().await?;
        Ok(Json(Dashboard {
            subscriber: SubscriberProfile {
                account_number: d.profile.account_number,
                full_name: d.profile.full_name,
                email: d.profile.email,
                phone: d.profile.phone,
            },
            account: Account {
                status: d.account.status.into(),
                balance: d.account.balance.into(),
                credit_limit: d.account.credit_limit.into(),
            },
            tariff: d.account.tariff.map(|t| Tariff {
                id: t.id,
                name: t.name,
                monthly_price: t.monthly_price.into(),
                speed_mbps: t.speed_mbps,
            }),
            open_tickets: d.open_tickets,
            next_charge: NextCharge {
                at: d.forecast.next_charge_at,
                amount: d.forecast.next_charge.into(),
            },
            days_left: d.forecast.days_left,
            latest_news: d.news.iter().map(Into::into).collect(),
        }))
    }

    /// Every movement of the subscriber's balance, newest first (payments, charges, corrections).
    #[oai(path = "/ledger", method = "get", operation_id = "listMyMovements")]
    async fn ledger(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<MovementList>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let items = kabinet_billing::history(&mut tx, me.id, 500).await?;
        tx.commit().await?;
        Ok(Json(MovementList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// The subscriber's tickets, most recently active first.
    #[oai(path = "/tickets", method = "get", operation_id = "listMyTickets")]
    async fn tickets(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<TicketList>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let tickets = list_for_subscriber(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(Json(TicketList {
            items: tickets.iter().map(Ticket::from).collect(),
        }))
    }

    /// Opens a ticket; the description becomes its first message. JSON, or
    /// `multipart/form-data` with the same fields and `files` attached to that first message
    /// (refused files: `attachment_too_large`, `attachments_too_large`, `too_many_attachments`,
    /// `empty_attachment`, `unsupported_attachment_type`, `damaged_image`; nothing is kept).
    #[oai(path = "/tickets", method = "post", operation_id = "createTicket")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: NewTicketRequest,
    ) -> Result<TicketCreated, ApiError> {
        let me = auth.0;
        let input = body.into_input().await?;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let mut ticket = create_ticket(
            &mut tx,
            &me.tenant.time_zone,
            &DomainNewTicket {
                subscriber: me.id,
                category: input.category.into(),
                subject: input.subject,
                description: input.description,
            },
            chrono::Utc::now(),
        )
        .await?;
        let first = ticket.messages.first().map(|m| m.id).unwrap_or_default();
        let attached = attach_files(
            &state,
            &mut tx,
            ticket.summary.id,
            AttachTo::Message(first),
            Uploader::Subscriber(me.id),
            input.files,
        )
        .await?;
        tx.commit().await?;
        if let Some(m) = ticket.messages.first_mut() {
            m.attachments = attached.keep();
        }
        Ok(TicketCreated::Created(Json(ticket.into())))
    }

    /// One of the subscriber's tickets with its whole conversation.
    #[oai(path = "/tickets/:id", method = "get", operation_id = "getMyTicket")]
    async fn ticket(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<TicketThread>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let ticket = get_for_subscriber(&mut tx, me.id, TicketId(id.0)).await?;
        tx.commit().await?;
        Ok(Json(ticket.into()))
    }

    /// Reopens the subscriber's resolved ticket. Allowed within the ISP's reopen window after
    /// resolution (`reopen_until`); after it `reopen_window_passed` (open a new ticket). A
    /// closed ticket is `ticket_closed`; any other status `illegal_ticket_transition`.
    #[oai(
        path = "/tickets/:id/reopen",
        method = "post",
        operation_id = "reopenMyTicket"
    )]
    async fn reopen(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<TicketThread>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let ticket = reopen_for_subscriber(
            &mut tx,
            &me.tenant.time_zone,
            me.id,
            TicketId(id.0),
            chrono::Utc::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(ticket.into()))
    }

    /// Adds the subscriber's message to their ticket (JSON, or `multipart/form-data` with
    /// `body` and `files`, as for a new ticket). A ticket waiting on the subscriber goes
    /// back to the agents; a resolved one reopens within the ISP's reopen window
    /// (`reopen_window_passed` after it); a closed one refuses (`ticket_closed`).
    #[oai(
        path = "/tickets/:id/messages",
        method = "post",
        operation_id = "addMyTicketMessage"
    )]
    async fn add_message(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
        body: NewMessageRequest,
    ) -> Result<MessageAdded, ApiError> {
        let me = auth.0;
        let input = body.into_input().await?;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let mut message = add_subscriber_message(
            &mut tx,
            &me.tenant.time_zone,
            me.id,
            TicketId(id.0),
            &input.body,
            chrono::Utc::now(),
        )
        .await?;
        let attached = attach_files(
            &state,
            &mut tx,
            TicketId(id.0),
            AttachTo::Message(message.id),
            Uploader::Subscriber(me.id),
            input.files,
        )
        .await?;
        tx.commit().await?;
        message.attachments = attached.keep();
        Ok(MessageAdded::Created(Json(message.into())))
    }
}
