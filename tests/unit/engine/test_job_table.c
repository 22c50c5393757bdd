/* The job table: queue bound, per-language capacity, oldest first, cancel
 * while queued and while running, queue timeout, retention, stop, the bytes
 * jobs and bodies hold against a bound and a share. The run
 * callback here stands for the sandbox: it holds its job until the test
 * opens the language's gate or the job's cancel descriptor fires. */
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/base/clock.h"
#include "server/engine/job_table.h"
#include "server/job/language.h"

#define LANGS	   2
#define WAIT_LIMIT 5000 /* ms: a condition not met by then fails the test */

static struct sp_language languages[LANGS] = {{.name = "one"}, {.name = "two", .version = "2"}};

struct bench {
	atomic_bool open[LANGS]; /* jobs of the language may end */
	atomic_uint started[LANGS];
	atomic_uint unrun[LANGS];
	atomic_uint order_len;
	pthread_t runner[LANGS]; /* the thread that ran the latest job */
	char order[64];		 /* the languages in the order their jobs started */
	char users[64];		 /* the first letter of their users, '-' for none */
	pthread_mutex_t event_lock;
	char events[512]; /* "type:ref " of every event */
	struct sp_job_table *jobs;
	unsigned capacity[LANGS];
	struct sp_job_table_config config;
	size_t result_pad; /* bytes of "stdout" in every result */
};

static json_t *run_gated(void *ctx, struct sp_job *job, const struct sp_request *req,
			 size_t language, int cancel_fd, uint64_t queued_ms)
{
	struct bench *b = ctx;
	unsigned at = atomic_fetch_add(&b->order_len, 1);
	bool cancelled = false;

	(void)queued_ms;
	if (at < sizeof(b->order) - 1) {
		b->order[at] = (char)('0' + language);
		b->users[at] = sp_job_user(job) ? sp_job_user(job)[0] : '-';
	}
	b->runner[language] = pthread_self();
	atomic_fetch_add(&b->started[language], 1);
	while (!atomic_load(&b->open[language]) && !cancelled) {
		struct pollfd p = {.fd = cancel_fd, .events = POLLIN};

		cancelled = poll(&p, 1, 5) > 0;
	}
	if (b->result_pad > 0) {
		char *pad = malloc(b->result_pad + 1);
		json_t *result;

		memset(pad, 'x', b->result_pad);
		pad[b->result_pad] = '\0';
		result = json_pack("{s:s, s:s, s:s}", "status", cancelled ? "cancelled" : "ok",
				   "language", req->language->name, "stdout", pad);
		free(pad);
		return result;
	}
	return json_pack("{s:s, s:s}", "status", cancelled ? "cancelled" : "ok", "language",
			 req->language->name);
}

/* What a job holds here: its request's limits say (cpu_ms queued, wall_ms
 * more while it runs). */
static void measure_by_limits(void *ctx, const struct sp_request *req, unsigned cells,
			      uint64_t *held, uint64_t *reserve)
{
	(void)ctx;
	(void)cells;
	*held = req->limits.cpu_ms;
	*reserve = req->limits.wall_ms;
}

static void count_unrun(void *ctx, size_t language)
{
	struct bench *b = ctx;

	atomic_fetch_add(&b->unrun[language], 1);
}

static void record_event(void *ctx, const struct sp_job *job, json_t *event)
{
	struct bench *b = ctx;
	const char *ref = json_string_value(json_object_get(event, "ref"));
	size_t used;

	assert_string_equal(json_string_value(json_object_get(event, "id")), sp_job_id(job));
	pthread_mutex_lock(&b->event_lock);
	used = strlen(b->events);
	snprintf(b->events + used, sizeof(b->events) - used, "%s:%s ",
		 json_string_value(json_object_get(event, "type")), ref ? ref : "-");
	pthread_mutex_unlock(&b->event_lock);
}

static void wait_count(atomic_uint *counter, unsigned want)
{
	uint64_t deadline = sp_clock_ms() + WAIT_LIMIT;

	while (atomic_load(counter) < want && sp_clock_ms() < deadline)
		usleep(1000);
	assert_int_equal(atomic_load(counter), want);
}

static void bench_init(struct bench *b, unsigned cap0, unsigned cap1)
{
	memset(b, 0, sizeof(*b));
	b->capacity[0] = cap0;
	b->capacity[1] = cap1;
	b->config = (struct sp_job_table_config){
	    .languages = LANGS,
	    .capacity = b->capacity,
	    .queue_size = 100,
	    .retention_ms = 60000,
	    .retention_count = 100,
	    .run = run_gated,
	    .unrun = count_unrun,
	    .event = record_event,
	    .ctx = b,
	};
	pthread_mutex_init(&b->event_lock, NULL);
}

static void bench_start(struct bench *b)
{
	struct sp_error err = {0};

	assert_int_equal(sp_job_table_start(&b->jobs, &b->config, &err), 0);
}

static void bench_stop(struct bench *b)
{
	atomic_store(&b->open[0], true);
	atomic_store(&b->open[1], true);
	sp_job_table_stop(b->jobs, 5000);
	sp_job_table_free(b->jobs);
}

static struct sp_job *submit_as(struct bench *b, size_t language, bool keep, const char *user)
{
	struct sp_request req = {.language = &languages[language], .stdin_fd = -1};
	struct sp_queue_order meta = {.user = user, .owner = -1, .keep = keep};
	struct sp_error err = {0};
	struct sp_job *job = sp_job_table_submit(b->jobs, &req, language, &meta, &err);

	if (job == NULL)
		fail_msg("submit: %s", err.message);
	return job;
}

/* A job whose submitter waits for it (as POST /run does). */
static struct sp_job *submit_waiting(struct bench *b, size_t language)
{
	struct sp_request req = {.language = &languages[language], .stdin_fd = -1};
	struct sp_queue_order meta = {.owner = -1, .waits = true};
	struct sp_error err = {0};
	struct sp_job *job = sp_job_table_submit(b->jobs, &req, language, &meta, &err);

	if (job == NULL)
		fail_msg("submit: %s", err.message);
	return job;
}

static struct sp_job *submit(struct bench *b, size_t language, bool keep)
{
	return submit_as(b, language, keep, NULL);
}

/* Submit, expecting a refusal with ERRNUM. */
static void refused(struct bench *b, size_t language, const char *user, int errnum)
{
	struct sp_request req = {.language = &languages[language], .stdin_fd = -1};
	struct sp_queue_order meta = {.user = user, .owner = -1};
	struct sp_error err = {0};

	assert_null(sp_job_table_submit(b->jobs, &req, language, &meta, &err));
	assert_int_equal(err.errnum, errnum);
}

/* The state of JOB as sp_job_table_describe() says it. */
static const char *state_of(struct bench *b, struct sp_job *job, char *buf, size_t size)
{
	json_t *view = sp_job_table_describe(b->jobs, job);

	snprintf(buf, size, "%s", json_string_value(json_object_get(view, "state")));
	json_decref(view);
	return buf;
}

/* Wait for JOB, check how it ended and the status of its result. */
static void expect_end(struct bench *b, struct sp_job *job, enum sp_job_end want_end,
		       const char *want_status)
{
	enum sp_job_end end;
	json_t *result;

	sp_job_table_wait(b->jobs, job);
	result = sp_job_table_result(b->jobs, job, &end);
	assert_non_null(result);
	assert_int_equal(end, want_end);
	assert_string_equal(json_string_value(json_object_get(result, "status")), want_status);
	assert_string_equal(json_string_value(json_object_get(result, "id")), sp_job_id(job));
	json_decref(result);
}

static void test_run_keep_and_forget(void **state)
{
	struct bench b;
	struct sp_job *kept, *gone, *found;
	char id[64], buf[16];
	json_t *view;

	(void)state;
	bench_init(&b, 1, 1);
	atomic_store(&b.open[0], true);
	bench_start(&b);
	kept = submit(&b, 0, true);
	gone = submit(&b, 0, false);
	expect_end(&b, kept, SP_JOB_FINISHED, "ok");
	expect_end(&b, gone, SP_JOB_FINISHED, "ok");
	found = sp_job_table_find(b.jobs, sp_job_id(kept));
	assert_ptr_equal(found, kept);
	view = sp_job_table_describe(b.jobs, found);
	assert_string_equal(json_string_value(json_object_get(view, "state")), "done");
	assert_string_equal(json_string_value(json_object_get(view, "language")), "one");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(view, "result"), "status")), "ok");
	json_decref(view);
	sp_job_put(b.jobs, found);
	/* A job that is not kept leaves the table when it ends. */
	snprintf(id, sizeof(id), "%s", sp_job_id(gone));
	assert_null(sp_job_table_find(b.jobs, id));
	assert_null(sp_job_table_find(b.jobs, "00000000000000000000000000000000"));
	assert_string_equal(state_of(&b, gone, buf, sizeof(buf)), "done");
	sp_job_put(b.jobs, gone);
	sp_job_put(b.jobs, kept);
	bench_stop(&b);
}

/* Until N workers of the table wait for work. */
static void wait_idle_workers(struct bench *b, unsigned n)
{
	struct sp_queue_stats stats;

	for (;;) {
		sp_job_table_stats(b->jobs, (size_t)-1, &stats);
		if (stats.idle_workers >= n)
			return;
		usleep(1000);
	}
}

/* A waiting submitter runs its job itself when its turn has come: no hand
 * off to a worker and back. */
static void test_waiter_runs_its_job(void **state)
{
	struct bench b;
	struct sp_job *job;

	(void)state;
	bench_init(&b, 1, 1);
	bench_start(&b);
	atomic_store(&b.open[0], true);
	/* both workers (one a language) asleep first: a worker still in its
	 * first look at the queue takes any job, as it should */
	wait_idle_workers(&b, 2);
	job = submit_waiting(&b, 0);
	sp_job_table_wait(b.jobs, job);
	assert_true(pthread_equal(b.runner[0], pthread_self()));
	sp_job_put(b.jobs, job);
	bench_stop(&b);
}

struct waiter {
	struct bench *b;
	atomic_bool done;
};

static void *wait_for_own_job(void *arg)
{
	struct waiter *w = arg;
	struct sp_job *job = submit_waiting(w->b, 0);

	sp_job_table_wait(w->b->jobs, job);
	sp_job_put(w->b->jobs, job);
	atomic_store(&w->done, true);
	return NULL;
}

/* When the language is full, the waiting job runs once a cell is free
 * (whoever runs it), and in its turn. */
static void test_waiter_behind_a_full_language(void **state)
{
	struct bench b;
	struct waiter w = {.b = &b};
	struct sp_job *first;
	pthread_t thread;
	uint64_t deadline;

	(void)state;
	bench_init(&b, 1, 1);
	bench_start(&b);
	first = submit(&b, 0, false);
	wait_count(&b.started[0], 1);
	assert_int_equal(pthread_create(&thread, NULL, wait_for_own_job, &w), 0);
	usleep(50 * 1000);
	assert_int_equal(atomic_load(&b.started[0]), 1);
	assert_false(atomic_load(&w.done));
	atomic_store(&b.open[0], true);
	deadline = sp_clock_ms() + WAIT_LIMIT;
	while (!atomic_load(&w.done) && sp_clock_ms() < deadline)
		usleep(1000);
	assert_true(atomic_load(&w.done));
	assert_int_equal(atomic_load(&b.started[0]), 2);
	pthread_join(thread, NULL);
	sp_job_table_wait(b.jobs, first);
	sp_job_put(b.jobs, first);
	bench_stop(&b);
}

static void test_queue_full(void **state)
{
	struct bench b;
	struct sp_job *jobs[3];

	(void)state;
	bench_init(&b, 1, 1);
	b.config.queue_size = 2;
	bench_start(&b);
	jobs[0] = submit(&b, 0, false);
	wait_count(&b.started[0], 1); /* running: no longer queued */
	jobs[1] = submit(&b, 0, false);
	jobs[2] = submit(&b, 0, false);
	refused(&b, 0, NULL, EAGAIN);
	/* The bound is per language: another one still gets in. */
	atomic_store(&b.open[1], true);
	sp_job_put(b.jobs, submit(&b, 1, false));
	atomic_store(&b.open[0], true);
	for (int i = 0; i < 3; i++) {
		expect_end(&b, jobs[i], SP_JOB_FINISHED, "ok");
		sp_job_put(b.jobs, jobs[i]);
	}
	bench_stop(&b);
}

/* A language with every slot busy does not hold up another language. */
static void test_language_not_blocked(void **state)
{
	struct bench b;
	struct sp_job *busy, *waiting, *other;
	char buf[16];

	(void)state;
	bench_init(&b, 1, 1);
	bench_start(&b);
	atomic_store(&b.open[1], true);
	busy = submit(&b, 0, false);
	wait_count(&b.started[0], 1);
	waiting = submit(&b, 0, false);
	other = submit(&b, 1, false);
	expect_end(&b, other, SP_JOB_FINISHED, "ok");
	assert_string_equal(state_of(&b, busy, buf, sizeof(buf)), "running");
	assert_string_equal(state_of(&b, waiting, buf, sizeof(buf)), "queued");
	assert_int_equal(atomic_load(&b.started[0]), 1);
	atomic_store(&b.open[0], true);
	expect_end(&b, busy, SP_JOB_FINISHED, "ok");
	expect_end(&b, waiting, SP_JOB_FINISHED, "ok");
	sp_job_put(b.jobs, busy);
	sp_job_put(b.jobs, waiting);
	sp_job_put(b.jobs, other);
	bench_stop(&b);
}

/* A job that takes several cells (a judge's tests at once) counts as many
 * against its language's capacity, and at most the whole of it. */
static void test_jobs_of_several_cells(void **state)
{
	struct sp_request req = {.language = &languages[0], .stdin_fd = -1};
	struct sp_queue_order meta = {.owner = -1, .cells = 2};
	struct sp_error err = {0};
	struct sp_job *wide, *narrow, *huge;
	struct bench b;
	char buf[16];

	(void)state;
	bench_init(&b, 3, 1);
	bench_start(&b);
	wide = sp_job_table_submit(b.jobs, &req, 0, &meta, &err);
	assert_non_null(wide);
	wait_count(&b.started[0], 1);
	narrow = submit(&b, 0, false);
	/* one cell of three is left: room for the one-cell job */
	wait_count(&b.started[0], 2);
	meta.cells = 10; /* more than the language has: it waits for all three */
	req = (struct sp_request){.language = &languages[0], .stdin_fd = -1};
	huge = sp_job_table_submit(b.jobs, &req, 0, &meta, &err);
	assert_non_null(huge);
	usleep(50000);
	assert_string_equal(state_of(&b, huge, buf, sizeof(buf)), "queued");
	atomic_store(&b.open[0], true);
	expect_end(&b, wide, SP_JOB_FINISHED, "ok");
	expect_end(&b, narrow, SP_JOB_FINISHED, "ok");
	expect_end(&b, huge, SP_JOB_FINISHED, "ok");
	assert_int_equal(atomic_load(&b.started[0]), 3);
	sp_job_put(b.jobs, wide);
	sp_job_put(b.jobs, narrow);
	sp_job_put(b.jobs, huge);
	bench_stop(&b);
}

/* With one worker, jobs start in the order they came, across languages. */
static void test_oldest_first(void **state)
{
	struct bench b;
	struct sp_job *jobs[4];

	(void)state;
	bench_init(&b, 2, 2);
	b.config.workers = 1;
	bench_start(&b);
	atomic_store(&b.open[1], true);
	jobs[0] = submit(&b, 0, false);
	wait_count(&b.started[0], 1);
	jobs[1] = submit(&b, 1, false);
	jobs[2] = submit(&b, 0, false);
	jobs[3] = submit(&b, 1, false);
	atomic_store(&b.open[0], true);
	for (int i = 0; i < 4; i++) {
		expect_end(&b, jobs[i], SP_JOB_FINISHED, "ok");
		sp_job_put(b.jobs, jobs[i]);
	}
	b.order[atomic_load(&b.order_len)] = '\0';
	assert_string_equal(b.order, "0101");
	bench_stop(&b);
}

static void test_cancel_queued_and_running(void **state)
{
	struct bench b;
	struct sp_job *running, *queued;

	(void)state;
	bench_init(&b, 1, 1);
	bench_start(&b);
	running = submit(&b, 0, true);
	wait_count(&b.started[0], 1);
	queued = submit(&b, 0, true);
	sp_job_table_cancel(b.jobs, queued);
	expect_end(&b, queued, SP_JOB_CANCELLED, "cancelled");
	assert_int_equal(atomic_load(&b.unrun[0]), 1);
	/* The gate stays shut: only the cancel descriptor ends the run. */
	sp_job_table_cancel(b.jobs, running);
	expect_end(&b, running, SP_JOB_FINISHED, "cancelled");
	assert_int_equal(atomic_load(&b.started[0]), 1);
	/* Cancelling an ended job drops it from the table. */
	sp_job_table_cancel(b.jobs, running);
	assert_null(sp_job_table_find(b.jobs, sp_job_id(running)));
	sp_job_put(b.jobs, running);
	sp_job_put(b.jobs, queued);
	bench_stop(&b);
}

static void test_queue_timeout(void **state)
{
	struct bench b;
	struct sp_job *running, *waiting, *kept, *found;
	uint64_t start;
	char buf[16];

	(void)state;
	bench_init(&b, 1, 1);
	b.config.queue_timeout_ms = 100;
	bench_start(&b);
	running = submit(&b, 0, false);
	wait_count(&b.started[0], 1);
	start = sp_clock_ms();
	waiting = submit(&b, 0, false);
	kept = submit(&b, 0, true);
	expect_end(&b, waiting, SP_JOB_EXPIRED, "cancelled");
	assert_true(sp_clock_ms() - start >= 100);
	/* The kept job came a moment later: it expires a moment later, and
	 * stays in the table afterwards. */
	expect_end(&b, kept, SP_JOB_EXPIRED, "cancelled");
	found = sp_job_table_find(b.jobs, sp_job_id(kept));
	assert_ptr_equal(found, kept);
	assert_string_equal(state_of(&b, found, buf, sizeof(buf)), "done");
	/* A running job is not subject to the queue timeout. */
	assert_string_equal(state_of(&b, running, buf, sizeof(buf)), "running");
	sp_job_put(b.jobs, found);
	sp_job_put(b.jobs, kept);
	sp_job_put(b.jobs, waiting);
	atomic_store(&b.open[0], true);
	expect_end(&b, running, SP_JOB_FINISHED, "ok");
	sp_job_put(b.jobs, running);
	bench_stop(&b);
}

static void test_retention(void **state)
{
	struct bench b;
	struct sp_job *jobs[3], *found;
	char ids[3][64];

	(void)state;
	bench_init(&b, 1, 1);
	b.config.retention_count = 2;
	b.config.retention_ms = 200;
	atomic_store(&b.open[0], true);
	bench_start(&b);
	for (int i = 0; i < 3; i++) {
		jobs[i] = submit(&b, 0, true);
		snprintf(ids[i], sizeof(ids[i]), "%s", sp_job_id(jobs[i]));
		expect_end(&b, jobs[i], SP_JOB_FINISHED, "ok");
		sp_job_put(b.jobs, jobs[i]);
	}
	assert_null(sp_job_table_find(b.jobs, ids[0])); /* beyond the count */
	found = sp_job_table_find(b.jobs, ids[2]);
	assert_non_null(found);
	sp_job_put(b.jobs, found);
	usleep(300 * 1000);
	assert_null(sp_job_table_find(b.jobs, ids[1])); /* older than the time */
	assert_null(sp_job_table_find(b.jobs, ids[2]));
	bench_stop(&b);
}

static void test_stop(void **state)
{
	struct bench b;
	struct sp_job *running, *queued;
	uint64_t start;

	(void)state;
	bench_init(&b, 1, 1);
	bench_start(&b);
	running = submit(&b, 0, false);
	wait_count(&b.started[0], 1);
	queued = submit(&b, 0, true);
	start = sp_clock_ms();
	sp_job_table_stop(b.jobs, 100); /* the running job ignores its gate: cancelled */
	assert_true(sp_clock_ms() - start >= 100);
	expect_end(&b, queued, SP_JOB_SHUTDOWN, "cancelled");
	expect_end(&b, running, SP_JOB_FINISHED, "cancelled");
	refused(&b, 1, NULL, ECANCELED);
	sp_job_put(b.jobs, running);
	sp_job_put(b.jobs, queued);
	sp_job_table_free(b.jobs);
}

/* Users take turns within a language: one user's backlog delays another
 * user's job by one job per slot, not by the backlog. */
static void test_users_take_turns(void **state)
{
	struct bench b;
	struct sp_job *jobs[7];

	(void)state;
	bench_init(&b, 1, 1);
	bench_start(&b);
	jobs[0] = submit_as(&b, 0, false, "xavier");
	wait_count(&b.started[0], 1);
	for (int i = 1; i <= 5; i++)
		jobs[i] = submit_as(&b, 0, false, "xavier");
	jobs[6] = submit_as(&b, 0, false, "yvonne");
	atomic_store(&b.open[0], true);
	for (int i = 0; i < 7; i++) {
		expect_end(&b, jobs[i], SP_JOB_FINISHED, "ok");
		sp_job_put(b.jobs, jobs[i]);
	}
	b.users[atomic_load(&b.order_len)] = '\0';
	assert_string_equal(b.users, "xxyxxxx");
	bench_stop(&b);
}

static void test_user_limits(void **state)
{
	struct bench b;
	struct sp_job *jobs[4];

	(void)state;
	bench_init(&b, 1, 1);
	b.config.user_in_flight = 2;
	b.config.user_jobs_per_minute = 3;
	bench_start(&b);
	jobs[0] = submit_as(&b, 0, true, "ann");
	jobs[1] = submit_as(&b, 0, true, "ann");
	refused(&b, 0, "ann", EDQUOT);
	jobs[2] = submit_as(&b, 0, true, "bob"); /* per user */
	jobs[3] = submit(&b, 0, true);		 /* jobs without a user are not counted */
	atomic_store(&b.open[0], true);
	expect_end(&b, jobs[0], SP_JOB_FINISHED, "ok");
	expect_end(&b, jobs[1], SP_JOB_FINISHED, "ok");
	/* in flight again below the limit, but the third submission this
	 * minute is the last one */
	sp_job_put(b.jobs, submit_as(&b, 0, false, "ann"));
	refused(&b, 0, "ann", EBUSY);
	assert_true(sp_job_table_retry_after(b.jobs, "ann") >= 1);
	assert_true(sp_job_table_retry_after(b.jobs, "ann") <= 20);
	assert_int_equal(sp_job_table_retry_after(b.jobs, "bob"), 0);
	for (int i = 0; i < 4; i++)
		sp_job_put(b.jobs, jobs[i]);
	bench_stop(&b);
}

/* Watchers hear "queued" and "result", with the job's id and ref, and what
 * the runner publishes; an id given by the caller is used, once. */
/* --- bytes ------------------------------------------------------------------ */

/* A job of USER that holds HELD bytes queued and RESERVE more running. */
static struct sp_job *submit_bytes(struct bench *b, const char *user, uint64_t held,
				   uint64_t reserve, int *errnum)
{
	struct sp_request req = {.language = &languages[0],
				 .stdin_fd = -1,
				 .limits = {.cpu_ms = held, .wall_ms = reserve}};
	struct sp_queue_order meta = {.user = user, .owner = -1, .keep = true};
	struct sp_error err = {0};
	struct sp_job *job = sp_job_table_submit(b->jobs, &req, 0, &meta, &err);

	*errnum = job ? 0 : err.errnum;
	return job;
}

static void bytes_bench(struct bench *b, unsigned capacity, uint64_t max, uint64_t share)
{
	bench_init(b, capacity, 1);
	b->config.max_bytes = max;
	b->config.share_bytes = share;
	b->config.measure = measure_by_limits;
	bench_start(b);
}

static struct sp_queue_stats stats_of(struct bench *b)
{
	struct sp_queue_stats st;

	sp_job_table_stats(b->jobs, (size_t)-1, &st);
	return st;
}

static void test_bytes_bound_and_share(void **state)
{
	struct bench b;
	struct sp_job *first, *second;
	struct sp_queue_stats st;
	int errnum;

	(void)state;
	bytes_bench(&b, 1, 1000, 600);
	first = submit_bytes(&b, "ann", 300, 100, &errnum);
	assert_non_null(first);
	wait_count(&b.started[0], 1); /* running: 300 and 100 */
	assert_null(submit_bytes(&b, "ann", 300, 0, &errnum));
	assert_int_equal(errnum, ENOBUFS); /* ann would hold 700 of her 600 */
	assert_string_equal(sp_queue_refusal_code(errnum), "memory_share");
	second = submit_bytes(&b, "bob", 300, 0, &errnum);
	assert_non_null(second);
	assert_null(submit_bytes(&b, "cid", 400, 0, &errnum));
	assert_int_equal(errnum, ENOSPC); /* 1100 of 1000 */
	assert_string_equal(sp_queue_refusal_code(errnum), "memory_full");
	assert_null(submit_bytes(&b, "dan", 500, 600, &errnum));
	assert_int_equal(errnum, E2BIG); /* could never run */
	st = stats_of(&b);
	assert_int_equal(st.bytes[SP_BYTES_RUNNING], 400);
	assert_int_equal(st.bytes[SP_BYTES_QUEUED], 300);
	assert_int_equal(st.refused_memory, 1);
	assert_int_equal(st.refused_share, 1);
	atomic_store(&b.open[0], true);
	expect_end(&b, second, SP_JOB_FINISHED, "ok");
	st = stats_of(&b);
	/* two results kept, each its JSON's few hundred bytes */
	assert_int_equal(st.bytes[SP_BYTES_QUEUED] + st.bytes[SP_BYTES_RUNNING], 0);
	assert_in_range(st.bytes[SP_BYTES_KEPT], 200, 1000);
	assert_in_range(st.bytes_peak, 700, 1000); /* a job moving classes counts once */
	sp_job_put(b.jobs, first);
	sp_job_put(b.jobs, second);
	bench_stop(&b);
}

static void test_a_job_starts_when_its_run_fits(void **state)
{
	struct bench b;
	struct sp_job *big, *next;
	int errnum;

	(void)state;
	bytes_bench(&b, 2, 1000, 0);
	big = submit_bytes(&b, NULL, 100, 700, &errnum);
	wait_count(&b.started[0], 1); /* 800 held */
	next = submit_bytes(&b, NULL, 100, 300, &errnum);
	assert_non_null(next); /* 900 held: it is queued, but 1200 would not fit */
	usleep(50 * 1000);
	assert_int_equal(atomic_load(&b.started[0]), 1);
	assert_true(stats_of(&b).waiting_for_memory);
	atomic_store(&b.open[0], true); /* the big one ends: the next one runs */
	expect_end(&b, next, SP_JOB_FINISHED, "ok");
	assert_int_equal(atomic_load(&b.started[0]), 2);
	assert_false(stats_of(&b).waiting_for_memory);
	assert_in_range(stats_of(&b).bytes_peak, 900, 1000);
	sp_job_put(b.jobs, big);
	sp_job_put(b.jobs, next);
	bench_stop(&b);
}

static void test_kept_results_make_room(void **state)
{
	struct bench b;
	struct sp_job *old, *job;
	char id[64];
	int errnum;

	(void)state;
	bench_init(&b, 1, 1);
	b.config.max_bytes = 20000;
	b.config.measure = measure_by_limits;
	b.result_pad = 12000;
	atomic_store(&b.open[0], true);
	bench_start(&b);
	old = submit_bytes(&b, NULL, 100, 100, &errnum);
	snprintf(id, sizeof(id), "%s", sp_job_id(old));
	expect_end(&b, old, SP_JOB_FINISHED, "ok");
	sp_job_put(b.jobs, old);
	assert_in_range(stats_of(&b).bytes[SP_BYTES_KEPT], 12000, 13000);
	job = submit_bytes(&b, NULL, 9000, 0, &errnum); /* room: the old result goes */
	assert_non_null(job);
	assert_null(sp_job_table_find(b.jobs, id));
	assert_int_equal(stats_of(&b).dropped_results, 1);
	expect_end(&b, job, SP_JOB_FINISHED, "ok");
	sp_job_put(b.jobs, job);
	bench_stop(&b);
}

static void test_bodies_hold_their_part(void **state)
{
	struct bench b;
	struct sp_bytes_holder x = {.token = -1, .address = "192.0.2.1"};
	struct sp_bytes_holder y = {.token = -1, .address = "192.0.2.2"};
	struct sp_error err = {0};
	int errnum;

	(void)state;
	bytes_bench(&b, 1, 1000, 600);
	assert_int_equal(sp_job_table_hold(b.jobs, &x, 500, &err), 0);
	assert_int_equal(sp_job_table_hold(b.jobs, &x, 200, &err), -1);
	assert_int_equal(err.errnum, ENOBUFS); /* x's share */
	assert_int_equal(sp_job_table_hold(b.jobs, &y, 600, &err), -1);
	assert_int_equal(err.errnum, ENOSPC);
	assert_int_equal(stats_of(&b).bytes[SP_BYTES_BODIES], 500);
	assert_null(submit_bytes(&b, NULL, 600, 0, &errnum));
	assert_int_equal(errnum, ENOSPC);
	sp_job_table_unhold(b.jobs, &x, 500);
	assert_int_equal(sp_job_table_hold(b.jobs, &y, 600, &err), 0);
	sp_job_table_unhold(b.jobs, &y, 600);
	assert_int_equal(stats_of(&b).bytes[SP_BYTES_BODIES], 0);
	bench_stop(&b);
}

static void test_events_and_ids(void **state)
{
	struct bench b;
	struct sp_request req = {.language = &languages[1], .stdin_fd = -1};
	struct sp_queue_order meta = {.ref = "tag", .owner = -1};
	struct sp_error err = {0};
	struct sp_job *job;
	char id[33];

	(void)state;
	bench_init(&b, 1, 1);
	bench_start(&b);
	assert_int_equal(sp_queue_new_id(id), 0);
	assert_int_equal(strspn(id, "0123456789abcdef"), 32);
	meta.id = id;
	job = sp_job_table_submit(b.jobs, &req, 1, &meta, &err);
	assert_non_null(job);
	assert_string_equal(sp_job_id(job), id);
	{
		struct sp_request again = {.language = &languages[1], .stdin_fd = -1};

		assert_null(sp_job_table_submit(b.jobs, &again, 1, &meta, &err));
		assert_int_equal(err.errnum, EEXIST);
	}
	wait_count(&b.started[1], 1);
	atomic_store(&b.open[1], true);
	expect_end(&b, job, SP_JOB_FINISHED, "ok");
	sp_job_put(b.jobs, job);
	assert_string_equal(b.events, "queued:tag result:tag ");
	bench_stop(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_keep_and_forget),
	    cmocka_unit_test(test_waiter_runs_its_job),
	    cmocka_unit_test(test_waiter_behind_a_full_language),
	    cmocka_unit_test(test_queue_full),
	    cmocka_unit_test(test_language_not_blocked),
	    cmocka_unit_test(test_jobs_of_several_cells),
	    cmocka_unit_test(test_oldest_first),
	    cmocka_unit_test(test_cancel_queued_and_running),
	    cmocka_unit_test(test_queue_timeout),
	    cmocka_unit_test(test_retention),
	    cmocka_unit_test(test_stop),
	    cmocka_unit_test(test_users_take_turns),
	    cmocka_unit_test(test_user_limits),
	    cmocka_unit_test(test_events_and_ids),
	    cmocka_unit_test(test_bytes_bound_and_share),
	    cmocka_unit_test(test_a_job_starts_when_its_run_fits),
	    cmocka_unit_test(test_kept_results_make_room),
	    cmocka_unit_test(test_bodies_hold_their_part),
	};

	alarm(120); /* a job that never ends fails the run rather than hanging it */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
