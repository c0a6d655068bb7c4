-- Verified custom domains are checked again every day (crates/provisioning/src/domain_checks.rs).
-- `failing_since`: when the proof first went missing after the domain was verified. The portal
-- stays on the air through the grace period (owners are warned); if the proof is still missing
-- after it, `verified_at` is cleared and the domain stops being served.
ALTER TABLE tenant_hosts ADD COLUMN failing_since timestamptz;
-- The scheduler's question "which custom domains are due a check?" per ISP.
CREATE INDEX tenant_hosts_recheck_idx ON tenant_hosts (tenant_id, checked_at) WHERE kind = 'custom';
