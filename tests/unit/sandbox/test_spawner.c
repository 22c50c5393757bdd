/* Cells from the spawner, used warm: several jobs in one cell, reset in
 * between, nothing of one job seen by the next. Runs over a rootfs of
 * busybox-static made in a temporary folder (with its mount points, and once
 * without them), as root or rootless. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/busybox_rootfs.h"

#include "sandbox/cell.h"
#include "sandbox/channel.h"
#include "sandbox/cgroup.h"
#include "sandbox/run.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawner.h"

struct fixture {
	struct busybox_bench bench;
	struct sp_cell cell;
};

/* A cell over the bench's rootfs, after the shell commands TWEAK (run in the
 * rootfs, with $1 the bench's folder) when not NULL. */
static int setup_with(void **state, const char *tweak)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char cmd[1024];

	if (fx == NULL || busybox_bench_start(&fx->bench, "sp-spawner") < 0)
		return -1;
	if (tweak != NULL) {
		snprintf(cmd, sizeof(cmd), "cd '%s' && sh -ec '%s' sh '%s'", fx->bench.rootfs,
			 tweak, fx->bench.dir);
		if (system(cmd) != 0)
			return -1;
	}
	if (busybox_cell(&fx->bench, &fx->cell) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL);
}

/* The rootfs as a tree unpacked by hand may be: no /proc, /dev or /sys, /tmp
 * a file, /box a symlink to a host folder that anyone may write. */
static int setup_plain_tree(void **state)
{
	return setup_with(state, "rmdir proc dev tmp box; echo file > tmp; "
				 "mkdir -m 1777 \"$1/host\"; ln -s \"$1/host\" box");
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc;

	sp_cell_destroy(&fx->cell);
	rc = busybox_bench_stop(&fx->bench);
	free(fx);
	return rc;
}

static int step(struct fixture *fx, const char *script, struct sp_step_result *res)
{
	return busybox_step(&fx->cell, &fx->bench.cgroups, script, res);
}

static void test_jobs_reuse_one_cell(void **state)
{
	struct fixture *fx = *state;
	struct sp_step_result res;
	pid_t first_init = fx->cell.pid;

	for (int i = 0; i < 5; i++) {
		assert_int_equal(step(fx, "echo job; hostname", &res), 0);
		assert_int_equal(res.status, SP_STATUS_OK);
		assert_string_equal(res.out.data, "job\nsandpool\n");
		sp_step_result_free(&res);
		assert_int_equal(sp_cell_reset(&fx->cell, &(struct sp_error){0}), 0);
	}
	/* the same cell served every job */
	assert_int_equal(fx->cell.pid, first_init);
	assert_int_equal(fx->cell.jobs, 5);
}

/* Job A leaves what it can; after the reset job B finds none of it. */
static void test_reset_contract(void **state)
{
	struct fixture *fx = *state;
	struct sp_step_result res;
	struct sp_error err = {0};

	assert_int_equal(step(fx,
			      "echo a > /box/left; echo a > /tmp/left; echo a > /dev/shm/left; "
			      "(trap '' TERM HUP; sleep 1000) </dev/null >/dev/null 2>&1 & "
			      "umask 077; echo done",
			      &res),
			 0);
	assert_string_equal(res.out.data, "done\n");
	sp_step_result_free(&res);
	assert_int_equal(sp_cell_reset(&fx->cell, &err), 0);
	assert_int_equal(
	    step(fx, "ls -A /box /tmp /dev/shm; ps -o comm | grep -c sleep; umask", &res), 0);
	assert_string_equal(res.out.data, "/box:\n\n/dev/shm:\n\n/tmp:\n0\n0022\n");
	sp_step_result_free(&res);
}

/* A tree without its mount points serves job after job: the cell provides
 * them, the reset contract holds on them, and nothing goes through the link
 * to the host folder. */
static void test_tree_without_mount_points(void **state)
{
	struct fixture *fx = *state;
	struct sp_step_result res;
	char host[128];
	struct stat st;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(step(fx,
				      "ls -A /box /tmp; pwd; echo a > /box/f; echo b > /tmp/f; "
				      "cat /box/f /tmp/f; test -c /dev/null && echo null",
				      &res),
				 0);
		assert_string_equal(res.out.data, "/box:\n\n/tmp:\n/box\na\nb\nnull\n");
		sp_step_result_free(&res);
		assert_int_equal(sp_cell_reset(&fx->cell, &(struct sp_error){0}), 0);
	}
	snprintf(host, sizeof(host), "%s/host", fx->bench.dir);
	assert_int_equal(stat(host, &st), 0);
	assert_int_equal(st.st_nlink, 2); /* empty */
	snprintf(host, sizeof(host), "%s/box", fx->bench.rootfs);
	assert_int_equal(lstat(host, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void *cancel_later(void *arg)
{
	static const uint64_t one = 1;

	usleep(300 * 1000);
	if (write(*(int *)arg, &one, sizeof(one)) != sizeof(one))
		abort();
	return NULL;
}

/* A step is killed when its cancel descriptor fires, with its children, and
 * the cell serves the next job. */
static void test_cancel_kills_the_step(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = {"/bin/sh", "-c", "sleep 1000 & echo started; wait", NULL};
	char *envp[] = {"PATH=/bin", NULL};
	int cancel = eventfd(0, EFD_CLOEXEC);
	struct sp_step_request req = {
	    .argv = argv,
	    .envp = envp,
	    .limits = {.cpu_ms = 5000, .wall_ms = 20000, .memory_kb = 65536, .processes = 32},
	    .stdin_fd = -1,
	    .cancel_fd = cancel,
	};
	struct sp_step_result res;
	pthread_t thread;

	assert_true(cancel > 0);
	assert_int_equal(pthread_create(&thread, NULL, cancel_later, &cancel), 0);
	assert_int_equal(sp_run_step(&fx->cell, &fx->bench.cgroups, &req, &res), 0);
	pthread_join(thread, NULL);
	assert_int_equal(res.status, SP_STATUS_CANCELLED);
	assert_string_equal(sp_status_to_string(res.status), "cancelled");
	assert_string_equal(res.out.data, "started\n");
	assert_true(res.wall_ms < 10000);
	sp_step_result_free(&res);
	close(cancel);
	assert_int_equal(sp_cell_reset(&fx->cell, &(struct sp_error){0}), 0);
	assert_int_equal(step(fx, "ps -o comm | grep -c sleep", &res), 0);
	assert_string_equal(res.out.data, "0\n");
	sp_step_result_free(&res);
}

/* A kill the supervisor sent as the step ended on its own reaches the cell
 * after the step: it is stale, and the cell's reset and next job go on (a
 * thread bomb's cell was replaced so, now and then, under load). */
static void test_a_kill_after_the_step_is_harmless(void **state)
{
	struct fixture *fx = *state;
	struct sp_step_result res;

	assert_int_equal(step(fx, "echo one", &res), 0);
	sp_step_result_free(&res);
	assert_int_equal(sp_channel_send(fx->cell.sock, SP_MSG_KILL, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(sp_cell_reset(&fx->cell, &(struct sp_error){0}), 0);
	assert_int_equal(step(fx, "echo two", &res), 0);
	assert_string_equal(res.out.data, "two\n");
	sp_step_result_free(&res);
}

/* A cell whose init was killed is found dead at the next job, not hung on. */
static void test_dead_cell_is_noticed(void **state)
{
	struct fixture *fx = *state;
	struct sp_step_result res;

	kill(fx->cell.pid, SIGKILL);
	assert_int_equal(step(fx, "echo never", &res), -1);
	assert_int_equal(res.status, SP_STATUS_INTERNAL_ERROR);
	sp_step_result_free(&res);
}

/* How many of PID's descriptors are sockets; -1 when they cannot be read
 * (rootless: a cell's ids are not ours). */
static int sockets_of(pid_t pid)
{
	char dir[64], path[128], link[128];
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	for (int fd = 0; fd < 1024; fd++) {
		ssize_t len;

		snprintf(path, sizeof(path), "%s/%d", dir, fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0 && errno == EACCES)
			return -1;
		if (len > 0 && strncmp(link, "socket:", 7) == 0)
			n++;
	}
	return n;
}

/* A renewable spawner killed: the next cell comes from a new spawner (this
 * program run anew, see main), and works; a cell holds its own socket only,
 * so the dead spawner's hangs up. */
static void test_dead_spawner_is_renewed(void **state)
{
	struct fixture *fx = *state;
	struct sp_spawner spawner = {.pid = -1, .sock = -1, .program = -1};
	struct sp_error err = {0};
	struct sp_step_result res;
	struct sp_cell cell;
	pid_t first;
	int sockets;

	assert_int_equal(sp_spawner_start_renewable(&spawner, &err), 0);
	first = spawner.pid;
	assert_int_equal(sp_spawner_cell(&spawner, &fx->bench.config, &cell, &err), 0);
	sockets = sockets_of(cell.pid);
	if (sockets >= 0)
		assert_int_equal(sockets, 1);
	kill(first, SIGKILL);
	sp_cell_destroy(&cell);
	if (sp_spawner_cell(&spawner, &fx->bench.config, &cell, &err) < 0)
		fail_msg("spawn after the spawner died: %s", err.message);
	assert_int_not_equal(spawner.pid, first);
	assert_int_equal(busybox_step(&cell, &fx->bench.cgroups, "echo again", &res), 0);
	assert_string_equal(res.out.data, "again\n");
	sp_step_result_free(&res);
	sp_cell_destroy(&cell);
	sp_spawner_stop(&spawner);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_jobs_reuse_one_cell, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_contract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tree_without_mount_points, setup_plain_tree,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_kills_the_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_kill_after_the_step_is_harmless, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_dead_cell_is_noticed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dead_spawner_is_renewed, setup, teardown),
	};

	/* the spawner that test_dead_spawner_is_renewed starts anew */
	sp_spawner_main_if_asked(argc, argv);

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
