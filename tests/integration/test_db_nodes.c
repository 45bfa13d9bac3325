/* tests/integration/test_db_nodes: core/db's db.nodes turns against a real MariaDB reached
 * through loopback forwarders standing for Galera nodes (each accepts TCP and pipes it to the
 * test server's socket; "killing" one stops it and cuts its connections): spread opens go one
 * node further each time; in order (cs_db_nodes_in_order, what `choso worker` uses) every open
 * stays on the first node that answers, a refused first node moves the turn once, and a node lost
 * under open connections moves all of them, and every later open, to the next node.
 * Skips (77) without CHOSO_DB_SOCKET. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "core/config.h"
#include "core/db.h"
#include "tests/support/tsup.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A forwarder: a node of the test. accepted counts the connections it took. */
struct fwd {
    int lfd, port;
    atomic_int accepted, dead;
    int fds[64];
    size_t nfds;
    pthread_mutex_t mu;
    pthread_t th;
};

struct pipe_pair {
    int a, b;
};

static void *pump(void *arg)
{
    struct pipe_pair p = *(struct pipe_pair *)arg;
    free(arg);
    char buf[16384];
    struct pollfd pf[2] = {{p.a, POLLIN, 0}, {p.b, POLLIN, 0}};
    for (;;) {
        if (poll(pf, 2, -1) < 0) break;
        int from = pf[0].revents ? 0 : pf[1].revents ? 1 : -1;
        if (from < 0) continue;
        ssize_t n = read(pf[from].fd, buf, sizeof buf);
        if (n <= 0 || write(pf[!from].fd, buf, (size_t)n) != n) break;
    }
    shutdown(p.a, SHUT_RDWR);
    shutdown(p.b, SHUT_RDWR);
    return NULL;
}

static void *accept_loop(void *arg)
{
    struct fwd *f = arg;
    for (;;) {
        int c = accept(f->lfd, NULL, NULL);
        if (c < 0) return NULL;
        if (atomic_load(&f->dead)) {
            close(c);
            return NULL;
        }
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        snprintf(un.sun_path, sizeof un.sun_path, "%s", cs_cfg_str("db.socket"));
        if (s < 0 || connect(s, (struct sockaddr *)&un, sizeof un)) {
            close(c);
            if (s >= 0) close(s);
            continue;
        }
        pthread_mutex_lock(&f->mu);
        if (f->nfds + 2 <= sizeof f->fds / sizeof f->fds[0]) {
            f->fds[f->nfds++] = c;
            f->fds[f->nfds++] = s;
        }
        pthread_mutex_unlock(&f->mu);
        atomic_fetch_add(&f->accepted, 1);
        struct pipe_pair *p = malloc(sizeof *p);
        p->a = c;
        p->b = s;
        pthread_t t;
        pthread_create(&t, NULL, pump, p);
        pthread_detach(t);
    }
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof in;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof in), 0);
    assert_int_equal(listen(fd, 64), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
    *port = ntohs(in.sin_port);
    return fd;
}

static void fwd_start(struct fwd *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->lfd = listen_any(&f->port);
    pthread_create(&f->th, NULL, accept_loop, f);
}

/* kill -9 of the node: no more connections, and those open are cut */
static void fwd_kill(struct fwd *f)
{
    atomic_store(&f->dead, 1);
    shutdown(f->lfd, SHUT_RDWR);
    close(f->lfd);
    pthread_join(f->th, NULL);
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nfds; i++)
        shutdown(f->fds[i], SHUT_RDWR);
    pthread_mutex_unlock(&f->mu);
}

/* a port nothing listens on: refused */
static int dead_port(void)
{
    int port;
    close(listen_any(&port));
    return port;
}

static void set_nodes(const char *fmt, ...)
{
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    cs_error e;
    cs_error_clear(&e);
    assert_int_equal(cs_config_set("db.nodes", v, &e), 0);
}

static int64_t one(cs_db *db, cs_error *e)
{
    int64_t n = 0;
    cs_error_clear(e);
    return cs_db_scalar_i64(db, &n, "SELECT 1", "", e) < 0 ? -1 : n;
}

static void test_spread_then_in_order(void **state)
{
    (void)state;
    struct fwd a, b;
    fwd_start(&a);
    fwd_start(&b);
    int dead = dead_port();
    cs_error e;

    /* spread (serve): each open one node further on, a dead node refusing every other one */
    set_nodes("127.0.0.1:%d,127.0.0.1:%d", a.port, dead);
    int ok = 0, refused = 0;
    for (int i = 0; i < 4; i++) {
        cs_error_clear(&e);
        cs_db *db = cs_db_connect(&e);
        if (db)
            ok++, cs_db_close(db);
        else
            refused++;
    }
    assert_int_equal(ok, 2);
    assert_int_equal(refused, 2);
    assert_int_equal(atomic_load(&a.accepted), 2);

    /* in order (worker): the dead first node refuses once, then every open stays on node A */
    cs_db_nodes_in_order();
    set_nodes("127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", dead, a.port, b.port);
    int before = atomic_load(&a.accepted);
    cs_db *c[4];
    int failed_opens = 0;
    for (int i = 0; i < 4; i++) {
        cs_error_clear(&e);
        /* the turn left over from the spread test may point at the dead node: one refusal */
        while (!(c[i] = cs_db_connect(&e))) {
            failed_opens++;
            assert_true(failed_opens <= 1);
            cs_error_clear(&e);
        }
        assert_int_equal(one(c[i], &e), 1);
    }
    assert_int_equal(failed_opens, 1);
    assert_int_equal(atomic_load(&a.accepted) - before, 4);
    assert_int_equal(atomic_load(&b.accepted), 0);

    /* node A dies under the four connections: each statement fails once (lost), the turn moves
     * once, and every reconnect and every new open goes to node B */
    fwd_kill(&a);
    for (int i = 0; i < 4; i++) {
        int64_t r = one(c[i], &e);
        if (r < 0) r = one(c[i], &e);
        assert_int_equal(r, 1);
    }
    cs_db *d = cs_db_connect(&e);
    assert_non_null(d);
    assert_int_equal(one(d, &e), 1);
    assert_int_equal(atomic_load(&b.accepted), 5);
    cs_db_close(d);
    for (int i = 0; i < 4; i++)
        cs_db_close(c[i]);
    fwd_kill(&b);
}

int main(void)
{
    tsup_require_db();
    if (!cs_cfg_str("db.socket") || !*cs_cfg_str("db.socket")) return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spread_then_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
