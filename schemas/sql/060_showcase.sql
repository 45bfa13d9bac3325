-- The public showcase (quảng bá): the owner's agreement to show the business name publicly
-- (off unless recorded; the commune is always shown), and the click-throughs to a marketplace
-- counted per product, marketplace and month (Asia/Ho_Chi_Minh). Nothing personal is kept:
-- no address, no cookie, no user agent — one counter row per (product, marketplace, month).
ALTER TABLE households
  ADD COLUMN showcase_name_consent BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE showcase_clicks (
  product_id        BIGINT      NOT NULL,
  marketplace_code  VARCHAR(20) CHARACTER SET ascii NOT NULL,
  year              SMALLINT    NOT NULL,
  month             TINYINT     NOT NULL,
  n                 INT         NOT NULL DEFAULT 0,
  PRIMARY KEY (product_id, marketplace_code, year, month),
  KEY idx_sc_year (year, month),
  CONSTRAINT fk_sc_product FOREIGN KEY (product_id) REFERENCES products(id),
  CONSTRAINT chk_sc_month CHECK (month BETWEEN 1 AND 12)
) ENGINE=InnoDB;
