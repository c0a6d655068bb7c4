//! Staff invitations by e-mail: someone with `staff.manage` invites an address with a built-in
//! or custom role; the invitee follows the link on the ISP's own host, chooses a name and a
//! password and becomes active staff with that role, signed in.
//!
//! The token pattern is password reset's: a random token in the link, only its SHA-256 stored,
//! 7 days, single use. [`invite`] writes the invitation and its letter (mail outbox) in one
//! transaction; a second invitation of the same address replaces the open one, and [`resend`]
//! issues a new token (the old link dies) at most once a minute. Nobody invites with a role
//! that holds more than they do, the same rule as role assignment ([`crate::roles`]).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use kabinet_core::{StaffId, TenantId};
use kabinet_db::{Database, TenantTx, sqlx};
use kabinet_mail::{HtmlLetter, Language, Mail};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use crate::account_security::check_new_password;
use crate::audit::{AuditEntry, record};
use crate::login::open_staff_session;
use crate::password_reset::ResetSite;
use crate::roles::{RoleAssignment, effective_permissions};
use crate::sessions::{NewSession, SessionPolicy, plausible, random_token, token_hash};
use crate::{AccessError, ClientInfo, Permission, Role, hash_password};

/// How long an invitation link lives.
pub const INVITATION_TTL_DAYS: i64 = 7;
/// The least time between two letters of one invitation.
pub const RESEND_INTERVAL_SECS: i64 = 60;

/// Why an invitation link does not work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Unknown token, or one replaced by a newer letter.
    Unknown,
    Accepted,
    Expired,
    Revoked,
}

#[derive(Debug, thiserror::Error)]
pub enum InvitationError {
    #[error("this address belongs to a staff member of this ISP already")]
    AlreadyStaff,
    #[error("this address belongs to a deactivated staff member; reactivate them instead")]
    StaffDeactivated,
    #[error("{}", match .0 {
        LinkState::Unknown => "this invitation link is not valid; a newer letter may have replaced it",
        LinkState::Accepted => "this invitation has already been accepted; sign in instead",
        LinkState::Expired => "this invitation has expired; ask for a new one",
        LinkState::Revoked => "this invitation was withdrawn",
    })]
    Link(LinkState),
    #[error("the invitation was sent moments ago; try again in {retry_after_secs} seconds")]
    ResendTooSoon { retry_after_secs: u64 },
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<sqlx::Error> for InvitationError {
    fn from(e: sqlx::Error) -> Self {
        Self::Access(e.into())
    }
}

impl From<kabinet_db::DbError> for InvitationError {
    fn from(e: kabinet_db::DbError) -> Self {
        Self::Access(e.into())
    }
}

impl From<kabinet_mail::MailError> for InvitationError {
    fn from(e: kabinet_mail::MailError) -> Self {
        Self::Access(e.into())
    }
}

/// The role an invitation grants, as shown.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitedRole {
    BuiltIn(#[serde(serialize_with = "role_name")] Role),
    Custom { id: Uuid, name: String },
}

fn role_name<S: serde::Serializer>(r: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.as_str())
}

/// An open invitation (not accepted, not revoked; possibly expired).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: InvitedRole,
    #[serde(skip)]
    pub invited_by: String,
    #[serde(skip)]
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub sends: i32,
    pub expires_at: DateTime<Utc>,
}

const SELECT: &str = "\
    SELECT i.id, i.email, i.role, i.custom_role_id, c.name AS custom_name, \
           s.display_name AS invited_by, i.created_at, i.sent_at, i.sends, i.expires_at \
    FROM staff_invitations i \
    LEFT JOIN custom_roles c ON c.tenant_id = i.tenant_id AND c.id = i.custom_role_id \
    JOIN staff s ON s.tenant_id = i.tenant_id AND s.id = i.invited_by \
    WHERE i.tenant_id = $1";

fn invited_role(row: &sqlx::postgres::PgRow) -> Result<InvitedRole, AccessError> {
    let role: Option<String> = row.try_get("role")?;
    let custom: Option<Uuid> = row.try_get("custom_role_id")?;
    let name: Option<String> = row.try_get("custom_name")?;
    match (role.as_deref().and_then(Role::parse), custom) {
        (Some(r), _) => Ok(InvitedRole::BuiltIn(r)),
        (None, Some(id)) => Ok(InvitedRole::Custom {
            id,
            name: name.unwrap_or_default(),
        }),
        (None, None) => Err(AccessError::NotFound),
    }
}

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Invitation, AccessError> {
    Ok(Invitation {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: invited_role(row)?,
        invited_by: row.try_get("invited_by")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
        sends: row.try_get("sends")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// The ISP's open invitations, newest first.
pub async fn list_pending(tx: &mut TenantTx) -> Result<Vec<Invitation>, InvitationError> {
    let tenant = tx.tenant();
    let rows = sqlx::query(&format!(
        "{SELECT} AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
         ORDER BY i.created_at DESC, i.id DESC"
    ))
    .bind(tenant.as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

async fn open_invitation(tx: &mut TenantTx, id: Uuid) -> Result<Invitation, InvitationError> {
    let tenant = tx.tenant();
    sqlx::query(
        "SELECT 1 FROM staff_invitations WHERE tenant_id = $1 AND id = $2 \
           AND accepted_at IS NULL AND revoked_at IS NULL FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AccessError::NotFound)?;
    let row = sqlx::query(&format!("{SELECT} AND i.id = $2"))
        .bind(tenant.as_uuid())
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    Ok(from_row(&row)?)
}

/// The permissions `role` grants; a custom role is locked so it cannot grow meanwhile.
async fn granted(
    tx: &mut TenantTx,
    role: RoleAssignment,
) -> Result<BTreeSet<String>, InvitationError> {
    match role {
        RoleAssignment::BuiltIn(r) => Ok(r.permissions().iter().map(Permission::name).collect()),
        RoleAssignment::Custom(id) => {
            let tenant = tx.tenant();
            let names: Option<Vec<String>> = sqlx::query_scalar(
                "SELECT permissions FROM custom_roles WHERE tenant_id = $1 AND id = $2 \
                 FOR SHARE",
            )
            .bind(tenant.as_uuid())
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
            let names = names.ok_or(AccessError::NotFound)?;
            Ok(names
                .iter()
                .filter_map(|n| Permission::parse(n))
                .map(|p| p.name())
                .collect())
        }
    }
}

/// Refuses a role that holds anything `actor` does not.
async fn ensure_within(
    tx: &mut TenantTx,
    actor: StaffId,
    role: RoleAssignment,
) -> Result<(), InvitationError> {
    let wanted = granted(tx, role).await?;
    let held = effective_permissions(tx, actor).await?;
    if !wanted.is_subset(&held) {
        return Err(AccessError::BeyondOwnPermissions.into());
    }
    Ok(())
}

fn assignment(role: &InvitedRole) -> RoleAssignment {
    match role {
        InvitedRole::BuiltIn(r) => RoleAssignment::BuiltIn(*r),
        InvitedRole::Custom { id, .. } => RoleAssignment::Custom(*id),
    }
}

/// Normalises and checks an address to invite.
pub fn normalize_email(raw: &str) -> Result<String, AccessError> {
    let email = raw.trim().to_lowercase();
    if !kabinet_core::is_plausible_email(&email) {
        return Err(AccessError::Invalid {
            field: "email",
            reason: "must be an e-mail address".into(),
        });
    }
    Ok(email)
}

/// Invites `email` with `role` and queues the letter, in `tx`. An open invitation of the same
/// address is replaced (its link dies). Returns the invitation and the one it replaced.
pub async fn invite(
    tx: &mut TenantTx,
    actor: StaffId,
    email: &str,
    role: RoleAssignment,
    site: &ResetSite,
) -> Result<(Invitation, Option<Uuid>), InvitationError> {
    let email = normalize_email(email)?;
    ensure_within(tx, actor, role).await?;
    let tenant = tx.tenant();
    let existing: Option<bool> =
        sqlx::query_scalar("SELECT active FROM staff WHERE tenant_id = $1 AND email = $2")
            .bind(tenant.as_uuid())
            .bind(&email)
            .fetch_optional(tx.conn())
            .await?;
    match existing {
        Some(true) => return Err(InvitationError::AlreadyStaff),
        Some(false) => return Err(InvitationError::StaffDeactivated),
        None => {}
    }
    let replaced: Option<Uuid> = sqlx::query_scalar(
        "UPDATE staff_invitations SET revoked_at = now() \
         WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL \
         RETURNING id",
    )
    .bind(tenant.as_uuid())
    .bind(&email)
    .fetch_optional(tx.conn())
    .await?;
    let id = Uuid::now_v7();
    let token = random_token();
    let (built_in, custom) = match role {
        RoleAssignment::BuiltIn(r) => (Some(r.as_str()), None),
        RoleAssignment::Custom(id) => (None, Some(id)),
    };
    let expires_at = Utc::now() + Duration::days(INVITATION_TTL_DAYS);
    sqlx::query(
        "INSERT INTO staff_invitations \
           (tenant_id, id, email, role, custom_role_id, token_hash, invited_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&email)
    .bind(built_in)
    .bind(custom)
    .bind(token_hash(&token))
    .bind(actor.as_uuid())
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    let invitation = open_invitation(tx, id).await?;
    send(tx, &invitation, &token, site).await?;
    Ok((invitation, replaced))
}

/// Sends the invitation again with a new token (the previous link dies) and a fresh expiry.
/// At most once a minute.
pub async fn resend(
    tx: &mut TenantTx,
    actor: StaffId,
    id: Uuid,
    site: &ResetSite,
) -> Result<Invitation, InvitationError> {
    let before = open_invitation(tx, id).await?;
    ensure_within(tx, actor, assignment(&before.role)).await?;
    let since = (Utc::now() - before.sent_at).num_seconds();
    if since < RESEND_INTERVAL_SECS {
        return Err(InvitationError::ResendTooSoon {
            retry_after_secs: u64::try_from(RESEND_INTERVAL_SECS - since.max(0)).unwrap_or(1),
        });
    }
    let tenant = tx.tenant();
    let token = random_token();
    sqlx::query(
        "UPDATE staff_invitations SET token_hash = $3, sent_at = now(), sends = sends + 1, \
           expires_at = $4 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(token_hash(&token))
    .bind(Utc::now() + Duration::days(INVITATION_TTL_DAYS))
    .execute(tx.conn())
    .await?;
    let after = open_invitation(tx, id).await?;
    send(tx, &after, &token, site).await?;
    Ok(after)
}

/// Withdraws an open invitation: its link stops working. Returns it as it was.
pub async fn revoke(
    tx: &mut TenantTx,
    actor: StaffId,
    id: Uuid,
) -> Result<Invitation, InvitationError> {
    let before = open_invitation(tx, id).await?;
    ensure_within(tx, actor, assignment(&before.role)).await?;
    sqlx::query("UPDATE staff_invitations SET revoked_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(before)
}

async fn send(
    tx: &mut TenantTx,
    invitation: &Invitation,
    token: &str,
    site: &ResetSite,
) -> Result<(), InvitationError> {
    let link = format!("{}/console/invite?token={token}", site.base_url);
    let key = format!("invite:{}:{}", invitation.id, invitation.sends);
    kabinet_mail::enqueue_once(tx, &key, invitation_mail(site, invitation, &link)).await?;
    Ok(())
}

/// What the invitee sees before accepting.
#[derive(Clone, Debug)]
pub struct InvitationPreview {
    pub email: String,
    pub role: InvitedRole,
    pub invited_by: String,
    pub expires_at: DateTime<Utc>,
}

/// Finds the invitation behind a link's token, locked when it is about to be spent.
async fn by_token(
    tx: &mut TenantTx,
    token: &str,
    lock: bool,
) -> Result<Invitation, InvitationError> {
    if !plausible(token) {
        return Err(InvitationError::Link(LinkState::Unknown));
    }
    let tenant = tx.tenant();
    let state: Option<(Uuid, bool, bool, bool)> = sqlx::query_as(&format!(
        "SELECT id, accepted_at IS NOT NULL, revoked_at IS NOT NULL, expires_at <= now() \
             FROM staff_invitations \
             WHERE tenant_id = $1 AND token_hash = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    ))
    .bind(tenant.as_uuid())
    .bind(token_hash(token))
    .fetch_optional(tx.conn())
    .await?;
    let link = |s| Err(InvitationError::Link(s));
    let id = match state {
        None => return link(LinkState::Unknown),
        Some((_, true, _, _)) => return link(LinkState::Accepted),
        Some((_, _, true, _)) => return link(LinkState::Revoked),
        Some((_, _, _, true)) => return link(LinkState::Expired),
        Some((id, false, false, false)) => id,
    };
    let row = sqlx::query(&format!("{SELECT} AND i.id = $2"))
        .bind(tenant.as_uuid())
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    Ok(from_row(&row)?)
}

/// What an invitation link offers, or why it does not work.
pub async fn preview(tx: &mut TenantTx, token: &str) -> Result<InvitationPreview, InvitationError> {
    let invitation = by_token(tx, token, false).await?;
    Ok(InvitationPreview {
        email: invitation.email,
        role: invitation.role,
        invited_by: invitation.invited_by,
        expires_at: invitation.expires_at,
    })
}

/// What the invitee chose.
#[derive(Clone, Copy, Debug)]
pub struct Acceptance<'a> {
    pub display_name: &'a str,
    pub password: &'a str,
}

/// Spends an invitation: creates the staff member with the invited role, active, and signs them
/// in (where the ISP requires two-factor sign-in, the session can only set it up). Audited.
pub async fn accept(
    db: &Database,
    tenant: TenantId,
    token: &str,
    acceptance: Acceptance<'_>,
    policy: SessionPolicy,
    client: &ClientInfo,
) -> Result<(StaffId, NewSession), InvitationError> {
    let name = acceptance.display_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AccessError::Invalid {
            field: "display_name",
            reason: "must be 1 to 200 characters".into(),
        }
        .into());
    }
    let mut tx = db.tenant_tx(tenant).await?;
    let invitation = by_token(&mut tx, token, true).await?;
    let id = invitation.id;
    check_new_password(acceptance.password, "", &[invitation.email.as_str()]).map_err(
        |e| match e {
            AccessError::Invalid { reason, .. } => AccessError::Invalid {
                field: "password",
                reason,
            },
            other => other,
        },
    )?;
    let hash = hash_password(acceptance.password).await?;
    let staff = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO staff (tenant_id, id, email, display_name, password_hash, active) \
         VALUES ($1, $2, $3, $4, $5, true)",
    )
    .bind(tenant.as_uuid())
    .bind(staff)
    .bind(&invitation.email)
    .bind(name)
    .bind(hash)
    .execute(tx.conn())
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("staff_email_key") => {
            InvitationError::AlreadyStaff
        }
        _ => e.into(),
    })?;
    match &invitation.role {
        InvitedRole::BuiltIn(r) => {
            sqlx::query("INSERT INTO staff_roles (tenant_id, staff_id, role) VALUES ($1, $2, $3)")
                .bind(tenant.as_uuid())
                .bind(staff)
                .bind(r.as_str())
                .execute(tx.conn())
                .await?;
        }
        InvitedRole::Custom { id, .. } => {
            sqlx::query(
                "INSERT INTO staff_custom_roles (tenant_id, staff_id, role_id) VALUES ($1, $2, $3)",
            )
            .bind(tenant.as_uuid())
            .bind(staff)
            .bind(id)
            .execute(tx.conn())
            .await?;
        }
    }
    sqlx::query(
        "UPDATE staff_invitations SET accepted_at = now(), staff_id = $3 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(staff)
    .execute(tx.conn())
    .await?;
    let staff = StaffId(staff);
    record(
        &mut tx,
        AuditEntry {
            staff: Some(staff),
            action: "invitation.accept",
            target: format!("invitation:{id}"),
            details: json!({
                "email": invitation.email,
                "role": invitation.role,
                "staff": staff.to_string(),
            }),
        },
        client,
    )
    .await?;
    let session = open_staff_session(&mut tx, staff, policy, client).await?;
    tx.commit().await?;
    Ok((staff, session))
}

/// A built-in role's name in a letter.
fn role_label(role: Role, language: Language) -> &'static str {
    match (language, role) {
        (Language::Ru, Role::Owner) => "владелец",
        (Language::Ru, Role::Admin) => "администратор",
        (Language::Ru, Role::SupportAgent) => "специалист поддержки",
        (Language::Ru, Role::BillingClerk) => "бухгалтер",
        (Language::Ru, Role::Technician) => "техник",
        (Language::Ru, Role::ReadOnly) => "только просмотр",
        (Language::En, Role::Owner) => "owner",
        (Language::En, Role::Admin) => "administrator",
        (Language::En, Role::SupportAgent) => "support agent",
        (Language::En, Role::BillingClerk) => "billing clerk",
        (Language::En, Role::Technician) => "technician",
        (Language::En, Role::ReadOnly) => "read only",
    }
}

/// The letter, in the ISP's language, signed by the ISP.
fn invitation_mail(site: &ResetSite, invitation: &Invitation, link: &str) -> Mail {
    let isp = &site.isp_name;
    let role = match &invitation.role {
        InvitedRole::BuiltIn(r) => role_label(*r, site.language).to_owned(),
        InvitedRole::Custom { name, .. } => name.clone(),
    };
    let who = &invitation.invited_by;
    let (subject, greeting, what, action, expiry, ignore, button) = match site.language {
        Language::Ru => (
            format!("Приглашение в консоль — {isp}"),
            "Здравствуйте!".to_owned(),
            format!("{who} приглашает вас в консоль сотрудников {isp} с ролью «{role}»."),
            "Чтобы принять приглашение, откройте ссылку, укажите своё имя и придумайте пароль:"
                .to_owned(),
            format!("Ссылка действует {INVITATION_TTL_DAYS} дней и работает один раз."),
            "Если вы не ждали этого письма, просто не открывайте ссылку.",
            "Принять приглашение",
        ),
        Language::En => (
            format!("You're invited to the {isp} console"),
            "Hello,".to_owned(),
            format!("{who} invites you to the {isp} staff console with the role “{role}”."),
            "To accept, open the link, enter your name and choose a password:".to_owned(),
            format!("The link works once, for {INVITATION_TTL_DAYS} days."),
            "If you did not expect this e-mail, ignore it.",
            "Accept the invitation",
        ),
    };
    let text =
        format!("{greeting}\n\n{what}\n{action}\n\n{link}\n\n{expiry}\n{ignore}\n\n— {isp}\n");
    let html = HtmlLetter::new(&greeting)
        .paragraph(&what)
        .paragraph(&action)
        .button(link, button)
        .link_text(link)
        .note(&expiry)
        .note(ignore)
        .signature(&[isp])
        .finish();
    Mail {
        to: invitation.email.clone(),
        from_name: Some(isp.clone()),
        reply_to: site.support_email.clone(),
        subject,
        text,
        html: Some(html),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(role: InvitedRole) -> Invitation {
        Invitation {
            id: Uuid::nil(),
            email: "new@example.com".into(),
            role,
            invited_by: "Ольга <Owner>".into(),
            created_at: Utc::now(),
            sent_at: Utc::now(),
            sends: 1,
            expires_at: Utc::now(),
        }
    }

    fn site(language: Language) -> ResetSite {
        ResetSite {
            base_url: "http://demo.localhost:8080".into(),
            isp_name: "Демо Телеком".into(),
            support_email: Some("support@demo.example".into()),
            support_phone: None,
            language,
        }
    }

    #[test]
    fn the_letter_names_the_isp_the_role_and_carries_the_link() {
        let link = "http://demo.localhost:8080/console/invite?token=abc";
        let ru = invitation_mail(
            &site(Language::Ru),
            &invitation(InvitedRole::BuiltIn(Role::SupportAgent)),
            link,
        );
        assert_eq!(ru.subject, "Приглашение в консоль — Демо Телеком");
        assert_eq!(ru.to, "new@example.com");
        assert!(ru.text.contains("«специалист поддержки»"), "{}", ru.text);
        assert!(
            ru.text.contains(link) && ru.text.contains("7 дней"),
            "{}",
            ru.text
        );
        let html = ru.html.expect("html");
        assert!(html.contains("Ольга &lt;Owner&gt;"), "{html}");

        let en = invitation_mail(
            &site(Language::En),
            &invitation(InvitedRole::Custom {
                id: Uuid::nil(),
                name: "Night shift".into(),
            }),
            link,
        );
        assert!(en.text.contains("“Night shift”"), "{}", en.text);
        assert!(en.subject.contains("Демо Телеком"), "{}", en.subject);
    }

    #[test]
    fn addresses_are_normalised() {
        assert_eq!(
            normalize_email("  New.Person@Example.COM ").expect("ok"),
            "new.person@example.com"
        );
        assert!(normalize_email("not an address").is_err());
        assert!(normalize_email("").is_err());
    }
}
