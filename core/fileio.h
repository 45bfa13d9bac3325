/* core/fileio: unnamed temporary files and whole writes, for the places that spool bytes to
 * disk (service/server: an upload as it arrives; jobs/sheet_stream: an XLSX past its first
 * MiB). No SQL, no HTTP. */
#ifndef CS_FILEIO_H
#define CS_FILEIO_H
#include <stddef.h>

/* An unnamed temporary file in dir, open for reading and writing (O_TMPFILE; where the file
 * system lacks it, a mkstemp name unlinked at once, "<dir>/choso-<tag>.XXXXXX"): whatever ends
 * the process, nothing is left on disk. Returns the descriptor (close-on-exec), or -1 with
 * errno. */
int cs_tmpfile(const char *dir, const char *tag);

/* All n bytes of p to fd (a write cut by a signal goes on). 0, or -1 with errno (ENOSPC for a
 * write that wrote nothing). */
int cs_write_all(int fd, const void *p, size_t n);

#endif
