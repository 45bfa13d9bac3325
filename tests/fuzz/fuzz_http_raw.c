/* tests/fuzz/fuzz_http_raw: raw request bytes as a client sends them — request line, path and
 * query string (percent-decoding included), headers, cookies, chunked or sized bodies,
 * multipart/form-data and urlencoded forms — through libmicrohttpd with the server's own
 * connection options, then through the real route table (svc_match_route) and, for the routes
 * that take them, the same body readers the server uses (cs_json_parse for JSON, MHD's post
 * processor for forms). One daemon in external-select mode with no listening socket: each input
 * is written into a socketpair handed to MHD_add_connection and run to its end, single-threaded,
 * so libFuzzer sees every branch. Invariants abort: a matched route's parameters are non-empty
 * segments of the path, 404 and 405 never both, every value MHD hands us is NUL-terminated.
 * libFuzzer: build with -fsanitize=fuzzer -DCHOSO_LIBFUZZER. Otherwise main() replays the files
 * (or directories) given — by default tests/fuzz/corpus/http_raw — in every test pass. */
#include "tests/support/fuzz_replay.h"
#include "core/jspec.h"
#include "core/mem.h"
#include "service/router.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_INPUT = 48 * 1024, MAX_FORM = 64 * 1024 };

typedef struct req {
    int started;
    svc_match m;
    int matched;
    struct MHD_PostProcessor *pp;
    size_t form_bytes, parts;
    char *body;
    size_t len;
    unsigned flags;
} req;

static int finished;

static enum MHD_Result on_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)cls, (void)kind;
    /* what the server's handlers do with a value: length, UTF-8 check, compare */
    if (key) (void)strlen(key);
    if (value) (void)cs_utf8_valid(value, strlen(value));
    return MHD_YES;
}

static enum MHD_Result on_form(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *d, uint64_t off,
                               size_t size)
{
    (void)kind, (void)transfer_encoding, (void)off;
    req *q = cls;
    if (key) (void)strlen(key);
    if (filename) (void)cs_utf8_valid(filename, strlen(filename));
    if (content_type) (void)strlen(content_type);
    if (size && !d) abort();
    q->form_bytes += size;
    if (off == 0) q->parts++;
    return q->form_bytes > MAX_FORM || q->parts > 64 ? MHD_NO : MHD_YES;
}

static void check_match(const char *path, const svc_match *m)
{
    if (m->route && m->allow) abort();
    for (size_t i = 0; i < m->nparams; i++)
        if (!m->params[i].value || !m->params[i].value[0] || !strstr(path, m->params[i].value))
            abort();
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls, (void)version;
    req *q = *con_cls;
    if (!q) {
        q = cs_calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *con_cls = q;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, on_value, NULL);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_value, NULL);
        MHD_get_connection_values(conn, MHD_COOKIE_KIND, on_value, NULL);
        if (svc_match_route(method, url, &q->m) == 0) {
            q->matched = 1;
            check_match(url, &q->m);
            if (q->m.route) q->flags = q->m.route->flags;
        }
        if (q->flags & SVC_R_FORM) q->pp = MHD_create_post_processor(conn, 1024, on_form, q);
        return MHD_YES;
    }
    if (*upload_size) {
        if (q->pp) {
            if (MHD_post_process(q->pp, upload, *upload_size) != MHD_YES) {
                MHD_destroy_post_processor(q->pp);
                q->pp = NULL;
            }
        } else if (q->len + *upload_size <= MAX_INPUT) {
            char *nb = cs_realloc(q->body, q->len + *upload_size + 1);
            if (nb) {
                memcpy(nb + q->len, upload, *upload_size);
                q->body = nb;
                q->len += *upload_size;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->flags & (SVC_R_JSON | SVC_R_JSON_OPT) && q->body) {
        cs_error e;
        cs_error_clear(&e);
        json_t *j = cs_json_parse(q->body, q->len, &e);
        if (j && !cs_utf8_valid(q->body, q->len)) abort();
        json_decref(j);
    }
    unsigned status = !q->matched ? 500 : q->m.route ? 200 : q->m.allow ? 405 : 404;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    req *q = *con_cls;
    if (!q) return;
    if (q->pp) MHD_destroy_post_processor(q->pp);
    if (q->matched) svc_match_free(&q->m);
    cs_free(q->body);
    cs_free(q);
    *con_cls = NULL;
}

static void on_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe)
{
    (void)cls, (void)conn, (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) finished = 1;
}

static void quiet(void *cls, const char *fmt, va_list ap)
{
    (void)cls, (void)fmt, (void)ap;
}

static struct MHD_Daemon *daemon_once(void)
{
    static struct MHD_Daemon *d;
    if (d) return d;
    /* the server's limits (core/config.def defaults): memory per connection, strict parsing */
    d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
                         NULL, MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                         MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                         NULL, MHD_OPTION_NOTIFY_CONNECTION, on_conn, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, 0u, MHD_OPTION_END);
    if (!d) abort();
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) return 0;
    struct MHD_Daemon *d = daemon_once();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) abort();
    int big = 256 * 1024;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(sv[0], data + off, size - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    shutdown(sv[0], SHUT_WR);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
    a.sin_addr.s_addr = htonl(0x7f000001);
    finished = 0;
    if (MHD_add_connection(d, sv[1], (const struct sockaddr *)&a, sizeof a) != MHD_YES) {
        close(sv[0]);
        return 0;
    }
    char sink[8192];
    /* every step either reads, parses or writes; an input ends in far fewer rounds */
    for (int round = 0; round < 4000 && !finished; round++) {
        MHD_run(d);
        while (read(sv[0], sink, sizeof sink) > 0) {
        }
    }
    close(sv[0]);
    for (int round = 0; round < 50 && !finished; round++)
        MHD_run(d);
    if (!finished) abort(); /* a connection that never ends: a hang */
    return 0;
}

#ifndef CHOSO_LIBFUZZER
int main(int argc, char **argv)
{
    return fuzz_replay_main(argc, argv, "fuzz_http_raw", "tests/fuzz/corpus/http_raw",
                            LLVMFuzzerTestOneInput);
}
#endif
