-- Leases instead of GET_LOCK (issue 15): named locks are node-local on a Galera cluster, a row
-- taken in a transaction is not. One row per name; the holder keeps it by renewing before
-- expires_at; generation grows each time the holder changes (fencing). migrate creates the
-- same table itself before it takes its own lease, hence IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS leases (
  name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  holder VARCHAR(96) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  generation BIGINT UNSIGNED NOT NULL DEFAULT 0,
  expires_at DATETIME(3) NOT NULL,
  taken_at DATETIME(3) NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB;
