//! `kabinet audit verify`: walks every ISP's (or one ISP's) audit hash chain and exits non-zero
//! at the first broken link of any of them, or when a checkpoint noted down earlier no longer
//! matches.

use anyhow::{Context, bail};
use clap::Subcommand;
use kabinet_access::audit::{Checkpoint, CheckpointCheck, verify};
use kabinet_db::Database;
use kabinet_tenancy::Slug;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute each ISP's hash chain; report the first altered, missing or unlinked entry.
    Verify {
        /// Only this ISP (its slug).
        #[arg(long)]
        tenant: Option<String>,
        /// A checkpoint noted down earlier, `SEQ:HASH` (the head the console showed): the
        /// entry at SEQ must still have HASH. Needs --tenant.
        #[arg(long, requires = "tenant")]
        checkpoint: Option<String>,
    },
}

pub async fn run(db: &Database, command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { tenant, checkpoint } = command;
    let checkpoint = checkpoint
        .map(|raw| {
            raw.split_once(':')
                .and_then(|(seq, hash)| Checkpoint::parse(seq.parse().ok()?, hash))
                .with_context(|| format!("--checkpoint {raw:?}: expected SEQ:HASH (64 hex digits)"))
        })
        .transpose()?;
    let mut platform = db.platform_tx().await?;
    let mut tenants: Vec<_> = kabinet_tenancy::list_tenants(&mut platform)
        .await?
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    platform.commit().await?;
    if let Some(raw) = tenant {
        let slug = Slug::parse(&raw).map_err(|e| anyhow::anyhow!("--tenant {raw:?}: {e}"))?;
        tenants.retain(|t| t.slug == slug);
        if tenants.is_empty() {
            bail!("no ISP with the slug {raw:?}");
        }
    }
    let mut broken = 0;
    for t in &tenants {
        let mut tx = db.tenant_tx(t.id).await?;
        let status = verify(&mut tx, checkpoint.as_ref())
            .await
            .with_context(|| format!("verifying {}", t.slug))?;
        tx.commit().await?;
        match status.broken {
            None => println!("{}: intact, {} entries", t.slug, status.entries),
            Some((seq, why)) => {
                broken += 1;
                println!("{}: BROKEN at seq {seq} ({why:?})", t.slug);
            }
        }
        match status.checkpoint {
            None => {}
            Some(CheckpointCheck::Matches) => println!("{}: the checkpoint matches", t.slug),
            Some(other) => {
                if status.broken.is_none() {
                    broken += 1;
                }
                println!("{}: CHECKPOINT {other:?}", t.slug);
            }
        }
    }
    if broken > 0 {
        bail!(
            "{broken} of {} ISP audit chain(s) are broken",
            tenants.len()
        );
    }
    println!("audit verify: {} ISP(s), every chain intact", tenants.len());
    Ok(())
}
