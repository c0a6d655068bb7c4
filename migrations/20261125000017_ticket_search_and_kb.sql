-- Full-text search over tickets, messages and internal notes; the knowledge base; deflection
-- on the subscriber's new-ticket form.
--
-- One text search configuration, `russian`, for both languages: it stems Cyrillic words with
-- `russian_stem` and ASCII words with `english_stem` (English stop words included), so
-- "подключения" and "connections" both reduce to their stems in one vector and one query.
-- The vectors are stored (ranking reads them for every hit) and kept by triggers rather than as
-- generated columns, so a row copied whole (`INSERT … SELECT *`) still inserts.
--
-- GIN indexes lead with tenant_id like every index here: btree_gin (a trusted extension, so
-- the schema owner may create it) lets one GIN index hold (tenant_id, vector).

CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE FUNCTION kabinet_search_vector(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT setweight(to_tsvector('russian', coalesce(title, '')), 'A')
              || setweight(to_tsvector('russian', coalesce(body, '')), 'B') $$;

ALTER TABLE tickets ADD COLUMN search_tsv tsvector;
ALTER TABLE ticket_messages ADD COLUMN search_tsv tsvector;
ALTER TABLE ticket_notes ADD COLUMN search_tsv tsvector;

CREATE FUNCTION tickets_search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_tsv := kabinet_search_vector(NEW.subject, NULL);
    RETURN NEW;
END $$;
CREATE FUNCTION ticket_texts_search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_tsv := kabinet_search_vector(NULL, NEW.body);
    RETURN NEW;
END $$;
CREATE TRIGGER tickets_search_tsv BEFORE INSERT OR UPDATE OF subject, search_tsv ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_search_tsv();
CREATE TRIGGER ticket_messages_search_tsv BEFORE INSERT OR UPDATE OF body, search_tsv ON ticket_messages
    FOR EACH ROW EXECUTE FUNCTION ticket_texts_search_tsv();
CREATE TRIGGER ticket_notes_search_tsv BEFORE INSERT OR UPDATE OF body, search_tsv ON ticket_notes
    FOR EACH ROW EXECUTE FUNCTION ticket_texts_search_tsv();

-- Existing rows, tenant by tenant (row-level security binds the owner too).
DO $$
DECLARE t uuid;
BEGIN
    FOR t IN SELECT id FROM tenants LOOP
        PERFORM set_config('app.tenant_id', t::text, true);
        UPDATE tickets SET search_tsv = NULL WHERE tenant_id = t;
        UPDATE ticket_messages SET search_tsv = NULL WHERE tenant_id = t;
        UPDATE ticket_notes SET search_tsv = NULL WHERE tenant_id = t;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END $$;

ALTER TABLE tickets ALTER COLUMN search_tsv SET NOT NULL;
ALTER TABLE ticket_messages ALTER COLUMN search_tsv SET NOT NULL;
ALTER TABLE ticket_notes ALTER COLUMN search_tsv SET NOT NULL;

CREATE INDEX tickets_search_idx ON tickets USING gin (tenant_id, search_tsv);
CREATE INDEX ticket_messages_search_idx ON ticket_messages USING gin (tenant_id, search_tsv);
CREATE INDEX ticket_notes_search_idx ON ticket_notes USING gin (tenant_id, search_tsv);

-- The knowledge base: articles staff write and subscribers read (published ones only).
CREATE TABLE kb_articles (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    -- Manifest articles are keyed by slug, so applying twice changes nothing.
    slug         text CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- Plain text: blank lines separate paragraphs; `**bold**`, `- ` lists and links are rendered.
    body         text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    locale       text NOT NULL CHECK (locale IN ('ru', 'en')),
    category     text CHECK (category IN ('connectivity', 'speed', 'payments', 'tariff', 'addons', 'equipment', 'complaint', 'account_security', 'other')),
    -- NULL: a draft, which subscribers never see.
    published_at timestamptz,
    created_by   uuid,
    updated_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    search_tsv   tsvector NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, updated_by) REFERENCES staff (tenant_id, id)
);
SELECT enable_tenant_isolation('kb_articles');
CREATE FUNCTION kb_articles_search_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_tsv := kabinet_search_vector(NEW.title, NEW.body);
    RETURN NEW;
END $$;
CREATE TRIGGER kb_articles_search_tsv BEFORE INSERT OR UPDATE ON kb_articles
    FOR EACH ROW EXECUTE FUNCTION kb_articles_search_tsv();
CREATE UNIQUE INDEX kb_articles_slug_key ON kb_articles (tenant_id, slug) WHERE slug IS NOT NULL;
-- Lists: the editor's (every article) and the portal's (published), newest change first.
CREATE INDEX kb_articles_list_idx ON kb_articles (tenant_id, updated_at DESC, id DESC);
CREATE INDEX kb_articles_search_idx ON kb_articles USING gin (tenant_id, search_tsv);
-- Articles are unpublished, never deleted (deflection analytics point at them).
REVOKE DELETE ON kb_articles FROM kabinet_app;

-- A subscriber on the new-ticket form opened a suggested article or followed a fix (pay,
-- resume). One visit to the form is one `form_session` (the web makes the id); `ticket_id` is
-- set when that visit sent a ticket anyway, so the sessions left without one are the deflected
-- tickets.
CREATE TABLE ticket_deflections (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    subscriber_id uuid NOT NULL,
    form_session  uuid NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('article', 'self_fix')),
    article_id    uuid,
    fix           text CHECK (fix IN ('pay', 'resume')),
    ticket_id     uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((kind = 'article') = (article_id IS NOT NULL)),
    CHECK ((kind = 'self_fix') = (fix IS NOT NULL)),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('ticket_deflections');
CREATE INDEX ticket_deflections_created_idx ON ticket_deflections (tenant_id, created_at);
CREATE INDEX ticket_deflections_session_idx ON ticket_deflections (tenant_id, subscriber_id, form_session);
REVOKE DELETE ON ticket_deflections FROM kabinet_app;

-- The articles the form suggested before the subscriber sent the ticket anyway.
CREATE TABLE ticket_suggestions (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ticket_id  uuid NOT NULL,
    article_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id, article_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id)
);
SELECT enable_tenant_isolation('ticket_suggestions');
CREATE INDEX ticket_suggestions_article_idx ON ticket_suggestions (tenant_id, article_id);
REVOKE UPDATE, DELETE ON ticket_suggestions FROM kabinet_app;
