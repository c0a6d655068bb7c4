-- Account security: TOTP second factor with recovery codes, pending second-factor sign-ins,
-- password reset by e-mail, and the outgoing mail outbox (crates/mail).
--
-- Every table here belongs to one principal, a subscriber or a staff member (exactly one of the
-- two columns is set, as in `sessions`), and goes when that principal does.

-- A principal's authenticator. One row per principal: `enabled_at` NULL is an enrollment waiting
-- for its first code; starting over replaces it. The secret is AES-256-GCM ciphertext (nonce
-- first) under KABINET_SECRET_KEY, bound to this row's tenant and id; it is never shown again
-- after enrollment. `last_used_step` is the last accepted 30-second step: a code is good once.
CREATE TABLE two_factor (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    subscriber_id  uuid,
    staff_id       uuid,
    secret_sealed  bytea NOT NULL,
    enabled_at     timestamptz,
    last_used_step bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((subscriber_id IS NULL) <> (staff_id IS NULL)),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('two_factor');
CREATE UNIQUE INDEX two_factor_subscriber_key ON two_factor (tenant_id, subscriber_id) WHERE subscriber_id IS NOT NULL;
CREATE UNIQUE INDEX two_factor_staff_key ON two_factor (tenant_id, staff_id) WHERE staff_id IS NOT NULL;

-- Single-use recovery codes of an enabled authenticator, as SHA-256 (salted with the factor's id:
-- the codes carry 60 random bits). Regenerating replaces the whole set.
CREATE TABLE recovery_codes (
    tenant_id  uuid NOT NULL,
    factor_id  uuid NOT NULL,
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, factor_id, code_hash),
    FOREIGN KEY (tenant_id, factor_id) REFERENCES two_factor (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('recovery_codes');

-- A sign-in whose password was right and which waits for the second factor. The client holds an
-- opaque token (only its SHA-256 is here); it lives five minutes and dies after five wrong codes.
CREATE TABLE login_challenges (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    token_hash    bytea NOT NULL,
    subscriber_id uuid,
    staff_id      uuid,
    failures      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT login_challenges_token_hash_key UNIQUE (tenant_id, token_hash),
    CHECK ((subscriber_id IS NULL) <> (staff_id IS NULL)),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('login_challenges');
CREATE INDEX login_challenges_expires_idx ON login_challenges (tenant_id, expires_at);

-- Password reset links: the mail holds the token, this table its SHA-256. Thirty minutes, used
-- once, and at most one open per principal (a new request replaces the old link).
CREATE TABLE password_reset_tokens (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    token_hash    bytea NOT NULL,
    subscriber_id uuid,
    staff_id      uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    requested_from text,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT password_reset_tokens_token_hash_key UNIQUE (tenant_id, token_hash),
    CHECK ((subscriber_id IS NULL) <> (staff_id IS NULL)),
    FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('password_reset_tokens');
CREATE UNIQUE INDEX password_reset_tokens_open_subscriber_key ON password_reset_tokens (tenant_id, subscriber_id)
    WHERE used_at IS NULL AND subscriber_id IS NOT NULL;
CREATE UNIQUE INDEX password_reset_tokens_open_staff_key ON password_reset_tokens (tenant_id, staff_id)
    WHERE used_at IS NULL AND staff_id IS NOT NULL;

-- Outgoing mail, written in the same transaction as whatever it tells about, delivered by the
-- sender worker of `kabinet serve` (crates/mail). A worker claims due rows with
-- FOR UPDATE SKIP LOCKED and leases them (next_attempt_at moves ahead) while it talks SMTP, so
-- several nodes never send one message twice at the same time.
CREATE TABLE mail_outbox (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    to_addr         text NOT NULL CHECK (position('@' IN to_addr) > 1 AND length(to_addr) <= 254),
    from_name       text CHECK (length(from_name) <= 200),
    reply_to        text CHECK (length(reply_to) <= 254),
    subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    text_body       text NOT NULL,
    html_body       text,
    status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    PRIMARY KEY (tenant_id, id)
);
SELECT enable_tenant_isolation('mail_outbox');
CREATE INDEX mail_outbox_due_idx ON mail_outbox (tenant_id, next_attempt_at) WHERE status = 'queued';
-- Delivery history stays: the app may move a message's status, never delete one.
REVOKE DELETE ON mail_outbox FROM kabinet_app;

-- New mail wakes the sender at once (delivered on commit; a rolled-back message never rings).
CREATE FUNCTION notify_mail_queued() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('kabinet_mail', NEW.tenant_id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER mail_outbox_queued AFTER INSERT ON mail_outbox
    FOR EACH ROW EXECUTE FUNCTION notify_mail_queued();
