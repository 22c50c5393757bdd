/* UTF-8, one character at a time. */
#ifndef SANDPOOL_UTF8_H
#define SANDPOOL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length (1 to 4) of the valid UTF-8 character at P, N bytes left, or 0:
 * a stray or cut short sequence, an overlong form, a surrogate, or above
 * U+10FFFF. Any ASCII byte, NUL and control characters included, is 1. */
size_t sp_utf8_char_len(const unsigned char *p, size_t n);

/* Whether the N bytes at P are valid UTF-8 throughout (NULs included). */
bool sp_utf8_valid(const void *p, size_t n);

/* TEXT (LEN bytes, any bytes) as a message in DST (SIZE bytes, at least 1):
 * valid UTF-8, other bytes and NULs as '?', cut to fit between characters,
 * NUL-terminated. */
void sp_utf8_message(char *dst, size_t size, const char *text, size_t len);

/* The length of the longest prefix of S (LEN bytes of valid UTF-8) that is
 * at most MAX bytes and does not cut a character. */
size_t sp_utf8_prefix(const char *s, size_t len, size_t max);

#endif
