#include "http_body.h"

#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_conns.h"
#include "http_deadline.h"
#include "http_handlers.h"
#include "http_reply.h"
#include "sandbox/base/read_all.h"
#include "server/engine/queue.h"
#include "server/job/request.h"

/* What a body being written to its file is read in. */
#define CHUNK (64 * 1024)

/* Hold or let go what BODY holds so that it holds WANT. */
static int hold(struct sp_server *server, struct sp_http_body *body, uint64_t want,
		struct sp_error *err)
{
	if (want > body->held &&
	    sp_queue_hold(server->queue, &body->holder, want - body->held, err) < 0)
		return -1;
	if (want < body->held)
		sp_queue_unhold(server->queue, &body->holder, body->held - want);
	body->held = want;
	return 0;
}

/* What a buffer of CAPACITY bytes holds. */
static uint64_t buffer_hold(uint64_t capacity)
{
	return capacity > SP_HTTP_BODY_FREE ? capacity - SP_HTTP_BODY_FREE : 0;
}

/* Room for at least one byte more in memory, and a NUL (the buffer grows
 * twice as large, up to WANT bytes and the NUL). */
static enum sp_http_body_status grow(struct sp_server *server, struct sp_http_body *body,
				     uint64_t want, struct sp_error *err)
{
	uint64_t cap = body->capacity ? body->capacity * 2 : SP_HTTP_BODY_FREE;
	char *data;

	if (body->length + 1 < body->capacity)
		return SP_BODY_READ;
	if (cap > want + 1)
		cap = want + 1;
	if (cap <= body->length)
		cap = body->length + 1;
	if (hold(server, body, buffer_hold(cap), err) < 0)
		return SP_BODY_NO_ROOM;
	data = realloc(body->data, cap);
	if (data == NULL)
		return sp_error_set(err, ENOMEM, "the body"), SP_BODY_FAILED;
	body->data = data;
	body->capacity = cap;
	return SP_BODY_READ;
}

/* From now on the body goes into a file of the inputs directory: what came
 * so far first. */
static enum sp_http_body_status to_file(struct sp_server *server, struct sp_http_body *body,
					struct sp_error *err)
{
	body->fd = open(server->config.inputs_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (body->fd < 0)
		return sp_error_set(err, errno, "a file for the body"), SP_BODY_FAILED;
	if (sp_write_all(body->fd, body->data, body->length) < 0)
		return sp_error_set(err, errno, "write the body"), SP_BODY_FAILED;
	free(body->data);
	body->data = NULL;
	body->capacity = 0;
	hold(server, body, 0, err);
	return SP_BODY_READ;
}

/* Is the body too large to be kept in memory (LENGTH so far, DECLARED)? */
static bool goes_to_file(const struct sp_server *server, uint64_t length, int64_t declared)
{
	return server->config.inputs_dir[0] != '\0' &&
	       (length > SP_HTTP_BODY_MEMORY || declared > SP_HTTP_BODY_MEMORY);
}

/* N bytes more have come into BUF (in memory: at its end). */
static enum sp_http_body_status took(struct sp_server *server, struct sp_http_body *body,
				     const char *buf, size_t n, int64_t declared,
				     struct sp_error *err)
{
	sp_json_scan_feed(&body->scan, buf, n);
	body->length += n;
	if (body->length > server->config.max_body)
		return SP_BODY_TOO_LARGE;
	/* too deep: the parser says so before it builds anything */
	if (body->scan.max_depth <= SP_REQUEST_MAX_DEPTH &&
	    body->scan.values > sp_request_max_values(&server->config))
		return SP_BODY_TOO_MANY;
	if (body->fd >= 0 && sp_write_all(body->fd, buf, n) < 0)
		return sp_error_set(err, errno, "write the body"), SP_BODY_FAILED;
	if (body->fd < 0 && goes_to_file(server, body->length, declared))
		return to_file(server, body, err);
	return SP_BODY_READ;
}

/* Read the rest of the body into memory or its file, telling W. */
static enum sp_http_body_status read_all(struct mg_connection *conn, struct sp_server *server,
					 struct sp_http_body *body, char *chunk,
					 struct sp_body_watch *w, struct sp_error *err)
{
	int64_t declared = mg_get_request_info(conn)->content_length;
	uint64_t want = declared >= 0 ? (uint64_t)declared : server->config.max_body + 1;
	enum sp_http_body_status st = SP_BODY_READ;
	int n;

	if (goes_to_file(server, 0, declared) && (st = to_file(server, body, err)) != SP_BODY_READ)
		return st;
	for (;;) {
		char *dst = chunk;
		size_t room = CHUNK;

		if (body->fd < 0) {
			if ((st = grow(server, body, want, err)) != SP_BODY_READ)
				return st;
			dst = body->data + body->length;
			room = body->capacity - body->length - 1;
		}
		n = room > 0 ? mg_read(conn, dst, room) : 0;
		if (n <= 0)
			break;
		if ((st = took(server, body, dst, (size_t)n, declared, err)) != SP_BODY_READ)
			return st;
		sp_http_deadline_progress(w, body->length);
	}
	/* cut short: the client stalled past request_timeout_s, or closed (a
	 * chunked body ends where its chunks stop making sense) */
	if (declared >= 0 && body->length < (uint64_t)declared)
		return SP_BODY_SHORT;
	return SP_BODY_READ;
}

/* The holder of CONN's body: its address, and its token when the server
 * has several. */
static void holder_of(struct mg_connection *conn, const struct sp_server *server,
		      struct sp_http_body *body)
{
	snprintf(body->address, sizeof(body->address), "%s",
		 mg_get_request_info(conn)->remote_addr);
	body->holder = (struct sp_bytes_holder){
	    .token = server->config.token_count > 1 ? sp_http_caller(conn, &server->config) : -1,
	    .address = body->address};
}

/* read_all, under the body's deadline. */
static enum sp_http_body_status watched_read(struct mg_connection *conn, struct sp_server *server,
					     struct sp_http_body *body, char *chunk,
					     struct sp_error *err)
{
	struct sp_body_watch *w =
	    sp_http_conns_watch_body(conn, mg_get_request_info(conn)->content_length);
	enum sp_http_body_status st = read_all(conn, server, body, chunk, w, err);

	if (sp_http_conns_unwatch_body(conn, w) && st != SP_BODY_TOO_LARGE &&
	    st != SP_BODY_TOO_MANY)
		return SP_BODY_SLOW;
	return st;
}

enum sp_http_body_status sp_http_body_read(struct mg_connection *conn, struct sp_server *server,
					   struct sp_http_body *body, struct sp_error *err)
{
	int64_t declared = mg_get_request_info(conn)->content_length;
	char *chunk = malloc(CHUNK);
	enum sp_http_body_status st;
	uint64_t values;

	memset(body, 0, sizeof(*body));
	body->fd = -1;
	sp_json_scan_init(&body->scan);
	holder_of(conn, server, body);
	if (declared > 0 && (uint64_t)declared > server->config.max_body)
		st = SP_BODY_TOO_LARGE;
	else if (chunk == NULL)
		st = (sp_error_set(err, ENOMEM, "the body"), SP_BODY_FAILED);
	else
		st = watched_read(conn, server, body, chunk, err);
	free(chunk);
	if (st != SP_BODY_READ)
		return st;
	if (body->data != NULL)
		body->data[body->length] = '\0';
	values = body->scan.values;
	/* the parser builds no more values than it may hold */
	if (values > sp_request_max_values(&server->config))
		values = sp_request_max_values(&server->config);
	if (hold(server, body, sp_request_parse_bytes(body->length, values, body->data != NULL),
		 err) < 0)
		return SP_BODY_NO_ROOM;
	return SP_BODY_READ;
}

bool sp_http_body_discard(struct mg_connection *conn, uint64_t max)
{
	int64_t declared = mg_get_request_info(conn)->content_length;
	struct sp_body_watch *w = sp_http_conns_watch_body(
	    conn, declared < 0 || (uint64_t)declared > max ? (int64_t)max : declared);
	bool read = sp_http_discard_body(conn, max);

	return !sp_http_conns_unwatch_body(conn, w) && read;
}

void sp_http_body_parsed(struct sp_server *server, struct sp_http_body *body)
{
	struct sp_error ignored = {0};

	hold(server, body, 0, &ignored);
}

void sp_http_body_free(struct sp_server *server, struct sp_http_body *body)
{
	struct sp_error ignored = {0};

	hold(server, body, 0, &ignored);
	free(body->data);
	if (body->fd >= 0)
		close(body->fd);
	body->data = NULL;
	body->fd = -1;
}

void sp_http_body_failure(struct sp_server *server, enum sp_http_body_status status,
			  const struct sp_error *err, struct sp_http_body_failure *out)
{
	*out = (struct sp_http_body_failure){.status = 500, .code = "internal_error"};
	snprintf(out->message, sizeof(out->message), "%s", err->message);
	switch (status) {
	case SP_BODY_TOO_LARGE:
	case SP_BODY_TOO_MANY:
		*out = (struct sp_http_body_failure){
		    .status = 413, .code = "body_too_large", .discard = true};
		if (status == SP_BODY_TOO_LARGE)
			snprintf(out->message, sizeof(out->message),
				 "the request body is too large");
		else
			snprintf(out->message, sizeof(out->message),
				 "the body holds more than %llu JSON values",
				 (unsigned long long)sp_request_max_values(&server->config));
		break;
	case SP_BODY_SLOW:
		*out = (struct sp_http_body_failure){.status = 408, .code = "request_timeout"};
		snprintf(out->message, sizeof(out->message),
			 "the body came slower than %u KiB/s after request_timeout_s "
			 "(body_min_rate_kb)",
			 server->config.body_min_rate_kb);
		break;
	case SP_BODY_SHORT:
		*out = (struct sp_http_body_failure){.status = 408, .code = "request_timeout"};
		snprintf(out->message, sizeof(out->message),
			 "the body stopped short of its Content-Length: it must arrive "
			 "without a pause of request_timeout_s");
		break;
	case SP_BODY_NO_ROOM:
		out->status =
		    sp_http_refusal(server, NULL, err, out->headers, sizeof(out->headers));
		out->code = sp_queue_refusal_code(err->errnum);
		return;
	default:
		return;
	}
	sp_http_conns_refused(server->conns, out->code);
	snprintf(out->headers, sizeof(out->headers), "Connection: close\r\n");
}
