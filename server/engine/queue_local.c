/* The local backend of the queue: every operation by id on the job table;
 * the table's callbacks turned into the worker's and the watchers', with
 * the job as plain data. */
#include "queue_local.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/job/request_stdin.h"

/* The input of an interactive job: the write end of its stdin pipe. */
struct feed {
	struct feed *next;
	char id[SP_QUEUE_ID_SIZE];
	int owner;
	int w; /* -1 once closed */
};

struct local {
	struct sp_job_table *table;
	char node[128];
	pthread_mutex_t lock; /* over feeds */
	struct feed *feeds;
	struct sp_queue_worker worker;
	struct sp_queue_watchers watchers;
};

/* --- the table's callbacks --------------------------------------------------- */

static json_t *run(void *ctx, struct sp_job *job, const struct sp_request *req, size_t language,
		   int cancel_fd, uint64_t queued_ms)
{
	struct local *l = ctx;
	struct sp_queue_job view;

	sp_job_view(job, &view);
	view.language = language;
	view.queued_ms = queued_ms;
	return l->worker.run(l->worker.ctx, &view, req, cancel_fd);
}

static void measure(void *ctx, const struct sp_request *req, unsigned cells, uint64_t *held,
		    uint64_t *reserve)
{
	struct local *l = ctx;

	if (l->worker.measure != NULL)
		l->worker.measure(l->worker.ctx, req, cells, held, reserve);
}

static void unrun(void *ctx, size_t language)
{
	struct local *l = ctx;

	if (l->worker.unrun != NULL)
		l->worker.unrun(l->worker.ctx, language);
}

static void event(void *ctx, const struct sp_job *job, json_t *ev)
{
	struct local *l = ctx;
	struct sp_queue_job view;

	if (l->watchers.deliver == NULL)
		return;
	sp_job_view(job, &view);
	l->watchers.deliver(l->watchers.ctx, &view, ev);
}

/* --- the operations ---------------------------------------------------------- */

static int local_submit(void *self, struct sp_request *req, size_t language,
			const struct sp_queue_order *order, char id[SP_QUEUE_ID_SIZE],
			struct sp_error *err)
{
	struct local *l = self;
	struct feed *feed = order->interactive ? calloc(1, sizeof(*feed)) : NULL;
	struct sp_job *job;

	if (order->interactive && (feed == NULL || (feed->w = sp_request_interactive(req)) < 0)) {
		int errnum = feed ? errno : ENOMEM;

		free(feed);
		return sp_error_set(err, errnum,
				    errnum == EFBIG ? "the stdin of an interactive run is at most "
						      "64 KiB at its start; send the rest as input"
						    : "the input of an interactive run");
	}
	job = sp_job_table_submit(l->table, req, language, order, err);
	if (job == NULL) {
		if (feed != NULL)
			close(feed->w);
		free(feed);
		return -1;
	}
	memcpy(id, sp_job_id(job), SP_QUEUE_ID_SIZE);
	sp_job_put(l->table, job);
	if (feed != NULL) {
		memcpy(feed->id, id, SP_QUEUE_ID_SIZE);
		feed->owner = order->owner;
		pthread_mutex_lock(&l->lock);
		feed->next = l->feeds;
		l->feeds = feed;
		pthread_mutex_unlock(&l->lock);
	}
	return 0;
}

/* Under the lock: the feed of job ID, or NULL. */
static struct feed **feed_of(struct local *l, const char *id)
{
	struct feed **p = &l->feeds;

	while (*p != NULL && strcmp((*p)->id, id) != 0)
		p = &(*p)->next;
	return *p ? p : NULL;
}

static ssize_t local_stdin(void *self, const char *id, int owner, const void *data, size_t len,
			   bool close_it, struct sp_error *err)
{
	struct local *l = self;
	struct feed **p;
	ssize_t n = -1;

	pthread_mutex_lock(&l->lock);
	p = feed_of(l, id);
	if (p == NULL || (*p)->owner != owner) {
		sp_error_set(err, ENOENT, "no interactive run of yours with this id");
	} else if ((*p)->w < 0) {
		sp_error_set(err, EPIPE, "the program's input is closed");
	} else if (close_it) {
		close((*p)->w);
		(*p)->w = -1;
		n = 0;
	} else {
		n = write((*p)->w, data, len);
		if (n < 0 && errno == EAGAIN)
			n = 0;
		else if (n < 0)
			sp_error_set(err, EPIPE, "the program's input is closed");
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* The feed of job ID, if any, closed and forgotten. */
static void drop_feed(struct local *l, const char *id)
{
	struct feed **p, *f = NULL;

	pthread_mutex_lock(&l->lock);
	p = feed_of(l, id);
	if (p != NULL) {
		f = *p;
		*p = f->next;
	}
	pthread_mutex_unlock(&l->lock);
	if (f != NULL && f->w >= 0)
		close(f->w);
	free(f);
}

/* The job ID of OWNER, a reference; NULL when there is none. */
static struct sp_job *find_of(struct local *l, const char *id, int owner)
{
	struct sp_job *job = id ? sp_job_table_find(l->table, id) : NULL;

	if (job != NULL && sp_job_owner(job) != owner) {
		sp_job_put(l->table, job);
		return NULL;
	}
	return job;
}

static void local_wait(void *self, const char *id)
{
	struct local *l = self;
	struct sp_job *job = sp_job_table_find(l->table, id);

	if (job == NULL)
		return;
	sp_job_table_wait(l->table, job);
	sp_job_put(l->table, job);
}

static int local_result(void *self, const char *id, int owner, json_t **result,
			enum sp_job_end *end, struct sp_error *err)
{
	struct local *l = self;
	struct sp_job *job = find_of(l, id, owner);

	*result = NULL;
	if (job == NULL)
		return sp_error_set(err, ENOENT, "no such job");
	*result = sp_job_table_result(l->table, job, end);
	sp_job_put(l->table, job);
	return 0;
}

/* The view of job ID of OWNER, cancelled first when CANCEL says so; NULL
 * with ERR when there is no such job. */
static json_t *view_of(struct local *l, const char *id, int owner, bool cancel,
		       struct sp_error *err)
{
	struct sp_job *job = find_of(l, id, owner);
	json_t *view;

	if (job == NULL) {
		sp_error_set(err, ENOENT, "no such job");
		return NULL;
	}
	if (cancel)
		sp_job_table_cancel(l->table, job);
	view = sp_job_table_describe(l->table, job);
	sp_job_put(l->table, job);
	return view;
}

static json_t *local_view(void *self, const char *id, int owner, struct sp_error *err)
{
	return view_of(self, id, owner, false, err);
}

static json_t *local_cancel(void *self, const char *id, int owner, struct sp_error *err)
{
	return view_of(self, id, owner, true, err);
}

static bool local_ended(void *self, const char *id)
{
	struct local *l = self;
	struct sp_job *job = sp_job_table_find(l->table, id);
	bool ended = job == NULL || sp_job_table_state(l->table, job) == SP_JOB_DONE;

	sp_job_put(l->table, job);
	return ended;
}

static void local_release(void *self, const char *id)
{
	struct local *l = self;

	drop_feed(l, id);
	sp_job_table_release(l->table, id);
}

static void local_publish(void *self, const struct sp_queue_job *job, json_t *ev)
{
	struct local *l = self;

	if (l->watchers.deliver == NULL || ev == NULL)
		return;
	json_object_set_new(ev, "id", json_string(job->id));
	if (job->ref != NULL)
		json_object_set_new(ev, "ref", json_string(job->ref));
	l->watchers.deliver(l->watchers.ctx, job, ev);
}

static void local_reserve_less(void *self, const struct sp_queue_job *job, uint64_t reserve)
{
	struct local *l = self;

	sp_job_table_reserve_less(l->table, job->id, reserve);
}

static bool local_watched(void *self, const struct sp_queue_job *job)
{
	struct local *l = self;

	return l->watchers.watched != NULL && l->watchers.watched(l->watchers.ctx, job);
}

static int local_hold(void *self, const struct sp_bytes_holder *h, uint64_t n, struct sp_error *err)
{
	struct local *l = self;

	return sp_job_table_hold(l->table, h, n, err);
}

static void local_unhold(void *self, const struct sp_bytes_holder *h, uint64_t n)
{
	struct local *l = self;

	sp_job_table_unhold(l->table, h, n);
}

static unsigned local_retry_after(void *self, const char *user)
{
	struct local *l = self;

	return sp_job_table_retry_after(l->table, user);
}

static void local_stats(void *self, size_t language, struct sp_queue_stats *stats)
{
	struct local *l = self;

	sp_job_table_stats(l->table, language, stats);
	stats->backend = "local";
	stats->reachable = true;
}

/* This process is the one worker. */
static json_t *local_workers(void *self, struct sp_error *err)
{
	struct local *l = self;
	json_t *me = l->worker.describe ? l->worker.describe(l->worker.ctx) : json_object();
	char host[256] = "";
	struct timespec now;

	if (me == NULL) {
		sp_error_set(err, ENOMEM, "workers");
		return NULL;
	}
	gethostname(host, sizeof(host) - 1);
	clock_gettime(CLOCK_REALTIME, &now);
	json_object_set_new(me, "id", json_string(l->node));
	json_object_set_new(me, "host", json_string(host));
	json_object_set_new(me, "last_seen_ms",
			    json_integer((json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000));
	return json_pack("[o]", me);
}

static void local_stop(void *self, uint64_t grace_ms)
{
	struct local *l = self;

	sp_job_table_stop(l->table, grace_ms);
}

static void local_free(void *self)
{
	struct local *l = self;

	sp_job_table_free(l->table);
	while (l->feeds != NULL)
		drop_feed(l, l->feeds->id);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static const struct sp_queue_ops local_ops = {
    .submit = local_submit,
    .wait = local_wait,
    .result = local_result,
    .view = local_view,
    .cancel = local_cancel,
    .ended = local_ended,
    .release = local_release,
    .stdin_write = local_stdin,
    .publish = local_publish,
    .watched = local_watched,
    .reserve_less = local_reserve_less,
    .hold = local_hold,
    .unhold = local_unhold,
    .retry_after = local_retry_after,
    .stats = local_stats,
    .workers = local_workers,
    .stop = local_stop,
    .free = local_free,
};

int sp_queue_local_start(struct sp_queue **queue, const struct sp_queue_local_config *config,
			 struct sp_error *err)
{
	struct sp_queue *q = calloc(1, sizeof(*q));
	struct local *l = calloc(1, sizeof(*l));
	struct sp_job_table_config table = config->table;

	if (q == NULL || l == NULL) {
		free(q);
		free(l);
		return sp_error_set(err, ENOMEM, "queue");
	}
	pthread_mutex_init(&l->lock, NULL);
	l->worker = config->worker;
	l->watchers = config->watchers;
	snprintf(l->node, sizeof(l->node), "%s", config->node ? config->node : "local");
	table.run = run;
	table.measure = measure;
	table.unrun = unrun;
	table.event = event;
	table.ctx = l;
	if (sp_job_table_start(&l->table, &table, err) < 0) {
		pthread_mutex_destroy(&l->lock);
		free(q);
		free(l);
		return -1;
	}
	*q = (struct sp_queue){.ops = &local_ops, .self = l};
	*queue = q;
	return 0;
}
