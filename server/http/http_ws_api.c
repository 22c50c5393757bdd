#include "http_ws_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/engine/hub.h"
#include "server/engine/judge.h"
#include "server/engine/problem_access.h"
#include "server/engine/queue.h"
#include "server/job/base64.h"
#include "server/job/json_depth.h"
#include "server/job/request.h"

/* A job this client started, held in the queue until the client lets it go
 * (once it ended, or when the client goes). */
struct client_job {
	struct client_job *next;
	char id[SP_QUEUE_ID_SIZE];
	bool interactive;
};

struct sp_ws_client {
	struct sp_watcher watcher; /* first: the hub hands this back */
	struct sp_server *server;
	/* Set on the loop's thread before the first watch, so before any
	 * delivery. */
	struct sp_ws_conn *conn;
	int caller;		  /* the token index, or SP_CALLER_ANYONE */
	struct sp_ws_place place; /* among the WebSockets' caps */
	char address[48];	  /* the client's, as civetweb wrote it */
	struct client_job *jobs;
};

/* --- events ------------------------------------------------------------------ */

/* From the hub, on any thread: into the connection's queue. */
static void deliver(struct sp_watcher *w, struct sp_hub_text *text)
{
	struct sp_ws_client *c = (struct sp_ws_client *)w;

	sp_ws_conn_send(c->conn, text);
}

/* Send EVENT (stolen) to this client only. */
static void tell(struct sp_ws_client *c, json_t *event)
{
	struct sp_hub_text *text = sp_hub_text_new(event);

	if (text != NULL)
		sp_ws_conn_send(c->conn, text);
	sp_hub_text_put(text);
	json_decref(event);
}

static void tell_error(struct sp_ws_client *c, const char *code, const char *message, json_t *msg)
{
	json_t *ev =
	    json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message", message);
	json_t *ref = json_object_get(msg, "ref"), *id = json_object_get(msg, "id");

	if (json_is_string(ref))
		json_object_set(ev, "ref", ref);
	if (json_is_string(id))
		json_object_set(ev, "id", id);
	tell(c, ev);
}

/* --- the client's jobs ----------------------------------------------------- */

static struct client_job *find_mine(struct sp_ws_client *c, const char *id)
{
	for (struct client_job *j = c->jobs; j != NULL; j = j->next)
		if (id != NULL && strcmp(j->id, id) == 0)
			return j;
	return NULL;
}

/* Forget the jobs that ended. */
static void prune_mine(struct sp_ws_client *c)
{
	struct client_job **p = &c->jobs;

	while (*p != NULL) {
		struct client_job *j = *p;

		if (sp_queue_ended(c->server->queue, j->id)) {
			*p = j->next;
			sp_queue_release(c->server->queue, j->id);
			free(j);
		} else {
			p = &j->next;
		}
	}
}

/* --- messages ------------------------------------------------------------- */

static void refuse_run(struct sp_ws_client *c, const struct sp_error *err, json_t *msg)
{
	if (err->errnum == EFBIG)
		tell_error(c, "bad_request", err->message, msg);
	else
		tell_error(c, sp_queue_refusal_code(err->errnum), err->message, msg);
}

static void queue_run(struct sp_ws_client *c, json_t *msg, const char *text, size_t length,
		      struct sp_request *req, bool interactive)
{
	struct sp_server *server = c->server;
	struct client_job *mine = calloc(1, sizeof(*mine));
	struct sp_queue_order order = {.user = req->user_id,
				       .cells = sp_judge_cells(c->server, req),
				       .ref = json_string_value(json_object_get(msg, "ref")),
				       .owner = c->caller,
				       .address = c->address,
				       .hold = true,
				       .interactive = interactive,
				       .watched = true,
				       .body = text,
				       .body_length = length};
	struct sp_error err = {0};

	if (mine == NULL || sp_queue_new_id(mine->id) < 0) {
		free(mine);
		tell_error(c, "internal_error", "out of memory", msg);
		return;
	}
	mine->interactive = interactive;
	order.id = mine->id;
	/* Watch first: the "queued" event is sent as the job is queued. */
	sp_hub_watch_job(server->hub, &c->watcher, mine->id, c->caller);
	if (sp_queue_submit(server->queue, req, sp_server_language_index(server, req->language),
			    &order, mine->id, &err) < 0) {
		sp_hub_unwatch_job(server->hub, &c->watcher, mine->id);
		free(mine);
		refuse_run(c, &err, msg);
		return;
	}
	mine->next = c->jobs;
	c->jobs = mine;
}

static void on_run(struct sp_ws_client *c, json_t *msg, const char *text, size_t length,
		   enum sp_request_mode mode)
{
	struct sp_request req;
	struct sp_request_failure fail = {0};
	bool interactive = json_is_true(json_object_get(msg, "interactive"));

	if (atomic_load(&c->server->draining)) {
		tell_error(c, "draining", "the server is shutting down", msg);
		return;
	}
	if (sp_request_parse_as(text, length, &c->server->languages, &c->server->config, mode, &req,
				&fail) < 0) {
		tell_error(c, fail.code, fail.message, msg);
		return;
	}
	if (sp_problems_attach(c->server, &req, &fail) < 0) {
		tell_error(c, fail.code, fail.message, msg);
		sp_request_free(&req);
		return;
	}
	if (interactive && req.mode == SP_REQUEST_JUDGE) {
		tell_error(c, "bad_request",
			   "a judge request takes its input from its tests, "
			   "not interactively",
			   msg);
		sp_request_free(&req);
		return;
	}
	queue_run(c, msg, text, length, &req, interactive);
	sp_request_free(&req);
}

static void on_subscribe(struct sp_ws_client *c, json_t *msg)
{
	const char *id = json_string_value(json_object_get(msg, "id"));
	const char *user = json_string_value(json_object_get(msg, "userId"));
	struct sp_error err = {0};
	enum sp_job_end end;
	json_t *result;

	if (user != NULL) {
		if (sp_hub_watch_user(c->server->hub, &c->watcher, user, c->caller) < 0) {
			tell_error(c, "internal_error", "out of memory", msg);
			return;
		}
		/* the user's jobs that start from now on are watched, wherever they run */
		sp_queue_topics_sync(c->server->queue);
		tell(c, json_pack("{s:s, s:s}", "type", "subscribed", "userId", user));
		return;
	}
	/* A job of someone else (another token) is as good as unknown. */
	if (id == NULL ||
	    sp_queue_result(c->server->queue, id, c->caller, &result, &end, &err) < 0) {
		if (id != NULL && err.errnum != ENOENT)
			tell_error(c, sp_queue_refusal_code(err.errnum), err.message, msg);
		else
			tell_error(c, "not_found", "no such job (or no longer kept)", msg);
		return;
	}
	/* "subscribed" first, then the job's events */
	tell(c, json_pack("{s:s, s:s}", "type", "subscribed", "id", id));
	if (result == NULL) {
		/* Watched from now on. Its result may have come just before the
		 * watch: looked up again, it is sent here unless the watch handed
		 * it over (a watch ends with the result). */
		sp_hub_watch_job(c->server->hub, &c->watcher, id, c->caller);
		sp_queue_topics_sync(c->server->queue);
		if (sp_queue_result(c->server->queue, id, c->caller, &result, &end, &err) < 0 ||
		    result == NULL)
			return;
		if (!sp_hub_unwatch_job(c->server->hub, &c->watcher, id)) {
			json_decref(result);
			return;
		}
	}
	tell(c, json_pack("{s:s, s:s, s:o}", "type", "result", "id", id, "result", result));
}

/* The bytes of a stdin message: DATA as text, or base64 with "encoding". */
static unsigned char *stdin_bytes(json_t *msg, size_t *len)
{
	const char *data = json_string_value(json_object_get(msg, "data"));
	const char *encoding = json_string_value(json_object_get(msg, "encoding"));
	size_t n;

	if (data == NULL)
		return NULL;
	n = json_string_length(json_object_get(msg, "data"));
	if (encoding != NULL && strcmp(encoding, "base64") == 0)
		return sp_base64_decode(data, n, len);
	*len = n;
	return (unsigned char *)strndup(data, n);
}

static void on_stdin(struct sp_ws_client *c, json_t *msg, bool close_it)
{
	struct client_job *j = find_mine(c, json_string_value(json_object_get(msg, "id")));
	struct sp_error err = {0};
	unsigned char *bytes = NULL;
	size_t len = 0;
	ssize_t n;

	if (j == NULL || !j->interactive) {
		tell_error(c, "not_found", "no interactive run of yours with this id", msg);
		return;
	}
	if (!close_it && (bytes = stdin_bytes(msg, &len)) == NULL) {
		tell_error(c, "bad_request", "data must be a string (base64 with encoding)", msg);
		return;
	}
	n = sp_queue_stdin(c->server->queue, j->id, c->caller, bytes, len, close_it, &err);
	free(bytes);
	if (n < 0 && err.errnum == EPIPE)
		tell_error(c, "stdin_closed", "the program's input is closed", msg);
	else if (n < 0 && err.errnum == ENOENT)
		tell_error(c, "not_found", "no interactive run of yours with this id", msg);
	else if (n < 0)
		tell_error(c, sp_queue_refusal_code(err.errnum), err.message, msg);
	else if (!close_it && n == 0 && len > 0)
		tell_error(c, "stdin_full",
			   "the program has not read its input yet; send again later", msg);
	else if (!close_it && (size_t)n < len)
		tell_error(c, "stdin_full", "part of the data was taken; send the rest later", msg);
}

static void on_cancel(struct sp_ws_client *c, json_t *msg)
{
	const char *id = json_string_value(json_object_get(msg, "id"));
	struct sp_error err = {.errnum = ENOENT};
	json_t *view = id ? sp_queue_cancel(c->server->queue, id, c->caller, &err) : NULL;

	if (view == NULL && err.errnum != ENOENT)
		tell_error(c, sp_queue_refusal_code(err.errnum), err.message, msg);
	else if (view == NULL)
		tell_error(c, "not_found", "no such job", msg);
	json_decref(view);
}

/* Whether TEXT may be parsed: it nests no deeper than a request body may,
 * and holds no more values (jansson takes some 77 times the text's size for
 * a message of "{},"); else the client is told why. */
static bool parsable(struct sp_ws_client *c, const char *text, size_t length)
{
	struct sp_json_scan scan;
	struct sp_request_failure fail;

	sp_json_scan_init(&scan);
	sp_json_scan_feed(&scan, text, length);
	if (sp_request_shape_failed(&scan, sp_request_max_values(&c->server->config), "message",
				    &fail) == 0)
		return true;
	tell_error(c, fail.code, fail.message, NULL);
	return false;
}

static void on_message(struct sp_ws_client *c, const char *text, size_t length)
{
	json_t *msg;
	const char *type;

	prune_mine(c);
	if (!parsable(c, text, length))
		return;
	msg = json_loadb(text, length, JSON_REJECT_DUPLICATES, NULL);
	type = json_string_value(json_object_get(msg, "type"));
	if (!json_is_object(msg))
		tell_error(c, "bad_json", "a message is a JSON object", NULL);
	else if (type == NULL)
		tell_error(c, "bad_request", "type is missing", msg);
	else if (strcmp(type, "run") == 0)
		on_run(c, msg, text, length, SP_REQUEST_RUN);
	else if (strcmp(type, "judge") == 0)
		on_run(c, msg, text, length, SP_REQUEST_JUDGE);
	else if (strcmp(type, "subscribe") == 0)
		on_subscribe(c, msg);
	else if (strcmp(type, "stdin") == 0)
		on_stdin(c, msg, false);
	else if (strcmp(type, "close_stdin") == 0)
		on_stdin(c, msg, true);
	else if (strcmp(type, "cancel") == 0)
		on_cancel(c, msg);
	else
		tell_error(c, "bad_request", "unknown type", msg);
	json_decref(msg);
}

/* --- the loop's handlers -------------------------------------------------- */

static void on_loop_message(void *user, struct sp_ws_conn *conn, const char *data, size_t length)
{
	struct sp_ws_client *c = user;

	c->conn = conn;
	on_message(c, data, length);
}

static void on_too_large(void *user, struct sp_ws_conn *conn)
{
	struct sp_ws_client *c = user;

	c->conn = conn;
	tell_error(c, "frame_too_large", "the message is larger than ws_max_frame", NULL);
}

/* The connection is gone. Interactive runs die with their client; the
 * others run on. */
static void on_closed(void *user)
{
	struct sp_ws_client *c = user;
	struct sp_error err = {0};

	sp_hub_forget(c->server->hub, &c->watcher);
	sp_ws_admit_give_back(c->server->ws_admit, &c->place);
	while (c->jobs != NULL) {
		struct client_job *j = c->jobs;

		c->jobs = j->next;
		if (j->interactive)
			json_decref(sp_queue_cancel(c->server->queue, j->id, c->caller, &err));
		sp_queue_release(c->server->queue, j->id);
		free(j);
	}
	free(c);
}

/* A subscription, or a job of its own not ended: the hub has a watch. */
static bool on_watching(void *user)
{
	struct sp_ws_client *c = user;

	return sp_hub_watches(&c->watcher) > 0;
}

const struct sp_ws_handlers sp_ws_client_handlers = {
    .message = on_loop_message,
    .too_large = on_too_large,
    .closed = on_closed,
    .watching = on_watching,
};

struct sp_ws_client *sp_ws_client_new(struct sp_server *server, int caller, const char *address,
				      const struct sp_ws_place *place)
{
	struct sp_ws_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->watcher.deliver = deliver;
	c->server = server;
	c->caller = caller;
	c->place = *place;
	snprintf(c->address, sizeof(c->address), "%s", address);
	return c;
}

void sp_ws_client_free(struct sp_ws_client *c)
{
	if (c != NULL)
		on_closed(c);
}
