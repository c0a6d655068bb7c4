-- Subscriber search in the console and blocking by staff.
--
-- Search: one box matches account number, name, e-mail, phone and address as a case-insensitive
-- substring. `search_text` is those fields lower-cased in one column, and a trigram GIN index
-- led by tenant_id (btree_gin supplies the uuid operator class) answers `LIKE '%…%'` on it
-- within one tenant. Both extensions are trusted (PostgreSQL 13+), so the database owner that
-- runs migrations may create them without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

ALTER TABLE subscribers ADD COLUMN search_text text GENERATED ALWAYS AS (
    lower(account_number || ' ' || full_name || ' ' || coalesce(email, '') || ' '
          || coalesce(phone, '') || ' ' || coalesce(address, ''))
) STORED;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_address_length CHECK (length(address) <= 300);
CREATE INDEX subscribers_search_idx ON subscribers USING gin (tenant_id, search_text gin_trgm_ops);

-- Blocked by staff (an administrative block), as opposed to blocked for debt. The status is
-- 'blocked' either way; this flag keeps a payment from lifting a staff block
-- (`billing::refresh_status` only unblocks accounts that staff did not block).
ALTER TABLE accounts ADD COLUMN staff_blocked boolean NOT NULL DEFAULT false;
GRANT UPDATE (staff_blocked) ON accounts TO kabinet_app;
