//! The list and thread endpoints are set-based: the number of SQL statements a request costs is
//! small and does not grow with the page (no N+1).
//!
//! How the statements are counted, so that the count cannot be fooled: on the server, by
//! `pg_stat_statements` (`kabinet_tests::stats`), in a cluster of its own that preloads it. Each
//! reading sums `calls` of every top-level statement — `BEGIN`, `SET`, `COMMIT` included — that
//! the app role ran in this test's own database, read from another database so the reading is
//! not counted, and is refused if the extension evicted entries in between. The app here is
//! served without its background listeners (they hold LISTEN connections and would run
//! statements at their own pace), so the difference between two readings around one HTTP
//! request is exactly what that request made PostgreSQL do, however the code issued it (sqlx,
//! a helper, another crate).

use kabinet_gateway::{AppState, GatewayConfig, build_app};
use kabinet_tests::stats::StatsCluster;
use kabinet_tests::{Client, TestApp, json, json_body};
use poem::listener::TcpAcceptor;
use reqwest::StatusCode;
use serde_json::Value;

const HOST: &str = "demo.localhost";
/// Tickets in the busy subscriber's list and the queue: more than a page of 50.
const TICKETS: usize = 60;
/// A page must cost no more statements than this (session, permission, `BEGIN`, `SET`, the
/// page's queries, `COMMIT`).
const MAX_STATEMENTS: i64 = 14;

/// The app on the statements cluster, without background tasks.
async fn spawn(stats: &StatsCluster) -> anyhow::Result<TestApp> {
    let db = stats.database().await?;
    db.apply_demo_tenants().await?;
    let state = AppState::new(db.db.clone(), GatewayConfig::default());
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let acceptor = TcpAcceptor::from_std(listener)?;
    let app = build_app(state.clone());
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    Ok(TestApp { addr, db, state })
}

struct Counter<'a> {
    stats: &'a StatsCluster,
    database: String,
}

impl Counter<'_> {
    /// The statements one successful GET costs: once unmeasured (caches of hosts and enforcers
    /// warm up), then twice measured, and both must agree, so a late statement of another
    /// request cannot slip into a figure.
    async fn get(&self, client: &Client, path: &str) -> i64 {
        json_body(client.get(path).await, StatusCode::OK).await;
        let mut figures = Vec::new();
        for _ in 0..2 {
            let before = self.stats.count(&self.database).await.expect("count");
            json_body(client.get(path).await, StatusCode::OK).await;
            let after = self.stats.count(&self.database).await.expect("count");
            figures.push(StatsCluster::since(before, after));
        }
        assert_eq!(
            figures[0], figures[1],
            "{path}: the same request cost {figures:?} statements"
        );
        figures[0]
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// A ticket as the desk leaves it: a public reply, two tags, an assignee.
async fn worked_ticket(sub: &Client, staff: &Client, agent: &str, n: usize) -> String {
    let ticket = id(&sub
        .open_ticket(
            "connectivity",
            &format!("Обрыв связи {n}"),
            "Пропадает интернет",
        )
        .await);
    json_body(
        staff
            .post(
                &format!("/api/v1/console/tickets/{ticket}/replies"),
                &json!({"body": format!("Проверяем линию, заявка {n}")}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{ticket}/tags"),
                &json!({"tags": ["line", format!("batch-{}", n % 7)]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    json_body(
        staff
            .put(
                &format!("/api/v1/console/tickets/{ticket}/assignee"),
                &json!({"staff_id": agent}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    ticket
}

/// Subscribers for the search page: an import of `n` of them in one CSV.
async fn import_subscribers(staff: &Client, n: usize) {
    let mut csv = String::from("account_number,name,address,balance\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{},Абонент Тестовый {i},\"Москва, ул. Садовая, д. {i}\",{}.00\n",
            300_000 + i,
            i * 10
        ));
    }
    let mut req = staff
        .raw()
        .post(staff.url("/api/v1/console/subscribers/import"))
        .header("content-type", "text/csv")
        .body(csv);
    if let Some(token) = &staff.csrf {
        req = req.header("x-csrf-token", token);
    }
    let report = json_body(req.send().await.expect("import"), StatusCode::OK).await;
    assert_eq!(report["errors"], json!([]), "{report}");
}

#[tokio::test]
async fn pages_cost_the_same_few_statements_whatever_their_size() -> anyhow::Result<()> {
    let stats = StatsCluster::get().await?;
    let app = spawn(&stats).await?;
    let counter = Counter {
        stats: &stats,
        database: app.db.name.clone(),
    };
    let staff = app.staff(HOST, "owner@demo.example").await;
    let ivan = app.subscriber(HOST, "100001").await;

    let agents = json_body(
        staff.get("/api/v1/console/ticket-agents").await,
        StatusCode::OK,
    )
    .await;
    let agents: Vec<String> = agents["items"]
        .as_array()
        .expect("agents")
        .iter()
        .map(id)
        .collect();
    assert!(agents.len() >= 2, "{agents:?}");

    // Ivan's first, quiet ticket, measured before the other sixty exist.
    let quiet = id(&ivan
        .open_ticket("payments", "Вопрос по счёту", "Когда списание?")
        .await);
    let list_1 = counter.get(&ivan, "/api/v1/me/tickets").await;
    let quiet_mine = counter
        .get(&ivan, &format!("/api/v1/me/tickets/{quiet}"))
        .await;
    let quiet_staff = counter
        .get(&staff, &format!("/api/v1/console/tickets/{quiet}"))
        .await;
    let mut tickets = Vec::new();
    for n in 0..TICKETS {
        tickets.push(worked_ticket(&ivan, &staff, &agents[n % agents.len()], n).await);
    }
    // One long thread: messages both ways, notes and history.
    let long = &tickets[0];
    for n in 0..10 {
        json_body(
            ivan.post(
                &format!("/api/v1/me/tickets/{long}/messages"),
                &json!({"body": format!("Всё ещё не работает ({n})")}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        json_body(
            staff
                .post(
                    &format!("/api/v1/console/tickets/{long}/notes"),
                    &json!({"body": format!("Заметка {n}")}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        json_body(
            staff
                .post(
                    &format!("/api/v1/console/tickets/{long}/replies"),
                    &json!({"body": format!("Ответ {n}")}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    import_subscribers(&staff, 60).await;

    let queue_5 = counter.get(&staff, "/api/v1/console/tickets?limit=5").await;
    let queue_50 = counter
        .get(&staff, "/api/v1/console/tickets?limit=50")
        .await;
    let page = json_body(
        staff.get("/api/v1/console/tickets?limit=50").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(50));

    let list_60 = counter.get(&ivan, "/api/v1/me/tickets").await;
    let mine = json_body(ivan.get("/api/v1/me/tickets").await, StatusCode::OK).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(TICKETS + 1));

    let long_thread = counter
        .get(&staff, &format!("/api/v1/console/tickets/{long}"))
        .await;
    let long_mine = counter
        .get(&ivan, &format!("/api/v1/me/tickets/{long}"))
        .await;
    let thread = json_body(
        staff.get(&format!("/api/v1/console/tickets/{long}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        thread["messages"].as_array().map(Vec::len) >= Some(21),
        "{thread}"
    );

    let search_5 = counter
        .get(&staff, "/api/v1/console/subscribers?q=3000&limit=5")
        .await;
    let search_50 = counter
        .get(&staff, "/api/v1/console/subscribers?q=3000&limit=50")
        .await;
    let found = json_body(
        staff
            .get("/api/v1/console/subscribers?q=3000&limit=50")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(50));

    let figures = [
        ("queue page of 5 / 50", queue_5, queue_50),
        ("subscriber's list of 1 / 61", list_1, list_60),
        ("staff thread short / long", quiet_staff, long_thread),
        ("subscriber's thread short / long", quiet_mine, long_mine),
        ("subscriber search page of 5 / 50", search_5, search_50),
    ];
    println!("statements per request: {figures:?}");
    for (what, small, large) in figures {
        assert_eq!(small, large, "{what}: statements grow with the page");
        assert!(
            large <= MAX_STATEMENTS,
            "{what}: {large} statements (at most {MAX_STATEMENTS})"
        );
        assert!(
            large >= 3,
            "{what}: {large} statements cannot be a real count"
        );
    }
    Ok(())
}
