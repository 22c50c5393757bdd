/* The handlers of the HTTP API's routes; DATA is the struct sp_server. */
#ifndef SANDPOOL_HTTP_HANDLERS_H
#define SANDPOOL_HTTP_HANDLERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "sandbox/base/error.h"
#include "server/engine/server.h"

struct mg_connection;

int sp_http_run(struct mg_connection *conn, void *data);       /* POST /api/v1/run */
int sp_http_judge(struct mg_connection *conn, void *data);     /* POST /api/v1/judge */
int sp_http_jobs(struct mg_connection *conn, void *data);      /* POST /api/v1/jobs */
int sp_http_job(struct mg_connection *conn, void *data);       /* GET|DELETE /api/v1/jobs/ID */
int sp_http_languages(struct mg_connection *conn, void *data); /* GET /api/v1/languages */
int sp_http_problems(struct mg_connection *conn, void *data);  /* GET|POST /api/v1/problems */
int sp_http_problem(struct mg_connection *conn, void *data);   /* GET|DELETE /api/v1/problems/ID */
int sp_http_workers(struct mg_connection *conn, void *data);   /* GET /api/v1/workers */
int sp_http_health(struct mg_connection *conn, void *data);    /* GET /healthz */
int sp_http_metrics(struct mg_connection *conn, void *data);   /* GET /metrics */
int sp_http_page(struct mg_connection *conn, void *data);      /* GET /, /app.js, /style.css */
int sp_http_ws_connect(const struct mg_connection *conn, void *data); /* GET /api/v1/ws */
void sp_http_ws_ready(struct mg_connection *conn, void *data);
int sp_http_ws_data(struct mg_connection *conn, int bits, char *data, size_t length, void *cbdata);
void sp_http_ws_close(const struct mg_connection *conn, void *data);

/* The WebSocket side: its caps (http_ws_admit.h) and its loop
 * (http_ws_loop.h), started before civetweb and stopped after it. */
int sp_http_ws_start(struct sp_server *server, struct sp_error *err);
void sp_http_ws_stop(struct sp_server *server);

/* The WebSockets in /healthz (an object) and in /metrics. */
json_t *sp_http_ws_health(struct sp_server *server);
void sp_http_ws_metrics(FILE *f, struct sp_server *server);

/* Who opens a WebSocket: its token from the Authorization header or from
 * ?token= (browsers cannot set headers on a WebSocket); SP_CALLER_*. */
int sp_http_ws_caller(const struct mg_connection *conn, const struct sp_config *config);

struct sp_error;
struct sp_request;
struct sp_queue_order;

int sp_http_piston(struct mg_connection *conn, void *data); /* /api/v2/... (Piston v2) */
int sp_http_judge0(struct mg_connection *conn, void *data); /* Judge0 CE's paths */
/* GET /api/v2/connect: Piston's WebSocket (http_ws_piston.h); the rest of
 * the upgrade is /api/v1/ws's. */
int sp_http_piston_connect(const struct mg_connection *conn, void *data);

/* The order of the job REQ becomes, submitted by CONN and held by it until
 * it lets it go; KEEP: kept for GET (POST /api/v1/jobs), else waited for.
 * Its body is left for the caller to give. */
void sp_http_order_of(struct mg_connection *conn, struct sp_server *server,
		      const struct sp_request *req, bool keep, struct sp_queue_order *order);

/* The status of a refused submission (ERR from sp_queue_submit) of USER
 * (or NULL): 429 or 503 with HEADERS (Retry-After, SIZE bytes at most),
 * 413 or 500; counted among the refusals. */
int sp_http_refusal(struct sp_server *server, const char *user, const struct sp_error *err,
		    char *headers, size_t size);

/* Answer a refused submission (ERR from sp_queue_submit) of USER (or NULL):
 * 429 with Retry-After, 503 or 500. Returns the status. */
int sp_http_refused(struct mg_connection *conn, struct sp_server *server, const char *user,
		    const struct sp_error *err);

#endif
