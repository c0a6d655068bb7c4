//! Where attachments are kept and how much an ISP allows: the S3 backend against a real S3
//! server (s3s in process), the orphan sweeper for uploads a crash left behind (fixed clock,
//! injected crash), and the ISP's own limits (console, portal, enforcement, audit).

use chrono::{DateTime, Duration, TimeZone, Utc};
use kabinet_core::{SubscriberId, TenantId, TicketId};
use kabinet_db::sqlx;
use kabinet_gateway::GatewayConfig;
use kabinet_tests::s3::S3Server;
use kabinet_tests::{Client, TestApp, TestDb, assert_problem, json, json_body};
use kabinet_ticketing::attachment_sweeper::{DEFAULT_GRACE, sweep_tenant};
use kabinet_ticketing::attachments::{self, AttachTo, AttachmentStore, IncomingFile, Uploader};
use reqwest::StatusCode;
use serde_json::Value;

use crate::attachments::{PNG, post_multipart};

/// The app with its attachments in an S3 bucket (under the `objects` prefix) of its own server.
async fn spawn_on_s3() -> (TestApp, S3Server) {
    let s3 = S3Server::start("kabinet-attachments")
        .await
        .expect("s3 server");
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let config = GatewayConfig {
        attachments: AttachmentStore::from_url_with(&s3.url("objects"), s3.options())
            .expect("s3 store"),
        ..GatewayConfig::default()
    };
    (TestApp::serve(db, config).await.expect("app"), s3)
}

async fn download(client: &Client, path: &str) -> (StatusCode, Vec<u8>) {
    let resp = client.get(path).await;
    let status = resp.status();
    (status, resp.bytes().await.expect("body").to_vec())
}

async fn pending_uploads(app: &TestApp) -> i64 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar("SELECT count(*) FROM pending_uploads")
        .fetch_one(&mut admin)
        .await
        .expect("count")
}

#[tokio::test]
async fn attachments_round_trip_through_an_s3_bucket() {
    let (app, s3) = spawn_on_s3().await;
    let sub = app.subscriber("demo.localhost", "100001").await;
    let text = "Журнал роутера\nlink down 03:14\n".as_bytes();
    let created = json_body(
        post_multipart(
            &sub,
            "/api/v1/me/tickets",
            &[
                ("category", "other"),
                ("subject", "Нет связи"),
                ("description", "Журнал и снимок во вложении"),
            ],
            &[("router.log", text), ("screen.png", PNG)],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let ticket = created["id"].as_str().expect("id").to_owned();
    let files = created["messages"][0]["attachments"]
        .as_array()
        .expect("attachments")
        .clone();
    assert_eq!(files.len(), 2);
    // Both objects are in the bucket, under the prefix, keyed by tenant, ticket and id.
    let keys = s3.keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for f in &files {
        let id = f["id"].as_str().expect("id");
        assert!(
            keys.iter()
                .any(|k| k.starts_with("objects/") && k.ends_with(&format!("/{ticket}/{id}"))),
            "{keys:?}"
        );
    }
    assert_eq!(
        pending_uploads(&app).await,
        0,
        "recorded uploads are not pending"
    );

    // Downloaded through the API (the subscriber's and the staff's), byte for byte.
    let staff = app.staff("demo.localhost", "agent@demo.example").await;
    for f in &files {
        let id = f["id"].as_str().expect("id");
        let expected: &[u8] = if f["file_name"] == "router.log" {
            text
        } else {
            PNG
        };
        for (client, area) in [(&sub, "me"), (&staff, "console")] {
            let (status, body) = download(
                client,
                &format!("/api/v1/{area}/tickets/{ticket}/attachments/{id}"),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, expected, "{area} {}", f["file_name"]);
        }
    }

    // Refused uploads leave nothing in the bucket: a type refused by content, and a file over
    // the ISP's own limit (with an accepted file in the same message).
    let before = s3.keys();
    let elf: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
    assert_problem(
        post_multipart(
            &sub,
            &format!("/api/v1/me/tickets/{ticket}/messages"),
            &[("body", "ещё файл")],
            &[("tool.txt", elf)],
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_attachment_type",
    )
    .await;
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    json_body(
        owner
            .put(
                "/api/v1/console/settings/attachments",
                &json!({ "max_file_bytes": 40, "max_message_bytes": 1000 }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        post_multipart(
            &sub,
            &format!("/api/v1/me/tickets/{ticket}/messages"),
            &[("body", "ещё файлы")],
            &[("screen.png", PNG), ("router.log", text)],
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_over_file_limit",
    )
    .await;
    assert_eq!(s3.keys(), before, "a refused upload leaves no object");
    assert_eq!(pending_uploads(&app).await, 0);

    // The message with the refused files was not kept either.
    let thread = json_body(
        sub.get(&format!("/api/v1/me/tickets/{ticket}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread["messages"].as_array().expect("messages").len(), 1);
}

#[tokio::test]
async fn a_bad_s3_url_is_refused_at_start() {
    for url in ["s3://", "s3:///prefix"] {
        assert!(AttachmentStore::from_url(url).is_err(), "{url}");
    }
    assert!(AttachmentStore::from_url("ftp://example/x").is_err());
}

/// A ticket of subscriber 100001 and what `attach` needs to add files to its first message.
async fn ticket_of(app: &TestApp, sub: &Client) -> (TenantId, TicketId, uuid::Uuid, SubscriberId) {
    let ticket = sub.open_ticket("other", "Обрыв", "Проверка").await;
    let id = uuid::Uuid::parse_str(ticket["id"].as_str().expect("id")).expect("uuid");
    let message =
        uuid::Uuid::parse_str(ticket["messages"][0]["id"].as_str().expect("id")).expect("uuid");
    let mut admin = app.db.admin().await.expect("admin");
    let (tenant, subscriber): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("SELECT tenant_id, subscriber_id FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_one(&mut admin)
            .await
            .expect("ticket");
    (
        TenantId(tenant),
        TicketId(id),
        message,
        SubscriberId(subscriber),
    )
}

fn png(name: &str) -> Vec<attachments::PreparedFile> {
    attachments::prepare(vec![IncomingFile {
        file_name: Some(name.into()),
        bytes: PNG.to_vec(),
    }])
    .expect("valid")
}

#[tokio::test]
async fn the_sweeper_deletes_what_a_crashed_upload_left_after_the_grace_period() {
    let (app, s3) = spawn_on_s3().await;
    let sub = app.subscriber("demo.localhost", "100001").await;
    let (tenant, ticket, message, subscriber) = ticket_of(&app, &sub).await;
    let store = app.state.config.attachments.clone();
    let db = app.db.db.clone();
    // The clock: fixed, whatever time it is.
    let t0: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("t0");

    // A committed upload at t0: kept forever.
    let mut tx = db.tenant_tx(tenant).await.expect("tx");
    let kept = attachments::attach(
        &db,
        &mut tx,
        &store,
        ticket,
        AttachTo::Message(message),
        Uploader::Subscriber(subscriber),
        png("kept.png"),
        t0,
    )
    .await
    .expect("attached");
    tx.commit().await.expect("commit");
    let kept = kept.keep();
    assert_eq!(s3.keys().len(), 1);

    // The crash: the object is written, then the process dies before committing: the
    // transaction rolls back and no cleanup runs (the guard is forgotten, not dropped).
    let mut tx = db.tenant_tx(tenant).await.expect("tx");
    let crashed = attachments::attach(
        &db,
        &mut tx,
        &store,
        ticket,
        AttachTo::Message(message),
        Uploader::Subscriber(subscriber),
        png("lost.png"),
        t0 + Duration::minutes(5),
    )
    .await
    .expect("attached");
    let orphan_id = crashed.attachments[0].id;
    std::mem::forget(crashed);
    drop(tx);
    let orphan_key = format!("{tenant}/{ticket}/{orphan_id}");
    assert!(store.exists(&orphan_key).await.expect("head"), "written");
    assert_eq!(s3.keys().len(), 2);
    // The pending row was committed before the object was written; the rollback kept it.
    assert_eq!(pending_uploads(&app).await, 1);

    // Within the grace period nothing is touched (an upload may still be on its way).
    let report = sweep_tenant(
        &db,
        &store,
        tenant,
        t0 + Duration::minutes(64),
        DEFAULT_GRACE,
    )
    .await
    .expect("sweep");
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(s3.keys().len(), 2);

    // Past it, the orphan goes and the recorded file stays.
    let report = sweep_tenant(
        &db,
        &store,
        tenant,
        t0 + Duration::minutes(66),
        DEFAULT_GRACE,
    )
    .await
    .expect("sweep");
    assert_eq!(report.deleted, 1);
    assert_eq!(report.failed, 0);
    assert!(!store.exists(&orphan_key).await.expect("head"));
    let keys = s3.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].ends_with(&kept[0].id.to_string()));
    assert_eq!(pending_uploads(&app).await, 0);
    // Nothing twice: the next round finds nothing.
    let report = sweep_tenant(&db, &store, tenant, t0 + Duration::hours(5), DEFAULT_GRACE)
        .await
        .expect("sweep");
    assert!(report.is_empty());

    // The kept file still downloads.
    let (status, body) = download(
        &sub,
        &format!("/api/v1/me/tickets/{ticket}/attachments/{}", kept[0].id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PNG);
}

#[tokio::test]
async fn an_upload_still_committing_is_never_swept() {
    let (app, s3) = spawn_on_s3().await;
    let sub = app.subscriber("demo.localhost", "100001").await;
    let (tenant, ticket, message, subscriber) = ticket_of(&app, &sub).await;
    let store = app.state.config.attachments.clone();
    let db = app.db.db.clone();
    // A slow upload: its pending row is three hours old, its object written, its transaction
    // (which claimed the row) still open when another node sweeps.
    let mut tx = db.tenant_tx(tenant).await.expect("tx");
    let slow = attachments::attach(
        &db,
        &mut tx,
        &store,
        ticket,
        AttachTo::Message(message),
        Uploader::Subscriber(subscriber),
        png("slow.png"),
        Utc::now() - Duration::hours(3),
    )
    .await
    .expect("attached");
    let report = sweep_tenant(&db, &store, tenant, Utc::now(), DEFAULT_GRACE)
        .await
        .expect("sweep");
    assert!(report.is_empty(), "{report:?}");
    tx.commit().await.expect("commit");
    let slow = slow.keep();
    assert_eq!(s3.keys().len(), 1);
    assert_eq!(pending_uploads(&app).await, 0);
    let (status, body) = download(
        &sub,
        &format!("/api/v1/me/tickets/{ticket}/attachments/{}", slow[0].id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PNG);
}

#[tokio::test]
async fn an_isp_sets_its_own_limits_within_the_platform_caps() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    let sub = app.subscriber("demo.localhost", "100001").await;

    // Nothing set: the platform's caps.
    let settings = json_body(
        owner.get("/api/v1/console/settings/attachments").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(settings["customised"], false);
    assert_eq!(settings["max_file_bytes"], 10 * 1024 * 1024);
    assert_eq!(settings["max_message_bytes"], 25 * 1024 * 1024);
    assert_eq!(settings["platform_max_file_bytes"], 10 * 1024 * 1024);
    assert_eq!(settings["max_files"], 10);
    let limits = json_body(
        sub.get("/api/v1/me/attachment-limits").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(limits["max_file_bytes"], 10 * 1024 * 1024);

    // Only settings.manage sees or changes them.
    assert_problem(
        agent.get("/api/v1/console/settings/attachments").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        agent
            .put(
                "/api/v1/console/settings/attachments",
                &json!({ "max_file_bytes": 100, "max_message_bytes": 150 }),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // Above the platform's caps, or a file larger than a message: refused.
    for bad in [
        json!({ "max_file_bytes": 10 * 1024 * 1024 + 1, "max_message_bytes": 25 * 1024 * 1024 }),
        json!({ "max_file_bytes": 1024, "max_message_bytes": 25 * 1024 * 1024 + 1 }),
        json!({ "max_file_bytes": 2048, "max_message_bytes": 1024 }),
    ] {
        assert_problem(
            owner
                .put("/api/v1/console/settings/attachments", &bad)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
    }

    let saved = json_body(
        owner
            .put(
                "/api/v1/console/settings/attachments",
                &json!({ "max_file_bytes": 100, "max_message_bytes": 150 }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["customised"], true);
    assert_eq!(saved["max_file_bytes"], 100);
    assert_eq!(saved["max_message_bytes"], 150);
    let limits = json_body(
        sub.get("/api/v1/me/attachment-limits").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            limits["max_file_bytes"].clone(),
            limits["max_message_bytes"].clone()
        ),
        (json!(100), json!(150))
    );

    // Enforced on upload, each with a code naming the limit.
    let ticket = sub.open_ticket("other", "Лимиты", "Проверка").await;
    let ticket = ticket["id"].as_str().expect("id");
    let path = format!("/api/v1/me/tickets/{ticket}/messages");
    let too_big = vec![b'a'; 101];
    let problem = assert_problem(
        post_multipart(&sub, &path, &[("body", "файл")], &[("a.txt", &too_big)]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_over_file_limit",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("a.txt") && d.contains("100 bytes")),
        "{problem}"
    );
    let hundred = vec![b'b'; 100];
    let fifty_one = vec![b'c'; 51];
    assert_problem(
        post_multipart(
            &sub,
            &path,
            &[("body", "файлы")],
            &[("b.txt", &hundred), ("c.txt", &fifty_one)],
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachments_over_message_limit",
    )
    .await;
    let ok = json_body(
        post_multipart(&sub, &path, &[("body", "файл")], &[("b.txt", &hundred)]).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ok["attachments"].as_array().map(Vec::len), Some(1));
    // Staff replies obey the same limits.
    let staff_path = format!("/api/v1/console/tickets/{ticket}/replies");
    assert_problem(
        post_multipart(
            &owner,
            &staff_path,
            &[("body", "ответ")],
            &[("a.txt", &too_big)],
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_over_file_limit",
    )
    .await;

    // The storage in use is the plan's figure, now counting the file.
    let settings: Value = json_body(
        owner.get("/api/v1/console/settings/attachments").await,
        StatusCode::OK,
    )
    .await;
    assert!(settings["storage_used_bytes"].as_i64().unwrap_or(0) >= 100);

    // Audited with before and after.
    let mut admin = app.db.admin().await.expect("admin");
    let details: Value = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'settings.attachments' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&mut admin)
    .await
    .expect("audited");
    assert_eq!(details["before"]["customised"], false);
    assert_eq!(details["after"]["max_file_bytes"], 100);
    assert_eq!(details["after"]["max_message_bytes"], 150);
}
