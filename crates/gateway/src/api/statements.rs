//! Statements of account (выписка) for a period: as JSON for the screen, and as CSV and PDF to
//! download. The subscriber gets their own under `/me`; staff with `billing:read` get any
//! subscriber's under `/console/subscribers/{account}`. Days are the ISP's calendar days, in
//! its time zone.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use kabinet_access::Permission;
use kabinet_access::directory::{find_subscriber_by_account, subscriber_profile};
use kabinet_billing::Statement;
use kabinet_core::SubscriberId;
use kabinet_documents::{Language, StatementPdf, render_statement};
use kabinet_tenancy::Tenant;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Attachment, AttachmentType, Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::Tag;
use super::dto::{Locale, Money, Movement};
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

pub struct StatementsApi;

/// A statement (выписка): the balance at the start and end of a period and what moved it.
#[derive(Debug, Object)]
pub struct StatementView {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub opening_balance: Money,
    pub closing_balance: Money,
    /// Oldest first.
    pub items: Vec<Movement>,
}

#[derive(ApiResponse)]
enum StatementCsv {
    /// The statement as CSV, to download.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        PlainText<String>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[derive(ApiResponse)]
enum StatementPdfFile {
    /// The statement as a PDF document, to download.
    #[oai(status = 200, content_type = "application/pdf")]
    Ok(Attachment<Vec<u8>>),
}

/// A period of the ISP's calendar days.
struct Period {
    first_day: NaiveDate,
    last_day: NaiveDate,
    /// `first_day` 00:00 in the ISP's zone.
    start: DateTime<Utc>,
    /// The day after `last_day`, 00:00 in the ISP's zone.
    end: DateTime<Utc>,
    zone: Tz,
}

/// `[from, to]` → `[from 00:00, to+1 00:00)` in the ISP's time zone; the first of this month to
/// today by default; at most a year.
fn period(
    tenant: &Tenant,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Period, ApiError> {
    // The zone was checked when the manifest was applied; an unknown one falls back to UTC
    // rather than refusing to show anyone their money.
    let zone: Tz = tenant.time_zone.parse().unwrap_or(Tz::UTC);
    let today = Utc::now().with_timezone(&zone).date_naive();
    let last_day = to.unwrap_or(today);
    let first_day = from.unwrap_or_else(|| last_day.with_day(1).unwrap_or(last_day));
    if first_day > last_day || (last_day - first_day).num_days() > 366 {
        return Err(ApiError::unprocessable(
            "bad_period",
            "`from` must not be after `to`, and a statement covers at most a year",
        ));
    }
    let midnight = |d: NaiveDate| {
        let local = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A zone that skips midnight (DST at 00:00) starts the day at the first instant there is.
        zone.from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    };
    Ok(Period {
        first_day,
        last_day,
        start: midnight(first_day),
        end: midnight(last_day + chrono::Duration::days(1)),
        zone,
    })
}

fn view(period: &Period, s: Statement) -> StatementView {
    StatementView {
        from: period.first_day,
        to: period.last_day,
        opening_balance: s.opening.into(),
        closing_balance: s.closing.into(),
        items: s.items.into_iter().map(Into::into).collect(),
    }
}

fn csv(period: &Period, s: &Statement) -> Result<StatementCsv, ApiError> {
    Ok(StatementCsv::Ok(
        PlainText(s.to_csv()?),
        format!(
            "attachment; filename=\"statement-{}-{}.csv\"",
            period.first_day, period.last_day
        ),
    ))
}

/// Whose statement and for whom it is printed.
struct Holder {
    full_name: String,
    account_number: String,
}

fn pdf(
    tenant: &Tenant,
    holder: &Holder,
    period: &Period,
    s: &Statement,
    lang: Option<Locale>,
) -> Result<StatementPdfFile, ApiError> {
    let language = match lang {
        Some(Locale::Ru) => Language::Ru,
        Some(Locale::En) => Language::En,
        None => match tenant.default_locale {
            kabinet_tenancy::Locale::Ru => Language::Ru,
            kabinet_tenancy::Locale::En => Language::En,
        },
    };
    let b = &tenant.branding;
    let support = [b.support_email.as_deref(), b.support_phone.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let bytes = render_statement(&StatementPdf {
        isp_name: &tenant.display_name,
        brand_colour: b.primary_color.as_deref(),
        support: (!support.is_empty()).then_some(support),
        subscriber_name: &holder.full_name,
        account_number: &holder.account_number,
        first_day: period.first_day,
        last_day: period.last_day,
        statement: s,
        language,
        time_zone: period.zone,
        generated_at: Utc::now(),
    })
    .map_err(|e| ApiError::internal("rendering a statement", &e))?;
    Ok(StatementPdfFile::Ok(
        Attachment::new(bytes)
            .attachment_type(AttachmentType::Attachment)
            .filename(format!(
                "statement-{}-{}-{}.pdf",
                holder.account_number, period.first_day, period.last_day
            )),
    ))
}

/// Whose statement: the signed-in subscriber, or the subscriber staff named by account number.
enum Whose<'a> {
    Subscriber(SubscriberId),
    Account(&'a str),
}

/// The holder and their statement, in one tenant transaction.
async fn load(
    state: &AppState,
    tenant: &Tenant,
    whose: Whose<'_>,
    period: &Period,
) -> Result<(Holder, Statement), ApiError> {
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let profile = match whose {
        Whose::Subscriber(id) => subscriber_profile(&mut tx, id).await?,
        Whose::Account(number) => find_subscriber_by_account(&mut tx, number).await?,
    }
    .ok_or_else(ApiError::not_found)?;
    let s = kabinet_billing::statement(&mut tx, profile.id, period.start, period.end).await?;
    tx.commit().await?;
    Ok((
        Holder {
            full_name: profile.full_name,
            account_number: profile.account_number,
        },
        s,
    ))
}

#[OpenApi(tag = "Tag::Portal")]
impl StatementsApi {
    /// The subscriber's statement for a period (default: this month so far).
    #[oai(
        path = "/me/statement",
        method = "get",
        operation_id = "getMyStatement"
    )]
    async fn my_statement(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        /// First day, inclusive (YYYY-MM-DD), in the ISP's time zone.
        from: Query<Option<NaiveDate>>,
        /// Last day, inclusive (YYYY-MM-DD).
        to: Query<Option<NaiveDate>>,
    ) -> Result<Json<StatementView>, ApiError> {
        let me = auth.0;
        let period = period(&me.tenant, from.0, to.0)?;
        let (_, s) = load(&state, &me.tenant, Whose::Subscriber(me.id), &period).await?;
        Ok(Json(view(&period, s)))
    }

    /// The same statement as a CSV download.
    #[oai(
        path = "/me/statement.csv",
        method = "get",
        operation_id = "downloadMyStatement"
    )]
    async fn my_statement_csv(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        /// First day, inclusive (YYYY-MM-DD), in the ISP's time zone.
        from: Query<Option<NaiveDate>>,
        /// Last day, inclusive (YYYY-MM-DD).
        to: Query<Option<NaiveDate>>,
    ) -> Result<StatementCsv, ApiError> {
        let me = auth.0;
        let period = period(&me.tenant, from.0, to.0)?;
        let (_, s) = load(&state, &me.tenant, Whose::Subscriber(me.id), &period).await?;
        csv(&period, &s)
    }

    /// The same statement as a PDF in the ISP's colours, to download or print.
    #[oai(
        path = "/me/statement.pdf",
        method = "get",
        operation_id = "downloadMyStatementPdf"
    )]
    async fn my_statement_pdf(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        /// First day, inclusive (YYYY-MM-DD), in the ISP's time zone.
        from: Query<Option<NaiveDate>>,
        /// Last day, inclusive (YYYY-MM-DD).
        to: Query<Option<NaiveDate>>,
        /// The document's language; the ISP's default when absent.
        lang: Query<Option<Locale>>,
    ) -> Result<StatementPdfFile, ApiError> {
        let me = auth.0;
        let period = period(&me.tenant, from.0, to.0)?;
        let (holder, s) = load(&state, &me.tenant, Whose::Subscriber(me.id), &period).await?;
        pdf(&me.tenant, &holder, &period, &s, lang.0)
    }
}

/// The console's view of the same statements.
pub struct ConsoleStatementsApi;

#[OpenApi(prefix_path = "/console/subscribers", tag = "Tag::Console")]
impl ConsoleStatementsApi {
    /// A subscriber's statement for a period (default: this month so far).
    #[oai(
        path = "/:account_number/statement",
        method = "get",
        operation_id = "getSubscriberStatement"
    )]
    async fn statement(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        /// First day, inclusive (YYYY-MM-DD), in the ISP's time zone.
        from: Query<Option<NaiveDate>>,
        /// Last day, inclusive (YYYY-MM-DD).
        to: Query<Option<NaiveDate>>,
    ) -> Result<Json<StatementView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::BillingRead).await?;
        let tenant = &staff.tenant;
        let period = period(tenant, from.0, to.0)?;
        let (_, s) = load(&state, tenant, Whose::Account(&account_number.0), &period).await?;
        Ok(Json(view(&period, s)))
    }

    /// A subscriber's statement as CSV.
    #[oai(
        path = "/:account_number/statement.csv",
        method = "get",
        operation_id = "downloadSubscriberStatement"
    )]
    async fn statement_csv(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        /// First day, inclusive (YYYY-MM-DD), in the ISP's time zone.
        from: Query<Option<NaiveDate>>,
        /// Last day, inclusive (YYYY-MM-DD).
        to: Query<Option<NaiveDate>>,
    ) -> Result<StatementCsv, ApiError> {
        let staff = auth.0;
        staff.require(Permission::BillingRead).await?;
        let tenant = &staff.tenant;
        let period = period(tenant, from.0, to.0)?;
        let (_, s) = load(&state, tenant, Whose::Account(&account_number.0), &period).await?;
        csv(&period, &s)
    }

    /// A subscriber's statement as a PDF, e.g. to hand over at the office.
    #[oai(
        path = "/:account_number/statement.pdf",
        method = "get",
        operation_id = "downloadSubscriberStatementPdf"
    )]
    async fn statement_pdf(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        /// First day, inclusive (YYYY-MM-DD), in the ISP's time zone.
        from: Query<Option<NaiveDate>>,
        /// Last day, inclusive (YYYY-MM-DD).
        to: Query<Option<NaiveDate>>,
        /// The document's language; the ISP's default when absent.
        lang: Query<Option<Locale>>,
    ) -> Result<StatementPdfFile, ApiError> {
        let staff = auth.0;
        staff.require(Permission::BillingRead).await?;
        let tenant = &staff.tenant;
        let period = period(tenant, from.0, to.0)?;
        let (holder, s) = load(&state, tenant, Whose::Account(&account_number.0), &period).await?;
        pdf(tenant, &holder, &period, &s, lang.0)
    }
}
