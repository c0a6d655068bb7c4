//! The browser-facing pages Stripe hosts: Checkout's payment page and
//! Connect onboarding. Plain HTML forms, no JavaScript.

use std::fmt::Write as _;
use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Html, Path, Query};
use poem::{Body, IntoResponse, Response, handler};
use serde::Deserialize;

use crate::checkout::{CheckoutSession, Status};
use crate::customers::Card;
use crate::error::FakeError;
use crate::events::spawn_deliveries;
use crate::form::Params;
use crate::{Inner, accounts};

/// Currencies without minor units (amounts are in whole units).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// `50000, "usd"` → `500.00 USD`.
pub(crate) fn format_amount(amount: i64, currency: &str) -> String {
    let code = currency.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&currency) {
        return format!("{amount} {code}");
    }
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!("{sign}{}.{:02} {code}", abs / 100, abs % 100)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font-family: -apple-system, "Segoe UI", Roboto, sans-serif; background: #f6f9fc; color: #30313d; margin: 0; }}
  main {{ max-width: 420px; margin: 48px auto; background: #fff; border-radius: 8px; padding: 32px;
         box-shadow: 0 2px 12px rgba(50, 50, 93, .12); }}
  .test {{ display: inline-block; background: #ffde92; color: #a04b00; font-size: 12px; font-weight: 600;
          border-radius: 4px; padding: 2px 6px; }}
  h1 {{ font-size: 18px; margin: 12px 0 4px; }}
  .amount {{ font-size: 32px; font-weight: 600; margin: 8px 0 20px; }}
  table {{ width: 100%; border-collapse: collapse; margin-bottom: 20px; font-size: 14px; }}
  td {{ padding: 6px 0; border-bottom: 1px solid #ebeef1; }} td.num {{ text-align: right; }}
  label {{ display: block; font-size: 14px; margin: 12px 0 4px; }}
  input {{ width: 100%; box-sizing: border-box; padding: 10px; font-size: 16px; border: 1px solid #d5dbe1; border-radius: 6px; }}
  button {{ width: 100%; margin-top: 20px; padding: 12px; font-size: 16px; font-weight: 600; color: #fff;
           background: #635bff; border: 0; border-radius: 6px; cursor: pointer; }}
  .error {{ background: #fde8e8; color: #c0123c; border-radius: 6px; padding: 10px; margin-bottom: 12px; }}
  .muted {{ color: #6a7383; font-size: 13px; }} a {{ color: #635bff; }}
</style>
</head>
<body><main><span class="test">TEST MODE · fake Stripe</span>
{body}
</main></body>
</html>"#
    )
}

fn checkout_page(merchant: &str, session: &CheckoutSession, card: &str, email: &str) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(merchant));
    match session.status {
        Status::Complete if session.mode == "setup" => {
            body.push_str("<p>Your card is saved. Thank you!</p>");
            return layout("Card saved", &body);
        }
        Status::Complete => {
            body.push_str("<p>This payment is complete. Thank you!</p>");
            return layout("Payment complete", &body);
        }
        Status::Expired => {
            body.push_str("<p>This checkout session has expired.</p>");
            return layout("Session expired", &body);
        }
        Status::Open => {}
    }
    let currency = session.currency.as_deref().unwrap_or("usd");
    if let Some(total) = session.amount_total() {
        let _ = writeln!(
            body,
            r#"<div class="amount">{}</div><table>"#,
            format_amount(total, currency)
        );
        for item in &session.line_items {
            let _ = writeln!(
                body,
                r#"<tr><td>{} × {}</td><td class="num">{}</td></tr>"#,
                escape(&item.name),
                item.quantity,
                format_amount(item.unit_amount * item.quantity, currency)
            );
        }
        body.push_str("</table>\n");
    } else {
        body.push_str(r#"<p class="muted">Save a card for future payments.</p>"#);
    }
    if let Some(message) = &session.last_decline {
        let _ = writeln!(
            body,
            r#"<div class="error" role="alert">{}</div>"#,
            escape(message)
        );
    }
    let button = if session.mode == "payment" {
        "Pay"
    } else {
        "Save card"
    };
    let _ = write!(
        body,
        r#"<form method="post" action="/checkout/pay/{id}">
<label for="email">Email</label>
<input id="email" name="email" type="email" value="{email}">
<label for="card">Card number</label>
<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" value="{card}">
<p class="muted">Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.</p>
<button type="submit">{button}</button>
</form>
"#,
        id = escape(&session.id),
        email = escape(email),
        card = escape(card),
    );
    if let Some(cancel) = &session.cancel_url {
        let _ = write!(
            body,
            r#"<p class="muted"><a href="{}">Cancel and return to {}</a></p>"#,
            escape(cancel),
            escape(merchant)
        );
    }
    layout(&format!("Pay {}", escape(merchant)), &body)
}

fn not_found(what: &str) -> Response {
    Html(layout("Not found", &format!("<p>No such {what}.</p>")))
        .with_status(StatusCode::NOT_FOUND)
        .into_response()
}

fn see_other(url: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("Location", url)
        .finish()
}

/// `GET /checkout/pay/{id}`: the hosted payment page.
#[handler]
pub(crate) fn checkout_get(Path(id): Path<String>, Data(inner): Data<&Arc<Inner>>) -> Response {
    let store = inner.lock();
    let Some(session) = store.sessions.iter().find(|s| s.id == id) else {
        return not_found("checkout session");
    };
    let merchant = store.merchant_name(session.account.as_deref());
    let email = session.customer_email.clone().unwrap_or_default();
    Html(checkout_page(
        &merchant,
        session,
        "4242 4242 4242 4242",
        &email,
    ))
    .into_response()
}

/// `POST /checkout/pay/{id}` with form fields `card` and `email`: pays, then
/// redirects to `success_url`; a declined card re-renders the page.
#[handler]
pub(crate) async fn checkout_post(
    Path(id): Path<String>,
    body: Body,
    Data(inner): Data<&Arc<Inner>>,
) -> Response {
    let form = match body.into_string().await.map(|b| Params::parse(&b)) {
        Ok(Ok(form)) => form,
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    let card_number = form.str("card").unwrap_or("4242424242424242").to_owned();
    let email = form.string("email");
    let (result, outbox) = {
        let mut store = inner.lock();
        let result = crate::checkout::complete(
            &mut store,
            &id,
            Card::from_number(&card_number),
            email.clone(),
        );
        (result, store.take_outbox())
    };
    spawn_deliveries(inner, outbox);
    let store = inner.lock();
    let Some(session) = store.sessions.iter().find(|s| s.id == id) else {
        return not_found("checkout session");
    };
    match result {
        Ok(_) => match &session.success_url {
            Some(url) => see_other(&url.replace("{CHECKOUT_SESSION_ID}", &session.id)),
            None => Html(layout("Payment complete", "<p>Payment complete.</p>")).into_response(),
        },
        Err(err) => {
            let status = match err {
                FakeError::CardDeclined { .. } => StatusCode::PAYMENT_REQUIRED,
                _ => StatusCode::CONFLICT,
            };
            let merchant = store.merchant_name(session.account.as_deref());
            Html(checkout_page(
                &merchant,
                session,
                &card_number,
                email.as_deref().unwrap_or_default(),
            ))
            .with_status(status)
            .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LinkQuery {
    link: String,
}

/// `GET /connect/onboarding/{acct}?link=...`: the onboarding form.
#[handler]
pub(crate) fn onboarding_get(
    Path(account): Path<String>,
    Query(query): Query<LinkQuery>,
    Data(inner): Data<&Arc<Inner>>,
) -> Response {
    let store = inner.lock();
    match accounts::usable_link(&store, &account, &query.link) {
        Err(Some(refresh_url)) => see_other(&refresh_url),
        Err(None) => not_found("account link"),
        Ok(_) => {
            let name = store.merchant_name(Some(&account));
            let body = format!(
                r#"<h1>Set up payments for {name}</h1>
<p class="muted">Account {account}. In test mode no details are needed.</p>
<form method="post" action="/connect/onboarding/{account}?link={link}">
<button type="submit">Finish onboarding</button>
</form>"#,
                name = escape(&name),
                account = escape(&account),
                link = escape(&query.link),
            );
            Html(layout("Stripe onboarding", &body)).into_response()
        }
    }
}

/// `POST /connect/onboarding/{acct}?link=...`: enables the account, emits
/// `account.updated`, redirects to the link's `return_url`.
#[handler]
pub(crate) fn onboarding_post(
    Path(account): Path<String>,
    Query(query): Query<LinkQuery>,
    Data(inner): Data<&Arc<Inner>>,
) -> Response {
    let (result, outbox) = {
        let mut store = inner.lock();
        let result = accounts::finish_onboarding(&mut store, &account, &query.link);
        (result, store.take_outbox())
    };
    spawn_deliveries(inner, outbox);
    match result {
        Ok(return_url) => see_other(&return_url),
        Err(Some(refresh_url)) => see_other(&refresh_url),
        Err(None) => not_found("account link"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_amounts_with_minor_units() {
        assert_eq!(format_amount(50000, "usd"), "500.00 USD");
        assert_eq!(format_amount(5, "eur"), "0.05 EUR");
        assert_eq!(format_amount(500, "jpy"), "500 JPY");
    }
}
