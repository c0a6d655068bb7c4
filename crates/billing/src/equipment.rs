//! Equipment: the ISP's catalogue (routers, ONTs, set-top boxes, cables) and the subscribers'
//! orders to buy or rent from it.
//!
//! Buying charges the price at once (`equipment:<order>`). Renting charges the rest of the
//! current month at once and then the monthly rent with the monthly run, under one key per order
//! and month (`charge:rent:<order>:<month>`), so the first month is never charged twice and a
//! rerun or a parallel run charges each month once. Cancelling before hand-over reverses every
//! charge of the order; a returned rental stops its rent and gets the unused days of the month
//! back. Both checks of the balance (the quote the subscriber sees and the order itself) are
//! the same function, so what was shown is what is charged.

use chrono::{DateTime, Datelike, Utc};
use kabinet_core::{Money, StaffId, SubscriberId};
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::accounts::refresh_status;
use crate::error::{BillingError, currency};
use crate::ledger::post;
use crate::model::{BillingMonth, LedgerAccount, Line, NewTransaction, TransactionKind};
use crate::rules::billing_settings;
use crate::tariff_change::{days_in, prorate};

/// What a catalogue item is; the web shows a name and an icon per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EquipmentKind {
    Router,
    /// An optical network terminal (GPON/XGS-PON).
    Ont,
    Modem,
    /// An IPTV set-top box.
    TvBox,
    Cable,
    Other,
}

impl EquipmentKind {
    pub const ALL: [Self; 6] = [
        Self::Router,
        Self::Ont,
        Self::Modem,
        Self::TvBox,
        Self::Cable,
        Self::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Router => "router",
            Self::Ont => "ont",
            Self::Modem => "modem",
            Self::TvBox => "tv_box",
            Self::Cable => "cable",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// Buy outright or rent by the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderMode {
    Buy,
    Rent,
}

impl OrderMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Rent => "rent",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "buy" => Some(Self::Buy),
            "rent" => Some(Self::Rent),
            _ => None,
        }
    }
}

/// Where an order is. `new → confirmed → delivered | installed`, `delivered → installed`;
/// `cancelled` from `new` (the subscriber or staff) or `confirmed` (staff); a rental in use
/// ends `returned`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    New,
    Confirmed,
    Delivered,
    Installed,
    Cancelled,
    Returned,
}

impl OrderStatus {
    pub const ALL: [Self; 6] = [
        Self::New,
        Self::Confirmed,
        Self::Delivered,
        Self::Installed,
        Self::Cancelled,
        Self::Returned,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Confirmed => "confirmed",
            Self::Delivered => "delivered",
            Self::Installed => "installed",
            Self::Cancelled => "cancelled",
            Self::Returned => "returned",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether staff may move an order of `mode` from this status to `to`.
    pub fn staff_may_move(self, mode: OrderMode, to: Self) -> bool {
        use OrderStatus::*;
        match (self, to) {
            (New, Confirmed) | (Confirmed, Delivered | Installed) | (Delivered, Installed) => true,
            (New | Confirmed, Cancelled) => true,
            (Delivered | Installed, Returned) => mode == OrderMode::Rent,
            _ => false,
        }
    }

    /// Where staff may move an order of `mode` next.
    pub fn next_for_staff(self, mode: OrderMode) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|to| self.staff_may_move(mode, *to))
            .collect()
    }

    /// The subscriber may cancel only what nobody has started working on.
    pub fn subscriber_may_cancel(self) -> bool {
        self == Self::New
    }
}

/// A catalogue item as a manifest declares it.
#[derive(Clone, Debug)]
pub struct EquipmentSpec {
    pub code: String,
    pub kind: EquipmentKind,
    pub name: String,
    pub description: String,
    /// `None`: not for sale.
    pub purchase_price: Option<Money>,
    /// `None`: not for rent.
    pub monthly_rent: Option<Money>,
    /// Units on hand; `None` when the ISP does not count them.
    pub stock: Option<i32>,
    pub active: bool,
}

/// A catalogue item as subscribers and staff see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EquipmentItem {
    pub code: String,
    pub kind: EquipmentKind,
    pub name: String,
    pub description: String,
    pub purchase_price: Option<Money>,
    pub monthly_rent: Option<Money>,
    pub stock: Option<i32>,
    pub active: bool,
}

/// Creates or updates an item by code; returns whether anything changed. The stock is set as
/// declared: a manifest apply is a stock-take.
pub async fn upsert_equipment(
    tx: &mut TenantTx,
    spec: &EquipmentSpec,
) -> Result<bool, BillingError> {
    let Some(cur) = spec
        .purchase_price
        .or(spec.monthly_rent)
        .map(|m| m.currency)
    else {
        return Err(BillingError::InvalidOrder {
            field: "equipment",
            reason: format!("{} is neither sold nor rented", spec.code),
        });
    };
    if let (Some(buy), Some(rent)) = (spec.purchase_price, spec.monthly_rent)
        && buy.currency != rent.currency
    {
        return Err(BillingError::CurrencyMismatch {
            given: rent.currency,
            account: buy.currency,
        });
    }
    let tenant = tx.tenant();
    let done = sqlx::query(
        "INSERT INTO equipment_items AS e (tenant_id, id, code, kind, name, description, purchase_price_minor, \
           monthly_rent_minor, currency, stock, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (tenant_id, code) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, \
           description = EXCLUDED.description, purchase_price_minor = EXCLUDED.purchase_price_minor, \
           monthly_rent_minor = EXCLUDED.monthly_rent_minor, currency = EXCLUDED.currency, \
           stock = EXCLUDED.stock, active = EXCLUDED.active \
         WHERE (e.kind, e.name, e.description, e.purchase_price_minor, e.monthly_rent_minor, e.currency, e.stock, e.active) \
           IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.name, EXCLUDED.description, EXCLUDED.purchase_price_minor, \
             EXCLUDED.monthly_rent_minor, EXCLUDED.currency, EXCLUDED.stock, EXCLUDED.active)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(&spec.code)
    .bind(spec.kind.as_str())
    .bind(&spec.name)
    .bind(&spec.description)
    .bind(spec.purchase_price.map(|m| m.minor))
    .bind(spec.monthly_rent.map(|m| m.minor))
    .bind(cur.code())
    .bind(spec.stock)
    .bind(spec.active)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

fn item_from_row(row: &PgRow) -> Result<EquipmentItem, BillingError> {
    let cur = currency(&row.try_get::<String, _>("currency")?)?;
    let kind: String = row.try_get("kind")?;
    Ok(EquipmentItem {
        code: row.try_get("code")?,
        kind: EquipmentKind::parse(&kind)
            .ok_or_else(|| BillingError::Corrupt(format!("equipment kind {kind:?}")))?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        purchase_price: row
            .try_get::<Option<i64>, _>("purchase_price_minor")?
            .map(|m| Money::new(m, cur)),
        monthly_rent: row
            .try_get::<Option<i64>, _>("monthly_rent_minor")?
            .map(|m| Money::new(m, cur)),
        stock: row.try_get("stock")?,
        active: row.try_get("active")?,
    })
}

/// The items on offer (active ones), by kind and then price. One query.
pub async fn equipment_catalogue(tx: &mut TenantTx) -> Result<Vec<EquipmentItem>, BillingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(
        "SELECT code, kind, name, description, purchase_price_minor, monthly_rent_minor, currency, stock, active \
         FROM equipment_items WHERE tenant_id = $1 AND active \
         ORDER BY array_position(ARRAY['router', 'ont', 'modem', 'tv_box', 'cable', 'other'], kind), \
                  COALESCE(purchase_price_minor, monthly_rent_minor), code",
    )
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(item_from_row).collect()
}

/// What ordering an item would do to the subscriber's balance, before they confirm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderQuote {
    pub item: EquipmentItem,
    pub mode: OrderMode,
    /// The purchase price, or the monthly rent.
    pub price: Money,
    /// Charged when the order is placed: the price, or the rest of this month's rent.
    pub charge_now: Money,
    pub balance: Money,
    pub balance_after: Money,
    pub credit_limit: Money,
    /// The order would go through. False when the charge does not fit in the balance plus the
    /// credit limit and the ISP does not sell on credit: top up by `shortfall` first.
    pub allowed: bool,
    /// The order would go through but leave the balance below the credit limit, so the account
    /// would be blocked for debt until paid (ISPs that sell on credit).
    pub blocks_service: bool,
    pub shortfall: Money,
}

/// The item, its price and the balance check, for a quote and for the order alike.
struct Priced {
    item_id: Uuid,
    quote: OrderQuote,
}

async fn price_order(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    code: &str,
    mode: OrderMode,
    now: DateTime<Utc>,
) -> Result<Priced, BillingError> {
    let tenant = tx.tenant();
    let account = sqlx::query(
        "SELECT status, balance_minor, credit_limit_minor, currency FROM accounts \
         WHERE tenant_id = $1 AND subscriber_id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(BillingError::NoAccount)?;
    if account.try_get::<String, _>("status")? != "active" {
        return Err(BillingError::NotActive);
    }
    let cur = currency(&account.try_get::<String, _>("currency")?)?;
    let balance: i64 = account.try_get("balance_minor")?;
    let credit: i64 = account.try_get("credit_limit_minor")?;

    let row = sqlx::query(
        "SELECT id, code, kind, name, description, purchase_price_minor, monthly_rent_minor, currency, stock, active \
         FROM equipment_items WHERE tenant_id = $1 AND code = $2 AND active",
    )
    .bind(tenant.as_uuid())
    .bind(code)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| BillingError::UnknownEquipment(code.to_owned()))?;
    let item_id: Uuid = row.try_get("id")?;
    let item = item_from_row(&row)?;
    let price = match mode {
        OrderMode::Buy => item.purchase_price,
        OrderMode::Rent => item.monthly_rent,
    }
    .ok_or_else(|| BillingError::ModeNotOffered {
        code: code.to_owned(),
        mode: mode.as_str(),
    })?;
    if price.currency != cur {
        return Err(BillingError::CurrencyMismatch {
            given: price.currency,
            account: cur,
        });
    }
    if item.stock == Some(0) {
        return Err(BillingError::OutOfStock(code.to_owned()));
    }
    let charge_now = match mode {
        OrderMode::Buy => price.minor,
        OrderMode::Rent => prorate(price.minor, BillingMonth::of(now.date_naive()), now.day()),
    };
    let after = balance - charge_now;
    let fits = after >= -credit;
    let on_credit = billing_settings(tx).await?.equipment_on_credit;
    Ok(Priced {
        item_id,
        quote: OrderQuote {
            item,
            mode,
            price,
            charge_now: Money::new(charge_now, cur),
            balance: Money::new(balance, cur),
            balance_after: Money::new(after, cur),
            credit_limit: Money::new(credit, cur),
            allowed: fits || on_credit || charge_now == 0,
            blocks_service: !fits && charge_now > 0,
            shortfall: Money::new(if fits { 0 } else { -credit - after }, cur),
        },
    })
}

/// What ordering `code` to buy or rent would charge now and leave on the balance.
pub async fn quote_order(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    code: &str,
    mode: OrderMode,
    now: DateTime<Utc>,
) -> Result<OrderQuote, BillingError> {
    Ok(price_order(tx, subscriber, code, mode, now).await?.quote)
}

/// An order as the subscriber asks for it.
#[derive(Clone, Debug)]
pub struct NewOrder<'a> {
    pub subscriber: SubscriberId,
    pub code: &'a str,
    pub mode: OrderMode,
    /// Delivery or installation wishes: address details, convenient times.
    pub delivery_note: &'a str,
    /// Where to call, as `+` and 7–15 digits.
    pub contact_phone: &'a str,
    /// The client's key for this order: a retry with the same key finds the first order.
    pub request_id: Uuid,
}

/// Who moved an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderActor {
    Subscriber,
    Staff {
        name: String,
    },
    /// Nobody recorded (kept for completeness; every move today has a person behind it).
    System,
}

/// One step of an order's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEvent {
    pub status: OrderStatus,
    pub note: String,
    pub actor: OrderActor,
    pub at: DateTime<Utc>,
}

/// An order with the item and whose it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: Uuid,
    pub number: i64,
    pub subscriber: SubscriberId,
    pub subscriber_name: String,
    pub account_number: String,
    pub item_code: String,
    pub item_name: String,
    pub item_kind: EquipmentKind,
    pub mode: OrderMode,
    pub status: OrderStatus,
    /// The purchase price or the monthly rent agreed when ordering.
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
    pub rent_ended_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderDetail {
    pub order: Order,
    /// Oldest first; the first step is the order itself.
    pub history: Vec<OrderEvent>,
}

/// The outcome of placing an order.
#[derive(Clone, Debug)]
pub struct Placed {
    pub order: OrderDetail,
    /// False when the request had been placed before (a retry): nothing new happened.
    pub created: bool,
}

const ORDER_SELECT: &str = "SELECT o.id, o.number, o.subscriber_id, s.full_name, s.account_number, \
       i.code, i.name, i.kind, o.mode, o.status, o.price_minor, o.charged_minor, o.refunded_minor, o.currency, \
       o.delivery_note, o.contact_phone, o.created_at, o.updated_at, o.rent_ended_at \
     FROM equipment_orders o \
     JOIN equipment_items i ON i.tenant_id = o.tenant_id AND i.id = o.item_id \
     JOIN subscribers s ON s.tenant_id = o.tenant_id AND s.id = o.subscriber_id";

fn order_from_row(row: &PgRow) -> Result<Order, BillingError> {
    let cur = currency(&row.try_get::<String, _>("currency")?)?;
    let kind: String = row.try_get("kind")?;
    let mode: String = row.try_get("mode")?;
    let status: String = row.try_get("status")?;
    Ok(Order {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        subscriber: SubscriberId(row.try_get("subscriber_id")?),
        subscriber_name: row.try_get("full_name")?,
        account_number: row.try_get("account_number")?,
        item_code: row.try_get("code")?,
        item_name: row.try_get("name")?,
        item_kind: EquipmentKind::parse(&kind)
            .ok_or_else(|| BillingError::Corrupt(format!("equipment kind {kind:?}")))?,
        mode: OrderMode::parse(&mode)
            .ok_or_else(|| BillingError::Corrupt(format!("order mode {mode:?}")))?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| BillingError::Corrupt(format!("order status {status:?}")))?,
        price: Money::new(row.try_get("price_minor")?, cur),
        charged: Money::new(row.try_get("charged_minor")?, cur),
        refunded: Money::new(row.try_get("refunded_minor")?, cur),
        delivery_note: row.try_get("delivery_note")?,
        contact_phone: row.try_get("contact_phone")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        rent_ended_at: row.try_get("rent_ended_at")?,
    })
}

/// A note on an order: at most 1000 characters; line breaks allowed, other control characters not.
fn clean_note(field: &'static str, raw: &str) -> Result<String, BillingError> {
    let text = raw.trim();
    if text.chars().count() > 1000 {
        return Err(BillingError::InvalidOrder {
            field,
            reason: "must be at most 1000 characters".into(),
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(BillingError::InvalidOrder {
            field,
            reason: "must not contain control characters".into(),
        });
    }
    Ok(text.to_owned())
}

fn check_phone(phone: &str) -> Result<(), BillingError> {
    let digits = phone.strip_prefix('+').unwrap_or("");
    if (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(BillingError::InvalidOrder {
            field: "contact_phone",
            reason: format!("{phone:?} is not a phone number"),
        })
    }
}

/// Places an order: the price (buy) or the rest of this month's rent (rent) is charged at once,
/// a counted item's stock goes down by one, the account's status follows the new balance.
///
/// Refused for an account that is not active, an unknown or inactive item, a mode the item is
/// not offered in, an empty stock, and — unless the ISP sells on credit — a charge that would
/// take the balance below the credit limit ([`BillingError::InsufficientBalance`]).
///
/// INVARIANT: one order per `request_id` and one charge per order. The account row is locked
/// first, so retries and concurrent requests of one subscriber queue up; a retry finds the
/// first order and charges nothing.
pub async fn place_order(
    tx: &mut TenantTx,
    new: &NewOrder<'_>,
    now: DateTime<Utc>,
) -> Result<Placed, BillingError> {
    let tenant = tx.tenant();
    let note = clean_note("delivery_note", new.delivery_note)?;
    check_phone(new.contact_phone)?;
    sqlx::query("SELECT 1 FROM accounts WHERE tenant_id = $1 AND subscriber_id = $2 FOR UPDATE")
        .bind(tenant.as_uuid())
        .bind(new.subscriber.as_uuid())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(BillingError::NoAccount)?;
    let earlier: Option<(Uuid, String, String)> = sqlx::query_as(
        "SELECT o.id, i.code, o.mode FROM equipment_orders o \
         JOIN equipment_items i ON i.tenant_id = o.tenant_id AND i.id = o.item_id \
         WHERE o.tenant_id = $1 AND o.subscriber_id = $2 AND o.request_id = $3",
    )
    .bind(tenant.as_uuid())
    .bind(new.subscriber.as_uuid())
    .bind(new.request_id)
    .fetch_optional(tx.conn())
    .await?;
    if let Some((id, code, mode)) = earlier {
        if code != new.code || mode != new.mode.as_str() {
            return Err(BillingError::IdempotencyConflict(
                new.request_id.to_string(),
            ));
        }
        let order = load_detail(tx, id, Some(new.subscriber)).await?;
        return Ok(Placed {
            order,
            created: false,
        });
    }

    let Priced { item_id, quote } =
        price_order(tx, new.subscriber, new.code, new.mode, now).await?;
    if !quote.allowed {
        return Err(BillingError::InsufficientBalance {
            needed: quote.charge_now,
            shortfall: quote.shortfall,
        });
    }
    if quote.item.stock.is_some() {
        // One unit reserved for this order; the item row's lock queues concurrent orders, and
        // the last unit goes to one of them only.
        let reserved = sqlx::query(
            "UPDATE equipment_items SET stock = stock - 1 WHERE tenant_id = $1 AND id = $2 AND stock > 0",
        )
        .bind(tenant.as_uuid())
        .bind(item_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if reserved == 0 {
            return Err(BillingError::OutOfStock(new.code.to_owned()));
        }
    }
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO equipment_order_counters (tenant_id, last_number) VALUES ($1, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_number = equipment_order_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(tenant.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    let id = Uuid::now_v7();
    let cur = quote.price.currency;
    sqlx::query(
        "INSERT INTO equipment_orders (tenant_id, id, number, subscriber_id, item_id, mode, price_minor, currency, \
           charged_minor, delivery_note, contact_phone, request_id, rent_started_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(number)
    .bind(new.subscriber.as_uuid())
    .bind(item_id)
    .bind(new.mode.as_str())
    .bind(quote.price.minor)
    .bind(cur.code())
    .bind(quote.charge_now.minor)
    .bind(&note)
    .bind(new.contact_phone)
    .bind(new.request_id)
    .bind((new.mode == OrderMode::Rent).then_some(now))
    .bind(now)
    .execute(tx.conn())
    .await?;
    record_event(
        tx,
        id,
        OrderStatus::New,
        "",
        Some(new.subscriber),
        None,
        now,
    )
    .await?;

    if quote.charge_now.minor > 0 {
        let month = BillingMonth::of(now.date_naive());
        let name = &quote.item.name;
        let (key, description, revenue) = match new.mode {
            OrderMode::Buy => (
                format!("equipment:{id}"),
                format!("Purchase: {name}, order {number}"),
                "equipment",
            ),
            OrderMode::Rent => (
                rent_key(id, month),
                format!(
                    "Rent: {name}, {month} (from {}), order {number}",
                    now.format("%Y-%m-%d")
                ),
                "equipment_rent",
            ),
        };
        post(
            tx,
            &NewTransaction {
                kind: TransactionKind::Charge,
                description,
                idempotency_key: key,
                subscriber: Some(new.subscriber),
                staff: None,
                reference: Some(format!("order {number}")),
                lines: vec![
                    Line {
                        account: LedgerAccount::Subscriber(new.subscriber),
                        amount: Money::new(-quote.charge_now.minor, cur),
                    },
                    Line {
                        account: LedgerAccount::Revenue(revenue),
                        amount: quote.charge_now,
                    },
                ],
            },
        )
        .await?;
        refresh_status(tx, Some(&[new.subscriber])).await?;
    }
    let order = load_detail(tx, id, Some(new.subscriber)).await?;
    Ok(Placed {
        order,
        created: true,
    })
}

fn rent_key(order: Uuid, month: BillingMonth) -> String {
    format!("charge:rent:{order}:{month}")
}

#[allow(clippy::too_many_arguments)]
async fn record_event(
    tx: &mut TenantTx,
    order: Uuid,
    status: OrderStatus,
    note: &str,
    subscriber: Option<SubscriberId>,
    staff: Option<StaffId>,
    at: DateTime<Utc>,
) -> Result<(), BillingError> {
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO equipment_order_events (tenant_id, id, order_id, status, note, subscriber_id, staff_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(order)
    .bind(status.as_str())
    .bind(note)
    .bind(subscriber.map(|s| s.as_uuid()))
    .bind(staff.map(|s| s.as_uuid()))
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One order with its history; `only` limits it to that subscriber's (a foreign id is missing).
async fn load_detail(
    tx: &mut TenantTx,
    id: Uuid,
    only: Option<SubscriberId>,
) -> Result<OrderDetail, BillingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "{ORDER_SELECT} WHERE o.tenant_id = $1 AND o.id = $2 AND ($3::uuid IS NULL OR o.subscriber_id = $3)"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(only.map(|s| s.as_uuid()))
    .fetch_optional(tx.conn())
    .await?
    .ok_or(BillingError::NoOrder)?;
    let order = order_from_row(&row)?;
    let rows = sqlx::query(
        "SELECT e.status, e.note, e.subscriber_id, st.display_name, e.at FROM equipment_order_events e \
         LEFT JOIN staff st ON st.tenant_id = e.tenant_id AND st.id = e.staff_id \
         WHERE e.tenant_id = $1 AND e.order_id = $2 ORDER BY e.at, e.id",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    let history = rows
        .iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            let actor = match (
                r.try_get::<Option<Uuid>, _>("subscriber_id")?,
                r.try_get::<Option<String>, _>("display_name")?,
            ) {
                (Some(_), _) => OrderActor::Subscriber,
                (None, Some(name)) => OrderActor::Staff { name },
                (None, None) => OrderActor::System,
            };
            Ok(OrderEvent {
                status: OrderStatus::parse(&status)
                    .ok_or_else(|| BillingError::Corrupt(format!("order status {status:?}")))?,
                note: r.try_get("note")?,
                actor,
                at: r.try_get("at")?,
            })
        })
        .collect::<Result<_, BillingError>>()?;
    Ok(OrderDetail { order, history })
}

/// The subscriber's orders, newest first (a subscriber has a handful; at most 100).
pub async fn subscriber_orders(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Vec<Order>, BillingError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "{ORDER_SELECT} WHERE o.tenant_id = $1 AND o.subscriber_id = $2 ORDER BY o.created_at DESC, o.id DESC LIMIT 100"
    ))
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(order_from_row).collect()
}

/// One of the subscriber's orders with its history; another's reads as missing.
pub async fn subscriber_order(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    id: Uuid,
) -> Result<OrderDetail, BillingError> {
    load_detail(tx, id, Some(subscriber)).await
}

/// Any order of the ISP with its history (staff).
pub async fn order_detail(tx: &mut TenantTx, id: Uuid) -> Result<OrderDetail, BillingError> {
    load_detail(tx, id, None).await
}

/// Where the staff queue continues: after the order created at `created_at` with `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl OrderCursor {
    pub fn encode(&self) -> String {
        format!(
            "{}_{}",
            self.created_at.timestamp_micros(),
            self.id.simple()
        )
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let (micros, id) = raw.split_once('_')?;
        Some(Self {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: Uuid::try_parse(id).ok()?,
        })
    }
}

#[derive(Clone, Debug)]
pub struct OrdersPage {
    pub items: Vec<Order>,
    pub next: Option<OrderCursor>,
}

/// The ISP's orders, newest first, optionally in one status; keyset-paginated.
pub async fn orders_queue(
    tx: &mut TenantTx,
    status: Option<OrderStatus>,
    after: Option<OrderCursor>,
    limit: i64,
) -> Result<OrdersPage, BillingError> {
    let tenant = tx.tenant();
    let limit = limit.clamp(1, 200);
    let rows = sqlx::query(&format!(
        "{ORDER_SELECT} WHERE o.tenant_id = $1 AND ($2::text IS NULL OR o.status = $2) \
           AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3, $4)) \
         ORDER BY o.created_at DESC, o.id DESC LIMIT $5"
    ))
    .bind(tenant.as_uuid())
    .bind(status.map(|s| s.as_str()))
    .bind(after.map(|c| c.created_at))
    .bind(after.map(|c| c.id))
    .bind(limit + 1)
    .fetch_all(tx.conn())
    .await?;
    let mut items = rows
        .iter()
        .map(order_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|o| OrderCursor {
            created_at: o.created_at,
            id: o.id,
        })
    } else {
        None
    };
    Ok(OrdersPage { items, next })
}

/// What a status change did.
#[derive(Clone, Debug)]
pub struct OrderChange {
    pub order: OrderDetail,
    /// The status before the change.
    pub from: OrderStatus,
    /// False when the order already was in that status (a retry): nothing happened.
    pub changed: bool,
    /// Money given back by this change (cancellation or return).
    pub refunded: Money,
}

/// The subscriber cancels their own order while it is `new`; everything it charged comes back.
pub async fn cancel_order(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<OrderChange, BillingError> {
    move_order(
        tx,
        id,
        Mover::Subscriber(subscriber),
        OrderStatus::Cancelled,
        "",
        now,
    )
    .await
}

/// Staff move an order on, with a note for the history. Cancelling (before hand-over) reverses
/// every charge of the order; returning a rental stops its rent and refunds the unused days of
/// the month; both put the unit back in stock.
pub async fn change_order_status(
    tx: &mut TenantTx,
    id: Uuid,
    to: OrderStatus,
    staff: StaffId,
    note: &str,
    now: DateTime<Utc>,
) -> Result<OrderChange, BillingError> {
    move_order(tx, id, Mover::Staff(staff), to, note, now).await
}

enum Mover {
    Subscriber(SubscriberId),
    Staff(StaffId),
}

async fn move_order(
    tx: &mut TenantTx,
    id: Uuid,
    by: Mover,
    to: OrderStatus,
    note: &str,
    now: DateTime<Utc>,
) -> Result<OrderChange, BillingError> {
    let tenant = tx.tenant();
    let note = clean_note("note", note)?;
    let only = match by {
        Mover::Subscriber(s) => Some(s.as_uuid()),
        Mover::Staff(_) => None,
    };
    // The order row is locked: two people moving one order queue up, and the second sees
    // where the first left it.
    let row = sqlx::query(
        "SELECT o.subscriber_id, o.item_id, o.mode, o.status, o.number, o.price_minor, o.currency, i.name, i.stock \
         FROM equipment_orders o JOIN equipment_items i ON i.tenant_id = o.tenant_id AND i.id = o.item_id \
         WHERE o.tenant_id = $1 AND o.id = $2 AND ($3::uuid IS NULL OR o.subscriber_id = $3) \
         FOR UPDATE OF o",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(only)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(BillingError::NoOrder)?;
    let subscriber = SubscriberId(row.try_get("subscriber_id")?);
    let item_id: Uuid = row.try_get("item_id")?;
    let mode_raw: String = row.try_get("mode")?;
    let mode = OrderMode::parse(&mode_raw)
        .ok_or_else(|| BillingError::Corrupt(format!("order mode {mode_raw:?}")))?;
    let from_raw: String = row.try_get("status")?;
    let from = OrderStatus::parse(&from_raw)
        .ok_or_else(|| BillingError::Corrupt(format!("order status {from_raw:?}")))?;
    let number: i64 = row.try_get("number")?;
    let price: i64 = row.try_get("price_minor")?;
    let cur = currency(&row.try_get::<String, _>("currency")?)?;
    let name: String = row.try_get("name")?;

    if from == to {
        return Ok(OrderChange {
            order: load_detail(tx, id, None).await?,
            from,
            changed: false,
            refunded: Money::zero(cur),
        });
    }
    let allowed = match by {
        Mover::Subscriber(_) => to == OrderStatus::Cancelled && from.subscriber_may_cancel(),
        Mover::Staff(_) => from.staff_may_move(mode, to),
    };
    if !allowed {
        return Err(BillingError::IllegalTransition {
            from: from.as_str(),
            to: to.as_str(),
        });
    }
    let staff = match by {
        Mover::Staff(s) => Some(s),
        Mover::Subscriber(_) => None,
    };

    let refunded = match to {
        OrderStatus::Cancelled => {
            reverse_order_charges(tx, subscriber, id, number, staff, &note).await?
        }
        OrderStatus::Returned => {
            refund_unused_rent(tx, subscriber, id, number, &name, price, cur, now).await?
        }
        _ => 0,
    };
    let ends = matches!(to, OrderStatus::Cancelled | OrderStatus::Returned);
    if ends {
        sqlx::query(
            "UPDATE equipment_items SET stock = stock + 1 WHERE tenant_id = $1 AND id = $2 AND stock IS NOT NULL",
        )
        .bind(tenant.as_uuid())
        .bind(item_id)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query(
        "UPDATE equipment_orders SET status = $3, updated_at = $4, refunded_minor = refunded_minor + $5, \
           rent_ended_at = CASE WHEN $6 AND mode = 'rent' THEN $4 ELSE rent_ended_at END \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(to.as_str())
    .bind(now)
    .bind(refunded)
    .bind(ends)
    .execute(tx.conn())
    .await?;
    let by_subscriber = match by {
        Mover::Subscriber(s) => Some(s),
        Mover::Staff(_) => None,
    };
    record_event(tx, id, to, &note, by_subscriber, staff, now).await?;
    if refunded > 0 {
        refresh_status(tx, Some(&[subscriber])).await?;
    }
    Ok(OrderChange {
        order: load_detail(tx, id, None).await?,
        from,
        changed: true,
        refunded: Money::new(refunded, cur),
    })
}

/// Reverses every charge the order made (the purchase, or each month of rent), each at most
/// once: a charge staff already reversed by hand is not refunded twice. Returns the total
/// given back by this call.
async fn reverse_order_charges(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    order: Uuid,
    number: i64,
    staff: Option<StaffId>,
    note: &str,
) -> Result<i64, BillingError> {
    let tenant = tx.tenant();
    let charges: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT t.id, (-sum(e.amount_minor))::bigint FROM ledger_transactions t \
         JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id AND e.subscriber_id IS NOT NULL \
         WHERE t.tenant_id = $1 AND t.subscriber_id = $2 \
           AND (t.idempotency_key = $3 OR starts_with(t.idempotency_key, $4)) \
         GROUP BY t.id ORDER BY min(t.created_at)",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .bind(format!("equipment:{order}"))
    .bind(format!("charge:rent:{order}:"))
    .fetch_all(tx.conn())
    .await?;
    let reason = if note.is_empty() {
        format!("order {number} cancelled")
    } else {
        format!("order {number} cancelled: {note}")
    };
    let reason: String = reason.chars().take(200).collect();
    let mut total = 0;
    for (charge, amount) in charges {
        let posted = crate::corrections::reverse(tx, subscriber, charge, staff, &reason).await?;
        if posted.created {
            total += amount;
        }
    }
    Ok(total)
}

/// The unused days of this month's rent (from tomorrow on), up to what this month's charge
/// took, unless staff reversed that charge already.
#[allow(clippy::too_many_arguments)]
async fn refund_unused_rent(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
    order: Uuid,
    number: i64,
    name: &str,
    monthly: i64,
    cur: kabinet_core::Currency,
    now: DateTime<Utc>,
) -> Result<i64, BillingError> {
    let tenant = tx.tenant();
    let month = BillingMonth::of(now.date_naive());
    let paid: Option<i64> = sqlx::query_scalar(
        "SELECT (-sum(e.amount_minor))::bigint FROM ledger_transactions t \
         JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id AND e.subscriber_id IS NOT NULL \
         WHERE t.tenant_id = $1 AND t.idempotency_key = $2 \
           AND NOT EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.tenant_id = t.tenant_id AND r.reverses = t.id)",
    )
    .bind(tenant.as_uuid())
    .bind(rent_key(order, month))
    .fetch_one(tx.conn())
    .await?;
    let refund = paid.map_or(0, |paid| {
        prorate(monthly, month, now.day() + 1).clamp(0, paid)
    });
    if refund == 0 {
        return Ok(0);
    }
    post(
        tx,
        &NewTransaction {
            kind: TransactionKind::Refund,
            description: format!("Rent: {name}, unused days of {month}, order {number} returned"),
            idempotency_key: format!("equipment-return:{order}"),
            subscriber: Some(subscriber),
            staff: None,
            reference: Some(format!("order {number}")),
            lines: vec![
                Line {
                    account: LedgerAccount::Subscriber(subscriber),
                    amount: Money::new(refund, cur),
                },
                Line {
                    account: LedgerAccount::Revenue("equipment_rent"),
                    amount: Money::new(-refund, cur),
                },
            ],
        },
    )
    .await?;
    Ok(refund)
}

/// Charges every running rental of an active account its rent for `month`, in advance, in one
/// statement; the monthly charge run calls it before it blocks debtors.
///
/// INVARIANT: one charge per (order, month), whatever happens: the key
/// `charge:rent:<order>:<month>` is unique per tenant, and it is the key ordering used for the
/// first month, so that month is not charged again; reruns and parallel runs skip what exists.
/// A rental that started, or an account that became active, during the month pays from that day.
pub async fn charge_monthly_rent(
    tx: &mut TenantTx,
    month: BillingMonth,
) -> Result<u64, BillingError> {
    let tenant = tx.tenant();
    let (start, next) = month.bounds()?;
    let days = i64::from(days_in(month));
    let charged: i64 = sqlx::query_scalar(
        "WITH candidates AS ( \
           SELECT o.subscriber_id, 'charge:rent:' || o.id || ':' || $2 AS key, \
                  'Rent: ' || i.name || ', ' || $2 || ', order ' || o.number AS description, \
                  CASE WHEN since.at >= $4 THEN 0 WHEN since.at > $3 \
                    THEN (o.price_minor * ($5 - extract(day FROM since.at AT TIME ZONE 'UTC')::bigint + 1) * 2 + $5) / (2 * $5) \
                    ELSE o.price_minor END AS amount, \
                  a.currency \
           FROM equipment_orders o \
           JOIN accounts a ON a.tenant_id = o.tenant_id AND a.subscriber_id = o.subscriber_id \
           JOIN equipment_items i ON i.tenant_id = o.tenant_id AND i.id = o.item_id \
           CROSS JOIN LATERAL (SELECT GREATEST(a.status_changed_at, o.rent_started_at) AS at) since \
           WHERE o.tenant_id = $1 AND o.mode = 'rent' AND o.rent_ended_at IS NULL \
             AND a.status = 'active' AND o.price_minor > 0), \
         due AS (SELECT * FROM candidates WHERE amount > 0), \
         txn AS ( \
           INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key, subscriber_id) \
           SELECT $1, gen_random_uuid(), 'charge', due.description, due.key, due.subscriber_id FROM due \
           ON CONFLICT (tenant_id, idempotency_key) DO NOTHING \
           RETURNING id, idempotency_key), \
         lines AS ( \
           INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
           SELECT $1, txn.id, l.line, l.account, l.subscriber_id, l.amount, due.currency \
           FROM txn JOIN due ON due.key = txn.idempotency_key \
           CROSS JOIN LATERAL (VALUES \
             (1::smallint, 'subscriber', due.subscriber_id, -due.amount), \
             (2::smallint, 'revenue:equipment_rent', NULL::uuid, due.amount)) AS l(line, account, subscriber_id, amount) \
           RETURNING 1) \
         SELECT count(*) FROM txn",
    )
    .bind(tenant.as_uuid())
    .bind(month.to_string())
    .bind(start)
    .bind(next)
    .bind(days)
    .fetch_one(tx.conn())
    .await?;
    Ok(charged as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in EquipmentKind::ALL {
            assert_eq!(EquipmentKind::parse(k.as_str()), Some(k));
        }
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        for m in [OrderMode::Buy, OrderMode::Rent] {
            assert_eq!(OrderMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(OrderStatus::parse("lost"), None);
    }

    #[test]
    fn the_lifecycle_allows_only_forward_moves() {
        use OrderStatus::*;
        let buy = OrderMode::Buy;
        let rent = OrderMode::Rent;
        assert_eq!(New.next_for_staff(buy), vec![Confirmed, Cancelled]);
        assert_eq!(
            Confirmed.next_for_staff(buy),
            vec![Delivered, Installed, Cancelled]
        );
        assert_eq!(Delivered.next_for_staff(buy), vec![Installed]);
        assert_eq!(Delivered.next_for_staff(rent), vec![Installed, Returned]);
        assert_eq!(Installed.next_for_staff(rent), vec![Returned]);
        assert!(Installed.next_for_staff(buy).is_empty());
        assert!(Cancelled.next_for_staff(rent).is_empty());
        assert!(Returned.next_for_staff(rent).is_empty());
        assert!(!New.staff_may_move(buy, Delivered), "confirm first");
        assert!(New.subscriber_may_cancel());
        assert!(!Confirmed.subscriber_may_cancel());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = OrderCursor {
            created_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).expect("time"),
            id: Uuid::now_v7(),
        };
        assert_eq!(OrderCursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "x_y", "1_", "_0193", "12.5_0193"] {
            assert_eq!(OrderCursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn phones_must_be_normalised() {
        assert!(check_phone("+79123456789").is_ok());
        for bad in [
            "79123456789",
            "+7 912",
            "+",
            "+12345678901234567",
            "+7912x456789",
        ] {
            assert!(check_phone(bad).is_err(), "{bad}");
        }
    }
}
