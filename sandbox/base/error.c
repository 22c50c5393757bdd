#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sp_error_set(struct sp_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->errnum = errnum;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* "a: b" into dst, cut at its size. */
static void join(char *dst, size_t size, const char *a, const char *b)
{
	size_t used = 0;
	const char *parts[] = {a, ": ", b};

	for (size_t i = 0; i < 3 && used + 1 < size; i++) {
		size_t len = strnlen(parts[i], size - used - 1);

		memcpy(dst + used, parts[i], len);
		used += len;
	}
	dst[used] = '\0';
}

int sp_error_wrap(struct sp_error *err, const char *fmt, ...)
{
	char prefix[SP_ERROR_MESSAGE_MAX];
	char old[SP_ERROR_MESSAGE_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	join(err->message, sizeof(err->message), prefix, old);
	return -1;
}

const char *sp_error_describe(const struct sp_error *err, char *buf, size_t size)
{
	if (err->errnum != 0)
		snprintf(buf, size, "%s: %s", err->message, strerror(err->errnum));
	else
		snprintf(buf, size, "%s", err->message);
	return buf;
}

void sp_error_clear(struct sp_error *err)
{
	err->errnum = 0;
	err->message[0] = '\0';
}
