//! Outage incidents: the area (NAS, area codes, address fragments) decides who is affected;
//! each affected subscriber gets one letter; tickets are linked (by staff, or automatically when
//! an affected subscriber reports a connectivity problem); an update reaches every linked ticket
//! once; closing resolves them; a NAS whose accounting stopped is suggested. Another ISP sees
//! nothing, the read-only role declares nothing, bad input is a 4xx.

use chrono::{Duration, Utc};
use kabinet_db::sqlx;
use kabinet_tests::{TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

const OWNER: &str = "owner@demo.example";
const DEMO: &str = "demo.localhost";

async fn suggestions(client: &kabinet_tests::Client) -> Option<usize> {
    json_body(
        client.get("/api/v1/console/incident-suggestions").await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .map(Vec::len)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(sql)
        .fetch_one(&mut admin)
        .await
        .expect("count")
}

/// A NAS of the demo ISP in `area`.
async fn nas(app: &TestApp, name: &str, address: &str, area: &str) -> Uuid {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(
        "INSERT INTO nas (tenant_id, id, name, address, vendor, area, secret_sealed) \
         SELECT id, gen_random_uuid(), $1, $2::inet, 'mikrotik', $3, '\\x00'::bytea \
         FROM tenants WHERE slug = 'demo' RETURNING id",
    )
    .bind(name)
    .bind(address)
    .bind(area)
    .fetch_one(&mut admin)
    .await
    .expect("nas")
}

/// A PPPoE login for the demo subscriber `account` and a session of it on `nas`, started
/// `minutes_ago`, last heard of `quiet_minutes` ago, open or closed.
async fn session(
    app: &TestApp,
    account: &str,
    nas: Uuid,
    minutes_ago: i64,
    quiet_minutes: i64,
    open: bool,
) {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "INSERT INTO service_logins (tenant_id, id, subscriber_id, kind, username, password_sealed) \
         SELECT s.tenant_id, gen_random_uuid(), s.id, 'pppoe', 'u' || s.account_number, '\\x00'::bytea \
         FROM subscribers s JOIN tenants t ON t.id = s.tenant_id \
         WHERE t.slug = 'demo' AND s.account_number = $1 ON CONFLICT DO NOTHING",
    )
    .bind(account)
    .execute(&mut admin)
    .await
    .expect("login");
    let now = Utc::now();
    sqlx::query(
        "INSERT INTO radius_sessions (tenant_id, nas_id, acct_session_id, subscriber_id, username, \
           started_at, updated_at, stopped_at, state) \
         SELECT s.tenant_id, $2, gen_random_uuid()::text, s.id, 'u' || s.account_number, $3, $4, \
           CASE WHEN $5 THEN NULL ELSE $4 END, CASE WHEN $5 THEN 'open' ELSE 'closed' END \
         FROM subscribers s JOIN tenants t ON t.id = s.tenant_id \
         WHERE t.slug = 'demo' AND s.account_number = $1",
    )
    .bind(account)
    .bind(nas)
    .bind(now - Duration::minutes(minutes_ago))
    .bind(now - Duration::minutes(quiet_minutes))
    .bind(open)
    .execute(&mut admin)
    .await
    .expect("session");
}

fn area(nas: &[Uuid], codes: &[&str], fragments: &[&str]) -> Value {
    json!({"nas_ids": nas, "area_codes": codes, "address_fragments": fragments})
}

async fn declare(staff: &kabinet_tests::Client, title: &str, area: Value) -> Value {
    json_body(
        staff
            .post(
                "/api/v1/console/incidents",
                &json!({"title": title, "message": "Бригада уже выехала", "area": area}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn the_area_decides_who_is_affected_and_each_is_told_once() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let north = nas(&app, "north-1", "10.0.0.1", "NORTH").await;
    let south = nas(&app, "south-1", "10.0.0.2", "South").await;
    // Maria is online on north-1. Ivan was on north-1 once, but his latest session is on south-1.
    session(&app, "100002", north, 60, 1, true).await;
    session(&app, "100001", north, 600, 500, false).await;
    session(&app, "100001", south, 120, 100, false).await;
    let staff = app.staff(DEMO, OWNER).await;
    let maria = app.subscriber(DEMO, "100002").await;
    let ivan = app.subscriber(DEMO, "100001").await;

    let by_nas = declare(&staff, "Север: нет связи", area(&[north], &[], &[])).await;
    assert_eq!(by_nas["affected"], 1);
    let by_code = declare(&staff, "Юг: нет связи", area(&[], &["south"], &[])).await;
    assert_eq!(
        by_code["affected"], 1,
        "area codes compare case-insensitively"
    );
    // Both match the street; Maria also by NAS — still one row, one letter.
    let by_street = declare(
        &staff,
        "Лесная: ремонт кабеля",
        area(&[north], &[], &["ЛЕСНАЯ", "лесная"]),
    )
    .await;
    assert_eq!(by_street["affected"], 2);
    assert_eq!(by_street["area"]["address_fragments"], json!(["ЛЕСНАЯ"]));
    let one_house = declare(&staff, "Дом 5", area(&[], &[], &["Лесная, д. 5"])).await;
    assert_eq!(one_house["affected"], 1);

    let mine = json_body(maria.get("/api/v1/me/incidents").await, StatusCode::OK).await;
    let titles: Vec<&str> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.contains(&"Север: нет связи"));
    assert!(titles.contains(&"Лесная: ремонт кабеля"));
    let his = json_body(ivan.get("/api/v1/me/incidents").await, StatusCode::OK).await;
    assert_eq!(his["items"].as_array().map(Vec::len), Some(3));

    // The new-ticket self-diagnosis shows the outage.
    let diagnosis = json_body(
        maria.get("/api/v1/me/support/diagnosis").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        diagnosis["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["kind"] == "outage" && f["title"] == "Север: нет связи"),
        "{diagnosis}"
    );

    // One letter per incident and affected subscriber: 1 + 1 + 2 + 1.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM mail_outbox WHERE idempotency_key LIKE 'incident:%'"
        )
        .await,
        5
    );
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    let letters = smtp.messages();
    let to_maria = letters
        .iter()
        .filter(|m| {
            m.envelope_to
                .iter()
                .any(|t| t.contains("maria.smirnova@example.com"))
        })
        .count();
    let to_ivan = letters
        .iter()
        .filter(|m| {
            m.envelope_to
                .iter()
                .any(|t| t.contains("ivan.petrov@example.com"))
        })
        .count();
    assert_eq!((to_maria, to_ivan), (2, 3));
    assert!(
        letters.iter().all(|m| m.subject().starts_with("Авария: ")),
        "{:?}",
        letters.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn tickets_are_linked_updates_reach_them_once_and_closing_resolves_them() {
    let app = TestApp::spawn().await.expect("app");
    let north = nas(&app, "north-1", "10.0.0.1", "NORTH").await;
    session(&app, "100002", north, 60, 1, true).await;
    let staff = app.staff(DEMO, "agent@demo.example").await;
    let maria = app.subscriber(DEMO, "100002").await;
    let ivan = app.subscriber(DEMO, "100001").await;

    // Opened before the incident: not linked automatically.
    let early = maria
        .open_ticket("connectivity", "Пропал интернет", "Утром")
        .await;
    let incident = declare(&staff, "Север: нет связи", area(&[north], &[], &[])).await;
    let iid = id(&incident);
    // While it is active: Maria's connectivity ticket is linked, her payments one is not;
    // Ivan is not affected.
    let auto = maria
        .open_ticket("connectivity", "Нет связи", "Опять")
        .await;
    let payments = maria
        .open_ticket("payments", "Счёт", "Вопрос по счёту")
        .await;
    let unrelated = ivan.open_ticket("speed", "Медленно", "Вечером").await;
    let detail = json_body(
        staff.get(&format!("/api/v1/console/incidents/{iid}")).await,
        StatusCode::OK,
    )
    .await;
    let linked: Vec<&str> = detail["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    assert_eq!(linked, vec![id(&auto).as_str()]);
    assert_eq!(detail["tickets"][0]["linked_by_staff"], false);

    // Staff link the early one and Ivan's by number (twice: no duplicates).
    for _ in 0..2 {
        json_body(
            staff
                .post(
                    &format!("/api/v1/console/incidents/{iid}/tickets"),
                    &json!({"ticket_numbers": [early["number"], unrelated["number"]]}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }
    let detail = json_body(
        staff.get(&format!("/api/v1/console/incidents/{iid}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["incident"]["linked_tickets"], 3);

    // An update: one public reply in each linked ticket, and a bell notification each.
    let request = Uuid::new_v4();
    let body = json!({"id": request, "body": "Меняем коммутатор, ориентировочно к 18:00"});
    let posted = json_body(
        staff
            .post(&format!("/api/v1/console/incidents/{iid}/updates"), &body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(posted["tickets_reached"], 3);
    let again = json_body(
        staff
            .post(&format!("/api/v1/console/incidents/{iid}/updates"), &body)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        again["tickets_reached"], 0,
        "a repeated request posts nothing"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM ticket_messages WHERE body = 'Меняем коммутатор, ориентировочно к 18:00'"
        )
        .await,
        3
    );
    let thread = json_body(
        ivan.get(&format!("/api/v1/me/tickets/{}", id(&unrelated)))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(thread.to_string().contains("Меняем коммутатор"), "{thread}");
    let bell = json_body(ivan.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    assert_eq!(bell["unread"], 1);
    let mine = json_body(maria.get("/api/v1/me/incidents").await, StatusCode::OK).await;
    assert_eq!(
        mine["items"][0]["latest_update"],
        "Меняем коммутатор, ориентировочно к 18:00"
    );

    // Close: the three linked tickets are resolved at once, with a status event each; the
    // payments ticket is untouched.
    let closed = json_body(
        staff
            .post(
                &format!("/api/v1/console/incidents/{iid}/close"),
                &json!({"message": "Коммутатор заменён"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["tickets_resolved"], 3);
    assert!(closed["incident"]["closed_at"].is_string());
    for t in [&early, &auto, &unrelated] {
        let status: String = {
            let mut admin = app.db.admin().await.expect("admin");
            sqlx::query_scalar("SELECT status FROM tickets WHERE id = $1::uuid")
                .bind(id(t))
                .fetch_one(&mut admin)
                .await
                .expect("status")
        };
        assert_eq!(status, "resolved");
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM ticket_events WHERE kind = 'status' AND new_value = 'resolved'"
        )
        .await,
        3
    );
    let payments_status = json_body(
        maria
            .get(&format!("/api/v1/me/tickets/{}", id(&payments)))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(payments_status["status"], "new");
    let mine = json_body(maria.get("/api/v1/me/incidents").await, StatusCode::OK).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(0));
    // A closed incident takes no more updates, links or closes.
    assert_problem(
        staff
            .post(
                &format!("/api/v1/console/incidents/{iid}/updates"),
                &json!({"id": Uuid::new_v4(), "body": "ещё"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert_problem(
        staff
            .post(
                &format!("/api/v1/console/incidents/{iid}/close"),
                &json!({}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    let lists = json_body(
        staff.get("/api/v1/console/incidents?state=closed").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lists["items"].as_array().map(Vec::len), Some(1));
    // Every staff action is audited.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action LIKE 'incident.%'"
        )
        .await,
        6
    );
}

#[tokio::test]
async fn a_nas_whose_accounting_stopped_is_suggested_until_an_incident_covers_it() {
    let app = TestApp::spawn().await.expect("app");
    let silent = nas(&app, "silent-1", "10.0.0.3", "EAST").await;
    let chatty = nas(&app, "chatty-1", "10.0.0.4", "WEST").await;
    session(&app, "100001", silent, 120, 30, true).await;
    session(&app, "100002", chatty, 120, 1, true).await;
    let staff = app.staff(DEMO, "viewer@demo.example").await;
    let suggested = json_body(
        staff.get("/api/v1/console/incident-suggestions").await,
        StatusCode::OK,
    )
    .await;
    let items = suggested["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{suggested}");
    assert_eq!(items[0]["nas_id"], silent.to_string());
    assert_eq!(items[0]["sessions"], 1);

    // Confirming is declaring for that NAS; then it is no longer suggested.
    let owner = app.staff(DEMO, OWNER).await;
    let incident = declare(&owner, "silent-1 не отвечает", area(&[silent], &[], &[])).await;
    assert_eq!(incident["affected"], 1);
    let suggested = json_body(
        staff.get("/api/v1/console/incident-suggestions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(suggested["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn subscribers_who_move_onto_the_area_are_covered_with_the_next_update() {
    let app = TestApp::spawn().await.expect("app");
    let north = nas(&app, "north-9", "10.0.0.9", "NORTH").await;
    let south = nas(&app, "south-9", "10.0.0.10", "SOUTH").await;
    session(&app, "100002", north, 60, 1, true).await;
    session(&app, "100001", south, 60, 1, true).await;
    let staff = app.staff(DEMO, OWNER).await;
    let incident = declare(&staff, "Север: нет связи", area(&[north], &[], &[])).await;
    assert_eq!(incident["affected"], 1);
    let iid = id(&incident);
    let declaration_letters =
        "SELECT count(*) FROM mail_outbox WHERE idempotency_key LIKE 'incident:%'";
    assert_eq!(count(&app, declaration_letters).await, 1);

    // Ivan's router reconnects through north-9; the next update covers and tells him too.
    session(&app, "100001", north, 5, 1, true).await;
    for body in ["Бригада выехала", "Бригада на месте"] {
        assert_eq!(
            staff
                .post(
                    &format!("/api/v1/console/incidents/{iid}/updates"),
                    &json!({"id": Uuid::now_v7(), "body": body}),
                )
                .await
                .status(),
            StatusCode::OK
        );
    }
    let detail = json_body(
        staff.get(&format!("/api/v1/console/incidents/{iid}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["incident"]["affected"], 2, "{detail}");
    // One declaration letter each, however many updates follow.
    assert_eq!(count(&app, declaration_letters).await, 2);
    let ivan = app.subscriber(DEMO, "100001").await;
    let his = json_body(ivan.get("/api/v1/me/incidents").await, StatusCode::OK).await;
    assert_eq!(his["items"].as_array().map(Vec::len), Some(1), "{his}");
}

#[tokio::test]
async fn a_dismissed_suggestion_stays_away_for_that_silence_only() {
    let app = TestApp::spawn().await.expect("app");
    let silent = nas(&app, "silent-2", "10.0.0.5", "EAST").await;
    session(&app, "100001", silent, 120, 30, true).await;
    let owner = app.staff(DEMO, OWNER).await;
    let viewer = app.staff(DEMO, "viewer@demo.example").await;
    assert_eq!(suggestions(&viewer).await, Some(1));
    let dismiss = format!("/api/v1/console/incident-suggestions/{silent}/dismiss");
    // Reading is not managing; another ISP's NAS is unknown here.
    assert_problem(
        viewer.post(&dismiss, &json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        north.post(&dismiss, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Dismissed (twice is one dismissal): gone for everyone, audited.
    for _ in 0..2 {
        assert_eq!(
            owner.post(&dismiss, &json!({})).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(suggestions(&viewer).await, Some(0));
    assert_eq!(
        count(&app, "SELECT count(*) FROM incident_suggestion_dismissals").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'incident.suggestion_dismissed'"
        )
        .await,
        2
    );
    // The NAS speaks again, then falls silent anew: suggested again.
    session(&app, "100002", silent, 60, 20, true).await;
    assert_eq!(suggestions(&viewer).await, Some(1));
}

#[tokio::test]
async fn another_isp_sees_nothing_and_the_read_only_role_declares_nothing() {
    let app = TestApp::spawn().await.expect("app");
    let north = nas(&app, "north-1", "10.0.0.1", "NORTH").await;
    let owner = app.staff(DEMO, OWNER).await;
    let incident = declare(&owner, "Север", area(&[north], &[], &["Лесная"])).await;
    let iid = id(&incident);
    let ticket_number = app
        .subscriber(DEMO, "100001")
        .await
        .open_ticket("other", "Вопрос", "Текст")
        .await["number"]
        .clone();

    let other = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    let list = json_body(other.get("/api/v1/console/incidents").await, StatusCode::OK).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    assert_problem(
        other.get(&format!("/api/v1/console/incidents/{iid}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        other
            .post(
                &format!("/api/v1/console/incidents/{iid}/close"),
                &json!({}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        other
            .post(
                &format!("/api/v1/console/incidents/{iid}/updates"),
                &json!({"id": Uuid::new_v4(), "body": "x"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Another ISP's NAS is unknown to it.
    let other_declared = other
        .post(
            "/api/v1/console/incidents",
            &json!({"title": "t", "message": "m", "area": area(&[north], &[], &[])}),
        )
        .await;
    assert_problem(other_declared, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    // Its address fragment reaches only its own subscribers (none on "Лесная").
    let own = json_body(
        other
            .post(
                "/api/v1/console/incidents",
                &json!({"title": "t", "message": "m", "area": area(&[], &[], &["Лесная"])}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(own["affected"], 0);
    // A demo ticket number means nothing to northnet.
    assert_problem(
        other
            .post(
                &format!("/api/v1/console/incidents/{}/tickets", id(&own)),
                &json!({"ticket_numbers": [ticket_number]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    let aino = app.subscriber("northnet.localhost", "200001").await;
    let mine = json_body(aino.get("/api/v1/me/incidents").await, StatusCode::OK).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(0));

    let viewer = app.staff(DEMO, "viewer@demo.example").await;
    json_body(
        viewer.get("/api/v1/console/incidents").await,
        StatusCode::OK,
    )
    .await;
    json_body(
        viewer
            .get(&format!("/api/v1/console/incidents/{iid}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        viewer
            .post(
                "/api/v1/console/incidents",
                &json!({"title": "t", "message": "m", "area": area(&[], &["NORTH"], &[])}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        viewer
            .post(
                &format!("/api/v1/console/incidents/{iid}/close"),
                &json!({}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(incident["affected"], 2);
}

#[tokio::test]
async fn bad_input_is_a_4xx_problem() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    for (body, status) in [
        (
            json!({"title": "t", "message": "m", "area": area(&[], &[], &[])}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "  ", "message": "m", "area": area(&[], &["A"], &[])}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "a\nb", "message": "m", "area": area(&[], &["A"], &[])}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "t", "message": "m", "area": area(&[], &[], &["ab"])}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "t", "message": "m", "area": area(&[Uuid::new_v4()], &[], &[])}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "t", "message": "m", "started_at": (Utc::now() + Duration::days(1)).to_rfc3339(),
                   "area": area(&[], &["A"], &[])}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": 5, "message": "m", "area": area(&[], &["A"], &[])}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"title": "t"}), StatusCode::BAD_REQUEST),
    ] {
        let resp = owner.post("/api/v1/console/incidents", &body).await;
        assert_eq!(resp.status(), status, "{body}");
    }
    let incident = declare(&owner, "Север", area(&[], &["NORTH"], &[])).await;
    let iid = id(&incident);
    assert_problem(
        owner
            .post(
                &format!("/api/v1/console/incidents/{iid}/tickets"),
                &json!({"ticket_numbers": [999_999]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    let empty = owner
        .post(
            &format!("/api/v1/console/incidents/{iid}/tickets"),
            &json!({"ticket_numbers": []}),
        )
        .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert_problem(
        owner
            .get(&format!("/api/v1/console/incidents/{}", Uuid::new_v4()))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let bad_state = owner.get("/api/v1/console/incidents?state=maybe").await;
    assert_eq!(bad_state.status(), StatusCode::BAD_REQUEST);
}
