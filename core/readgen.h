/* core/readgen: the read generation — a number every node sees that grows with each committed
 * write to the tables answers are built from, so a serve process may keep an answer while the
 * number stays the same (service/read_cache). No HTTP, no JSON; the bump itself is in
 * core/db.c (before COMMIT, in the writer's transaction). */
#ifndef CS_READGEN_H
#define CS_READGEN_H
#include "core/db.h"
#include <stdint.h>

/* 1 when `sql` is an INSERT / UPDATE / DELETE / REPLACE naming one of the watched tables
 * (households, products, listings, seller accounts, target counters and goals, order counters,
 * the reference lists, tokens and their communes), else 0. Over-matching is harmless (an
 * answer is rebuilt once more); missing a write would not be, so the test is on table names
 * anywhere in the statement. */
int cs_readgen_watched(const char *sql);

/* The current generation: the sum over read_generation's rows. 0 or -1 with err. */
int cs_readgen_get(cs_db *db, int64_t *gen, cs_error *err);
#endif
