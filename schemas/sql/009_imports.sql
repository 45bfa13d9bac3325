-- Batch import (jobs/import.c).
-- The uploaded file lives in its own table: imports is updated after every chunk, and with the
-- binary log on (row images) each UPDATE of a row holding a 10 MB LONGBLOB wrote the blob to the
-- log twice — 200 ms a chunk. imports.content stays empty for new imports.
CREATE TABLE import_files (
  import_id  BIGINT   NOT NULL PRIMARY KEY,
  content    LONGBLOB NOT NULL,
  CONSTRAINT fk_if_import FOREIGN KEY (import_id) REFERENCES imports(id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- the header row as the volunteer wrote it, so the error file gives back the original columns;
-- rows repaired (spreadsheet damage undone); when processing started
ALTER TABLE imports
  ADD COLUMN header     MEDIUMTEXT NULL AFTER warnings,
  ADD COLUMN n_repaired INT        NOT NULL DEFAULT 0 AFTER n_rejected,
  ADD COLUMN started_at DATETIME   NULL AFTER created_at;
