//! Full-text search over tickets and the knowledge base (Russian and English word forms,
//! ranking, highlights, internal notes staff-only, isolation between ISPs), the KB editor's
//! permission and drafts, self-diagnosis and deflection.

use kabinet_db::sqlx;
use kabinet_tests::{Client, TestApp, assert_problem, json, json_body};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

/// Percent-encodes a query parameter value.
fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn staff_search(staff: &Client, q: &str) -> Value {
    json_body(
        staff
            .get(&format!("/api/v1/console/tickets/search?q={}", enc(q)))
            .await,
        StatusCode::OK,
    )
    .await
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| {
            h["ticket"]["id"]
                .as_str()
                .or_else(|| h["article"]["id"].as_str())
                .or_else(|| h["id"].as_str())
                .expect("id")
                .to_owned()
        })
        .collect()
}

fn highlighted(hit: &Value) -> Vec<String> {
    hit["snippet"]
        .as_array()
        .expect("snippet")
        .iter()
        .filter(|p| p["highlighted"] == true)
        .map(|p| p["text"].as_str().expect("text").to_lowercase())
        .collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn russian_and_english_word_forms_match_ranked_with_highlights() {
    let app = TestApp::spawn().await.expect("app");
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;

    let in_subject = ivan
        .open_ticket(
            "connectivity",
            "Нет подключения к сети",
            "Со вчерашнего вечера.",
        )
        .await;
    let in_body = ivan
        .open_ticket(
            "other",
            "Вопрос по договору",
            "Хочу уточнить условия договора, адрес и реквизиты. Кстати, вчера было \
             короткое подключение к чужому роутеру, но это не важно. Ещё вопрос про счёт.",
        )
        .await;
    let english = ivan
        .open_ticket(
            "connectivity",
            "Line drops",
            "The connections keep dropping every evening.",
        )
        .await;
    ivan.open_ticket("tariff", "Смена тарифа", "Хочу тариф быстрее.")
        .await;

    // Russian stemming: "подключение" finds "подключения" and "подключение"; the subject hit
    // (weighted higher, short) ranks above the mention deep in a long message.
    let page = staff_search(&agent, "подключение").await;
    assert_eq!(ids(&page), vec![id(&in_subject), id(&in_body)], "{page}");
    let first = &page["items"][0];
    assert_eq!(first["matched_in"], "subject");
    assert_eq!(highlighted(first), vec!["подключения"], "{first}");
    assert_eq!(page["items"][1]["matched_in"], "message");
    assert_eq!(highlighted(&page["items"][1]), vec!["подключение"]);
    // The snippet is plain text pieces: joined, they are the original words, no markup.
    let joined: String = first["snippet"]
        .as_array()
        .expect("snippet")
        .iter()
        .map(|p| p["text"].as_str().expect("text"))
        .collect();
    assert_eq!(joined, "Нет подключения к сети");

    // English stemming: "connection" finds "connections".
    let page = staff_search(&agent, "connection").await;
    assert_eq!(ids(&page), vec![id(&english)]);
    assert_eq!(highlighted(&page["items"][0]), vec!["connections"]);

    // Web-search syntax: a phrase and an exclusion.
    let page = staff_search(&agent, "подключение -договор").await;
    assert_eq!(ids(&page), vec![id(&in_subject)]);

    // Keyset pages of one walk the same order without repeats.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = json_body(
            agent
                .get(&format!(
                    "/api/v1/console/tickets/search?q={}&limit=1{after}",
                    enc("подключение")
                ))
                .await,
            StatusCode::OK,
        )
        .await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => after = format!("&after={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![id(&in_subject), id(&in_body)]);

    // Bad input is a 4xx, never a 500.
    for (q, status, code) in [
        ("", StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ("%20%20", StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ("a%00b", StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
    ] {
        assert_problem(
            agent
                .get(&format!("/api/v1/console/tickets/search?q={q}"))
                .await,
            status,
            code,
        )
        .await;
    }
    assert_problem(
        agent
            .get("/api/v1/console/tickets/search?q=x&after=garbage")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
    // Stop words only: no lexemes, no hits, no error.
    assert_eq!(
        ids(&staff_search(&agent, "и the").await),
        Vec::<String>::new()
    );
}

/// A phrase needs its words together and in order; rows with the words apart are found by the
/// words, not by the phrase. A negated phrase drops only the rows that hold it (the search
/// loosens phrases to "all these words" to find candidates, and must not do so under a NOT).
#[tokio::test]
async fn a_phrase_needs_its_words_together_and_a_negated_phrase_only_drops_those() {
    let app = TestApp::spawn().await.expect("app");
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let together = ivan
        .open_ticket("connectivity", "Роутер не работает", "С самого утра.")
        .await;
    let apart = ivan
        .open_ticket(
            "other",
            "Вопрос",
            "Не могу понять: роутер сегодня вроде бы снова работает.",
        )
        .await;
    let phrase = ivan
        .open_ticket(
            "equipment",
            "Loop",
            "The router is stuck in a modem reboot loop.",
        )
        .await;
    let words = ivan
        .open_ticket(
            "equipment",
            "Router",
            "The router is fine; a reboot of the modem did not help.",
        )
        .await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    let page = staff_search(&agent, "\"роутер не работает\"").await;
    assert_eq!(ids(&page), vec![id(&together)], "{page}");
    let page = staff_search(&agent, "роутер работает").await;
    assert_eq!(
        sorted(ids(&page)),
        sorted(vec![id(&together), id(&apart)]),
        "{page}"
    );
    let page = staff_search(&agent, "\"modem reboot\"").await;
    assert_eq!(ids(&page), vec![id(&phrase)], "{page}");
    let page = staff_search(&agent, "router -\"modem reboot\"").await;
    assert_eq!(ids(&page), vec![id(&words)], "{page}");
    let page = staff_search(&agent, "router modem reboot").await;
    assert_eq!(
        sorted(ids(&page)),
        sorted(vec![id(&phrase), id(&words)]),
        "{page}"
    );
}

#[tokio::test]
async fn a_common_word_ranks_the_newest_matches_and_pages_through_them_exactly() {
    use kabinet_ticketing::search::{RECENT_MATCHES, SearchQuery, SearchScope, search_tickets};
    let app = TestApp::spawn().await.expect("app");
    let mut admin = app.db.admin().await.expect("admin");
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
        .fetch_one(&mut admin)
        .await
        .expect("tenant");
    // More matching subjects than the bound, minutes apart, three ranks (1–3 repeats of the
    // word), the oldest ones older than any other ticket.
    let extra = 150;
    sqlx::query(
        "INSERT INTO tickets (tenant_id, id, number, subscriber_id, category, subject, status, \
           priority, created_at, updated_at) \
         SELECT $1, gen_random_uuid(), 900000 + g, \
           (SELECT id FROM subscribers WHERE tenant_id = $1 ORDER BY account_number LIMIT 1), \
           'other', repeat('гарантия ', 1 + g % 3) || 'роутер', 'open', 'normal', \
           now() - make_interval(days => 30, mins => g::int), now() - make_interval(days => 30, mins => g::int) \
         FROM generate_series(1, $2::int) g",
    )
    .bind(tenant)
    .bind(RECENT_MATCHES as i32 + extra)
    .execute(&mut admin)
    .await
    .expect("tickets");
    let newest: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM tickets WHERE tenant_id = $1 AND number > 900000 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(tenant)
    .bind(RECENT_MATCHES)
    .fetch_all(&mut admin)
    .await
    .expect("newest");

    let query = SearchQuery::parse("гарантии").expect("query");
    let mut seen: Vec<Uuid> = Vec::new();
    let mut last: Option<(f32, Uuid)> = None;
    let mut after = None;
    let mut pages = 0;
    loop {
        let mut tx = app
            .db
            .db
            .tenant_tx(kabinet_core::TenantId(tenant))
            .await
            .expect("tx");
        let page = search_tickets(&mut tx, SearchScope::Staff, &query, after, 100)
            .await
            .expect("search");
        tx.commit().await.expect("commit");
        pages += 1;
        for hit in &page.items {
            let key = (hit.rank, hit.ticket.id.as_uuid());
            if let Some(prev) = last {
                assert!(
                    key.0 < prev.0 || (key.0 == prev.0 && key.1 < prev.1),
                    "best first, by (rank, id): {prev:?} then {key:?}"
                );
            }
            last = Some(key);
            seen.push(key.1);
            assert!(!hit.snippet.is_empty(), "highlighted");
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Exactly the newest RECENT_MATCHES, each once, over pages of 100 with equal ranks inside.
    assert_eq!(pages, RECENT_MATCHES / 100);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no ticket twice");
    let mut expected = newest.clone();
    expected.sort();
    assert_eq!(sorted, expected);

    // A rarer word still finds an old ticket: the bound is per query, not a time window.
    let oldest: Uuid = sqlx::query_scalar(
        "UPDATE tickets SET subject = 'гарантия на кабель' WHERE tenant_id = $1 AND number = $2 \
         RETURNING id",
    )
    .bind(tenant)
    .bind(900000 + RECENT_MATCHES as i32 + extra)
    .fetch_one(&mut admin)
    .await
    .expect("oldest");
    let mut tx = app
        .db
        .db
        .tenant_tx(kabinet_core::TenantId(tenant))
        .await
        .expect("tx");
    let page = search_tickets(
        &mut tx,
        SearchScope::Staff,
        &SearchQuery::parse("гарантия кабель").expect("query"),
        None,
        20,
    )
    .await
    .expect("search");
    tx.commit().await.expect("commit");
    assert_eq!(
        page.items
            .iter()
            .map(|h| h.ticket.id.as_uuid())
            .collect::<Vec<_>>(),
        vec![oldest]
    );
}

#[tokio::test]
async fn internal_notes_are_found_by_staff_and_never_by_subscribers() {
    let app = TestApp::spawn().await.expect("app");
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let other = app.subscriber("demo.localhost", "100002").await;
    let ticket = ivan
        .open_ticket("payments", "Платёж не дошёл", "Оплатил вчера картой.")
        .await;
    let tid = id(&ticket);
    json_body(
        agent
            .post(
                &format!("/api/v1/console/tickets/{tid}/notes"),
                &json!({"body": "Абонент злостный должник, проверить аккаунт"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    let staff_hits = staff_search(&agent, "должники").await;
    assert_eq!(ids(&staff_hits), vec![tid.clone()]);
    assert_eq!(staff_hits["items"][0]["matched_in"], "note");
    assert_eq!(highlighted(&staff_hits["items"][0]), vec!["должник"]);

    // The subscriber's own search: their message yes, the note never (not even its words).
    let mine = |q: &str| format!("/api/v1/me/tickets/search?q={}", enc(q));
    let found = json_body(ivan.get(&mine("картой")).await, StatusCode::OK).await;
    assert_eq!(ids(&found), vec![tid.clone()]);
    assert_eq!(highlighted(&found["items"][0]), vec!["картой"]);
    for q in [
        "должник",
        "злостный",
        "проверить аккаунт",
        "должник OR картой",
    ] {
        let found = json_body(ivan.get(&mine(q)).await, StatusCode::OK).await;
        let text = found.to_string();
        assert!(!text.contains("должник"), "{q}: {found}");
        assert!(!text.contains("злостный"), "{q}: {found}");
        if q.contains("картой") {
            assert_eq!(found["items"][0]["matched_in"], "message", "{found}");
        } else {
            assert_eq!(ids(&found), Vec::<String>::new(), "{q}");
        }
    }
    // Another subscriber of the same ISP finds nothing of Ivan's.
    let theirs = json_body(other.get(&mine("картой")).await, StatusCode::OK).await;
    assert_eq!(ids(&theirs), Vec::<String>::new());
}

async fn demo_article(app: &TestApp, slug: &str) -> String {
    let mut admin = app.db.admin().await.expect("admin");
    let id: Uuid = sqlx::query_scalar(
        "SELECT a.id FROM kb_articles a JOIN tenants t ON t.id = a.tenant_id \
         WHERE t.slug = 'demo' AND a.slug = $1",
    )
    .bind(slug)
    .fetch_one(&mut admin)
    .await
    .expect("article");
    id.to_string()
}

#[tokio::test]
async fn northnet_never_finds_demo_tickets_or_articles() {
    let app = TestApp::spawn().await.expect("app");
    let ivan = app.subscriber("demo.localhost", "100001").await;
    ivan.open_ticket("connectivity", "Нет подключения", "Роутер мигает.")
        .await;
    let demo_agent = app.staff("demo.localhost", "agent@demo.example").await;
    let north_owner = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    let north_sub = app.subscriber("northnet.localhost", "200001").await;

    assert_eq!(ids(&staff_search(&demo_agent, "роутер").await).len(), 1);
    assert_eq!(
        ids(&staff_search(&north_owner, "роутер").await),
        Vec::<String>::new()
    );

    // Demo's Russian article is demo's alone.
    let demo_kb = demo_article(&app, "no-internet-checklist").await;
    let found = json_body(
        ivan.get(&format!("/api/v1/me/kb/search?q={}", enc("роутер")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(ids(&found).contains(&demo_kb), "{found}");
    let found = json_body(
        north_sub
            .get(&format!("/api/v1/me/kb/search?q={}", enc("роутер")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&found), Vec::<String>::new());
    let listed = json_body(north_sub.get("/api/v1/me/kb").await, StatusCode::OK).await;
    assert!(!ids(&listed).contains(&demo_kb));
    assert!(!ids(&listed).is_empty(), "northnet has articles of its own");
    assert_problem(
        north_sub.get(&format!("/api/v1/me/kb/{demo_kb}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        north_owner
            .get(&format!("/api/v1/console/kb/{demo_kb}"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        north_owner
            .put(
                &format!("/api/v1/console/kb/{demo_kb}"),
                &json!({"title": "x", "body": "y", "locale": "en", "published": true}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A demo article id in a northnet deflection is unknown there.
    assert_problem(
        north_sub
            .post(
                "/api/v1/me/support/deflections",
                &json!({"form_session": Uuid::now_v7(), "kind": "article", "article_id": demo_kb}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

fn article(title: &str, published: bool) -> Value {
    json!({
        "title": title,
        "body": "Первый абзац про **оптический терминал**.\n\n- Проверьте лампочку PON\n- Перезагрузите",
        "locale": "ru",
        "category": "equipment",
        "published": published,
    })
}

#[tokio::test]
async fn kb_drafts_are_staff_only_and_editing_needs_kb_manage() {
    let app = TestApp::spawn().await.expect("app");
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    let ivan = app.subscriber("demo.localhost", "100001").await;

    // The built-in decision: owners, admins and support agents write articles; read-only
    // staff may not even list them (drafts are internal).
    for resp in [
        viewer.get("/api/v1/console/kb").await,
        viewer.get("/api/v1/console/kb/search?q=x").await,
        viewer
            .post("/api/v1/console/kb", &article("Оптика", true))
            .await,
    ] {
        assert_problem(resp, StatusCode::FORBIDDEN, "forbidden").await;
    }

    let draft = json_body(
        agent
            .post("/api/v1/console/kb", &article("Терминал не горит", false))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let aid = id(&draft);
    assert!(draft["published_at"].is_null());
    // Staff find drafts; subscribers do not, by list, search or id.
    let staff_found = json_body(
        agent
            .get(&format!(
                "/api/v1/console/kb/search?q={}",
                enc("оптического")
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&staff_found), vec![aid.clone()]);
    let sub_search = format!("/api/v1/me/kb/search?q={}", enc("оптического"));
    let found = json_body(ivan.get(&sub_search).await, StatusCode::OK).await;
    assert_eq!(ids(&found), Vec::<String>::new());
    let listed = json_body(ivan.get("/api/v1/me/kb").await, StatusCode::OK).await;
    assert!(!ids(&listed).contains(&aid));
    let manifest_draft = demo_article(&app, "router-setup-draft").await;
    assert!(!ids(&listed).contains(&manifest_draft));
    for hidden in [&aid, &manifest_draft] {
        assert_problem(
            ivan.get(&format!("/api/v1/me/kb/{hidden}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }

    // Published: subscribers read and find it, with the matched word highlighted.
    let published = json_body(
        agent
            .put(
                &format!("/api/v1/console/kb/{aid}"),
                &article("Терминал не горит", true),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(published["published_at"].is_string());
    let found = json_body(ivan.get(&sub_search).await, StatusCode::OK).await;
    assert_eq!(ids(&found), vec![aid.clone()]);
    assert_eq!(highlighted(&found["items"][0]), vec!["оптический"]);
    let read = json_body(
        ivan.get(&format!("/api/v1/me/kb/{aid}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["title"], "Терминал не горит");

    // Both changes are audited.
    let mut admin = app.db.admin().await.expect("admin");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE target = $1 ORDER BY at")
            .bind(format!("kb:{aid}"))
            .fetch_all(&mut admin)
            .await
            .expect("audit");
    assert_eq!(actions, vec!["kb.create", "kb.update"]);

    // Bad input is refused with a problem, not a 500.
    let mut bad = article("x", true);
    bad["locale"] = json!("de");
    assert_eq!(
        agent.post("/api/v1/console/kb", &bad).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_problem(
        agent
            .post("/api/v1/console/kb", &article("   ", true))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
}

#[tokio::test]
async fn typing_a_problem_suggests_articles_in_the_subscribers_language_first() {
    let app = TestApp::spawn().await.expect("app");
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let checklist = demo_article(&app, "no-internet-checklist").await;
    let speed = demo_article(&app, "speed-below-tariff").await;
    let suggest = |text: &str| {
        format!(
            "/api/v1/me/kb/search?match=any&lang=ru&limit=3&q={}",
            enc(text)
        )
    };
    let found = json_body(
        ivan.get(&suggest("Не работает интернет с утра, роутер перезагружал"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&found).first(), Some(&checklist), "{found}");
    let found = json_body(
        ivan.get(&suggest("низкая скорость по wifi")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&found).first(), Some(&speed), "{found}");
    // Free text without words gives no suggestions rather than an error.
    let found = json_body(ivan.get(&suggest("?! ...")).await, StatusCode::OK).await;
    assert_eq!(ids(&found), Vec::<String>::new());
}

#[tokio::test]
async fn diagnosis_offers_pay_when_blocked_and_resume_when_suspended() {
    let app = TestApp::spawn().await.expect("app");
    // 100002 is blocked at -120.00 with no credit limit: 120.00 unblocks.
    let blocked = app.subscriber("demo.localhost", "100002").await;
    let d = json_body(
        blocked.get("/api/v1/me/support/diagnosis").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["findings"][0]["kind"], "blocked_for_debt", "{d}");
    assert_eq!(d["findings"][0]["amount_due"]["minor"], 12_000);
    assert_eq!(d["findings"][0]["amount_due"]["currency"], "RUB");

    let ivan = app.subscriber("demo.localhost", "100001").await;
    let d = json_body(
        ivan.get("/api/v1/me/support/diagnosis").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["findings"], json!([]));
    json_body(
        ivan.post("/api/v1/me/suspension", &json!({"days": 14}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let d = json_body(
        ivan.get("/api/v1/me/support/diagnosis").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["findings"][0]["kind"], "suspended", "{d}");
    assert!(d["findings"][0]["until"].is_string());
}

/// A deflection event and a ticket sent anyway with its suggestions: rows in
/// `ticket_deflections` and `ticket_suggestions` (the isolation test seeds with this).
pub async fn seed_deflection(subscriber: &Client, ticket_id: &str) {
    let articles = json_body(subscriber.get("/api/v1/me/kb").await, StatusCode::OK).await;
    let article = id(&articles["items"][0]);
    let session = Uuid::now_v7();
    json_body(
        subscriber
            .post(
                "/api/v1/me/support/deflections",
                &json!({"form_session": session, "kind": "article", "article_id": article}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let resp = subscriber
        .post(
            &format!("/api/v1/me/tickets/{ticket_id}/suggestions"),
            &json!({"form_session": session, "shown_article_ids": [article]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn deflections_are_recorded_and_the_rate_counts_visits_without_a_ticket() {
    let app = TestApp::spawn().await.expect("app");
    let ivan = app.subscriber("demo.localhost", "100001").await;
    let other = app.subscriber("demo.localhost", "100002").await;
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    let checklist = demo_article(&app, "no-internet-checklist").await;
    let draft = demo_article(&app, "router-setup-draft").await;
    let record = |session: Uuid, body: Value| {
        let mut body = body;
        body["form_session"] = json!(session);
        body
    };

    // Visit 1: opened an article and a fix, sent nothing → one deflected visit.
    let v1 = Uuid::now_v7();
    for body in [
        json!({"kind": "article", "article_id": checklist}),
        json!({"kind": "self_fix", "fix": "pay"}),
    ] {
        json_body(
            ivan.post("/api/v1/me/support/deflections", &record(v1, body))
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    // Visit 2: opened an article, then sent the ticket anyway.
    let v2 = Uuid::now_v7();
    json_body(
        ivan.post(
            "/api/v1/me/support/deflections",
            &record(v2, json!({"kind": "article", "article_id": checklist})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let ticket = ivan
        .open_ticket("connectivity", "Интернета нет", "Проверил всё по статье.")
        .await;
    let tid = id(&ticket);
    // Another subscriber cannot attach their visit to Ivan's ticket.
    assert_problem(
        other
            .post(
                &format!("/api/v1/me/tickets/{tid}/suggestions"),
                &json!({"form_session": v2, "shown_article_ids": [checklist]}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let resp = ivan
        .post(
            &format!("/api/v1/me/tickets/{tid}/suggestions"),
            &json!({"form_session": v2, "shown_article_ids": [checklist, draft, Uuid::now_v7()]}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let mut admin = app.db.admin().await.expect("admin");
    let shown: Vec<Uuid> =
        sqlx::query_scalar("SELECT article_id FROM ticket_suggestions WHERE ticket_id = $1")
            .bind(Uuid::parse_str(&tid).expect("uuid"))
            .fetch_all(&mut admin)
            .await
            .expect("suggestions");
    assert_eq!(
        shown,
        vec![Uuid::parse_str(&checklist).expect("uuid")],
        "drafts and unknown ids are not kept"
    );
    let (kind, linked): (String, Option<Uuid>) =
        sqlx::query_as("SELECT kind, ticket_id FROM ticket_deflections WHERE form_session = $1")
            .bind(v2)
            .fetch_one(&mut admin)
            .await
            .expect("deflection");
    assert_eq!(kind, "article");
    assert_eq!(linked.map(|u| u.to_string()), Some(tid.clone()));

    let stats = json_body(
        agent.get("/api/v1/console/tickets/deflection-stats").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["deflected"], 1, "{stats}");
    assert_eq!(stats["deflected_by_article"], 1);
    assert_eq!(stats["tickets"], 1);
    assert_eq!(stats["tickets_with_suggestions"], 1);
    assert_eq!(stats["rate"], 0.5);

    // Drafts cannot be "opened" from the form; a kind without its field is refused.
    assert_problem(
        ivan.post(
            "/api/v1/me/support/deflections",
            &record(v1, json!({"kind": "article", "article_id": draft})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        ivan.post(
            "/api/v1/me/support/deflections",
            &record(v1, json!({"kind": "self_fix", "article_id": checklist})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
}
