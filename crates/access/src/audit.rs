//! The staff audit log: who did what to which record, from where. Append-only — the app role
//! has no UPDATE or DELETE on `audit_log`. Written in the same transaction as the change it
//! records, so an action and its audit entry land together or not at all.

use kabinet_core::StaffId;
use kabinet_db::{TenantTx, sqlx};
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

pub async fn record(
    tx: &mut TenantTx,
    entry: AuditEntry<'_>,
    client: &ClientInfo,
) -> Result<(), AccessError> {
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, id, staff_id, action, target, details, client_addr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant.as_uuid())
    .bind(Uuid::now_v7())
    .bind(entry.staff.map(|s| s.as_uuid()))
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.details)
    .bind(&client.addr)
    .execute(tx.conn())
    .await?;
    Ok(())
}
