//! Staff and roles: custom roles take effect (and stop) at once on every node, deactivated
//! staff lose every session, nobody grants beyond their own permissions, the owner's
//! two-factor rule holds staff to enrolment, and one ISP cannot touch another's staff.

use kabinet_access::Role;
use kabinet_access::directory::{StaffSpec, upsert_staff};
use kabinet_core::TenantId;
use kabinet_db::sqlx;
use kabinet_tests::{
    Client, PASSWORD, TestApp, assert_problem, json, json_body, totp_code, unix_now,
};
use reqwest::StatusCode;
use serde_json::Value;

const DEMO: &str = "demo.localhost";

pub async fn staff_id(owner: &Client, email: &str) -> String {
    let list = json_body(owner.get("/api/v1/console/staff").await, StatusCode::OK).await;
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["email"] == email)
        .unwrap_or_else(|| panic!("{email} in {list}"))["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Adds a staff member with a built-in role to an ISP, as a manifest would.
pub async fn add_staff(app: &TestApp, slug: &str, email: &str, role: Role) {
    let mut admin = app.db.admin().await.expect("admin");
    let tenant: uuid::Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_one(&mut admin)
        .await
        .expect("tenant");
    let mut tx = app.db.db.tenant_tx(TenantId(tenant)).await.expect("tx");
    upsert_staff(
        &mut tx,
        &StaffSpec {
            email: email.into(),
            display_name: format!("Test {}", role.as_str()),
            roles: vec![role],
            initial_password: Some(PASSWORD.into()),
        },
    )
    .await
    .expect("staff");
    tx.commit().await.expect("commit");
}

async fn set_role(owner: &Client, staff: &str, role: Value) -> reqwest::Response {
    owner
        .put(&format!("/api/v1/console/staff/{staff}/role"), &role)
        .await
}

#[tokio::test]
async fn a_custom_role_grants_and_revokes_at_once_on_every_node() {
    let app = TestApp::spawn().await.expect("app");
    let node_b = app.second_node().await.expect("node b");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let viewer_on_b = node_b.staff(DEMO, "viewer@demo.example").await;
    // Node B has built (and cached) the ISP's enforcer: audit.read is refused.
    assert_problem(
        viewer_on_b.get("/api/v1/console/audit").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let role = json_body(
        owner
            .post(
                "/api/v1/console/roles",
                &json!({"name": "Auditor", "description": "Reads the log",
                        "permissions": ["audit.read", "tickets.read"]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(role["permissions"], json!(["tickets.read", "audit.read"]));
    assert_eq!(role["members"], 0);
    let role_id = role["id"].as_str().expect("id");
    let viewer = staff_id(&owner, "viewer@demo.example").await;
    let assigned = json_body(
        set_role(&owner, &viewer, json!({"kind": "custom", "id": role_id})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(assigned["roles"], json!([]));
    assert_eq!(assigned["custom_roles"][0]["name"], "Auditor");

    // Granted on node A; node B answers by the new rules on the very next request.
    json_body(
        viewer_on_b.get("/api/v1/console/audit").await,
        StatusCode::OK,
    )
    .await;
    // What the role no longer has (subscribers.read came with read_only) is gone too.
    assert_problem(
        viewer_on_b.get("/api/v1/console/subscribers").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let session = json_body(viewer_on_b.get("/api/v1/session").await, StatusCode::OK).await;
    assert_eq!(
        session["permissions"],
        json!(["tickets.read", "audit.read"])
    );

    // Revoked by editing the role on node A: refused on node B at once.
    json_body(
        owner
            .put(
                &format!("/api/v1/console/roles/{role_id}"),
                &json!({"name": "Auditor", "permissions": ["tickets.read"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        viewer_on_b.get("/api/v1/console/audit").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    json_body(
        viewer_on_b.get("/api/v1/console/tickets").await,
        StatusCode::OK,
    )
    .await;

    // A role in use cannot be deleted; back to read_only, then it can.
    assert_problem(
        owner
            .delete(&format!("/api/v1/console/roles/{role_id}"))
            .await,
        StatusCode::CONFLICT,
        "role_in_use",
    )
    .await;
    json_body(
        set_role(
            &owner,
            &viewer,
            json!({"kind": "built_in", "role": "read_only"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    json_body(
        viewer_on_b.get("/api/v1/console/subscribers").await,
        StatusCode::OK,
    )
    .await;
    let gone = owner
        .delete(&format!("/api/v1/console/roles/{role_id}"))
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);

    // Every step is in the log with its before and after.
    let log = json_body(
        owner.get("/api/v1/console/audit?action=staff.role").await,
        StatusCode::OK,
    )
    .await;
    let last = &log["items"][0];
    assert_eq!(last["target"], format!("staff:{viewer}"));
    assert_eq!(
        last["details"]["before"]["custom_roles"][0]["name"],
        "Auditor"
    );
    assert_eq!(last["details"]["after"]["roles"], json!(["read_only"]));
}

#[tokio::test]
async fn deactivated_staff_lose_every_session_and_cannot_sign_in() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let desk = app.staff(DEMO, "agent@demo.example").await;
    let laptop = app.second_node().await.expect("node b");
    let laptop = laptop.staff(DEMO, "agent@demo.example").await;
    json_body(desk.get("/api/v1/console/tickets").await, StatusCode::OK).await;
    let agent = staff_id(&owner, "agent@demo.example").await;

    let off = json_body(
        owner
            .put(
                &format!("/api/v1/console/staff/{agent}/active"),
                &json!({"active": false}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(off["active"], false);
    for client in [&desk, &laptop] {
        assert_problem(
            client.get("/api/v1/console/tickets").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
    }
    let mut again = app.client(DEMO);
    assert_problem(
        again.login_staff("agent@demo.example", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let log = json_body(
        owner
            .get("/api/v1/console/audit?action=staff.deactivate")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(log["items"][0]["details"]["sessions_ended"], 2);
    assert_eq!(log["items"][0]["details"]["before"]["active"], true);
    assert_eq!(log["items"][0]["details"]["after"]["active"], false);

    // Reactivated: a new sign-in works; the old sessions stay ended.
    json_body(
        owner
            .put(
                &format!("/api/v1/console/staff/{agent}/active"),
                &json!({"active": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_problem(
        desk.get("/api/v1/console/tickets").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    json_body(
        again.login_staff("agent@demo.example", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn nobody_grants_or_changes_beyond_their_own_permissions() {
    let app = TestApp::spawn().await.expect("app");
    add_staff(&app, "demo", "admin@demo.example", Role::Admin).await;
    let owner = app.staff(DEMO, "owner@demo.example").await;
    let admin = app.staff(DEMO, "admin@demo.example").await;
    let owner_id = staff_id(&owner, "owner@demo.example").await;
    let agent_id = staff_id(&owner, "agent@demo.example").await;

    // Admins hold staff.manage but not audit.read: no role with it, no owner made or unmade.
    assert_problem(
        admin
            .post(
                "/api/v1/console/roles",
                &json!({"name": "Sneaky", "permissions": ["audit.read"]}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "beyond_own_permissions",
    )
    .await;
    assert_problem(
        set_role(
            &admin,
            &agent_id,
            json!({"kind": "built_in", "role": "owner"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "beyond_own_permissions",
    )
    .await;
    assert_problem(
        set_role(
            &admin,
            &owner_id,
            json!({"kind": "built_in", "role": "read_only"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "beyond_own_permissions",
    )
    .await;
    assert_problem(
        owner
            .put(
                &format!("/api/v1/console/staff/{owner_id}/active"),
                &json!({"active": false}),
            )
            .await,
        StatusCode::CONFLICT,
        "own_access",
    )
    .await;
    assert_problem(
        set_role(
            &owner,
            &owner_id,
            json!({"kind": "built_in", "role": "read_only"}),
        )
        .await,
        StatusCode::CONFLICT,
        "own_access",
    )
    .await;
    // Within their own permissions an admin may act.
    json_body(
        set_role(
            &admin,
            &agent_id,
            json!({"kind": "built_in", "role": "technician"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // The permission is typed: a raw casbin-like string is refused before anything runs.
    let refused = owner
        .post(
            "/api/v1/console/roles",
            &json!({"name": "Raw", "permissions": ["p, role:x, audit, read"]}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_problem(
        owner
            .post(
                "/api/v1/console/roles",
                &json!({"name": "Empty", "permissions": []}),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    json_body(
        owner
            .post(
                "/api/v1/console/roles",
                &json!({"name": "Desk", "permissions": ["tickets.read"]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_problem(
        owner
            .post(
                "/api/v1/console/roles",
                &json!({"name": "  desk ", "permissions": ["tickets.read"]}),
            )
            .await,
        StatusCode::CONFLICT,
        "already_taken",
    )
    .await;

    // Another ISP's owner cannot see or touch demo's staff or roles.
    let northnet = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    assert_problem(
        set_role(
            &northnet,
            &agent_id,
            json!({"kind": "built_in", "role": "read_only"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let theirs = json_body(northnet.get("/api/v1/console/roles").await, StatusCode::OK).await;
    assert!(theirs["custom"].as_array().expect("custom").is_empty());
    let their_staff = json_body(northnet.get("/api/v1/console/staff").await, StatusCode::OK).await;
    assert!(
        their_staff["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|s| s["email"]
                .as_str()
                .is_some_and(|e| e.ends_with("@northnet.example")))
    );
}

async fn enrol(client: &Client) {
    let started = json_body(
        client
            .post(
                "/api/v1/console/me/two-factor/enrollment",
                &json!({"password": PASSWORD}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let code = totp_code(started["secret"].as_str().expect("secret"), unix_now());
    json_body(
        client
            .post(
                "/api/v1/console/me/two-factor/confirm",
                &json!({"code": code}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn required_two_factor_holds_staff_to_enrolment() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff(DEMO, "owner@demo.example").await;
    // Not without it on the owner's own account: that would lock the owner out.
    assert_problem(
        owner
            .put(
                "/api/v1/console/staff-security",
                &json!({"require_two_factor": true}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "two_factor_required",
    )
    .await;
    enrol(&owner).await;
    json_body(
        owner
            .put(
                "/api/v1/console/staff-security",
                &json!({"require_two_factor": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    let agent = app.staff(DEMO, "agent@demo.example").await;
    assert_problem(
        agent.get("/api/v1/console/tickets").await,
        StatusCode::FORBIDDEN,
        "two_factor_required",
    )
    .await;
    let session = json_body(agent.get("/api/v1/session").await, StatusCode::OK).await;
    assert_eq!(session["two_factor_required"], true);
    assert_eq!(session["permissions"], json!([]));
    enrol(&agent).await;
    json_body(agent.get("/api/v1/console/tickets").await, StatusCode::OK).await;
    let session = json_body(agent.get("/api/v1/session").await, StatusCode::OK).await;
    assert_eq!(session["two_factor_required"], false);

    // Northnet's staff are not held by demo's rule.
    let other = app
        .staff("northnet.localhost", "owner@northnet.example")
        .await;
    json_body(other.get("/api/v1/console/tickets").await, StatusCode::OK).await;
}

/// Gives an ISP rows in every staff-access table (for the isolation test): a custom role held
/// by a staff member, and the staff sign-in rules.
pub async fn seed_roles(app: &TestApp, slug: &str, owner: &Client) {
    let email = format!("seed-tech@{slug}.example");
    add_staff(app, slug, &email, Role::Technician).await;
    let role = json_body(
        owner
            .post(
                "/api/v1/console/roles",
                &json!({"name": "Seed role", "permissions": ["tickets.read"]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let staff = staff_id(owner, &email).await;
    json_body(
        set_role(owner, &staff, json!({"kind": "custom", "id": role["id"]})).await,
        StatusCode::OK,
    )
    .await;
    json_body(
        owner
            .put(
                "/api/v1/console/staff-security",
                &json!({"require_two_factor": false}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
}
