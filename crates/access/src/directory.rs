//! Creating and updating principals (used by provisioning: manifests, signup, imports).
//!
//! Idempotent by natural key (account number, staff e-mail, operator e-mail): applying the same
//! input twice changes nothing, and an existing password is never re-hashed or replaced.

use kabinet_core::{StaffId, SubscriberId};
use kabinet_db::{PlatformTx, TenantTx, constraint_name, sqlx};
use uuid::Uuid;

use crate::login::normalize_phone;
use crate::{AccessError, Role, hash_password};

/// A subscriber as provisioning describes it.
#[derive(Clone, Debug)]
pub struct SubscriberSpec {
    pub account_number: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Set only when the subscriber has no password yet.
    pub initial_password: Option<String>,
}

/// Returns the subscriber's id and whether anything changed.
pub async fn upsert_subscriber(
    tx: &mut TenantTx,
    spec: &SubscriberSpec,
) -> Result<(SubscriberId, bool), AccessError> {
    let tenant = tx.tenant();
    let phone = match &spec.phone {
        Some(raw) => Some(normalize_phone(raw).ok_or_else(|| AccessError::Invalid {
            field: "phone",
            reason: format!("{raw:?} is not a phone number"),
        })?),
        None => None,
    };
    let email = spec.email.as_ref().map(|e| e.trim().to_lowercase());
    let existing: Option<(Uuid, bool)> = sqlx::query_as(
        "SELECT id, password_hash IS NOT NULL FROM subscribers WHERE tenant_id = $1 AND account_number = $2",
    )
    .bind(tenant.as_uuid())
    .bind(&spec.account_number)
    .fetch_optional(tx.conn())
    .await?;
    let needs_password = !existing.is_some_and(|(_, has)| has);
    let hash = match (&spec.initial_password, needs_password) {
        (Some(p), true) => Some(hash_password(p).await?),
        _ => None,
    };
    let id = existing.map(|(id, _)| id).unwrap_or_else(Uuid::now_v7);
    let changed = sqlx::query(
        "INSERT INTO subscribers (tenant_id, id, account_number, full_name, email, phone, address, password_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (tenant_id, account_number) DO UPDATE SET \
           full_name = EXCLUDED.full_name, email = EXCLUDED.email, phone = EXCLUDED.phone, \
           address = EXCLUDED.address, \
           password_hash = COALESCE(subscribers.password_hash, EXCLUDED.password_hash), updated_at = now() \
         WHERE (subscribers.full_name, subscribers.email, subscribers.phone, subscribers.address) \
               IS DISTINCT FROM (EXCLUDED.full_name, EXCLUDED.email, EXCLUDED.phone, EXCLUDED.address) \
            OR (subscribers.password_hash IS NULL AND EXCLUDED.password_hash IS NOT NULL)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&spec.account_number)
    .bind(&spec.full_name)
    .bind(&email)
    .bind(&phone)
    .bind(&spec.address)
    .bind(hash)
    .execute(tx.conn())
    .await
    .map_err(|e| match constraint_name(&e) {
        Some("subscribers_email_key") => AccessError::AlreadyTaken("e-mail"),
        Some("subscribers_phone_key") => AccessError::AlreadyTaken("phone"),
        Some(c) if c.starts_with("subscribers_") => AccessError::Invalid {
            field: "subscriber",
            reason: format!("violates {c}"),
        },
        _ => e.into(),
    })?
    .rows_affected()
        > 0;
    Ok((SubscriberId(id), changed))
}

/// A staff member as provisioning describes it.
#[derive(Clone, Debug)]
pub struct StaffSpec {
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub initial_password: Option<String>,
}

/// Returns the staff member's id and whether anything changed (profile or role grants).
pub async fn upsert_staff(
    tx: &mut TenantTx,
    spec: &StaffSpec,
) -> Result<(StaffId, bool), AccessError> {
    let tenant = tx.tenant();
    let email = spec.email.trim().to_lowercase();
    let existing: Option<(Uuid, bool)> = sqlx::query_as(
        "SELECT id, password_hash IS NOT NULL FROM staff WHERE tenant_id = $1 AND email = $2",
    )
    .bind(tenant.as_uuid())
    .bind(&email)
    .fetch_optional(tx.conn())
    .await?;
    let needs_password = !existing.is_some_and(|(_, has)| has);
    let hash = match (&spec.initial_password, needs_password) {
        (Some(p), true) => Some(hash_password(p).await?),
        _ => None,
    };
    let id = existing.map(|(id, _)| id).unwrap_or_else(Uuid::now_v7);
    let mut changed = sqlx::query(
        "INSERT INTO staff (tenant_id, id, email, display_name, password_hash) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, email) DO UPDATE SET display_name = EXCLUDED.display_name, \
           password_hash = COALESCE(staff.password_hash, EXCLUDED.password_hash), updated_at = now() \
         WHERE staff.display_name IS DISTINCT FROM EXCLUDED.display_name \
            OR (staff.password_hash IS NULL AND EXCLUDED.password_hash IS NOT NULL)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&email)
    .bind(&spec.display_name)
    .bind(hash)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0;

    let roles: Vec<&str> = spec.roles.iter().map(Role::as_str).collect();
    changed |= sqlx::query(
        "DELETE FROM staff_roles WHERE tenant_id = $1 AND staff_id = $2 AND NOT (role = ANY($3))",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&roles)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0;
    changed |= sqlx::query(
        "INSERT INTO staff_roles (tenant_id, staff_id, role) SELECT $1, $2, unnest($3::text[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&roles)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0;
    Ok((StaffId(id), changed))
}

/// Creates or updates a platform operator; returns whether anything changed.
pub async fn upsert_operator(
    tx: &mut PlatformTx,
    email: &str,
    display_name: &str,
    initial_password: Option<&str>,
) -> Result<bool, AccessError> {
    let email = email.trim().to_lowercase();
    let has_password: Option<bool> =
        sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM operators WHERE email = $1")
            .bind(&email)
            .fetch_optional(tx.conn())
            .await?;
    let hash = match (initial_password, has_password) {
        (Some(p), None | Some(false)) => Some(hash_password(p).await?),
        _ => None,
    };
    let changed = sqlx::query(
        "INSERT INTO operators (id, email, display_name, password_hash) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (email) DO UPDATE SET display_name = EXCLUDED.display_name, \
           password_hash = COALESCE(operators.password_hash, EXCLUDED.password_hash) \
         WHERE operators.display_name IS DISTINCT FROM EXCLUDED.display_name \
            OR (operators.password_hash IS NULL AND EXCLUDED.password_hash IS NOT NULL)",
    )
    .bind(Uuid::now_v7())
    .bind(&email)
    .bind(display_name)
    .bind(hash)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0;
    Ok(changed)
}

/// What a subscriber sees of their own profile.
#[derive(Clone, Debug)]
pub struct SubscriberProfile {
    pub id: SubscriberId,
    pub account_number: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

pub async fn subscriber_profile(
    tx: &mut TenantTx,
    subscriber: SubscriberId,
) -> Result<Option<SubscriberProfile>, AccessError> {
    let tenant = tx.tenant();
    let row: Option<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT account_number, full_name, email, phone FROM subscribers WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(subscriber.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(
        |(account_number, full_name, email, phone)| SubscriberProfile {
            id: subscriber,
            account_number,
            full_name,
            email,
            phone,
        },
    ))
}

/// A subscriber of the tenant by account number (the ISP's own key for a customer).
pub async fn find_subscriber_by_account(
    tx: &mut TenantTx,
    account_number: &str,
) -> Result<Option<SubscriberProfile>, AccessError> {
    let tenant = tx.tenant();
    let row: Option<(Uuid, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, full_name, email, phone FROM subscribers WHERE tenant_id = $1 AND account_number = $2",
    )
    .bind(tenant.as_uuid())
    .bind(account_number)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|(id, full_name, email, phone)| SubscriberProfile {
        id: SubscriberId(id),
        account_number: account_number.to_owned(),
        full_name,
        email,
        phone,
    }))
}
