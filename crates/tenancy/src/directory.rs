use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kabinet_db::{Database, TENANCY_CHANNEL};
use moka::future::Cache;

use crate::model::{Host, Slug, Tenant};
use crate::repo::{TenancyError, find_tenant_by_custom_host, find_tenant_by_slug};

/// What a request's Host leads to.
#[derive(Clone, Debug)]
pub enum Site {
    /// `admin.<platform domain>`: the operator console and signup.
    Platform,
    /// An ISP's portal and console.
    Tenant(Arc<Tenant>),
}

/// Host → tenant resolution with a per-node cache.
///
/// Entries live for `ttl` at most, and every node drops its whole cache when PostgreSQL
/// announces a tenancy change on [`TENANCY_CHANNEL`], so a suspension or a new domain takes
/// effect everywhere within one notification, not one TTL. Unknown hosts are cached too, so a
/// flood of random Host headers costs one query per distinct host per TTL.
pub struct Directory {
    db: Database,
    platform_domain: String,
    platform_host: String,
    cache: Cache<Host, Option<Arc<Tenant>>>,
    loads: AtomicU64,
}

impl Directory {
    pub fn new(db: Database, platform_domain: &str, ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            db,
            platform_domain: platform_domain.to_owned(),
            platform_host: format!("admin.{platform_domain}"),
            cache: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
            loads: AtomicU64::new(0),
        })
    }

    pub fn platform_domain(&self) -> &str {
        &self.platform_domain
    }

    /// The tenant or platform site for `host`, or `None` when nothing is served there.
    pub async fn resolve(&self, host: &Host) -> Result<Option<Site>, Arc<TenancyError>> {
        if host.as_str() == self.platform_host {
            return Ok(Some(Site::Platform));
        }
        let tenant = self
            .cache
            .try_get_with(host.clone(), self.load(host))
            .await?;
        Ok(tenant.map(Site::Tenant))
    }

    async fn load(&self, host: &Host) -> Result<Option<Arc<Tenant>>, TenancyError> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        let mut tx = self.db.platform_tx().await?;
        let suffix = format!(".{}", self.platform_domain);
        let tenant = match host.as_str().strip_suffix(&suffix) {
            Some(label) if !label.contains('.') => match Slug::parse(label) {
                Ok(slug) => find_tenant_by_slug(tx.conn(), &slug).await?,
                Err(_) => None,
            },
            _ => find_tenant_by_custom_host(tx.conn(), host).await?,
        };
        tx.commit().await?;
        Ok(tenant.map(Arc::new))
    }

    /// How many times the database was asked (tests prove a warm cache asks nothing).
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// Drops the cache whenever any node changes tenancy. Runs until the process ends.
    pub fn spawn_invalidation_listener(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let directory = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                match directory.db.listener(&[TENANCY_CHANNEL]).await {
                    Ok(mut listener) => loop {
                        match listener.recv().await {
                            Ok(_) => directory.invalidate_all(),
                            Err(e) => {
                                // Notifications may have been missed while disconnected.
                                tracing::warn!(error = %e, "tenancy listener lost its connection");
                                directory.invalidate_all();
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for tenancy changes; retrying");
                        directory.invalidate_all();
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            }
        })
    }
}
