/* GET /api/v1/ws: civetweb answers the upgrade, then the connection leaves
 * it. The ready handler takes the socket (http_ws_takeover.h); civetweb's
 * read loop, left with a dummy, ends at once: its data handler keeps what
 * civetweb had read already (frames that came with the upgrade) and its close
 * handler hands the socket and those frames to the WebSocket loop
 * (http_ws_loop.h), which serves the client from then on (http_ws_api.h). */
#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "http_handlers.h"
#include "http_reply.h"
#include "http_ws_admit.h"
#include "http_ws_api.h"
#include "http_ws_frame.h"
#include "http_ws_loop.h"
#include "http_ws_piston.h"
#include "http_ws_takeover.h"
#include "http_ws_upgrades.h"
#include "sandbox/base/log.h"
#include "server/job/base64.h"

/* A refused upgrade may try again this much later: places free up as
 * clients leave, at no time anyone can tell. */
#define RETRY_AFTER "Retry-After: 5\r\n"

/* A connection while civetweb still has it (the upgrades under way:
 * http_ws_upgrades.h). */
struct upgrade {
	void *client; /* served by HANDLERS */
	const struct sp_ws_handlers *handlers;
	int fd;		/* taken from civetweb, or -1 */
	uint8_t *early; /* frames civetweb read before it let go */
	size_t early_len;
};

/* The token: an Authorization header, or ?token= (browsers cannot set
 * headers on a WebSocket). */
int sp_http_ws_caller(const struct mg_connection *conn, const struct sp_config *config)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char token[300];
	int caller = sp_http_caller((struct mg_connection *)conn, config);

	if (caller != SP_CALLER_UNKNOWN || ri->query_string == NULL)
		return caller;
	if (mg_get_var(ri->query_string, strlen(ri->query_string), "token", token, sizeof(token)) <=
	    0)
		return SP_CALLER_UNKNOWN;
	caller = sp_http_token_match(config, token);
	return caller >= 0 ? caller : SP_CALLER_UNKNOWN;
}

/* Refused before civetweb's 101, with a JSON answer (civetweb leaves the
 * connection alone when the connect handler says no). */
static int refuse(const struct mg_connection *conn, int status, const char *code,
		  const char *message, const char *extra)
{
	sp_reply_error((struct mg_connection *)conn, status, code, message, extra);
	return 1;
}

static int refuse_place(const struct mg_connection *conn, const struct sp_ws_admit *admit,
			enum sp_ws_refusal why)
{
	const struct sp_ws_caps *caps = sp_ws_admit_caps(admit);
	char message[200];

	switch (why) {
	case SP_WS_NO_DESCRIPTORS:
		snprintf(message, sizeof(message),
			 "the server holds as many WebSockets as its open files limit leaves "
			 "room for (%u); try again later",
			 caps->descriptors);
		return refuse(conn, 503, "ws_full", message, RETRY_AFTER);
	case SP_WS_ADDRESS_FULL:
		snprintf(message, sizeof(message),
			 "this client address holds %u WebSockets already (ws_max_per_address)",
			 caps->per_address);
		return refuse(conn, 429, "ws_address_limit", message, RETRY_AFTER);
	case SP_WS_TOKEN_FULL:
		snprintf(message, sizeof(message),
			 "this token holds %u WebSockets already (ws_max_per_token)",
			 caps->per_token);
		return refuse(conn, 429, "ws_token_limit", message, RETRY_AFTER);
	default:
		snprintf(message, sizeof(message),
			 "the server holds as many WebSockets as it may (ws_max_connections, %u); "
			 "try again later",
			 caps->total);
		return refuse(conn, 503, "ws_full", message, RETRY_AFTER);
	}
}

/* RFC 6455 4.2.1: 16 bytes in base64. (civetweb 1.15 would fail its
 * handshake on a key of 64 characters or more without calling the close
 * handler: a place taken here would never be given back.) */
static bool key_ok(const char *key)
{
	size_t len = 0;
	unsigned char *bytes = key ? sp_base64_decode(key, strlen(key), &len) : NULL;

	free(bytes);
	return bytes != NULL && len == 16;
}

/* A client of its own for a connection that has its place: of /api/v1/ws,
 * or of Piston's /api/v2/connect. */
static int admit(const struct mg_connection *conn, struct sp_server *server, int caller,
		 struct sp_ws_place *place, bool piston)
{
	struct upgrade *u = calloc(1, sizeof(*u));
	const char *address = mg_get_request_info(conn)->remote_addr;

	if (u != NULL && piston) {
		u->client = sp_ws_piston_new(server, caller, address, place);
		u->handlers = &sp_ws_piston_handlers;
	} else if (u != NULL) {
		u->client = sp_ws_client_new(server, caller, address, place);
		u->handlers = &sp_ws_client_handlers;
	}
	if (u == NULL || u->client == NULL) {
		free(u);
		sp_ws_admit_give_back(server->ws_admit, place);
		return refuse(conn, 503, "internal_error", "out of memory", RETRY_AFTER);
	}
	u->fd = -1;
	if (sp_ws_upgrades_add(server->ws_pending, conn, u) < 0) {
		u->handlers->closed(u->client); /* gives the place back */
		free(u);
		return refuse(conn, 503, "internal_error", "out of memory", RETRY_AFTER);
	}
	return 0;
}

static int connect_as(const struct mg_connection *conn, struct sp_server *server, bool piston)
{
	int caller = sp_http_ws_caller(conn, &server->config);
	struct sp_ws_place place;
	enum sp_ws_refusal why;

	/* gate_request answered these; here only for a race with them */
	if (caller == SP_CALLER_UNKNOWN) {
		sp_reply_unauthorized((struct mg_connection *)conn);
		return 1;
	}
	if (atomic_load(&server->draining))
		return refuse(conn, 503, "draining", "the server is shutting down", "");
	if (!key_ok(mg_get_header(conn, "Sec-WebSocket-Key")))
		return refuse(conn, 400, "bad_request",
			      "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455)", "");
	why = sp_ws_admit_take(server->ws_admit, mg_get_request_info(conn)->remote_addr, caller,
			       &place);
	if (why != SP_WS_ADMITTED)
		return refuse_place(conn, server->ws_admit, why);
	return admit(conn, server, caller, &place, piston);
}

int sp_http_ws_connect(const struct mg_connection *conn, void *data)
{
	return connect_as(conn, data, false);
}

int sp_http_piston_connect(const struct mg_connection *conn, void *data)
{
	return connect_as(conn, data, true);
}

void sp_http_ws_ready(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	struct upgrade *u = sp_ws_upgrades_find(server->ws_pending, conn);
	struct sp_error err = {0};
	uint8_t close[SP_WS_CONTROL_MAX];
	size_t len;

	if (u != NULL)
		u->fd = sp_ws_take_socket(conn, sp_ws_loop_fds(server->ws), &err);
	if (u != NULL && u->fd >= 0)
		return;
	/* Never seen; never half served either: civetweb closes it. */
	log_error("websocket: %s", err.message);
	len = sp_ws_close_payload(close, SP_WS_INTERNAL_ERROR, "cannot serve this connection");
	mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, (const char *)close, len);
}

/* A frame civetweb read before it let go: kept as the client sent it (with
 * a zero mask) for the loop to read first. */
static int keep_early(struct upgrade *u, int bits, const char *data, size_t length)
{
	uint8_t head[SP_WS_HEADER_MAX];
	size_t n = sp_ws_header(head, SP_WS_CONTINUATION, length);
	uint8_t *grown = realloc(u->early, u->early_len + n + 4 + length);

	if (grown == NULL)
		return 0;
	head[0] = (uint8_t)bits;
	head[1] |= 0x80;
	memset(head + n, 0, 4);
	u->early = grown;
	memcpy(u->early + u->early_len, head, n + 4);
	memcpy(u->early + u->early_len + n + 4, data, length);
	u->early_len += n + 4 + length;
	return 1;
}

int sp_http_ws_data(struct mg_connection *conn, int bits, char *data, size_t length, void *cbdata)
{
	struct sp_server *server = cbdata;
	struct upgrade *u = sp_ws_upgrades_find(server->ws_pending, conn);

	if (u == NULL || u->fd < 0)
		return 0; /* not taken over: close */
	return keep_early(u, bits, data, length);
}

void sp_http_ws_close(const struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	struct upgrade *u = sp_ws_upgrades_take(server->ws_pending, conn);
	struct sp_error err = {0};

	if (u == NULL)
		return;
	if (u->fd < 0 || sp_ws_loop_add(server->ws, u->fd, u->early, u->early_len, u->handlers,
					u->client, &err) < 0) {
		if (u->fd >= 0)
			log_warn("websocket: %s", err.message);
		u->handlers->closed(u->client);
	}
	free(u->early);
	free(u);
}

/* --- the WebSocket side of the server ------------------------------------- */

/* The caps, with what the open files limit leaves room for (the server
 * raised its soft limit to the hard one at its start). */
static int start_admit(struct sp_server *server, struct sp_error *err)
{
	struct rlimit rl = {.rlim_cur = 1024};
	unsigned cells = 0;
	struct sp_ws_caps caps = {
	    .total = server->config.ws_max_connections,
	    .per_address = server->config.ws_max_per_address,
	    .tokens = server->config.token_count,
	};

	for (size_t i = 0; i < server->languages.count; i++)
		cells += server->served[i].capacity;
	getrlimit(RLIMIT_NOFILE, &rl);
	caps.descriptors = sp_ws_descriptor_room(
	    rl.rlim_cur, sp_ws_reserved_descriptors(server->config.threads, cells));
	caps.per_token =
	    sp_ws_token_cap(server->config.ws_max_per_token, caps.tokens,
			    caps.total < caps.descriptors ? caps.total : caps.descriptors);
	if (caps.descriptors < caps.total)
		fprintf(
		    stderr,
		    "sandpool serve: WebSockets: at most %u open, not %u (ws_max_connections): "
		    "the open files limit (%llu) leaves room for no more; raise its hard limit\n",
		    caps.descriptors, caps.total, (unsigned long long)rl.rlim_cur);
	else
		fprintf(stderr,
			"sandpool serve: WebSockets: at most %u open (the open files limit, %llu, "
			"leaves room for %u), %u per client address, %u per token (0: none)\n",
			caps.total, (unsigned long long)rl.rlim_cur, caps.descriptors,
			caps.per_address, caps.per_token);
	return sp_ws_admit_new(&server->ws_admit, &caps, err);
}

int sp_http_ws_start(struct sp_server *server, struct sp_error *err)
{
	struct sp_ws_limits limits = {
	    .max_message = server->config.ws_max_frame,
	    .max_backlog = server->config.ws_max_backlog,
	    .stall_ms = server->config.ws_stall_timeout_s * 1000,
	    .ping_interval_ms = server->config.ws_ping_interval_s * 1000,
	    .ping_timeout_ms = server->config.ws_ping_timeout_s * 1000,
	    .idle_ms = server->config.ws_idle_timeout_s * 1000,
	};

	server->ws_pending = sp_ws_upgrades_new();
	if (server->ws_pending == NULL) {
		sp_error_set(err, ENOMEM, "websocket upgrades");
		return -1;
	}
	if (start_admit(server, err) < 0 || sp_ws_loop_start(&server->ws, &limits, err) < 0) {
		sp_http_ws_stop(server);
		return -1;
	}
	return 0;
}

void sp_http_ws_stop(struct sp_server *server)
{
	sp_ws_loop_stop(server->ws);
	server->ws = NULL;
	sp_ws_admit_free(server->ws_admit);
	server->ws_admit = NULL;
	sp_ws_upgrades_free(server->ws_pending);
	server->ws_pending = NULL;
}
