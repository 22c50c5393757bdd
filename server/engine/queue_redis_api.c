/* The queue's Redis backend, its API side: jobs submitted, waited for,
 * viewed, cancelled by id in Redis; bodies being parsed held here. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue_redis_parts.h"
#include "sandbox/base/clock.h"
#include "sandbox/base/log.h"

#define WAIT_POLL_MS   1000 /* a waiter looks at its job this often without news */
#define WATCHED_FOR_MS 250  /* whether a running job is watched holds this long */

/* --- a job as Redis says it -------------------------------------------- */

/* The fields of a view script's reply. */
enum {
	F_STATE,
	F_LANG,
	F_CREATED,
	F_STARTED,
	F_FINISHED,
	F_OWNER,
	F_NOW,
	F_RESULT,
	F_KEEP,
	F_USER,
	F_REF,
	F_ECHO
};

static const char *field(const redisReply *r, int i)
{
	return r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : NULL;
}

static long long number(const redisReply *r, int i)
{
	const char *s = field(r, i);

	return s ? atoll(s) : 0;
}

/* The view of job ID, its owner checked; expired here when it waited too
 * long. Returns the script's reply, or NULL with ERR. */
static redisReply *look(struct redis_queue *q, const char *id, int owner, struct sp_error *err);

static void job_of(const redisReply *r, const char *id, struct sp_queue_job *job)
{
	*job = (struct sp_queue_job){
	    .user = field(r, F_USER), .ref = field(r, F_REF), .owner = (int)number(r, F_OWNER)};
	snprintf(job->id, sizeof(job->id), "%s", id);
}

/* A queued job past the queue timeout ends expired (once, whoever sees it
 * first: a waiter, a viewer, or the worker that takes it). Returns whether
 * it was due. */
static bool expire_if_due(struct redis_queue *q, struct sp_redis_link *link, const char *id,
			  const redisReply *r)
{
	uint64_t limit = (uint64_t)q->c.config->queue_timeout_s * 1000;
	struct sp_queue_job job;
	struct sp_error err = {0};
	char message[128];
	json_t *result;

	if (limit == 0 || field(r, F_RESULT) != NULL || field(r, F_STATE) == NULL ||
	    strcmp(field(r, F_STATE), "queued") != 0 ||
	    (uint64_t)(number(r, F_NOW) - number(r, F_CREATED)) <= limit)
		return false;
	snprintf(message, sizeof(message), "not started within the queue timeout (%llu ms)",
		 (unsigned long long)limit);
	result = rq_unrun_result(q, field(r, F_LANG), SP_JOB_EXPIRED, message);
	job_of(r, id, &job);
	if (result != NULL)
		json_object_set_new(result, "id", json_string(id));
	if (result != NULL && rq_script_finish(q, link, &job, SP_JOB_EXPIRED, result, &err) < 0)
		log_warn("expire job %s: %s", id, err.message);
	json_decref(result);
	return true;
}

static redisReply *look(struct redis_queue *q, const char *id, int owner, struct sp_error *err)
{
	struct sp_redis_link *link = rq_link_take(q);
	redisReply *r = rq_script_view(link, id, err);

	if (r != NULL && expire_if_due(q, link, id, r)) {
		freeReplyObject(r);
		r = rq_script_view(link, id, err);
	}
	rq_link_give(q, link);
	if (r != NULL && owner != INT32_MIN && number(r, F_OWNER) != owner) {
		freeReplyObject(r);
		sp_error_set(err, ENOENT, "no such job");
		return NULL;
	}
	return r;
}

/* The stored result of view R: {"end", "result"}, parsed. */
static json_t *stored_result(const redisReply *r, enum sp_job_end *end)
{
	json_t *stored = field(r, F_RESULT) ? json_loads(field(r, F_RESULT), 0, NULL) : NULL;
	json_t *result = json_incref(json_object_get(stored, "result"));

	*end = rq_end_of(json_string_value(json_object_get(stored, "end")));
	json_decref(stored);
	return result;
}

/* {"id", "state", "language", "queued_ms", "run_ms"?, "result"?, "echo"?}
 * of view R. */
static json_t *describe(const char *id, const redisReply *r)
{
	const char *state = field(r, F_STATE) ? field(r, F_STATE) : "queued";
	long long now = number(r, F_NOW), created = number(r, F_CREATED);
	long long started = number(r, F_STARTED), finished = number(r, F_FINISHED);
	bool queued = strcmp(state, "queued") == 0, done = field(r, F_RESULT) != NULL;
	enum sp_job_end end;
	json_t *obj;

	obj = json_pack("{s:s, s:s, s:s, s:I}", "id", id, "state", done ? "done" : state,
			"language", field(r, F_LANG) ? field(r, F_LANG) : "", "queued_ms",
			(json_int_t)((queued && !done ? now
				      : started	      ? started
						      : now) -
				     created));
	if (obj != NULL && !queued && started)
		json_object_set_new(
		    obj, "run_ms",
		    json_integer((json_int_t)((done && finished ? finished : now) - started)));
	if (obj != NULL && done)
		json_object_set_new(obj, "result", stored_result(r, &end));
	else if (obj != NULL && r->elements > F_ECHO && field(r, F_ECHO) != NULL)
		json_object_set_new(obj, "echo", json_loads(field(r, F_ECHO), 0, NULL));
	return obj;
}

/* --- the operations ---------------------------------------------------- */

/* The body of ORDER, NUL-terminated, in *TEXT (free() it). */
static int body_text(const struct sp_queue_order *order, char **text, struct sp_error *err)
{
	char *buf = malloc(order->body_length + 1);
	size_t got = 0;

	if (buf == NULL)
		return sp_error_set(err, ENOMEM, "the body");
	if (order->body != NULL) {
		memcpy(buf, order->body, order->body_length);
		got = order->body_length;
	}
	while (order->body == NULL && got < order->body_length) {
		ssize_t n = pread(order->body_fd, buf + got, order->body_length - got, (off_t)got);

		if (n <= 0) {
			free(buf);
			return sp_error_set(err, n < 0 ? errno : EIO, "read the body");
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*text = buf;
	return 0;
}

/* EVENT (taken) of JOB to every node's watchers. */
static void publish_on(struct sp_redis_link *link, const struct sp_queue_job *job, json_t *event)
{
	json_t *msg;
	char *text;
	struct sp_error err = {0};
	redisReply *reply;

	json_object_set_new(event, "id", json_string(job->id));
	if (job->ref != NULL)
		json_object_set_new(event, "ref", json_string(job->ref));
	msg = json_pack("{s:s?, s:i, s:O}", "user", job->user, "owner", job->owner, "event", event);
	text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	reply = text ? sp_redis_command(link, &err, "PUBLISH %s %s", RQ_EVENTS, text) : NULL;
	if (reply != NULL)
		freeReplyObject(reply);
	free(text);
	json_decref(msg);
}

static unsigned long long mib(uint64_t n)
{
	return (unsigned long long)(n >> 20);
}

/* A job that could never fit in what a node holds for requests (its inputs
 * and the output its limits allow) is refused here, as one process refuses
 * it: no worker could run it. */
static int could_never_fit(struct redis_queue *q, const struct sp_request *req,
			   const struct sp_queue_order *order, struct sp_error *err)
{
	uint64_t limit = q->bytes.limit, held = sp_request_memory(req), reserve = 0;

	if (q->c.worker.measure != NULL)
		q->c.worker.measure(q->c.worker.ctx, req, order->cells ? order->cells : 1, &held,
				    &reserve);
	if (limit == 0 || (held <= limit && reserve <= limit - held))
		return 0;
	return sp_error_set(err, E2BIG,
			    "the request could take %llu MiB (a job: its inputs and the output its "
			    "limits allow), more than this server holds for all requests (%llu "
			    "MiB)",
			    mib(held + reserve), mib(limit));
}

static int redis_submit(void *self, struct sp_request *req, size_t language,
			const struct sp_queue_order *order, char id[SP_QUEUE_ID_SIZE],
			struct sp_error *err)
{
	struct redis_queue *q = self;
	char owner[24], cells[24], *body = NULL;
	const char *fields[24];
	size_t n = 0;
	struct sp_redis_link *link;
	long long position;
	struct sp_queue_job job = {.user = order->user && *order->user ? order->user : NULL,
				   .ref = order->ref && *order->ref ? order->ref : NULL,
				   .owner = order->owner,
				   .language = language};

	if (atomic_load(&q->draining))
		return sp_error_set(err, ECANCELED, "the server is shutting down");
	if (could_never_fit(q, req, order, err) < 0)
		return -1;
	if (order->id != NULL)
		snprintf(job.id, sizeof(job.id), "%s", order->id);
	else if (sp_queue_new_id(job.id) < 0)
		return sp_error_set(err, EIO, "no random bytes for a job id");
	if (body_text(order, &body, err) < 0)
		return -1;
	snprintf(owner, sizeof(owner), "%d", order->owner);
	snprintf(cells, sizeof(cells), "%u", order->cells ? order->cells : 1);
	fields[n++] = "body", fields[n++] = body;
	fields[n++] = "mode", fields[n++] = req->mode == SP_REQUEST_JUDGE ? "judge" : "run";
	fields[n++] = "lang", fields[n++] = q->c.languages->items[language].name;
	fields[n++] = "owner", fields[n++] = owner;
	fields[n++] = "cells", fields[n++] = cells;
	fields[n++] = "keep", fields[n++] = order->keep ? "1" : "0";
	if (order->interactive)
		fields[n++] = "interactive", fields[n++] = "1";
	if (order->watched)
		fields[n++] = "watched", fields[n++] = "1";
	if (job.user != NULL)
		fields[n++] = "user", fields[n++] = job.user;
	if (job.ref != NULL)
		fields[n++] = "ref", fields[n++] = job.ref;
	if (req->echo != NULL)
		fields[n++] = "echo", fields[n++] = req->echo;
	link = rq_link_take(q);
	position = rq_script_submit(q, link, job.id, language, &job, fields, n, err);
	rq_link_give(q, link);
	free(body);
	if (position < 0)
		return -1;
	sp_request_free(req);
	memset(req, 0, sizeof(*req));
	req->stdin_fd = -1;
	memcpy(id, job.id, SP_QUEUE_ID_SIZE);
	return 0;
}

/* Until W is woken, or MS have passed. */
static void wait_woken(struct redis_queue *q, struct rq_waiter *w, uint64_t ms)
{
	struct timespec until = sp_clock_timespec(sp_clock_ms() + ms);

	pthread_mutex_lock(&q->lock);
	while (!w->woken && !atomic_load(&q->stopping) &&
	       pthread_cond_timedwait(&w->cond, &q->lock, &until) == 0) {
	}
	w->woken = false;
	pthread_mutex_unlock(&q->lock);
}

static void waiter_add(struct redis_queue *q, struct rq_waiter *w)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_lock(&q->lock);
	w->next = q->waiters;
	q->waiters = w;
	pthread_mutex_unlock(&q->lock);
}

static void waiter_remove(struct redis_queue *q, struct rq_waiter *w)
{
	pthread_mutex_lock(&q->lock);
	for (struct rq_waiter **p = &q->waiters; *p != NULL; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	pthread_cond_destroy(&w->cond);
}

/* Whether the job of W has ended, as its result event said, or as Redis
 * says. *SINCE is when Redis stopped answering (0: it answers). */
static bool ended(struct redis_queue *q, struct rq_waiter *w, uint64_t *since)
{
	struct sp_error err = {0};
	redisReply *r;
	bool done;

	pthread_mutex_lock(&q->lock);
	done = w->ended;
	pthread_mutex_unlock(&q->lock);
	if (done)
		return true;
	r = look(q, w->id, INT32_MIN, &err);
	done = r == NULL ? err.errnum == ENOENT : field(r, F_RESULT) != NULL;
	if (r != NULL) {
		freeReplyObject(r);
		*since = 0;
	} else if (*since == 0) {
		*since = sp_clock_ms();
	}
	return done;
}

/* Until the job ID ends: woken by its result event, looking at Redis each
 * WAIT_POLL_MS meanwhile (an event may be lost while the listener
 * reconnects); given up when Redis does not answer for a lease. */
static void redis_wait(void *self, const char *id)
{
	struct redis_queue *q = self;
	struct rq_waiter w = {.id = id};
	uint64_t unreachable_since = 0;
	uint64_t patience = (uint64_t)q->c.config->queue_lease_s * 1000;

	waiter_add(q, &w);
	while (!atomic_load(&q->stopping) && !ended(q, &w, &unreachable_since) &&
	       !(unreachable_since && sp_clock_ms() - unreachable_since > patience))
		wait_woken(q, &w, WAIT_POLL_MS);
	waiter_remove(q, &w);
	if (w.news != NULL) {
		/* kept for the result read next, until released */
		pthread_mutex_lock(&q->lock);
		w.news->next = q->handed;
		q->handed = w.news;
		pthread_mutex_unlock(&q->lock);
	}
}

static void news_free(struct rq_news_result *n)
{
	json_decref(n->result);
	free(n);
}

/* The result of job ID its news handed to a waiter here, taken; NULL when
 * none was. */
static struct rq_news_result *handed_take(struct redis_queue *q, const char *id)
{
	struct rq_news_result *n = NULL;

	pthread_mutex_lock(&q->lock);
	for (struct rq_news_result **p = &q->handed; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->id, id) == 0) {
			n = *p;
			*p = n->next;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

static int redis_result(void *self, const char *id, int owner, json_t **result,
			enum sp_job_end *end, struct sp_error *err)
{
	struct redis_queue *q = self;
	struct rq_news_result *news = handed_take(q, id);
	redisReply *r;

	*result = NULL;
	if (news != NULL && (owner == INT32_MIN || news->owner == owner)) {
		*result = json_incref(news->result);
		*end = news->end;
		news_free(news);
		return 0;
	}
	if (news != NULL)
		news_free(news);
	r = look(q, id, owner, err);
	if (r == NULL)
		return -1;
	if (field(r, F_RESULT) != NULL)
		*result = stored_result(r, end);
	freeReplyObject(r);
	return 0;
}

static json_t *redis_view(void *self, const char *id, int owner, struct sp_error *err)
{
	struct redis_queue *q = self;
	redisReply *r = look(q, id, owner, err);
	json_t *view;

	if (r == NULL)
		return NULL;
	view = describe(id, r);
	freeReplyObject(r);
	return view;
}

/* The queued job of view R is cancelled: it ends now. */
static void end_cancelled(struct redis_queue *q, const char *id, const redisReply *r)
{
	json_t *result =
	    rq_unrun_result(q, field(r, F_LANG), SP_JOB_CANCELLED, "cancelled while queued");
	struct sp_redis_link *link = rq_link_take(q);
	struct sp_queue_job job;
	struct sp_error err = {0};

	job_of(r, id, &job);
	if (result != NULL)
		json_object_set_new(result, "id", json_string(id));
	if (result != NULL && rq_script_finish(q, link, &job, SP_JOB_CANCELLED, result, &err) < 0)
		log_warn("cancel job %s: %s", id, err.message);
	rq_link_give(q, link);
	json_decref(result);
}

static json_t *redis_cancel(void *self, const char *id, int owner, struct sp_error *err)
{
	struct redis_queue *q = self;
	redisReply *before = look(q, id, owner, err), *said;
	struct sp_redis_link *link;
	json_t *view;

	if (before == NULL)
		return NULL;
	link = rq_link_take(q);
	said = rq_script_cancel(link, id, owner, err);
	rq_link_give(q, link);
	if (said == NULL || said->type != REDIS_REPLY_STRING || strcmp(said->str, "unknown") == 0) {
		if (said != NULL)
			sp_error_set(err, ENOENT, "no such job");
		freeReplyObject(before);
		if (said != NULL)
			freeReplyObject(said);
		return NULL;
	}
	if (strcmp(said->str, "queued") == 0)
		end_cancelled(q, id, before);
	view = strcmp(said->str, "dropped") == 0 ? describe(id, before)
						 : redis_view(self, id, owner, err);
	freeReplyObject(said);
	freeReplyObject(before);
	return view;
}

static bool redis_ended(void *self, const char *id)
{
	struct redis_queue *q = self;
	struct sp_error err = {0};
	redisReply *r = look(q, id, INT32_MIN, &err);
	bool ended = r == NULL ? err.errnum == ENOENT : field(r, F_RESULT) != NULL;

	if (r != NULL)
		freeReplyObject(r);
	return ended;
}

static ssize_t redis_stdin(void *self, const char *id, int owner, const void *data, size_t len,
			   bool close, struct sp_error *err)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	ssize_t n = rq_script_stdin(q, link, id, owner, data, len, close, err);

	rq_link_give(q, link);
	return n;
}

/* An ended job stays in Redis for its time (RQ_UNKEPT_TTL_S, or the
 * retention when kept), whoever held it; a result its news handed to this
 * node and not read goes. */
static void redis_release(void *self, const char *id)
{
	struct rq_news_result *news = handed_take(self, id);

	if (news != NULL)
		news_free(news);
}

static void redis_publish(void *self, const struct sp_queue_job *job, json_t *event)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link;

	if (event == NULL)
		return;
	link = rq_link_take(q);
	publish_on(link, job, json_incref(event));
	rq_link_give(q, link);
}

/* Whether a node watches JOB, running here: as its start script said, or
 * as Redis says once that is older than WATCHED_FOR_MS. When Redis cannot
 * say, it is (its events go out). */
static bool redis_watched(void *self, const struct sp_queue_job *job)
{
	struct redis_queue *q = self;
	uint64_t now = sp_clock_ms();
	struct sp_error err = {0};
	struct sp_redis_link *link;
	struct rq_running *r;
	int watched = -1;

	pthread_mutex_lock(&q->lock);
	r = rq_running_find(q, job->id);
	if (r != NULL && r->watched_ms != 0 && now - r->watched_ms < WATCHED_FOR_MS)
		watched = r->watched;
	pthread_mutex_unlock(&q->lock);
	if (watched >= 0)
		return watched;
	link = rq_link_take(q);
	watched = rq_script_watched(link, job->id, &err);
	rq_link_give(q, link);
	if (watched < 0)
		return true;
	rq_running_watched(q, job->id, watched);
	return watched;
}

static void redis_topic(void *self, const char *key, bool user, int owner, bool watched)
{
	rq_watches_topic(self, key, user, owner, watched);
}

static void redis_topics_sync(void *self)
{
	rq_watches_sync(self);
}

static int redis_hold(void *self, const struct sp_bytes_holder *h, uint64_t n, struct sp_error *err)
{
	struct redis_queue *q = self;
	uint64_t held = 0;
	const char *kind;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	if (q->bytes.limit && n > q->bytes.limit)
		rc = sp_error_set(err, E2BIG,
				  "the request could take %llu MiB, more than this "
				  "server holds for all requests (%llu MiB)",
				  mib(n), mib(q->bytes.limit));
	else if (!sp_job_bytes_fit(&q->bytes, n))
		rc = sp_error_set(err, ENOSPC,
				  "the server holds %llu MiB for requests, the most "
				  "it may (memory_max_mb); try again later",
				  mib(sp_job_bytes_total(&q->bytes)));
	else if ((kind = sp_job_bytes_over_share(&q->bytes, h, n, &held)) != NULL)
		rc = sp_error_set(err, ENOBUFS,
				  "this %s holds %llu MiB of requests already, and "
				  "may hold %llu (memory_share_percent); try again later",
				  kind, mib(held), mib(q->bytes.share));
	else if (sp_job_bytes_add(&q->bytes, SP_BYTES_BODIES, h, n) < 0)
		rc = sp_error_set(err, ENOMEM, "out of memory");
	sp_job_bytes_note_peak(&q->bytes);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

static void redis_unhold(void *self, const struct sp_bytes_holder *h, uint64_t n)
{
	struct redis_queue *q = self;

	pthread_mutex_lock(&q->lock);
	sp_job_bytes_sub(&q->bytes, SP_BYTES_BODIES, h, n);
	pthread_mutex_unlock(&q->lock);
}

/* Per-minute windows are Redis' minutes: what is left of this one. */
static unsigned redis_retry_after(void *self, const char *user)
{
	(void)self;
	(void)user;
	return (unsigned)(60 - time(NULL) % 60);
}

static void redis_stats(void *self, size_t language, struct sp_queue_stats *stats)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	struct sp_error err = {0};

	*stats = (struct sp_queue_stats){0};
	for (size_t i = 0; i < q->c.languages->count; i++) {
		unsigned queued, running;

		if (language != (size_t)-1 && i != language)
			continue;
		rq_script_stats(q, link, i, &queued, &running, &err);
		stats->queued += queued;
		stats->running += running;
	}
	rq_link_give(q, link);
	stats->backend = "redis";
	stats->reachable = atomic_load(&q->listening);
	stats->deliveries = atomic_load(&q->deliveries);
	stats->redeliveries = atomic_load(&q->redeliveries);
	stats->set_aside = atomic_load(&q->dead);
	if (language != (size_t)-1)
		return;
	pthread_mutex_lock(&q->lock);
	memcpy(stats->bytes, q->bytes.held, sizeof(stats->bytes));
	stats->bytes_limit = q->bytes.limit;
	stats->bytes_peak = q->bytes.peak;
	pthread_mutex_unlock(&q->lock);
}

static json_t *redis_workers(void *self, struct sp_error *err)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	redisReply *r = rq_script_workers(link, RQ_GONE_MS, RQ_FORGET_MS, err);
	json_t *list = r ? json_array() : NULL;

	rq_link_give(q, link);
	for (size_t i = 1; list != NULL && r->type == REDIS_REPLY_ARRAY && i + 2 < r->elements;
	     i += 3) {
		const redisReply *last = r->element[i + 1], *about = r->element[i + 2];
		json_t *w =
		    about->type == REDIS_REPLY_STRING ? json_loads(about->str, 0, NULL) : NULL;

		if (!json_is_object(w) || last->type != REDIS_REPLY_STRING) {
			json_decref(w);
			continue;
		}
		json_object_set_new(w, "last_seen_ms", json_integer(atoll(last->str)));
		json_array_append_new(list, w);
	}
	if (r != NULL)
		freeReplyObject(r);
	return list;
}

/* Nothing runs here and nothing waits here any more. */
static bool idle(struct redis_queue *q)
{
	bool none;

	pthread_mutex_lock(&q->lock);
	none = q->running == NULL && q->waiters == NULL;
	pthread_mutex_unlock(&q->lock);
	return none;
}

/* The job ID a waiter here waits for ends SP_JOB_SHUTDOWN if it has not
 * started: this node stops, and its client with it. */
static void end_unstarted(struct redis_queue *q, const char *id)
{
	struct sp_error err = {0};
	redisReply *r = look(q, id, INT32_MIN, &err);
	struct sp_redis_link *link;
	struct sp_queue_job job;
	json_t *result;

	if (r == NULL)
		return;
	if (field(r, F_RESULT) == NULL && field(r, F_STATE) != NULL &&
	    strcmp(field(r, F_STATE), "queued") == 0) {
		result = rq_unrun_result(q, field(r, F_LANG), SP_JOB_SHUTDOWN,
					 "the server stopped before the job ran");
		job_of(r, id, &job);
		link = rq_link_take(q);
		if (result != NULL) {
			json_object_set_new(result, "id", json_string(id));
			rq_script_finish(q, link, &job, SP_JOB_SHUTDOWN, result, &err);
		}
		rq_link_give(q, link);
		json_decref(result);
	}
	freeReplyObject(r);
}

/* The jobs the waiters of this node wait for, if they have not started,
 * end now. */
static void end_waited_unstarted(struct redis_queue *q)
{
	char(*ids)[SP_QUEUE_ID_SIZE] = NULL;
	size_t n = 0;

	pthread_mutex_lock(&q->lock);
	for (struct rq_waiter *w = q->waiters; w != NULL; w = w->next)
		n++;
	ids = n ? calloc(n, sizeof(*ids)) : NULL;
	n = 0;
	for (struct rq_waiter *w = q->waiters; ids != NULL && w != NULL; w = w->next)
		snprintf(ids[n++], SP_QUEUE_ID_SIZE, "%s", w->id);
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < n; i++)
		end_unstarted(q, ids[i]);
	free(ids);
}

/* Take no new job; the jobs waited for here that have not started end (this
 * node's clients go with it); let the running ones and the waiters have
 * GRACE_MS; then the running ones are killed, their entries left to other
 * workers, and the waiters let go. */
static void redis_stop(void *self, uint64_t grace_ms)
{
	struct redis_queue *q = self;
	uint64_t deadline = sp_clock_ms() + grace_ms;

	atomic_store(&q->draining, true);
	end_waited_unstarted(q);
	while (!idle(q) && sp_clock_ms() < deadline)
		usleep(50 * 1000);
	atomic_store(&q->stopping, true);
	rq_cancel_running(q, NULL);
	rq_wake(q, NULL);
	rq_workers_stop(q);
}

static void redis_free(void *self)
{
	struct redis_queue *q = self;

	atomic_store(&q->stopping, true);
	rq_workers_stop(q);
	rq_listener_stop(q);
	rq_watches_stop(q);
	for (unsigned i = 0; i < RQ_LINKS; i++) {
		sp_redis_link_drop(&q->links[i].link);
		pthread_mutex_destroy(&q->links[i].lock);
	}
	while (q->handed != NULL) {
		struct rq_news_result *n = q->handed;

		q->handed = n->next;
		news_free(n);
	}
	sp_job_bytes_free(&q->bytes);
	free(q->next_reclaim);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static const struct sp_queue_ops redis_ops = {
    .submit = redis_submit,
    .wait = redis_wait,
    .result = redis_result,
    .view = redis_view,
    .cancel = redis_cancel,
    .ended = redis_ended,
    .release = redis_release,
    .stdin_write = redis_stdin,
    .publish = redis_publish,
    .watched = redis_watched,
    .topic = redis_topic,
    .topics_sync = redis_topics_sync,
    .share_open = rq_share_open,
    .share_program = rq_share_program,
    .share_next = rq_share_next,
    .share_put = rq_share_put,
    .share_outcomes = rq_share_outcomes,
    .share_close = rq_share_close,
    .problem_put = rq_problem_put,
    .problem_get = rq_problem_get,
    .problem_drop = rq_problem_drop,
    .problem_has = rq_problem_has,
    .problem_ids = rq_problem_ids,
    .hold = redis_hold,
    .unhold = redis_unhold,
    .retry_after = redis_retry_after,
    .stats = redis_stats,
    .workers = redis_workers,
    .stop = redis_stop,
    .free = redis_free,
};

/* Redis is there, and lets us in. */
static int reach(struct redis_queue *q, struct sp_error *err)
{
	struct sp_redis_link *link = rq_link_take(q);
	redisReply *r = sp_redis_command(link, err, "PING");

	rq_link_give(q, link);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

static struct redis_queue *queue_new(const struct sp_queue_redis_config *config)
{
	struct redis_queue *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->c = *config;
	for (unsigned i = 0; i < RQ_LINKS; i++) {
		pthread_mutex_init(&q->links[i].lock, NULL);
		sp_redis_link_init(&q->links[i].link, &config->url, RQ_TIMEOUT_MS);
	}
	pthread_mutex_init(&q->lock, NULL);
	q->next_reclaim = calloc(config->languages->count + 1, sizeof(*q->next_reclaim));
	if (q->next_reclaim == NULL ||
	    sp_job_bytes_init(&q->bytes, config->max_bytes, config->share_bytes) < 0) {
		redis_free(q);
		return NULL;
	}
	return q;
}

int sp_queue_redis_start(struct sp_queue **queue, const struct sp_queue_redis_config *config,
			 struct sp_error *err)
{
	struct sp_queue *handle = calloc(1, sizeof(*handle));
	struct redis_queue *q = queue_new(config);

	if (handle == NULL || q == NULL) {
		free(handle);
		if (q != NULL)
			redis_free(q);
		return sp_error_set(err, ENOMEM, "queue");
	}
	/* in place before a worker starts: its first job may run at once, and
	 * reaches the queue through *QUEUE */
	*handle = (struct sp_queue){.ops = &redis_ops, .self = q};
	*queue = handle;
	if (reach(q, err) < 0 || rq_listener_start(q, err) < 0 ||
	    (config->watchers.deliver != NULL && rq_watches_start(q, err) < 0) ||
	    (config->capacity != NULL && rq_workers_start(q, err) < 0)) {
		redis_free(q);
		*queue = NULL;
		free(handle);
		return -1;
	}
	return 0;
}
