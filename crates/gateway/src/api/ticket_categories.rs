//! Ticket categories the ISP edits: the cabinet's list (`GET /me/ticket-categories`, names in
//! the subscriber's language) and the console editor (`/console/ticket-categories…`: reading
//! needs `tickets.read`, changing needs `settings.manage`, like the desk settings). Every change
//! is audited with the category before and after.

use kabinet_access::Permission;
use kabinet_ticketing::CategoryKind;
use kabinet_ticketing::categories::{self, CategoryUpdate, NewCategory, TicketCategory};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::{Value, json};

use super::Tag;
use super::dto::Locale;
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

/// The cabinet's list.
pub struct MyTicketCategoriesApi;

/// The console editor.
pub struct TicketCategoriesConsoleApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (MyTicketCategoriesApi, TicketCategoriesConsoleApi);

pub fn apis() -> Apis {
    (MyTicketCategoriesApi, TicketCategoriesConsoleApi)
}

/// What a category is about: the nine built-in kinds. Drives behaviour (a connectivity or speed
/// ticket is linked to an outage incident covering the subscriber).
#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum TicketCategoryKind {
    Connectivity,
    Speed,
    Payments,
    Tariff,
    Addons,
    Equipment,
    Complaint,
    AccountSecurity,
    Other,
}

impl From<CategoryKind> for TicketCategoryKind {
    fn from(k: CategoryKind) -> Self {
        match k {
            CategoryKind::Connectivity => Self::Connectivity,
            CategoryKind::Speed => Self::Speed,
            CategoryKind::Payments => Self::Payments,
            CategoryKind::Tariff => Self::Tariff,
            CategoryKind::Addons => Self::Addons,
            CategoryKind::Equipment => Self::Equipment,
            CategoryKind::Complaint => Self::Complaint,
            CategoryKind::AccountSecurity => Self::AccountSecurity,
            CategoryKind::Other => Self::Other,
        }
    }
}

impl From<TicketCategoryKind> for CategoryKind {
    fn from(k: TicketCategoryKind) -> Self {
        match k {
            TicketCategoryKind::Connectivity => Self::Connectivity,
            TicketCategoryKind::Speed => Self::Speed,
            TicketCategoryKind::Payments => Self::Payments,
            TicketCategoryKind::Tariff => Self::Tariff,
            TicketCategoryKind::Addons => Self::Addons,
            TicketCategoryKind::Equipment => Self::Equipment,
            TicketCategoryKind::Complaint => Self::Complaint,
            TicketCategoryKind::AccountSecurity => Self::AccountSecurity,
            TicketCategoryKind::Other => Self::Other,
        }
    }
}

/// A category as the cabinet shows it.
#[derive(Debug, Object)]
pub struct PortalTicketCategory {
    pub code: String,
    pub kind: TicketCategoryKind,
    /// In the requested language (the ISP's own name, else the built-in one).
    pub name: String,
    /// Inactive ones are listed only with `include_inactive` (old tickets keep them).
    pub active: bool,
}

#[derive(Debug, Object)]
pub struct PortalTicketCategoryList {
    pub items: Vec<PortalTicketCategory>,
}

/// A category in the console.
#[derive(Debug, Object)]
pub struct ConsoleTicketCategory {
    pub code: String,
    pub kind: TicketCategoryKind,
    /// The ISP's Russian name; absent: the built-in translation.
    #[oai(skip_serializing_if_is_none)]
    pub name_ru: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub name_en: Option<String>,
    /// The name as shown in each language, built-in translation filled in.
    pub display_name_ru: String,
    pub display_name_en: String,
    pub position: i32,
    pub active: bool,
    pub built_in: bool,
    /// Tickets in the category (any status).
    pub tickets: i64,
}

impl From<&TicketCategory> for ConsoleTicketCategory {
    fn from(c: &TicketCategory) -> Self {
        Self {
            code: c.code.to_string(),
            kind: c.kind.into(),
            name_ru: c.name_ru.clone(),
            name_en: c.name_en.clone(),
            display_name_ru: c.name("ru"),
            display_name_en: c.name("en"),
            position: c.position,
            active: c.active,
            built_in: c.built_in,
            tickets: c.tickets,
        }
    }
}

#[derive(Debug, Object)]
pub struct ConsoleTicketCategoryList {
    pub items: Vec<ConsoleTicketCategory>,
}

/// A new category of the ISP's own, added at the end of the list.
#[derive(Debug, Object)]
pub struct NewTicketCategoryInput {
    /// Never changes: `^[a-z][a-z0-9_]{1,39}$`.
    #[oai(validator(pattern = r"^[a-z][a-z0-9_]{1,39}$"))]
    pub code: String,
    /// What it is about (drives behaviour); absent: `other`.
    pub kind: Option<TicketCategoryKind>,
    /// At least one of the names.
    #[oai(validator(max_length = 80))]
    pub name_ru: Option<Text>,
    #[oai(validator(max_length = 80))]
    pub name_en: Option<Text>,
}

/// A rename and the on/off switch. For a built-in an absent name means the built-in
/// translation; a custom category keeps at least one name.
#[derive(Debug, Object)]
pub struct TicketCategoryInput {
    #[oai(validator(max_length = 80))]
    pub name_ru: Option<Text>,
    #[oai(validator(max_length = 80))]
    pub name_en: Option<Text>,
    /// Off: hidden from new tickets; old tickets keep it.
    pub active: bool,
}

/// Every category code of the ISP, once each, in the new order.
#[derive(Debug, Object)]
pub struct TicketCategoryOrder {
    #[oai(validator(max_items = 100))]
    pub codes: Vec<String>,
}

#[derive(ApiResponse)]
enum CategoryCreated {
    #[oai(status = 201)]
    Created(Json<ConsoleTicketCategory>),
}

#[derive(ApiResponse)]
enum CategoryDeleted {
    #[oai(status = 204)]
    Deleted,
}

fn details(c: &TicketCategory) -> Value {
    json!({
        "code": c.code.as_str(),
        "kind": c.kind.as_str(),
        "name_ru": c.name_ru,
        "name_en": c.name_en,
        "position": c.position,
        "active": c.active,
    })
}

fn console_list(items: &[TicketCategory]) -> ConsoleTicketCategoryList {
    ConsoleTicketCategoryList {
        items: items.iter().map(Into::into).collect(),
    }
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl MyTicketCategoriesApi {
    /// The ISP's ticket categories in its order, for the new-ticket form (active ones) and for
    /// naming old tickets (`include_inactive`).
    #[oai(
        path = "/ticket-categories",
        method = "get",
        operation_id = "listMyTicketCategories"
    )]
    async fn portal_list(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        /// Names in this language; absent: the ISP's default language.
        lang: Query<Option<Locale>>,
        /// Also the switched-off categories.
        include_inactive: Query<Option<bool>>,
    ) -> Result<Json<PortalTicketCategoryList>, ApiError> {
        let me = auth.0;
        let locale = match lang.0 {
            Some(Locale::En) => "en",
            Some(Locale::Ru) => "ru",
            None => me.tenant.default_locale.as_str(),
        };
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let items = categories::list(&mut tx, !include_inactive.0.unwrap_or(false)).await?;
        tx.commit().await?;
        Ok(Json(PortalTicketCategoryList {
            items: items
                .iter()
                .map(|c| PortalTicketCategory {
                    code: c.code.to_string(),
                    kind: c.kind.into(),
                    name: c.name(locale),
                    active: c.active,
                })
                .collect(),
        }))
    }
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl TicketCategoriesConsoleApi {
    /// Every category of the ISP, active or not, in its order, with ticket counts.
    #[oai(
        path = "/ticket-categories",
        method = "get",
        operation_id = "listTicketCategories"
    )]
    async fn console_list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<ConsoleTicketCategoryList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = categories::list(&mut tx, false).await?;
        tx.commit().await?;
        Ok(Json(console_list(&items)))
    }

    /// Adds a category of the ISP's own. Audited.
    #[oai(
        path = "/ticket-categories",
        method = "post",
        operation_id = "createTicketCategory"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NewTicketCategoryInput>,
    ) -> Result<CategoryCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let body = body.0;
        let new = NewCategory {
            code: body.code,
            kind: body.kind.unwrap_or(TicketCategoryKind::Other).into(),
            name_ru: body.name_ru.map(|t| t.0),
            name_en: body.name_en.map(|t| t.0),
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let created = categories::create(&mut tx, &new).await?;
        staff
            .audit(
                &mut tx,
                "ticket_category.create",
                format!("ticket_category:{}", created.code),
                details(&created),
            )
            .await?;
        tx.commit().await?;
        Ok(CategoryCreated::Created(Json((&created).into())))
    }

    /// Renames a category and switches it on or off. Audited with before and after.
    #[oai(
        path = "/ticket-categories/:code",
        method = "put",
        operation_id = "updateTicketCategory"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(pattern = r"^[a-z][a-z0-9_]{1,39}$"))] code: Path<String>,
        body: Json<TicketCategoryInput>,
    ) -> Result<Json<ConsoleTicketCategory>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let body = body.0;
        let change = CategoryUpdate {
            name_ru: body.name_ru.map(|t| t.0),
            name_en: body.name_en.map(|t| t.0),
            active: body.active,
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let before = categories::get(&mut tx, &code.0).await?;
        let after = categories::update(&mut tx, &code.0, &change).await?;
        staff
            .audit(
                &mut tx,
                "ticket_category.update",
                format!("ticket_category:{}", code.0),
                json!({ "before": details(&before), "after": details(&after) }),
            )
            .await?;
        tx.commit().await?;
        Ok(Json((&after).into()))
    }

    /// Deletes a custom category nothing uses (no ticket, SLA policy, article or agent group);
    /// anything else is 409: deactivate it instead. Audited.
    #[oai(
        path = "/ticket-categories/:code",
        method = "delete",
        operation_id = "deleteTicketCategory"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(pattern = r"^[a-z][a-z0-9_]{1,39}$"))] code: Path<String>,
    ) -> Result<CategoryDeleted, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let deleted = categories::delete(&mut tx, &code.0).await?;
        staff
            .audit(
                &mut tx,
                "ticket_category.delete",
                format!("ticket_category:{}", code.0),
                details(&deleted),
            )
            .await?;
        tx.commit().await?;
        Ok(CategoryDeleted::Deleted)
    }

    /// Puts the categories in a new order (every code once). Audited.
    #[oai(
        path = "/ticket-category-order",
        method = "put",
        operation_id = "reorderTicketCategories"
    )]
    async fn reorder(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<TicketCategoryOrder>,
    ) -> Result<Json<ConsoleTicketCategoryList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let before = categories::list(&mut tx, false).await?;
        let after = categories::reorder(&mut tx, &body.0.codes).await?;
        staff
            .audit(
                &mut tx,
                "ticket_category.reorder",
                "ticket_categories".into(),
                json!({
                    "before": before.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
                    "after": after.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
                }),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(console_list(&after)))
    }
}
