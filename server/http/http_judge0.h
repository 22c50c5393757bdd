/* Judge0 CE's API, its parts below the routes of http_judge0.c: who calls
 * (its authentication), its bare answers and errors, and its submissions
 * (http_judge0_submissions.c). */
#ifndef SANDPOOL_HTTP_JUDGE0_H
#define SANDPOOL_HTTP_JUDGE0_H

#include <stdbool.h>
#include <stddef.h>

#include "server/engine/server.h"

struct mg_connection;

/* The value of NAME in CONN's header, else its query, into OUT (SIZE
 * bytes); false when neither has it. */
bool sp_http_judge0_given(struct mg_connection *conn, const char *name, char *out, size_t size);

/* Who calls: its token by Authorization, X-Auth-Token or ?X-Auth-Token=
 * (SP_CALLER_*, or a token's index). */
int sp_http_judge0_caller(struct mg_connection *conn, const struct sp_config *config);

/* Whether X-Auth-User names a token (any caller when there are none): what
 * Judge0 lets only its authorized users do. */
bool sp_http_judge0_user(struct mg_connection *conn, const struct sp_config *config);

/* Judge0's answers without a body (401, 403, 404), and its {"error"}. Each
 * returns STATUS. */
int sp_http_judge0_bare(struct mg_connection *conn, int status);
int sp_http_judge0_error(struct mg_connection *conn, int status, const char *text,
			 const char *extra);

/* Answer STATUS before the body is read (TEXT as its error, or no body for
 * NULL): the body is read first, as /api/v1 does. */
int sp_http_judge0_refuse(struct mg_connection *conn, const struct sp_server *server, int status,
			  const char *text);

/* The submissions: POST /submissions, POST and GET /submissions/batch, GET
 * and DELETE /submissions/TOKEN. */
int sp_http_judge0_create(struct mg_connection *conn, struct sp_server *server);
int sp_http_judge0_batch_create(struct mg_connection *conn, struct sp_server *server);
int sp_http_judge0_batch_show(struct mg_connection *conn, struct sp_server *server);
int sp_http_judge0_show(struct mg_connection *conn, struct sp_server *server, const char *token);
int sp_http_judge0_destroy(struct mg_connection *conn, struct sp_server *server, const char *token);

#endif
