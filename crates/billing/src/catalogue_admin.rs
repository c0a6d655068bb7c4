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
use sqlx::Row;
use sqlx::postgres::PgRow;
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

impl TariffDraft {
    fn check(&self) -> Result<(), CatalogueError> {
        check_name(&self.name)?;
        check_price("monthly_price", self.monthly_price_minor)?;
        check_speed("speed_mbps", self.speed_mbps)?;
        if let Some(up) = self.upload_speed_mbps {
            check_speed("upload_speed_mbps", up)?;
        }
        Ok(())
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

const TARIFF_COLUMNS: &str = "t.id, t.code, t.name, t.monthly_price_minor, t.currency, t.speed_mbps, \
    t.upload_speed_mbps, t.active, t.created_at, \
    (SELECT count(*) FROM accounts a WHERE a.tenant_id = t.tenant_id AND a.tariff_id = t.id) AS subscribers";

fn tariff_from_row(row: &PgRow) -> Result<CatalogueTariff, CatalogueError> {
    let cur = row_currency(row)?;
    Ok(CatalogueTariff {
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

/// Every tariff, offered ones first, then by price. One query.
pub async fn catalogue_tariffs(tx: &mut TenantTx) -> Result<Vec<CatalogueTariff>, CatalogueError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "SELECT {TARIFF_COLUMNS} FROM tariffs t WHERE t.tenant_id = $1 \
         ORDER BY t.active DESC, t.monthly_price_minor, t.code"
    ))
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(tariff_from_row).collect()
}

async fn locked_tariff(tx: &mut TenantTx, id: Uuid) -> Result<CatalogueTariff, CatalogueError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {TARIFF_COLUMNS} FROM tariffs t WHERE t.tenant_id = $1 AND t.id = $2 FOR UPDATE"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(CatalogueError::NotFound)?;
    tariff_from_row(&row)
}

/// Creates a tariff on offer, priced in the ISP's currency.
pub async fn create_tariff(
    tx: &mut TenantTx,
    code: &str,
    draft: &TariffDraft,
    isp_currency: Currency,
) -> Result<CatalogueTariff, CatalogueError> {
    check_code(code)?;
    draft.check()?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO tariffs (tenant_id, id, code, name, monthly_price_minor, currency, speed_mbps, upload_speed_mbps) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, code) DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(code)
    .bind(&draft.name)
    .bind(draft.monthly_price_minor)
    .bind(isp_currency.code())
    .bind(draft.speed_mbps)
    .bind(draft.upload_speed_mbps)
    .execute(tx.conn())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(CatalogueError::DuplicateCode);
    }
    locked_tariff(tx, id).await
}

/// Changes a tariff's name, price and speeds; returns it before and after. The new price is
/// what the next monthly charge takes; nothing already charged changes.
pub async fn update_tariff(
    tx: &mut TenantTx,
    id: Uuid,
    draft: &TariffDraft,
    isp_currency: Currency,
) -> Result<(CatalogueTariff, CatalogueTariff), CatalogueError> {
    draft.check()?;
    let before = locked_tariff(tx, id).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE tariffs SET name = $3, monthly_price_minor = $4, currency = $5, speed_mbps = $6, \
           upload_speed_mbps = $7 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&draft.name)
    .bind(draft.monthly_price_minor)
    .bind(isp_currency.code())
    .bind(draft.speed_mbps)
    .bind(draft.upload_speed_mbps)
    .execute(tx.conn())
    .await?;
    let after = locked_tariff(tx, id).await?;
    Ok((before, after))
}

/// Archives (`active = false`) or puts back on offer a tariff; returns it before and after.
/// Refuses to archive the last tariff on offer.
///
/// INVARIANT: an ISP with an offered tariff keeps at least one. The offered tariffs are locked
/// first, so two staff members archiving the last two at once cannot both succeed (the second
/// re-reads the rows and finds only its own still offered).
pub async fn set_tariff_active(
    tx: &mut TenantTx,
    id: Uuid,
    active: bool,
) -> Result<(CatalogueTariff, CatalogueTariff), CatalogueError> {
    let tenant = tx.tenant();
    let locked: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT id, active FROM tariffs WHERE tenant_id = $1 AND (active OR id = $2) ORDER BY id FOR UPDATE",
    )
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
    let before = locked_tariff(tx, id).await?;
    sqlx::query("UPDATE tariffs SET active = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(active)
        .execute(tx.conn())
        .await?;
    Ok((before.clone(), CatalogueTariff { active, ..before }))
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

impl AddonDraft {
    fn check(&self) -> Result<(), CatalogueError> {
        check_name(&self.name)?;
        check_description(&self.description)?;
        check_price("monthly_price", self.monthly_price_minor)
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

const ADDON_COLUMNS: &str = "d.id, d.code, d.name, d.description, d.monthly_price_minor, d.currency, d.active, \
    (SELECT count(*) FROM addon_subscriptions s WHERE s.tenant_id = d.tenant_id AND s.addon_id = d.id \
       AND s.disconnected_at IS NULL) AS subscribers";

fn addon_from_row(row: &PgRow) -> Result<CatalogueAddon, CatalogueError> {
    let cur = row_currency(row)?;
    Ok(CatalogueAddon {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        monthly_price: Money::new(row.try_get("monthly_price_minor")?, cur),
        active: row.try_get("active")?,
        subscribers: row.try_get("subscribers")?,
    })
}

/// Every add-on, offered ones first, then by price. One query.
pub async fn catalogue_addons(tx: &mut TenantTx) -> Result<Vec<CatalogueAddon>, CatalogueError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "SELECT {ADDON_COLUMNS} FROM addons d WHERE d.tenant_id = $1 \
         ORDER BY d.active DESC, d.monthly_price_minor, d.code"
    ))
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(addon_from_row).collect()
}

async fn locked_addon(tx: &mut TenantTx, id: Uuid) -> Result<CatalogueAddon, CatalogueError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {ADDON_COLUMNS} FROM addons d WHERE d.tenant_id = $1 AND d.id = $2 FOR UPDATE"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(CatalogueError::NotFound)?;
    addon_from_row(&row)
}

/// Creates an add-on on offer, priced in the ISP's currency.
pub async fn create_addon(
    tx: &mut TenantTx,
    code: &str,
    draft: &AddonDraft,
    isp_currency: Currency,
) -> Result<CatalogueAddon, CatalogueError> {
    check_code(code)?;
    draft.check()?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO addons (tenant_id, id, code, name, description, monthly_price_minor, currency) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, code) DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(code)
    .bind(&draft.name)
    .bind(&draft.description)
    .bind(draft.monthly_price_minor)
    .bind(isp_currency.code())
    .execute(tx.conn())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(CatalogueError::DuplicateCode);
    }
    locked_addon(tx, id).await
}

/// Changes an add-on's name, description and price; returns it before and after. Connected
/// subscribers pay the new price from the next monthly charge.
pub async fn update_addon(
    tx: &mut TenantTx,
    id: Uuid,
    draft: &AddonDraft,
    isp_currency: Currency,
) -> Result<(CatalogueAddon, CatalogueAddon), CatalogueError> {
    draft.check()?;
    let before = locked_addon(tx, id).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE addons SET name = $3, description = $4, monthly_price_minor = $5, currency = $6 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&draft.name)
    .bind(&draft.description)
    .bind(draft.monthly_price_minor)
    .bind(isp_currency.code())
    .execute(tx.conn())
    .await?;
    let after = locked_addon(tx, id).await?;
    Ok((before, after))
}

/// Archives or puts back on offer an add-on; returns it before and after. Archived, it can no
/// longer be connected; subscribers who have it keep it (and its charge) until they disconnect.
pub async fn set_addon_active(
    tx: &mut TenantTx,
    id: Uuid,
    active: bool,
) -> Result<(CatalogueAddon, CatalogueAddon), CatalogueError> {
    let before = locked_addon(tx, id).await?;
    let tenant = tx.tenant();
    sqlx::query("UPDATE addons SET active = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(active)
        .execute(tx.conn())
        .await?;
    Ok((before.clone(), CatalogueAddon { active, ..before }))
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

impl EquipmentDraft {
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

const EQUIPMENT_COLUMNS: &str = "e.id, e.code, e.kind, e.name, e.description, e.purchase_price_minor, \
    e.monthly_rent_minor, e.currency, e.stock, e.active, \
    (SELECT count(*) FROM equipment_orders o WHERE o.tenant_id = e.tenant_id AND o.item_id = e.id \
       AND o.mode = 'rent' AND o.rent_ended_at IS NULL) AS rented";

fn equipment_from_row(row: &PgRow) -> Result<CatalogueEquipment, CatalogueError> {
    let cur = row_currency(row)?;
    let kind: String = row.try_get("kind")?;
    Ok(CatalogueEquipment {
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

/// Every equipment item, offered ones first, then by kind and name. One query.
pub async fn catalogue_equipment(
    tx: &mut TenantTx,
) -> Result<Vec<CatalogueEquipment>, CatalogueError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "SELECT {EQUIPMENT_COLUMNS} FROM equipment_items e WHERE e.tenant_id = $1 \
         ORDER BY e.active DESC, \
           array_position(ARRAY['router', 'ont', 'modem', 'tv_box', 'cable', 'other'], e.kind), e.name, e.code"
    ))
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(equipment_from_row).collect()
}

async fn locked_equipment(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<CatalogueEquipment, CatalogueError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {EQUIPMENT_COLUMNS} FROM equipment_items e WHERE e.tenant_id = $1 AND e.id = $2 FOR UPDATE"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(CatalogueError::NotFound)?;
    equipment_from_row(&row)
}

/// Creates an equipment item on offer, priced in the ISP's currency.
pub async fn create_equipment(
    tx: &mut TenantTx,
    code: &str,
    draft: &EquipmentDraft,
    isp_currency: Currency,
) -> Result<CatalogueEquipment, CatalogueError> {
    check_code(code)?;
    draft.check()?;
    let tenant = tx.tenant();
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO equipment_items (tenant_id, id, code, kind, name, description, purchase_price_minor, \
           monthly_rent_minor, currency, stock) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, code) DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(code)
    .bind(draft.kind.as_str())
    .bind(&draft.name)
    .bind(&draft.description)
    .bind(draft.purchase_price_minor)
    .bind(draft.monthly_rent_minor)
    .bind(isp_currency.code())
    .bind(draft.stock)
    .execute(tx.conn())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(CatalogueError::DuplicateCode);
    }
    locked_equipment(tx, id).await
}

/// Changes an item's kind, name, description, prices and stock; returns it before and after.
/// New orders pay the new prices; running rentals keep the rent they were ordered at.
pub async fn update_equipment(
    tx: &mut TenantTx,
    id: Uuid,
    draft: &EquipmentDraft,
    isp_currency: Currency,
) -> Result<(CatalogueEquipment, CatalogueEquipment), CatalogueError> {
    draft.check()?;
    let before = locked_equipment(tx, id).await?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE equipment_items SET kind = $3, name = $4, description = $5, purchase_price_minor = $6, \
           monthly_rent_minor = $7, currency = $8, stock = $9 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(draft.kind.as_str())
    .bind(&draft.name)
    .bind(&draft.description)
    .bind(draft.purchase_price_minor)
    .bind(draft.monthly_rent_minor)
    .bind(isp_currency.code())
    .bind(draft.stock)
    .execute(tx.conn())
    .await?;
    let after = locked_equipment(tx, id).await?;
    Ok((before, after))
}

/// Archives or puts back on offer an equipment item; returns it before and after. Archived, it
/// can no longer be ordered; orders already placed go on.
pub async fn set_equipment_active(
    tx: &mut TenantTx,
    id: Uuid,
    active: bool,
) -> Result<(CatalogueEquipment, CatalogueEquipment), CatalogueError> {
    let before = locked_equipment(tx, id).await?;
    let tenant = tx.tenant();
    sqlx::query("UPDATE equipment_items SET active = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(active)
        .execute(tx.conn())
        .await?;
    Ok((before.clone(), CatalogueEquipment { active, ..before }))
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
