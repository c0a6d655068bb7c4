//! The audit log: who (a staff member or an operator) did what to which record, when and from
//! where. Written in the same transaction as the change it records, so an action and its entry
//! land together or not at all.
//!
//! Tamper-evident: each ISP's entries form a hash chain. The `audit_log_chain` trigger gives
//! every new row the next `seq`, the previous row's hash and its own SHA-256 over
//! [`entry_hash`]'s encoding, taking the chain head (`audit_chain_heads`) under a row lock so
//! concurrent writers on any node queue up instead of forking the chain. Append-only: the app
//! role has no UPDATE, DELETE or TRUNCATE, and a trigger refuses them for everyone but a
//! superuser. [`verify`] recomputes the chain here, in Rust, and names the first broken link.
//!
//! Changes carry `{"before": …, "after": …}` in `details` (see [`change`]).

use chrono::{DateTime, Utc};
use kabinet_core::StaffId;
use kabinet_db::{TenantTx, sqlx};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use crate::{AccessError, ClientInfo};

pub struct AuditEntry<'a> {
    pub staff: Option<StaffId>,
    /// What was done, `noun.verb`: `ticket.reply`.
    pub action: &'a str,
    /// What it was done to, `kind:id`: `ticket:0193…`.
    pub target: String,
    pub details: serde_json::Value,
}

/// `details` for a change: the record as it was and as it is now.
pub fn change<B: Serialize, A: Serialize>(before: &B, after: &A) -> serde_json::Value {
    serde_json::json!({
        "before": serde_json::to_value(before).unwrap_or(serde_json::Value::Null),
        "after": serde_json::to_value(after).unwrap_or(serde_json::Value::Null),
    })
}

/// Records a staff member's (or the system's) action.
pub async fn record(
    tx: &mut TenantTx,
    entry: AuditEntry<'_>,
    client: &ClientInfo,
) -> Result<(), AccessError> {
    insert(
        tx,
        entry.staff,
        None,
        entry.action,
        &entry.target,
        &entry.details,
        client,
    )
    .await
}

/// Records a platform operator's action on this ISP: it goes into the ISP's own chain, so the
/// ISP's owner sees it.
pub async fn record_operator(
    tx: &mut TenantTx,
    operator: Uuid,
    action: &str,
    target: String,
    details: serde_json::Value,
    client: &ClientInfo,
) -> Result<(), AccessError> {
    insert(tx, None, Some(operator), action, &target, &details, client).await
}

async fn insert(
    tx: &mut TenantTx,
    staff: Option<StaffId>,
    operator: Option<Uuid>,
    action: &str,
    target: &str,
    details: &serde_json::Value,
    client: &ClientInfo,
) -> Result<(), AccessError> {
    let tenant = tx.tenant();
    // seq, prev_hash, hash and `at` are the chain trigger's to set.
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, id, staff_id, operator_id, action, target, details, \
                                client_addr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(staff.map(|s| s.as_uuid()))
    .bind(operator)
    .bind(action)
    .bind(target)
    .bind(details)
    .bind(&client.addr)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The hashed fields of one entry, as stored.
#[derive(Clone, Debug)]
pub struct ChainFields<'a> {
    pub tenant: Uuid,
    pub seq: i64,
    pub prev_hash: &'a [u8],
    pub at: DateTime<Utc>,
    pub staff: Option<Uuid>,
    pub operator: Option<Uuid>,
    pub action: &'a str,
    pub target: &'a str,
    /// `details` as PostgreSQL prints jsonb (its normal form).
    pub details: &'a str,
    pub client_addr: Option<&'a str>,
}

/// SHA-256 over the entry's canonical encoding: each field as `<octets>:<text>`, `~` for none,
/// in a fixed order after a version tag. The same bytes as SQL's `audit_entry_hash`.
pub fn entry_hash(f: &ChainFields<'_>) -> [u8; 32] {
    let tenant = f.tenant.to_string();
    let seq = f.seq.to_string();
    let prev = hex(f.prev_hash);
    let at = f.at.timestamp_micros().to_string();
    let staff = f.staff.map(|s| s.to_string());
    let operator = f.operator.map(|o| o.to_string());
    let fields: [Option<&str>; 11] = [
        Some("kabinet-audit-v1"),
        Some(&tenant),
        Some(&seq),
        Some(&prev),
        Some(&at),
        staff.as_deref(),
        operator.as_deref(),
        Some(f.action),
        Some(f.target),
        Some(f.details),
        f.client_addr,
    ];
    let mut hasher = Sha256::new();
    for field in fields {
        match field {
            Some(text) => {
                hasher.update(text.len().to_string().as_bytes());
                hasher.update(b":");
                hasher.update(text.as_bytes());
            }
            None => hasher.update(b"~"),
        }
    }
    hasher.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a chain does not verify, at the first link that fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainBreak {
    /// The entry's content no longer matches its hash: it was altered.
    HashMismatch,
    /// The entry does not point at the hash of the one before it.
    LinkMismatch,
    /// A sequence number is missing: an entry was removed.
    Gap,
    /// The chain ends before (or past) where its head says: the newest entries were removed.
    HeadMismatch,
}

/// A link of the chain noted down outside Kabinet (the owner copies the head's seq and hash
/// from the console): the external anchor. Someone able to write the database could rewrite
/// the whole chain from an altered entry onwards, every hash and link recomputed, and it would
/// verify; it cannot change a checkpoint kept elsewhere, and the rewritten entry at its seq no
/// longer has that hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: Vec<u8>,
}

impl Checkpoint {
    /// `seq` and the hash as the console shows it: 64 hex digits (any case).
    pub fn parse(seq: i64, hex_hash: &str) -> Option<Self> {
        let hex_hash = hex_hash.trim();
        if seq < 1 || hex_hash.len() != 64 || !hex_hash.is_ascii() {
            return None;
        }
        let hash = (0..32)
            .map(|i| u8::from_str_radix(&hex_hash[2 * i..2 * i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Self { seq, hash })
    }
}

/// What the chain says of a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointCheck {
    /// The entry at that seq has that hash, and the chain up to it is intact.
    Matches,
    /// The entry at that seq has another hash: the chain was rewritten up to there.
    Differs,
    /// The chain has no entry at that seq (it is shorter).
    Missing,
    /// The chain breaks before that seq, so the check did not get there.
    Unchecked,
}

/// The outcome of walking one ISP's chain.
#[derive(Clone, Debug)]
pub struct ChainStatus {
    /// Entries read.
    pub entries: i64,
    /// The newest link as the head records it (seq, hash); none before the first entry.
    pub head: Option<(i64, Vec<u8>)>,
    /// The first broken link: its seq and why.
    pub broken: Option<(i64, ChainBreak)>,
    /// The checkpoint's check, when one was given.
    pub checkpoint: Option<CheckpointCheck>,
}

impl ChainStatus {
    pub fn intact(&self) -> bool {
        self.broken.is_none()
    }
}

const VERIFY_BATCH: i64 = 1000;

/// Walks this ISP's chain from the first entry, a batch at a time (bounded memory at any
/// length), recomputing every hash and link, and stops at the first break. With a
/// `checkpoint`, also says whether the entry at its seq still has its hash.
pub async fn verify(
    tx: &mut TenantTx,
    checkpoint: Option<&Checkpoint>,
) -> Result<ChainStatus, AccessError> {
    let tenant = tx.tenant();
    let head: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_optional(tx.conn())
            .await?;
    let mut expected_seq = 1_i64;
    let mut prev = vec![0_u8; 32];
    let mut entries = 0_i64;
    // Decided when the walk reaches the checkpoint's seq; a break before it leaves it unchecked.
    let mut anchored: Option<CheckpointCheck> = None;
    loop {
        let rows = sqlx::query(
            "SELECT seq, prev_hash, hash, at, staff_id, operator_id, action, target, \
                    details::text AS details, client_addr \
             FROM audit_log WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant.as_uuid())
        .bind(expected_seq)
        .bind(VERIFY_BATCH)
        .fetch_all(tx.conn())
        .await?;
        let done = (rows.len() as i64) < VERIFY_BATCH;
        for row in rows {
            let seq: i64 = row.try_get("seq")?;
            let prev_hash: Vec<u8> = row.try_get("prev_hash")?;
            let hash: Vec<u8> = row.try_get("hash")?;
            let at: DateTime<Utc> = row.try_get("at")?;
            let action: String = row.try_get("action")?;
            let target: String = row.try_get("target")?;
            let details: String = row.try_get("details")?;
            let client_addr: Option<String> = row.try_get("client_addr")?;
            entries += 1;
            let broken = |why| ChainStatus {
                entries,
                head: head.clone(),
                broken: Some((expected_seq, why)),
                checkpoint: checkpoint.map(|_| anchored.unwrap_or(CheckpointCheck::Unchecked)),
            };
            if seq != expected_seq {
                return Ok(broken(ChainBreak::Gap));
            }
            if prev_hash != prev {
                return Ok(broken(ChainBreak::LinkMismatch));
            }
            let computed = entry_hash(&ChainFields {
                tenant: tenant.as_uuid(),
                seq,
                prev_hash: &prev_hash,
                at,
                staff: row.try_get("staff_id")?,
                operator: row.try_get("operator_id")?,
                action: &action,
                target: &target,
                details: &details,
                client_addr: client_addr.as_deref(),
            });
            if computed[..] != hash[..] {
                return Ok(broken(ChainBreak::HashMismatch));
            }
            if let Some(c) = checkpoint.filter(|c| c.seq == seq) {
                anchored = Some(if c.hash == hash {
                    CheckpointCheck::Matches
                } else {
                    CheckpointCheck::Differs
                });
            }
            prev = hash;
            expected_seq += 1;
        }
        if done {
            break;
        }
    }
    let last = expected_seq - 1;
    let head_matches = match &head {
        Some((seq, hash)) => *seq == last && *hash == prev,
        None => last == 0,
    };
    Ok(ChainStatus {
        entries,
        broken: (!head_matches).then_some((expected_seq, ChainBreak::HeadMismatch)),
        head,
        checkpoint: checkpoint.map(|_| anchored.unwrap_or(CheckpointCheck::Missing)),
    })
}

/// Who did it, as the log shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Staff {
        id: Uuid,
        /// None when the staff member no longer exists.
        display_name: Option<String>,
        email: Option<String>,
    },
    Operator {
        id: Uuid,
        display_name: Option<String>,
    },
    System,
}

#[derive(Clone, Debug)]
pub struct LoggedEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    pub client_addr: Option<String>,
}

/// What the owner searches by; every field narrows (AND).
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Part of the actor's name or e-mail (staff or operator), any case.
    pub actor: Option<String>,
    /// The action, or its noun: `role` matches `role.create` and `role.update`.
    pub action: Option<String>,
    /// Part of the target, any case: `staff:0193` or a ticket id.
    pub target: Option<String>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct AuditPage {
    pub items: Vec<LoggedEntry>,
    /// The `before` to pass for the next (older) page.
    pub next: Option<i64>,
}

fn like_pattern(raw: &str) -> String {
    let escaped = raw
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Newest first, keyset-paginated on `seq`: entries with `seq < before`.
pub async fn search(
    tx: &mut TenantTx,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<AuditPage, AccessError> {
    let limit = limit.clamp(1, 500);
    let mut items = page(tx, filter, before, limit + 1).await?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(AuditPage { items, next })
}

/// One page of matching entries, newest first. The one query behind the viewer and the export.
async fn page(
    tx: &mut TenantTx,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LoggedEntry>, AccessError> {
    let tenant = tx.tenant();
    let action = filter
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let rows = sqlx::query(
        "SELECT a.seq, a.at, a.staff_id, a.operator_id, a.action, a.target, a.details, \
                a.client_addr, st.display_name AS staff_name, st.email AS staff_email, \
                op.display_name AS operator_name \
         FROM audit_log a \
         LEFT JOIN staff st ON st.tenant_id = a.tenant_id AND st.id = a.staff_id \
         LEFT JOIN operators op ON op.id = a.operator_id \
         WHERE a.tenant_id = $1 \
           AND ($2::bigint IS NULL OR a.seq < $2) \
           AND ($3::text IS NULL OR st.display_name ILIKE $3 OR st.email ILIKE $3 \
                OR op.display_name ILIKE $3 OR op.email ILIKE $3) \
           AND ($4::text IS NULL OR a.action = $4 OR starts_with(a.action, $4 || '.')) \
           AND ($5::text IS NULL OR a.target ILIKE $5) \
           AND ($6::timestamptz IS NULL OR a.at >= $6) \
           AND ($7::timestamptz IS NULL OR a.at < $7) \
         ORDER BY a.seq DESC LIMIT $8",
    )
    .bind(tenant.as_uuid())
    .bind(before)
    .bind(
        filter
            .actor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(like_pattern),
    )
    .bind(action)
    .bind(
        filter
            .target
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(like_pattern),
    )
    .bind(filter.from)
    .bind(filter.to)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|row| {
            let staff: Option<Uuid> = row.try_get("staff_id")?;
            let operator: Option<Uuid> = row.try_get("operator_id")?;
            let actor = match (staff, operator) {
                (Some(id), _) => Actor::Staff {
                    id,
                    display_name: row.try_get("staff_name")?,
                    email: row.try_get("staff_email")?,
                },
                (None, Some(id)) => Actor::Operator {
                    id,
                    display_name: row.try_get("operator_name")?,
                },
                (None, None) => Actor::System,
            };
            Ok(LoggedEntry {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                actor,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                details: row.try_get("details")?,
                client_addr: row.try_get("client_addr")?,
            })
        })
        .collect()
}

const EXPORT_BATCH: i64 = 500;

/// Writes every matching entry as CSV (newest first) a batch at a time, so an export of any
/// size holds one batch in memory. One transaction: the file is one consistent snapshot.
pub async fn export_csv<W>(
    tx: &mut TenantTx,
    filter: &AuditFilter,
    out: &mut W,
) -> Result<(), AccessError>
where
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let io = |e: std::io::Error| AccessError::Export(e.to_string());
    out.write_all(b"seq,at,actor_kind,actor_id,actor_name,action,target,client_addr,details\n")
        .await
        .map_err(io)?;
    let mut before = None;
    loop {
        let batch = page(tx, filter, before, EXPORT_BATCH).await?;
        let mut chunk = String::new();
        for e in &batch {
            let (kind, id, name) = match &e.actor {
                Actor::Staff {
                    id,
                    display_name,
                    email,
                } => (
                    "staff",
                    id.to_string(),
                    display_name
                        .clone()
                        .or_else(|| email.clone())
                        .unwrap_or_default(),
                ),
                Actor::Operator { id, display_name } => (
                    "operator",
                    id.to_string(),
                    display_name.clone().unwrap_or_default(),
                ),
                Actor::System => ("system", String::new(), String::new()),
            };
            let fields = [
                e.seq.to_string(),
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                kind.to_owned(),
                id,
                name,
                e.action.clone(),
                e.target.clone(),
                e.client_addr.clone().unwrap_or_default(),
                e.details.to_string(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            chunk.push_str(&line.join(","));
            chunk.push('\n');
        }
        out.write_all(chunk.as_bytes()).await.map_err(io)?;
        if (batch.len() as i64) < EXPORT_BATCH {
            break;
        }
        before = batch.last().map(|e| e.seq);
    }
    out.flush().await.map_err(io)?;
    Ok(())
}

/// RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is defused so a spreadsheet never runs a
/// staff-typed target or detail as a formula.
fn csv_field(raw: &str) -> String {
    let defused = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn the_hash_covers_every_field() {
        let at = DateTime::parse_from_rfc3339("2026-11-25T10:00:00.123456Z")
            .expect("time")
            .with_timezone(&Utc);
        let base = ChainFields {
            tenant: Uuid::nil(),
            seq: 1,
            prev_hash: &[0; 32],
            at,
            staff: None,
            operator: None,
            action: "role.create",
            target: "role:1",
            details: "{}",
            client_addr: Some("127.0.0.1"),
        };
        let h = entry_hash(&base);
        assert_ne!(
            h,
            entry_hash(&ChainFields {
                seq: 2,
                ..base.clone()
            })
        );
        assert_ne!(
            h,
            entry_hash(&ChainFields {
                action: "role.delete",
                ..base.clone()
            })
        );
        assert_ne!(
            h,
            entry_hash(&ChainFields {
                client_addr: None,
                ..base.clone()
            })
        );
        assert_ne!(
            h,
            entry_hash(&ChainFields {
                details: "{\"a\": 1}",
                ..base.clone()
            })
        );
        // Length prefixes: moving a character between neighbouring fields changes the hash.
        assert_ne!(
            entry_hash(&ChainFields {
                action: "ab",
                target: "c",
                ..base.clone()
            }),
            entry_hash(&ChainFields {
                action: "a",
                target: "bc",
                ..base.clone()
            })
        );
        assert_eq!(h, entry_hash(&base));
    }
}
