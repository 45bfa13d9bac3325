-- Flagship is a designation, not a tick (issue 12 point 2): a product counts toward
-- flagship_products_live/sold only when linked to an entry of the province's list
-- (flagship_products) and that link is approved by provincial staff. The list gains the OCOP
-- facts staff maintain; a product records the state of its proposed link and who decided it.
ALTER TABLE flagship_products
  ADD COLUMN producer        VARCHAR(200) NULL,
  ADD COLUMN certificate_no  VARCHAR(64)  NULL,
  ADD COLUMN ocop_year       SMALLINT     NULL,
  ADD COLUMN updated_at      DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  ADD KEY idx_flagship_folded (name_folded);
ALTER TABLE products
  ADD COLUMN flagship_status     ENUM('none','proposed','approved','refused') NOT NULL DEFAULT 'none',
  ADD COLUMN flagship_reason     VARCHAR(500) NULL,
  ADD COLUMN flagship_decided_by VARCHAR(48)  NULL,
  ADD COLUMN flagship_decided_at DATETIME     NULL,
  ADD KEY idx_products_pair (household_id, flagship_id, flagship_status);
-- an existing link was never approved: it becomes a proposal; the old tick counts no more, so
-- the product counters restart at zero, exactly what `choso targets --rebuild` now computes
UPDATE products
  SET flagship_status = 'proposed'
  WHERE flagship_id IS NOT NULL;
UPDATE products
  SET flagship = FALSE
  WHERE flagship;
DELETE FROM target_counts
  WHERE metric IN ('flagship_products_live', 'flagship_products_sold');
