//! Connect: connected accounts, account links and the onboarding flow.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::api::Ctx;
use crate::error::ApiError;
use crate::events::{RequestInfo, emit};
use crate::form::Params;
use crate::store::{Store, new_id, now};

/// How long an account link can be opened, like Stripe's.
const LINK_LIFETIME: i64 = 300;

#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) created: i64,
    kind: String,
    country: String,
    email: Option<String>,
    pub(crate) business_name: Option<String>,
    metadata: BTreeMap<String, String>,
    /// Onboarding finished: charges, payouts and details all enabled.
    pub(crate) onboarded: bool,
}

impl Account {
    /// An account that exists and can take payments from the start.
    pub(crate) fn preexisting(id: &str, business_name: Option<String>) -> Self {
        Self {
            id: id.to_owned(),
            created: now(),
            kind: "standard".to_owned(),
            country: "US".to_owned(),
            email: None,
            business_name,
            metadata: BTreeMap::new(),
            onboarded: true,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let enabled = self.onboarded;
        let capability = if enabled { "active" } else { "inactive" };
        let due: Vec<&str> = if enabled {
            Vec::new()
        } else {
            vec![
                "business_profile.url",
                "external_account",
                "tos_acceptance.date",
            ]
        };
        json!({
            "id": self.id,
            "object": "account",
            "business_profile": {
                "mcc": null,
                "name": self.business_name,
                "product_description": null,
                "support_email": null,
                "support_phone": null,
                "support_url": null,
                "url": null,
            },
            "business_type": null,
            "capabilities": { "card_payments": capability, "transfers": capability },
            "charges_enabled": enabled,
            "country": self.country,
            "created": self.created,
            "default_currency": "usd",
            "details_submitted": enabled,
            "email": self.email,
            "metadata": self.metadata,
            "payouts_enabled": enabled,
            "requirements": {
                "alternatives": [],
                "current_deadline": null,
                "currently_due": due,
                "disabled_reason": if enabled { Value::Null } else { json!("requirements.past_due") },
                "errors": [],
                "eventually_due": due,
                "past_due": due,
                "pending_verification": [],
            },
            "tos_acceptance": { "date": if enabled { json!(self.created) } else { Value::Null } },
            "type": self.kind,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AccountLink {
    /// Identifies the link in its URL.
    pub(crate) token: String,
    pub(crate) account: String,
    pub(crate) refresh_url: String,
    pub(crate) return_url: String,
    pub(crate) expires_at: i64,
    pub(crate) used: bool,
}

/// `POST /v1/accounts` (platform only).
pub(crate) fn create(store: &mut Store, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
    if ctx.scope().is_some() {
        return Err(ApiError::invalid_request(
            None,
            None,
            "Connected accounts cannot create other accounts; omit the Stripe-Account header.",
        ));
    }
    let kind = params.str("type").unwrap_or("standard");
    if !["standard", "express", "custom"].contains(&kind) {
        return Err(ApiError::invalid_param(
            "type",
            "Invalid type: must be one of custom, express, or standard",
        ));
    }
    let account = Account {
        id: new_id("acct_1"),
        created: now(),
        kind: kind.to_owned(),
        country: params.str("country").unwrap_or("US").to_ascii_uppercase(),
        email: params.string("email"),
        business_name: params.string("business_profile[name]"),
        metadata: params.string_map("metadata"),
        onboarded: false,
    };
    let json = account.to_json();
    store.accounts.push(account);
    Ok(json)
}

/// `GET /v1/accounts/{id}`, or `GET /v1/account` for the account in the header.
pub(crate) fn retrieve(store: &Store, ctx: &Ctx, id: Option<&str>) -> Result<Value, ApiError> {
    let Some(id) = id.or(ctx.scope()) else {
        return Err(ApiError::invalid_request(
            None,
            None,
            "The platform account is not modelled by the fake; pass an account id.",
        ));
    };
    if ctx.scope().is_some_and(|scope| scope != id) {
        return Err(ApiError::no_such("account", id));
    }
    store
        .account(id)
        .map(Account::to_json)
        .ok_or_else(|| ApiError::no_such("account", id))
}

/// `POST /v1/account_links`.
pub(crate) fn create_link(
    store: &mut Store,
    ctx: &Ctx,
    params: &Params,
) -> Result<Value, ApiError> {
    if ctx.scope().is_some() {
        return Err(ApiError::invalid_request(
            None,
            None,
            "Account links must be created by the platform; omit the Stripe-Account header.",
        ));
    }
    let account = params.required_str("account")?;
    let kind = params.required_str("type")?;
    if kind != "account_onboarding" && kind != "account_update" {
        return Err(ApiError::invalid_param(
            "type",
            "Invalid type: must be one of account_onboarding or account_update",
        ));
    }
    let refresh_url = params.required_str("refresh_url")?;
    let return_url = params.required_str("return_url")?;
    if store.account(account).is_none() {
        return Err(ApiError::no_such_in_param("account", account, "account"));
    }
    let created = now();
    let link = AccountLink {
        token: new_id(""),
        account: account.to_owned(),
        refresh_url: refresh_url.to_owned(),
        return_url: return_url.to_owned(),
        expires_at: created + LINK_LIFETIME,
        used: false,
    };
    let json = json!({
        "object": "account_link",
        "created": created,
        "expires_at": link.expires_at,
        "url": format!("{}connect/onboarding/{account}?link={}", store.base_url, link.token),
    });
    store.account_links.push(link);
    Ok(json)
}

/// The link `token` for `account`, if it can still be used.
pub(crate) fn usable_link<'a>(
    store: &'a Store,
    account: &str,
    token: &str,
) -> Result<&'a AccountLink, Option<String>> {
    let link = store
        .account_links
        .iter()
        .find(|l| l.token == token && l.account == account)
        .ok_or(None)?;
    if link.used || link.expires_at < now() {
        return Err(Some(link.refresh_url.clone()));
    }
    Ok(link)
}

/// Finishes onboarding through link `token`: enables the account, emits
/// `account.updated`, and returns the URL to send the user back to.
/// `Err(Some(refresh_url))` when the link is used up or expired.
pub(crate) fn finish_onboarding(
    store: &mut Store,
    account: &str,
    token: &str,
) -> Result<String, Option<String>> {
    let return_url = usable_link(store, account, token)?.return_url.clone();
    if let Some(link) = store.account_links.iter_mut().find(|l| l.token == token) {
        link.used = true;
    }
    let Some(acct) = store.accounts.iter_mut().find(|a| a.id == account) else {
        return Err(None);
    };
    if !acct.onboarded {
        acct.onboarded = true;
        let json = acct.to_json();
        emit(
            store,
            Some(account),
            "account.updated",
            json,
            Some(json!({
                "charges_enabled": false,
                "details_submitted": false,
                "payouts_enabled": false,
                "capabilities": { "card_payments": "inactive", "transfers": "inactive" },
            })),
            &RequestInfo::default(),
        );
    }
    Ok(return_url)
}
