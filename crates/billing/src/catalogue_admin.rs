//! The catalogue as staff edit it in the console: tariffs, add-ons and equipment items.
//!
//! Items are created, edited and archived here; nothing is ever deleted (ledger entries, tariff
//! changes, add-on subscriptions and orders point at them). Archiving takes an item off offer:
//! subscribers cannot pick it for a new change, order or connection, but whoever already has
//! it keeps it (and keeps being charged for it) until they change. The ISP's last tariff on
//! offer cannot be archived. A price edit takes effect from the next charge: the monthly run
//! reads the price at charge time, and charges already posted are never rewritten (a rental
//! keeps the rent agreed when it was ordered).
//!
//! Manifests and the console share the table, keyed by `code`: re-applying a manifest updates
//! the items it declares (overwriting console edits of those fields) and leaves every other
//! item alone, so items created in the console survive. A manifest never archives anything;
//! for equipment it sets `active` as declared.

use chrono::{DateTime, Utc};
use kabinet_core::{Currency, Money};
use kabinet_db::{TenantTx, sqlx};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row};
use uuid::Uuid;

use crate::equipment::EquipmentKind;
use crate::error::{BillingError, currency};

/// The highest price (in minor units) the catalogue accepts: 10 000 000.00.
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000;
/// The highest speed (Mbit/s) a tariff may declare: 100 Gbit/s.
pub const MAX_SPEED_MBPS: i32 = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A field the staff member filled in is not acceptable.
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("an item with this code already exists")]
    DuplicateCode,
    #[error("no such catalogue item")]
    NotFound,
    #[error("the last tariff on offer cannot be archived")]
    LastTariff,
    #[error(transparent)]
    Billing(#[from] BillingError),
}

impl From<sqlx::Error> for CatalogueError {
    fn from(e: sqlx::Error) -> Self {
        match kabinet_db::constraint_name(&e) {
            Some("tariffs_code_key" | "addons_code_key" | "equipment_items_code_key") => {
                Self::DuplicateCode
            }
            _ => Self::Billing(e.into()),
        }
    }
}

fn invalid(field: &'static str, reason: &'static str) -> CatalogueError {
    CatalogueError::Invalid { field, reason }
}

/// The catalogue's code rule (the tables' CHECK): what manifests and links name items by.
pub fn check_code(code: &str) -> Result<(), CatalogueError> {
    let mut chars = code.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !first_ok || !rest_ok || code.len() > 64 {
        return Err(invalid(
            "code",
            "1-64 characters: lowercase latin letters, digits, '-' and '_', starting with a letter or digit",
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), CatalogueError> {
    let n = name.chars().count();
    if n == 0 || n > 200 || name.trim() != name {
        return Err(invalid(
            "name",
            "1-200 characters without leading or trailing spaces",
        ));
    }
    Ok(())
}

fn check_description(description: &str) -> Result<(), CatalogueError> {
    if description.chars().count() > 2000 {
        return Err(invalid("description", "at most 2000 characters"));
    }
    Ok(())
}

fn check_price(field: &'static str, minor: i64) -> Result<(), CatalogueError> {
    if !(0..=MAX_PRICE_MINOR).contains(&minor) {
        return Err(invalid(field, "between 0 and 10 000 000.00"));
    }
    Ok(())
}

fn check_speed(field: &'static str, mbps: i32) -> Result<(), CatalogueError> {
    if !(1..=MAX_SPEED_MBPS).contains(&mbps) {
        return Err(invalid(field, "between 1 and 100000 Mbit/s"));
    }
    Ok(())
}

fn money(row: &PgRow, column: &str, cur: Currency) -> Result<Option<Money>, CatalogueError> {
    Ok(row
        .try_get::<Option<i64>, _>(column)?
        .map(|m| Money::new(m, cur)))
}

fn row_currency(row: &PgRow) -> Result<Currency, CatalogueError> {
    Ok(currency(&row.try_get::<String, _>("currency")?)?)
}

// ---------------------------------------------------------------------------------------------
// What every kind shares: list, create, update, archive

/// A statement with its arguments bound so far.
pub type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// What staff set on an item of one kind (the code is fixed at creation).
pub trait ItemDraft {
    /// The columns the draft sets, in the order [`ItemDraft::bind`] binds them.
    const COLUMNS: &'static [&'static str];
    /// Refuses a value staff may not set.
    fn check(&self) -> Result<(), CatalogueError>;
    /// Binds the values of [`ItemDraft::COLUMNS`] in order.
    fn bind<'q>(&'q self, query: PgQuery<'q>) -> PgQuery<'q>;
}

/// One kind of catalogue item (tariff, add-on, equipment) as the console lists it: its table,
/// what is read from it and what staff set on it. Every kind is listed, created, updated and
/// archived by the same functions below.
pub trait CatalogueItem: Clone + Sized {
    type Draft: ItemDraft;
    /// The table, and the alias [`CatalogueItem::COLUMNS`] and [`CatalogueItem::ORDER`] use.
    const TABLE: &'static str;
    const ALIAS: &'static str;
    /// The select list (the counts of who has the item included).
    const COLUMNS: &'static str;
    /// The list's order: offered items first.
    const ORDER: &'static str;
    /// The last offered item of this kind cannot be archived ([`CatalogueError::LastTariff`]).
    const KEEP_ONE_OFFERED: bool = false;
    fn from_row(row: &PgRow) -> Result<Self, CatalogueError>;
    /// The item with `active` set (after archiving or putting it back on offer).
    fn with_active(self, active: bool) -> Self;
}

/// Every item of a kind, offered ones first. One query.
pub async fn catalogue_items<I: CatalogueItem>(
    tx: &mut TenantTx,
) -> Result<Vec<I>, CatalogueError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "SELECT {} FROM {} {a} WHERE {a}.tenant_id = $1 ORDER BY {}",
        I::COLUMNS,
        I::TABLE,
        I::ORDER,
        a = I::ALIAS,
    ))
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(I::from_row).collect()
}

async fn locked_item<I: CatalogueItem>(tx: &mut TenantTx, id: Uuid) -> Result<I, CatalogueError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {} FROM {} {a} WHERE {a}.tenant_id = $1 AND {a}.id = $2 FOR UPDATE",
        I::COLUMNS,
        I::TABLE,
        a = I::ALIAS,
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(CatalogueError::NotFound)?;
    I::from_row(&row)
}

/// `$from, $from + 1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> Vec<String> {
    (from..from + n).map(|i| format!("${i}")).collect()
}

/// Creates an item on offer, priced in the ISP's currency.
pub async fn create_item<I: CatalogueItem>(
    tx: &mut TenantTx,
    code: &str,
    draft: &I::Draft,
    isp_currency: Currency,
) -> Result<I, CatalogueError> {
    check_code(code)?;
    draft.check()?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    let columns = <I::Draft as ItemDraft>::COLUMNS;
    let sql = format!(
        "INSERT INTO {} (tenant_id, id, code, currency, {}) VALUES ($1, $2, $3, $4, {}) \
         ON CONFLICT (tenant_id, code) DO NOTHING",
        I::TABLE,
        columns.join(", "),
        placeholders(5, columns.len()).join(", "),
    );
    let query = sqlx::query(&sql)
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(code)
        .bind(isp_currency.code());
    let inserted = draft.bind(query).execute(tx.conn()).await?;
    if inserted.rows_affected() == 0 {
        return Err(CatalogueError::DuplicateCode);
    }
    locked_item(tx, id).await
}

/// Changes what staff set on an item; returns it before and after. New prices are what the
/// next charge or order takes; nothing already charged changes.
pub async fn update_item<I: CatalogueItem>(
    tx: &mut TenantTx,
    id: Uuid,
    draft: &I::Draft,
    isp_currency: Currency,
) -> Result<(I, I), CatalogueError> {
    draft.check()?;
    let before = locked_item::<I>(tx, id).await?;
    let tenant = tx.tenant();
    let columns = <I::Draft as ItemDraft>::COLUMNS;
    let set: Vec<String> = columns
        .iter()
        .zip(placeholders(4, columns.len()))
        .map(|(column, p)| format!("{column} = {p}"))
        .collect();
    let sql = format!(
        "UPDATE {} SET currency = $3, {} WHERE tenant_id = $1 AND id = $2",
        I::TABLE,
        set.join(", "),
    );
    let query = sqlx::query(&sql)
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(isp_currency.code());
    draft.bind(query).execute(tx.conn()).await?;
    let after = locked_item(tx, id).await?;
    Ok((before, after))
}

/// Archives (`active = false`) or puts back on offer an item; returns it before and after.
/// Archived, it is no longer offered for a new change, connection or order; whoever has it
/// keeps it (and its charge). Refuses to archive the last tariff on offer.
///
/// INVARIANT: an ISP with an offered tariff keeps at least one. The offered tariffs are locked
/// first, so two staff members archiving the last two at once cannot both succeed (the second
/// re-reads the rows and finds only its own still offered).
pub async fn set_item_active<I: CatalogueItem>(
    tx: &mut TenantTx,
    id: Uuid,
    active: bool,
) -> Result<(I, I), CatalogueError> {
    let tenant = tx.tenant();
    if I::KEEP_ONE_OFFERED {
        let locked: Vec<(Uuid, bool)> = sqlx::query_as(&format!(
            "SELECT id, active FROM {} WHERE tenant_id = $1 AND (active OR id = $2) ORDER BY id FOR UPDATE",
            I::TABLE
        ))
        .bind(tenant.as_uuid())
        .bind(id)
        .fetch_all(tx.conn())
        .await?;
        let Some(&(_, was_active)) = locked.iter().find(|(t, _)| *t == id) else {
            return Err(CatalogueError::NotFound);
        };
        if was_active && !active && !locked.iter().any(|(t, a)| *a && *t != id) {
            return Err(CatalogueError::LastTariff);
        }
    }
    let before = locked_item::<I>(tx, id).await?;
    sqlx::query(&format!(
        "UPDATE {} SET active = $3 WHERE tenant_id = $1 AND id = $2",
        I::TABLE
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(active)
    .execute(tx.conn())
    .await?;
    Ok((before.clone(), before.with_active(active)))
}

// ---------------------------------------------------------------------------------------------
// Tariffs

/// What staff set on a tariff (the code is fixed at creation).
#[derive(Clone, Debug)]
pub struct TariffDraft {
    pub name: String,
    /// Minor units of the ISP's currency.
    pub monthly_price_minor: i64,
    pub speed_mbps: i32,
    /// `None`: the same as the download speed.
    pub upload_speed_mbps: Option<i32>,
}

impl ItemDraft for TariffDraft {
    const COLUMNS: &'static [&'static str] = &[
        "name",
        "monthly_price_minor",
        "speed_mbps",
        "upload_speed_mbps",
    ];

    fn check(&self) -> Result<(), CatalogueError> {
        check_name(&self.name)?;
        check_price("monthly_price", self.monthly_price_minor)?;
        check_speed("speed_mbps", self.speed_mbps)?;
        if let Some(up) = self.upload_speed_mbps {
            check_speed("upload_speed_mbps", up)?;
        }
        Ok(())
    }

    fn bind<'q>(&'q self, query: PgQuery<'q>) -> PgQuery<'q> {
        query
            .bind(&self.name)
            .bind(self.monthly_price_minor)
            .bind(self.speed_mbps)
            .bind(self.upload_speed_mbps)
    }
}

/// A tariff as the console lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogueTariff {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub monthly_price: Money,
    pub speed_mbps: i32,
    pub upload_speed_mbps: Option<i32>,
    /// Offered to subscribers; archived otherwise.
    pub active: bool,
    /// Accounts on this tariff now.
    pub subscribers: i64,
    pub created_at: DateTime<Utc>,
}

/// Tariffs: offered ones first, then by price. A change of price is what the next monthly
/// charge takes; subscribers on an archived tariff keep it until they change.
impl CatalogueItem for CatalogueTariff {
    type Draft = TariffDraft;
    const TABLE: &'static str = "tariffs";
    const ALIAS: &'static str = "t";
    const COLUMNS: &'static str = "t.id, t.code, t.name, t.monthly_price_minor, t.currency, t.speed_mbps, \
        t.upload_speed_mbps, t.active, t.created_at, \
        (SELECT count(*) FROM accounts a WHERE a.tenant_id = t.tenant_id AND a.tariff_id = t.id) AS subscribers";
    const ORDER: &'static str = "t.active DESC, t.monthly_price_minor, t.code";
    const KEEP_ONE_OFFERED: bool = true;

    fn from_row(row: &PgRow) -> Result<Self, CatalogueError> {
        let cur = row_currency(row)?;
        Ok(Self {
            id: row.try_get("id")?,
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            monthly_price: Money::new(row.try_get("monthly_price_minor")?, cur),
            speed_mbps: row.try_get("speed_mbps")?,
            upload_speed_mbps: row.try_get("upload_speed_mbps")?,
            active: row.try_get("active")?,
            subscribers: row.try_get("subscribers")?,
            created_at: row.try_get("created_at")?,
        })
    }

    fn with_active(self, active: bool) -> Self {
        Self { active, ..self }
    }
}

// ---------------------------------------------------------------------------------------------
// Add-ons

/// What staff set on an add-on (the code is fixed at creation).
#[derive(Clone, Debug)]
pub struct AddonDraft {
    pub name: String,
    pub description: String,
    /// Minor units of the ISP's currency.
    pub monthly_price_minor: i64,
}

impl ItemDraft for AddonDraft {
    const COLUMNS: &'static [&'static str] = &["name", "description", "monthly_price_minor"];

    fn check(&self) -> Result<(), CatalogueError> {
        check_name(&self.name)?;
        check_description(&self.description)?;
        check_price("monthly_price", self.monthly_price_minor)
    }

    fn bind<'q>(&'q self, query: PgQuery<'q>) -> PgQuery<'q> {
        query
            .bind(&self.name)
            .bind(&self.description)
            .bind(self.monthly_price_minor)
    }
}

/// An add-on as the console lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogueAddon {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub description: String,
    pub monthly_price: Money,
    pub active: bool,
    /// Subscribers who have it connected now.
    pub subscribers: i64,
}

/// Add-ons: offered ones first, then by price. Connected subscribers pay a new price from the
/// next monthly charge; archived, an add-on can no longer be connected, and whoever has it
/// keeps it (and its charge) until they disconnect.
impl CatalogueItem for CatalogueAddon {
    type Draft = AddonDraft;
    const TABLE: &'static str = "addons";
    const ALIAS: &'static str = "d";
    const COLUMNS: &'static str = "d.id, d.code, d.name, d.description, d.monthly_price_minor, d.currency, d.active, \
        (SELECT count(*) FROM addon_subscriptions s WHERE s.tenant_id = d.tenant_id AND s.addon_id = d.id \
           AND s.disconnected_at IS NULL) AS subscribers";
    const ORDER: &'static str = "d.active DESC, d.monthly_price_minor, d.code";

    fn from_row(row: &PgRow) -> Result<Self, CatalogueError> {
        let cur = row_currency(row)?;
        Ok(Self {
            id: row.try_get("id")?,
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            monthly_price: Money::new(row.try_get("monthly_price_minor")?, cur),
            active: row.try_get("active")?,
            subscribers: row.try_get("subscribers")?,
        })
    }

    fn with_active(self, active: bool) -> Self {
        Self { active, ..self }
    }
}

// ---------------------------------------------------------------------------------------------
// Equipment

/// What staff set on an equipment item (the code is fixed at creation).
#[derive(Clone, Debug)]
pub struct EquipmentDraft {
    pub kind: EquipmentKind,
    pub name: String,
    pub description: String,
    /// `None`: not for sale. Minor units of the ISP's currency.
    pub purchase_price_minor: Option<i64>,
    /// `None`: not for rent.
    pub monthly_rent_minor: Option<i64>,
    /// Units on hand; `None` when the ISP does not count them.
    pub stock: Option<i32>,
}

impl ItemDraft for EquipmentDraft {
    const COLUMNS: &'static [&'static str] = &[
        "kind",
        "name",
        "description",
        "purchase_price_minor",
        "monthly_rent_minor",
        "stock",
    ];

    fn check(&self) -> Result<(), CatalogueError> {
        check_name(&self.name)?;
        check_description(&self.description)?;
        if self.purchase_price_minor.is_none() && self.monthly_rent_minor.is_none() {
            return Err(invalid(
                "purchase_price",
                "an item is sold, rented or both: give a price or a rent",
            ));
        }
        if let Some(p) = self.purchase_price_minor {
            check_price("purchase_price", p)?;
        }
        if let Some(r) = self.monthly_rent_minor {
            check_price("monthly_rent", r)?;
        }
        if self.stock.is_some_and(|s| s < 0) {
            return Err(invalid("stock", "zero or more"));
        }
        Ok(())
    }

    fn bind<'q>(&'q self, query: PgQuery<'q>) -> PgQuery<'q> {
        query
            .bind(self.kind.as_str())
            .bind(&self.name)
            .bind(&self.description)
            .bind(self.purchase_price_minor)
            .bind(self.monthly_rent_minor)
            .bind(self.stock)
    }
}

/// An equipment item as the console lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogueEquipment {
    pub id: Uuid,
    pub code: String,
    pub kind: EquipmentKind,
    pub name: String,
    pub description: String,
    pub purchase_price: Option<Money>,
    pub monthly_rent: Option<Money>,
    pub stock: Option<i32>,
    pub active: bool,
    /// Rentals of this item running now (their rent stays what was agreed when ordering).
    pub rented: i64,
}

/// Equipment: offered items first, then by kind and name. New orders pay new prices; running
/// rentals keep the rent they were ordered at. Archived, an item can no longer be ordered;
/// orders already placed go on.
impl CatalogueItem for CatalogueEquipment {
    type Draft = EquipmentDraft;
    const TABLE: &'static str = "equipment_items";
    const ALIAS: &'static str = "e";
    const COLUMNS: &'static str = "e.id, e.code, e.kind, e.name, e.description, e.purchase_price_minor, \
        e.monthly_rent_minor, e.currency, e.stock, e.active, \
        (SELECT count(*) FROM equipment_orders o WHERE o.tenant_id = e.tenant_id AND o.item_id = e.id \
           AND o.mode = 'rent' AND o.rent_ended_at IS NULL) AS rented";
    const ORDER: &'static str = "e.active DESC, \
        array_position(ARRAY['router', 'ont', 'modem', 'tv_box', 'cable', 'other'], e.kind), e.name, e.code";

    fn from_row(row: &PgRow) -> Result<Self, CatalogueError> {
        let cur = row_currency(row)?;
        let kind: String = row.try_get("kind")?;
        Ok(Self {
            id: row.try_get("id")?,
            code: row.try_get("code")?,
            kind: EquipmentKind::parse(&kind)
                .ok_or_else(|| BillingError::Corrupt(format!("equipment kind {kind:?}")))?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            purchase_price: money(row, "purchase_price_minor", cur)?,
            monthly_rent: money(row, "monthly_rent_minor", cur)?,
            stock: row.try_get("stock")?,
            active: row.try_get("active")?,
            rented: row.try_get("rented")?,
        })
    }

    fn with_active(self, active: bool) -> Self {
        Self { active, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_tables_rule() {
        for ok in ["home-100", "a", "9_x", &"a".repeat(64)] {
            assert!(check_code(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "Home", "дом", "a b", &"a".repeat(65)] {
            assert!(check_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prices_and_speeds_are_bounded() {
        assert!(check_price("p", 0).is_ok());
        assert!(check_price("p", -1).is_err());
        assert!(check_price("p", MAX_PRICE_MINOR + 1).is_err());
        assert!(check_speed("s", 0).is_err());
        assert!(check_speed("s", 1000).is_ok());
    }
}
