//! Staff authorization: casbin RBAC with domains, where the domain is the tenant.
//!
//! Policies come from two places: the built-in roles' permissions (code, below) and each
//! tenant's role grants (`staff_roles`). One enforcer per tenant is built on first use, cached,
//! and dropped when PostgreSQL announces a grant change for that tenant on
//! [`kabinet_db::AUTHZ_CHANNEL`]. We do not use casbin's sqlx-adapter: its `casbin_rule` table
//! holds every tenant's rules in one place without `tenant_id`, which would be the one table
//! row-level security could not guard.

use std::sync::Arc;
use std::time::Duration;

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use kabinet_core::{StaffId, TenantId};
use kabinet_db::{AUTHZ_CHANNEL, Database, sqlx};
use moka::future::Cache;
use sqlx::Row;

use crate::AccessError;

/// A fine-grained staff permission: an object and an action, never a free string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    TicketsRead,
    TicketsReply,
    TicketsManage,
    SubscribersRead,
    SubscribersWrite,
    BillingRead,
    BillingWrite,
    CatalogueManage,
    StaffManage,
    SettingsManage,
    AuditRead,
    /// See equipment orders.
    OrdersRead,
    /// Move equipment orders along (confirm, deliver, cancel with a refund, take back).
    OrdersManage,
    /// Write, schedule and take down news and promotions.
    NewsManage,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Self::TicketsRead,
        Self::TicketsReply,
        Self::TicketsManage,
        Self::SubscribersRead,
        Self::SubscribersWrite,
        Self::BillingRead,
        Self::BillingWrite,
        Self::CatalogueManage,
        Self::StaffManage,
        Self::SettingsManage,
        Self::AuditRead,
        Self::OrdersRead,
        Self::OrdersManage,
        Self::NewsManage,
    ];

    /// (object, action) as casbin sees it.
    pub fn object_action(&self) -> (&'static str, &'static str) {
        match self {
            Self::TicketsRead => ("tickets", "read"),
            Self::TicketsReply => ("tickets", "reply"),
            Self::TicketsManage => ("tickets", "manage"),
            Self::SubscribersRead => ("subscribers", "read"),
            Self::SubscribersWrite => ("subscribers", "write"),
            Self::BillingRead => ("billing", "read"),
            Self::BillingWrite => ("billing", "write"),
            Self::CatalogueManage => ("catalogue", "manage"),
            Self::StaffManage => ("staff", "manage"),
            Self::SettingsManage => ("settings", "manage"),
            Self::AuditRead => ("audit", "read"),
            Self::OrdersRead => ("orders", "read"),
            Self::OrdersManage => ("orders", "manage"),
            Self::NewsManage => ("news", "manage"),
        }
    }

    /// `tickets.reply` — how the API and the web name it.
    pub fn name(&self) -> String {
        let (o, a) = self.object_action();
        format!("{o}.{a}")
    }
}

/// The built-in staff roles every ISP has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    SupportAgent,
    BillingClerk,
    Technician,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Self::Owner,
        Self::Admin,
        Self::SupportAgent,
        Self::BillingClerk,
        Self::Technician,
        Self::ReadOnly,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::SupportAgent => "support_agent",
            Self::BillingClerk => "billing_clerk",
            Self::Technician => "technician",
            Self::ReadOnly => "read_only",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// What each built-in role may do. The single source of truth for built-in policies.
    pub fn permissions(&self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Owner => &Permission::ALL,
            Self::Admin => &[
                TicketsRead,
                TicketsReply,
                TicketsManage,
                SubscribersRead,
                SubscribersWrite,
                BillingRead,
                BillingWrite,
                CatalogueManage,
                StaffManage,
                SettingsManage,
                OrdersRead,
                OrdersManage,
                NewsManage,
            ],
            Self::SupportAgent => &[
                TicketsRead,
                TicketsReply,
                TicketsManage,
                SubscribersRead,
                OrdersRead,
                OrdersManage,
            ],
            Self::BillingClerk => &[
                TicketsRead,
                SubscribersRead,
                BillingRead,
                BillingWrite,
                OrdersRead,
            ],
            Self::Technician => &[
                TicketsRead,
                TicketsReply,
                SubscribersRead,
                OrdersRead,
                OrdersManage,
            ],
            Self::ReadOnly => &[TicketsRead, SubscribersRead, BillingRead, OrdersRead],
        }
    }
}

const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.obj == p.obj && r.act == p.act
"#;

fn subject(staff: StaffId) -> String {
    format!("staff:{staff}")
}

fn role_subject(role: Role) -> String {
    format!("role:{}", role.as_str())
}

/// Per-tenant casbin enforcers, cached.
#[derive(Clone)]
pub struct Authorizer {
    db: Database,
    enforcers: Cache<TenantId, Arc<Enforcer>>,
}

impl Authorizer {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            enforcers: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(600))
                .build(),
        }
    }

    /// May `staff` of `tenant` do `permission`?
    pub async fn is_allowed(
        &self,
        tenant: TenantId,
        staff: StaffId,
        permission: Permission,
    ) -> Result<bool, AccessError> {
        let enforcer = self.enforcer(tenant).await?;
        let (obj, act) = permission.object_action();
        enforcer
            .enforce((subject(staff), tenant.to_string(), obj, act))
            .map_err(|e| AccessError::Authz(e.to_string()))
    }

    /// Like [`Self::is_allowed`], as an error when refused.
    pub async fn require(
        &self,
        tenant: TenantId,
        staff: StaffId,
        permission: Permission,
    ) -> Result<(), AccessError> {
        if self.is_allowed(tenant, staff, permission).await? {
            Ok(())
        } else {
            Err(AccessError::Forbidden)
        }
    }

    /// Every permission `staff` holds (for the web app to hide what it cannot do).
    pub async fn permissions(
        &self,
        tenant: TenantId,
        staff: StaffId,
    ) -> Result<Vec<Permission>, AccessError> {
        let mut granted = Vec::new();
        for permission in Permission::ALL {
            if self.is_allowed(tenant, staff, permission).await? {
                granted.push(permission);
            }
        }
        Ok(granted)
    }

    pub async fn invalidate(&self, tenant: TenantId) {
        self.enforcers.invalidate(&tenant).await;
    }

    async fn enforcer(&self, tenant: TenantId) -> Result<Arc<Enforcer>, AccessError> {
        self.enforcers
            .try_get_with(tenant, self.build(tenant))
            .await
            .map_err(|e| AccessError::Authz(e.to_string()))
    }

    async fn build(&self, tenant: TenantId) -> Result<Arc<Enforcer>, AccessError> {
        let mut tx = self.db.tenant_tx(tenant).await?;
        let rows = sqlx::query("SELECT staff_id, role FROM staff_roles WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_all(tx.conn())
            .await?;
        tx.commit().await?;

        let model = DefaultModel::from_str(MODEL)
            .await
            .map_err(|e| AccessError::Authz(e.to_string()))?;
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .map_err(|e| AccessError::Authz(e.to_string()))?;
        let policies: Vec<Vec<String>> = Role::ALL
            .iter()
            .flat_map(|role| {
                role.permissions().iter().map(move |p| {
                    let (o, a) = p.object_action();
                    vec![role_subject(*role), o.to_owned(), a.to_owned()]
                })
            })
            .collect();
        enforcer
            .add_policies(policies)
            .await
            .map_err(|e| AccessError::Authz(e.to_string()))?;
        let mut grants = Vec::with_capacity(rows.len());
        for row in rows {
            let staff: uuid::Uuid = row.try_get("staff_id")?;
            let role: String = row.try_get("role")?;
            if let Some(role) = Role::parse(&role) {
                grants.push(vec![
                    subject(StaffId(staff)),
                    role_subject(role),
                    tenant.to_string(),
                ]);
            }
        }
        if !grants.is_empty() {
            enforcer
                .add_grouping_policies(grants)
                .await
                .map_err(|e| AccessError::Authz(e.to_string()))?;
        }
        Ok(Arc::new(enforcer))
    }

    /// Drops a tenant's enforcer whenever its grants change on any node.
    pub fn spawn_invalidation_listener(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match this.db.listener(&[AUTHZ_CHANNEL]).await {
                    Ok(mut listener) => loop {
                        match listener.recv().await {
                            Ok(n) => match n.payload().parse::<TenantId>() {
                                Ok(tenant) => this.enforcers.invalidate(&tenant).await,
                                Err(_) => this.enforcers.invalidate_all(),
                            },
                            Err(e) => {
                                tracing::warn!(error = %e, "authz listener lost its connection");
                                this.enforcers.invalidate_all();
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for grant changes; retrying");
                        this.enforcers.invalidate_all();
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }

    #[test]
    fn read_only_cannot_reply_and_owner_can_do_everything() {
        assert!(
            !Role::ReadOnly
                .permissions()
                .contains(&Permission::TicketsReply)
        );
        assert_eq!(Role::Owner.permissions().len(), Permission::ALL.len());
    }
}
