use chrono::{DateTime, Utc};
use kabinet_access::directory::subscriber_profile;
use kabinet_core::Money as DomainMoney;
use kabinet_payments::{
    AutopayRule, AutopayView, MAX_TOP_UP_MINOR, MIN_TOP_UP_MINOR, OnlinePayment as DomainPayment,
    PaymentPurpose, PaymentStatus, TopUp, autopay_view, cancel_top_up, connection, forget_card,
    online_payment, recent_online_payments, set_autopay, start_top_up,
};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::dto::Money;
use crate::AppState;
use crate::auth::SubscriberAuth;
use crate::problem::ApiError;

/// Online payments in the cabinet: card top-ups through Stripe Checkout, the saved card and
/// auto-pay.
pub struct PaymentsApi;

#[derive(Debug, Object)]
pub struct TopUpRequest {
    /// Amount in minor units of the ISP's currency.
    #[oai(validator(minimum(value = "100"), maximum(value = "100000000")))]
    pub amount_minor: i64,
    /// Keep the card for next time and for auto-pay.
    pub save_card: bool,
}

#[derive(Debug, Object)]
pub struct TopUpStarted {
    pub payment_id: Uuid,
    /// Send the browser here: Stripe's payment page. It returns to `/payments?payment=<id>`.
    pub checkout_url: String,
}

#[derive(ApiResponse)]
enum TopUpResponse {
    #[oai(status = 201)]
    Created(Json<TopUpStarted>),
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum OnlinePaymentStatus {
    Pending,
    Succeeded,
    Failed,
    Expired,
}

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum OnlinePaymentPurpose {
    TopUp,
    AutoPay,
}

#[derive(Debug, Object)]
pub struct OnlinePayment {
    pub id: Uuid,
    pub purpose: OnlinePaymentPurpose,
    pub amount: Money,
    pub status: OnlinePaymentStatus,
    #[oai(skip_serializing_if_is_none)]
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub settled_at: Option<DateTime<Utc>>,
}

impl From<DomainPayment> for OnlinePayment {
    fn from(p: DomainPayment) -> Self {
        Self {
            id: p.id,
            purpose: match p.purpose {
                PaymentPurpose::TopUp => OnlinePaymentPurpose::TopUp,
                PaymentPurpose::AutoPay => OnlinePaymentPurpose::AutoPay,
            },
            amount: p.amount.into(),
            status: match p.status {
                PaymentStatus::Pending => OnlinePaymentStatus::Pending,
                PaymentStatus::Succeeded => OnlinePaymentStatus::Succeeded,
                PaymentStatus::Failed => OnlinePaymentStatus::Failed,
                PaymentStatus::Expired => OnlinePaymentStatus::Expired,
            },
            failure: p.failure,
            created_at: p.created_at,
            settled_at: p.settled_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct SavedCard {
    /// `visa`, `mastercard`, `mir` …
    pub brand: String,
    pub last4: String,
    /// `MM/YYYY`.
    pub expires: String,
}

#[derive(Debug, Object)]
pub struct Autopay {
    #[oai(skip_serializing_if_is_none)]
    pub card: Option<SavedCard>,
    pub enabled: bool,
    /// Top up when the balance falls below this (minor units).
    pub threshold: Money,
    /// How much to top up.
    pub amount: Money,
    /// Why auto-pay stopped (a declined card) until you change something.
    #[oai(skip_serializing_if_is_none)]
    pub paused_reason: Option<String>,
}

fn autopay_wire(view: AutopayView, currency: kabinet_core::Currency) -> Autopay {
    Autopay {
        card: view.card.map(|c| SavedCard {
            brand: c.brand,
            last4: c.last4,
            expires: c.expires,
        }),
        enabled: view.enabled,
        threshold: DomainMoney::new(view.threshold, currency).into(),
        amount: DomainMoney::new(view.amount, currency).into(),
        paused_reason: view.paused_reason,
    }
}

/// What the payments page needs to draw itself.
#[derive(Debug, Object)]
pub struct PaymentOptions {
    /// The provider takes cards online (Stripe is connected).
    pub online: bool,
    pub min_amount: Money,
    pub max_amount: Money,
    pub autopay: Autopay,
    /// The latest online payments, newest first.
    pub recent: Vec<OnlinePayment>,
}

#[derive(Debug, Object)]
pub struct AutopayRequest {
    pub enabled: bool,
    /// Top up when the balance is below this (minor units; may be negative).
    #[oai(validator(minimum(value = "-100000000"), maximum(value = "100000000")))]
    pub threshold_minor: i64,
    #[oai(validator(minimum(value = "0"), maximum(value = "100000000")))]
    pub amount_minor: i64,
}

#[derive(ApiResponse)]
enum CardForgotten {
    /// The card is forgotten and auto-pay is off.
    #[oai(status = 204)]
    Done,
}

/// `https://demo.kabinet.example` for the request's own Host: Checkout returns here.
fn origin(req: &Request, state: &AppState) -> String {
    let host = req
        .headers()
        .get(poem::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl PaymentsApi {
    /// The payments page: whether card payments are on, limits, saved card, auto-pay and the
    /// latest online payments.
    #[oai(
        path = "/payment-options",
        method = "get",
        operation_id = "getPaymentOptions"
    )]
    async fn options(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<PaymentOptions>, ApiError> {
        let me = auth.0;
        let currency = me.tenant.currency;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let online =
            state.stripe.is_some() && connection(&mut tx).await?.is_some_and(|c| c.takes_cards());
        let autopay = autopay_view(&mut tx, me.id).await?;
        let recent = recent_online_payments(&mut tx, me.id, 10).await?;
        tx.commit().await?;
        Ok(Json(PaymentOptions {
            online,
            min_amount: DomainMoney::new(MIN_TOP_UP_MINOR, currency).into(),
            max_amount: DomainMoney::new(MAX_TOP_UP_MINOR, currency).into(),
            autopay: autopay_wire(autopay, currency),
            recent: recent.into_iter().map(Into::into).collect(),
        }))
    }

    /// Starts a card top-up: returns Stripe Checkout's page to send the browser to.
    #[oai(
        path = "/payments/checkout",
        method = "post",
        operation_id = "startTopUp"
    )]
    async fn top_up(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<TopUpRequest>,
    ) -> Result<TopUpResponse, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let profile = subscriber_profile(&mut tx, me.id)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        tx.commit().await?;
        let origin = origin(req, &state);
        let description = format!(
            "{}: account {}",
            me.tenant.display_name, profile.account_number
        );
        let started = start_top_up(
            &state.db,
            state.stripe.as_deref(),
            me.tenant.id,
            &TopUp {
                subscriber: me.id,
                amount: DomainMoney::new(body.amount_minor, me.tenant.currency),
                save_card: body.save_card,
                origin: &origin,
                description: &description,
                email: profile.email.as_deref(),
            },
            Utc::now(),
        )
        .await?;
        Ok(TopUpResponse::Created(Json(TopUpStarted {
            payment_id: started.payment,
            checkout_url: started.checkout_url,
        })))
    }

    /// One online payment: the page Checkout returns to polls this until it settles.
    #[oai(
        path = "/payments/online/:id",
        method = "get",
        operation_id = "getOnlinePayment"
    )]
    async fn payment(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<OnlinePayment>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let payment = online_payment(&mut tx, me.id, id.0).await?;
        tx.commit().await?;
        Ok(Json(payment.into()))
    }

    /// The subscriber cancelled on Stripe's page: closes the Checkout Session so it can no
    /// longer be paid and returns the payment (`expired`, or `succeeded` if it was paid after all).
    #[oai(
        path = "/payments/online/:id/cancel",
        method = "post",
        operation_id = "cancelTopUp"
    )]
    async fn cancel(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<Json<OnlinePayment>, ApiError> {
        let me = auth.0;
        let payment = cancel_top_up(
            &state.db,
            state.stripe.as_deref(),
            me.tenant.id,
            me.id,
            id.0,
            Utc::now(),
        )
        .await?;
        Ok(Json(payment.into()))
    }

    /// Sets auto-pay: top up the saved card's `amount` when the balance falls below `threshold`.
    #[oai(path = "/autopay", method = "put", operation_id = "setAutopay")]
    async fn set_autopay(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<AutopayRequest>,
    ) -> Result<Json<Autopay>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let view = set_autopay(
            &mut tx,
            me.id,
            AutopayRule {
                enabled: body.enabled,
                threshold: body.threshold_minor,
                amount: body.amount_minor,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Json(autopay_wire(view, me.tenant.currency)))
    }

    /// Forgets the saved card (here and at Stripe); auto-pay stops.
    #[oai(path = "/card", method = "delete", operation_id = "forgetCard")]
    async fn forget_card(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<CardForgotten, ApiError> {
        let me = auth.0;
        forget_card(&state.db, state.stripe.as_deref(), me.tenant.id, me.id).await?;
        Ok(CardForgotten::Done)
    }
}
