-- Orders: the "sold" half of the target. core/orders.c is the only writer.
--
-- order_lines: one row per marketplace order line, upserted by (marketplace, order, line) so a
-- re-sync, an overlap window or a worker killed mid-page never doubles anything. No buyer data:
-- the connectors never ask for it. listing_id NULL = the SKU is not ours (the owner's other
-- items): kept aside for the record, never counted. delivered_at is the first time a line was
-- seen delivered/completed and never moves; counted says the line's units and revenue are in
-- order_counts.
CREATE TABLE order_lines (
  marketplace_code  VARCHAR(20)  CHARACTER SET ascii NOT NULL,
  order_id          VARCHAR(64)  CHARACTER SET ascii NOT NULL,
  line_id           VARCHAR(96)  CHARACTER SET ascii NOT NULL,
  account_id        BIGINT       NULL,
  listing_id        BIGINT       NULL,
  sku               VARCHAR(64)  NOT NULL DEFAULT '',
  item_id           VARCHAR(64)  NOT NULL DEFAULT '',
  status            VARCHAR(40)  NOT NULL,
  state             ENUM('open','delivered','cancelled','returned') NOT NULL,
  qty               INT          NOT NULL,
  amount_vnd        BIGINT       NOT NULL,
  ordered_at        DATETIME     NULL,
  mp_updated_at     DATETIME     NOT NULL,
  delivered_at      DATETIME     NULL,
  counted           BOOLEAN      NOT NULL DEFAULT FALSE,
  source            ENUM('sync','volunteer','import','owner') NOT NULL,
  claim_id          BIGINT       NULL,
  created_at        DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at        DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (marketplace_code, order_id, line_id),
  KEY idx_ol_listing (listing_id, delivered_at),
  KEY idx_ol_account (account_id, mp_updated_at),
  CONSTRAINT fk_ol_listing FOREIGN KEY (listing_id) REFERENCES listings(id),
  CONSTRAINT fk_ol_account FOREIGN KEY (account_id) REFERENCES seller_accounts(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Orders, units and revenue of counted lines, kept in the same transaction as the line: one row
-- per (year, month in Asia/Ho_Chi_Minh of delivered_at, product, marketplace) with the commune
-- copied so breakdowns by commune / former district read this table alone.
CREATE TABLE order_counts (
  year              SMALLINT     NOT NULL,
  month             TINYINT      NOT NULL,
  product_id        BIGINT       NOT NULL,
  marketplace_code  VARCHAR(20)  CHARACTER SET ascii NOT NULL,
  commune_code      CHAR(5)      CHARACTER SET ascii NOT NULL,
  household_id      BIGINT       NOT NULL,
  orders            INT          NOT NULL DEFAULT 0,
  units             BIGINT       NOT NULL DEFAULT 0,
  revenue_vnd       BIGINT       NOT NULL DEFAULT 0,
  PRIMARY KEY (year, month, product_id, marketplace_code),
  KEY idx_oc_commune (year, commune_code),
  KEY idx_oc_household (household_id, year),
  CONSTRAINT chk_oc_month CHECK (month BETWEEN 1 AND 12)
) ENGINE=InnoDB;

-- orders.sync per API account: the watermark (Unix s of marketplace update time) the next run
-- starts from, minus an overlap; the page being read so a killed run resumes where it was.
CREATE TABLE order_sync (
  account_id        BIGINT       NOT NULL PRIMARY KEY,
  watermark_s       BIGINT       NOT NULL DEFAULT 0,
  window_to_s       BIGINT       NULL,
  page_cursor       VARCHAR(512) CHARACTER SET ascii NULL,
  lines_seen        BIGINT       NOT NULL DEFAULT 0,
  lines_bad         BIGINT       NOT NULL DEFAULT 0,
  last_error        VARCHAR(500) NULL,
  last_run_at       DATETIME     NULL,
  CONSTRAINT fk_os_account FOREIGN KEY (account_id) REFERENCES seller_accounts(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Sales seen by a person on the marketplaces without an API (postmart.vn, voso.vn): recorded by
-- a volunteer, imported from the seller centre's order export, or claimed by the owner ("Tôi đã
-- bán được hàng", pending until a volunteer confirms). One per marketplace order code.
CREATE TABLE sale_claims (
  id                BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  marketplace_code  VARCHAR(20)  CHARACTER SET ascii NOT NULL,
  order_code        VARCHAR(64)  CHARACTER SET ascii NOT NULL,
  listing_id        BIGINT       NOT NULL,
  sold_on           DATE         NOT NULL,
  qty               INT          NOT NULL,
  amount_vnd        BIGINT       NOT NULL,
  source            ENUM('volunteer','import','owner') NOT NULL,
  state             ENUM('pending','confirmed','rejected') NOT NULL,
  evidence_sha256   CHAR(64)     CHARACTER SET ascii NULL,
  created_by        VARCHAR(40)  NOT NULL,
  decided_by        VARCHAR(40)  NULL,
  created_at        DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  decided_at        DATETIME     NULL,
  UNIQUE KEY uq_claim_code (marketplace_code, order_code),
  KEY idx_claim_listing (listing_id),
  KEY idx_claim_state (state, created_at),
  CONSTRAINT fk_claim_listing FOREIGN KEY (listing_id) REFERENCES listings(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
