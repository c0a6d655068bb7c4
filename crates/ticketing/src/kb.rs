//! The knowledge base (`kb_articles`): articles staff write in the console and subscribers read
//! in the cabinet, searched with the tickets' engine ([`crate::search`]) and suggested on the
//! new-ticket form. A draft (`published_at` NULL) is staff-only. Manifest articles are keyed by
//! slug, so applying twice changes nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use kabinet_core::StaffId;
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::model::Category;
use crate::repo::{TicketingError, clean_text};
use crate::search::{SearchQuery, SnippetPart, headline_sql, parse_snippet};

const TITLE_MAX: usize = 200;
const BODY_MAX: usize = 20_000;

/// The language an article is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArticleLocale {
    Ru,
    En,
}

impl ArticleLocale {
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

/// An article as staff or a manifest write it.
#[derive(Clone, Debug)]
pub struct ArticleSpec {
    pub title: String,
    /// Plain text: blank lines separate paragraphs; `**bold**`, `- ` lists and links render.
    pub body: String,
    pub locale: ArticleLocale,
    pub category: Option<Category>,
    /// Visible to subscribers; `false` keeps (or makes) it a draft.
    pub published: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Article {
    pub id: Uuid,
    pub slug: Option<String>,
    pub title: String,
    pub body: String,
    pub locale: ArticleLocale,
    pub category: Option<Category>,
    /// `None`: a draft.
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who reads: staff see drafts, subscribers only published articles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KbReader {
    Staff,
    Subscriber,
}

impl KbReader {
    fn published_only(self) -> bool {
        self == Self::Subscriber
    }
}

/// Keyset position in a list: the (updated_at, id) of the last row seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KbCursor {
    pub updated_at: DateTime<Utc>,
    pub id: Uuid,
}

impl KbCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}|{}",
            self.updated_at.timestamp_micros(),
            self.id
        ))
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (micros, id) = text.split_once('|')?;
        Some(Self {
            updated_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

#[derive(Clone, Debug)]
pub struct KbPage {
    pub items: Vec<Article>,
    pub next: Option<KbCursor>,
}

/// A search result: the article, how well it matched and where.
#[derive(Clone, Debug)]
pub struct ArticleHit {
    pub article: Article,
    pub rank: f32,
    pub snippet: Vec<SnippetPart>,
}

const COLUMNS: &str =
    "id, slug, title, body, locale, category, published_at, created_at, updated_at";

fn article_from_row(row: &PgRow) -> Result<Article, TicketingError> {
    let locale: String = row.try_get("locale")?;
    let category: Option<String> = row.try_get("category")?;
    Ok(Article {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        locale: ArticleLocale::parse(&locale)
            .ok_or_else(|| TicketingError::Corrupt(format!("article locale {locale:?}")))?,
        category: match category {
            Some(c) => Some(
                Category::parse(&c)
                    .ok_or_else(|| TicketingError::Corrupt(format!("article category {c:?}")))?,
            ),
            None => None,
        },
        published_at: row.try_get("published_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

struct Clean {
    title: String,
    body: String,
}

fn clean(spec: &ArticleSpec) -> Result<Clean, TicketingError> {
    Ok(Clean {
        title: clean_text("title", &spec.title, TITLE_MAX)?,
        body: clean_text("body", &spec.body, BODY_MAX)?,
    })
}

/// Writes a new article (a draft unless `published`).
pub async fn create_article(
    tx: &mut TenantTx,
    spec: &ArticleSpec,
    staff: StaffId,
) -> Result<Article, TicketingError> {
    let tenant = tx.tenant();
    let c = clean(spec)?;
    let row = sqlx::query(&format!(
        "INSERT INTO kb_articles (tenant_id, id, title, body, locale, category, published_at, created_by, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END, $8, $8) RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(&c.title)
    .bind(&c.body)
    .bind(spec.locale.as_str())
    .bind(spec.category.as_ref().map(Category::as_str))
    .bind(spec.published)
    .bind(staff.as_uuid())
    .fetch_one(tx.conn())
    .await
    .map_err(crate::categories::unknown_on_fk)?;
    article_from_row(&row)
}

/// Replaces an article's content. Publishing keeps the first publication time; unpublishing
/// makes it a draft again.
pub async fn update_article(
    tx: &mut TenantTx,
    id: Uuid,
    spec: &ArticleSpec,
    staff: StaffId,
) -> Result<Article, TicketingError> {
    let tenant = tx.tenant();
    let c = clean(spec)?;
    let row = sqlx::query(&format!(
        "UPDATE kb_articles SET title = $3, body = $4, locale = $5, category = $6, \
           published_at = CASE WHEN $7 THEN COALESCE(published_at, now()) END, \
           updated_by = $8, updated_at = now() \
         WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(&c.title)
    .bind(&c.body)
    .bind(spec.locale.as_str())
    .bind(spec.category.as_ref().map(Category::as_str))
    .bind(spec.published)
    .bind(staff.as_uuid())
    .fetch_optional(tx.conn())
    .await
    .map_err(crate::categories::unknown_on_fk)?
    .ok_or(TicketingError::NotFound)?;
    article_from_row(&row)
}

/// Creates or updates a manifest article by slug. Returns whether anything changed.
pub async fn upsert_article(
    tx: &mut TenantTx,
    slug: &str,
    spec: &ArticleSpec,
) -> Result<bool, TicketingError> {
    let tenant = tx.tenant();
    let c = clean(spec)?;
    let changed: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO kb_articles (tenant_id, id, slug, title, body, locale, category, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END) \
         ON CONFLICT (tenant_id, slug) WHERE slug IS NOT NULL DO UPDATE SET \
           title = EXCLUDED.title, body = EXCLUDED.body, locale = EXCLUDED.locale, \
           category = EXCLUDED.category, \
           published_at = CASE WHEN $8 THEN COALESCE(kb_articles.published_at, now()) END, \
           updated_at = now() \
         WHERE (kb_articles.title, kb_articles.body, kb_articles.locale, kb_articles.category) \
               IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.body, EXCLUDED.locale, EXCLUDED.category) \
            OR (kb_articles.published_at IS NOT NULL) <> $8 \
         RETURNING id",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(slug)
    .bind(&c.title)
    .bind(&c.body)
    .bind(spec.locale.as_str())
    .bind(spec.category.as_ref().map(Category::as_str))
    .bind(spec.published)
    .fetch_optional(tx.conn())
    .await
    .map_err(crate::categories::unknown_on_fk)?;
    Ok(changed.is_some())
}

/// One article; a draft only for staff (a subscriber gets `NotFound`).
pub async fn article(
    tx: &mut TenantTx,
    reader: KbReader,
    id: Uuid,
) -> Result<Article, TicketingError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM kb_articles WHERE tenant_id = $1 AND id = $2 \
           AND (NOT $3 OR published_at IS NOT NULL)"
    ))
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(reader.published_only())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(TicketingError::NotFound)?;
    article_from_row(&row)
}

/// Articles, most recently changed first, keyset-paginated; subscribers see published ones in
/// `locale` (all languages when `None`).
pub async fn list_articles(
    tx: &mut TenantTx,
    reader: KbReader,
    locale: Option<ArticleLocale>,
    after: Option<KbCursor>,
    limit: i64,
) -> Result<KbPage, TicketingError> {
    let tenant = tx.tenant();
    let limit = limit.clamp(1, 100);
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM kb_articles WHERE tenant_id = $1 \
           AND (NOT $2 OR published_at IS NOT NULL) \
           AND ($3::text IS NULL OR locale = $3) \
           AND ($4::timestamptz IS NULL OR (updated_at, id) < ($4, $5)) \
         ORDER BY updated_at DESC, id DESC LIMIT $6"
    ))
    .bind(tenant.as_uuid())
    .bind(reader.published_only())
    .bind(locale.map(|l| l.as_str()))
    .bind(after.map(|c| c.updated_at))
    .bind(after.map(|c| c.id))
    .bind(limit + 1)
    .fetch_all(tx.conn())
    .await?;
    let mut items = rows
        .iter()
        .map(article_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|a| KbCursor {
            updated_at: a.updated_at,
            id: a.id,
        })
    } else {
        None
    };
    Ok(KbPage { items, next })
}

/// The best `limit` articles for `query` (at most 50), in one statement; snippets only for
/// those. Articles in `locale` come first when one is given, the others follow.
pub async fn search_articles(
    tx: &mut TenantTx,
    reader: KbReader,
    query: &SearchQuery,
    locale: Option<ArticleLocale>,
    limit: i64,
) -> Result<Vec<ArticleHit>, TicketingError> {
    let tenant = tx.tenant();
    let limit = limit.clamp(1, 50);
    // The markup of `**bold**` means nothing in a one-line snippet.
    let headline = headline_sql("replace(a.body, '**', '')");
    let rows = sqlx::query(&format!(
        "WITH q AS (SELECT websearch_to_tsquery('russian', $2) AS q), \
         page AS ( \
           SELECT a.id, ts_rank_cd(a.search_tsv, q.q, 1) AS rank, \
                  ($4::text IS NOT NULL AND a.locale = $4) AS own_language \
           FROM kb_articles a, q WHERE a.tenant_id = $1 AND a.search_tsv @@ q.q \
             AND (NOT $3 OR a.published_at IS NOT NULL) \
           ORDER BY own_language DESC, rank DESC, a.id DESC LIMIT $5 \
         ) \
         SELECT a.{cols}, page.rank, {headline} AS snippet \
         FROM page CROSS JOIN q JOIN kb_articles a ON a.tenant_id = $1 AND a.id = page.id \
         ORDER BY page.own_language DESC, page.rank DESC, page.id DESC",
        cols = COLUMNS.replace(", ", ", a."),
    ))
    .bind(tenant.as_uuid())
    .bind(query.as_str())
    .bind(reader.published_only())
    .bind(locale.map(|l| l.as_str()))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ArticleHit {
                article: article_from_row(row)?,
                rank: row.try_get("rank")?,
                snippet: parse_snippet(&row.try_get::<String, _>("snippet")?),
            })
        })
        .collect()
}
