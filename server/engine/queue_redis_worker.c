/* The Redis backend's worker side: one thread per cell of each language
 * this node runs, each a consumer in the group "workers" of its language's
 * streams (one per user). A thread takes the next user's next job, or else
 * one whose worker went silent past the lease (XAUTOCLAIM); runs it; writes
 * its result once; acknowledges and deletes the entry. Running jobs renew
 * their lease; a job delivered too often is set aside; this node says it is
 * there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "queue_redis_parts.h"
#include "sandbox/base/clock.h"
#include "sandbox/base/log.h"
#include "server/job/request_stdin.h"

#define RETRY_MS   500	/* after Redis failed a worker's read */
#define RECLAIM_MS 1000 /* a node looks for silent workers' jobs this often */

struct rq_slot {
	struct redis_queue *q;
	size_t language;
	char ready[RQ_KEY_MAX]; /* the tokens that wake its language's workers */
	char consumer[160];
	struct sp_redis_link link;
	pthread_t thread;
	bool started;
};

/* How many times ENTRY was delivered (1 the first time). */
static long long deliveries_of(struct rq_slot *s, const struct rq_taken *t)
{
	struct sp_error err = {0};
	redisReply *r = sp_redis_command(&s->link, &err, "XPENDING %s %s %s %s 1", t->stream,
					 RQ_GROUP, t->entry, t->entry);
	long long n = 1;

	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 4 &&
	    r->element[0]->element[3]->type == REDIS_REPLY_INTEGER)
		n = r->element[0]->element[3]->integer;
	if (r != NULL)
		freeReplyObject(r);
	return n;
}

static void ack(struct rq_slot *s, const struct rq_taken *t)
{
	struct sp_error err = {0};

	if (rq_script_ack(&s->link, t, &err) < 0)
		log_warn("queue: acknowledge %s: %s", t->entry, err.message);
}

/* --- running jobs --------------------------------------------------------- */

/* RUN is running on this node. A helper's part (PART) is not when its
 * job runs here already (as the job, or another part): a node helps a judge
 * job with its judge_pool_percent of cells once. Returns whether it was
 * added. */
static bool running_add(struct redis_queue *q, struct rq_running *run, bool part)
{
	bool add;

	pthread_mutex_lock(&q->lock);
	add = !part || rq_running_find(q, run->id) == NULL;
	if (add) {
		run->next = q->running;
		q->running = run;
	}
	pthread_mutex_unlock(&q->lock);
	return add;
}

static void running_remove(struct redis_queue *q, struct rq_running *run)
{
	pthread_mutex_lock(&q->lock);
	for (struct rq_running **p = &q->running; *p != NULL; p = &(*p)->next) {
		if (*p == run) {
			*p = run->next;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
}

void rq_cancel_running(struct redis_queue *q, const char *id)
{
	static const uint64_t one = 1;

	pthread_mutex_lock(&q->lock);
	for (struct rq_running *r = q->running; r != NULL; r = r->next)
		if ((id == NULL || strcmp(r->id, id) == 0) &&
		    write(r->cancel_fd, &one, sizeof(one)) < 0)
			log_warn("cancel job %s: %s", r->id, strerror(errno));
	pthread_mutex_unlock(&q->lock);
}

struct rq_running *rq_running_find(struct redis_queue *q, const char *id)
{
	for (struct rq_running *r = q->running; r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

void rq_running_watched(struct redis_queue *q, const char *id, bool watched)
{
	pthread_mutex_lock(&q->lock);
	/* a judge job and a helper of it may run on one node */
	for (struct rq_running *r = q->running; r != NULL; r = r->next) {
		if (strcmp(r->id, id) == 0) {
			r->watched = watched;
			r->watched_ms = sp_clock_ms();
		}
	}
	pthread_mutex_unlock(&q->lock);
}

/* --- one job --------------------------------------------------------------- */

static const char *element(const redisReply *r, size_t i)
{
	return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str
									    : NULL;
}

/* JOB ends unrun as END with MESSAGE. Returns whether it has a result in
 * Redis now (this one or an earlier one). */
static bool end_unrun(struct rq_slot *s, const struct sp_queue_job *job, enum sp_job_end end,
		      const char *message)
{
	struct redis_queue *q = s->q;
	json_t *result = rq_unrun_result(q, q->c.languages->items[s->language].name, end, message);
	struct sp_error err = {0};
	int rc = -1;

	if (end != SP_JOB_FINISHED && q->c.worker.unrun != NULL)
		q->c.worker.unrun(q->c.worker.ctx, s->language);
	if (result != NULL)
		json_object_set_new(result, "id", json_string(job->id));
	if (result != NULL && (rc = rq_script_finish(q, &s->link, job, end, result, &err)) < 0)
		log_warn("queue: end job %s: %s", job->id, err.message);
	json_decref(result);
	return rc >= 0;
}

/* JOB's request, parsed from the body the start script gave (R). Returns
 * 0, or -1 when it cannot be read here (the job then ends: *ENDED says
 * whether its end is in Redis). */
static int read_job(struct rq_slot *s, const struct sp_queue_job *job, const redisReply *r,
		    struct sp_request *req, bool *ended)
{
	struct redis_queue *q = s->q;
	const char *body = element(r, 1), *mode = element(r, 2);
	struct sp_request_failure fail = {0};
	char message[SP_ERROR_MESSAGE_MAX + 64];

	if (body != NULL &&
	    sp_request_parse_as(body, strlen(body), q->c.languages, q->c.config,
				mode && strcmp(mode, "judge") == 0 ? SP_REQUEST_JUDGE
								   : SP_REQUEST_RUN,
				req, &fail) == 0) {
		if (q->c.worker.prepare == NULL ||
		    q->c.worker.prepare(q->c.worker.ctx, req, &fail) == 0)
			return 0;
		sp_request_free(req);
	}
	snprintf(message, sizeof(message), "this worker cannot read the job: %s",
		 body ? fail.message : "it has no body");
	*ended = end_unrun(s, job, SP_JOB_FINISHED, message);
	return -1;
}

/* An interactive job (R says) takes its input through a relay into a pipe
 * that becomes REQ's stdin: *RELAY. Returns 0, or -1 when it cannot (the job
 * then ends: *ENDED as read_job's). */
static int relay_input(struct rq_slot *s, const struct sp_queue_job *job, const redisReply *r,
		       struct sp_request *req, struct rq_relay **relay, bool *ended)
{
	const char *interactive = element(r, 7);
	int w;

	*relay = NULL;
	if (interactive == NULL || strcmp(interactive, "1") != 0)
		return 0;
	w = sp_request_interactive(req);
	if (w >= 0 && (*relay = rq_relay_start(&s->q->c.url, job->id, w)) != NULL)
		return 0;
	*ended = end_unrun(s, job, SP_JOB_FINISHED,
			   w < 0 && errno == EFBIG
			       ? "the stdin of an interactive run is at most 64 KiB at its start; "
				 "send the rest as input"
			       : "this worker could not relay the job's input");
	return -1;
}

/* A helper's part of the judge job JOB (R from the start script): some of
 * its tests run here, their outcomes stored in its share; the job's end is
 * its own worker's. Returns whether the entry may go: unless a stop killed
 * the part (another worker takes it again). */
static bool run_part(struct rq_slot *s, const struct sp_queue_job *job, const redisReply *r,
		     int cancel_fd)
{
	struct redis_queue *q = s->q;
	const char *body = element(r, 1);
	struct sp_request_failure fail = {0};
	struct sp_request req;
	json_t *result;

	if (body == NULL || sp_request_parse_as(body, strlen(body), q->c.languages, q->c.config,
						SP_REQUEST_JUDGE, &req, &fail) < 0) {
		log_warn("queue: a part of job %s: %s", job->id,
			 body ? fail.message : "the job has no body");
		return true;
	}
	if (q->c.worker.prepare != NULL && q->c.worker.prepare(q->c.worker.ctx, &req, &fail) < 0) {
		log_warn("queue: a part of job %s: %s", job->id, fail.message);
		sp_request_free(&req);
		return true;
	}
	result = q->c.worker.run(q->c.worker.ctx, job, &req, cancel_fd);
	sp_request_free(&req);
	json_decref(result);
	return !atomic_load(&q->stopping);
}

/* Run JOB from what the start script gave (R), on this node. Returns
 * whether it has a result in Redis now: when not (Redis failed, or a stop
 * killed it), its entry stays for another run. */
static bool run_job(struct rq_slot *s, struct sp_queue_job *job, const redisReply *r, int cancel_fd)
{
	struct redis_queue *q = s->q;
	struct rq_relay *relay;
	struct sp_request req;
	struct sp_error err = {0};
	bool ended = false;
	json_t *result;

	if (read_job(s, job, r, &req, &ended) < 0)
		return ended;
	if (relay_input(s, job, r, &req, &relay, &ended) < 0) {
		sp_request_free(&req);
		return ended;
	}
	result = q->c.worker.run(q->c.worker.ctx, job, &req, cancel_fd);
	sp_request_free(&req);
	if (relay != NULL)
		rq_relay_stop(&s->link, relay, job->id);
	if (result == NULL)
		return end_unrun(s, job, SP_JOB_FINISHED, "the job's result could not be made");
	json_object_set_new(result, "id", json_string(job->id));
	/* killed by a stop: another worker runs it again */
	if (!atomic_load(&q->stopping)) {
		ended = rq_script_finish(q, &s->link, job, SP_JOB_FINISHED, result, &err) >= 0;
		if (!ended)
			log_warn("queue: result of job %s: %s", job->id, err.message);
	}
	json_decref(result);
	return ended;
}

/* The job's fields from the start script (R) as plain data. */
static void job_from_start(struct rq_slot *s, const char *id, const redisReply *r,
			   struct sp_queue_job *job)
{
	const char *owner = element(r, 5), *queued = element(r, 6);

	*job = (struct sp_queue_job){.user = element(r, 3),
				     .ref = element(r, 4),
				     .owner = owner ? atoi(owner) : -1,
				     .language = s->language,
				     .cells = 1,
				     .queued_ms = queued ? strtoull(queued, NULL, 10) : 0};
	snprintf(job->id, sizeof(job->id), "%s", id);
}

/* A job delivered too often: its workers died with it each time. Returns
 * whether its end is in Redis. */
static bool set_aside(struct rq_slot *s, const struct rq_taken *t, long long deliveries)
{
	const char *id = t->id;
	struct redis_queue *q = s->q;
	struct sp_error err = {0};
	redisReply *view = rq_script_view(&s->link, id, &err);
	struct sp_queue_job job = {.owner = -1, .language = s->language};
	char message[256], count[24];
	redisReply *r;
	bool ended;

	snprintf(count, sizeof(count), "%lld", deliveries);
	r = sp_redis_command(&s->link, &err,
			     "XADD %s MAXLEN ~ 10000 * id %s stream %s entry %s deliveries %s",
			     RQ_DEAD, id, t->stream, t->entry, count);
	if (r != NULL)
		freeReplyObject(r);
	atomic_fetch_add(&q->dead, 1);
	log_warn("queue: job %s was taken %lld times, by workers that all stopped before its end; "
		 "set aside in " RQ_DEAD,
		 id, deliveries);
	if (view != NULL && view->type == REDIS_REPLY_ARRAY && view->elements >= 11) {
		job.user = element(view, 9);
		job.ref = element(view, 10);
		job.owner = element(view, 5) ? atoi(element(view, 5)) : -1;
	}
	snprintf(job.id, sizeof(job.id), "%s", id);
	snprintf(message, sizeof(message),
		 "the job was taken %lld times by workers that stopped before its end; it is set "
		 "aside",
		 deliveries);
	ended = end_unrun(s, &job, SP_JOB_FINISHED, message);
	if (view != NULL)
		freeReplyObject(view);
	return ended;
}

/* Start the job whose entry T this slot claimed, by its start script.
 * Returns whether the job is done with in Redis (it ended, or was done or
 * gone already; for a helper's part, whether the part is done with): then
 * its entry may go. */
static bool start_job(struct rq_slot *s, const struct rq_taken *t, int cancel_fd)
{
	struct redis_queue *q = s->q;
	const char *id = t->id;
	struct sp_error err = {0};
	redisReply *r = rq_script_start(
	    &s->link, id, q->c.node, (uint64_t)q->c.config->queue_timeout_s * 1000, t->part, &err);
	struct sp_queue_job job;
	char message[128];
	bool ended = true; /* "done", "gone" */

	if (r == NULL) {
		log_warn("queue: start job %s: %s", id, err.message);
		return false;
	}
	job_from_start(s, id, r, &job);
	job.part = t->part;
	if (t->part) {
		/* a part of a job that ended, was cancelled or is gone: nothing */
		if (strcmp(r->element[0]->str, "run") == 0) {
			rq_running_watched(q, id, element(r, 8) && strcmp(element(r, 8), "1") == 0);
			ended = run_part(s, &job, r, cancel_fd);
		}
	} else if (strcmp(r->element[0]->str, "run") == 0) {
		/* whether a node watches it, for its first events */
		rq_running_watched(q, id, element(r, 8) && strcmp(element(r, 8), "1") == 0);
		ended = run_job(s, &job, r, cancel_fd);
	} else if (strcmp(r->element[0]->str, "cancelled") == 0) {
		ended = end_unrun(s, &job, SP_JOB_CANCELLED, "cancelled while queued");
	} else if (strcmp(r->element[0]->str, "expired") == 0) {
		snprintf(message, sizeof(message), "not started within the queue timeout (%u ms)",
			 q->c.config->queue_timeout_s * 1000);
		ended = end_unrun(s, &job, SP_JOB_EXPIRED, message);
	}
	freeReplyObject(r);
	return ended;
}

/* The entry T, claimed by this slot: its job run (or ended, or set
 * aside), then, once its end is in Redis, the entry acknowledged and
 * deleted. An entry whose end could not be written (Redis failed, a stop
 * killed its run) stays: another worker takes it after the lease. */
static void take(struct rq_slot *s, const struct rq_taken *t, bool again)
{
	struct redis_queue *q = s->q;
	struct rq_running run = {.language = s->language, .consumer = s->consumer};
	/* a new entry's first delivery; a claimed one's count is Redis' */
	long long deliveries = again ? deliveries_of(s, t) : 1;
	bool ended;

	if (!t->part) {
		atomic_fetch_add(&q->deliveries, 1);
		if (again)
			atomic_fetch_add(&q->redeliveries, 1);
	}
	snprintf(run.id, sizeof(run.id), "%s", t->id);
	snprintf(run.stream, sizeof(run.stream), "%s", t->stream);
	snprintf(run.entry, sizeof(run.entry), "%s", t->entry);
	run.cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (run.cancel_fd < 0) {
		log_warn("queue: job %s: eventfd: %s", t->id, strerror(errno));
		return; /* another worker takes it after the lease */
	}
	if (!running_add(q, &run, t->part))
		ended = true; /* the part is dropped */
	else if (deliveries > (long long)q->c.config->queue_max_deliveries)
		/* a part's tests are claimed one by one: the job's worker runs
		 * what its helpers did not */
		ended = t->part || set_aside(s, t, deliveries);
	else
		ended = start_job(s, t, run.cancel_fd);
	running_remove(q, &run);
	close(run.cancel_fd);
	if (ended && !atomic_load(&q->stopping))
		ack(s, t);
}

/* Whether this slot is the one of its language that looks for silent
 * workers' jobs now (one each RECLAIM_MS per node and language). */
static bool my_turn_to_reclaim(struct rq_slot *s)
{
	uint64_t now = sp_clock_ms();
	uint64_t next = atomic_load(&s->q->next_reclaim[s->language]);

	return now >= next && atomic_compare_exchange_strong(&s->q->next_reclaim[s->language],
							     &next, now + RECLAIM_MS);
}

/* Wait for a token of a new job (up to RQ_BLOCK_MS); then take the next
 * job, users taking turns, or else one a silent worker left. Returns 1 when
 * one was taken into T (AGAIN: a reclaimed one), 0 when none, -1 when
 * Redis failed. */
static int next_job(struct rq_slot *s, struct rq_taken *t, bool *again)
{
	struct sp_error err = {0};
	redisReply *r =
	    sp_redis_command(&s->link, &err, "BLPOP %s %d", s->ready, RQ_BLOCK_MS / 1000);
	int rc;

	if (r == NULL)
		return -1;
	freeReplyObject(r);
	*again = false;
	rc = rq_script_take(s->q, &s->link, s->language, s->consumer, t, &err);
	if (rc == 0 && my_turn_to_reclaim(s)) {
		rc = rq_script_reclaim(s->q, &s->link, s->language, s->consumer, t, &err);
		*again = rc > 0;
	}
	return rc;
}

static void *slot_loop(void *arg)
{
	struct rq_slot *s = arg;
	struct redis_queue *q = s->q;

	while (!atomic_load(&q->draining) && !atomic_load(&q->stopping)) {
		struct rq_taken t;
		bool again;
		int rc = next_job(s, &t, &again);

		if (rc > 0)
			take(s, &t, again);
		else if (rc < 0)
			usleep(RETRY_MS * 1000);
	}
	sp_redis_link_drop(&s->link);
	return NULL;
}

/* --- the lease --------------------------------------------------------------- */

/* Every running job's entry claimed again by its own worker: its idle time
 * starts over, its delivery count stays (JUSTID). */
static void renew(struct redis_queue *q, struct sp_redis_link *link)
{
	struct rq_running *copy = NULL;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&q->lock);
	for (struct rq_running *r = q->running; r != NULL; r = r->next) {
		if (n == cap) {
			struct rq_running *grown =
			    realloc(copy, (cap = cap ? cap * 2 : 16) * sizeof(*copy));

			if (grown == NULL)
				break;
			copy = grown;
		}
		copy[n++] = *r;
	}
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < n; i++) {
		struct sp_error err = {0};
		redisReply *r =
		    sp_redis_command(link, &err, "XCLAIM %s %s %s 0 %s JUSTID", copy[i].stream,
				     RQ_GROUP, copy[i].consumer, copy[i].entry);
		if (r != NULL)
			freeReplyObject(r);
	}
	free(copy);
}

/* This node, as GET /api/v1/workers lists it. */
static void heartbeat(struct redis_queue *q, struct sp_redis_link *link)
{
	json_t *me = q->c.worker.describe ? q->c.worker.describe(q->c.worker.ctx) : json_object();
	char host[256] = "", *text;
	struct sp_error err = {0};

	if (me == NULL)
		return;
	gethostname(host, sizeof(host) - 1);
	json_object_set_new(me, "id", json_string(q->c.node));
	json_object_set_new(me, "host", json_string(host));
	json_object_set_new(me, "deliveries",
			    json_integer((json_int_t)atomic_load(&q->deliveries)));
	json_object_set_new(me, "redeliveries",
			    json_integer((json_int_t)atomic_load(&q->redeliveries)));
	text = json_dumps(me, JSON_COMPACT);
	if (text != NULL && rq_script_heartbeat(link, q->c.node, text, &err) < 0)
		log_debug("queue: heartbeat: %s", err.message);
	free(text);
	json_decref(me);
}

/* This node leaves the list of workers. */
static void farewell(struct redis_queue *q, struct sp_redis_link *link)
{
	struct sp_error err = {0};
	redisReply *r = sp_redis_command(link, &err, "HDEL %s %s", RQ_WORKERS, q->c.node);

	if (r != NULL)
		freeReplyObject(r);
	r = r ? sp_redis_command(link, &err, "ZREM %s %s", RQ_WORKERS_SEEN, q->c.node) : NULL;
	if (r != NULL)
		freeReplyObject(r);
}

/* The leases of running jobs, renewed every third of the lease; the
 * heartbeat of this node. */
static void *renew_loop(void *arg)
{
	struct redis_queue *q = arg;
	struct sp_redis_link link;
	uint64_t every = (uint64_t)q->c.config->queue_lease_s * 1000 / 3;
	uint64_t next = sp_clock_ms() + every, beat = 0;

	sp_redis_link_init(&link, &q->c.url, RQ_TIMEOUT_MS);
	while (!atomic_load(&q->stopping)) {
		if (sp_clock_ms() >= beat) {
			heartbeat(q, &link);
			beat = sp_clock_ms() + RQ_HEARTBEAT_MS;
		}
		if (sp_clock_ms() >= next) {
			renew(q, &link);
			next = sp_clock_ms() + every;
		}
		usleep(100 * 1000);
	}
	farewell(q, &link);
	sp_redis_link_drop(&link);
	return NULL;
}

/* --- start and stop ---------------------------------------------------------- */

int rq_workers_start(struct redis_queue *q, struct sp_error *err)
{
	unsigned total = 0, at = 0;
	int rc;

	for (size_t i = 0; i < q->c.languages->count; i++)
		total += q->c.capacity[i];
	q->slots = calloc(total ? total : 1, sizeof(*q->slots));
	if (q->slots == NULL)
		return sp_error_set(err, ENOMEM, "queue workers");
	for (size_t i = 0; i < q->c.languages->count; i++) {
		for (unsigned k = 0; k < q->c.capacity[i]; k++, at++) {
			struct rq_slot *s = &q->slots[at];

			*s = (struct rq_slot){.q = q, .language = i};
			rq_language_key(q, s->ready, "ready", i);
			snprintf(s->consumer, sizeof(s->consumer), "%s-%s-%u", q->c.node,
				 q->c.languages->items[i].name, k);
			sp_redis_link_init(&s->link, &q->c.url, RQ_TIMEOUT_MS + RQ_BLOCK_MS);
			if ((rc = pthread_create(&s->thread, NULL, slot_loop, s)) != 0)
				return sp_error_set(err, rc, "start a queue worker");
			s->started = true;
			q->slot_count = at + 1;
		}
	}
	if ((rc = pthread_create(&q->renewer, NULL, renew_loop, q)) != 0)
		return sp_error_set(err, rc, "start the queue's lease renewer");
	q->renewer_started = true;
	return 0;
}

void rq_workers_stop(struct redis_queue *q)
{
	atomic_store(&q->draining, true);
	for (unsigned i = 0; i < q->slot_count; i++) {
		if (q->slots[i].started)
			pthread_join(q->slots[i].thread, NULL);
		q->slots[i].started = false;
	}
	if (q->renewer_started && atomic_load(&q->stopping)) {
		pthread_join(q->renewer, NULL);
		q->renewer_started = false;
	}
	if (atomic_load(&q->stopping)) {
		free(q->slots);
		q->slots = NULL;
		q->slot_count = 0;
	}
}
