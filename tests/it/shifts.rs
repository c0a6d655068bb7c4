//! Weekly shift schedules: the worker puts agents on shift at a span's start and off at its end
//! in the ISP's time zone (across a DST change, off on holidays, overnight spans), a manual
//! toggle stands until the next boundary, two workers racing hand an agent's tickets over
//! once; managers edit any agent's week, agents their own, other ISPs' ids are not found.
//! Also the bell's newer notices: a merged ticket (bell and letter over real SMTP) and outage
//! incidents (declared, each update, restored: exactly one per subscriber and event).

use chrono::{DateTime, Duration, TimeZone, Utc};
use kabinet_access::Role;
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use kabinet_ticketing::DeskReport;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::staff_roles::add_staff;

const DEMO: &str = "demo.localhost";
const OWNER: &str = "owner@demo.example";
const AGENT: &str = "agent@demo.example";

async fn tenant(app: &TestApp, slug: &str) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut admin)
            .await
            .expect("tenant"),
    )
}

async fn staff_id(app: &TestApp, email: &str) -> Uuid {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar("SELECT id FROM staff WHERE email = $1")
        .bind(email)
        .fetch_one(&mut admin)
        .await
        .expect("staff")
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(sql)
        .fetch_one(&mut admin)
        .await
        .expect("count")
}

/// The demo ISP in Berlin (DST on 2027-03-28: 02:00 → 03:00), with its holidays.
async fn berlin_with_holidays(app: &TestApp, holidays: &[&str]) {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE tenants SET time_zone = 'Europe/Berlin' WHERE slug = 'demo'")
        .execute(&mut admin)
        .await
        .expect("zone");
    let tenant = tenant(app, "demo").await;
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    let mut settings = kabinet_ticketing::get_settings(&mut tx).await.expect("get");
    settings.holidays = holidays.iter().map(|d| d.parse().expect("date")).collect();
    kabinet_ticketing::put_settings(&mut tx, "Europe/Berlin", &settings)
        .await
        .expect("put");
    tx.commit().await.expect("commit");
}

/// One worker round of the desk for the demo ISP at `at`.
async fn worker(app: &TestApp, at: DateTime<Utc>) -> DeskReport {
    let tenant = tenant(app, "demo").await;
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    let report = kabinet_ticketing::run_scheduled(&mut tx, at)
        .await
        .expect("worker");
    tx.commit().await.expect("commit");
    report
}

async fn on_shift(app: &TestApp, staff: Uuid) -> bool {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agent_shifts WHERE staff_id = $1 AND ended_at IS NULL)",
    )
    .bind(staff)
    .fetch_one(&mut admin)
    .await
    .expect("shift")
}

/// The shift step and the assignment pass after it, as the desk round runs them, in one
/// transaction (without the SLA steps, which a far-future clock would make race on their own).
async fn shift_pass(app: &TestApp, at: DateTime<Utc>) -> kabinet_ticketing::shifts::ShiftReport {
    let tenant = tenant(app, "demo").await;
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    let report = kabinet_ticketing::shifts::run(&mut tx, at)
        .await
        .expect("shifts");
    kabinet_ticketing::assignment::run(&mut tx, at)
        .await
        .expect("assignment");
    tx.commit().await.expect("commit");
    report
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("instant")
}

fn span(weekday: u8, from: &str, to: &str) -> Value {
    json!({"weekday": weekday, "starts_at": from, "ends_at": to})
}

async fn put_week(manager: &Client, staff: Uuid, off_on_holidays: bool, spans: Value) -> Value {
    json_body(
        manager
            .put(
                &format!("/api/v1/console/assignment/shift-schedules/{staff}"),
                &json!({"off_on_holidays": off_on_holidays, "spans": spans}),
            )
            .await,
        StatusCode::OK,
    )
    .await
}

async fn set_shift(client: &Client, on: bool) {
    json_body(
        client
            .put("/api/v1/console/me/shift", &json!({"on_shift": on}))
            .await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn the_schedule_moves_agents_in_local_time_across_dst_holidays_and_overrides() {
    let app = TestApp::spawn().await.expect("app");
    berlin_with_holidays(&app, &["2027-03-29"]).await;
    let owner = app.staff(DEMO, OWNER).await;
    let agent = app.staff(DEMO, AGENT).await;
    let anna = staff_id(&app, AGENT).await;
    add_staff(&app, "demo", "night@demo.example", Role::SupportAgent).await;
    let boris = staff_id(&app, "night@demo.example").await;

    // Anna: Sunday 09–18, Monday night 22–06, Tuesday 09–18; off on holidays.
    let week = put_week(
        &owner,
        anna,
        true,
        json!([
            span(2, "09:00", "18:00"),
            span(7, "09:00", "18:00"),
            span(1, "22:00", "06:00")
        ]),
    )
    .await;
    assert_eq!(week["scheduled"], true);
    assert_eq!(
        week["spans"],
        json!([
            span(1, "22:00", "06:00"),
            span(2, "09:00", "18:00"),
            span(7, "09:00", "18:00")
        ]),
        "sorted by weekday"
    );
    // Boris: Monday night 22–06, holidays or not.
    put_week(&owner, boris, false, json!([span(1, "22:00", "06:00")])).await;

    // Sunday 2027-03-28 is the DST day: 09:00 in Berlin is 07:00 UTC (it was 08:00 UTC a day
    // earlier). Not a minute before.
    let r = worker(&app, utc(2027, 3, 28, 6, 59)).await;
    assert_eq!((r.shifts.started, r.shifts.ended), (0, 0));
    assert!(!on_shift(&app, anna).await);
    let r = worker(&app, utc(2027, 3, 28, 7, 0)).await;
    assert_eq!(r.shifts.started, 1);
    assert!(on_shift(&app, anna).await);
    assert!(!on_shift(&app, boris).await);
    // Again at the same instant: nothing more.
    let r = worker(&app, utc(2027, 3, 28, 7, 1)).await;
    assert_eq!((r.shifts.started, r.shifts.ended), (0, 0));

    // A manual "off" stands until the next boundary…
    set_shift(&agent, false).await;
    worker(&app, utc(2027, 3, 28, 12, 0)).await;
    assert!(!on_shift(&app, anna).await, "the override stands");
    // …and so does a manual "on", until the span's end (18:00 CEST = 16:00 UTC).
    set_shift(&agent, true).await;
    worker(&app, utc(2027, 3, 28, 15, 59)).await;
    assert!(on_shift(&app, anna).await);
    let r = worker(&app, utc(2027, 3, 28, 16, 0)).await;
    assert_eq!(r.shifts.ended, 1);
    assert!(!on_shift(&app, anna).await);

    // Monday 2027-03-29 is a holiday: Anna's night shift does not start, Boris's does (an
    // overnight span, 22:00 CEST = 20:00 UTC, until Tuesday 06:00 = 04:00 UTC).
    let r = worker(&app, utc(2027, 3, 29, 20, 0)).await;
    assert_eq!(r.shifts.started, 1);
    assert!(!on_shift(&app, anna).await);
    assert!(on_shift(&app, boris).await);
    worker(&app, utc(2027, 3, 30, 3, 59)).await;
    assert!(on_shift(&app, boris).await);
    let r = worker(&app, utc(2027, 3, 30, 4, 0)).await;
    assert_eq!(r.shifts.ended, 1);
    assert!(!on_shift(&app, boris).await);
    assert!(!on_shift(&app, anna).await);
    // Tuesday is a working day again.
    worker(&app, utc(2027, 3, 30, 7, 0)).await;
    assert!(on_shift(&app, anna).await);

    // The list shows who is on shift now and everyone's week.
    let list = json_body(
        owner
            .get("/api/v1/console/assignment/shift-schedules")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["time_zone"], "Europe/Berlin");
    let items = list["items"].as_array().expect("items");
    let find = |id: Uuid| {
        items
            .iter()
            .find(|i| i["staff_id"] == id.to_string())
            .expect("agent listed")
    };
    assert_eq!(find(anna)["on_shift"], true);
    assert_eq!(find(boris)["on_shift"], false);
    assert_eq!(find(boris)["off_on_holidays"], false);
    assert_eq!(find(anna)["spans"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn two_workers_at_a_shift_end_hand_the_tickets_over_once() {
    let app = TestApp::spawn().await.expect("app");
    berlin_with_holidays(&app, &[]).await;
    let owner = app.staff(DEMO, OWNER).await;
    let anna = staff_id(&app, AGENT).await;
    add_staff(&app, "demo", "boris@demo.example", Role::SupportAgent).await;
    let boris = staff_id(&app, "boris@demo.example").await;
    let boris_client = app.staff(DEMO, "boris@demo.example").await;
    json_body(
        owner
            .post(
                "/api/v1/console/assignment/groups",
                &json!({"name": "Линия 1", "mode": "round_robin", "members": [anna, boris]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    put_week(&owner, anna, true, json!([span(2, "09:00", "18:00")])).await;
    set_shift(&boris_client, true).await;
    let r = worker(&app, utc(2027, 3, 30, 7, 0)).await;
    assert_eq!(r.shifts.started, 1);

    let sub = app.subscriber(DEMO, "100001").await;
    for n in 0..4 {
        sub.open_ticket("connectivity", &format!("Нет связи {n}"), "С утра")
            .await;
    }
    let held = |who: Uuid| {
        format!(
            "SELECT count(*) FROM tickets WHERE assignee_staff_id = '{who}' \
             AND status IN ('new', 'open')"
        )
    };
    assert_eq!(count(&app, &held(anna)).await, 2);
    assert_eq!(count(&app, &held(boris)).await, 2);

    // Two nodes reach the shift's end (18:00 CEST = 16:00 UTC) at once.
    let at = utc(2027, 3, 30, 16, 0);
    let (a, b) = tokio::join!(
        shift_pass(&app, at),
        shift_pass(&app, at + Duration::seconds(1))
    );
    assert_eq!(a.ended + b.ended, 1);
    assert_eq!(a.released + b.released, 2);
    assert!(!on_shift(&app, anna).await);
    assert_eq!(count(&app, &held(anna)).await, 0);
    assert_eq!(count(&app, &held(boris)).await, 4, "Boris took them over");
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM ticket_events WHERE kind = 'assignee' \
                 AND old_value = '{anna}' AND new_value IS NULL"
            )
        )
        .await,
        2,
        "each ticket handed over once"
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM agent_shifts WHERE staff_id = '{anna}'")
        )
        .await,
        1
    );
    let r = shift_pass(&app, at + Duration::minutes(5)).await;
    assert_eq!((r.started, r.ended), (0, 0));
}

#[tokio::test]
async fn agents_edit_their_own_week_managers_anyones_and_other_isps_ids_are_not_found() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    add_staff(&app, "demo", "tech@demo.example", Role::Technician).await;
    add_staff(&app, "demo", "viewer@demo.example", Role::ReadOnly).await;
    let tech = app.staff(DEMO, "tech@demo.example").await;
    let viewer = app.staff(DEMO, "viewer@demo.example").await;
    let tech_id = staff_id(&app, "tech@demo.example").await;
    let anna = staff_id(&app, AGENT).await;
    let week = json!({"off_on_holidays": true, "spans": [span(1, "09:00", "18:00")]});

    // An agent without tickets.manage: their own week only.
    let mine = json_body(
        tech.put("/api/v1/console/me/shift-schedule", &week).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["me"], true);
    assert_eq!(mine["spans"], json!([span(1, "09:00", "18:00")]));
    let got = json_body(
        tech.get("/api/v1/console/me/shift-schedule").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["spans"], mine["spans"]);
    assert_problem(
        tech.put(
            &format!("/api/v1/console/assignment/shift-schedules/{anna}"),
            &week,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        tech.get("/api/v1/console/assignment/shift-schedules").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Read-only staff take no shifts.
    assert_problem(
        viewer.put("/api/v1/console/me/shift-schedule", &week).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The owner edits the technician's week; both saves are audited with before and after.
    let edited = json_body(
        owner
            .put(
                &format!("/api/v1/console/assignment/shift-schedules/{tech_id}"),
                &json!({"off_on_holidays": false, "spans": [span(5, "20:00", "24:00")]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["spans"], json!([span(5, "20:00", "00:00")]));
    assert_eq!(edited["off_on_holidays"], false);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM audit_log WHERE action = 'shift_schedule.update' \
                 AND target = 'staff:{tech_id}' AND details ? 'before' AND details ? 'after'"
            )
        )
        .await,
        2
    );

    // Another ISP's staff, an unknown id: not found, nothing written.
    let northnet_staff: Uuid = {
        let mut admin = app.db.admin().await.expect("admin");
        sqlx::query_scalar(
            "SELECT s.id FROM staff s JOIN tenants t ON t.id = s.tenant_id \
             WHERE t.slug = 'northnet' LIMIT 1",
        )
        .fetch_one(&mut admin)
        .await
        .expect("northnet staff")
    };
    for id in [northnet_staff, Uuid::now_v7()] {
        let path = format!("/api/v1/console/assignment/shift-schedules/{id}");
        assert_problem(
            owner.put(&path, &week).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_problem(owner.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM agent_shift_schedules WHERE staff_id = '{northnet_staff}'"
            )
        )
        .await,
        0
    );

    // Bad weeks are problems, not 500s.
    let bad = [
        (
            json!({"off_on_holidays": true, "spans": [span(1, "09:00", "18:00"), span(1, "17:00", "20:00")]}),
            "shift_spans_overlap",
        ),
        (
            json!({"off_on_holidays": true, "spans": [span(7, "22:00", "09:30"), span(1, "09:00", "18:00")]}),
            "shift_spans_overlap",
        ),
        (
            json!({"off_on_holidays": true, "spans": [span(1, "09:00", "09:00")]}),
            "invalid",
        ),
        (
            json!({"off_on_holidays": true, "spans": [span(1, "24:00", "09:00")]}),
            "invalid",
        ),
    ];
    for (body, code) in bad {
        assert_problem(
            tech.put("/api/v1/console/me/shift-schedule", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
    }
    for body in [
        json!({"off_on_holidays": true, "spans": [span(8, "09:00", "18:00")]}),
        json!({"off_on_holidays": true, "spans": [{"weekday": 1, "starts_at": "9:00", "ends_at": "18:00"}]}),
    ] {
        let resp = tech.put("/api/v1/console/me/shift-schedule", &body).await;
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
}

#[tokio::test]
async fn a_merged_ticket_tells_its_subscriber_once_in_the_bell_and_by_letter() {
    let (app, smtp) = TestApp::spawn_with_mail().await.expect("app");
    let sub = app.subscriber(DEMO, "100001").await;
    let staff = app.staff(DEMO, AGENT).await;
    let a = sub
        .open_ticket("connectivity", "Нет интернета", "С утра")
        .await;
    let b = sub
        .open_ticket("connectivity", "Нет интернета снова", "И сейчас")
        .await;
    let (a_id, a_no) = (
        a["id"].as_str().expect("id"),
        a["number"].as_i64().expect("n"),
    );
    let (b_id, b_no) = (
        b["id"].as_str().expect("id"),
        b["number"].as_i64().expect("n"),
    );
    for _ in 0..2 {
        json_body(
            staff
                .post(
                    &format!("/api/v1/console/tickets/{a_id}/merge"),
                    &json!({"into_ticket_number": b_no}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }

    let letters = smtp.wait_for("ivan.petrov@example.com", 1).await;
    assert_eq!(
        letters[0].subject(),
        format!("Обращение №{a_no} объединено с №{b_no} — Демо Телеком")
    );
    let text = letters[0].text();
    assert!(text.contains(&format!("№{b_no}")), "{text}");
    assert!(
        text.contains(&format!("https://demo.localhost/tickets/{b_id}")),
        "the letter leads to the ticket that goes on: {text}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        smtp.messages().len(),
        1,
        "a repeated merge tells nothing new"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM mail_outbox WHERE idempotency_key LIKE 'merged:%'"
        )
        .await,
        1
    );

    let bell = json_body(sub.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    let merged: Vec<&Value> = bell["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["kind"] == "ticket_merged")
        .collect();
    assert_eq!(merged.len(), 1, "{bell}");
    assert_eq!(merged[0]["ticket_number"], a_no);
    assert_eq!(merged[0]["merged_into_number"], b_no);
    assert_eq!(merged[0]["merged_into_ticket_id"], b_id);
    assert_eq!(merged[0]["read"], false);

    // The ISP may word it itself (a typed letter kind with its own placeholder).
    let owner = app.staff(DEMO, OWNER).await;
    let templates = json_body(
        owner.get("/api/v1/console/letter-templates").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        templates.to_string().contains("ticket_merged"),
        "{templates}"
    );
}

async fn nas(app: &TestApp, name: &str, address: &str) -> Uuid {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(
        "INSERT INTO nas (tenant_id, id, name, address, vendor, area, secret_sealed) \
         SELECT id, gen_random_uuid(), $1, $2::inet, 'mikrotik', 'NORTH', '\\x00'::bytea \
         FROM tenants WHERE slug = 'demo' RETURNING id",
    )
    .bind(name)
    .bind(address)
    .fetch_one(&mut admin)
    .await
    .expect("nas")
}

/// An open session of the demo subscriber `account` on `nas`.
async fn online(app: &TestApp, account: &str, nas: Uuid) {
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
    sqlx::query(
        "INSERT INTO radius_sessions (tenant_id, nas_id, acct_session_id, subscriber_id, username, \
           started_at, updated_at, state) \
         SELECT s.tenant_id, $2, gen_random_uuid()::text, s.id, 'u' || s.account_number, \
           now() - interval '1 hour', now(), 'open' \
         FROM subscribers s JOIN tenants t ON t.id = s.tenant_id \
         WHERE t.slug = 'demo' AND s.account_number = $1",
    )
    .bind(account)
    .bind(nas)
    .execute(&mut admin)
    .await
    .expect("session");
}

fn kinds(bell: &Value, kind: &str) -> Vec<Value> {
    bell["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

#[tokio::test]
async fn incident_notices_reach_each_affected_subscriber_once_per_event() {
    let app = TestApp::spawn().await.expect("app");
    let north = nas(&app, "north-1", "10.0.0.1").await;
    online(&app, "100001", north).await;
    online(&app, "100002", north).await;
    let staff = app.staff(DEMO, OWNER).await;
    let ivan = app.subscriber(DEMO, "100001").await;
    let maria = app.subscriber(DEMO, "100002").await;

    let incident = json_body(
        staff
            .post(
                "/api/v1/console/incidents",
                &json!({"title": "Север: нет связи", "message": "Бригада выехала",
                        "area": {"nas_ids": [north], "area_codes": [], "address_fragments": []}}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let iid = incident["id"].as_str().expect("id").to_owned();
    assert_eq!(incident["affected"], 2);
    // Maria reports it: her ticket is linked, so updates reach her as a reply in it instead.
    maria
        .open_ticket("connectivity", "Нет связи", "С утра")
        .await;

    let update = json!({"id": Uuid::new_v4(), "body": "Меняем коммутатор"});
    for _ in 0..2 {
        json_body(
            staff
                .post(&format!("/api/v1/console/incidents/{iid}/updates"), &update)
                .await,
            StatusCode::OK,
        )
        .await;
    }
    json_body(
        staff
            .post(
                &format!("/api/v1/console/incidents/{iid}/updates"),
                &json!({"id": Uuid::new_v4(), "body": "Почти готово"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    json_body(
        staff
            .post(
                &format!("/api/v1/console/incidents/{iid}/close"),
                &json!({"message": "Починили"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // A second close is refused and tells nobody anything.
    let again = staff
        .post(
            &format!("/api/v1/console/incidents/{iid}/close"),
            &json!({}),
        )
        .await;
    assert!(again.status().is_client_error());

    let bell = json_body(ivan.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    let declared = kinds(&bell, "incident_declared");
    assert_eq!(declared.len(), 1, "{bell}");
    assert_eq!(declared[0]["incident_id"], iid.as_str());
    assert_eq!(declared[0]["incident_title"], "Север: нет связи");
    assert!(declared[0].get("ticket_id").is_none());
    assert_eq!(kinds(&bell, "incident_update").len(), 2, "one per update");
    assert_eq!(kinds(&bell, "incident_restored").len(), 1);

    let bell = json_body(maria.get("/api/v1/me/notifications").await, StatusCode::OK).await;
    assert_eq!(kinds(&bell, "incident_declared").len(), 1);
    assert_eq!(
        kinds(&bell, "incident_update").len(),
        0,
        "her linked ticket got the updates as replies"
    );
    assert_eq!(kinds(&bell, "ticket_reply").len(), 2);
    assert_eq!(kinds(&bell, "incident_restored").len(), 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM (SELECT subscriber_id, kind, incident_id, count(*) AS n \
             FROM notifications WHERE kind = 'incident_declared' OR kind = 'incident_restored' \
             GROUP BY 1, 2, 3) x WHERE n > 1"
        )
        .await,
        0
    );
}
