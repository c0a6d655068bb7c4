//! Equipment: the catalogue, buying and renting against the ledger, the monthly rent, the
//! order lifecycle, permissions and isolation between ISPs.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use kabinet_access::directory::{SubscriberSpec, upsert_subscriber};
use kabinet_billing::{
    AccountStatus, BillingError, BillingMonth, NewOrder, OrderMode, OrderStatus, PaymentMethod,
    account_summary, billing_settings, cancel_order, change_order_status, ensure_account,
    place_order, prorate, record_payment, run_monthly_charges, set_billing_settings, verify,
};
use kabinet_core::{Currency, Money, StaffId, SubscriberId, TenantId};
use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, TestDb, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

const ROUTER: &str = "wifi6-router";
/// The demo router's prices (tenants/demo.toml), in kopecks.
const ROUTER_PRICE: i64 = 499_000;
const ROUTER_RENT: i64 = 19_900;

fn rub() -> Currency {
    Currency::parse("RUB").expect("RUB")
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0)
        .single()
        .expect("time")
}

async fn tenant(db: &TestDb, slug: &str) -> TenantId {
    let mut admin = db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut admin)
            .await
            .expect("tenant"),
    )
}

/// A fresh demo subscriber on home-100 with `balance` paid in.
async fn subscriber(db: &TestDb, tenant: TenantId, account: &str, balance: i64) -> SubscriberId {
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    let spec = SubscriberSpec {
        account_number: account.into(),
        full_name: format!("Subscriber {account}"),
        email: None,
        phone: None,
        address: None,
        initial_password: None,
    };
    let (id, _) = upsert_subscriber(&mut tx, &spec).await.expect("subscriber");
    ensure_account(
        &mut tx,
        id,
        Some("home-100"),
        Money::zero(rub()),
        AccountStatus::Active,
    )
    .await
    .expect("account");
    if balance > 0 {
        record_payment(
            &mut tx,
            id,
            Money::new(balance, rub()),
            PaymentMethod::Cash,
            &format!("seed-{account}"),
            None,
            &format!("seed:{account}"),
        )
        .await
        .expect("payment");
    }
    tx.commit().await.expect("commit");
    id
}

async fn balance(db: &TestDb, tenant: TenantId, who: SubscriberId) -> (i64, AccountStatus) {
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    let s = account_summary(&mut tx, who).await.expect("summary");
    (s.balance.minor, s.status)
}

async fn assert_invariants(db: &TestDb, tenant: TenantId) {
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    let violations = verify(&mut tx).await.expect("verify");
    assert!(violations.is_empty(), "billing invariants: {violations:?}");
}

/// How many ledger transactions carry keys starting with `prefix`, and their total charge.
async fn charges(db: &TestDb, prefix: &str) -> (i64, i64) {
    let mut admin = db.admin().await.expect("admin");
    sqlx::query_as(
        "SELECT count(DISTINCT t.id), COALESCE(-sum(e.amount_minor) FILTER (WHERE e.subscriber_id IS NOT NULL), 0)::bigint \
         FROM ledger_transactions t JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id \
         WHERE starts_with(t.idempotency_key, $1)",
    )
    .bind(prefix)
    .fetch_one(&mut admin)
    .await
    .expect("charges")
}

async fn place(
    db: &TestDb,
    tenant: TenantId,
    who: SubscriberId,
    code: &str,
    mode: OrderMode,
    now: DateTime<Utc>,
) -> Result<Uuid, BillingError> {
    let mut tx = db.db.tenant_tx(tenant).await?;
    let placed = place_order(
        &mut tx,
        &NewOrder {
            subscriber: who,
            code,
            mode,
            delivery_note: "подъезд 2, этаж 5",
            contact_phone: "+79123456789",
            request_id: Uuid::now_v7(),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(placed.order.order.id)
}

async fn staff_id(db: &TestDb, tenant: TenantId, email: &str) -> StaffId {
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    StaffId(
        sqlx::query_scalar("SELECT id FROM staff WHERE tenant_id = $1 AND email = $2")
            .bind(tenant.as_uuid())
            .bind(email)
            .fetch_one(tx.conn())
            .await
            .expect("staff"),
    )
}

async fn move_to(
    db: &TestDb,
    tenant: TenantId,
    order: Uuid,
    to: OrderStatus,
    staff: StaffId,
    now: DateTime<Utc>,
) -> Result<i64, BillingError> {
    let mut tx = db.db.tenant_tx(tenant).await?;
    let change = change_order_status(&mut tx, order, to, staff, "", now).await?;
    tx.commit().await?;
    Ok(change.refunded.minor)
}

async fn run_month(db: &TestDb, tenant: TenantId, month: &str) {
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    run_monthly_charges(&mut tx, BillingMonth::parse(month).expect("month"))
        .await
        .expect("run");
    tx.commit().await.expect("commit");
}

fn order_body(code: &str, mode: &str, request_id: Uuid) -> Value {
    json!({
        "code": code,
        "mode": mode,
        "delivery_note": "Домофон 12, после 18:00",
        "contact_phone": "+7 912 345-67-89",
        "request_id": request_id,
    })
}

/// Records a cash payment for `account` through the console, as the owner.
async fn top_up(owner: &Client, account: &str, minor: i64) {
    json_body(
        owner
            .post(
                &format!("/api/v1/console/subscribers/{account}/payments"),
                &json!({"amount_minor": minor, "method": "cash", "reference": format!("top-up-{}", Uuid::now_v7())}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
}

async fn dashboard_balance(client: &Client) -> i64 {
    json_body(client.get("/api/v1/me/dashboard").await, StatusCode::OK).await["account"]["balance"]
        ["minor"]
        .as_i64()
        .expect("balance")
}

#[tokio::test]
async fn subscribers_see_the_catalogue_and_what_an_order_would_charge_before_confirming() {
    let app = TestApp::spawn().await.expect("app");
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let catalogue = json_body(ivan.get("/api/v1/me/equipment").await, StatusCode::OK).await;
    let items = catalogue["items"].as_array().expect("items");
    let router = items
        .iter()
        .find(|i| i["code"] == ROUTER)
        .expect("the router is on offer");
    assert_eq!(router["kind"], "router");
    assert_eq!(router["purchase_price"]["minor"], ROUTER_PRICE);
    assert_eq!(router["monthly_rent"]["minor"], ROUTER_RENT);
    assert_eq!(router["available"], true);
    let cable = items
        .iter()
        .find(|i| i["code"] == "patch-cord-5m")
        .expect("cable");
    assert!(cable.get("monthly_rent").is_none(), "a cable is only sold");

    // 1250.50 on the balance: the router cannot be bought, but it can be rented.
    let buy = json_body(
        ivan.get(&format!("/api/v1/me/equipment/{ROUTER}/quote?mode=buy"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(buy["charge_now"]["minor"], ROUTER_PRICE);
    assert_eq!(buy["balance"]["minor"], 125_050);
    assert_eq!(buy["balance_after"]["minor"], 125_050 - ROUTER_PRICE);
    assert_eq!(buy["allowed"], false);
    assert_eq!(buy["shortfall"]["minor"], ROUTER_PRICE - 125_050);

    let now = Utc::now();
    let month = BillingMonth::of(now.date_naive());
    let first_month = prorate(ROUTER_RENT, month, now.day());
    let rent = json_body(
        ivan.get(&format!("/api/v1/me/equipment/{ROUTER}/quote?mode=rent"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rent["price"]["minor"], ROUTER_RENT);
    assert_eq!(rent["charge_now"]["minor"], first_month);
    assert_eq!(rent["allowed"], true);
    assert_eq!(rent["blocks_service"], false);

    assert_problem(
        ivan.get("/api/v1/me/equipment/patch-cord-5m/quote?mode=rent")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "mode_not_offered",
    )
    .await;
    assert_problem(
        ivan.get("/api/v1/me/equipment/teleporter/quote?mode=buy")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_equipment",
    )
    .await;

    // Refused orders change nothing.
    assert_problem(
        ivan.post(
            "/api/v1/me/equipment-orders",
            &order_body(ROUTER, "buy", Uuid::now_v7()),
        )
        .await,
        StatusCode::CONFLICT,
        "insufficient_balance",
    )
    .await;
    assert_eq!(dashboard_balance(&ivan).await, 125_050);
    let mine = json_body(
        ivan.get("/api/v1/me/equipment-orders").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn buying_charges_the_price_exactly_once_under_retries_and_concurrent_requests() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    top_up(&owner, "100001", 2_000_000).await;
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let before = dashboard_balance(&ivan).await;

    // One order form submitted five times at once (double clicks, a flaky network).
    let request_id = Uuid::now_v7();
    let body = order_body(ROUTER, "buy", request_id);
    let sends = (0..5).map(|_| ivan.post("/api/v1/me/equipment-orders", &body));
    let responses = futures_join_all(sends).await;
    let mut created = 0;
    let mut ids = Vec::new();
    for resp in responses {
        let status = resp.status();
        let order: Value = resp.json().await.expect("json");
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status}: {order}"
        );
        created += usize::from(status == StatusCode::CREATED);
        ids.push(order["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(created, 1, "one order, however often it is sent");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let id = &ids[0];
    assert_eq!(
        charges(&app.db, &format!("equipment:{id}")).await,
        (1, ROUTER_PRICE)
    );
    assert_eq!(dashboard_balance(&ivan).await, before - ROUTER_PRICE);

    // Three different orders at once: three orders, three charges, three units of stock.
    let bodies: Vec<Value> = (0..3)
        .map(|_| order_body("patch-cord-5m", "buy", Uuid::now_v7()))
        .collect();
    let responses = futures_join_all(
        bodies
            .iter()
            .map(|b| ivan.post("/api/v1/me/equipment-orders", b)),
    )
    .await;
    for resp in responses {
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    assert_eq!(
        dashboard_balance(&ivan).await,
        before - ROUTER_PRICE - 3 * 29_000
    );
    let mut admin = app.db.admin().await.expect("admin");
    let stock: Option<i32> =
        sqlx::query_scalar("SELECT stock FROM equipment_items WHERE code = $1 AND tenant_id = (SELECT id FROM tenants WHERE slug = 'demo')")
            .bind(ROUTER)
            .fetch_one(&mut admin)
            .await
            .expect("stock");
    assert_eq!(stock, Some(39), "the router's stock went down once");

    // The order shows in the list, with its status and history, and the purchase in the ledger.
    let order = json_body(
        ivan.get(&format!("/api/v1/me/equipment-orders/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(order["status"], "new");
    assert_eq!(order["mode"], "buy");
    assert_eq!(order["charged"]["minor"], ROUTER_PRICE);
    assert_eq!(order["contact_phone"], "+79123456789");
    assert_eq!(order["can_cancel"], true);
    assert_eq!(order["history"][0]["status"], "new");
    assert_eq!(order["history"][0]["actor"], "subscriber");
    let ledger = json_body(ivan.get("/api/v1/me/ledger").await, StatusCode::OK).await;
    assert!(
        ledger["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|m| m["amount"]["minor"] == -ROUTER_PRICE
                && m["description"].as_str().unwrap_or("").contains("Purchase")),
        "{ledger}"
    );
    // Reusing the request id for another item is a conflict, not a second order.
    assert_problem(
        ivan.post(
            "/api/v1/me/equipment-orders",
            &order_body("iptv-box", "buy", request_id),
        )
        .await,
        StatusCode::CONFLICT,
        "idempotency_conflict",
    )
    .await;
    let demo = tenant(&app.db, "demo").await;
    assert_invariants(&app.db, demo).await;
}

/// Polls every future until all are done, so the requests are in flight at the same time
/// (`join_all` without another dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    use std::task::Poll;
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, future) in out.iter_mut().zip(pending.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

#[tokio::test]
async fn a_purchase_that_does_not_fit_the_balance_is_refused_unless_the_isp_sells_on_credit() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let demo = tenant(&db, "demo").await;
    let who = subscriber(&db, demo, "400001", 100_000).await;
    let now = at(2030, 11, 10);
    let refused = place(&db, demo, who, ROUTER, OrderMode::Buy, now).await;
    assert!(
        matches!(refused, Err(BillingError::InsufficientBalance { .. })),
        "{refused:?}"
    );
    assert_eq!(
        balance(&db, demo, who).await,
        (100_000, AccountStatus::Active)
    );

    let mut tx = db.db.tenant_tx(demo).await.expect("tx");
    let mut rules = billing_settings(&mut tx).await.expect("rules");
    rules.equipment_on_credit = true;
    set_billing_settings(&mut tx, &rules).await.expect("rules");
    tx.commit().await.expect("commit");
    place(&db, demo, who, ROUTER, OrderMode::Buy, now)
        .await
        .expect("sold on credit");
    assert_eq!(
        balance(&db, demo, who).await,
        (100_000 - ROUTER_PRICE, AccountStatus::Blocked),
        "the status follows the balance at once"
    );
    // A blocked account orders nothing more.
    assert!(matches!(
        place(&db, demo, who, "patch-cord-5m", OrderMode::Buy, now).await,
        Err(BillingError::NotActive)
    ));
    assert_invariants(&db, demo).await;
}

#[tokio::test]
async fn renting_charges_the_rest_of_the_month_now_and_the_rent_once_per_month_after() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let demo = tenant(&db, "demo").await;
    let who = subscriber(&db, demo, "400002", 1_000_000).await;
    // November has 30 days: from the 16th, 15 days are left.
    let order = place(&db, demo, who, ROUTER, OrderMode::Rent, at(2030, 11, 16))
        .await
        .expect("rented");
    let key = format!("charge:rent:{order}:");
    assert_eq!(charges(&db, &key).await, (1, ROUTER_RENT / 2));

    // The month's run (again and again) does not charge November a second time.
    run_month(&db, demo, "2030-11").await;
    run_month(&db, demo, "2030-11").await;
    assert_eq!(charges(&db, &key).await, (1, ROUTER_RENT / 2));

    // December: once, whatever reruns and parallel nodes do.
    run_month(&db, demo, "2030-12").await;
    let runs = (0..4).map(|_| {
        let pool = db.db.clone();
        tokio::spawn(async move {
            let mut tx = pool.tenant_tx(demo).await.expect("tx");
            run_monthly_charges(&mut tx, BillingMonth::parse("2030-12").expect("month"))
                .await
                .expect("run");
            tx.commit().await.expect("commit");
        })
    });
    for run in runs {
        run.await.expect("join");
    }
    assert_eq!(charges(&db, &key).await, (2, ROUTER_RENT / 2 + ROUTER_RENT));
    // January from four nodes at once, never run before: still once.
    let runs = (0..4).map(|_| {
        let pool = db.db.clone();
        tokio::spawn(async move {
            let mut tx = pool.tenant_tx(demo).await.expect("tx");
            run_monthly_charges(&mut tx, BillingMonth::parse("2031-01").expect("month"))
                .await
                .expect("run");
            tx.commit().await.expect("commit");
        })
    });
    for run in runs {
        run.await.expect("join");
    }
    assert_eq!(
        charges(&db, &key).await,
        (3, ROUTER_RENT / 2 + 2 * ROUTER_RENT)
    );
    // A month before the rental began charges nothing.
    run_month(&db, demo, "2030-10").await;
    assert_eq!(charges(&db, &key).await.0, 3);
    assert_invariants(&db, demo).await;
}

#[tokio::test]
async fn cancelling_gives_everything_back_and_a_returned_rental_stops_its_rent() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let demo = tenant(&db, "demo").await;
    let owner = staff_id(&db, demo, "owner@demo.example").await;
    let who = subscriber(&db, demo, "400003", 2_000_000).await;
    let start = balance(&db, demo, who).await.0;

    // The subscriber cancels a new purchase: the price comes back, once.
    let bought = place(&db, demo, who, ROUTER, OrderMode::Buy, at(2030, 11, 3))
        .await
        .expect("bought");
    assert_eq!(balance(&db, demo, who).await.0, start - ROUTER_PRICE);
    let mut tx = db.db.tenant_tx(demo).await.expect("tx");
    let change = cancel_order(&mut tx, who, bought, at(2030, 11, 3))
        .await
        .expect("cancel");
    tx.commit().await.expect("commit");
    assert_eq!(change.refunded.minor, ROUTER_PRICE);
    let mut tx = db.db.tenant_tx(demo).await.expect("tx");
    let again = cancel_order(&mut tx, who, bought, at(2030, 11, 3))
        .await
        .expect("a repeat is no error");
    tx.commit().await.expect("commit");
    assert!(!again.changed && again.refunded.minor == 0);
    assert_eq!(balance(&db, demo, who).await.0, start);

    // Staff cancel a confirmed rental that ran over a month boundary: both months come back.
    let rental = place(
        &db,
        demo,
        who,
        "iptv-box",
        OrderMode::Rent,
        at(2030, 11, 21),
    )
    .await
    .expect("rented");
    move_to(
        &db,
        demo,
        rental,
        OrderStatus::Confirmed,
        owner,
        at(2030, 11, 22),
    )
    .await
    .expect("confirmed");
    run_month(&db, demo, "2030-12").await;
    let rent_paid = charges(&db, &format!("charge:rent:{rental}:")).await;
    assert_eq!(rent_paid.0, 2);
    let refunded = move_to(
        &db,
        demo,
        rental,
        OrderStatus::Cancelled,
        owner,
        at(2030, 12, 2),
    )
    .await
    .expect("cancelled");
    assert_eq!(refunded, rent_paid.1);

    // A rental delivered and then returned on 11 January: the unused days come back, and
    // February charges nothing for it.
    let kept = place(&db, demo, who, ROUTER, OrderMode::Rent, at(2030, 12, 20))
        .await
        .expect("rented");
    for to in [OrderStatus::Confirmed, OrderStatus::Delivered] {
        move_to(&db, demo, kept, to, owner, at(2030, 12, 21))
            .await
            .expect("moved");
    }
    run_month(&db, demo, "2031-01").await;
    let january = BillingMonth::parse("2031-01").expect("month");
    let refunded = move_to(
        &db,
        demo,
        kept,
        OrderStatus::Returned,
        owner,
        at(2031, 1, 11),
    )
    .await
    .expect("returned");
    assert_eq!(refunded, prorate(ROUTER_RENT, january, 12));
    run_month(&db, demo, "2031-02").await;
    assert_eq!(
        charges(&db, &format!("charge:rent:{kept}:")).await.0,
        2,
        "December (part) and January; nothing after the return"
    );
    let mut admin = db.admin().await.expect("admin");
    let stock: Option<i32> =
        sqlx::query_scalar("SELECT stock FROM equipment_items WHERE tenant_id = $1 AND code = $2")
            .bind(demo.as_uuid())
            .bind(ROUTER)
            .fetch_one(&mut admin)
            .await
            .expect("stock");
    assert_eq!(stock, Some(40), "every unit is back in stock");
    assert_invariants(&db, demo).await;
}

#[tokio::test]
async fn orders_move_only_along_their_lifecycle() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let demo = tenant(&db, "demo").await;
    let owner = staff_id(&db, demo, "owner@demo.example").await;
    let who = subscriber(&db, demo, "400004", 2_000_000).await;
    let now = at(2030, 11, 5);
    let illegal = |r: Result<i64, BillingError>| {
        assert!(
            matches!(r, Err(BillingError::IllegalTransition { .. })),
            "{r:?}"
        )
    };

    let bought = place(&db, demo, who, ROUTER, OrderMode::Buy, now)
        .await
        .expect("bought");
    illegal(move_to(&db, demo, bought, OrderStatus::Delivered, owner, now).await);
    illegal(move_to(&db, demo, bought, OrderStatus::Returned, owner, now).await);
    move_to(&db, demo, bought, OrderStatus::Confirmed, owner, now)
        .await
        .expect("confirm");
    // Once confirmed, the subscriber can no longer cancel it themselves.
    let mut tx = db.db.tenant_tx(demo).await.expect("tx");
    assert!(matches!(
        cancel_order(&mut tx, who, bought, now).await,
        Err(BillingError::IllegalTransition { .. })
    ));
    drop(tx);
    move_to(&db, demo, bought, OrderStatus::Installed, owner, now)
        .await
        .expect("installed");
    illegal(move_to(&db, demo, bought, OrderStatus::Cancelled, owner, now).await);
    illegal(move_to(&db, demo, bought, OrderStatus::Returned, owner, now).await);
    illegal(move_to(&db, demo, bought, OrderStatus::New, owner, now).await);
    // Repeating the current status is no error and changes nothing.
    assert_eq!(
        move_to(&db, demo, bought, OrderStatus::Installed, owner, now)
            .await
            .expect("a repeat is no error"),
        0
    );

    let rented = place(&db, demo, who, ROUTER, OrderMode::Rent, now)
        .await
        .expect("rented");
    move_to(&db, demo, rented, OrderStatus::Cancelled, owner, now)
        .await
        .expect("cancelled");
    for to in [
        OrderStatus::Confirmed,
        OrderStatus::Delivered,
        OrderStatus::Returned,
    ] {
        illegal(move_to(&db, demo, rented, to, owner, now).await);
    }
    // Someone else's order reads as missing.
    let other = subscriber(&db, demo, "400005", 0).await;
    let mut tx = db.db.tenant_tx(demo).await.expect("tx");
    assert!(matches!(
        cancel_order(&mut tx, other, bought, now).await,
        Err(BillingError::NoOrder)
    ));
    drop(tx);
    let mut admin = db.admin().await.expect("admin");
    let steps: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM equipment_order_events WHERE order_id = $1 ORDER BY at, id",
    )
    .bind(bought)
    .fetch_all(&mut admin)
    .await
    .expect("history");
    assert_eq!(steps, vec!["new", "confirmed", "installed"]);
    assert_invariants(&db, demo).await;
}

#[tokio::test]
async fn staff_move_orders_through_the_console_with_permission_and_an_audit_trail() {
    let app = TestApp::spawn().await.expect("app");
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let before = dashboard_balance(&ivan).await;
    let order = json_body(
        ivan.post(
            "/api/v1/me/equipment-orders",
            &order_body(ROUTER, "rent", Uuid::now_v7()),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = order["id"].as_str().expect("id");
    let charged = order["charged"]["minor"].as_i64().expect("charged");
    assert_eq!(dashboard_balance(&ivan).await, before - charged);

    // The read-only role sees the queue but moves nothing; NorthNet's staff see nothing.
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    let page = json_body(
        viewer
            .get("/api/v1/console/equipment-orders?status=new")
            .await,
        StatusCode::OK,
    )
    .await;
    let row = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|o| o["id"] == id)
        .expect("the order is queued")
        .clone();
    assert_eq!(row["account_number"], "100001");
    assert_eq!(row["next_statuses"], json!(["confirmed", "cancelled"]));
    let confirm = json!({"status": "confirmed", "note": "Привезём в четверг"});
    assert_problem(
        viewer
            .post(
                &format!("/api/v1/console/equipment-orders/{id}/status"),
                &confirm,
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        north
            .get(&format!("/api/v1/console/equipment-orders/{id}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        north
            .post(
                &format!("/api/v1/console/equipment-orders/{id}/status"),
                &confirm,
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let listed = json_body(
        north.get("/api/v1/console/equipment-orders").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|o| o["id"] != id)
    );

    // The support agent confirms and delivers; illegal moves are refused with a stable code.
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    assert_problem(
        agent
            .post(
                &format!("/api/v1/console/equipment-orders/{id}/status"),
                &json!({"status": "delivered", "note": ""}),
            )
            .await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    let moved = json_body(
        agent
            .post(
                &format!("/api/v1/console/equipment-orders/{id}/status"),
                &confirm,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["changed"], true);
    assert_eq!(moved["order"]["status"], "confirmed");
    let moved = json_body(
        agent
            .post(
                &format!("/api/v1/console/equipment-orders/{id}/status"),
                &json!({"status": "delivered", "note": "Установлен, настроен Wi-Fi"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        moved["order"]["next_statuses"],
        json!(["installed", "returned"])
    );
    let history = moved["order"]["history"].as_array().expect("history");
    assert_eq!(history.len(), 3);
    assert_eq!(history[2]["actor"], "staff");
    assert_eq!(history[2]["actor_name"], "Сергей Агентов");
    assert_eq!(history[2]["note"], "Установлен, настроен Wi-Fi");

    // The subscriber follows it and can no longer cancel.
    let mine = json_body(
        ivan.get(&format!("/api/v1/me/equipment-orders/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["status"], "delivered");
    assert_eq!(mine["can_cancel"], false);
    assert_problem(
        ivan.post(
            &format!("/api/v1/me/equipment-orders/{id}/cancel"),
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    // NorthNet's subscriber cannot see it, nor order demo's items.
    let aino = app.subscriber("northnet.localhost", "200001").await;
    assert_problem(
        aino.get(&format!("/api/v1/me/equipment-orders/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        aino.post(
            "/api/v1/me/equipment-orders",
            &order_body("iptv-box", "rent", Uuid::now_v7()),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_equipment",
    )
    .await;
    let theirs = json_body(aino.get("/api/v1/me/equipment").await, StatusCode::OK).await;
    assert!(theirs["items"].as_array().expect("items").iter().all(
        |i| i["purchase_price"]["currency"] != "RUB" && i["monthly_rent"]["currency"] != "RUB"
    ));

    let mut admin = app.db.admin().await.expect("admin");
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT details->>'to' FROM audit_log WHERE action = 'equipment_order.status' AND target = $1 ORDER BY at",
    )
    .bind(format!("equipment_order:{id}"))
    .fetch_all(&mut admin)
    .await
    .expect("audit");
    assert_eq!(audited, vec!["confirmed", "delivered"]);
    let demo = tenant(&app.db, "demo").await;
    assert_invariants(&app.db, demo).await;
}

#[tokio::test]
async fn the_staff_queue_pages_by_keyset_and_filters_by_status() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    top_up(&owner, "100001", 100_000).await;
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let mut placed = Vec::new();
    for _ in 0..5 {
        let order = json_body(
            ivan.post(
                "/api/v1/me/equipment-orders",
                &order_body("patch-cord-5m", "buy", Uuid::now_v7()),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        placed.push(order["id"].as_str().expect("id").to_owned());
    }
    let cancelled = &placed[1];
    json_body(
        ivan.post(
            &format!("/api/v1/me/equipment-orders/{cancelled}/cancel"),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(c) => format!("/api/v1/console/equipment-orders?limit=2&after={c}"),
            None => "/api/v1/console/equipment-orders?limit=2".to_owned(),
        };
        let page = json_body(owner.get(&url).await, StatusCode::OK).await;
        for o in page["items"].as_array().expect("items") {
            seen.push(o["id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    let newest_first: Vec<String> = placed.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    let only = json_body(
        owner
            .get("/api/v1/console/equipment-orders?status=cancelled")
            .await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = only["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, vec![cancelled.as_str()]);
    assert_problem(
        owner
            .get("/api/v1/console/equipment-orders?after=garbage")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
}
