/* Piston v2's WebSocket API (/api/v2/connect; engineer-man/piston,
 * api/src/api/v2.js) on the WebSocket loop: one job per connection, its
 * init message a Piston execute body, run interactively on the same queue
 * and cells as /api/v1/ws, its events said in Piston's words (runtime,
 * stage, data, exit, error) and its end a close with Piston's codes. */
#ifndef SANDPOOL_HTTP_WS_PISTON_H
#define SANDPOOL_HTTP_WS_PISTON_H

#include "http_ws_admit.h"
#include "http_ws_loop.h"
#include "server/engine/server.h"

/* Piston's close codes, and their reasons as Piston words them. */
#define SP_PISTON_ALREADY_INITIALIZED 4000 /* "Already Initialized" */
#define SP_PISTON_INIT_TIMEOUT	      4001 /* "Initialization Timeout" */
#define SP_PISTON_NOTIFIED_ERROR      4002 /* "Notified Error" */
#define SP_PISTON_NOT_INITIALIZED     4003 /* "Not yet initialized" */
#define SP_PISTON_ONLY_STDIN	      4004 /* "Can only write to stdin" */
#define SP_PISTON_INVALID_SIGNAL      4005 /* "Invalid signal" */
#define SP_PISTON_JOB_COMPLETED	      4999 /* "Job Completed" */

/* The time a client has for its init, as in Piston. */
#define SP_PISTON_INIT_MS 1000

struct sp_ws_piston;

/* A Piston client, as sp_ws_client_new makes a client of /api/v1/ws (the
 * same arguments); NULL when out of memory (PLACE is still the caller's).
 * Freed by sp_ws_piston_handlers.closed until it is handed to the loop, by
 * the loop after that. */
struct sp_ws_piston *sp_ws_piston_new(struct sp_server *server, int caller, const char *address,
				      const struct sp_ws_place *place);

extern const struct sp_ws_handlers sp_ws_piston_handlers;

#endif
