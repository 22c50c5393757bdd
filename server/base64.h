/* Base64 (RFC 4648, with padding), for output that is not valid UTF-8. */
#ifndef SANDPOOL_BASE64_H
#define SANDPOOL_BASE64_H

#include <stddef.h>

/* A new NUL-terminated string, or NULL when out of memory. */
char *sp_base64_encode(const unsigned char *data, size_t length);

#endif
