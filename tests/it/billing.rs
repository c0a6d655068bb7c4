//! Billing: the double-entry ledger, idempotency, charge runs, blocking and payments.

use std::collections::HashSet;

use kabinet_access::directory::{SubscriberSpec, upsert_subscriber};
use kabinet_billing::{
    AccountStatus, BillingError, BillingMonth, IncomingPayment, LedgerAccount, Line,
    NewTransaction, PaymentMethod, TariffChangeRule, TransactionKind, account_summary,
    change_tariff, ensure_account, open_promise, pending_change, receive_payment, record_payment,
    refresh_status, resume, run_monthly_charges, run_scheduled, suspend, take_promised_payment,
    verify,
};
use kabinet_core::{Currency, Money, SubscriberId, TenantId};
use kabinet_db::sqlx;
use kabinet_tests::{TestApp, TestDb, assert_problem, json, json_body};
use proptest::prelude::*;
use reqwest::StatusCode;

fn rub() -> Currency {
    Currency::parse("RUB").expect("RUB")
}

async fn demo(db: &TestDb) -> TenantId {
    let mut admin = db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'demo'")
            .fetch_one(&mut admin)
            .await
            .expect("demo"),
    )
}

/// A fresh subscriber of the demo ISP on the 550.00 tariff, with no money.
async fn new_subscriber(
    db: &TestDb,
    tenant: TenantId,
    account: &str,
    credit_limit: i64,
) -> SubscriberId {
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
        Money::new(credit_limit, rub()),
        AccountStatus::Active,
    )
    .await
    .expect("account");
    tx.commit().await.expect("commit");
    id
}

async fn pay(
    db: &TestDb,
    tenant: TenantId,
    who: SubscriberId,
    minor: i64,
    reference: &str,
) -> Result<bool, BillingError> {
    let mut tx = db.db.tenant_tx(tenant).await?;
    let posted = record_payment(
        &mut tx,
        who,
        Money::new(minor, rub()),
        PaymentMethod::Cash,
        reference,
        None,
        &format!("test:{reference}"),
    )
    .await?;
    refresh_status(&mut tx, Some(&[who])).await?;
    tx.commit().await?;
    Ok(posted.created)
}

async fn summary(
    db: &TestDb,
    tenant: TenantId,
    who: SubscriberId,
) -> kabinet_billing::AccountSummary {
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    account_summary(&mut tx, who).await.expect("summary")
}

async fn assert_invariants(db: &TestDb, tenant: TenantId) {
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    let violations = verify(&mut tx).await.expect("verify");
    assert!(
        violations.is_empty(),
        "billing invariants broken: {violations:?}"
    );
}

#[tokio::test]
async fn the_same_payment_reference_moves_money_once_and_a_different_amount_is_a_conflict() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let who = new_subscriber(&db, tenant, "300001", 0).await;
    assert!(pay(&db, tenant, who, 50_000, "R-1").await.expect("pay"));
    assert!(!pay(&db, tenant, who, 50_000, "R-1").await.expect("replay"));
    assert!(matches!(
        pay(&db, tenant, who, 1, "R-1").await,
        Err(BillingError::IdempotencyConflict(_))
    ));
    assert_eq!(
        summary(&db, tenant, who).await.balance,
        Money::new(50_000, rub())
    );
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn the_database_refuses_a_transaction_that_does_not_balance() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let who = new_subscriber(&db, tenant, "300002", 0).await;
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    // Through the domain: refused before SQL.
    let lopsided = NewTransaction {
        kind: TransactionKind::Correction,
        description: "free money".into(),
        idempotency_key: "lopsided".into(),
        subscriber: Some(who),
        staff: None,
        reference: None,
        lines: vec![
            Line {
                account: LedgerAccount::Subscriber(who),
                amount: Money::new(100, rub()),
            },
            Line {
                account: LedgerAccount::Adjustments,
                amount: Money::new(-99, rub()),
            },
        ],
    };
    assert!(matches!(
        kabinet_billing::post(&mut tx, &lopsided).await,
        Err(BillingError::Unbalanced)
    ));
    // Straight SQL as the app role: the trigger refuses it too.
    let t = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO ledger_transactions (tenant_id, id, kind, description, idempotency_key) VALUES ($1, $2, 'correction', 'x', 'raw')")
        .bind(tenant.as_uuid())
        .bind(t)
        .execute(tx.conn())
        .await
        .expect("transaction row");
    let err = sqlx::query(
        "INSERT INTO ledger_entries (tenant_id, transaction_id, line, ledger_account, subscriber_id, amount_minor, currency) \
         VALUES ($1, $2, 1, 'subscriber', $3, 100, 'RUB')",
    )
    .bind(tenant.as_uuid())
    .bind(t)
    .bind(who.as_uuid())
    .execute(tx.conn())
    .await
    .expect_err("unbalanced entry");
    assert_eq!(
        kabinet_db::constraint_name(&err),
        Some("ledger_transaction_balanced"),
        "{err}"
    );
}

#[tokio::test]
async fn the_app_role_cannot_rewrite_history_or_set_a_balance() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    for statement in [
        "UPDATE ledger_entries SET amount_minor = 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET description = 'x'",
        "DELETE FROM ledger_transactions",
        "UPDATE accounts SET balance_minor = 1000000",
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

#[tokio::test]
async fn a_charge_run_charges_each_active_account_once_per_month_and_blocks_debtors() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let rich = new_subscriber(&db, tenant, "300010", 0).await;
    let poor = new_subscriber(&db, tenant, "300011", 0).await;
    let trusted = new_subscriber(&db, tenant, "300012", 100_000).await;
    pay(&db, tenant, rich, 100_000, "rich").await.expect("pay");
    pay(&db, tenant, poor, 10_000, "poor").await.expect("pay");
    let november = BillingMonth::parse("2030-11").expect("month");

    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    let first = run_monthly_charges(&mut tx, november).await.expect("run");
    tx.commit().await.expect("commit");
    // demo's two manifest subscribers: 100001 active (charged), 100002 blocked (not charged).
    assert_eq!(first.charged, 4);
    let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
    let again = run_monthly_charges(&mut tx, november).await.expect("rerun");
    tx.commit().await.expect("commit");
    assert_eq!(again.charged, 0, "a rerun must not charge again");

    assert_eq!(
        summary(&db, tenant, rich).await.balance.minor,
        100_000 - 55_000
    );
    let poor_now = summary(&db, tenant, poor).await;
    assert_eq!(poor_now.balance.minor, 10_000 - 55_000);
    assert_eq!(poor_now.status, AccountStatus::Blocked);
    let trusted_now = summary(&db, tenant, trusted).await;
    assert_eq!(trusted_now.balance.minor, -55_000);
    assert_eq!(
        trusted_now.status,
        AccountStatus::Active,
        "within its credit limit"
    );

    // Paying the debt lifts the block at once, not at the next run.
    pay(&db, tenant, poor, 45_000, "poor-2").await.expect("pay");
    assert_eq!(
        summary(&db, tenant, poor).await.status,
        AccountStatus::Active
    );
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn a_charge_run_killed_part_way_leaves_nothing_and_concurrent_runs_charge_once() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    for i in 0..20 {
        new_subscriber(&db, tenant, &format!("3001{i:02}"), 1_000_000).await;
    }
    let month = BillingMonth::parse("2030-12").expect("month");
    // A run that dies before commit (process killed, connection lost): nothing is left.
    {
        let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
        run_monthly_charges(&mut tx, month).await.expect("run");
        drop(tx);
    }
    let mut admin = db.admin().await.expect("admin");
    let charges: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'charge'")
            .fetch_one(&mut admin)
            .await
            .expect("count");
    assert_eq!(charges, 0);

    // Four nodes run the same month at once.
    let runs = (0..4).map(|_| {
        let db = db.db.clone();
        tokio::spawn(async move {
            let mut tx = db.tenant_tx(tenant).await.expect("tx");
            let run = run_monthly_charges(&mut tx, month).await.expect("run");
            tx.commit().await.expect("commit");
            run.charged
        })
    });
    let mut total = 0;
    for run in runs {
        total += run.await.expect("join");
    }
    assert_eq!(total, 21, "20 new accounts and 100001, once each");
    let per_account: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM ledger_transactions WHERE kind = 'charge' GROUP BY subscriber_id",
    )
    .fetch_all(&mut admin)
    .await
    .expect("counts");
    assert!(per_account.iter().all(|c| *c == 1), "{per_account:?}");
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn parallel_payments_and_retries_lose_nothing_and_duplicate_nothing() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let who = new_subscriber(&db, tenant, "300200", 0).await;
    // 30 distinct payments, each sent three times concurrently (client retries).
    let tasks: Vec<_> = (0..90)
        .map(|i| {
            let db = db.db.clone();
            tokio::spawn(async move {
                let reference = format!("P-{}", i % 30);
                let mut tx = db.tenant_tx(tenant).await.expect("tx");
                let result = record_payment(
                    &mut tx,
                    who,
                    Money::new(1_000 + (i % 30), rub()),
                    PaymentMethod::Card,
                    &reference,
                    None,
                    &reference,
                )
                .await;
                match result {
                    Ok(_) => tx.commit().await.expect("commit"),
                    Err(e) => panic!("payment failed: {e}"),
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("join");
    }
    let expected: i64 = (0..30).map(|i| 1_000 + i).sum();
    assert_eq!(summary(&db, tenant, who).await.balance.minor, expected);
    assert_invariants(&db, tenant).await;
}

#[derive(Clone, Debug)]
enum Op {
    Pay { minor: i64, reference: u8 },
    Charge { month: u32 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1i64..200_000, 0u8..6).prop_map(|(minor, reference)| Op::Pay { minor, reference }),
        (1u32..=6).prop_map(|month| Op::Charge { month }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// After any sequence of payments (with replays) and charge runs (with reruns), the balance
    /// is exactly what a simple model says, the status follows it, and every invariant holds.
    #[test]
    fn ledger_invariants_hold_after_every_step(ops in proptest::collection::vec(op(), 1..12), limit in prop_oneof![Just(0i64), Just(30_000i64)]) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let db = TestDb::new().await.expect("db");
            db.apply_demo_tenants().await.expect("tenants");
            let tenant = demo(&db).await;
            let who = new_subscriber(&db, tenant, "399999", limit).await;
            let (mut balance, mut status) = (0i64, AccountStatus::Active);
            let mut paid: HashSet<u8> = HashSet::new();
            let mut amounts: std::collections::HashMap<u8, i64> = std::collections::HashMap::new();
            let mut charged: HashSet<u32> = HashSet::new();
            for op in &ops {
                match op {
                    Op::Pay { minor, reference } => {
                        let first = *amounts.entry(*reference).or_insert(*minor);
                        let result = pay(&db, tenant, who, *minor, &format!("ref-{reference}")).await;
                        if first == *minor {
                            let created = result.expect("payment");
                            prop_assert_eq!(created, paid.insert(*reference));
                            if created { balance += minor; }
                        } else {
                            prop_assert!(matches!(result, Err(BillingError::IdempotencyConflict(_))));
                        }
                    }
                    Op::Charge { month } => {
                        let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
                        run_monthly_charges(&mut tx, BillingMonth { year: 2027, month: *month }).await.expect("run");
                        tx.commit().await.expect("commit");
                        if status == AccountStatus::Active && charged.insert(*month) {
                            balance -= 55_000;
                        }
                    }
                }
                status = if balance < -limit { AccountStatus::Blocked } else { AccountStatus::Active };
                let now = summary(&db, tenant, who).await;
                prop_assert_eq!(now.balance.minor, balance, "after {:?}", op);
                prop_assert_eq!(now.status, status, "after {:?}", op);
                let mut tx = db.db.tenant_tx(tenant).await.expect("tx");
                let violations = verify(&mut tx).await.expect("verify");
                prop_assert!(violations.is_empty(), "{:?}", violations);
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn staff_record_a_cash_payment_that_lifts_a_block_once_per_receipt() {
    let app = TestApp::spawn().await.expect("app");
    let blocked = app.subscriber("demo.localhost", "100002").await;
    let dashboard = json_body(blocked.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
    assert_eq!(dashboard["account"]["status"], "blocked");
    assert_eq!(dashboard["account"]["balance"]["minor"], -12_000);

    let payment = json!({"amount_minor": 50_000, "method": "cash", "reference": "КО-0042"});
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    assert_problem(
        viewer
            .post("/api/v1/console/subscribers/100002/payments", &payment)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let recorded = json_body(
        owner
            .post("/api/v1/console/subscribers/100002/payments", &payment)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(recorded["created"], true);
    assert_eq!(recorded["account_status"], "active");
    assert_eq!(
        recorded["balance"],
        json!({"minor": 38_000, "currency": "RUB"})
    );
    let again = json_body(
        owner
            .post("/api/v1/console/subscribers/100002/payments", &payment)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["created"], false);
    assert_eq!(again["balance"]["minor"], 38_000);
    assert_problem(
        owner
            .post("/api/v1/console/subscribers/999999/payments", &payment)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        owner
            .post(
                "/api/v1/console/subscribers/100002/payments",
                &json!({"amount_minor": 0, "method": "cash", "reference": "x"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;

    let dashboard = json_body(blocked.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
    assert_eq!(dashboard["account"]["status"], "active");
    let ledger = json_body(blocked.get("/api/v1/me/ledger").await, StatusCode::OK).await;
    let items = ledger["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{ledger}");
    assert_eq!(items[0]["kind"], "payment");
    assert_eq!(items[0]["reference"], "КО-0042");
    assert_eq!(items[0]["amount"]["minor"], 50_000);
    assert_eq!(items[1]["kind"], "opening_balance");
    let staff_view = json_body(
        owner.get("/api/v1/console/subscribers/100002/ledger").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(staff_view["items"], ledger["items"]);
    assert_eq!(staff_view["status"], "active");
    assert_eq!(staff_view["full_name"], "Мария Смирнова");
    assert_eq!(staff_view["balance"]["minor"], 38_000);
    for blank in ["   ", "a\nb"] {
        assert_problem(
            owner
                .post(
                    "/api/v1/console/subscribers/100002/payments",
                    &json!({"amount_minor": 100, "method": "cash", "reference": blank}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_reference",
        )
        .await;
    }

    let mut admin = app.db.admin().await.expect("admin");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'payment.record'")
            .fetch_one(&mut admin)
            .await
            .expect("audit");
    assert_eq!(audited, 1);
    // Another ISP's staff cannot see or pay this subscriber.
    let north = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        north.get("/api/v1/console/subscribers/100002/ledger").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn at(db: &TestDb, tenant: TenantId) -> kabinet_db::TenantTx {
    db.db.tenant_tx(tenant).await.expect("tx")
}

#[tokio::test]
async fn a_promised_payment_lifts_a_block_and_is_repaid_from_the_next_payment() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let who = new_subscriber(&db, tenant, "310001", 0).await;
    let now = chrono::Utc::now();
    // 100.00 paid, then November's 550.00 tariff: blocked at -450.00.
    pay(&db, tenant, who, 10_000, "first").await.expect("pay");
    let mut tx = at(&db, tenant).await;
    run_monthly_charges(&mut tx, BillingMonth::parse("2030-01").expect("month"))
        .await
        .expect("charge");
    tx.commit().await.expect("commit");
    assert_eq!(
        summary(&db, tenant, who).await.status,
        AccountStatus::Blocked
    );

    // Over the ISP's 500.00 maximum: refused.
    let mut tx = at(&db, tenant).await;
    let too_much = take_promised_payment(&mut tx, who, Money::new(50_001, rub()), now).await;
    assert!(
        matches!(too_much, Err(BillingError::PromiseTooLarge { .. })),
        "{too_much:?}"
    );
    drop(tx);

    let mut tx = at(&db, tenant).await;
    let promise = take_promised_payment(&mut tx, who, Money::new(50_000, rub()), now)
        .await
        .expect("promise");
    tx.commit().await.expect("commit");
    assert_eq!(
        promise.due_at - promise.granted_at,
        chrono::Duration::days(3)
    );
    let lifted = summary(&db, tenant, who).await;
    assert_eq!(
        (lifted.balance.minor, lifted.status),
        (5_000, AccountStatus::Active)
    );

    let mut tx = at(&db, tenant).await;
    let again = take_promised_payment(&mut tx, who, Money::new(100, rub()), now).await;
    assert!(matches!(again, Err(BillingError::PromiseOpen)), "{again:?}");
    drop(tx);

    // The next payment repays the promise: 50.00 + 600.00 - 500.00.
    let mut tx = at(&db, tenant).await;
    let payment = IncomingPayment {
        subscriber: who,
        amount: Money::new(60_000, rub()),
        method: PaymentMethod::BankTransfer,
        reference: "bank-77",
        staff: None,
        idempotency_key: "bank-77",
    };
    receive_payment(&mut tx, &payment, now)
        .await
        .expect("payment");
    receive_payment(&mut tx, &payment, now)
        .await
        .expect("replayed payment");
    tx.commit().await.expect("commit");
    let repaid = summary(&db, tenant, who).await;
    assert_eq!(
        (repaid.balance.minor, repaid.status),
        (15_000, AccountStatus::Active)
    );
    let mut tx = at(&db, tenant).await;
    assert_eq!(open_promise(&mut tx, who).await.expect("open"), None);
    // One promised payment a month at demo.
    let limited = take_promised_payment(&mut tx, who, Money::new(100, rub()), now).await;
    assert!(
        matches!(limited, Err(BillingError::PromiseLimitReached { limit: 1 })),
        "{limited:?}"
    );
    drop(tx);
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn an_unpaid_promise_ends_when_due_and_the_block_returns() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let who = new_subscriber(&db, tenant, "310002", 0).await;
    let mut admin = db.admin().await.expect("admin");
    // Start from a debt of 100.00, blocked.
    let now = utc("2030-03-10T12:00:00Z");
    let mut tx = at(&db, tenant).await;
    kabinet_billing::post(
        &mut tx,
        &NewTransaction {
            kind: TransactionKind::Correction,
            description: "debt".into(),
            idempotency_key: "debt-310002".into(),
            subscriber: Some(who),
            staff: None,
            reference: None,
            lines: vec![
                Line {
                    account: LedgerAccount::Subscriber(who),
                    amount: Money::new(-10_000, rub()),
                },
                Line {
                    account: LedgerAccount::Adjustments,
                    amount: Money::new(10_000, rub()),
                },
            ],
        },
    )
    .await
    .expect("debt");
    refresh_status(&mut tx, Some(&[who])).await.expect("status");
    take_promised_payment(&mut tx, who, Money::new(30_000, rub()), now)
        .await
        .expect("promise");
    tx.commit().await.expect("commit");
    assert_eq!(
        summary(&db, tenant, who).await.status,
        AccountStatus::Active
    );

    // Two days on: nothing due yet. Four days on: the credit is taken back, the block returns.
    for (days, expired) in [(2, 0), (4, 1), (5, 0)] {
        let mut tx = at(&db, tenant).await;
        let report = run_scheduled(&mut tx, now + chrono::Duration::days(days))
            .await
            .expect("tick");
        tx.commit().await.expect("commit");
        assert_eq!(report.promises_expired, expired, "day {days}");
    }
    // -100.00 debt + 300.00 credit - 550.00 tariff (charged on day 2, while the promise kept the
    // account active) - 300.00 credit taken back.
    let after = summary(&db, tenant, who).await;
    assert_eq!(
        (after.balance.minor, after.status),
        (-65_000, AccountStatus::Blocked)
    );
    let settlement: String = sqlx::query_scalar("SELECT settlement FROM promised_payments")
        .fetch_one(&mut admin)
        .await
        .expect("promise");
    assert_eq!(settlement, "expired");
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn a_voluntary_suspension_pauses_charges_and_resumes_on_time_or_early() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let early = new_subscriber(&db, tenant, "320001", 0).await;
    let late = new_subscriber(&db, tenant, "320002", 0).await;
    pay(&db, tenant, early, 100_000, "e").await.expect("pay");
    pay(&db, tenant, late, 100_000, "l").await.expect("pay");
    let now = chrono::Utc::now();

    let mut tx = at(&db, tenant).await;
    let short = suspend(&mut tx, early, 3, now).await;
    assert!(
        matches!(
            short,
            Err(BillingError::SuspensionLength { min: 7, max: 90 })
        ),
        "{short:?}"
    );
    drop(tx);
    let mut tx = at(&db, tenant).await;
    suspend(&mut tx, early, 10, now).await.expect("suspend");
    let paused = suspend(&mut tx, late, 30, now).await.expect("suspend");
    assert_eq!(
        paused.ends_at - paused.starts_at,
        chrono::Duration::days(30)
    );
    assert!(matches!(
        suspend(&mut tx, late, 30, now).await,
        Err(BillingError::NotActive)
    ));
    tx.commit().await.expect("commit");
    assert_eq!(
        summary(&db, tenant, late).await.status,
        AccountStatus::Suspended
    );

    // No charges while suspended.
    let month = BillingMonth::of(now.date_naive());
    let mut tx = at(&db, tenant).await;
    run_monthly_charges(&mut tx, month).await.expect("charge");
    tx.commit().await.expect("commit");
    assert_eq!(summary(&db, tenant, late).await.balance.minor, 100_000);

    // Early resume by the subscriber; the other resumes when its time is up.
    let mut tx = at(&db, tenant).await;
    resume(&mut tx, Some(early), now).await.expect("resume");
    assert!(matches!(
        resume(&mut tx, Some(early), now).await,
        Err(BillingError::NotSuspended)
    ));
    tx.commit().await.expect("commit");
    assert_eq!(
        summary(&db, tenant, early).await.status,
        AccountStatus::Active
    );
    let mut tx = at(&db, tenant).await;
    let report = run_scheduled(&mut tx, now + chrono::Duration::days(31))
        .await
        .expect("tick");
    tx.commit().await.expect("commit");
    assert_eq!(report.suspensions_ended, 1);
    assert_eq!(
        summary(&db, tenant, late).await.status,
        AccountStatus::Active
    );
    let mut tx = at(&db, tenant).await;
    let second = run_scheduled(&mut tx, now + chrono::Duration::days(31))
        .await
        .expect("tick");
    tx.commit().await.expect("commit");
    assert_eq!(second.suspensions_ended, 0, "the scheduler repeats nothing");
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn subscribers_take_a_promise_and_pause_service_through_the_api() {
    let app = TestApp::spawn().await.expect("app");
    let blocked = app.subscriber("demo.localhost", "100002").await;
    let options = json_body(
        blocked.get("/api/v1/me/account-options").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        options["promised_payment_max"],
        json!({"minor": 50_000, "currency": "RUB"})
    );
    assert_eq!(options["suspension_min_days"], 7);
    let promise = json_body(
        blocked
            .post(
                "/api/v1/me/promised-payment",
                &json!({"amount_minor": 20_000}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(promise["amount"]["minor"], 20_000);
    assert_problem(
        blocked
            .post("/api/v1/me/promised-payment", &json!({"amount_minor": 100}))
            .await,
        StatusCode::CONFLICT,
        "promise_open",
    )
    .await;
    let dashboard = json_body(blocked.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
    assert_eq!(dashboard["account"]["status"], "active");
    assert_eq!(dashboard["account"]["balance"]["minor"], 8_000);

    let active = app.subscriber("demo.localhost", "100001").await;
    assert_problem(
        active
            .post("/api/v1/me/suspension", &json!({"days": 400}))
            .await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    assert_problem(
        active
            .post("/api/v1/me/suspension", &json!({"days": 2}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "suspension_length",
    )
    .await;
    json_body(
        active
            .post("/api/v1/me/suspension", &json!({"days": 14}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let options = json_body(
        active.get("/api/v1/me/account-options").await,
        StatusCode::OK,
    )
    .await;
    assert!(options["suspension"]["ends_at"].is_string());
    assert_eq!(
        json_body(active.get("/api/v1/me/dashboard").await, StatusCode::OK).await["account"]["status"],
        "suspended"
    );
    let resp = active.delete("/api/v1/me/suspension").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        json_body(active.get("/api/v1/me/dashboard").await, StatusCode::OK).await["account"]["status"],
        "active"
    );
    let resp = active.delete("/api/v1/me/suspension").await;
    assert_problem(resp, StatusCode::CONFLICT, "not_suspended").await;
}

fn utc(raw: &str) -> chrono::DateTime<chrono::Utc> {
    raw.parse().expect("timestamp")
}

async fn tenant_by_slug(db: &TestDb, slug: &str) -> TenantId {
    let mut admin = db.admin().await.expect("admin");
    TenantId(
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut admin)
            .await
            .expect("tenant"),
    )
}

async fn subscriber_by_account(db: &TestDb, account: &str) -> SubscriberId {
    let mut admin = db.admin().await.expect("admin");
    SubscriberId(
        sqlx::query_scalar("SELECT id FROM subscribers WHERE account_number = $1")
            .bind(account)
            .fetch_one(&mut admin)
            .await
            .expect("subscriber"),
    )
}

#[tokio::test]
async fn an_immediate_tariff_change_prorates_the_charged_month() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let who = subscriber_by_account(&db, "100001").await;
    let november = BillingMonth::parse("2030-11").expect("month");
    let mut tx = at(&db, tenant).await;
    run_monthly_charges(&mut tx, november)
        .await
        .expect("charge");
    let change = change_tariff(&mut tx, who, "home-500", utc("2030-11-16T10:00:00Z"))
        .await
        .expect("change");
    tx.commit().await.expect("commit");
    // 15 of 30 days left: half of 550.00 back, half of 890.00 charged.
    assert_eq!(change.rule, TariffChangeRule::ImmediateProrated);
    assert_eq!(
        (change.credited.minor, change.charged.minor),
        (27_500, 44_500)
    );
    let now = summary(&db, tenant, who).await;
    assert_eq!(now.balance.minor, 125_050 - 55_000 + 27_500 - 44_500);
    assert_eq!(now.tariff.map(|t| t.code).as_deref(), Some("home-500"));

    let mut tx = at(&db, tenant).await;
    assert!(matches!(
        change_tariff(&mut tx, who, "home-500", utc("2030-11-17T10:00:00Z")).await,
        Err(BillingError::SameTariff)
    ));
    drop(tx);
    let mut tx = at(&db, tenant).await;
    assert!(matches!(
        change_tariff(&mut tx, who, "gold", utc("2030-11-17T10:00:00Z")).await,
        Err(BillingError::UnknownTariff(_))
    ));
    drop(tx);
    // November is not charged again; December is charged at the new price.
    let mut tx = at(&db, tenant).await;
    assert_eq!(
        run_monthly_charges(&mut tx, november)
            .await
            .expect("rerun")
            .charged,
        0
    );
    run_monthly_charges(&mut tx, BillingMonth::parse("2030-12").expect("month"))
        .await
        .expect("december");
    tx.commit().await.expect("commit");
    assert_eq!(
        summary(&db, tenant, who).await.balance.minor,
        125_050 - 55_000 + 27_500 - 44_500 - 89_000
    );
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn a_next_period_tariff_change_waits_for_the_next_months_run() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = tenant_by_slug(&db, "northnet").await;
    let who = subscriber_by_account(&db, "200001").await;
    let mut tx = at(&db, tenant).await;
    run_monthly_charges(&mut tx, BillingMonth::parse("2030-11").expect("month"))
        .await
        .expect("charge");
    let change = change_tariff(&mut tx, who, "fiber-300", utc("2030-11-20T08:00:00Z"))
        .await
        .expect("change");
    tx.commit().await.expect("commit");
    assert_eq!(change.rule, TariffChangeRule::NextPeriod);
    assert_eq!(change.effective_at, utc("2030-12-01T00:00:00Z"));
    assert_eq!(change.charged.minor, 0);
    let mut tx = at(&db, tenant).await;
    assert_eq!(
        pending_change(&mut tx, who)
            .await
            .expect("pending")
            .map(|p| p.0)
            .as_deref(),
        Some("fiber-300")
    );
    drop(tx);
    assert_eq!(
        summary(&db, tenant, who)
            .await
            .tariff
            .map(|t| t.code)
            .as_deref(),
        Some("fiber-1g")
    );

    let mut tx = at(&db, tenant).await;
    run_monthly_charges(&mut tx, BillingMonth::parse("2030-12").expect("month"))
        .await
        .expect("december");
    assert_eq!(pending_change(&mut tx, who).await.expect("pending"), None);
    tx.commit().await.expect("commit");
    let now = summary(&db, tenant, who).await;
    assert_eq!(now.tariff.map(|t| t.code).as_deref(), Some("fiber-300"));
    assert_eq!(now.balance.minor, 8_000 - 3_990 - 2_990);
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn subscribers_see_the_catalogue_and_change_tariff_through_the_api() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("northnet.localhost", "200001").await;
    let catalogue = json_body(sub.get("/api/v1/me/tariffs").await, StatusCode::OK).await;
    assert_eq!(catalogue["rule"], "next_period");
    assert_eq!(catalogue["current_code"], "fiber-1g");
    let codes: Vec<&str> = catalogue["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["fiber-300", "fiber-1g"]);
    let result = json_body(
        sub.post("/api/v1/me/tariff", &json!({"code": "fiber-300"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(result["rule"], "next_period");
    let catalogue = json_body(sub.get("/api/v1/me/tariffs").await, StatusCode::OK).await;
    assert_eq!(catalogue["pending"]["code"], "fiber-300");
    assert_problem(
        sub.post("/api/v1/me/tariff", &json!({"code": "fiber-1g"}))
            .await,
        StatusCode::CONFLICT,
        "same_tariff",
    )
    .await;
    assert_problem(
        sub.post("/api/v1/me/tariff", &json!({"code": "home-100"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_tariff",
    )
    .await;
}

#[tokio::test]
async fn the_forecast_names_the_next_charge_and_the_days_the_balance_lasts() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let who = subscriber_by_account(&db, "100001").await;
    let now = utc("2030-11-16T12:00:00Z");
    let mut tx = at(&db, tenant).await;
    // Not yet charged for November: 1250.50 buys 70 days of December-length months at 550.00.
    let before = kabinet_billing::forecast(&mut tx, who, now)
        .await
        .expect("forecast");
    assert_eq!(before.days_left, Some(70));
    run_monthly_charges(&mut tx, BillingMonth::parse("2030-11").expect("month"))
        .await
        .expect("charge");
    let after = kabinet_billing::forecast(&mut tx, who, now)
        .await
        .expect("forecast");
    // Paid through November 30 (15 days), then 700.50 covers 39 December days.
    assert_eq!(after.days_left, Some(15 + 39));
    assert_eq!(after.next_charge_at, utc("2030-12-01T00:00:00Z"));
    assert_eq!(after.next_charge, Money::new(55_000, rub()));
    // An add-on is part of every month's charge from then on.
    kabinet_billing::connect_addon(&mut tx, who, "iptv", now)
        .await
        .expect("connect iptv");
    let with_addon = kabinet_billing::forecast(&mut tx, who, now)
        .await
        .expect("forecast");
    assert_eq!(with_addon.next_charge, Money::new(55_000 + 29_900, rub()));
    // A blocked account has no days left.
    let blocked = subscriber_by_account(&db, "100002").await;
    assert_eq!(
        kabinet_billing::forecast(&mut tx, blocked, now)
            .await
            .expect("forecast")
            .days_left,
        Some(0)
    );
}

#[tokio::test]
async fn a_statement_shows_the_period_with_opening_and_closing_balances_as_json_and_csv() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    json_body(
        owner
            .post(
                "/api/v1/console/subscribers/100002/payments",
                &json!({"amount_minor": 50_000, "method": "bank_transfer", "reference": "ПП 17, \"Иванов\""}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let sub = app.subscriber("demo.localhost", "100002").await;
    // Days are the ISP's calendar days: "today" is what the API says it is in the ISP's zone.
    let this_month = json_body(sub.get("/api/v1/me/statement").await, StatusCode::OK).await;
    let today: chrono::NaiveDate = this_month["to"]
        .as_str()
        .expect("to")
        .parse()
        .expect("a date");
    let statement = json_body(
        sub.get(&format!("/api/v1/me/statement?from={today}&to={today}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(statement["opening_balance"]["minor"], 0);
    assert_eq!(statement["closing_balance"]["minor"], 38_000);
    let kinds: Vec<&str> = statement["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["opening_balance", "payment"]);
    let tomorrow = today + chrono::Duration::days(1);
    let later = json_body(
        sub.get(&format!(
            "/api/v1/me/statement?from={tomorrow}&to={tomorrow}"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(later["opening_balance"]["minor"], 38_000);
    assert_eq!(later["items"], json!([]));

    let csv = sub
        .get(&format!("/api/v1/me/statement.csv?from={today}&to={today}"))
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    assert_eq!(
        csv.headers()["content-disposition"],
        format!("attachment; filename=\"statement-{today}-{today}.csv\"").as_str()
    );
    let body = csv.text().await.expect("csv");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "date,kind,description,reference,amount,currency");
    assert!(
        lines[1].contains("opening_balance") && lines[1].ends_with(",0.00,RUB"),
        "{body}"
    );
    assert!(
        lines[3].contains("\"ПП 17, \"\"Иванов\"\"\"") && lines[3].ends_with(",500.00,RUB"),
        "{body}"
    );
    assert!(
        lines[4].contains("closing_balance") && lines[4].ends_with(",380.00,RUB"),
        "{body}"
    );

    assert_problem(
        sub.get(&format!("/api/v1/me/statement?from={tomorrow}&to={today}"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_period",
    )
    .await;
    assert_problem(
        sub.get("/api/v1/me/statement?from=2026-13-01").await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
}

/// The text a real PDF reader (poppler's `pdftotext`) finds in a document.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("kabinet-pdf-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("statement.pdf");
    std::fs::write(&file, bytes).expect("write pdf");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, installed by deploy/debian/install-deps.sh --test)");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 text")
}

#[tokio::test]
async fn a_statement_downloads_as_a_pdf_in_the_isps_language_and_staff_can_print_one() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    json_body(
        owner
            .post(
                "/api/v1/console/subscribers/100002/payments",
                &json!({"amount_minor": 123_456, "method": "cash", "reference": "КО-77"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let sub = app.subscriber("demo.localhost", "100002").await;
    let resp = sub.get("/api/v1/me/statement.pdf").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .expect("disposition")
        .to_owned();
    assert!(
        disposition.starts_with("attachment") && disposition.contains("statement-100002-"),
        "{disposition}"
    );
    let bytes = resp.bytes().await.expect("pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdf_text(&bytes);
    // The demo ISP writes Russian by default; the reader finds the words, not glyph soup.
    for expected in [
        "Выписка по лицевому счёту",
        "Демо Телеком",
        "100002",
        "Наличными",
        "+1 234,56 RUB",
        "Остаток на конец",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }

    let english = pdf_text(
        &sub.get("/api/v1/me/statement.pdf?lang=en")
            .await
            .bytes()
            .await
            .expect("pdf"),
    );
    assert!(english.contains("Statement of account"), "{english}");
    assert!(english.contains("+1,234.56 RUB"), "{english}");

    // Staff with billing:read print the same statement; the support agent may not.
    let staff_copy = owner
        .get("/api/v1/console/subscribers/100002/statement.pdf")
        .await;
    assert_eq!(staff_copy.status(), StatusCode::OK);
    assert!(pdf_text(&staff_copy.bytes().await.expect("pdf")).contains("100002"));
    let agent = app.staff("demo.localhost", "agent@demo.example").await;
    assert_problem(
        agent
            .get("/api/v1/console/subscribers/100002/statement.pdf")
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Another ISP's account number reads as missing.
    let northnet = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        northnet
            .get("/api/v1/console/subscribers/100002/statement.pdf")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        sub.get("/api/v1/me/statement.pdf?from=2026-02-01&to=2026-01-01")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_period",
    )
    .await;
}

#[tokio::test]
async fn add_ons_are_charged_for_the_rest_of_a_paid_month_monthly_after_and_refunded_on_disconnect()
{
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let who = subscriber_by_account(&db, "100001").await;
    let november = BillingMonth::parse("2030-11").expect("month");
    let mut tx = at(&db, tenant).await;
    run_monthly_charges(&mut tx, november)
        .await
        .expect("charge");
    // IPTV (299.00) from November 21: 10 of 30 days = 99.67.
    let charged = kabinet_billing::connect_addon(&mut tx, who, "iptv", utc("2030-11-21T09:00:00Z"))
        .await
        .expect("connect");
    assert_eq!(charged, Money::new(9_967, rub()));
    tx.commit().await.expect("commit");
    // A refused request (its transaction is then rolled back) changes nothing.
    let mut tx = at(&db, tenant).await;
    assert!(matches!(
        kabinet_billing::connect_addon(&mut tx, who, "iptv", utc("2030-11-21T09:00:00Z")).await,
        Err(BillingError::AlreadyConnected)
    ));
    drop(tx);
    let mut tx = at(&db, tenant).await;
    assert!(matches!(
        kabinet_billing::connect_addon(&mut tx, who, "teleport", utc("2030-11-21T09:00:00Z")).await,
        Err(BillingError::UnknownAddon(_))
    ));
    drop(tx);
    // November's run does not charge it again; December's charges it in full with the tariff.
    let mut tx = at(&db, tenant).await;
    assert_eq!(
        run_monthly_charges(&mut tx, november)
            .await
            .expect("rerun")
            .addons_charged,
        0
    );
    let december = run_monthly_charges(&mut tx, BillingMonth::parse("2030-12").expect("month"))
        .await
        .expect("december");
    assert_eq!(december.addons_charged, 1);
    // Disconnected on December 10: December 11–31 (21 of 31 days) of 299.00 = 202.55 back.
    let refunded =
        kabinet_billing::disconnect_addon(&mut tx, who, "iptv", utc("2030-12-10T18:00:00Z"))
            .await
            .expect("disconnect");
    assert_eq!(refunded, Money::new(20_255, rub()));
    assert!(matches!(
        kabinet_billing::disconnect_addon(&mut tx, who, "iptv", utc("2030-12-10T18:00:00Z")).await,
        Err(BillingError::NotConnected(_))
    ));
    tx.commit().await.expect("commit");
    assert_eq!(
        summary(&db, tenant, who).await.balance.minor,
        125_050 - 55_000 - 9_967 - 55_000 - 29_900 + 20_255
    );
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn subscribers_list_connect_and_disconnect_add_ons_through_the_api() {
    let app = TestApp::spawn().await.expect("app");
    let sub = app.subscriber("demo.localhost", "100001").await;
    let list = json_body(sub.get("/api/v1/me/addons").await, StatusCode::OK).await;
    let codes: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["antivirus", "static-ip", "iptv"]);
    // Not charged for this month yet (no run in this test): connecting costs nothing now.
    let connected = json_body(
        sub.post("/api/v1/me/addons/antivirus", &json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(connected["amount"]["minor"], 0);
    assert_problem(
        sub.post("/api/v1/me/addons/antivirus", &json!({})).await,
        StatusCode::CONFLICT,
        "addon_connected",
    )
    .await;
    assert_problem(
        sub.post("/api/v1/me/addons/nope", &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_addon",
    )
    .await;
    let list = json_body(sub.get("/api/v1/me/addons").await, StatusCode::OK).await;
    assert!(list["items"][0]["connected_at"].is_string());
    let resp = sub.delete("/api/v1/me/addons/antivirus").await;
    assert_eq!(json_body(resp, StatusCode::OK).await["amount"]["minor"], 0);
    let resp = sub.delete("/api/v1/me/addons/antivirus").await;
    assert_problem(resp, StatusCode::CONFLICT, "addon_not_connected").await;
}

#[tokio::test]
async fn an_account_activated_mid_month_pays_from_that_day() {
    let db = TestDb::new().await.expect("db");
    db.apply_demo_tenants().await.expect("tenants");
    let tenant = demo(&db).await;
    let joined = new_subscriber(&db, tenant, "330001", 1_000_000).await;
    let veteran = new_subscriber(&db, tenant, "330002", 1_000_000).await;
    let mut admin = db.admin().await.expect("admin");
    sqlx::query(
        "UPDATE accounts SET status_changed_at = '2030-05-21T08:00:00Z' WHERE subscriber_id = $1",
    )
    .bind(joined.as_uuid())
    .execute(&mut admin)
    .await
    .expect("backdate");
    let may = BillingMonth::parse("2030-05").expect("month");
    let mut tx = at(&db, tenant).await;
    run_monthly_charges(&mut tx, may).await.expect("charge");
    tx.commit().await.expect("commit");
    // May 21–31: 11 of 31 days of 550.00.
    assert_eq!(
        summary(&db, tenant, joined).await.balance.minor,
        -kabinet_billing::prorate(55_000, may, 21)
    );
    assert_eq!(summary(&db, tenant, veteran).await.balance.minor, -55_000);
    // A month before it became active is not charged at all.
    let april = BillingMonth::parse("2030-04").expect("month");
    sqlx::query(
        "UPDATE accounts SET status_changed_at = '2030-05-21T08:00:00Z' WHERE subscriber_id = $1",
    )
    .bind(veteran.as_uuid())
    .execute(&mut admin)
    .await
    .expect("backdate");
    let mut tx = at(&db, tenant).await;
    let run = run_monthly_charges(&mut tx, april).await.expect("charge");
    tx.commit().await.expect("commit");
    assert_eq!(summary(&db, tenant, veteran).await.balance.minor, -55_000);
    assert!(
        run.charged <= 1,
        "only 100001 may be charged for April: {run:?}"
    );
    assert_invariants(&db, tenant).await;
}

#[tokio::test]
async fn staff_correct_balances_and_reverse_movements_once_with_an_audit_trail() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let base = "/api/v1/console/subscribers/100002";
    // 100002 is blocked at -120.00 (credit limit 0): a goodwill credit of 150.00 unblocks.
    let credit =
        json!({"amount_minor": 15_000, "reason": "Outage on 12 Nov", "reference": "TCK-77"});
    let done = json_body(
        owner.post(&format!("{base}/corrections"), &credit).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(done["balance"]["minor"], 3_000);
    assert_eq!(done["account_status"], "active");
    assert_eq!(done["movement"]["kind"], "correction");
    // The same reference again: nothing new; with another amount: a conflict.
    let again = json_body(
        owner.post(&format!("{base}/corrections"), &credit).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["created"], false);
    assert_eq!(again["balance"]["minor"], 3_000);
    assert_problem(
        owner
            .post(
                &format!("{base}/corrections"),
                &json!({"amount_minor": 1, "reason": "x", "reference": "TCK-77"}),
            )
            .await,
        StatusCode::CONFLICT,
        "idempotency_conflict",
    )
    .await;
    assert_problem(
        owner
            .post(
                &format!("{base}/corrections"),
                &json!({"amount_minor": 0, "reason": "x", "reference": "TCK-78"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_positive",
    )
    .await;

    // Reversing the correction restores the debt and the block, once.
    let correction = done["movement"]["id"].as_str().expect("id").to_owned();
    let reverse = format!("{base}/movements/{correction}/reversal");
    let reversed = json_body(
        owner
            .post(&reverse, &json!({"reason": "Entered on the wrong account"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(reversed["balance"]["minor"], -12_000);
    assert_eq!(reversed["account_status"], "blocked");
    assert_eq!(reversed["movement"]["kind"], "reversal");
    let twice = json_body(
        owner.post(&reverse, &json!({"reason": "again"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(twice["created"], false);
    assert_eq!(twice["balance"]["minor"], -12_000);
    // A reversal cannot be reversed; another subscriber's movement reads as missing.
    let reversal = reversed["movement"]["id"].as_str().expect("id");
    assert_problem(
        owner
            .post(
                &format!("{base}/movements/{reversal}/reversal"),
                &json!({"reason": "no"}),
            )
            .await,
        StatusCode::CONFLICT,
        "not_reversible",
    )
    .await;
    assert_problem(
        owner
            .post(
                &format!("/api/v1/console/subscribers/100001/movements/{correction}/reversal"),
                &json!({"reason": "no"}),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Read-only staff may not.
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    assert_problem(
        viewer
            .post(
                &format!("{base}/corrections"),
                &json!({"amount_minor": 1, "reason": "x", "reference": "V-1"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let mut admin = app.db.admin().await.expect("admin");
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE action IN ('balance.correct', 'movement.reverse') ORDER BY at")
        .fetch_all(&mut admin)
        .await
        .expect("audit");
    assert_eq!(actions, ["balance.correct", "movement.reverse"]);
    let mut tx = app
        .state
        .db
        .tenant_tx(demo(&app.db).await)
        .await
        .expect("tx");
    assert!(verify(&mut tx).await.expect("verify").is_empty());
}
