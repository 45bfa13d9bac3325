-- The 2025 merger of communes and wards (schemas/data/thanhhoa_commune_merges_detail.csv, loaded
-- by `choso migrate` after the migrations): each pre-2025 commune/ward, the new one(s) it went
-- into, and whether whole ('full') or split between several ('partial'). Imports and the API
-- accept an old name or code merged whole into one new commune and store the new one; a split
-- one is refused with the candidates named.
CREATE TABLE IF NOT EXISTS commune_merges (
  old_code           CHAR(5)      CHARACTER SET ascii NOT NULL,
  new_code           CHAR(5)      CHARACTER SET ascii NOT NULL,
  old_name           VARCHAR(100) NOT NULL,
  old_district_code  CHAR(3)      CHARACTER SET ascii NULL,
  merge_type         ENUM('full','partial') NOT NULL,
  PRIMARY KEY (old_code, new_code),
  KEY idx_merge_new (new_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
