/* Answers of the HTTP API: JSON bodies, JSON errors, tokens, request
 * bodies discarded up to a limit. */
#ifndef SANDPOOL_HTTP_REPLY_H
#define SANDPOOL_HTTP_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/job/config.h"

struct mg_connection;

/* Answer with OBJ (stolen; NULL: an empty body) as JSON. EXTRA is more
 * header lines ("Name: value\r\n" each), or "". Returns STATUS. */
int sp_reply(struct mg_connection *conn, int status, json_t *obj, const char *extra);

/* {"error": {"code": CODE, "message": MESSAGE}} with STATUS. */
int sp_reply_error(struct mg_connection *conn, int status, const char *code, const char *message,
		   const char *extra);

/* Tokens are asked for when CONFIG has any: false when the request carries
 * none of them. */
bool sp_http_authorized(struct mg_connection *conn, const struct sp_config *config);

/* 401 with WWW-Authenticate. */
int sp_reply_unauthorized(struct mg_connection *conn);

/* Constant-time: does HEADER ("Bearer TOKEN") carry one of the tokens? */
bool sp_http_token_ok(const struct sp_config *config, const char *header);

/* Constant-time: the index of the token GIVEN, or -1. */
int sp_http_token_match(const struct sp_config *config, const char *given);

#define SP_CALLER_ANYONE  (-1) /* no tokens configured */
#define SP_CALLER_UNKNOWN (-2) /* tokens configured, none given */

/* Who calls: the index of the request's token, or one of the above. */
int sp_http_caller(struct mg_connection *conn, const struct sp_config *config);

/* Read and drop what is left of the body, up to MAX bytes, so that an early
 * answer is not lost to a reset of the connection. True when the body was
 * read to its end. */
bool sp_http_discard_body(struct mg_connection *conn, uint64_t max);

/* Close the connection after the answer: civetweb reads whatever is left of
 * a body before the next request, without end for a client that keeps
 * sending. */
void sp_http_close(struct mg_connection *conn);

#endif
