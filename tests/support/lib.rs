//! Test support: a fresh database per test (migrations applied, connected as the app role) and
//! the real HTTP app on a random port, spoken to over HTTP with a cookie-keeping client per
//! tenant host — as a browser would.
//!
//! The server is `KABINET_TEST_ADMIN_URL` (a superuser URL) when set, else a disposable local
//! cluster under `target/kabinet-test-pg`, started on first use and shared by parallel tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context;
use kabinet_db::bootstrap::{ensure_roles, with_user};
use kabinet_db::embedded::{Durability, EmbeddedCluster};
use kabinet_db::{APP_ROLE, Database, OWNER_ROLE};
use kabinet_gateway::{AppState, GatewayConfig, build_app};
use poem::listener::TcpAcceptor;
use reqwest::{Response, StatusCode};
use serde_json::Value;

pub mod radius;
pub mod s3;
mod smtp;
pub mod stats;

pub use kabinet_fake_stripe::{Completion, Config as FakeConfig, FakeStripe, TestCard};
pub use reqwest;
pub use serde_json::json;
pub use smtp::{MailCatcher, ReceivedMail};

/// The platform's Stripe keys in tests and in the demo (`deploy/dev.sh`): the fake's.
pub const STRIPE_SECRET_KEY: &str = "sk_test_kabinet_platform";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_kabinet_test";
/// The demo ISPs' connected accounts (`tenants/*.toml`, `[payments]`).
pub const DEMO_STRIPE_ACCOUNT: &str = "acct_1KabinetDemo";
pub const NORTHNET_STRIPE_ACCOUNT: &str = "acct_1KabinetNorthnet";

/// Pays on the fake's hosted Checkout page as the subscriber's browser would; returns where
/// the page redirects to (the portal's return URL), or the page's status when it does not.
pub async fn pay_on_checkout_page(checkout_url: &str, card: &str) -> Result<String, StatusCode> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let resp = http
        .post(checkout_url)
        .form(&[("card", card)])
        .send()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    match resp.headers().get(reqwest::header::LOCATION) {
        Some(to) if resp.status().is_redirection() => {
            Ok(to.to_str().unwrap_or_default().to_owned())
        }
        _ => Err(resp.status()),
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

fn admin_base_url() -> anyhow::Result<String> {
    static URL: OnceLock<String> = OnceLock::new();
    if let Some(url) = URL.get() {
        return Ok(url.clone());
    }
    let url = match std::env::var("KABINET_TEST_ADMIN_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            let dir = repo_root().join("target/kabinet-test-pg/pg");
            let port = std::env::var("KABINET_TEST_PG_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(checkout_port);
            let cluster = EmbeddedCluster::start(&dir, port, Durability::Disposable)
                .context("starting the test PostgreSQL cluster")?;
            cluster.admin_url("postgres")
        }
    };
    Ok(URL.get_or_init(|| url).clone())
}

/// A port for this checkout's test cluster, stable per checkout path, so two checkouts on one
/// machine (a developer's and CI's) never fight over one port: 26000–26999, below the kernel's
/// ephemeral range (32768+) so that no outgoing connection can be holding it.
fn checkout_port() -> u16 {
    let sum = repo_root().to_string_lossy().bytes().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    });
    26_000 + (sum % 1000) as u16
}

/// A fresh database with every migration applied.
pub struct TestDb {
    pub name: String,
    /// Superuser: bypasses row-level security. For assertions only, never for the app.
    pub admin_url: String,
    pub owner_url: String,
    pub app_url: String,
    pub db: Database,
}

impl TestDb {
    pub async fn new() -> anyhow::Result<Self> {
        Self::new_on(&admin_base_url()?).await
    }

    /// A fresh database on the server at `base` (a superuser URL), e.g. [`stats::StatsCluster`].
    pub async fn new_on(base: &str) -> anyhow::Result<Self> {
        let base = base.to_owned();
        ensure_roles(&base).await?;
        let name = format!("kabinet_test_{}", uuid::Uuid::new_v4().simple());
        {
            use kabinet_db::sqlx::Connection;
            let mut conn = kabinet_db::sqlx::PgConnection::connect(&base).await?;
            drop_stale_databases(&mut conn).await;
            kabinet_db::sqlx::query(&format!("CREATE DATABASE {name} OWNER {OWNER_ROLE}"))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        let admin_url = with_user(&base, "postgres", Some(&name))?;
        kabinet_db::bootstrap::tune_database(&admin_url).await?;
        let owner_url = with_user(&base, OWNER_ROLE, Some(&name))?;
        let app_url = with_user(&base, APP_ROLE, Some(&name))?;
        kabinet_db::migrate(&owner_url).await?;
        let db = Database::connect(&app_url, 8).await?;
        Ok(Self {
            name,
            admin_url,
            owner_url,
            app_url,
            db,
        })
    }

    /// A superuser connection to this database, for looking behind row-level security.
    pub async fn admin(&self) -> anyhow::Result<kabinet_db::sqlx::PgConnection> {
        use kabinet_db::sqlx::Connection;
        Ok(kabinet_db::sqlx::PgConnection::connect(&self.admin_url).await?)
    }

    /// Applies the repository's demo manifests (`tenants/`).
    pub async fn apply_demo_tenants(&self) -> anyhow::Result<()> {
        kabinet_provisioning::apply_dir(&self.db, &repo_root().join("tenants"), "localhost")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }
}

/// Test databases from earlier runs (older than an hour) are dropped as new ones are made.
async fn drop_stale_databases(conn: &mut kabinet_db::sqlx::PgConnection) {
    let stale: Vec<String> = kabinet_db::sqlx::query_scalar(
        "SELECT datname FROM pg_database d WHERE datname LIKE 'kabinet_test_%' \
           AND (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification < now() - interval '1 hour'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for name in stale {
        let _ = kabinet_db::sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut *conn)
            .await;
    }
}

/// The real application, serving on a random loopback port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub state: AppState,
}

impl TestApp {
    /// A fresh database with the demo tenants, and the app serving it.
    pub async fn spawn() -> anyhow::Result<Self> {
        let db = TestDb::new().await?;
        db.apply_demo_tenants().await?;
        Self::serve(db, GatewayConfig::default()).await
    }

    /// The demo tenants with online payments: a fake Stripe (`crates/fake-stripe`) holding both
    /// demo ISPs' connected accounts, the app talking to it, and its webhooks coming back here.
    pub async fn spawn_with_stripe() -> anyhow::Result<(Self, FakeStripe)> {
        let fake = FakeStripe::start(
            "127.0.0.1:0".parse()?,
            FakeConfig {
                secret_key: STRIPE_SECRET_KEY.into(),
                webhook_secret: STRIPE_WEBHOOK_SECRET.into(),
                webhook_url: None,
                accounts: vec![DEMO_STRIPE_ACCOUNT.into(), NORTHNET_STRIPE_ACCOUNT.into()],
                ..FakeConfig::default()
            },
        )
        .await?;
        let db = TestDb::new().await?;
        db.apply_demo_tenants().await?;
        let stripe = kabinet_payments::Stripe::new(&kabinet_payments::StripeSettings {
            secret_key: STRIPE_SECRET_KEY.into(),
            webhook_secret: STRIPE_WEBHOOK_SECRET.into(),
            api_base: Some(fake.base_url()),
        })?;
        let app = Self::serve_with(db, GatewayConfig::default(), Some(stripe)).await?;
        fake.set_webhook_url(&format!("http://{}/webhooks/stripe", app.addr));
        Ok((app, fake))
    }

    /// The demo tenants with outgoing mail: an in-process SMTP server ([`MailCatcher`]) and the
    /// app's mail sender worker delivering to it, as `kabinet serve` runs it.
    pub async fn spawn_with_mail() -> anyhow::Result<(Self, MailCatcher)> {
        let catcher = MailCatcher::start()?;
        let db = TestDb::new().await?;
        db.apply_demo_tenants().await?;
        let app = Self::serve(db, GatewayConfig::default()).await?;
        kabinet_mail::spawn_worker(app.db.db.clone(), mail_settings(Some(catcher.smtp_url())))?;
        Ok((app, catcher))
    }

    /// Another app process (same database) — for "two nodes behave as one".
    pub async fn serve(db: TestDb, config: GatewayConfig) -> anyhow::Result<Self> {
        Self::serve_with(db, config, None).await
    }

    async fn serve_with(
        db: TestDb,
        config: GatewayConfig,
        stripe: Option<kabinet_payments::Stripe>,
    ) -> anyhow::Result<Self> {
        let mut state = AppState::new(db.db.clone(), config);
        if let Some(stripe) = stripe {
            state = state.with_stripe(stripe);
        }
        state.spawn_background();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let acceptor = TcpAcceptor::from_std(listener)?;
        let app = build_app(state.clone());
        tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Ok(Self { addr, db, state })
    }

    /// A second app on the same database, as a second node behind the load balancer would be.
    pub async fn second_node(&self) -> anyhow::Result<TestApp> {
        let db = TestDb {
            name: self.db.name.clone(),
            admin_url: self.db.admin_url.clone(),
            owner_url: self.db.owner_url.clone(),
            app_url: self.db.app_url.clone(),
            db: Database::connect(&self.db.app_url, 8).await?,
        };
        Self::serve(db, GatewayConfig::default()).await
    }

    /// A browser-like client (own cookie jar) for `<host>`, e.g. `demo.localhost`.
    pub fn client(&self, host: &str) -> Client {
        Client::new(self.addr, host)
    }

    /// A client signed in as a subscriber (by account number, e-mail or phone).
    pub async fn subscriber(&self, host: &str, login: &str) -> Client {
        let mut client = self.client(host);
        json_body(
            client.login_subscriber(login, PASSWORD).await,
            StatusCode::OK,
        )
        .await;
        client
    }

    /// A client signed in as a staff member.
    pub async fn staff(&self, host: &str, email: &str) -> Client {
        let mut client = self.client(host);
        json_body(client.login_staff(email, PASSWORD).await, StatusCode::OK).await;
        client
    }
}

/// A cookie-keeping HTTP client bound to one host, resolved to the test app.
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
}

impl Client {
    pub fn new(addr: SocketAddr, host: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .resolve(host, addr)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client builds");
        Self {
            http,
            base: format!("http://{host}:{}", addr.port()),
            csrf: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }

    /// A JSON POST with this client's CSRF token, as the web app sends it.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(token) = &self.csrf {
            req = req.header("x-csrf-token", token);
        }
        req.send().await.expect("request")
    }

    /// A JSON PUT with this client's CSRF token.
    pub async fn put(&self, path: &str, body: &Value) -> Response {
        let mut req = self.http.put(self.url(path)).json(body);
        if let Some(token) = &self.csrf {
            req = req.header("x-csrf-token", token);
        }
        req.send().await.expect("request")
    }

    /// A DELETE with this client's CSRF token, as the web app sends it.
    pub async fn delete(&self, path: &str) -> Response {
        let mut req = self.http.delete(self.url(path));
        if let Some(token) = &self.csrf {
            req = req.header("x-csrf-token", token);
        }
        req.send().await.expect("request")
    }

    /// Opens a ticket as the signed-in subscriber; returns the created ticket.
    pub async fn open_ticket(&self, category: &str, subject: &str, description: &str) -> Value {
        let body = json!({"category": category, "subject": subject, "description": description});
        json_body(
            self.post("/api/v1/me/tickets", &body).await,
            StatusCode::CREATED,
        )
        .await
    }

    /// Raw access for unusual requests (bad bodies, missing headers).
    pub fn raw(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn login_subscriber(&mut self, login: &str, password: &str) -> Response {
        let resp = self
            .post(
                "/api/v1/auth/subscriber/login",
                &json!({"login": login, "password": password}),
            )
            .await;
        self.remember_csrf(resp).await
    }

    pub async fn login_staff(&mut self, email: &str, password: &str) -> Response {
        let resp = self
            .post(
                "/api/v1/auth/staff/login",
                &json!({"email": email, "password": password}),
            )
            .await;
        self.remember_csrf(resp).await
    }

    pub async fn login_operator(&mut self, email: &str, password: &str) -> Response {
        let resp = self
            .post(
                "/api/v1/auth/operator/login",
                &json!({"email": email, "password": password}),
            )
            .await;
        self.remember_csrf(resp).await
    }

    /// The second step of a sign-in with two-factor authentication.
    pub async fn login_second_factor(&mut self, challenge: &str, code: &str) -> Response {
        let resp = self
            .post(
                "/api/v1/auth/login/second-factor",
                &json!({"challenge": challenge, "code": code}),
            )
            .await;
        self.remember_csrf(resp).await
    }

    async fn remember_csrf(&mut self, resp: Response) -> Response {
        // Re-wrap: read the body once, keep the token, hand back an equivalent response.
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        if status == StatusCode::OK
            && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
        {
            self.csrf = v["csrf_token"].as_str().map(str::to_owned);
        }
        let mut builder = http::Response::builder().status(status);
        for (k, v) in &headers {
            builder = builder.header(k, v);
        }
        Response::from(builder.body(bytes).expect("response"))
    }
}

/// Reads a JSON body, asserting the status first (with the body in the message on mismatch).
pub async fn json_body(resp: Response, expected: StatusCode) -> Value {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.expect("body");
    assert_eq!(status, expected, "unexpected status; body: {text}");
    if !status.is_success() {
        assert!(
            content_type.starts_with("application/problem+json"),
            "errors are problem+json, got {content_type:?}: {text}"
        );
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts a problem response with the given status and stable code.
pub async fn assert_problem(resp: Response, status: StatusCode, code: &str) -> Value {
    let body = json_body(resp, status).await;
    assert_eq!(body["code"], code, "problem code; body: {body}");
    assert_eq!(body["status"], status.as_u16());
    body
}

pub const PASSWORD: &str = "demo-password";

/// Mail settings as `kabinet serve` builds them from the environment, sweeping every second.
pub fn mail_settings(smtp_url: Option<String>) -> kabinet_mail::MailSettings {
    kabinet_mail::MailSettings {
        smtp_url,
        from: "noreply@kabinet.test".into(),
        sweep_every: Duration::from_secs(1),
        retry: kabinet_mail::RetryPolicy::default(),
    }
}

/// Seconds since the Unix epoch, as an authenticator app reads its clock.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The six-digit code an authenticator app shows at `unix_time` for a base32 secret
/// (RFC 6238: SHA-1, 30-second steps).
pub fn totp_code(secret_base32: &str, unix_time: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).expect("base32 secret");
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .expect("TOTP parameters")
        .generate(unix_time)
        .to_string()
}
