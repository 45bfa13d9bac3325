-- Volunteers managed from the admin page (issue 13): each is a volunteer token (so its communes
-- and scope are the token's, unchanged) with a sealed phone, and one-time sign-in links whose
-- text is never stored, only its SHA-256.

CREATE TABLE volunteers (
  token_id    BIGINT         NOT NULL PRIMARY KEY,
  phone       VARBINARY(255) NULL,
  created_at  DATETIME       NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT fk_vol_token FOREIGN KEY (token_id) REFERENCES tokens(id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE signin_links (
  link_hash   BINARY(32)  NOT NULL PRIMARY KEY,
  token_id    BIGINT      NOT NULL,
  created_at  DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expires_at  DATETIME    NOT NULL,
  used_at     DATETIME    NULL,
  KEY idx_links_token (token_id),
  KEY idx_links_exp (expires_at),
  CONSTRAINT fk_link_token FOREIGN KEY (token_id) REFERENCES tokens(id) ON DELETE CASCADE
) ENGINE=InnoDB;
