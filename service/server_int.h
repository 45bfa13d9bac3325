/* service/server_int: the per-request context shared by server.c (MHD plumbing) and
 * request.c (what handlers call). Private to the framework: resource handlers never include
 * this, they use service/router.h. */
#ifndef SVC_SERVER_INT_H
#define SVC_SERVER_INT_H
#include "core/buf.h"
#include "service/router.h"
#include <microhttpd.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <time.h>

struct svc_server;

typedef struct svc_hdr {
    char *name;
    char *value;
    struct svc_hdr *next;
} svc_hdr;

enum svc_phase { SVC_PH_NEW = 0, SVC_PH_BODY, SVC_PH_DONE };
enum svc_body_mode { SVC_BODY_NONE = 0, SVC_BODY_BUF, SVC_BODY_FORM };

struct svc_conn {
    struct svc_server *srv;
    struct MHD_Connection *mhd;
    svc_req req;
    svc_match match;
    struct timespec start;
    enum svc_phase phase;
    size_t uri_len; /* raw request-target length, query included */

    /* body intake */
    enum svc_body_mode body_mode;
    size_t body_cap;
    uint64_t received;
    int too_large;
    int form_bad;
    int filename_bad; /* a part's file name was not UTF-8 text (400, never stored) */
    cs_buf body;
    struct MHD_PostProcessor *pp;
    size_t parts_cap;
    size_t parts_bytes;
    size_t part_cap;     /* capacity of the open part's data */
    size_t mem_bytes;    /* form bytes held in memory (capped by http.max_upload) */
    int spool_full;      /* a spool write found no room (507, nothing recorded) */
    int spool_failed;    /* the spool file could not be made or written otherwise */
    svc_part *part_open; /* the part the post processor is filling */

    /* Idempotency-Key */
    char idem_key[129];
    char idem_actor[80];
    EVP_MD_CTX *idem_hash;
    int idem_row;     /* 1 when our in_progress row exists */
    char *idem_rbody; /* cs_malloc'd: what a replay gets instead of rbody (svc_reply_replay_body) */
    size_t idem_rlen;

    cs_db *db; /* only within one access-handler call */

    /* the reply */
    int replied;
    int status;
    char *ctype;
    char *rbody; /* cs_malloc'd */
    size_t rlen;
    int fd; /* svc_reply_file: >= 0 */
    uint64_t fsize;
    svc_hdr *headers; /* handler's extra headers (stored for idempotent replays) */
    int queued;
    int replayed;
};

/* request.c */
void svc_conn_reply_reset(struct svc_conn *c);
/* Reset the reply and drop the extra headers too. */
void svc_conn_reply_free(struct svc_conn *c);
/* Build the MHD response from the prepared reply with the common headers and queue it.
 * Falls back to a bare 503 when memory runs out. */
enum MHD_Result svc_conn_queue(struct svc_conn *c, int close_after);
/* Headers as a JSON object text for the idempotency store (caller frees), NULL if none. */
char *svc_conn_headers_json(const struct svc_conn *c);
void svc_conn_release_db(struct svc_conn *c);
#endif
