-- Equipment (routers, ONTs, set-top boxes …) sold or rented by the ISP, the subscribers' orders
-- with their status history, and the ISP's news and promotions.

-- Whether a purchase or the first rent charge may take a balance below the credit limit (the
-- account is then blocked for debt until paid, as with any charge). Off: such an order is refused.
ALTER TABLE billing_settings ADD COLUMN equipment_on_credit boolean NOT NULL DEFAULT false;

-- The ISP's catalogue, declared in its manifest. An item is sold, rented, or both.
CREATE TABLE equipment_items (
    tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                   uuid NOT NULL,
    code                 text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    kind                 text NOT NULL CHECK (kind IN ('router', 'ont', 'modem', 'tv_box', 'cable', 'other')),
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description          text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    purchase_price_minor bigint CHECK (purchase_price_minor >= 0),
    monthly_rent_minor   bigint CHECK (monthly_rent_minor >= 0),
    currency             char(3) NOT NULL,
    -- Units on hand; NULL means the ISP does not count them (never out of stock).
    stock                integer CHECK (stock >= 0),
    active               boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT equipment_items_code_key UNIQUE (tenant_id, code),
    CHECK (purchase_price_minor IS NOT NULL OR monthly_rent_minor IS NOT NULL)
);
SELECT enable_tenant_isolation('equipment_items');
REVOKE DELETE ON equipment_items FROM kabinet_app;

-- Per-ISP order numbers, shown to people ("order 12").
CREATE TABLE equipment_order_counters (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    last_number bigint NOT NULL
);
SELECT enable_tenant_isolation('equipment_order_counters');
REVOKE DELETE ON equipment_order_counters FROM kabinet_app;

-- new → confirmed → delivered | installed; cancelled (the subscriber while new, staff before
-- hand-over: everything charged comes back); a rental in use → returned (its rent stops).
CREATE TABLE equipment_orders (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    number          bigint NOT NULL,
    subscriber_id   uuid NOT NULL,
    item_id         uuid NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('buy', 'rent')),
    status          text NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'confirmed', 'delivered', 'installed', 'cancelled', 'returned')),
    -- The price agreed when ordering: the purchase price, or the monthly rent (the rent stays at
    -- this price while the rental lasts, whatever the catalogue says later).
    price_minor     bigint NOT NULL CHECK (price_minor >= 0),
    currency        char(3) NOT NULL,
    -- What ordering charged at once (the price, or the rest of the month's rent).
    charged_minor   bigint NOT NULL DEFAULT 0 CHECK (charged_minor >= 0),
    -- What came back on cancellation or return.
    refunded_minor  bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    delivery_note   text NOT NULL DEFAULT '' CHECK (length(delivery_note) <= 1000),
    contact_phone   text NOT NULL CHECK (contact_phone ~ '^\+[0-9]{7,15}$'),
    -- The client's key for this order: a retried request finds the order instead of a twin.
    request_id      uuid NOT NULL,
    -- Rentals: the rent runs from rent_started_at until rent_ended_at (cancelled or returned).
    rent_started_at timestamptz,
    rent_ended_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT equipment_orders_number_key UNIQUE (tenant_id, number),
    CONSTRAINT equipment_orders_request_key UNIQUE (tenant_id, subscriber_id, request_id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES accounts (tenant_id, subscriber_id),
    FOREIGN KEY (tenant_id, item_id) REFERENCES equipment_items (tenant_id, id),
    CHECK ((mode = 'rent') = (rent_started_at IS NOT NULL)),
    CHECK (rent_ended_at IS NULL OR (rent_started_at IS NOT NULL AND rent_ended_at >= rent_started_at)),
    CHECK ((status IN ('cancelled', 'returned')) = (rent_ended_at IS NOT NULL) OR mode = 'buy'),
    CHECK (status <> 'returned' OR mode = 'rent')
);
SELECT enable_tenant_isolation('equipment_orders');
-- The staff queue, newest first, keyset-paginated on (created_at, id), with or without a status.
CREATE INDEX equipment_orders_queue_idx ON equipment_orders (tenant_id, created_at DESC, id DESC);
CREATE INDEX equipment_orders_status_idx ON equipment_orders (tenant_id, status, created_at DESC, id DESC);
CREATE INDEX equipment_orders_subscriber_idx ON equipment_orders (tenant_id, subscriber_id, created_at DESC);
-- The monthly rent run reads running rentals only.
CREATE INDEX equipment_orders_renting_idx ON equipment_orders (tenant_id, subscriber_id)
    WHERE mode = 'rent' AND rent_ended_at IS NULL;
-- Orders are never deleted, and what was agreed never changes: only their progress does.
REVOKE UPDATE, DELETE ON equipment_orders FROM kabinet_app;
GRANT UPDATE (status, refunded_minor, rent_ended_at, updated_at) ON equipment_orders TO kabinet_app;

-- Every status an order went through: who moved it, when, and why. Append-only.
CREATE TABLE equipment_order_events (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    order_id      uuid NOT NULL,
    status        text NOT NULL
                  CHECK (status IN ('new', 'confirmed', 'delivered', 'installed', 'cancelled', 'returned')),
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    subscriber_id uuid,
    staff_id      uuid,
    at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES equipment_orders (tenant_id, id),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
    CHECK (subscriber_id IS NULL OR staff_id IS NULL)
);
SELECT enable_tenant_isolation('equipment_order_events');
CREATE INDEX equipment_order_events_order_idx ON equipment_order_events (tenant_id, order_id, at);
REVOKE UPDATE, DELETE ON equipment_order_events FROM kabinet_app;

-- News and promotions. A post shows from publish_at until expires_at (if any), to everyone or
-- only to subscribers on the listed tariffs, in one language or in all (locale NULL).
CREATE TABLE news_posts (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    -- Manifest posts are keyed by slug, so applying twice changes nothing; console posts have none.
    slug            text CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    kind            text NOT NULL CHECK (kind IN ('news', 'promotion')),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    locale          text CHECK (locale IN ('ru', 'en')),
    publish_at      timestamptz NOT NULL,
    expires_at      timestamptz,
    -- Tariff codes; empty means every subscriber.
    target_tariffs  text[] NOT NULL DEFAULT '{}' CHECK (cardinality(target_tariffs) <= 50),
    pinned          boolean NOT NULL DEFAULT false,
    -- Taken down by staff; the post is kept (and can be put back).
    unpublished_at  timestamptz,
    created_by      uuid,
    updated_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, updated_by) REFERENCES staff (tenant_id, id),
    CHECK (expires_at IS NULL OR expires_at > publish_at)
);
SELECT enable_tenant_isolation('news_posts');
CREATE UNIQUE INDEX news_posts_slug_key ON news_posts (tenant_id, slug) WHERE slug IS NOT NULL;
-- The subscriber's feed: pinned first, then newest, keyset-paginated on (pinned, publish_at, id).
CREATE INDEX news_posts_feed_idx ON news_posts (tenant_id, pinned DESC, publish_at DESC, id DESC)
    WHERE unpublished_at IS NULL;
-- The staff list: every post, in the same order.
CREATE INDEX news_posts_list_idx ON news_posts (tenant_id, pinned DESC, publish_at DESC, id DESC);
-- Posts are taken down, never deleted.
REVOKE DELETE ON news_posts FROM kabinet_app;
