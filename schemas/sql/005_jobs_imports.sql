-- The durable job queue and batch imports.

CREATE TABLE jobs (
  id               BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind             VARCHAR(40)  CHARACTER SET ascii NOT NULL,
  payload          MEDIUMTEXT   NOT NULL,   -- JSON
  state            ENUM('queued','running','done','dead','cancelled') NOT NULL DEFAULT 'queued',
  priority         SMALLINT     NOT NULL DEFAULT 0,   -- higher runs first
  run_at           DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  attempts         INT          NOT NULL DEFAULT 0,
  max_attempts     INT          NOT NULL DEFAULT 8,
  lease_owner      VARCHAR(80)  CHARACTER SET ascii NULL,
  lease_expires_at DATETIME(3)  NULL,
  last_error       VARCHAR(1000) NULL,
  error_history    TEXT         NULL,   -- JSON array of {at, attempt, error}, newest last, capped
  -- set while the job is queued/running; cleared when it ends so the key can be used again
  unique_key       VARCHAR(190) CHARACTER SET ascii NULL,
  created_at       DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  started_at       DATETIME(3)  NULL,
  finished_at      DATETIME(3)  NULL,
  UNIQUE KEY uq_jobs_unique_key (unique_key),
  KEY idx_jobs_claim (state, run_at, priority),
  KEY idx_jobs_lease (state, lease_expires_at),
  KEY idx_jobs_kind_state (kind, state),
  CONSTRAINT chk_jobs_attempts CHECK (attempts >= 0 AND max_attempts >= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE imports (
  id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind            ENUM('households','products') NOT NULL,
  filename        VARCHAR(255) NOT NULL,
  file_sha256     CHAR(64)     CHARACTER SET ascii NOT NULL,
  file_format     ENUM('csv','xlsx') NOT NULL,
  content         LONGBLOB     NOT NULL,   -- kept so a crash can resume from the next chunk
  dry_run         BOOLEAN      NOT NULL DEFAULT FALSE,
  state           ENUM('queued','running','done','failed') NOT NULL DEFAULT 'queued',
  total_rows      INT          NOT NULL DEFAULT 0,
  rows_done       INT          NOT NULL DEFAULT 0,   -- rows committed: resume point
  n_created       INT          NOT NULL DEFAULT 0,
  n_updated       INT          NOT NULL DEFAULT 0,
  n_unchanged     INT          NOT NULL DEFAULT 0,
  n_rejected      INT          NOT NULL DEFAULT 0,
  warnings        TEXT         NULL,   -- JSON: unknown columns, converted encoding, …
  error_message   VARCHAR(1000) NULL,
  created_by      VARCHAR(40)  NOT NULL,
  created_at      DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  finished_at     DATETIME     NULL,
  KEY idx_imports_creator (created_by, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- scope of a volunteer's import: the communes its token may write
CREATE TABLE import_communes (
  import_id     BIGINT  NOT NULL,
  commune_code  CHAR(5) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (import_id, commune_code),
  CONSTRAINT fk_ic_import FOREIGN KEY (import_id) REFERENCES imports(id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE import_rejects (
  import_id  BIGINT  NOT NULL,
  row_no     INT     NOT NULL,      -- 1-based data row as the volunteer sees it (header = row 1)
  cells      MEDIUMTEXT NOT NULL,   -- JSON array of the original cells
  errors     TEXT    NOT NULL,      -- JSON [{field, code, message_vi}]
  PRIMARY KEY (import_id, row_no),
  CONSTRAINT fk_ir_import FOREIGN KEY (import_id) REFERENCES imports(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
