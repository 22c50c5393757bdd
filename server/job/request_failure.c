#include "request_failure.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

static const struct {
	int status;
	const char *code;
} kinds[] = {
    [SP_REQ_OK] = {0, ""},
    [SP_REQ_BAD_JSON] = {400, "bad_json"},
    [SP_REQ_BAD_FIELD] = {400, "bad_request"},
    [SP_REQ_UNKNOWN_LANGUAGE] = {400, "unknown_language"},
    [SP_REQ_LANGUAGE_UNAVAILABLE] = {400, "language_unavailable"},
    [SP_REQ_UNKNOWN_PROBLEM] = {404, "unknown_problem"},
    [SP_REQ_TOO_LARGE] = {413, "body_too_large"},
    [SP_REQ_INTERNAL] = {500, "internal_error"},
};

int sp_request_failv(struct sp_request_failure *fail, enum sp_request_error kind, const char *fmt,
		     va_list ap)
{
	size_t len;

	fail->kind = kind;
	fail->http_status = kinds[kind].status;
	snprintf(fail->code, sizeof(fail->code), "%s", kinds[kind].code);
	vsnprintf(fail->message, sizeof(fail->message), fmt, ap);
	len = strlen(fail->message);
	fail->message[sp_utf8_prefix(fail->message, len, sizeof(fail->message) - 2)] = '\0';
	return -1;
}

int sp_request_fail(struct sp_request_failure *fail, enum sp_request_error kind, const char *fmt,
		    ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_request_failv(fail, kind, fmt, ap);
	va_end(ap);
	return -1;
}
