//! The ISP's letter templates: `/console/letter-templates…` (`settings.manage`). Every ticket
//! letter a subscriber gets, in both languages, with the ISP's wording or the built-in one;
//! saving checks the placeholders (`unknown_placeholder`, `unclosed_placeholder`), a preview
//! renders unsaved text with sample values, and a reset returns to the built-in letter. Writes
//! are audited. (Per-category SLA targets are part of `/console/ticket-settings`.)

use chrono::{DateTime, Utc};
use kabinet_access::Permission;
use kabinet_mail::Language;
use kabinet_ticketing::letters::{
    LetterKind, LetterTemplateView, RenderedLetter, list_templates, preview, put_template,
    reset_template,
};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::StaffAuth;
use crate::problem::ApiError;

pub struct LettersApi;

/// This module's APIs, registered as one entry of [`super::Apis`].
pub type Apis = LettersApi;

pub fn apis() -> Apis {
    LettersApi
}

/// Which letter: one per thing that happens to a subscriber's ticket.
// The names are the stored and wire values (`ticket_reply`…), letters about tickets.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum LetterKindDto {
    /// Staff answered the ticket.
    TicketReply,
    /// Staff changed the ticket's status.
    TicketStatus,
    /// The answer is overdue.
    TicketOverdue,
    /// Staff joined the ticket with another one.
    TicketMerged,
}

impl From<LetterKindDto> for LetterKind {
    fn from(k: LetterKindDto) -> Self {
        match k {
            LetterKindDto::TicketReply => Self::TicketReply,
            LetterKindDto::TicketStatus => Self::TicketStatus,
            LetterKindDto::TicketOverdue => Self::TicketOverdue,
            LetterKindDto::TicketMerged => Self::TicketMerged,
        }
    }
}

impl From<LetterKind> for LetterKindDto {
    fn from(k: LetterKind) -> Self {
        match k {
            LetterKind::TicketReply => Self::TicketReply,
            LetterKind::TicketStatus => Self::TicketStatus,
            LetterKind::TicketOverdue => Self::TicketOverdue,
            LetterKind::TicketMerged => Self::TicketMerged,
        }
    }
}

/// The letter's language (the subscriber's, else the ISP's).
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum LetterLanguage {
    Ru,
    En,
}

impl From<LetterLanguage> for Language {
    fn from(l: LetterLanguage) -> Self {
        match l {
            LetterLanguage::Ru => Self::Ru,
            LetterLanguage::En => Self::En,
        }
    }
}

impl From<Language> for LetterLanguage {
    fn from(l: Language) -> Self {
        match l {
            Language::Ru => Self::Ru,
            Language::En => Self::En,
        }
    }
}

/// One letter in one language.
#[derive(Debug, Object)]
pub struct LetterTemplate {
    pub kind: LetterKindDto,
    pub language: LetterLanguage,
    /// Subject template (placeholders such as `{{ticket.number}}`).
    pub subject: String,
    /// Body template: the first paragraph is the greeting; paragraphs are separated by an empty
    /// line. The quoted reply, the button to the ticket and the signature are added.
    pub body: String,
    /// The ISP's own wording; `false`: the built-in letter.
    pub customized: bool,
    /// The placeholders this letter can carry, e.g. `ticket.number`.
    pub placeholders: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<LetterTemplateView> for LetterTemplate {
    fn from(v: LetterTemplateView) -> Self {
        Self {
            kind: v.kind.into(),
            language: v.language.into(),
            subject: v.subject,
            body: v.body,
            customized: v.customized,
            placeholders: v
                .kind
                .placeholders()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct LetterTemplateList {
    /// Every letter kind in Russian and in English.
    pub items: Vec<LetterTemplate>,
}

/// The ISP's wording of a letter.
#[derive(Debug, Object)]
pub struct LetterTemplateText {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub subject: Text,
    #[oai(validator(min_length = 1, max_length = 5000))]
    pub body: Text,
}

/// Unsaved wording to preview.
#[derive(Debug, Object)]
pub struct LetterPreviewRequest {
    pub kind: LetterKindDto,
    pub language: LetterLanguage,
    #[oai(flatten)]
    pub text: LetterTemplateText,
}

/// The letter as a subscriber would get it, with sample values.
#[derive(Debug, Object)]
pub struct LetterPreview {
    pub subject: String,
    pub text: String,
    /// The HTML part (every value escaped).
    pub html: String,
}

impl From<RenderedLetter> for LetterPreview {
    fn from(l: RenderedLetter) -> Self {
        Self {
            subject: l.subject,
            text: l.text,
            html: l.html,
        }
    }
}

#[derive(ApiResponse)]
pub enum LetterReset {
    /// The built-in letter applies again.
    #[oai(status = 200)]
    Reset(Json<LetterTemplate>),
}

fn target(kind: LetterKind, language: Language) -> String {
    format!(
        "letter_template:{}:{}",
        kind.as_str(),
        kabinet_ticketing::letters::language_code(language)
    )
}

async fn current(
    tx: &mut kabinet_db::TenantTx,
    kind: LetterKind,
    language: Language,
) -> Result<LetterTemplateView, ApiError> {
    list_templates(tx)
        .await?
        .into_iter()
        .find(|v| v.kind == kind && v.language == language)
        .ok_or_else(ApiError::not_found)
}

#[OpenApi(tag = "Tag::Console")]
impl LettersApi {
    /// Every ticket letter to subscribers, in Russian and English: the ISP's wording or the
    /// built-in one.
    #[oai(
        path = "/console/letter-templates",
        method = "get",
        operation_id = "listLetterTemplates"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<LetterTemplateList>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = list_templates(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(LetterTemplateList {
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Saves the ISP's wording of one letter in one language. A placeholder the letter cannot
    /// carry is `unknown_placeholder`; `{{` without `}}` is `unclosed_placeholder`.
    #[oai(
        path = "/console/letter-templates/:kind/:language",
        method = "put",
        operation_id = "putLetterTemplate"
    )]
    async fn put(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        kind: Path<LetterKindDto>,
        language: Path<LetterLanguage>,
        body: Json<LetterTemplateText>,
    ) -> Result<Json<LetterTemplate>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let (kind, language): (LetterKind, Language) = (kind.0.into(), language.0.into());
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let before = current(&mut tx, kind, language).await?;
        let saved = put_template(
            &mut tx,
            kind,
            language,
            &body.0.subject,
            &body.0.body,
            staff.id,
        )
        .await?;
        staff
            .audit(
                &mut tx,
                "letter_template.update",
                target(kind, language),
                json!({
                    "before": {"subject": before.subject, "body": before.body, "customized": before.customized},
                    "after": {"subject": saved.subject, "body": saved.body},
                }),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(saved.into()))
    }

    /// Back to the built-in letter (nothing to do when it already is).
    #[oai(
        path = "/console/letter-templates/:kind/:language",
        method = "delete",
        operation_id = "resetLetterTemplate"
    )]
    async fn reset(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        kind: Path<LetterKindDto>,
        language: Path<LetterLanguage>,
    ) -> Result<LetterReset, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let (kind, language): (LetterKind, Language) = (kind.0.into(), language.0.into());
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let before = current(&mut tx, kind, language).await?;
        if reset_template(&mut tx, kind, language).await? {
            staff
                .audit(
                    &mut tx,
                    "letter_template.reset",
                    target(kind, language),
                    json!({"before": {"subject": before.subject, "body": before.body}}),
                )
                .await?;
        }
        let now = current(&mut tx, kind, language).await?;
        tx.commit().await?;
        Ok(LetterReset::Reset(Json(now.into())))
    }

    /// Renders unsaved wording as the subscriber would get it, with sample values and the
    /// ISP's real name and host. Placeholders are checked as on save.
    #[oai(
        path = "/console/letter-templates/preview",
        method = "post",
        operation_id = "previewLetterTemplate"
    )]
    async fn preview(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<LetterPreviewRequest>,
    ) -> Result<Json<LetterPreview>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SettingsManage).await?;
        let body = body.0;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let letter = preview(
            &mut tx,
            body.kind.into(),
            body.language.into(),
            &body.text.subject,
            &body.text.body,
        )
        .await?;
        tx.commit().await?;
        Ok(Json(letter.into()))
    }
}
