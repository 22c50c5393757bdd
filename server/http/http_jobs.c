/* POST /api/v1/run, POST /api/v1/judge, POST /api/v1/jobs, GET and DELETE
 * /api/v1/jobs/{id}: requests become jobs of the queue. */
#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_body.h"
#include "http_conns.h"
#include "http_handlers.h"
#include "http_reply.h"
#include "server/engine/judge.h"
#include "server/engine/problem_access.h"
#include "server/engine/queue.h"
#include "server/job/request.h"

#define JOBS_PATH "/api/v1/jobs/"
#define ID_LENGTH 32

/* After an answer given before the body was read: a body that went past
 * the limit while it was discarded ends the connection. */
static int close_unless_read(struct mg_connection *conn, bool read, int status)
{
	if (!read)
		sp_http_close(conn);
	return status;
}

/* Answer before the body is read: read it first (up to the body limit), so
 * that the client gets the answer rather than a reset connection; beyond
 * the limit, the connection ends after the answer. */
static int refuse(struct mg_connection *conn, const struct sp_server *server, int status,
		  const char *code, const char *message, const char *extra)
{
	bool read = sp_http_body_discard(conn, server->config.max_body);

	return close_unless_read(conn, read, sp_reply_error(conn, status, code, message, extra));
}

/* What every request that carries a job goes through before its body. Returns
 * 0, or the status it answered with. */
static int admit(struct mg_connection *conn, const struct sp_server *server)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	if (strcmp(ri->request_method, "POST") != 0)
		return refuse(conn, server, 405, "method_not_allowed", "use POST",
			      "Allow: POST\r\n");
	if (!sp_http_authorized(conn, &server->config)) {
		bool read = sp_http_body_discard(conn, server->config.max_body);

		return close_unless_read(conn, read, sp_reply_unauthorized(conn));
	}
	if (atomic_load(&server->draining))
		return refuse(conn, server, 503, "draining", "the server is shutting down", "");
	return 0;
}

/* A body that could not be read whole (STATUS): the answer. */
static int unread(struct mg_connection *conn, struct sp_server *server,
		  enum sp_http_body_status status, const struct sp_error *err)
{
	struct sp_http_body_failure f;
	int rc;

	sp_http_body_failure(server, status, err, &f);
	rc = sp_reply_error(conn, f.status, f.code, f.message, f.headers);
	if (f.discard)
		sp_http_body_discard(conn, server->config.max_body);
	sp_http_close(conn);
	return rc;
}

/* The request in the body, and the body as it came (sp_http_body_free() it
 * once the job is submitted). Returns 0, or the status it answered with. */
static int read_request(struct mg_connection *conn, struct sp_server *server,
			enum sp_request_mode mode, struct sp_request *req,
			struct sp_http_body *body)
{
	struct sp_request_failure fail = {0};
	struct sp_error err = {0};
	enum sp_http_body_status st = sp_http_body_read(conn, server, body, &err);
	int rc;

	if (st != SP_BODY_READ) {
		sp_http_body_free(server, body);
		return unread(conn, server, st, &err);
	}
	if (body->data != NULL)
		rc = sp_request_parse_as(body->data, body->length, &server->languages,
					 &server->config, mode, req, &fail);
	else
		rc = sp_request_parse_fd(body->fd, body->length, &server->languages,
					 &server->config, mode, req, &fail);
	if (rc == 0)
		rc = sp_problems_attach(server, req, &fail);
	if (rc < 0) {
		sp_http_body_free(server, body);
		sp_request_free(req);
		return sp_reply_error(conn, fail.http_status, fail.code, fail.message, "");
	}
	sp_http_body_parsed(server, body);
	return 0;
}

void sp_http_order_of(struct mg_connection *conn, struct sp_server *server,
		      const struct sp_request *req, bool keep, struct sp_queue_order *order)
{
	*order = (struct sp_queue_order){.user = req->user_id,
					 .cells = sp_judge_cells(server, req),
					 .owner = sp_http_caller(conn, &server->config),
					 .address = mg_get_request_info(conn)->remote_addr,
					 .keep = keep,
					 .hold = true,
					 .waits = !keep,
					 .body_fd = -1};
}

static int submit(struct mg_connection *conn, struct sp_server *server, struct sp_request *req,
		  struct sp_http_body *body, bool keep, char id[SP_QUEUE_ID_SIZE])
{
	size_t language = sp_server_language_index(server, req->language);
	struct sp_queue_order order;
	struct sp_error err = {0};
	char user[SP_REQUEST_MAX_USER_ID + 1];
	int rc;

	sp_http_order_of(conn, server, req, keep, &order);
	order.body = body->data;
	order.body_fd = body->fd;
	order.body_length = body->length;
	snprintf(user, sizeof(user), "%s", req->user_id ? req->user_id : "");
	rc = sp_queue_submit(server->queue, req, language, &order, id, &err);
	sp_request_free(req);
	sp_http_body_free(server, body);
	if (rc == 0)
		return 0;
	return sp_http_refused(conn, server, user[0] ? user : NULL, &err);
}

/* The answer of a job run and waited for: RESULT (taken), or why it has none. */
static int answer(struct mg_connection *conn, struct sp_server *server, json_t *result,
		  enum sp_job_end end)
{
	if (end == SP_JOB_EXPIRED) {
		json_decref(result);
		sp_http_conns_refused(server->conns, "busy");
		return sp_reply_error(conn, 429, "busy",
				      "no cell was free within the queue timeout; try again",
				      "Retry-After: 1\r\n");
	}
	if (end == SP_JOB_SHUTDOWN) {
		json_decref(result);
		return sp_reply_error(conn, 503, "draining", "the server is shutting down", "");
	}
	if (end == SP_JOB_LOST) {
		json_decref(result);
		sp_http_conns_refused(server->conns, "queue_unavailable");
		return sp_reply_error(conn, 503, "queue_unavailable",
				      "the queue could not be reached for the job's result",
				      "Retry-After: 1\r\n");
	}
	if (result == NULL)
		return sp_reply_error(conn, 500, "internal_error", "out of memory", "");
	return sp_reply(conn, 200, result, "");
}

/* Run the request in the body and answer with its result. */
static int run_and_wait(struct mg_connection *conn, struct sp_server *server,
			enum sp_request_mode mode)
{
	enum sp_job_end end = SP_JOB_FINISHED;
	struct sp_error err = {0};
	char id[SP_QUEUE_ID_SIZE];
	struct sp_http_body body;
	struct sp_request req;
	json_t *result = NULL;
	int status;

	if ((status = admit(conn, server)) != 0 ||
	    (status = read_request(conn, server, mode, &req, &body)) != 0 ||
	    (status = submit(conn, server, &req, &body, false, id)) != 0)
		return status;
	sp_queue_wait(server->queue, id);
	if (sp_queue_result(server->queue, id, sp_http_caller(conn, &server->config), &result, &end,
			    &err) < 0)
		end = SP_JOB_LOST;
	status = answer(conn, server, result, end);
	/* the job (and its result's bytes) held until the answer went out */
	sp_queue_release(server->queue, id);
	return status;
}

int sp_http_run(struct mg_connection *conn, void *data)
{
	return run_and_wait(conn, data, SP_REQUEST_RUN);
}

int sp_http_judge(struct mg_connection *conn, void *data)
{
	return run_and_wait(conn, data, SP_REQUEST_JUDGE);
}

int sp_http_jobs(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	char id[SP_QUEUE_ID_SIZE];
	struct sp_http_body body;
	struct sp_error err = {0};
	struct sp_request req;
	char location[128];
	json_t *view;
	int status;

	if ((status = admit(conn, server)) != 0 ||
	    (status = read_request(conn, server, SP_REQUEST_RUN, &req, &body)) != 0 ||
	    (status = submit(conn, server, &req, &body, true, id)) != 0)
		return status;
	snprintf(location, sizeof(location), "Location: " JOBS_PATH "%s\r\n", id);
	view = sp_queue_view(server->queue, id, sp_http_caller(conn, &server->config), &err);
	sp_queue_release(server->queue, id);
	if (view == NULL)
		return sp_http_refused(conn, server, NULL, &err);
	return sp_reply(conn, 202, view, location);
}

/* The id in /api/v1/jobs/ID, or NULL when it is not one. */
static const char *job_id_of(const char *uri)
{
	const char *id = uri + strlen(JOBS_PATH);

	if (strncmp(uri, JOBS_PATH, strlen(JOBS_PATH)) != 0 || strlen(id) != ID_LENGTH ||
	    strspn(id, "0123456789abcdef") != ID_LENGTH)
		return NULL;
	return id;
}

int sp_http_job(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	bool get = strcmp(ri->request_method, "GET") == 0;
	const char *id = job_id_of(ri->local_uri);
	struct sp_error err = {0};
	json_t *view;
	int caller;

	if (!get && strcmp(ri->request_method, "DELETE") != 0)
		return refuse(conn, server, 405, "method_not_allowed", "use GET or DELETE",
			      "Allow: GET, DELETE\r\n");
	if (!sp_http_authorized(conn, &server->config))
		return sp_reply_unauthorized(conn);
	/* With tokens, a job is seen only with the token that submitted it. */
	caller = sp_http_caller(conn, &server->config);
	view = id == NULL ? NULL
	       : get	  ? sp_queue_view(server->queue, id, caller, &err)
			  : sp_queue_cancel(server->queue, id, caller, &err);
	if (view == NULL && id != NULL && err.errnum != ENOENT)
		return sp_http_refused(conn, server, NULL, &err);
	if (view == NULL)
		return sp_reply_error(conn, 404, "not_found", "no such job (or no longer kept)",
				      "");
	return sp_reply(conn, 200, view, "");
}
