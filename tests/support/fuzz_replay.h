/* tests/support/fuzz_replay: the plain (non-libFuzzer) main of every fuzz harness — replays
 * the files or directories given, or the harness's corpus when none is, so `make test`
 * re-runs every saved input. */
#ifndef TSUP_FUZZ_REPLAY_H
#define TSUP_FUZZ_REPLAY_H
#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_one_fn)(const uint8_t *data, size_t size);

/* Replay argv[1..] (files or directories, recursively) or default_corpus when argc < 2.
 * Prints "<name>: replayed N input(s)". Returns the process exit code (0, or 1 when a path
 * could not be read). A harness that finds a bug aborts, which the test runner reports. */
int fuzz_replay_main(int argc, char **argv, const char *name, const char *default_corpus,
                     fuzz_one_fn one);
#endif
