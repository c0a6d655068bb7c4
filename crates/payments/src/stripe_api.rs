//! The Stripe calls Kabinet makes, through async-stripe. The same code talks to Stripe in
//! production and to the local fake (`crates/fake-stripe`) in tests and the demo: only the base
//! URL differs.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionCustomerCreation, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionLineItemsPriceData, CreateCheckoutSessionPaymentIntentData,
    CreateCheckoutSessionPaymentIntentDataSetupFutureUsage, ExpireCheckoutSession,
    ListCheckoutSession, ProductData,
};
use stripe_connect::account::{
    CreateAccount, CreateAccountBusinessProfile, CreateAccountType, RetrieveAccount,
};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use stripe_core::payment_intent::{
    CreatePaymentIntent, CreatePaymentIntentOffSession, ListPaymentIntent,
};
use stripe_core::refund::CreateRefund;
use stripe_payment::payment_method::{DetachPaymentMethod, ListPaymentMethod};
use stripe_shared::{AccountId, CheckoutSession, CheckoutSessionMode, PaymentIntent};
use stripe_types::{Currency, RangeQueryTs};
use uuid::Uuid;

use crate::error::PaymentsError;

/// Where Stripe is and how to prove who we are.
#[derive(Clone, Debug)]
pub struct StripeSettings {
    /// The platform's secret key (`sk_live_…`); connected accounts are reached with the
    /// `Stripe-Account` header.
    pub secret_key: String,
    /// The signing secret of the platform's Connect webhook endpoint (`whsec_…`).
    pub webhook_secret: String,
    /// `None` is `https://api.stripe.com/`; tests and the demo point this at the fake.
    pub api_base: Option<String>,
}

/// A configured Stripe client.
#[derive(Clone)]
pub struct Stripe {
    pub(crate) client: Client,
    pub(crate) webhook_secret: String,
    /// Connected account → its ISP, for webhooks. An account belongs to one ISP for good
    /// (connecting it to a second one is refused), so a hit can only be stale after that ISP
    /// was deleted, and then for at most a minute; unknown accounts are never cached, so a
    /// newly connected account is found at once.
    pub(crate) owners: moka::future::Cache<String, crate::Connection>,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe").finish_non_exhaustive()
    }
}

/// What a Checkout Session for a top-up needs.
pub(crate) struct CheckoutRequest<'a> {
    pub account: &'a str,
    pub payment: Uuid,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub product_name: &'a str,
    pub application_fee_minor: i64,
    pub success_url: String,
    pub cancel_url: String,
    pub save_card: bool,
    /// The subscriber's Stripe customer when a card was saved before.
    pub customer: Option<&'a str>,
    pub customer_email: Option<&'a str>,
    pub expires_at: i64,
}

/// An off-session charge of a saved card.
pub(crate) struct IntentRequest<'a> {
    pub account: &'a str,
    pub payment: Uuid,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub customer: &'a str,
    pub payment_method: &'a str,
    pub application_fee_minor: i64,
    pub description: &'a str,
}

/// A saved card's display details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CardOnFile {
    pub payment_method: String,
    pub brand: String,
    pub last4: String,
    pub expires: String,
}

impl Stripe {
    pub fn new(settings: &StripeSettings) -> Result<Self, PaymentsError> {
        let mut builder = ClientBuilder::new(settings.secret_key.clone())
            .app_info("Kabinet", Some(env!("CARGO_PKG_VERSION").into()), None)
            .timeout(Duration::from_secs(20));
        if let Some(base) = &settings.api_base {
            builder = builder.url(base.clone());
        }
        let client = builder.build()?;
        Ok(Self {
            client,
            webhook_secret: settings.webhook_secret.clone(),
            owners: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        })
    }

    pub(crate) async fn create_checkout(
        &self,
        req: CheckoutRequest<'_>,
    ) -> Result<CheckoutSession, PaymentsError> {
        let currency = currency(req.currency)?;
        let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency);
        price.unit_amount = Some(req.amount_minor);
        price.product_data = Some(ProductData::new(req.product_name));
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price_data = Some(price);
        item.quantity = Some(1);
        let metadata = payment_metadata(req.payment);
        let mut intent = CreateCheckoutSessionPaymentIntentData::new();
        intent.metadata = Some(metadata.clone());
        intent.description = Some(req.product_name.to_owned());
        if req.application_fee_minor > 0 {
            intent.application_fee_amount = Some(req.application_fee_minor);
        }
        if req.save_card {
            intent.setup_future_usage =
                Some(CreateCheckoutSessionPaymentIntentDataSetupFutureUsage::OffSession);
        }
        let mut create = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(vec![item])
            .payment_intent_data(intent)
            .metadata(metadata)
            .client_reference_id(req.payment.to_string())
            .success_url(req.success_url)
            .cancel_url(req.cancel_url)
            .expires_at(req.expires_at);
        match (req.customer, req.save_card) {
            (Some(customer), _) => create = create.customer(customer),
            (None, true) => {
                create = create.customer_creation(CreateCheckoutSessionCustomerCreation::Always);
                if let Some(email) = req.customer_email {
                    create = create.customer_email(email);
                }
            }
            (None, false) => {}
        }
        Ok(create
            .customize()
            .account_id(account_id(req.account)?)
            .request_strategy(idempotent(req.payment)?)
            .send(&self.client)
            .await?)
    }

    /// Closes an open Checkout Session (the subscriber cancelled); Stripe then sends
    /// `checkout.session.expired`. Returns the session as it stands.
    pub(crate) async fn expire_checkout(
        &self,
        account: &str,
        session: &str,
    ) -> Result<CheckoutSession, PaymentsError> {
        Ok(ExpireCheckoutSession::new(session)
            .customize()
            .account_id(account_id(account)?)
            .send(&self.client)
            .await?)
    }

    /// Every Checkout Session created at or after `since` (unix seconds), newest first.
    pub(crate) async fn checkout_sessions_since(
        &self,
        account: &str,
        since: i64,
    ) -> Result<Vec<CheckoutSession>, PaymentsError> {
        let acct = account_id(account)?;
        all_pages(
            |after| {
                let mut list = ListCheckoutSession::new()
                    .created(RangeQueryTs::gte(since))
                    .limit(100);
                if let Some(a) = after {
                    list = list.starting_after(a);
                }
                let request = list.customize().account_id(acct.clone());
                async move { Ok(request.send(&self.client).await?) }
            },
            |s| s.id.to_string(),
        )
        .await
    }

    /// Every PaymentIntent created at or after `since` (unix seconds), newest first.
    pub(crate) async fn payment_intents_since(
        &self,
        account: &str,
        since: i64,
    ) -> Result<Vec<PaymentIntent>, PaymentsError> {
        let acct = account_id(account)?;
        all_pages(
            |after| {
                let mut list = ListPaymentIntent::new()
                    .created(RangeQueryTs::gte(since))
                    .limit(100);
                if let Some(a) = after {
                    list = list.starting_after(a);
                }
                let request = list.customize().account_id(acct.clone());
                async move { Ok(request.send(&self.client).await?) }
            },
            |p| p.id.to_string(),
        )
        .await
    }

    pub(crate) async fn charge_saved_card(
        &self,
        req: IntentRequest<'_>,
    ) -> Result<PaymentIntent, PaymentsError> {
        let mut create = CreatePaymentIntent::new(req.amount_minor, currency(req.currency)?)
            .customer(req.customer)
            .payment_method(req.payment_method)
            .off_session(CreatePaymentIntentOffSession::Bool(true))
            .confirm(true)
            .description(req.description)
            .metadata(payment_metadata(req.payment));
        if req.application_fee_minor > 0 {
            create = create.application_fee_amount(req.application_fee_minor);
        }
        Ok(create
            .customize()
            .account_id(account_id(req.account)?)
            .request_strategy(idempotent(req.payment)?)
            .send(&self.client)
            .await?)
    }

    /// Refunds `amount_minor` of a PaymentIntent; `key` makes a retried call refund once.
    pub(crate) async fn refund(
        &self,
        account: &str,
        payment_intent: &str,
        amount_minor: i64,
        key: &str,
    ) -> Result<(), PaymentsError> {
        let key = IdempotencyKey::new(key).map_err(|e| PaymentsError::Provider {
            code: None,
            message: e.to_string(),
        })?;
        CreateRefund::new()
            .payment_intent(payment_intent)
            .amount(amount_minor)
            .customize()
            .account_id(account_id(account)?)
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await?;
        Ok(())
    }

    /// Creates the ISP's Express account on the platform. Idempotent per tenant, so a retried or
    /// doubled press gets the same account back from Stripe.
    pub(crate) async fn create_express_account(
        &self,
        tenant: kabinet_core::TenantId,
        profile: &crate::onboarding::ConnectProfile,
    ) -> Result<String, PaymentsError> {
        let key =
            IdempotencyKey::new(format!("kabinet-connect-{}", tenant.as_uuid())).map_err(|e| {
                PaymentsError::Provider {
                    code: None,
                    message: e.to_string(),
                }
            })?;
        let mut business = CreateAccountBusinessProfile::new();
        business.name = Some(profile.business_name.clone());
        let mut create = CreateAccount::new()
            .type_(CreateAccountType::Express)
            .country(profile.country.clone())
            .business_profile(business)
            .metadata(HashMap::from([(
                "kabinet_tenant".to_owned(),
                tenant.as_uuid().to_string(),
            )]));
        if let Some(email) = &profile.email {
            create = create.email(email.clone());
        }
        let account = create
            .customize()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await?;
        Ok(account.id.to_string())
    }

    /// A one-time link to Stripe's hosted onboarding for `account`.
    pub(crate) async fn create_onboarding_link(
        &self,
        account: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> Result<String, PaymentsError> {
        let link = CreateAccountLink::new(account, CreateAccountLinkType::AccountOnboarding)
            .refresh_url(refresh_url)
            .return_url(return_url)
            .send(&self.client)
            .await?;
        Ok(link.url)
    }

    /// Whether Stripe lets `account` take charges now.
    pub(crate) async fn account_charges_enabled(
        &self,
        account: &str,
    ) -> Result<bool, PaymentsError> {
        let account = RetrieveAccount::new(account_id(account)?)
            .send(&self.client)
            .await?;
        Ok(account.charges_enabled.unwrap_or(false))
    }

    /// The customer's first card, if any.
    pub(crate) async fn card_on_file(
        &self,
        account: &str,
        customer: &str,
    ) -> Result<Option<CardOnFile>, PaymentsError> {
        let page = ListPaymentMethod::new()
            .customer(customer)
            .limit(10)
            .customize()
            .account_id(account_id(account)?)
            .send(&self.client)
            .await?;
        Ok(page.data.into_iter().find_map(|pm| {
            pm.card.map(|card| CardOnFile {
                payment_method: pm.id.to_string(),
                brand: card.brand,
                last4: card.last4,
                expires: format!("{:02}/{}", card.exp_month, card.exp_year),
            })
        }))
    }

    pub(crate) async fn detach_card(
        &self,
        account: &str,
        payment_method: &str,
    ) -> Result<(), PaymentsError> {
        DetachPaymentMethod::new(payment_method)
            .customize()
            .account_id(account_id(account)?)
            .send(&self.client)
            .await?;
        Ok(())
    }
}

/// Follows Stripe's cursor (`starting_after` = the last id of a page) until the list ends;
/// stops at 100,000 objects so a runaway account cannot exhaust memory.
async fn all_pages<T, Page, Fut>(
    mut page: Page,
    id: impl Fn(&T) -> String,
) -> Result<Vec<T>, PaymentsError>
where
    Page: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<stripe_types::List<T>, PaymentsError>>,
{
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let list = page(after.take()).await?;
        after = list.data.last().map(&id);
        all.extend(list.data);
        if !list.has_more || after.is_none() || all.len() >= 100_000 {
            return Ok(all);
        }
    }
}

fn payment_metadata(payment: Uuid) -> HashMap<String, String> {
    HashMap::from([("kabinet_payment".to_owned(), payment.to_string())])
}

/// Our payment id is the idempotency key: a retried call after a timeout or a crash finds the
/// object Stripe already made instead of charging again.
fn idempotent(payment: Uuid) -> Result<RequestStrategy, PaymentsError> {
    let key =
        IdempotencyKey::new(format!("kabinet-{payment}")).map_err(|e| PaymentsError::Provider {
            code: None,
            message: e.to_string(),
        })?;
    Ok(RequestStrategy::Idempotent(key))
}

fn account_id(raw: &str) -> Result<AccountId, PaymentsError> {
    AccountId::from_str(raw).map_err(|_| PaymentsError::Unavailable)
}

pub(crate) fn currency(code: &str) -> Result<Currency, PaymentsError> {
    Currency::from_str(&code.to_ascii_lowercase()).map_err(|_| PaymentsError::Provider {
        code: Some("currency".into()),
        message: format!("Stripe does not know currency {code}"),
    })
}

/// The payment id Kabinet put in an object's metadata, if any.
pub(crate) fn metadata_payment(metadata: Option<&HashMap<String, String>>) -> Option<Uuid> {
    metadata?.get("kabinet_payment")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_payment_id_is_read_back_from_metadata_and_junk_is_ignored() {
        let id = Uuid::now_v7();
        assert_eq!(metadata_payment(Some(&payment_metadata(id))), Some(id));
        let junk = HashMap::from([("kabinet_payment".to_owned(), "not-a-uuid".to_owned())]);
        assert_eq!(metadata_payment(Some(&junk)), None);
        assert_eq!(metadata_payment(None), None);
    }

    #[test]
    fn currencies_map_to_stripes_lowercase_codes() {
        assert_eq!(currency("RUB").expect("rub").to_string(), "rub");
        assert_eq!(currency("EUR").expect("eur").to_string(), "eur");
    }
}
