/* core/db: MariaDB pool, per-connection prepared-statement cache, typed parameter binding,
 * transactions that re-run on soft errors, array-bound bulk inserts. No named locks: they do
 * not exclude across Galera nodes (core/lease does that job).
 * Knows no application table but read_generation: a write to a table core/readgen.c watches
 * adds 1 to it before COMMIT (in the writer's transaction; an autocommit write gets one of its
 * own); never builds SQL from input (constants only in the text protocol).
 *
 * Session settings (every connection, again after each reconnect):
 *   utf8mb4; sql_mode strict (STRICT_ALL_TABLES …); time_zone '+00:00' (times are UTC in the
 *   database); READ COMMITTED — each statement sees the latest commits and InnoDB takes no gap
 *   locks for plain searches, which keeps the job queue (SKIP LOCKED) and concurrent inserts from
 *   deadlocking on gaps; with binlog_format=ROW this is safe for replication;
 *   innodb_lock_wait_timeout from db.lock_wait_timeout (a request should not wait 50 s).
 * Auto-reconnect is off: a lost connection is noticed, the connection is marked broken and
 * reopened before its next statement (or by cs_db_tx before the re-run). */
#include "core/db.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/readgen.h"
#include <errmsg.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Seconds on the monotonic clock: idle times are intervals, not dates. */
static time_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

#define BUG(...)                                                                                   \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: choso bug: ", __FILE__, __LINE__);                                 \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#define STMT_BUCKETS 128
#define STMT_CACHE_MAX 512 /* distinct statements kept per connection before the cache is reset */
#define PARAMS_INLINE 32
#define ROWS_MAX_BYTES ((size_t)1 << 30) /* a fully fetched result never exceeds 1 GiB */
#define BULK_CHUNK_BYTES ((size_t)8 << 20)
#define BULK_CHUNK_ROWS 5000
#define IDLE_PING_SECONDS 30
#define POOL_WAIT_SECONDS 10

/* MariaDB 10.6+: "The client was disconnected by the server because of inactivity". */
#define ER_CLIENT_INTERACTION_TIMEOUT_ 4031
/* MySQL's CHECK violation number; MariaDB uses ER_CONSTRAINT_FAILED (4025). */
#define ER_CHECK_CONSTRAINT_VIOLATED_ 3819

struct stmt_ent {
    char *sql;
    unsigned long hash;
    MYSQL_STMT *st;
    struct stmt_ent *next;
};

struct cs_db {
    MYSQL *my;
    int pooled;
    int broken;          /* the connection is lost: reopen before the next statement */
    int in_tx;           /* inside cs_db_tx */
    int tx_soft;         /* a soft error happened in the current transaction body */
    int gen_dirty;       /* the current transaction wrote a watched table (core/readgen) */
    unsigned last_errno; /* of the last failed statement */
    uint64_t insert_id;  /* an autocommitted write's id, kept across its generation bump */
    int has_insert_id;
    int bulk_arrays; /* use STMT_ATTR_ARRAY_SIZE (tests turn it off to check the fallback) */
    unsigned last_retries;
    unsigned nstmts;
    unsigned reconnects;
    char uid[17];  /* random, names this connection as a lease holder */
    unsigned node; /* the turn of db.nodes it was opened on */
    time_t last_used;
    struct stmt_ent *buckets[STMT_BUCKETS];
    cs_db *next_idle;
};

/* ---------------------------------------------------------------- connections ---------- */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_ok;

static void lib_init(void)
{
    /* mysql_library_init is not thread-safe: run it once before any thread opens a connection */
    lib_ok = mysql_library_init(0, NULL, NULL) == 0;
}

static unsigned long hash_sql(const char *s)
{
    unsigned long h = 1469598103934665603UL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211UL;
    return h;
}

/* Free every cached statement. Call after mysql_close when the connection is gone: the
 * handles are then detached and closing them sends nothing. */
static void stmt_cache_clear(cs_db *db)
{
    for (unsigned i = 0; i < STMT_BUCKETS; i++) {
        struct stmt_ent *e = db->buckets[i];
        while (e) {
            struct stmt_ent *n = e->next;
            mysql_stmt_close(e->st);
            cs_free(e->sql);
            cs_free(e);
            e = n;
        }
        db->buckets[i] = NULL;
    }
    db->nstmts = 0;
}

static int is_lost(unsigned no)
{
    return no == CR_SERVER_GONE_ERROR || no == CR_SERVER_LOST || no == CR_SERVER_LOST_EXTENDED ||
           no == ER_CLIENT_INTERACTION_TIMEOUT_ || no == ER_CONNECTION_KILLED ||
           no == ER_SERVER_SHUTDOWN || no == CR_ERR_NET_READ || no == CR_ERR_NET_WRITE ||
           no == CR_COMMANDS_OUT_OF_SYNC;
}

/* Galera: a node outside the primary component (its peers lost, or still joining) answers
 * every statement with 1047 "WSREP has not yet prepared node for application use"; another
 * node may take the work, so the connection is reopened (db.nodes) and the work re-run. */
static int is_not_ready(unsigned no)
{
    return no == ER_UNKNOWN_COM_ERROR;
}

static int is_soft(unsigned no)
{
    return no == ER_LOCK_DEADLOCK || no == ER_LOCK_WAIT_TIMEOUT || is_lost(no) || is_not_ready(no);
}

/* Messages safe to copy into err->detail: they name tables, columns and constraints but
 * never echo a value (1062 and "Incorrect … value: '…'" do, so they are not here). */
static int message_is_safe(unsigned no)
{
    switch (no) {
    case ER_NO_REFERENCED_ROW_2:
    case ER_ROW_IS_REFERENCED_2:
    case ER_CONSTRAINT_FAILED:
    case ER_CHECK_CONSTRAINT_VIOLATED_:
    case ER_DATA_TOO_LONG:
    case ER_BAD_NULL_ERROR:
    case ER_NO_SUCH_TABLE:
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
    case 1054 /* unknown column */:
    case 1064 /* syntax (quotes our SQL) */:
    case 1364 /* field has no default */:
    case 1050 /* table exists */:
    case 1060 /* duplicate column */:
    case 1061 /* duplicate key name */:
    case 1091:
    case 1142:
    case 1044:
    case 1045:
    case 1049:
    case 1295:
    case 1615:
        return 1;
    default:
        return is_lost(no) || (no >= CR_MIN_ERROR && no <= CR_MAX_ERROR) || no >= 5000;
    }
}

static void node_failed(unsigned t);

/* Fill err from a MariaDB error number and message; marks the connection broken when it was
 * lost and the transaction as soft-failed. Returns -1. */
static int db_fail(cs_db *db, unsigned no, const char *msg, const char *sql, cs_error *err)
{
    char where[48] = "";
    if (sql) snprintf(where, sizeof where, " [%.40s]", sql);
    if (db) db->last_errno = no;
    if (db && (is_lost(no) || is_not_ready(no))) {
        db->broken = 1;
        node_failed(db->node);
    }
    if (db && db->in_tx && is_soft(no)) db->tx_soft = 1;
    if (no == ER_DUP_ENTRY) {
        /* "Duplicate entry '…' for key 'name'": keep the key name, drop the value */
        const char *k = msg ? strstr(msg, "for key '") : NULL;
        char key[64] = "";
        if (k) {
            k += 9;
            const char *e = strchr(k, '\'');
            size_t n = e ? (size_t)(e - k) : strlen(k);
            const char *dot = memchr(k, '.', n); /* MySQL style 'table.key' */
            if (dot) n -= (size_t)(dot + 1 - k), k = dot + 1;
            snprintf(key, sizeof key, "%.*s", (int)n, k);
        }
        return cs_error_set(err, CS_E_CONFLICT, "%s", key);
    }
    /* A value the server refused (bytes that are not UTF-8, too long, out of range, not a
     * date): input that validation should have caught, never "the database is down". It is a
     * 422 for the client (the detail stays in the log, never in a problem answer) and a
     * rejected row for an import, not a retry that can never succeed. */
    if (no == 1366 || no == ER_DATA_TOO_LONG || no == 1264 || no == 1292 || no == 1265 ||
        no == 1300 || no == 1367) {
        cs_warn("db_value_rejected", "mariadb %u%s", no, where);
        return cs_error_set(err, CS_E_DB_VALUE, "mariadb error %u%s", no, where);
    }
    cs_code code = is_soft(no) ? CS_E_DB_SOFT : CS_E_DB;
    if (message_is_safe(no) && msg)
        return cs_error_set(err, code, "mariadb %u: %.180s%s", no, msg, where);
    return cs_error_set(err, code, "mariadb error %u%s", no, where);
}

static int stmt_fail(cs_db *db, MYSQL_STMT *st, const char *sql, cs_error *err)
{
    return db_fail(db, mysql_stmt_errno(st), mysql_stmt_error(st), sql, err);
}

static int conn_fail(cs_db *db, const char *sql, cs_error *err)
{
    return db_fail(db, mysql_errno(db->my), mysql_error(db->my), sql, err);
}

/* The k-th entry (mod the count) of "host:port,host:port" into host (NUL-terminated) and
 * *port. Returns 0, -1 when the list is malformed. */
static int node_pick(const char *list, unsigned k, char *host, size_t n, unsigned *port)
{
    unsigned count = 1;
    for (const char *p = list; *p; p++)
        count += *p == ',';
    k %= count;
    const char *p = list;
    while (k--)
        p = strchr(p, ',') + 1;
    size_t len = strcspn(p, ",");
    const char *colon = memchr(p, ':', len);
    if (!colon || colon == p || (size_t)(colon - p) >= n) return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    unsigned long v = 0;
    const char *q = colon + 1;
    if (q == p + len) return -1;
    for (; q < p + len; q++) {
        if (*q < '0' || *q > '9') return -1;
        v = v * 10 + (unsigned long)(*q - '0');
        if (v > 65535) return -1;
    }
    if (!v) return -1;
    *port = (unsigned)v;
    return 0;
}

/* db.nodes: spread (each open one node further on) or in order (every open on the node that
 * answered last; cs_db_nodes_in_order). */
static atomic_uint turn, in_order_turn;
static atomic_int in_order;

void cs_db_nodes_in_order(void)
{
    atomic_store(&in_order, 1);
}

/* The node of turn t failed (refused, lost, not primary): in order, the next opens go one node
 * further on — once, however many connections saw it fail. */
static void node_failed(unsigned t)
{
    if (atomic_load(&in_order)) atomic_compare_exchange_strong(&in_order_turn, &t, t + 1);
}

/* Open db->my from the db.* settings and set the session up. */
static int db_open(cs_db *db, cs_error *err)
{
    pthread_once(&lib_once, lib_init);
    if (!lib_ok) return cs_error_set(err, CS_E_DB, "MariaDB client library failed to initialise");
    MYSQL *my = mysql_init(NULL);
    if (!my) return cs_error_set(err, CS_E_NOMEM, NULL);
    my_bool off = 0;
    unsigned int connect_timeout = 10, io_timeout = 600;
    mysql_optionsv(my, MYSQL_OPT_RECONNECT, &off);
    mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
    mysql_optionsv(my, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
    /* never read the system's my.cnf groups: settings come from choso's own configuration */

    const char *host = cs_cfg_str("db.host"), *sock = cs_cfg_str("db.socket");
    const char *user = cs_cfg_str("db.user"), *pw = cs_cfg_str("db.password");
    const char *name = cs_cfg_str("db.name");
    unsigned port = (unsigned)cs_cfg_int("db.port");
    if (!host || !*host) host = "localhost"; /* "localhost" means the unix socket */
    if (!sock || !*sock) sock = NULL;
    if (!pw || !*pw) pw = NULL;
    char node[256];
    const char *nodes = cs_cfg_str("db.nodes");
    if (nodes && *nodes) {
        /* Galera: any node takes writes. Each open starts one node further on, so after a
         * failure the reopen goes elsewhere and a process's connections spread out; in order,
         * they stay together on one node until it fails. */
        db->node =
            atomic_load(&in_order) ? atomic_load(&in_order_turn) : atomic_fetch_add(&turn, 1);
        if (node_pick(nodes, db->node, node, sizeof node, &port)) {
            mysql_close(my);
            return cs_error_set(err, CS_E_CONFIG, "db.nodes: expected host:port,host:port,...");
        }
        host = node;
        sock = NULL;
    }
    if (!mysql_real_connect(my, host, user, pw, name, port, sock, 0)) {
        unsigned no = mysql_errno(my);
        node_failed(db->node);
        cs_error_set(err,
                     is_lost(no) || no == CR_CONNECTION_ERROR || no == CR_CONN_HOST_ERROR
                         ? CS_E_DB_SOFT
                         : CS_E_DB,
                     "cannot connect to MariaDB (%s %s, database %s): %u %.120s",
                     sock ? "socket" : "host", sock ? sock : host, name, no, mysql_error(my));
        mysql_close(my);
        return -1;
    }
    char setup[320];
    // clang-format off
    snprintf(setup, sizeof setup,
             "SET SESSION"
             " sql_mode='STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
                 "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',"
             " time_zone='+00:00',"
             " tx_isolation='READ-COMMITTED',"
             " innodb_lock_wait_timeout=%ld",
             cs_cfg_int("db.lock_wait_timeout"));
    // clang-format on
    long sync_wait = cs_cfg_int("db.sync_wait");
    if (!mysql_real_query(my, setup, strlen(setup)) && sync_wait > 0) {
        /* Galera read-your-writes: a read waits until this node applied every write the
         * cluster committed before it, so a page never misses what another node just wrote */
        snprintf(setup, sizeof setup, "SET SESSION wsrep_sync_wait=%ld", sync_wait);
        mysql_real_query(my, setup, strlen(setup));
    }
    if (mysql_errno(my)) {
        unsigned no = mysql_errno(my);
        if (is_not_ready(no)) node_failed(db->node);
        cs_error_set(err, is_not_ready(no) ? CS_E_DB_SOFT : CS_E_DB,
                     "session set-up failed: %u %.120s", no, mysql_error(my));
        mysql_close(my);
        return -1;
    }
    db->my = my;
    db->broken = 0;
    db->last_used = mono_s();
    return 0;
}

/* Drop the connection and its statements, then open a new one. */
static int db_reconnect(cs_db *db, cs_error *err)
{
    if (db->my) mysql_close(db->my);
    db->my = NULL;
    stmt_cache_clear(db);
    db->broken = 1;
    if (db_open(db, err)) return -1;
    db->reconnects++;
    cs_info("db_reconnect", "reopened the database connection");
    return 0;
}

static cs_db *db_new(int pooled, cs_error *err)
{
    cs_db *db = cs_calloc(1, sizeof *db);
    if (!db) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        return NULL;
    }
    db->pooled = pooled;
    db->bulk_arrays = 1;
    if (db_open(db, err)) {
        cs_free(db);
        return NULL;
    }
    return db;
}

static void db_free(cs_db *db)
{
    if (!db) return;
    if (db->my) mysql_close(db->my);
    stmt_cache_clear(db);
    cs_free(db);
}

cs_db *cs_db_connect(cs_error *err)
{
    return db_new(0, err);
}

void cs_db_close(cs_db *db)
{
    if (!db) return;
    if (db->in_tx) BUG("cs_db_close inside a transaction");
    db_free(db);
}

MYSQL *cs_db_mysql(cs_db *db)
{
    return db->my;
}

unsigned long cs_db_thread_id(cs_db *db)
{
    return db->my ? mysql_thread_id(db->my) : 0;
}

const char *cs_db_uid(cs_db *db)
{
    if (!db->uid[0]) {
        static atomic_ulong seq;
        unsigned long r = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16) ^
                          ((unsigned long)(uintptr_t)db << 8) ^
                          atomic_fetch_add(&seq, 1) * 2654435761UL;
        snprintf(db->uid, sizeof db->uid, "%016lx", r);
    }
    return db->uid;
}

unsigned cs_db_reconnects(const cs_db *db)
{
    return db->reconnects;
}

void cs_db_set_bulk_arrays(cs_db *db, int enabled)
{
    db->bulk_arrays = enabled != 0;
}

/* Before a statement: reopen a lost connection unless a transaction is open (then the whole
 * transaction must re-run, which cs_db_tx does). */
static int db_ready(cs_db *db, cs_error *err)
{
    if (!db) BUG("NULL database connection");
    if (db->broken || !db->my) {
        if (db->in_tx) {
            db->tx_soft = 1;
            return cs_error_set(err, CS_E_DB_SOFT, "connection lost inside a transaction");
        }
        if (db_reconnect(db, err)) return -1;
    }
    db->last_used = mono_s();
    return 0;
}

/* ---------------------------------------------------------------- pool ----------------- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;
    unsigned max, open, in_use;
    cs_db *idle;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL};

/* The pool's wait runs on the monotonic clock: a wall clock stepped forward must not turn a
 * short wait into an instant 503, nor a step back into a wait of hours. */
static pthread_once_t pool_cv_once = PTHREAD_ONCE_INIT;
static int pool_cv_monotonic; /* set once, before any wait */
static void pool_cv_init(void)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a)) return;
    if (!pthread_condattr_setclock(&a, CLOCK_MONOTONIC) && !pthread_cond_init(&pool.cv, &a))
        pool_cv_monotonic = 1;
    pthread_condattr_destroy(&a);
}

static _Thread_local cs_db *tl_db;
static _Thread_local unsigned tl_depth;

int cs_db_pool_init(cs_error *err)
{
    pthread_once(&lib_once, lib_init);
    if (!lib_ok) return cs_error_set(err, CS_E_DB, "MariaDB client library failed to initialise");
    pthread_mutex_lock(&pool.mu);
    pool.max = (unsigned)cs_cfg_int("db.pool_size");
    pool.ready = 1;
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

void cs_db_pool_shutdown(void)
{
    pthread_mutex_lock(&pool.mu);
    cs_db *list = pool.idle;
    pool.idle = NULL;
    pool.ready = 0;
    pthread_mutex_unlock(&pool.mu);
    while (list) {
        cs_db *n = list->next_idle;
        db_free(list);
        pthread_mutex_lock(&pool.mu);
        pool.open--;
        pthread_mutex_unlock(&pool.mu);
        list = n;
    }
}

cs_db *cs_db_acquire(cs_error *err)
{
    if (tl_db) {
        tl_depth++;
        return tl_db;
    }
    pthread_once(&pool_cv_once, pool_cv_init);
    pthread_mutex_lock(&pool.mu);
    if (!pool.ready) {
        pool.max = (unsigned)cs_cfg_int("db.pool_size");
        pool.ready = 1;
    }
    cs_db *db = NULL;
    struct timespec until;
    clock_gettime(pool_cv_monotonic ? CLOCK_MONOTONIC : CLOCK_REALTIME, &until);
    until.tv_sec += POOL_WAIT_SECONDS;
    for (;;) {
        if (pool.idle) {
            db = pool.idle;
            pool.idle = db->next_idle;
            db->next_idle = NULL;
            pool.in_use++;
            break;
        }
        if (pool.open < pool.max) {
            pool.open++;
            pool.in_use++;
            break;
        }
        if (pthread_cond_timedwait(&pool.cv, &pool.mu, &until)) {
            pthread_mutex_unlock(&pool.mu);
            cs_error_set(err, CS_E_UNAVAILABLE, "all %u database connections are in use", pool.max);
            err->retry_after = 1;
            return NULL;
        }
    }
    pthread_mutex_unlock(&pool.mu);
    if (!db) {
        db = db_new(1, err);
        if (!db) {
            pthread_mutex_lock(&pool.mu);
            pool.open--;
            pool.in_use--;
            pthread_cond_signal(&pool.cv);
            pthread_mutex_unlock(&pool.mu);
            return NULL;
        }
    } else if (mono_s() - db->last_used > IDLE_PING_SECONDS && !db->broken) {
        /* the server may have closed an idle connection (wait_timeout): find out now */
        if (mysql_ping(db->my)) db->broken = 1;
    }
    tl_db = db;
    tl_depth = 1;
    return db;
}

void cs_db_release(cs_db *db)
{
    if (!db) return;
    if (db != tl_db) BUG("cs_db_release of a connection this thread does not hold");
    if (--tl_depth > 0) return;
    unsigned int status = 0;
    if (db->my && !db->broken) mariadb_get_infov(db->my, MARIADB_CONNECTION_SERVER_STATUS, &status);
    if (db->in_tx || (status & SERVER_STATUS_IN_TRANS))
        BUG("cs_db_release with a transaction still open");
    tl_db = NULL;
    pthread_mutex_lock(&pool.mu);
    pool.in_use--;
    if (pool.ready) {
        db->next_idle = pool.idle;
        pool.idle = db;
        db = NULL;
    } else {
        pool.open--;
    }
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    if (db) db_free(db); /* the pool was shut down while it was out */
}

void cs_db_pool_stats(unsigned *open, unsigned *in_use, unsigned *max)
{
    pthread_mutex_lock(&pool.mu);
    if (open) *open = pool.open;
    if (in_use) *in_use = pool.in_use;
    if (max) *max = pool.ready ? pool.max : (unsigned)cs_cfg_int("db.pool_size");
    pthread_mutex_unlock(&pool.mu);
}

/* ---------------------------------------------------------------- statements ----------- */

static MYSQL_STMT *stmt_get(cs_db *db, const char *sql, cs_error *err)
{
    unsigned long h = hash_sql(sql);
    struct stmt_ent **slot = &db->buckets[h % STMT_BUCKETS];
    for (struct stmt_ent *e = *slot; e; e = e->next)
        if (e->hash == h && !strcmp(e->sql, sql)) return e->st;
    if (db->nstmts >= STMT_CACHE_MAX) stmt_cache_clear(db);
    MYSQL_STMT *st = mysql_stmt_init(db->my);
    if (!st) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql))) {
        stmt_fail(db, st, sql, err);
        mysql_stmt_close(st);
        return NULL;
    }
    my_bool on = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
    struct stmt_ent *e = cs_malloc(sizeof *e);
    char *copy = cs_strdup(sql);
    if (!e || !copy) {
        cs_free(e);
        cs_free(copy);
        mysql_stmt_close(st);
        cs_error_set(err, CS_E_NOMEM, NULL);
        return NULL;
    }
    e->sql = copy;
    e->hash = h;
    e->st = st;
    e->next = *slot;
    *slot = e;
    db->nstmts++;
    return st;
}

/* Forget one statement (its definition changed under it). */
static void stmt_forget(cs_db *db, const char *sql)
{
    unsigned long h = hash_sql(sql);
    for (struct stmt_ent **pp = &db->buckets[h % STMT_BUCKETS]; *pp; pp = &(*pp)->next) {
        struct stmt_ent *e = *pp;
        if (e->hash == h && !strcmp(e->sql, sql)) {
            *pp = e->next;
            mysql_stmt_close(e->st);
            cs_free(e->sql);
            cs_free(e);
            db->nstmts--;
            return;
        }
    }
}

union pval {
    long long i;
    unsigned long long u;
    double d;
};

struct pset {
    unsigned n;
    MYSQL_BIND *b;
    union pval *v;
    MYSQL_BIND b_inline[PARAMS_INLINE];
    union pval v_inline[PARAMS_INLINE];
    int bad; /* unknown letter in the format: our bug, reported as CS_E_INTERNAL */
};

/* Bind the arguments described by fmt (see db.h). Consumes them from *ap. */
static int pset_build(struct pset *ps, const char *fmt, va_list *ap)
{
    size_t n = fmt ? strlen(fmt) : 0;
    ps->n = (unsigned)n;
    ps->bad = 0;
    ps->b = ps->b_inline;
    ps->v = ps->v_inline;
    if (n > PARAMS_INLINE) {
        ps->b = cs_calloc(n, sizeof *ps->b);
        ps->v = cs_calloc(n, sizeof *ps->v);
        if (!ps->b || !ps->v) {
            /* still consume the arguments so err can be read after them */
            for (size_t i = 0; i < n; i++) {
                switch (fmt[i]) {
                case 'i':
                    (void)va_arg(*ap, int64_t);
                    break;
                case 'u':
                    (void)va_arg(*ap, uint64_t);
                    break;
                case 'd':
                    (void)va_arg(*ap, double);
                    break;
                case 's':
                    (void)va_arg(*ap, const char *);
                    break;
                case 'b':
                    (void)va_arg(*ap, const void *);
                    (void)va_arg(*ap, size_t);
                    break;
                default:
                    break;
                }
            }
            if (ps->b != ps->b_inline) cs_free(ps->b);
            if (ps->v != ps->v_inline) cs_free(ps->v);
            ps->b = ps->b_inline;
            ps->v = ps->v_inline;
            ps->n = 0;
            return -1;
        }
    } else {
        memset(ps->b_inline, 0, sizeof ps->b_inline);
    }
    for (size_t i = 0; i < n; i++) {
        MYSQL_BIND *b = &ps->b[i];
        switch (fmt[i]) {
        case 'i':
            ps->v[i].i = (long long)va_arg(*ap, int64_t);
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = &ps->v[i].i;
            break;
        case 'u':
            ps->v[i].u = (unsigned long long)va_arg(*ap, uint64_t);
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->is_unsigned = 1;
            b->buffer = &ps->v[i].u;
            break;
        case 'd':
            ps->v[i].d = va_arg(*ap, double);
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = &ps->v[i].d;
            break;
        case 's': {
            const char *s = va_arg(*ap, const char *);
            if (!s) {
                b->buffer_type = MYSQL_TYPE_NULL;
            } else {
                b->buffer_type = MYSQL_TYPE_STRING;
                b->buffer = (void *)s;
                b->buffer_length = (unsigned long)strlen(s);
            }
            break;
        }
        case 'b': {
            const void *p = va_arg(*ap, const void *);
            size_t len = va_arg(*ap, size_t);
            if (!p) {
                b->buffer_type = MYSQL_TYPE_NULL;
            } else {
                b->buffer_type = MYSQL_TYPE_BLOB;
                b->buffer = (void *)p;
                b->buffer_length = (unsigned long)len;
            }
            break;
        }
        case 'n':
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        default:
            ps->bad = (int)fmt[i] ? (unsigned char)fmt[i] : '?';
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        }
    }
    return 0;
}

static void pset_free(struct pset *ps)
{
    if (ps->b != ps->b_inline) cs_free(ps->b);
    if (ps->v != ps->v_inline) cs_free(ps->v);
}

static void tx_rollback(cs_db *db);

/* Prepare (or find) and execute. Returns the statement, or NULL with err set. */
static MYSQL_STMT *db_execute(cs_db *db, const char *sql, struct pset *ps, cs_error *err)
{
    if (ps->bad) {
        cs_error_set(err, CS_E_INTERNAL, "bad parameter letter '%c' [%.40s]", ps->bad, sql);
        return NULL;
    }
    db->has_insert_id = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (db_ready(db, err)) return NULL;
        MYSQL_STMT *st = stmt_get(db, sql, err);
        if (!st) return NULL;
        if (mysql_stmt_param_count(st) != ps->n) {
            cs_error_set(err, CS_E_INTERNAL,
                         "statement has %lu placeholders, format gives %u [%.40s]",
                         mysql_stmt_param_count(st), ps->n, sql);
            return NULL;
        }
        if (ps->n && mysql_stmt_bind_param(st, ps->b)) {
            stmt_fail(db, st, sql, err);
            return NULL;
        }
        if (!mysql_stmt_execute(st)) return st;
        unsigned no = mysql_stmt_errno(st);
        if ((no == ER_NEED_REPREPARE || no == CR_NEW_STMT_METADATA) && attempt == 0) {
            /* a table changed under a cached statement: prepare it afresh once */
            stmt_forget(db, sql);
            continue;
        }
        stmt_fail(db, st, sql, err);
        return NULL;
    }
    return NULL;
}

// clang-format off
static const char SQL_GEN_BUMP[] =
    "UPDATE read_generation"
    " SET gen = gen + 1"
    " WHERE shard = ?";
// clang-format on

/* Add 1 to this connection's row of read_generation (a row per connection, picked from its
 * random uid, so concurrent writers and Galera nodes seldom touch the same row). A database
 * not migrated that far has no such table: nothing reads a generation there either. */
static int gen_bump(cs_db *db, cs_error *err)
{
    unsigned h = 0;
    for (const char *p = db->uid; *p; p++)
        h = h * 31u + (unsigned char)*p;
    struct pset ps;
    memset(&ps, 0, sizeof ps);
    ps.b = ps.b_inline;
    ps.v = ps.v_inline;
    ps.n = 1;
    memset(ps.b, 0, sizeof ps.b[0]);
    ps.v[0].i = (int64_t)(h % 64u);
    ps.b[0].buffer_type = MYSQL_TYPE_LONGLONG;
    ps.b[0].buffer = &ps.v[0].i;
    MYSQL_STMT *st = db_execute(db, SQL_GEN_BUMP, &ps, err);
    if (st) return 0;
    if (db->last_errno == ER_NO_SUCH_TABLE) {
        cs_error_clear(err);
        return 0;
    }
    return -1;
}

/* In a transaction: remember to bump before COMMIT. Alone (autocommit): the write and the
 * bump in one transaction of their own, so no reader sees the one without the other. */
static int64_t exec_ps(cs_db *db, const char *sql, struct pset *ps, int brc, cs_error *err)
{
    if (brc) return cs_error_set(err, CS_E_NOMEM, NULL);
    int watched = cs_readgen_watched(sql), own_tx = watched && !db->in_tx, open_tx = 0;
    if (watched && db->in_tx) db->gen_dirty = 1;
    if (own_tx && db->my && !db->broken) {
        /* a transaction opened in text (core/migrate): bump inside it, right after the write */
        unsigned int status = 0;
        mariadb_get_infov(db->my, MARIADB_CONNECTION_SERVER_STATUS, &status);
        if (status & SERVER_STATUS_IN_TRANS) own_tx = 0, open_tx = 1;
    }
    if (own_tx) {
        if (db_ready(db, err)) {
            pset_free(ps);
            return -1;
        }
        if (mysql_real_query(db->my, "START TRANSACTION", 17)) {
            pset_free(ps);
            return conn_fail(db, "START TRANSACTION", err);
        }
    }
    MYSQL_STMT *st = db_execute(db, sql, ps, err);
    pset_free(ps);
    my_ulonglong n = st ? mysql_stmt_affected_rows(st) : 0;
    uint64_t id = st ? (uint64_t)mysql_stmt_insert_id(st) : 0;
    if (st && mysql_stmt_field_count(st) > 0) mysql_stmt_free_result(st);
    if (own_tx) {
        if (!st || gen_bump(db, err)) {
            tx_rollback(db);
            return -1;
        }
        if (mysql_commit(db->my)) return conn_fail(db, "COMMIT", err);
    }
    if (!st) return -1;
    if (open_tx && gen_bump(db, err)) return -1;
    if (own_tx || open_tx) { /* cs_db_insert_id answers for the write, not for the bump */
        db->insert_id = id;
        db->has_insert_id = 1;
    }
    return n == (my_ulonglong)-1 ? 0 : (int64_t)n;
}

int64_t cs_db_exec(cs_db *db, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct pset ps;
    int brc = pset_build(&ps, fmt, &ap);
    cs_error *err = va_arg(ap, cs_error *);
    va_end(ap);
    return exec_ps(db, sql, &ps, brc, err);
}

int64_t cs_db_execv(cs_db *db, const char *sql, const char *fmt, va_list ap, cs_error *err)
{
    va_list cp;
    va_copy(cp, ap);
    struct pset ps;
    int brc = pset_build(&ps, fmt, &cp);
    va_end(cp);
    return exec_ps(db, sql, &ps, brc, err);
}

int64_t cs_db_exec_text(cs_db *db, const char *sql, size_t len, cs_error *err)
{
    db->has_insert_id = 0;
    if (db_ready(db, err)) return -1;
    if (mysql_real_query(db->my, sql, (unsigned long)len)) return conn_fail(db, sql, err);
    /* a statement that returns rows here is a mistake in the file, but drain it anyway */
    MYSQL_RES *res = mysql_store_result(db->my);
    if (res) mysql_free_result(res);
    my_ulonglong n = mysql_affected_rows(db->my);
    return n == (my_ulonglong)-1 ? 0 : (int64_t)n;
}

uint64_t cs_db_insert_id(cs_db *db)
{
    if (db->has_insert_id) return db->insert_id;
    return db->my ? (uint64_t)mysql_insert_id(db->my) : 0;
}

/* ---------------------------------------------------------------- results -------------- */

struct cell {
    size_t off, len;
    int null;
};

struct cs_rows {
    size_t nrows;
    unsigned ncols;
    char **names;
    struct cell *cells;
    char *data;
};

static int is_text_type(enum enum_field_types t)
{
    switch (t) {
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_JSON:
    case MYSQL_TYPE_GEOMETRY:
    case MYSQL_TYPE_NEWDECIMAL:
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_ENUM:
    case MYSQL_TYPE_SET:
    case MYSQL_TYPE_BIT:
        return 1;
    default:
        return 0;
    }
}

void cs_rows_free(cs_rows *r)
{
    if (!r) return;
    if (r->names)
        for (unsigned c = 0; c < r->ncols; c++)
            cs_free(r->names[c]);
    cs_free(r->names);
    cs_free(r->cells);
    cs_free(r->data);
    cs_free(r);
}

/* Fetch every row of an executed statement into a new cs_rows. */
static int fetch_all(cs_db *db, MYSQL_STMT *st, const char *sql, cs_rows **out, cs_error *err)
{
    *out = NULL;
    if (mysql_stmt_store_result(st)) return stmt_fail(db, st, sql, err);
    cs_rows *r = cs_calloc(1, sizeof *r);
    if (!r) {
        mysql_stmt_free_result(st);
        return cs_error_set(err, CS_E_NOMEM, NULL);
    }
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    if (!meta) { /* no result set (not a SELECT): an empty result */
        mysql_stmt_free_result(st);
        *out = r;
        return 0;
    }
    unsigned ncols = mysql_num_fields(meta);
    MYSQL_FIELD *f = mysql_fetch_fields(meta);
    size_t nrows = (size_t)mysql_stmt_num_rows(st);
    MYSQL_BIND *b = cs_calloc(ncols ? ncols : 1, sizeof *b);
    unsigned long *lens = cs_calloc(ncols ? ncols : 1, sizeof *lens);
    my_bool *nulls = cs_calloc(ncols ? ncols : 1, sizeof *nulls);
    my_bool *errs = cs_calloc(ncols ? ncols : 1, sizeof *errs);
    r->ncols = ncols;
    r->names = cs_calloc(ncols ? ncols : 1, sizeof *r->names);
    r->cells = cs_calloc(nrows * ncols > 0 ? nrows * ncols : 1, sizeof *r->cells);
    cs_buf data;
    cs_buf_init(&data, ROWS_MAX_BYTES);
    int rc = -1;
    if (!b || !lens || !nulls || !errs || !r->names || !r->cells) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    for (unsigned c = 0; c < ncols; c++) {
        r->names[c] = cs_strdup(f[c].name ? f[c].name : "");
        if (!r->names[c]) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
        size_t want = is_text_type(f[c].type) ? f[c].max_length : 64;
        if (want < 64 && f[c].max_length > want) want = f[c].max_length;
        b[c].buffer_type = MYSQL_TYPE_STRING;
        b[c].buffer_length = (unsigned long)want + 1;
        b[c].buffer = cs_malloc(want + 1);
        b[c].length = &lens[c];
        b[c].is_null = &nulls[c];
        b[c].error = &errs[c];
        if (!b[c].buffer) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            goto out;
        }
    }
    if (ncols && mysql_stmt_bind_result(st, b)) {
        stmt_fail(db, st, sql, err);
        goto out;
    }
    size_t row = 0;
    for (;;) {
        int fr = mysql_stmt_fetch(st);
        if (fr == MYSQL_NO_DATA) break;
        if (fr == 1) {
            stmt_fail(db, st, sql, err);
            goto out;
        }
        if (row >= nrows) {
            cs_error_set(err, CS_E_INTERNAL, "more rows fetched than stored [%.40s]", sql);
            goto out;
        }
        for (unsigned c = 0; c < ncols; c++) {
            struct cell *cell = &r->cells[row * ncols + c];
            if (nulls[c]) {
                cell->null = 1;
                cell->off = data.len;
                cell->len = 0;
                continue;
            }
            if (lens[c] >= b[c].buffer_length) {
                /* truncated: grow this column's buffer and fetch the value again */
                void *nb = cs_realloc(b[c].buffer, (size_t)lens[c] + 1);
                if (!nb) {
                    cs_error_set(err, CS_E_NOMEM, NULL);
                    goto out;
                }
                b[c].buffer = nb;
                b[c].buffer_length = lens[c] + 1;
                if (mysql_stmt_fetch_column(st, &b[c], c, 0) || mysql_stmt_bind_result(st, b)) {
                    stmt_fail(db, st, sql, err);
                    goto out;
                }
            }
            cell->off = data.len;
            cell->len = lens[c];
            if (cs_buf_append(&data, b[c].buffer, lens[c]) || cs_buf_putc(&data, '\0')) {
                cs_error_set(err, CS_E_NOMEM, "result larger than the cap [%.40s]", sql);
                goto out;
            }
        }
        row++;
    }
    r->nrows = row;
    if (!data.data && cs_buf_putc(&data, '\0')) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    r->data = cs_buf_steal(&data);
    if (!r->data) {
        cs_error_set(err, CS_E_NOMEM, NULL);
        goto out;
    }
    rc = 0;
out:
    if (b)
        for (unsigned c = 0; c < ncols; c++)
            cs_free(b[c].buffer);
    cs_free(b);
    cs_free(lens);
    cs_free(nulls);
    cs_free(errs);
    cs_buf_free(&data);
    mysql_free_result(meta);
    mysql_stmt_free_result(st);
    if (rc) {
        cs_rows_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* err_in NULL: err is the argument after the parameters (cs_db_query); else it is err_in. */
static int query_v(cs_db *db, cs_rows **out, const char *sql, const char *fmt, va_list *ap,
                   cs_error *err_in, cs_error **errp)
{
    struct pset ps;
    int brc = pset_build(&ps, fmt, ap);
    cs_error *err = err_in ? err_in : va_arg(*ap, cs_error *);
    *errp = err;
    *out = NULL;
    if (brc) return cs_error_set(err, CS_E_NOMEM, NULL);
    if (db->in_tx && cs_readgen_watched(sql)) db->gen_dirty = 1; /* a write that returns rows */
    MYSQL_STMT *st = db_execute(db, sql, &ps, err);
    pset_free(&ps);
    if (!st) return -1;
    return fetch_all(db, st, sql, out, err);
}

int cs_db_query(cs_db *db, cs_rows **out, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_error *err;
    int rc = query_v(db, out, sql, fmt, &ap, NULL, &err);
    va_end(ap);
    return rc;
}

int cs_db_queryv(cs_db *db, cs_rows **out, const char *sql, const char *fmt, va_list ap,
                 cs_error *err)
{
    va_list cp;
    va_copy(cp, ap);
    cs_error *e;
    int rc = query_v(db, out, sql, fmt, &cp, err, &e);
    va_end(cp);
    return rc;
}

/* the one column a scalar query returns */
enum { SCALAR_VALUE };

int cs_db_scalar_i64(cs_db *db, int64_t *out, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_error *err;
    cs_rows *r;
    int rc = query_v(db, &r, sql, fmt, &ap, NULL, &err);
    va_end(ap);
    if (rc) return -1;
    *out = 0;
    if (r->nrows == 0 || r->ncols == 0 || r->cells[0].null) {
        cs_rows_free(r);
        return 1;
    }
    *out = cs_rows_i64(r, 0, SCALAR_VALUE);
    cs_rows_free(r);
    return 0;
}

static const struct cell *cell_at(const cs_rows *r, size_t row, unsigned col)
{
    if (!r || row >= r->nrows || col >= r->ncols)
        BUG("cs_rows access out of range (row %zu of %zu, column %u of %u)", row, r ? r->nrows : 0,
            col, r ? r->ncols : 0);
    return &r->cells[row * r->ncols + col];
}

size_t cs_rows_count(const cs_rows *r)
{
    return r ? r->nrows : 0;
}

unsigned cs_rows_ncols(const cs_rows *r)
{
    return r ? r->ncols : 0;
}

const char *cs_rows_colname(const cs_rows *r, unsigned col)
{
    if (!r || col >= r->ncols) BUG("cs_rows_colname: no column %u", col);
    return r->names[col];
}

int cs_rows_col(const cs_rows *r, const char *name)
{
    for (unsigned c = 0; r && c < r->ncols; c++)
        if (!strcmp(r->names[c], name)) return (int)c;
    return -1;
}

int cs_rows_isnull(const cs_rows *r, size_t row, unsigned col)
{
    return cell_at(r, row, col)->null;
}

const char *cs_rows_str(const cs_rows *r, size_t row, unsigned col)
{
    const struct cell *c = cell_at(r, row, col);
    return c->null ? "" : r->data + c->off;
}

const char *cs_rows_strn(const cs_rows *r, size_t row, unsigned col)
{
    const struct cell *c = cell_at(r, row, col);
    return c->null ? NULL : r->data + c->off;
}

const void *cs_rows_blob(const cs_rows *r, size_t row, unsigned col, size_t *len)
{
    const struct cell *c = cell_at(r, row, col);
    if (len) *len = c->len;
    return c->null ? NULL : r->data + c->off;
}

int64_t cs_rows_i64(const cs_rows *r, size_t row, unsigned col)
{
    const struct cell *c = cell_at(r, row, col);
    return c->null ? 0 : (int64_t)strtoll(r->data + c->off, NULL, 10);
}

double cs_rows_double(const cs_rows *r, size_t row, unsigned col)
{
    const struct cell *c = cell_at(r, row, col);
    return c->null ? 0.0 : strtod(r->data + c->off, NULL);
}

/* ---------------------------------------------------------------- transactions --------- */

static _Thread_local unsigned rng_state;

static unsigned rng_next(void)
{
    if (!rng_state)
        rng_state = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)&rng_state;
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void backoff(unsigned attempt)
{
    unsigned ms = (5 + rng_next() % 46) * attempt; /* 5–50 ms × attempt */
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int cs_db_in_tx(const cs_db *db)
{
    return db->in_tx;
}

unsigned cs_db_last_tx_retries(const cs_db *db)
{
    return db->last_retries;
}

static void tx_rollback(cs_db *db)
{
    if (db->my && !db->broken && mysql_rollback(db->my)) {
        if (is_lost(mysql_errno(db->my))) db->broken = 1;
    }
}

int cs_db_tx(cs_db *db, cs_tx_fn fn, void *arg, cs_error *err)
{
    if (!db) BUG("cs_db_tx without a connection");
    if (db->in_tx) BUG("nested cs_db_tx");
    unsigned retries = (unsigned)cs_cfg_int("db.tx_retries");
    db->last_retries = 0;
    for (unsigned attempt = 0;; attempt++) {
        cs_error_clear(err);
        db->last_retries = attempt;
        int soft = 0;
        if (db_ready(db, err)) {
            soft = err->code == CS_E_DB_SOFT;
        } else if (mysql_real_query(db->my, "START TRANSACTION", 17)) {
            conn_fail(db, "START TRANSACTION", err);
            soft = err->code == CS_E_DB_SOFT;
        } else {
            db->in_tx = 1;
            db->tx_soft = 0;
            db->gen_dirty = 0;
            int rc = fn(db, arg, err);
            if (rc == 0 && !db->tx_soft && db->gen_dirty) {
                rc = gen_bump(db, err);
                db->gen_dirty = 0;
            }
            if (rc == 0 && !db->tx_soft) {
                if (!mysql_commit(db->my)) {
                    db->in_tx = 0;
                    return 0;
                }
                unsigned no = mysql_errno(db->my);
                if (is_lost(no)) {
                    /* The COMMIT may or may not have happened: re-running could apply the
                     * body twice, so the caller hears "unknown" instead of a silent retry. */
                    db->broken = 1;
                    db->in_tx = 0;
                    return cs_error_set(err, CS_E_DB,
                                        "connection lost during COMMIT; the outcome is unknown");
                }
                conn_fail(db, "COMMIT", err);
            } else if (rc == 0 && db->tx_soft) {
                /* the body swallowed a soft error: InnoDB may have rolled part of it back */
                if (err->code == CS_OK)
                    cs_error_set(err, CS_E_DB_SOFT, "soft error inside the transaction body");
            }
            soft = db->tx_soft || err->code == CS_E_DB_SOFT;
            tx_rollback(db);
            db->in_tx = 0;
            if (!soft) {
                if (err->code == CS_OK)
                    cs_error_set(err, CS_E_INTERNAL, "transaction body failed without an error");
                return -1;
            }
        }
        if (!soft) return -1;
        if (attempt >= retries) {
            cs_warn("db_tx_gave_up", "transaction failed %u times: %s", attempt + 1, err->detail);
            return -1;
        }
        cs_info("db_tx_retry", "re-running transaction (attempt %u): %s", attempt + 2, err->detail);
        backoff(attempt + 1);
        if (db->broken) {
            cs_error tmp;
            cs_error_clear(&tmp);
            db_reconnect(db, &tmp); /* a failure here is retried at the top of the loop */
        }
    }
}

/* ---------------------------------------------------------------- bulk insert ---------- */

static int bulk_refused(unsigned no)
{
    return no == CR_FUNCTION_NOT_SUPPORTED || no == CR_NOT_IMPLEMENTED || no == ER_UNSUPPORTED_PS ||
           no == CR_BULK_WITHOUT_PARAMETERS || no == 1064 /* old servers: unknown command */;
}

static size_t cell_len(const char *const *cells, const size_t *lens, size_t i)
{
    if (!cells[i]) return 0;
    return lens ? lens[i] : strlen(cells[i]);
}

static enum enum_field_types bulk_type(char t)
{
    return t == 'b' ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
}

/* One row at a time (the fallback). */
static int64_t bulk_rows(cs_db *db, MYSQL_STMT *st, const char *sql, unsigned ncols,
                         const char *types, const char *const *cells, const size_t *lens,
                         size_t from, size_t nrows, MYSQL_BIND *b, cs_error *err)
{
    int64_t total = 0;
    for (size_t r = from; r < nrows; r++) {
        memset(b, 0, ncols * sizeof *b);
        for (unsigned c = 0; c < ncols; c++) {
            size_t i = r * ncols + c;
            if (!cells[i]) {
                b[c].buffer_type = MYSQL_TYPE_NULL;
                continue;
            }
            b[c].buffer_type = bulk_type(types[c]);
            b[c].buffer = (void *)cells[i];
            b[c].buffer_length = (unsigned long)cell_len(cells, lens, i);
        }
        if (mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st))
            return stmt_fail(db, st, sql, err);
        my_ulonglong n = mysql_stmt_affected_rows(st);
        if (n != (my_ulonglong)-1) total += (int64_t)n;
    }
    return total;
}

int64_t cs_db_bulk_insert(cs_db *db, const char *sql, unsigned ncols, const char *types,
                          const char *const *cells, const size_t *lens, size_t nrows, cs_error *err)
{
    if (!types || strlen(types) != ncols || strchr(types, 'n') || ncols == 0)
        return cs_error_set(err, CS_E_INTERNAL,
                            "bulk insert: types must give one letter per column");
    for (unsigned c = 0; c < ncols; c++)
        if (!strchr("iudsb", types[c]))
            return cs_error_set(err, CS_E_INTERNAL, "bulk insert: bad type letter '%c'", types[c]);
    if (cs_readgen_watched(sql) && db->in_tx) db->gen_dirty = 1;
    if (nrows == 0) return 0;
    if (db_ready(db, err)) return -1;
    MYSQL_STMT *st = stmt_get(db, sql, err);
    if (!st) return -1;
    if (mysql_stmt_param_count(st) != ncols)
        return cs_error_set(err, CS_E_INTERNAL,
                            "statement has %lu placeholders, %u columns given [%.40s]",
                            mysql_stmt_param_count(st), ncols, sql);

    size_t chunk_max = nrows < BULK_CHUNK_ROWS ? nrows : BULK_CHUNK_ROWS;
    MYSQL_BIND *b = cs_calloc(ncols, sizeof *b);
    char **ptrs = NULL;
    unsigned long *plen = NULL;
    char *ind = NULL;
    int64_t total = 0;
    if (!b) return cs_error_set(err, CS_E_NOMEM, NULL);
    size_t done = 0;
    if (db->bulk_arrays) {
        ptrs = cs_calloc(chunk_max * ncols, sizeof *ptrs);
        plen = cs_calloc(chunk_max * ncols, sizeof *plen);
        ind = cs_calloc(chunk_max * ncols, sizeof *ind);
        if (!ptrs || !plen || !ind) {
            cs_error_set(err, CS_E_NOMEM, NULL);
            total = -1;
            goto out;
        }
        while (done < nrows) {
            /* rows for this round trip: at most BULK_CHUNK_ROWS and about BULK_CHUNK_BYTES */
            size_t k = 0, bytes = 0;
            while (done + k < nrows && k < chunk_max && (k == 0 || bytes < BULK_CHUNK_BYTES)) {
                for (unsigned c = 0; c < ncols; c++) {
                    size_t i = (done + k) * ncols + c, j = (size_t)c * chunk_max + k;
                    ptrs[j] = (char *)cells[i];
                    plen[j] = (unsigned long)cell_len(cells, lens, i);
                    ind[j] = cells[i] ? STMT_INDICATOR_NONE : STMT_INDICATOR_NULL;
                    bytes += plen[j] + 4;
                }
                k++;
            }
            memset(b, 0, ncols * sizeof *b);
            for (unsigned c = 0; c < ncols; c++) {
                b[c].buffer_type = bulk_type(types[c]);
                b[c].buffer = &ptrs[(size_t)c * chunk_max];
                b[c].length = &plen[(size_t)c * chunk_max];
                b[c].u.indicator = &ind[(size_t)c * chunk_max];
            }
            unsigned int asize = (unsigned int)k;
            if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &asize) ||
                mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st)) {
                unsigned no = mysql_stmt_errno(st);
                unsigned int zero = 0;
                mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero);
                if (bulk_refused(no) && done == 0) {
                    cs_info("db_bulk_fallback", "array binding refused (%u); inserting row by row",
                            no);
                    break;
                }
                stmt_fail(db, st, sql, err);
                total = -1;
                goto out;
            }
            my_ulonglong n = mysql_stmt_affected_rows(st);
            if (n != (my_ulonglong)-1) total += (int64_t)n;
            done += k;
        }
        unsigned int zero = 0;
        mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &zero);
    }
    if (done < nrows) {
        int64_t n = bulk_rows(db, st, sql, ncols, types, cells, lens, done, nrows, b, err);
        total = n < 0 ? -1 : total + n;
    }
out:
    cs_free(b);
    cs_free(ptrs);
    cs_free(plen);
    cs_free(ind);
    /* outside a transaction the rows are in already: move the generation right after */
    if (total > 0 && !db->in_tx && cs_readgen_watched(sql) && gen_bump(db, err)) return -1;
    return total;
}
