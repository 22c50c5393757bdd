/* Errors that travel: an errno and a message, wrapped with context by callers. */
#ifndef SANDPOOL_ERROR_H
#define SANDPOOL_ERROR_H

#include <stddef.h>

#define SP_ERROR_MESSAGE_MAX 512

/* Fixed size so a child can send it to its parent over a socket as it is. */
struct sp_error {
	int errnum;
	char message[SP_ERROR_MESSAGE_MAX];
};

/* Fill err with errnum and a formatted message. Returns -1 so callers can
 * write `return sp_error_set(err, errno, "open %s", path);`. */
int sp_error_set(struct sp_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in err with more context: "ctx: old". Returns -1. */
int sp_error_wrap(struct sp_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "message: strerror(errnum)" (or just message when errnum is 0) into buf. */
const char *sp_error_describe(const struct sp_error *err, char *buf, size_t size);

void sp_error_clear(struct sp_error *err);

#endif
