/* SHA-256 of a file or buffer, as bytes and as "sha256:<hex>". */
#ifndef SANDPOOL_SHA256_H
#define SANDPOOL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"

#define SP_SHA256_HEX_LEN 64

/* "sha256:" + 64 hex digits + NUL */
#define SP_DIGEST_MAX (7 + SP_SHA256_HEX_LEN + 1)

void sp_sha256_to_digest(const uint8_t sum[32], char out[SP_DIGEST_MAX]);

/* Read FD to its end: its sha256 and length. */
int sp_sha256_fd(int fd, uint8_t sum[32], uint64_t *length, struct sp_error *err);

#endif
