//! Network integration end to end: a real FreeRADIUS (from `deploy/freeradius/`) in front of
//! the app's internal listener, NAS played by sockets bound to 127.0.0.2 (demo) and 127.0.0.3
//! (northnet), and a test NAS taking CoA/Disconnect-Request.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use kabinet_db::sqlx;
use kabinet_tests::radius::{FreeRadius, RADIUS_TOKEN, RadiusClient, TestNas, acct, codec};
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const DEMO_NAS: &str = "127.0.0.2";
const NORTH_NAS: &str = "127.0.0.3";

fn ip(raw: &str) -> IpAddr {
    raw.parse().expect("ip")
}

async fn register_nas(
    staff: &Client,
    name: &str,
    address: &str,
    vendor: &str,
    coa_port: u16,
) -> (Value, String) {
    let body = json_body(
        staff
            .post(
                "/api/v1/console/nas",
                &json!({"name": name, "address": address, "vendor": vendor, "area": "Центр", "coa_port": coa_port}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let secret = body["secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    (body["nas"].clone(), secret)
}

async fn add_login(staff: &Client, account: &str, body: Value) -> Value {
    json_body(
        staff
            .post(
                &format!("/api/v1/console/subscribers/{account}/service-logins"),
                &body,
            )
            .await,
        StatusCode::CREATED,
    )
    .await
}

/// The tariff speed of an account, read behind row-level security.
async fn speed(app: &TestApp, account: &str) -> i32 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(
        "SELECT t.speed_mbps FROM subscribers s JOIN accounts a ON a.tenant_id = s.tenant_id AND a.subscriber_id = s.id \
         JOIN tariffs t ON t.tenant_id = a.tenant_id AND t.id = a.tariff_id WHERE s.account_number = $1",
    )
    .bind(account)
    .fetch_one(&mut admin)
    .await
    .expect("tariff")
}

fn text(p: &codec::Packet, kind: u8) -> Option<String> {
    p.text(kind)
}

fn vendor_text(p: &codec::Packet, vendor: u32, kind: u8) -> Option<String> {
    p.vendor_attr(vendor, kind)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn vendor_int(p: &codec::Packet, vendor: u32, kind: u8) -> Option<u32> {
    p.vendor_attr(vendor, kind)
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(u32::from_be_bytes)
}

#[tokio::test]
async fn freeradius_authorizes_by_tariff_and_keeps_isps_apart() {
    let app = TestApp::spawn().await.expect("app");
    let internal = app.spawn_internal().expect("internal listener");
    let radius = FreeRadius::start(internal).await.expect("freeradius");
    let demo = app.staff("demo.localhost", "owner@demo.example").await;
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;

    let (_, demo_secret) = register_nas(&demo, "bras-1", DEMO_NAS, "mikrotik", 3799).await;
    let (_, north_secret) = register_nas(&north, "bras-1", NORTH_NAS, "cisco", 3799).await;
    // One address, one ISP, across the platform.
    assert_problem(
        north
            .post(
                "/api/v1/console/nas",
                &json!({"name": "stolen", "address": DEMO_NAS, "vendor": "other"}),
            )
            .await,
        StatusCode::CONFLICT,
        "nas_address_taken",
    )
    .await;
    // Same user name at both ISPs, different passwords.
    let demo_login = add_login(
        &demo,
        "100001",
        json!({"kind": "pppoe", "username": "ivanov", "password": "demo-pass-1"}),
    )
    .await;
    add_login(
        &north,
        "200001",
        json!({"kind": "pppoe", "username": "ivanov", "password": "north-pass-1"}),
    )
    .await;

    let demo_nas = RadiusClient::bind(ip(DEMO_NAS), &demo_secret)
        .await
        .expect("bind");
    let north_nas = RadiusClient::bind(ip(NORTH_NAS), &north_secret)
        .await
        .expect("bind");

    // Accept with the tariff's speed in MikroTik's form and WISPr's.
    let down = speed(&app, "100001").await;
    let accept = demo_nas
        .pap(radius.auth, "ivanov", "demo-pass-1")
        .await
        .unwrap_or_else(|| panic!("no answer; freeradius log:\n{}", radius.log()));
    assert_eq!(accept.code, codec::ACCESS_ACCEPT, "{accept:?}");
    assert_eq!(
        vendor_text(&accept, codec::VENDOR_MIKROTIK, codec::MIKROTIK_RATE_LIMIT),
        Some(format!("{down}M/{down}M"))
    );
    assert_eq!(
        vendor_int(
            &accept,
            codec::VENDOR_WISPR,
            codec::WISPR_BANDWIDTH_MAX_DOWN
        ),
        Some(down as u32 * 1_000_000)
    );
    assert_eq!(accept.int(codec::SESSION_TIMEOUT), Some(86400));
    assert_eq!(accept.int(codec::ACCT_INTERIM_INTERVAL), Some(300));
    assert_eq!(
        accept.attr(codec::FRAMED_IP_ADDRESS),
        None,
        "no static IP without the add-on"
    );

    // CHAP (challenge = request authenticator) is checked against the sealed cleartext.
    let chap = demo_nas
        .chap(radius.auth, "ivanov", "demo-pass-1")
        .await
        .expect("answer");
    assert_eq!(chap.code, codec::ACCESS_ACCEPT, "{chap:?}");
    let chap_wrong = demo_nas
        .chap(radius.auth, "ivanov", "north-pass-1")
        .await
        .expect("answer");
    assert_eq!(chap_wrong.code, codec::ACCESS_REJECT);

    // The other ISP's password does not open this ISP's login, and vice versa.
    let wrong = demo_nas
        .pap(radius.auth, "ivanov", "north-pass-1")
        .await
        .expect("answer");
    assert_eq!(wrong.code, codec::ACCESS_REJECT);
    assert_eq!(
        text(&wrong, codec::REPLY_MESSAGE).as_deref(),
        Some("Invalid login or password")
    );
    let north_accept = north_nas
        .pap(radius.auth, "ivanov", "north-pass-1")
        .await
        .expect("answer");
    assert_eq!(north_accept.code, codec::ACCESS_ACCEPT);
    let north_down = speed(&app, "200001").await;
    assert_eq!(
        vendor_text(
            &north_accept,
            codec::VENDOR_MIKROTIK,
            codec::MIKROTIK_RATE_LIMIT
        ),
        None,
        "a Cisco NAS gets the generic form only"
    );
    assert_eq!(
        vendor_int(
            &north_accept,
            codec::VENDOR_WISPR,
            codec::WISPR_BANDWIDTH_MAX_DOWN
        ),
        Some(north_down as u32 * 1_000_000)
    );
    let cross = north_nas
        .pap(radius.auth, "ivanov", "demo-pass-1")
        .await
        .expect("answer");
    assert_eq!(cross.code, codec::ACCESS_REJECT);

    // A static address is handed out only while the static IP add-on is connected.
    let id = demo_login["id"].as_str().expect("id");
    json_body(
        demo.put(
            &format!("/api/v1/console/subscribers/100001/service-logins/{id}"),
            &json!({"kind": "pppoe", "username": "ivanov", "framed_ip": "100.64.0.10"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let still = demo_nas
        .pap(radius.auth, "ivanov", "demo-pass-1")
        .await
        .expect("answer");
    assert_eq!(
        still.code,
        codec::ACCESS_ACCEPT,
        "the password survived the change"
    );
    assert_eq!(still.attr(codec::FRAMED_IP_ADDRESS), None);
    let subscriber = app.subscriber("demo.localhost", "100001").await;
    json_body(
        subscriber
            .post("/api/v1/me/addons/static-ip", &json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let with_ip = demo_nas
        .pap(radius.auth, "ivanov", "demo-pass-1")
        .await
        .expect("answer");
    assert_eq!(
        with_ip.attr(codec::FRAMED_IP_ADDRESS),
        Some(&[100, 64, 0, 10][..])
    );

    // Blocked and suspended accounts are refused with the reason.
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE accounts a SET status = 'blocked' FROM subscribers s WHERE s.tenant_id = a.tenant_id AND s.id = a.subscriber_id AND s.account_number = '100001'")
        .execute(&mut admin)
        .await
        .expect("block");
    let blocked = demo_nas
        .pap(radius.auth, "ivanov", "demo-pass-1")
        .await
        .expect("answer");
    assert_eq!(blocked.code, codec::ACCESS_REJECT);
    assert!(
        text(&blocked, codec::REPLY_MESSAGE).is_some_and(|m| m.contains("blocked")),
        "{blocked:?}"
    );
    // The ISP may prefer a captive "pay your bill" pool for debtors, and its own session
    // timeout: both set in the console, both in the next Access-Accept.
    let settings = json_body(
        demo.put(
            "/api/v1/console/network/settings",
            &json!({"debt_captive_pool": " captive ", "session_timeout_secs": 3600, "interim_interval_secs": 120}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(settings["debt_captive_pool"], "captive");
    let captive = demo_nas
        .pap(radius.auth, "ivanov", "demo-pass-1")
        .await
        .expect("answer");
    assert_eq!(captive.code, codec::ACCESS_ACCEPT);
    assert_eq!(
        text(&captive, codec::FRAMED_POOL).as_deref(),
        Some("captive")
    );
    assert_eq!(
        vendor_text(&captive, codec::VENDOR_MIKROTIK, codec::MIKROTIK_RATE_LIMIT),
        None
    );
    assert_eq!(
        captive.attr(codec::SESSION_TIMEOUT),
        Some(&3600u32.to_be_bytes()[..])
    );
    sqlx::query("UPDATE accounts a SET status = 'suspended' FROM subscribers s WHERE s.tenant_id = a.tenant_id AND s.id = a.subscriber_id AND s.account_number = '100001'")
        .execute(&mut admin)
        .await
        .expect("suspend");
    let suspended = demo_nas
        .pap(radius.auth, "ivanov", "demo-pass-1")
        .await
        .expect("answer");
    assert_eq!(suspended.code, codec::ACCESS_REJECT);
    assert!(text(&suspended, codec::REPLY_MESSAGE).is_some_and(|m| m.contains("suspended")));

    // An unknown login is refused like a wrong password.
    let unknown = demo_nas
        .pap(radius.auth, "nobody", "whatever")
        .await
        .expect("answer");
    assert_eq!(unknown.code, codec::ACCESS_REJECT);

    // An address no ISP registered gets no answer at all, and a wrong secret gets nothing
    // this NAS can verify.
    let stranger = RadiusClient::bind(ip("127.0.0.4"), &demo_secret)
        .await
        .expect("bind");
    assert!(
        stranger
            .pap(radius.auth, "ivanov", "demo-pass-1")
            .await
            .is_none()
    );
    let wrong_secret = RadiusClient::bind(ip(DEMO_NAS), "not-the-secret")
        .await
        .expect("bind");
    assert!(
        wrong_secret
            .pap(radius.auth, "ivanov", "demo-pass-1")
            .await
            .is_none()
    );
    assert!(
        wrong_secret
            .accounting(radius.acct, acct(1, "ivanov", "forged", 0, 0, 0))
            .await
            .is_none(),
        "accounting signed with a wrong secret is dropped"
    );
}

#[tokio::test]
async fn accounting_survives_retransmits_and_reordering() {
    let app = TestApp::spawn().await.expect("app");
    let internal = app.spawn_internal().expect("internal listener");
    let radius = FreeRadius::start(internal).await.expect("freeradius");
    let demo = app.staff("demo.localhost", "owner@demo.example").await;
    let (_, secret) = register_nas(&demo, "bras-acct", DEMO_NAS, "mikrotik", 3799).await;
    add_login(
        &demo,
        "100002",
        json!({"kind": "pppoe", "username": "petrov", "password": "petrov-pass"}),
    )
    .await;
    let nas = RadiusClient::bind(ip(DEMO_NAS), &secret)
        .await
        .expect("bind");

    let giga = 1u64 << 32;
    let send = |packet: Vec<codec::Attr>| {
        let nas = &nas;
        let to = radius.acct;
        async move {
            let answer = nas
                .accounting(to, packet)
                .await
                .expect("accounting answered");
            assert_eq!(answer.code, codec::ACCOUNTING_RESPONSE);
        }
    };
    send(acct(1, "petrov", "sess-1", 0, 0, 0)).await;
    send(acct(3, "petrov", "sess-1", 1_000, 2_000, 60)).await;
    // A retransmitted interim changes nothing.
    send(acct(3, "petrov", "sess-1", 1_000, 2_000, 60)).await;
    // Stop with Gigawords.
    send(acct(2, "petrov", "sess-1", giga + 5_000, 9_000, 120)).await;
    // A late interim and a late start neither reopen the session nor move counters back.
    send(acct(3, "petrov", "sess-1", 3_000, 4_000, 90)).await;
    send(acct(1, "petrov", "sess-1", 0, 0, 0)).await;
    // Accounting for a login no one has is acknowledged (the NAS must stop resending).
    send(acct(1, "nobody", "sess-x", 0, 0, 0)).await;

    let usage = json_body(
        demo.get("/api/v1/console/subscribers/100002/network").await,
        StatusCode::OK,
    )
    .await;
    let session = &usage["sessions"][0];
    assert_eq!(session["acct_session_id"], "sess-1");
    assert_eq!(session["state"], "closed");
    assert_eq!(session["input_octets"], giga + 5_000);
    assert_eq!(session["output_octets"], 9_000);
    assert_eq!(session["framed_ip"], "10.0.0.7");
    let day = &usage["traffic"][0];
    assert_eq!(
        day["input_octets"],
        giga + 5_000,
        "daily traffic counts each octet once"
    );
    assert_eq!(day["output_octets"], 9_000);
    assert_eq!(usage["sessions"].as_array().map(Vec::len), Some(1));

    // The subscriber sees the same in the cabinet; another subscriber sees nothing of it.
    let me = app.subscriber("demo.localhost", "100002").await;
    let mine = json_body(me.get("/api/v1/me/network").await, StatusCode::OK).await;
    assert_eq!(mine["traffic"][0]["output_octets"], 9_000);
    let other = app.subscriber("demo.localhost", "100001").await;
    let theirs = json_body(other.get("/api/v1/me/network").await, StatusCode::OK).await;
    assert_eq!(theirs["sessions"], json!([]));

    // An open session whose interim updates stopped is closed as stale by the sweeper.
    send(acct(1, "petrov", "sess-2", 0, 0, 0)).await;
    let online = json_body(demo.get("/api/v1/console/sessions").await, StatusCode::OK).await;
    assert_eq!(online["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(online["items"][0]["account_number"], "100002");
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    let north_online = json_body(north.get("/api/v1/console/sessions").await, StatusCode::OK).await;
    assert_eq!(
        north_online["items"],
        json!([]),
        "another ISP sees none of it"
    );
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE radius_sessions SET updated_at = now() - interval '1 hour' WHERE acct_session_id = 'sess-2'")
        .execute(&mut admin)
        .await
        .expect("age");
    let tenant: uuid::Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
        .fetch_one(&mut admin)
        .await
        .expect("tenant");
    let tenant = kabinet_core::TenantId(tenant);
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    assert_eq!(
        kabinet_network::sessions::close_stale(&mut tx)
            .await
            .expect("sweep"),
        1
    );
    tx.commit().await.expect("commit");
    let online = json_body(demo.get("/api/v1/console/sessions").await, StatusCode::OK).await;
    assert_eq!(online["items"], json!([]));
}

#[tokio::test]
async fn blocking_in_billing_disconnects_the_session_once() {
    let app = TestApp::spawn().await.expect("app");
    let internal = app.spawn_internal().expect("internal listener");
    let radius = FreeRadius::start(internal).await.expect("freeradius");
    let demo = app.staff("demo.localhost", "owner@demo.example").await;
    // The NAS's secret is only known after registering; the test NAS learns it then.
    let coa_socket = std::net::UdpSocket::bind((DEMO_NAS, 0)).expect("probe port");
    let coa_port = coa_socket.local_addr().expect("addr").port();
    drop(coa_socket);
    let (_, secret) = register_nas(&demo, "bras-coa", DEMO_NAS, "mikrotik", coa_port).await;
    let test_nas = TestNas::start(ip(DEMO_NAS), coa_port, &secret, 1)
        .await
        .expect("test nas");
    add_login(
        &demo,
        "100001",
        json!({"kind": "pppoe", "username": "sidorov", "password": "sidorov-pass"}),
    )
    .await;
    let nas = RadiusClient::bind(ip(DEMO_NAS), &secret)
        .await
        .expect("bind");
    assert_eq!(
        nas.pap(radius.auth, "sidorov", "sidorov-pass")
            .await
            .expect("answer")
            .code,
        codec::ACCESS_ACCEPT
    );
    nas.accounting(radius.acct, acct(1, "sidorov", "coa-sess", 0, 0, 0))
        .await
        .expect("start recorded");
    app.spawn_coa_worker(Duration::from_millis(300), Duration::from_millis(200));

    // Billing blocks the account: a staff debit far below the credit limit.
    json_body(
        demo.post(
            "/api/v1/console/subscribers/100001/corrections",
            &json!({"amount_minor": -10_000_000, "reason": "Test debit", "reference": "radius-coa"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let mut admin = app.db.admin().await.expect("admin");
    let mut outcome = None;
    for _ in 0..100 {
        let rows: Vec<(String, String, i32, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
            "SELECT kind, status, attempts, answered_at FROM coa_requests WHERE acct_session_id = 'coa-sess'",
        )
        .fetch_all(&mut admin)
        .await
        .expect("query");
        if rows.iter().any(|r| r.1 != "pending") {
            outcome = Some(rows);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = outcome.expect("the request was answered");
    assert_eq!(
        rows.len(),
        1,
        "one request per session and change: {rows:?}"
    );
    let (kind, status, attempts, answered_at) = &rows[0];
    assert_eq!(kind, "disconnect");
    assert_eq!(status, "acked");
    assert_eq!(
        *attempts, 2,
        "the first answer was lost, the retry got through"
    );
    assert!(answered_at.is_some());
    let received = test_nas.received();
    assert_eq!(received.len(), 2, "{received:?}");
    for p in &received {
        assert_eq!(p.code, codec::DISCONNECT_REQUEST);
        assert_eq!(p.text(codec::ACCT_SESSION_ID).as_deref(), Some("coa-sess"));
        assert_eq!(p.text(codec::USER_NAME).as_deref(), Some("sidorov"));
    }
    // Nothing more is sent once answered.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(test_nas.received().len(), 2);
    // The account is blocked: the next authorization is refused with the reason.
    let refused = nas
        .pap(radius.auth, "sidorov", "sidorov-pass")
        .await
        .expect("answer");
    assert_eq!(refused.code, codec::ACCESS_REJECT);
}

#[tokio::test]
async fn internal_endpoints_refuse_strangers_and_bad_input() {
    let app = TestApp::spawn().await.expect("app");
    let internal = app.spawn_internal().expect("internal listener");
    let demo = app.staff("demo.localhost", "owner@demo.example").await;
    let (nas, _) = register_nas(&demo, "bras-x", DEMO_NAS, "juniper", 3799).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{internal}{path}");
    let post = |path: String, token: Option<&'static str>, body: Vec<u8>| {
        let mut req = http
            .post(path)
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let ok_body = br#"{"User-Name":{"type":"string","value":["x"]}}"#.to_vec();

    assert_problem(
        post(
            url("/radius/authorize?src=127.0.0.2"),
            None,
            ok_body.clone(),
        )
        .await
        .expect("send"),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_problem(
        post(
            url("/radius/authorize?src=127.0.0.2"),
            Some("wrong-token"),
            ok_body.clone(),
        )
        .await
        .expect("send"),
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    assert_problem(
        post(
            url("/radius/client?src=127.0.0.9"),
            Some(RADIUS_TOKEN),
            vec![],
        )
        .await
        .expect("send"),
        StatusCode::NOT_FOUND,
        "unknown_nas",
    )
    .await;
    let client = json_body(
        post(
            url("/radius/client?src=127.0.0.2"),
            Some(RADIUS_TOKEN),
            vec![],
        )
        .await
        .expect("send"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        client["control:FreeRADIUS-Client-IP-Address"]["value"],
        "127.0.0.2"
    );
    assert_problem(
        post(
            url("/radius/authorize"),
            Some(RADIUS_TOKEN),
            ok_body.clone(),
        )
        .await
        .expect("send"),
        StatusCode::BAD_REQUEST,
        "invalid_source",
    )
    .await;
    assert_problem(
        post(
            url("/radius/authorize?src=127.0.0.2"),
            Some(RADIUS_TOKEN),
            b"{not json".to_vec(),
        )
        .await
        .expect("send"),
        StatusCode::BAD_REQUEST,
        "invalid_body",
    )
    .await;
    assert_problem(
        post(
            url("/radius/authorize?src=127.0.0.2"),
            Some(RADIUS_TOKEN),
            br#"{"User-Name":"x","CHAP-Password":"0xZZ"}"#.to_vec(),
        )
        .await
        .expect("send"),
        StatusCode::BAD_REQUEST,
        "invalid_attribute",
    )
    .await;
    assert_problem(
        post(
            url("/radius/accounting?src=127.0.0.2"),
            Some(RADIUS_TOKEN),
            br#"{"Acct-Status-Type":"Bogus"}"#.to_vec(),
        )
        .await
        .expect("send"),
        StatusCode::BAD_REQUEST,
        "invalid_attribute",
    )
    .await;
    let huge = format!(r#"{{"User-Name":"{}"}}"#, "a".repeat(200_000));
    assert_problem(
        post(
            url("/radius/authorize?src=127.0.0.2"),
            Some(RADIUS_TOKEN),
            huge.into_bytes(),
        )
        .await
        .expect("send"),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    // A plain reject for a user name the ISP does not have.
    let rejected = post(
        url("/radius/authorize?src=127.0.0.2"),
        Some(RADIUS_TOKEN),
        ok_body.clone(),
    )
    .await
    .expect("send");
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);

    // Not reachable through a tenant host, with or without the token.
    let tenant_host = demo
        .raw()
        .post(demo.url("/radius/authorize?src=127.0.0.2"))
        .bearer_auth(RADIUS_TOKEN)
        .body(ok_body.clone())
        .send()
        .await
        .expect("send");
    assert_ne!(tenant_host.status(), StatusCode::OK);
    assert_ne!(tenant_host.status(), StatusCode::UNAUTHORIZED);

    // Another ISP cannot see or touch this ISP's NAS, nor its subscribers' logins.
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    let listed = json_body(north.get("/api/v1/console/nas").await, StatusCode::OK).await;
    assert_eq!(listed["items"], json!([]));
    let id = nas["id"].as_str().expect("id");
    assert_problem(
        north
            .put(
                &format!("/api/v1/console/nas/{id}"),
                &json!({"name": "mine", "address": "127.0.0.5", "vendor": "other"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        north.delete(&format!("/api/v1/console/nas/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        north
            .get("/api/v1/console/subscribers/100001/service-logins")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Staff without network.manage cannot register NAS; bad input is a 422.
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    json_body(viewer.get("/api/v1/console/nas").await, StatusCode::OK).await;
    assert_problem(
        viewer
            .post(
                "/api/v1/console/nas",
                &json!({"name": "v", "address": "127.0.0.6", "vendor": "other"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        demo.post(
            "/api/v1/console/nas",
            &json!({"name": "bad", "address": "not-an-ip", "vendor": "other"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert_problem(
        demo.post(
            "/api/v1/console/subscribers/100001/service-logins",
            &json!({"kind": "pppoe", "username": "nopass"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    // The secret is shown once: nothing in the list carries it.
    let listed = json_body(demo.get("/api/v1/console/nas").await, StatusCode::OK).await;
    assert!(listed["items"][0].get("secret").is_none());
    // A new secret replaces the old one for FreeRADIUS's client lookup, shown this once.
    let secret_of = |client: Value| {
        client["control:FreeRADIUS-Client-Secret"]["value"]
            .as_str()
            .expect("secret")
            .to_owned()
    };
    let old_secret = secret_of(
        json_body(
            post(
                url("/radius/client?src=127.0.0.2"),
                Some(RADIUS_TOKEN),
                vec![],
            )
            .await
            .expect("send"),
            StatusCode::OK,
        )
        .await,
    );
    let rotated = json_body(
        demo.post(&format!("/api/v1/console/nas/{id}/secret"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let new_secret = rotated["secret"].as_str().expect("new secret").to_owned();
    assert_ne!(new_secret, old_secret);
    assert_eq!(new_secret.len(), 24);
    let looked_up = secret_of(
        json_body(
            post(
                url("/radius/client?src=127.0.0.2"),
                Some(RADIUS_TOKEN),
                vec![],
            )
            .await
            .expect("send"),
            StatusCode::OK,
        )
        .await,
    );
    assert_eq!(looked_up, new_secret);
    assert_problem(
        viewer
            .post(&format!("/api/v1/console/nas/{id}/secret"), &json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        north
            .post(&format!("/api/v1/console/nas/{id}/secret"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Settings: readable with network.read, defaults until changed, bounded.
    let defaults = json_body(
        viewer.get("/api/v1/console/network/settings").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(defaults["session_timeout_secs"], 86400);
    assert!(defaults.get("debt_captive_pool").is_none());
    assert_problem(
        viewer
            .put(
                "/api/v1/console/network/settings",
                &json!({"session_timeout_secs": 3600, "interim_interval_secs": 300}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        demo.put(
            "/api/v1/console/network/settings",
            &json!({"debt_captive_pool": "pay your bill", "session_timeout_secs": 3600, "interim_interval_secs": 300}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    // Deleting a NAS frees its address.
    assert_eq!(
        demo.delete(&format!("/api/v1/console/nas/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        post(
            url("/radius/client?src=127.0.0.2"),
            Some(RADIUS_TOKEN),
            vec![],
        )
        .await
        .expect("send"),
        StatusCode::NOT_FOUND,
        "unknown_nas",
    )
    .await;
}

/// Gives every network table rows of `host`'s ISP (for `isolation.rs`): settings, a NAS, a
/// login, a session with traffic through the internal listener, and a queued Disconnect.
pub async fn seed_network(app: &TestApp, host: &str, owner_email: &str, account: &str) {
    let owner = app.staff(host, owner_email).await;
    let address = if host.starts_with("demo") {
        DEMO_NAS
    } else {
        NORTH_NAS
    };
    register_nas(&owner, "seed-bras", address, "mikrotik", 3799).await;
    let user = format!("seed-{account}");
    add_login(
        &owner,
        account,
        json!({"kind": "pppoe", "username": user, "password": "seed-password"}),
    )
    .await;
    let internal = app.spawn_internal().expect("internal listener");
    for (status, octets) in [("Start", 0), ("Interim-Update", 4096)] {
        let resp = reqwest::Client::new()
            .post(format!("http://{internal}/radius/accounting?src={address}"))
            .bearer_auth(RADIUS_TOKEN)
            .json(
                &json!({"Acct-Status-Type": status, "User-Name": user, "Acct-Session-Id": "seed-1",
                          "Acct-Input-Octets": octets, "Acct-Output-Octets": octets}),
            )
            .send()
            .await
            .expect("accounting");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    let mut admin = app.db.admin().await.expect("admin");
    let tenant: uuid::Uuid =
        sqlx::query_scalar("SELECT tenant_id FROM tenant_hosts WHERE host = $1")
            .bind(host)
            .fetch_one(&mut admin)
            .await
            .expect("tenant");
    let mut tx = app
        .db
        .db
        .tenant_tx(kabinet_core::TenantId(tenant))
        .await
        .expect("tx");
    sqlx::query("INSERT INTO network_settings (tenant_id, debt_captive_pool) VALUES ($1, 'captive') ON CONFLICT DO NOTHING")
        .bind(tenant)
        .execute(tx.conn())
        .await
        .expect("settings");
    // A tariff change queues a CoA for the open session (the trigger on accounts); the other
    // seeds may already have moved the account's status.
    sqlx::query(
        "UPDATE accounts a SET tariff_id = (SELECT t.id FROM tariffs t WHERE t.tenant_id = $1 \
                AND t.id IS DISTINCT FROM a.tariff_id ORDER BY t.code LIMIT 1) \
         WHERE a.tenant_id = $1 AND a.subscriber_id = (SELECT id FROM subscribers WHERE tenant_id = $1 AND account_number = $2)",
    )
    .bind(tenant)
    .bind(account)
    .execute(tx.conn())
    .await
    .expect("status");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_nas_on_ipv6_is_known_by_its_address() {
    let app = TestApp::spawn().await.expect("app");
    let internal = app.spawn_internal().expect("internal listener");
    let radius = FreeRadius::start(internal).await.expect("freeradius");
    let demo = app.staff("demo.localhost", "owner@demo.example").await;
    let (_, secret) = register_nas(&demo, "bras-v6", "::1", "mikrotik", 3799).await;
    add_login(
        &demo,
        "100001",
        json!({"kind": "pppoe", "username": "sidorova", "password": "sidorova-pass"}),
    )
    .await;
    let nas = RadiusClient::bind(ip("::1"), &secret)
        .await
        .expect("bind ::1");

    let accept = nas
        .pap(radius.auth6(), "sidorova", "sidorova-pass")
        .await
        .unwrap_or_else(|| panic!("no answer over IPv6; freeradius log:\n{}", radius.log()));
    assert_eq!(accept.code, codec::ACCESS_ACCEPT, "{accept:?}");
    let down = speed(&app, "100001").await;
    assert_eq!(
        vendor_text(&accept, codec::VENDOR_MIKROTIK, codec::MIKROTIK_RATE_LIMIT),
        Some(format!("{down}M/{down}M"))
    );
    let wrong = nas
        .pap(radius.auth6(), "sidorova", "not-her-password")
        .await
        .expect("answer");
    assert_eq!(wrong.code, codec::ACCESS_REJECT);

    // Accounting over IPv6 lands on this NAS's session list.
    let acct6 = SocketAddr::new(radius.auth6().ip(), radius.acct.port());
    let answer = nas
        .accounting(acct6, acct(1, "sidorova", "v6-sess", 0, 0, 0))
        .await
        .expect("accounting answered");
    assert_eq!(answer.code, codec::ACCOUNTING_RESPONSE);
    let usage = json_body(
        demo.get("/api/v1/console/subscribers/100001/network").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        usage["sessions"][0]["acct_session_id"], "v6-sess",
        "{usage}"
    );
}

/// The node's NAS cache is only a hint: when an address moves to another ISP, the very next
/// Access-Request from it is decided by the new owner, and once no ISP has it, by nobody.
#[tokio::test]
async fn a_nas_address_that_moves_to_another_isp_is_decided_by_the_new_owner() {
    const MOVING: &str = "127.0.0.7";
    let app = TestApp::spawn().await.expect("app");
    let internal = app.spawn_internal().expect("internal listener");
    let demo = app.staff("demo.localhost", "owner@demo.example").await;
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    let (nas, _) = register_nas(&demo, "bras-moving", MOVING, "mikrotik", 3799).await;
    // The same user name at both ISPs, with different passwords.
    add_login(
        &demo,
        "100001",
        json!({"kind": "pppoe", "username": "same-name", "password": "demo-password"}),
    )
    .await;
    add_login(
        &north,
        "200001",
        json!({"kind": "pppoe", "username": "same-name", "password": "north-password"}),
    )
    .await;
    let http = reqwest::Client::new();
    let authorize = |password: &'static str| {
        http.post(format!("http://{internal}/radius/authorize?src={MOVING}"))
            .bearer_auth(RADIUS_TOKEN)
            .json(&json!({
                "User-Name": {"type": "string", "value": ["same-name"]},
                "User-Password": {"type": "string", "value": [password]},
            }))
            .send()
    };

    // Demo's NAS: demo's password, MikroTik's rate limit. The node now caches the address.
    let accepted = json_body(
        authorize("demo-password").await.expect("send"),
        StatusCode::OK,
    )
    .await;
    assert!(
        accepted["reply:Mikrotik-Rate-Limit"].is_object(),
        "{accepted}"
    );
    assert_eq!(
        authorize("north-password").await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );

    // The address moves: demo deletes its NAS, northnet registers a Cisco there.
    let id = nas["id"].as_str().expect("id");
    assert_eq!(
        demo.delete(&format!("/api/v1/console/nas/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (moved, _) = register_nas(&north, "bras-moved", MOVING, "cisco", 3799).await;
    let accepted = json_body(
        authorize("north-password").await.expect("send"),
        StatusCode::OK,
    )
    .await;
    assert!(
        accepted["reply:Mikrotik-Rate-Limit"].is_null(),
        "{accepted}"
    );
    assert!(
        accepted["reply:WISPr-Bandwidth-Max-Down"].is_object(),
        "{accepted}"
    );
    assert_eq!(
        authorize("demo-password").await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );

    // Gone from every ISP: a stranger, though the node had it cached.
    let id = moved["id"].as_str().expect("id");
    assert_eq!(
        north
            .delete(&format!("/api/v1/console/nas/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        authorize("north-password").await.expect("send"),
        StatusCode::NOT_FOUND,
        "unknown_nas",
    )
    .await;
}
