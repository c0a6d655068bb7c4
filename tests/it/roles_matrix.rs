//! The role × endpoint matrix, generated from the OpenAPI document: every staff operation (any
//! operation whose security is the staff session) must have a decision in [`DECISIONS`], or
//! this test fails. Each built-in role then calls each operation with harmless input (unknown
//! ids, minimal valid bodies): a refusal must be 403 `forbidden`, an allowance anything but
//! 401 or 403. So a handler that looks a record up before checking the permission shows here
//! as a 404 where a 403 belongs.

use kabinet_access::{Permission, Role};
use kabinet_tests::{Client, TestApp, json};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

use crate::staff_roles::add_staff;

enum Decision {
    /// Needs this permission (`object.action`).
    Needs(&'static str),
    /// Any signed-in staff member of the ISP (their own profile and security).
    AnyStaff,
}

use Decision::{AnyStaff, Needs};

/// The decision for every staff operation, by operationId.
const DECISIONS: &[(&str, Decision)] = &[
    // Tickets
    ("listQueue", Needs("tickets.read")),
    ("getQueueTicket", Needs("tickets.read")),
    ("replyToTicket", Needs("tickets.reply")),
    ("addTicketNote", Needs("tickets.reply")),
    ("setTicketStatus", Needs("tickets.manage")),
    ("setTicketPriority", Needs("tickets.manage")),
    ("assignTicket", Needs("tickets.manage")),
    ("unassignTicket", Needs("tickets.manage")),
    ("setTicketTags", Needs("tickets.manage")),
    ("listTicketAgents", Needs("tickets.read")),
    ("listTicketTags", Needs("tickets.read")),
    ("getTicketSettings", Needs("tickets.read")),
    ("putTicketSettings", Needs("settings.manage")),
    // The ISP's ticket categories
    ("listTicketCategories", Needs("tickets.read")),
    ("createTicketCategory", Needs("settings.manage")),
    ("updateTicketCategory", Needs("settings.manage")),
    ("deleteTicketCategory", Needs("settings.manage")),
    ("reorderTicketCategories", Needs("settings.manage")),
    // Attachment limits and storage use
    ("getAttachmentSettings", Needs("settings.manage")),
    ("updateAttachmentSettings", Needs("settings.manage")),
    // The ISP's letter templates (ru/en)
    // The ISP's configuration as a manifest file
    ("exportManifest", Needs("settings.manage")),
    ("listLetterTemplates", Needs("settings.manage")),
    ("putLetterTemplate", Needs("settings.manage")),
    ("resetLetterTemplate", Needs("settings.manage")),
    ("previewLetterTemplate", Needs("settings.manage")),
    ("searchTickets", Needs("tickets.read")),
    ("getDeflectionStats", Needs("tickets.read")),
    // Outage incidents
    ("listIncidents", Needs("tickets.read")),
    ("listSuggestedIncidents", Needs("tickets.read")),
    ("dismissSuggestedIncident", Needs("incidents.manage")),
    ("getIncident", Needs("tickets.read")),
    ("declareIncident", Needs("incidents.manage")),
    ("linkIncidentTickets", Needs("incidents.manage")),
    ("unlinkIncidentTicket", Needs("incidents.manage")),
    ("postIncidentUpdate", Needs("incidents.manage")),
    ("closeIncident", Needs("incidents.manage")),
    // Auto-assignment: groups, shifts
    ("listAgentGroups", Needs("tickets.manage")),
    ("createAgentGroup", Needs("tickets.manage")),
    ("updateAgentGroup", Needs("tickets.manage")),
    ("deleteAgentGroup", Needs("tickets.manage")),
    ("listOnShiftAgents", Needs("tickets.read")),
    ("getMyShift", Needs("tickets.reply")),
    ("setMyShift", Needs("tickets.reply")),
    ("listShiftSchedules", Needs("tickets.manage")),
    ("getShiftSchedule", Needs("tickets.manage")),
    ("putShiftSchedule", Needs("tickets.manage")),
    ("getMyShiftSchedule", Needs("tickets.reply")),
    ("putMyShiftSchedule", Needs("tickets.reply")),
    ("listTicketRatings", Needs("tickets.read")),
    ("getDeskAnalytics", Needs("analytics.read")),
    ("exportDeskAnalytics", Needs("analytics.read")),
    ("downloadTicketAttachment", Needs("tickets.read")),
    ("listCannedReplies", Needs("tickets.reply")),
    ("createCannedReply", Needs("canned.manage")),
    ("updateCannedReply", Needs("canned.manage")),
    ("deleteCannedReply", Needs("canned.manage")),
    ("renderCannedReply", Needs("tickets.reply")),
    ("mergeTicket", Needs("tickets.manage")),
    ("getTicketMerge", Needs("tickets.read")),
    // Knowledge base
    ("listKbArticles", Needs("kb.manage")),
    ("searchKbArticles", Needs("kb.manage")),
    ("createKbArticle", Needs("kb.manage")),
    ("getKbArticle", Needs("kb.manage")),
    ("updateKbArticle", Needs("kb.manage")),
    // Subscribers
    ("searchSubscribers", Needs("subscribers.read")),
    ("listTariffChoices", Needs("subscribers.read")),
    ("createSubscriber", Needs("subscribers.write")),
    ("getSubscriber", Needs("subscribers.read")),
    ("updateSubscriber", Needs("subscribers.write")),
    ("setSubscriberBlock", Needs("subscribers.write")),
    ("inviteSubscriber", Needs("subscribers.write")),
    ("importSubscribers", Needs("subscribers.write")),
    // Billing
    ("listSubscriberMovements", Needs("billing.read")),
    ("recordPayment", Needs("billing.write")),
    ("correctBalance", Needs("billing.write")),
    ("reverseMovement", Needs("billing.write")),
    ("getSubscriberStatement", Needs("billing.read")),
    ("downloadSubscriberStatement", Needs("billing.read")),
    ("downloadSubscriberStatementPdf", Needs("billing.read")),
    // Equipment orders and news
    ("listEquipmentOrders", Needs("orders.read")),
    ("getEquipmentOrder", Needs("orders.read")),
    ("changeEquipmentOrderStatus", Needs("orders.manage")),
    // The catalogue editors: tariffs, add-ons, equipment
    ("listCatalogueTariffs", Needs("catalogue.manage")),
    ("createCatalogueTariff", Needs("catalogue.manage")),
    ("updateCatalogueTariff", Needs("catalogue.manage")),
    ("archiveCatalogueTariff", Needs("catalogue.manage")),
    ("unarchiveCatalogueTariff", Needs("catalogue.manage")),
    ("listCatalogueAddons", Needs("catalogue.manage")),
    ("createCatalogueAddon", Needs("catalogue.manage")),
    ("updateCatalogueAddon", Needs("catalogue.manage")),
    ("archiveCatalogueAddon", Needs("catalogue.manage")),
    ("unarchiveCatalogueAddon", Needs("catalogue.manage")),
    ("listCatalogueEquipment", Needs("catalogue.manage")),
    ("createCatalogueEquipment", Needs("catalogue.manage")),
    ("updateCatalogueEquipment", Needs("catalogue.manage")),
    ("archiveCatalogueEquipment", Needs("catalogue.manage")),
    ("unarchiveCatalogueEquipment", Needs("catalogue.manage")),
    ("listNews", Needs("news.manage")),
    ("listNewsTargets", Needs("news.manage")),
    ("createNews", Needs("news.manage")),
    ("getNews", Needs("news.manage")),
    ("updateNews", Needs("news.manage")),
    ("unpublishNews", Needs("news.manage")),
    ("publishNews", Needs("news.manage")),
    // Network
    ("listNas", Needs("network.read")),
    ("getNetworkSettings", Needs("network.read")),
    ("registerNas", Needs("network.manage")),
    ("updateNas", Needs("network.manage")),
    ("rotateNasSecret", Needs("network.manage")),
    ("updateNetworkSettings", Needs("network.manage")),
    ("deleteNas", Needs("network.manage")),
    ("listOnlineSessions", Needs("network.read")),
    ("listServiceLogins", Needs("network.read")),
    ("createServiceLogin", Needs("network.manage")),
    ("updateServiceLogin", Needs("network.manage")),
    ("deleteServiceLogin", Needs("network.manage")),
    ("getSubscriberNetwork", Needs("network.read")),
    // Onboarding
    ("getOnboarding", AnyStaff),
    // SaaS plan page (limits, usage, billing standing)
    ("getConsolePlan", AnyStaff),
    ("getConsoleSaasBilling", AnyStaff),
    // The card the Kabinet subscription is charged to: the owner's alone.
    ("startSaasCardSetup", Needs("subscription.manage")),
    ("completeSaasCardSetup", Needs("subscription.manage")),
    ("publishPortal", Needs("settings.manage")),
    ("getBranding", Needs("settings.manage")),
    ("updateBranding", Needs("settings.manage")),
    ("getCardPayments", Needs("settings.manage")),
    ("startStripeOnboarding", Needs("settings.manage")),
    ("refreshCardPayments", Needs("settings.manage")),
    // Custom domains (DNS TXT verification)
    ("listCustomDomains", Needs("settings.manage")),
    ("addCustomDomain", Needs("settings.manage")),
    ("verifyCustomDomain", Needs("settings.manage")),
    ("removeCustomDomain", Needs("settings.manage")),
    // Staff, roles and audit
    ("listPermissions", Needs("staff.manage")),
    ("listRoles", Needs("staff.manage")),
    ("createRole", Needs("staff.manage")),
    ("updateRole", Needs("staff.manage")),
    ("deleteRole", Needs("staff.manage")),
    ("listStaff", Needs("staff.manage")),
    ("setStaffRole", Needs("staff.manage")),
    ("setStaffActive", Needs("staff.manage")),
    ("getStaffSecurity", Needs("staff.manage")),
    ("putStaffSecurity", Needs("staff.manage")),
    ("listInvitations", Needs("staff.manage")),
    ("createInvitation", Needs("staff.manage")),
    ("resendInvitation", Needs("staff.manage")),
    ("revokeInvitation", Needs("staff.manage")),
    ("listAudit", Needs("audit.read")),
    ("exportAudit", Needs("audit.read")),
    ("verifyAudit", Needs("audit.read")),
    // Operator support visits: the owner (and whoever reads the audit log) sees them; ending
    // one is a staff-access decision.
    ("listImpersonations", Needs("audit.read")),
    ("endImpersonation", Needs("staff.manage")),
    // Own account security
    ("getStaffTwoFactor", AnyStaff),
    ("startStaffTwoFactor", AnyStaff),
    ("confirmStaffTwoFactor", AnyStaff),
    ("disableStaffTwoFactor", AnyStaff),
    ("regenerateStaffRecoveryCodes", AnyStaff),
];

struct Operation {
    id: String,
    method: Method,
    path: String,
    body: Option<(String, Value)>,
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().expect("ref name");
            resolve(spec, &spec["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A minimal value the schema accepts: required properties only, the first enum value, the
/// smallest number, a known-good string for a pattern.
fn example(spec: &Value, schema: &Value) -> Value {
    let schema = resolve(spec, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(o) = example(spec, part) {
                merged.extend(o);
            }
        }
        return Value::Object(merged);
    }
    if let Some(one) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let mut value = example(spec, &one[0]);
        if let (Some(d), Value::Object(o)) = (schema.get("discriminator"), &mut value) {
            let property = d["propertyName"].as_str().expect("discriminator");
            if let Some(mapping) = d.get("mapping").and_then(Value::as_object) {
                let first_ref = one[0]["$ref"].as_str().unwrap_or_default();
                let key = mapping
                    .iter()
                    .find(|(_, r)| r.as_str() == Some(first_ref))
                    .map(|(k, _)| k.clone())
                    .unwrap_or_else(|| mapping.keys().next().expect("mapping").clone());
                o.insert(property.into(), Value::String(key));
            }
        }
        return value;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values[0].clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    if required.contains(&name.as_str()) {
                        out.insert(name.clone(), example(spec, prop));
                    }
                }
            }
            Value::Object(out)
        }
        Some("array") => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            Value::Array((0..min).map(|_| example(spec, &schema["items"])).collect())
        }
        Some("integer") | Some("number") => {
            // poem-openapi writes bounds as floats (`60.0`).
            let bound = |key: &str| schema.get(key).and_then(Value::as_f64).map(|b| b as i64);
            json!(
                bound("minimum")
                    .unwrap_or(1)
                    .max(1)
                    .min(bound("maximum").unwrap_or(i64::MAX))
            )
        }
        Some("boolean") => json!(false),
        Some("string") => string_example(schema),
        _ => Value::Null,
    }
}

fn string_example(schema: &Value) -> Value {
    match schema.get("format").and_then(Value::as_str) {
        Some("uuid") => return json!(uuid::Uuid::now_v7()),
        Some("date-time") => return json!(chrono::Utc::now()),
        Some("date") | Some("naive-date") => return json!(chrono::Utc::now().date_naive()),
        Some("email") => return json!("nobody@example.com"),
        _ => {}
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        // Known patterns of the spec and a value each accepts.
        let known: &[(&str, &str)] = &[
            ("24:00", "09:00"),
            ("[0-9A-Za-z-]", "nosuch0"),
            ("\\+", "+79001234567"),
            ("[0-9]{4}-[0-9]{2}", "2026-01"),
            ("[a-z0-9", "nosuch"),
            ("^[0-9]+$", "100"),
            ("^[A-Za-z]{2}$", "RU"),
        ];
        if let Some((_, value)) = known.iter().find(|(p, _)| pattern.contains(p)) {
            return json!(value);
        }
        panic!("no example for the string pattern {pattern:?}: add one to string_example");
    }
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize;
    json!("x".repeat(min.max(1)))
}

fn path_value(spec: &Value, param: &Value) -> String {
    let schema = resolve(spec, &param["schema"]);
    match schema.get("format").and_then(Value::as_str) {
        Some("uuid") => uuid::Uuid::now_v7().to_string(),
        _ => match example(spec, schema) {
            Value::String(s) => s,
            other => other.to_string(),
        },
    }
}

/// Every operation whose security is the staff session.
fn staff_operations(spec: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let staff = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|req| req.get("StaffSession").is_some()));
            if !staff {
                continue;
            }
            let mut concrete = path.clone();
            let mut query = Vec::new();
            for param in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = param["name"].as_str().expect("name");
                match param["in"].as_str() {
                    Some("path") => {
                        concrete =
                            concrete.replace(&format!("{{{name}}}"), &path_value(spec, param));
                    }
                    Some("query") if param["required"] == true => {
                        query.push(format!("{name}={}", path_value(spec, param)));
                    }
                    _ => {}
                }
            }
            if !query.is_empty() {
                concrete = format!("{concrete}?{}", query.join("&"));
            }
            let body = op
                .get("requestBody")
                .and_then(|b| b["content"].as_object())
                .and_then(|content| content.iter().next())
                .map(|(content_type, media)| {
                    let value = if content_type.starts_with("application/json") {
                        example(spec, &media["schema"])
                    } else {
                        Value::Null
                    };
                    (content_type.clone(), value)
                });
            out.push(Operation {
                id: op["operationId"].as_str().expect("operationId").to_owned(),
                method: Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                path: concrete,
                body,
            });
        }
    }
    out
}

async fn call(client: &Client, op: &Operation) -> (StatusCode, String) {
    let mut req = client.raw().request(
        op.method.clone(),
        client.url(&format!("/api/v1{}", op.path)),
    );
    if let Some(token) = &client.csrf {
        req = req.header("x-csrf-token", token);
    }
    req = match &op.body {
        Some((content_type, value)) if content_type.starts_with("application/json") => {
            req.json(value)
        }
        Some((content_type, _)) if content_type.starts_with("multipart/") => {
            let boundary = "matrixboundary";
            req.header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\naccount_number\r\n--{boundary}--\r\n"
            ))
        }
        Some((content_type, _)) => req
            .header("content-type", content_type.as_str())
            .body("account_number\n"),
        None => req,
    };
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_staff_endpoint_has_a_decision_and_every_built_in_role_gets_it() {
    let spec: Value = serde_json::from_str(&kabinet_gateway::openapi_json()).expect("spec");
    let operations = staff_operations(&spec);
    assert!(operations.len() > 40, "the spec lists the console");
    let undecided: Vec<&str> = operations
        .iter()
        .map(|o| o.id.as_str())
        .filter(|id| !DECISIONS.iter().any(|(d, _)| d == id))
        .collect();
    assert!(
        undecided.is_empty(),
        "staff endpoints without a decision in roles_matrix.rs DECISIONS: {undecided:?}"
    );
    let stale: Vec<&str> = DECISIONS
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !operations.iter().any(|o| o.id == *id))
        .collect();
    assert!(
        stale.is_empty(),
        "decisions for operations that no longer exist: {stale:?}"
    );
    for (_, decision) in DECISIONS {
        if let Needs(name) = decision {
            assert!(
                Permission::parse(name).is_some(),
                "unknown permission {name}"
            );
        }
    }

    let app = TestApp::spawn().await.expect("app");
    let mut people = vec![
        (Role::Owner, "owner@demo.example".to_owned()),
        (Role::SupportAgent, "agent@demo.example".to_owned()),
        (Role::ReadOnly, "viewer@demo.example".to_owned()),
    ];
    for role in [Role::Admin, Role::BillingClerk, Role::Technician] {
        let email = format!("{}@demo.example", role.as_str().replace('_', "-"));
        add_staff(&app, "demo", &email, role).await;
        people.push((role, email));
    }
    assert_eq!(
        people.len(),
        Role::ALL.len(),
        "every built-in role is exercised"
    );

    let mut failures = Vec::new();
    for (role, email) in &people {
        let client = app.staff("demo.localhost", email).await;
        for op in &operations {
            let (_, decision) = DECISIONS
                .iter()
                .find(|(id, _)| *id == op.id)
                .expect("decided");
            let allowed = match decision {
                AnyStaff => true,
                Needs(name) => role.permissions().iter().any(|p| p.name() == *name),
            };
            let (status, body) = call(&client, op).await;
            let ok = if allowed {
                status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
            } else {
                status == StatusCode::FORBIDDEN && body.contains("\"code\":\"forbidden\"")
            };
            if !ok {
                failures.push(format!(
                    "{} {} {} as {}: expected {}, got {status} {}",
                    op.id,
                    op.method,
                    op.path,
                    role.as_str(),
                    if allowed { "allowed" } else { "403 forbidden" },
                    body.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
