//! Subscribers in the console: search, create, edit, block, and the CSV import (malformed rows,
//! encodings, delimiters, duplicates, dry run, all-or-nothing, idempotent re-import, 100,000
//! rows, isolation between ISPs).

use std::time::Instant;

use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const IMPORT: &str = "/api/v1/console/subscribers/import";

async fn upload(client: &Client, query: &str, body: impl Into<reqwest::Body>) -> Value {
    let mut req = client
        .raw()
        .post(client.url(&format!("{IMPORT}{query}")))
        .header("content-type", "text/csv")
        // The 100,000-row file takes longer than the client's default in a debug build.
        .timeout(std::time::Duration::from_secs(600))
        .body(body);
    if let Some(token) = &client.csrf {
        req = req.header("x-csrf-token", token);
    }
    json_body(req.send().await.expect("request"), StatusCode::OK).await
}

async fn find(client: &Client, q: &str) -> Vec<Value> {
    let page = json_body(
        client
            .get(&format!("/api/v1/console/subscribers?q={}", urlencode(q)))
            .await,
        StatusCode::OK,
    )
    .await;
    page["items"].as_array().expect("items").clone()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn accounts(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["account_number"].as_str().expect("account"))
        .collect()
}

/// (line, column, code) of each listed error.
fn problems(report: &Value) -> Vec<(u64, String, String)> {
    report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().expect("line"),
                e["column"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect()
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(sql)
        .fetch_one(&mut admin)
        .await
        .expect("query")
}

/// Windows-1251 for the text these tests use (ASCII and Russian letters).
fn cp1251(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'Ё' => 0xA8,
            'ё' => 0xB8,
            'А'..='я' => (0xC0 + (c as u32 - 'А' as u32)) as u8,
            c if c.is_ascii() => c as u8,
            c => panic!("no Windows-1251 byte for {c:?} in this test"),
        })
        .collect()
}

#[tokio::test]
async fn every_malformed_row_is_reported_by_line_and_nothing_is_committed() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ledger_before = scalar(&app, "SELECT count(*) FROM ledger_transactions").await;
    let csv = "account_number,name,email,phone,tariff,balance\n\
               700001,Годный Абонент,good@example.com,+7 900 000-00-01,home-100,100.00\n\
               700002,Мало Полей,x@example.com\n\
               700003,Плохая Сумма,,,home-100,12.345\n\
               700004,Нет Тарифа,,,no-such-plan,0\n\
               700005,Плохая Почта,not-an-email,,,\n\
               700001,Дубль Счёта,,,,\n\
               7000 6,,,,,\n";
    let report = upload(&owner, "", csv).await;
    assert_eq!(report["committed"], false);
    assert_eq!(report["rows"], 7);
    assert_eq!(
        problems(&report),
        [
            (3, "".into(), "column_count".into()),
            (4, "balance".into(), "invalid_amount".into()),
            (5, "tariff".into(), "unknown_tariff".into()),
            (6, "email".into(), "invalid_email".into()),
            (7, "account_number".into(), "duplicate_account".into()),
            (8, "account_number".into(), "invalid_account_number".into()),
            (8, "name".into(), "required".into()),
        ]
    );
    assert_eq!(report["error_count"], 7);
    // All or nothing: the valid first row was not saved either.
    assert!(find(&owner, "700001").await.is_empty());
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM ledger_transactions").await,
        ledger_before
    );

    // A header without the required columns, or with unknown ones, says so on line 1.
    let report = upload(&owner, "", "account,nickname\n1,x\n").await;
    assert_eq!(
        problems(&report),
        [
            (1, "nickname".into(), "unknown_column".into()),
            (1, "name".into(), "missing_column".into()),
        ]
    );
    let report = upload(&owner, "", "").await;
    assert_eq!(problems(&report), [(1, "".into(), "empty_file".into())]);
}

#[tokio::test]
async fn dry_run_writes_nothing_and_reimporting_the_same_file_changes_nothing() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let csv = "account_number,name,email,phone,address,tariff,balance,status\n\
               710001,Анна Кузнецова,anna@example.com,8 900 111-22-33,\"Тверь, ул. Мира, 1\",home-100,1500.50,active\n\
               710002,Борис Орлов,,,,home-500,-200,active\n\
               710003,Вера Зайцева,,,,,0,blocked\n";
    let ledger_before = scalar(&app, "SELECT count(*) FROM ledger_transactions").await;

    let dry = upload(&owner, "?dry_run=true", csv).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["committed"], false);
    assert_eq!(
        (&dry["created"], &dry["updated"], &dry["unchanged"]),
        (&json!(3), &json!(0), &json!(0))
    );
    assert!(find(&owner, "7100").await.is_empty());
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM ledger_transactions").await,
        ledger_before
    );

    let done = upload(&owner, "", csv).await;
    assert_eq!(done["committed"], true, "{done}");
    assert_eq!(done["created"], 3);
    let anna = json_body(
        owner.get("/api/v1/console/subscribers/710001").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(anna["balance"]["minor"], 150_050);
    assert_eq!(anna["phone"], "+79001112233");
    assert_eq!(anna["tariff_code"], "home-100");
    assert_eq!(anna["has_password"], false);
    let boris = json_body(
        owner.get("/api/v1/console/subscribers/710002").await,
        StatusCode::OK,
    )
    .await;
    // A negative opening balance below the credit limit blocks for debt at once.
    assert_eq!(boris["balance"]["minor"], -20_000);
    assert_eq!(boris["status"], "blocked");
    assert_eq!(boris["staff_blocked"], false);
    let vera = json_body(
        owner.get("/api/v1/console/subscribers/710003").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(vera["status"], "blocked");
    assert_eq!(vera["staff_blocked"], true);
    let ledger_after = scalar(&app, "SELECT count(*) FROM ledger_transactions").await;
    assert_eq!(ledger_after, ledger_before + 2, "two opening balances");

    // The same file again: nothing changes, no balance twice.
    let again = upload(&owner, "", csv).await;
    assert_eq!(
        (&again["created"], &again["updated"], &again["unchanged"]),
        (&json!(0), &json!(0), &json!(3)),
        "{again}"
    );
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM ledger_transactions").await,
        ledger_after
    );

    // A changed row updates contacts; a changed balance is not posted again (a warning says so).
    let changed = csv
        .replace("8 900 111-22-33", "8 900 999-88-77")
        .replace("1500.50", "99999");
    let report = upload(&owner, "", changed).await;
    assert_eq!(report["updated"], 1, "{report}");
    assert_eq!(report["unchanged"], 2);
    assert_eq!(report["warnings"][0]["code"], "opening_balance_recorded");
    assert_eq!(report["warnings"][0]["line"], 2);
    let anna = json_body(
        owner.get("/api/v1/console/subscribers/710001").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(anna["phone"], "+79009998877");
    assert_eq!(anna["balance"]["minor"], 150_050);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM ledger_transactions").await,
        ledger_after
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'subscriber.import'"
        )
        .await,
        3,
        "each committed import is audited once; the dry run is not"
    );

    // Read-only staff may not import.
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    let mut req = viewer
        .raw()
        .post(viewer.url(IMPORT))
        .header("content-type", "text/csv")
        .body(csv);
    if let Some(token) = &viewer.csrf {
        req = req.header("x-csrf-token", token);
    }
    assert_problem(
        req.send().await.expect("request"),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn windows_1251_utf8_bom_and_semicolons_are_read() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;

    // Russian Excel: Windows-1251, `;`, decimal comma, CRLF.
    let text = "account_number;name;address;balance\r\n\
                720001;Пётр Сидоров;Казань, ул. Баумана, 7;1 250,50\r\n\
                720002;Ёлкина Ольга;;\r\n";
    let report = upload(&owner, "", cp1251(text)).await;
    assert_eq!(report["encoding"], "windows-1251");
    assert_eq!(report["delimiter"], ";");
    assert_eq!(report["created"], 2, "{report}");
    let found = find(&owner, "сидор").await;
    assert_eq!(accounts(&found), ["720001"]);
    assert_eq!(found[0]["full_name"], "Пётр Сидоров");
    assert_eq!(found[0]["balance"]["minor"], 125_050);
    assert_eq!(accounts(&find(&owner, "ЁЛКИНА").await), ["720002"]);

    // UTF-8 with a BOM: the BOM is not part of the first column's name.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice("account_number,name\n720003,Гусева Дарья\n".as_bytes());
    let report = upload(&owner, "", bom).await;
    assert_eq!(report["encoding"], "utf-8");
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(accounts(&find(&owner, "гусева").await), ["720003"]);

    // Told it is UTF-8, a Windows-1251 file is refused with a clear code, not garbled.
    let report = upload(
        &owner,
        "?encoding=utf-8",
        cp1251("account_number,name\n720004,Иванов\n"),
    )
    .await;
    assert_eq!(report["errors"][0]["code"], "invalid_encoding");
    assert_eq!(report["committed"], false);
    assert!(find(&owner, "720004").await.is_empty());
}

#[tokio::test]
async fn an_import_never_touches_another_isps_subscribers() {
    let app = TestApp::spawn().await.expect("app");
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    let demo = app.staff("demo.localhost", "owner@demo.example").await;
    // 100001 is demo's Иван Петров; in NorthNet it is a new account of its own.
    let report = upload(
        &north,
        "",
        "account_number,name,balance\n100001,Matti Meikäläinen,10\n",
    )
    .await;
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["updated"], 0);
    let ivan = json_body(
        demo.get("/api/v1/console/subscribers/100001").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ivan["full_name"], "Иван Петров");
    assert_ne!(ivan["balance"]["currency"], "EUR");
    let matti = json_body(
        north.get("/api/v1/console/subscribers/100001").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(matti["full_name"], "Matti Meikäläinen");
    assert_eq!(matti["balance"]["minor"], 1000);
    assert_eq!(matti["balance"]["currency"], "EUR");
    // Neither search sees the other's people.
    assert!(find(&north, "петров").await.is_empty());
    assert!(find(&demo, "meikäläinen").await.is_empty());
    assert_problem(
        north.get("/api/v1/console/subscribers/100002").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn search_matches_every_field_ranks_and_pages() {
    let app = TestApp::spawn().await.expect("app");
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    assert_eq!(accounts(&find(&viewer, "ПЕТРОВ").await), ["100001"]);
    assert_eq!(
        accounts(&find(&viewer, "8 912 345-67-89").await),
        ["100001"]
    );
    assert_eq!(accounts(&find(&viewer, "ivan.petrov@").await), ["100001"]);
    let lesnaya = find(&viewer, "лесная").await;
    assert!(accounts(&lesnaya).starts_with(&["100001", "100002"]));
    // The account number itself ranks first, before longer numbers containing it.
    assert_eq!(accounts(&find(&viewer, "100002").await)[0], "100002");
    // LIKE wildcards are literal.
    assert!(find(&viewer, "%").await.is_empty());

    let first = json_body(
        viewer
            .get("/api/v1/console/subscribers?q=%D0%BB%D0%B5%D1%81%D0%BD%D0%B0%D1%8F&limit=1")
            .await,
        StatusCode::OK,
    )
    .await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = json_body(
        viewer
            .get(&format!(
                "/api/v1/console/subscribers?q=%D0%BB%D0%B5%D1%81%D0%BD%D0%B0%D1%8F&limit=1&after={cursor}"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(
        first["items"][0]["account_number"],
        second["items"][0]["account_number"]
    );
    assert_problem(
        viewer
            .get("/api/v1/console/subscribers?after=nonsense")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
    // Read-only staff search but do not create.
    assert_problem(
        viewer
            .post(
                "/api/v1/console/subscribers",
                &json!({"account_number": "1", "full_name": "X"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn staff_create_edit_block_and_unblock_a_subscriber() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let created = json_body(
        owner
            .post(
                "/api/v1/console/subscribers",
                &json!({
                    "account_number": "730001",
                    "full_name": "Новый Абонент",
                    "email": "New@Example.com",
                    "phone": "8 900 730-00-01",
                    "address": null,
                    "tariff": "home-100",
                    "initial_password": "a-long-password-1",
                    "send_invitation": null,
                }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["subscriber"]["email"], "new@example.com");
    assert_eq!(created["subscriber"]["status"], "active");
    assert_eq!(created["subscriber"]["tariff_code"], "home-100");
    let mut subscriber = app.client("demo.localhost");
    json_body(
        subscriber
            .login_subscriber("730001", "a-long-password-1")
            .await,
        StatusCode::OK,
    )
    .await;

    assert_problem(
        owner
            .post(
                "/api/v1/console/subscribers",
                &json!({"account_number": "730001", "full_name": "Дубль"}),
            )
            .await,
        StatusCode::CONFLICT,
        "already_taken",
    )
    .await;
    assert_problem(
        owner
            .post(
                "/api/v1/console/subscribers",
                &json!({"account_number": "730002", "full_name": "Х", "email": "nope"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert_problem(
        owner
            .post(
                "/api/v1/console/subscribers",
                &json!({"account_number": "730002", "full_name": "Х", "tariff": "nope"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_tariff",
    )
    .await;

    let edited = json_body(
        owner
            .put(
                "/api/v1/console/subscribers/730001",
                &json!({"full_name": "Новый Абонент", "email": "new@example.com",
                        "phone": "+7 900 730-00-02", "address": "Тула, ул. Ленина, 1"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["phone"], "+79007300002");
    assert_eq!(accounts(&find(&owner, "тула").await), ["730001"]);

    let blocked = json_body(
        owner
            .put(
                "/api/v1/console/subscribers/730001/block",
                &json!({"blocked": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(blocked["status"], "blocked");
    assert_eq!(blocked["staff_blocked"], true);
    // A payment does not lift a staff block.
    json_body(
        owner
            .post(
                "/api/v1/console/subscribers/730001/payments",
                &json!({"amount_minor": 50000, "method": "cash", "reference": "R-730001"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let still = json_body(
        owner.get("/api/v1/console/subscribers/730001").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(still["status"], "blocked");
    let unblocked = json_body(
        owner
            .put(
                "/api/v1/console/subscribers/730001/block",
                &json!({"blocked": false}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unblocked["status"], "active");
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM audit_log WHERE action IN \
             ('subscriber.create', 'subscriber.update', 'subscriber.block', 'subscriber.unblock')"
        )
        .await,
        4
    );
    // No e-mail, no invitation.
    json_body(
        owner
            .post(
                "/api/v1/console/subscribers",
                &json!({"account_number": "730009", "full_name": "Без Почты"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_problem(
        owner
            .post("/api/v1/console/subscribers/730009/invitation", &json!({}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no_email",
    )
    .await;
    // Another ISP's staff cannot touch it.
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        north
            .put(
                "/api/v1/console/subscribers/730001/block",
                &json!({"blocked": true}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_file_of_100_000_rows_imports_in_one_go() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let mut csv = String::from("account_number;name;email;phone;address;tariff;balance\n");
    for i in 0..100_000u32 {
        csv.push_str(&format!(
            "9{i:06};Абонент Номер {i};user{i}@bulk.example;+7950{i:07};г. Пермь, ул. Тестовая, д. {};{};{}\n",
            i % 300,
            if i % 2 == 0 { "home-100" } else { "home-500" },
            // Every tenth row brings a balance (keeps the debug-build test quick; the bench
            // imports a balance on every row).
            if i % 10 == 0 {
                format!("{}.{:02}", i % 1000 + 1, i % 100)
            } else {
                String::new()
            },
        ));
    }
    let started = Instant::now();
    let report = upload(&owner, "", csv).await;
    let took = started.elapsed();
    assert_eq!(report["committed"], true, "{report}");
    assert_eq!(report["created"], 100_000);
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM subscribers WHERE account_number LIKE '9%'"
        )
        .await,
        100_000
    );
    // Every balance is one opening balance.
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM ledger_transactions WHERE idempotency_key LIKE 'import:opening:%'"
        )
        .await,
        10_000
    );
    let found = find(&owner, "номер 99999").await;
    assert_eq!(accounts(&found), ["9099999"]);
    eprintln!("100,000-row import (debug build): {took:?}");
}
