//! News and promotions: the subscriber's feed (`/me/news`) and the staff editor
//! (`/console/news`).

use chrono::{DateTime, Utc};
use kabinet_access::Permission;

use kabinet_cabinet::news::{
    Audience, NewsCursor, NewsPost, PostKind, PostLocale, PostSpec, PostState, create_post, feed,
    feed_post, list_posts, post, set_published, update_post,
};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::dto::Locale;
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

/// The news feed in the cabinet.
pub struct NewsApi;

/// The news editor in the staff console.
pub struct NewsEditorApi;

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum NewsKind {
    News,
    /// An offer; the cabinet marks it as one.
    Promotion,
}

impl From<PostKind> for NewsKind {
    fn from(k: PostKind) -> Self {
        match k {
            PostKind::News => Self::News,
            PostKind::Promotion => Self::Promotion,
        }
    }
}

impl From<NewsKind> for PostKind {
    fn from(k: NewsKind) -> Self {
        match k {
            NewsKind::News => Self::News,
            NewsKind::Promotion => Self::Promotion,
        }
    }
}

pub(super) fn post_locale(l: &Locale) -> PostLocale {
    match l {
        Locale::Ru => PostLocale::Ru,
        Locale::En => PostLocale::En,
    }
}

fn wire_locale(l: PostLocale) -> Locale {
    match l {
        PostLocale::Ru => Locale::Ru,
        PostLocale::En => Locale::En,
    }
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum NewsState {
    /// Waiting for its publication time.
    Scheduled,
    Published,
    /// Past its expiry time.
    Expired,
    /// Taken down by staff.
    Unpublished,
}

impl From<PostState> for NewsState {
    fn from(s: PostState) -> Self {
        match s {
            PostState::Scheduled => Self::Scheduled,
            PostState::Published => Self::Published,
            PostState::Expired => Self::Expired,
            PostState::Unpublished => Self::Unpublished,
        }
    }
}

/// A post as subscribers read it.
#[derive(Debug, Object)]
pub struct NewsItem {
    pub id: Uuid,
    pub kind: NewsKind,
    pub title: String,
    /// Plain text: blank lines separate paragraphs; `**bold**` and http(s) links are shown as such.
    pub body: String,
    pub published_at: DateTime<Utc>,
    /// A promotion's end.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
    pub pinned: bool,
}

impl From<&NewsPost> for NewsItem {
    fn from(p: &NewsPost) -> Self {
        Self {
            id: p.id,
            kind: p.kind.into(),
            title: p.title.clone(),
            body: p.body.clone(),
            published_at: p.publish_at,
            expires_at: p.expires_at,
            pinned: p.pinned,
        }
    }
}

#[derive(Debug, Object)]
pub struct NewsPage {
    pub items: Vec<NewsItem>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// A post as staff manage it.
#[derive(Debug, Object)]
pub struct ConsoleNewsItem {
    pub id: Uuid,
    /// Set for posts declared in the ISP's manifest.
    #[oai(skip_serializing_if_is_none)]
    pub slug: Option<String>,
    pub kind: NewsKind,
    pub title: String,
    pub body: String,
    /// Absent: shown in every language.
    #[oai(skip_serializing_if_is_none)]
    pub locale: Option<Locale>,
    pub publish_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Tariff codes; empty means every subscriber.
    pub target_tariffs: Vec<String>,
    pub pinned: bool,
    pub state: NewsState,
    #[oai(skip_serializing_if_is_none)]
    pub unpublished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn console_item(p: &NewsPost, now: DateTime<Utc>) -> ConsoleNewsItem {
    ConsoleNewsItem {
        id: p.id,
        slug: p.slug.clone(),
        kind: p.kind.into(),
        title: p.title.clone(),
        body: p.body.clone(),
        locale: p.locale.map(wire_locale),
        publish_at: p.publish_at,
        expires_at: p.expires_at,
        target_tariffs: p.target_tariffs.clone(),
        pinned: p.pinned,
        state: p.state(now).into(),
        unpublished_at: p.unpublished_at,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

#[derive(Debug, Object)]
pub struct ConsoleNewsPage {
    pub items: Vec<ConsoleNewsItem>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// A post's content and schedule, as staff write it.
#[derive(Debug, Object)]
pub struct NewsInput {
    pub kind: NewsKind,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub title: Text,
    /// Plain text: blank lines separate paragraphs; `**bold**` and links are rendered.
    #[oai(validator(min_length = 1, max_length = 20000))]
    pub body: Text,
    /// Show only to readers in this language; absent or null: in every language.
    #[oai(nullable)]
    pub locale: Option<Locale>,
    /// When it appears; a time in the future schedules it.
    pub publish_at: DateTime<Utc>,
    /// When it disappears (a promotion's end); absent or null: never.
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Show only to subscribers on these tariffs (codes); empty: to everyone.
    #[oai(validator(max_items = 50))]
    pub target_tariffs: Vec<Text>,
    /// Keep it above newer posts.
    pub pinned: bool,
}

impl NewsInput {
    fn spec(&self) -> PostSpec {
        PostSpec {
            kind: self.kind.into(),
            title: self.title.0.clone(),
            body: self.body.0.clone(),
            locale: self.locale.as_ref().map(post_locale),
            publish_at: self.publish_at,
            expires_at: self.expires_at,
            target_tariffs: self.target_tariffs.iter().map(|t| t.0.clone()).collect(),
            pinned: self.pinned,
        }
    }
}

/// A tariff a post can be aimed at.
#[derive(Debug, Object)]
pub struct NewsTarget {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Object)]
pub struct NewsTargets {
    pub tariffs: Vec<NewsTarget>,
}

#[derive(ApiResponse)]
enum NewsCreated {
    #[oai(status = 201)]
    Created(Json<ConsoleNewsItem>),
}

fn cursor(raw: Option<&str>) -> Result<Option<NewsCursor>, ApiError> {
    super::after_cursor(raw, NewsCursor::decode)
}

#[OpenApi(tag = "Tag::Portal")]
impl NewsApi {
    /// The ISP's news and promotions for this subscriber (their tariff, the language on
    /// screen): published and not expired, pinned first, then newest; keyset-paginated.
    #[oai(path = "/me/news", method = "get", operation_id = "listMyNews")]
    async fn feed(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        /// The language on screen: posts written for the other language are left out.
        lang: Query<Option<Locale>>,
        /// Page size (1–100, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
    ) -> Result<Json<NewsPage>, ApiError> {
        let me = auth.0;
        let after = cursor(after.0.as_deref())?;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let audience = Audience::of(&mut tx, me.id, lang.0.as_ref().map(post_locale)).await?;
        let page = feed(&mut tx, &audience, Utc::now(), after, limit.0.unwrap_or(20)).await?;
        tx.commit().await?;
        Ok(Json(NewsPage {
            items: page.items.iter().map(NewsItem::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// One post, if it is in this subscriber's feed.
    #[oai(path = "/me/news/:id", method = "get", operation_id = "getMyNewsPost")]
    async fn post(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<NewsItem>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        // Any language: a link to a post opens it whatever the language on screen.
        let audience = Audience::of(&mut tx, me.id, None).await?;
        let post = feed_post(&mut tx, &audience, id.0, Utc::now()).await?;
        tx.commit().await?;
        Ok(Json(NewsItem::from(&post)))
    }
}

#[OpenApi(tag = "Tag::Console")]
impl NewsEditorApi {
    /// Every post in any state (scheduled, published, expired, taken down), pinned first,
    /// then by publication time; keyset-paginated.
    #[oai(path = "/console/news", method = "get", operation_id = "listNews")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Page size (1–100, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
    ) -> Result<Json<ConsoleNewsPage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NewsManage).await?;
        let after = cursor(after.0.as_deref())?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let page = list_posts(&mut tx, after, limit.0.unwrap_or(50)).await?;
        tx.commit().await?;
        let now = Utc::now();
        Ok(Json(ConsoleNewsPage {
            items: page.items.iter().map(|p| console_item(p, now)).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// The tariffs a post can be aimed at (`target_tariffs`).
    #[oai(
        path = "/console/news/tariffs",
        method = "get",
        operation_id = "listNewsTargets"
    )]
    async fn targets(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<NewsTargets>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NewsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let tariffs = kabinet_billing::list_tariffs(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(NewsTargets {
            tariffs: tariffs
                .into_iter()
                .map(|t| NewsTarget {
                    code: t.code,
                    name: t.name,
                })
                .collect(),
        }))
    }

    /// Writes a post; a `publish_at` in the future schedules it. Audited.
    #[oai(path = "/console/news", method = "post", operation_id = "createNews")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NewsInput>,
    ) -> Result<NewsCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NewsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let post = create_post(&mut tx, &body.spec(), staff.id).await?;
        audit(&mut tx, &staff, "news.create", &post).await?;
        tx.commit().await?;
        Ok(NewsCreated::Created(Json(console_item(&post, Utc::now()))))
    }

    /// One post.
    #[oai(path = "/console/news/:id", method = "get", operation_id = "getNews")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConsoleNewsItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NewsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let post = post(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(console_item(&post, Utc::now())))
    }

    /// Replaces a post's content, targeting and schedule. Audited.
    #[oai(
        path = "/console/news/:id",
        method = "put",
        operation_id = "updateNews"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<NewsInput>,
    ) -> Result<Json<ConsoleNewsItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NewsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let post = update_post(&mut tx, id.0, &body.spec(), staff.id).await?;
        audit(&mut tx, &staff, "news.update", &post).await?;
        tx.commit().await?;
        Ok(Json(console_item(&post, Utc::now())))
    }

    /// Takes a post down: subscribers no longer see it. Audited; repeating changes nothing.
    #[oai(
        path = "/console/news/:id/unpublish",
        method = "post",
        operation_id = "unpublishNews"
    )]
    async fn unpublish(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConsoleNewsItem>, ApiError> {
        self.set(state, auth, id, false).await
    }

    /// Puts a post taken down back (on its own schedule). Audited; repeating changes nothing.
    #[oai(
        path = "/console/news/:id/publish",
        method = "post",
        operation_id = "publishNews"
    )]
    async fn publish(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConsoleNewsItem>, ApiError> {
        self.set(state, auth, id, true).await
    }
}

impl NewsEditorApi {
    async fn set(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        published: bool,
    ) -> Result<Json<ConsoleNewsItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NewsManage).await?;
        let now = Utc::now();
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (post, changed) = set_published(&mut tx, id.0, published, staff.id, now).await?;
        if changed {
            let action = if published {
                "news.publish"
            } else {
                "news.unpublish"
            };
            audit(&mut tx, &staff, action, &post).await?;
        }
        tx.commit().await?;
        Ok(Json(console_item(&post, now)))
    }
}

async fn audit(
    tx: &mut kabinet_db::TenantTx,
    staff: &crate::auth::Staff,
    action: &str,
    post: &NewsPost,
) -> Result<(), ApiError> {
    staff
        .audit(
            tx,
            action,
            format!("news:{}", post.id),
            json!({
                "kind": post.kind.as_str(),
                "title": post.title,
                "publish_at": post.publish_at,
                "expires_at": post.expires_at,
                "target_tariffs": post.target_tariffs,
                "pinned": post.pinned,
            }),
        )
        .await
}
