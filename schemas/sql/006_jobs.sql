-- Jobs, second step: cooperative cancel of running jobs, the unique key kept after the job ends
-- (a manual retry restores it), an index in the claim's own order (state, priority DESC, run_at)
-- so a claim stops scanning after the rows it takes, room for 20 long errors in the history,
-- and the scheduler's ledger of ticks.
ALTER TABLE jobs
  ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE AFTER lease_expires_at,
  ADD COLUMN dedupe_key VARCHAR(190) CHARACTER SET ascii NULL AFTER unique_key,
  MODIFY error_history MEDIUMTEXT NULL,
  ADD KEY idx_jobs_ready (state, priority DESC, run_at),
  DROP KEY idx_jobs_claim;

-- One row per scheduled tick ever enqueued: the primary key makes a tick impossible to enqueue
-- twice, whichever worker leads and however leadership changes. Inserted in the same
-- transaction as the job.
CREATE TABLE job_ticks (
  kind        VARCHAR(40)  CHARACTER SET ascii NOT NULL,
  tick        BIGINT       NOT NULL,   -- epoch seconds, a multiple of the period
  job_id      BIGINT       NULL,
  created_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (kind, tick)
) ENGINE=InnoDB;
