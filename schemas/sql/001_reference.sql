-- Reference data: Thanh Hóa's administrative units (in force since 2025-07-01) with the
-- pre-2025 districts their territory came from, product categories, yearly targets.
-- Rows are loaded by `choso migrate` from schemas/data/ (idempotent upserts).

CREATE TABLE admin_districts (
  code        CHAR(3) CHARACTER SET ascii      NOT NULL PRIMARY KEY,
  name        VARCHAR(100) NOT NULL COLLATE utf8mb4_uca1400_vietnamese_ai_ci,
  kind        ENUM('thanh_pho','thi_xa','huyen') NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_vietnamese_ai_ci;

CREATE TABLE admin_units (
  code                   CHAR(5) CHARACTER SET ascii      NOT NULL PRIMARY KEY,
  name                   VARCHAR(100) NOT NULL COLLATE utf8mb4_uca1400_vietnamese_ai_ci,
  name_folded            VARCHAR(100) CHARACTER SET ascii NOT NULL,
  kind                   ENUM('xa','phuong') NOT NULL,
  -- the first listed former district: the one a report "by former district" files it under
  primary_district_code  CHAR(3) CHARACTER SET ascii      NOT NULL,
  CONSTRAINT fk_unit_district FOREIGN KEY (primary_district_code) REFERENCES admin_districts(code),
  CONSTRAINT chk_unit_code CHECK (code REGEXP '^[0-9]{5}$'),
  KEY idx_units_district (primary_district_code, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_vietnamese_ai_ci;

-- every former district a unit's territory came from (a few units span two)
CREATE TABLE admin_unit_districts (
  unit_code      CHAR(5) CHARACTER SET ascii NOT NULL,
  district_code  CHAR(3) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (unit_code, district_code),
  KEY idx_aud_district (district_code),
  CONSTRAINT fk_aud_unit FOREIGN KEY (unit_code) REFERENCES admin_units(code),
  CONSTRAINT fk_aud_district FOREIGN KEY (district_code) REFERENCES admin_districts(code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE provinces (
  code         CHAR(2) CHARACTER SET ascii      NOT NULL PRIMARY KEY,
  name         VARCHAR(100) NOT NULL,
  cccd_prefix  CHAR(3) CHARACTER SET ascii      NOT NULL UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_vietnamese_ai_ci;

CREATE TABLE categories (
  code     VARCHAR(40)  CHARACTER SET ascii NOT NULL PRIMARY KEY,
  name_vi  VARCHAR(100) NOT NULL,
  name_en  VARCHAR(100) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_vietnamese_ai_ci;

-- the province's list of characteristic (flagship) products, from thanhhoa_products.csv
CREATE TABLE flagship_products (
  id            INT          NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name          VARCHAR(200) NOT NULL,
  name_folded   VARCHAR(200) CHARACTER SET ascii NOT NULL,
  category      VARCHAR(40)  CHARACTER SET ascii NOT NULL,
  origin_place  VARCHAR(300) NOT NULL,
  ocop_stars    TINYINT      NULL,
  UNIQUE KEY uq_flagship_name (name),
  CONSTRAINT fk_flagship_cat FOREIGN KEY (category) REFERENCES categories(code),
  CONSTRAINT chk_flagship_stars CHECK (ocop_stars IS NULL OR ocop_stars BETWEEN 1 AND 5)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_vietnamese_ai_ci;

-- yearly goals; commune_code '' is the whole province, a code is an optional sub-goal
CREATE TABLE targets (
  year          SMALLINT NOT NULL,
  metric        ENUM('households_onboarded','flagship_products_live','flagship_products_sold') NOT NULL,
  commune_code  VARCHAR(5) CHARACTER SET ascii NOT NULL DEFAULT '',
  goal          INT      NOT NULL,
  updated_at    DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (year, metric, commune_code),
  CONSTRAINT chk_target_year CHECK (year BETWEEN 2020 AND 2100),
  CONSTRAINT chk_target_goal CHECK (goal >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
