//! Custom domains: an ISP adds one, the console names the TXT record to create, a check against
//! a real DNS server (hickory-server, in process, authoritative for a zone the test edits) finds
//! it missing, wrong, then right; the verified domain serves the ISP's site (sessions and the
//! Origin check included), another ISP's or the platform's domain is refused, and removal stops
//! serving it at once on every node.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use kabinet_db::sqlx;
use kabinet_gateway::GatewayConfig;
use kabinet_tenancy::domains::{DomainVerifier, ResolverAddress};
use kabinet_tests::{Client, TestApp, TestDb, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const OWNER: &str = "owner@demo.example";
const DEMO: &str = "demo.localhost";
const NORTHNET: &str = "northnet.localhost";
const ZONE: &str = "demo-isp.ru";
const PORTAL: &str = "portal.demo-isp.ru";

/// An authoritative DNS server for one zone on a random loopback port (UDP and TCP).
struct Dns {
    addr: SocketAddr,
    zone: Arc<InMemoryZoneHandler>,
    _server: Server<Catalog>,
}

impl Dns {
    async fn start(zone: &str) -> Self {
        let origin = Name::from_ascii(format!("{zone}.")).expect("zone name");
        let mut handler =
            InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        let soa = SOA::new(
            Name::from_ascii(format!("ns.{zone}.")).expect("mname"),
            Name::from_ascii(format!("hostmaster.{zone}.")).expect("rname"),
            1,
            3600,
            600,
            86_400,
            0,
        );
        handler.upsert_mut(Record::from_rdata(origin.clone(), 60, RData::SOA(soa)), 1);
        let handler = Arc::new(handler);
        let mut catalog = Catalog::new();
        catalog.upsert(
            LowerName::new(&origin),
            vec![handler.clone() as Arc<dyn ZoneHandler>],
        );
        // UDP and TCP on the same port number: a free UDP port's number may be taken for TCP
        // (an outgoing connection's ephemeral port), so try again with another.
        let mut attempt = 0;
        let (udp, tcp, addr) = loop {
            let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("udp");
            let addr = udp.local_addr().expect("addr");
            match tokio::net::TcpListener::bind(addr).await {
                Ok(tcp) => break (udp, tcp, addr),
                Err(_) if attempt < 50 => attempt += 1,
                Err(e) => panic!("tcp: {e}"),
            }
        };
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 16);
        Self {
            addr,
            zone: handler,
            _server: server,
        }
    }

    fn name(host: &str) -> Name {
        Name::from_ascii(format!("{host}.")).expect("name")
    }

    /// Replaces the TXT records at `host` with one holding `value`.
    async fn set_txt(&self, host: &str, value: &str) {
        self.remove(host, RecordType::TXT).await;
        let serial = self.zone.serial().await;
        let record = Record::from_rdata(
            Self::name(host),
            60,
            RData::TXT(TXT::new(vec![value.to_owned()])),
        );
        assert!(self.zone.upsert(record, serial).await, "TXT added");
    }

    async fn set_a(&self, host: &str) {
        let serial = self.zone.serial().await;
        let record = Record::from_rdata(Self::name(host), 60, RData::A(A::new(192, 0, 2, 10)));
        assert!(self.zone.upsert(record, serial).await, "A added");
    }

    async fn remove(&self, host: &str, kind: RecordType) {
        self.zone
            .records_mut()
            .await
            .remove(&RrKey::new(LowerName::new(&Self::name(host)), kind));
    }

    fn verifier(&self) -> DomainVerifier {
        DomainVerifier {
            resolver: ResolverAddress::At(self.addr),
            timeout: Duration::from_secs(2),
        }
    }
}

async fn spawn(verifier: DomainVerifier) -> TestApp {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    TestApp::serve(
        db,
        GatewayConfig {
            domain_verifier: verifier,
            ..GatewayConfig::default()
        },
    )
    .await
    .expect("app")
}

async fn add(client: &Client, domain: &str) -> reqwest::Response {
    client
        .post(
            "/api/v1/console/settings/domains",
            &json!({ "domain": domain }),
        )
        .await
}

async fn verify(client: &Client, host: &str) -> Value {
    json_body(
        client
            .post(
                &format!("/api/v1/console/settings/domains/{host}/verify"),
                &json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await
}

async fn site_status(app: &TestApp, host: &str) -> StatusCode {
    app.client(host).get("/api/v1/site").await.status()
}

/// Adds `PORTAL` for the demo ISP and proves it; returns the owner's console client.
async fn verified_portal(app: &TestApp, dns: &Dns) -> Client {
    let owner = app.staff(DEMO, OWNER).await;
    let added = json_body(add(&owner, PORTAL).await, StatusCode::CREATED).await;
    dns.set_txt(
        added["txt_name"].as_str().expect("txt name"),
        added["txt_value"].as_str().expect("txt value"),
    )
    .await;
    assert_eq!(verify(&owner, PORTAL).await["status"], "verified");
    owner
}

#[tokio::test]
async fn a_domain_is_proven_by_its_txt_record_and_then_serves_the_isp() {
    let dns = Dns::start(ZONE).await;
    let app = spawn(dns.verifier()).await;
    let owner = app.staff(DEMO, OWNER).await;

    let added = json_body(
        add(&owner, " Portal.Demo-ISP.ru. ").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(added["host"], PORTAL);
    assert_eq!(added["status"], "pending");
    assert_eq!(added["txt_name"], "_kabinet-challenge.portal.demo-isp.ru");
    let value = added["txt_value"].as_str().expect("value").to_owned();
    let token = value
        .strip_prefix("kabinet-verification=")
        .expect("value starts with the prefix");
    assert!(token.len() >= 32, "{token}");
    assert!(added.get("failure").is_none(), "{added}");
    let listed = json_body(
        owner.get("/api/v1/console/settings/domains").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["cname_target"], DEMO);
    assert_eq!(listed["items"][0]["txt_value"], value.as_str());

    // Pending: nothing is served there yet.
    assert_problem(
        app.client(PORTAL).get("/api/v1/site").await,
        StatusCode::NOT_FOUND,
        "unknown_host",
    )
    .await;

    // No such name.
    let checked = verify(&owner, PORTAL).await;
    assert_eq!(checked["status"], "failed", "{checked}");
    assert_eq!(checked["failure"], "nxdomain");
    assert!(checked["checked_at"].is_string());
    // The name exists, without a TXT record.
    let name = "_kabinet-challenge.portal.demo-isp.ru";
    dns.set_a(name).await;
    assert_eq!(verify(&owner, PORTAL).await["failure"], "no_record");
    // A TXT record with another value.
    dns.remove(name, RecordType::A).await;
    dns.set_txt(name, "kabinet-verification=not-the-token")
        .await;
    let wrong = verify(&owner, PORTAL).await;
    assert_eq!(wrong["failure"], "wrong_value");
    assert!(
        wrong["failure_detail"]
            .as_str()
            .is_some_and(|d| d.contains("not-the-token")),
        "{wrong}"
    );
    assert_eq!(site_status(&app, PORTAL).await, StatusCode::NOT_FOUND);

    // The right one.
    dns.set_txt(name, &value).await;
    let proven = verify(&owner, PORTAL).await;
    assert_eq!(proven["status"], "verified", "{proven}");
    assert!(proven["verified_at"].is_string());
    assert!(proven.get("failure").is_none(), "{proven}");

    // Served at once on this node (it had cached "unknown" a moment ago).
    let site = json_body(app.client(PORTAL).get("/api/v1/site").await, StatusCode::OK).await;
    assert_eq!(site["branding"]["slug"], "demo");

    // The console works there too: a session of that host, and the Origin check accepts the
    // custom domain's own origin and refuses another one.
    let there = app.staff(PORTAL, OWNER).await;
    let origin = format!("http://{PORTAL}:{}", app.addr.port());
    let same_origin = there
        .raw()
        .post(there.url("/api/v1/console/settings/domains"))
        .header("origin", &origin)
        .header("x-csrf-token", there.csrf.as_deref().unwrap_or_default())
        .json(&json!({ "domain": "lk.demo-isp.ru" }))
        .send()
        .await
        .expect("request");
    assert_eq!(
        json_body(same_origin, StatusCode::CREATED).await["host"],
        "lk.demo-isp.ru"
    );
    let cross_origin = there
        .raw()
        .post(there.url("/api/v1/console/settings/domains"))
        .header("origin", format!("http://{DEMO}:{}", app.addr.port()))
        .header("x-csrf-token", there.csrf.as_deref().unwrap_or_default())
        .json(&json!({ "domain": "lk2.demo-isp.ru" }))
        .send()
        .await
        .expect("request");
    assert_eq!(cross_origin.status(), StatusCode::FORBIDDEN);

    // A failed re-check never takes a proven domain off the air.
    dns.remove(name, RecordType::TXT).await;
    let rechecked = verify(&owner, PORTAL).await;
    assert_eq!(rechecked["status"], "verified", "{rechecked}");
    assert_eq!(rechecked["failure"], "nxdomain");
    assert_eq!(site_status(&app, PORTAL).await, StatusCode::OK);

    // Every change is in the ISP's audit log.
    let mut admin = app.db.admin().await.expect("admin");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'domain.%' ORDER BY id")
            .fetch_all(&mut admin)
            .await
            .expect("audit");
    assert_eq!(actions.iter().filter(|a| *a == "domain.add").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "domain.verify").count(), 5);
}

#[tokio::test]
async fn another_isps_domain_and_the_platforms_own_are_refused() {
    let dns = Dns::start(ZONE).await;
    let app = spawn(dns.verifier()).await;
    let owner = app.staff(DEMO, OWNER).await;
    let rival = app.staff(NORTHNET, "owner@northnet.example").await;
    json_body(add(&owner, PORTAL).await, StatusCode::CREATED).await;

    assert_problem(
        add(&owner, PORTAL).await,
        StatusCode::CONFLICT,
        "domain_already_added",
    )
    .await;
    assert_problem(
        add(&rival, "PORTAL.demo-isp.ru").await,
        StatusCode::CONFLICT,
        "domain_taken",
    )
    .await;
    for platform in ["localhost", NORTHNET, "admin.localhost", "x.demo.localhost"] {
        assert_problem(
            add(&rival, platform).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "domain_is_platform",
        )
        .await;
    }
    // Another ISP can neither check nor remove it, nor see it.
    for resp in [
        rival
            .post(
                &format!("/api/v1/console/settings/domains/{PORTAL}/verify"),
                &json!({}),
            )
            .await,
        rival
            .delete(&format!("/api/v1/console/settings/domains/{PORTAL}"))
            .await,
    ] {
        assert_problem(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    let theirs = json_body(
        rival.get("/api/v1/console/settings/domains").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["items"], json!([]));

    // A claim left unproven for over a week can be taken by whoever proves the name.
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE tenant_hosts SET created_at = now() - interval '8 days' WHERE host = $1")
        .bind(PORTAL)
        .execute(&mut admin)
        .await
        .expect("age the claim");
    let taken = json_body(add(&rival, PORTAL).await, StatusCode::CREATED).await;
    assert_eq!(taken["status"], "pending");
    let ours = json_body(
        owner.get("/api/v1/console/settings/domains").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ours["items"], json!([]));
    // …but never a verified one.
    sqlx::query(
        "UPDATE tenant_hosts SET verified_at = now(), created_at = now() - interval '30 days' \
         WHERE host = $1",
    )
    .bind(PORTAL)
    .execute(&mut admin)
    .await
    .expect("verify");
    assert_problem(
        add(&owner, PORTAL).await,
        StatusCode::CONFLICT,
        "domain_taken",
    )
    .await;
}

#[tokio::test]
async fn bad_domains_are_problems_not_failures() {
    let app = spawn(DomainVerifier::default()).await;
    let owner = app.staff(DEMO, OWNER).await;
    for bad in [
        "",
        "10.0.0.1",
        "[::1]",
        "portal",
        "https://portal.demo-isp.ru/",
        "под_черк.рф",
        "-x.demo-isp.ru",
        "portal.localhost.local",
        &format!("{}.ru", vec!["a".repeat(60); 4].join(".")),
    ] {
        let body = assert_problem(
            add(&owner, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_domain",
        )
        .await;
        assert!(body["detail"].is_string(), "{bad}: {body}");
    }
    // Not a string, or far too long: the request itself is malformed.
    for body in [
        json!({ "domain": 42 }),
        json!({ "domain": "a".repeat(400) }),
        json!({}),
    ] {
        let resp = owner.post("/api/v1/console/settings/domains", &body).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        json_body(resp, StatusCode::BAD_REQUEST).await;
    }
    // Checking or removing a domain that is not there.
    assert_problem(
        owner
            .post(
                "/api/v1/console/settings/domains/nosuch.demo-isp.ru/verify",
                &json!({}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        owner
            .delete("/api/v1/console/settings/domains/nosuch.demo-isp.ru")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Internationalised names are stored as punycode and shown as typed.
    let idn = json_body(
        add(&owner, "Кабинет.Провайдер.РФ").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(idn["host"], "xn--80acmlhv0b.xn--80adhes1agig.xn--p1ai");
    assert_eq!(idn["display_host"], "кабинет.провайдер.рф");
    // The read-only role sees nothing of it.
    let viewer = app.staff(DEMO, "viewer@demo.example").await;
    assert_problem(
        viewer.get("/api/v1/console/settings/domains").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_silent_dns_server_is_a_timeout_not_an_error() {
    // A socket that takes queries and never answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("udp");
    let app = spawn(DomainVerifier {
        resolver: ResolverAddress::At(silent.local_addr().expect("addr")),
        timeout: Duration::from_millis(300),
    })
    .await;
    let owner = app.staff(DEMO, OWNER).await;
    json_body(add(&owner, PORTAL).await, StatusCode::CREATED).await;
    let checked = verify(&owner, PORTAL).await;
    assert_eq!(checked["status"], "failed", "{checked}");
    assert!(checked["failure"] == "timeout", "{checked}");
    drop(silent);
}

#[tokio::test]
async fn removing_a_domain_stops_serving_it_at_once_on_every_node() {
    let dns = Dns::start(ZONE).await;
    let app = spawn(dns.verifier()).await;
    let other = app.second_node().await.expect("second node");
    let owner = verified_portal(&app, &dns).await;

    // Applying the manifests again (every development start does) keeps the ISP's own domain.
    app.db
        .apply_demo_tenants()
        .await
        .expect("re-apply manifests");
    assert_eq!(site_status(&app, PORTAL).await, StatusCode::OK);

    // The second node learns of the verification through NOTIFY, and then caches the answer.
    let mut status = StatusCode::NOT_FOUND;
    for _ in 0..50 {
        status = site_status(&other, PORTAL).await;
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::OK, "the second node never served it");
    let loads = other.state.directory.loads();
    assert_eq!(site_status(&other, PORTAL).await, StatusCode::OK);
    assert_eq!(
        other.state.directory.loads(),
        loads,
        "served from the cache"
    );

    let resp = owner
        .delete(&format!("/api/v1/console/settings/domains/{PORTAL}"))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(site_status(&app, PORTAL).await, StatusCode::NOT_FOUND);
    let mut status = StatusCode::OK;
    for _ in 0..50 {
        status = site_status(&other, PORTAL).await;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the second node still serves it"
    );
    // The ISP's own subdomain is untouched.
    assert_eq!(site_status(&other, DEMO).await, StatusCode::OK);
    let listed = json_body(
        owner.get("/api/v1/console/settings/domains").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["items"], json!([]));
}

/// The scheduler's daily re-check: a removed TXT record warns the owners (once) and the portal
/// stays up through the grace period; after it the domain stops being served and the owners are
/// told; the record back and a check restore it. Young pending domains are retried by themselves.
#[tokio::test]
async fn the_daily_recheck_warns_then_stops_serving_a_domain_whose_proof_is_gone() {
    use kabinet_provisioning::domain_checks::recheck_domains;

    let dns = Dns::start(ZONE).await;
    let app = spawn(dns.verifier()).await;
    let owner = verified_portal(&app, &dns).await;
    let demo = {
        let mut admin = app.db.admin().await.expect("admin");
        kabinet_core::TenantId(
            sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
                .fetch_one(&mut admin)
                .await
                .expect("demo"),
        )
    };
    let verifier = dns.verifier();
    let now = chrono::Utc::now();
    let recheck = |at: chrono::DateTime<chrono::Utc>| {
        let (db, verifier) = (app.state.db.clone(), verifier.clone());
        async move {
            recheck_domains(&db, &verifier, demo, at)
                .await
                .expect("recheck")
        }
    };
    let letters = || async {
        let mut admin = app.db.admin().await.expect("admin");
        let subjects: Vec<String> = sqlx::query_scalar(
            "SELECT subject FROM mail_outbox WHERE tenant_id = $1 \
               AND idempotency_key LIKE 'domain-recheck:%' ORDER BY created_at",
        )
        .bind(demo.as_uuid())
        .fetch_all(&mut admin)
        .await
        .expect("letters");
        subjects
    };

    // Just verified: not due yet.
    assert_eq!(recheck(now).await.checked, 0);
    // A day later the record is still there: checked, nothing changes.
    let report = recheck(now + chrono::Duration::hours(25)).await;
    assert_eq!(report.checked, 1);
    assert_eq!(report.newly_failing, 0);

    // The ISP removes the record by mistake.
    dns.remove("_kabinet-challenge.portal.demo-isp.ru", RecordType::TXT)
        .await;
    let day2 = now + chrono::Duration::hours(50);
    let report = recheck(day2).await;
    assert_eq!((report.checked, report.newly_failing), (1, 1), "{report:?}");
    assert_eq!(
        site_status(&app, PORTAL).await,
        StatusCode::OK,
        "still served"
    );
    let listed = json_body(
        owner.get("/api/v1/console/settings/domains").await,
        StatusCode::OK,
    )
    .await;
    let item = &listed["items"][0];
    assert_eq!(item["status"], "verified", "{item}");
    assert_eq!(item["failure"], "nxdomain");
    assert!(item["failing_since"].is_string() && item["serving_until"].is_string());
    assert_eq!(letters().await.len(), 1, "one warning per owner");
    // Running the same round again (a second node) finds nothing due; the next day's check
    // fails again without a second warning.
    assert_eq!(recheck(day2).await.checked, 0);
    let report = recheck(day2 + chrono::Duration::hours(25)).await;
    assert_eq!((report.checked, report.newly_failing), (1, 0));
    assert_eq!(letters().await.len(), 1);

    // Seven days after the record went missing the domain is switched off.
    let report = recheck(day2 + chrono::Duration::days(7) + chrono::Duration::hours(2)).await;
    assert_eq!(report.unverified, 1, "{report:?}");
    // Every node drops the host when PostgreSQL announces the change.
    let mut gone = false;
    for _ in 0..50 {
        if site_status(&app, PORTAL).await == StatusCode::NOT_FOUND {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "no longer served");
    let subjects = letters().await;
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[1].contains("portal.demo-isp.ru"), "{subjects:?}");
    let listed = json_body(
        owner.get("/api/v1/console/settings/domains").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["items"][0]["status"], "failed");

    // The record back and "check": served again, and the failure episode is over.
    let value = listed["items"][0]["txt_value"]
        .as_str()
        .expect("value")
        .to_owned();
    dns.set_txt("_kabinet-challenge.portal.demo-isp.ru", &value)
        .await;
    let proven = verify(&owner, PORTAL).await;
    assert_eq!(proven["status"], "verified");
    assert!(proven.get("failing_since").is_none(), "{proven}");
    assert_eq!(site_status(&app, PORTAL).await, StatusCode::OK);
}

#[tokio::test]
async fn a_young_pending_domain_is_retried_hourly_by_the_scheduler() {
    use kabinet_provisioning::domain_checks::recheck_domains;

    let dns = Dns::start(ZONE).await;
    let app = spawn(dns.verifier()).await;
    let owner = app.staff(DEMO, OWNER).await;
    let added = json_body(add(&owner, PORTAL).await, StatusCode::CREATED).await;
    let demo = {
        let mut admin = app.db.admin().await.expect("admin");
        kabinet_core::TenantId(
            sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
                .fetch_one(&mut admin)
                .await
                .expect("demo"),
        )
    };
    let now = chrono::Utc::now();
    let first = recheck_domains(
        &app.state.db,
        &dns.verifier(),
        demo,
        now + chrono::Duration::minutes(61),
    )
    .await
    .expect("recheck");
    assert_eq!((first.checked, first.verified), (1, 0));
    // The ISP creates the record and never comes back to press "check".
    dns.set_txt(
        added["txt_name"].as_str().expect("name"),
        added["txt_value"].as_str().expect("value"),
    )
    .await;
    let second = recheck_domains(
        &app.state.db,
        &dns.verifier(),
        demo,
        now + chrono::Duration::minutes(125),
    )
    .await
    .expect("recheck");
    assert_eq!((second.checked, second.verified), (1, 1));
    assert_eq!(site_status(&app, PORTAL).await, StatusCode::OK);
    // Eight days after it was added, an unproven domain is no longer retried.
    let other = json_body(add(&owner, "lk.demo-isp.ru").await, StatusCode::CREATED).await;
    assert_eq!(other["status"], "pending");
    let late = recheck_domains(
        &app.state.db,
        &dns.verifier(),
        demo,
        now + chrono::Duration::days(8),
    )
    .await
    .expect("recheck");
    assert_eq!(
        late.checked, 1,
        "only the verified one is due, not the stale pending one"
    );
}
