-- issue 13: the owner's PIN throttle without hard locks. Growing delays per (household code,
-- client address) and a daily ceiling of wrong PINs per household code; an address where the
-- household signed in lately ("known") is spared the household's ceiling, so neither a stranger
-- nor a neighbour behind the same carrier address can lock an owner out. Keyed by the code as
-- typed (normalised), so an unknown code is throttled exactly like a known one and its answer
-- reveals nothing. households.pin_failures/pin_locked_until and pin_throttle.locked_until are
-- no longer used (left in place: applied migrations are never edited).
CREATE TABLE pin_pair (
  code          VARCHAR(24) CHARACTER SET ascii NOT NULL,
  client        VARCHAR(64) CHARACTER SET ascii NOT NULL,
  failures      INT         NOT NULL DEFAULT 0,
  window_start  DATETIME    NULL,
  wait_until    DATETIME    NULL,
  last_success  DATETIME    NULL,
  PRIMARY KEY (code, client),
  KEY idx_pin_pair_window (window_start)
) ENGINE=InnoDB;

CREATE TABLE pin_day (
  code      VARCHAR(24) CHARACTER SET ascii NOT NULL,
  day       DATE        NOT NULL,
  failures  INT         NOT NULL DEFAULT 0,
  PRIMARY KEY (code, day),
  KEY idx_pin_day_day (day)
) ENGINE=InnoDB;
