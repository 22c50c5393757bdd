/* What one client may hold of the HTTP threads: each connection holds one
 * while civetweb serves it (its headers, its body, a /run waiting for its
 * job, a keep-alive pause of up to 500 ms), so one address, or one token of
 * several, could take them all and starve everyone else.
 *
 * - Connections per client address, from their accept to their close (those
 *   waiting for a thread too): at most http_address_percent of the threads.
 *   One over it is answered as it is accepted, before any thread or its
 *   request: 429 address_limit with Retry-After, and closed.
 * - Requests in flight per API token, when the server has several: at most
 *   http_token_percent of the threads; over it, 429 token_limit once the
 *   headers are in, and the connection closed.
 *
 * - A request body must come at body_min_rate_kb KiB/s on average after
 *   request_timeout_s (http_deadline.h), else it is cut: a body dripped a
 *   byte at a time holds its thread that long, not for as long as it drips;
 *   a large answer must be taken as fast, else the connection is shut
 *   down.
 *
 * Also the figures /healthz and /metrics show: connections open, and
 * requests refused, by reason. */
#ifndef SANDPOOL_HTTP_CONNS_H
#define SANDPOOL_HTTP_CONNS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "server/job/config.h"

struct mg_connection;
struct mg_context;
struct sp_http_conns;
struct sp_body_watch;

/* The caps of CONFIG; NULL when out of memory. */
struct sp_http_conns *sp_http_conns_new(const struct sp_config *config);

void sp_http_conns_free(struct sp_http_conns *conns);

/* civetweb's init_thread, init_connection, connection_close and
 * end_request callbacks (their context's user data is the struct sp_server,
 * whose conns these are). */
void *sp_http_conns_thread(const struct mg_context *ctx, int thread_type);
int sp_http_conns_opened(const struct mg_connection *conn, void **conn_data);
void sp_http_conns_closed(const struct mg_connection *conn);
void sp_http_conns_ended(const struct mg_connection *conn, int status);

/* From civetweb's begin_request, for a request of the token TOKEN (its
 * index; below 0: none): 0 when it may go on, else the cap of requests in
 * flight per token it would pass (counted as refused: token_limit). */
unsigned sp_http_conns_admit(struct mg_connection *conn, int token);

/* Watch the body of CONN's request, EXPECT bytes (-1: unknown), against its
 * deadline (NULL: none). */
struct sp_body_watch *sp_http_conns_watch_body(struct mg_connection *conn, int64_t expect);

/* Watch an answer of LENGTH bytes to CONN being written, against the same
 * deadline: a client that takes it slower has its connection shut down. */
struct sp_body_watch *sp_http_conns_watch_reply(struct mg_connection *conn, uint64_t length);

/* Watch it no more. True when it was cut: it came (or went) too slowly. */
bool sp_http_conns_unwatch_body(struct mg_connection *conn, struct sp_body_watch *w);

/* Count a request refused with the error CODE of the API: address_limit,
 * token_limit, memory_full, memory_share, job_too_large, queue_full,
 * user_limit, rate_limited, busy, body_too_large, request_timeout (any other
 * is not counted). */
void sp_http_conns_refused(struct sp_http_conns *conns, const char *code);

/* {"open", "addresses", "per_address_max", "per_token_max", "refused": {CODE:
 * count}}. */
json_t *sp_http_conns_json(struct sp_http_conns *conns);

/* The same as Prometheus text. */
void sp_http_conns_render(FILE *f, struct sp_http_conns *conns);

#endif
