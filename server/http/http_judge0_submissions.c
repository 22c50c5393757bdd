/* Judge0 CE's submissions (1.13.1): one or a batch, waited for or not,
 * their answers by token and their deletion, as sandpool jobs (the
 * translations are server/job/judge0_request.c and judge0_answer.c). Its
 * errors: 422 with field errors, 400 {"error"}, 503 {"error": "queue is
 * full"}. */
#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http_body.h"
#include "http_callbacks.h"
#include "http_handlers.h"
#include "http_judge0.h"
#include "http_reply.h"
#include "server/engine/queue.h"
#include "server/job/judge0.h"
#include "server/job/judge0_answer.h"
#include "server/job/judge0_request.h"
#include "server/job/request.h"

#define BATCH_MAX 20
#define NOT_UTF8                                                                                   \
	"some attributes for this submission cannot be converted to UTF-8, use "                   \
	"base64_encoded=true query parameter"
#define NOT_UTF8_BATCH                                                                             \
	"some attributes for one or more submissions cannot be converted to UTF-8, use "           \
	"base64_encoded=true query parameter"

/* --- the query ----------------------------------------------------------- */

struct query {
	bool base64, wait;
	uint64_t fields;
	char invalid[256]; /* unknown fields, when any */
};

static bool flag(struct mg_connection *conn, const char *name)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char value[8];

	return ri->query_string != NULL &&
	       mg_get_var(ri->query_string, strlen(ri->query_string), name, value, sizeof(value)) >=
		   0 &&
	       strcmp(value, "true") == 0;
}

/* The query's flags and fields. Returns -1 when a field is unknown. */
static int query_of(struct mg_connection *conn, struct query *q)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char fields[2048] = "";

	q->base64 = flag(conn, "base64_encoded");
	q->wait = flag(conn, "wait");
	if (ri->query_string != NULL)
		mg_get_var(ri->query_string, strlen(ri->query_string), "fields", fields,
			   sizeof(fields));
	return sp_judge0_fields(fields, &q->fields, q->invalid, sizeof(q->invalid));
}

static int invalid_fields(struct mg_connection *conn, const struct sp_server *server,
			  const struct query *q)
{
	char text[320];

	snprintf(text, sizeof(text), "invalid fields: [%s]", q->invalid);
	return sp_http_judge0_refuse(conn, server, 400, text);
}

/* --- the body ------------------------------------------------------------ */

static json_t *load_body(const struct sp_http_body *body, json_error_t *jerr)
{
	if (body->data != NULL)
		return json_loadb(body->data, body->length,
				  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, jerr);
	if (lseek(body->fd, 0, SEEK_SET) < 0)
		return NULL;
	return json_loadfd(body->fd, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, jerr);
}

/* Whether CONN's body is a form (and does not look like JSON: curl -d
 * sends JSON as a form unless told otherwise). */
static bool is_form(struct mg_connection *conn, const struct sp_http_body *body)
{
	const char *type = mg_get_header(conn, "Content-Type");

	return type != NULL && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0 &&
	       body->data != NULL && body->length > 0 && body->data[0] != '{';
}

/* The body as JSON into *DOC: a JSON body, or a form's fields (FORM: it may
 * be one). Returns 0, or the status it answered. */
static int read_body(struct mg_connection *conn, struct sp_server *server, bool form, json_t **doc)
{
	struct sp_http_body body;
	struct sp_error err = {0};
	enum sp_http_body_status st = sp_http_body_read(conn, server, &body, &err);
	json_error_t jerr;
	char text[300];

	*doc = NULL;
	if (st != SP_BODY_READ) {
		struct sp_http_body_failure f;
		int rc;

		sp_http_body_free(server, &body);
		sp_http_body_failure(server, st, &err, &f);
		rc = sp_http_judge0_error(conn, f.status, f.message, f.headers);
		if (f.discard)
			sp_http_body_discard(conn, server->config.max_body);
		sp_http_close(conn);
		return rc;
	}
	if (form && is_form(conn, &body)) {
		*doc = sp_judge0_form(body.data, body.length);
		sp_http_body_free(server, &body);
		return *doc ? 0 : sp_http_judge0_error(conn, 400, "the form is not UTF-8", "");
	}
	*doc = load_body(&body, &jerr);
	sp_http_body_free(server, &body);
	if (*doc != NULL)
		return 0;
	snprintf(text, sizeof(text), "the body is not JSON: %s", jerr.text);
	return sp_http_judge0_error(conn, 400, text, "");
}

/* --- submitting ---------------------------------------------------------- */

/* How a submission went. */
struct outcome {
	json_t *errors; /* Judge0's field errors (422), or NULL */
	int status;	/* else, when not 0: an error of this status... */
	char message[SP_ERROR_MESSAGE_MAX + 64];
	char headers[64]; /* ...with these headers */
};

/* The field a message of sandpool's request parser is about. */
static const char *field_of(const char *message)
{
	if (strncmp(message, "files", 5) == 0)
		return "additional_files";
	if (strncmp(message, "stdin", 5) == 0)
		return "stdin";
	if (strncmp(message, "compile_args", 12) == 0)
		return "compiler_options";
	if (strncmp(message, "args", 4) == 0)
		return "command_line_arguments";
	if (strncmp(message, "limits", 6) == 0)
		return "memory_limit";
	if (strncmp(message, "language", 8) == 0 || strncmp(message, "version", 7) == 0)
		return "language_id";
	return "source_code";
}

static void field_error(struct outcome *out, const char *field, const char *message)
{
	out->errors = json_pack("{s:[s]}", field, message);
	if (out->errors == NULL) {
		out->status = 500;
		snprintf(out->message, sizeof(out->message), "out of memory");
	}
}

static void failed(struct outcome *out, int status, const char *message)
{
	out->status = status;
	snprintf(out->message, sizeof(out->message), "%s", message);
}

/* A refused submission (ERR), in Judge0's words where it has them. */
static void refused(struct outcome *out, struct sp_server *server, const struct sp_error *err)
{
	out->status = sp_http_refusal(server, NULL, err, out->headers, sizeof(out->headers));
	if (err->errnum == EAGAIN) {
		out->status = 503;
		snprintf(out->message, sizeof(out->message), "queue is full");
	} else {
		snprintf(out->message, sizeof(out->message), "%s", err->message);
	}
}

/* The time, in ms since the epoch. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The request of SUBMISSION, parsed into REQ, its text in *TEXT. */
static int request_of(struct sp_server *server, json_t *submission, bool base64,
		      struct sp_request *req, char **text, char *callback, size_t size,
		      struct outcome *out)
{
	const char *url;
	struct sp_request_failure fail = {0};
	json_t *request;

	*text = NULL;
	request = sp_judge0_request(submission, base64, &server->languages, &server->config,
				    now_ms(), &out->errors);
	if (request == NULL) {
		if (out->errors == NULL)
			failed(out, 500, "out of memory");
		return -1;
	}
	url = json_string_value(json_object_get(json_object_get(request, "echo"), "callback_url"));
	snprintf(callback, size, "%s", url ? url : "");
	*text = json_dumps(request, JSON_COMPACT);
	json_decref(request);
	if (*text == NULL) {
		failed(out, 500, "out of memory");
		return -1;
	}
	if (sp_request_parse_as(*text, strlen(*text), &server->languages, &server->config,
				SP_REQUEST_RUN, req, &fail) == 0)
		return 0;
	if (fail.http_status == 400)
		field_error(out, field_of(fail.message), fail.message);
	else
		failed(out, fail.http_status, fail.message);
	free(*text);
	*text = NULL;
	return -1;
}

/* Queue SUBMISSION as CONN's, its job id in ID, held. Returns 0, or -1 with
 * OUT saying why. */
static int submit(struct mg_connection *conn, struct sp_server *server, json_t *submission,
		  bool base64, char id[SP_QUEUE_ID_SIZE], struct outcome *out)
{
	struct sp_queue_order order;
	struct sp_error err = {0};
	struct sp_request req;
	char *text, url[2100];
	int rc;

	memset(out, 0, sizeof(*out));
	if (request_of(server, submission, base64, &req, &text, url, sizeof(url), out) < 0)
		return -1;
	sp_http_order_of(conn, server, &req, true, &order);
	order.owner = sp_http_judge0_caller(conn, &server->config);
	order.body = text;
	order.body_length = strlen(text);
	rc = sp_queue_submit(server->queue, &req, sp_server_language_index(server, req.language),
			     &order, id, &err);
	sp_request_free(&req);
	free(text);
	if (rc < 0) {
		refused(out, server, &err);
		return -1;
	}
	if (url[0] != '\0' &&
	    sp_http_callback(server->callbacks, server, id, order.owner, url, &err) < 0) {
		/* No job runs whose callback would not be sent. */
		json_decref(sp_queue_cancel(server->queue, id, order.owner, &err));
		sp_queue_release(server->queue, id);
		failed(out, 503, "too many submissions with a callback_url are pending");
		snprintf(out->headers, sizeof(out->headers), "Retry-After: 1\r\n");
		return -1;
	}
	return 0;
}

/* --- answering ----------------------------------------------------------- */

/* The submission of the job ID as Q asks for it, into *ANSWER. Returns 0,
 * 404 when no such job of CONN's is known, 400 when a text is not UTF-8,
 * 503 when the queue cannot be reached, 500. */
static int submission_of(struct mg_connection *conn, struct sp_server *server, const char *id,
			 uint64_t fields, bool base64, json_t **answer)
{
	char token[SP_JUDGE0_TOKEN_SIZE];
	struct sp_error err = {0};
	json_t *view =
	    sp_queue_view(server->queue, id, sp_http_judge0_caller(conn, &server->config), &err);
	bool not_utf8 = false;

	*answer = NULL;
	if (view == NULL)
		return err.errnum == ENOENT ? 404 : err.errnum == ENOTCONN ? 503 : 500;
	sp_judge0_token_of(id, token);
	*answer = sp_judge0_submission(token, view, &server->languages, fields, base64, &not_utf8);
	json_decref(view);
	return *answer ? 0 : not_utf8 ? 400 : 500;
}

static int answer_error(struct mg_connection *conn, int status)
{
	if (status == 404)
		return sp_http_judge0_bare(conn, 404);
	return sp_http_judge0_error(conn, status,
				    status == 400   ? NOT_UTF8
				    : status == 503 ? "the queue cannot be reached"
						    : "out of memory",
				    status == 503 ? "Retry-After: 1\r\n" : "");
}

static int outcome_answer(struct mg_connection *conn, struct outcome *out)
{
	if (out->errors != NULL)
		return sp_reply(conn, 422, out->errors, "");
	return sp_http_judge0_error(conn, out->status, out->message, out->headers);
}

/* POST /submissions. */
int sp_http_judge0_create(struct mg_connection *conn, struct sp_server *server)
{
	char id[SP_QUEUE_ID_SIZE], token[SP_JUDGE0_TOKEN_SIZE];
	struct outcome out;
	struct query q;
	json_t *doc, *answer;
	int rc;

	if (query_of(conn, &q) < 0)
		return invalid_fields(conn, server, &q);
	if ((rc = read_body(conn, server, true, &doc)) != 0)
		return rc;
	rc = submit(conn, server, doc, q.base64, id, &out);
	json_decref(doc);
	if (rc < 0)
		return outcome_answer(conn, &out);
	sp_judge0_token_of(id, token);
	if (!q.wait) {
		sp_queue_release(server->queue, id);
		return sp_reply(conn, 201, json_pack("{s:s}", "token", token), "");
	}
	sp_queue_wait(server->queue, id);
	rc = submission_of(conn, server, id, q.fields, q.base64, &answer);
	sp_queue_release(server->queue, id);
	if (rc == 400)
		return sp_reply(conn, 201,
				json_pack("{s:s, s:s}", "error", NOT_UTF8, "token", token), "");
	return rc ? answer_error(conn, rc) : sp_reply(conn, 201, answer, "");
}

/* POST /submissions/batch: each submission queued or refused on its own. */
int sp_http_judge0_batch_create(struct mg_connection *conn, struct sp_server *server)
{
	json_t *doc, *list, *item, *answers;
	char id[SP_QUEUE_ID_SIZE], token[SP_JUDGE0_TOKEN_SIZE];
	bool base64 = flag(conn, "base64_encoded"), any = false;
	struct outcome out;
	size_t i, count;
	int rc;

	if ((rc = read_body(conn, server, false, &doc)) != 0)
		return rc;
	list = json_object_get(doc, "submissions");
	count = json_array_size(list);
	if (count == 0 || count > BATCH_MAX) {
		json_decref(doc);
		return sp_http_judge0_error(
		    conn, 400,
		    count == 0 ? "there should be at least one submission in a batch"
			       : "number of submissions in a batch should be less than or "
				 "equal to 20",
		    "");
	}
	answers = json_array();
	json_array_foreach(list, i, item)
	{
		if (submit(conn, server, item, base64, id, &out) == 0) {
			sp_queue_release(server->queue, id);
			sp_judge0_token_of(id, token);
			json_array_append_new(answers, json_pack("{s:s}", "token", token));
			any = true;
		} else {
			json_array_append_new(
			    answers,
			    out.errors ? out.errors : json_pack("{s:s}", "error", out.message));
		}
	}
	json_decref(doc);
	return sp_reply(conn, any ? 201 : 422, answers, "");
}

/* GET /submissions/batch?tokens=A,B. */
int sp_http_judge0_batch_show(struct mg_connection *conn, struct sp_server *server)
{
	char tokens[BATCH_MAX * 64 + 64] = "", id[SP_QUEUE_ID_SIZE];
	json_t *list = json_array(), *answer;
	size_t count = 0;
	struct query q;
	char *save = NULL;

	if (query_of(conn, &q) < 0) {
		json_decref(list);
		return invalid_fields(conn, server, &q);
	}
	sp_http_judge0_given(conn, "tokens", tokens, sizeof(tokens));
	for (const char *c = tokens; *c != '\0'; c++)
		count += *c == ',' || c == tokens;
	if (count > BATCH_MAX || tokens[0] == '\0' || strspn(tokens, ", ") == strlen(tokens)) {
		json_decref(list);
		return sp_http_judge0_error(
		    conn, 400,
		    count > BATCH_MAX
			? "number of submissions in a batch should be less than or equal "
			  "to 20"
			: "there should be at least one submission in a batch",
		    "");
	}
	for (char *t = strtok_r(tokens, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		int rc;

		while (*t == ' ')
			t++;
		rc = sp_judge0_id_of(t, id)
			 ? submission_of(conn, server, id, q.fields, q.base64, &answer)
			 : 404;
		if (rc == 400) {
			json_decref(list);
			return sp_http_judge0_error(conn, 400, NOT_UTF8_BATCH, "");
		}
		if (rc != 0 && rc != 404) {
			json_decref(list);
			return answer_error(conn, rc);
		}
		json_array_append_new(list, rc == 404 ? json_null() : answer);
	}
	return sp_reply(conn, 200, json_pack("{s:o}", "submissions", list), "");
}

/* GET /submissions/TOKEN. */
int sp_http_judge0_show(struct mg_connection *conn, struct sp_server *server, const char *token)
{
	char id[SP_QUEUE_ID_SIZE];
	struct query q;
	json_t *answer;
	int rc;

	if (query_of(conn, &q) < 0)
		return invalid_fields(conn, server, &q);
	if (!sp_judge0_id_of(token, id))
		return sp_http_judge0_bare(conn, 404);
	rc = submission_of(conn, server, id, q.fields, q.base64, &answer);
	return rc ? answer_error(conn, rc) : sp_reply(conn, 200, answer, "");
}

/* DELETE /submissions/TOKEN: an ended submission is dropped, and shown (in
 * base64) one last time. */
int sp_http_judge0_destroy(struct mg_connection *conn, struct sp_server *server, const char *token)
{
	char id[SP_QUEUE_ID_SIZE], text[200];
	struct sp_error err = {0};
	struct query q;
	json_t *answer, *view;
	bool not_utf8;
	int status;

	if (!sp_http_judge0_user(conn, &server->config))
		return sp_http_judge0_bare(conn, 403);
	if (query_of(conn, &q) < 0)
		return invalid_fields(conn, server, &q);
	if (!sp_judge0_id_of(token, id))
		return sp_http_judge0_bare(conn, 404);
	view = sp_queue_view(server->queue, id, sp_http_judge0_caller(conn, &server->config), &err);
	if (view == NULL)
		return answer_error(conn, err.errnum == ENOENT	   ? 404
					  : err.errnum == ENOTCONN ? 503
								   : 500);
	status = sp_judge0_view_status(view);
	if (status == 1 || status == 2) {
		json_decref(view);
		snprintf(text, sizeof(text),
			 "submission cannot be deleted because its status is %d (%s)", status,
			 sp_judge0_status_name(status));
		return sp_http_judge0_error(conn, 400, text, "");
	}
	answer = sp_judge0_submission(token, view, &server->languages, q.fields, true, &not_utf8);
	json_decref(view);
	if (answer == NULL)
		return answer_error(conn, 500);
	json_decref(
	    sp_queue_cancel(server->queue, id, sp_http_judge0_caller(conn, &server->config), &err));
	return sp_reply(conn, 200, answer, "");
}
