//! The ISP's ticket categories (`ticket_categories`): the nine built-ins every ISP starts with
//! (seeded by migration for each tenant) plus the ISP's own.
//!
//! A category has a code ([`Category`], `^[a-z][a-z0-9_]{1,39}$`, never changed), a
//! [`CategoryKind`] (a built-in's is its own code; a custom category picks one, and the kind
//! drives behaviour: a connectivity- or speed-kind ticket is linked to an outage incident), names
//! in Russian and English (a built-in without one shows the built-in translation), a position
//! and an active flag. Deactivating hides a category from new tickets; tickets, SLA policies,
//! articles and agent groups that name it keep it. Only an unused custom category can be
//! deleted (the foreign keys from `tickets`, `ticket_sla_policies` and `kb_articles` refuse
//! the rest; agent groups are checked here).

use kabinet_db::{DbError, TenantTx, constraint_name, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::model::{Category, CategoryKind};

const NAME_MAX: usize = 80;
/// How many categories one ISP may have (built-ins included).
pub const CATEGORIES_MAX: i64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum CategoryError {
    #[error("ticket category not found")]
    NotFound,
    /// Not one of the ISP's categories, or (for a new ticket) not active.
    #[error("unknown ticket category {0:?}")]
    Unknown(String),
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("a ticket category with code {0:?} already exists")]
    CodeTaken(String),
    #[error("a built-in ticket category cannot be deleted; deactivate it instead")]
    BuiltIn,
    #[error("the ticket category is in use; deactivate it instead")]
    InUse,
    #[error("at most {CATEGORIES_MAX} ticket categories")]
    TooMany,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for CategoryError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

impl From<CategoryError> for crate::TicketingError {
    fn from(e: CategoryError) -> Self {
        match e {
            CategoryError::Unknown(code) => Self::UnknownCategory(code),
            CategoryError::Db(db) => Self::Db(db),
            other => Self::Invalid {
                field: "category",
                reason: other.to_string(),
            },
        }
    }
}

/// One category as the ISP configured it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketCategory {
    pub code: Category,
    pub kind: CategoryKind,
    /// NULL for a built-in: its built-in translation.
    pub name_ru: Option<String>,
    pub name_en: Option<String>,
    pub position: i32,
    pub active: bool,
    pub built_in: bool,
    /// Tickets in the category (any status).
    pub tickets: i64,
}

impl TicketCategory {
    /// The name to show in `locale` (`"ru"` or `"en"`): the ISP's own in that language, else
    /// in the other, else the built-in translation.
    pub fn name(&self, locale: &str) -> String {
        let (first, second) = if locale == "en" {
            (&self.name_en, &self.name_ru)
        } else {
            (&self.name_ru, &self.name_en)
        };
        first
            .clone()
            .or_else(|| second.clone())
            .unwrap_or_else(|| self.kind.built_in_name(locale).to_owned())
    }
}

impl CategoryKind {
    /// The built-in category's name, as the web app's translations have it.
    pub fn built_in_name(self, locale: &str) -> &'static str {
        let en = locale == "en";
        match self {
            Self::Connectivity if en => "No connection",
            Self::Connectivity => "Нет подключения",
            Self::Speed if en => "Speed",
            Self::Speed => "Скорость",
            Self::Payments if en => "Payments",
            Self::Payments => "Платежи",
            Self::Tariff if en => "Tariff",
            Self::Tariff => "Тариф",
            Self::Addons if en => "Add-on services",
            Self::Addons => "Дополнительные услуги",
            Self::Equipment if en => "Equipment",
            Self::Equipment => "Оборудование",
            Self::Complaint if en => "Complaint",
            Self::Complaint => "Жалоба",
            Self::AccountSecurity if en => "Account security",
            Self::AccountSecurity => "Безопасность аккаунта",
            Self::Other if en => "Other",
            Self::Other => "Другое",
        }
    }
}

/// A custom category as the console creates it.
#[derive(Clone, Debug)]
pub struct NewCategory {
    pub code: String,
    pub kind: CategoryKind,
    pub name_ru: Option<String>,
    pub name_en: Option<String>,
}

/// A rename and (de)activation. `None` names: the built-in translation (built-ins) — a custom
/// category keeps at least one name.
#[derive(Clone, Debug)]
pub struct CategoryUpdate {
    pub name_ru: Option<String>,
    pub name_en: Option<String>,
    pub active: bool,
}

const SELECT: &str = "SELECT c.code, c.kind, c.name_ru, c.name_en, c.position, c.active, c.built_in, \
       (SELECT count(*) FROM tickets t WHERE t.tenant_id = c.tenant_id AND t.category = c.code) AS tickets \
     FROM ticket_categories c WHERE c.tenant_id = $1";

fn from_row(r: &PgRow) -> Result<TicketCategory, CategoryError> {
    let code: String = r.try_get("code")?;
    let kind: String = r.try_get("kind")?;
    Ok(TicketCategory {
        code: Category::parse(&code).ok_or_else(|| CategoryError::Unknown(code.clone()))?,
        kind: CategoryKind::parse(&kind).unwrap_or(CategoryKind::Other),
        name_ru: r.try_get("name_ru")?,
        name_en: r.try_get("name_en")?,
        position: r.try_get("position")?,
        active: r.try_get("active")?,
        built_in: r.try_get("built_in")?,
        tickets: r.try_get("tickets")?,
    })
}

fn clean_name(field: &'static str, raw: Option<&str>) -> Result<Option<String>, CategoryError> {
    let Some(raw) = raw else { return Ok(None) };
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > NAME_MAX {
        return Err(CategoryError::Invalid {
            field,
            reason: format!("must be at most {NAME_MAX} characters"),
        });
    }
    Ok(Some(name))
}

fn names(
    name_ru: Option<&str>,
    name_en: Option<&str>,
    built_in: bool,
) -> Result<(Option<String>, Option<String>), CategoryError> {
    let ru = clean_name("name_ru", name_ru)?;
    let en = clean_name("name_en", name_en)?;
    if !built_in && ru.is_none() && en.is_none() {
        return Err(CategoryError::Invalid {
            field: "name_ru",
            reason: "a category needs a name in Russian or English".into(),
        });
    }
    Ok((ru, en))
}

/// Every category of the ISP, in its order; `active_only` for pickers.
pub async fn list(
    tx: &mut TenantTx,
    active_only: bool,
) -> Result<Vec<TicketCategory>, CategoryError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "{SELECT} AND (c.active OR NOT $2) ORDER BY c.position, c.code"
    ))
    .bind(tenant.as_uuid())
    .bind(active_only)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// One category.
pub async fn get(tx: &mut TenantTx, code: &str) -> Result<TicketCategory, CategoryError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!("{SELECT} AND c.code = $2"))
        .bind(tenant.as_uuid())
        .bind(code)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(CategoryError::NotFound)?;
    from_row(&row)
}

/// The kind of an active category, for a new ticket; anything else is
/// [`CategoryError::Unknown`].
pub async fn require_active(
    tx: &mut TenantTx,
    code: &Category,
) -> Result<CategoryKind, CategoryError> {
    let tenant = tx.tenant();
    let kind: Option<String> = sqlx::query_scalar(
        "SELECT kind FROM ticket_categories WHERE tenant_id = $1 AND code = $2 AND active",
    )
    .bind(tenant.as_uuid())
    .bind(code.as_str())
    .fetch_optional(tx.conn())
    .await?;
    kind.and_then(|k| CategoryKind::parse(&k))
        .ok_or_else(|| CategoryError::Unknown(code.to_string()))
}

/// Adds a custom category at the end of the list.
pub async fn create(tx: &mut TenantTx, new: &NewCategory) -> Result<TicketCategory, CategoryError> {
    let code = Category::parse(&new.code).ok_or_else(|| CategoryError::Invalid {
        field: "code",
        reason: "must match ^[a-z][a-z0-9_]{1,39}$".into(),
    })?;
    let (ru, en) = names(new.name_ru.as_deref(), new.name_en.as_deref(), false)?;
    let tenant = tx.tenant();
    // Serialises concurrent creations of one ISP, so the count and the position hold.
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('ticket_categories:' || $1::text, 0))",
    )
    .bind(tenant.as_uuid())
    .execute(tx.conn())
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO ticket_categories (tenant_id, code, kind, name_ru, name_en, position) \
         SELECT $1, $2, $3, $4, $5, LEAST(1000, COALESCE(max(position), 0) + 1) \
         FROM ticket_categories WHERE tenant_id = $1 \
         HAVING count(*) < $6",
    )
    .bind(tenant.as_uuid())
    .bind(code.as_str())
    .bind(new.kind.as_str())
    .bind(&ru)
    .bind(&en)
    .bind(CATEGORIES_MAX)
    .execute(tx.conn())
    .await
    .map_err(|e| match constraint_name(&e) {
        Some("ticket_categories_pkey") => CategoryError::CodeTaken(code.to_string()),
        _ => e.into(),
    })?
    .rows_affected();
    if inserted == 0 {
        return Err(CategoryError::TooMany);
    }
    get(tx, code.as_str()).await
}

/// Renames a category and turns it on or off.
pub async fn update(
    tx: &mut TenantTx,
    code: &str,
    change: &CategoryUpdate,
) -> Result<TicketCategory, CategoryError> {
    let before = get(tx, code).await?;
    let (ru, en) = names(
        change.name_ru.as_deref(),
        change.name_en.as_deref(),
        before.built_in,
    )?;
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE ticket_categories SET name_ru = $3, name_en = $4, active = $5, updated_at = now() \
         WHERE tenant_id = $1 AND code = $2",
    )
    .bind(tenant.as_uuid())
    .bind(code)
    .bind(&ru)
    .bind(&en)
    .bind(change.active)
    .execute(tx.conn())
    .await?;
    get(tx, code).await
}

/// Puts the categories in the given order: `codes` lists every category of the ISP once.
pub async fn reorder(
    tx: &mut TenantTx,
    codes: &[String],
) -> Result<Vec<TicketCategory>, CategoryError> {
    let current = list(tx, false).await?;
    let mut sorted: Vec<&str> = codes.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let mut known: Vec<&str> = current.iter().map(|c| c.code.as_str()).collect();
    known.sort_unstable();
    if sorted != known {
        return Err(CategoryError::Invalid {
            field: "codes",
            reason: "must list every category exactly once".into(),
        });
    }
    let tenant = tx.tenant();
    sqlx::query(
        "UPDATE ticket_categories c SET position = o.n::integer, updated_at = now() \
         FROM unnest($2::text[]) WITH ORDINALITY AS o (code, n) \
         WHERE c.tenant_id = $1 AND c.code = o.code AND c.position <> o.n",
    )
    .bind(tenant.as_uuid())
    .bind(codes)
    .execute(tx.conn())
    .await?;
    list(tx, false).await
}

/// Moves one category to `position` (0–1000), leaving the others where they are: what a
/// manifest's `position` means. The console's [`reorder`] numbers the whole list instead.
pub async fn place(
    tx: &mut TenantTx,
    code: &str,
    position: i32,
) -> Result<TicketCategory, CategoryError> {
    if !(0..=1000).contains(&position) {
        return Err(CategoryError::Invalid {
            field: "position",
            reason: "must be between 0 and 1000".into(),
        });
    }
    let tenant = tx.tenant();
    let moved = sqlx::query(
        "UPDATE ticket_categories SET position = $3, updated_at = now() \
         WHERE tenant_id = $1 AND code = $2",
    )
    .bind(tenant.as_uuid())
    .bind(code)
    .bind(position)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(CategoryError::NotFound);
    }
    get(tx, code).await
}

/// A category as a tenant manifest declares it (`[[ticket_categories]]`).
#[derive(Clone, Debug)]
pub struct CategorySpec {
    pub code: String,
    pub kind: CategoryKind,
    pub name_ru: Option<String>,
    pub name_en: Option<String>,
    /// `None`: a new category goes to the end of the list, an existing one stays put.
    pub position: Option<i32>,
    pub active: bool,
}

/// Makes one category match `spec` through the console's own steps ([`create`] for a new
/// one, [`update`] for names and the active flag, [`place`] for the position) and tells
/// whether anything changed; applying the same spec again changes nothing. A category's kind
/// never changes (the console cannot change it either): a different kind is refused.
pub async fn upsert(tx: &mut TenantTx, spec: &CategorySpec) -> Result<bool, CategoryError> {
    let existing = match get(tx, &spec.code).await {
        Ok(c) => Some(c),
        Err(CategoryError::NotFound) => None,
        Err(e) => return Err(e),
    };
    let mut changed = false;
    let current = match existing {
        Some(c) if c.kind != spec.kind => {
            return Err(CategoryError::Invalid {
                field: "kind",
                reason: format!(
                    "category {:?} is of kind {:?}; a category's kind cannot change",
                    spec.code,
                    c.kind.as_str()
                ),
            });
        }
        Some(c) => c,
        None => {
            changed = true;
            create(
                tx,
                &NewCategory {
                    code: spec.code.clone(),
                    kind: spec.kind,
                    name_ru: spec.name_ru.clone(),
                    name_en: spec.name_en.clone(),
                },
            )
            .await?
        }
    };
    let (ru, en) = names(
        spec.name_ru.as_deref(),
        spec.name_en.as_deref(),
        current.built_in,
    )?;
    if ru != current.name_ru || en != current.name_en || spec.active != current.active {
        update(
            tx,
            current.code.as_str(),
            &CategoryUpdate {
                name_ru: ru,
                name_en: en,
                active: spec.active,
            },
        )
        .await?;
        changed = true;
    }
    if let Some(position) = spec.position
        && position != current.position
    {
        place(tx, current.code.as_str(), position).await?;
        changed = true;
    }
    Ok(changed)
}

/// Deletes an unused custom category.
pub async fn delete(tx: &mut TenantTx, code: &str) -> Result<TicketCategory, CategoryError> {
    let before = get(tx, code).await?;
    if before.built_in {
        return Err(CategoryError::BuiltIn);
    }
    let tenant = tx.tenant();
    let in_groups: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agent_groups WHERE tenant_id = $1 AND $2 = ANY (categories))",
    )
    .bind(tenant.as_uuid())
    .bind(code)
    .fetch_one(tx.conn())
    .await?;
    if in_groups {
        return Err(CategoryError::InUse);
    }
    sqlx::query("DELETE FROM ticket_categories WHERE tenant_id = $1 AND code = $2")
        .bind(tenant.as_uuid())
        .bind(code)
        .execute(tx.conn())
        .await
        .map_err(|e| match constraint_name(&e) {
            Some(
                "tickets_category_fkey"
                | "ticket_sla_policies_category_fkey"
                | "kb_articles_category_fkey",
            ) => CategoryError::InUse,
            _ => e.into(),
        })?;
    Ok(before)
}

/// Whether PostgreSQL refused a write because a category column named no category of the ISP.
pub(crate) fn is_unknown_category(e: &sqlx::Error) -> bool {
    matches!(
        constraint_name(e),
        Some(
            "tickets_category_fkey"
                | "ticket_sla_policies_category_fkey"
                | "kb_articles_category_fkey"
                | "agent_groups_categories_fkey"
        )
    )
}

/// A write's error, a foreign-key refusal on a category column read as
/// [`crate::TicketingError::UnknownCategory`].
pub(crate) fn unknown_on_fk(e: sqlx::Error) -> crate::TicketingError {
    if is_unknown_category(&e) {
        crate::TicketingError::UnknownCategory("not one of the ISP's categories".into())
    } else {
        e.into()
    }
}
