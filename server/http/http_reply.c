#include "http_reply.h"

#include <civetweb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_conns.h"

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "Bad Request";
	}
}

#define REPLY_CHUNK 65536

/* An answer on its way out, in chunks of REPLY_CHUNK bytes. */
struct reply_writer {
	struct mg_connection *conn;
	size_t used;
	char buf[REPLY_CHUNK];
};

static int flush_reply(struct reply_writer *w)
{
	int n = w->used ? mg_write(w->conn, w->buf, w->used) : 0;

	w->used = 0;
	return n < 0 ? -1 : 0;
}

/* json_dump_callback's writer: append, and send whenever the buffer fills. */
static int append_reply(const char *data, size_t size, void *arg)
{
	struct reply_writer *w = arg;

	while (size > 0) {
		size_t room = sizeof(w->buf) - w->used;
		size_t n = size < room ? size : room;

		memcpy(w->buf + w->used, data, n);
		w->used += n;
		data += n;
		size -= n;
		if (w->used == sizeof(w->buf) && flush_reply(w) < 0)
			return -1;
	}
	return 0;
}

/* The headers and body leave in one write when they fit in a chunk: headers
 * and body in separate small segments would meet the client's delayed ACK
 * (40 ms per request). A large body (megabytes of output) is measured, then
 * serialized straight to the connection chunk by chunk, never held whole. */
int sp_reply(struct mg_connection *conn, int status, json_t *obj, const char *extra)
{
	size_t body_len = obj ? json_dumpb(obj, NULL, 0, JSON_COMPACT) : 0;
	struct reply_writer *w = malloc(sizeof(*w));
	struct sp_body_watch *watch;
	int head_len;

	if (w == NULL || (obj != NULL && body_len == 0)) {
		json_decref(obj);
		free(w);
		mg_printf(conn, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
		return 500;
	}
	w->conn = conn;
	head_len = snprintf(w->buf, sizeof(w->buf),
			    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n",
			    status, reason(status), body_len + 1, extra);
	w->used = head_len > 0 && (size_t)head_len < sizeof(w->buf) ? (size_t)head_len : 0;
	/* more than a chunk: the client must take it at body_min_rate_kb */
	watch = body_len >= REPLY_CHUNK ? sp_http_conns_watch_reply(conn, body_len) : NULL;
	if (obj == NULL || json_dump_callback(obj, append_reply, w, JSON_COMPACT) == 0)
		append_reply("\n", 1, w);
	flush_reply(w);
	if (watch != NULL)
		sp_http_conns_unwatch_body(conn, watch);
	json_decref(obj);
	free(w);
	return status;
}

int sp_reply_error(struct mg_connection *conn, int status, const char *code, const char *message,
		   const char *extra)
{
	json_t *obj = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);

	return sp_reply(conn, status, obj, extra);
}

int sp_reply_unauthorized(struct mg_connection *conn)
{
	return sp_reply_error(conn, 401, "unauthorized", "a valid Bearer token is required",
			      "WWW-Authenticate: Bearer\r\n");
}

int sp_http_token_match(const struct sp_config *config, const char *given)
{
	size_t len = strlen(given);
	int found = -1;

	/* Every token is compared in full, whatever matched before. */
	for (unsigned i = 0; i < config->token_count; i++) {
		const char *token = config->tokens[i];
		size_t tlen = strlen(token);
		unsigned char diff = (unsigned char)(len != tlen);

		for (size_t j = 0; j < tlen; j++)
			diff |= (unsigned char)(token[j] ^ (j < len ? given[j] : 0));
		if (diff == 0)
			found = (int)i;
	}
	return found;
}

bool sp_http_token_ok(const struct sp_config *config, const char *header)
{
	static const char prefix[] = "Bearer ";

	if (header == NULL || strncmp(header, prefix, sizeof(prefix) - 1) != 0)
		return false;
	return sp_http_token_match(config, header + sizeof(prefix) - 1) >= 0;
}

int sp_http_caller(struct mg_connection *conn, const struct sp_config *config)
{
	static const char prefix[] = "Bearer ";
	const char *header = mg_get_header(conn, "Authorization");
	int i;

	if (config->token_count == 0)
		return SP_CALLER_ANYONE;
	if (header == NULL || strncmp(header, prefix, sizeof(prefix) - 1) != 0)
		return SP_CALLER_UNKNOWN;
	i = sp_http_token_match(config, header + sizeof(prefix) - 1);
	return i >= 0 ? i : SP_CALLER_UNKNOWN;
}

bool sp_http_authorized(struct mg_connection *conn, const struct sp_config *config)
{
	return sp_http_caller(conn, config) != SP_CALLER_UNKNOWN;
}

bool sp_http_discard_body(struct mg_connection *conn, uint64_t max)
{
	char buf[4096];
	uint64_t total = 0;
	int n;

	while ((n = mg_read(conn, buf, sizeof(buf))) > 0) {
		total += (uint64_t)n;
		if (total > max)
			return false;
	}
	return n == 0;
}

void sp_http_close(struct mg_connection *conn)
{
	/* On a server's connection, civetweb closes the socket and marks the
	 * connection done: its worker skips the rest of the body, and ends. */
	mg_close_connection(conn);
}
