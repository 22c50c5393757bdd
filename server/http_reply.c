#include "http_reply.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The answer goes out in one write: headers and body in separate small
 * segments would meet the client's delayed ACK (40 ms per request). */
int sp_reply(struct mg_connection *conn, int status, json_t *obj, const char *extra)
{
	char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t len = body ? strlen(body) : 0;
	char *text = NULL;
	int n;

	json_decref(obj);
	n = asprintf(&text,
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		     "Cache-Control: no-store\r\n%s\r\n%s\n",
		     status, reason(status), len + 1, extra, body ? body : "");
	free(body);
	if (n < 0) {
		mg_printf(conn, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
		return 500;
	}
	mg_write(conn, text, (size_t)n);
	free(text);
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

char *sp_http_read_body(struct mg_connection *conn, uint64_t max, size_t *length, bool *too_large)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	size_t cap = 65536, used = 0;
	char *buf;

	*too_large = ri->content_length > 0 && (uint64_t)ri->content_length > max;
	if (*too_large)
		return NULL;
	buf = malloc(cap + 1);
	while (buf != NULL) {
		int n;

		if (used == cap) {
			char *grown = used >= max + 1 ? NULL : realloc(buf, cap * 2 + 1);

			if (grown == NULL)
				break;
			buf = grown;
			cap *= 2;
		}
		n = mg_read(conn, buf + used, cap - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used > max) {
			*too_large = true;
			break;
		}
	}
	/* Cut short: the client stalled past request_timeout_s, or closed. */
	if (ri->content_length >= 0 && used < (uint64_t)ri->content_length) {
		free(buf);
		return NULL;
	}
	if (buf == NULL || *too_large) {
		free(buf);
		return NULL;
	}
	buf[used] = '\0';
	*length = used;
	return buf;
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
