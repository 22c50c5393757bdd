/* GET /api/v1/ws: the WebSocket API. A client runs jobs and watches them
 * (queued, started, stdout, stderr, result; a judge request a "test" event
 * per test), subscribes to jobs by id or by userId, feeds a running job's
 * stdin, closes it, and cancels.
 *
 * Each client has an outbox of events and a sender thread that writes them,
 * so that no worker ever waits for a slow client; beyond ws_max_backlog
 * bytes, events are dropped, the client is told once, and the connection is
 * closed. */
#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "http_handlers.h"
#include "http_reply.h"
#include "hub.h"
#include "json_depth.h"
#include "jobs.h"
#include "judge.h"
#include "request.h"
#include "sandbox/log.h"

#define INTERACTIVE_STDIN_MAX 65536 /* what a pipe takes without a reader */

struct frame {
	struct frame *next;
	size_t length;
	char data[];
};

/* A job this client started. */
struct client_job {
	struct client_job *next;
	struct sp_job *job;
	int stdin_w; /* write end of an interactive job's stdin, or -1 */
	bool interactive;
};

struct ws_client {
	struct sp_watcher watcher; /* first: the hub hands this back */
	struct sp_server *server;
	struct mg_connection *conn;
	int caller; /* the token index, or SP_CALLER_ANYONE */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct frame *head, *tail;
	size_t backlog;
	bool overflowed; /* events were dropped: tell, then close */
	bool closing;
	bool sender_started;
	pthread_t sender;
	struct client_job *jobs; /* touched by the connection's thread only */
	/* A message in fragments, gathered up to ws_max_frame bytes (the
	 * connection's thread only). */
	char *partial;
	size_t partial_length;
	bool in_fragments;
	bool partial_too_large;
};

/* --- the outbox ------------------------------------------------------------ */

static void enqueue(struct ws_client *c, const char *text, size_t length)
{
	struct frame *f;

	pthread_mutex_lock(&c->lock);
	if (c->closing || c->overflowed)
		goto out;
	if (c->backlog + length > c->server->config.ws_max_backlog) {
		c->overflowed = true;
		pthread_cond_signal(&c->wake);
		goto out;
	}
	f = malloc(sizeof(*f) + length);
	if (f == NULL)
		goto out;
	f->next = NULL;
	f->length = length;
	memcpy(f->data, text, length);
	if (c->tail)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
	c->backlog += length;
	pthread_cond_signal(&c->wake);
out:
	pthread_mutex_unlock(&c->lock);
}

static void deliver(struct sp_watcher *w, const char *text, size_t length)
{
	enqueue((struct ws_client *)w, text, length);
}

/* Send EVENT (stolen) to this client only. */
static void tell(struct ws_client *c, json_t *event)
{
	char *text = event ? json_dumps(event, JSON_COMPACT) : NULL;

	if (text != NULL)
		enqueue(c, text, strlen(text));
	free(text);
	json_decref(event);
}

static void tell_error(struct ws_client *c, const char *code, const char *message, json_t *msg)
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

static void *send_loop(void *arg)
{
	struct ws_client *c = arg;
	static const char dropped[] = "{\"type\":\"error\",\"code\":\"slow_reader\",\"message\":"
				      "\"events were dropped: the client reads too slowly\"}";

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct frame *f;

		while (c->head == NULL && !c->closing && !c->overflowed)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->closing)
			break;
		if (c->head == NULL) { /* overflowed, and the backlog is out */
			pthread_mutex_unlock(&c->lock);
			mg_websocket_write(c->conn, MG_WEBSOCKET_OPCODE_TEXT, dropped,
					   sizeof(dropped) - 1);
			mg_websocket_write(c->conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
			pthread_mutex_lock(&c->lock);
			while (!c->closing)
				pthread_cond_wait(&c->wake, &c->lock);
			break;
		}
		f = c->head;
		c->head = f->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->backlog -= f->length;
		pthread_mutex_unlock(&c->lock);
		mg_websocket_write(c->conn, MG_WEBSOCKET_OPCODE_TEXT, f->data, f->length);
		free(f);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* --- the client's jobs ----------------------------------------------------- */

static struct client_job *find_mine(struct ws_client *c, const char *id)
{
	for (struct client_job *j = c->jobs; j != NULL; j = j->next)
		if (id != NULL && strcmp(sp_job_id(j->job), id) == 0)
			return j;
	return NULL;
}

static void close_stdin(struct client_job *j)
{
	if (j->stdin_w >= 0) {
		close(j->stdin_w);
		j->stdin_w = -1;
	}
}

/* Forget the jobs that ended. */
static void prune_mine(struct ws_client *c)
{
	struct client_job **p = &c->jobs;

	while (*p != NULL) {
		struct client_job *j = *p;

		if (sp_jobs_state(c->server->jobs, j->job) == SP_JOB_DONE) {
			*p = j->next;
			close_stdin(j);
			sp_job_put(c->server->jobs, j->job);
			free(j);
		} else {
			p = &j->next;
		}
	}
}

/* A job of someone else (another token) is as good as unknown. */
static struct sp_job *find_visible(struct ws_client *c, const char *id)
{
	struct sp_job *job = id ? sp_jobs_find(c->server->jobs, id) : NULL;

	if (job != NULL && sp_job_owner(job) != c->caller) {
		sp_job_put(c->server->jobs, job);
		job = NULL;
	}
	return job;
}

/* --- messages ------------------------------------------------------------- */

/* Copy the sealed memfd FD into the pipe W; -1 when it does not fit. (On
 * the heap: civetweb's threads have small stacks.) */
static int prefill(int fd, int w)
{
	char *buf = malloc(INTERACTIVE_STDIN_MAX);
	ssize_t n = buf ? pread(fd, buf, INTERACTIVE_STDIN_MAX, 0) : -1;
	int rc = -1;

	if (n == 0 || (n > 0 && n < INTERACTIVE_STDIN_MAX && write(w, buf, (size_t)n) == n))
		rc = 0;
	free(buf);
	return rc;
}

/* An interactive job reads a pipe the client writes through "stdin"
 * messages; the request's own stdin goes first. Returns the write end. */
static int make_interactive(struct sp_request *req)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (req->stdin_fd >= 0 && prefill(req->stdin_fd, p[1]) < 0) {
		close(p[0]);
		close(p[1]);
		errno = EFBIG;
		return -1;
	}
	if (req->stdin_fd >= 0)
		close(req->stdin_fd);
	req->stdin_fd = p[0];
	return p[1];
}

static void refuse_run(struct ws_client *c, const struct sp_error *err, json_t *msg)
{
	static const struct {
		int errnum;
		const char *code;
	} codes[] = {{EAGAIN, "queue_full"},
		     {EDQUOT, "user_limit"},
		     {EBUSY, "rate_limited"},
		     {ECANCELED, "draining"}};
	const char *code = "internal_error";

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].errnum == err->errnum)
			code = codes[i].code;
	tell_error(c, code, err->message, msg);
}

static void queue_run(struct ws_client *c, json_t *msg, struct sp_request *req, bool interactive)
{
	struct sp_server *server = c->server;
	struct client_job *mine = calloc(1, sizeof(*mine));
	struct sp_job_meta meta = {.user = req->user_id,
				   .cells = sp_judge_cells(c->server, req),
				   .ref = json_string_value(json_object_get(msg, "ref")),
				   .owner = c->caller};
	struct sp_error err = {0};
	char id[33];

	if (mine == NULL || sp_jobs_new_id(id) < 0) {
		free(mine);
		{
			tell_error(c, "internal_error", "out of memory", msg);
			return;
		}
	}
	mine->interactive = interactive;
	mine->stdin_w = interactive ? make_interactive(req) : -1;
	if (interactive && mine->stdin_w < 0) {
		free(mine);
		return tell_error(c, "bad_request",
				  "stdin of an interactive run is at most 64 KiB at the start; "
				  "send the rest in stdin messages",
				  msg);
	}
	meta.id = id;
	/* Watch first: the "queued" event is sent as the job is queued. */
	sp_hub_watch_job(server->hub, &c->watcher, id, c->caller);
	mine->job = sp_jobs_submit(server->jobs, req,
				   (size_t)(req->language - server->languages.items), &meta, &err);
	if (mine->job == NULL) {
		sp_hub_unwatch_job(server->hub, &c->watcher, id);
		close_stdin(mine);
		free(mine);
		{
			refuse_run(c, &err, msg);
			return;
		}
	}
	mine->next = c->jobs;
	c->jobs = mine;
}

static void on_run(struct ws_client *c, json_t *msg, const char *text, size_t length,
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
	if (interactive && req.mode == SP_REQUEST_JUDGE) {
		tell_error(c, "bad_request",
			   "a judge request takes its input from its tests, "
			   "not interactively",
			   msg);
		sp_request_free(&req);
		return;
	}
	queue_run(c, msg, &req, interactive);
	sp_request_free(&req);
}

static void on_subscribe(struct ws_client *c, json_t *msg)
{
	const char *id = json_string_value(json_object_get(msg, "id"));
	const char *user = json_string_value(json_object_get(msg, "userId"));
	struct sp_job *job;
	enum sp_job_end end;
	json_t *result;

	if (user != NULL) {
		if (sp_hub_watch_user(c->server->hub, &c->watcher, user, c->caller) < 0) {
			tell_error(c, "internal_error", "out of memory", msg);
			return;
		}
		{
			tell(c, json_pack("{s:s, s:s}", "type", "subscribed", "userId", user));
			return;
		}
	}
	sp_hub_watch_job(c->server->hub, &c->watcher, id ? id : "", c->caller);
	job = find_visible(c, id);
	if (job == NULL) {
		sp_hub_unwatch_job(c->server->hub, &c->watcher, id ? id : "");
		{
			tell_error(c, "not_found", "no such job (or no longer kept)", msg);
			return;
		}
	}
	tell(c, json_pack("{s:s, s:s}", "type", "subscribed", "id", id));
	/* Ended already: its result now (the watch ends with it). */
	result = sp_jobs_result(c->server->jobs, job, &end);
	if (result != NULL) {
		sp_hub_unwatch_job(c->server->hub, &c->watcher, id);
		tell(c, json_pack("{s:s, s:s, s:o}", "type", "result", "id", id, "result", result));
	}
	sp_job_put(c->server->jobs, job);
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

static void on_stdin(struct ws_client *c, json_t *msg, bool close_it)
{
	struct client_job *j = find_mine(c, json_string_value(json_object_get(msg, "id")));
	unsigned char *bytes;
	size_t len = 0;
	ssize_t n;

	if (j == NULL || !j->interactive) {
		tell_error(c, "not_found", "no interactive run of yours with this id", msg);
		return;
	}
	if (close_it) {
		close_stdin(j);
		return;
	}
	if (j->stdin_w < 0) {
		tell_error(c, "stdin_closed", "the program's input is closed", msg);
		return;
	}
	bytes = stdin_bytes(msg, &len);
	if (bytes == NULL) {
		tell_error(c, "bad_request", "data must be a string (base64 with encoding)", msg);
		return;
	}
	n = write(j->stdin_w, bytes, len);
	free(bytes);
	if (n < 0 && errno == EAGAIN)
		tell_error(c, "stdin_full",
			   "the program has not read its input yet; send again later", msg);
	else if (n < 0)
		tell_error(c, "stdin_closed", "the program's input is closed", msg);
	else if ((size_t)n < len)
		tell_error(c, "stdin_full", "part of the data was taken; send the rest later", msg);
}

static void on_cancel(struct ws_client *c, json_t *msg)
{
	struct sp_job *job = find_visible(c, json_string_value(json_object_get(msg, "id")));

	if (job == NULL) {
		tell_error(c, "not_found", "no such job", msg);
		return;
	}
	sp_jobs_cancel(c->server->jobs, job);
	sp_job_put(c->server->jobs, job);
}

static void on_message(struct ws_client *c, const char *text, size_t length)
{
	bool shallow = sp_json_nests_within(text, length, SP_REQUEST_MAX_DEPTH);
	json_t *msg = shallow ? json_loadb(text, length, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const char *type = json_string_value(json_object_get(msg, "type"));

	prune_mine(c);
	if (!shallow)
		tell_error(c, "bad_json", "the message nests deeper than 64 levels", NULL);
	else if (!json_is_object(msg))
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

/* --- civetweb's handlers ------------------------------------------------ */

/* The token: an Authorization header, or ?token= (browsers cannot set
 * headers on a WebSocket). */
int sp_http_ws_caller(const struct mg_connection *conn, const struct sp_config *config)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char token[300];
	int caller = sp_http_caller((struct mg_connection *)conn, config);

	if (caller != SP_CALLER_UNKNOWN || ri->query_string == NULL)
		return caller;
	if (mg_get_var(ri->query_string, strlen(ri->query_string), "token", token, sizeof(token)) <=
	    0)
		return SP_CALLER_UNKNOWN;
	caller = sp_http_token_match(config, token);
	return caller >= 0 ? caller : SP_CALLER_UNKNOWN;
}

int sp_http_ws_connect(const struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	int caller = sp_http_ws_caller(conn, &server->config);
	struct ws_client *c;

	if (caller == SP_CALLER_UNKNOWN || atomic_load(&server->draining))
		return 1; /* refused: civetweb answers the upgrade with an error */
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return 1;
	c->watcher.deliver = deliver;
	c->server = server;
	c->caller = caller;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	mg_set_user_connection_data(conn, c);
	return 0;
}

void sp_http_ws_ready(struct mg_connection *conn, void *data)
{
	struct ws_client *c = mg_get_user_connection_data(conn);

	(void)data;
	c->conn = conn;
	c->sender_started = pthread_create(&c->sender, NULL, send_loop, c) == 0;
	if (!c->sender_started)
		log_warn("websocket: cannot start a sender thread");
}

static void forget_fragments(struct ws_client *c)
{
	free(c->partial);
	c->partial = NULL;
	c->partial_length = 0;
	c->in_fragments = false;
	c->partial_too_large = false;
}

/* One more fragment of a message; the message when FIN ends it. */
static void gather(struct ws_client *c, const char *data, size_t length, bool fin)
{
	size_t max = c->server->config.ws_max_frame;
	char *grown;

	if (!c->partial_too_large && length > max - c->partial_length) {
		c->partial_too_large = true;
	} else if (!c->partial_too_large) {
		grown = realloc(c->partial, c->partial_length + length + 1);
		if (grown == NULL) {
			c->partial_too_large = true;
		} else {
			c->partial = grown;
			memcpy(c->partial + c->partial_length, data, length);
			c->partial_length += length;
		}
	}
	if (!fin)
		return;
	if (c->partial_too_large)
		tell_error(c, "frame_too_large", "the message is larger than ws_max_frame", NULL);
	else
		on_message(c, c->partial ? c->partial : "", c->partial_length);
	forget_fragments(c);
}

int sp_http_ws_data(struct mg_connection *conn, int bits, char *data, size_t length, void *cbdata)
{
	struct ws_client *c = mg_get_user_connection_data(conn);
	int opcode = bits & 0x0f;
	bool fin = (bits & 0x80) != 0;

	(void)cbdata;
	if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
		return 0;
	if (opcode == MG_WEBSOCKET_OPCODE_CONTINUATION && c->in_fragments) {
		gather(c, data, length, fin);
		return 1;
	}
	if (opcode != MG_WEBSOCKET_OPCODE_TEXT && opcode != MG_WEBSOCKET_OPCODE_BINARY)
		return 1; /* ping, pong: civetweb's business */
	forget_fragments(c);
	if (!fin) {
		c->in_fragments = true;
		gather(c, data, length, false);
	} else if (length > c->server->config.ws_max_frame) {
		tell_error(c, "frame_too_large", "the message is larger than ws_max_frame", NULL);
	} else {
		on_message(c, data, length);
	}
	return 1;
}

void sp_http_ws_close(const struct mg_connection *conn, void *data)
{
	struct ws_client *c = mg_get_user_connection_data(conn);

	(void)data;
	if (c == NULL)
		return;
	sp_hub_forget(c->server->hub, &c->watcher);
	pthread_mutex_lock(&c->lock);
	c->closing = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	if (c->sender_started)
		pthread_join(c->sender, NULL);
	/* Interactive runs die with their client; the others run on. */
	while (c->jobs != NULL) {
		struct client_job *j = c->jobs;

		c->jobs = j->next;
		if (j->interactive)
			sp_jobs_cancel(c->server->jobs, j->job);
		close_stdin(j);
		sp_job_put(c->server->jobs, j->job);
		free(j);
	}
	while (c->head != NULL) {
		struct frame *f = c->head;

		c->head = f->next;
		free(f);
	}
	forget_fragments(c);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	mg_set_user_connection_data(conn, NULL);
	free(c);
}
