/* The cost of a job in a warm cell, next to the bare fork + exec + wait of
 * the same program, in one run. For each of N rounds: a step in the cell
 * (lease to result), then the cell's reset; and a bare run.
 *
 *   build/tests/bench/bench_warm ROOTFS [N] [PROGRAM ARG...]
 *
 * Prints the median and p99 of each, and the overhead of the warm job. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/cell.h"
#include "sandbox/cgroup.h"
#include "sandbox/run.h"
#include "sandbox/seccomp_cache.h"
#include "sandbox/spawner.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double percentile(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), by_value);
	return v[(size_t)(p * (double)(n - 1))];
}

/* fork + execve + wait, the floor. PROGRAM is looked up in the host's / */
static double bare_run(char **argv, char **envp, const char *rootfs)
{
	double t0 = now_us();
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		if (chroot(rootfs) < 0 && chdir(".") < 0)
			_exit(126);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	return now_us() - t0;
}

static int die(const char *what, const struct sp_error *err)
{
	fprintf(stderr, "bench_warm: %s: %s\n", what, err->message);
	return 1;
}

int main(int argc, char **argv)
{
	const char *rootfs = argc > 1 ? argv[1] : NULL;
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 500;
	char *default_cmd[] = {"/bin/true", NULL};
	char **cmd = argc > 3 ? argv + 3 : default_cmd;
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct sp_cell_config config = {.rootfs = rootfs, .hostname = "sandpool", .tmpfs_kb = 8192};
	struct sp_seccomp_program prog;
	struct sp_cgroup_root cgroups;
	struct sp_spawner spawner;
	struct sp_cell cell;
	struct sp_error err = {0};
	enum sp_cgroup_request mode = SP_CGROUP_AUTO;
	const char *no_cgroup;
	struct sp_step_request req = {.argv = cmd,
				      .envp = envp,
				      .limits = {.cpu_ms = 5000,
						 .wall_ms = 5000,
						 .memory_kb = 262144,
						 .processes = 64,
						 .output_kb = 1024,
						 .file_kb = 10240,
						 .open_files = 256},
				      .stdin_fd = -1,
				      .cancel_fd = -1};
	double *warm, *reset, *bare;
	bool as_root = geteuid() == 0;

	if (rootfs == NULL || n == 0) {
		fprintf(stderr, "usage: bench_warm ROOTFS [N] [PROGRAM ARG...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	no_cgroup = getenv("SANDPOOL_BENCH_NO_CGROUP");
	if (sp_seccomp_load("policies/default.json", NULL, &prog, &err) < 0)
		return die("policy", &err);
	if (no_cgroup != NULL && *no_cgroup != '\0')
		mode = SP_CGROUP_FORCE_NONE;
	if (sp_cgroup_root_init(&cgroups, "sandpool-bench", mode, &err) < 0)
		return die("cgroups", &err);
	config.seccomp = &prog;
	config.cgroup_memory = cgroups.limits_memory;
	config.cgroup_pids = cgroups.limits_pids;
	if (sp_idmap_plan(&config.idmap, SP_IDMAP_AUTO, (unsigned)getpid(), &err) < 0 ||
	    sp_spawner_start(&spawner, &err) < 0 ||
	    sp_spawner_cell(&spawner, &config, &cell, &err) < 0)
		return die("cell", &err);
	warm = calloc(n, sizeof(*warm));
	reset = calloc(n, sizeof(*reset));
	bare = calloc(n, sizeof(*bare));
	for (size_t i = 0; i < n; i++) {
		struct sp_step_result res;
		double t0 = now_us();

		if (sp_run_step(&cell, &cgroups, &req, &res) < 0 || res.status != SP_STATUS_OK)
			return die("step", &res.error);
		warm[i] = now_us() - t0;
		sp_step_result_free(&res);
		t0 = now_us();
		if (sp_cell_reset(&cell, &err) < 0)
			return die("reset", &err);
		reset[i] = now_us() - t0;
		bare[i] = as_root ? bare_run(cmd, envp, rootfs) : 0;
	}
	printf("cgroup %s, %zu rounds of %s\n", sp_cgroup_mode_to_string(cgroups.mode), n, cmd[0]);
	printf("%-28s %9s %9s\n", "", "p50 ms", "p99 ms");
	printf("%-28s %9.3f %9.3f\n", "warm job (lease to result)", percentile(warm, n, 0.5) / 1e3,
	       percentile(warm, n, 0.99) / 1e3);
	printf("%-28s %9.3f %9.3f\n", "reset of the cell", percentile(reset, n, 0.5) / 1e3,
	       percentile(reset, n, 0.99) / 1e3);
	if (as_root)
		printf("%-28s %9.3f %9.3f\n", "bare fork+exec+wait", percentile(bare, n, 0.5) / 1e3,
		       percentile(bare, n, 0.99) / 1e3);
	sp_cell_destroy(&cell);
	sp_spawner_stop(&spawner);
	sp_cgroup_root_destroy(&cgroups, NULL);
	return 0;
}
