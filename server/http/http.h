/* The HTTP API on civetweb: its routes, started and stopped. */
#ifndef SANDPOOL_HTTP_H
#define SANDPOOL_HTTP_H

#include "sandbox/base/error.h"
#include "server/engine/server.h"

struct mg_context;

/* Start civetweb on the configured address with the API's routes. */
struct mg_context *sp_http_start(struct sp_server *server, struct sp_error *err);

/* Stop accepting, wait for the requests in progress, free civetweb. */
void sp_http_stop(struct mg_context *ctx);

#endif
