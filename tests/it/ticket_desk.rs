//! The agent desk: lifecycle, reopen window, internal notes, SLA due times, the escalation
//! worker, queue filters, permissions and tenant isolation.

use chrono::{DateTime, Duration, Utc};
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_tests::{Client, PASSWORD, TestApp, assert_problem, json, json_body};
use kabinet_ticketing::sla::{BusinessCalendar, default_opening_hours};
use reqwest::StatusCode;
use serde_json::Value;

const HOST: &str = "demo.localhost";

/// Rows in every desk table for the isolation test: a note, tags (and their events), settings
/// and SLA policies.
pub async fn seed_desk(staff: &Client, id: &str) {
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/notes"),
                &json!({"body": "Seed note"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{id}/tags"),
                &json!({"tags": ["seed"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    json_body(
        staff
            .put(
                "/api/v1/console/ticket-settings",
                &round_the_clock(7, 30, 120),
            )
            .await,
        StatusCode::OK,
    )
    .await;
}

/// Settings with business hours all day every day and a normal-priority policy.
fn round_the_clock(reopen_days: i32, first_response: i32, resolution: i32) -> Value {
    let hours: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "opens": "00:00", "closes": "24:00"}))
        .collect();
    json!({
        "reopen_days": reopen_days,
        "auto_close_days": 7,
        "opening_hours": hours,
        "holidays": [],
        "policies": [{
            "priority": "normal",
            "first_response_minutes": first_response,
            "resolution_minutes": resolution,
            "raise_priority_on_breach": true,
        }],
    })
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("a time, got {v}")))
        .expect("rfc3339")
        .with_timezone(&Utc)
}

async fn open(sub: &Client, category: &str, subject: &str) -> String {
    let t = sub.open_ticket(category, subject, "Описание").await;
    t["id"].as_str().expect("id").to_owned()
}

async fn put_status(staff: &Client, id: &str, status: &str) -> reqwest::Response {
    staff
        .put(
            &format!("/api/v1/console/tickets/{id}/status"),
            &json!({ "status": status }),
        )
        .await
}

async fn staff_view(staff: &Client, id: &str) -> Value {
    json_body(
        staff.get(&format!("/api/v1/console/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await
}

async fn sub_view(sub: &Client, id: &str) -> Value {
    json_body(
        sub.get(&format!("/api/v1/me/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await
}

async fn demo_tenant(app: &TestApp) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
            .fetch_one(&mut admin)
            .await
            .expect("tenant"),
    )
}

async fn admin_sql(app: &TestApp, sql: &str, id: &str) {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(sql)
        .bind(uuid::Uuid::parse_str(id).expect("uuid"))
        .execute(&mut admin)
        .await
        .expect("admin sql");
}

fn event_kinds(view: &Value) -> Vec<String> {
    view["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect()
}

#[tokio::test]
async fn the_lifecycle_allows_the_legal_moves_and_refuses_the_others() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let staff = app.staff(HOST, "owner@demo.example").await;
    let id = open(&sub, "connectivity", "Нет линка").await;

    let view = json_body(put_status(&staff, &id, "open").await, StatusCode::OK).await;
    assert_eq!(view["status"], "open");
    // The same status again changes nothing and records nothing.
    let again = json_body(put_status(&staff, &id, "open").await, StatusCode::OK).await;
    assert_eq!(again["events"].as_array().map(Vec::len), Some(1));
    let problem = assert_problem(
        put_status(&staff, &id, "new").await,
        StatusCode::CONFLICT,
        "illegal_ticket_transition",
    )
    .await;
    assert!(
        problem["detail"].as_str().expect("detail").contains("open"),
        "{problem}"
    );
    json_body(
        put_status(&staff, &id, "waiting_on_customer").await,
        StatusCode::OK,
    )
    .await;
    let resolved = json_body(put_status(&staff, &id, "resolved").await, StatusCode::OK).await;
    assert_eq!(resolved["sla"]["paused"], true);
    json_body(put_status(&staff, &id, "open").await, StatusCode::OK).await;
    json_body(put_status(&staff, &id, "resolved").await, StatusCode::OK).await;
    let closed = json_body(put_status(&staff, &id, "closed").await, StatusCode::OK).await;
    assert_eq!(closed["status"], "closed");
    for next in ["new", "open", "waiting_on_customer", "resolved"] {
        assert_problem(
            put_status(&staff, &id, next).await,
            StatusCode::CONFLICT,
            "illegal_ticket_transition",
        )
        .await;
    }
    assert_problem(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "Ещё"}),
            )
            .await,
        StatusCode::CONFLICT,
        "ticket_closed",
    )
    .await;
    assert_problem(
        sub.post(
            &format!("/api/v1/me/tickets/{id}/messages"),
            &json!({"body": "Ещё"}),
        )
        .await,
        StatusCode::CONFLICT,
        "ticket_closed",
    )
    .await;
    assert_problem(
        put_status(&staff, &id, "bogus").await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;

    // History: every move, by whom, from and to.
    let view = staff_view(&staff, &id).await;
    let moves: Vec<(String, String)> = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "status")
        .map(|e| {
            assert_eq!(e["actor_name"], "Ольга Владимирова");
            (
                e["old_value"].as_str().expect("old").to_owned(),
                e["new_value"].as_str().expect("new").to_owned(),
            )
        })
        .collect();
    let expected = [
        ("new", "open"),
        ("open", "waiting_on_customer"),
        ("waiting_on_customer", "resolved"),
        ("resolved", "open"),
        ("open", "resolved"),
        ("resolved", "closed"),
    ];
    assert_eq!(
        moves,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    let audit: i64 = {
        let mut admin = app.db.admin().await.expect("admin");
        sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE action = 'ticket.status' AND target = $1",
        )
        .bind(format!("ticket:{id}"))
        .fetch_one(&mut admin)
        .await
        .expect("audit")
    };
    // Six moves and the no-op: every accepted call is audited, refused ones are not.
    assert_eq!(audit, 7);
}

#[tokio::test]
async fn a_subscriber_reopens_within_the_window_and_not_after() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let staff = app.staff(HOST, "owner@demo.example").await;
    let id = open(&sub, "speed", "Медленно").await;

    // Waiting on the customer: their answer hands it back to the agents.
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "Перезагрузите роутер"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(sub_view(&sub, &id).await["status"], "waiting_on_customer");
    json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{id}/messages"),
            &json!({"body": "Не помогло"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(sub_view(&sub, &id).await["status"], "open");
    // Reopen only applies to resolved tickets.
    assert_problem(
        sub.post(&format!("/api/v1/me/tickets/{id}/reopen"), &json!({}))
            .await,
        StatusCode::CONFLICT,
        "illegal_ticket_transition",
    )
    .await;

    // Resolved: a reply within the window (7 days by default) reopens.
    json_body(put_status(&staff, &id, "resolved").await, StatusCode::OK).await;
    let resolved = sub_view(&sub, &id).await;
    let reopen_until = time(&resolved["reopen_until"]);
    assert!(
        reopen_until > Utc::now() + Duration::days(6)
            && reopen_until < Utc::now() + Duration::days(8)
    );
    assert!(resolved.get("answer_due_at").is_none(), "{resolved}");
    json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{id}/messages"),
            &json!({"body": "Снова тормозит"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let reopened = sub_view(&sub, &id).await;
    assert_eq!(reopened["status"], "open");
    assert!(reopened.get("reopen_until").is_none());

    // Resolved eight days ago: too late, by message or by the reopen button.
    json_body(put_status(&staff, &id, "resolved").await, StatusCode::OK).await;
    admin_sql(
        &app,
        "UPDATE tickets SET resolved_at = now() - interval '8 days' WHERE id = $1",
        &id,
    )
    .await;
    assert_problem(
        sub.post(
            &format!("/api/v1/me/tickets/{id}/messages"),
            &json!({"body": "Опять"}),
        )
        .await,
        StatusCode::CONFLICT,
        "reopen_window_passed",
    )
    .await;
    assert_problem(
        sub.post(&format!("/api/v1/me/tickets/{id}/reopen"), &json!({}))
            .await,
        StatusCode::CONFLICT,
        "reopen_window_passed",
    )
    .await;
    assert_eq!(sub_view(&sub, &id).await["status"], "resolved");

    // The ISP widens its window: now the reopen button works.
    json_body(
        staff
            .put(
                "/api/v1/console/ticket-settings",
                &round_the_clock(30, 30, 120),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let thread = json_body(
        sub.post(&format!("/api/v1/me/tickets/{id}/reopen"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread["status"], "open");
    let view = staff_view(&staff, &id).await;
    let by_subscriber = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "status" && e["actor_name"] == "Иван Петров")
        .count();
    assert_eq!(by_subscriber, 3, "{view}");

    // Another subscriber cannot reopen it.
    let other = app.subscriber(HOST, "100002").await;
    assert_problem(
        other
            .post(&format!("/api/v1/me/tickets/{id}/reopen"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn internal_notes_never_reach_the_subscriber() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let staff = app.staff(HOST, "agent@demo.example").await;
    let id = open(&sub, "payments", "Платёж не дошёл").await;
    let note = json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/notes"),
                &json!({"body": "SECRET-NOTE: абонент должник"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(note["body"], "SECRET-NOTE: абонент должник");
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "Проверяем платёж"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    let view = staff_view(&staff, &id).await;
    assert_eq!(view["notes"][0]["body"], "SECRET-NOTE: абонент должник");
    assert_eq!(view["notes"][0]["author_name"], note["author_name"]);
    assert_eq!(view["messages"].as_array().map(Vec::len), Some(2));

    // Neither the list, the thread, nor the dashboard carries the note (or the events).
    for path in [
        "/api/v1/me/tickets".to_owned(),
        format!("/api/v1/me/tickets/{id}"),
        "/api/v1/me/dashboard".to_owned(),
    ] {
        let resp = sub.get(&path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let text = resp.text().await.expect("body");
        assert!(
            !text.contains("SECRET-NOTE"),
            "{path} leaked the note: {text}"
        );
        assert!(!text.contains("\"notes\""), "{path}: {text}");
        assert!(!text.contains("\"events\""), "{path}: {text}");
    }
    let thread = sub_view(&sub, &id).await;
    assert_eq!(thread["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(thread["messages"][1]["body"], "Проверяем платёж");
    // A note changes neither the status nor the SLA's first response.
    assert_eq!(thread["status"], "waiting_on_customer");
}

#[tokio::test]
async fn sla_due_times_follow_business_hours_priority_and_pauses() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let staff = app.staff(HOST, "owner@demo.example").await;

    // Defaults: Mon–Fri 09:00–18:00 Moscow; normal = 8 h first response, 27 h resolution.
    let id = open(&sub, "tariff", "Смена тарифа").await;
    let view = staff_view(&staff, &id).await;
    assert_eq!(view["priority"], "normal");
    let created = time(&view["created_at"]);
    let cal = BusinessCalendar::new("Europe/Moscow", &default_opening_hours(), &[]).expect("cal");
    assert_eq!(
        time(&view["sla"]["first_response_due_at"]),
        cal.add_business_minutes(created, 480)
    );
    assert_eq!(
        time(&view["sla"]["resolution_due_at"]),
        cal.add_business_minutes(created, 27 * 60)
    );
    // The subscriber is told when the answer is due.
    assert_eq!(
        time(&sub_view(&sub, &id).await["answer_due_at"]),
        cal.add_business_minutes(created, 480)
    );
    // Urgent: 1 h / 8 h, counted from creation.
    let urgent = json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{id}/priority"),
                &json!({"priority": "urgent"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        time(&urgent["sla"]["first_response_due_at"]),
        cal.add_business_minutes(created, 60)
    );
    assert_eq!(
        time(&urgent["sla"]["resolution_due_at"]),
        cal.add_business_minutes(created, 480)
    );
    assert!(event_kinds(&urgent).contains(&"priority".to_owned()));

    // Round the clock with the ISP's own normal policy: 30 min / 120 min.
    json_body(
        staff
            .put(
                "/api/v1/console/ticket-settings",
                &round_the_clock(7, 30, 120),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let settings = json_body(
        staff.get("/api/v1/console/ticket-settings").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(settings["time_zone"], "Europe/Moscow");
    assert_eq!(settings["opening_hours"][0]["closes"], "24:00");
    // The stored normal policy plus the built-in ones for the other priorities.
    assert_eq!(settings["policies"].as_array().map(Vec::len), Some(4));
    let id = open(&sub, "other", "Вопрос").await;
    let view = staff_view(&staff, &id).await;
    let created = time(&view["created_at"]);
    assert_eq!(
        time(&view["sla"]["first_response_due_at"]),
        created + Duration::minutes(30)
    );
    assert_eq!(
        time(&view["sla"]["resolution_due_at"]),
        created + Duration::minutes(120)
    );
    assert_eq!(view["sla"]["overdue"], false);

    // The first public reply is the first response; waiting on the customer stops the clock.
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{id}/replies"),
                &json!({"body": "Уточните адрес"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let waiting = staff_view(&staff, &id).await;
    assert!(waiting["sla"]["first_responded_at"].is_string());
    assert_eq!(waiting["sla"]["paused"], true);
    assert_eq!(waiting["sla"]["first_response_breached"], false);
    assert!(sub_view(&sub, &id).await.get("answer_due_at").is_none());
    // Pretend the customer took an hour to answer: the resolution moves out by that hour.
    admin_sql(
        &app,
        "UPDATE tickets SET sla_paused_at = sla_paused_at - interval '1 hour' WHERE id = $1",
        &id,
    )
    .await;
    json_body(
        sub.post(
            &format!("/api/v1/me/tickets/{id}/messages"),
            &json!({"body": "ул. Ленина, 1"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let resumed = staff_view(&staff, &id).await;
    assert_eq!(resumed["sla"]["paused"], false);
    let moved = time(&resumed["sla"]["resolution_due_at"]) - created;
    assert!(
        moved >= Duration::minutes(180) && moved < Duration::minutes(182),
        "resolution due {moved} after creation"
    );
    // After the first response the subscriber sees the resolution due time.
    assert_eq!(
        time(&sub_view(&sub, &id).await["answer_due_at"]),
        time(&resumed["sla"]["resolution_due_at"])
    );

    // Bad settings are refused.
    let mut bad = round_the_clock(7, 30, 120);
    bad["opening_hours"] = json!([{"weekday": 1, "opens": "18:00", "closes": "09:00"}]);
    assert_problem(
        staff.put("/api/v1/console/ticket-settings", &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    let mut bad = round_the_clock(7, 300, 120);
    bad["holidays"] = json!(["2026-12-31"]);
    assert_problem(
        staff.put("/api/v1/console/ticket-settings", &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
}

#[tokio::test]
async fn the_escalation_worker_records_each_escalation_once_even_when_run_concurrently() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let staff = app.staff(HOST, "owner@demo.example").await;
    let tenant = demo_tenant(&app).await;
    let db = &app.db.db;
    let first: Vec<String> = [
        open(&sub, "speed", "A").await,
        open(&sub, "speed", "B").await,
        open(&sub, "speed", "C").await,
    ]
    .into();
    let later = Utc::now() + Duration::days(30);

    let mut tx = db.tenant_tx(tenant).await.expect("tx");
    let report = kabinet_ticketing::run_sla_escalations(&mut tx, later)
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    assert_eq!(
        report,
        kabinet_ticketing::EscalationReport {
            warnings: 6,
            breaches: 6,
            raised: 3
        }
    );
    let mut tx = db.tenant_tx(tenant).await.expect("tx");
    let again = kabinet_ticketing::run_sla_escalations(&mut tx, later)
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    assert_eq!(again, kabinet_ticketing::EscalationReport::default());
    for id in &first {
        let view = staff_view(&staff, id).await;
        assert_eq!(view["priority"], "high", "a breach raised normal to high");
        assert_eq!(view["sla"]["first_response_breached"], true);
        assert_eq!(view["sla"]["resolution_breached"], true);
        let mut kinds = event_kinds(&view);
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "first_response_breach",
                "first_response_warning",
                "priority",
                "resolution_breach",
                "resolution_warning"
            ]
        );
        let raise = view["events"]
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["kind"] == "priority")
            .expect("raise");
        assert!(raise.get("actor_name").is_none(), "the system raised it");
        assert_eq!(raise["old_value"], "normal");
        assert_eq!(raise["new_value"], "high");
    }

    // Two nodes at once: the second skips the rows the first holds, then finds them done.
    let second: Vec<String> = [
        open(&sub, "speed", "D").await,
        open(&sub, "speed", "E").await,
    ]
    .into();
    let mut a = db.tenant_tx(tenant).await.expect("tx");
    let mut b = db.tenant_tx(tenant).await.expect("tx");
    let ra = kabinet_ticketing::run_sla_escalations(&mut a, later)
        .await
        .expect("a");
    let rb = kabinet_ticketing::run_sla_escalations(&mut b, later)
        .await
        .expect("b");
    assert_eq!(rb, kabinet_ticketing::EscalationReport::default());
    a.commit().await.expect("a");
    b.commit().await.expect("b");
    assert_eq!(ra.breaches, 4);
    // And racing for real, many rounds: still once per ticket and kind.
    let third: Vec<String> = [
        open(&sub, "speed", "F").await,
        open(&sub, "speed", "G").await,
    ]
    .into();
    let run = || async {
        let mut tx = db.tenant_tx(tenant).await.expect("tx");
        let r = kabinet_ticketing::run_sla_escalations(&mut tx, later)
            .await
            .expect("run");
        tx.commit().await.expect("commit");
        r
    };
    let (r1, r2, r3) = tokio::join!(run(), run(), run());
    assert_eq!(r1.breaches + r2.breaches + r3.breaches, 4);
    assert_eq!(r1.warnings + r2.warnings + r3.warnings, 4);
    for id in second.iter().chain(&third) {
        let kinds = event_kinds(&staff_view(&staff, id).await);
        assert_eq!(kinds.len(), 5, "{id}: {kinds:?}");
    }

    // Auto-close: resolved more than 7 days ago closes; a fresh resolution stays.
    let old = &first[0];
    let fresh = &first[1];
    for id in [old, fresh] {
        json_body(put_status(&staff, id, "resolved").await, StatusCode::OK).await;
    }
    admin_sql(
        &app,
        "UPDATE tickets SET resolved_at = now() - interval '8 days' WHERE id = $1",
        old,
    )
    .await;
    let mut tx = db.tenant_tx(tenant).await.expect("tx");
    let desk = kabinet_ticketing::run_scheduled(&mut tx, Utc::now())
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    assert_eq!(desk.auto_closed, 1);
    assert_eq!(staff_view(&staff, old).await["status"], "closed");
    assert_eq!(staff_view(&staff, fresh).await["status"], "resolved");
    let mut tx = db.tenant_tx(tenant).await.expect("tx");
    let desk = kabinet_ticketing::run_scheduled(&mut tx, Utc::now())
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    assert!(desk.is_empty(), "{desk:?}");

    // Two whole rounds at once (two nodes): one runs, the other finds this tenant's round
    // taken and skips it, rather than locking the same tickets in another order.
    let far = Utc::now() + Duration::days(400);
    let mut a = db.tenant_tx(tenant).await.expect("tx a");
    let ra = kabinet_ticketing::run_scheduled(&mut a, far)
        .await
        .expect("a");
    let mut b = db.tenant_tx(tenant).await.expect("tx b");
    let rb = kabinet_ticketing::run_scheduled(&mut b, far)
        .await
        .expect("b");
    assert!(rb.is_empty(), "{rb:?}");
    assert_eq!(ra.auto_closed, 1, "{ra:?}");
    a.commit().await.expect("a");
    b.commit().await.expect("b");
}

#[tokio::test]
async fn queue_filters_combine_and_paginate_by_keyset() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let owner = app.staff(HOST, "owner@demo.example").await;
    let agent = app.staff(HOST, "agent@demo.example").await;
    let mut ids = Vec::new();
    for (category, subject) in [
        ("speed", "S1"),
        ("speed", "S2"),
        ("connectivity", "C1"),
        ("payments", "P1"),
        ("other", "O1"),
    ] {
        ids.push(open(&sub, category, subject).await);
    }
    let agents = json_body(
        owner.get("/api/v1/console/ticket-agents").await,
        StatusCode::OK,
    )
    .await;
    let me_entry = agents["items"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["me"] == true)
        .expect("me");
    assert_eq!(me_entry["display_name"], "Ольга Владимирова");
    let me = me_entry["id"].as_str().expect("id").to_owned();
    assert_eq!(staff_id(&agent, "Ольга Владимирова").await, me);
    for id in &ids[..2] {
        json_body(
            owner
                .put(
                    &format!("/api/v1/console/tickets/{id}/assignee"),
                    &json!({"staff_id": me}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }
    let tagged = json_body(
        owner
            .put(
                &format!("/api/v1/console/tickets/{}/tags", ids[2]),
                &json!({"tags": ["  Fiber  Cut ", "vip", "VIP"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tagged["tags"], json!(["fiber cut", "vip"]));
    json_body(
        owner
            .put(
                &format!("/api/v1/console/tickets/{}/priority", ids[3]),
                &json!({"priority": "urgent"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    admin_sql(
        &app,
        "UPDATE tickets SET first_response_due_at = now() - interval '1 hour' WHERE id = $1",
        &ids[4],
    )
    .await;

    let ids_of = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let get = |path: String| {
        let agent = &agent;
        async move { json_body(agent.get(&path).await, StatusCode::OK).await }
    };
    let q = "/api/v1/console/tickets";
    // The agent's "mine" is empty; the owner's holds the two assigned to them.
    assert_eq!(ids_of(&get(format!("{q}?assignee=me")).await).len(), 0);
    let mine = json_body(owner.get(&format!("{q}?assignee=me")).await, StatusCode::OK).await;
    let mut expected = ids[..2].to_vec();
    expected.reverse();
    assert_eq!(ids_of(&mine), expected);
    assert_eq!(
        mine["items"][0]["assignee"]["display_name"],
        "Ольга Владимирова"
    );
    assert_eq!(
        ids_of(&get(format!("{q}?assignee_id={me}")).await),
        expected
    );
    assert_eq!(
        ids_of(&get(format!("{q}?assignee=unassigned")).await).len(),
        3
    );
    assert_eq!(
        ids_of(&get(format!("{q}?tag=FIBER%20%20cut")).await),
        [ids[2].clone()]
    );
    assert_eq!(
        ids_of(&get(format!("{q}?priority=urgent")).await),
        [ids[3].clone()]
    );
    let overdue = get(format!("{q}?overdue=true")).await;
    assert_eq!(ids_of(&overdue), [ids[4].clone()]);
    assert_eq!(overdue["items"][0]["sla"]["overdue"], true);
    assert_eq!(overdue["items"][0]["sla"]["first_response_breached"], true);
    assert_eq!(ids_of(&get(format!("{q}?category=speed")).await).len(), 2);
    assert_eq!(
        ids_of(&get(format!("{q}?category=speed&assignee=unassigned")).await).len(),
        0
    );
    assert_eq!(
        ids_of(&get(format!("{q}?status=new&priority=low")).await).len(),
        0
    );
    assert_problem(
        agent.get(&format!("{q}?tag=%3Cb%3E")).await,
        StatusCode::BAD_REQUEST,
        "invalid_tag",
    )
    .await;
    assert_problem(
        agent
            .get(&format!("{q}?assignee=me&assignee_id={me}"))
            .await,
        StatusCode::BAD_REQUEST,
        "conflicting_filters",
    )
    .await;

    // Keyset pages of two: every ticket once, newest activity first.
    let mut seen = Vec::new();
    let mut path = format!("{q}?limit=2");
    let mut pages = 0;
    loop {
        let page = get(path.clone()).await;
        pages += 1;
        seen.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{q}?limit=2&after={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut all = ids.clone();
    all.sort();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, all, "each ticket exactly once");
    // Filters and the cursor combine.
    let first = get(format!("{q}?limit=1&assignee=unassigned")).await;
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let rest = get(format!("{q}?limit=5&assignee=unassigned&after={cursor}")).await;
    assert_eq!(ids_of(&first).len() + ids_of(&rest).len(), 3);

    let tags = get("/api/v1/console/ticket-tags".into()).await;
    assert_eq!(tags["items"].as_array().map(Vec::len), Some(2));

    // Unassign.
    let view = json_body(
        owner
            .delete(&format!("/api/v1/console/tickets/{}/assignee", ids[0]))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(view.get("assignee").is_none());
    let assignments: Vec<&Value> = view["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "assignee")
        .collect();
    assert_eq!(assignments.len(), 2);
    assert_eq!(assignments[0]["new_value"], "Ольга Владимирова");
    assert_eq!(assignments[1]["old_value"], "Ольга Владимирова");
    assert!(assignments[1].get("new_value").is_none());
}

/// A staff member's id, from the ISP's agent list.
async fn staff_id(staff: &Client, display_name: &str) -> String {
    let agents = json_body(
        staff.get("/api/v1/console/ticket-agents").await,
        StatusCode::OK,
    )
    .await;
    agents["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|a| a["display_name"] == display_name)
        .and_then(|a| a["id"].as_str())
        .unwrap_or_else(|| panic!("{display_name} in {agents}"))
        .to_owned()
}

#[tokio::test]
async fn roles_without_the_permission_are_refused() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let id = open(&sub, "other", "Права").await;
    let viewer = app.staff(HOST, "viewer@demo.example").await;
    let agent = app.staff(HOST, "agent@demo.example").await;

    // Read-only staff see the ticket but change nothing.
    staff_view(&viewer, &id).await;
    for resp in [
        put_status(&viewer, &id, "open").await,
        viewer
            .put(
                &format!("/api/v1/console/tickets/{id}/priority"),
                &json!({"priority": "high"}),
            )
            .await,
        viewer
            .put(
                &format!("/api/v1/console/tickets/{id}/tags"),
                &json!({"tags": ["x"]}),
            )
            .await,
        viewer
            .delete(&format!("/api/v1/console/tickets/{id}/assignee"))
            .await,
        viewer
            .post(
                &format!("/api/v1/console/tickets/{id}/notes"),
                &json!({"body": "x"}),
            )
            .await,
        viewer
            .put(
                "/api/v1/console/ticket-settings",
                &round_the_clock(7, 30, 120),
            )
            .await,
    ] {
        assert_problem(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // A support agent works tickets but does not change the ISP's settings.
    json_body(put_status(&agent, &id, "open").await, StatusCode::OK).await;
    assert_problem(
        agent
            .put(
                "/api/v1/console/ticket-settings",
                &round_the_clock(7, 30, 120),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Nothing changed by the refused calls.
    let view = staff_view(&agent, &id).await;
    assert_eq!(view["priority"], "normal");
    assert_eq!(view["notes"], json!([]));
    // Subscribers have no way into the console.
    assert_problem(
        sub.get(&format!("/api/v1/console/tickets/{id}")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn another_isps_staff_can_neither_see_nor_change_the_ticket() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let id = open(&sub, "other", "Только демо").await;
    let mut north = app.client("northnet.localhost");
    json_body(
        north.login_staff("owner@northnet.example", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    let north_agents = json_body(
        north.get("/api/v1/console/ticket-agents").await,
        StatusCode::OK,
    )
    .await;
    let north_id = north_agents["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for resp in [
        north.get(&format!("/api/v1/console/tickets/{id}")).await,
        put_status(&north, &id, "open").await,
        north
            .put(
                &format!("/api/v1/console/tickets/{id}/priority"),
                &json!({"priority": "urgent"}),
            )
            .await,
        north
            .put(
                &format!("/api/v1/console/tickets/{id}/assignee"),
                &json!({"staff_id": north_id}),
            )
            .await,
        north
            .delete(&format!("/api/v1/console/tickets/{id}/assignee"))
            .await,
        north
            .put(
                &format!("/api/v1/console/tickets/{id}/tags"),
                &json!({"tags": ["x"]}),
            )
            .await,
        north
            .post(
                &format!("/api/v1/console/tickets/{id}/notes"),
                &json!({"body": "x"}),
            )
            .await,
    ] {
        assert_problem(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Another ISP's staff member is no assignee here.
    let owner = app.staff(HOST, "owner@demo.example").await;
    assert_problem(
        owner
            .put(
                &format!("/api/v1/console/tickets/{id}/assignee"),
                &json!({"staff_id": north_id}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_assignee",
    )
    .await;
    let view = staff_view(&owner, &id).await;
    assert_eq!(view["status"], "new");
    assert_eq!(view["priority"], "normal");
    assert_eq!(view["events"], json!([]));
    assert_eq!(view["notes"], json!([]));
}

#[tokio::test]
async fn a_category_policy_wins_over_its_prioritys_default() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber(HOST, "100001").await;
    let owner = app.staff(HOST, "owner@demo.example").await;
    let mut settings = round_the_clock(7, 30, 120);
    settings["policies"]
        .as_array_mut()
        .expect("policies")
        .push(json!({
            "priority": "normal",
            "category": "payments",
            "first_response_minutes": 10,
            "resolution_minutes": 20,
            "raise_priority_on_breach": false,
        }));
    let saved = json_body(
        owner
            .put("/api/v1/console/ticket-settings", &settings)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["policies"].as_array().map(Vec::len), Some(5));
    for (category, first, resolution) in [("payments", 10, 20), ("speed", 30, 120)] {
        let id = open(&sub, category, "SLA").await;
        let view = staff_view(&owner, &id).await;
        let created = time(&view["created_at"]);
        assert_eq!(
            time(&view["sla"]["first_response_due_at"]) - created,
            Duration::minutes(first),
            "{category}"
        );
        assert_eq!(
            time(&view["sla"]["resolution_due_at"]) - created,
            Duration::minutes(resolution),
            "{category}"
        );
    }
    // The same priority and category twice is refused, and so is a first response due after
    // the resolution.
    let mut twice = round_the_clock(7, 30, 120);
    let copy = twice["policies"][0].clone();
    twice["policies"]
        .as_array_mut()
        .expect("policies")
        .push(copy);
    assert_problem(
        owner.put("/api/v1/console/ticket-settings", &twice).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
}
