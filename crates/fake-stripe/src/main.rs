//! `fake-stripe`: runs the fake Stripe API as a standalone server for the demo.

use std::collections::HashMap;
use std::net::SocketAddr;

use clap::Parser;
use kabinet_fake_stripe::{Config, FakeStripe};

/// A local fake of Stripe's API (Connect, Checkout, PaymentIntents, refunds,
/// signed webhooks). For tests and the demo only.
#[derive(Debug, Parser)]
#[command(name = "fake-stripe", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "FAKE_STRIPE_LISTEN", default_value = "127.0.0.1:12111")]
    listen: SocketAddr,
    /// The platform secret key clients must present.
    #[arg(long, env = "FAKE_STRIPE_SECRET_KEY", default_value = "sk_test_fake")]
    secret_key: String,
    /// The secret webhooks are signed with.
    #[arg(long, env = "FAKE_STRIPE_WEBHOOK_SECRET", default_value = "whsec_fake")]
    webhook_secret: String,
    /// Where to POST webhook events.
    #[arg(long, env = "FAKE_STRIPE_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// A connected account that exists (onboarded) from the start; repeatable.
    /// `acct_x=Business Name` also sets the name shown on hosted pages.
    #[arg(long = "account")]
    accounts: Vec<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut accounts = Vec::new();
    let mut business_names = HashMap::new();
    for spec in args.accounts {
        match spec.split_once('=') {
            Some((id, name)) => {
                business_names.insert(id.to_owned(), name.to_owned());
                accounts.push(id.to_owned());
            }
            None => accounts.push(spec),
        }
    }
    let fake = FakeStripe::start(
        args.listen,
        Config {
            secret_key: args.secret_key,
            webhook_secret: args.webhook_secret,
            webhook_url: args.webhook_url,
            accounts,
            business_names,
        },
    )
    .await?;
    eprintln!("fake Stripe API at {}", fake.base_url());
    tokio::signal::ctrl_c().await
}
