//! Two-factor authentication with an authenticator app (TOTP, RFC 6238: HMAC-SHA1, six digits,
//! 30-second steps, one step of drift either way) and single-use recovery codes. For subscribers
//! and staff alike ([`Account`]).
//!
//! Enrollment is two steps: [`start_enrollment`] (the password again) makes a pending secret and
//! shows it once, as base32, an `otpauth://` URI and a QR code; [`confirm_enrollment`] with a
//! code from the app turns it on and hands out ten recovery codes, shown once. The secret is
//! stored sealed (AES-256-GCM, [`SecretKey`]); recovery codes only as hashes. A code is accepted
//! once: the last accepted step is remembered and an older or equal one is refused.

use chrono::{DateTime, Utc};
use kabinet_db::{TenantTx, sqlx};
use rand::Rng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Totp};
use uuid::Uuid;

use crate::{AccessError, Account, SecretKey, verify_password};

/// How many recovery codes a set has.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// 32 symbols without the look-alikes 0/O and 1/I: 12 of them carry 60 bits.
const RECOVERY_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const RECOVERY_CODE_LEN: usize = 12;
const TOTP_DIGITS: usize = 6;

/// Where a principal's two-factor authentication stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub enabled_at: Option<DateTime<Utc>>,
    /// Recovery codes not used yet (0 when off).
    pub recovery_codes_left: i64,
}

/// A new secret, shown once, for the authenticator app.
#[derive(Clone, Debug)]
pub struct Enrollment {
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/<ISP>:<account>?secret=…&issuer=<ISP>`.
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// The TOTP parameters everyone uses (and every authenticator app understands).
fn totp(secret: Vec<u8>, issuer: Option<&str>, account: Option<&str>) -> Result<Totp, AccessError> {
    // A colon separates issuer and account in the URI label, so neither may contain one.
    let clean = |s: &str| s.replace(':', " ").trim().to_owned();
    let mut builder = Builder::new().with_secret(secret);
    if let Some(issuer) = issuer {
        builder = builder.with_issuer(Some(clean(issuer)));
    }
    if let Some(account) = account {
        builder = builder.with_account_name(clean(account));
    }
    builder
        .build()
        .map_err(|e| AccessError::Secret(format!("TOTP parameters: {e}")))
}

/// The step `code` is valid for at `unix_time` (±1 step), if any.
fn matched_step(secret: &[u8], code: &str, unix_time: u64) -> Result<Option<u64>, AccessError> {
    Ok(totp(secret.to_vec(), None, None)?.check(code, unix_time))
}

fn unix_now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or(0)
}

/// What a person typed, cleaned: spaces and dashes dropped, letters upper-cased.
enum Code {
    Totp(String),
    Recovery(String),
    Garbage,
}

fn classify(raw: &str) -> Code {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if cleaned.len() == TOTP_DIGITS && cleaned.bytes().all(|b| b.is_ascii_digit()) {
        Code::Totp(cleaned)
    } else if cleaned.len() == RECOVERY_CODE_LEN
        && cleaned.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))
    {
        Code::Recovery(cleaned)
    } else {
        Code::Garbage
    }
}

fn recovery_hash(factor: Uuid, normalized: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(factor.as_bytes());
    hasher.update(normalized.as_bytes());
    hasher.finalize().to_vec()
}

/// A fresh code, `XXXX-XXXX-XXXX`.
fn new_recovery_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let symbols: Vec<char> = (0..RECOVERY_CODE_LEN)
        .map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())]))
        .collect();
    symbols
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

fn aad(tx: &TenantTx, factor: Uuid) -> Vec<u8> {
    format!("two_factor:{}:{factor}", tx.tenant()).into_bytes()
}

#[derive(sqlx::FromRow)]
struct Factor {
    id: Uuid,
    secret_sealed: Vec<u8>,
    enabled_at: Option<DateTime<Utc>>,
    last_used_step: Option<i64>,
}

async fn factor_for_update(
    tx: &mut TenantTx,
    account: Account,
) -> Result<Option<Factor>, AccessError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as::<_, Factor>(&format!(
        "SELECT id, secret_sealed, enabled_at, last_used_step FROM two_factor \
         WHERE tenant_id = $1 AND {} = $2 FOR UPDATE",
        account.column()
    ))
    .bind(tenant.as_uuid())
    .bind(account.id())
    .fetch_optional(tx.conn())
    .await?)
}

/// The account's password hash and what it signs in with (account number or e-mail), locked.
async fn credentials(
    tx: &mut TenantTx,
    account: Account,
) -> Result<(Option<String>, String), AccessError> {
    let tenant = tx.tenant();
    let sql = match account {
        Account::Subscriber(_) => {
            "SELECT password_hash, account_number FROM subscribers WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        }
        Account::Staff(_) => {
            "SELECT password_hash, email FROM staff WHERE tenant_id = $1 AND id = $2 AND active FOR UPDATE"
        }
    };
    sqlx::query_as(sql)
        .bind(tenant.as_uuid())
        .bind(account.id())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(AccessError::Unauthenticated)
}

async fn require_password(
    tx: &mut TenantTx,
    account: Account,
    password: &str,
) -> Result<String, AccessError> {
    let (hash, login) = credentials(tx, account).await?;
    if verify_password(password, hash.as_deref()).await? {
        Ok(login)
    } else {
        Err(AccessError::Invalid {
            field: "current_password",
            reason: "is not correct".into(),
        })
    }
}

/// Accepts a TOTP code for `factor` once: its step must be later than the last accepted one.
/// Records the step. `false` for a wrong or replayed code.
async fn accept_totp(
    tx: &mut TenantTx,
    key: &SecretKey,
    factor: &Factor,
    code: &str,
) -> Result<bool, AccessError> {
    let secret = key.open(&factor.secret_sealed, &aad(tx, factor.id))?;
    let Some(step) = matched_step(&secret, code, unix_now())? else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if factor.last_used_step.is_some_and(|last| step <= last) {
        return Ok(false);
    }
    let tenant = tx.tenant();
    let done = sqlx::query(
        "UPDATE two_factor SET last_used_step = $3 WHERE tenant_id = $1 AND id = $2 \
           AND (last_used_step IS NULL OR last_used_step < $3)",
    )
    .bind(tenant.as_uuid())
    .bind(factor.id)
    .bind(step)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the factor's recovery codes with a fresh set; returns them (the only time they are
/// readable).
async fn new_recovery_codes(tx: &mut TenantTx, factor: Uuid) -> Result<Vec<String>, AccessError> {
    let tenant = tx.tenant();
    sqlx::query("DELETE FROM recovery_codes WHERE tenant_id = $1 AND factor_id = $2")
        .bind(tenant.as_uuid())
        .bind(factor)
        .execute(tx.conn())
        .await?;
    let codes: Vec<String> = (0..RECOVERY_CODE_COUNT)
        .map(|_| new_recovery_code())
        .collect();
    let hashes: Vec<Vec<u8>> = codes
        .iter()
        .map(|c| recovery_hash(factor, &c.replace('-', "")))
        .collect();
    sqlx::query(
        "INSERT INTO recovery_codes (tenant_id, factor_id, code_hash) \
         SELECT $1, $2, h FROM unnest($3::bytea[]) AS h",
    )
    .bind(tenant.as_uuid())
    .bind(factor)
    .bind(&hashes)
    .execute(tx.conn())
    .await?;
    Ok(codes)
}

/// Whether the account has two-factor authentication on.
pub async fn status(tx: &mut TenantTx, account: Account) -> Result<TwoFactorStatus, AccessError> {
    let tenant = tx.tenant();
    let row: Option<(Option<DateTime<Utc>>, i64)> = sqlx::query_as(&format!(
        "SELECT f.enabled_at, \
                (SELECT count(*) FROM recovery_codes r \
                 WHERE r.tenant_id = f.tenant_id AND r.factor_id = f.id AND r.used_at IS NULL) \
         FROM two_factor f WHERE f.tenant_id = $1 AND f.{} = $2",
        account.column()
    ))
    .bind(tenant.as_uuid())
    .bind(account.id())
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some((Some(enabled_at), left)) => TwoFactorStatus {
            enabled: true,
            enabled_at: Some(enabled_at),
            recovery_codes_left: left,
        },
        _ => TwoFactorStatus {
            enabled: false,
            enabled_at: None,
            recovery_codes_left: 0,
        },
    })
}

pub(crate) async fn is_enabled(tx: &mut TenantTx, account: Account) -> Result<bool, AccessError> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM two_factor WHERE tenant_id = $1 AND {} = $2 AND enabled_at IS NOT NULL)",
        account.column()
    ))
    .bind(tenant.as_uuid())
    .bind(account.id())
    .fetch_one(tx.conn())
    .await?)
}

/// Starts (or starts over) setting up an authenticator: checks the password, makes a new secret
/// and returns it for the app. Nothing changes at sign-in until [`confirm_enrollment`].
/// `issuer` is the ISP's name as the app will show it.
pub async fn start_enrollment(
    tx: &mut TenantTx,
    key: &SecretKey,
    account: Account,
    password: &str,
    issuer: &str,
) -> Result<Enrollment, AccessError> {
    let login = require_password(tx, account, password).await?;
    if let Some(existing) = factor_for_update(tx, account).await? {
        if existing.enabled_at.is_some() {
            return Err(AccessError::TwoFactorAlreadyEnabled);
        }
        sqlx::query("DELETE FROM two_factor WHERE tenant_id = $1 AND id = $2")
            .bind(tx.tenant().as_uuid())
            .bind(existing.id)
            .execute(tx.conn())
            .await?;
    }
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let id = Uuid::now_v7();
    let sealed = key.seal(&secret, &aad(tx, id))?;
    let (subscriber, staff) = account.columns();
    sqlx::query(
        "INSERT INTO two_factor (tenant_id, id, subscriber_id, staff_id, secret_sealed) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(subscriber)
    .bind(staff)
    .bind(&sealed)
    .execute(tx.conn())
    .await?;

    let totp = totp(secret, Some(issuer), Some(&login))?;
    let otpauth_uri = totp
        .to_url()
        .map_err(|e| AccessError::Secret(format!("otpauth URI: {e}")))?;
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| AccessError::Secret(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline-ready: no XML prolog.
    let qr_svg = match qr_svg.find("<svg") {
        Some(start) => qr_svg[start..].to_owned(),
        None => qr_svg,
    };
    Ok(Enrollment {
        secret: totp.secret().to_base32(),
        otpauth_uri,
        qr_svg,
    })
}

/// Turns two-factor authentication on with a first code from the app; returns the recovery
/// codes (shown this once).
pub async fn confirm_enrollment(
    tx: &mut TenantTx,
    key: &SecretKey,
    account: Account,
    code: &str,
) -> Result<Vec<String>, AccessError> {
    let factor = match factor_for_update(tx, account).await? {
        Some(f) if f.enabled_at.is_some() => return Err(AccessError::TwoFactorAlreadyEnabled),
        Some(f) => f,
        None => return Err(AccessError::NoTwoFactorEnrollment),
    };
    let Code::Totp(code) = classify(code) else {
        return Err(AccessError::TwoFactorCodeInvalid);
    };
    if !accept_totp(tx, key, &factor, &code).await? {
        return Err(AccessError::TwoFactorCodeInvalid);
    }
    sqlx::query("UPDATE two_factor SET enabled_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(tx.tenant().as_uuid())
        .bind(factor.id)
        .execute(tx.conn())
        .await?;
    new_recovery_codes(tx, factor.id).await
}

/// Turns two-factor authentication off (the password is asked again). Sign-ins waiting for a
/// second factor end with it.
pub async fn disable(
    tx: &mut TenantTx,
    account: Account,
    password: &str,
) -> Result<(), AccessError> {
    require_password(tx, account, password).await?;
    match factor_for_update(tx, account).await? {
        Some(f) if f.enabled_at.is_some() => {
            let tenant = tx.tenant();
            sqlx::query("DELETE FROM two_factor WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_uuid())
                .bind(f.id)
                .execute(tx.conn())
                .await?;
            sqlx::query(&format!(
                "DELETE FROM login_challenges WHERE tenant_id = $1 AND {} = $2",
                account.column()
            ))
            .bind(tenant.as_uuid())
            .bind(account.id())
            .execute(tx.conn())
            .await?;
            Ok(())
        }
        _ => Err(AccessError::TwoFactorNotEnabled),
    }
}

/// A new set of recovery codes for a code from the app; the old set stops working.
pub async fn regenerate_recovery_codes(
    tx: &mut TenantTx,
    key: &SecretKey,
    account: Account,
    code: &str,
) -> Result<Vec<String>, AccessError> {
    let factor = match factor_for_update(tx, account).await? {
        Some(f) if f.enabled_at.is_some() => f,
        _ => return Err(AccessError::TwoFactorNotEnabled),
    };
    let Code::Totp(code) = classify(code) else {
        return Err(AccessError::TwoFactorCodeInvalid);
    };
    if !accept_totp(tx, key, &factor, &code).await? {
        return Err(AccessError::TwoFactorCodeInvalid);
    }
    new_recovery_codes(tx, factor.id).await
}

/// The second step of a sign-in: a TOTP code or an unused recovery code, consumed on success.
pub(crate) async fn verify_for_sign_in(
    tx: &mut TenantTx,
    key: &SecretKey,
    account: Account,
    code: &str,
) -> Result<bool, AccessError> {
    let Some(factor) = factor_for_update(tx, account)
        .await?
        .filter(|f| f.enabled_at.is_some())
    else {
        return Ok(false);
    };
    match classify(code) {
        Code::Totp(code) => accept_totp(tx, key, &factor, &code).await,
        Code::Recovery(code) => {
            let done = sqlx::query(
                "UPDATE recovery_codes SET used_at = now() \
                 WHERE tenant_id = $1 AND factor_id = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(tx.tenant().as_uuid())
            .bind(factor.id)
            .bind(recovery_hash(factor.id, &code))
            .execute(tx.conn())
            .await?;
            Ok(done.rows_affected() == 1)
        }
        Code::Garbage => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 secret "12345678901234567890" (its codes are 8 digits; the
    // last six of each are the 6-digit code).
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_vectors_with_one_step_of_drift() {
        assert_eq!(
            matched_step(RFC_SECRET, "287082", 59).expect("totp"),
            Some(1)
        );
        assert_eq!(
            matched_step(RFC_SECRET, "081804", 1_111_111_109).expect("totp"),
            Some(37_037_036)
        );
        // The same code half a minute either side is still good, two steps away it is not.
        assert!(
            matched_step(RFC_SECRET, "081804", 1_111_111_109 + 30)
                .expect("totp")
                .is_some()
        );
        assert!(
            matched_step(RFC_SECRET, "081804", 1_111_111_109 - 30)
                .expect("totp")
                .is_some()
        );
        assert!(
            matched_step(RFC_SECRET, "081804", 1_111_111_109 + 60)
                .expect("totp")
                .is_none()
        );
        assert!(
            matched_step(RFC_SECRET, "000000", 59)
                .expect("totp")
                .is_none()
        );
    }

    #[test]
    fn typed_codes_are_cleaned_and_told_apart() {
        assert!(matches!(classify(" 287 082 "), Code::Totp(c) if c == "287082"));
        assert!(matches!(classify("abcd-efgh-jkmn"), Code::Recovery(c) if c == "ABCDEFGHJKMN"));
        assert!(matches!(classify("28708"), Code::Garbage));
        assert!(matches!(classify("ABCD-EFGH-IJK0"), Code::Garbage)); // I and 0 are not symbols
        assert!(matches!(classify("１２３４５６"), Code::Garbage));
    }

    #[test]
    fn recovery_codes_are_grouped_distinct_and_parse_back() {
        let a = new_recovery_code();
        let b = new_recovery_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), 14, "{a}");
        assert_eq!(a.matches('-').count(), 2, "{a}");
        assert!(matches!(classify(&a), Code::Recovery(_)), "{a}");
        assert!(
            matches!(classify(&a.to_lowercase()), Code::Recovery(_)),
            "{a}"
        );
        let factor = Uuid::now_v7();
        assert_ne!(
            recovery_hash(factor, "ABCDEFGHJKMN"),
            recovery_hash(Uuid::now_v7(), "ABCDEFGHJKMN")
        );
    }

    #[test]
    fn the_otpauth_uri_names_the_isp_and_the_account() {
        let uri = totp(RFC_SECRET.to_vec(), Some("Демо: Телеком"), Some("100001"))
            .expect("totp")
            .to_url()
            .expect("uri");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer="), "{uri}");
        assert!(uri.contains("100001"), "{uri}");
    }
}
