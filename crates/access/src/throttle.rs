//! Sign-in throttling shared by every node (the counters live in PostgreSQL): a bucket per
//! account on a host and a bucket per client address. A locked bucket refuses before the
//! password is even checked, so guessing costs the attacker time, not us CPU.

use chrono::{DateTime, Utc};
use kabinet_db::{Database, sqlx};

use crate::AccessError;

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    pub window_secs: i64,
    pub account_failures: i32,
    pub address_failures: i32,
    pub lock_secs: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window_secs: 15 * 60,
            account_failures: 5,
            address_failures: 50,
            lock_secs: 15 * 60,
        }
    }
}

pub(crate) struct Buckets {
    pub account: String,
    pub address: Option<String>,
}

impl Buckets {
    fn all(&self) -> Vec<String> {
        let mut v = vec![self.account.clone()];
        v.extend(self.address.clone());
        v
    }
}

/// Refuses when any bucket is locked.
pub(crate) async fn ensure_not_locked(db: &Database, buckets: &Buckets) -> Result<(), AccessError> {
    let mut tx = db.platform_tx().await?;
    let until: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT max(locked_until) FROM login_throttle WHERE bucket = ANY($1) AND locked_until > now()",
    )
    .bind(buckets.all())
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    match until {
        Some(until) => Err(AccessError::TooManyAttempts {
            retry_after_secs: (until - Utc::now()).num_seconds().max(1) as u64,
        }),
        None => Ok(()),
    }
}

/// Counts a failure in every bucket and locks those over their limit. One statement.
pub(crate) async fn record_failure(
    db: &Database,
    buckets: &Buckets,
    policy: ThrottlePolicy,
) -> Result<(), AccessError> {
    let mut names = vec![buckets.account.clone()];
    let mut limits = vec![policy.account_failures];
    if let Some(addr) = &buckets.address {
        names.push(addr.clone());
        limits.push(policy.address_failures);
    }
    let mut tx = db.platform_tx().await?;
    sqlx::query(
        "INSERT INTO login_throttle AS t (bucket, failures, window_start, locked_until) \
         SELECT b, 1, now(), CASE WHEN l <= 1 THEN now() + make_interval(secs => $4) END \
         FROM unnest($1::text[], $2::int[]) AS x(b, l) \
         ON CONFLICT (bucket) DO UPDATE SET \
           failures = CASE WHEN t.window_start < now() - make_interval(secs => $3) THEN 1 ELSE t.failures + 1 END, \
           window_start = CASE WHEN t.window_start < now() - make_interval(secs => $3) THEN now() ELSE t.window_start END, \
           locked_until = CASE \
             WHEN (CASE WHEN t.window_start < now() - make_interval(secs => $3) THEN 1 ELSE t.failures + 1 END) \
                  >= (SELECT l FROM unnest($1::text[], $2::int[]) AS y(b, l) WHERE y.b = t.bucket) \
             THEN now() + make_interval(secs => $4) ELSE t.locked_until END",
    )
    .bind(&names)
    .bind(&limits)
    .bind(policy.window_secs as f64)
    .bind(policy.lock_secs as f64)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A successful sign-in clears the account's bucket (not the address's).
pub(crate) async fn record_success(db: &Database, buckets: &Buckets) -> Result<(), AccessError> {
    let mut tx = db.platform_tx().await?;
    sqlx::query("DELETE FROM login_throttle WHERE bucket = $1")
        .bind(&buckets.account)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(())
}
