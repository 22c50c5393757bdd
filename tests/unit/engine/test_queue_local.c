/* The queue's local backend, through the queue interface only (queue.h): a
 * job submitted is found by its id while its submitter holds it and gone
 * once let go; a kept one stays; a job of another owner is unknown; the
 * worker sees the job as plain data and its events reach the watchers with
 * the job's id and tag; cancel, refusals, stop. The worker here stands for
 * the sandbox: it holds its job until the test opens the gate or the job's
 * cancel descriptor fires. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/base/clock.h"
#include "server/engine/queue_local.h"
#include "server/job/language.h"

#define LANGS	   2
#define WAIT_LIMIT 5000 /* ms: a condition not met by then fails the test */
#define OWNER	   3
#define NO_ID	   "00000000000000000000000000000000"

static struct sp_language languages[LANGS] = {{.name = "one"}, {.name = "two"}};

struct bench {
	struct sp_queue *queue;
	struct sp_queue_local_config config;
	unsigned capacity[LANGS];
	atomic_bool open;	  /* running jobs may end */
	atomic_uint started;	  /* jobs the worker took */
	atomic_uint unrun;	  /* jobs that ended without running */
	struct sp_queue_job seen; /* the latest job the worker took */
	char seen_user[16], seen_ref[16];
	atomic_bool watched; /* what the watchers answer */
	uint64_t reserve;    /* what the worker measures a job to need more */
	pthread_mutex_t lock;
	char events[512]; /* "type:id-prefix:ref " of every event delivered */
};

static json_t *run_gated(void *ctx, const struct sp_queue_job *job, const struct sp_request *req,
			 int cancel_fd)
{
	struct bench *b = ctx;
	bool cancelled = false;
	json_t *out = json_pack("{s:s}", "type", "stdout");

	pthread_mutex_lock(&b->lock);
	b->seen = *job;
	snprintf(b->seen_user, sizeof(b->seen_user), "%s", job->user ? job->user : "-");
	snprintf(b->seen_ref, sizeof(b->seen_ref), "%s", job->ref ? job->ref : "-");
	pthread_mutex_unlock(&b->lock);
	/* the worker's own event, as the sandbox's output is */
	if (sp_queue_watched(b->queue, job))
		sp_queue_publish(b->queue, job, out);
	json_decref(out);
	atomic_fetch_add(&b->started, 1);
	while (!atomic_load(&b->open) && !cancelled) {
		struct pollfd p = {.fd = cancel_fd, .events = POLLIN};

		cancelled = poll(&p, 1, 5) > 0;
	}
	return json_pack("{s:s, s:s}", "status", cancelled ? "cancelled" : "ok", "language",
			 req->language->name);
}

static void measure_reserve(void *ctx, const struct sp_request *req, unsigned cells, uint64_t *held,
			    uint64_t *reserve)
{
	(void)req;
	(void)cells;
	(void)held;
	*reserve = ((struct bench *)ctx)->reserve;
}

static void count_unrun(void *ctx, size_t language)
{
	struct bench *b = ctx;

	(void)language;
	atomic_fetch_add(&b->unrun, 1);
}

static void record(void *ctx, const struct sp_queue_job *job, json_t *event)
{
	struct bench *b = ctx;
	const char *ref = json_string_value(json_object_get(event, "ref"));
	const char *id = json_string_value(json_object_get(event, "id"));
	size_t used;

	assert_non_null(id);
	assert_string_equal(id, job->id);
	pthread_mutex_lock(&b->lock);
	used = strlen(b->events);
	snprintf(b->events + used, sizeof(b->events) - used, "%s:%.4s:%s ",
		 json_string_value(json_object_get(event, "type")), id, ref ? ref : "-");
	pthread_mutex_unlock(&b->lock);
}

static bool answer_watched(void *ctx, const struct sp_queue_job *job)
{
	struct bench *b = ctx;

	(void)job;
	return atomic_load(&b->watched);
}

static void wait_count(atomic_uint *counter, unsigned want)
{
	uint64_t deadline = sp_clock_ms() + WAIT_LIMIT;

	while (atomic_load(counter) < want && sp_clock_ms() < deadline)
		usleep(1000);
	assert_int_equal(atomic_load(counter), want);
}

static void bench_start(struct bench *b, unsigned queue_size)
{
	struct sp_error err = {0};

	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->capacity[0] = b->capacity[1] = 1;
	b->config = (struct sp_queue_local_config){
	    .table = {.languages = LANGS,
		      .capacity = b->capacity,
		      .queue_size = queue_size,
		      .retention_ms = 60000,
		      .retention_count = 100},
	    .worker = {.run = run_gated,
		       .measure = measure_reserve,
		       .unrun = count_unrun,
		       .ctx = b},
	    .watchers = {.deliver = record, .watched = answer_watched, .ctx = b},
	};
	assert_int_equal(sp_queue_local_start(&b->queue, &b->config, &err), 0);
}

static void bench_stop(struct bench *b)
{
	atomic_store(&b->open, true);
	sp_queue_stop(b->queue, 5000);
	sp_queue_free(b->queue);
	pthread_mutex_destroy(&b->lock);
}

/* Submit a job of LANGUAGE as ORDER says; its id in ID. */
static void submit(struct bench *b, size_t language, struct sp_queue_order order,
		   char id[SP_QUEUE_ID_SIZE])
{
	struct sp_request req = {.language = &languages[language], .stdin_fd = -1};
	struct sp_error err = {0};

	if (sp_queue_submit(b->queue, &req, language, &order, id, &err) < 0)
		fail_msg("submit: %s", err.message);
	assert_int_equal(strspn(id, "0123456789abcdef"), SP_QUEUE_ID_SIZE - 1);
}

static const char *state_of(struct bench *b, const char *id, char *buf, size_t size)
{
	struct sp_error err = {0};
	json_t *view = sp_queue_view(b->queue, id, OWNER, &err);

	snprintf(buf, size, "%s", view ? json_string_value(json_object_get(view, "state")) : "-");
	json_decref(view);
	return buf;
}

/* Wait for the job ID and check how it ended and its result's status. */
static void expect_end(struct bench *b, const char *id, enum sp_job_end want_end,
		       const char *want_status)
{
	struct sp_error err = {0};
	enum sp_job_end end;
	json_t *result;

	sp_queue_wait(b->queue, id);
	assert_int_equal(sp_queue_result(b->queue, id, OWNER, &result, &end, &err), 0);
	assert_non_null(result);
	assert_int_equal(end, want_end);
	assert_string_equal(json_string_value(json_object_get(result, "status")), want_status);
	assert_string_equal(json_string_value(json_object_get(result, "id")), id);
	json_decref(result);
}

static uint64_t bytes_running(struct bench *b)
{
	struct sp_queue_stats st;

	sp_queue_stats(b->queue, (size_t)-1, &st);
	return st.bytes[SP_BYTES_RUNNING];
}

static void test_held_until_released(void **state)
{
	struct sp_error err = {0};
	struct bench b;
	char id[SP_QUEUE_ID_SIZE], buf[16];

	(void)state;
	bench_start(&b, 10);
	atomic_store(&b.open, true);
	submit(&b, 0, (struct sp_queue_order){.owner = OWNER, .hold = true, .waits = true}, id);
	expect_end(&b, id, SP_JOB_FINISHED, "ok");
	/* ended, and still there for its submitter, with its result's bytes */
	assert_true(sp_queue_ended(b.queue, id));
	assert_string_equal(state_of(&b, id, buf, sizeof(buf)), "done");
	assert_true(bytes_running(&b) > 0);
	sp_queue_release(b.queue, id);
	assert_null(sp_queue_view(b.queue, id, OWNER, &err));
	assert_true(sp_queue_ended(b.queue, id));
	assert_int_equal(bytes_running(&b), 0);
	/* letting go of a job twice, or of one never known, does nothing */
	sp_queue_release(b.queue, id);
	sp_queue_release(b.queue, NO_ID);
	bench_stop(&b);
}

/* A running job gives back what it turns out not to need of its reserve;
 * asking for more than it holds changes nothing. */
static void test_running_job_reserves_less(void **state)
{
	struct bench b;
	char id[SP_QUEUE_ID_SIZE];
	struct sp_queue_job job;
	uint64_t before;

	(void)state;
	bench_start(&b, 10);
	b.reserve = 8 << 20;
	/* a worker runs it: nothing here waits for it before it runs (a job
	 * submitted with waits runs in the thread that then waits for it) */
	submit(&b, 0, (struct sp_queue_order){.owner = OWNER, .hold = true}, id);
	wait_count(&b.started, 1);
	before = bytes_running(&b);
	assert_true(before >= 8 << 20);
	pthread_mutex_lock(&b.lock);
	job = b.seen;
	pthread_mutex_unlock(&b.lock);
	sp_queue_reserve_less(b.queue, &job, 1 << 20);
	assert_int_equal(bytes_running(&b), before - (7 << 20));
	sp_queue_reserve_less(b.queue, &job, 4 << 20);
	assert_int_equal(bytes_running(&b), before - (7 << 20));
	atomic_store(&b.open, true);
	expect_end(&b, id, SP_JOB_FINISHED, "ok");
	sp_queue_release(b.queue, id);
	assert_int_equal(bytes_running(&b), 0);
	bench_stop(&b);
}

static void test_released_before_its_end(void **state)
{
	struct bench b;
	char id[SP_QUEUE_ID_SIZE], buf[16];

	(void)state;
	bench_start(&b, 10);
	submit(&b, 0, (struct sp_queue_order){.owner = OWNER, .hold = true}, id);
	wait_count(&b.started, 1);
	assert_false(sp_queue_ended(b.queue, id));
	sp_queue_release(b.queue, id);
	assert_string_equal(state_of(&b, id, buf, sizeof(buf)), "running");
	atomic_store(&b.open, true);
	/* neither held nor kept: gone once it ends */
	for (uint64_t end = sp_clock_ms() + WAIT_LIMIT;
	     sp_clock_ms() < end && strcmp(state_of(&b, id, buf, sizeof(buf)), "-") != 0;)
		usleep(1000);
	assert_string_equal(state_of(&b, id, buf, sizeof(buf)), "-");
	bench_stop(&b);
}

static void test_kept_and_cancelled(void **state)
{
	struct sp_error err = {0};
	struct bench b;
	char running[SP_QUEUE_ID_SIZE], queued[SP_QUEUE_ID_SIZE];
	json_t *view;

	(void)state;
	bench_start(&b, 10);
	submit(&b, 0, (struct sp_queue_order){.owner = OWNER, .keep = true}, running);
	wait_count(&b.started, 1);
	submit(&b, 0, (struct sp_queue_order){.owner = OWNER, .keep = true}, queued);
	view = sp_queue_cancel(b.queue, queued, OWNER, &err);
	assert_string_equal(json_string_value(json_object_get(view, "state")), "done");
	json_decref(view);
	expect_end(&b, queued, SP_JOB_CANCELLED, "cancelled");
	assert_int_equal(atomic_load(&b.unrun), 1);
	/* the gate stays shut: only the cancel descriptor ends the run */
	json_decref(sp_queue_cancel(b.queue, running, OWNER, &err));
	expect_end(&b, running, SP_JOB_FINISHED, "cancelled");
	/* a kept job that ended stays, until it is cancelled again */
	view = sp_queue_view(b.queue, running, OWNER, &err);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(view, "result"), "status")),
	    "cancelled");
	json_decref(view);
	json_decref(sp_queue_cancel(b.queue, running, OWNER, &err));
	assert_null(sp_queue_view(b.queue, running, OWNER, &err));
	assert_null(sp_queue_cancel(b.queue, NO_ID, OWNER, &err));
	bench_stop(&b);
}

static void test_other_owner_sees_nothing(void **state)
{
	struct sp_error err = {0};
	struct bench b;
	char id[SP_QUEUE_ID_SIZE];
	enum sp_job_end end;
	json_t *result = NULL;

	(void)state;
	bench_start(&b, 10);
	submit(&b, 1, (struct sp_queue_order){.owner = OWNER, .keep = true}, id);
	wait_count(&b.started, 1);
	assert_null(sp_queue_view(b.queue, id, OWNER + 1, &err));
	assert_int_equal(err.errnum, ENOENT);
	assert_null(sp_queue_cancel(b.queue, id, -1, &err));
	assert_int_equal(sp_queue_result(b.queue, id, OWNER + 1, &result, &end, &err), -1);
	assert_null(result);
	/* the owner's job ran on, untouched */
	assert_int_equal(sp_queue_result(b.queue, id, OWNER, &result, &end, &err), 0);
	assert_null(result); /* not ended yet */
	atomic_store(&b.open, true);
	expect_end(&b, id, SP_JOB_FINISHED, "ok");
	bench_stop(&b);
}

static void test_worker_sees_plain_job_and_events_flow(void **state)
{
	struct bench b;
	char id[SP_QUEUE_ID_SIZE], want[256], ahead[SP_QUEUE_ID_SIZE];

	(void)state;
	bench_start(&b, 10);
	atomic_store(&b.watched, true);
	assert_int_equal(sp_queue_new_id(ahead), 0);
	submit(
	    &b, 1,
	    (struct sp_queue_order){
		.id = ahead, .user = "ada", .ref = "tag", .owner = OWNER, .cells = 1, .hold = true},
	    id);
	assert_string_equal(id, ahead);
	wait_count(&b.started, 1);
	pthread_mutex_lock(&b.lock);
	assert_string_equal(b.seen.id, id);
	assert_string_equal(b.seen_user, "ada");
	assert_string_equal(b.seen_ref, "tag");
	assert_int_equal(b.seen.owner, OWNER);
	assert_int_equal(b.seen.language, 1);
	assert_int_equal(b.seen.cells, 1);
	pthread_mutex_unlock(&b.lock);
	atomic_store(&b.open, true);
	expect_end(&b, id, SP_JOB_FINISHED, "ok");
	snprintf(want, sizeof(want), "queued:%.4s:tag stdout:%.4s:tag result:%.4s:tag ", id, id,
		 id);
	assert_string_equal(b.events, want);
	sp_queue_release(b.queue, id);
	/* an id in use is refused */
	{
		struct sp_request req = {.language = &languages[0], .stdin_fd = -1};
		struct sp_queue_order order = {.id = ahead, .owner = OWNER, .keep = true};
		struct sp_error err = {0};
		char again[SP_QUEUE_ID_SIZE];

		submit(&b, 0, order, again);
		assert_int_equal(sp_queue_submit(b.queue, &req, 0, &order, again, &err), -1);
		assert_int_equal(err.errnum, EEXIST);
	}
	bench_stop(&b);
}

static void test_unwatched_job_sends_no_output(void **state)
{
	struct bench b;
	char id[SP_QUEUE_ID_SIZE], want[256];

	(void)state;
	bench_start(&b, 10);
	atomic_store(&b.open, true);
	submit(&b, 0, (struct sp_queue_order){.owner = OWNER, .hold = true, .waits = true}, id);
	expect_end(&b, id, SP_JOB_FINISHED, "ok");
	snprintf(want, sizeof(want), "queued:%.4s:- result:%.4s:- ", id, id);
	assert_string_equal(b.events, want);
	sp_queue_release(b.queue, id);
	bench_stop(&b);
}

static void test_input_of_an_interactive_job(void **state)
{
	struct bench b;
	char id[SP_QUEUE_ID_SIZE], plain[SP_QUEUE_ID_SIZE];
	struct sp_error err = {0};

	(void)state;
	bench_start(&b, 10);
	submit(&b, 0, (struct sp_queue_order){.owner = OWNER, .hold = true, .interactive = true},
	       id);
	submit(&b, 1, (struct sp_queue_order){.owner = OWNER, .hold = true}, plain);
	assert_int_equal(sp_queue_stdin(b.queue, id, OWNER, "abc", 3, false, &err), 3);
	assert_int_equal(sp_queue_stdin(b.queue, id, OWNER + 1, "abc", 3, false, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_int_equal(sp_queue_stdin(b.queue, plain, OWNER, "abc", 3, false, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_int_equal(sp_queue_stdin(b.queue, id, OWNER, NULL, 0, true, &err), 0);
	assert_int_equal(sp_queue_stdin(b.queue, id, OWNER, "d", 1, false, &err), -1);
	assert_int_equal(err.errnum, EPIPE);
	atomic_store(&b.open, true);
	expect_end(&b, id, SP_JOB_FINISHED, "ok");
	sp_queue_release(b.queue, id);
	sp_queue_release(b.queue, plain);
	assert_int_equal(sp_queue_stdin(b.queue, id, OWNER, "d", 1, false, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	bench_stop(&b);
}

static void test_refusals_and_stop(void **state)
{
	struct bench b;
	char running[SP_QUEUE_ID_SIZE], queued[SP_QUEUE_ID_SIZE], id[SP_QUEUE_ID_SIZE];
	struct sp_request req = {.language = &languages[0], .stdin_fd = -1};
	struct sp_queue_order order = {.owner = OWNER, .hold = true};
	struct sp_error err = {0};
	enum sp_job_end end;
	json_t *result;

	(void)state;
	bench_start(&b, 1);
	submit(&b, 0, order, running);
	wait_count(&b.started, 1);
	submit(&b, 0, order, queued);
	assert_int_equal(sp_queue_submit(b.queue, &req, 0, &order, id, &err), -1);
	assert_int_equal(err.errnum, EAGAIN);
	assert_string_equal(sp_queue_refusal_code(err.errnum), "queue_full");
	assert_int_equal(sp_queue_retry_after(b.queue, "nobody"), 0);
	/* stopping ends the queued job unrun, and the running one once its
	 * grace is over */
	sp_queue_stop(b.queue, 50);
	assert_int_equal(sp_queue_result(b.queue, queued, OWNER, &result, &end, &err), 0);
	assert_int_equal(end, SP_JOB_SHUTDOWN);
	json_decref(result);
	assert_int_equal(sp_queue_result(b.queue, running, OWNER, &result, &end, &err), 0);
	assert_int_equal(end, SP_JOB_FINISHED);
	assert_string_equal(json_string_value(json_object_get(result, "status")), "cancelled");
	json_decref(result);
	assert_int_equal(sp_queue_submit(b.queue, &req, 0, &order, id, &err), -1);
	assert_int_equal(err.errnum, ECANCELED);
	sp_queue_free(b.queue);
	pthread_mutex_destroy(&b.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_held_until_released),
	    cmocka_unit_test(test_running_job_reserves_less),
	    cmocka_unit_test(test_released_before_its_end),
	    cmocka_unit_test(test_kept_and_cancelled),
	    cmocka_unit_test(test_other_owner_sees_nothing),
	    cmocka_unit_test(test_worker_sees_plain_job_and_events_flow),
	    cmocka_unit_test(test_unwatched_job_sends_no_output),
	    cmocka_unit_test(test_input_of_an_interactive_job),
	    cmocka_unit_test(test_refusals_and_stop),
	};

	alarm(120); /* a job that never ends fails the run rather than hanging it */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
