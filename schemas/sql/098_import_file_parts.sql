-- Import files stored in parts (jobs/import.c). A 1,000,000-row household CSV is 150–250 MB: as
-- one LONGBLOB it needs a max_allowed_packet that large to be written and a client buffer that
-- large to be read. Parts of import.read_slice bytes (1 MiB) are written and read one at a time,
-- so neither the uploader nor the import run ever holds the whole file. import_files stays for
-- imports stored before this migration (read in SUBSTRING slices).
CREATE TABLE import_file_parts (
  import_id  BIGINT   NOT NULL,
  part_no    INT      NOT NULL,
  content    LONGBLOB NOT NULL,
  PRIMARY KEY (import_id, part_no),
  CONSTRAINT fk_ifp_import FOREIGN KEY (import_id) REFERENCES imports(id) ON DELETE CASCADE
) ENGINE=InnoDB;
