-- Assisted shops and listings count only once verified (issue 12): the address given by a
-- volunteer is fetched and must show the shop/product name. A normalised address key makes one
-- shop address belong to one household and one listing address to one listing, per marketplace
-- (NULL keys do not collide: rows confirmed before this migration keep none until re-confirmed).
ALTER TABLE seller_accounts
  MODIFY state ENUM('not_started','awaiting_owner','authorized','active','rejected','suspended','token_expired','pending_verification','verification_failed') NOT NULL DEFAULT 'not_started',
  ADD COLUMN shop_url_key       VARCHAR(500) NULL,
  ADD COLUMN expected_name      VARCHAR(255) NULL,
  ADD COLUMN confirmed_by       VARCHAR(48)  NULL,
  ADD COLUMN verified_at        DATETIME     NULL,
  ADD COLUMN verify_reason      VARCHAR(500) NULL,
  ADD UNIQUE KEY uq_account_shop_url (marketplace_code, shop_url_key);

ALTER TABLE listings
  MODIFY state ENUM('draft','queued','submitted','pending_review','live','rejected','delisted','failed','pending_verification','verification_failed','suspended') NOT NULL DEFAULT 'draft',
  ADD COLUMN listing_url_key    VARCHAR(500) NULL,
  ADD COLUMN confirmed_by       VARCHAR(48)  NULL,
  ADD COLUMN verified_at        DATETIME     NULL,
  ADD UNIQUE KEY uq_listing_url (marketplace_code, listing_url_key);
