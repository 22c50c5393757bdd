/* A submission the queue refused, as every API answers it: its status and
 * headers, counted among the refusals. */
#include <civetweb.h>
#include <errno.h>
#include <stdio.h>

#include "http_conns.h"
#include "http_handlers.h"
#include "http_reply.h"
#include "server/engine/queue.h"

int sp_http_refusal(struct sp_server *server, const char *user, const struct sp_error *err,
		    char *headers, size_t size)
{
	sp_http_conns_refused(server->conns, sp_queue_refusal_code(err->errnum));
	headers[0] = '\0';
	switch (err->errnum) {
	case EAGAIN:
	case EDQUOT:
	case ENOSPC:
	case ENOBUFS:
	case ENOTCONN:
		snprintf(headers, size, "Retry-After: 1\r\n");
		return err->errnum == ENOTCONN ? 503 : 429;
	case EBUSY:
		snprintf(headers, size, "Retry-After: %u\r\n",
			 sp_queue_retry_after(server->queue, user));
		return 429;
	case E2BIG:
		return 413;
	case ECANCELED:
		return 503;
	default:
		return 500;
	}
}

int sp_http_refused(struct mg_connection *conn, struct sp_server *server, const char *user,
		    const struct sp_error *err)
{
	char headers[64];
	int status = sp_http_refusal(server, user, err, headers, sizeof(headers));

	return sp_reply_error(conn, status, sp_queue_refusal_code(err->errnum), err->message,
			      headers);
}
