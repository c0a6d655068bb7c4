//! Equipment: the catalogue and orders in the cabinet (`/me/...`), the order queue in the
//! console (`/console/equipment-orders`).

use chrono::{DateTime, Utc};
use kabinet_access::Permission;
use kabinet_access::audit::{AuditEntry, record};
use kabinet_access::login::normalize_phone;
use kabinet_billing::{
    EquipmentKind as DomainKind, NewOrder, Order, OrderActor, OrderCursor, OrderDetail,
    OrderMode as DomainMode, OrderStatus as DomainStatus, cancel_order, change_order_status,
    equipment_catalogue, order_detail, orders_queue, place_order, quote_order, subscriber_order,
    subscriber_orders,
};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::dto::Money;
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

/// Equipment in the cabinet: the catalogue, a quote, orders.
pub struct EquipmentApi;

/// Equipment orders in the staff console.
pub struct EquipmentOrdersApi;

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum EquipmentKind {
    Router,
    /// Optical network terminal (fibre).
    Ont,
    Modem,
    /// IPTV set-top box.
    TvBox,
    Cable,
    Other,
}

impl From<DomainKind> for EquipmentKind {
    fn from(k: DomainKind) -> Self {
        match k {
            DomainKind::Router => Self::Router,
            DomainKind::Ont => Self::Ont,
            DomainKind::Modem => Self::Modem,
            DomainKind::TvBox => Self::TvBox,
            DomainKind::Cable => Self::Cable,
            DomainKind::Other => Self::Other,
        }
    }
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum OrderMode {
    /// Buy outright: the price is charged at once.
    Buy,
    /// Rent by the month: the rest of this month now, then the rent with each month's charges.
    Rent,
}

impl From<OrderMode> for DomainMode {
    fn from(m: OrderMode) -> Self {
        match m {
            OrderMode::Buy => Self::Buy,
            OrderMode::Rent => Self::Rent,
        }
    }
}

impl From<DomainMode> for OrderMode {
    fn from(m: DomainMode) -> Self {
        match m {
            DomainMode::Buy => Self::Buy,
            DomainMode::Rent => Self::Rent,
        }
    }
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed by the subscriber; they may still cancel it.
    New,
    /// Accepted by the ISP; delivery or installation is being arranged.
    Confirmed,
    Delivered,
    Installed,
    /// Cancelled before hand-over; everything it charged was given back.
    Cancelled,
    /// A rental handed back; its rent stopped.
    Returned,
}

impl From<OrderStatus> for DomainStatus {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::New => Self::New,
            OrderStatus::Confirmed => Self::Confirmed,
            OrderStatus::Delivered => Self::Delivered,
            OrderStatus::Installed => Self::Installed,
            OrderStatus::Cancelled => Self::Cancelled,
            OrderStatus::Returned => Self::Returned,
        }
    }
}

impl From<DomainStatus> for OrderStatus {
    fn from(s: DomainStatus) -> Self {
        match s {
            DomainStatus::New => Self::New,
            DomainStatus::Confirmed => Self::Confirmed,
            DomainStatus::Delivered => Self::Delivered,
            DomainStatus::Installed => Self::Installed,
            DomainStatus::Cancelled => Self::Cancelled,
            DomainStatus::Returned => Self::Returned,
        }
    }
}

/// An item of the ISP's catalogue.
#[derive(Debug, Object)]
pub struct EquipmentOffer {
    pub code: String,
    pub kind: EquipmentKind,
    pub name: String,
    pub description: String,
    /// Absent when the item is not sold.
    #[oai(skip_serializing_if_is_none)]
    pub purchase_price: Option<Money>,
    /// Absent when the item is not rented.
    #[oai(skip_serializing_if_is_none)]
    pub monthly_rent: Option<Money>,
    /// False when the ISP has none left to hand out.
    pub available: bool,
}

#[derive(Debug, Object)]
pub struct EquipmentCatalogue {
    pub items: Vec<EquipmentOffer>,
}

/// What ordering would do, to show before the subscriber confirms.
#[derive(Debug, Object)]
pub struct EquipmentQuote {
    pub code: String,
    pub name: String,
    pub mode: OrderMode,
    /// The purchase price, or the monthly rent.
    pub price: Money,
    /// Charged when the order is placed: the price, or the rest of this month's rent.
    pub charge_now: Money,
    pub balance: Money,
    pub balance_after: Money,
    pub credit_limit: Money,
    /// Whether the order would go through. When false, top up `shortfall` first.
    pub allowed: bool,
    /// The order would go through but leave the balance below the credit limit: the account
    /// would be blocked until paid (only ISPs that sell on credit).
    pub blocks_service: bool,
    pub shortfall: Money,
}

/// An order to buy or rent an item.
#[derive(Debug, Object)]
pub struct EquipmentOrderRequest {
    #[oai(validator(min_length = 1, max_length = 64))]
    pub code: Text,
    pub mode: OrderMode,
    /// Delivery or installation wishes: entrance, floor, convenient times. May be empty.
    #[oai(validator(max_length = 1000))]
    pub delivery_note: Text,
    /// Where the ISP calls to arrange delivery, e.g. `+7 912 345-67-89`.
    #[oai(validator(min_length = 1, max_length = 32))]
    pub contact_phone: Text,
    /// A fresh id per order form: sending the same order again (a retry) with the same id
    /// returns the first order and charges nothing more.
    pub request_id: Uuid,
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum ActorKind {
    Subscriber,
    Staff,
    System,
}

/// One step of an order's history.
#[derive(Debug, Object)]
pub struct OrderStep {
    pub status: OrderStatus,
    pub note: String,
    pub actor: ActorKind,
    /// The staff member's name (absent for the subscriber and the system).
    #[oai(skip_serializing_if_is_none)]
    pub actor_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// An order as its subscriber sees it.
#[derive(Debug, Object)]
pub struct EquipmentOrder {
    pub id: Uuid,
    /// Per-ISP order number, shown to people.
    pub number: i64,
    pub item_code: String,
    pub item_name: String,
    pub item_kind: EquipmentKind,
    pub mode: OrderMode,
    pub status: OrderStatus,
    /// The purchase price, or the monthly rent agreed when ordering.
    pub price: Money,
    /// What ordering charged at once.
    pub charged: Money,
    /// What came back on cancellation or return.
    pub refunded: Money,
    pub delivery_note: String,
    pub contact_phone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a rental's rent stopped.
    #[oai(skip_serializing_if_is_none)]
    pub rent_ended_at: Option<DateTime<Utc>>,
    /// Whether the subscriber may still cancel it.
    pub can_cancel: bool,
}

impl From<&Order> for EquipmentOrder {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id,
            number: o.number,
            item_code: o.item_code.clone(),
            item_name: o.item_name.clone(),
            item_kind: o.item_kind.into(),
            mode: o.mode.into(),
            status: o.status.into(),
            price: o.price.into(),
            charged: o.charged.into(),
            refunded: o.refunded.into(),
            delivery_note: o.delivery_note.clone(),
            contact_phone: o.contact_phone.clone(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            rent_ended_at: o.rent_ended_at,
            can_cancel: o.status.subscriber_may_cancel(),
        }
    }
}

fn steps(detail: &OrderDetail) -> Vec<OrderStep> {
    detail
        .history
        .iter()
        .map(|e| {
            let (actor, actor_name) = match &e.actor {
                OrderActor::Subscriber => (ActorKind::Subscriber, None),
                OrderActor::Staff { name } => (ActorKind::Staff, Some(name.clone())),
                OrderActor::System => (ActorKind::System, None),
            };
            OrderStep {
                status: e.status.into(),
                note: e.note.clone(),
                actor,
                actor_name,
                at: e.at,
            }
        })
        .collect()
}

/// An order with its history (oldest step first).
#[derive(Debug, Object)]
pub struct EquipmentOrderDetail {
    #[oai(flatten)]
    pub order: EquipmentOrder,
    pub history: Vec<OrderStep>,
}

impl From<&OrderDetail> for EquipmentOrderDetail {
    fn from(d: &OrderDetail) -> Self {
        Self {
            order: EquipmentOrder::from(&d.order),
            history: steps(d),
        }
    }
}

#[derive(Debug, Object)]
pub struct EquipmentOrderList {
    pub items: Vec<EquipmentOrder>,
}

/// A cancellation and what came back to the balance.
#[derive(Debug, Object)]
pub struct EquipmentOrderCancelled {
    pub order: EquipmentOrderDetail,
    pub refunded: Money,
}

#[derive(ApiResponse)]
enum OrderPlaced {
    /// Placed now; `charged` went from the balance.
    #[oai(status = 201)]
    Created(Json<EquipmentOrderDetail>),
    /// Placed before under the same `request_id`; nothing new happened.
    #[oai(status = 200)]
    Existing(Json<EquipmentOrderDetail>),
}

/// An order in the staff queue: the order, whose it is, and where staff may move it next.
#[derive(Debug, Object)]
pub struct ConsoleEquipmentOrder {
    #[oai(flatten)]
    pub order: EquipmentOrder,
    pub subscriber_name: String,
    pub account_number: String,
    pub next_statuses: Vec<OrderStatus>,
}

impl From<&Order> for ConsoleEquipmentOrder {
    fn from(o: &Order) -> Self {
        Self {
            order: EquipmentOrder::from(o),
            subscriber_name: o.subscriber_name.clone(),
            account_number: o.account_number.clone(),
            next_statuses: o
                .status
                .next_for_staff(o.mode)
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct ConsoleEquipmentOrderDetail {
    #[oai(flatten)]
    pub order: ConsoleEquipmentOrder,
    pub history: Vec<OrderStep>,
}

impl From<&OrderDetail> for ConsoleEquipmentOrderDetail {
    fn from(d: &OrderDetail) -> Self {
        Self {
            order: ConsoleEquipmentOrder::from(&d.order),
            history: steps(d),
        }
    }
}

#[derive(Debug, Object)]
pub struct EquipmentOrderPage {
    pub items: Vec<ConsoleEquipmentOrder>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// Moves an order on.
#[derive(Debug, Object)]
pub struct OrderStatusChange {
    pub status: OrderStatus,
    /// For the order's history (and the subscriber): why, what was agreed. May be empty.
    #[oai(validator(max_length = 1000))]
    pub note: Text,
}

#[derive(Debug, Object)]
pub struct OrderStatusChanged {
    pub order: ConsoleEquipmentOrderDetail,
    /// False when the order already was in that status: nothing happened.
    pub changed: bool,
    /// Given back to the subscriber's balance by this change (cancellation, return).
    pub refunded: Money,
}

#[OpenApi(tag = "Tag::Portal")]
impl EquipmentApi {
    /// The ISP's equipment on offer, to buy or rent.
    #[oai(path = "/me/equipment", method = "get", operation_id = "listEquipment")]
    async fn catalogue(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<EquipmentCatalogue>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let items = equipment_catalogue(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(EquipmentCatalogue {
            items: items
                .into_iter()
                .map(|i| EquipmentOffer {
                    code: i.code,
                    kind: i.kind.into(),
                    name: i.name,
                    description: i.description,
                    purchase_price: i.purchase_price.map(Into::into),
                    monthly_rent: i.monthly_rent.map(Into::into),
                    available: i.stock != Some(0),
                })
                .collect(),
        }))
    }

    /// What buying or renting an item would charge now and leave on the balance. Nothing is
    /// ordered; placing the order applies exactly these rules.
    #[oai(
        path = "/me/equipment/:code/quote",
        method = "get",
        operation_id = "quoteEquipmentOrder"
    )]
    async fn quote(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        #[oai(validator(max_length = 64))] code: Path<String>,
        /// Buy or rent.
        mode: Query<OrderMode>,
    ) -> Result<Json<EquipmentQuote>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let q = quote_order(&mut tx, me.id, &code.0, mode.0.into(), Utc::now()).await?;
        tx.commit().await?;
        Ok(Json(EquipmentQuote {
            code: q.item.code,
            name: q.item.name,
            mode: q.mode.into(),
            price: q.price.into(),
            charge_now: q.charge_now.into(),
            balance: q.balance.into(),
            balance_after: q.balance_after.into(),
            credit_limit: q.credit_limit.into(),
            allowed: q.allowed,
            blocks_service: q.blocks_service,
            shortfall: q.shortfall.into(),
        }))
    }

    /// Orders an item to buy or rent: the price (or the rest of this month's rent) is charged
    /// at once. Refused when the balance (plus the credit limit) does not cover it, unless the
    /// ISP sells on credit. Idempotent per `request_id`.
    #[oai(
        path = "/me/equipment-orders",
        method = "post",
        operation_id = "orderEquipment"
    )]
    async fn order(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<EquipmentOrderRequest>,
    ) -> Result<OrderPlaced, ApiError> {
        let me = auth.0;
        // Parsed at the edge; anything that is not a phone number is refused by the domain.
        let phone = normalize_phone(&body.contact_phone)
            .unwrap_or_else(|| body.contact_phone.trim().to_owned());
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let placed = place_order(
            &mut tx,
            &NewOrder {
                subscriber: me.id,
                code: body.code.trim(),
                mode: body.mode.into(),
                delivery_note: &body.delivery_note,
                contact_phone: &phone,
                request_id: body.request_id,
            },
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
        let order = EquipmentOrderDetail::from(&placed.order);
        Ok(if placed.created {
            OrderPlaced::Created(Json(order))
        } else {
            OrderPlaced::Existing(Json(order))
        })
    }

    /// The subscriber's equipment orders, newest first.
    #[oai(
        path = "/me/equipment-orders",
        method = "get",
        operation_id = "listMyEquipmentOrders"
    )]
    async fn orders(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<EquipmentOrderList>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let orders = subscriber_orders(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(Json(EquipmentOrderList {
            items: orders.iter().map(EquipmentOrder::from).collect(),
        }))
    }

    /// One of the subscriber's orders with its history.
    #[oai(
        path = "/me/equipment-orders/:id",
        method = "get",
        operation_id = "getMyEquipmentOrder"
    )]
    async fn order_detail(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<EquipmentOrderDetail>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let detail = subscriber_order(&mut tx, me.id, id.0).await?;
        tx.commit().await?;
        Ok(Json(EquipmentOrderDetail::from(&detail)))
    }

    /// Cancels the subscriber's order while it is new; what it charged comes back at once.
    #[oai(
        path = "/me/equipment-orders/:id/cancel",
        method = "post",
        operation_id = "cancelMyEquipmentOrder"
    )]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<EquipmentOrderCancelled>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let change = cancel_order(&mut tx, me.id, id.0, Utc::now()).await?;
        tx.commit().await?;
        Ok(Json(EquipmentOrderCancelled {
            order: EquipmentOrderDetail::from(&change.order),
            refunded: change.refunded.into(),
        }))
    }
}

#[OpenApi(tag = "Tag::Console")]
impl EquipmentOrdersApi {
    /// The ISP's equipment orders, newest first, keyset-paginated.
    #[oai(
        path = "/console/equipment-orders",
        method = "get",
        operation_id = "listEquipmentOrders"
    )]
    async fn queue(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Only orders in this status.
        status: Query<Option<OrderStatus>>,
        /// Page size (1–200, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
    ) -> Result<Json<EquipmentOrderPage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::OrdersRead).await?;
        let after = super::after_cursor(after.0.as_deref(), OrderCursor::decode)?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let page = orders_queue(
            &mut tx,
            status.0.map(Into::into),
            after,
            limit.0.unwrap_or(50),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(EquipmentOrderPage {
            items: page.items.iter().map(ConsoleEquipmentOrder::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// One order with its history.
    #[oai(
        path = "/console/equipment-orders/:id",
        method = "get",
        operation_id = "getEquipmentOrder"
    )]
    async fn order(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConsoleEquipmentOrderDetail>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::OrdersRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let detail = order_detail(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(ConsoleEquipmentOrderDetail::from(&detail)))
    }

    /// Moves an order on (`next_statuses` lists where it may go); audited. Cancelling refunds
    /// everything the order charged; returning a rental stops its rent and refunds the unused
    /// days of the month. Repeating the current status changes nothing.
    #[oai(
        path = "/console/equipment-orders/:id/status",
        method = "post",
        operation_id = "changeEquipmentOrderStatus"
    )]
    async fn change_status(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<OrderStatusChange>,
    ) -> Result<Json<OrderStatusChanged>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::OrdersManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let change = change_order_status(
            &mut tx,
            id.0,
            body.status.into(),
            staff.id,
            &body.note,
            Utc::now(),
        )
        .await?;
        if change.changed {
            record(
                &mut tx,
                AuditEntry {
                    staff: Some(staff.id),
                    action: "equipment_order.status",
                    target: format!("equipment_order:{}", id.0),
                    details: json!({
                        "number": change.order.order.number,
                        "from": change.from.as_str(),
                        "to": change.order.order.status.as_str(),
                        "note": body.note.trim(),
                        "refunded_minor": change.refunded.minor,
                        "currency": change.refunded.currency.code(),
                    }),
                },
                &staff.client,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Json(OrderStatusChanged {
            order: ConsoleEquipmentOrderDetail::from(&change.order),
            changed: change.changed,
            refunded: change.refunded.into(),
        }))
    }
}
