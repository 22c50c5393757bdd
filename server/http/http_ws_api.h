/* The messages of the WebSocket API: a client runs jobs and watches them
 * (queued, started, stdout, stderr, result; a judge request a "test" event
 * per test), subscribes to jobs by id or by userId, feeds a running job's
 * stdin, closes it, and cancels. A client is served on the WebSocket loop's
 * thread (http_ws_loop.h); its events come from any thread through the hub,
 * shared (hub_text.h), into the connection's queue. */
#ifndef SANDPOOL_HTTP_WS_API_H
#define SANDPOOL_HTTP_WS_API_H

#include "http_ws_admit.h"
#include "http_ws_loop.h"
#include "server/engine/server.h"

struct sp_ws_client;

/* A client of the token CALLER (an index, or SP_CALLER_ANYONE) from
 * ADDRESS (its jobs count against that address's share of memory) holding
 * PLACE among the WebSockets' caps (given back when the client is freed);
 * NULL when out of memory (PLACE is still the caller's). Freed by
 * sp_ws_client_free until it is handed to the loop with
 * sp_ws_client_handlers, by the loop after that. */
struct sp_ws_client *sp_ws_client_new(struct sp_server *server, int caller, const char *address,
				      const struct sp_ws_place *place);
void sp_ws_client_free(struct sp_ws_client *c);

/* The loop's handlers for a client (the user data). */
extern const struct sp_ws_handlers sp_ws_client_handlers;

#endif
