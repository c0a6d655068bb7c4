-- The catalogue editors in the console (tariffs, add-ons, equipment). The tables already carry
-- everything the editors change, `active` (archived = false) included; the console lists each
-- item with how many use it now: accounts per tariff (`accounts_tariff_idx`), connected
-- subscribers per add-on (`addon_subscriptions_addon_idx`), and running rentals per equipment
-- item, which had no index led by the item.
CREATE INDEX equipment_orders_item_renting_idx ON equipment_orders (tenant_id, item_id)
    WHERE mode = 'rent' AND rent_ended_at IS NULL;
