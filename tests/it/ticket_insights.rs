//! Satisfaction ratings (who may rate what, once per resolution, idempotent) and desk analytics
//! over fixed data (exact medians, p90s and counts, the ISP's time zone, CSV, permissions).

use chrono::{DateTime, Duration, Utc};
use kabinet_access::Role;
use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::staff_roles::add_staff;

const DEMO: &str = "demo.localhost";
const NORTHNET: &str = "northnet.localhost";

async fn put_status(staff: &Client, id: &str, status: &str) {
    json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{id}/status"),
                &json!({ "status": status }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
}

async fn rate(sub: &Client, id: &str, body: &Value) -> reqwest::Response {
    sub.put(&format!("/api/v1/me/tickets/{id}/rating"), body)
        .await
}

async fn my_rating(sub: &Client, id: &str) -> Value {
    json_body(
        sub.get(&format!("/api/v1/me/tickets/{id}/rating")).await,
        StatusCode::OK,
    )
    .await
}

async fn staff_ratings(staff: &Client, id: &str) -> Value {
    json_body(
        staff
            .get(&format!("/api/v1/console/tickets/{id}/ratings"))
            .await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn a_subscriber_rates_each_resolution_of_their_own_ticket_once() {
    let app = TestApp::spawn().await.expect("app");
    let ivan = app.subscriber(DEMO, "100001").await;
    let maria = app.subscriber(DEMO, "100002").await;
    let north = app.subscriber(NORTHNET, "200001").await;
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let north_owner = app.staff(NORTHNET, "owner@northnet.example").await;
    let ticket = ivan
        .open_ticket("speed", "Медленно вечером", "После 20:00 скорость падает")
        .await;
    let id = ticket["id"].as_str().expect("id").to_owned();

    // Not resolved yet: nothing to rate.
    assert_eq!(my_rating(&ivan, &id).await, json!({"can_rate": false}));
    assert_problem(
        rate(&ivan, &id, &json!({"score": 5})).await,
        StatusCode::CONFLICT,
        "ticket_not_resolved",
    )
    .await;

    put_status(&owner, &id, "resolved").await;
    assert_eq!(my_rating(&ivan, &id).await["can_rate"], true);

    // Scores outside 1–5 and overlong comments are refused.
    for bad in [
        json!({"score": 0}),
        json!({"score": 6}),
        json!({"score": 5, "comment": "я".repeat(2001)}),
    ] {
        assert_problem(
            rate(&ivan, &id, &bad).await,
            StatusCode::BAD_REQUEST,
            "malformed_body",
        )
        .await;
    }
    // Another subscriber, another ISP's subscriber: no such ticket.
    for (who, body) in [(&maria, json!({"score": 1})), (&north, json!({"score": 1}))] {
        assert_problem(
            rate(who, &id, &body).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_problem(
            who.get(&format!("/api/v1/me/tickets/{id}/rating")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }

    let first = json_body(
        rate(
            &ivan,
            &id,
            &json!({"score": 4, "comment": "  Помогли, спасибо  "}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["score"], 4);
    assert_eq!(first["comment"], "Помогли, спасибо");
    // A retry changes nothing, not even the time.
    let retry = json_body(
        rate(
            &ivan,
            &id,
            &json!({"score": 4, "comment": "Помогли, спасибо"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(retry, first);
    // Changing one's mind within the same resolution replaces the rating.
    let changed = json_body(
        rate(&ivan, &id, &json!({"score": 5, "comment": null})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["score"], 5);
    assert!(changed.get("comment").is_none(), "{changed}");
    assert_eq!(my_rating(&ivan, &id).await["rating"], changed);

    let seen = staff_ratings(&owner, &id).await;
    assert_eq!(seen.as_array().map(Vec::len), Some(1), "{seen}");
    assert_eq!(seen[0]["score"], 5);
    // The staff thread has a line per new or changed rating (4, then 5; not the retry), by
    // the subscriber.
    let ticket = json_body(
        owner.get(&format!("/api/v1/console/tickets/{id}")).await,
        StatusCode::OK,
    )
    .await;
    let rated: Vec<&Value> = ticket["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "rated")
        .collect();
    assert_eq!(
        rated
            .iter()
            .map(|e| e["new_value"].clone())
            .collect::<Vec<_>>(),
        [json!("4"), json!("5")],
        "{ticket}"
    );
    assert!(rated[0]["actor_name"].is_string(), "{ticket}");
    // Another ISP's staff: no such ticket.
    assert_problem(
        north_owner
            .get(&format!("/api/v1/console/tickets/{id}/ratings"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // Reopened: the old rating is not this resolution's; resolved again: rated anew.
    put_status(&owner, &id, "open").await;
    assert_eq!(my_rating(&ivan, &id).await, json!({"can_rate": false}));
    put_status(&owner, &id, "resolved").await;
    assert_eq!(my_rating(&ivan, &id).await, json!({"can_rate": true}));
    json_body(
        rate(
            &ivan,
            &id,
            &json!({"score": 2, "comment": "Снова медленно"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let seen = staff_ratings(&owner, &id).await;
    let scores: Vec<i64> = seen
        .as_array()
        .expect("ratings")
        .iter()
        .map(|r| r["score"].as_i64().expect("score"))
        .collect();
    assert_eq!(scores, [2, 5], "latest resolution first");

    // Closed, but resolved more than 30 days ago: too late.
    put_status(&owner, &id, "closed").await;
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE tickets SET resolved_at = now() - interval '31 days' WHERE id = $1")
        .bind(Uuid::parse_str(&id).expect("uuid"))
        .execute(&mut admin)
        .await
        .expect("age the resolution");
    assert_eq!(my_rating(&ivan, &id).await, json!({"can_rate": false}));
    assert_problem(
        rate(&ivan, &id, &json!({"score": 3})).await,
        StatusCode::CONFLICT,
        "rating_window_passed",
    )
    .await;
}

/// A ticket of the demo ISP written straight into the table (times relative to the Moscow
/// day 2020-03-02 00:00, i.e. 2020-03-01 21:00 UTC, in minutes).
struct Fixture<'a> {
    number: i64,
    category: &'a str,
    status: &'a str,
    agent: Option<Uuid>,
    created: DateTime<Utc>,
    responded_after: Option<i64>,
    resolved_after: Option<i64>,
    fr_due_after: Option<i64>,
    res_due_after: Option<i64>,
}

async fn insert(
    admin: &mut sqlx::PgConnection,
    tenant: Uuid,
    subscriber: Uuid,
    f: Fixture<'_>,
) -> Uuid {
    let id = Uuid::now_v7();
    let after = |m: Option<i64>| m.map(|m| f.created + Duration::minutes(m));
    sqlx::query(
        "INSERT INTO tickets (tenant_id, id, number, subscriber_id, category, subject, status, \
           assignee_staff_id, created_at, updated_at, first_responded_at, resolved_at, \
           closed_at, first_response_due_at, resolution_due_at) \
         VALUES ($1, $2, $3, $4, $5, 'Fixture', $6, $7, $8, $8, $9, $10, \
           CASE WHEN $6 = 'closed' THEN $10 END, $11, $12)",
    )
    .bind(tenant)
    .bind(id)
    .bind(f.number)
    .bind(subscriber)
    .bind(f.category)
    .bind(f.status)
    .bind(f.agent)
    .bind(f.created)
    .bind(after(f.responded_after))
    .bind(after(f.resolved_after))
    .bind(after(f.fr_due_after))
    .bind(after(f.res_due_after))
    .execute(&mut *admin)
    .await
    .expect("insert ticket");
    id
}

async fn insert_rating(
    admin: &mut sqlx::PgConnection,
    tenant: Uuid,
    ticket: Uuid,
    score: i16,
    rated_at: DateTime<Utc>,
    earlier_resolution: bool,
) {
    sqlx::query(
        "INSERT INTO ticket_ratings (tenant_id, id, ticket_id, subscriber_id, resolution_at, \
           assignee_staff_id, score, rated_at) \
         SELECT tenant_id, $3, id, subscriber_id, coalesce(resolved_at, created_at) - CASE WHEN $6 THEN interval '1 hour' ELSE interval '0' END, \
           assignee_staff_id, $4, $5 FROM tickets WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(ticket)
    .bind(Uuid::now_v7())
    .bind(score)
    .bind(rated_at)
    .bind(earlier_resolution)
    .execute(&mut *admin)
    .await
    .expect("insert rating");
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

fn row<'a>(view: &'a Value, name: Option<&str>) -> &'a Value {
    view["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["agent_name"].as_str() == name)
        .unwrap_or_else(|| panic!("{name:?} in {view}"))
}

#[tokio::test]
async fn analytics_are_exact_over_fixed_data_in_the_isps_time_zone() {
    let app = TestApp::spawn().await.expect("app");
    add_staff(&app, "demo", "analyst.a@demo.example", Role::SupportAgent).await;
    let mut admin = app.db.admin().await.expect("admin");
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
        .fetch_one(&mut admin)
        .await
        .expect("tenant");
    let subscriber: Uuid =
        sqlx::query_scalar("SELECT id FROM subscribers WHERE tenant_id = $1 ORDER BY id LIMIT 1")
            .bind(tenant)
            .fetch_one(&mut admin)
            .await
            .expect("subscriber");
    let staff = |email: &'static str| {
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM staff WHERE tenant_id = $1 AND email = $2")
            .bind(tenant)
            .bind(email)
    };
    let a = staff("analyst.a@demo.example")
        .fetch_one(&mut admin)
        .await
        .expect("a");
    let b = staff("agent@demo.example")
        .fetch_one(&mut admin)
        .await
        .expect("b");
    let b_name: String =
        sqlx::query_scalar("SELECT display_name FROM staff WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(b)
            .fetch_one(&mut admin)
            .await
            .expect("b name");

    let fixture = |number, category, status, agent, created: &str| Fixture {
        number,
        category,
        status,
        agent,
        created: utc(created),
        responded_after: None,
        resolved_after: None,
        fr_due_after: None,
        res_due_after: None,
    };
    // 01:00 in Moscow on the first day (22:00 UTC the day before): inside, unassigned.
    insert(
        &mut admin,
        tenant,
        subscriber,
        fixture(900_000, "other", "new", None, "2020-03-01T22:00:00Z"),
    )
    .await;
    // Agent A: met both; met first response, missed resolution; missed first response and,
    // still open past its due time, resolution.
    let t1 = insert(
        &mut admin,
        tenant,
        subscriber,
        Fixture {
            responded_after: Some(10),
            resolved_after: Some(60),
            fr_due_after: Some(30),
            res_due_after: Some(120),
            ..fixture(
                900_001,
                "connectivity",
                "resolved",
                Some(a),
                "2020-03-02T07:00:00Z",
            )
        },
    )
    .await;
    let t2 = insert(
        &mut admin,
        tenant,
        subscriber,
        Fixture {
            responded_after: Some(20),
            resolved_after: Some(240),
            fr_due_after: Some(30),
            res_due_after: Some(120),
            ..fixture(
                900_002,
                "connectivity",
                "resolved",
                Some(a),
                "2020-03-02T09:00:00Z",
            )
        },
    )
    .await;
    insert(
        &mut admin,
        tenant,
        subscriber,
        Fixture {
            responded_after: Some(40),
            fr_due_after: Some(30),
            res_due_after: Some(120),
            ..fixture(900_003, "speed", "open", Some(a), "2020-03-03T06:00:00Z")
        },
    )
    .await;
    // Agent B, no SLA: 23:30 on the last day in Moscow.
    let t4 = insert(
        &mut admin,
        tenant,
        subscriber,
        Fixture {
            responded_after: Some(100),
            resolved_after: Some(300),
            ..fixture(
                900_004,
                "payments",
                "closed",
                Some(b),
                "2020-03-04T20:30:00Z",
            )
        },
    )
    .await;
    // 00:30 the day after the period in Moscow (still the 4th in UTC): outside.
    insert(
        &mut admin,
        tenant,
        subscriber,
        Fixture {
            responded_after: Some(1),
            ..fixture(900_005, "speed", "open", Some(a), "2020-03-04T21:30:00Z")
        },
    )
    .await;
    // Agent A's backlog now: <1d, 1–3d (two, one waiting on the customer), 3–7d, >7d (with
    // the two open tickets of 2020).
    let now = Utc::now();
    for (n, status, age) in [
        (900_010, "open", Duration::hours(2)),
        (900_011, "new", Duration::hours(30)),
        (900_012, "waiting_on_customer", Duration::hours(50)),
        (900_013, "open", Duration::days(5)),
        (900_014, "open", Duration::days(10)),
        (900_015, "resolved", Duration::days(2)),
    ] {
        insert(
            &mut admin,
            tenant,
            subscriber,
            Fixture {
                created: now - age,
                ..fixture(n, "other", status, Some(a), "2020-01-01T00:00:00Z")
            },
        )
        .await;
    }
    insert_rating(
        &mut admin,
        tenant,
        t1,
        5,
        utc("2020-03-02T12:00:00Z"),
        false,
    )
    .await;
    insert_rating(
        &mut admin,
        tenant,
        t2,
        3,
        utc("2020-03-03T12:00:00Z"),
        false,
    )
    .await;
    insert_rating(
        &mut admin,
        tenant,
        t4,
        4,
        utc("2020-03-04T20:59:00Z"),
        false,
    )
    .await;
    // An earlier resolution of the same ticket, rated after the period (Moscow 00:00 on the
    // 5th): not counted.
    insert_rating(&mut admin, tenant, t4, 1, utc("2020-03-04T21:00:00Z"), true).await;

    let owner = app.staff(DEMO, "owner@demo.example").await;
    let q = "/api/v1/console/tickets/analytics?from=2020-03-02&to=2020-03-05";
    let view = json_body(owner.get(q).await, StatusCode::OK).await;
    assert_eq!(view["time_zone"], "Europe/Moscow");
    let days: Vec<(String, i64)> = view["by_day"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            (
                d["day"].as_str().expect("day").to_owned(),
                d["tickets"].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2020-03-02".into(), 3),
            ("2020-03-03".into(), 1),
            ("2020-03-04".into(), 1)
        ]
    );
    assert_eq!(
        view["by_category"],
        json!([
            {"category": "connectivity", "tickets": 2},
            {"category": "other", "tickets": 1},
            {"category": "payments", "tickets": 1},
            {"category": "speed", "tickets": 1},
        ])
    );
    let team = &view["team"];
    assert_eq!(team["tickets"], 5);
    // First response 10, 20, 40, 100 minutes; resolution 60, 240, 300.
    assert_eq!(
        team["first_response"],
        json!({"count": 4, "median_minutes": 30.0, "p90_minutes": 82.0})
    );
    assert_eq!(
        team["resolution"],
        json!({"count": 3, "median_minutes": 240.0, "p90_minutes": 288.0})
    );
    assert_eq!(team["first_response_sla"]["met"], 2);
    assert_eq!(team["first_response_sla"]["missed"], 1);
    assert_eq!(team["resolution_sla"]["met"], 1);
    assert_eq!(team["resolution_sla"]["missed"], 2);
    assert_eq!(
        team["csat"],
        json!({"count": 3, "average": 4.0, "distribution": [0, 0, 1, 1, 1]})
    );
    assert_eq!(view["deflection"]["tickets"], 5);
    assert_eq!(view["deflection"]["deflected"], 0);

    let ra = row(&view, Some("Test support_agent"));
    assert_eq!(ra["agent_id"], a.to_string());
    let ma = &ra["metrics"];
    assert_eq!(ma["tickets"], 3);
    assert_eq!(
        ma["first_response"],
        json!({"count": 3, "median_minutes": 20.0, "p90_minutes": 36.0})
    );
    assert_eq!(
        ma["resolution"],
        json!({"count": 2, "median_minutes": 150.0, "p90_minutes": 222.0})
    );
    assert_eq!(
        ma["first_response_sla"],
        json!({"met": 2, "missed": 1, "rate": 2.0 / 3.0})
    );
    assert_eq!(
        ma["backlog"],
        json!({"under_1d": 1, "from_1d_to_3d": 2, "from_3d_to_7d": 1, "over_7d": 3, "total": 7})
    );
    assert_eq!(
        ma["csat"],
        json!({"count": 2, "average": 4.0, "distribution": [0, 0, 1, 0, 1]})
    );
    let mb = &row(&view, Some(&b_name))["metrics"];
    assert_eq!(mb["tickets"], 1);
    assert_eq!(mb["first_response_sla"], json!({"met": 0, "missed": 0}));
    let unassigned = &row(&view, None)["metrics"];
    assert_eq!(unassigned["tickets"], 1);
    assert_eq!(unassigned["first_response"], json!({"count": 0}));

    // One agent: only their tickets.
    let mine = json_body(owner.get(&format!("{q}&agent={a}")).await, StatusCode::OK).await;
    assert_eq!(mine["team"]["tickets"], 3);
    assert_eq!(mine["team"]["backlog"]["total"], 7);
    assert_eq!(mine["agents"].as_array().map(Vec::len), Some(1));

    // CSV: header, team, agents; an attachment.
    let resp = owner
        .get("/api/v1/console/tickets/analytics/csv?from=2020-03-02&to=2020-03-05&lang=en")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"desk-analytics-2020-03-02-2020-03-05.csv\""
    );
    let csv = resp.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("agent,tickets,first_response_median_min,"),
        "{csv}"
    );
    let b = &team["backlog"];
    assert_eq!(
        lines[1],
        format!(
            "Team,5,30.0,82.0,240.0,288.0,66.7,33.3,{},{},{},{},3,4.00,0,0,1,1,1",
            b["under_1d"], b["from_1d_to_3d"], b["from_3d_to_7d"], b["over_7d"]
        )
    );
    assert!(
        lines.contains(
            &"Test support_agent,3,20.0,36.0,150.0,222.0,66.7,33.3,1,2,1,3,2,4.00,0,0,1,0,1"
        ),
        "{csv}"
    );
    assert_eq!(
        lines.last().map(|l| l.starts_with("Unassigned,1,")),
        Some(true),
        "{csv}"
    );
}

#[tokio::test]
async fn analytics_check_their_period_permission_and_tenant() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let viewer = app.staff(DEMO, "viewer@demo.example").await;
    let agent = app.staff(DEMO, "agent@demo.example").await;
    let north = app.staff(NORTHNET, "owner@northnet.example").await;
    let ivan = app.subscriber(DEMO, "100001").await;
    let base = "/api/v1/console/tickets/analytics";

    for (query, code) in [
        ("from=2026-13-01&to=2026-12-01", "invalid_parameter"),
        ("from=2026-11-01", "invalid_parameter"),
        ("from=2026-11-01&to=2026-11-01", "bad_period"),
        ("from=2026-11-02&to=2026-11-01", "bad_period"),
        ("from=2025-01-01&to=2026-01-03", "period_too_long"),
        (
            "from=2026-11-01&to=2026-11-02&agent=nope",
            "invalid_parameter",
        ),
    ] {
        assert_problem(
            owner.get(&format!("{base}?{query}")).await,
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
        assert_problem(
            owner.get(&format!("{base}/csv?{query}")).await,
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
    }

    // The read-only role may look; agents may not (they would compare each other).
    let ok = "from=2026-11-01&to=2026-12-01";
    json_body(viewer.get(&format!("{base}?{ok}")).await, StatusCode::OK).await;
    for path in [format!("{base}?{ok}"), format!("{base}/csv?{ok}")] {
        assert_problem(agent.get(&path).await, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let status = ivan.get(&format!("{base}?{ok}")).await.status();
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
        "{status}"
    );

    // A demo ticket shows in the demo ISP's figures, never in NorthNet's.
    let today = Utc::now().date_naive();
    let span = format!(
        "from={}&to={}",
        today - Duration::days(1),
        today + Duration::days(2)
    );
    let before = json_body(north.get(&format!("{base}?{span}")).await, StatusCode::OK).await;
    ivan.open_ticket("other", "Только демо", "Текст").await;
    let demo = json_body(owner.get(&format!("{base}?{span}")).await, StatusCode::OK).await;
    assert!(demo["team"]["tickets"].as_i64() >= Some(1), "{demo}");
    let after = json_body(north.get(&format!("{base}?{span}")).await, StatusCode::OK).await;
    assert_eq!(after["team"]["tickets"], before["team"]["tickets"]);
}
