-- Who may do what: bearer tokens (hash only), their communes, owner PIN throttling by client
-- address, the audit trail and idempotent POST replies.

CREATE TABLE tokens (
  id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name          VARCHAR(100) NOT NULL,
  role          ENUM('admin','monitor','volunteer') NOT NULL,
  token_hash    BINARY(32)   NOT NULL,
  created_at    DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at    DATETIME     NULL,
  revoked_at    DATETIME     NULL,
  last_used_at  DATETIME     NULL,
  UNIQUE KEY uq_token_hash (token_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_vietnamese_ai_ci;

CREATE TABLE token_communes (
  token_id      BIGINT  NOT NULL,
  commune_code  CHAR(5) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (token_id, commune_code),
  CONSTRAINT fk_tc_token FOREIGN KEY (token_id) REFERENCES tokens(id) ON DELETE CASCADE,
  CONSTRAINT fk_tc_unit FOREIGN KEY (commune_code) REFERENCES admin_units(code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- web sign-in sessions: the cookie holds a random id whose hash is stored here
CREATE TABLE sessions (
  id_hash     BINARY(32)  NOT NULL PRIMARY KEY,
  token_id    BIGINT      NOT NULL,
  csrf        CHAR(43)    CHARACTER SET ascii NOT NULL,
  created_at  DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at  DATETIME    NOT NULL,
  KEY idx_sessions_exp (expires_at),
  CONSTRAINT fk_sess_token FOREIGN KEY (token_id) REFERENCES tokens(id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- wrong-PIN counters per client address (per household counters live on households)
CREATE TABLE pin_throttle (
  client        VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  failures      INT         NOT NULL DEFAULT 0,
  window_start  DATETIME    NOT NULL,
  locked_until  DATETIME    NULL
) ENGINE=InnoDB;

CREATE TABLE audit_log (
  id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at           DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  actor_kind   ENUM('token','owner','system','cli') NOT NULL,
  actor_id     VARCHAR(40)  NULL,
  action       VARCHAR(60)  CHARACTER SET ascii NOT NULL,
  entity       VARCHAR(30)  CHARACTER SET ascii NOT NULL,
  entity_id    VARCHAR(40)  NULL,
  -- JSON, personal fields already redacted by the writer
  detail       TEXT         NULL,
  request_id   VARCHAR(64)  CHARACTER SET ascii NULL,
  client       VARCHAR(64)  CHARACTER SET ascii NULL,
  KEY idx_audit_entity (entity, entity_id, at),
  KEY idx_audit_at (at),
  KEY idx_audit_action (action, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE idempotency_keys (
  actor         VARCHAR(64)  CHARACTER SET ascii NOT NULL,
  idem_key      VARCHAR(128) CHARACTER SET ascii NOT NULL,
  request_hash  BINARY(32)   NOT NULL,
  state         ENUM('in_progress','done') NOT NULL DEFAULT 'in_progress',
  status        SMALLINT     NULL,
  content_type  VARCHAR(80)  NULL,
  headers       TEXT         NULL,
  body          MEDIUMBLOB   NULL,
  created_at    DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (actor, idem_key),
  KEY idx_idem_created (created_at)
) ENGINE=InnoDB;
