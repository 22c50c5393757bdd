/* How a request fails: an error kind of the API (its HTTP status and code)
 * and a message naming what was wrong, in valid UTF-8. */
#ifndef SANDPOOL_REQUEST_FAILURE_H
#define SANDPOOL_REQUEST_FAILURE_H

#include <stdarg.h>

enum sp_request_error {
	SP_REQ_OK,
	SP_REQ_BAD_JSON,	     /* 400 "bad_json" */
	SP_REQ_BAD_FIELD,	     /* 400 "bad_request" */
	SP_REQ_UNKNOWN_LANGUAGE,     /* 400 "unknown_language" */
	SP_REQ_LANGUAGE_UNAVAILABLE, /* 400 "language_unavailable": known, not here */
	SP_REQ_UNKNOWN_PROBLEM,	     /* 404 "unknown_problem": no stored problem of that id */
	SP_REQ_TOO_LARGE,	     /* 413 "body_too_large" */
	SP_REQ_INTERNAL,	     /* 500 "internal_error": out of memory, memfd failed */
};

struct sp_request_failure {
	enum sp_request_error kind;
	int http_status; /* 400, 413 or 500; 0 with SP_REQ_OK */
	char code[32];
	char message[256]; /* valid UTF-8 */
};

/* Fill FAIL (KIND, its status and code, the message). Returns -1. */
__attribute__((format(printf, 3, 4))) int
sp_request_fail(struct sp_request_failure *fail, enum sp_request_error kind, const char *fmt, ...);

/* The same with a va_list. */
int sp_request_failv(struct sp_request_failure *fail, enum sp_request_error kind, const char *fmt,
		     va_list ap);

#endif
