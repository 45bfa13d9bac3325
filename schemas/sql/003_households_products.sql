-- Households and their products. Citizen ID, phone, birth date and address are sealed
-- (AES-256-GCM, key id inside the value) and never stored in plaintext; citizen ID and phone
-- also get an HMAC-SHA256 blind index for exact look-up and de-duplication.

-- per-year sequence behind the public household code TH-YYYY-NNNNN
CREATE TABLE household_codes (
  year  SMALLINT NOT NULL PRIMARY KEY,
  last  INT      NOT NULL
) ENGINE=InnoDB;

CREATE TABLE households (
  id                 BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  code               VARCHAR(20)  CHARACTER SET ascii NOT NULL,
  owner_name         VARCHAR(200) NOT NULL,                      -- NFC; '' after erasure
  name_folded        VARCHAR(200) CHARACTER SET ascii NOT NULL,  -- no diacritics, lower case
  business_name      VARCHAR(200) NULL,
  commune_code       CHAR(5) CHARACTER SET ascii      NOT NULL,
  cccd_sealed        VARBINARY(160) NULL,
  cccd_bidx          BINARY(32)     NULL,
  phone_sealed       VARBINARY(128) NULL,
  phone_bidx         BINARY(32)     NULL,
  birth_date_sealed  VARBINARY(128) NULL,
  address_sealed     VARBINARY(1200) NULL,
  -- not personal on their own, kept after erasure so past target counts stay true
  owner_age          TINYINT UNSIGNED NOT NULL,
  youth_led          BOOLEAN      NOT NULL,
  business_reg_no    VARCHAR(32)  CHARACTER SET ascii NULL,
  tax_code           VARCHAR(14)  CHARACTER SET ascii NULL,
  has_epayment       BOOLEAN      NOT NULL DEFAULT FALSE,
  status             ENUM('registered','onboarding','onboarded','erased') NOT NULL DEFAULT 'registered',
  onboarded_at       DATETIME     NULL,  -- first seller account that became active (UTC)
  consent_at         DATETIME     NOT NULL,
  consent_version    VARCHAR(20)  NOT NULL,
  consent_by         VARCHAR(40)  NOT NULL,   -- actor who recorded it (token id / cli / import)
  pin_hash           VARCHAR(160) CHARACTER SET ascii NULL,
  pin_failures       INT          NOT NULL DEFAULT 0,
  pin_locked_until   DATETIME     NULL,
  content_hash       BINARY(32)   NOT NULL,   -- of the normalised input: unchanged re-uploads
  registered_by      VARCHAR(40)  NOT NULL,
  import_id          BIGINT       NULL,
  erased_at          DATETIME     NULL,
  version            INT UNSIGNED NOT NULL DEFAULT 1,
  created_at         DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at         DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY uq_households_code (code),
  UNIQUE KEY uq_households_cccd (cccd_bidx),
  KEY idx_households_phone (phone_bidx),
  KEY idx_households_commune (commune_code, status, id),
  KEY idx_households_name (name_folded),
  KEY idx_households_onboarded (onboarded_at, youth_led, commune_code),
  CONSTRAINT fk_households_commune FOREIGN KEY (commune_code) REFERENCES admin_units(code),
  CONSTRAINT chk_households_code CHECK (code REGEXP '^TH-[0-9]{4}-[0-9]{5,}$'),
  CONSTRAINT chk_households_age CHECK (owner_age BETWEEN 0 AND 130),
  CONSTRAINT chk_households_erased CHECK (status <> 'erased' OR (cccd_sealed IS NULL AND phone_sealed IS NULL
                                         AND birth_date_sealed IS NULL AND address_sealed IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_vietnamese_ai_ci;

CREATE TABLE products (
  id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  household_id   BIGINT       NOT NULL,
  name           VARCHAR(300) NOT NULL,
  name_folded    VARCHAR(300) CHARACTER SET ascii NOT NULL,
  description    TEXT         NOT NULL,
  category       VARCHAR(40)  CHARACTER SET ascii NOT NULL,
  price_vnd      BIGINT       NOT NULL,
  stock          INT          NOT NULL DEFAULT 0,
  weight_g       INT          NOT NULL,
  length_mm      INT          NULL,
  width_mm       INT          NULL,
  height_mm      INT          NULL,
  ocop_stars     TINYINT      NULL,
  flagship       BOOLEAN      NOT NULL DEFAULT FALSE,
  flagship_id    INT          NULL,      -- which entry of the province's list
  certificates   TEXT         NULL,      -- JSON array of strings
  content_hash   BINARY(32)   NOT NULL,  -- skip no-op updates and marketplace re-syncs
  first_live_at  DATETIME     NULL,      -- first listing live on any marketplace (UTC)
  first_sold_at  DATETIME     NULL,
  status         ENUM('active','archived','erased') NOT NULL DEFAULT 'active',
  version        INT UNSIGNED NOT NULL DEFAULT 1,
  created_at     DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at     DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  KEY idx_products_household (household_id, id),
  KEY idx_products_category (category, flagship),
  KEY idx_products_flagship_live (flagship, first_live_at),
  KEY idx_products_name (name_folded),
  CONSTRAINT fk_products_household FOREIGN KEY (household_id) REFERENCES households(id),
  CONSTRAINT fk_products_category FOREIGN KEY (category) REFERENCES categories(code),
  CONSTRAINT fk_products_flagship FOREIGN KEY (flagship_id) REFERENCES flagship_products(id),
  CONSTRAINT chk_products_price CHECK (price_vnd > 0 AND price_vnd <= 10000000000),
  CONSTRAINT chk_products_stock CHECK (stock >= 0),
  CONSTRAINT chk_products_weight CHECK (weight_g > 0 AND weight_g <= 1000000),
  CONSTRAINT chk_products_dims CHECK ((length_mm IS NULL OR length_mm > 0) AND (width_mm IS NULL OR width_mm > 0)
                                      AND (height_mm IS NULL OR height_mm > 0)),
  CONSTRAINT chk_products_stars CHECK (ocop_stars IS NULL OR ocop_stars BETWEEN 1 AND 5)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_vietnamese_ai_ci;

-- images are stored content-addressed under media.dir; rows say which product uses which
CREATE TABLE product_images (
  id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id  BIGINT      NOT NULL,
  sha256      CHAR(64)    CHARACTER SET ascii NOT NULL,
  mime        VARCHAR(20) CHARACTER SET ascii NOT NULL,
  bytes       INT         NOT NULL,
  width       INT         NULL,
  height      INT         NULL,
  position    TINYINT     NOT NULL,
  created_at  DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY uq_image_product_sha (product_id, sha256),
  KEY idx_images_sha (sha256),
  CONSTRAINT fk_images_product FOREIGN KEY (product_id) REFERENCES products(id) ON DELETE CASCADE,
  CONSTRAINT chk_images_mime CHECK (mime IN ('image/jpeg','image/png','image/webp')),
  CONSTRAINT chk_images_pos CHECK (position BETWEEN 0 AND 8)
) ENGINE=InnoDB;
