-- Issue 16: ready for the real marketplaces.
-- Category trees and attribute lists as fetched from each API marketplace, versioned: a refresh
-- that finds the same content keeps the version, a changed one becomes the next version (the
-- older ones stay, so a mapping can be checked against what the marketplace said when). The
-- attributes of a leaf are fetched for the leaves our categories are mapped to.
CREATE TABLE mp_catalog_versions (
  id               BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  marketplace_code VARCHAR(20) CHARACTER SET ascii NOT NULL,
  version          INT         NOT NULL,
  content_hash     BINARY(32)  NOT NULL,
  ncategories      INT         NOT NULL,
  nattributes      INT         NOT NULL DEFAULT 0,
  fetched_from     VARCHAR(300) NOT NULL DEFAULT '',   -- the host asked (a simulator shows here)
  fetched_at       DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY uq_catver (marketplace_code, version),
  CONSTRAINT fk_catver_mp FOREIGN KEY (marketplace_code) REFERENCES marketplaces(code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE mp_categories (
  version_id  BIGINT       NOT NULL,
  external_id VARCHAR(40)  NOT NULL,
  parent_id   VARCHAR(40)  NOT NULL DEFAULT '',
  name        VARCHAR(200) NOT NULL,
  path        VARCHAR(1000) NOT NULL,                  -- "Ngành > Nhóm > Lá"
  is_leaf     BOOLEAN      NOT NULL,
  PRIMARY KEY (version_id, external_id),
  CONSTRAINT fk_mpcat_ver FOREIGN KEY (version_id) REFERENCES mp_catalog_versions(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE mp_category_attributes (
  version_id   BIGINT       NOT NULL,
  external_id  VARCHAR(40)  NOT NULL,                  -- the leaf
  attribute_id VARCHAR(64)  NOT NULL,
  position     INT          NOT NULL,
  name         VARCHAR(200) NOT NULL,
  input_type   VARCHAR(40)  NOT NULL DEFAULT '',
  mandatory    BOOLEAN      NOT NULL,
  choices      MEDIUMTEXT   NOT NULL,                  -- JSON [{"id","name"}], "[]" = free text
  PRIMARY KEY (version_id, external_id, attribute_id),
  CONSTRAINT fk_mpattr_ver FOREIGN KEY (version_id) REFERENCES mp_catalog_versions(id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- What a person chose for an attribute of a mapped leaf (the admin page); category_map.attributes
-- is rebuilt from these rows in the marketplace's own shape when they change.
CREATE TABLE category_attribute_values (
  category         VARCHAR(40)  CHARACTER SET ascii NOT NULL,
  marketplace_code VARCHAR(20)  CHARACTER SET ascii NOT NULL,
  attribute_id     VARCHAR(64)  NOT NULL,
  value_id         VARCHAR(64)  NOT NULL DEFAULT '',
  value_name       VARCHAR(200) NOT NULL,
  updated_by       VARCHAR(48)  NOT NULL,
  updated_at       DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (category, marketplace_code, attribute_id),
  CONSTRAINT fk_cav_cat FOREIGN KEY (category) REFERENCES categories(code),
  CONSTRAINT fk_cav_mp FOREIGN KEY (marketplace_code) REFERENCES marketplaces(code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A mapping made on the admin page names who made it; `choso migrate` then leaves it alone
-- (the shipped category_map.csv only fills rows nobody has mapped by hand).
ALTER TABLE category_map
  ADD COLUMN mapped_by VARCHAR(48) NULL,
  ADD COLUMN mapped_at DATETIME    NULL;

-- Price and stock sent to each live item, so a change is sent once (idempotent) and only when
-- it differs; TikTok's SKU id, which its price and inventory calls name.
ALTER TABLE listings
  ADD COLUMN synced_price_vnd BIGINT      NULL,
  ADD COLUMN synced_stock     BIGINT      NULL,
  ADD COLUMN external_sku_id  VARCHAR(64) NULL;

-- Removal from our side: a listing being taken down, and taken down. The ENUM also carries the
-- states issue 12 adds (pending_verification, verification_failed, suspended) so whichever of
-- the two migrations runs last keeps every value.
ALTER TABLE listings
  MODIFY state ENUM('draft','queued','submitted','pending_review','live','rejected','delisted','failed','pending_verification','verification_failed','suspended','withdrawing','withdrawn') NOT NULL DEFAULT 'draft';
