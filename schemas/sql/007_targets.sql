-- Targets: summary rows kept in the same transaction as the events they count (core/targets.c
-- is the only writer), so GET /v1/targets reads a few thousand rows however many households
-- and listings there are. `choso targets --rebuild` recomputes them from the base tables.
--
-- One row per (year, month, metric, commune, marketplace): year and month in Asia/Ho_Chi_Minh
-- (UTC+7, no daylight saving) of the first date the metric counts from; marketplace of the
-- first active account / first live listing / first sale ('' when the history names none).
CREATE TABLE target_counts (
  year              SMALLINT    NOT NULL,
  month             TINYINT     NOT NULL,
  metric            ENUM('households_onboarded','flagship_products_live','flagship_products_sold') NOT NULL,
  commune_code      CHAR(5)     CHARACTER SET ascii NOT NULL,
  marketplace_code  VARCHAR(20) CHARACTER SET ascii NOT NULL,
  n                 INT         NOT NULL DEFAULT 0,
  PRIMARY KEY (year, month, metric, commune_code, marketplace_code),
  CONSTRAINT chk_tc_month CHECK (month BETWEEN 1 AND 12)
) ENGINE=InnoDB;
