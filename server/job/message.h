/* A message for a client, written piece by piece into a buffer of a fixed
 * size: only whole characters and escapes are added, so that it stays one
 * line of valid UTF-8 however it is cut short. What checkers, validators
 * and readers of files say of what they read. */
#ifndef SANDPOOL_MESSAGE_H
#define SANDPOOL_MESSAGE_H

#include <stddef.h>

struct sp_message {
	char *buf;
	size_t size; /* of BUF, its NUL included */
	size_t len;
};

/* An empty message in BUF (SIZE bytes, at least 1). */
struct sp_message sp_message_in(char *buf, size_t size);

/* N bytes of S (whole characters), when they fit; else nothing. */
void sp_message_add(struct sp_message *m, const char *s, size_t n);

/* FORMAT and its arguments (ASCII), cut to what is left. */
void sp_message_printf(struct sp_message *m, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* TEXT (LEN bytes, any bytes) between the quotes Q (0: none), at most MAX
 * bytes of it as shown, then "..." when it was cut. Control characters (C0,
 * DEL, C1), bytes that are not UTF-8 and '\\' are escaped (\n, \r, \t, \\,
 * \xNN); neither an escape nor a character is cut. */
void sp_message_quote(struct sp_message *m, const char *text, size_t len, char q, size_t max);

#endif
