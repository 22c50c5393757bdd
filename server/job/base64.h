/* Base64 (RFC 4648, with padding): output that is not valid UTF-8, and
 * binary input. */
#ifndef SANDPOOL_BASE64_H
#define SANDPOOL_BASE64_H

#include <stddef.h>

/* A new NUL-terminated string, or NULL when out of memory. */
char *sp_base64_encode(const unsigned char *data, size_t length);

/* The value of C in base64's alphabet (0 to 63), or -1. */
int sp_base64_digit(unsigned char c);

/* The bytes of TEXT (LENGTH characters, padded), in a new buffer of
 * *OUT_LENGTH bytes; NULL for text that is not base64 (errno 0) or when out of
 * memory (ENOMEM). */
unsigned char *sp_base64_decode(const char *text, size_t length, size_t *out_length);

#endif
