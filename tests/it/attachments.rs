//! Ticket attachments: uploads by subscribers and staff (several per message), type by content,
//! limits with nothing left behind, image metadata stripped, downloads only for those who may
//! see the ticket, with safe headers.

use std::path::{Path, PathBuf};

use kabinet_core::{SubscriberId, TenantId, TicketId};
use kabinet_db::sqlx;
use kabinet_gateway::GatewayConfig;
use kabinet_tests::{Client, TestApp, TestDb, assert_problem, json, json_body};
use kabinet_ticketing::attachments::{self, AttachTo, AttachmentStore, IncomingFile, Uploader};
use reqwest::StatusCode;
use serde_json::Value;

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A JPEG as a phone writes it: JFIF, then an EXIF block with a GPS position, a comment, and
/// the picture (a minimal scan).
fn jpeg_with_gps() -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
    jpeg.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let exif = b"Exif\0\0II*\0\x08\0\0\0GPSLatitude=55.7558N;GPSLongitude=37.6173E";
    jpeg.extend_from_slice(&[
        0xFF,
        0xE1,
        0x00,
        u8::try_from(exif.len() + 2).expect("short"),
    ]);
    jpeg.extend_from_slice(exif);
    jpeg.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x0A]);
    jpeg.extend_from_slice(b"iPhone 15");
    jpeg.push(0);
    jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    jpeg.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    jpeg
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A `multipart/form-data` body: text fields, then files (name, bytes) under `files`.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("kabinet-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn post_multipart(
    client: &Client,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> reqwest::Response {
    let (content_type, body) = multipart(fields, files);
    let mut req = client
        .raw()
        .post(client.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = &client.csrf {
        req = req.header("x-csrf-token", token);
    }
    req.send().await.expect("request")
}

/// The app with attachments on disk in a folder of its own.
async fn spawn_with_objects() -> (TestApp, PathBuf) {
    let dir = std::env::temp_dir().join(format!("kabinet-objects-{}", uuid::Uuid::new_v4()));
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let config = GatewayConfig {
        attachments: AttachmentStore::from_url(&format!("file://{}", dir.display()))
            .expect("store"),
        ..GatewayConfig::default()
    };
    (TestApp::serve(db, config).await.expect("app"), dir)
}

/// Every file under `dir`.
fn objects(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p);
            }
        }
    }
    found
}

async fn download(client: &Client, path: &str) -> reqwest::Response {
    client
        .raw()
        .get(client.url(path))
        .send()
        .await
        .expect("request")
}

fn files_of(message: &Value) -> Vec<Value> {
    message["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn subscribers_and_staff_attach_several_files_and_both_download_them() {
    let (app, dir) = spawn_with_objects().await;
    let sub = app.subscriber("demo.localhost", "100001").await;
    let created = json_body(
        post_multipart(
            &sub,
            "/api/v1/me/tickets",
            &[
                ("category", "connectivity"),
                ("subject", "Роутер мигает"),
                ("description", "Фото и договор во вложении"),
            ],
            &[
                ("router.png", PNG),
                (
                    "договор.pdf",
                    b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
                ),
                ("log.txt", b"ping 8.8.8.8: timeout\n"),
            ],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let ticket = created["id"].as_str().expect("id").to_owned();
    let first = files_of(&created["messages"][0]);
    assert_eq!(first.len(), 3, "{created}");
    let types: Vec<&str> = first
        .iter()
        .map(|f| f["content_type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, ["image/png", "application/pdf", "text/plain"]);
    assert_eq!(first[1]["file_name"], "договор.pdf");
    assert_eq!(first[0]["size_bytes"], PNG.len());
    assert_eq!(objects(&dir).len(), 3);
    // Stored under <tenant>/<ticket>/<attachment>.
    let png_id = first[0]["id"].as_str().expect("id").to_owned();
    assert!(
        objects(&dir)
            .iter()
            .any(|p| p.ends_with(format!("{ticket}/{png_id}"))),
        "{:?}",
        objects(&dir)
    );

    // The JSON endpoints still work, without files.
    let plain = json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{ticket}/messages"),
            &json!({"body": "И ещё: без вложений"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(files_of(&plain).len(), 0);

    // Staff answer with two files.
    let staff = app.staff("demo.localhost", "agent@demo.example").await;
    let reply = json_body(
        post_multipart(
            &staff,
            &format!("/api/v1/console/tickets/{ticket}/replies"),
            &[("body", "Схема подключения и инструкция")],
            &[("scheme.png", PNG), ("howto.txt", b"1. Reboot\n2. Wait\n")],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(files_of(&reply).len(), 2);

    // One thread, files per message, for both audiences.
    let thread = json_body(
        sub.get(&format!("/api/v1/me/tickets/{ticket}")).await,
        StatusCode::OK,
    )
    .await;
    let counts: Vec<usize> = thread["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| files_of(m).len())
        .collect();
    assert_eq!(counts, [3, 0, 2]);
    let console = json_body(
        staff
            .get(&format!("/api/v1/console/tickets/{ticket}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(files_of(&console["messages"][0]).len(), 3);

    // Downloads: the bytes, the sniffed type, a safe disposition, no shared caching.
    for client in [&sub, &staff] {
        let area = if std::ptr::eq(client, &sub) {
            "me"
        } else {
            "console"
        };
        let resp = download(
            client,
            &format!("/api/v1/{area}/tickets/{ticket}/attachments/{png_id}"),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let h = resp.headers().clone();
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(
            h["cache-control"]
                .to_str()
                .expect("ascii")
                .starts_with("private"),
            "{h:?}"
        );
        assert_eq!(
            h["content-disposition"],
            "attachment; filename=\"router.png\"; filename*=UTF-8''router.png"
        );
        assert_eq!(resp.bytes().await.expect("bytes").as_ref(), PNG);
    }
    let pdf_id = first[1]["id"].as_str().expect("id");
    let resp = download(
        &sub,
        &format!("/api/v1/me/tickets/{ticket}/attachments/{pdf_id}"),
    )
    .await;
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"_______.pdf\"; filename*=UTF-8''%D0%B4%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80.pdf"
    );
    // The recorded SHA-256 is the stored content's.
    let mut admin = app.db.admin().await.expect("admin");
    let bytes = resp.bytes().await.expect("bytes").to_vec();
    let same: bool =
        sqlx::query_scalar("SELECT sha256($1) = sha256 FROM ticket_attachments WHERE id = $2")
            .bind(&bytes)
            .bind(uuid::Uuid::parse_str(pdf_id).expect("uuid"))
            .fetch_one(&mut admin)
            .await
            .expect("hash");
    assert!(same);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_renamed_executable_and_an_oversized_file_are_refused_and_leave_nothing_behind() {
    let (app, dir) = spawn_with_objects().await;
    let sub = app.subscriber("demo.localhost", "100001").await;
    let ticket = sub.open_ticket("other", "Вложения", "Проверка").await;
    let ticket = ticket["id"].as_str().expect("id");
    let path = format!("/api/v1/me/tickets/{ticket}/messages");

    // An .exe renamed to .png, next to a real PNG: the whole message is refused.
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode";
    let problem = assert_problem(
        post_multipart(
            &sub,
            &path,
            &[("body", "Скриншот")],
            &[("ok.png", PNG), ("screenshot.png", exe)],
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_attachment_type",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("screenshot.png")),
        "{problem}"
    );
    // 10 MiB + 1 byte of text.
    let big = vec![b'a'; attachments::MAX_FILE_BYTES + 1];
    assert_problem(
        post_multipart(&sub, &path, &[("body", "Лог")], &[("big.txt", &big)]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_too_large",
    )
    .await;
    // Eleven files: refused by the form's schema.
    let many: Vec<(&str, &[u8])> = (0..11).map(|_| ("a.png", PNG)).collect();
    let problem = assert_problem(
        post_multipart(&sub, &path, &[("body", "Много")], &many).await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("maxItems(10)"))
    );

    assert!(objects(&dir).is_empty(), "{:?}", objects(&dir));
    let thread = json_body(
        sub.get(&format!("/api/v1/me/tickets/{ticket}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread["messages"].as_array().map(Vec::len), Some(1));
    let mut admin = app.db.admin().await.expect("admin");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM ticket_attachments")
        .fetch_one(&mut admin)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn objects_of_a_rolled_back_transaction_are_deleted() {
    let (app, dir) = spawn_with_objects().await;
    let sub = app.subscriber("demo.localhost", "100001").await;
    let ticket = sub.open_ticket("other", "Откат", "Проверка").await;
    let message = ticket["messages"][0]["id"].as_str().expect("id");
    let mut admin = app.db.admin().await.expect("admin");
    let (tenant, subscriber): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("SELECT tenant_id, subscriber_id FROM tickets WHERE id = $1")
            .bind(uuid::Uuid::parse_str(ticket["id"].as_str().expect("id")).expect("uuid"))
            .fetch_one(&mut admin)
            .await
            .expect("ticket");
    let files = attachments::prepare(vec![IncomingFile {
        file_name: Some("a.png".into()),
        bytes: PNG.to_vec(),
    }])
    .expect("valid");
    let mut tx = app.db.db.tenant_tx(TenantId(tenant)).await.expect("tx");
    let attached = attachments::attach(
        &app.db.db,
        &mut tx,
        &app.state.config.attachments,
        TicketId(uuid::Uuid::parse_str(ticket["id"].as_str().expect("id")).expect("uuid")),
        AttachTo::Message(uuid::Uuid::parse_str(message).expect("uuid")),
        Uploader::Subscriber(SubscriberId(subscriber)),
        files,
        chrono::Utc::now(),
    )
    .await
    .expect("attached");
    assert_eq!(objects(&dir).len(), 1);
    // The transaction never commits (a later step failed): both go.
    drop(tx);
    drop(attached);
    for _ in 0..50 {
        if objects(&dir).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(objects(&dir).is_empty(), "{:?}", objects(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn gps_and_camera_metadata_are_stripped_from_a_jpeg() {
    let (app, dir) = spawn_with_objects().await;
    let sub = app.subscriber("demo.localhost", "100001").await;
    let original = jpeg_with_gps();
    assert!(contains(&original, b"GPSLatitude"));
    let created = json_body(
        post_multipart(
            &sub,
            "/api/v1/me/tickets",
            &[
                ("category", "equipment"),
                ("subject", "Фото роутера"),
                ("description", "Снято на телефон"),
            ],
            &[("IMG_0001.JPG", &original)],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let ticket = created["id"].as_str().expect("id");
    let file = &files_of(&created["messages"][0])[0];
    assert_eq!(file["content_type"], "image/jpeg");
    let resp = download(
        &sub,
        &format!(
            "/api/v1/me/tickets/{ticket}/attachments/{}",
            file["id"].as_str().expect("id")
        ),
    )
    .await;
    let stored = resp.bytes().await.expect("bytes").to_vec();
    assert!(!contains(&stored, b"GPSLatitude"));
    assert!(!contains(&stored, b"Exif"));
    assert!(!contains(&stored, b"iPhone"));
    // The picture itself is untouched.
    assert!(contains(&stored, b"JFIF"));
    assert!(contains(&stored, &[0x12, 0x34, 0x56, 0x78]));
    assert_eq!(file["size_bytes"], stored.len());
    // What is on disk is the cleaned file too.
    let on_disk = std::fs::read(&objects(&dir)[0]).expect("object");
    assert_eq!(on_disk, stored);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn only_those_who_may_see_the_ticket_download_its_files() {
    let (app, dir) = spawn_with_objects().await;
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let created = json_body(
        post_multipart(
            &ivan,
            "/api/v1/me/tickets",
            &[
                ("category", "other"),
                ("subject", "Личное"),
                ("description", "Паспорт"),
            ],
            &[("passport.png", PNG)],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let ticket = created["id"].as_str().expect("id");
    let file = files_of(&created["messages"][0])[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mine = format!("/api/v1/me/tickets/{ticket}/attachments/{file}");
    let console = format!("/api/v1/console/tickets/{ticket}/attachments/{file}");

    // Another subscriber of the same ISP, by the same URL.
    let maria = app.subscriber("demo.localhost", "100002").await;
    assert_problem(
        download(&maria, &mine).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The other ISP's subscriber and staff.
    let north_sub = app.subscriber("northnet.localhost", "200001").await;
    assert_problem(
        download(&north_sub, &mine).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let north_staff = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        download(&north_staff, &console).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A wrong ticket id with a right attachment id.
    let other = ivan.open_ticket("other", "Другое", "x").await;
    assert_problem(
        download(
            &ivan,
            &format!(
                "/api/v1/me/tickets/{}/attachments/{file}",
                other["id"].as_str().expect("id")
            ),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Signed out.
    let anonymous = app.client("demo.localhost");
    assert_problem(
        download(&anonymous, &mine).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // A file on an internal note: staff see it, the subscriber never does.
    let staff = app.staff("demo.localhost", "agent@demo.example").await;
    let note = json_body(
        post_multipart(
            &staff,
            &format!("/api/v1/console/tickets/{ticket}/notes"),
            &[("body", "Скрин из биллинга")],
            &[("billing.png", PNG)],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let note_file = files_of(&note)[0]["id"].as_str().expect("id").to_owned();
    let thread = json_body(
        staff
            .get(&format!("/api/v1/console/tickets/{ticket}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(files_of(&thread["notes"][0]).len(), 1);
    let resp = download(
        &staff,
        &format!("/api/v1/console/tickets/{ticket}/attachments/{note_file}"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_problem(
        download(
            &ivan,
            &format!("/api/v1/me/tickets/{ticket}/attachments/{note_file}"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let seen = json_body(
        ivan.get(&format!("/api/v1/me/tickets/{ticket}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(!seen.to_string().contains(&note_file), "{seen}");
    assert!(!seen.to_string().contains("billing.png"), "{seen}");
    let _ = std::fs::remove_dir_all(&dir);
}
