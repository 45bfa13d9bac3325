-- Real and practice apart (issue 12): every seller account and listing records the
-- environment it was made in (the marketplace's `<code>.mode` when it was created; a listing
-- takes its shop's). Set once, never rewritten. Rows made before this migration are NULL here
-- and classified by `choso migrate` from the settings right after (core/migrate.c); a NULL
-- left by rows written outside the product reads as production. Targets count production
-- only, unless the instance is a demo or training one (instance.kind).
ALTER TABLE seller_accounts
  ADD COLUMN env ENUM('production','sandbox') NULL;

ALTER TABLE listings
  ADD COLUMN env ENUM('production','sandbox') NULL;
