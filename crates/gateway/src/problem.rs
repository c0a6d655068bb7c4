//! The one place where errors become HTTP: RFC 9457 problem+json with a stable `code`.
//!
//! Domain crates return their own typed errors; the `From` impls below decide status and code.
//! Anything unexpected is logged with context and leaves as a bare 500 that leaks nothing.
//! [`problem_responses`] wraps the whole app so that errors poem raises itself (unknown route,
//! malformed JSON, oversized body, wrong method) get the same shape.

use kabinet_access::AccessError;
use kabinet_billing::BillingError;
use kabinet_cabinet::CabinetError;
use kabinet_cabinet::news::NewsError;
use kabinet_db::DbError;
use kabinet_network::NetworkError;
use kabinet_payments::{PaymentsError, WebhookRejection};
use kabinet_provisioning::signup::SignupError;
use kabinet_tenancy::TenancyError;
use kabinet_ticketing::TicketingError;
use kabinet_ticketing::canned::CannedError;
use kabinet_ticketing::csat::CsatError;
use kabinet_ticketing::letters::LetterError;
use kabinet_ticketing::merge::MergeError;
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Clone, Debug, Object)]
pub struct Problem {
    /// A URI naming the problem type: `urn:kabinet:problem:<code>`.
    #[oai(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// Stable, machine-readable: clients branch on this, never on `title` or `detail`.
    pub code: String,
    /// With `plan_limit_reached`: which limit of the SaaS plan, and where the tenant stands.
    #[oai(skip_serializing_if_is_none)]
    // Boxed: every handler's error carries this field, and most never fill it.
    pub plan_limit: Option<Box<crate::api::saas_plans::PlanLimitProblem>>,
    /// With `plan_feature_missing`: the feature of the SaaS plan the request needs.
    #[oai(skip_serializing_if_is_none)]
    pub plan_feature: Option<crate::api::saas_plans::Feature>,
}

/// Every error an operation can return: one problem+json response for any status.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// A problem (RFC 9457).
    #[oai(content_type = "application/problem+json")]
    Problem(StatusCode, Json<Problem>),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, title: &str, detail: Option<String>) -> Self {
        Self::Problem(
            status,
            Json(Problem {
                problem_type: format!("urn:kabinet:problem:{code}"),
                title: title.to_owned(),
                status: status.as_u16(),
                detail,
                code: code.to_owned(),
                plan_limit: None,
                plan_feature: None,
            }),
        )
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Problem(status, _) => *status,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Self::Problem(_, Json(p)) => &p.code,
        }
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            code,
            "Bad request",
            Some(detail.into()),
        )
    }

    pub fn unprocessable(code: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "The request is not valid",
            Some(detail.into()),
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", None)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in first",
            Some("No valid session for this site.".into()),
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            Some("Your role does not allow this action.".into()),
        )
    }

    /// An unexpected failure: logged in full here, reported to the client without details.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, context, "unexpected error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side",
            Some("The error was logged; please try again.".into()),
        )
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match &e {
            DbError::Sqlx(kabinet_db::sqlx::Error::PoolTimedOut) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
                Some("The service is overloaded; please retry shortly.".into()),
            ),
            // A SaaS plan limit, refused by the statement that wrote the counted rows.
            DbError::Sqlx(err) => {
                if let Some(reached) = kabinet_tenancy::PlanLimitReached::from_db(err) {
                    crate::api::saas_plans::plan_limit_problem(reached)
                } else if let Some(missing) = kabinet_tenancy::PlanFeatureMissing::from_db(err) {
                    crate::api::saas_plans::plan_feature_problem(missing)
                } else {
                    Self::internal("database", &e)
                }
            }
            _ => Self::internal("database", &e),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Sign-in failed",
                Some(e.to_string()),
            ),
            AccessError::TooManyAttempts { .. } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many attempts",
                Some(e.to_string()),
            ),
            AccessError::Unauthenticated => Self::unauthenticated(),
            AccessError::CsrfRejected => Self::new(
                StatusCode::FORBIDDEN,
                "csrf_rejected",
                "Request refused",
                Some("Missing or wrong X-CSRF-Token header; reload the page.".into()),
            ),
            AccessError::Forbidden => Self::forbidden(),
            AccessError::AlreadyTaken(what) => Self::new(
                StatusCode::CONFLICT,
                "already_taken",
                "Already taken",
                Some(format!("This {what} is already in use.")),
            ),
            AccessError::Invalid {
                field: "current_password",
                ..
            } => Self::unprocessable("wrong_current_password", e.to_string()),
            AccessError::Invalid {
                field: "new_password" | "password",
                ..
            } => Self::unprocessable("weak_password", e.to_string()),
            AccessError::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            AccessError::SecondFactorInvalid => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_second_factor",
                "Wrong code",
                Some(e.to_string()),
            ),
            AccessError::ChallengeExpired => Self::new(
                StatusCode::UNAUTHORIZED,
                "login_challenge_expired",
                "Sign in again",
                Some(e.to_string()),
            ),
            AccessError::TwoFactorCodeInvalid => {
                Self::unprocessable("invalid_two_factor_code", e.to_string())
            }
            AccessError::TwoFactorAlreadyEnabled => Self::new(
                StatusCode::CONFLICT,
                "two_factor_enabled",
                "Two-factor authentication is already on",
                Some(e.to_string()),
            ),
            AccessError::TwoFactorNotEnabled => Self::new(
                StatusCode::CONFLICT,
                "two_factor_not_enabled",
                "Two-factor authentication is off",
                Some(e.to_string()),
            ),
            AccessError::NoTwoFactorEnrollment => Self::new(
                StatusCode::CONFLICT,
                "no_two_factor_enrollment",
                "Start the setup first",
                Some(e.to_string()),
            ),
            AccessError::ResetTokenInvalid => {
                Self::bad_request("invalid_reset_token", e.to_string())
            }
            AccessError::SignupLinkInvalid => {
                Self::bad_request("invalid_signup_link", e.to_string())
            }
            AccessError::NotFound => Self::not_found(),
            AccessError::RoleInUse => Self::new(
                StatusCode::CONFLICT,
                "role_in_use",
                "Role in use",
                Some(e.to_string()),
            ),
            AccessError::BeyondOwnPermissions => Self::new(
                StatusCode::FORBIDDEN,
                "beyond_own_permissions",
                "Not allowed",
                Some(e.to_string()),
            ),
            AccessError::OwnAccess => Self::new(
                StatusCode::CONFLICT,
                "own_access",
                "Not on yourself",
                Some(e.to_string()),
            ),
            AccessError::TwoFactorRequired => Self::new(
                StatusCode::FORBIDDEN,
                "two_factor_required",
                "Two-factor sign-in required",
                Some(e.to_string()),
            ),
            AccessError::Mail(kabinet_mail::MailError::Db(db)) => db.into(),
            AccessError::Mail(_) | AccessError::Secret(_) | AccessError::Export(_) => {
                Self::internal("access", &e)
            }
            AccessError::Db(db) => db.into(),
            AccessError::Authz(_) | AccessError::Hashing(_) => Self::internal("access", &e),
        }
    }
}

impl From<kabinet_access::invitations::InvitationError> for ApiError {
    fn from(e: kabinet_access::invitations::InvitationError) -> Self {
        use kabinet_access::invitations::{InvitationError as I, LinkState};
        let detail = Some(e.to_string());
        match e {
            I::AlreadyStaff => Self::new(
                StatusCode::CONFLICT,
                "already_staff",
                "Already on the staff",
                detail,
            ),
            I::StaffDeactivated => Self::new(
                StatusCode::CONFLICT,
                "staff_deactivated",
                "A deactivated staff member",
                detail,
            ),
            I::Link(state) => Self::new(
                StatusCode::GONE,
                match state {
                    LinkState::Unknown => "invitation_invalid",
                    LinkState::Accepted => "invitation_accepted",
                    LinkState::Expired => "invitation_expired",
                    LinkState::Revoked => "invitation_revoked",
                },
                "This invitation link does not work",
                detail,
            ),
            I::ResendTooSoon { .. } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "resend_too_soon",
                "Sent moments ago",
                detail,
            ),
            I::Access(a) => a.into(),
        }
    }
}

impl From<SignupError> for ApiError {
    fn from(e: SignupError) -> Self {
        match e {
            SignupError::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            SignupError::SlugTaken(_) => Self::new(
                StatusCode::CONFLICT,
                "slug_taken",
                "This subdomain is taken",
                Some(e.to_string()),
            ),
            SignupError::SlugReserved(_) => Self::new(
                StatusCode::CONFLICT,
                "slug_reserved",
                "This subdomain is reserved",
                Some(e.to_string()),
            ),
            SignupError::Access(a) => a.into(),
            SignupError::Tenancy(t) => t.into(),
            SignupError::Db(db) => db.into(),
            SignupError::Apply(_) => Self::internal("signup", &e),
        }
    }
}

impl From<TenancyError> for ApiError {
    fn from(e: TenancyError) -> Self {
        match e {
            TenancyError::HostTaken(_) | TenancyError::SlugTaken(_) => Self::new(
                StatusCode::CONFLICT,
                "already_taken",
                "Already taken",
                Some(e.to_string()),
            ),
            TenancyError::UnknownTenant(_) => Self::not_found(),
            TenancyError::Db(db) => db.into(),
        }
    }
}

impl From<kabinet_tenancy::domains::DomainError> for ApiError {
    fn from(e: kabinet_tenancy::domains::DomainError) -> Self {
        use kabinet_tenancy::domains::{DomainError, DomainNameError};
        let conflict = |code: &str, title: &str, e: &DomainError| {
            Self::new(StatusCode::CONFLICT, code, title, Some(e.to_string()))
        };
        match e {
            DomainError::Invalid(DomainNameError::PlatformDomain(_)) => {
                Self::unprocessable("domain_is_platform", e.to_string())
            }
            DomainError::Invalid(_) => Self::unprocessable("invalid_domain", e.to_string()),
            DomainError::AlreadyAdded(_) => conflict("domain_already_added", "Already added", &e),
            DomainError::Taken(_) => {
                conflict("domain_taken", "The domain belongs to another provider", &e)
            }
            DomainError::LimitReached => {
                conflict("domain_limit_reached", "Too many custom domains", &e)
            }
            DomainError::NotFound => Self::not_found(),
            DomainError::Db(db) => db.into(),
        }
    }
}

impl From<BillingError> for ApiError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::NoAccount => Self::new(
                StatusCode::NOT_FOUND,
                "no_account",
                "No account",
                Some("This subscriber has no billing account yet.".into()),
            ),
            BillingError::UnknownTariff(_) => Self::unprocessable("unknown_tariff", e.to_string()),
            BillingError::CurrencyMismatch { .. } => {
                Self::unprocessable("currency_mismatch", e.to_string())
            }
            BillingError::NotPositive => Self::unprocessable("not_positive", e.to_string()),
            BillingError::BadReference => Self::unprocessable("bad_reference", e.to_string()),
            BillingError::PromisesOff => Self::new(
                StatusCode::CONFLICT,
                "promised_payment_unavailable",
                "Promised payments are not offered",
                Some(e.to_string()),
            ),
            BillingError::PromiseTooLarge { .. } => {
                Self::unprocessable("promise_too_large", e.to_string())
            }
            BillingError::PromiseOpen => Self::new(
                StatusCode::CONFLICT,
                "promise_open",
                "A promised payment is open",
                Some(e.to_string()),
            ),
            BillingError::PromiseLimitReached { .. } => Self::new(
                StatusCode::CONFLICT,
                "promise_limit_reached",
                "Monthly limit reached",
                Some(e.to_string()),
            ),
            BillingError::NotActive => Self::new(
                StatusCode::CONFLICT,
                "account_not_active",
                "The account is not active",
                Some(e.to_string()),
            ),
            BillingError::SuspensionLength { .. } => {
                Self::unprocessable("suspension_length", e.to_string())
            }
            BillingError::UnknownAddon(_) => Self::unprocessable("unknown_addon", e.to_string()),
            BillingError::NotConnected(_) => Self::new(
                StatusCode::CONFLICT,
                "addon_not_connected",
                "Not connected",
                Some(e.to_string()),
            ),
            BillingError::AlreadyConnected => Self::new(
                StatusCode::CONFLICT,
                "addon_connected",
                "Already connected",
                Some(e.to_string()),
            ),
            BillingError::SameTariff => Self::new(
                StatusCode::CONFLICT,
                "same_tariff",
                "Nothing to change",
                Some(e.to_string()),
            ),
            BillingError::NotSuspended => Self::new(
                StatusCode::CONFLICT,
                "not_suspended",
                "The account is not suspended",
                Some(e.to_string()),
            ),
            BillingError::Unbalanced => Self::internal("billing", &e),
            BillingError::IdempotencyConflict(_) => Self::new(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "Idempotency key reused",
                Some(e.to_string()),
            ),
            BillingError::NoTransaction => Self::not_found(),
            BillingError::NotReversible => Self::new(
                StatusCode::CONFLICT,
                "not_reversible",
                "Cannot be reversed",
                Some(e.to_string()),
            ),
            BillingError::UnknownEquipment(_) => {
                Self::unprocessable("unknown_equipment", e.to_string())
            }
            BillingError::ModeNotOffered { .. } => {
                Self::unprocessable("mode_not_offered", e.to_string())
            }
            BillingError::OutOfStock(_) => Self::new(
                StatusCode::CONFLICT,
                "out_of_stock",
                "Out of stock",
                Some(e.to_string()),
            ),
            BillingError::InsufficientBalance { .. } => Self::new(
                StatusCode::CONFLICT,
                "insufficient_balance",
                "Not enough money on the balance",
                Some(e.to_string()),
            ),
            BillingError::NoOrder => Self::not_found(),
            BillingError::IllegalTransition { .. } => Self::new(
                StatusCode::CONFLICT,
                "illegal_transition",
                "Not possible in this status",
                Some(e.to_string()),
            ),
            BillingError::InvalidOrder { .. } => Self::unprocessable("invalid", e.to_string()),
            BillingError::Db(db) => db.into(),
            BillingError::Corrupt(_) => Self::internal("billing", &e),
        }
    }
}

impl From<kabinet_billing::catalogue_admin::CatalogueError> for ApiError {
    fn from(e: kabinet_billing::catalogue_admin::CatalogueError) -> Self {
        use kabinet_billing::catalogue_admin::CatalogueError as E;
        match e {
            E::Invalid { field, .. } => {
                let code = match field {
                    "code" => "invalid_code",
                    "name" => "invalid_name",
                    "description" => "invalid_description",
                    "speed_mbps" | "upload_speed_mbps" => "invalid_speed",
                    "stock" => "invalid_stock",
                    _ => "invalid_price",
                };
                Self::bad_request(code, e.to_string())
            }
            E::DuplicateCode => Self::new(
                StatusCode::CONFLICT,
                "duplicate_code",
                "This code is taken",
                Some(e.to_string()),
            ),
            E::NotFound => Self::not_found(),
            E::LastTariff => Self::new(
                StatusCode::CONFLICT,
                "last_tariff",
                "The last tariff on offer",
                Some(e.to_string()),
            ),
            E::Billing(e) => e.into(),
        }
    }
}

impl From<PaymentsError> for ApiError {
    fn from(e: PaymentsError) -> Self {
        match e {
            PaymentsError::Unavailable => Self::new(
                StatusCode::CONFLICT,
                "online_payments_unavailable",
                "Online payments are not available",
                Some("This provider does not take card payments online yet.".into()),
            ),
            PaymentsError::AccountTaken => Self::new(
                StatusCode::CONFLICT,
                "stripe_account_taken",
                "Stripe account in use",
                Some(e.to_string()),
            ),
            PaymentsError::AlreadyConnected => Self::new(
                StatusCode::CONFLICT,
                "stripe_already_connected",
                "Card payments already connected",
                Some("This provider's Stripe account already takes card payments.".into()),
            ),
            PaymentsError::AmountOutOfRange { .. } => {
                Self::unprocessable("amount_out_of_range", e.to_string())
            }
            PaymentsError::NoSavedCard => Self::new(
                StatusCode::CONFLICT,
                "no_saved_card",
                "No saved card",
                Some("Pay once with “save the card” ticked to set up auto-pay.".into()),
            ),
            PaymentsError::BadAutopayRule => Self::unprocessable("bad_autopay_rule", e.to_string()),
            PaymentsError::NotFound => Self::not_found(),
            PaymentsError::CardSetupIncomplete => Self::new(
                StatusCode::CONFLICT,
                "card_setup_incomplete",
                "The card is not saved yet",
                Some(e.to_string()),
            ),
            PaymentsError::Access(e) => e.into(),
            PaymentsError::AlreadyRefunded => Self::new(
                StatusCode::CONFLICT,
                "already_refunded",
                "Already refunded",
                Some(e.to_string()),
            ),
            PaymentsError::Provider { code, message } => {
                tracing::warn!(stripe_code = ?code, %message, "Stripe refused or failed");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    "payment_provider_error",
                    "The payment provider did not answer as expected",
                    Some("Nothing was charged. Please try again in a minute.".into()),
                )
            }
            PaymentsError::Webhook(why) => {
                let code = match why {
                    WebhookRejection::BadHeader => "bad_signature_header",
                    WebhookRejection::BadSignature => "bad_signature",
                    WebhookRejection::Stale => "stale_signature",
                    WebhookRejection::BadPayload(_) => "bad_event",
                };
                Self::bad_request(code, why.to_string())
            }
            PaymentsError::Billing(e) => e.into(),
            PaymentsError::Db(db) => db.into(),
        }
    }
}

impl From<kabinet_ticketing::attachments::AttachmentError> for ApiError {
    fn from(e: kabinet_ticketing::attachments::AttachmentError) -> Self {
        use kabinet_ticketing::attachments::AttachmentError as A;
        match e {
            A::TooManyFiles { .. } => Self::unprocessable("too_many_attachments", e.to_string()),
            A::FileTooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment_too_large",
                "A file is too large",
                Some(e.to_string()),
            ),
            A::MessageTooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachments_too_large",
                "The files are too large together",
                Some(e.to_string()),
            ),
            A::OverFileLimit { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment_over_file_limit",
                "A file is larger than this provider allows",
                Some(e.to_string()),
            ),
            A::OverMessageLimit { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachments_over_message_limit",
                "The files are larger together than this provider allows",
                Some(e.to_string()),
            ),
            A::InvalidLimits { .. } => Self::unprocessable("invalid", e.to_string()),
            A::EmptyFile { .. } => Self::unprocessable("empty_attachment", e.to_string()),
            A::UnsupportedType { .. } => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_attachment_type",
                "This kind of file is not accepted",
                Some(e.to_string()),
            ),
            A::DamagedImage { .. } => Self::unprocessable("damaged_image", e.to_string()),
            A::NotFound => Self::not_found(),
            A::Store(_) => Self::internal("attachments", &e),
            A::Ticketing(t) => t.into(),
        }
    }
}

impl From<TicketingError> for ApiError {
    fn from(e: TicketingError) -> Self {
        match e {
            TicketingError::NotFound => Self::not_found(),
            TicketingError::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            TicketingError::Closed => Self::new(
                StatusCode::CONFLICT,
                "ticket_closed",
                "Ticket closed",
                Some(e.to_string()),
            ),
            TicketingError::IllegalTransition { .. } => Self::new(
                StatusCode::CONFLICT,
                "illegal_ticket_transition",
                "This status change is not allowed",
                Some(e.to_string()),
            ),
            TicketingError::ReopenWindowPassed { .. } => Self::new(
                StatusCode::CONFLICT,
                "reopen_window_passed",
                "Too late to reopen",
                Some(e.to_string()),
            ),
            TicketingError::UnknownAssignee => {
                Self::unprocessable("unknown_assignee", e.to_string())
            }
            TicketingError::UnknownCategory(_) => {
                Self::unprocessable("unknown_category", e.to_string())
            }
            TicketingError::Db(db) => db.into(),
            TicketingError::Corrupt(_) => Self::internal("ticketing", &e),
        }
    }
}

impl From<CsatError> for ApiError {
    fn from(e: CsatError) -> Self {
        match e {
            CsatError::NotFound => Self::not_found(),
            CsatError::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            CsatError::Merged => Self::new(
                StatusCode::CONFLICT,
                "ticket_merged",
                "The ticket was merged into another one",
                Some(e.to_string()),
            ),
            CsatError::NotResolved => Self::new(
                StatusCode::CONFLICT,
                "ticket_not_resolved",
                "The ticket is not resolved",
                Some(e.to_string()),
            ),
            CsatError::WindowPassed { .. } => Self::new(
                StatusCode::CONFLICT,
                "rating_window_passed",
                "Too late to rate",
                Some(e.to_string()),
            ),
            CsatError::Db(db) => db.into(),
        }
    }
}

impl From<kabinet_ticketing::categories::CategoryError> for ApiError {
    fn from(e: kabinet_ticketing::categories::CategoryError) -> Self {
        use kabinet_ticketing::categories::CategoryError as E;
        match e {
            E::NotFound => Self::not_found(),
            E::Unknown(_) => Self::unprocessable("unknown_category", e.to_string()),
            E::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            E::CodeTaken(_) => Self::new(
                StatusCode::CONFLICT,
                "category_code_taken",
                "Category code already used",
                Some(e.to_string()),
            ),
            E::BuiltIn => Self::new(
                StatusCode::CONFLICT,
                "category_built_in",
                "Built-in category",
                Some(e.to_string()),
            ),
            E::InUse => Self::new(
                StatusCode::CONFLICT,
                "category_in_use",
                "Category in use",
                Some(e.to_string()),
            ),
            E::TooMany => Self::new(
                StatusCode::CONFLICT,
                "too_many_categories",
                "Too many categories",
                Some(e.to_string()),
            ),
            E::Db(db) => db.into(),
        }
    }
}

impl From<kabinet_ticketing::assignment::AssignmentError> for ApiError {
    fn from(e: kabinet_ticketing::assignment::AssignmentError) -> Self {
        use kabinet_ticketing::assignment::AssignmentError as E;
        match e {
            E::NotFound => Self::not_found(),
            E::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            E::UnknownCategory(_) => Self::unprocessable("unknown_category", e.to_string()),
            // Another ISP's staff id reads as an unknown one.
            E::UnknownMember(_) => Self::unprocessable("unknown_staff", e.to_string()),
            E::NameTaken => Self::new(
                StatusCode::CONFLICT,
                "agent_group_name_taken",
                "Group name already used",
                Some(e.to_string()),
            ),
            E::Db(db) => db.into(),
        }
    }
}

impl From<kabinet_ticketing::shifts::ShiftError> for ApiError {
    fn from(e: kabinet_ticketing::shifts::ShiftError) -> Self {
        use kabinet_ticketing::shifts::ShiftError as E;
        match e {
            // Another ISP's or a deactivated staff member's id reads as a missing one.
            E::NotFound => Self::not_found(),
            E::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            E::Overlap => Self::unprocessable("shift_spans_overlap", e.to_string()),
            E::Db(db) => db.into(),
        }
    }
}

impl From<CannedError> for ApiError {
    fn from(e: CannedError) -> Self {
        match e {
            CannedError::UnknownPlaceholder(_) => {
                Self::bad_request("unknown_placeholder", e.to_string())
            }
            CannedError::UnclosedPlaceholder => {
                Self::bad_request("unclosed_placeholder", e.to_string())
            }
            CannedError::TitleTaken => Self::new(
                StatusCode::CONFLICT,
                "canned_reply_title_taken",
                "Title already used",
                Some(e.to_string()),
            ),
            CannedError::Ticketing(e) => e.into(),
        }
    }
}

impl From<LetterError> for ApiError {
    fn from(e: LetterError) -> Self {
        match e {
            LetterError::UnknownPlaceholder { .. } => {
                Self::bad_request("unknown_placeholder", e.to_string())
            }
            LetterError::UnclosedPlaceholder(_) => {
                Self::bad_request("unclosed_placeholder", e.to_string())
            }
            LetterError::Ticketing(e) => e.into(),
        }
    }
}

impl From<MergeError> for ApiError {
    fn from(e: MergeError) -> Self {
        let conflict = |code: &str, title: &str, e: &MergeError| {
            Self::new(StatusCode::CONFLICT, code, title, Some(e.to_string()))
        };
        match e {
            MergeError::SameTicket => Self::unprocessable("merge_same_ticket", e.to_string()),
            MergeError::DifferentSubscribers => conflict(
                "merge_different_subscribers",
                "The tickets belong to different subscribers",
                &e,
            ),
            MergeError::TargetMerged(_) => {
                conflict("merge_target_merged", "The target ticket was merged", &e)
            }
            MergeError::AlreadyMerged { .. } => {
                conflict("ticket_already_merged", "Already merged elsewhere", &e)
            }
            MergeError::TargetClosed(_) => {
                conflict("merge_target_closed", "The target ticket is closed", &e)
            }
            MergeError::Ticketing(e) => e.into(),
        }
    }
}

impl From<CabinetError> for ApiError {
    fn from(e: CabinetError) -> Self {
        match e {
            CabinetError::NoSubscriber => Self::unauthenticated(),
            CabinetError::Access(e) => e.into(),
            CabinetError::Billing(e) => e.into(),
            CabinetError::Ticketing(e) => e.into(),
            CabinetError::News(e) => e.into(),
        }
    }
}

impl From<NetworkError> for ApiError {
    fn from(e: NetworkError) -> Self {
        match e {
            NetworkError::NotFound => Self::not_found(),
            NetworkError::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            NetworkError::AddressTaken(_) => Self::new(
                StatusCode::CONFLICT,
                "nas_address_taken",
                "The address is taken",
                Some(e.to_string()),
            ),
            NetworkError::NameTaken(_) => Self::new(
                StatusCode::CONFLICT,
                "nas_name_taken",
                "The name is taken",
                Some(e.to_string()),
            ),
            NetworkError::UsernameTaken(_) => Self::new(
                StatusCode::CONFLICT,
                "login_taken",
                "The login is taken",
                Some(e.to_string()),
            ),
            NetworkError::FramedIpTaken(_) => Self::new(
                StatusCode::CONFLICT,
                "framed_ip_taken",
                "The address is taken",
                Some(e.to_string()),
            ),
            NetworkError::Db(db) => db.into(),
            NetworkError::Secret(_) | NetworkError::Corrupt(_) => Self::internal("network", &e),
        }
    }
}

impl From<NewsError> for ApiError {
    fn from(e: NewsError) -> Self {
        match e {
            NewsError::NotFound => Self::not_found(),
            NewsError::Invalid { .. } => Self::unprocessable("invalid", e.to_string()),
            NewsError::UnknownTariff(_) => Self::unprocessable("unknown_tariff", e.to_string()),
            NewsError::Billing(e) => e.into(),
            NewsError::Db(db) => db.into(),
            NewsError::Corrupt(_) => Self::internal("news", &e),
        }
    }
}

impl From<kabinet_provisioning::import::ImportError> for ApiError {
    fn from(e: kabinet_provisioning::import::ImportError) -> Self {
        use kabinet_provisioning::import::ImportError;
        match e {
            ImportError::Read(_) => Self::bad_request("unreadable_body", e.to_string()),
            ImportError::Access(e) => e.into(),
            ImportError::Billing(e) => e.into(),
        }
    }
}

impl From<kabinet_provisioning::export::ExportError> for ApiError {
    fn from(e: kabinet_provisioning::export::ExportError) -> Self {
        use kabinet_provisioning::export::ExportError;
        match e {
            ExportError::UnknownTenant => Self::not_found(),
            ExportError::Db(e) => e.into(),
            ExportError::Tenancy(e) => e.into(),
            ExportError::Billing(e) => e.into(),
            ExportError::Unrepresentable(_) => Self::internal("manifest export", &e),
        }
    }
}

impl From<kabinet_provisioning::archive::ArchiveError> for ApiError {
    fn from(e: kabinet_provisioning::archive::ArchiveError) -> Self {
        use kabinet_provisioning::archive::ArchiveError;
        match e {
            ArchiveError::NotFound => Self::not_found(),
            ArchiveError::NotReady => Self::new(
                StatusCode::CONFLICT,
                "export_not_ready",
                "The export is not finished",
                Some(e.to_string()),
            ),
            ArchiveError::Db(e) => e.into(),
            ArchiveError::Store(_) | ArchiveError::Io(_) => Self::internal("tenant export", &e),
        }
    }
}

impl From<kabinet_provisioning::deletion::DeletionError> for ApiError {
    fn from(e: kabinet_provisioning::deletion::DeletionError) -> Self {
        use kabinet_provisioning::deletion::DeletionError;
        let conflict = |code: &str, title: &str, e: &DeletionError| {
            Self::new(StatusCode::CONFLICT, code, title, Some(e.to_string()))
        };
        match e {
            DeletionError::ExportRequired => {
                conflict("export_required", "Export the tenant first", &e)
            }
            DeletionError::AlreadyScheduled => conflict(
                "deletion_already_scheduled",
                "A deletion is already scheduled",
                &e,
            ),
            DeletionError::NotScheduled => {
                conflict("deletion_not_scheduled", "No deletion is scheduled", &e)
            }
            DeletionError::ResumeWhileScheduled => conflict(
                "deletion_scheduled",
                "Cancel the scheduled deletion first",
                &e,
            ),
            DeletionError::InvalidReason | DeletionError::InvalidGrace => {
                Self::unprocessable("invalid", e.to_string())
            }
            DeletionError::Tenancy(e) => e.into(),
            DeletionError::Access(e) => e.into(),
            DeletionError::Db(e) => e.into(),
            DeletionError::Mail(_) | DeletionError::Store(_) => {
                Self::internal("tenant deletion", &e)
            }
        }
    }
}

/// Turns a poem error raised outside our handlers into a problem, keeping its status.
fn problem_for_poem_error(err: &poem::Error) -> ApiError {
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseMultipartError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    };
    let status = err.status();
    let detail = Some(err.to_string());
    if err.is::<ParseRequestPayloadError>() || err.is::<ParseMultipartError>() {
        return ApiError::new(
            status,
            "malformed_body",
            "The request body is not valid",
            detail,
        );
    }
    if err.is::<ParseParamError>() || err.is::<ParsePathError>() {
        return ApiError::new(
            status,
            "invalid_parameter",
            "A parameter is not valid",
            detail,
        );
    }
    if err.is::<ContentTypeError>() {
        return ApiError::new(
            status,
            "unsupported_media_type",
            "Unsupported content type",
            detail,
        );
    }
    if err.is::<AuthorizationError>() {
        return ApiError::unauthenticated();
    }
    match status {
        StatusCode::NOT_FOUND => ApiError::new(status, "not_found", "Not found", None),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(status, "method_not_allowed", "Method not allowed", None)
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            "The request body is too large",
            detail,
        ),
        s if s.is_server_error() => ApiError::internal("poem", err),
        s => ApiError::new(s, "bad_request", "Bad request", detail),
    }
}

fn is_problem(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// Outermost error boundary: whatever fails inside becomes problem+json, never a bare 500.
pub async fn problem_responses<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => {
            let fallback = problem_for_poem_error(&err);
            let resp = err.into_response();
            // Errors raised by our own checkers and handlers already are problems.
            if is_problem(&resp) {
                resp
            } else {
                fallback.into_response()
            }
        }
    };
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = crate::allow::allowed_methods(&path)
        && let Ok(value) = poem::http::HeaderValue::from_str(allow)
    {
        resp.headers_mut().insert(header::ALLOW, value);
    }
    Ok(resp)
}

/// A panic in a handler: a bug. Logged (the panic hook printed the backtrace), answered as a 500.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("panic", &"a request handler panicked").into_response()
}
