-- Image bytes in the database (issue 15): on a Galera cluster every node then has every image,
-- and each node keeps a local cache under media.dir. Content-addressed, so a row never changes
-- and a cached copy never goes stale. Images are at most media.max_image (5 MiB by default),
-- far below Galera's write-set limits; max_allowed_packet must exceed it.
CREATE TABLE IF NOT EXISTS media_blobs (
  sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  bytes INT UNSIGNED NOT NULL,
  data LONGBLOB NOT NULL,
  created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
  PRIMARY KEY (sha256)
) ENGINE=InnoDB;
