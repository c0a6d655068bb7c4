//! The ISP's settings in the console: branding (name, colours, logo, support contacts).

use base64::Engine;
use kabinet_access::{AuditEntry, Permission, record};
use kabinet_tenancy::{BrandingUpdate, LogoChange, check_branding, update_branding};
use poem::Request;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::json;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, client_info};
use crate::problem::ApiError;

pub struct SettingsApi;

/// How the portal looks and whom subscribers call.
#[derive(Debug, Object)]
pub struct BrandingSettings {
    pub display_name: String,
    #[oai(skip_serializing_if_is_none)]
    pub primary_color: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub accent_color: Option<String>,
    /// The logo as a `data:` URL, if any.
    #[oai(skip_serializing_if_is_none)]
    pub logo_url: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub support_email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub support_phone: Option<String>,
}

/// A branding change. The logo: leave `logo_base64` out to keep it, send `remove_logo: true` to
/// remove it, or the file's bytes in base64 (PNG, JPEG or WebP, at most 100 KiB).
#[derive(Debug, Object)]
pub struct BrandingInput {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub display_name: Text,
    /// `#rrggbb`; empty or null for the default.
    #[oai(validator(max_length = 7), nullable)]
    pub primary_color: Option<Text>,
    #[oai(validator(max_length = 7), nullable)]
    pub accent_color: Option<Text>,
    #[oai(validator(max_length = 140000), nullable)]
    pub logo_base64: Option<Text>,
    #[oai(nullable)]
    pub remove_logo: Option<bool>,
    #[oai(validator(max_length = 254), nullable)]
    pub support_email: Option<Text>,
    #[oai(validator(max_length = 40), nullable)]
    pub support_phone: Option<Text>,
}

fn settings(name: &str, b: &kabinet_tenancy::Branding) -> BrandingSettings {
    BrandingSettings {
        display_name: name.to_owned(),
        primary_color: b.primary_color.clone(),
        accent_color: b.accent_color.clone(),
        logo_url: b.logo_url.clone(),
        support_email: b.support_email.clone(),
        support_phone: b.support_phone.clone(),
    }
}

fn invalid(field: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        "The request is not valid",
        Some(format!("{field}: {reason}")),
    )
}

#[OpenApi(prefix_path = "/console/settings", tag = "Tag::Console")]
impl SettingsApi {
    /// The portal's branding as subscribers see it.
    #[oai(path = "/branding", method = "get", operation_id = "getBranding")]
    async fn branding(&self, auth: StaffAuth) -> Result<Json<BrandingSettings>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        Ok(Json(settings(
            &staff.tenant.display_name,
            &staff.tenant.branding,
        )))
    }

    /// Changes the ISP's name, colours, logo and support contacts. Applies on every node at once
    /// (the tenant cache is dropped on commit). Audited with before and after.
    #[oai(path = "/branding", method = "put", operation_id = "updateBranding")]
    async fn update(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<BrandingInput>,
    ) -> Result<Json<BrandingSettings>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let input = body.0;
        let logo = match (&input.logo_base64, input.remove_logo) {
            (Some(b64), _) if !b64.is_empty() => LogoChange::Set(
                base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| invalid("logo", "is not base64"))?,
            ),
            (_, Some(true)) => LogoChange::Remove,
            _ => LogoChange::Keep,
        };
        let update = BrandingUpdate {
            display_name: input.display_name.0,
            primary_color: input.primary_color.map(|t| t.0),
            accent_color: input.accent_color.map(|t| t.0),
            logo,
            support_email: input.support_email.map(|t| t.0),
            support_phone: input.support_phone.map(|t| t.0),
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (before, after) = {
            let current = &staff.tenant.branding;
            let (name, branding) =
                check_branding(&update, current).map_err(|e| invalid(e.field, e.reason))?;
            update_branding(&mut tx, &name, &branding).await?
        };
        // The logo's bytes stay out of the audit log; whether it changed is what matters.
        let summary = |t: &kabinet_tenancy::Tenant| {
            json!({
                "display_name": t.display_name,
                "primary_color": t.branding.primary_color,
                "accent_color": t.branding.accent_color,
                "logo": t.branding.logo_url.as_ref().map(|u| format!("{} bytes", u.len())),
                "support_email": t.branding.support_email,
                "support_phone": t.branding.support_phone,
            })
        };
        record(
            &mut tx,
            AuditEntry {
                staff: Some(staff.id),
                action: "settings.branding",
                target: format!("tenant:{}", staff.tenant.slug),
                details: json!({ "before": summary(&before), "after": summary(&after) }),
            },
            &client_info(req, &state),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(settings(&after.display_name, &after.branding)))
    }
}
