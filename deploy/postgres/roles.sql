-- Run once per PostgreSQL server, as a superuser, before the first `kabinet migrate`.
-- (The embedded default and the tests do the same through kabinet_db::bootstrap.)
--
--   kabinet_owner: owns the schema and runs migrations. Not a superuser, so FORCE ROW LEVEL
--                  SECURITY binds it too.
--   kabinet_app:   what the service logs in as. Owns nothing; only the DML grants that the
--                  migrations give it; can never bypass row-level security.
CREATE ROLE kabinet_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE kabinet_app   LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE kabinet OWNER kabinet_owner;
-- Ticket search (crates/ticketing/src/search.rs): on a table with row-level security PostgreSQL
-- uses a non-leakproof operator only after the policy, never as an index condition, so without
-- this the GIN indexes serve `tenant_id` alone and a rare word reads every message of a big ISP.
-- ts_match_vq (tsvector @@ tsquery) reveals nothing but its result, and the app never runs SQL a
-- user wrote. Per database; again after pg_upgrade or a restore into a new cluster.
\connect kabinet
ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
-- The same for LIKE (subscriber search's trigram index); its only error is about the pattern.
ALTER FUNCTION pg_catalog.textlike(text, text) LEAKPROOF;
-- psql -v owner_password=... -v app_password=... -f deploy/postgres/roles.sql
