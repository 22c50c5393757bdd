/* The warm pool over real cells from the spawner: warm reuse, many threads,
 * retirement, dead and broken cells replaced, cold languages, deadlines and
 * stop. Runs over a rootfs of busybox-static made in a temporary folder, as
 * root (cgroups detected: SP_CGROUP_AUTO) or rootless. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/busybox_rootfs.h"

#include "sandbox/cgroup.h"
#include "sandbox/run.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawner.h"
#include "server/engine/pool.h"

#define THREADS	 8
#define JOBS	 10
#define LONG_MS	 20000 /* deadline of leases that must succeed: a hang fails */
#define MAX_PIDS (THREADS * JOBS)

struct fixture {
	struct busybox_bench bench;
	struct sp_pool *pool;
	uint64_t stop_grace_ms; /* of stopper_main */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || busybox_bench_start(&fx->bench, "sp-pool") < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc;

	sp_pool_stop(fx->pool, 5000);
	rc = busybox_bench_stop(&fx->bench);
	free(fx);
	return rc;
}

/* A pool of "sh" (SIZE warm cells, or cold) and "cold" (always cold). */
static void start_pool(struct fixture *fx, unsigned size, unsigned max_jobs)
{
	struct sp_pool_language langs[] = {
	    {.name = "sh",
	     .cell_config = fx->bench.config,
	     .size = size,
	     .max_jobs_per_cell = max_jobs},
	    {.name = "cold", .cell_config = fx->bench.config, .size = 0},
	};
	struct sp_error err = {0};

	if (sp_pool_start(&fx->pool, &fx->bench.spawner, &fx->bench.cgroups, langs, 2, &err) < 0)
		fail_msg("pool start: %s", err.message);
}

static struct sp_pool_stats stats_of(struct fixture *fx, const char *language)
{
	struct sp_pool_stats stats;

	assert_int_equal(sp_pool_stats(fx->pool, language, &stats), 0);
	return stats;
}

/* Run `echo hi` in the leased cell; 0 when it said hi. */
static int step_hi(struct fixture *fx, struct sp_lease *lease)
{
	struct sp_step_result res;
	int rc = busybox_step(lease->cell, &fx->bench.cgroups, "echo hi", &res);

	if (rc == 0 && (res.status != SP_STATUS_OK || res.out.data == NULL ||
			strcmp(res.out.data, "hi\n") != 0))
		rc = -1;
	sp_step_result_free(&res);
	return rc;
}

static void lease_ok(struct fixture *fx, const char *language, struct sp_lease *lease)
{
	struct sp_error err = {0};

	if (sp_pool_lease(fx->pool, language, sp_pool_now_ms() + LONG_MS, lease, &err) < 0)
		fail_msg("lease %s: %s", language, err.message);
	assert_non_null(lease->cell);
}

/* One whole job: lease, step, release; returns the cell's pid. */
static pid_t job(struct fixture *fx, const char *language)
{
	struct sp_lease lease;
	pid_t pid;

	lease_ok(fx, language, &lease);
	pid = lease.cell->pid;
	assert_int_equal(step_hi(fx, &lease), 0);
	sp_pool_release(fx->pool, &lease, true);
	return pid;
}

/* Wait until PID is gone for good (the spawner reaped it). */
static void wait_gone(pid_t pid)
{
	for (int i = 0; i < 5000 && kill(pid, 0) == 0; i++)
		usleep(1000);
	assert_int_equal(kill(pid, 0), -1);
}

/* Wait until the language has IDLE idle cells, nothing starting. */
static void wait_idle(struct fixture *fx, const char *language, unsigned idle)
{
	for (int i = 0; i < LONG_MS; i++) {
		struct sp_pool_stats st = stats_of(fx, language);

		if (st.idle == idle && st.starting == 0)
			return;
		usleep(1000);
	}
	fail_msg("%s never got %u idle cells", language, idle);
}

static void test_warm_cells_are_reused(void **state)
{
	struct fixture *fx = *state;
	struct sp_lease a, b;
	struct sp_pool_stats st;
	pid_t pa, pb;

	start_pool(fx, 2, 0);
	st = stats_of(fx, "sh");
	assert_int_equal(st.idle, 2);
	assert_int_equal(st.busy, 0);
	lease_ok(fx, "sh", &a);
	lease_ok(fx, "sh", &b);
	pa = a.cell->pid;
	pb = b.cell->pid;
	assert_int_not_equal(pa, pb);
	st = stats_of(fx, "sh");
	assert_int_equal(st.idle, 0);
	assert_int_equal(st.busy, 2);
	assert_int_equal(step_hi(fx, &a), 0);
	assert_int_equal(step_hi(fx, &b), 0);
	sp_pool_release(fx->pool, &a, true);
	sp_pool_release(fx->pool, &b, true);
	for (int i = 0; i < 6; i++) {
		pid_t pid = job(fx, "sh");

		assert_true(pid == pa || pid == pb);
	}
	st = stats_of(fx, "sh");
	assert_int_equal(st.idle, 2);
	assert_int_equal(st.busy, 0);
	assert_int_equal(st.jobs, 8);
	assert_int_equal(st.replaced, 0);
}

struct worker {
	struct fixture *fx;
	atomic_int *failures;
	pid_t pids[JOBS];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < JOBS; i++) {
		struct sp_lease lease;
		struct sp_error err = {0};
		int rc;

		if (sp_pool_lease(w->fx->pool, "sh", sp_pool_now_ms() + LONG_MS, &lease, &err) <
		    0) {
			fprintf(stderr, "lease: %s\n", err.message);
			atomic_fetch_add(w->failures, 1);
			continue;
		}
		w->pids[i] = lease.cell->pid;
		rc = step_hi(w->fx, &lease);
		if (rc < 0)
			atomic_fetch_add(w->failures, 1);
		sp_pool_release(w->fx->pool, &lease, rc == 0);
	}
	return NULL;
}

static void test_threads_share_two_cells(void **state)
{
	struct fixture *fx = *state;
	struct worker workers[THREADS];
	pthread_t threads[THREADS];
	atomic_int failures = 0;
	struct sp_pool_stats st;
	struct sp_lease a, b;
	pid_t pa, pb;

	start_pool(fx, 2, 0);
	lease_ok(fx, "sh", &a);
	lease_ok(fx, "sh", &b);
	pa = a.cell->pid;
	pb = b.cell->pid;
	sp_pool_release(fx->pool, &a, true);
	sp_pool_release(fx->pool, &b, true);
	for (int i = 0; i < THREADS; i++) {
		workers[i] = (struct worker){.fx = fx, .failures = &failures};
		assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(atomic_load(&failures), 0);
	for (int i = 0; i < THREADS; i++)
		for (int j = 0; j < JOBS; j++)
			assert_true(workers[i].pids[j] == pa || workers[i].pids[j] == pb);
	st = stats_of(fx, "sh");
	assert_int_equal(st.idle, 2);
	assert_int_equal(st.busy, 0);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.jobs, 2 + THREADS * JOBS);
	assert_int_equal(st.replaced, 0);
}

static void test_cells_retire_after_max_jobs(void **state)
{
	struct fixture *fx = *state;
	pid_t pids[9];
	struct sp_pool_stats st;
	unsigned distinct = 0, retired = 0;

	start_pool(fx, 2, 3);
	for (int i = 0; i < 9; i++)
		pids[i] = job(fx, "sh");
	for (int i = 0; i < 9; i++) {
		int uses = 0, first = 1;

		for (int j = 0; j < 9; j++) {
			uses += pids[j] == pids[i];
			first &= !(pids[j] == pids[i] && j < i);
		}
		assert_in_range(uses, 1, 3); /* no cell served more than 3 jobs */
		distinct += first;
		retired += first && uses == 3;
	}
	assert_true(distinct >= 3); /* 9 jobs in cells of 3 jobs at most */
	assert_true(retired >= 2);
	wait_idle(fx, "sh", 2);
	st = stats_of(fx, "sh");
	assert_int_equal(st.replaced, retired); /* a cell goes at its third job */
	assert_int_equal(st.jobs, 9);
	assert_int_equal(st.busy, 0);
}

static void test_dead_idle_cell_is_replaced(void **state)
{
	struct fixture *fx = *state;
	struct sp_lease a, b;
	pid_t pa, pb;

	start_pool(fx, 2, 0);
	lease_ok(fx, "sh", &a);
	lease_ok(fx, "sh", &b);
	pa = a.cell->pid;
	pb = b.cell->pid;
	sp_pool_release(fx->pool, &a, true);
	sp_pool_release(fx->pool, &b, true);
	assert_int_equal(kill(pa, SIGKILL), 0);
	wait_gone(pa);
	/* both leases succeed, neither in the dead cell, and the jobs run */
	lease_ok(fx, "sh", &a);
	lease_ok(fx, "sh", &b);
	assert_int_not_equal(a.cell->pid, pa);
	assert_int_not_equal(b.cell->pid, pa);
	assert_true(a.cell->pid == pb || b.cell->pid == pb);
	assert_int_equal(step_hi(fx, &a), 0);
	assert_int_equal(step_hi(fx, &b), 0);
	sp_pool_release(fx->pool, &a, true);
	sp_pool_release(fx->pool, &b, true);
	assert_int_equal(stats_of(fx, "sh").replaced, 1);
}

static void test_bad_release_replaces(void **state)
{
	struct fixture *fx = *state;
	struct sp_lease a, b;
	struct sp_pool_stats st;
	pid_t bad;

	start_pool(fx, 2, 0);
	lease_ok(fx, "sh", &a);
	bad = a.cell->pid;
	sp_pool_release(fx->pool, &a, false);
	st = stats_of(fx, "sh");
	assert_int_equal(st.replaced, 1);
	assert_int_equal(st.busy, 0);
	wait_gone(bad);
	wait_idle(fx, "sh", 2);
	lease_ok(fx, "sh", &a);
	lease_ok(fx, "sh", &b);
	assert_int_not_equal(a.cell->pid, bad);
	assert_int_not_equal(b.cell->pid, bad);
	assert_int_equal(step_hi(fx, &a), 0);
	assert_int_equal(step_hi(fx, &b), 0);
	sp_pool_release(fx->pool, &a, true);
	sp_pool_release(fx->pool, &b, true);
}

static void test_cold_language_gets_fresh_cells(void **state)
{
	struct fixture *fx = *state;
	struct sp_lease lease;
	struct sp_pool_stats st;
	pid_t pids[3];

	start_pool(fx, 2, 0);
	for (int i = 0; i < 3; i++) {
		lease_ok(fx, "cold", &lease);
		pids[i] = lease.cell->pid;
		st = stats_of(fx, "cold");
		assert_int_equal(st.idle, 0);
		assert_int_equal(st.busy, 1);
		assert_int_equal(step_hi(fx, &lease), 0);
		sp_pool_release(fx->pool, &lease, true);
		wait_gone(pids[i]);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(pids[i], pids[j]);
	}
	st = stats_of(fx, "cold");
	assert_int_equal(st.idle, 0);
	assert_int_equal(st.busy, 0);
	assert_int_equal(st.jobs, 3);
	assert_int_equal(st.replaced, 0);
	/* the warm language was not touched */
	assert_int_equal(stats_of(fx, "sh").idle, 2);
}

static void test_deadline_gives_etimedout(void **state)
{
	struct fixture *fx = *state;
	struct sp_lease a, b, c;
	struct sp_error err = {0};
	uint64_t start;

	start_pool(fx, 2, 0);
	lease_ok(fx, "sh", &a);
	lease_ok(fx, "sh", &b);
	start = sp_pool_now_ms();
	assert_int_equal(sp_pool_lease(fx->pool, "sh", start + 50, &c, &err), -1);
	assert_int_equal(err.errnum, ETIMEDOUT);
	assert_null(c.cell);
	assert_in_range(sp_pool_now_ms() - start, 50, 1000);
	assert_int_equal(stats_of(fx, "sh").waiting, 0);
	/* unknown languages are refused at once */
	assert_int_equal(sp_pool_lease(fx->pool, "cobol", 0, &c, &err), -1);
	assert_int_equal(err.errnum, ENOENT);
	assert_int_equal(sp_pool_stats(fx->pool, "cobol", &(struct sp_pool_stats){0}), -1);
	sp_pool_release(fx->pool, &a, true);
	sp_pool_release(fx->pool, &b, true);
}

struct waiter {
	struct fixture *fx;
	int rc;
	struct sp_error err;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct sp_lease lease;

	w->rc = sp_pool_lease(w->fx->pool, "sh", 0, &lease, &w->err);
	if (w->rc == 0)
		sp_pool_release(w->fx->pool, &lease, true);
	return NULL;
}

static void *stopper_main(void *arg)
{
	struct fixture *fx = arg;

	sp_pool_stop(fx->pool, fx->stop_grace_ms);
	return NULL;
}

static void test_stop_cancels_waiters(void **state)
{
	struct fixture *fx = *state;
	struct waiter w = {.fx = fx};
	pthread_t waiter, stopper;
	struct sp_lease a, b;
	int i;

	start_pool(fx, 2, 0);
	fx->stop_grace_ms = 10000;
	lease_ok(fx, "sh", &a);
	lease_ok(fx, "sh", &b);
	assert_int_equal(pthread_create(&waiter, NULL, waiter_main, &w), 0);
	for (i = 0; i < 5000 && stats_of(fx, "sh").waiting == 0; i++)
		usleep(1000);
	assert_int_equal(stats_of(fx, "sh").waiting, 1);
	/* stop waits for the two leases: it runs in its own thread */
	assert_int_equal(pthread_create(&stopper, NULL, stopper_main, fx), 0);
	pthread_join(waiter, NULL);
	assert_int_equal(w.rc, -1);
	assert_int_equal(w.err.errnum, ECANCELED);
	/* the leased cells still work, and come back during the grace */
	assert_int_equal(step_hi(fx, &a), 0);
	sp_pool_release(fx->pool, &a, true);
	sp_pool_release(fx->pool, &b, true);
	pthread_join(stopper, NULL);
	fx->pool = NULL;
}

/* Past the grace, the cells still leased are killed: their step fails. */
static void test_stop_kills_cells_kept_too_long(void **state)
{
	struct fixture *fx = *state;
	pthread_t stopper;
	struct sp_lease a;
	uint64_t start;
	pid_t pid;

	start_pool(fx, 2, 0);
	lease_ok(fx, "sh", &a);
	pid = a.cell->pid;
	fx->stop_grace_ms = 100;
	start = sp_pool_now_ms();
	assert_int_equal(pthread_create(&stopper, NULL, stopper_main, fx), 0);
	wait_gone(pid);
	assert_in_range(sp_pool_now_ms() - start, 100, 5000);
	assert_int_equal(step_hi(fx, &a), -1);
	sp_pool_release(fx->pool, &a, true);
	pthread_join(stopper, NULL);
	fx->pool = NULL;
}

static void test_bad_rootfs_fails_start(void **state)
{
	struct fixture *fx = *state;
	struct sp_pool_language lang = {.name = "sh", .cell_config = fx->bench.config, .size = 1};
	struct sp_error err = {0};

	lang.cell_config.rootfs = "/nonexistent/rootfs";
	assert_int_equal(
	    sp_pool_start(&fx->pool, &fx->bench.spawner, &fx->bench.cgroups, &lang, 1, &err), -1);
	assert_null(fx->pool);
	assert_true(err.message[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_warm_cells_are_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_share_two_cells, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cells_retire_after_max_jobs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dead_idle_cell_is_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_release_replaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cold_language_gets_fresh_cells, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deadline_gives_etimedout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_cancels_waiters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_kills_cells_kept_too_long, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_rootfs_fails_start, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
