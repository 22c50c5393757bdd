#include "http_ws_piston.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/engine/hub.h"
#include "server/engine/judge.h"
#include "server/engine/queue.h"
#include "server/job/json_depth.h"
#include "server/job/piston.h"
#include "server/job/request.h"

struct sp_ws_piston {
	struct sp_watcher watcher; /* first: the hub hands this back */
	struct sp_server *server;
	struct sp_ws_conn *conn; /* set as the loop opens it, before any watch */
	int caller;		 /* the token index, or SP_CALLER_ANYONE */
	struct sp_ws_place place;
	char address[48];
	/* The loop's thread. */
	bool initialized; /* an init came (a bad one too: it closes) */
	bool has_job;	  /* ID is queued, held until the client goes */
	char id[SP_QUEUE_ID_SIZE];
	/* The hub's deliveries, one at a time. */
	bool compiling; /* the compile stage was said, its exit not yet */
	/* Both. */
	atomic_int killed_by; /* the signal the client sent that cancelled the job */
	atomic_bool over;     /* the job's result came: the close follows */
};

/* --- what the client hears --------------------------------------------------- */

/* Send EVENT (stolen) to this client. */
static void tell(struct sp_ws_piston *p, json_t *event)
{
	struct sp_hub_text *text = event ? sp_hub_text_new(event) : NULL;

	if (text != NULL)
		sp_ws_conn_send(p->conn, text);
	sp_hub_text_put(text);
	json_decref(event);
}

/* On the loop's thread: close with CODE and Piston's REASON. */
static void close_with(struct sp_ws_piston *p, unsigned code, const char *reason)
{
	sp_ws_conn_close(p->conn, code, reason);
}

/* Piston's error: the message, then a close with 4002 (a close reason holds
 * too few bytes for a message). On the loop's thread. */
static void fail(struct sp_ws_piston *p, const char *message)
{
	tell(p, json_pack("{s:s, s:s}", "type", "error", "message", message));
	close_with(p, SP_PISTON_NOTIFIED_ERROR, "Notified Error");
}

/* --- the job's events, from the hub (any thread, the hub locked) ------------ */

static void say_stage(struct sp_ws_piston *p, const char *stage)
{
	if (strcmp(stage, "run") == 0 && p->compiling)
		/* the run starts only after a compile that went well */
		tell(p, json_pack("{s:s, s:s, s:i, s:n, s:n, s:n}", "type", "exit", "stage",
				  "compile", "code", 0, "signal", "status", "message"));
	p->compiling = strcmp(stage, "compile") == 0;
	tell(p, json_pack("{s:s, s:s}", "type", "stage", "stage", stage));
}

/* The result: the exit of the stage that ran last, then the close (4999,
 * or 4002 after an error when the job could not run). */
static void say_result(struct sp_ws_piston *p, const json_t *result)
{
	const json_t *compile = json_object_get(result, "compile");
	const json_t *run = json_object_get(result, "run");
	const char *error = json_string_value(json_object_get(result, "error"));
	int signo = atomic_load(&p->killed_by);
	const char *compiled = json_string_value(json_object_get(compile, "status"));
	bool ran = json_is_object(run);

	atomic_store(&p->over, true);
	if (ran)
		tell(p, sp_piston_exit(run, "run", signo));
	else if (json_is_object(compile))
		tell(p, sp_piston_exit(compile, "compile", signo));
	/* it never ran (a queue timeout, a shutdown, a sandbox that failed) or
	 * its compile went well and its run could not start */
	if (!ran && signo == 0 && (compiled == NULL || strcmp(compiled, "ok") == 0)) {
		tell(p, json_pack("{s:s, s:s}", "type", "error", "message",
				  error ? error : "the job did not run"));
		sp_ws_conn_end(p->conn, SP_PISTON_NOTIFIED_ERROR, "Notified Error");
		return;
	}
	sp_ws_conn_end(p->conn, SP_PISTON_JOB_COMPLETED, "Job Completed");
}

static void deliver_event(struct sp_watcher *w, const json_t *event)
{
	struct sp_ws_piston *p = (struct sp_ws_piston *)w;
	const char *type = json_string_value(json_object_get(event, "type"));

	if (type == NULL || atomic_load(&p->over))
		return;
	if (strcmp(type, "started") == 0 && json_is_string(json_object_get(event, "stage")))
		say_stage(p, json_string_value(json_object_get(event, "stage")));
	else if (strcmp(type, "stdout") == 0 || strcmp(type, "stderr") == 0)
		tell(p, sp_piston_data(event));
	else if (strcmp(type, "result") == 0)
		say_result(p, json_object_get(event, "result"));
}

/* Never called: deliver_event takes every event. */
static void deliver_text(struct sp_watcher *w, struct sp_hub_text *text)
{
	(void)w;
	(void)text;
}

/* --- the client's messages ---------------------------------------------------- */

/* The init, as /api/v2/execute takes its body: queued as an interactive
 * run; "runtime" first (before the job's own events can come). */
static void on_init(struct sp_ws_piston *p, json_t *msg)
{
	struct sp_server *server = p->server;
	const struct sp_language *language = NULL;
	char why[SP_PISTON_MESSAGE_MAX];
	struct sp_request_failure failure = {0};
	struct sp_queue_order order;
	struct sp_error err = {0};
	struct sp_request req;
	json_t *body;
	char *text;

	if (atomic_load(&server->draining)) {
		fail(p, "the server is shutting down");
		return;
	}
	body = sp_piston_connect_request(msg, &server->languages, &server->config, &language, why);
	if (body == NULL) {
		fail(p, why[0] ? why : "out of memory");
		return;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		fail(p, "out of memory");
		return;
	}
	if (sp_request_parse_as(text, strlen(text), &server->languages, &server->config,
				SP_REQUEST_RUN, &req, &failure) < 0) {
		free(text);
		fail(p, failure.message);
		return;
	}
	order = (struct sp_queue_order){.cells = sp_judge_cells(server, &req),
					.owner = p->caller,
					.address = p->address,
					.hold = true,
					.interactive = true,
					.watched = true,
					.body = text,
					.body_length = strlen(text)};
	if (sp_queue_new_id(p->id) < 0) {
		free(text);
		sp_request_free(&req);
		fail(p, "out of memory");
		return;
	}
	order.id = p->id;
	tell(p, sp_piston_runtime(language));
	sp_hub_watch_job(server->hub, &p->watcher, p->id, p->caller);
	if (sp_queue_submit(server->queue, &req, sp_server_language_index(server, req.language),
			    &order, p->id, &err) < 0) {
		sp_hub_unwatch_job(server->hub, &p->watcher, p->id);
		fail(p, err.errnum == EFBIG ? "stdin in an init is at most 64 KiB: send the rest "
					      "in data messages"
					    : err.message);
	} else {
		p->has_job = true;
	}
	sp_request_free(&req);
	free(text);
}

/* Input for the program. Piston keeps it open until the job ends; here
 * "eof": true (a member Piston ignores) closes it after DATA. */
static void on_data(struct sp_ws_piston *p, json_t *msg)
{
	const json_t *data = json_object_get(msg, "data");
	bool eof = json_is_true(json_object_get(msg, "eof"));
	struct sp_error err = {0};
	ssize_t n = 0;

	if (!p->initialized) {
		close_with(p, SP_PISTON_NOT_INITIALIZED, "Not yet initialized");
		return;
	}
	if (!json_is_string(json_object_get(msg, "stream")) ||
	    strcmp(json_string_value(json_object_get(msg, "stream")), "stdin") != 0) {
		close_with(p, SP_PISTON_ONLY_STDIN, "Can only write to stdin");
		return;
	}
	if (!json_is_string(data)) {
		fail(p, "data must be a string");
		return;
	}
	if (!p->has_job)
		return;
	if (json_string_length(data) > 0)
		n = sp_queue_stdin(p->server->queue, p->id, p->caller, json_string_value(data),
				   json_string_length(data), false, &err);
	/* n < 0: the program's input is closed, or it has ended (its exit follows) */
	if (n >= 0 && (size_t)n < json_string_length(data))
		tell(p, json_pack("{s:s, s:s}", "type", "error", "message",
				  "stdin is full: the program has not read what came before; "
				  "the rest of this data was dropped"));
	if (eof)
		sp_queue_stdin(p->server->queue, p->id, p->caller, NULL, 0, true, &err);
}

/* A signal: every one that ends a process by default kills the job (its
 * cell's processes, all of them); the others are taken and do nothing. */
static void on_signal(struct sp_ws_piston *p, json_t *msg)
{
	int signo = sp_piston_signal(json_object_get(msg, "signal"));
	struct sp_error err = {0};

	if (!p->initialized) {
		close_with(p, SP_PISTON_NOT_INITIALIZED, "Not yet initialized");
		return;
	}
	if (signo == 0) {
		close_with(p, SP_PISTON_INVALID_SIGNAL, "Invalid signal");
		return;
	}
	if (!p->has_job || !sp_piston_signal_ends(signo))
		return;
	atomic_store(&p->killed_by, signo);
	json_decref(sp_queue_cancel(p->server->queue, p->id, p->caller, &err));
}

/* Whether TEXT may be parsed: no deeper and no more values than a request
 * body. */
static bool parsable(struct sp_ws_piston *p, const char *text, size_t length)
{
	struct sp_json_scan scan;
	struct sp_request_failure failure;

	sp_json_scan_init(&scan);
	sp_json_scan_feed(&scan, text, length);
	if (sp_request_shape_failed(&scan, sp_request_max_values(&p->server->config), "message",
				    &failure) == 0)
		return true;
	fail(p, failure.message);
	return false;
}

/* As Piston: a message that is not JSON is an error (4002); one without a
 * type Piston knows is ignored. */
static void on_message(void *user, struct sp_ws_conn *conn, const char *data, size_t length)
{
	struct sp_ws_piston *p = user;
	json_error_t jerr;
	char why[SP_PISTON_MESSAGE_MAX];
	const char *type;
	json_t *msg;

	(void)conn;
	if (atomic_load(&p->over) || !parsable(p, data, length))
		return;
	msg = json_loadb(data, length, JSON_DECODE_ANY, &jerr);
	if (msg == NULL) {
		snprintf(why, sizeof(why), "invalid JSON: %s", jerr.text);
		fail(p, why);
		return;
	}
	type = json_string_value(json_object_get(msg, "type"));
	if (type != NULL && strcmp(type, "init") == 0 && p->initialized)
		close_with(p, SP_PISTON_ALREADY_INITIALIZED, "Already Initialized");
	else if (type != NULL && strcmp(type, "init") == 0) {
		p->initialized = true;
		sp_ws_conn_timer(p->conn, 0);
		on_init(p, msg);
	} else if (type != NULL && strcmp(type, "data") == 0)
		on_data(p, msg);
	else if (type != NULL && strcmp(type, "signal") == 0)
		on_signal(p, msg);
	json_decref(msg);
}

static void on_too_large(void *user, struct sp_ws_conn *conn)
{
	(void)conn;
	fail(user, "the message is larger than ws_max_frame");
}

static void on_opened(void *user, struct sp_ws_conn *conn)
{
	struct sp_ws_piston *p = user;

	p->conn = conn;
	sp_ws_conn_timer(conn, SP_PISTON_INIT_MS);
}

static void on_timer(void *user, struct sp_ws_conn *conn)
{
	struct sp_ws_piston *p = user;

	(void)conn;
	if (!p->initialized)
		close_with(p, SP_PISTON_INIT_TIMEOUT, "Initialization Timeout");
}

/* The connection is gone: its job dies with it (its input came from it). */
static void on_closed(void *user)
{
	struct sp_ws_piston *p = user;
	struct sp_error err = {0};

	sp_hub_forget(p->server->hub, &p->watcher);
	sp_ws_admit_give_back(p->server->ws_admit, &p->place);
	if (p->has_job) {
		if (!sp_queue_ended(p->server->queue, p->id))
			json_decref(sp_queue_cancel(p->server->queue, p->id, p->caller, &err));
		sp_queue_release(p->server->queue, p->id);
	}
	free(p);
}

static bool on_watching(void *user)
{
	struct sp_ws_piston *p = user;

	return sp_hub_watches(&p->watcher) > 0;
}

const struct sp_ws_handlers sp_ws_piston_handlers = {
    .message = on_message,
    .too_large = on_too_large,
    .closed = on_closed,
    .watching = on_watching,
    .opened = on_opened,
    .timer = on_timer,
};

struct sp_ws_piston *sp_ws_piston_new(struct sp_server *server, int caller, const char *address,
				      const struct sp_ws_place *place)
{
	struct sp_ws_piston *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->watcher.deliver = deliver_text;
	p->watcher.deliver_event = deliver_event;
	p->server = server;
	p->caller = caller;
	p->place = *place;
	snprintf(p->address, sizeof(p->address), "%s", address);
	return p;
}
