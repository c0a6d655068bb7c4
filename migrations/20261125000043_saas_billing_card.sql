-- The card an ISP pays its Kabinet subscription with: saved through a Stripe Checkout Session
-- in `setup` mode on the platform account and made the customer's
-- `invoice_settings.default_payment_method`. Only display details are kept (never the number).
-- `card_session_id` names the setup session the card came from and `card_session_created` when
-- Kabinet opened it (to the microsecond, kept in the session's metadata): the console's return
-- and the `checkout.session.completed` webhook apply a session once, and an older session never
-- replaces the card of a newer one.
ALTER TABLE saas_billing_customers
    ADD COLUMN payment_method_id     text CHECK (payment_method_id LIKE 'pm\_%'),
    ADD COLUMN card_brand            text CHECK (length(card_brand) BETWEEN 1 AND 40),
    ADD COLUMN card_last4            text CHECK (card_last4 ~ '^[0-9]{4}$'),
    ADD COLUMN card_exp_month        smallint CHECK (card_exp_month BETWEEN 1 AND 12),
    ADD COLUMN card_exp_year         smallint CHECK (card_exp_year BETWEEN 2000 AND 2200),
    ADD COLUMN card_session_id       text CHECK (card_session_id LIKE 'cs\_%'),
    ADD COLUMN card_session_created  timestamptz,
    ADD COLUMN card_set_at           timestamptz,
    ADD CONSTRAINT saas_billing_customers_card_check CHECK (
        (payment_method_id IS NULL) = (card_session_id IS NULL)
        AND (payment_method_id IS NULL) = (card_set_at IS NULL)
        AND (payment_method_id IS NULL) = (card_session_created IS NULL));
