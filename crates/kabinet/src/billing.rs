//! `kabinet billing …`: operations over every tenant, one tenant transaction each.

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use kabinet_billing::{BillingMonth, run_monthly_charges, verify};
use kabinet_db::Database;

#[derive(Subcommand)]
pub enum BillingCommand {
    /// Check every billing invariant for every tenant; exits non-zero on any violation.
    Verify,
    /// Charge every active account its tariff for a month (idempotent: rerun safely).
    Charge {
        /// The month, `YYYY-MM` (default: the current month).
        #[arg(long)]
        month: Option<String>,
    },
}

pub async fn run(db: &Database, command: BillingCommand) -> anyhow::Result<()> {
    let mut platform = db.platform_tx().await?;
    let tenants = kabinet_tenancy::list_tenants(&mut platform).await?;
    platform.commit().await?;
    match command {
        BillingCommand::Verify => {
            let mut violations = 0;
            for (tenant, _) in &tenants {
                let mut tx = db.tenant_tx(tenant.id).await?;
                let found = verify(&mut tx).await?;
                tx.commit().await?;
                for v in &found {
                    println!("{}: {}", tenant.slug, v.what);
                }
                violations += found.len();
            }
            if violations > 0 {
                bail!(
                    "{violations} billing invariant violation(s) in {} tenant(s) checked",
                    tenants.len()
                );
            }
            println!(
                "billing verify: {} tenant(s), every invariant holds",
                tenants.len()
            );
        }
        BillingCommand::Charge { month } => {
            let month = match month {
                Some(raw) => BillingMonth::parse(&raw)
                    .with_context(|| format!("--month {raw:?}: expected YYYY-MM"))?,
                None => BillingMonth::of(Utc::now().date_naive()),
            };
            for (tenant, _) in &tenants {
                let mut tx = db.tenant_tx(tenant.id).await?;
                let run = run_monthly_charges(&mut tx, month).await?;
                tx.commit().await?;
                println!(
                    "{}: {month}: charged {} account(s), blocked {}",
                    tenant.slug, run.charged, run.blocked
                );
            }
        }
    }
    Ok(())
}
