/* jobs/orders: the orders.sync job — every active API account's orders read incrementally from
 * the marketplace and upserted by core/orders (the sold rule lives there). */
#ifndef JOB_ORDERS_H
#define JOB_ORDERS_H
#include "core/db.h"
#include "core/errors.h"
#include <stdint.h>

/* Register orders.sync and its periodic sweep. 0 or -1. */
int job_orders_register(cs_error *err);
/* Make account_id's orders sync soon (orders.push_delay seconds; pushes within that time share
 * one run): what any order-status push receiver calls (Shopee code 3, Lazada trade order, TikTok
 * order status change). 0 or -1. */
int job_orders_sync_soon(cs_db *db, int64_t account_id, cs_error *err);
/* A verified push from marketplace mp: when it is an order-status push (Shopee code 3, Lazada
 * message_type 0, TikTok webhook type 1) the account of shop_id syncs soon. Never fails the push
 * (logged instead). */
void job_orders_on_push(cs_db *db, const char *mp, int push_code, const char *shop_id);
/* Run one account's sync now on this thread (the CLI, tests, the benchmark): 0 done, 1 it has to
 * be retried later (the marketplace asked to wait; err says why), -1. *lines (may be NULL)
 * receives the lines upserted. */
int job_orders_sync_account(cs_db *db, int64_t account_id, int64_t *lines, cs_error *err);
#endif
