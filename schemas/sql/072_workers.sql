-- The live workers of the cluster (issue 15): one row per `choso worker` process, renewed by
-- its housekeeping thread every second; a row whose expires_at passed is a dead worker. Every
-- worker paces each marketplace at rate_per_sec ÷ live workers, so the cluster as a whole
-- keeps one budget. Rows are written per heartbeat, never per marketplace request.
CREATE TABLE IF NOT EXISTS workers (
  id         VARCHAR(96) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  started_at DATETIME(3) NOT NULL,
  beat_at    DATETIME(3) NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  KEY idx_workers_expires (expires_at)
) ENGINE=InnoDB;
