-- Batch import (jobs/import.c): the header row as the volunteer wrote it, so the error file
-- gives back the original columns; the kinds of spreadsheet damage repaired, for the report.
ALTER TABLE imports
  ADD COLUMN header     MEDIUMTEXT NULL AFTER warnings,   -- JSON array of the header cells
  ADD COLUMN n_repaired INT        NOT NULL DEFAULT 0 AFTER n_rejected,
  ADD COLUMN started_at DATETIME   NULL AFTER created_at;
