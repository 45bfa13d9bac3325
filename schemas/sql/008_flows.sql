-- Marketplace flows (jobs/flows*.c): crash safety of item creation, image ids kept per listing so
-- retries never upload twice, and webhook de-duplication.

-- Set (and committed) BEFORE a create call is sent; while it is set and no item id is known, the
-- outcome of that call is unknown and the next attempt looks our SKU up first.
ALTER TABLE listings
  ADD COLUMN create_attempted_at DATETIME(3) NULL AFTER synced_hash,
  ADD COLUMN status_checked_at   DATETIME    NULL AFTER create_attempted_at,
  ADD KEY idx_listing_item (marketplace_code, external_item_id);

-- Marketplace image id (Lazada: hosted URL) of each product image, per listing.
CREATE TABLE listing_images (
  listing_id   BIGINT       NOT NULL,
  sha256       CHAR(64)     CHARACTER SET ascii NOT NULL,
  external_id  VARCHAR(512) NOT NULL,
  created_at   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (listing_id, sha256),
  CONSTRAINT fk_limg_listing FOREIGN KEY (listing_id) REFERENCES listings(id)
) ENGINE=InnoDB;

-- Push notifications already applied (SHA-256 of the raw body): a redelivery is a no-op.
CREATE TABLE webhook_events (
  marketplace_code VARCHAR(20) CHARACTER SET ascii NOT NULL,
  digest           BINARY(32)  NOT NULL,
  received_at      DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (marketplace_code, digest),
  KEY idx_webhook_time (received_at)
) ENGINE=InnoDB;

-- Look-ups the flows make: accounts to refresh, listings waiting on review or a link check.
ALTER TABLE seller_accounts ADD KEY idx_account_refresh (state, refresh_expires_at);
