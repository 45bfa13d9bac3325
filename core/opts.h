/* core/opts: the one command-line option parser of every `choso` subcommand (and the simulator
 * binary). Options are a table; every refusal is answered the same way: a Vietnamese and English
 * message naming the flag on stderr, and exit code 64 (EX_USAGE). No other I/O. */
#ifndef CS_OPTS_H
#define CS_OPTS_H
#include <stddef.h>
#include <stdint.h>

#define CS_EX_USAGE 64
/* cs_opts_parse's answer when --help / -h was given (the usage was printed to stdout). */
#define CS_OPTS_HELP 1

typedef enum cs_opt_kind {
    CS_OPT_FLAG = 1, /* out: int * — set to 1 when given (no value) */
    CS_OPT_STR,      /* out: const char ** — the value (points into argv) */
    CS_OPT_INT,      /* out: int64_t * — decimal integer in [min, max] */
    CS_OPT_LIST,     /* out: cs_opt_list * — repeatable; each value appended, at most `max` */
} cs_opt_kind;

/* Values of a repeatable option: the caller provides v[] and sets cap. */
typedef struct cs_opt_list {
    const char **v;
    size_t n, cap;
} cs_opt_list;

typedef struct cs_opt {
    const char *name;  /* "--year" (long) ; NULL ends the table */
    const char *alias; /* optional short form ("-y") or older spelling, or NULL */
    cs_opt_kind kind;
    int64_t min, max;    /* CS_OPT_INT: accepted range (inclusive) */
    void *out;           /* destination as described by kind; untouched when absent */
    const char *metavar; /* "N", "FILE" … shown in the usage (values only) */
    const char *help;    /* one line */
} cs_opt;

/* Parse argv[1 .. argc-1] (argv[0] is the subcommand's own name) against `opts`. Accepts
 * "--name value" and "--name=value"; "--" ends the options. Positional arguments are stored in
 * pos[0 .. max_pos-1] (pointers into argv) and counted in *npos; more than max_pos is a usage
 * error. `prog` is the program and command as shown in messages ("choso import"); `synopsis`
 * the usage line after it ("households|products FILE [options]").
 * Returns 0; CS_OPTS_HELP after printing the usage to stdout; or CS_EX_USAGE after printing,
 * to stderr, what is wrong — unknown option, missing value, value given to a flag, a number
 * out of range, an extra argument — naming the flag, in Vietnamese then English. */
int cs_opts_parse(const char *prog, const char *synopsis, const cs_opt *opts, int argc, char **argv,
                  const char **pos, size_t max_pos, size_t *npos);

/* Print a usage error for prog in the same shape ("prog: <vi> (<en>)" and a pointer to
 * --help) and return CS_EX_USAGE: for rules the table cannot express (a missing positional
 * argument, two options that exclude each other). */
int cs_opts_usage_error(const char *prog, const char *vi, const char *en);

/* Print the usage (synopsis and one line per option) to stdout. */
void cs_opts_usage(const char *prog, const char *synopsis, const cs_opt *opts);
#endif
