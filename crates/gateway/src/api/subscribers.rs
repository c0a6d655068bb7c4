//! Subscribers in the staff console: search, create, edit, block and unblock, invitations
//! (the password-reset letter) and the CSV import (`provisioning::import`).

use std::collections::HashMap;

use kabinet_access::Permission;
use kabinet_access::audit::{AuditEntry, record};
use kabinet_access::password_reset::{Audience, Language, ResetSite, request_reset};
use kabinet_access::subscribers::{
    Contact, SearchCursor, SubscriberRecord, create_subscriber, find_record, parse_account_number,
    search, update_contact,
};
use kabinet_billing::{
    AccountOverview, AccountStatus as DomainStatus, account_overviews, change_tariff,
    ensure_account, set_staff_block,
};
use kabinet_core::{Money, SubscriberId};
use kabinet_db::TenantTx;
use kabinet_provisioning::import::{
    Encoding, ImportOptions, ImportReport, RowError, import_subscribers,
};
use poem::web::Data;
use poem::{Body, Request};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;

use super::Tag;
use super::dto::{AccountStatus, Money as WireMoney};
use super::password_reset::base_url;
use super::text::Text;
use crate::AppState;
use crate::auth::{Staff, StaffAuth};
use crate::problem::ApiError;
use crate::site::SiteCtx;

pub struct SubscribersApi;

/// A subscriber with their account, as the console lists and shows them.
#[derive(Debug, Object)]
pub struct SubscriberView {
    pub account_number: String,
    pub full_name: String,
    #[oai(skip_serializing_if_is_none)]
    pub email: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub address: Option<String>,
    /// Whether they can sign in with a password yet (imported subscribers cannot until they
    /// set one through "forgot password" or an invitation).
    pub has_password: bool,
    #[oai(skip_serializing_if_is_none)]
    pub status: Option<AccountStatus>,
    /// Blocked by staff (a payment does not lift it), as opposed to blocked for debt.
    pub staff_blocked: bool,
    #[oai(skip_serializing_if_is_none)]
    pub balance: Option<WireMoney>,
    #[oai(skip_serializing_if_is_none)]
    pub tariff_code: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub tariff_name: Option<String>,
}

fn view(record: SubscriberRecord, account: Option<&AccountOverview>) -> SubscriberView {
    SubscriberView {
        account_number: record.account_number,
        full_name: record.contact.full_name,
        email: record.contact.email,
        phone: record.contact.phone,
        address: record.contact.address,
        has_password: record.has_password,
        status: account.map(|a| a.status.into()),
        staff_blocked: account.is_some_and(|a| a.staff_blocked),
        balance: account.map(|a| a.balance.into()),
        tariff_code: account.and_then(|a| a.tariff_code.clone()),
        tariff_name: account.and_then(|a| a.tariff_name.clone()),
    }
}

/// A tariff a subscriber can be put on.
#[derive(Debug, Object)]
pub struct TariffChoice {
    pub code: String,
    pub name: String,
    pub monthly_price: WireMoney,
}

#[derive(Debug, Object)]
pub struct TariffChoices {
    pub items: Vec<TariffChoice>,
}

#[derive(Debug, Object)]
pub struct SubscriberSearchPage {
    pub items: Vec<SubscriberView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// A new subscriber. Fields are checked like the CSV import's columns.
#[derive(Debug, Object)]
pub struct NewSubscriber {
    /// 1–32 letters, digits and dashes; unique within the ISP.
    #[oai(validator(min_length = 1, max_length = 32))]
    pub account_number: Text,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub full_name: Text,
    #[oai(validator(max_length = 254), nullable)]
    pub email: Option<Text>,
    #[oai(validator(max_length = 32), nullable)]
    pub phone: Option<Text>,
    #[oai(validator(max_length = 300), nullable)]
    pub address: Option<Text>,
    /// A tariff code of the ISP.
    #[oai(validator(max_length = 64), nullable)]
    pub tariff: Option<Text>,
    /// 10–1024 characters. Leave it out to let the subscriber choose one (`send_invitation`).
    #[oai(validator(max_length = 1024), nullable)]
    pub initial_password: Option<Text>,
    /// E-mail the subscriber a link to set their password (needs `email`).
    #[oai(nullable)]
    pub send_invitation: Option<bool>,
}

/// The subscriber's editable fields: each is replaced (absent or null clears an optional one).
#[derive(Debug, Object)]
pub struct SubscriberUpdate {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub full_name: Text,
    #[oai(validator(max_length = 254), nullable)]
    pub email: Option<Text>,
    #[oai(validator(max_length = 32), nullable)]
    pub phone: Option<Text>,
    #[oai(validator(max_length = 300), nullable)]
    pub address: Option<Text>,
    /// A tariff code: a different one changes the tariff by the ISP's rule (at once with
    /// pro-rating, or from next month). Absent or null leaves the tariff alone.
    #[oai(validator(max_length = 64), nullable)]
    pub tariff: Option<Text>,
}

#[derive(Debug, Object)]
pub struct BlockChange {
    /// `true` blocks the account by staff decision; `false` lifts that block (a debt block
    /// stays until the balance is back within the credit limit).
    pub blocked: bool,
}

#[derive(Debug, Object)]
pub struct SubscriberCreated {
    pub subscriber: SubscriberView,
    /// Whether the password letter was queued.
    pub invitation_sent: bool,
}

#[derive(ApiResponse)]
enum CreatedResponse {
    #[oai(status = 201)]
    Created(Json<SubscriberCreated>),
}

#[derive(ApiResponse)]
enum InvitationResponse {
    /// The letter with a link to set a password is queued.
    #[oai(status = 202)]
    Accepted,
}

/// How to read the file's text.
#[derive(Debug, Enum, Clone, Copy)]
pub enum ImportEncoding {
    /// UTF-8 when the file starts as valid UTF-8 (or with a BOM), else Windows-1251.
    #[oai(rename = "auto")]
    Auto,
    #[oai(rename = "utf-8")]
    Utf8,
    #[oai(rename = "windows-1251")]
    Windows1251,
}

#[derive(Debug, Object)]
pub struct ImportProblem {
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    #[oai(skip_serializing_if_is_none)]
    pub column: Option<String>,
    /// Stable: `column_count`, `required`, `invalid_account_number`, `invalid_name`,
    /// `invalid_email`, `invalid_phone`, `invalid_address`, `invalid_amount`, `invalid_status`,
    /// `unknown_tariff`, `duplicate_account`, `duplicate_email`, `duplicate_phone`,
    /// `email_taken`, `phone_taken`, `unknown_column`, `duplicate_column`, `missing_column`,
    /// `empty_file`, `invalid_encoding`; warnings: `opening_balance_recorded`.
    pub code: String,
    pub message: String,
}

impl From<RowError> for ImportProblem {
    fn from(e: RowError) -> Self {
        Self {
            line: e.line,
            column: e.column,
            code: e.code.to_owned(),
            message: e.message,
        }
    }
}

/// What the import did, or for a dry run or a file with problems, would have done.
#[derive(Debug, Object)]
pub struct ImportResult {
    /// True when the rows were saved: no problem found and not a dry run.
    pub committed: bool,
    pub dry_run: bool,
    /// `utf-8` or `windows-1251`.
    pub encoding: String,
    /// `,` or `;`.
    pub delimiter: String,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// All problems (only the first 1000 are listed).
    pub error_count: u64,
    pub errors: Vec<ImportProblem>,
    pub warnings: Vec<ImportProblem>,
}

fn import_result(report: ImportReport, dry_run: bool, committed: bool) -> ImportResult {
    ImportResult {
        committed,
        dry_run,
        encoding: report.encoding.to_owned(),
        delimiter: report.delimiter.to_string(),
        rows: report.rows,
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        error_count: report.error_count,
        errors: report.errors.into_iter().map(Into::into).collect(),
        warnings: report.warnings.into_iter().map(Into::into).collect(),
    }
}

fn contact(
    full_name: &str,
    email: Option<&Text>,
    phone: Option<&Text>,
    address: Option<&Text>,
) -> Result<Contact, ApiError> {
    Contact::parse(
        full_name,
        email.map(|t| t.as_ref()),
        phone.map(|t| t.as_ref()),
        address.map(|t| t.as_ref()),
    )
    .map_err(|problems| {
        let detail = problems
            .iter()
            .map(|p| format!("{}: {} ({})", p.field, p.message, p.code))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::unprocessable("invalid", detail)
    })
}

async fn load(tx: &mut TenantTx, account_number: &str) -> Result<SubscriberView, ApiError> {
    let record = find_record(tx, account_number)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let accounts = account_overviews(tx, &[record.id]).await?;
    let account = accounts.get(&record.id);
    Ok(view(record, account))
}

async fn audit(
    tx: &mut TenantTx,
    staff: &Staff,
    action: &str,
    subscriber: SubscriberId,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    staff
        .audit(tx, action, format!("subscriber:{subscriber}"), details)
        .await
}

fn reset_site(req: &Request, state: &AppState, site: &SiteCtx, staff: &Staff) -> ResetSite {
    let tenant = &staff.tenant;
    ResetSite {
        base_url: base_url(req, state, site),
        isp_name: tenant.display_name.clone(),
        support_email: tenant.branding.support_email.clone(),
        support_phone: tenant.branding.support_phone.clone(),
        language: match tenant.default_locale {
            kabinet_tenancy::Locale::Ru => Language::Ru,
            kabinet_tenancy::Locale::En => Language::En,
        },
    }
}

#[OpenApi(tag = "Tag::Console")]
impl SubscribersApi {
    /// Finds subscribers by account number, name, e-mail, phone or address (a case-insensitive
    /// substring; a phone may be typed with spaces, dashes or a leading 8). Best matches first
    /// (the account number itself, then account numbers and names starting with the text),
    /// keyset-paginated. Without `q`: everyone by account number.
    #[oai(
        path = "/console/subscribers",
        method = "get",
        operation_id = "searchSubscribers"
    )]
    async fn search(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 100))] q: Query<Option<String>>,
        /// Page size (1–100, default 25).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 64))]
        after: Query<Option<String>>,
    ) -> Result<Json<SubscriberSearchPage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SubscribersRead).await?;
        let after = super::after_cursor(after.0.as_deref(), SearchCursor::decode)?;
        let query = q.0.unwrap_or_default();
        if query.contains('\0') {
            return Err(ApiError::bad_request("invalid", "`q` contains a NUL"));
        }
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let page = search(&mut tx, &query, after.as_ref(), limit.0.unwrap_or(25)).await?;
        let ids: Vec<SubscriberId> = page.items.iter().map(|r| r.id).collect();
        let accounts: HashMap<SubscriberId, AccountOverview> =
            account_overviews(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(Json(SubscriberSearchPage {
            items: page
                .items
                .into_iter()
                .map(|r| {
                    let account = accounts.get(&r.id);
                    view(r, account)
                })
                .collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }))
    }

    /// The ISP's active tariffs, cheapest first: the choices of the subscriber forms.
    #[oai(
        path = "/console/tariff-choices",
        method = "get",
        operation_id = "listTariffChoices"
    )]
    async fn tariff_choices(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<TariffChoices>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SubscribersRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let tariffs = kabinet_billing::list_tariffs(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(TariffChoices {
            items: tariffs
                .into_iter()
                .map(|t| TariffChoice {
                    code: t.code,
                    name: t.name,
                    monthly_price: t.monthly_price.into(),
                })
                .collect(),
        }))
    }

    /// Creates a subscriber with an account (active, the given tariff, balance 0); audited.
    /// With `send_invitation` the subscriber is e-mailed a link to set their password.
    #[oai(
        path = "/console/subscribers",
        method = "post",
        operation_id = "createSubscriber"
    )]
    async fn create(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        auth: StaffAuth,
        body: Json<NewSubscriber>,
    ) -> Result<CreatedResponse, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SubscribersWrite).await?;
        let body = body.0;
        let account_number = parse_account_number(&body.account_number).map_err(|p| {
            ApiError::unprocessable("invalid", format!("{}: {}", p.field, p.message))
        })?;
        let contact = contact(
            &body.full_name,
            body.email.as_ref(),
            body.phone.as_ref(),
            body.address.as_ref(),
        )?;
        let invite = body.send_invitation.unwrap_or(false);
        if invite && contact.email.is_none() {
            return Err(ApiError::unprocessable(
                "no_email",
                "an invitation needs the subscriber's e-mail address",
            ));
        }
        let tariff = body
            .tariff
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let created = create_subscriber(
            &mut tx,
            &account_number,
            &contact,
            body.initial_password.as_deref(),
        )
        .await?;
        ensure_account(
            &mut tx,
            created.id,
            tariff,
            Money::new(0, staff.tenant.currency),
            DomainStatus::Active,
        )
        .await?;
        audit(
            &mut tx,
            &staff,
            "subscriber.create",
            created.id,
            json!({
                "account_number": account_number,
                "tariff": tariff,
                "password_set": body.initial_password.is_some(),
                "invitation": invite,
            }),
        )
        .await?;
        let subscriber = load(&mut tx, &account_number).await?;
        tx.commit().await?;
        if invite {
            request_reset(
                &state.db,
                staff.tenant.id,
                Audience::Subscriber,
                &account_number,
                &reset_site(req, &state, &site, &staff),
                &staff.client,
                state.config.password_reset,
            )
            .await?;
        }
        Ok(CreatedResponse::Created(Json(SubscriberCreated {
            subscriber,
            invitation_sent: invite,
        })))
    }

    /// One subscriber with their account.
    #[oai(
        path = "/console/subscribers/:account_number",
        method = "get",
        operation_id = "getSubscriber"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
    ) -> Result<Json<SubscriberView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SubscribersRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let subscriber = load(&mut tx, &account_number.0).await?;
        tx.commit().await?;
        Ok(Json(subscriber))
    }

    /// Replaces the subscriber's name and contacts, and changes the tariff when a different one
    /// is given; audited with what changed.
    #[oai(
        path = "/console/subscribers/:account_number",
        method = "put",
        operation_id = "updateSubscriber"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        body: Json<SubscriberUpdate>,
    ) -> Result<Json<SubscriberView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SubscribersWrite).await?;
        let body = body.0;
        let contact = contact(
            &body.full_name,
            body.email.as_ref(),
            body.phone.as_ref(),
            body.address.as_ref(),
        )?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let before = load(&mut tx, &account_number.0).await?;
        let (record, contact_changed) = update_contact(&mut tx, &account_number.0, &contact)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let tariff = body
            .tariff
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let tariff_changed = match tariff {
            Some(code) if before.tariff_code.as_deref() != Some(code) => {
                change_tariff(&mut tx, record.id, code, chrono::Utc::now()).await?;
                true
            }
            _ => false,
        };
        if contact_changed || tariff_changed {
            audit(
                &mut tx,
                &staff,
                "subscriber.update",
                record.id,
                json!({
                    "before": {
                        "full_name": before.full_name, "email": before.email,
                        "phone": before.phone, "address": before.address,
                        "tariff": before.tariff_code,
                    },
                    "after": {
                        "full_name": contact.full_name, "email": contact.email,
                        "phone": contact.phone, "address": contact.address,
                        "tariff": tariff.or(before.tariff_code.as_deref()),
                    },
                }),
            )
            .await?;
        }
        let subscriber = load(&mut tx, &account_number.0).await?;
        tx.commit().await?;
        Ok(Json(subscriber))
    }

    /// Blocks or unblocks the subscriber's account by staff decision; audited. A staff block
    /// holds whatever the balance; a voluntarily suspended account cannot be blocked
    /// (`not_active`).
    #[oai(
        path = "/console/subscribers/:account_number/block",
        method = "put",
        operation_id = "setSubscriberBlock"
    )]
    async fn block(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        body: Json<BlockChange>,
    ) -> Result<Json<SubscriberView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SubscribersWrite).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let record = find_record(&mut tx, &account_number.0)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let (status, changed) = set_staff_block(&mut tx, record.id, body.blocked).await?;
        if changed {
            audit(
                &mut tx,
                &staff,
                if body.blocked {
                    "subscriber.block"
                } else {
                    "subscriber.unblock"
                },
                record.id,
                json!({ "status": status.as_str() }),
            )
            .await?;
        }
        let subscriber = load(&mut tx, &account_number.0).await?;
        tx.commit().await?;
        Ok(Json(subscriber))
    }

    /// E-mails the subscriber a link to set their password (the password-reset letter, valid
    /// 30 minutes); audited. `no_email` when they have no e-mail address.
    #[oai(
        path = "/console/subscribers/:account_number/invitation",
        method = "post",
        operation_id = "inviteSubscriber"
    )]
    async fn invite(
        &self,
        req: &Request,
        state: Data<&AppState>,
        site: Data<&SiteCtx>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
    ) -> Result<InvitationResponse, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SubscribersWrite).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let record = find_record(&mut tx, &account_number.0)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if record.contact.email.is_none() {
            return Err(ApiError::unprocessable(
                "no_email",
                "the subscriber has no e-mail address to send the link to",
            ));
        }
        audit(
            &mut tx,
            &staff,
            "subscriber.invite",
            record.id,
            json!({ "email": record.contact.email }),
        )
        .await?;
        tx.commit().await?;
        request_reset(
            &state.db,
            staff.tenant.id,
            Audience::Subscriber,
            &record.account_number,
            &reset_site(req, &state, &site, &staff),
            &staff.client,
            state.config.password_reset,
        )
        .await?;
        Ok(InvitationResponse::Accepted)
    }

    /// Imports subscribers from a CSV file sent as the request body (up to
    /// `KABINET_MAX_IMPORT_BYTES`, 64 MiB by default). Columns, named in the first line:
    /// `account_number` and `name` (required), `email`, `phone`, `address`, `tariff` (a tariff
    /// code), `balance` (opening balance in the ISP's currency: `1250.50` or `1250,50`),
    /// `status` (`active` or `blocked`: blocked by staff). Delimiter `,` or `;` (from the
    /// header), encoding UTF-8 (BOM or not) or Windows-1251.
    ///
    /// All or nothing: any problem and nothing is saved; the report lists each by line and
    /// column. `dry_run=true` checks and counts without saving. Keyed on account number: an
    /// existing subscriber takes the row's contacts, tariff and block; an opening balance is
    /// posted at most once per account, so re-importing a file changes nothing. Imported
    /// subscribers get no password. Audited (one entry with the counts).
    #[oai(
        path = "/console/subscribers/import",
        method = "post",
        operation_id = "importSubscribers"
    )]
    async fn import(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Check and count only; save nothing.
        dry_run: Query<Option<bool>>,
        /// How to read the text (default `auto`).
        encoding: Query<Option<ImportEncoding>>,
        body: Binary<Body>,
    ) -> Result<Json<ImportResult>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::SubscribersWrite).await?;
        staff.require(Permission::BillingWrite).await?;
        let dry_run = dry_run.0.unwrap_or(false);
        let options = ImportOptions {
            encoding: match encoding.0.unwrap_or(ImportEncoding::Auto) {
                ImportEncoding::Auto => Encoding::Auto,
                ImportEncoding::Utf8 => Encoding::Utf8,
                ImportEncoding::Windows1251 => Encoding::Windows1251,
            },
            currency: staff.tenant.currency,
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let report = import_subscribers(&mut tx, body.0.into_async_read(), &options).await?;
        let commit = report.is_clean() && !dry_run;
        if commit {
            record(
                &mut tx,
                AuditEntry {
                    staff: Some(staff.id),
                    action: "subscriber.import",
                    target: "subscribers".into(),
                    details: json!({
                        "rows": report.rows,
                        "created": report.created,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                        "encoding": report.encoding,
                    }),
                },
                &staff.client,
            )
            .await?;
            tx.commit().await?;
        }
        // Otherwise dropping `tx` rolls everything back: a dry run or a file with problems
        // leaves no trace.
        Ok(Json(import_result(report, dry_run, commit)))
    }
}
