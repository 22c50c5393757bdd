/* The whole of a descriptor, read into memory. */
#ifndef SANDPOOL_READ_ALL_H
#define SANDPOOL_READ_ALL_H

#include <stddef.h>

#include "error.h"

/* Read FD from its offset to its end into *OUT (NUL-terminated, *LENGTH
 * bytes before the NUL; free it). Fails with EFBIG beyond MAX bytes. */
int sp_read_all(int fd, size_t max, char **out, size_t *length, struct sp_error *err);

#endif
