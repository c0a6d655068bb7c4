use kabinet_tenancy::{TenantStatus, list_tenants};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};

use super::Tag;
use crate::AppState;
use crate::auth::OperatorAuth;
use crate::problem::ApiError;

pub struct PlatformApi;

#[derive(Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum TenantState {
    Active,
    Suspended,
}

#[derive(Debug, Object)]
pub struct TenantRow {
    pub slug: String,
    pub name: String,
    pub status: TenantState,
    pub saas_plan: String,
    pub hosts: Vec<String>,
}

#[derive(Debug, Object)]
pub struct TenantList {
    pub items: Vec<TenantRow>,
}

#[OpenApi(prefix_path = "/platform", tag = "Tag::Platform")]
impl PlatformApi {
    /// Every ISP on the platform with its hosts.
    #[oai(path = "/tenants", method = "get", operation_id = "listTenants")]
    async fn tenants(
        &self,
        state: Data<&AppState>,
        auth: OperatorAuth,
    ) -> Result<Json<TenantList>, ApiError> {
        let _operator = auth.0;
        let mut tx = state.db.platform_tx().await?;
        let tenants = list_tenants(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(TenantList {
            items: tenants
                .into_iter()
                .map(|(t, hosts)| TenantRow {
                    slug: t.slug.to_string(),
                    name: t.display_name,
                    status: match t.status {
                        TenantStatus::Active => TenantState::Active,
                        TenantStatus::Suspended => TenantState::Suspended,
                    },
                    saas_plan: t.saas_plan,
                    hosts,
                })
                .collect(),
        }))
    }
}
