/* A request body on its way to the request parser, and the memory it holds
 * in the queue meanwhile (job_bytes.h).
 *
 * A body of up to SP_HTTP_BODY_MEMORY bytes is read into memory; a larger
 * one goes into an unnamed file of the inputs directory as it comes (not
 * memory), and jansson reads it from there. Its shape (depth, JSON values)
 * is measured as it comes. While it is read, a body holds what its buffer
 * takes beyond the first SP_HTTP_BODY_FREE bytes (which every thread may
 * take: memory_plan.h), so a client that sends slowly holds only what it
 * sent; once read, it holds what parsing it may take
 * (sp_request_parse_bytes), until sp_http_body_free. It must come at
 * body_min_rate_kb on average (http_conns.h). */
#ifndef SANDPOOL_HTTP_BODY_H
#define SANDPOOL_HTTP_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/base/error.h"
#include "server/engine/job_bytes.h"
#include "server/engine/server.h"
#include "server/job/json_depth.h"

struct mg_connection;

#define SP_HTTP_BODY_MEMORY (1024 * 1024)
#define SP_HTTP_BODY_FREE   (64 * 1024)

struct sp_http_body {
	char *data; /* the body in memory, or NULL: */
	int fd;	    /* in this file, from its start */
	uint64_t length;
	uint64_t capacity; /* of data */
	struct sp_json_scan scan;
	uint64_t held; /* in the queue */
	struct sp_bytes_holder holder;
	char address[64];
};

enum sp_http_body_status {
	SP_BODY_READ,	   /* all of it is there, and its parse is held for */
	SP_BODY_TOO_LARGE, /* over max_body: the rest is not read */
	SP_BODY_TOO_MANY,  /* more JSON values than sp_request_max_values: the same */
	SP_BODY_SHORT,	   /* it stopped short of its Content-Length, or closed */
	SP_BODY_SLOW,	   /* it came slower than body_min_rate_kb: cut */
	SP_BODY_NO_ROOM,   /* the queue refused the memory: ERR as sp_queue_hold's */
	SP_BODY_FAILED,	   /* out of memory, or the file failed: ERR */
};

/* Read the body of CONN. BODY is to be freed whatever the status. */
enum sp_http_body_status sp_http_body_read(struct mg_connection *conn, struct sp_server *server,
					   struct sp_http_body *body, struct sp_error *err);

/* Read and drop what is left of CONN's body, up to MAX bytes, against the
 * same deadline; as sp_http_discard_body. */
bool sp_http_body_discard(struct mg_connection *conn, uint64_t max);

/* BODY parsed: what it holds in the queue goes (its job holds its own), its
 * text stays until freed (a queue that ships jobs sends it). */
void sp_http_body_parsed(struct sp_server *server, struct sp_http_body *body);

/* Why a body was not read (STATUS, not SP_BODY_READ; ERR as
 * sp_http_body_read gave it), for each API to answer in its own shape;
 * counted among the refusals. After the answer, the caller discards what is
 * left of the body when OUT says so, and ends the connection
 * (sp_http_close). */
struct sp_http_body_failure {
	int status;				 /* 413, 408, 429, 503, 500 */
	const char *code;			 /* sandpool's error code: "body_too_large"... */
	char message[SP_ERROR_MESSAGE_MAX + 64]; /* what to tell the client */
	char headers[64];			 /* Retry-After, Connection: close */
	bool discard;				 /* what is left of the body is read and dropped */
};

void sp_http_body_failure(struct sp_server *server, enum sp_http_body_status status,
			  const struct sp_error *err, struct sp_http_body_failure *out);

/* Let go of the body and of what it holds. */
void sp_http_body_free(struct sp_server *server, struct sp_http_body *body);

#endif
