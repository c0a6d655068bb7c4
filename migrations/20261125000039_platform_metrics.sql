-- The operator's platform view: request and error rates, background job lag, data size per ISP.
-- All platform tables (aggregates only, no subscriber data; tests/it/schema.rs lists them).

-- Requests per minute, per node and per ISP (NULL: the platform's own hosts and requests that
-- never reached an ISP). Each node counts in memory and adds its counts here every few seconds
-- (`INSERT … ON CONFLICT DO UPDATE SET requests = requests + …`), so nodes never contend on a row.
CREATE TABLE request_minutes (
    minute          timestamptz NOT NULL CHECK (date_trunc('minute', minute) = minute),
    node            text NOT NULL CHECK (length(node) BETWEEN 1 AND 200),
    tenant_id       uuid REFERENCES tenants (id) ON DELETE CASCADE,
    requests        bigint NOT NULL CHECK (requests >= 0),
    client_errors   bigint NOT NULL CHECK (client_errors >= 0),
    server_errors   bigint NOT NULL CHECK (server_errors >= 0),
    -- Requests that took a second or more.
    slow            bigint NOT NULL CHECK (slow >= 0),
    latency_ms_sum  double precision NOT NULL CHECK (latency_ms_sum >= 0),
    latency_ms_max  double precision NOT NULL CHECK (latency_ms_max >= 0),
    CONSTRAINT request_minutes_key UNIQUE NULLS NOT DISTINCT (minute, node, tenant_id)
);
CREATE INDEX request_minutes_minute_idx ON request_minutes (minute);
CREATE INDEX request_minutes_tenant_idx ON request_minutes (tenant_id, minute);

-- Each background worker's last pass on each node: a worker whose last pass is old is stuck or
-- down (that is its lag); `failures` counts the ISPs its last pass could not finish.
CREATE TABLE worker_passes (
    worker      text NOT NULL CHECK (worker IN ('billing', 'mail', 'network', 'reconcile')),
    node        text NOT NULL CHECK (length(node) BETWEEN 1 AND 200),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL CHECK (finished_at >= started_at),
    failures    integer NOT NULL CHECK (failures >= 0),
    PRIMARY KEY (worker, node)
);

-- Measured with the other usage figures in each ISP's scheduler round: the bytes of its rows
-- (every tenant-owned table, found in the catalog) and its mail queue.
ALTER TABLE tenant_usage
    ADD COLUMN data_bytes bigint CHECK (data_bytes >= 0),
    ADD COLUMN mail_due integer CHECK (mail_due >= 0),
    ADD COLUMN oldest_mail_due_at timestamptz,
    ADD COLUMN coa_due integer CHECK (coa_due >= 0);


-- The bytes of the calling ISP's rows across every tenant-owned table (those with forced
-- row-level security). SECURITY INVOKER: row-level security still applies, so inside a tenant
-- transaction it can only ever count that tenant's rows. Loops over tables, not rows.
CREATE FUNCTION tenant_data_bytes(tenant uuid) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    tbl regclass;
    part bigint;
    total bigint := 0;
BEGIN
    FOR tbl IN
        SELECT c.oid::regclass FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relforcerowsecurity
          AND EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
    LOOP
        EXECUTE format('SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM %s t WHERE t.tenant_id = $1', tbl)
            INTO part USING tenant;
        total := total + part;
    END LOOP;
    RETURN total;
END
$$;
