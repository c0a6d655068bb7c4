//! Auto-assignment: tickets routed by category to agent groups go to members on shift,
//! round-robin (exactly even) or least-loaded (always to a least-loaded agent); nobody off shift
//! gets any; ending a shift or being deactivated hands the agent's active tickets to others;
//! concurrent workers on one queue never assign a ticket twice. Staff without the permission
//! change nothing, another ISP's ids are refused, bad input is a problem+json 4xx.

use std::collections::HashMap;

use chrono::Utc;
use kabinet_core::{StaffId, SubscriberId, TenantId, TicketId};
use kabinet_db::sqlx;
use kabinet_tests::{TestApp, assert_problem, json, json_body};
use kabinet_ticketing::{Category, NewTicket};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

const DEMO: &str = "demo.localhost";
const OWNER: &str = "owner@demo.example";
const AGENT: &str = "agent@demo.example";

async fn demo_tenant(app: &TestApp) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
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

/// Another support agent of the demo ISP (same password as the seeded one).
async fn add_agent(app: &TestApp, email: &str, name: &str) -> Uuid {
    let mut admin = app.db.admin().await.expect("admin");
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO staff (tenant_id, id, email, display_name, password_hash) \
         SELECT tenant_id, gen_random_uuid(), $1, $2, password_hash FROM staff WHERE email = $3 \
         RETURNING id",
    )
    .bind(email)
    .bind(name)
    .bind(AGENT)
    .fetch_one(&mut admin)
    .await
    .expect("agent");
    sqlx::query(
        "INSERT INTO staff_roles (tenant_id, staff_id, role) \
         SELECT tenant_id, id, 'support_agent' FROM staff WHERE id = $1",
    )
    .bind(id)
    .execute(&mut admin)
    .await
    .expect("role");
    id
}

async fn demo_subscriber(app: &TestApp) -> SubscriberId {
    let mut admin = app.db.admin().await.expect("admin");
    SubscriberId(
        sqlx::query_scalar(
            "SELECT s.id FROM subscribers s JOIN tenants t ON t.id = s.tenant_id \
             WHERE t.slug = 'demo' ORDER BY s.account_number LIMIT 1",
        )
        .fetch_one(&mut admin)
        .await
        .expect("subscriber"),
    )
}

/// Opens a ticket through the ticketing crate (as the portal does), in its own transaction.
async fn open(app: &TestApp, category: Category) -> (TicketId, Option<Uuid>) {
    let tenant = demo_tenant(app).await;
    let subscriber = demo_subscriber(app).await;
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    let ticket = kabinet_ticketing::create_ticket(
        &mut tx,
        "Europe/Moscow",
        &NewTicket {
            subscriber,
            category,
            subject: "Нет интернета".into(),
            description: "Не работает с утра".into(),
        },
        Utc::now(),
    )
    .await
    .expect("ticket");
    tx.commit().await.expect("commit");
    (
        ticket.summary.id,
        ticket.summary.assignee.map(|a| a.id.as_uuid()),
    )
}

async fn create_group(owner: &kabinet_tests::Client, body: Value) -> Value {
    json_body(
        owner.post("/api/v1/console/assignment/groups", &body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn set_shift(client: &kabinet_tests::Client, on: bool) -> Value {
    json_body(
        client
            .put("/api/v1/console/me/shift", &json!({"on_shift": on}))
            .await,
        StatusCode::OK,
    )
    .await
}

/// Active tickets per assignee.
async fn loads(app: &TestApp) -> HashMap<Uuid, i64> {
    let mut admin = app.db.admin().await.expect("admin");
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT assignee_staff_id, count(*) FROM tickets \
         WHERE assignee_staff_id IS NOT NULL AND status IN ('new', 'open', 'waiting_on_customer') \
         GROUP BY assignee_staff_id",
    )
    .fetch_all(&mut admin)
    .await
    .expect("loads");
    rows.into_iter().collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar(sql)
        .fetch_one(&mut admin)
        .await
        .expect("count")
}

async fn assignee(app: &TestApp, ticket: TicketId) -> Option<Uuid> {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_scalar("SELECT assignee_staff_id FROM tickets WHERE id = $1")
        .bind(ticket.as_uuid())
        .fetch_one(&mut admin)
        .await
        .expect("assignee")
}

#[tokio::test]
async fn round_robin_gives_each_agent_on_shift_exactly_a_third() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let a = staff_id(&app, AGENT).await;
    let b = add_agent(&app, "b@demo.example", "Борис").await;
    let c = add_agent(&app, "c@demo.example", "Вика").await;
    let off = add_agent(&app, "off@demo.example", "Не на смене").await;
    let group = create_group(
        &owner,
        json!({"name": "Техподдержка", "mode": "round_robin",
               "categories": ["connectivity", "speed"], "members": [a, b, c, off]}),
    )
    .await;
    assert_eq!(group["waiting"], 0);
    for email in [AGENT, "b@demo.example", "c@demo.example"] {
        let agent = app.staff(DEMO, email).await;
        let shift = set_shift(&agent, true).await;
        assert_eq!(shift["shift"]["on_shift"], true);
        assert!(shift["shift"]["started_at"].is_string());
    }
    let mut turns = Vec::new();
    for i in 0..300 {
        let category = if i % 2 == 0 {
            Category::Connectivity
        } else {
            Category::Speed
        };
        let (_, who) = open(&app, category).await;
        turns.push(who.expect("assigned at creation"));
    }
    let loads = loads(&app).await;
    assert_eq!(loads.get(&a), Some(&100));
    assert_eq!(loads.get(&b), Some(&100));
    assert_eq!(loads.get(&c), Some(&100));
    assert_eq!(loads.get(&off), None, "off shift: nothing");
    // In turn: every window of three tickets has three different agents.
    for w in turns.windows(3) {
        assert!(w[0] != w[1] && w[1] != w[2] && w[0] != w[2], "{w:?}");
    }
    // Recorded like a manual assignment, by the system, once per ticket.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM ticket_events WHERE kind = 'assignee' AND old_value IS NULL \
             AND actor_staff_id IS NULL AND actor_subscriber_id IS NULL"
        )
        .await,
        300
    );
    let groups = json_body(
        owner.get("/api/v1/console/assignment/groups").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(groups["items"][0]["assigned_total"], 300);
    let members = groups["items"][0]["members"].as_array().expect("members");
    assert_eq!(members.len(), 4);
    assert_eq!(members.iter().filter(|m| m["on_shift"] == true).count(), 3);
    let on = json_body(
        owner.get("/api/v1/console/assignment/on-shift").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(on["items"].as_array().expect("items").len(), 3);
    assert!(
        on["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["load"] == 100)
    );
}

#[tokio::test]
async fn least_loaded_always_picks_an_agent_with_the_fewest_tickets() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let a = staff_id(&app, AGENT).await;
    let b = add_agent(&app, "b@demo.example", "Борис").await;
    let c = add_agent(&app, "c@demo.example", "Вика").await;
    create_group(
        &owner,
        json!({"name": "Сеть", "mode": "least_loaded", "categories": ["connectivity"],
               "members": [a, b, c]}),
    )
    .await;
    // The agent already holds five tickets of a category no group handles.
    let tenant = demo_tenant(&app).await;
    for _ in 0..5 {
        let (t, who) = open(&app, Category::Payments).await;
        assert_eq!(who, None, "payments: no group");
        let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
        kabinet_ticketing::assign(&mut tx, StaffId(a), t, Some(StaffId(a)))
            .await
            .expect("assign");
        tx.commit().await.expect("commit");
    }
    for email in [AGENT, "b@demo.example", "c@demo.example"] {
        set_shift(&app.staff(DEMO, email).await, true).await;
    }
    let mut loads: HashMap<Uuid, i64> = [(a, 5), (b, 0), (c, 0)].into();
    for step in 0..300 {
        let (_, who) = open(&app, Category::Connectivity).await;
        let who = who.expect("assigned");
        let min = *loads.values().min().expect("min");
        assert_eq!(loads[&who], min, "step {step}: {loads:?} → {who}");
        *loads.get_mut(&who).expect("member") += 1;
        let max = *loads.values().max().expect("max");
        if step >= 10 {
            assert!(max - loads.values().min().expect("min") <= 1, "{loads:?}");
        }
    }
    assert_eq!(loads, self::loads(&app).await);
}

#[tokio::test]
async fn tickets_route_by_category_and_wait_for_someone_on_shift() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let a = staff_id(&app, AGENT).await;
    let b = add_agent(&app, "b@demo.example", "Бухгалтер").await;
    // Default group first in the request; the listing puts it last (routing order).
    create_group(
        &owner,
        json!({"name": "Все остальные", "mode": "round_robin", "members": [a]}),
    )
    .await;
    create_group(
        &owner,
        json!({"name": "Бухгалтерия", "mode": "least_loaded",
               "categories": ["payments", "tariff"], "members": [b]}),
    )
    .await;
    let groups = json_body(
        owner.get("/api/v1/console/assignment/groups").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(groups["items"][0]["name"], "Бухгалтерия");
    assert_eq!(groups["items"][1]["name"], "Все остальные");

    // Nobody on shift: tickets wait.
    let (pay, who) = open(&app, Category::Payments).await;
    assert_eq!(who, None);
    let (net, who) = open(&app, Category::Connectivity).await;
    assert_eq!(who, None);
    let groups = json_body(
        owner.get("/api/v1/console/assignment/groups").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(groups["items"][0]["waiting"], 1);
    assert_eq!(groups["items"][1]["waiting"], 1);

    // The worker changes nothing while nobody is on shift.
    let tenant = demo_tenant(&app).await;
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    let report = kabinet_ticketing::run_scheduled(&mut tx, Utc::now())
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    assert_eq!(report.assignment.assigned, 0);

    // The accountant starts: gets the payments ticket at once, not the connectivity one.
    let accountant = app.staff(DEMO, "b@demo.example").await;
    let started = set_shift(&accountant, true).await;
    assert_eq!(started["assigned"], 1);
    assert_eq!(assignee(&app, pay).await, Some(b));
    assert_eq!(assignee(&app, net).await, None);

    // Starting twice changes nothing (and audits nothing).
    let again = set_shift(&accountant, true).await;
    assert_eq!(again["assigned"], 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'shift.start'"
        )
        .await,
        1
    );

    // A shift started directly in the database (no console request) is picked up by the worker.
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "INSERT INTO agent_shifts (tenant_id, id, staff_id, started_at) \
         SELECT tenant_id, gen_random_uuid(), id, now() FROM staff WHERE id = $1",
    )
    .bind(a)
    .execute(&mut admin)
    .await
    .expect("shift");
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    let report = kabinet_ticketing::run_scheduled(&mut tx, Utc::now())
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    assert_eq!(report.assignment.assigned, 1);
    assert_eq!(assignee(&app, net).await, Some(a));

    // Auto-assignment off: the group keeps its category but nobody gets its tickets.
    let list = groups["items"].as_array().expect("items");
    let accounting = list[0]["id"].as_str().expect("id");
    json_body(
        owner
            .put(
                &format!("/api/v1/console/assignment/groups/{accounting}"),
                &json!({"name": "Бухгалтерия", "mode": "least_loaded",
                        "categories": ["payments", "tariff"], "members": [b],
                        "auto_assign": false}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let (tariff, who) = open(&app, Category::Tariff).await;
    assert_eq!(who, None);
    assert_eq!(assignee(&app, tariff).await, None);
}

#[tokio::test]
async fn the_default_group_routes_the_isps_own_categories() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let a = staff_id(&app, AGENT).await;
    let b = add_agent(&app, "b@demo.example", "Бухгалтер").await;
    for (code, name) in [("dacha_link", "Связь на даче"), ("tv_box", "Приставка")]
    {
        json_body(
            owner
                .post(
                    "/api/v1/console/ticket-categories",
                    &json!({"code": code, "kind": "connectivity", "name_ru": name}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    create_group(
        &owner,
        json!({"name": "Все остальные", "mode": "round_robin", "members": [a]}),
    )
    .await;
    create_group(
        &owner,
        json!({"name": "ТВ", "mode": "round_robin", "categories": ["tv_box"], "members": [b]}),
    )
    .await;
    let dacha = Category::parse("dacha_link").expect("code");
    let tv = Category::parse("tv_box").expect("code");

    // Nobody on shift: the custom categories' tickets wait in their groups' pools.
    let (waiting, who) = open(&app, dacha.clone()).await;
    assert_eq!(who, None);
    let groups = json_body(
        owner.get("/api/v1/console/assignment/groups").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(groups["items"][0]["name"], "ТВ");
    assert_eq!(groups["items"][0]["waiting"], 0);
    assert_eq!(groups["items"][1]["name"], "Все остальные");
    assert_eq!(groups["items"][1]["waiting"], 1);

    // The default group's agent starts: gets the waiting custom-category ticket, and new ones
    // at once, like a built-in category's; a category another group lists is not theirs.
    let agent = app.staff(DEMO, AGENT).await;
    assert_eq!(set_shift(&agent, true).await["assigned"], 1);
    assert_eq!(assignee(&app, waiting).await, Some(a));
    let (_, who) = open(&app, dacha).await;
    assert_eq!(who, Some(a));
    let (_, who) = open(&app, Category::Other).await;
    assert_eq!(who, Some(a));
    let (tv_ticket, who) = open(&app, tv).await;
    assert_eq!(who, None);
    let tv_agent = app.staff(DEMO, "b@demo.example").await;
    assert_eq!(set_shift(&tv_agent, true).await["assigned"], 1);
    assert_eq!(assignee(&app, tv_ticket).await, Some(b));

    // Ending the shift returns the custom-category tickets to the default group's pool too.
    set_shift(&agent, false).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM tickets WHERE category = 'dacha_link' \
             AND assignee_staff_id IS NOT NULL"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn ending_a_shift_hands_the_agents_active_tickets_to_others() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let a = staff_id(&app, AGENT).await;
    let b = add_agent(&app, "b@demo.example", "Борис").await;
    create_group(
        &owner,
        json!({"name": "Техподдержка", "mode": "round_robin", "categories": ["speed"],
               "members": [a, b]}),
    )
    .await;
    let agent = app.staff(DEMO, AGENT).await;
    let boris = app.staff(DEMO, "b@demo.example").await;
    set_shift(&agent, true).await;
    set_shift(&boris, true).await;
    let mut tickets = Vec::new();
    for _ in 0..10 {
        tickets.push(open(&app, Category::Speed).await);
    }
    let mine: Vec<TicketId> = tickets
        .iter()
        .filter(|(_, who)| *who == Some(a))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(mine.len(), 5);
    // One of them waits on the customer: it stays with the agent.
    json_body(
        agent
            .put(
                &format!("/api/v1/console/tickets/{}/status", mine[0].as_uuid()),
                &json!({"status": "waiting_on_customer"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let ended = set_shift(&agent, false).await;
    assert_eq!(ended["shift"]["on_shift"], false);
    assert!(ended["shift"]["ended_at"].is_string());
    assert_eq!(ended["released"], 4);
    assert_eq!(ended["assigned"], 4);
    assert_eq!(assignee(&app, mine[0]).await, Some(a));
    for t in &mine[1..] {
        assert_eq!(assignee(&app, *t).await, Some(b));
    }
    // Each reassigned ticket: assigned to a, taken back by the system, assigned to b.
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM ticket_events WHERE kind = 'assignee' \
                 AND old_value = '{a}' AND new_value IS NULL AND actor_staff_id IS NULL"
            )
        )
        .await,
        4
    );
    // The last one leaves: the tickets go back to the pool and wait.
    let ended = set_shift(&boris, false).await;
    assert_eq!(ended["released"], 9);
    assert_eq!(ended["assigned"], 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM tickets WHERE assignee_staff_id IS NULL"
        )
        .await,
        9
    );
    // …until someone starts.
    let started = set_shift(&agent, true).await;
    assert_eq!(started["assigned"], 9);
    assert_eq!(loads(&app).await.get(&a), Some(&10));

    // A deactivated agent's tickets go to whoever is on shift at the worker's next pass.
    set_shift(&boris, true).await;
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query("UPDATE staff SET active = false WHERE id = $1")
        .bind(a)
        .execute(&mut admin)
        .await
        .expect("deactivate");
    let tenant = demo_tenant(&app).await;
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    let report = kabinet_ticketing::assignment::run(&mut tx, Utc::now())
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    assert_eq!(report.released, 9, "the waiting-on-customer one stays");
    assert_eq!(report.assigned, 9);
    assert_eq!(loads(&app).await.get(&b), Some(&9));
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM agent_shifts WHERE staff_id = '{a}' AND ended_at IS NULL"
            )
        )
        .await,
        0,
        "the deactivated agent's shift ended"
    );
}

#[tokio::test]
async fn concurrent_workers_never_assign_a_ticket_twice() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let a = staff_id(&app, AGENT).await;
    let b = add_agent(&app, "b@demo.example", "Борис").await;
    let c = add_agent(&app, "c@demo.example", "Вика").await;
    let d = add_agent(&app, "d@demo.example", "Дина").await;
    create_group(
        &owner,
        json!({"name": "Сеть", "mode": "round_robin", "categories": ["connectivity", "speed"],
               "members": [a, b, c]}),
    )
    .await;
    create_group(
        &owner,
        json!({"name": "Бухгалтерия", "mode": "least_loaded", "categories": ["payments"],
               "members": [c, d]}),
    )
    .await;
    // 2,400 waiting tickets (more than one pass takes per group), nobody on shift yet.
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query(
        "INSERT INTO tickets (tenant_id, id, number, subscriber_id, category, subject, created_at, updated_at) \
         SELECT s.tenant_id, gen_random_uuid(), 100000 + g, s.id, \
           (ARRAY['connectivity', 'speed', 'payments'])[1 + g % 3], 'Тикет ' || g, \
           now() - make_interval(secs => 3000 - g), now() \
         FROM generate_series(1, 2400) AS g, \
           (SELECT s.* FROM subscribers s JOIN tenants t ON t.id = s.tenant_id \
            WHERE t.slug = 'demo' LIMIT 1) AS s",
    )
    .execute(&mut admin)
    .await
    .expect("tickets");
    sqlx::query(
        "INSERT INTO agent_shifts (tenant_id, id, staff_id, started_at) \
         SELECT tenant_id, gen_random_uuid(), id, now() FROM staff WHERE id = ANY($1)",
    )
    .bind(vec![a, b, c, d])
    .execute(&mut admin)
    .await
    .expect("shifts");

    let tenant = demo_tenant(&app).await;
    let mut workers = Vec::new();
    for _ in 0..8 {
        let db = app.db.db.clone();
        workers.push(tokio::spawn(async move {
            let mut assigned = 0;
            loop {
                let mut tx = db.tenant_tx(tenant).await.expect("tx");
                let report = kabinet_ticketing::assignment::run(&mut tx, Utc::now())
                    .await
                    .expect("run");
                tx.commit().await.expect("commit");
                if report.assigned == 0 {
                    return assigned;
                }
                assigned += report.assigned;
            }
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await.expect("worker");
    }
    assert_eq!(total, 2400, "the workers' reports add up");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM tickets WHERE assignee_staff_id IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM (SELECT ticket_id FROM ticket_events WHERE kind = 'assignee' \
             GROUP BY ticket_id HAVING count(*) <> 1) AS x"
        )
        .await,
        0,
        "exactly one assignee event per ticket"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM ticket_events WHERE kind = 'assignee'"
        )
        .await,
        2400
    );
    // Each group stays fair: 1,600 network tickets in turn among a, b, c (c also takes half
    // of the 800 payments with d, least-loaded counting everything c holds).
    let loads = loads(&app).await;
    assert_eq!(loads.values().sum::<i64>(), 2400);
    let network = count(
        &app,
        &format!(
            "SELECT max(n) - min(n) FROM (SELECT count(*) AS n FROM tickets \
             WHERE category IN ('connectivity', 'speed') AND assignee_staff_id IN ('{a}', '{b}', '{c}') \
             GROUP BY assignee_staff_id) AS x"
        ),
    )
    .await;
    assert!(network <= 1, "round-robin spread {network}");
    let groups = json_body(
        owner.get("/api/v1/console/assignment/groups").await,
        StatusCode::OK,
    )
    .await;
    let totals: i64 = groups["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|g| g["assigned_total"].as_i64().expect("total"))
        .sum();
    assert_eq!(totals, 2400, "each cursor moved once per ticket");
}

#[tokio::test]
async fn permissions_bad_input_and_other_isps_ids_are_refused() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, OWNER).await;
    let viewer = app.staff(DEMO, "viewer@demo.example").await;
    let a = staff_id(&app, AGENT).await;
    let foreign = staff_id(&app, "owner@northnet.example").await;

    let body = json!({"name": "Техподдержка", "mode": "round_robin", "members": [a]});
    assert_problem(
        viewer
            .post("/api/v1/console/assignment/groups", &body)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        viewer.get("/api/v1/console/assignment/groups").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Reading who is on shift needs only tickets.read; a shift needs tickets.reply.
    json_body(
        viewer.get("/api/v1/console/assignment/on-shift").await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        viewer
            .put("/api/v1/console/me/shift", &json!({"on_shift": true}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    assert_problem(
        owner
            .post(
                "/api/v1/console/assignment/groups",
                &json!({"name": "X", "mode": "round_robin", "categories": ["billing"]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_category",
    )
    .await;
    assert_problem(
        owner
            .post(
                "/api/v1/console/assignment/groups",
                &json!({"name": "X", "mode": "round_robin", "members": [foreign]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_staff",
    )
    .await;
    assert_problem(
        owner
            .post(
                "/api/v1/console/assignment/groups",
                &json!({"name": "  ", "mode": "round_robin"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    let bad_mode = owner
        .post(
            "/api/v1/console/assignment/groups",
            &json!({"name": "X", "mode": "random"}),
        )
        .await;
    assert_eq!(bad_mode.status(), StatusCode::BAD_REQUEST);

    let group = create_group(&owner, body.clone()).await;
    assert_problem(
        owner.post("/api/v1/console/assignment/groups", &body).await,
        StatusCode::CONFLICT,
        "agent_group_name_taken",
    )
    .await;
    let id = group["id"].as_str().expect("id");

    // Another ISP's owner sees no such group.
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        north
            .put(&format!("/api/v1/console/assignment/groups/{id}"), &body)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        north
            .delete(&format!("/api/v1/console/assignment/groups/{id}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let theirs = json_body(
        north.get("/api/v1/console/assignment/groups").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["items"].as_array().expect("items").len(), 0);
    // Nor can it put our agent into its group.
    assert_problem(
        north
            .post(
                "/api/v1/console/assignment/groups",
                &json!({"name": "N", "mode": "round_robin", "members": [a]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_staff",
    )
    .await;

    let resp = owner
        .delete(&format!("/api/v1/console/assignment/groups/{id}"))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action IN ('agent_group.create', 'agent_group.delete')"
        )
        .await,
        2
    );
}
