//! Search and self-service around tickets: staff ticket search (`/console/tickets/search`),
//! the knowledge base (`/console/kb…` for the editor, `/me/kb…` for subscribers), the
//! subscriber's own ticket search, self-diagnosis and deflection (`/me/support…`), and the
//! deflection rate (`/console/tickets/deflection-stats`).

use chrono::{DateTime, Duration, Utc};
use kabinet_access::Permission;

use kabinet_cabinet::diagnosis::{Finding, diagnose};
use kabinet_core::TicketId;
use kabinet_ticketing::deflection::{
    Deflection, SelfFix, deflection_stats, record_deflection, record_ticket_suggestions,
};
use kabinet_ticketing::kb::{
    Article, ArticleHit, ArticleLocale, ArticleSpec, KbCursor, KbReader, article, create_article,
    list_articles, search_articles, update_article,
};
use kabinet_ticketing::search::{
    HitSource, SearchCursor, SearchQuery, SearchScope, SnippetPart, TicketHit, search_tickets,
};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Union};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::dto::{Locale, Money, QueueTicket, Ticket, TicketCategory};
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

/// Ticket search and the knowledge-base editor in the staff console.
pub struct ConsoleSupportApi;

/// The knowledge base, ticket search, self-diagnosis and deflection in the cabinet.
pub struct PortalSupportApi;

/// A piece of a snippet. Render each piece as text; highlighted pieces are what matched.
#[derive(Debug, Object)]
pub struct SnippetPiece {
    pub text: String,
    pub highlighted: bool,
}

fn snippet(parts: &[SnippetPart]) -> Vec<SnippetPiece> {
    parts
        .iter()
        .map(|p| SnippetPiece {
            text: p.text.clone(),
            highlighted: p.highlighted,
        })
        .collect()
}

/// Where a ticket matched best.
#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum SearchHitSource {
    Subject,
    Message,
    /// An internal note (staff search only).
    Note,
}

impl From<HitSource> for SearchHitSource {
    fn from(s: HitSource) -> Self {
        match s {
            HitSource::Subject => Self::Subject,
            HitSource::Message => Self::Message,
            HitSource::Note => Self::Note,
        }
    }
}

#[derive(Debug, Object)]
pub struct TicketSearchHit {
    pub ticket: QueueTicket,
    pub matched_in: SearchHitSource,
    pub snippet: Vec<SnippetPiece>,
}

#[derive(Debug, Object)]
pub struct TicketSearchPage {
    pub items: Vec<TicketSearchHit>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct MyTicketSearchHit {
    pub ticket: Ticket,
    pub matched_in: SearchHitSource,
    pub snippet: Vec<SnippetPiece>,
}

#[derive(Debug, Object)]
pub struct MyTicketSearchPage {
    pub items: Vec<MyTicketSearchHit>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// A knowledge-base article.
#[derive(Debug, Object)]
pub struct KbArticle {
    pub id: Uuid,
    pub title: String,
    /// Plain text: blank lines separate paragraphs; `**bold**`, lines starting with `- ` and
    /// http(s) links are rendered as such; nothing else is markup.
    pub body: String,
    pub locale: Locale,
    #[oai(skip_serializing_if_is_none)]
    pub category: Option<TicketCategory>,
    /// Absent: a draft (staff only).
    #[oai(skip_serializing_if_is_none)]
    pub published_at: Option<DateTime<Utc>>,
    /// Set for articles declared in the ISP's manifest.
    #[oai(skip_serializing_if_is_none)]
    pub slug: Option<String>,
    pub updated_at: DateTime<Utc>,
}

fn wire_locale(l: ArticleLocale) -> Locale {
    match l {
        ArticleLocale::Ru => Locale::Ru,
        ArticleLocale::En => Locale::En,
    }
}

fn article_locale(l: &Locale) -> ArticleLocale {
    match l {
        Locale::Ru => ArticleLocale::Ru,
        Locale::En => ArticleLocale::En,
    }
}

impl From<&Article> for KbArticle {
    fn from(a: &Article) -> Self {
        Self {
            id: a.id,
            title: a.title.clone(),
            body: a.body.clone(),
            locale: wire_locale(a.locale),
            category: a.category.clone().map(Into::into),
            published_at: a.published_at,
            slug: a.slug.clone(),
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct KbPage {
    pub items: Vec<KbArticle>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct KbSearchHit {
    pub article: KbArticle,
    pub snippet: Vec<SnippetPiece>,
}

#[derive(Debug, Object)]
pub struct KbSearchResults {
    pub items: Vec<KbSearchHit>,
}

fn hits(items: &[ArticleHit]) -> KbSearchResults {
    KbSearchResults {
        items: items
            .iter()
            .map(|h| KbSearchHit {
                article: KbArticle::from(&h.article),
                snippet: snippet(&h.snippet),
            })
            .collect(),
    }
}

/// An article as staff write it.
#[derive(Debug, Object)]
pub struct KbArticleInput {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub title: Text,
    /// Plain text: blank lines separate paragraphs; `**bold**`, `- ` lists and links render.
    #[oai(validator(min_length = 1, max_length = 20000))]
    pub body: Text,
    pub locale: Locale,
    /// The ticket category it helps with; absent or null: none.
    #[oai(nullable)]
    pub category: Option<TicketCategory>,
    /// Visible to subscribers; `false` keeps it a draft.
    pub published: bool,
}

impl KbArticleInput {
    fn spec(&self) -> ArticleSpec {
        ArticleSpec {
            title: self.title.0.clone(),
            body: self.body.0.clone(),
            locale: article_locale(&self.locale),
            category: self.category.clone().map(Into::into),
            published: self.published,
        }
    }
}

#[derive(ApiResponse)]
enum KbCreated {
    #[oai(status = 201)]
    Created(Json<KbArticle>),
}

/// How the words of a search combine.
#[derive(Debug, Enum, Clone, Copy, Default)]
#[oai(rename_all = "snake_case")]
pub enum KbMatch {
    /// Every word (web-search syntax: quotes for phrases, `or`, `-word`).
    #[default]
    All,
    /// Any of the words: for suggestions from free text such as a ticket being written.
    Any,
}

/// The account blocked for debt: paying `amount_due` unblocks it.
#[derive(Debug, Object)]
pub struct BlockedForDebt {
    pub amount_due: Money,
}

/// Service voluntarily suspended; resuming (`DELETE /me/suspension`) brings it back at once.
#[derive(Debug, Object)]
pub struct SuspendedService {
    #[oai(skip_serializing_if_is_none)]
    pub until: Option<DateTime<Utc>>,
}

/// Something about the subscriber's own account that explains a problem, with its fix.
#[derive(Debug, Union)]
#[oai(discriminator_name = "kind", one_of)]
pub enum DiagnosisFinding {
    #[oai(mapping = "blocked_for_debt")]
    BlockedForDebt(BlockedForDebt),
    #[oai(mapping = "suspended")]
    Suspended(SuspendedService),
    #[oai(mapping = "outage")]
    Outage(super::incidents::DeclaredOutage),
}

#[derive(Debug, Object)]
pub struct Diagnosis {
    /// Most pressing first; empty when nothing on the account explains a problem.
    pub findings: Vec<DiagnosisFinding>,
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum DeflectionKind {
    /// Opened a suggested article (`article_id`).
    Article,
    /// Followed a fix from the self-diagnosis panel (`fix`).
    SelfFix,
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum SelfFixKind {
    Pay,
    Resume,
}

/// The subscriber opened a suggestion or followed a fix on the new-ticket form.
#[derive(Debug, Object)]
pub struct DeflectionInput {
    /// One visit to the form: the web makes this id when the form opens.
    pub form_session: Uuid,
    pub kind: DeflectionKind,
    /// With `article`: the article opened.
    #[oai(nullable)]
    pub article_id: Option<Uuid>,
    /// With `self_fix`: the fix followed.
    #[oai(nullable)]
    pub fix: Option<SelfFixKind>,
}

#[derive(Debug, Object)]
pub struct DeflectionRecorded {
    pub id: Uuid,
}

#[derive(ApiResponse)]
enum SuggestionsRecorded {
    #[oai(status = 204)]
    Recorded,
}

#[derive(ApiResponse)]
enum DeflectionCreated {
    #[oai(status = 201)]
    Created(Json<DeflectionRecorded>),
}

/// What the new-ticket form suggested before the ticket was sent anyway.
#[derive(Debug, Object)]
pub struct TicketSuggestionsInput {
    pub form_session: Uuid,
    /// Articles the form showed; drafts and unknown ids are ignored.
    #[oai(validator(max_items = 50))]
    pub shown_article_ids: Vec<Uuid>,
}

#[derive(Debug, Object)]
pub struct DeflectionStatsView {
    pub since: DateTime<Utc>,
    /// Form visits where the subscriber opened a suggestion or followed a fix and sent nothing.
    pub deflected: i64,
    /// Of those, the visits an article settled.
    pub deflected_by_article: i64,
    /// Tickets opened in the period.
    pub tickets: i64,
    /// Tickets sent after the form had suggested at least one article.
    pub tickets_with_suggestions: i64,
    /// deflected / (deflected + tickets); absent when both are zero.
    #[oai(skip_serializing_if_is_none)]
    pub rate: Option<f64>,
}

fn query(raw: &str) -> Result<SearchQuery, ApiError> {
    Ok(SearchQuery::parse(raw)?)
}

fn search_cursor(raw: Option<&str>) -> Result<Option<SearchCursor>, ApiError> {
    super::after_cursor(raw, SearchCursor::decode)
}

fn kb_cursor(raw: Option<&str>) -> Result<Option<KbCursor>, ApiError> {
    super::after_cursor(raw, KbCursor::decode)
}

fn ticket_hit(h: &TicketHit) -> TicketSearchHit {
    TicketSearchHit {
        ticket: QueueTicket::from(&h.ticket),
        matched_in: h.source.into(),
        snippet: snippet(&h.snippet),
    }
}

#[OpenApi(tag = "Tag::Console")]
impl ConsoleSupportApi {
    /// Full-text search over the ISP's tickets: subjects, messages and internal notes, Russian
    /// and English (word forms match: "подключение" finds "подключения"). Best match first,
    /// keyset-paginated; each hit carries a snippet with the matched words highlighted. The
    /// results are the best matches among the most recent 1000 matching subjects, 1000
    /// matching messages and 1000 matching notes (a common word matches much of a big desk):
    /// add words to reach older tickets.
    #[oai(
        path = "/console/tickets/search",
        method = "get",
        operation_id = "searchTickets"
    )]
    async fn search(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Web-search syntax: words, "quoted phrases", `or`, `-excluded`.
        #[oai(validator(max_length = 200))]
        q: Query<String>,
        /// Page size (1–100, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
    ) -> Result<Json<TicketSearchPage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let q = query(&q.0)?;
        let after = search_cursor(after.0.as_deref())?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let page = search_tickets(
            &mut tx,
            SearchScope::Staff,
            &q,
            after,
            limit.0.unwrap_or(20),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(TicketSearchPage {
            items: page.items.iter().map(ticket_hit).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// How many tickets the new-ticket form's suggestions and self-diagnosis saved over the
    /// last `days` days: deflected / (deflected + tickets).
    #[oai(
        path = "/console/tickets/deflection-stats",
        method = "get",
        operation_id = "getDeflectionStats"
    )]
    async fn deflection_stats(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// The period, in days back from now (1–366, default 30).
        #[oai(validator(minimum(value = "1"), maximum(value = "366")))]
        days: Query<Option<i64>>,
    ) -> Result<Json<DeflectionStatsView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::TicketsRead).await?;
        let until = Utc::now();
        let since = until - Duration::days(days.0.unwrap_or(30));
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let s = deflection_stats(&mut tx, since, until).await?;
        tx.commit().await?;
        Ok(Json(DeflectionStatsView {
            since,
            deflected: s.deflected,
            deflected_by_article: s.deflected_by_article,
            tickets: s.tickets,
            tickets_with_suggestions: s.tickets_with_suggestions,
            rate: s.rate,
        }))
    }

    /// Every article, drafts included, most recently changed first; keyset-paginated.
    #[oai(path = "/console/kb", method = "get", operation_id = "listKbArticles")]
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
    ) -> Result<Json<KbPage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::KbManage).await?;
        let after = kb_cursor(after.0.as_deref())?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let page =
            list_articles(&mut tx, KbReader::Staff, None, after, limit.0.unwrap_or(50)).await?;
        tx.commit().await?;
        Ok(Json(KbPage {
            items: page.items.iter().map(KbArticle::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// Searches every article, drafts included, best match first (at most `limit`).
    #[oai(
        path = "/console/kb/search",
        method = "get",
        operation_id = "searchKbArticles"
    )]
    async fn search_kb(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 200))] q: Query<String>,
        /// How many (1–50, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "50")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<KbSearchResults>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::KbManage).await?;
        let q = query(&q.0)?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let found =
            search_articles(&mut tx, KbReader::Staff, &q, None, limit.0.unwrap_or(20)).await?;
        tx.commit().await?;
        Ok(Json(hits(&found)))
    }

    /// Writes an article (a draft unless `published`). Audited.
    #[oai(
        path = "/console/kb",
        method = "post",
        operation_id = "createKbArticle"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<KbArticleInput>,
    ) -> Result<KbCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::KbManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let a = create_article(&mut tx, &body.spec(), staff.id).await?;
        audit(&mut tx, &staff, "kb.create", &a).await?;
        tx.commit().await?;
        Ok(KbCreated::Created(Json(KbArticle::from(&a))))
    }

    /// One article, draft or not.
    #[oai(
        path = "/console/kb/:id",
        method = "get",
        operation_id = "getKbArticle"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<KbArticle>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::KbManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let a = article(&mut tx, KbReader::Staff, id.0).await?;
        tx.commit().await?;
        Ok(Json(KbArticle::from(&a)))
    }

    /// Replaces an article; `published` publishes it (keeping the first publication time) or
    /// takes it back to a draft. Audited.
    #[oai(
        path = "/console/kb/:id",
        method = "put",
        operation_id = "updateKbArticle"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<KbArticleInput>,
    ) -> Result<Json<KbArticle>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::KbManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let a = update_article(&mut tx, id.0, &body.spec(), staff.id).await?;
        audit(&mut tx, &staff, "kb.update", &a).await?;
        tx.commit().await?;
        Ok(Json(KbArticle::from(&a)))
    }
}

async fn audit(
    tx: &mut kabinet_db::TenantTx,
    staff: &crate::auth::Staff,
    action: &str,
    a: &Article,
) -> Result<(), ApiError> {
    staff
        .audit(
            tx,
            action,
            format!("kb:{}", a.id),
            json!({
                "title": a.title,
                "locale": a.locale.as_str(),
                "category": a.category.as_ref().map(|c| c.as_str()),
                "published": a.published_at.is_some(),
            }),
        )
        .await
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl PortalSupportApi {
    /// Published articles, most recently changed first; keyset-paginated.
    #[oai(path = "/kb", method = "get", operation_id = "listMyKbArticles")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        /// Only articles in this language; absent: every language.
        lang: Query<Option<Locale>>,
        /// Page size (1–100, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
    ) -> Result<Json<KbPage>, ApiError> {
        let me = auth.0;
        let after = kb_cursor(after.0.as_deref())?;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let page = list_articles(
            &mut tx,
            KbReader::Subscriber,
            lang.0.as_ref().map(article_locale),
            after,
            limit.0.unwrap_or(50),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(KbPage {
            items: page.items.iter().map(KbArticle::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// Searches published articles, best match first; articles in `lang` come first. With
    /// `match=any` any word counts (the new-ticket form's suggestions as the subscriber types).
    #[oai(
        path = "/kb/search",
        method = "get",
        operation_id = "searchMyKbArticles"
    )]
    async fn search(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        #[oai(validator(max_length = 2000))] q: Query<String>,
        lang: Query<Option<Locale>>,
        /// `all` (default): every word; `any`: any word.
        #[oai(name = "match")]
        mode: Query<Option<KbMatch>>,
        /// How many (1–50, default 10).
        #[oai(validator(minimum(value = "1"), maximum(value = "50")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<KbSearchResults>, ApiError> {
        let me = auth.0;
        let q = match mode.0.unwrap_or_default() {
            KbMatch::All => Some(query(&q.0)?),
            // Free text may be long: its words make the query, and text without any gives
            // no suggestions rather than an error.
            KbMatch::Any => {
                let text: String =
                    q.0.chars()
                        .take(kabinet_ticketing::search::QUERY_MAX)
                        .collect();
                let text: String = text
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                SearchQuery::parse(&text).ok().and_then(|q| q.any_word())
            }
        };
        let Some(q) = q else {
            return Ok(Json(KbSearchResults { items: Vec::new() }));
        };
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let found = search_articles(
            &mut tx,
            KbReader::Subscriber,
            &q,
            lang.0.as_ref().map(article_locale),
            limit.0.unwrap_or(10),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(hits(&found)))
    }

    /// One published article.
    #[oai(path = "/kb/:id", method = "get", operation_id = "getMyKbArticle")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<KbArticle>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let a = article(&mut tx, KbReader::Subscriber, id.0).await?;
        tx.commit().await?;
        Ok(Json(KbArticle::from(&a)))
    }

    /// Searches the subscriber's own tickets (subjects and the conversation; internal notes
    /// are never searched), best match first; keyset-paginated.
    #[oai(
        path = "/tickets/search",
        method = "get",
        operation_id = "searchMyTickets"
    )]
    async fn search_tickets(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        #[oai(validator(max_length = 200))] q: Query<String>,
        /// Page size (1–100, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        #[oai(validator(max_length = 200))] after: Query<Option<String>>,
    ) -> Result<Json<MyTicketSearchPage>, ApiError> {
        let me = auth.0;
        let q = query(&q.0)?;
        let after = search_cursor(after.0.as_deref())?;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let page = search_tickets(
            &mut tx,
            SearchScope::Subscriber(me.id),
            &q,
            after,
            limit.0.unwrap_or(20),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(MyTicketSearchPage {
            items: page
                .items
                .iter()
                .map(|h| MyTicketSearchHit {
                    ticket: Ticket::from(&h.ticket),
                    matched_in: h.source.into(),
                    snippet: snippet(&h.snippet),
                })
                .collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// Self-diagnosis for the new-ticket form: what on the subscriber's own account explains a
    /// problem (blocked for debt, suspended), each with its fix.
    #[oai(
        path = "/support/diagnosis",
        method = "get",
        operation_id = "getMyDiagnosis"
    )]
    async fn diagnosis(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<Diagnosis>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let findings = diagnose(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(Json(Diagnosis {
            findings: findings
                .into_iter()
                .map(|f| match f {
                    Finding::BlockedForDebt { amount_due } => {
                        DiagnosisFinding::BlockedForDebt(BlockedForDebt {
                            amount_due: amount_due.into(),
                        })
                    }
                    Finding::Suspended { until } => {
                        DiagnosisFinding::Suspended(SuspendedService { until })
                    }
                    Finding::Outage {
                        title,
                        message,
                        started_at,
                        latest_update,
                    } => DiagnosisFinding::Outage(super::incidents::DeclaredOutage {
                        title,
                        message,
                        started_at,
                        latest_update,
                    }),
                })
                .collect(),
        }))
    }

    /// Records that the subscriber opened a suggested article or followed a fix on the
    /// new-ticket form. A visit that records one and sends no ticket counts as deflected.
    #[oai(
        path = "/support/deflections",
        method = "post",
        operation_id = "recordDeflection"
    )]
    async fn deflection(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<DeflectionInput>,
    ) -> Result<DeflectionCreated, ApiError> {
        let me = auth.0;
        let what = match (body.kind, body.article_id, body.fix) {
            (DeflectionKind::Article, Some(a), None) => Deflection::Article(a),
            (DeflectionKind::SelfFix, None, Some(f)) => Deflection::SelfFix(match f {
                SelfFixKind::Pay => SelfFix::Pay,
                SelfFixKind::Resume => SelfFix::Resume,
            }),
            _ => {
                return Err(ApiError::unprocessable(
                    "invalid",
                    "`article` needs `article_id` (and no `fix`); `self_fix` needs `fix` (and no `article_id`)",
                ));
            }
        };
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let id = record_deflection(&mut tx, me.id, body.form_session, what).await?;
        tx.commit().await?;
        Ok(DeflectionCreated::Created(Json(DeflectionRecorded { id })))
    }

    /// The subscriber sent this ticket from the new-ticket form anyway: records which
    /// articles the form had suggested, and ties the visit's deflection events to the ticket
    /// (so that visit no longer counts as deflected).
    #[oai(
        path = "/tickets/:id/suggestions",
        method = "post",
        operation_id = "recordTicketSuggestions"
    )]
    async fn suggestions(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
        body: Json<TicketSuggestionsInput>,
    ) -> Result<SuggestionsRecorded, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        record_ticket_suggestions(
            &mut tx,
            me.id,
            TicketId(id.0),
            body.form_session,
            &body.shown_article_ids,
        )
        .await?;
        tx.commit().await?;
        Ok(SuggestionsRecorded::Recorded)
    }
}
