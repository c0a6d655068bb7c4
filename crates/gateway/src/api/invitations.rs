//! Staff invitations by e-mail: the console's pending list (`/console/invitations…`, needs
//! `staff.manage`; every change audited) and the invitee's link on the ISP's own host
//! (`/auth/invitation…`, signed out).

use chrono::{DateTime, Utc};
use kabinet_access::Permission;
use kabinet_access::audit::change;
use kabinet_access::invitations::{self, Acceptance, Invitation, InvitedRole};
use kabinet_access::login::LoginOutcome;
use kabinet_access::password_reset::{Language, ResetSite};
use kabinet_access::roles::RoleAssignment;
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::session::{LoginAnswered, login_answered};
use super::staff_access::{BuiltInRole, RoleRef};
use super::text::Text;
use crate::AppState;
use crate::auth::{Staff, StaffAuth, check_origin, client_info};
use crate::problem::ApiError;
use crate::site::SiteCtx;

pub struct InvitationsApi;

pub struct InvitationLinkApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = (InvitationsApi, InvitationLinkApi);

pub fn apis() -> Apis {
    (InvitationsApi, InvitationLinkApi)
}

/// The role of an invitation: a built-in one, or a custom one with its name.
#[derive(Debug, Object)]
pub struct InvitedRoleView {
    #[oai(skip_serializing_if_is_none)]
    pub built_in: Option<BuiltInRole>,
    #[oai(skip_serializing_if_is_none)]
    pub custom_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub custom_name: Option<String>,
}

impl From<InvitedRole> for InvitedRoleView {
    fn from(r: InvitedRole) -> Self {
        match r {
            InvitedRole::BuiltIn(role) => Self {
                built_in: Some(role.into()),
                custom_id: None,
                custom_name: None,
            },
            InvitedRole::Custom { id, name } => Self {
                built_in: None,
                custom_id: Some(id),
                custom_name: Some(name),
            },
        }
    }
}

/// An open invitation.
#[derive(Debug, Object)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: InvitedRoleView,
    /// Who invited (display name).
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    /// The last letter; a resend is possible a minute later.
    pub sent_at: DateTime<Utc>,
    /// Letters sent so far.
    pub sends: i32,
    pub expires_at: DateTime<Utc>,
    /// The link has expired; a resend renews it.
    pub expired: bool,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role.into(),
            invited_by: i.invited_by,
            created_at: i.created_at,
            sent_at: i.sent_at,
            sends: i.sends,
            expired: i.expires_at <= Utc::now(),
            expires_at: i.expires_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct InvitationList {
    pub items: Vec<InvitationView>,
}

#[derive(Debug, Object)]
pub struct NewInvitation {
    #[oai(validator(min_length = 3, max_length = 254))]
    pub email: Text,
    /// The role the invitee gets: only within your own permissions.
    pub role: RoleRef,
}

#[derive(ApiResponse)]
enum InvitationCreated {
    #[oai(status = 201)]
    Created(Json<InvitationView>),
}

#[derive(ApiResponse)]
enum InvitationRevoked {
    #[oai(status = 204)]
    Revoked,
}

#[derive(Debug, Object)]
pub struct InvitationToken {
    /// The `token` of the link in the letter.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub token: Text,
}

/// What the invitee sees before accepting.
#[derive(Debug, Object)]
pub struct InvitationPreviewView {
    pub isp_name: String,
    pub email: String,
    pub role: InvitedRoleView,
    pub invited_by: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct InvitationAcceptance {
    /// The `token` of the link in the letter.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub token: Text,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub display_name: Text,
    /// 10 to 1024 characters; not the e-mail address.
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub password: Text,
}

/// The site the request came to: the letter speaks for this ISP and links back to its host.
fn letter_site(req: &Request, state: &AppState, site: &SiteCtx) -> Result<ResetSite, ApiError> {
    let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
    Ok(ResetSite {
        base_url: super::password_reset::base_url(req, state, site),
        isp_name: tenant.display_name.clone(),
        support_email: tenant.branding.support_email.clone(),
        support_phone: tenant.branding.support_phone.clone(),
        language: match tenant.default_locale {
            kabinet_tenancy::Locale::Ru => Language::Ru,
            kabinet_tenancy::Locale::En => Language::En,
        },
    })
}

async fn audit(
    tx: &mut kabinet_db::TenantTx,
    staff: &Staff,
    action: &str,
    id: Uuid,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    staff
        .audit(tx, action, format!("invitation:{id}"), details)
        .await
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl InvitationsApi {
    /// Open invitations (not accepted, not revoked; expired ones too, flagged), newest first.
    #[oai(
        path = "/invitations",
        method = "get",
        operation_id = "listInvitations"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<InvitationList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = invitations::list_pending(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(InvitationList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Invites an e-mail address with a role; the letter (in the ISP's language, linking to this
    /// host) goes out through the mail outbox. An open invitation of the same address is
    /// replaced. Someone already on the staff is `already_staff` (deactivated:
    /// `staff_deactivated`); a role beyond your own permissions is `beyond_own_permissions`.
    /// Audited.
    #[oai(
        path = "/invitations",
        method = "post",
        operation_id = "createInvitation"
    )]
    async fn create(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        auth: StaffAuth,
        body: Json<NewInvitation>,
    ) -> Result<InvitationCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let letter = letter_site(req, &state, &site)?;
        let role = match &body.0.role {
            RoleRef::BuiltIn(r) => RoleAssignment::BuiltIn(r.role.into()),
            RoleRef::Custom(r) => RoleAssignment::Custom(r.id),
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (invitation, replaced) =
            invitations::invite(&mut tx, staff.id, &body.0.email, role, &letter).await?;
        let mut details = change(&serde_json::Value::Null, &invitation);
        details["replaced"] = json!(replaced);
        audit(&mut tx, &staff, "invitation.create", invitation.id, details).await?;
        tx.commit().await?;
        Ok(InvitationCreated::Created(Json(invitation.into())))
    }

    /// Sends the invitation again with a new link (the previous one stops working) valid for 7
    /// more days. At most once a minute (`resend_too_soon`). Audited.
    #[oai(
        path = "/invitations/:id/resend",
        method = "post",
        operation_id = "resendInvitation"
    )]
    async fn resend(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<InvitationView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let letter = letter_site(req, &state, &site)?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let after = invitations::resend(&mut tx, staff.id, id.0, &letter).await?;
        audit(
            &mut tx,
            &staff,
            "invitation.resend",
            after.id,
            json!({ "email": after.email, "sends": after.sends }),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(after.into()))
    }

    /// Withdraws an open invitation: its link stops working at once. Audited.
    #[oai(
        path = "/invitations/:id",
        method = "delete",
        operation_id = "revokeInvitation"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<InvitationRevoked, ApiError> {
        let staff = auth.0;
        staff.require(Permission::StaffManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let before = invitations::revoke(&mut tx, staff.id, id.0).await?;
        audit(
            &mut tx,
            &staff,
            "invitation.revoke",
            before.id,
            change(&before, &serde_json::Value::Null),
        )
        .await?;
        tx.commit().await?;
        Ok(InvitationRevoked::Revoked)
    }
}

#[OpenApi(tag = "Tag::Session")]
impl InvitationLinkApi {
    /// What an invitation link offers: the ISP, the address and the role. A link that does not
    /// work says why: `invitation_invalid` (unknown or replaced by a newer letter),
    /// `invitation_accepted`, `invitation_expired`, `invitation_revoked` (all 410).
    #[oai(
        path = "/auth/invitation",
        method = "post",
        operation_id = "getInvitation"
    )]
    async fn preview(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<InvitationToken>,
    ) -> Result<Json<InvitationPreviewView>, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let mut tx = state.db.tenant_tx(tenant.id).await?;
        let preview = invitations::preview(&mut tx, &body.token).await?;
        tx.commit().await?;
        Ok(Json(InvitationPreviewView {
            isp_name: tenant.display_name.clone(),
            email: preview.email,
            role: preview.role.into(),
            invited_by: preview.invited_by,
            expires_at: preview.expires_at,
        }))
    }

    /// Accepts an invitation: the invitee becomes active staff with the invited role and is
    /// signed in (where the ISP requires two-factor sign-in, the session can only set it up).
    /// The link works once; the password follows the usual policy (`weak_password`).
    #[oai(
        path = "/auth/invitation/accept",
        method = "post",
        operation_id = "acceptInvitation"
    )]
    async fn accept(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        body: Json<InvitationAcceptance>,
    ) -> Result<LoginAnswered, ApiError> {
        check_origin(req, &site)?;
        let tenant = site.tenant().ok_or_else(ApiError::not_found)?;
        let (_, session) = invitations::accept(
            &state.db,
            tenant.id,
            &body.token,
            Acceptance {
                display_name: &body.display_name,
                password: &body.password,
            },
            state.config.sessions,
            &client_info(req, &state),
        )
        .await?;
        login_answered(&state, LoginOutcome::SignedIn(session)).await
    }
}
