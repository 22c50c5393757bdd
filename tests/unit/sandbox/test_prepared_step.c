/* Prepared steps (prepared_step.h) against fresh ones, in real cells over a
 * rootfs of busybox-static, as root or rootless: a prepared step's job sees
 * the sandbox a fresh step's does; it really was made before its job came
 * (its shell started when the cell prepared it); a reset discards it; it
 * takes any job's limits; its wall time counts from its execve; a policy
 * that refuses what it needs, or a prepared step killed while it waits,
 * leaves the cell running its steps the usual way.
 *
 * Whether a step was prepared shows in its start time: each job here waits
 * 300 ms after its reset (and prepare) before it runs, and a step prepared
 * then started that much before its job; a fresh one starts with it. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/busybox_rootfs.h"

#include "sandbox/cell.h"
#include "sandbox/cgroup.h"
#include "sandbox/run.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawner.h"

#define WAIT_MS	    300 /* between a job's reset (and prepare) and its run */
#define PREPARED_MS 250 /* a step this much older than its job was prepared */

struct fixture {
	struct busybox_bench bench;
	struct sp_cell cell;
	struct sp_seccomp_program policy; /* the cell's, when not the default */
	bool own_policy;
};

enum how { FRESH, PREPARED };

/* What a job printed after the line every script here starts with (its
 * shell's start time and IPC namespace), and how long before it ran its
 * shell started. */
struct probe {
	struct sp_step_result res;
	long age_ms;
	char ipc[64];
	const char *out;
};

static const struct sp_limits LIMITS = {.cpu_ms = 5000,
					.wall_ms = 5000,
					.memory_kb = 65536,
					.processes = 32,
					.output_kb = 64,
					.file_kb = 1024,
					.open_files = 64};

/* The shell's start time (field 22 of its stat, in clock ticks), the time
 * since boot, and its IPC namespace: read by the shell itself. */
#define HEADER                                                                                     \
	"read -r _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ st _ < /proc/$$/stat; "                 \
	"read -r up _ < /proc/uptime; echo \"$st $up $(readlink /proc/self/ns/ipc)\"\n"

/* ---- the bench ------------------------------------------------------------ */

/* TEXT with FROM, found exactly once, made TO; NULL when it is not. */
static char *replace_once(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out;

	if (at == NULL || strstr(at + 1, from) != NULL)
		return NULL;
	if ((out = malloc(strlen(text) + strlen(to) + 1)) == NULL)
		return NULL;
	sprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

/* policies/default.json (or $SANDPOOL_POLICY_DIR's) with the edits EDITS
 * (pairs FROM, TO; NULL after the last) compiled into PROG. */
static int edited_policy(const char *const *edits, struct sp_seccomp_program *prog)
{
	const char *dir = getenv("SANDPOOL_POLICY_DIR");
	struct sp_error err = {0};
	char path[PATH_MAX], *json = calloc(1, 1 << 20), *next;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/default.json", dir ? dir : "policies");
	if (json == NULL || (f = fopen(path, "r")) == NULL)
		return -1;
	if (fread(json, 1, (1 << 20) - 1, f) == 0)
		json[0] = '\0';
	fclose(f);
	for (; edits[0] != NULL; edits += 2) {
		next = replace_once(json, edits[0], edits[1]);
		free(json);
		if ((json = next) == NULL) {
			print_message("policy: no single %s\n", edits[0]);
			return -1;
		}
	}
	if ((rc = sp_seccomp_compile_json(json, prog, &err)) < 0)
		print_message("policy: %s\n", err.message);
	free(json);
	return rc;
}

/* A cell over the bench's rootfs, under the default policy with EDITS
 * (edited_policy) when not NULL. */
static int setup_with(void **state, const char *const *edits)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || busybox_bench_start(&fx->bench, "sp-prepared") < 0)
		return -1;
	if (edits != NULL) {
		if (edited_policy(edits, &fx->policy) < 0)
			return -1;
		fx->own_policy = true;
		fx->bench.config.seccomp = &fx->policy;
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

/* The default policy but prlimit64, by which a prepared step sets its
 * job's rlimits once its filter is loaded. */
static int setup_no_prlimit(void **state)
{
	static const char *const edits[] = {"\"prlimit64\", ", "", NULL};

	return setup_with(state, edits);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc;

	sp_cell_destroy(&fx->cell);
	rc = busybox_bench_stop(&fx->bench);
	if (fx->own_policy)
		sp_seccomp_program_free(&fx->policy);
	free(fx);
	return rc;
}

/* ---- running jobs --------------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ask the cell to prepare its next step (the only call of sp_cell_prepare). */
static void prepare(struct fixture *fx)
{
	struct sp_error err = {0};

	if (sp_cell_prepare(&fx->cell, NULL, &err) < 0)
		fail_msg("prepare: %s", err.message);
}

/* Prepare the next step (PREPARED), then wait WAIT_MS. */
static void wait_for_job(struct fixture *fx, enum how how)
{
	if (how == PREPARED)
		prepare(fx);
	sleep_ms(WAIT_MS);
}

/* Reset the cell for the next job, as a pool does, then wait_for_job. */
static void next_job(struct fixture *fx, enum how how)
{
	struct sp_error err = {0};

	if (sp_cell_reset(&fx->cell, &err) < 0)
		fail_msg("reset: %s", err.message);
	wait_for_job(fx, how);
}

/* ARGV in the cell under LIMITS. */
static void run_argv(struct fixture *fx, char *const *argv, const struct sp_limits *limits,
		     struct sp_step_result *res)
{
	char *envp[] = {"PATH=/bin", NULL};
	struct sp_step_request req = {
	    .argv = argv, .envp = envp, .limits = *limits, .stdin_fd = -1};

	assert_int_equal(sp_run_step(&fx->cell, &fx->bench.cgroups, &req, res), 0);
}

/* HEADER, then SCRIPT, in the cell under LIMITS (NULL: LIMITS). */
static void probe(struct fixture *fx, const char *script, const struct sp_limits *limits,
		  struct probe *p)
{
	char *text = malloc(sizeof(HEADER) + strlen(script));
	char *argv[] = {"/bin/sh", "-c", text, NULL};
	unsigned long long ticks = 0;
	double uptime = 0;
	const char *nl;

	assert_non_null(text);
	strcpy(text, HEADER);
	strcat(text, script);
	run_argv(fx, argv, limits ? limits : &LIMITS, &p->res);
	free(text);
	if (p->res.out.data == NULL ||
	    sscanf(p->res.out.data, "%llu %lf %63s", &ticks, &uptime, p->ipc) != 3 ||
	    (nl = strchr(p->res.out.data, '\n')) == NULL)
		fail_msg("no header: status %d, out: %s, err: %s", p->res.status,
			 p->res.out.data ? p->res.out.data : "",
			 p->res.err.data ? p->res.err.data : "");
	p->age_ms =
	    (long)(uptime * 1000) - (long)(ticks * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
	p->out = nl + 1;
}

/* A probe that must succeed. */
static void probe_ok(struct fixture *fx, const char *script, const struct sp_limits *limits,
		     struct probe *p)
{
	probe(fx, script, limits, p);
	if (p->res.status != SP_STATUS_OK)
		fail_msg("status %d, out: %s, err: %s", p->res.status, p->out,
			 p->res.err.data ? p->res.err.data : "");
}

static void assert_how(const struct probe *p, enum how how)
{
	print_message("  the job's shell started %ld ms before it ran\n", p->age_ms);
	if (how == PREPARED && p->age_ms < PREPARED_MS)
		fail_msg("not prepared: started %ld ms before it ran", p->age_ms);
	if (how == FRESH && p->age_ms >= PREPARED_MS)
		fail_msg("not fresh: started %ld ms before it ran", p->age_ms);
}

/* The cell's only child, between jobs: its prepared step. */
static pid_t cell_child(pid_t cell)
{
	char path[PATH_MAX];
	pid_t child = -1, other;
	struct dirent *e;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)cell);
	assert_non_null(dir = opendir(path));
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)cell, e->d_name);
		assert_non_null(f = fopen(path, "r"));
		while (fscanf(f, "%d", &other) == 1) {
			assert_int_equal(child, -1);
			child = other;
		}
		fclose(f);
	}
	closedir(dir);
	return child;
}

/* Whether PID is gone or a zombie. */
static bool dead(pid_t pid)
{
	char path[64], state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	fclose(f);
	return state == 'Z' || state == 'X';
}

/* ---- 1. the same sandbox -------------------------------------------------- */

/* Everything of the sandbox a job can see of itself, but its pid. */
static const char SANDBOX[] =
    "while read -r k v; do case $k in "
    "Uid:|Gid:|Groups:|Cap*|NoNewPrivs:|Seccomp*|Sig[BIP]*|ShdPnd:|Umask:|PPid:) "
    "echo \"$k $v\";; esac; done < /proc/$$/status\n"
    "read -r pid _ _ _ pgrp sid _ < /proc/$$/stat\n"
    "[ \"$pid\" = $$ ] && [ \"$sid\" = $$ ] && echo session of its own\n"
    "[ \"$pgrp\" = $$ ] && echo group of its own\n"
    "echo fds $(ls /proc/self/fd)\n"
    "echo shell fds $(ls /proc/$$/fd)\n"
    "echo cwd $(pwd)\n"
    "echo umask $(umask)\n"
    "echo oom $(cat /proc/$$/oom_score_adj)\n"
    "cat /proc/self/cgroup\n"
    "ulimit -a\n";

static const struct sp_limits SMALL = {.cpu_ms = 3500,
				       .wall_ms = 5000,
				       .memory_kb = 65536,
				       .processes = 32,
				       .output_kb = 64,
				       .file_kb = 777,
				       .open_files = 41,
				       .stack_kb = 3072};

static void test_same_sandbox_as_fresh(void **state)
{
	static const char *want[] = {"NoNewPrivs: 1\n",
				     "Seccomp: 2\n",
				     "session of its own\n",
				     "group of its own\n",
				     "fds 0 1 2 3\n",
				     "cwd /box\n",
				     "(-n) 41\n",
				     "(-f) 1554\n",
				     "(-s) 3072\n",
				     "(-t) 5\n"};
	struct fixture *fx = *state;
	struct probe fresh, prepared;

	wait_for_job(fx, FRESH);
	probe_ok(fx, SANDBOX, &SMALL, &fresh);
	assert_how(&fresh, FRESH);
	next_job(fx, PREPARED);
	probe_ok(fx, SANDBOX, &SMALL, &prepared);
	assert_how(&prepared, PREPARED);
	assert_string_equal(prepared.out, fresh.out);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(prepared.out, want[i]) == NULL)
			fail_msg("no \"%s\" in the job's sandbox", want[i]);
	/* its own IPC namespace, not the last step's */
	print_message("  IPC: fresh %s, prepared %s\n", fresh.ipc, prepared.ipc);
	assert_string_not_equal(prepared.ipc, fresh.ipc);
	sp_step_result_free(&fresh.res);
	sp_step_result_free(&prepared.res);
}

/* ---- 2. made before its job ------------------------------------------------ */

static void test_prepared_before_the_job(void **state)
{
	struct fixture *fx = *state;
	struct probe p;

	next_job(fx, PREPARED);
	probe_ok(fx, "echo ran", NULL, &p);
	assert_string_equal(p.out, "ran\n");
	assert_how(&p, PREPARED);
	sp_step_result_free(&p.res);
	/* unprepared, the step starts with its job */
	next_job(fx, FRESH);
	probe_ok(fx, "echo ran", NULL, &p);
	assert_how(&p, FRESH);
	sp_step_result_free(&p.res);
	/* and a prepared step serves one job: the next is fresh */
	next_job(fx, PREPARED);
	probe_ok(fx, "true", NULL, &p);
	sp_step_result_free(&p.res);
	wait_for_job(fx, FRESH);
	probe_ok(fx, "true", NULL, &p);
	assert_how(&p, FRESH);
	sp_step_result_free(&p.res);
}

/* ---- 3. a reset discards it ------------------------------------------------ */

static void write_box_file(struct fixture *fx, const char *name, const char *data)
{
	struct sp_error err = {0};
	int fd = memfd_create("box-file", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	if (sp_cell_write_file(&fx->cell, name, fd, 0644, &err) < 0)
		fail_msg("write %s: %s", name, err.message);
	close(fd);
}

/* A step prepared before a reset would have the old /box as its working
 * directory: the reset kills it, and the next prepare makes another. */
static void test_reset_discards_the_prepared_step(void **state)
{
	struct fixture *fx = *state;
	struct probe p;

	write_box_file(fx, "left", "old box\n");
	prepare(fx);
	next_job(fx, PREPARED);
	probe_ok(fx, "ls -A . /box /tmp /dev/shm; pwd", NULL, &p);
	assert_how(&p, PREPARED);
	assert_string_equal(p.out, ".:\n\n/box:\n\n/dev/shm:\n\n/tmp:\n/box\n");
	sp_step_result_free(&p.res);
}

/* A static program that makes a SysV shared memory segment (busybox has no
 * ipcmk), built into the rootfs when a static C compiler is there. */
static bool add_shm_maker(const char *rootfs)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "printf '#include <sys/shm.h>\\nint main(void) { return shmget(0x5eed, 4096, "
		 "IPC_CREAT | 0600) < 0; }\\n' | cc -static -x c -o %s/bin/shmmk - 2>/dev/null",
		 rootfs);
	return system(cmd) == 0;
}

/* What a prepared job leaves in /tmp, /dev/shm and its IPC namespace, the
 * next prepared job does not see. */
static void test_next_prepared_job_sees_nothing_left(void **state)
{
	struct fixture *fx = *state;
	bool shm = add_shm_maker(fx->bench.rootfs);
	struct probe p;

	if (!shm)
		print_message("  no static cc: no SysV segment made (/tmp and /dev/shm only)\n");
	next_job(fx, PREPARED);
	probe_ok(fx,
		 "echo t > /tmp/left; echo s > /dev/shm/left; [ -x /bin/shmmk ] && /bin/shmmk; "
		 "tail -n +2 /proc/sysvipc/shm | wc -l",
		 NULL, &p);
	assert_how(&p, PREPARED);
	assert_string_equal(p.out, shm ? "1\n" : "0\n");
	sp_step_result_free(&p.res);
	next_job(fx, PREPARED);
	probe_ok(fx, "ls -A /tmp /dev/shm; tail -n +2 /proc/sysvipc/shm | wc -l", NULL, &p);
	assert_how(&p, PREPARED);
	assert_string_equal(p.out, "/dev/shm:\n\n/tmp:\n0\n");
	sp_step_result_free(&p.res);
}

/* ---- 4. limits given at hand-over ------------------------------------------ */

static void test_each_job_its_own_limits(void **state)
{
	struct fixture *fx = *state;
	struct sp_limits small = LIMITS, large = LIMITS;
	struct probe p;

	small.open_files = 37;
	small.file_kb = 8;
	large.open_files = 64;
	large.file_kb = 4096;
	next_job(fx, PREPARED);
	probe_ok(fx, "ulimit -n; ulimit -f", &small, &p);
	assert_how(&p, PREPARED);
	assert_string_equal(p.out, "37\n16\n"); /* -f: 512-byte blocks */
	sp_step_result_free(&p.res);
	next_job(fx, PREPARED);
	probe_ok(fx, "ulimit -n; ulimit -f", &large, &p);
	assert_how(&p, PREPARED);
	assert_string_equal(p.out, "64\n8192\n");
	sp_step_result_free(&p.res);
}

#define WRITE_PAST "exec dd if=/dev/zero of=big bs=1024 count=64 2>/dev/null"

static void test_writing_past_file_kb_is_sigxfsz(void **state)
{
	struct fixture *fx = *state;
	struct sp_limits limits = LIMITS;
	struct probe p, fresh;

	limits.file_kb = 16;
	next_job(fx, PREPARED);
	probe(fx, WRITE_PAST, &limits, &p);
	assert_how(&p, PREPARED);
	next_job(fx, FRESH);
	probe(fx, WRITE_PAST, &limits, &fresh);
	assert_how(&fresh, FRESH);
	assert_int_equal(fresh.res.signal, SIGXFSZ);
	assert_int_equal(p.res.signal, fresh.res.signal);
	assert_int_equal(p.res.status, fresh.res.status);
	assert_int_equal(p.res.exit_code, fresh.res.exit_code);
	sp_step_result_free(&p.res);
	sp_step_result_free(&fresh.res);
}

/* ---- 5. from its execve ------------------------------------------------------ */

static void test_wall_time_counts_from_execve(void **state)
{
	struct fixture *fx = *state;
	struct sp_limits limits = LIMITS;
	struct probe p;
	long start, ran;

	limits.wall_ms = 300;
	next_job(fx, PREPARED);
	start = now_ms();
	probe(fx, "sleep 5", &limits, &p);
	ran = now_ms() - start;
	assert_how(&p, PREPARED);
	print_message("  wall %llu ms, ran %ld ms\n", (unsigned long long)p.res.wall_ms, ran);
	assert_int_equal(p.res.status, SP_STATUS_TIME_LIMIT);
	assert_true(p.res.wall_ms >= 300);
	assert_true(p.res.wall_ms < 2000);
	/* not from when the step was prepared, which was long before */
	assert_true(ran >= 300);
	sp_step_result_free(&p.res);
}

static void test_exec_failure_as_fresh(void **state)
{
	struct fixture *fx = *state;
	char *argv[] = {"/nonexistent", NULL};
	struct sp_step_result prepared, fresh;

	next_job(fx, PREPARED);
	/* the prepared step waits for it (that the job goes to it, test 2 shows) */
	assert_true(cell_child(fx->cell.pid) > 0);
	run_argv(fx, argv, &LIMITS, &prepared);
	next_job(fx, FRESH);
	run_argv(fx, argv, &LIMITS, &fresh);
	print_message("  status %d, exit %d, signal %d: %s\n", fresh.status, fresh.exit_code,
		      fresh.signal, fresh.error.message);
	assert_int_not_equal(fresh.status, SP_STATUS_OK);
	assert_non_null(strstr(fresh.error.message, "/nonexistent"));
	assert_int_equal(prepared.status, fresh.status);
	assert_int_equal(prepared.exit_code, fresh.exit_code);
	assert_int_equal(prepared.signal, fresh.signal);
	assert_int_equal(prepared.error.errnum, fresh.error.errnum);
	assert_string_equal(prepared.error.message, fresh.error.message);
	sp_step_result_free(&prepared);
	sp_step_result_free(&fresh);
}

/* ---- 6. a policy that refuses what it needs ----------------------------------- */

/* The cell asked to prepare runs its jobs right, each in a fresh step. */
static void assert_fresh_steps_run(struct fixture *fx)
{
	struct probe p;

	for (int i = 0; i < 2; i++) {
		next_job(fx, PREPARED);
		probe_ok(fx, "echo ran; ls -A /box", NULL, &p);
		assert_string_equal(p.out, "ran\n");
		assert_how(&p, FRESH);
		sp_step_result_free(&p.res);
	}
}

static void test_policy_without_prlimit_runs_fresh_steps(void **state)
{
	assert_fresh_steps_run(*state);
}

/* ---- 7. killed while it waits ------------------------------------------------- */

static void test_killed_while_waiting(void **state)
{
	struct fixture *fx = *state;
	struct probe p;
	pid_t child;

	next_job(fx, PREPARED);
	child = cell_child(fx->cell.pid);
	assert_true(child > 0);
	assert_int_equal(kill(child, SIGKILL), 0);
	for (int i = 0; i < 200 && !dead(child); i++)
		sleep_ms(10);
	assert_true(dead(child));
	probe_ok(fx, "echo ran; pwd", NULL, &p);
	assert_string_equal(p.out, "ran\n/box\n");
	assert_how(&p, FRESH);
	sp_step_result_free(&p.res);
	/* and the cell serves on */
	next_job(fx, PREPARED);
	probe_ok(fx, "echo again", NULL, &p);
	assert_string_equal(p.out, "again\n");
	sp_step_result_free(&p.res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_same_sandbox_as_fresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prepared_before_the_job, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_discards_the_prepared_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_prepared_job_sees_nothing_left, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_each_job_its_own_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writing_past_file_kb_is_sigxfsz, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wall_time_counts_from_execve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_failure_as_fresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_without_prlimit_runs_fresh_steps,
					    setup_no_prlimit, teardown),
	    cmocka_unit_test_setup_teardown(test_killed_while_waiting, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
