-- Issue 15 point 7: the read generation. Every write transaction that changes a table listed in
-- core/readgen.c adds 1 to one of these rows before its COMMIT (core/db.c), so SUM(gen) grows
-- with every such commit on any node; a serve process keeps an answer (the household list,
-- targets) only while the sum it read before building the answer is still the sum. Several
-- rows, one picked per connection, so concurrent writers (and Galera nodes) rarely update the
-- same row.
CREATE TABLE read_generation (
  shard  SMALLINT NOT NULL PRIMARY KEY,
  gen    BIGINT   NOT NULL DEFAULT 0
) ENGINE=InnoDB;

INSERT INTO read_generation (shard) VALUES
  (0), (1), (2), (3), (4), (5), (6), (7),
  (8), (9), (10), (11), (12), (13), (14), (15),
  (16), (17), (18), (19), (20), (21), (22), (23),
  (24), (25), (26), (27), (28), (29), (30), (31),
  (32), (33), (34), (35), (36), (37), (38), (39),
  (40), (41), (42), (43), (44), (45), (46), (47),
  (48), (49), (50), (51), (52), (53), (54), (55),
  (56), (57), (58), (59), (60), (61), (62), (63);
