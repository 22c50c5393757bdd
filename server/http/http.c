#include "http.h"

#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http_body.h"
#include "http_callbacks.h"
#include "http_conns.h"
#include "http_handlers.h"
#include "http_reply.h"
#include "http_ws_loop.h"
#include "sandbox/base/log.h"

#define CALLBACKS_MAX 4096

/* Everything no other route took: the page at "/", else 404. (civetweb
 * matches this prefix route before a "/$" one.) */
static int handle_rest(struct mg_connection *conn, void *data)
{
	if (strcmp(mg_get_request_info(conn)->local_uri, "/") == 0)
		return sp_http_page(conn, data);
	return sp_reply_error(conn, 404, "not_found", "no such endpoint", "");
}

/* A request of a token that has its share of the threads in flight: 429
 * token_limit, and the connection closes. */
static int refuse_token(struct mg_connection *conn, struct sp_server *server)
{
	unsigned cap = sp_http_conns_admit(conn, sp_http_caller(conn, &server->config));
	char message[160];

	if (cap == 0)
		return 0;
	snprintf(message, sizeof(message),
		 "this token has %u requests in flight, the most one token may have "
		 "(http_token_percent of threads); try again later",
		 cap);
	sp_reply_error(conn, 429, "token_limit", message,
		       "Retry-After: 1\r\nConnection: close\r\n");
	sp_http_close(conn);
	return 429;
}

static bool piston_connect(const char *uri)
{
	return strcmp(uri, "/api/v2/connect") == 0 || strcmp(uri, "/api/v2/piston/connect") == 0;
}

/* Piston's WebSocket, as its other routes answer: {"message"}. */
static int gate_piston_connect(struct mg_connection *conn, struct sp_server *server)
{
	if (sp_http_ws_caller(conn, &server->config) == SP_CALLER_UNKNOWN)
		return sp_reply(conn, 401,
				json_pack("{s:s}", "message",
					  "a token is needed (Authorization: Bearer TOKEN, or "
					  "?token=)"),
				"WWW-Authenticate: Bearer\r\n");
	if (atomic_load(&server->draining))
		return sp_reply(conn, 503,
				json_pack("{s:s}", "message", "the server is shutting down"), "");
	return 0;
}

/* Before civetweb routes a request. Until every handler is registered it
 * would answer with its own HTML pages: a JSON 503 instead. A body declared
 * larger than max_body gets its 413 here, whatever the route. A WebSocket
 * upgrade without a valid token, or while draining, gets its JSON answer here
 * (civetweb's connect handler can only drop the connection). */
static int gate_request(struct mg_connection *conn)
{
	struct sp_server *server = mg_get_user_data(mg_get_context(conn));
	const struct mg_request_info *ri = mg_get_request_info(conn);
	int status;

	if (!atomic_load(&server->ready))
		return sp_reply_error(conn, 503, "starting", "the server is starting",
				      "Retry-After: 1\r\n");
	if ((status = refuse_token(conn, server)) != 0)
		return status;
	/* Whatever the route: civetweb would read all of a body no handler
	 * reads. Up to max_body is read, so that the client gets the answer. A
	 * problem package has a bound of its own, which its handler keeps. */
	if (ri->content_length > 0 && (uint64_t)ri->content_length > server->config.max_body &&
	    strcmp(ri->local_uri, "/api/v1/problems") != 0) {
		status = sp_reply_error(conn, 413, "body_too_large",
					"the request body is too large", "Connection: close\r\n");
		sp_http_conns_refused(server->conns, "body_too_large");
		sp_http_body_discard(conn, server->config.max_body);
		sp_http_close(conn);
		return status;
	}
	if (piston_connect(ri->local_uri))
		return gate_piston_connect(conn, server);
	if (strcmp(ri->local_uri, "/api/v1/ws") != 0)
		return 0;
	if (sp_http_ws_caller(conn, &server->config) == SP_CALLER_UNKNOWN)
		return sp_reply_unauthorized(conn);
	if (atomic_load(&server->draining))
		return sp_reply_error(conn, 503, "draining", "the server is shutting down", "");
	return 0;
}

/* The code of an error civetweb answers by itself, before any handler: a
 * malformed request line, a bad Content-Length, headers too large. */
static const char *http_error_code(int status)
{
	switch (status) {
	case 408:
		return "request_timeout";
	case 411:
		return "length_required";
	case 413:
	case 431:
		return "headers_too_large";
	default:
		return status >= 500 ? "internal_error" : "bad_http";
	}
}

/* civetweb's own error answers, in JSON like every other. */
static int http_error(struct mg_connection *conn, int status, const char *message)
{
	char text[128];

	/* civetweb's texts are ASCII; anything else is not quoted. */
	snprintf(text, sizeof(text), "%s", message);
	for (char *s = text; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
	}
	sp_reply_error(conn, status, http_error_code(status), text, "Connection: close\r\n");
	return 0;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_warn("civetweb: %s", message);
	return 1;
}

/* The routes every node has: its languages, health and figures, and the
 * answer to any other path; then the server is ready. */
static struct mg_context *register_status(struct mg_context *ctx, struct sp_server *server)
{
	mg_set_request_handler(ctx, "/api/v1/languages$", sp_http_languages, server);
	mg_set_request_handler(ctx, "/api/v1/workers$", sp_http_workers, server);
	mg_set_request_handler(ctx, "/healthz$", sp_http_health, server);
	mg_set_request_handler(ctx, "/metrics$", sp_http_metrics, server);
	mg_set_request_handler(ctx, "/", handle_rest, server);
	atomic_store(&server->ready, true);
	return ctx;
}

/* Judge0 callbacks pending at most: one per job that may be queued or
 * running, within reason (each waits in a thread). */
static size_t callbacks_max(const struct sp_server *server)
{
	size_t n =
	    (size_t)server->config.queue_size * server->languages.count + server->config.pool_total;

	return n < CALLBACKS_MAX ? n : CALLBACKS_MAX;
}

/* What the HTTP side holds beside civetweb, once civetweb is gone; the
 * callbacks pending are waited for (the jobs have ended by then). */
static void free_parts(struct sp_server *server)
{
	sp_http_callbacks_free(server->callbacks);
	server->callbacks = NULL;
	sp_http_conns_free(server->conns);
	server->conns = NULL;
}

/* Piston v2's paths: its HTTP API and its WebSocket. */
static void register_piston(struct mg_context *ctx, struct sp_server *server)
{
	mg_set_request_handler(ctx, "/api/v2/**$", sp_http_piston, server);
	mg_set_websocket_handler(ctx, "/api/v2/connect$", sp_http_piston_connect, sp_http_ws_ready,
				 sp_http_ws_data, sp_http_ws_close, server);
	mg_set_websocket_handler(ctx, "/api/v2/piston/connect$", sp_http_piston_connect,
				 sp_http_ws_ready, sp_http_ws_data, sp_http_ws_close, server);
}

/* Judge0 CE's paths. */
static void register_judge0(struct mg_context *ctx, struct sp_server *server)
{
	static const char *const paths[] = {
	    "/submissions$", "/submissions/**$", "/languages$",	   "/languages/**$",
	    "/statuses$",    "/about$",		 "/version$",	   "/config_info$",
	    "/system_info$", "/workers$",	 "/authenticate$", "/authorize$",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		mg_set_request_handler(ctx, paths[i], sp_http_judge0, server);
}

struct mg_context *sp_http_start(struct sp_server *server, struct sp_error *err)
{
	struct mg_callbacks callbacks = {.begin_request = gate_request,
					 .end_request = sp_http_conns_ended,
					 .init_thread = sp_http_conns_thread,
					 .init_connection = sp_http_conns_opened,
					 .connection_close = sp_http_conns_closed,
					 .log_message = log_message,
					 .http_error = http_error};
	char ports[300], threads[16], timeout[16];
	/* request_timeout_ms bounds the time to receive a request's headers,
	 * and each wait for more of its body. WebSockets leave civetweb once
	 * upgraded. */
	const char *options[] = {"listening_ports",
				 ports,
				 "num_threads",
				 threads,
				 "enable_keep_alive",
				 "yes",
				 "tcp_nodelay",
				 "1",
				 "request_timeout_ms",
				 timeout,
				 "websocket_timeout_ms",
				 "30000",
				 NULL};
	struct mg_context *ctx;
	bool v6 = strchr(server->config.listen_host, ':') != NULL;

	snprintf(ports, sizeof(ports), v6 ? "[%s]:%u" : "%s:%u", server->config.listen_host,
		 server->config.listen_port);
	if (strcmp(server->config.listen_host, "localhost") == 0)
		snprintf(ports, sizeof(ports), "127.0.0.1:%u", server->config.listen_port);
	if (v6 && mg_check_feature(8) == 0) {
		sp_error_set(err, 0, "cannot listen on %s: this civetweb has no IPv6", ports);
		return NULL;
	}
	snprintf(threads, sizeof(threads), "%u", server->config.threads);
	snprintf(timeout, sizeof(timeout), "%u000", server->config.request_timeout_s);
	server->conns = sp_http_conns_new(&server->config);
	server->callbacks = sp_http_callbacks_new(callbacks_max(server));
	if (server->conns == NULL || server->callbacks == NULL) {
		free_parts(server);
		sp_error_set(err, ENOMEM, "connections");
		return NULL;
	}
	if (sp_http_ws_start(server, err) < 0) {
		free_parts(server);
		return NULL;
	}
	ctx = mg_start(&callbacks, server, options);
	if (ctx == NULL) {
		sp_http_ws_stop(server);
		free_parts(server);
		sp_error_set(err, EADDRINUSE, "cannot listen on %s", ports);
		return NULL;
	}
	if (server->worker) /* a worker's figures only */
		return register_status(ctx, server);
	mg_set_request_handler(ctx, "/api/v1/run$", sp_http_run, server);
	mg_set_request_handler(ctx, "/api/v1/judge$", sp_http_judge, server);
	mg_set_request_handler(ctx, "/api/v1/jobs$", sp_http_jobs, server);
	mg_set_request_handler(ctx, "/api/v1/jobs/**$", sp_http_job, server);
	mg_set_request_handler(ctx, "/api/v1/problems$", sp_http_problems, server);
	mg_set_request_handler(ctx, "/api/v1/problems/**$", sp_http_problem, server);
	if (server->config.piston_api)
		register_piston(ctx, server);
	if (server->config.judge0_api)
		register_judge0(ctx, server);
	mg_set_request_handler(ctx, "/app.js$", sp_http_page, server);
	mg_set_request_handler(ctx, "/style.css$", sp_http_page, server);
	mg_set_websocket_handler(ctx, "/api/v1/ws$", sp_http_ws_connect, sp_http_ws_ready,
				 sp_http_ws_data, sp_http_ws_close, server);
	return register_status(ctx, server);
}

void sp_http_stop(struct mg_context *ctx)
{
	struct sp_server *server;

	if (ctx == NULL)
		return;
	server = mg_get_user_data(ctx);
	mg_stop(ctx);
	/* After civetweb: no connection is handed over any more. */
	sp_http_ws_stop(server);
	free_parts(server);
}
