//! Ticket categories the ISP edits: a custom category takes tickets and its own SLA policy;
//! unknown, switched-off and another ISP's codes are refused with `unknown_category`; a rename
//! shows wherever the name is read; the order sticks; a category's kind (not its code) links
//! tickets to an outage; in-use and built-in categories are not deleted; every change is
//! audited; a subscriber or a read-only role changes nothing.

use chrono::{DateTime, Duration, Utc};
use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const DEMO: &str = "demo.localhost";
const NORTH: &str = "northnet.localhost";
const OWNER: &str = "owner@demo.example";

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("a time, got {v}")))
        .expect("rfc3339")
        .with_timezone(&Utc)
}

async fn create(staff: &Client, body: Value) -> Value {
    json_body(
        staff.post("/api/v1/console/ticket-categories", &body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn portal_codes(sub: &Client, query: &str) -> Vec<(String, String, bool)> {
    json_body(
        sub.get(&format!("/api/v1/me/ticket-categories{query}"))
            .await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| {
            (
                c["code"].as_str().expect("code").to_owned(),
                c["name"].as_str().expect("name").to_owned(),
                c["active"].as_bool().expect("active"),
            )
        })
        .collect()
}

async fn open_raw(sub: &Client, category: &str) -> reqwest::Response {
    sub.post(
        "/api/v1/me/tickets",
        &json!({"category": category, "subject": "Тема", "description": "Описание"}),
    )
    .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(sql)
        .fetch_one(&mut admin)
        .await
        .expect("count")
}

#[tokio::test]
async fn every_isp_starts_with_the_nine_built_ins() {
    let app = TestApp::spawn().await.expect("app");
    for host in [DEMO, NORTH] {
        let sub = app
            .subscriber(host, if host == DEMO { "100001" } else { "200001" })
            .await;
        let list = portal_codes(&sub, "?lang=en").await;
        let codes: Vec<&str> = list.iter().map(|(c, _, _)| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "connectivity",
                "speed",
                "payments",
                "tariff",
                "addons",
                "equipment",
                "complaint",
                "account_security",
                "other"
            ],
            "{host}"
        );
        assert_eq!(list[1].1, "Speed");
    }
    let ru = portal_codes(&app.subscriber(DEMO, "100001").await, "?lang=ru").await;
    assert_eq!(ru[0].1, "Нет подключения");
}

#[tokio::test]
async fn a_custom_category_takes_tickets_and_its_own_sla_policy() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let sub = app.subscriber(DEMO, "100001").await;
    let created = create(
        &owner,
        json!({"code": "dacha_link", "kind": "connectivity", "name_ru": "  Связь на  даче ", "name_en": "Country house link"}),
    )
    .await;
    assert_eq!(created["code"], "dacha_link");
    assert_eq!(created["kind"], "connectivity");
    assert_eq!(created["name_ru"], "Связь на даче");
    assert_eq!(created["built_in"], false);
    assert_eq!(created["position"], 10);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'ticket_category.create' \
             AND target = 'ticket_category:dacha_link'"
        )
        .await,
        1
    );
    // The same code again is a conflict.
    assert_problem(
        owner
            .post(
                "/api/v1/console/ticket-categories",
                &json!({"code": "dacha_link", "kind": "other", "name_ru": "Ещё"}),
            )
            .await,
        StatusCode::CONFLICT,
        "category_code_taken",
    )
    .await;

    // An SLA policy for the custom category wins over the priority's default.
    let hours: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "opens": "00:00", "closes": "24:00"}))
        .collect();
    let settings = json!({
        "reopen_days": 7, "auto_close_days": 7, "opening_hours": hours, "holidays": [],
        "policies": [
            {"priority": "normal", "first_response_minutes": 30, "resolution_minutes": 120, "raise_priority_on_breach": true},
            {"priority": "normal", "category": "dacha_link", "first_response_minutes": 15, "resolution_minutes": 45, "raise_priority_on_breach": false},
        ],
    });
    let saved = json_body(
        owner
            .put("/api/v1/console/ticket-settings", &settings)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        saved["policies"]
            .as_array()
            .expect("policies")
            .iter()
            .any(|p| p["category"] == "dacha_link")
    );

    let list = portal_codes(&sub, "?lang=ru").await;
    assert_eq!(
        list.last(),
        Some(&("dacha_link".to_owned(), "Связь на даче".to_owned(), true))
    );
    let ticket = sub
        .open_ticket("dacha_link", "Нет связи на даче", "С утра")
        .await;
    assert_eq!(ticket["category"], "dacha_link");
    let id = ticket["id"].as_str().expect("id");
    let view = json_body(
        owner.get(&format!("/api/v1/console/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let created_at = time(&view["created_at"]);
    assert_eq!(
        time(&view["sla"]["first_response_due_at"]) - created_at,
        Duration::minutes(15)
    );
    assert_eq!(
        time(&view["sla"]["resolution_due_at"]) - created_at,
        Duration::minutes(45)
    );
    // The queue filters by it, and the console list counts it.
    let queue = json_body(
        owner
            .get("/api/v1/console/tickets?category=dacha_link")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(1));
    let console = json_body(
        owner.get("/api/v1/console/ticket-categories").await,
        StatusCode::OK,
    )
    .await;
    let mine = console["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["code"] == "dacha_link")
        .expect("listed")
        .clone();
    assert_eq!(mine["tickets"], 1);
    assert_eq!(mine["display_name_en"], "Country house link");
}

#[tokio::test]
async fn unknown_inactive_and_another_isps_codes_are_refused() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let north = app.staff(NORTH, "owner@northnet.example").await;
    let sub = app.subscriber(DEMO, "100001").await;
    create(
        &north,
        json!({"code": "fiber_cut", "kind": "connectivity", "name_en": "Fibre cut"}),
    )
    .await;
    for code in ["no_such", "fiber_cut"] {
        assert_problem(
            open_raw(&sub, code).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_category",
        )
        .await;
    }
    // A code of the wrong shape never reaches the database.
    assert_eq!(
        open_raw(&sub, "Bad code!").await.status(),
        StatusCode::BAD_REQUEST
    );
    // Every other place that names a category refuses another ISP's code too.
    assert_problem(
        owner
            .post(
                "/api/v1/console/assignment/groups",
                &json!({"name": "Оптика", "mode": "round_robin", "categories": ["fiber_cut"],
                        "position": 0, "auto_assign": true, "members": []}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_category",
    )
    .await;
    assert_problem(
        owner
            .post(
                "/api/v1/console/kb",
                &json!({"title": "Обрыв", "body": "Текст", "locale": "ru",
                        "category": "fiber_cut", "published": false}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_category",
    )
    .await;
    let hours: Vec<Value> = (1..=5)
        .map(|d| json!({"weekday": d, "opens": "09:00", "closes": "18:00"}))
        .collect();
    assert_problem(
        owner
            .put(
                "/api/v1/console/ticket-settings",
                &json!({"reopen_days": 7, "auto_close_days": 7, "opening_hours": hours, "holidays": [],
                        "policies": [{"priority": "low", "category": "fiber_cut", "first_response_minutes": 5,
                                      "resolution_minutes": 10, "raise_priority_on_breach": false}]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_category",
    )
    .await;

    // Switched off: gone from the form, refused for new tickets, kept by old ones.
    create(
        &owner,
        json!({"code": "tv_box", "kind": "equipment", "name_ru": "Приставка"}),
    )
    .await;
    let old = sub.open_ticket("tv_box", "Приставка", "Не грузится").await;
    let off = json_body(
        owner
            .put(
                "/api/v1/console/ticket-categories/tv_box",
                &json!({"name_ru": "Приставка", "active": false}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(off["active"], false);
    assert_problem(
        open_raw(&sub, "tv_box").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_category",
    )
    .await;
    assert!(
        !portal_codes(&sub, "")
            .await
            .iter()
            .any(|(c, _, _)| c == "tv_box")
    );
    assert!(
        portal_codes(&sub, "?include_inactive=true")
            .await
            .contains(&("tv_box".to_owned(), "Приставка".to_owned(), false))
    );
    let kept = json_body(
        sub.get(&format!(
            "/api/v1/me/tickets/{}",
            old["id"].as_str().expect("id")
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["category"], "tv_box");

    // In use or built in: not deleted. Unused and custom: deleted.
    assert_problem(
        owner
            .delete("/api/v1/console/ticket-categories/tv_box")
            .await,
        StatusCode::CONFLICT,
        "category_in_use",
    )
    .await;
    assert_problem(
        owner
            .delete("/api/v1/console/ticket-categories/speed")
            .await,
        StatusCode::CONFLICT,
        "category_built_in",
    )
    .await;
    create(
        &owner,
        json!({"code": "spare", "kind": "other", "name_en": "Spare"}),
    )
    .await;
    assert_eq!(
        owner
            .delete("/api/v1/console/ticket-categories/spare")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // Another ISP's category is not found from here.
    assert_problem(
        owner
            .put(
                "/api/v1/console/ticket-categories/fiber_cut",
                &json!({"name_en": "Mine", "active": true}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_rename_shows_everywhere_and_the_order_sticks() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let sub = app.subscriber(DEMO, "100001").await;
    let renamed = json_body(
        owner
            .put(
                "/api/v1/console/ticket-categories/speed",
                &json!({"name_ru": "Скорость интернета", "active": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["display_name_ru"], "Скорость интернета");
    // No English name of its own: the Russian one, which is the ISP's word.
    assert_eq!(renamed["display_name_en"], "Скорость интернета");
    let ru = portal_codes(&sub, "?lang=ru").await;
    assert_eq!(ru[1].1, "Скорость интернета");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'ticket_category.update' \
             AND details -> 'before' ->> 'name_ru' IS NULL \
             AND details -> 'after' ->> 'name_ru' = 'Скорость интернета'"
        )
        .await,
        1
    );
    // Back to the built-in name.
    json_body(
        owner
            .put(
                "/api/v1/console/ticket-categories/speed",
                &json!({"active": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(portal_codes(&sub, "?lang=ru").await[1].1, "Скорость");
    // A custom category keeps a name.
    create(
        &owner,
        json!({"code": "vip", "kind": "complaint", "name_ru": "VIP"}),
    )
    .await;
    assert_problem(
        owner
            .put(
                "/api/v1/console/ticket-categories/vip",
                &json!({"name_ru": "  ", "active": true}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;

    // Reorder: every code once, else refused.
    let mut codes: Vec<String> = portal_codes(&sub, "?include_inactive=true")
        .await
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    codes.reverse();
    let after = json_body(
        owner
            .put(
                "/api/v1/console/ticket-category-order",
                &json!({ "codes": codes }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["items"][0]["code"], "vip");
    let now: Vec<String> = portal_codes(&sub, "")
        .await
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    assert_eq!(now, codes);
    assert_problem(
        owner
            .put(
                "/api/v1/console/ticket-category-order",
                &json!({ "codes": ["vip"] }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
}

#[tokio::test]
async fn the_kind_not_the_code_links_a_ticket_to_an_outage() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let maria = app.subscriber(DEMO, "100002").await;
    create(
        &owner,
        json!({"code": "dacha_link", "kind": "connectivity", "name_ru": "Связь на даче"}),
    )
    .await;
    create(
        &owner,
        json!({"code": "refund", "kind": "payments", "name_ru": "Возврат"}),
    )
    .await;
    let incident = json_body(
        owner
            .post(
                "/api/v1/console/incidents",
                &json!({"title": "Лесная: нет связи", "message": "Бригада выехала",
                        "area": {"nas_ids": [], "area_codes": [], "address_fragments": ["ул. Лесная, д. 7"]}}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let linked = maria.open_ticket("dacha_link", "Нет связи", "Опять").await;
    maria.open_ticket("refund", "Верните", "Деньги").await;
    let detail = json_body(
        owner
            .get(&format!(
                "/api/v1/console/incidents/{}",
                incident["id"].as_str().expect("id")
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = detail["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [linked["id"].as_str().expect("id")]);
}

#[tokio::test]
async fn subscribers_and_readers_change_nothing() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(DEMO, "100001").await;
    assert_eq!(
        sub.post(
            "/api/v1/console/ticket-categories",
            &json!({"code": "x_y", "kind": "other", "name_ru": "X"}),
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
    let agent = app.staff(DEMO, "agent@demo.example").await;
    // Agents read the list (queue filter), but the list is the ISP's setting.
    json_body(
        agent.get("/api/v1/console/ticket-categories").await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        agent
            .post(
                "/api/v1/console/ticket-categories",
                &json!({"code": "x_y", "kind": "other", "name_ru": "X"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
