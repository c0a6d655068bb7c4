//! Tenants as code: idempotent apply, reported removals, precise errors, all-or-nothing.

use std::path::Path;

use kabinet_db::sqlx;
use kabinet_provisioning::apply_dir;
use kabinet_tests::{TestDb, repo_root};

fn copy_demo_tenants(to: &Path) {
    std::fs::create_dir_all(to.join("logos")).expect("mkdir");
    for entry in std::fs::read_dir(repo_root().join("tenants")).expect("tenants/") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    for entry in std::fs::read_dir(repo_root().join("tenants/logos")).expect("logos/") {
        let path = entry.expect("entry").path();
        std::fs::copy(
            &path,
            to.join("logos").join(path.file_name().expect("name")),
        )
        .expect("copy");
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("kabinet-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

async fn counts(db: &TestDb) -> Vec<i64> {
    let mut admin = db.admin().await.expect("admin");
    let mut out = Vec::new();
    for table in [
        "tenants",
        "tenant_hosts",
        "staff",
        "staff_roles",
        "subscribers",
        "tariffs",
        "accounts",
        "ledger_entries",
        "operators",
    ] {
        out.push(
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&mut admin)
                .await
                .expect("count"),
        );
    }
    out
}

#[tokio::test]
async fn applying_the_same_manifests_twice_changes_nothing() {
    let db = TestDb::new().await.expect("db");
    let first = apply_dir(&db.db, &repo_root().join("tenants"), "localhost")
        .await
        .expect("first apply");
    assert!(first.iter().any(|r| r.created && r.slug == "demo"));
    let after_first = counts(&db).await;
    let second = apply_dir(&db.db, &repo_root().join("tenants"), "localhost")
        .await
        .expect("second apply");
    for report in &second {
        assert!(
            report.changes.is_empty(),
            "{}: {:?}",
            report.slug,
            report.changes
        );
        assert!(
            report.warnings.is_empty(),
            "{}: {:?}",
            report.slug,
            report.warnings
        );
    }
    assert_eq!(counts(&db).await, after_first);
    // The demo balance landed once, as one opening-balance entry.
    let mut admin = db.admin().await.expect("admin");
    let balance: i64 = sqlx::query_scalar(
        "SELECT sum(amount_minor)::bigint FROM ledger_entries e JOIN subscribers s ON s.tenant_id = e.tenant_id AND s.id = e.subscriber_id WHERE s.account_number = '100001'",
    )
    .fetch_one(&mut admin)
    .await
    .expect("balance");
    assert_eq!(balance, 125_050);
    // Passwords are never stored in the recorded manifest.
    let stored: String = sqlx::query_scalar("SELECT manifest::text FROM tenant_manifests LIMIT 1")
        .fetch_one(&mut admin)
        .await
        .expect("manifest");
    assert!(!stored.contains("demo-password"));
}

#[tokio::test]
async fn a_removed_field_is_reported_not_silently_ignored() {
    let db = TestDb::new().await.expect("db");
    let dir = temp_dir("removed");
    copy_demo_tenants(&dir);
    apply_dir(&db.db, &dir, "localhost").await.expect("apply");
    let manifest = std::fs::read_to_string(dir.join("northnet.toml")).expect("read");
    let edited = manifest
        .replace("support_phone = \"+358 9 123 4567\"\n", "")
        .replace(
            "display_name = \"NorthNet\"",
            "display_name = \"NorthNet Oy\"",
        );
    assert_ne!(manifest, edited);
    std::fs::write(dir.join("northnet.toml"), edited).expect("write");
    let reports = apply_dir(&db.db, &dir, "localhost").await.expect("apply");
    let north = reports
        .iter()
        .find(|r| r.slug == "northnet")
        .expect("northnet report");
    assert_eq!(north.changes, vec!["tenant northnet updated".to_owned()]);
    assert_eq!(north.warnings.len(), 1, "{:?}", north.warnings);
    assert!(
        north.warnings[0].starts_with("branding.support_phone was removed"),
        "{:?}",
        north.warnings
    );
}

#[tokio::test]
async fn an_asymmetric_tariff_keeps_its_upload_speed() {
    let db = TestDb::new().await.expect("db");
    let dir = temp_dir("upload");
    copy_demo_tenants(&dir);
    let manifest = std::fs::read_to_string(dir.join("northnet.toml")).expect("read");
    let edited = manifest.replacen(
        "speed_mbps = 1000\n",
        "speed_mbps = 1000\nupload_speed_mbps = 200\n",
        1,
    );
    assert_ne!(manifest, edited);
    std::fs::write(dir.join("northnet.toml"), edited).expect("write");
    apply_dir(&db.db, &dir, "localhost").await.expect("apply");
    let mut admin = db.admin().await.expect("admin");
    let speeds: Vec<(i32, Option<i32>)> = sqlx::query_as(
        "SELECT t.speed_mbps, t.upload_speed_mbps FROM tariffs t JOIN tenants n ON n.id = t.tenant_id \
         WHERE n.slug = 'northnet' ORDER BY t.speed_mbps DESC",
    )
    .fetch_all(&mut admin)
    .await
    .expect("tariffs");
    assert_eq!(speeds[0], (1000, Some(200)));
    assert!(speeds[1..].iter().all(|(_, up)| up.is_none()), "{speeds:?}");
}

#[tokio::test]
async fn ticket_categories_apply_once_and_leave_the_consoles_alone() {
    let db = TestDb::new().await.expect("db");
    let dir = temp_dir("categories");
    copy_demo_tenants(&dir);
    let manifest = std::fs::read_to_string(dir.join("northnet.toml")).expect("read");
    let declared = format!(
        "{manifest}\n\
         [[ticket_categories]]\ncode = \"dacha_link\"\nkind = \"connectivity\"\n\
         name_ru = \"  Связь на  даче \"\nname_en = \"Country house link\"\nposition = 12\n\n\
         [[ticket_categories]]\ncode = \"other\"\nkind = \"other\"\nname_en = \"Anything else\"\n\
         active = false\n"
    );
    std::fs::write(dir.join("northnet.toml"), &declared).expect("write");
    let reports = apply_dir(&db.db, &dir, "localhost").await.expect("apply");
    let north = reports
        .iter()
        .find(|r| r.slug == "northnet")
        .expect("report");
    for c in ["dacha_link", "other"] {
        assert!(
            north
                .changes
                .contains(&format!("ticket category {c} created or updated")),
            "{:?}",
            north.changes
        );
    }
    let tenant: uuid::Uuid = {
        let mut admin = db.admin().await.expect("admin");
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'northnet'")
            .fetch_one(&mut admin)
            .await
            .expect("tenant")
    };
    let read = |code: &'static str| {
        let db = &db;
        async move {
            let mut admin = db.admin().await.expect("admin");
            sqlx::query_as::<_, (String, Option<String>, Option<String>, i32, bool, bool)>(
                "SELECT kind, name_ru, name_en, position, active, built_in FROM ticket_categories \
                 WHERE tenant_id = $1 AND code = $2",
            )
            .bind(tenant)
            .bind(code)
            .fetch_one(&mut admin)
            .await
            .expect("category")
        }
    };
    assert_eq!(
        read("dacha_link").await,
        (
            "connectivity".into(),
            Some("Связь на даче".into()),
            Some("Country house link".into()),
            12,
            true,
            false
        )
    );
    assert_eq!(
        read("other").await,
        (
            "other".into(),
            None,
            Some("Anything else".into()),
            9,
            false,
            true
        )
    );

    // A category the ISP adds in the console is left alone; applying again changes nothing.
    let mut tx = db
        .db
        .tenant_tx(kabinet_core::TenantId(tenant))
        .await
        .expect("tx");
    kabinet_ticketing::categories::create(
        &mut tx,
        &kabinet_ticketing::categories::NewCategory {
            code: "tv_box".into(),
            kind: kabinet_ticketing::CategoryKind::Equipment,
            name_ru: Some("ТВ-приставка".into()),
            name_en: None,
        },
    )
    .await
    .expect("console category");
    tx.commit().await.expect("commit");
    let reports = apply_dir(&db.db, &dir, "localhost").await.expect("apply");
    assert!(reports.iter().all(|r| r.changes.is_empty()), "{reports:?}");
    assert_eq!(read("tv_box").await.0, "equipment");

    // A kind never changes: refused, and nothing of that manifest is written.
    let changed = declared
        .replace("kind = \"connectivity\"", "kind = \"speed\"")
        .replace("position = 12", "position = 4");
    std::fs::write(dir.join("northnet.toml"), changed).expect("write");
    let err = apply_dir(&db.db, &dir, "localhost")
        .await
        .expect_err("kind change")
        .to_string();
    assert!(
        err.contains("ticket category dacha_link") && err.contains("kind cannot change"),
        "{err}"
    );
    assert_eq!(read("dacha_link").await.3, 12);
}

#[tokio::test]
async fn a_malformed_manifest_names_file_line_and_field_and_nothing_is_written() {
    let db = TestDb::new().await.expect("db");
    let dir = temp_dir("malformed");
    copy_demo_tenants(&dir);
    let manifest = std::fs::read_to_string(dir.join("northnet.toml")).expect("read");
    std::fs::write(
        dir.join("northnet.toml"),
        manifest.replace("monthly_price = \"39.90\"", "monthly_price = \"39,90\""),
    )
    .expect("write");
    let line = manifest
        .lines()
        .position(|l| l.starts_with("monthly_price"))
        .expect("line")
        + 1;
    let err = apply_dir(&db.db, &dir, "localhost")
        .await
        .expect_err("must fail")
        .to_string();
    assert!(err.contains(&format!("northnet.toml:{line}:")), "{err}");
    assert!(err.contains("tariffs.monthly_price"), "{err}");
    assert!(err.contains("39,90"), "{err}");
    // demo.toml was fine, but nothing at all was applied.
    assert_eq!(counts(&db).await.iter().sum::<i64>(), 0);
}

#[tokio::test]
async fn a_failing_tenant_rolls_back_whole() {
    let db = TestDb::new().await.expect("db");
    let dir = temp_dir("rollback");
    copy_demo_tenants(&dir);
    let manifest = std::fs::read_to_string(dir.join("northnet.toml")).expect("read");
    // Valid TOML, but the second subscriber reuses the first one's e-mail: the database refuses.
    let duplicate = "\n[[subscribers]]\naccount_number = \"200002\"\nfull_name = \"Copy Cat\"\nemail = \"aino@example.fi\"\n";
    std::fs::write(dir.join("northnet.toml"), format!("{manifest}{duplicate}")).expect("write");
    let err = apply_dir(&db.db, &dir, "localhost")
        .await
        .expect_err("must fail")
        .to_string();
    assert!(
        err.contains("northnet.toml") && err.contains("200002") && err.contains("e-mail"),
        "{err}"
    );
    let mut admin = db.admin().await.expect("admin");
    let north: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants WHERE slug = 'northnet'")
        .fetch_one(&mut admin)
        .await
        .expect("count");
    assert_eq!(north, 0, "a half-applied tenant was left behind");
}
