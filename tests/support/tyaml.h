/* tests/support/tyaml: a reader for the YAML that schemas/openapi.yaml is written in — block
 * mappings and sequences, literal block scalars (|), flow collections ({…}, […], across lines),
 * single- and double-quoted and plain scalars (plain ones folded across indented lines) — into
 * jansson values, so tests can check responses against the documented schemas. Not a general
 * YAML parser: no anchors, tags, multi-documents or folded (>) scalars. Test code only. */
#ifndef TYAML_H
#define TYAML_H
#include <jansson.h>
#include <stddef.h>

/* Parse YAML text. Returns a new JSON value, or NULL with a message naming the line in err. */
json_t *tyaml_parse(const char *text, char *err, size_t errsz);
/* Read and parse a file. */
json_t *tyaml_load_file(const char *path, char *err, size_t errsz);
#endif
