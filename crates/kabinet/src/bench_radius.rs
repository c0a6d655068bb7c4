//! `kabinet bench radius`: generates ISPs with service logins (and a NAS each) in a scratch
//! database, serves the internal listener in-process and drives it over HTTP as FreeRADIUS's
//! `rest` module does: authorizations (PAP, checked against the sealed password) and
//! accounting (Start, then Interim-Update), from concurrent clients. Prints requests per second
//! and latency percentiles.
//!
//! With `--through-freeradius` it then starts a real FreeRADIUS from `deploy/freeradius/`
//! (rendered by `render.sh` into a scratch directory, on free loopback ports) and plays the
//! NAS: one UDP socket per NAS source address (`127.1.x.y`, each ISP's NAS registered at its
//! own address, so dynamic clients resolve every ISP), Access-Requests with a hidden
//! User-Password and a Message-Authenticator, and signed Accounting-Requests, each answer's
//! authenticator checked. It prints the end-to-end figures (NAS → FreeRADIUS → Kabinet →
//! FreeRADIUS → NAS) next to the time Kabinet's endpoint spent on the same requests, measured
//! around the internal app.
//!
//! A benchmark, not a test: it asserts nothing.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use kabinet_access::SecretKey;
use kabinet_core::TenantId;
use kabinet_db::bootstrap::{drop_database, ensure_database, ensure_roles, with_user};
use kabinet_db::{APP_ROLE, Database, OWNER_ROLE, sqlx};
use kabinet_gateway::{AppState, GatewayConfig, build_internal_app};
use kabinet_network::local_freeradius::{LocalFreeRadius, LocalFreeRadiusConfig};
use kabinet_network::radius::{self, Attr, Packet};
use kabinet_network::{NasSpec, Vendor};
use poem::{Endpoint, EndpointExt};
use serde_json::json;
use tokio::net::UdpSocket;
use uuid::Uuid;

pub struct RadiusBenchOptions {
    pub tenants: u32,
    pub logins_per_tenant: u32,
    pub requests: usize,
    pub concurrency: Vec<usize>,
    /// Also drive a real FreeRADIUS over UDP.
    pub through_freeradius: bool,
    /// Application connections to PostgreSQL (`kabinet serve` uses `KABINET_DB_POOL`).
    pub pool: u32,
    pub keep: bool,
}

const TOKEN: &str = "bench-radius-token";
const PASSWORD: &str = "bench-password";

/// Each ISP's NAS: a loopback address of its own, so the FreeRADIUS mode can send from it
/// (Linux answers for all of 127.0.0.0/8). 127.1.0.1 … for up to 62,500 ISPs.
fn nas_address(t: u32) -> Ipv4Addr {
    Ipv4Addr::new(
        127,
        (1 + t / 62_500) as u8,
        ((t / 250) % 250) as u8,
        (1 + t % 250) as u8,
    )
}

/// Request latencies as the internal app saw them (from the request line to the response),
/// shared with the middleware wrapped around it.
#[derive(Clone, Default)]
struct ServerTimes(Arc<Mutex<Vec<Duration>>>);

impl ServerTimes {
    fn push(&self, d: Duration) {
        if let Ok(mut v) = self.0.lock() {
            v.push(d);
        }
    }

    fn take(&self) -> Vec<Duration> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// Latency summary of one run.
struct Summary {
    count: usize,
    p50: f64,
    p99: f64,
    max: f64,
}

fn summarize(mut all: Vec<Duration>) -> Summary {
    all.sort();
    let pct = |p: f64| {
        let idx = ((all.len() as f64 - 1.0) * p).round() as usize;
        all.get(idx).copied().unwrap_or_default().as_secs_f64() * 1000.0
    };
    Summary {
        count: all.len(),
        p50: pct(0.5),
        p99: pct(0.99),
        max: all.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    }
}

pub async fn radius(admin_url: &str, opts: RadiusBenchOptions) -> anyhow::Result<()> {
    let name = format!("kabinet_bench_radius_{}", Utc::now().format("%Y%m%d%H%M%S"));
    ensure_roles(admin_url).await?;
    ensure_database(admin_url, &name).await?;
    let result = run(admin_url, &name, &opts).await;
    if !opts.keep {
        drop_database(admin_url, &name).await?;
    }
    result
}

async fn run(admin_url: &str, name: &str, opts: &RadiusBenchOptions) -> anyhow::Result<()> {
    kabinet_db::migrate(&with_user(admin_url, OWNER_ROLE, Some(name))?).await?;
    let db = Database::connect(&with_user(admin_url, APP_ROLE, Some(name))?, opts.pool).await?;
    let key = SecretKey::development();
    let total = u64::from(opts.tenants) * u64::from(opts.logins_per_tenant);
    println!(
        "bench radius: {} tenants × {} service logins = {total} logins, {} database connections \
         (database {name})",
        opts.tenants, opts.logins_per_tenant, opts.pool
    );
    let started = Instant::now();
    let secrets = generate(&db, &key, opts).await?;
    println!("  generated in {:.1} s", started.elapsed().as_secs_f64());
    {
        use sqlx::Connection;
        let mut owner =
            sqlx::PgConnection::connect(&with_user(admin_url, OWNER_ROLE, Some(name))?).await?;
        sqlx::query("ANALYZE").execute(&mut owner).await?;
    }

    let config = GatewayConfig {
        secret_key: key,
        ..GatewayConfig::default()
    };
    let state = AppState::new(db.clone(), config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let acceptor = poem::listener::TcpAcceptor::from_std(listener)?;
    let times = ServerTimes::default();
    let recorder = times.clone();
    let app = build_internal_app(state, TOKEN.into()).around(move |ep, req| {
        let recorder = recorder.clone();
        async move {
            let t = Instant::now();
            let resp = ep.call(req).await;
            recorder.push(t.elapsed());
            resp
        }
    });
    let server = tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    let base = format!("http://{addr}");
    for kind in [Kind::Authorize, Kind::Accounting] {
        for &c in &opts.concurrency {
            drive(&base, opts, c, kind, &times).await?;
        }
    }
    if opts.through_freeradius {
        let (auth_port, acct_port) = free_ports()?;
        let freeradius = LocalFreeRadius::start(&LocalFreeRadiusConfig {
            deploy_dir: &deploy_dir(),
            kabinet: addr,
            token: TOKEN,
            auth_port,
            acct_port,
            // The bench's NAS are IPv4 loopback addresses.
            ipv6: false,
            // Clients live through the whole run: an expiry mid-run would drop packets while
            // FreeRADIUS asks Kabinet again, which is not what is being measured.
            client_lifetime_secs: 3600,
        })
        .await?;
        println!(
            "  FreeRADIUS {} (auth {}, acct {})",
            LocalFreeRadius::version(),
            freeradius.auth,
            freeradius.acct,
        );
        let nas = Arc::new(secrets);
        let outcome = async {
            warm_up(&freeradius, &nas, opts).await?;
            times.take();
            for kind in [Kind::Authorize, Kind::Accounting] {
                for &c in &opts.concurrency {
                    drive_udp(&freeradius, &nas, opts, c, kind, &times).await?;
                }
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = &outcome {
            eprintln!("FreeRADIUS log:\n{}", freeradius.log_tail());
            eprintln!("bench failed: {e:#}");
        }
        drop(freeradius);
        outcome?;
    }
    server.abort();
    db.close().await;
    Ok(())
}

/// Tenants with a tariff, `logins_per_tenant` subscribers with a PPPoE login each and one NAS;
/// returns each ISP's NAS address and shared secret.
async fn generate(
    db: &Database,
    key: &SecretKey,
    opts: &RadiusBenchOptions,
) -> anyhow::Result<Vec<(Ipv4Addr, String)>> {
    let mut out = Vec::new();
    for t in 0..opts.tenants {
        let tenant = TenantId::new();
        let mut tx = db.tenant_tx(tenant).await?;
        sqlx::query(
            "INSERT INTO tenants (id, slug, display_name, saas_plan, currency) VALUES ($1, $2, $3, 'pro', 'RUB')",
        )
        .bind(tenant.as_uuid())
        .bind(format!("radius{t}"))
        .bind(format!("Radius ISP {t}"))
        .execute(tx.conn())
        .await?;
        let subscribers: Vec<Uuid> = sqlx::query_scalar(
            "WITH tariff AS ( \
               INSERT INTO tariffs (tenant_id, id, code, name, monthly_price_minor, currency, speed_mbps, upload_speed_mbps) \
               VALUES ($1, gen_random_uuid(), 'home', 'Home', 50000, 'RUB', 100, 50) RETURNING id), \
             subs AS ( \
               INSERT INTO subscribers (tenant_id, id, account_number, full_name) \
               SELECT $1, gen_random_uuid(), 'R' || g, 'Radius subscriber ' || g FROM generate_series(1, $2) g \
               RETURNING id), \
             acc AS ( \
               INSERT INTO accounts (tenant_id, subscriber_id, tariff_id, currency) \
               SELECT $1, subs.id, tariff.id, 'RUB' FROM subs, tariff RETURNING subscriber_id) \
             SELECT subscriber_id FROM acc",
        )
        .bind(tenant.as_uuid())
        .bind(i64::from(opts.logins_per_tenant))
        .fetch_all(tx.conn())
        .await?;
        let address = nas_address(t);
        let (_, secret) = kabinet_network::nas::register(
            &mut tx,
            key,
            &NasSpec {
                name: "bench".into(),
                address: IpAddr::V4(address),
                vendor: Vendor::Mikrotik,
                area: String::new(),
                coa_port: 3799,
            },
        )
        .await?;
        out.push((address, secret));
        let ids: Vec<Uuid> = subscribers.iter().map(|_| Uuid::now_v7()).collect();
        let names: Vec<String> = (0..subscribers.len()).map(|i| format!("user{i}")).collect();
        let sealed: Vec<Vec<u8>> = ids
            .iter()
            .map(|id| kabinet_network::logins::seal_password(key, tenant, *id, PASSWORD))
            .collect::<Result<_, _>>()?;
        sqlx::query(
            "INSERT INTO service_logins (tenant_id, id, subscriber_id, kind, username, password_sealed) \
             SELECT $1, i, s, 'pppoe', u, p FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::bytea[]) AS x(i, s, u, p)",
        )
        .bind(tenant.as_uuid())
        .bind(&ids)
        .bind(&subscribers)
        .bind(&names)
        .bind(&sealed)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        if (t + 1) % 25 == 0 {
            println!("  … {} tenants generated", t + 1);
        }
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Authorize,
    Accounting,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Authorize => "authorize",
            Kind::Accounting => "accounting",
        }
    }
}

/// Request `n` of a run: the ISP and the login, spread over every ISP and login by a cheap
/// multiplicative hash of `n`.
fn pick(n: usize, tenants: u32, per: u32) -> (u32, String) {
    let h = (n as u64).wrapping_mul(2_654_435_761) as usize;
    let t = (h % tenants as usize) as u32;
    (t, format!("user{}", (h / tenants as usize) % per as usize))
}

async fn drive(
    base: &str,
    opts: &RadiusBenchOptions,
    concurrency: usize,
    kind: Kind,
    times: &ServerTimes,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    times.take();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let http = http.clone();
        let next = next.clone();
        let failures = failures.clone();
        let base = base.to_owned();
        let (tenants, per) = (opts.tenants, opts.logins_per_tenant);
        let limit = opts.requests;
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= limit {
                    break;
                }
                let (t, user) = pick(n, tenants, per);
                let src = nas_address(t);
                let (path, body) = match kind {
                    Kind::Authorize => (
                        "authorize",
                        json!({"User-Name": {"type": "string", "value": [user]},
                               "User-Password": {"type": "string", "value": [PASSWORD]}}),
                    ),
                    Kind::Accounting => (
                        "accounting",
                        json!({"Acct-Status-Type": {"type": "integer", "value": [if n.is_multiple_of(2) { "Start" } else { "Interim-Update" }]},
                               "User-Name": {"type": "string", "value": [user]},
                               "Acct-Session-Id": {"type": "string", "value": [format!("s{}", n / 2)]},
                               "Acct-Input-Octets": {"type": "integer", "value": [n * 1000]},
                               "Acct-Output-Octets": {"type": "integer", "value": [n * 4000]}}),
                    ),
                };
                let sent = Instant::now();
                let ok = http
                    .post(format!("{base}/radius/{path}?src={src}"))
                    .bearer_auth(TOKEN)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                latencies.push(sent.elapsed());
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for w in workers {
        all.extend(w.await?);
    }
    let elapsed = started.elapsed();
    let client = summarize(all);
    let server = summarize(times.take());
    println!(
        "RESULT {} over HTTP (as rlm_rest calls it), {concurrency} concurrent: {} requests in {:.2} s = {:.0} req/s; \
         client p50 {:.2} ms, p99 {:.2} ms; at Kabinet's endpoint p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} failed",
        kind.label(),
        client.count,
        elapsed.as_secs_f64(),
        client.count as f64 / elapsed.as_secs_f64().max(1e-9),
        client.p50,
        client.p99,
        server.p50,
        server.p99,
        server.max,
        failures.load(Ordering::Relaxed)
    );
    Ok(())
}

/// `deploy/freeradius/` of this checkout (the binary is run from it), else of the source tree it
/// was built from.
fn deploy_dir() -> PathBuf {
    let here = Path::new("deploy/freeradius");
    if here.join("render.sh").exists() {
        return here.to_owned();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/freeradius")
}

/// Two free UDP ports on loopback (bound and released: a race with other processes is
/// possible but unlikely).
fn free_ports() -> anyhow::Result<(u16, u16)> {
    let a = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// A NAS: requests from its own source address, signed with its secret, one at a time.
struct Nas {
    socket: UdpSocket,
    secret: Vec<u8>,
    next_id: u8,
    buf: Vec<u8>,
}

/// How a request ended.
enum Answer {
    /// The expected answer (Access-Accept, Accounting-Response), authenticator checked.
    Ok,
    /// Another answer (Access-Reject) or a bad authenticator.
    Wrong,
    /// No answer after three tries.
    Lost,
}

impl Nas {
    async fn bind(address: Ipv4Addr, secret: &str) -> anyhow::Result<Self> {
        Ok(Self {
            socket: UdpSocket::bind(SocketAddr::new(IpAddr::V4(address), 0))
                .await
                .with_context(|| format!("binding a UDP socket on {address}"))?,
            secret: secret.as_bytes().to_vec(),
            next_id: 0,
            buf: vec![0; radius::MAX_PACKET],
        })
    }

    fn id(&mut self) -> u8 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// Sends and waits for the answer to this packet, resending after `wait` like a NAS (the
    /// same bytes: FreeRADIUS treats them as a retransmission).
    async fn exchange(
        &mut self,
        to: SocketAddr,
        bytes: &[u8],
        id: u8,
        authenticator: &[u8; 16],
        expect: u8,
        wait: Duration,
    ) -> anyhow::Result<Answer> {
        for _ in 0..3 {
            self.socket.send_to(bytes, to).await?;
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let Ok(got) =
                    tokio::time::timeout_at(deadline, self.socket.recv_from(&mut self.buf)).await
                else {
                    break;
                };
                let (n, _) = got?;
                let reply = &self.buf[..n];
                // A late answer to an earlier (given up) request: not ours.
                if n < 20 || reply[1] != id {
                    continue;
                }
                if radius::verify_response(reply, authenticator, &self.secret).is_err() {
                    return Ok(Answer::Wrong);
                }
                return Ok(if reply[0] == expect {
                    Answer::Ok
                } else {
                    Answer::Wrong
                });
            }
        }
        Ok(Answer::Lost)
    }

    async fn pap(
        &mut self,
        to: SocketAddr,
        user: &str,
        password: &str,
        wait: Duration,
    ) -> anyhow::Result<Answer> {
        let id = self.id();
        let mut p = Packet::new(radius::ACCESS_REQUEST, id);
        p.authenticator = *Uuid::new_v4().as_bytes();
        let hidden = radius::hide_password(password.as_bytes(), &self.secret, &p.authenticator);
        p.attrs = vec![
            Attr::new(radius::USER_NAME, user.as_bytes().to_vec()),
            Attr::new(radius::USER_PASSWORD, hidden),
            Attr::new(radius::NAS_IP_ADDRESS, local_octets(&self.socket)),
            Attr::new(radius::MESSAGE_AUTHENTICATOR, vec![0; 16]),
        ];
        let bytes = p.encode_access_request(&self.secret)?;
        self.exchange(
            to,
            &bytes,
            id,
            &p.authenticator,
            radius::ACCESS_ACCEPT,
            wait,
        )
        .await
    }

    async fn accounting(
        &mut self,
        to: SocketAddr,
        attrs: Vec<Attr>,
        wait: Duration,
    ) -> anyhow::Result<Answer> {
        let id = self.id();
        let mut p = Packet::new(radius::ACCOUNTING_REQUEST, id);
        p.attrs = attrs;
        p.attrs.push(Attr::new(
            radius::NAS_IP_ADDRESS,
            local_octets(&self.socket),
        ));
        let bytes = p.encode_signed_request(&self.secret)?;
        self.exchange(
            to,
            &bytes,
            id,
            &p.authenticator,
            radius::ACCOUNTING_RESPONSE,
            wait,
        )
        .await
    }
}

fn local_octets(socket: &UdpSocket) -> Vec<u8> {
    match socket.local_addr().map(|a| a.ip()) {
        Ok(IpAddr::V4(ip)) => ip.octets().to_vec(),
        _ => vec![127, 0, 0, 1],
    }
}

/// One Access-Request from every NAS, one after the other: FreeRADIUS defines each dynamic
/// client on its first packet (asking Kabinet for the secret) and drops that NAS's packets
/// while it does, which is start-up work, not the steady state being measured.
async fn warm_up(
    server: &LocalFreeRadius,
    nas: &[(Ipv4Addr, String)],
    opts: &RadiusBenchOptions,
) -> anyhow::Result<()> {
    let started = Instant::now();
    for (t, (address, secret)) in nas.iter().enumerate() {
        let mut client = Nas::bind(*address, secret).await?;
        let mut tries = 0;
        loop {
            match client
                .pap(server.auth, "user0", PASSWORD, Duration::from_millis(500))
                .await?
            {
                Answer::Ok => break,
                Answer::Wrong => bail!("the NAS of ISP {t} ({address}) was refused"),
                Answer::Lost if tries < 5 => tries += 1,
                Answer::Lost => bail!("FreeRADIUS does not answer the NAS of ISP {t} ({address})"),
            }
        }
    }
    println!(
        "  FreeRADIUS knows all {} NAS (dynamic clients) after {:.2} s",
        opts.tenants,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `concurrency` NAS-like clients, each sending one request at a time from the source
/// addresses of its share of the ISPs (one socket per ISP). Accounting alternates Start and an
/// Interim-Update of the same session per client.
async fn drive_udp(
    server: &LocalFreeRadius,
    nas: &Arc<Vec<(Ipv4Addr, String)>>,
    opts: &RadiusBenchOptions,
    concurrency: usize,
    kind: Kind,
    times: &ServerTimes,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(AtomicUsize::new(0));
    let lost = Arc::new(AtomicUsize::new(0));
    let tenants = nas.len();
    // Worker w sends from the NAS of the ISPs t with t ≡ w (mod concurrency), or from one ISP
    // when there are more workers than ISPs.
    let mut clients: Vec<Vec<Nas>> = Vec::new();
    for w in 0..concurrency {
        let mut mine = Vec::new();
        let share: Vec<usize> = if concurrency <= tenants {
            (w..tenants).step_by(concurrency).collect()
        } else {
            vec![w % tenants]
        };
        for t in share {
            let (address, secret) = &nas[t];
            mine.push(Nas::bind(*address, secret).await?);
        }
        clients.push(mine);
    }
    times.take();
    let started = Instant::now();
    let mut workers = Vec::new();
    for (w, mut mine) in clients.into_iter().enumerate() {
        let (next, wrong, lost) = (next.clone(), wrong.clone(), lost.clone());
        let (auth, acct) = (server.auth, server.acct);
        let per = opts.logins_per_tenant as usize;
        let limit = opts.requests;
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            // The session just started, for its Interim-Update: (socket index, user, session id).
            let mut session: Option<(usize, String, String)> = None;
            let mut k = 0usize;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= limit {
                    break;
                }
                let h = (n as u64).wrapping_mul(2_654_435_761) as usize;
                let sent = Instant::now();
                let answer = match kind {
                    Kind::Authorize => {
                        let c = h % mine.len();
                        let user = format!("user{}", (h / mine.len()) % per);
                        mine[c]
                            .pap(auth, &user, PASSWORD, Duration::from_secs(2))
                            .await?
                    }
                    Kind::Accounting => {
                        let (c, user, id, status) = match session.take() {
                            Some((c, user, id)) => (c, user, id, 3),
                            None => {
                                let c = h % mine.len();
                                let user = format!("user{}", (h / mine.len()) % per);
                                (c, user, format!("w{w}-{k}"), 1)
                            }
                        };
                        k += 1;
                        let octets = (k as u32).wrapping_mul(1000);
                        let attrs = vec![
                            Attr::int(radius::ACCT_STATUS_TYPE, status),
                            Attr::new(radius::USER_NAME, user.as_bytes().to_vec()),
                            Attr::new(radius::ACCT_SESSION_ID, id.as_bytes().to_vec()),
                            Attr::int(radius::ACCT_INPUT_OCTETS, octets),
                            Attr::int(radius::ACCT_OUTPUT_OCTETS, octets.wrapping_mul(4)),
                            Attr::int(radius::ACCT_SESSION_TIME, if status == 1 { 0 } else { 300 }),
                            Attr::new(radius::FRAMED_IP_ADDRESS, vec![10, 0, 0, 7]),
                        ];
                        if status == 1 {
                            session = Some((c, user, id));
                        }
                        mine[c]
                            .accounting(acct, attrs, Duration::from_secs(2))
                            .await?
                    }
                };
                latencies.push(sent.elapsed());
                match answer {
                    Answer::Ok => {}
                    Answer::Wrong => {
                        wrong.fetch_add(1, Ordering::Relaxed);
                    }
                    Answer::Lost => {
                        lost.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for w in workers {
        all.extend(w.await??);
    }
    let elapsed = started.elapsed();
    let client = summarize(all);
    let server_side = summarize(times.take());
    println!(
        "RESULT {} through FreeRADIUS (UDP, {concurrency} NAS clients): {} requests in {:.2} s = {:.0} req/s; \
         end to end p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; at Kabinet's endpoint p50 {:.2} ms, p99 {:.2} ms \
         ({} calls); {} refused, {} unanswered",
        kind.label(),
        client.count,
        elapsed.as_secs_f64(),
        client.count as f64 / elapsed.as_secs_f64().max(1e-9),
        client.p50,
        client.p99,
        client.max,
        server_side.p50,
        server_side.p99,
        server_side.count,
        wrong.load(Ordering::Relaxed),
        lost.load(Ordering::Relaxed)
    );
    Ok(())
}
