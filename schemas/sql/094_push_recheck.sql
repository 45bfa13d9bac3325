-- TikTok Shop webhooks name a shop by its numeric id, not the cipher every API call uses
-- (kept as external_shop_id): keep the id too, so an order-status webhook (type 1) finds the
-- account whose orders to sync soon. NULL for accounts authorised before this migration (their
-- orders are still read by the periodic sync).
ALTER TABLE seller_accounts
  ADD COLUMN push_shop_id VARCHAR(64) NULL,
  ADD KEY idx_account_push_shop (marketplace_code, push_shop_id);

-- The scheduled re-check of live API listings (listing.recheck) takes the ones looked at
-- longest ago first: last_checked_at (until now set only by the assisted link check) is
-- stamped for API listings too.
ALTER TABLE listings
  ADD KEY idx_listing_recheck (state, last_checked_at);
