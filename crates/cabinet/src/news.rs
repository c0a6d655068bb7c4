//! News and promotions: what the ISP tells its subscribers, on the dashboard and in the feed.
//!
//! A post shows from `publish_at` until `expires_at` (if any) unless staff took it down, to
//! everyone or only to subscribers on the listed tariffs, in one language or in all. Staff write
//! posts in the console; manifests declare them by slug, so applying twice changes nothing.
//! Both lists are one keyset-paginated query, pinned posts first, then the newest.

use chrono::{DateTime, Datelike, Utc};
use kabinet_billing::{BillingError, account_summary, list_tariffs};
use kabinet_core::{StaffId, SubscriberId};
use kabinet_db::{DbError, TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum NewsError {
    #[error("no such post")]
    NotFound,
    #[error("{field} {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("unknown tariff {0:?}")]
    UnknownTariff(String),
    #[error("corrupt news data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Billing(#[from] BillingError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for NewsError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostKind {
    News,
    /// An offer: the web marks it as one.
    Promotion,
}

impl PostKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::News => "news",
            Self::Promotion => "promotion",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "news" => Some(Self::News),
            "promotion" => Some(Self::Promotion),
            _ => None,
        }
    }
}

/// The language a post is written in; a post without one is shown in every language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostLocale {
    Ru,
    En,
}

impl PostLocale {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ru" => Some(Self::Ru),
            "en" => Some(Self::En),
            _ => None,
        }
    }
}

/// Where a post stands at a given moment, for staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostState {
    /// Waiting for `publish_at`.
    Scheduled,
    Published,
    /// Past `expires_at`.
    Expired,
    /// Taken down by staff.
    Unpublished,
}

impl PostState {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Published => "published",
            Self::Expired => "expired",
            Self::Unpublished => "unpublished",
        }
    }
}

/// A post's content, as staff or a manifest write it.
#[derive(Clone, Debug)]
pub struct PostSpec {
    pub kind: PostKind,
    pub title: String,
    /// Plain text; blank lines separate paragraphs, `**bold**` and links are rendered.
    pub body: String,
    pub locale: Option<PostLocale>,
    pub publish_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Tariff codes; empty means every subscriber.
    pub target_tariffs: Vec<String>,
    pub pinned: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewsPost {
    pub id: Uuid,
    pub slug: Option<String>,
    pub kind: PostKind,
    pub title: String,
    pub body: String,
    pub locale: Option<PostLocale>,
    pub publish_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub target_tariffs: Vec<String>,
    pub pinned: bool,
    pub unpublished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl NewsPost {
    pub fn state(&self, now: DateTime<Utc>) -> PostState {
        if self.unpublished_at.is_some() {
            PostState::Unpublished
        } else if self.publish_at > now {
            PostState::Scheduled
        } else if self.expires_at.is_some_and(|e| e <= now) {
            PostState::Expired
        } else {
            PostState::Published
        }
    }
}

/// Where a list continues: after the post with these sort keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewsCursor {
    pub pinned: bool,
    pub publish_at: DateTime<Utc>,
    pub id: Uuid,
}

impl NewsCursor {
    pub fn encode(&self) -> String {
        format!(
            "{}_{}_{}",
            u8::from(self.pinned),
            self.publish_at.timestamp_micros(),
            self.id.simple()
        )
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '_');
        let pinned = match parts.next()? {
            "1" => true,
            "0" => false,
            _ => return None,
        };
        Some(Self {
            pinned,
            publish_at: DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?,
            id: Uuid::try_parse(parts.next()?).ok()?,
        })
    }

    fn after(post: &NewsPost) -> Self {
        Self {
            pinned: post.pinned,
            publish_at: post.publish_at,
            id: post.id,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewsPage {
    pub items: Vec<NewsPost>,
    pub next: Option<NewsCursor>,
}

const TITLE_MAX: usize = 200;
const BODY_MAX: usize = 20_000;
const TARGETS_MAX: usize = 50;

fn clean(field: &'static str, raw: &str, max: usize, multiline: bool) -> Result<String, NewsError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(NewsError::Invalid {
            field,
            reason: "must not be empty".into(),
        });
    }
    if text.chars().count() > max {
        return Err(NewsError::Invalid {
            field,
            reason: format!("must be at most {max} characters"),
        });
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !text.chars().all(allowed) {
        return Err(NewsError::Invalid {
            field,
            reason: "must not contain control characters".into(),
        });
    }
    Ok(text.to_owned())
}

/// A spec checked and normalised: trimmed text, the window in order, known tariff codes only
/// (deduplicated, in the order given).
async fn checked(tx: &mut TenantTx, spec: &PostSpec) -> Result<PostSpec, NewsError> {
    let title = clean("title", &spec.title, TITLE_MAX, false)?;
    let body = clean("body", &spec.body, BODY_MAX, true)?;
    let sane = |t: DateTime<Utc>| (2000..=9999).contains(&t.year());
    if !sane(spec.publish_at) || spec.expires_at.is_some_and(|e| !sane(e)) {
        return Err(NewsError::Invalid {
            field: "publish_at",
            reason: "times must fall between the years 2000 and 9999".into(),
        });
    }
    if spec.expires_at.is_some_and(|e| e <= spec.publish_at) {
        return Err(NewsError::Invalid {
            field: "expires_at",
            reason: "must be after publish_at".into(),
        });
    }
    if spec.target_tariffs.len() > TARGETS_MAX {
        return Err(NewsError::Invalid {
            field: "target_tariffs",
            reason: format!("at most {TARGETS_MAX} tariffs"),
        });
    }
    let mut targets: Vec<String> = Vec::with_capacity(spec.target_tariffs.len());
    if !spec.target_tariffs.is_empty() {
        let known: Vec<String> = list_tariffs(tx)
            .await?
            .into_iter()
            .map(|t| t.code)
            .collect();
        for code in &spec.target_tariffs {
            let code = code.trim();
            if !known.iter().any(|k| k == code) {
                return Err(NewsError::UnknownTariff(code.to_owned()));
            }
            if !targets.iter().any(|t| t == code) {
                targets.push(code.to_owned());
            }
        }
    }
    Ok(PostSpec {
        title,
        body,
        target_tariffs: targets,
        ..spec.clone()
    })
}

const POST_COLUMNS: &str = "id, slug, kind, title, body, locale, publish_at, expires_at, target_tariffs, \
     pinned, unpublished_at, created_at, updated_at";

fn post_from_row(row: &PgRow) -> Result<NewsPost, NewsError> {
    let kind: String = row.try_get("kind")?;
    let locale: Option<String> = row.try_get("locale")?;
    Ok(NewsPost {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        kind: PostKind::parse(&kind)
            .ok_or_else(|| NewsError::Corrupt(format!("post kind {kind:?}")))?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        locale: match locale {
            Some(raw) => Some(
                PostLocale::parse(&raw)
                    .ok_or_else(|| NewsError::Corrupt(format!("post locale {raw:?}")))?,
            ),
            None => None,
        },
        publish_at: row.try_get("publish_at")?,
        expires_at: row.try_get("expires_at")?,
        target_tariffs: row.try_get("target_tariffs")?,
        pinned: row.try_get("pinned")?,
        unpublished_at: row.try_get("unpublished_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Creates or updates the post with `slug` (manifests); returns whether anything changed.
/// Without `publish_at` a new post is published at once and an existing one keeps its date. A
/// post staff took down stays down.
pub async fn upsert_post(
    tx: &mut TenantTx,
    slug: &str,
    spec: &PostSpec,
    publish_at_given: bool,
) -> Result<bool, NewsError> {
    let spec = checked(tx, spec).await?;
    let tenant = tx.tenant();
    let done = sqlx::query(
        "INSERT INTO news_posts AS p (tenant_id, id, slug, kind, title, body, locale, publish_at, expires_at, \
           target_tariffs, pinned) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (tenant_id, slug) WHERE slug IS NOT NULL DO UPDATE SET kind = EXCLUDED.kind, \
           title = EXCLUDED.title, body = EXCLUDED.body, locale = EXCLUDED.locale, \
           publish_at = CASE WHEN $12 THEN EXCLUDED.publish_at ELSE p.publish_at END, \
           expires_at = EXCLUDED.expires_at, target_tariffs = EXCLUDED.target_tariffs, \
           pinned = EXCLUDED.pinned, updated_at = now() \
         WHERE (p.kind, p.title, p.body, p.locale, p.expires_at, p.target_tariffs, p.pinned) \
             IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.title, EXCLUDED.body, EXCLUDED.locale, \
               EXCLUDED.expires_at, EXCLUDED.target_tariffs, EXCLUDED.pinned) \
           OR ($12 AND p.publish_at IS DISTINCT FROM EXCLUDED.publish_at)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(slug)
    .bind(spec.kind.as_str())
    .bind(&spec.title)
    .bind(&spec.body)
    .bind(spec.locale.map(|l| l.as_str()))
    .bind(spec.publish_at)
    .bind(spec.expires_at)
    .bind(&spec.target_tariffs)
    .bind(spec.pinned)
    .bind(publish_at_given)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A new post by staff.
pub async fn create_post(
    tx: &mut TenantTx,
    spec: &PostSpec,
    staff: StaffId,
) -> Result<NewsPost, NewsError> {
    let spec = checked(tx, spec).await?;
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "INSERT INTO news_posts (tenant_id, id, kind, title, body, locale, publish_at, expires_at, \
           target_tariffs, pinned, created_by, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING {POST_COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(spec.kind.as_str())
    .bind(&spec.title)
    .bind(&spec.body)
    .bind(spec.locale.map(|l| l.as_str()))
    .bind(spec.publish_at)
    .bind(spec.expires_at)
    .bind(&spec.target_tariffs)
    .bind(spec.pinned)
    .bind(staff.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    post_from_row(&row)
}

/// Replaces a post's content and schedule.
pub async fn update_post(
    tx: &mut TenantTx,
    id: Uuid,
    spec: &PostSpec,
    staff: StaffId,
) -> Result<NewsPost, NewsError> {
    let spec = checked(tx, spec).await?;
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "UPDATE news_posts SET kind = $3, title = $4, body = $5, locale = $6, publish_at = $7, \
           expires_at = $8, target_tariffs = $9, pinned = $10, updated_by = $11, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 RETURNING {POST_COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(spec.kind.as_str())
    .bind(&spec.title)
    .bind(&spec.body)
    .bind(spec.locale.map(|l| l.as_str()))
    .bind(spec.publish_at)
    .bind(spec.expires_at)
    .bind(&spec.target_tariffs)
    .bind(spec.pinned)
    .bind(staff.as_uuid())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(NewsError::NotFound)?;
    post_from_row(&row)
}

/// Takes a post down (`published: false`) or puts it back; returns the post and whether this
/// changed anything (a repeat does not).
pub async fn set_published(
    tx: &mut TenantTx,
    id: Uuid,
    published: bool,
    staff: StaffId,
    now: DateTime<Utc>,
) -> Result<(NewsPost, bool), NewsError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "UPDATE news_posts SET unpublished_at = CASE WHEN $3 THEN NULL ELSE $4 END, updated_by = $5, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND (unpublished_at IS NULL) = NOT $3 RETURNING {POST_COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(published)
    .bind(now)
    .bind(staff.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    match row {
        Some(row) => Ok((post_from_row(&row)?, true)),
        None => Ok((post(tx, id).await?, false)),
    }
}

/// Any post of the ISP (staff).
pub async fn post(tx: &mut TenantTx, id: Uuid) -> Result<NewsPost, NewsError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {POST_COLUMNS} FROM news_posts WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(NewsError::NotFound)?;
    post_from_row(&row)
}

fn page(mut items: Vec<NewsPost>, limit: i64) -> NewsPage {
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(NewsCursor::after)
    } else {
        None
    };
    NewsPage { items, next }
}

/// Every post of the ISP in any state (staff), pinned first, then by publication date.
pub async fn list_posts(
    tx: &mut TenantTx,
    after: Option<NewsCursor>,
    limit: i64,
) -> Result<NewsPage, NewsError> {
    let tenant = tx.tenant();
    let limit = limit.clamp(1, 100);
    let rows = sqlx::query(&format!(
        "SELECT {POST_COLUMNS} FROM news_posts WHERE tenant_id = $1 \
           AND ($2::boolean IS NULL OR (pinned, publish_at, id) < ($2, $3, $4)) \
         ORDER BY pinned DESC, publish_at DESC, id DESC LIMIT $5"
    ))
    .bind(tenant.as_uuid())
    .bind(after.map(|c| c.pinned))
    .bind(after.map(|c| c.publish_at))
    .bind(after.map(|c| c.id))
    .bind(limit + 1)
    .fetch_all(tx.conn())
    .await?;
    let items = rows
        .iter()
        .map(post_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(items, limit))
}

/// Who is reading: what a post's targeting and language are matched against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audience {
    /// The reader's tariff; `None` sees only posts for everyone.
    pub tariff: Option<String>,
    /// The language on screen; `None` sees posts in every language.
    pub locale: Option<PostLocale>,
}

impl Audience {
    /// The subscriber's audience: their current tariff, the language they read in.
    pub async fn of(
        tx: &mut TenantTx,
        subscriber: SubscriberId,
        locale: Option<PostLocale>,
    ) -> Result<Self, NewsError> {
        let tariff = account_summary(tx, subscriber)
            .await?
            .tariff
            .map(|t| t.code);
        Ok(Self { tariff, locale })
    }
}

const VISIBLE: &str = "tenant_id = $1 AND unpublished_at IS NULL AND publish_at <= $2 \
     AND (expires_at IS NULL OR expires_at > $2) \
     AND (cardinality(target_tariffs) = 0 OR $3 = ANY (target_tariffs)) \
     AND (locale IS NULL OR $4::text IS NULL OR locale = $4)";

/// The posts `audience` may read at `now`: published, not expired, for them, pinned first and
/// then newest; keyset-paginated. One query.
pub async fn feed(
    tx: &mut TenantTx,
    audience: &Audience,
    now: DateTime<Utc>,
    after: Option<NewsCursor>,
    limit: i64,
) -> Result<NewsPage, NewsError> {
    let tenant = tx.tenant();
    let limit = limit.clamp(1, 100);
    let rows = sqlx::query(&format!(
        "SELECT {POST_COLUMNS} FROM news_posts WHERE {VISIBLE} \
           AND ($5::boolean IS NULL OR (pinned, publish_at, id) < ($5, $6, $7)) \
         ORDER BY pinned DESC, publish_at DESC, id DESC LIMIT $8"
    ))
    .bind(tenant.as_uuid())
    .bind(now)
    .bind(&audience.tariff)
    .bind(audience.locale.map(|l| l.as_str()))
    .bind(after.map(|c| c.pinned))
    .bind(after.map(|c| c.publish_at))
    .bind(after.map(|c| c.id))
    .bind(limit + 1)
    .fetch_all(tx.conn())
    .await?;
    let items = rows
        .iter()
        .map(post_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(items, limit))
}

/// One post, if `audience` may read it at `now`; otherwise it reads as missing.
pub async fn feed_post(
    tx: &mut TenantTx,
    audience: &Audience,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<NewsPost, NewsError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {POST_COLUMNS} FROM news_posts WHERE {VISIBLE} AND id = $5"
    ))
    .bind(tenant.as_uuid())
    .bind(now)
    .bind(&audience.tariff)
    .bind(audience.locale.map(|l| l.as_str()))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(NewsError::NotFound)?;
    post_from_row(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(publish: i64, expires: Option<i64>, unpublished: bool) -> NewsPost {
        let at = |s: i64| DateTime::from_timestamp(s, 0).expect("time");
        NewsPost {
            id: Uuid::now_v7(),
            slug: None,
            kind: PostKind::News,
            title: "t".into(),
            body: "b".into(),
            locale: None,
            publish_at: at(publish),
            expires_at: expires.map(at),
            target_tariffs: vec![],
            pinned: false,
            unpublished_at: unpublished.then(|| at(0)),
            created_at: at(0),
            updated_at: at(0),
        }
    }

    #[test]
    fn a_post_is_scheduled_then_published_then_expired_unless_taken_down() {
        let now = DateTime::from_timestamp(1_000, 0).expect("time");
        assert_eq!(post(2_000, None, false).state(now), PostState::Scheduled);
        assert_eq!(post(500, None, false).state(now), PostState::Published);
        assert_eq!(post(500, Some(1_000), false).state(now), PostState::Expired);
        assert_eq!(
            post(500, Some(1_001), false).state(now),
            PostState::Published
        );
        assert_eq!(post(500, None, true).state(now), PostState::Unpublished);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = NewsCursor {
            pinned: true,
            publish_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).expect("time"),
            id: Uuid::now_v7(),
        };
        assert_eq!(NewsCursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "2_1_x", "1_x_0193", "1_5", "true_1_0193"] {
            assert_eq!(NewsCursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_round_trip() {
        for k in [PostKind::News, PostKind::Promotion] {
            assert_eq!(PostKind::parse(k.as_str()), Some(k));
        }
        for l in [PostLocale::Ru, PostLocale::En] {
            assert_eq!(PostLocale::parse(l.as_str()), Some(l));
        }
    }
}
