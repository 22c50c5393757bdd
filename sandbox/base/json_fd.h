/* A JSON document from an open file, read whole. (jansson's json_loadfd
 * reads one byte per system call, to stop at the end of the value.) */
#ifndef SANDPOOL_JSON_FD_H
#define SANDPOOL_JSON_FD_H

#include <jansson.h>
#include <stddef.h>

/* The largest file this reads: config, language and image records. */
#define SP_JSON_FD_MAX (16u * 1024 * 1024)

/* Parse the whole of FD (from its current offset) with jansson FLAGS.
 * NULL with JERR filled on a parse error, a read error or a file over
 * SP_JSON_FD_MAX. */
json_t *sp_json_load_fd(int fd, size_t flags, json_error_t *jerr);

#endif
