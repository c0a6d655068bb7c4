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
-- psql -v owner_password=... -v app_password=... -f deploy/postgres/roles.sql
