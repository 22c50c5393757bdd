/* The handlers of the HTTP API's routes; DATA is the struct sp_server. */
#ifndef SANDPOOL_HTTP_HANDLERS_H
#define SANDPOOL_HTTP_HANDLERS_H

#include "server.h"

struct mg_connection;

int sp_http_run(struct mg_connection *conn, void *data);       /* POST /api/v1/run */
int sp_http_jobs(struct mg_connection *conn, void *data);      /* POST /api/v1/jobs */
int sp_http_job(struct mg_connection *conn, void *data);       /* GET|DELETE /api/v1/jobs/ID */
int sp_http_languages(struct mg_connection *conn, void *data); /* GET /api/v1/languages */
int sp_http_health(struct mg_connection *conn, void *data);    /* GET /healthz */
int sp_http_metrics(struct mg_connection *conn, void *data);   /* GET /metrics */

#endif
