//! The ledger is append-only and idempotent.

use kabinet_billing::{EntryKind, NewEntry, post_entry};
use kabinet_core::{Currency, Money, SubscriberId, TenantId};
use kabinet_db::sqlx;
use kabinet_tests::TestDb;

async fn demo_subscriber(db: &TestDb) -> (TenantId, SubscriberId) {
    let mut admin = db.admin().await.expect("admin");
    let (tenant, subscriber): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT s.tenant_id, s.id FROM subscribers s JOIN tenants t ON t.id = s.tenant_id \
         WHERE t.slug = 'demo' AND s.account_number = '100001'",
    )
    .fetch_one(&mut admin)
    .await
    .expect("subscriber");
    (TenantId(tenant), SubscriberId(subscriber))
}

#[tokio::test]
async fn the_same_idempotency_key_moves_money_once() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let (tenant, subscriber) = demo_subscriber(&db).await;
    let rub = Currency::parse("RUB").expect("rub");
    let entry = NewEntry {
        subscriber,
        amount: Money::new(50_000, rub),
        kind: EntryKind::Payment,
        description: "Cash at the office".into(),
        idempotency_key: "receipt:42".into(),
    };
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
        let (id, _) = post_entry(&mut tx, &entry).await.expect("post");
        tx.commit().await.expect("commit");
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    let summary = kabinet_billing::account_summary(&mut tx, subscriber)
        .await
        .expect("summary");
    assert_eq!(summary.balance, Money::new(125_050 + 50_000, rub));

    // The same key with a different amount is a conflict, not a silent second payment.
    let mut other = entry.clone();
    other.amount = Money::new(1, rub);
    let err = post_entry(&mut tx, &other).await.expect_err("conflict");
    assert!(matches!(
        err,
        kabinet_billing::BillingError::IdempotencyConflict(_)
    ));
}

#[tokio::test]
async fn the_app_role_cannot_rewrite_or_erase_ledger_or_audit_history() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let (tenant, _) = demo_subscriber(&db).await;
    for statement in [
        "UPDATE ledger_entries SET amount_minor = 1",
        "DELETE FROM ledger_entries",
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
    ] {
        let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
        let err = sqlx::query(statement)
            .execute(tx.conn())
            .await
            .expect_err(statement);
        assert!(
            matches!(&err, sqlx::Error::Database(e) if e.code().as_deref() == Some("42501")),
            "{statement}: {err}"
        );
    }
}
