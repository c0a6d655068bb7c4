//! Subscribers as ISP staff manage them: parsed contact fields (one set of rules for the console
//! form and the CSV import), search, create and edit, and the set-based upsert the import uses.
//! The account (tariff, status, balance) is billing's; callers join the two by subscriber id.

use kabinet_core::SubscriberId;
use kabinet_db::{TenantTx, constraint_name, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::AccessError;
use crate::account_security::check_new_password;
use crate::login::normalize_phone;

/// One field that does not pass, in terms a person can fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field (and CSV column): `account_number`, `name`, `email`, `phone`, `address`.
    pub field: &'static str,
    /// Stable, machine-readable: `required`, `invalid_account_number`, `invalid_email` …
    pub code: &'static str,
    pub message: String,
}

impl FieldProblem {
    fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

impl From<FieldProblem> for AccessError {
    fn from(p: FieldProblem) -> Self {
        AccessError::Invalid {
            field: p.field,
            reason: format!("{} ({})", p.message, p.code),
        }
    }
}

/// Contact fields, parsed: trimmed, e-mail in lower case, phone as `+<digits>`, empty as absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn optional(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

/// An account number as ISPs write them: 1–32 letters, digits and dashes.
pub fn parse_account_number(raw: &str) -> Result<String, FieldProblem> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldProblem::new(
            "account_number",
            "required",
            "the account number is required",
        ));
    }
    if value.len() > 32 || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FieldProblem::new(
            "account_number",
            "invalid_account_number",
            format!("{value:?} is not an account number (1–32 letters, digits and dashes)"),
        ));
    }
    Ok(value.to_owned())
}

fn parse_email(raw: &str) -> Result<String, FieldProblem> {
    let email = raw.to_lowercase();
    let valid = kabinet_core::is_plausible_email(&email);
    if valid {
        Ok(email)
    } else {
        Err(FieldProblem::new(
            "email",
            "invalid_email",
            format!("{raw:?} is not an e-mail address"),
        ))
    }
}

impl Contact {
    /// Every problem of the given fields at once (a CSV report lists them all).
    pub fn parse(
        full_name: &str,
        email: Option<&str>,
        phone: Option<&str>,
        address: Option<&str>,
    ) -> Result<Self, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let name = full_name.trim();
        if name.is_empty() {
            problems.push(FieldProblem::new(
                "name",
                "required",
                "the name is required",
            ));
        } else if name.chars().count() > 200 || has_control(name) {
            problems.push(FieldProblem::new(
                "name",
                "invalid_name",
                "the name must be 1–200 characters without control characters",
            ));
        }
        let email = match optional(email).map(parse_email) {
            Some(Ok(e)) => Some(e),
            Some(Err(p)) => {
                problems.push(p);
                None
            }
            None => None,
        };
        let phone = match optional(phone) {
            Some(raw) => match normalize_phone(raw) {
                Some(p) => Some(p),
                None => {
                    problems.push(FieldProblem::new(
                        "phone",
                        "invalid_phone",
                        format!("{raw:?} is not a phone number (7–15 digits)"),
                    ));
                    None
                }
            },
            None => None,
        };
        let address = optional(address).map(str::to_owned);
        if let Some(a) = &address
            && (a.chars().count() > 300 || has_control(a))
        {
            problems.push(FieldProblem::new(
                "address",
                "invalid_address",
                "the address must be at most 300 characters without control characters",
            ));
        }
        if problems.is_empty() {
            Ok(Self {
                full_name: name.to_owned(),
                email,
                phone,
                address,
            })
        } else {
            Err(problems)
        }
    }
}

fn taken(e: sqlx::Error) -> AccessError {
    match constraint_name(&e) {
        Some("subscribers_account_number_key") => AccessError::AlreadyTaken("account number"),
        Some("subscribers_email_key") => AccessError::AlreadyTaken("e-mail"),
        Some("subscribers_phone_key") => AccessError::AlreadyTaken("phone"),
        _ => e.into(),
    }
}

/// A subscriber as the console shows them.
#[derive(Clone, Debug)]
pub struct SubscriberRecord {
    pub id: SubscriberId,
    pub account_number: String,
    pub contact: Contact,
    /// Whether they can sign in with a password yet (imported subscribers cannot until they
    /// reset it).
    pub has_password: bool,
}

fn record_from(row: &sqlx::postgres::PgRow) -> Result<SubscriberRecord, sqlx::Error> {
    Ok(SubscriberRecord {
        id: SubscriberId(row.try_get("id")?),
        account_number: row.try_get("account_number")?,
        contact: Contact {
            full_name: row.try_get("full_name")?,
            email: row.try_get("email")?,
            phone: row.try_get("phone")?,
            address: row.try_get("address")?,
        },
        has_password: row.try_get("has_password")?,
    })
}

const RECORD_COLUMNS: &str = "id, account_number, full_name, email, phone, address, password_hash IS NOT NULL AS has_password";

/// Creates a subscriber; `initial_password` (optional) follows the password rules.
pub async fn create_subscriber(
    tx: &mut TenantTx,
    account_number: &str,
    contact: &Contact,
    initial_password: Option<&str>,
) -> Result<SubscriberRecord, AccessError> {
    let tenant = tx.tenant();
    let hash = match initial_password {
        Some(p) => {
            let mut identifiers = vec![account_number];
            identifiers.extend(contact.email.as_deref());
            check_new_password(p, "", &identifiers)?;
            Some(crate::hash_password(p).await?)
        }
        None => None,
    };
    let row = sqlx::query(&format!(
        "INSERT INTO subscribers (tenant_id, id, account_number, full_name, email, phone, address, password_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {RECORD_COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(account_number)
    .bind(&contact.full_name)
    .bind(&contact.email)
    .bind(&contact.phone)
    .bind(&contact.address)
    .bind(hash)
    .fetch_one(tx.conn())
    .await
    .map_err(taken)?;
    Ok(record_from(&row)?)
}

/// Replaces the subscriber's contact fields; returns the record as it now is and whether
/// anything changed. The account number is the ISP's key and does not change.
pub async fn update_contact(
    tx: &mut TenantTx,
    account_number: &str,
    contact: &Contact,
) -> Result<Option<(SubscriberRecord, bool)>, AccessError> {
    let tenant = tx.tenant();
    let before = find_record(tx, account_number).await?;
    let Some(before) = before else {
        return Ok(None);
    };
    if before.contact == *contact {
        return Ok(Some((before, false)));
    }
    let row = sqlx::query(&format!(
        "UPDATE subscribers SET full_name = $3, email = $4, phone = $5, address = $6, updated_at = now() \
         WHERE tenant_id = $1 AND account_number = $2 RETURNING {RECORD_COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(account_number)
    .bind(&contact.full_name)
    .bind(&contact.email)
    .bind(&contact.phone)
    .bind(&contact.address)
    .fetch_one(tx.conn())
    .await
    .map_err(taken)?;
    Ok(Some((record_from(&row)?, true)))
}

/// One subscriber by account number.
pub async fn find_record(
    tx: &mut TenantTx,
    account_number: &str,
) -> Result<Option<SubscriberRecord>, AccessError> {
    let tenant = tx.tenant();
    let row = sqlx::query(&format!(
        "SELECT {RECORD_COLUMNS} FROM subscribers WHERE tenant_id = $1 AND account_number = $2"
    ))
    .bind(tenant.as_uuid())
    .bind(account_number)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.as_ref().map(record_from).transpose()?)
}

/// Where a search page ends: the next page starts after this rank and account number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchCursor {
    pub rank: i32,
    pub account_number: String,
}

impl SearchCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.rank, self.account_number)
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let (rank, account) = raw.split_once('.')?;
        let rank: i32 = rank.parse().ok()?;
        let account_number = parse_account_number(account).ok()?;
        (0..=3).contains(&rank).then_some(Self {
            rank,
            account_number,
        })
    }
}

pub struct SearchPage {
    pub items: Vec<SubscriberRecord>,
    pub next: Option<SearchCursor>,
}

/// What a search box text looks for: a phone number typed with spaces, dashes or a trunk `8`
/// is searched as its digits (phones are stored as `+<digits>`); anything else as typed.
fn search_term(query: &str) -> String {
    let q = query.trim();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let phone_like = digits.len() >= 3
        && q.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
        && q.chars().any(|c| !c.is_ascii_digit());
    let term = if phone_like {
        match digits.strip_prefix('8') {
            Some(rest) if digits.len() == 11 => format!("7{rest}"),
            _ => digits,
        }
    } else {
        q.to_lowercase()
    };
    term.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Subscribers matching `query` in account number, name, e-mail, phone or address (a
/// case-insensitive substring), best first: the account number itself, then account numbers
/// and names that start with it, then the rest; by account number within a rank. An empty
/// query lists everyone by account number. Keyset-paginated.
pub async fn search(
    tx: &mut TenantTx,
    query: &str,
    after: Option<&SearchCursor>,
    limit: i64,
) -> Result<SearchPage, AccessError> {
    let tenant = tx.tenant();
    let term = search_term(query);
    let limit = limit.clamp(1, 200);
    let (after_rank, after_account) = match after {
        Some(c) => (Some(c.rank), Some(c.account_number.as_str())),
        None => (None, None),
    };
    // Two statements rather than one with `$2 IS NULL OR …`: a generic plan of the latter
    // could not use the trigram index.
    let rows = if term.is_empty() {
        sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS}, 0 AS rank FROM subscribers \
             WHERE tenant_id = $1 AND ($2::text IS NULL OR account_number > $2) \
             ORDER BY account_number LIMIT $3"
        ))
        .bind(tenant.as_uuid())
        .bind(after_account)
        .bind(limit + 1)
        .fetch_all(tx.conn())
        .await?
    } else {
        // The matches first (MATERIALIZED), through the trigram index; ordered and paged
        // after. Inline, the LIMIT tempted the planner to walk every subscriber in account
        // order, filtering, which reads the whole ISP when the term is rare.
        sqlx::query(&format!(
            "WITH m AS MATERIALIZED ( \
               SELECT {RECORD_COLUMNS}, \
                 CASE WHEN lower(account_number) = $2 THEN 0 \
                      WHEN lower(account_number) LIKE $2 || '%' THEN 1 \
                      WHEN lower(full_name) LIKE $2 || '%' THEN 2 \
                      ELSE 3 END AS rank \
               FROM subscribers \
               WHERE tenant_id = $1 AND search_text LIKE '%' || $2 || '%' \
             ) \
             SELECT * FROM m \
             WHERE $3::int IS NULL OR (rank, account_number) > ($3, $4) \
             ORDER BY rank, account_number LIMIT $5"
        ))
        .bind(tenant.as_uuid())
        .bind(&term)
        .bind(after_rank)
        .bind(after_account)
        .bind(limit + 1)
        .fetch_all(tx.conn())
        .await?
    };
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for row in rows.iter().take(limit as usize) {
        last = Some(SearchCursor {
            rank: row.try_get("rank")?,
            account_number: row.try_get("account_number")?,
        });
        items.push(record_from(row)?);
    }
    let next = if rows.len() as i64 > limit {
        last
    } else {
        None
    };
    Ok(SearchPage { items, next })
}

/// One subscriber row of an import, parsed.
#[derive(Clone, Debug)]
pub struct ImportedSubscriber {
    pub account_number: String,
    pub contact: Contact,
}

/// What the upsert did to one row.
#[derive(Clone, Copy, Debug)]
pub struct Upserted {
    pub id: SubscriberId,
    pub created: bool,
    /// Created, or its contact fields changed.
    pub changed: bool,
}

/// Rows (by index into `rows`) whose e-mail or phone already belongs to another account of
/// the ISP, with the field: the import reports them instead of failing on the unique index.
pub async fn contact_conflicts(
    tx: &mut TenantTx,
    rows: &[ImportedSubscriber],
) -> Result<Vec<(usize, &'static str)>, AccessError> {
    let tenant = tx.tenant();
    let accounts: Vec<&str> = rows.iter().map(|r| r.account_number.as_str()).collect();
    let emails: Vec<Option<&str>> = rows.iter().map(|r| r.contact.email.as_deref()).collect();
    let phones: Vec<Option<&str>> = rows.iter().map(|r| r.contact.phone.as_deref()).collect();
    // One join per unique index (an OR of the two would scan the table once per row).
    let found: Vec<(i64, bool)> = sqlx::query_as(
        "WITH u AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]) \
                      WITH ORDINALITY AS u(account_number, email, phone, n)) \
         SELECT u.n, true FROM u JOIN subscribers s \
           ON s.tenant_id = $1 AND s.email = u.email AND s.account_number <> u.account_number \
         UNION ALL \
         SELECT u.n, false FROM u JOIN subscribers s \
           ON s.tenant_id = $1 AND s.phone = u.phone AND s.account_number <> u.account_number \
         ORDER BY 1",
    )
    .bind(tenant.as_uuid())
    .bind(&accounts)
    .bind(&emails)
    .bind(&phones)
    .fetch_all(tx.conn())
    .await?;
    Ok(found
        .into_iter()
        .map(|(n, email)| ((n - 1) as usize, if email { "email" } else { "phone" }))
        .collect())
}

/// Creates or updates many subscribers in one statement, keyed on account number; an existing
/// password is never touched. Outcomes come back in the order of `rows`.
pub async fn upsert_subscribers(
    tx: &mut TenantTx,
    rows: &[ImportedSubscriber],
) -> Result<Vec<Upserted>, AccessError> {
    let tenant = tx.tenant();
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let accounts: Vec<&str> = rows.iter().map(|r| r.account_number.as_str()).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.contact.full_name.as_str()).collect();
    let emails: Vec<Option<&str>> = rows.iter().map(|r| r.contact.email.as_deref()).collect();
    let phones: Vec<Option<&str>> = rows.iter().map(|r| r.contact.phone.as_deref()).collect();
    let addresses: Vec<Option<&str>> = rows.iter().map(|r| r.contact.address.as_deref()).collect();
    // The outer SELECT reads `subscribers` as it was before the INSERT (one snapshot), so rows
    // left alone take their id from there and written rows from RETURNING.
    let outcomes: Vec<(Uuid, bool, bool)> = sqlx::query_as(
        "WITH input AS ( \
           SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) \
             WITH ORDINALITY AS u(id, account_number, full_name, email, phone, address, n) \
         ), written AS ( \
           INSERT INTO subscribers (tenant_id, id, account_number, full_name, email, phone, address) \
           SELECT $1, id, account_number, full_name, email, phone, address FROM input ORDER BY n \
           ON CONFLICT (tenant_id, account_number) DO UPDATE SET full_name = EXCLUDED.full_name, \
             email = EXCLUDED.email, phone = EXCLUDED.phone, address = EXCLUDED.address, updated_at = now() \
           WHERE (subscribers.full_name, subscribers.email, subscribers.phone, subscribers.address) \
                 IS DISTINCT FROM (EXCLUDED.full_name, EXCLUDED.email, EXCLUDED.phone, EXCLUDED.address) \
           RETURNING id, account_number, (xmax = 0) AS created \
         ) \
         SELECT coalesce(w.id, s.id), coalesce(w.created, false), w.id IS NOT NULL \
         FROM input i \
         LEFT JOIN written w ON w.account_number = i.account_number \
         LEFT JOIN subscribers s ON s.tenant_id = $1 AND s.account_number = i.account_number \
         ORDER BY i.n",
    )
    .bind(tenant.as_uuid())
    .bind(&ids)
    .bind(&accounts)
    .bind(&names)
    .bind(&emails)
    .bind(&phones)
    .bind(&addresses)
    .fetch_all(tx.conn())
    .await
    .map_err(taken)?;
    Ok(outcomes
        .into_iter()
        .map(|(id, created, changed)| Upserted {
            id: SubscriberId(id),
            created,
            changed,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_fields_are_normalised_and_every_problem_is_listed() {
        let c = Contact::parse(
            "  Иван Петров ",
            Some(" Ivan@Example.COM "),
            Some("8 (912) 345-67-89"),
            Some(""),
        )
        .expect("valid");
        assert_eq!(c.full_name, "Иван Петров");
        assert_eq!(c.email.as_deref(), Some("ivan@example.com"));
        assert_eq!(c.phone.as_deref(), Some("+79123456789"));
        assert_eq!(c.address, None);

        let problems =
            Contact::parse("", Some("not-an-email"), Some("12"), None).expect_err("invalid");
        let codes: Vec<_> = problems.iter().map(|p| (p.field, p.code)).collect();
        assert_eq!(
            codes,
            [
                ("name", "required"),
                ("email", "invalid_email"),
                ("phone", "invalid_phone")
            ]
        );
        for bad in ["a@b", "@b.ru", "a b@c.ru", "a@@b.ru", "a@b."] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn account_numbers_and_cursors() {
        assert_eq!(parse_account_number(" 100-01 "), Ok("100-01".into()));
        assert!(parse_account_number("10 01").is_err());
        assert!(parse_account_number("").is_err());
        let c = SearchCursor {
            rank: 2,
            account_number: "A-1".into(),
        };
        assert_eq!(SearchCursor::decode(&c.encode()), Some(c));
        assert_eq!(SearchCursor::decode("9.A-1"), None);
        assert_eq!(SearchCursor::decode("x"), None);
    }

    #[test]
    fn phone_like_queries_search_digits_and_like_wildcards_are_literal() {
        assert_eq!(search_term("8 912 345"), "8912345");
        assert_eq!(search_term("8 (912) 345-67-89"), "79123456789");
        assert_eq!(search_term("+7 912"), "7912");
        assert_eq!(search_term("100001"), "100001");
        assert_eq!(search_term("ПЕТРов"), "петров");
        assert_eq!(search_term("50%_"), "50\\%\\_");
    }
}
