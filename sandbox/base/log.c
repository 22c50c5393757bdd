#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum sp_log_level current_level = SP_LOG_WARN;

void sp_log_set_level(enum sp_log_level level)
{
	current_level = level;
}

enum sp_log_level sp_log_get_level(void)
{
	return current_level;
}

static const char *level_name(enum sp_log_level level)
{
	switch (level) {
	case SP_LOG_ERROR:
		return "error";
	case SP_LOG_WARN:
		return "warn";
	case SP_LOG_INFO:
		return "info";
	case SP_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

void sp_log_write(enum sp_log_level level, const char *func, int line, int errnum, const char *fmt,
		  ...)
{
	char message[1024];
	va_list ap;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (errnum != 0)
		fprintf(stderr, "sandpool: %s: %s:%d: %s: %s\n", level_name(level), func, line,
			message, strerror(errnum));
	else
		fprintf(stderr, "sandpool: %s: %s:%d: %s\n", level_name(level), func, line,
			message);
}
