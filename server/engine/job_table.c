#include "job_table.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lang_queue.h"
#include "sandbox/base/clock.h"
#include "sandbox/base/hash.h"
#include "sandbox/base/dlist.h"
#include "sandbox/base/log.h"
#include "server/job/json_footprint.h"
#include "user_quota.h"

#define job_of(l) ((struct sp_job *)((char *)(l)-offsetof(struct sp_job, link)))

struct sp_job {
	char id[SP_QUEUE_ID_SIZE];
	char *user;    /* or NULL */
	char *ref;     /* or NULL */
	char *address; /* or NULL */
	int owner;
	size_t language;
	unsigned cells;			/* of its language's capacity, while it runs */
	const struct sp_language *info; /* outlives the request */
	struct sp_request req;		/* freed once the job ends */
	bool keep;
	bool submitter_holds; /* stays after its end until sp_job_table_release */
	bool in_table;
	enum sp_job_state state;
	enum sp_job_end end;
	json_t *result;
	struct sp_queue_link link; /* in its language's queue; submit order, creation time */
	uint64_t created_ms, started_ms, finished_ms;
	int cancel_fd; /* eventfd written by sp_job_table_cancel() while running */
	unsigned refs;
	struct sp_job *hash_next;
	struct sp_dlink done_link; /* kept and ended, oldest first */
	uint64_t held, reserve;	   /* its inputs; what its run may take more */
	uint64_t hold;		   /* what it holds now (job_bytes.h), of class: */
	enum sp_bytes_class hold_class;
};

struct lang_slot {
	struct sp_lang_queue queue;
	unsigned running, capacity;
};

struct sp_job_table {
	pthread_mutex_t lock;
	pthread_cond_t work;  /* a job was queued or a slot freed */
	pthread_cond_t ended; /* a job ended */
	struct sp_job_table_config config;
	struct lang_slot *langs;
	struct sp_user_quotas quotas;
	struct sp_job **buckets;
	size_t bucket_count;  /* a power of two */
	struct sp_dlist done; /* the kept jobs that ended */
	unsigned queued, running;
	unsigned idle; /* workers waiting for work */
	struct sp_job_bytes bytes;
	bool memory_blocked; /* a queued job waits for room to start */
	unsigned long refused_memory, refused_share, dropped_results;
	uint64_t next_seq;
	bool stopping;
	pthread_t *threads;
	unsigned thread_count;
};

/* Wait on COND until DEADLINE_MS (CLOCK_MONOTONIC), or without end for 0. */
static void wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t deadline_ms)
{
	struct timespec ts = sp_clock_timespec(deadline_ms);

	if (deadline_ms == 0)
		pthread_cond_wait(cond, lock);
	else
		pthread_cond_timedwait(cond, lock, &ts);
}

/* --- the table: jobs by id ---------------------------------------------- */

static size_t bucket_of(const struct sp_job_table *jobs, const char *id)
{
	return (size_t)sp_hash_string(id) & (jobs->bucket_count - 1);
}

static void table_add(struct sp_job_table *jobs, struct sp_job *job)
{
	size_t b = bucket_of(jobs, job->id);

	job->hash_next = jobs->buckets[b];
	jobs->buckets[b] = job;
	job->in_table = true;
	job->refs++;
}

static void job_free(struct sp_job *job)
{
	free(job->user);
	free(job->ref);
	free(job->address);
	sp_request_free(&job->req);
	json_decref(job->result);
	if (job->cancel_fd >= 0)
		close(job->cancel_fd);
	free(job);
}

/* --- bytes held ------------------------------------------------------------ */

/* Who holds what JOB holds. */
static struct sp_bytes_holder holder_of(const struct sp_job_table *jobs, const struct sp_job *job)
{
	return (struct sp_bytes_holder){.user = job->user,
					.token = jobs->config.share_by_token ? job->owner : -1,
					.address = job->address};
}

/* Under the lock: bytes were let go; a job waiting for room may start. */
static void room_made(struct sp_job_table *jobs)
{
	if (!jobs->memory_blocked)
		return;
	jobs->memory_blocked = false;
	pthread_cond_broadcast(&jobs->work);
	pthread_cond_broadcast(&jobs->ended);
}

/* JOB now holds N bytes of class C, in place of what it held. The new count
 * goes first: when it cannot be made (out of memory), the old one stays. */
static void set_hold(struct sp_job_table *jobs, struct sp_job *job, enum sp_bytes_class c,
		     uint64_t n)
{
	struct sp_bytes_holder h = holder_of(jobs, job);
	bool less = n < job->hold;

	if (sp_job_bytes_add(&jobs->bytes, c, &h, n) < 0)
		return;
	sp_job_bytes_sub(&jobs->bytes, job->hold_class, &h, job->hold);
	sp_job_bytes_note_peak(&jobs->bytes);
	job->hold = n;
	job->hold_class = c;
	if (less)
		room_made(jobs);
}

static void unref(struct sp_job_table *jobs, struct sp_job *job)
{
	if (--job->refs > 0)
		return;
	set_hold(jobs, job, job->hold_class, 0);
	job_free(job);
}

static void table_remove(struct sp_job_table *jobs, struct sp_job *job)
{
	struct sp_job **p = &jobs->buckets[bucket_of(jobs, job->id)];

	if (!job->in_table)
		return;
	while (*p != NULL && *p != job)
		p = &(*p)->hash_next;
	if (*p == job)
		*p = job->hash_next;
	job->in_table = false;
	unref(jobs, job);
}

/* --- kept jobs that ended ------------------------------------------------- */

/* The oldest kept job that ended; NULL when there is none. */
static struct sp_job *oldest_done(const struct sp_job_table *jobs)
{
	return jobs->done.head ? sp_dlist_entry(jobs->done.head, struct sp_job, done_link) : NULL;
}

/* Drop the kept jobs beyond the retention count or older than its time. */
static void prune(struct sp_job_table *jobs, uint64_t now)
{
	struct sp_job *old;

	while ((old = oldest_done(jobs)) != NULL &&
	       (jobs->done.count > jobs->config.retention_count ||
		old->finished_ms + jobs->config.retention_ms <= now)) {
		sp_dlist_remove(&jobs->done, &old->done_link);
		table_remove(jobs, old);
	}
}

/* Drop the oldest kept results until N bytes more fit. True when they do. */
static bool make_room(struct sp_job_table *jobs, uint64_t n)
{
	struct sp_job *old;

	while (!sp_job_bytes_fit(&jobs->bytes, n) && (old = oldest_done(jobs)) != NULL) {
		sp_dlist_remove(&jobs->done, &old->done_link);
		table_remove(jobs, old);
		jobs->dropped_results++;
	}
	return sp_job_bytes_fit(&jobs->bytes, n);
}

/* --- ending a job --------------------------------------------------------- */

static const char *end_message(enum sp_job_end end, const struct sp_job_table *jobs, char *buf,
			       size_t size)
{
	switch (end) {
	case SP_JOB_CANCELLED:
		return "cancelled while queued";
	case SP_JOB_EXPIRED:
		snprintf(buf, size, "not started within the queue timeout (%llu ms)",
			 (unsigned long long)jobs->config.queue_timeout_ms);
		return buf;
	case SP_JOB_SHUTDOWN:
		return "the server stopped before the job ran";
	case SP_JOB_FINISHED:
	case SP_JOB_LOST:
		break;
	}
	return "the job could not be run";
}

/* The result of a job that did not run (or whose run gave nothing). */
static json_t *unrun_result(const struct sp_job_table *jobs, const struct sp_job *job,
			    enum sp_job_end end)
{
	char buf[128];
	const char *status = end == SP_JOB_FINISHED ? "internal_error" : "cancelled";

	return json_pack("{s:s, s:s?, s:s, s:n, s:n, s:s, s:s, s:s}", "language", job->info->name,
			 "version", job->info->version, "status", status, "compile", "run",
			 "stdout", "", "stderr", "", "error",
			 end_message(end, jobs, buf, sizeof(buf)));
}

/* Give EVENT (borrowed) its job's id and ref, and to the watchers. */
static void emit(const struct sp_job_table *jobs, const struct sp_job *job, json_t *event)
{
	if (jobs->config.event == NULL || event == NULL)
		return;
	json_object_set_new(event, "id", json_string(job->id));
	if (job->ref != NULL)
		json_object_set_new(event, "ref", json_string(job->ref));
	jobs->config.event(jobs->config.ctx, job, event);
}

/* Under the lock: JOB ends with RESULT (stolen; NULL: one is made), which
 * takes RESULT_BYTES (0: measured here). */
static void finish(struct sp_job_table *jobs, struct sp_job *job, enum sp_job_end end,
		   json_t *result, uint64_t result_bytes)
{
	uint64_t now = sp_clock_ms();

	if (end != SP_JOB_FINISHED && jobs->config.unrun != NULL)
		jobs->config.unrun(jobs->config.ctx, job->language);
	if (result == NULL)
		result = unrun_result(jobs, job, end);
	if (result != NULL)
		json_object_set_new(result, "id", json_string(job->id));
	job->result = result;
	job->end = end;
	job->state = SP_JOB_DONE;
	job->finished_ms = now;
	if (job->started_ms == 0)
		job->started_ms = now;
	sp_request_free(&job->req);
	sp_user_quota_release(&jobs->quotas, job->user, now);
	if (result_bytes == 0)
		result_bytes = sp_json_footprint(result);
	/* a result not kept is its waiter's until it lets the job go */
	set_hold(jobs, job, job->keep && job->in_table ? SP_BYTES_KEPT : SP_BYTES_RUNNING,
		 result_bytes);
	if (result != NULL) {
		json_t *event = json_pack("{s:s, s:O}", "type", "result", "result", result);

		emit(jobs, job, event);
		json_decref(event);
	}
	if (job->keep && job->in_table) {
		sp_dlist_push(&jobs->done, &job->done_link);
		prune(jobs, now);
	} else if (!job->submitter_holds) {
		table_remove(jobs, job);
	}
	pthread_cond_broadcast(&jobs->ended);
}

/* --- the queues ------------------------------------------------------------ */

/* Take JOB off its language's queue (it is queued). */
static void dequeue(struct sp_job_table *jobs, struct sp_job *job)
{
	if (sp_lang_queue_remove(&jobs->langs[job->language].queue, &job->link, job->user) == 0)
		jobs->queued--;
}

/* End the queued jobs that waited longer than the queue timeout. */
static void expire(struct sp_job_table *jobs, uint64_t now)
{
	uint64_t timeout = jobs->config.queue_timeout_ms;

	if (timeout == 0 || now < timeout)
		return;
	for (size_t i = 0; i < jobs->config.languages; i++) {
		struct sp_queue_link *link;

		while ((link = sp_lang_queue_take_older(&jobs->langs[i].queue,
							now - timeout + 1)) != NULL) {
			jobs->queued--;
			finish(jobs, job_of(link), SP_JOB_EXPIRED, NULL, 0);
		}
	}
}

/* When the next queued job expires, 0 for never. */
static uint64_t next_expiry(const struct sp_job_table *jobs)
{
	uint64_t next = 0;

	if (jobs->config.queue_timeout_ms == 0)
		return 0;
	for (size_t i = 0; i < jobs->config.languages; i++) {
		uint64_t oldest = sp_lang_queue_oldest(&jobs->langs[i].queue);
		uint64_t at = oldest + jobs->config.queue_timeout_ms;

		if (oldest != 0 && (next == 0 || at < next))
			next = at;
	}
	return next;
}

/* Can JOB start now: has its language room for it? */
static bool has_cells(const struct lang_slot *l, const struct sp_job *job)
{
	return l->running + job->cells <= l->capacity;
}

/* Can JOB start now: is there room for what its run may take (after the
 * oldest kept results are dropped)? Notes when it is not. */
static bool has_room(struct sp_job_table *jobs, const struct sp_job *job)
{
	if (make_room(jobs, job->reserve))
		return true;
	jobs->memory_blocked = true;
	return false;
}

/* Among the languages whose next job can start, the one whose next job came
 * first; NULL when there is none. */
static struct lang_slot *next_language(struct sp_job_table *jobs)
{
	struct lang_slot *best = NULL;
	struct sp_queue_link *best_link = NULL;

	for (size_t i = 0; i < jobs->config.languages; i++) {
		struct lang_slot *l = &jobs->langs[i];
		struct sp_queue_link *next = sp_lang_queue_next(&l->queue);

		if (next != NULL && has_cells(l, job_of(next)) &&
		    (best_link == NULL || next->seq < best_link->seq) &&
		    has_room(jobs, job_of(next))) {
			best = l;
			best_link = next;
		}
	}
	return best;
}

/* The next job of language BEST, taken off its queue to run. */
static struct sp_job *take_from(struct sp_job_table *jobs, struct lang_slot *best)
{
	struct sp_job *job = job_of(sp_lang_queue_pop(&best->queue));

	jobs->queued--;
	best->running += job->cells;
	jobs->running++;
	job->state = SP_JOB_RUNNING;
	job->started_ms = sp_clock_ms();
	job->refs++; /* the worker's */
	set_hold(jobs, job, SP_BYTES_RUNNING, job->held + job->reserve);
	return job;
}

/* The job whose turn it is, taken off its queue; NULL when there is none. */
static struct sp_job *take_next(struct sp_job_table *jobs)
{
	struct lang_slot *best = next_language(jobs);

	return best != NULL ? take_from(jobs, best) : NULL;
}

/* JOB's language when JOB is the one whose turn it is (its language has
 * room), else NULL. */
static struct lang_slot *turn_of(struct sp_job_table *jobs, const struct sp_job *job)
{
	struct lang_slot *best;

	if (jobs->stopping || job->state != SP_JOB_QUEUED)
		return NULL;
	best = next_language(jobs);
	return best != NULL && job_of(sp_lang_queue_next(&best->queue)) == job ? best : NULL;
}

static void run_one(struct sp_job_table *jobs, struct sp_job *job)
{
	json_t *result = jobs->config.run(jobs->config.ctx, job, &job->req, job->language,
					  job->cancel_fd, job->started_ms - job->created_ms);
	/* measured here, without the lock: a result may hold megabytes */
	uint64_t result_bytes = sp_json_footprint(result);

	pthread_mutex_lock(&jobs->lock);
	jobs->langs[job->language].running -= job->cells;
	jobs->running--;
	/* a cell of the language is free: one worker may start one job (a
	 * broadcast would wake every idle worker, for nothing, at every job);
	 * a judge's several cells may start as many */
	if (jobs->queued > 0 && job->cells > 1)
		pthread_cond_broadcast(&jobs->work);
	else if (jobs->queued > 0)
		pthread_cond_signal(&jobs->work);
	finish(jobs, job, SP_JOB_FINISHED, result, result_bytes);
	unref(jobs, job);
	pthread_mutex_unlock(&jobs->lock);
}

static void *worker(void *arg)
{
	struct sp_job_table *jobs = arg;

	pthread_mutex_lock(&jobs->lock);
	while (!jobs->stopping) {
		struct sp_job *job;

		expire(jobs, sp_clock_ms());
		job = take_next(jobs);
		if (job == NULL) {
			jobs->idle++;
			wait_until(&jobs->work, &jobs->lock, next_expiry(jobs));
			jobs->idle--;
			continue;
		}
		pthread_mutex_unlock(&jobs->lock);
		run_one(jobs, job);
		pthread_mutex_lock(&jobs->lock);
	}
	pthread_mutex_unlock(&jobs->lock);
	return NULL;
}

/* --- the interface --------------------------------------------------------- */

static size_t bucket_count_for(const struct sp_job_table_config *c)
{
	uint64_t want = ((uint64_t)c->queue_size + c->retention_count + 64) / 2;
	size_t n = 64;

	while (n < want && n < ((size_t)1 << 20))
		n <<= 1;
	return n;
}

static int init_cond(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rc;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return rc;
}

static struct sp_job_table *jobs_new(const struct sp_job_table_config *config)
{
	struct sp_job_table *jobs = calloc(1, sizeof(*jobs));
	unsigned workers = 0;

	if (jobs == NULL)
		return NULL;
	jobs->config = *config;
	jobs->bucket_count = bucket_count_for(config);
	jobs->langs = calloc(config->languages ? config->languages : 1, sizeof(*jobs->langs));
	jobs->buckets = calloc(jobs->bucket_count, sizeof(*jobs->buckets));
	for (size_t i = 0; jobs->langs && i < config->languages; i++) {
		jobs->langs[i].capacity = config->capacity[i] ? config->capacity[i] : 1;
		workers += jobs->langs[i].capacity;
	}
	if (config->workers != 0)
		workers = config->workers;
	jobs->threads = calloc(workers ? workers : 1, sizeof(*jobs->threads));
	jobs->config.workers = workers;
	jobs->config.capacity = NULL; /* copied into langs */
	jobs->quotas.in_flight_max = config->user_in_flight;
	jobs->quotas.per_minute = config->user_jobs_per_minute;
	if (jobs->langs == NULL || jobs->buckets == NULL || jobs->threads == NULL ||
	    sp_job_bytes_init(&jobs->bytes, config->max_bytes, config->share_bytes) < 0) {
		sp_job_bytes_free(&jobs->bytes);
		free(jobs->langs);
		free(jobs->buckets);
		free(jobs->threads);
		free(jobs);
		return NULL;
	}
	pthread_mutex_init(&jobs->lock, NULL);
	init_cond(&jobs->work);
	init_cond(&jobs->ended);
	return jobs;
}

int sp_job_table_start(struct sp_job_table **out, const struct sp_job_table_config *config,
		       struct sp_error *err)
{
	struct sp_job_table *jobs = jobs_new(config);

	*out = NULL;
	if (jobs == NULL)
		return sp_error_set(err, ENOMEM, "job table");
	for (unsigned i = 0; i < jobs->config.workers; i++) {
		int rc = pthread_create(&jobs->threads[i], NULL, worker, jobs);

		if (rc != 0) {
			sp_job_table_stop(jobs, 0);
			sp_job_table_free(jobs);
			return sp_error_set(err, rc, "start the job workers");
		}
		jobs->thread_count++;
	}
	*out = jobs;
	return 0;
}

static char *copy_or_null(const char *text)
{
	return text && *text ? strdup(text) : NULL;
}

static struct sp_job *job_new(struct sp_request *req, size_t language,
			      const struct sp_queue_order *order)
{
	struct sp_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return NULL;
	job->req.stdin_fd = -1;
	job->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	job->user = copy_or_null(order->user);
	job->ref = copy_or_null(order->ref);
	job->address = copy_or_null(order->address);
	if (order->id != NULL)
		snprintf(job->id, sizeof(job->id), "%s", order->id);
	if (job->cancel_fd < 0 || (order->user && *order->user && !job->user) ||
	    (order->ref && *order->ref && !job->ref) ||
	    (order->address && *order->address && !job->address) ||
	    (order->id == NULL && sp_queue_new_id(job->id) < 0)) {
		job_free(job);
		return NULL;
	}
	job->owner = order->owner;
	job->language = language;
	job->cells = order->cells < 1 ? 1 : order->cells;
	job->info = req->language;
	job->keep = order->keep;
	job->submitter_holds = order->hold;
	job->req = *req;
	memset(req, 0, sizeof(*req));
	req->stdin_fd = -1;
	job->refs = 1; /* the caller's */
	job->created_ms = sp_clock_ms();
	return job;
}

static struct sp_job *find_locked(struct sp_job_table *jobs, const char *id)
{
	struct sp_job *job = jobs->buckets[bucket_of(jobs, id)];

	while (job != NULL && strcmp(job->id, id) != 0)
		job = job->hash_next;
	return job;
}

static unsigned long long mib(uint64_t bytes)
{
	return (unsigned long long)((bytes + (1 << 20) - 1) >> 20);
}

/* Under the lock: why H cannot hold N bytes more now, for a job that may
 * take RESERVE more while it runs (0 for a body): an errno with ERR, or 0. */
static int bytes_refusal(struct sp_job_table *jobs, const struct sp_bytes_holder *h, uint64_t n,
			 uint64_t reserve, struct sp_error *err)
{
	uint64_t limit = jobs->config.max_bytes, held;
	const char *kind;

	if (limit != 0 && (n > limit || reserve > limit - n))
		return sp_error_set(err, E2BIG,
				    "the request could take %llu MiB (a job: its inputs and the "
				    "output its limits allow), more than this server holds for "
				    "all requests (%llu MiB)",
				    mib(n + reserve), mib(limit)),
		       E2BIG;
	if (!make_room(jobs, n)) {
		jobs->refused_memory++;
		return sp_error_set(err, ENOSPC,
				    "the server holds %llu MiB for requests, the most it may "
				    "(memory_max_mb); try again later",
				    mib(sp_job_bytes_total(&jobs->bytes))),
		       ENOSPC;
	}
	kind = sp_job_bytes_over_share(&jobs->bytes, h, n, &held);
	if (kind == NULL)
		return 0;
	jobs->refused_share++;
	return sp_error_set(err, ENOBUFS,
			    "this %s holds %llu MiB of requests already, and may hold %llu "
			    "(memory_share_percent); try again later",
			    kind, mib(held), mib(jobs->config.share_bytes)),
	       ENOBUFS;
}

/* A new job's holder: the one it will be. */
static struct sp_bytes_holder meta_holder(const struct sp_job_table *jobs,
					  const struct sp_queue_order *m)
{
	return (struct sp_bytes_holder){.user = m->user,
					.token = jobs->config.share_by_token ? m->owner : -1,
					.address = m->address};
}

/* Under the lock: why a job of LANGUAGE for USER, holding HELD bytes and
 * taking RESERVE more while it runs, cannot be queued now (an errno with
 * ERR), or 0. Counts it against the user's quota when not. */
static int refusal(struct sp_job_table *jobs, size_t language, const struct sp_queue_order *order,
		   uint64_t held, uint64_t reserve, struct sp_error *err)
{
	uint64_t now = sp_clock_ms();
	struct sp_bytes_holder h = meta_holder(jobs, order);
	int rc;

	if (jobs->stopping)
		return sp_error_set(err, ECANCELED, "the server is stopping"), ECANCELED;
	if (jobs->langs[language].queue.queued >= jobs->config.queue_size)
		return sp_error_set(err, EAGAIN, "the job queue is full"), EAGAIN;
	if (order->id != NULL && find_locked(jobs, order->id) != NULL)
		return sp_error_set(err, EEXIST, "the job id is in use"), EEXIST;
	if ((rc = bytes_refusal(jobs, &h, held, reserve, err)) != 0)
		return rc;
	switch (sp_user_quota_admit(&jobs->quotas, order->user && *order->user ? order->user : NULL,
				    now)) {
	case SP_QUOTA_OK:
		return 0;
	case SP_QUOTA_IN_FLIGHT:
		sp_error_set(err, EDQUOT, "user %s has %u jobs in flight already", order->user,
			     jobs->config.user_in_flight);
		return EDQUOT;
	case SP_QUOTA_RATE:
		sp_error_set(err, EBUSY, "user %s is over %u jobs per minute", order->user,
			     jobs->config.user_jobs_per_minute);
		return EBUSY;
	case SP_QUOTA_NO_MEMORY:
		break;
	}
	sp_error_set(err, ENOMEM, "user quota");
	return ENOMEM;
}

/* What a job of REQ on CELLS cells holds queued, and may take more running. */
static void measure(const struct sp_job_table *jobs, const struct sp_request *req, unsigned cells,
		    uint64_t *held, uint64_t *reserve)
{
	*held = sp_request_memory(req);
	*reserve = 0;
	if (jobs->config.measure != NULL)
		jobs->config.measure(jobs->config.ctx, req, cells, held, reserve);
}

/* The cells a job of LANGUAGE with META takes while it runs. */
static unsigned cells_of(const struct sp_job_table *jobs, size_t language,
			 const struct sp_queue_order *order)
{
	unsigned cells = order->cells < 1 ? 1 : order->cells;

	return cells < jobs->langs[language].capacity ? cells : jobs->langs[language].capacity;
}

struct sp_job *sp_job_table_submit(struct sp_job_table *jobs, struct sp_request *req,
				   size_t language, const struct sp_queue_order *order,
				   struct sp_error *err)
{
	struct sp_job *job;
	json_t *event;
	uint64_t held, reserve;

	if (language >= jobs->config.languages) {
		sp_error_set(err, EINVAL, "no such language");
		return NULL;
	}
	measure(jobs, req, cells_of(jobs, language, order), &held, &reserve);
	pthread_mutex_lock(&jobs->lock);
	expire(jobs, sp_clock_ms());
	if (refusal(jobs, language, order, held, reserve, err) != 0) {
		pthread_mutex_unlock(&jobs->lock);
		return NULL;
	}
	job = job_new(req, language, order);
	if (job != NULL)
		job->cells = cells_of(jobs, language, order);
	if (job == NULL ||
	    sp_lang_queue_push(&jobs->langs[language].queue, &job->link, job->user) < 0) {
		sp_user_quota_release(
		    &jobs->quotas, order->user && *order->user ? order->user : NULL, sp_clock_ms());
		pthread_mutex_unlock(&jobs->lock);
		if (job != NULL)
			job_free(job);
		sp_error_set(err, ENOMEM, "new job");
		return NULL;
	}
	job->link.seq = jobs->next_seq++;
	job->link.created_ms = job->created_ms;
	job->held = held;
	job->reserve = reserve;
	set_hold(jobs, job, SP_BYTES_QUEUED, held);
	table_add(jobs, job);
	jobs->queued++;
	event = json_pack("{s:s, s:i}", "type", "queued", "position",
			  (int)jobs->langs[language].queue.queued - 1);
	emit(jobs, job, event);
	json_decref(event);
	if (!order->waits)
		pthread_cond_signal(&jobs->work);
	pthread_mutex_unlock(&jobs->lock);
	return job;
}

int sp_job_table_hold(struct sp_job_table *jobs, const struct sp_bytes_holder *h, uint64_t n,
		      struct sp_error *err)
{
	int rc;

	pthread_mutex_lock(&jobs->lock);
	rc = bytes_refusal(jobs, h, n, 0, err);
	if (rc == 0 && sp_job_bytes_add(&jobs->bytes, SP_BYTES_BODIES, h, n) < 0)
		rc = sp_error_set(err, ENOMEM, "out of memory");
	sp_job_bytes_note_peak(&jobs->bytes);
	pthread_mutex_unlock(&jobs->lock);
	return rc == 0 ? 0 : -1;
}

void sp_job_table_unhold(struct sp_job_table *jobs, const struct sp_bytes_holder *h, uint64_t n)
{
	pthread_mutex_lock(&jobs->lock);
	sp_job_bytes_sub(&jobs->bytes, SP_BYTES_BODIES, h, n);
	if (n > 0)
		room_made(jobs);
	pthread_mutex_unlock(&jobs->lock);
}

struct sp_job *sp_job_table_find(struct sp_job_table *jobs, const char *id)
{
	struct sp_job *job;

	pthread_mutex_lock(&jobs->lock);
	prune(jobs, sp_clock_ms());
	expire(jobs, sp_clock_ms());
	job = find_locked(jobs, id);
	if (job != NULL)
		job->refs++;
	pthread_mutex_unlock(&jobs->lock);
	return job;
}

void sp_job_table_wait(struct sp_job_table *jobs, struct sp_job *job)
{
	pthread_mutex_lock(&jobs->lock);
	while (job->state != SP_JOB_DONE) {
		uint64_t expiry = job->state == SP_JOB_QUEUED && jobs->config.queue_timeout_ms
				      ? job->created_ms + jobs->config.queue_timeout_ms
				      : 0;
		struct lang_slot *mine = turn_of(jobs, job);

		/* its turn: run it here rather than hand it to a worker and back */
		if (mine != NULL) {
			take_from(jobs, mine);
			pthread_mutex_unlock(&jobs->lock);
			run_one(jobs, job);
			pthread_mutex_lock(&jobs->lock);
			continue;
		}

		wait_until(&jobs->ended, &jobs->lock, expiry);
		expire(jobs, sp_clock_ms());
	}
	pthread_mutex_unlock(&jobs->lock);
}

void sp_job_table_cancel(struct sp_job_table *jobs, struct sp_job *job)
{
	static const uint64_t one = 1;

	pthread_mutex_lock(&jobs->lock);
	switch (job->state) {
	case SP_JOB_QUEUED:
		dequeue(jobs, job);
		finish(jobs, job, SP_JOB_CANCELLED, NULL, 0);
		break;
	case SP_JOB_RUNNING:
		if (write(job->cancel_fd, &one, sizeof(one)) < 0)
			log_warn("cancel job %s: %s", job->id, strerror(errno));
		break;
	case SP_JOB_DONE:
		if (job->keep && job->in_table) {
			sp_dlist_remove(&jobs->done, &job->done_link);
			table_remove(jobs, job);
		}
		break;
	}
	pthread_mutex_unlock(&jobs->lock);
}

static const char *state_name(enum sp_job_state state)
{
	switch (state) {
	case SP_JOB_QUEUED:
		return "queued";
	case SP_JOB_RUNNING:
		return "running";
	case SP_JOB_DONE:
		break;
	}
	return "done";
}

json_t *sp_job_table_describe(struct sp_job_table *jobs, struct sp_job *job)
{
	json_t *obj;
	uint64_t now;

	pthread_mutex_lock(&jobs->lock);
	now = sp_clock_ms();
	obj = json_pack(
	    "{s:s, s:s, s:s, s:I}", "id", job->id, "state", state_name(job->state), "language",
	    job->info->name, "queued_ms",
	    (json_int_t)((job->state == SP_JOB_QUEUED ? now : job->started_ms) - job->created_ms));
	if (obj != NULL && job->state != SP_JOB_QUEUED)
		json_object_set_new(
		    obj, "run_ms",
		    json_integer((json_int_t)((job->state == SP_JOB_DONE ? job->finished_ms : now) -
					      job->started_ms)));
	if (obj != NULL && job->state == SP_JOB_DONE && job->result != NULL)
		json_object_set(obj, "result", job->result);
	else if (obj != NULL && job->state != SP_JOB_DONE && job->req.echo != NULL)
		json_object_set_new(obj, "echo", json_loads(job->req.echo, 0, NULL));
	pthread_mutex_unlock(&jobs->lock);
	return obj;
}

json_t *sp_job_table_result(struct sp_job_table *jobs, struct sp_job *job, enum sp_job_end *end)
{
	json_t *result;

	pthread_mutex_lock(&jobs->lock);
	result = job->state == SP_JOB_DONE ? json_incref(job->result) : NULL;
	*end = job->end;
	pthread_mutex_unlock(&jobs->lock);
	return result;
}

void sp_job_table_release(struct sp_job_table *jobs, const char *id)
{
	struct sp_job *job;

	pthread_mutex_lock(&jobs->lock);
	job = find_locked(jobs, id);
	if (job != NULL && job->submitter_holds) {
		job->submitter_holds = false;
		if (job->state == SP_JOB_DONE && !job->keep)
			table_remove(jobs, job);
	}
	pthread_mutex_unlock(&jobs->lock);
}

void sp_job_table_reserve_less(struct sp_job_table *jobs, const char *id, uint64_t reserve)
{
	struct sp_job *job;

	pthread_mutex_lock(&jobs->lock);
	job = find_locked(jobs, id);
	if (job != NULL && job->state == SP_JOB_RUNNING && reserve < job->reserve) {
		job->reserve = reserve;
		set_hold(jobs, job, SP_BYTES_RUNNING, job->held + reserve);
	}
	pthread_mutex_unlock(&jobs->lock);
}

void sp_job_view(const struct sp_job *job, struct sp_queue_job *view)
{
	*view = (struct sp_queue_job){
	    .user = job->user,
	    .ref = job->ref,
	    .owner = job->owner,
	    .language = job->language,
	    .cells = job->cells,
	    .queued_ms = job->started_ms ? job->started_ms - job->created_ms : 0,
	};
	memcpy(view->id, job->id, sizeof(view->id));
}

const char *sp_job_id(const struct sp_job *job)
{
	return job->id;
}

const char *sp_job_user(const struct sp_job *job)
{
	return job->user;
}

int sp_job_owner(const struct sp_job *job)
{
	return job->owner;
}

enum sp_job_state sp_job_table_state(struct sp_job_table *jobs, const struct sp_job *job)
{
	enum sp_job_state state;

	pthread_mutex_lock(&jobs->lock);
	state = job->state;
	pthread_mutex_unlock(&jobs->lock);
	return state;
}

unsigned sp_job_table_retry_after(struct sp_job_table *jobs, const char *user)
{
	unsigned s;

	pthread_mutex_lock(&jobs->lock);
	s = sp_user_quota_retry_after(&jobs->quotas, user, sp_clock_ms());
	pthread_mutex_unlock(&jobs->lock);
	return s;
}

void sp_job_put(struct sp_job_table *jobs, struct sp_job *job)
{
	if (job == NULL)
		return;
	pthread_mutex_lock(&jobs->lock);
	unref(jobs, job);
	pthread_mutex_unlock(&jobs->lock);
}

void sp_job_table_stats(struct sp_job_table *jobs, size_t language, struct sp_queue_stats *stats)
{
	pthread_mutex_lock(&jobs->lock);
	if (language < jobs->config.languages) {
		*stats = (struct sp_queue_stats){.queued = jobs->langs[language].queue.queued,
						 .running = jobs->langs[language].running};
	} else {
		*stats = (struct sp_queue_stats){.queued = jobs->queued,
						 .running = jobs->running,
						 .kept = jobs->done.count,
						 .idle_workers = jobs->idle,
						 .bytes_limit = jobs->bytes.limit,
						 .bytes_peak = jobs->bytes.peak,
						 .refused_memory = jobs->refused_memory,
						 .refused_share = jobs->refused_share,
						 .dropped_results = jobs->dropped_results,
						 .waiting_for_memory = jobs->memory_blocked};
		memcpy(stats->bytes, jobs->bytes.held, sizeof(stats->bytes));
	}
	pthread_mutex_unlock(&jobs->lock);
}

/* Under the lock: ask every running job to stop. */
static void cancel_running(struct sp_job_table *jobs)
{
	static const uint64_t one = 1;

	for (size_t b = 0; b < jobs->bucket_count; b++) {
		for (struct sp_job *job = jobs->buckets[b]; job != NULL; job = job->hash_next) {
			if (job->state == SP_JOB_RUNNING &&
			    write(job->cancel_fd, &one, sizeof(one)) < 0)
				log_warn("cancel job %s: %s", job->id, strerror(errno));
		}
	}
}

void sp_job_table_stop(struct sp_job_table *jobs, uint64_t grace_ms)
{
	uint64_t deadline = sp_clock_ms() + grace_ms;

	pthread_mutex_lock(&jobs->lock);
	jobs->stopping = true;
	for (size_t i = 0; i < jobs->config.languages; i++) {
		struct sp_queue_link *link;

		while ((link = sp_lang_queue_pop(&jobs->langs[i].queue)) != NULL) {
			jobs->queued--;
			finish(jobs, job_of(link), SP_JOB_SHUTDOWN, NULL, 0);
		}
	}
	pthread_cond_broadcast(&jobs->work);
	while (jobs->running > 0 && sp_clock_ms() < deadline)
		wait_until(&jobs->ended, &jobs->lock, deadline);
	if (jobs->running > 0)
		cancel_running(jobs);
	pthread_mutex_unlock(&jobs->lock);
	for (unsigned i = 0; i < jobs->thread_count; i++)
		pthread_join(jobs->threads[i], NULL);
	jobs->thread_count = 0;
}

void sp_job_table_free(struct sp_job_table *jobs)
{
	if (jobs == NULL)
		return;
	for (struct sp_job *job; (job = oldest_done(jobs)) != NULL;) {
		sp_dlist_remove(&jobs->done, &job->done_link);
		table_remove(jobs, job);
	}
	for (size_t b = 0; b < jobs->bucket_count; b++) {
		while (jobs->buckets[b] != NULL)
			table_remove(jobs, jobs->buckets[b]);
	}
	sp_user_quotas_free(&jobs->quotas);
	sp_job_bytes_free(&jobs->bytes);
	pthread_cond_destroy(&jobs->work);
	pthread_cond_destroy(&jobs->ended);
	pthread_mutex_destroy(&jobs->lock);
	free(jobs->threads);
	free(jobs->buckets);
	free(jobs->langs);
	free(jobs);
}
