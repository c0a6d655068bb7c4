//! Staff authorization: casbin RBAC with domains, where the domain is the tenant.
//!
//! Policies come from the built-in roles' permissions (code, below), each tenant's role grants
//! (`staff_roles`) and its custom roles (`custom_roles`, `staff_custom_roles`). One enforcer
//! per tenant is built on first use, cached, and dropped when PostgreSQL announces a grant
//! change for that tenant on [`kabinet_db::AUTHZ_CHANNEL`]; a per-tenant policy version read with every staff session
//! makes a node rebuild a stale enforcer before it answers, NOTIFY or not. Custom roles
//! ([`crate::roles`]) are policies of `role:custom:<id>` subjects. We do not use casbin's
//! sqlx-adapter: its `casbin_rule` table holds every tenant's rules in one place without
//! `tenant_id`, which would be the one table row-level security could not guard.

use std::sync::Arc;
use std::time::Duration;

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use kabinet_core::{StaffId, TenantId};
use kabinet_db::{AUTHZ_CHANNEL, Database, TenantTx, sqlx};
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
    /// Write, publish and unpublish knowledge-base articles.
    KbManage,
    /// See NAS, service logins, online sessions and traffic.
    NetworkRead,
    /// Register NAS and manage subscribers' service logins.
    NetworkManage,
    /// Declare outage incidents, post updates and close them (reading needs `tickets.read`).
    IncidentsManage,
    /// Write, change and delete the team's canned replies.
    CannedManage,
    /// See desk analytics (per-agent figures included) and export them.
    AnalyticsRead,
    /// Manage the ISP's own Kabinet subscription (the card it is charged to). Built-in: the
    /// owner only.
    SubscriptionManage,
}

impl Permission {
    pub const ALL: [Permission; 21] = [
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
        Self::KbManage,
        Self::NetworkRead,
        Self::NetworkManage,
        Self::CannedManage,
        Self::IncidentsManage,
        Self::AnalyticsRead,
        Self::SubscriptionManage,
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
            Self::KbManage => ("kb", "manage"),
            Self::NetworkRead => ("network", "read"),
            Self::NetworkManage => ("network", "manage"),
            Self::IncidentsManage => ("incidents", "manage"),
            Self::CannedManage => ("canned", "manage"),
            Self::AnalyticsRead => ("analytics", "read"),
            Self::SubscriptionManage => ("subscription", "manage"),
        }
    }

    /// `tickets.reply` — how the API and the web name it.
    pub fn name(&self) -> String {
        let (o, a) = self.object_action();
        format!("{o}.{a}")
    }

    /// The permission called `name` (as [`Self::name`] writes it), if this build knows it.
    pub fn parse(name: &str) -> Option<Self> {
        let (o, a) = name.split_once('.')?;
        Self::ALL.into_iter().find(|p| p.object_action() == (o, a))
    }

    /// What holding it allows, in Russian and in English (the roles editor shows these).
    pub fn description(&self) -> (&'static str, &'static str) {
        match self {
            Self::TicketsRead => ("Видеть обращения и очередь", "See tickets and the queue"),
            Self::TicketsReply => (
                "Отвечать абонентам и писать внутренние заметки",
                "Reply to subscribers and write internal notes",
            ),
            Self::TicketsManage => (
                "Менять статус, приоритет, исполнителя и метки обращений",
                "Change ticket status, priority, assignee and tags",
            ),
            Self::SubscribersRead => ("Видеть абонентов", "See subscribers"),
            Self::SubscribersWrite => (
                "Создавать и изменять абонентов",
                "Create and change subscribers",
            ),
            Self::BillingRead => (
                "Видеть счета, выписки и платежи",
                "See accounts, statements and payments",
            ),
            Self::BillingWrite => (
                "Проводить корректировки, сторно и возвраты",
                "Post corrections, reversals and refunds",
            ),
            Self::CatalogueManage => (
                "Вести тарифы, услуги и оборудование",
                "Manage tariffs, add-ons and equipment",
            ),
            Self::StaffManage => ("Управлять сотрудниками и ролями", "Manage staff and roles"),
            Self::SettingsManage => ("Менять настройки провайдера", "Change the ISP's settings"),
            Self::AuditRead => (
                "Читать и выгружать журнал аудита",
                "Read and export the audit log",
            ),
            Self::OrdersRead => ("Видеть заказы оборудования", "See equipment orders"),
            Self::OrdersManage => (
                "Вести заказы оборудования (подтверждение, выдача, отмена)",
                "Move equipment orders along (confirm, hand over, cancel)",
            ),
            Self::NewsManage => ("Публиковать новости и акции", "Publish news and promotions"),
            Self::KbManage => (
                "Писать и публиковать статьи базы знаний",
                "Write and publish knowledge-base articles",
            ),
            Self::NetworkRead => (
                "Видеть NAS, логины доступа, сессии и трафик",
                "See NAS, service logins, sessions and traffic",
            ),
            Self::NetworkManage => (
                "Регистрировать NAS и вести логины доступа абонентов",
                "Register NAS and manage subscribers' service logins",
            ),
            Self::IncidentsManage => (
                "Объявлять аварии, сообщать новости о них и закрывать",
                "Declare outage incidents, post updates and close them",
            ),
            Self::CannedManage => (
                "Вести шаблоны ответов команды",
                "Manage the team's canned replies",
            ),
            Self::AnalyticsRead => (
                "Видеть аналитику поддержки (и по сотрудникам) и выгружать её",
                "See support desk analytics (per agent too) and export them",
            ),
            Self::SubscriptionManage => (
                "Управлять подпиской на Kabinet: карта для оплаты",
                "Manage the Kabinet subscription: the card it is paid with",
            ),
        }
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
                KbManage,
                NetworkRead,
                NetworkManage,
                CannedManage,
                IncidentsManage,
                AnalyticsRead,
            ],
            // Agents write the answers they keep giving into the knowledge base.
            Self::SupportAgent => &[
                TicketsRead,
                TicketsReply,
                TicketsManage,
                SubscribersRead,
                OrdersRead,
                OrdersManage,
                KbManage,
                NetworkRead,
                CannedManage,
                IncidentsManage,
            ],
            Self::BillingClerk => &[
                TicketsRead,
                SubscribersRead,
                BillingRead,
                BillingWrite,
                OrdersRead,
                NetworkRead,
            ],
            Self::Technician => &[
                TicketsRead,
                TicketsReply,
                SubscribersRead,
                OrdersRead,
                OrdersManage,
                NetworkRead,
                NetworkManage,
                IncidentsManage,
            ],
            // Desk analytics compare agents: for those who run the desk and those who only look.
            Self::ReadOnly => &[
                TicketsRead,
                SubscribersRead,
                BillingRead,
                OrdersRead,
                NetworkRead,
                AnalyticsRead,
            ],
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

fn custom_role_subject(role: uuid::Uuid) -> String {
    format!("role:custom:{role}")
}

/// A tenant's enforcer and the policy version it was built from.
struct VersionedEnforcer {
    version: i64,
    enforcer: Enforcer,
}

/// Per-tenant casbin enforcers, cached.
///
/// INVARIANT: a check names the tenant's current policy version (read with the staff member's
/// session, see [`crate::sessions`]); an enforcer built from an older version is rebuilt before
/// it answers. So a grant or a revocation holds on every node from its commit on, whether or not
/// that node has seen the NOTIFY yet.
#[derive(Clone)]
pub struct Authorizer {
    db: Database,
    enforcers: Cache<TenantId, Arc<VersionedEnforcer>>,
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

    /// May `staff` of `tenant` do `permission`, under policy version `version` or newer?
    pub async fn is_allowed(
        &self,
        tenant: TenantId,
        staff: StaffId,
        permission: Permission,
        version: i64,
    ) -> Result<bool, AccessError> {
        let cached = self.enforcer(tenant, version).await?;
        let (obj, act) = permission.object_action();
        cached
            .enforcer
            .enforce((subject(staff), tenant.to_string(), obj, act))
            .map_err(|e| AccessError::Authz(e.to_string()))
    }

    /// Like [`Self::is_allowed`], as an error when refused.
    pub async fn require(
        &self,
        tenant: TenantId,
        staff: StaffId,
        permission: Permission,
        version: i64,
    ) -> Result<(), AccessError> {
        if self.is_allowed(tenant, staff, permission, version).await? {
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
        version: i64,
    ) -> Result<Vec<Permission>, AccessError> {
        let mut granted = Vec::new();
        for permission in Permission::ALL {
            if self.is_allowed(tenant, staff, permission, version).await? {
                granted.push(permission);
            }
        }
        Ok(granted)
    }

    pub async fn invalidate(&self, tenant: TenantId) {
        self.enforcers.invalidate(&tenant).await;
    }

    async fn enforcer(
        &self,
        tenant: TenantId,
        version: i64,
    ) -> Result<Arc<VersionedEnforcer>, AccessError> {
        if let Some(cached) = self.enforcers.get(&tenant).await {
            if cached.version >= version {
                return Ok(cached);
            }
            self.enforcers.invalidate(&tenant).await;
        }
        self.enforcers
            .try_get_with(tenant, self.build(tenant))
            .await
            .map_err(|e| AccessError::Authz(e.to_string()))
    }

    async fn build(&self, tenant: TenantId) -> Result<Arc<VersionedEnforcer>, AccessError> {
        let mut tx = self.db.tenant_tx(tenant).await?;
        // The version first: grants read after it are at least that new, so the enforcer never
        // claims a version its rules are older than.
        let version = policy_version(&mut tx).await?;
        let rows = sqlx::query("SELECT staff_id, role FROM staff_roles WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_all(tx.conn())
            .await?;
        let custom = sqlx::query("SELECT id, permissions FROM custom_roles WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_all(tx.conn())
            .await?;
        let custom_grants =
            sqlx::query("SELECT staff_id, role_id FROM staff_custom_roles WHERE tenant_id = $1")
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
        let mut policies: Vec<Vec<String>> = Role::ALL
            .iter()
            .flat_map(|role| {
                role.permissions().iter().map(move |p| {
                    let (o, a) = p.object_action();
                    vec![role_subject(*role), o.to_owned(), a.to_owned()]
                })
            })
            .collect();
        for row in custom {
            let id: uuid::Uuid = row.try_get("id")?;
            let names: Vec<String> = row.try_get("permissions")?;
            for p in names.iter().filter_map(|n| Permission::parse(n)) {
                let (o, a) = p.object_action();
                policies.push(vec![custom_role_subject(id), o.to_owned(), a.to_owned()]);
            }
        }
        enforcer
            .add_policies(policies)
            .await
            .map_err(|e| AccessError::Authz(e.to_string()))?;
        let mut grants = Vec::with_capacity(rows.len() + custom_grants.len());
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
        for row in custom_grants {
            let staff: uuid::Uuid = row.try_get("staff_id")?;
            let role: uuid::Uuid = row.try_get("role_id")?;
            grants.push(vec![
                subject(StaffId(staff)),
                custom_role_subject(role),
                tenant.to_string(),
            ]);
        }
        if !grants.is_empty() {
            enforcer
                .add_grouping_policies(grants)
                .await
                .map_err(|e| AccessError::Authz(e.to_string()))?;
        }
        Ok(Arc::new(VersionedEnforcer { version, enforcer }))
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

/// The tenant's policy version: moved by a trigger in the same transaction as any change to
/// its grants, custom roles or staff activity (0 before the first grant).
pub async fn policy_version(tx: &mut TenantTx) -> Result<i64, AccessError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT COALESCE((SELECT version FROM authz_policy_versions WHERE tenant_id = $1), 0)",
    )
    .bind(tenant.as_uuid())
    .fetch_one(tx.conn())
    .await?)
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

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(&p.name()), Some(p));
        }
        assert_eq!(Permission::parse("tickets"), None);
        assert_eq!(Permission::parse("tickets.fly"), None);
    }
}
