/* tests/support/timport: synthetic household rows for the import tests and bench-import —
 * Vietnamese names, valid mobile phones, citizen IDs that match the birth year, communes from a
 * given list. Deterministic: row i is always the same person. Test code only. */
#ifndef TIMPORT_H
#define TIMPORT_H
#include "core/buf.h"
#include <stddef.h>

enum {
    TIMP_NAME = 0,
    TIMP_CCCD,
    TIMP_PHONE,
    TIMP_BIRTH,
    TIMP_COMMUNE,
    TIMP_ADDRESS,
    TIMP_BUSINESS,
    TIMP_EPAY,
    TIMP_CONSENT,
    TIMP__COLS
};
#define TIMP_CELL 128

/* The header the generated files use (Vietnamese, as in the template). */
extern const char *const timport_header[TIMP__COLS];

/* Row i of a file (serial makes the citizen IDs of different runs differ: IDs are unique for
 * i < 1,000,000 within one serial). Cells NUL-terminated. */
void timport_row(size_t i, unsigned serial, const char *const *communes, size_t ncommunes,
                 char cells[TIMP__COLS][TIMP_CELL]);
/* One CSV field, quoted when needed, into out (no separator). */
int timport_csv_field(cs_buf *out, const char *v, char sep);
/* A whole CSV line (sep-separated, CRLF). */
int timport_csv_line(cs_buf *out, const char *const *cells, size_t n, char sep);
#endif
