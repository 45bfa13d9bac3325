-- Issue 16 (session 3): a take-down the marketplace keeps refusing is handed to a person after
-- flows.withdraw_refusals refusals (the listing's last_error_code becomes 'take_down_by_hand',
-- a task on the volunteer page); this counts the refusals of the current take-down.
ALTER TABLE listings
  ADD COLUMN withdraw_refusals SMALLINT NOT NULL DEFAULT 0 AFTER linkcheck_failures;
