-- Deleting an ISP is one statement, `DELETE FROM tenants WHERE id = $1`: every tenant table
-- cascades from `tenants`. But the append-only tables (ledger, order events, audit …) point at
-- their parents with NO ACTION or RESTRICT foreign keys, on purpose: a subscriber with ledger
-- entries can never be deleted on its own. Checked immediately, such a key fails in the middle
-- of the cascade, whenever the parent's cascade happens to run before the child's.
--
-- Making those keys DEFERRABLE (INITIALLY IMMEDIATE: every other statement is checked exactly
-- as before) lets the deletion worker say `SET CONSTRAINTS ALL DEFERRED`; the checks then run at
-- commit, when the cascade has removed parent and child alike. RESTRICT keys cannot be
-- deferred, so the one there is (a custom role still held) becomes NO ACTION, which refuses
-- the same deletes with the same SQLSTATE and constraint name at the end of the statement.
ALTER TABLE staff_custom_roles DROP CONSTRAINT staff_custom_roles_role_fkey;
ALTER TABLE staff_custom_roles ADD CONSTRAINT staff_custom_roles_role_fkey
    FOREIGN KEY (tenant_id, role_id) REFERENCES custom_roles (tenant_id, id);

DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT c.conrelid::regclass AS tbl, c.conname
        FROM pg_constraint c
        JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'f' AND c.confdeltype = 'a' AND NOT c.condeferrable
          AND n.nspname = current_schema()
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER CONSTRAINT %I DEFERRABLE INITIALLY IMMEDIATE',
                       fk.tbl, fk.conname);
    END LOOP;
END
$$;

-- And every tenant table cascades from `tenants` directly. Until now the children of a
-- tenant table (order events, ledger entries, ticket messages …) hung only off their parent
-- with a NO ACTION key, so deleting the ISP left them behind for the app role, which may not
-- delete from an append-only table, to clean up. The tombstones (`tenant_deletions`) and
-- `tenant_exports` outlive their tenant on purpose and stay unconstrained.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.oid::regclass AS tbl
        FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
          AND c.relname NOT IN ('tenants', 'tenant_deletions', 'tenant_exports')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                          WHERE k.conrelid = c.oid AND k.contype = 'f'
                            AND k.confrelid = 'tenants'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %s ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE',
                       t.tbl);
    END LOOP;
END
$$;
