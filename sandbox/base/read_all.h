/* The whole of a descriptor: read into memory, or written from it. */
#ifndef SANDPOOL_READ_ALL_H
#define SANDPOOL_READ_ALL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Read FD from its offset to its end into *OUT (NUL-terminated, *LENGTH
 * bytes before the NUL; free it). Fails with EFBIG beyond MAX bytes. */
int sp_read_all(int fd, size_t max, char **out, size_t *length, struct sp_error *err);

/* Write LEN bytes of DATA to FD, again after short writes and EINTR.
 * Returns 0, or -1 with errno (EIO for a write that wrote nothing). */
int sp_write_all(int fd, const void *data, size_t len);

/* Copy FROM to its end into TO. A file is read from its start with pread,
 * so that its own offset never matters: one descriptor may be copied into
 * several places at once (a judge's program, into every test's cell). A
 * pipe is read to its end. */
int sp_copy_all(int from, int to, struct sp_error *err);

/* The same, failing with EFBIG once more than MAX bytes have come. */
int sp_copy_at_most(int from, int to, uint64_t max, struct sp_error *err);

#endif
