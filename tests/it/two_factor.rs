//! Two-factor authentication: enrollment, the second sign-in step, replayed and wrong codes,
//! recovery codes, challenge expiry and attempt limits, turning it off; subscribers and staff.

use kabinet_db::sqlx;
use kabinet_tests::{
    Client, PASSWORD, TestApp, assert_problem, json, json_body, totp_code, unix_now,
};
use reqwest::StatusCode;
use serde_json::Value;

/// Two-factor authentication as the web app turns it on: returns the secret, the recovery codes
/// and the moment the confirming code was read (its 30-second step is now used up).
struct Enabled {
    secret: String,
    codes: Vec<String>,
    confirmed_at: u64,
}

async fn enable(client: &Client, base: &str) -> Enabled {
    let started = client
        .post(
            &format!("{base}/two-factor/enrollment"),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(
        started
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let started = json_body(started, StatusCode::CREATED).await;
    let secret = started["secret"].as_str().expect("secret").to_owned();
    let confirmed_at = unix_now();
    let confirmed = json_body(
        client
            .post(
                &format!("{base}/two-factor/confirm"),
                &json!({"code": totp_code(&secret, confirmed_at)}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let codes = confirmed["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    Enabled {
        secret,
        codes,
        confirmed_at,
    }
}

/// The password step on a fresh client; asserts it asks for the second factor.
async fn password_step(
    app: &TestApp,
    host: &str,
    login: Option<&str>,
    staff: Option<&str>,
) -> (Client, String) {
    let mut client = app.client(host);
    let resp = match (login, staff) {
        (Some(login), _) => client.login_subscriber(login, PASSWORD).await,
        (_, Some(email)) => client.login_staff(email, PASSWORD).await,
        _ => unreachable!(),
    };
    assert!(
        resp.headers().get("set-cookie").is_none(),
        "no session before the second factor"
    );
    let body = json_body(resp, StatusCode::OK).await;
    assert_eq!(body["outcome"], "second_factor_required", "{body}");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert!(body.get("csrf_token").is_none(), "{body}");
    let challenge = body["challenge"].as_str().expect("challenge").to_owned();
    (client, challenge)
}

#[tokio::test]
async fn a_subscriber_turns_on_totp_and_then_signs_in_with_a_code_once() {
    let app = TestApp::spawn().await.expect("app");
    let me = app.subscriber("demo.localhost", "100001").await;
    let status = json_body(me.get("/api/v1/me/two-factor").await, StatusCode::OK).await;
    assert_eq!(status, json!({"enabled": false, "recovery_codes_left": 0}));

    // The password is asked again; a wrong one changes nothing.
    assert_problem(
        me.post(
            "/api/v1/me/two-factor/enrollment",
            &json!({"password": "not my password"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    )
    .await;
    // Confirming before starting.
    assert_problem(
        me.post("/api/v1/me/two-factor/confirm", &json!({"code": "123456"}))
            .await,
        StatusCode::CONFLICT,
        "no_two_factor_enrollment",
    )
    .await;

    let started = json_body(
        me.post(
            "/api/v1/me/two-factor/enrollment",
            &json!({"password": PASSWORD}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let secret = started["secret"].as_str().expect("secret").to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    let uri = started["otpauth_uri"].as_str().expect("uri");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("100001") && uri.contains("issuer="), "{uri}");
    let svg = started["qr_svg"].as_str().expect("svg");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");

    // Pending only: sign-in is unchanged until a code confirms it.
    let pending = json_body(me.get("/api/v1/me/two-factor").await, StatusCode::OK).await;
    assert_eq!(pending["enabled"], false);
    let mut other = app.client("demo.localhost");
    let body = json_body(
        other.login_subscriber("100001", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["outcome"], "signed_in");

    assert_problem(
        me.post("/api/v1/me/two-factor/confirm", &json!({"code": "000000"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_two_factor_code",
    )
    .await;
    let confirmed_at = unix_now();
    let first_code = totp_code(&secret, confirmed_at);
    let confirmed = json_body(
        me.post(
            "/api/v1/me/two-factor/confirm",
            &json!({"code": first_code}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let codes = confirmed["codes"].as_array().expect("codes");
    assert_eq!(codes.len(), 10);
    for code in codes {
        let code = code.as_str().expect("code");
        assert_eq!(code.len(), 14, "XXXX-XXXX-XXXX: {code}");
    }
    let status = json_body(me.get("/api/v1/me/two-factor").await, StatusCode::OK).await;
    assert_eq!(status["enabled"], true);
    assert_eq!(status["recovery_codes_left"], 10);
    assert!(status["enabled_at"].is_string());
    assert_problem(
        me.post(
            "/api/v1/me/two-factor/enrollment",
            &json!({"password": PASSWORD}),
        )
        .await,
        StatusCode::CONFLICT,
        "two_factor_enabled",
    )
    .await;

    // The password alone no longer opens a session.
    let (mut client, challenge) = password_step(&app, "demo.localhost", Some("100001"), None).await;
    assert_problem(
        client.get("/api/v1/session").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        client.login_second_factor(&challenge, "000000").await,
        StatusCode::UNAUTHORIZED,
        "invalid_second_factor",
    )
    .await;
    // The code that confirmed the setup was used: the same step is refused (replay).
    assert_problem(
        client.login_second_factor(&challenge, &first_code).await,
        StatusCode::UNAUTHORIZED,
        "invalid_second_factor",
    )
    .await;
    // The next step's code (what the app shows half a minute later) is good, spaces and all.
    let next = totp_code(&secret, confirmed_at + 30);
    let spaced = format!("{} {}", &next[..3], &next[3..]);
    let session = json_body(
        client.login_second_factor(&challenge, &spaced).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(session["kind"], "subscriber");
    assert!(session["csrf_token"].is_string());
    json_body(client.get("/api/v1/me/dashboard").await, StatusCode::OK).await;
    // A used challenge is gone.
    assert_problem(
        client.login_second_factor(&challenge, &next).await,
        StatusCode::UNAUTHORIZED,
        "login_challenge_expired",
    )
    .await;
    // And that code does not work twice, on another sign-in either.
    let (mut again, challenge) = password_step(&app, "demo.localhost", Some("100001"), None).await;
    assert_problem(
        again.login_second_factor(&challenge, &next).await,
        StatusCode::UNAUTHORIZED,
        "invalid_second_factor",
    )
    .await;

    // The secret is sealed at rest and the recovery codes are stored as hashes only.
    let mut admin = app.db.admin().await.expect("admin");
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT secret_sealed FROM two_factor")
        .fetch_one(&mut admin)
        .await
        .expect("row");
    let plain = totp_rs::Secret::try_from_base32(&secret).expect("secret");
    assert!(
        !sealed
            .windows(plain.as_bytes().len())
            .any(|w| w == plain.as_bytes()),
        "the secret is stored in the clear"
    );
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(&mut admin)
        .await
        .expect("rows");
    assert_eq!(stored.len(), 10);
    let first = codes[0].as_str().expect("code").replace('-', "");
    assert!(
        stored
            .iter()
            .all(|h| h.len() == 32 && h != first.as_bytes())
    );
}

#[tokio::test]
async fn recovery_codes_sign_in_once_and_can_be_replaced() {
    let app = TestApp::spawn().await.expect("app");
    let me = app.subscriber("demo.localhost", "100001").await;
    let enabled = enable(&me, "/api/v1/me").await;
    assert_eq!(enabled.codes.len(), 10);

    // Typed lower-case with spaces, as people do.
    let code = enabled.codes[3].clone();
    let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
    let (mut client, challenge) = password_step(&app, "demo.localhost", Some("100001"), None).await;
    json_body(
        client.login_second_factor(&challenge, &typed).await,
        StatusCode::OK,
    )
    .await;
    let status = json_body(me.get("/api/v1/me/two-factor").await, StatusCode::OK).await;
    assert_eq!(status["recovery_codes_left"], 9);
    let (mut client, challenge) = password_step(&app, "demo.localhost", Some("100001"), None).await;
    assert_problem(
        client.login_second_factor(&challenge, &code).await,
        StatusCode::UNAUTHORIZED,
        "invalid_second_factor",
    )
    .await;

    // New codes need a code from the app; the old set stops working.
    assert_problem(
        me.post(
            "/api/v1/me/two-factor/recovery-codes",
            &json!({"code": enabled.codes[0]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_two_factor_code",
    )
    .await;
    let fresh = json_body(
        me.post(
            "/api/v1/me/two-factor/recovery-codes",
            &json!({"code": totp_code(&enabled.secret, enabled.confirmed_at + 30)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let fresh: Vec<String> = fresh["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !enabled.codes.contains(c)));
    assert_problem(
        client
            .login_second_factor(&challenge, &enabled.codes[0])
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_second_factor",
    )
    .await;
    json_body(
        client.login_second_factor(&challenge, &fresh[0]).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_challenge_dies_after_five_minutes_or_five_wrong_codes_and_wrong_codes_are_throttled() {
    let app = TestApp::spawn().await.expect("app");
    let me = app.subscriber("demo.localhost", "100001").await;
    let enabled = enable(&me, "/api/v1/me").await;
    let good = || totp_code(&enabled.secret, enabled.confirmed_at + 30);
    let mut admin = app.db.admin().await.expect("admin");

    // Expired: a right code is too late.
    let (mut client, challenge) = password_step(&app, "demo.localhost", Some("100001"), None).await;
    sqlx::query("UPDATE login_challenges SET expires_at = now() - interval '1 second'")
        .execute(&mut admin)
        .await
        .expect("expire");
    assert_problem(
        client.login_second_factor(&challenge, &good()).await,
        StatusCode::UNAUTHORIZED,
        "login_challenge_expired",
    )
    .await;
    // Garbage challenges read the same.
    assert_problem(
        client.login_second_factor("not-a-challenge", &good()).await,
        StatusCode::UNAUTHORIZED,
        "login_challenge_expired",
    )
    .await;

    // Five wrong codes and the challenge is dead, even for the right one.
    let (mut client, challenge) = password_step(&app, "demo.localhost", Some("100001"), None).await;
    for wrong in ["000000", "111111", "222222", "abcd-efgh-jkmn", "12"] {
        assert_problem(
            client.login_second_factor(&challenge, wrong).await,
            StatusCode::UNAUTHORIZED,
            "invalid_second_factor",
        )
        .await;
    }
    assert_problem(
        client.login_second_factor(&challenge, &good()).await,
        StatusCode::UNAUTHORIZED,
        "login_challenge_expired",
    )
    .await;
    // Those five wrong codes also locked the account's second factor for a while, so a new
    // challenge does not buy five more guesses.
    let (mut client, challenge) = password_step(&app, "demo.localhost", Some("100001"), None).await;
    assert_problem(
        client.login_second_factor(&challenge, &good()).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
    let locked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_throttle WHERE bucket LIKE '%second-factor%' AND locked_until > now()",
    )
    .fetch_one(&mut admin)
    .await
    .expect("count");
    assert_eq!(locked, 1);
    // When the lock runs out, the right code works.
    sqlx::query("DELETE FROM login_throttle WHERE bucket LIKE '%second-factor%'")
        .execute(&mut admin)
        .await
        .expect("unlock");
    json_body(
        client.login_second_factor(&challenge, &good()).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn turning_two_factor_off_needs_the_password_and_restores_password_sign_in() {
    let app = TestApp::spawn().await.expect("app");
    let me = app.subscriber("demo.localhost", "100001").await;
    assert_problem(
        me.post(
            "/api/v1/me/two-factor/disable",
            &json!({"password": PASSWORD}),
        )
        .await,
        StatusCode::CONFLICT,
        "two_factor_not_enabled",
    )
    .await;
    enable(&me, "/api/v1/me").await;
    // A sign-in half-way through when it is turned off does not survive it.
    let (mut waiting, challenge) =
        password_step(&app, "demo.localhost", Some("100001"), None).await;
    assert_problem(
        me.post(
            "/api/v1/me/two-factor/disable",
            &json!({"password": "wrong password"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_current_password",
    )
    .await;
    let resp = me
        .post(
            "/api/v1/me/two-factor/disable",
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let status = json_body(me.get("/api/v1/me/two-factor").await, StatusCode::OK).await;
    assert_eq!(status, json!({"enabled": false, "recovery_codes_left": 0}));
    assert_problem(
        waiting.login_second_factor(&challenge, "123456").await,
        StatusCode::UNAUTHORIZED,
        "login_challenge_expired",
    )
    .await;
    let mut client = app.client("demo.localhost");
    let body = json_body(
        client.login_subscriber("100001", PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["outcome"], "signed_in");
    assert_eq!(body["kind"], "subscriber");
}

#[tokio::test]
async fn staff_two_factor_is_audited_and_guards_the_console_sign_in() {
    let app = TestApp::spawn().await.expect("app");
    let owner = app.staff("demo.localhost", "owner@demo.example").await;
    let status = json_body(
        owner.get("/api/v1/console/me/two-factor").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["enabled"], false);
    let enabled = enable(&owner, "/api/v1/console/me").await;

    let (mut client, challenge) =
        password_step(&app, "demo.localhost", None, Some("owner@demo.example")).await;
    let session: Value = json_body(
        client
            .login_second_factor(
                &challenge,
                &totp_code(&enabled.secret, enabled.confirmed_at + 30),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(session["kind"], "staff");
    assert!(
        session["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("owner"))),
        "{session}"
    );
    json_body(client.get("/api/v1/console/tickets").await, StatusCode::OK).await;
    // A challenge is only good on the ISP's host where the password was given.
    let (_, challenge) =
        password_step(&app, "demo.localhost", None, Some("owner@demo.example")).await;
    let mut north = app.client("northnet.localhost");
    assert_problem(
        north
            .login_second_factor(&challenge, &enabled.codes[0])
            .await,
        StatusCode::UNAUTHORIZED,
        "login_challenge_expired",
    )
    .await;

    // Read-only staff secure their own account too; no permission is needed for that.
    let viewer = app.staff("demo.localhost", "viewer@demo.example").await;
    enable(&viewer, "/api/v1/console/me").await;

    let resp = owner
        .post(
            "/api/v1/console/me/two-factor/disable",
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let mut admin = app.db.admin().await.expect("admin");
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT a.action FROM audit_log a JOIN staff s ON s.tenant_id = a.tenant_id AND s.id = a.staff_id \
         WHERE s.email = 'owner@demo.example' AND a.target = 'staff:' || s.id ORDER BY a.at, a.id",
    )
    .fetch_all(&mut admin)
    .await
    .expect("audit");
    assert_eq!(actions, ["two_factor.enable", "two_factor.disable"]);
    // A subscriber session cannot reach the staff endpoints.
    let subscriber = app.subscriber("demo.localhost", "100001").await;
    assert_problem(
        subscriber.get("/api/v1/console/me/two-factor").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
