/* Piston v2's API (/api/v2) on the same queue, cells, limits and tokens as
 * /api/v1: GET /api/v2/runtimes, POST /api/v2/execute, and the same under
 * /api/v2/piston/ (the paths the npm piston-client uses for the public
 * instance). Errors in Piston's shape: {"message"}. */
#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http_body.h"
#include "http_conns.h"
#include "http_handlers.h"
#include "http_reply.h"
#include "server/engine/queue.h"
#include "server/job/piston.h"
#include "server/job/request.h"

static int message(struct mg_connection *conn, int status, const char *text, const char *extra)
{
	return sp_reply(conn, status, json_pack("{s:s}", "message", text), extra);
}

/* Answer before the body is read: read it first, as /api/v1 does. */
static int refuse(struct mg_connection *conn, const struct sp_server *server, int status,
		  const char *text, const char *extra)
{
	bool read = sp_http_body_discard(conn, server->config.max_body);
	int rc = message(conn, status, text, extra);

	if (!read)
		sp_http_close(conn);
	return rc;
}

/* A job refused by the queue (ERR): the status /api/v1 gives, in Piston's
 * words. */
static int refused(struct mg_connection *conn, struct sp_server *server, const struct sp_error *err)
{
	char headers[64];
	int status = sp_http_refusal(server, NULL, err, headers, sizeof(headers));

	return message(conn, status, err->message, headers);
}

/* A body that could not be read whole. */
static int unread(struct mg_connection *conn, struct sp_server *server,
		  enum sp_http_body_status status, const struct sp_error *err)
{
	struct sp_http_body_failure f;
	int rc;

	sp_http_body_failure(server, status, err, &f);
	rc = message(conn, f.status, f.message, f.headers);
	if (f.discard)
		sp_http_body_discard(conn, server->config.max_body);
	sp_http_close(conn);
	return rc;
}

/* Piston takes JSON only (415 else); its npm client sends JSON as
 * text/plain, which is taken too. */
static bool json_body(const struct mg_connection *conn)
{
	const char *type = mg_get_header(conn, "Content-Type");

	return type == NULL || strncasecmp(type, "application/json", 16) == 0 ||
	       strncasecmp(type, "text/plain", 10) == 0;
}

static json_t *load_body(const struct sp_http_body *body, json_error_t *jerr)
{
	if (body->data != NULL)
		return json_loadb(body->data, body->length, JSON_REJECT_DUPLICATES, jerr);
	if (lseek(body->fd, 0, SEEK_SET) < 0)
		return NULL;
	return json_loadfd(body->fd, JSON_REJECT_DUPLICATES, jerr);
}

/* The execute body as a sandpool request: *TEXT (its JSON, for a queue that
 * ships jobs) parsed into REQ. Returns 0, or the status it answered. */
static int request_of(struct mg_connection *conn, struct sp_server *server,
		      const struct sp_http_body *body, const struct sp_language **language,
		      char **text, struct sp_request *req)
{
	char why[SP_PISTON_MESSAGE_MAX];
	struct sp_request_failure fail = {0};
	json_error_t jerr;
	json_t *doc = load_body(body, &jerr), *translated;

	*text = NULL;
	if (doc == NULL) {
		snprintf(why, sizeof(why), "invalid JSON: %s", jerr.text);
		return message(conn, 400, why, "");
	}
	translated = sp_piston_request(doc, &server->languages, &server->config, language, why);
	json_decref(doc);
	if (translated == NULL)
		return message(conn, why[0] ? 400 : 500, why[0] ? why : "out of memory", "");
	*text = json_dumps(translated, JSON_COMPACT);
	json_decref(translated);
	if (*text == NULL)
		return message(conn, 500, "out of memory", "");
	if (sp_request_parse_as(*text, strlen(*text), &server->languages, &server->config,
				SP_REQUEST_RUN, req, &fail) < 0) {
		free(*text);
		*text = NULL;
		return message(conn, fail.http_status >= 500 ? 500 : 400, fail.message, "");
	}
	return 0;
}

/* The answer of the job ID, waited for, in Piston's shape. */
static int answer(struct mg_connection *conn, struct sp_server *server, const char *id,
		  const struct sp_language *language)
{
	enum sp_job_end end = SP_JOB_FINISHED;
	struct sp_error err = {0};
	json_t *result = NULL, *piston;
	const char *error;

	sp_queue_wait(server->queue, id);
	if (sp_queue_result(server->queue, id, sp_http_caller(conn, &server->config), &result, &end,
			    &err) < 0)
		end = SP_JOB_LOST;
	if (end == SP_JOB_EXPIRED || end == SP_JOB_SHUTDOWN || end == SP_JOB_LOST ||
	    result == NULL) {
		json_decref(result);
		return end == SP_JOB_EXPIRED
			   ? message(conn, 429, "no cell was free within the queue timeout",
				     "Retry-After: 1\r\n")
			   : message(conn, 503, "the job's result could not be had",
				     "Retry-After: 1\r\n");
	}
	error = json_string_value(json_object_get(result, "error"));
	if (json_is_null(json_object_get(result, "run")) &&
	    json_is_null(json_object_get(result, "compile"))) {
		int rc = message(conn, 500, error ? error : "the job did not run", "");

		json_decref(result);
		return rc;
	}
	piston = sp_piston_answer(result, language);
	json_decref(result);
	return piston ? sp_reply(conn, 200, piston, "") : message(conn, 500, "out of memory", "");
}

static int execute(struct mg_connection *conn, struct sp_server *server)
{
	const struct sp_language *language = NULL;
	struct sp_queue_order order;
	struct sp_http_body body;
	struct sp_error err = {0};
	struct sp_request req;
	char id[SP_QUEUE_ID_SIZE], *text;
	enum sp_http_body_status st;
	int rc;

	if (!json_body(conn))
		return refuse(conn, server, 415, "requests must be of type application/json", "");
	if ((st = sp_http_body_read(conn, server, &body, &err)) != SP_BODY_READ) {
		sp_http_body_free(server, &body);
		return unread(conn, server, st, &err);
	}
	rc = request_of(conn, server, &body, &language, &text, &req);
	sp_http_body_free(server, &body);
	if (rc != 0)
		return rc;
	sp_http_order_of(conn, server, &req, false, &order);
	order.body = text;
	order.body_length = strlen(text);
	rc = sp_queue_submit(server->queue, &req, sp_server_language_index(server, req.language),
			     &order, id, &err);
	sp_request_free(&req);
	free(text);
	if (rc < 0)
		return refused(conn, server, &err);
	rc = answer(conn, server, id, language);
	sp_queue_release(server->queue, id);
	return rc;
}

static bool route(const char *uri, const char *what)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "/api/v2/%s", what);
	snprintf(b, sizeof(b), "/api/v2/piston/%s", what);
	return strcmp(uri, a) == 0 || strcmp(uri, b) == 0;
}

int sp_http_piston(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	bool post = strcmp(ri->request_method, "POST") == 0;

	if (!sp_http_authorized(conn, &server->config))
		return refuse(conn, server, 401, "a token is needed (Authorization: Bearer TOKEN)",
			      "WWW-Authenticate: Bearer\r\n");
	if (route(ri->local_uri, "runtimes") && strcmp(ri->request_method, "GET") == 0)
		return sp_reply(conn, 200, sp_piston_runtimes(&server->languages), "");
	if (route(ri->local_uri, "execute") && post) {
		if (atomic_load(&server->draining))
			return refuse(conn, server, 503, "the server is shutting down", "");
		return execute(conn, server);
	}
	return refuse(conn, server, 404, "Not Found", "");
}
