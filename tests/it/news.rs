//! News and promotions: scheduling, expiry, targeting by tariff and language, the dashboard,
//! the staff editor with its permission and audit trail, isolation between ISPs.

use chrono::{Duration, Utc};
use kabinet_cabinet::news::{Audience, feed};
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;

fn post(title: &str, publish_in_minutes: i64) -> Value {
    json!({
        "kind": "news",
        "title": title,
        "body": "Текст новости.\n\nВторой абзац с **важным**.",
        "publish_at": Utc::now() + Duration::minutes(publish_in_minutes),
        "target_tariffs": [],
        "pinned": false,
    })
}

async fn create(editor: &Client, body: &Value) -> String {
    let created = json_body(
        editor.post("/api/v1/console/news", body).await,
        StatusCode::CREATED,
    )
    .await;
    created["id"].as_str().expect("id").to_owned()
}

async fn feed_titles(client: &Client, query: &str) -> Vec<String> {
    let page = json_body(
        client.get(&format!("/api/v1/me/news{query}")).await,
        StatusCode::OK,
    )
    .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["title"].as_str().expect("title").to_owned())
        .collect()
}

async fn demo(app: &TestApp) -> TenantId {
    let mut admin = app.db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
            .fetch_one(&mut admin)
            .await
            .expect("demo"),
    )
}

#[tokio::test]
async fn scheduled_news_appears_at_its_time_and_expired_news_disappears() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;

    let scheduled = create(&owner, &post("Скоро: новый тариф", 60)).await;
    let mut expired = post("Акция закончилась", -120);
    expired["expires_at"] = json!(Utc::now() - Duration::minutes(1));
    let expired = create(&owner, &expired).await;
    let current = create(&owner, &post("Сейчас в эфире", -1)).await;

    let titles = feed_titles(&ivan, "").await;
    assert!(titles.contains(&"Сейчас в эфире".to_owned()), "{titles:?}");
    assert!(!titles.contains(&"Скоро: новый тариф".to_owned()));
    assert!(!titles.contains(&"Акция закончилась".to_owned()));
    for hidden in [&scheduled, &expired] {
        assert_problem(
            ivan.get(&format!("/api/v1/me/news/{hidden}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let shown = json_body(
        ivan.get(&format!("/api/v1/me/news/{current}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(shown["kind"], "news");
    assert!(shown["body"].as_str().expect("body").contains("**важным**"));

    // An hour later the scheduled post is in the feed, as the domain reads it at that time.
    let tenant = demo(&app).await;
    let mut tx = app.db.db.tenant_tx(tenant).await.expect("tx");
    let audience = Audience {
        tariff: Some("home-100".into()),
        locale: None,
    };
    let later = feed(
        &mut tx,
        &audience,
        Utc::now() + Duration::minutes(61),
        None,
        100,
    )
    .await
    .expect("feed");
    assert!(later.items.iter().any(|p| p.id.to_string() == scheduled));
    drop(tx);

    // Staff see every post with its state.
    let all = json_body(owner.get("/api/v1/console/news").await, StatusCode::OK).await;
    let state = |id: &str| {
        all["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["state"].clone())
    };
    assert_eq!(state(&scheduled), Some(json!("scheduled")));
    assert_eq!(state(&expired), Some(json!("expired")));
    assert_eq!(state(&current), Some(json!("published")));
}

#[tokio::test]
async fn posts_reach_only_the_tariffs_and_the_language_they_target() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await; // home-100
    let maria = app.subscriber("demo.localhost", "100002").await; // home-500

    // The demo manifest's night boost is for home-500 only.
    let boost = "Для тарифа «Домашний 500»: ночью до 1 Гбит/с".to_owned();
    assert!(!feed_titles(&ivan, "").await.contains(&boost));
    assert!(feed_titles(&maria, "").await.contains(&boost));

    let mut for_100 = post("Только для «Домашний 100»", -1);
    for_100["target_tariffs"] = json!(["home-100"]);
    create(&owner, &for_100).await;
    let mut english = post("English only", -1);
    english["locale"] = json!("en");
    create(&owner, &english).await;

    let ivan_ru = feed_titles(&ivan, "?lang=ru").await;
    assert!(ivan_ru.contains(&"Только для «Домашний 100»".to_owned()));
    assert!(!ivan_ru.contains(&"English only".to_owned()));
    assert!(
        feed_titles(&ivan, "?lang=en")
            .await
            .contains(&"English only".to_owned())
    );
    assert!(
        !feed_titles(&maria, "")
            .await
            .contains(&"Только для «Домашний 100»".to_owned())
    );

    // Unknown tariffs and a window that ends before it starts are refused.
    let mut unknown = post("x", 0);
    unknown["target_tariffs"] = json!(["gold-1000"]);
    assert_problem(
        owner.post("/api/v1/console/news", &unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_tariff",
    )
    .await;
    let mut backwards = post("x", 0);
    backwards["expires_at"] = json!(Utc::now() - Duration::days(1));
    assert_problem(
        owner.post("/api/v1/console/news", &backwards).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    let mut ancient = post("x", 0);
    ancient["publish_at"] = json!("1900-01-01T00:00:00Z");
    assert_problem(
        owner.post("/api/v1/console/news", &ancient).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    // The editor offers the ISP's tariffs to aim at.
    let targets = json_body(
        owner.get("/api/v1/console/news/tariffs").await,
        StatusCode::OK,
    )
    .await;
    let codes: Vec<&str> = targets["tariffs"]
        .as_array()
        .expect("tariffs")
        .iter()
        .filter_map(|t| t["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["home-100", "home-500"]);
    let mut blank = post("   ", 0);
    blank["title"] = json!("   ");
    assert_problem(
        owner.post("/api/v1/console/news", &blank).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
}

#[tokio::test]
async fn the_dashboard_shows_the_latest_three_posts_pinned_first() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;
    // Published now, one after the other: newer than the manifest's posts.
    for i in 0..4 {
        create(&owner, &post(&format!("Новость {i}"), 0)).await;
    }
    let dashboard = json_body(
        ivan.get("/api/v1/me/dashboard?lang=ru").await,
        StatusCode::OK,
    )
    .await;
    let latest = dashboard["latest_news"].as_array().expect("latest_news");
    let titles: Vec<&str> = latest.iter().filter_map(|p| p["title"].as_str()).collect();
    assert_eq!(
        titles,
        vec![
            "Wi-Fi 6 роутер в аренду — 199 ₽ в месяц",
            "Новость 3",
            "Новость 2"
        ]
    );
    assert_eq!(latest[0]["pinned"], true);
    assert_eq!(latest[0]["kind"], "promotion");
}

#[tokio::test]
async fn the_feed_pages_by_keyset_without_gaps_or_repeats() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;
    for i in 0..7 {
        create(&owner, &post(&format!("Пост {i}"), -100 + i)).await;
    }
    let everything = feed_titles(&ivan, "?limit=100").await;
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(c) => format!("/api/v1/me/news?limit=3&after={c}"),
            None => "/api/v1/me/news?limit=3".to_owned(),
        };
        let page = json_body(ivan.get(&url).await, StatusCode::OK).await;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 3);
        paged.extend(
            items
                .iter()
                .filter_map(|p| p["title"].as_str().map(str::to_owned)),
        );
        match page["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, everything);
    assert_eq!(
        paged.len(),
        9,
        "two manifest posts for home-100 and seven new ones"
    );
    assert_eq!(
        paged[0], "Wi-Fi 6 роутер в аренду — 199 ₽ в месяц",
        "pinned first"
    );
    assert_eq!(paged[2], "Пост 6");
    assert_eq!(paged[8], "Пост 0", "oldest last");
    assert_problem(
        ivan.get("/api/v1/me/news?after=nope").await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
}

#[tokio::test]
async fn staff_edit_take_down_and_restore_posts_with_permission_and_audit() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let id = create(&owner, &post("Черновой заголовок", -1)).await;

    let mut edited = post("Исправленный заголовок", 0);
    edited["kind"] = json!("promotion");
    edited["pinned"] = json!(true);
    let updated = json_body(
        owner
            .put(&format!("/api/v1/console/news/{id}"), &edited)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["title"], "Исправленный заголовок");
    assert_eq!(updated["kind"], "promotion");
    let titles = feed_titles(&ivan, "").await;
    assert_eq!(
        titles.first().map(String::as_str),
        Some("Исправленный заголовок")
    );

    let down = json_body(
        owner
            .post(&format!("/api/v1/console/news/{id}/unpublish"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(down["state"], "unpublished");
    assert!(
        !feed_titles(&ivan, "")
            .await
            .contains(&"Исправленный заголовок".to_owned())
    );
    // Repeating is harmless and writes no second audit entry.
    json_body(
        owner
            .post(&format!("/api/v1/console/news/{id}/unpublish"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let back = json_body(
        owner
            .post(&format!("/api/v1/console/news/{id}/publish"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(back["state"], "published");
    assert!(
        feed_titles(&ivan, "")
            .await
            .contains(&"Исправленный заголовок".to_owned())
    );

    // Roles without news.manage get 403 on every editor route.
    for email in ["agent@demo.example", "viewer@demo.example"] {
        let staff = app.staff("demo.localhost", email).await;
        assert_problem(
            staff.post("/api/v1/console/news", &post("x", 0)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            staff.get("/api/v1/console/news").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert_problem(
            staff
                .post(&format!("/api/v1/console/news/{id}/unpublish"), &json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    // Another ISP's staff and subscribers do not find it.
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        north.get(&format!("/api/v1/console/news/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        north
            .put(&format!("/api/v1/console/news/{id}"), &edited)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let aino = app.subscriber("northnet.localhost", "200001").await;
    assert_problem(
        aino.get(&format!("/api/v1/me/news/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(
        !feed_titles(&aino, "")
            .await
            .contains(&"Исправленный заголовок".to_owned())
    );

    let mut admin = app.db.admin().await.expect("admin");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE target = $1 ORDER BY at, id")
            .bind(format!("news:{id}"))
            .fetch_all(&mut admin)
            .await
            .expect("audit");
    assert_eq!(
        actions,
        vec![
            "news.create",
            "news.update",
            "news.unpublish",
            "news.publish"
        ]
    );
}
