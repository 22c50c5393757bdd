/* GET /api/v1/ws: civetweb answers the upgrade, then the connection leaves
 * it. The ready handler takes the socket (http_ws_takeover.h); civetweb's
 * read loop, left with a dummy, ends at once: its data handler keeps what
 * civetweb had read already (frames that came with the upgrade) and its close
 * handler hands the socket and those frames to the WebSocket loop
 * (http_ws_loop.h), which serves the client from then on (http_ws_api.h). */
#include <civetweb.h>
#include <stdlib.h>
#include <string.h>

#include "http_handlers.h"
#include "http_reply.h"
#include "http_ws_api.h"
#include "http_ws_frame.h"
#include "http_ws_loop.h"
#include "http_ws_takeover.h"
#include "sandbox/log.h"

/* A connection while civetweb still has it. */
struct upgrade {
	struct sp_ws_client *client;
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

int sp_http_ws_connect(const struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	int caller = sp_http_ws_caller(conn, &server->config);
	struct upgrade *u;

	if (caller == SP_CALLER_UNKNOWN || atomic_load(&server->draining))
		return 1; /* refused: civetweb answers the upgrade with an error */
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return 1;
	u->fd = -1;
	u->client = sp_ws_client_new(server, caller);
	if (u->client == NULL) {
		free(u);
		return 1;
	}
	mg_set_user_connection_data(conn, u);
	return 0;
}

void sp_http_ws_ready(struct mg_connection *conn, void *data)
{
	struct upgrade *u = mg_get_user_connection_data(conn);
	struct sp_server *server = data;
	struct sp_error err = {0};
	uint8_t close[SP_WS_CONTROL_MAX];
	size_t len;

	u->fd = sp_ws_take_socket(conn, sp_ws_loop_fds(server->ws), &err);
	if (u->fd >= 0)
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
	struct upgrade *u = mg_get_user_connection_data(conn);

	(void)cbdata;
	if (u == NULL || u->fd < 0)
		return 0; /* not taken over: close */
	return keep_early(u, bits, data, length);
}

void sp_http_ws_close(const struct mg_connection *conn, void *data)
{
	struct upgrade *u = mg_get_user_connection_data(conn);
	struct sp_server *server = data;
	struct sp_error err = {0};

	if (u == NULL)
		return;
	if (u->fd < 0 || sp_ws_loop_add(server->ws, u->fd, u->early, u->early_len,
					&sp_ws_client_handlers, u->client, &err) < 0) {
		if (u->fd >= 0)
			log_warn("websocket: %s", err.message);
		sp_ws_client_free(u->client);
	}
	free(u->early);
	free(u);
	mg_set_user_connection_data(conn, NULL);
}
