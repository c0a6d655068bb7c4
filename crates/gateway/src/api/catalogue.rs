//! The catalogue editors in the console: tariffs, add-ons, equipment
//! (`/console/catalogue/...`, permission `catalogue.manage`).
//!
//! Each handler checks the permission, makes one `kabinet_billing::catalogue_admin` call and
//! audits the change with its `before`/`after` in the same transaction. Prices are minor units
//! of the ISP's currency. See that module for archiving and how manifests and the console
//! share the catalogue. The three kinds share the handlers' bodies (`list_items`, `create`,
//! `update`, `set_offered`, generic over [`Audited`]); each keeps its own paths, operation ids
//! and JSON shapes.

use kabinet_access::Permission;
use kabinet_billing::EquipmentKind as DomainKind;
use kabinet_billing::catalogue_admin::{
    AddonDraft, CatalogueAddon, CatalogueEquipment, CatalogueItem, CatalogueTariff, EquipmentDraft,
    TariffDraft, catalogue_items, create_item, set_item_active, update_item,
};
use kabinet_db::TenantTx;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Tag;
use super::dto::Money;
use super::equipment::EquipmentKind;
use super::text::Text;
use crate::AppState;
use crate::auth::{Staff, StaffAuth};
use crate::problem::ApiError;

pub struct CatalogueApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = CatalogueApi;

pub fn apis() -> Apis {
    CatalogueApi
}

impl From<EquipmentKind> for DomainKind {
    fn from(k: EquipmentKind) -> Self {
        match k {
            EquipmentKind::Router => Self::Router,
            EquipmentKind::Ont => Self::Ont,
            EquipmentKind::Modem => Self::Modem,
            EquipmentKind::TvBox => Self::TvBox,
            EquipmentKind::Cable => Self::Cable,
            EquipmentKind::Other => Self::Other,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// DTOs

/// A tariff as the console's catalogue shows it.
#[derive(Debug, Object)]
pub struct CatalogueTariffItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub monthly_price: Money,
    /// Download speed, Mbit/s.
    pub speed_mbps: i32,
    /// Upload speed; absent: the same as the download speed.
    #[oai(skip_serializing_if_is_none)]
    pub upload_speed_mbps: Option<i32>,
    /// Offered to subscribers; false: archived.
    pub active: bool,
    /// Subscribers on this tariff now.
    pub subscribers: i64,
}

impl From<CatalogueTariff> for CatalogueTariffItem {
    fn from(t: CatalogueTariff) -> Self {
        Self {
            id: t.id,
            code: t.code,
            name: t.name,
            monthly_price: t.monthly_price.into(),
            speed_mbps: t.speed_mbps,
            upload_speed_mbps: t.upload_speed_mbps,
            active: t.active,
            subscribers: t.subscribers,
        }
    }
}

#[derive(Debug, Object)]
pub struct CatalogueTariffList {
    /// The ISP's currency: what new prices are in.
    pub currency: String,
    pub items: Vec<CatalogueTariffItem>,
}

/// A new tariff. The code names it in manifests and imports and cannot change later.
#[derive(Debug, Object)]
pub struct NewCatalogueTariff {
    /// Lowercase latin letters, digits, `-` and `_` (1–64).
    pub code: Text,
    pub name: Text,
    /// Minor units (kopecks, cents) of the ISP's currency.
    pub monthly_price_minor: i64,
    pub speed_mbps: i32,
    /// Absent or null: the same as the download speed.
    #[oai(nullable)]
    pub upload_speed_mbps: Option<i32>,
}

/// A tariff's new name, price and speeds. A new price applies from the next monthly charge.
#[derive(Debug, Object)]
pub struct CatalogueTariffChange {
    pub name: Text,
    /// Minor units (kopecks, cents) of the ISP's currency.
    pub monthly_price_minor: i64,
    pub speed_mbps: i32,
    /// Absent or null: the same as the download speed.
    #[oai(nullable)]
    pub upload_speed_mbps: Option<i32>,
}

/// An add-on as the console's catalogue shows it.
#[derive(Debug, Object)]
pub struct CatalogueAddonItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub description: String,
    pub monthly_price: Money,
    /// Offered to subscribers; false: archived.
    pub active: bool,
    /// Subscribers who have it connected now.
    pub subscribers: i64,
}

impl From<CatalogueAddon> for CatalogueAddonItem {
    fn from(a: CatalogueAddon) -> Self {
        Self {
            id: a.id,
            code: a.code,
            name: a.name,
            description: a.description,
            monthly_price: a.monthly_price.into(),
            active: a.active,
            subscribers: a.subscribers,
        }
    }
}

#[derive(Debug, Object)]
pub struct CatalogueAddonList {
    /// The ISP's currency: what new prices are in.
    pub currency: String,
    pub items: Vec<CatalogueAddonItem>,
}

/// A new add-on. The code cannot change later.
#[derive(Debug, Object)]
pub struct NewCatalogueAddon {
    pub code: Text,
    pub name: Text,
    /// Absent: none.
    pub description: Option<Text>,
    /// Minor units of the ISP's currency.
    pub monthly_price_minor: i64,
}

/// An add-on's new name, description and price (from the next monthly charge).
#[derive(Debug, Object)]
pub struct CatalogueAddonChange {
    pub name: Text,
    /// Absent: none.
    pub description: Option<Text>,
    /// Minor units of the ISP's currency.
    pub monthly_price_minor: i64,
}

/// An equipment item as the console's catalogue shows it.
#[derive(Debug, Object)]
pub struct CatalogueEquipmentItem {
    pub id: Uuid,
    pub code: String,
    pub kind: EquipmentKind,
    pub name: String,
    pub description: String,
    /// Absent: not for sale.
    #[oai(skip_serializing_if_is_none)]
    pub purchase_price: Option<Money>,
    /// Absent: not for rent.
    #[oai(skip_serializing_if_is_none)]
    pub monthly_rent: Option<Money>,
    /// Units on hand; absent: not counted.
    #[oai(skip_serializing_if_is_none)]
    pub stock: Option<i32>,
    /// Offered to subscribers; false: archived.
    pub active: bool,
    /// Rentals running now (they keep the rent they were ordered at).
    pub rented: i64,
}

impl From<CatalogueEquipment> for CatalogueEquipmentItem {
    fn from(e: CatalogueEquipment) -> Self {
        Self {
            id: e.id,
            code: e.code,
            kind: e.kind.into(),
            name: e.name,
            description: e.description,
            purchase_price: e.purchase_price.map(Into::into),
            monthly_rent: e.monthly_rent.map(Into::into),
            stock: e.stock,
            active: e.active,
            rented: e.rented,
        }
    }
}

#[derive(Debug, Object)]
pub struct CatalogueEquipmentList {
    /// The ISP's currency: what new prices are in.
    pub currency: String,
    pub items: Vec<CatalogueEquipmentItem>,
}

/// A new equipment item. The code cannot change later.
#[derive(Debug, Object)]
pub struct NewCatalogueEquipment {
    pub code: Text,
    pub kind: EquipmentKind,
    pub name: Text,
    /// Absent: none.
    pub description: Option<Text>,
    /// Minor units of the ISP's currency; absent or null: not for sale.
    #[oai(nullable)]
    pub purchase_price_minor: Option<i64>,
    /// Minor units of the ISP's currency; absent or null: not for rent.
    #[oai(nullable)]
    pub monthly_rent_minor: Option<i64>,
    /// Units on hand; absent or null: not counted.
    #[oai(nullable)]
    pub stock: Option<i32>,
}

/// An equipment item's new details. New orders pay the new prices.
#[derive(Debug, Object)]
pub struct CatalogueEquipmentChange {
    pub kind: EquipmentKind,
    pub name: Text,
    /// Absent: none.
    pub description: Option<Text>,
    #[oai(nullable)]
    pub purchase_price_minor: Option<i64>,
    #[oai(nullable)]
    pub monthly_rent_minor: Option<i64>,
    #[oai(nullable)]
    pub stock: Option<i32>,
}

fn tariff_draft(name: &Text, price: i64, speed: i32, upload: Option<i32>) -> TariffDraft {
    TariffDraft {
        name: name.trim().to_owned(),
        monthly_price_minor: price,
        speed_mbps: speed,
        upload_speed_mbps: upload,
    }
}

fn addon_draft(name: &Text, description: Option<&Text>, price: i64) -> AddonDraft {
    AddonDraft {
        name: name.trim().to_owned(),
        description: description.map_or_else(String::new, |d| d.trim().to_owned()),
        monthly_price_minor: price,
    }
}

fn equipment_draft(
    kind: EquipmentKind,
    name: &Text,
    description: Option<&Text>,
    purchase: Option<i64>,
    rent: Option<i64>,
    stock: Option<i32>,
) -> EquipmentDraft {
    EquipmentDraft {
        kind: kind.into(),
        name: name.trim().to_owned(),
        description: description.map_or_else(String::new, |d| d.trim().to_owned()),
        purchase_price_minor: purchase,
        monthly_rent_minor: rent,
        stock,
    }
}

// ---------------------------------------------------------------------------------------------
// Audit and the handlers' shared bodies

/// A kind of catalogue item as the console's API audits it.
trait Audited: CatalogueItem {
    /// The kind in the audit actions: `catalogue.<KIND>.create`, `.update`, `.archive`, ….
    const KIND: &'static str;
    /// The audit target: `<TARGET>:<id>`.
    const TARGET: &'static str;
    fn id(&self) -> Uuid;
    /// What the audit log records of the item (before and after a change).
    fn details(&self) -> Value;
}

impl Audited for CatalogueTariff {
    const KIND: &'static str = "tariff";
    const TARGET: &'static str = "tariff";

    fn id(&self) -> Uuid {
        self.id
    }

    fn details(&self) -> Value {
        json!({
            "code": self.code,
            "name": self.name,
            "monthly_price_minor": self.monthly_price.minor,
            "currency": self.monthly_price.currency.code(),
            "speed_mbps": self.speed_mbps,
            "upload_speed_mbps": self.upload_speed_mbps,
            "active": self.active,
        })
    }
}

impl Audited for CatalogueAddon {
    const KIND: &'static str = "addon";
    const TARGET: &'static str = "addon";

    fn id(&self) -> Uuid {
        self.id
    }

    fn details(&self) -> Value {
        json!({
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "monthly_price_minor": self.monthly_price.minor,
            "currency": self.monthly_price.currency.code(),
            "active": self.active,
        })
    }
}

impl Audited for CatalogueEquipment {
    const KIND: &'static str = "equipment";
    const TARGET: &'static str = "equipment_item";

    fn id(&self) -> Uuid {
        self.id
    }

    fn details(&self) -> Value {
        json!({
            "code": self.code,
            "kind": self.kind.as_str(),
            "name": self.name,
            "description": self.description,
            "purchase_price_minor": self.purchase_price.map(|m| m.minor),
            "monthly_rent_minor": self.monthly_rent.map(|m| m.minor),
            "currency": self.purchase_price.or(self.monthly_rent).map(|m| m.currency.code().to_owned()),
            "stock": self.stock,
            "active": self.active,
        })
    }
}

/// Records a change with what it was and what it became; nothing when nothing changed.
async fn audit_change<I: Audited>(
    tx: &mut TenantTx,
    staff: &Staff,
    action: &str,
    before: Option<&I>,
    after: &I,
) -> Result<(), ApiError> {
    let target = format!("{}:{}", I::TARGET, after.id());
    let before = before.map(Audited::details);
    let after = after.details();
    if before.as_ref() == Some(&after) {
        return Ok(());
    }
    let details = match before {
        Some(before) => json!({ "before": before, "after": after }),
        None => json!({ "after": after }),
    };
    let action = format!("catalogue.{}.{action}", I::KIND);
    staff.audit(tx, &action, target, details).await
}

/// Every item of a kind as the console lists them, with the ISP's currency.
async fn list_items<I: Audited, D: From<I>>(
    state: &AppState,
    auth: StaffAuth,
) -> Result<(String, Vec<D>), ApiError> {
    let staff = auth.0;
    staff.require(Permission::CatalogueManage).await?;
    let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
    let items = catalogue_items::<I>(&mut tx).await?;
    tx.commit().await?;
    Ok((
        staff.tenant.currency.code().to_owned(),
        items.into_iter().map(Into::into).collect(),
    ))
}

/// Creates an item priced in the ISP's currency and audits it.
async fn create<I: Audited>(
    state: &AppState,
    auth: StaffAuth,
    code: &Text,
    draft: &I::Draft,
) -> Result<I, ApiError> {
    let staff = auth.0;
    staff.require(Permission::CatalogueManage).await?;
    let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
    let item = create_item::<I>(&mut tx, code.trim(), draft, staff.tenant.currency).await?;
    audit_change(&mut tx, &staff, "create", None, &item).await?;
    tx.commit().await?;
    Ok(item)
}

/// Changes an item and audits it with before and after.
async fn update<I: Audited>(
    state: &AppState,
    auth: StaffAuth,
    id: Uuid,
    draft: &I::Draft,
) -> Result<I, ApiError> {
    let staff = auth.0;
    staff.require(Permission::CatalogueManage).await?;
    let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
    let (before, after) = update_item::<I>(&mut tx, id, draft, staff.tenant.currency).await?;
    audit_change(&mut tx, &staff, "update", Some(&before), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// Archives an item (`active` false) or puts it back on offer, audited.
async fn set_offered<I: Audited>(
    state: &AppState,
    auth: StaffAuth,
    id: Uuid,
    active: bool,
) -> Result<I, ApiError> {
    let staff = auth.0;
    staff.require(Permission::CatalogueManage).await?;
    let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
    let (before, after) = set_item_active::<I>(&mut tx, id, active).await?;
    let action = if active { "unarchive" } else { "archive" };
    audit_change(&mut tx, &staff, action, Some(&before), &after).await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// Responses

#[derive(ApiResponse)]
enum TariffCreated {
    #[oai(status = 201)]
    Created(Json<CatalogueTariffItem>),
}

#[derive(ApiResponse)]
enum AddonCreated {
    #[oai(status = 201)]
    Created(Json<CatalogueAddonItem>),
}

#[derive(ApiResponse)]
enum EquipmentCreated {
    #[oai(status = 201)]
    Created(Json<CatalogueEquipmentItem>),
}

#[OpenApi(tag = "Tag::Console")]
impl CatalogueApi {
    /// Every tariff (offered first, then archived) with how many subscribers are on each.
    #[oai(
        path = "/console/catalogue/tariffs",
        method = "get",
        operation_id = "listCatalogueTariffs"
    )]
    async fn list_tariffs(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<CatalogueTariffList>, ApiError> {
        let (currency, items) = list_items::<CatalogueTariff, _>(&state, auth).await?;
        Ok(Json(CatalogueTariffList { currency, items }))
    }

    /// Creates a tariff on offer, priced in the ISP's currency. Audited.
    #[oai(
        path = "/console/catalogue/tariffs",
        method = "post",
        operation_id = "createCatalogueTariff"
    )]
    async fn create_tariff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NewCatalogueTariff>,
    ) -> Result<TariffCreated, ApiError> {
        let b = body.0;
        let draft = tariff_draft(
            &b.name,
            b.monthly_price_minor,
            b.speed_mbps,
            b.upload_speed_mbps,
        );
        let t: CatalogueTariff = create(&state, auth, &b.code, &draft).await?;
        Ok(TariffCreated::Created(Json(t.into())))
    }

    /// Changes a tariff's name, price and speeds. The price applies from the next monthly
    /// charge; what was charged stays. Audited with before and after.
    #[oai(
        path = "/console/catalogue/tariffs/:id",
        method = "put",
        operation_id = "updateCatalogueTariff"
    )]
    async fn update_tariff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<CatalogueTariffChange>,
    ) -> Result<Json<CatalogueTariffItem>, ApiError> {
        let b = body.0;
        let draft = tariff_draft(
            &b.name,
            b.monthly_price_minor,
            b.speed_mbps,
            b.upload_speed_mbps,
        );
        let t: CatalogueTariff = update(&state, auth, id.0, &draft).await?;
        Ok(Json(t.into()))
    }

    /// Archives a tariff: no longer offered for new changes; subscribers on it keep it until
    /// they change. The last tariff on offer cannot be archived (409 `last_tariff`). Audited.
    #[oai(
        path = "/console/catalogue/tariffs/:id/archive",
        method = "post",
        operation_id = "archiveCatalogueTariff"
    )]
    async fn archive_tariff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CatalogueTariffItem>, ApiError> {
        let t: CatalogueTariff = set_offered(&state, auth, id.0, false).await?;
        Ok(Json(t.into()))
    }

    /// Puts an archived tariff back on offer. Audited.
    #[oai(
        path = "/console/catalogue/tariffs/:id/unarchive",
        method = "post",
        operation_id = "unarchiveCatalogueTariff"
    )]
    async fn unarchive_tariff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CatalogueTariffItem>, ApiError> {
        let t: CatalogueTariff = set_offered(&state, auth, id.0, true).await?;
        Ok(Json(t.into()))
    }

    /// Every add-on (offered first) with how many subscribers have it connected.
    #[oai(
        path = "/console/catalogue/addons",
        method = "get",
        operation_id = "listCatalogueAddons"
    )]
    async fn list_addons(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<CatalogueAddonList>, ApiError> {
        let (currency, items) = list_items::<CatalogueAddon, _>(&state, auth).await?;
        Ok(Json(CatalogueAddonList { currency, items }))
    }

    /// Creates an add-on on offer, priced in the ISP's currency. Audited.
    #[oai(
        path = "/console/catalogue/addons",
        method = "post",
        operation_id = "createCatalogueAddon"
    )]
    async fn create_addon(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NewCatalogueAddon>,
    ) -> Result<AddonCreated, ApiError> {
        let b = body.0;
        let draft = addon_draft(&b.name, b.description.as_ref(), b.monthly_price_minor);
        let a: CatalogueAddon = create(&state, auth, &b.code, &draft).await?;
        Ok(AddonCreated::Created(Json(a.into())))
    }

    /// Changes an add-on's name, description and price (from the next monthly charge). Audited.
    #[oai(
        path = "/console/catalogue/addons/:id",
        method = "put",
        operation_id = "updateCatalogueAddon"
    )]
    async fn update_addon(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<CatalogueAddonChange>,
    ) -> Result<Json<CatalogueAddonItem>, ApiError> {
        let b = body.0;
        let draft = addon_draft(&b.name, b.description.as_ref(), b.monthly_price_minor);
        let a: CatalogueAddon = update(&state, auth, id.0, &draft).await?;
        Ok(Json(a.into()))
    }

    /// Archives an add-on: it can no longer be connected; whoever has it keeps it. Audited.
    #[oai(
        path = "/console/catalogue/addons/:id/archive",
        method = "post",
        operation_id = "archiveCatalogueAddon"
    )]
    async fn archive_addon(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CatalogueAddonItem>, ApiError> {
        let a: CatalogueAddon = set_offered(&state, auth, id.0, false).await?;
        Ok(Json(a.into()))
    }

    /// Puts an archived add-on back on offer. Audited.
    #[oai(
        path = "/console/catalogue/addons/:id/unarchive",
        method = "post",
        operation_id = "unarchiveCatalogueAddon"
    )]
    async fn unarchive_addon(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CatalogueAddonItem>, ApiError> {
        let a: CatalogueAddon = set_offered(&state, auth, id.0, true).await?;
        Ok(Json(a.into()))
    }

    /// Every equipment item (offered first) with how many rentals of it are running.
    #[oai(
        path = "/console/catalogue/equipment",
        method = "get",
        operation_id = "listCatalogueEquipment"
    )]
    async fn list_equipment(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<CatalogueEquipmentList>, ApiError> {
        let (currency, items) = list_items::<CatalogueEquipment, _>(&state, auth).await?;
        Ok(Json(CatalogueEquipmentList { currency, items }))
    }

    /// Creates an equipment item on offer (sold, rented or both), priced in the ISP's
    /// currency. Audited.
    #[oai(
        path = "/console/catalogue/equipment",
        method = "post",
        operation_id = "createCatalogueEquipment"
    )]
    async fn create_equipment(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NewCatalogueEquipment>,
    ) -> Result<EquipmentCreated, ApiError> {
        let b = body.0;
        let draft = equipment_draft(
            b.kind,
            &b.name,
            b.description.as_ref(),
            b.purchase_price_minor,
            b.monthly_rent_minor,
            b.stock,
        );
        let e: CatalogueEquipment = create(&state, auth, &b.code, &draft).await?;
        Ok(EquipmentCreated::Created(Json(e.into())))
    }

    /// Changes an equipment item. New orders pay the new prices; running rentals keep theirs.
    /// Audited with before and after.
    #[oai(
        path = "/console/catalogue/equipment/:id",
        method = "put",
        operation_id = "updateCatalogueEquipment"
    )]
    async fn update_equipment(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<CatalogueEquipmentChange>,
    ) -> Result<Json<CatalogueEquipmentItem>, ApiError> {
        let b = body.0;
        let draft = equipment_draft(
            b.kind,
            &b.name,
            b.description.as_ref(),
            b.purchase_price_minor,
            b.monthly_rent_minor,
            b.stock,
        );
        let e: CatalogueEquipment = update(&state, auth, id.0, &draft).await?;
        Ok(Json(e.into()))
    }

    /// Archives an equipment item: it can no longer be ordered; placed orders go on. Audited.
    #[oai(
        path = "/console/catalogue/equipment/:id/archive",
        method = "post",
        operation_id = "archiveCatalogueEquipment"
    )]
    async fn archive_equipment(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CatalogueEquipmentItem>, ApiError> {
        let e: CatalogueEquipment = set_offered(&state, auth, id.0, false).await?;
        Ok(Json(e.into()))
    }

    /// Puts an archived equipment item back on offer. Audited.
    #[oai(
        path = "/console/catalogue/equipment/:id/unarchive",
        method = "post",
        operation_id = "unarchiveCatalogueEquipment"
    )]
    async fn unarchive_equipment(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CatalogueEquipmentItem>, ApiError> {
        let e: CatalogueEquipment = set_offered(&state, auth, id.0, true).await?;
        Ok(Json(e.into()))
    }
}
