-- Marketplaces, seller accounts (household × marketplace), listings (product × marketplace),
-- their event histories and the category mapping.

CREATE TABLE marketplaces (
  code                VARCHAR(20)  CHARACTER SET ascii NOT NULL PRIMARY KEY,
  name                VARCHAR(60)  NOT NULL,
  kind                ENUM('api','file') NOT NULL,
  base_url            VARCHAR(300) NOT NULL DEFAULT '',
  auth_url            VARCHAR(300) NOT NULL DEFAULT '',
  public_domain       VARCHAR(100) NOT NULL DEFAULT '',   -- shop/listing URLs must be on it
  rate_per_sec        DOUBLE       NOT NULL DEFAULT 10,
  concurrency         INT          NOT NULL DEFAULT 8,
  credentials_sealed  VARBINARY(2048) NULL,
  enabled             BOOLEAN      NOT NULL DEFAULT TRUE,
  display_order       TINYINT      NOT NULL,
  CONSTRAINT chk_mp_rate CHECK (rate_per_sec > 0),
  CONSTRAINT chk_mp_conc CHECK (concurrency BETWEEN 1 AND 1000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE seller_accounts (
  id                   BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  household_id         BIGINT      NOT NULL,
  marketplace_code     VARCHAR(20) CHARACTER SET ascii NOT NULL,
  state                ENUM('not_started','awaiting_owner','authorized','active','rejected','suspended','token_expired') NOT NULL DEFAULT 'not_started',
  external_shop_id     VARCHAR(64) NULL,
  shop_url             VARCHAR(500) NULL,
  oauth_state          CHAR(43)    CHARACTER SET ascii NULL,   -- random, binds a callback to us
  auth_link            VARCHAR(1000) NULL,
  access_token_sealed  VARBINARY(1024) NULL,
  refresh_token_sealed VARBINARY(1024) NULL,
  access_expires_at    DATETIME    NULL,
  refresh_expires_at   DATETIME    NULL,
  authorized_at        DATETIME    NULL,
  activated_at         DATETIME    NULL,
  last_error_code      VARCHAR(60) NULL,
  last_error_message   VARCHAR(500) NULL,
  version              INT UNSIGNED NOT NULL DEFAULT 1,
  created_at           DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at           DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY uq_account (household_id, marketplace_code),
  UNIQUE KEY uq_account_oauth_state (oauth_state),
  KEY idx_account_state (marketplace_code, state),
  KEY idx_account_expiry (state, access_expires_at),
  CONSTRAINT fk_account_household FOREIGN KEY (household_id) REFERENCES households(id),
  CONSTRAINT fk_account_mp FOREIGN KEY (marketplace_code) REFERENCES marketplaces(code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE account_events (
  id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id  BIGINT      NOT NULL,
  from_state  VARCHAR(20) CHARACTER SET ascii NULL,
  to_state    VARCHAR(20) CHARACTER SET ascii NOT NULL,
  reason_code VARCHAR(60) CHARACTER SET ascii NULL,
  reason      VARCHAR(500) NULL,
  actor       VARCHAR(40) NOT NULL,
  created_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY idx_acev_account (account_id, id),
  KEY idx_acev_state_time (to_state, created_at),
  CONSTRAINT fk_acev_account FOREIGN KEY (account_id) REFERENCES seller_accounts(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE listings (
  id                  BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id          BIGINT      NOT NULL,
  marketplace_code    VARCHAR(20) CHARACTER SET ascii NOT NULL,
  account_id          BIGINT      NULL,
  state               ENUM('draft','queued','submitted','pending_review','live','rejected','delisted','failed') NOT NULL DEFAULT 'draft',
  external_item_id    VARCHAR(64) NULL,
  listing_url         VARCHAR(500) NULL,
  last_error_code     VARCHAR(60) NULL,
  last_error_message  VARCHAR(1000) NULL,
  error_fields        TEXT        NULL,   -- JSON [{field, code, message}] for the volunteer
  live_at             DATETIME    NULL,   -- the current live spell
  first_live_at       DATETIME    NULL,
  first_sale_at       DATETIME    NULL,
  synced_hash         BINARY(32)  NULL,   -- product content hash last sent
  linkcheck_failures  INT         NOT NULL DEFAULT 0,
  last_checked_at     DATETIME    NULL,
  version             INT UNSIGNED NOT NULL DEFAULT 1,
  created_at          DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at          DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY uq_listing (product_id, marketplace_code),
  KEY idx_listing_state (marketplace_code, state),
  KEY idx_listing_state_only (state, updated_at),
  KEY idx_listing_account (account_id),
  CONSTRAINT fk_listing_product FOREIGN KEY (product_id) REFERENCES products(id),
  CONSTRAINT fk_listing_mp FOREIGN KEY (marketplace_code) REFERENCES marketplaces(code),
  CONSTRAINT fk_listing_account FOREIGN KEY (account_id) REFERENCES seller_accounts(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE listing_events (
  id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  listing_id  BIGINT      NOT NULL,
  from_state  VARCHAR(20) CHARACTER SET ascii NULL,
  to_state    VARCHAR(20) CHARACTER SET ascii NOT NULL,
  reason_code VARCHAR(60) CHARACTER SET ascii NULL,
  reason      VARCHAR(1000) NULL,
  actor       VARCHAR(40) NOT NULL,
  created_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY idx_lev_listing (listing_id, id),
  KEY idx_lev_state_time (to_state, created_at),
  CONSTRAINT fk_lev_listing FOREIGN KEY (listing_id) REFERENCES listings(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE category_map (
  category               VARCHAR(40) CHARACTER SET ascii NOT NULL,
  marketplace_code       VARCHAR(20) CHARACTER SET ascii NOT NULL,
  external_category_id   VARCHAR(40) NOT NULL,
  external_category_name VARCHAR(200) NOT NULL DEFAULT '',
  attributes             TEXT        NULL,   -- JSON object of required attributes
  PRIMARY KEY (category, marketplace_code),
  CONSTRAINT fk_cm_cat FOREIGN KEY (category) REFERENCES categories(code),
  CONSTRAINT fk_cm_mp FOREIGN KEY (marketplace_code) REFERENCES marketplaces(code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
