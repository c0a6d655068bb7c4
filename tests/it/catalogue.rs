//! The catalogue editors in the console: tariffs, add-ons and equipment created, edited and
//! archived by staff, what subscribers then see, the next charge after a price change, the
//! permission, isolation between ISPs and the audit trail.

use kabinet_billing::{BillingMonth, run_monthly_charges};
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

const TARIFFS: &str = "/api/v1/console/catalogue/tariffs";
const ADDONS: &str = "/api/v1/console/catalogue/addons";
const EQUIPMENT: &str = "/api/v1/console/catalogue/equipment";

async fn demo(app: &TestApp) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
            .fetch_one(&mut admin)
            .await
            .expect("demo"),
    )
}

async fn items(client: &Client, path: &str) -> Vec<Value> {
    json_body(client.get(path).await, StatusCode::OK).await["items"]
        .as_array()
        .expect("items")
        .clone()
}

fn find<'a>(items: &'a [Value], code: &str) -> Option<&'a Value> {
    items.iter().find(|i| i["code"] == code)
}

fn codes(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["code"].as_str().expect("code").to_owned())
        .collect()
}

/// The audit entries of `target`, oldest first: (action, details).
async fn audit_of(app: &TestApp, target: &str) -> Vec<(String, Value)> {
    let mut admin = app.db.admin().await.expect("admin");
    sqlx::query_as("SELECT action, details FROM audit_log WHERE target = $1 ORDER BY seq")
        .bind(target)
        .fetch_all(&mut admin)
        .await
        .expect("audit")
}

#[tokio::test]
async fn staff_create_edit_and_archive_tariffs_and_subscribers_see_the_offer() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;

    let list = json_body(owner.get(TARIFFS).await, StatusCode::OK).await;
    assert_eq!(list["currency"], "RUB");
    let home = find(list["items"].as_array().expect("items"), "home-100")
        .expect("home-100")
        .clone();
    assert_eq!(home["subscribers"], 1, "Ivan is on home-100");
    assert_eq!(home["active"], true);

    let created = json_body(
        owner
            .post(
                TARIFFS,
                &json!({"code": "giga-1000", "name": "  Гига 1000 ", "monthly_price_minor": 129_900,
                        "speed_mbps": 1000, "upload_speed_mbps": 500}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["name"], "Гига 1000");
    assert_eq!(
        created["monthly_price"],
        json!({"minor": 129_900, "currency": "RUB"})
    );
    assert_eq!(created["subscribers"], 0);

    // Validation: a taken code, a bad code, a bad price, a bad speed.
    let body = |code: &str, price: i64, speed: i64| json!({"code": code, "name": "X", "monthly_price_minor": price, "speed_mbps": speed});
    let refusals = [
        (
            body("giga-1000", 100, 10),
            StatusCode::CONFLICT,
            "duplicate_code",
        ),
        (
            body("home-100", 100, 10),
            StatusCode::CONFLICT,
            "duplicate_code",
        ),
        (
            body("Giga 2", 100, 10),
            StatusCode::BAD_REQUEST,
            "invalid_code",
        ),
        (
            body("giga-2", -1, 10),
            StatusCode::BAD_REQUEST,
            "invalid_price",
        ),
        (
            body("giga-2", 100, 0),
            StatusCode::BAD_REQUEST,
            "invalid_speed",
        ),
    ];
    for (body, status, code) in refusals {
        assert_problem(owner.post(TARIFFS, &body).await, status, code).await;
    }
    assert_problem(
        owner
            .post(
                TARIFFS,
                &json!({"code": "giga-2", "name": " ", "monthly_price_minor": 1, "speed_mbps": 1}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_name",
    )
    .await;

    let offer = json_body(ivan.get("/api/v1/me/tariffs").await, StatusCode::OK).await;
    let offered = offer["items"].as_array().expect("items");
    assert_eq!(
        find(offered, "giga-1000").expect("offered")["monthly_price"]["minor"],
        129_900
    );

    // An edit shows at once.
    let edited = json_body(
        owner
            .put(
                &format!("{TARIFFS}/{id}"),
                &json!({"name": "Гига", "monthly_price_minor": 99_900, "speed_mbps": 1000, "upload_speed_mbps": null}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["monthly_price"]["minor"], 99_900);
    assert!(edited.get("upload_speed_mbps").is_none());
    let offer = json_body(ivan.get("/api/v1/me/tariffs").await, StatusCode::OK).await;
    let giga = find(offer["items"].as_array().expect("items"), "giga-1000").expect("giga");
    assert_eq!(giga["name"], "Гига");
    assert_eq!(giga["monthly_price"]["minor"], 99_900);

    // Archived: not offered, and not a tariff to change to.
    let archived = json_body(
        owner
            .post(&format!("{TARIFFS}/{id}/archive"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(archived["active"], false);
    let offer = json_body(ivan.get("/api/v1/me/tariffs").await, StatusCode::OK).await;
    assert!(!codes(offer["items"].as_array().expect("items")).contains(&"giga-1000".into()));
    assert_problem(
        ivan.post("/api/v1/me/tariff", &json!({"code": "giga-1000"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_tariff",
    )
    .await;
    // Archiving again changes nothing and is not audited twice.
    json_body(
        owner
            .post(&format!("{TARIFFS}/{id}/archive"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    json_body(
        owner
            .post(&format!("{TARIFFS}/{id}/unarchive"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let offer = json_body(ivan.get("/api/v1/me/tariffs").await, StatusCode::OK).await;
    assert!(codes(offer["items"].as_array().expect("items")).contains(&"giga-1000".into()));

    let trail = audit_of(&app, &format!("tariff:{id}")).await;
    let actions: Vec<&str> = trail.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "catalogue.tariff.create",
            "catalogue.tariff.update",
            "catalogue.tariff.archive",
            "catalogue.tariff.unarchive"
        ]
    );
    let update = &trail[1].1;
    assert_eq!(update["before"]["monthly_price_minor"], 129_900);
    assert_eq!(update["after"]["monthly_price_minor"], 99_900);
    assert_eq!(update["before"]["upload_speed_mbps"], 500);
    assert_eq!(trail[2].1["before"]["active"], true);
    assert_eq!(trail[2].1["after"]["active"], false);
}

#[tokio::test]
async fn subscribers_keep_an_archived_tariff_and_the_last_tariff_on_offer_stays() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;

    let tariffs = items(&owner, TARIFFS).await;
    let offered: Vec<&Value> = tariffs.iter().filter(|t| t["active"] == true).collect();
    assert!(offered.len() >= 2, "{tariffs:?}");
    let (last, rest) = offered.split_last().expect("tariffs");
    for t in rest {
        json_body(
            owner
                .post(
                    &format!("{TARIFFS}/{}/archive", t["id"].as_str().expect("id")),
                    &json!({}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
    }
    assert_problem(
        owner
            .post(
                &format!("{TARIFFS}/{}/archive", last["id"].as_str().expect("id")),
                &json!({}),
            )
            .await,
        StatusCode::CONFLICT,
        "last_tariff",
    )
    .await;

    // Ivan's home-100 is archived (unless it is the one left) and still his.
    let offer = json_body(ivan.get("/api/v1/me/tariffs").await, StatusCode::OK).await;
    assert_eq!(offer["current_code"], "home-100");
    assert_eq!(
        codes(offer["items"].as_array().expect("items")),
        [last["code"].as_str().expect("code")]
    );
    let home = find(&items(&owner, TARIFFS).await, "home-100")
        .expect("home")
        .clone();
    assert_eq!(home["subscribers"], 1);
}

#[tokio::test]
async fn a_new_price_is_charged_from_the_next_charge_and_past_charges_stay() {
    let app = TestApp::spawn().await.expect("app");
    let tenant = demo(&app).await;
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let home = find(&items(&owner, TARIFFS).await, "home-100")
        .expect("home")
        .clone();
    let id = home["id"].as_str().expect("id").to_owned();
    assert_eq!(home["monthly_price"]["minor"], 55_000);

    let charge = |month: BillingMonth| {
        let db = app.db.db.clone();
        async move {
            let mut tx = db.tenant_tx(tenant).await.expect("tx");
            run_monthly_charges(&mut tx, month).await.expect("run");
            tx.commit().await.expect("commit");
        }
    };
    let charged = |month: &'static str| {
        let app = &app;
        async move {
            let mut admin = app.db.admin().await.expect("admin");
            let amounts: Vec<i64> = sqlx::query_scalar(
                "SELECT -e.amount_minor FROM ledger_transactions t \
                 JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id \
                   AND e.subscriber_id IS NOT NULL \
                 JOIN subscribers s ON s.tenant_id = t.tenant_id AND s.id = t.subscriber_id \
                 WHERE t.tenant_id = $1 AND s.account_number = '100001' \
                   AND t.idempotency_key LIKE 'charge:tariff:%:' || $2",
            )
            .bind(tenant.as_uuid())
            .bind(month)
            .fetch_all(&mut admin)
            .await
            .expect("charges");
            amounts
        }
    };

    let january = BillingMonth {
        year: 2027,
        month: 1,
    };
    let february = BillingMonth {
        year: 2027,
        month: 2,
    };
    charge(january).await;
    assert_eq!(charged("2027-01").await, [55_000]);

    json_body(
        owner
            .put(
                &format!("{TARIFFS}/{id}"),
                &json!({"name": home["name"], "monthly_price_minor": 60_000, "speed_mbps": 100}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // January was charged at the old price and stays so, even when the run repeats.
    charge(january).await;
    assert_eq!(charged("2027-01").await, [55_000]);
    charge(february).await;
    assert_eq!(charged("2027-02").await, [60_000]);
}

#[tokio::test]
async fn staff_edit_add_ons_and_equipment_and_subscribers_see_the_offer() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;

    // Add-ons.
    let kino = json_body(
        owner
            .post(
                ADDONS,
                &json!({"code": "kino", "name": "Кинозал", "description": "Фильмы и сериалы", "monthly_price_minor": 19_900}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let kino_id = kino["id"].as_str().expect("id").to_owned();
    assert_problem(
        owner
            .post(
                ADDONS,
                &json!({"code": "iptv", "name": "X", "monthly_price_minor": 1}),
            )
            .await,
        StatusCode::CONFLICT,
        "duplicate_code",
    )
    .await;
    assert_problem(
        owner
            .post(
                ADDONS,
                &json!({"code": "x", "name": "X", "monthly_price_minor": 10_000_000_000_i64}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_price",
    )
    .await;
    json_body(
        owner
            .put(
                &format!("{ADDONS}/{kino_id}"),
                &json!({"name": "Кинозал+", "monthly_price_minor": 24_900}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let mine = json_body(ivan.get("/api/v1/me/addons").await, StatusCode::OK).await;
    let offered = find(mine["items"].as_array().expect("items"), "kino").expect("kino");
    assert_eq!(offered["name"], "Кинозал+");
    assert_eq!(offered["monthly_price"]["minor"], 24_900);
    assert_eq!(offered["description"], "");

    // Ivan connects it; archived, it stays his but nobody else can connect it.
    json_body(
        ivan.post("/api/v1/me/addons/kino", &json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    let archived = json_body(
        owner
            .post(&format!("{ADDONS}/{kino_id}/archive"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(archived["subscribers"], 1);
    let mine = json_body(ivan.get("/api/v1/me/addons").await, StatusCode::OK).await;
    assert!(find(mine["items"].as_array().expect("items"), "kino").is_some());
    let iptv_id = find(&items(&owner, ADDONS).await, "iptv").expect("iptv")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    json_body(
        owner
            .post(&format!("{ADDONS}/{iptv_id}/archive"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        ivan.post("/api/v1/me/addons/iptv", &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_addon",
    )
    .await;
    let trail = audit_of(&app, &format!("addon:{kino_id}")).await;
    let actions: Vec<&str> = trail.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "catalogue.addon.create",
            "catalogue.addon.update",
            "catalogue.addon.archive"
        ]
    );
    assert_eq!(trail[1].1["before"]["monthly_price_minor"], 19_900);
    assert_eq!(trail[1].1["after"]["monthly_price_minor"], 24_900);

    // Equipment.
    let router = json_body(
        owner
            .post(
                EQUIPMENT,
                &json!({"code": "wifi7-router", "kind": "router", "name": "Wi-Fi 7 роутер",
                        "purchase_price_minor": 1_290_000, "stock": 3}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let router_id = router["id"].as_str().expect("id").to_owned();
    assert!(router.get("monthly_rent").is_none());
    assert_problem(
        owner
            .post(
                EQUIPMENT,
                &json!({"code": "nothing", "kind": "other", "name": "X"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_price",
    )
    .await;
    assert_problem(
        owner
            .post(
                EQUIPMENT,
                &json!({"code": "neg", "kind": "cable", "name": "X", "purchase_price_minor": 1, "stock": -1}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_stock",
    )
    .await;
    let catalogue = json_body(ivan.get("/api/v1/me/equipment").await, StatusCode::OK).await;
    let offered = find(
        catalogue["items"].as_array().expect("items"),
        "wifi7-router",
    )
    .expect("router");
    assert_eq!(offered["purchase_price"]["minor"], 1_290_000);

    json_body(
        owner
            .put(
                &format!("{EQUIPMENT}/{router_id}"),
                &json!({"kind": "router", "name": "Wi-Fi 7 роутер", "monthly_rent_minor": 39_900, "stock": null}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let catalogue = json_body(ivan.get("/api/v1/me/equipment").await, StatusCode::OK).await;
    let offered = find(
        catalogue["items"].as_array().expect("items"),
        "wifi7-router",
    )
    .expect("router");
    assert!(offered.get("purchase_price").is_none() || offered["purchase_price"].is_null());
    assert_eq!(offered["monthly_rent"]["minor"], 39_900);

    json_body(
        owner
            .post(&format!("{EQUIPMENT}/{router_id}/archive"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let catalogue = json_body(ivan.get("/api/v1/me/equipment").await, StatusCode::OK).await;
    assert!(
        find(
            catalogue["items"].as_array().expect("items"),
            "wifi7-router"
        )
        .is_none()
    );
    let trail = audit_of(&app, &format!("equipment_item:{router_id}")).await;
    let actions: Vec<&str> = trail.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "catalogue.equipment.create",
            "catalogue.equipment.update",
            "catalogue.equipment.archive"
        ]
    );
    assert_eq!(trail[1].1["before"]["purchase_price_minor"], 1_290_000);
    assert!(trail[1].1["after"]["purchase_price_minor"].is_null());
}

#[tokio::test]
async fn the_catalogue_needs_its_permission_and_stays_within_the_isp() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    let northnet = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;

    let home_id = find(&items(&owner, TARIFFS).await, "home-100").expect("home")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let iptv_id = find(&items(&owner, ADDONS).await, "iptv").expect("iptv")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let tariff = json!({"code": "x-1", "name": "X", "monthly_price_minor": 1, "speed_mbps": 1});
    for staff in [&agent, &viewer] {
        for path in [TARIFFS, ADDONS, EQUIPMENT] {
            assert_problem(staff.get(path).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
        assert_problem(
            staff.post(TARIFFS, &tariff).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            staff
                .post(&format!("{TARIFFS}/{home_id}/archive"), &json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }

    // Another ISP's owner neither sees nor touches the demo ISP's items.
    let theirs = items(&northnet, TARIFFS).await;
    assert!(find(&theirs, "home-100").is_none(), "{theirs:?}");
    assert_problem(
        northnet
            .put(
                &format!("{TARIFFS}/{home_id}"),
                &json!({"name": "Взлом", "monthly_price_minor": 1, "speed_mbps": 1}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        northnet
            .post(&format!("{TARIFFS}/{home_id}/archive"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        northnet
            .post(&format!("{ADDONS}/{iptv_id}/archive"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The same code is free in another ISP.
    json_body(
        northnet
            .post(
                TARIFFS,
                &json!({"code": "home-100", "name": "Koti", "monthly_price_minor": 2_990, "speed_mbps": 100}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let home = find(&items(&owner, TARIFFS).await, "home-100")
        .expect("home")
        .clone();
    assert_eq!(home["active"], true);
    assert_eq!(home["monthly_price"]["minor"], 55_000);
    let mut admin = app.db.admin().await.expect("admin");
    let denied: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action LIKE 'catalogue.%' AND target = $1",
    )
    .bind(format!("tariff:{home_id}"))
    .fetch_one(&mut admin)
    .await
    .expect("audit");
    assert_eq!(denied, 0);
}
