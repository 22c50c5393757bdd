/* The floor of a benchmark: run a command again and again, CONCURRENCY at a
 * time, for SECONDS, each a posix_spawn + wait with its output to /dev/null,
 * and print one line of JSON: {"runs", "failed", "rate", "p50_ms", "p99_ms"}.
 *
 *   bench_spawn CONCURRENCY SECONDS CMD [ARG...]
 *
 * An argument that is exactly "{id}" becomes a name unique to each run (a
 * container id for crun). BENCH_PAUSE_MS in the environment: each runner
 * pauses that long after each run (latency of a job that finds the machine
 * idle, not one of a stream back to back).
 * The same loop runs `sandpool run`, bwrap or crun per job, so that every
 * mode measured process by process pays the same harness. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct runner {
	char **argv;	   /* as given */
	char **run_argv;   /* with "{id}" replaced */
	char id[64];	   /* this run's name */
	unsigned index;	   /* of the runner */
	unsigned long run; /* runs so far */
	double until;	   /* CLOCK_MONOTONIC seconds */
	long pause_ms;	   /* after each run */
	double *lat;	   /* ms */
	size_t count, cap;
	size_t failed;
	posix_spawn_file_actions_t actions;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_once(struct runner *r)
{
	pid_t pid;
	int status;

	snprintf(r->id, sizeof(r->id), "bench-%d-%u-%lu", (int)getpid(), r->index, r->run++);
	for (size_t i = 0; r->argv[i] != NULL; i++)
		r->run_argv[i] = strcmp(r->argv[i], "{id}") == 0 ? r->id : r->argv[i];
	if (posix_spawnp(&pid, r->run_argv[0], &r->actions, NULL, r->run_argv, environ) != 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void *loop(void *arg)
{
	struct runner *r = arg;

	while (now() < r->until) {
		double t0 = now();
		int rc = run_once(r);

		if (rc < 0)
			r->failed++;
		if (r->count == r->cap) {
			double *grown =
			    realloc(r->lat, (r->cap ? r->cap * 2 : 1024) * sizeof(*grown));

			if (grown == NULL)
				break;
			r->lat = grown;
			r->cap = r->cap ? r->cap * 2 : 1024;
		}
		r->lat[r->count++] = (now() - t0) * 1000.0;
		if (r->pause_ms > 0) {
			struct timespec ts = {.tv_sec = r->pause_ms / 1000,
					      .tv_nsec = (r->pause_ms % 1000) * 1000000};

			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int conc = argc > 3 ? atoi(argv[1]) : 0;
	double seconds = argc > 3 ? atof(argv[2]) : 0, start, elapsed;
	struct runner *runners;
	pthread_t *threads;
	double *all;
	size_t total = 0, failed = 0, at = 0;

	if (conc < 1 || seconds <= 0) {
		fprintf(stderr, "usage: bench_spawn CONCURRENCY SECONDS CMD [ARG...]\n");
		return 2;
	}
	runners = calloc((size_t)conc, sizeof(*runners));
	threads = calloc((size_t)conc, sizeof(*threads));
	if (runners == NULL || threads == NULL)
		return 1;
	start = now();
	for (int i = 0; i < conc; i++) {
		runners[i].argv = argv + 3;
		runners[i].run_argv = calloc((size_t)argc, sizeof(char *));
		runners[i].index = (unsigned)i;
		if (runners[i].run_argv == NULL)
			return 1;
		runners[i].until = start + seconds;
		runners[i].pause_ms = getenv("BENCH_PAUSE_MS") ? atol(getenv("BENCH_PAUSE_MS")) : 0;
		posix_spawn_file_actions_init(&runners[i].actions);
		posix_spawn_file_actions_addopen(&runners[i].actions, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&runners[i].actions, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&runners[i].actions, 2, "/dev/null", O_WRONLY, 0);
		pthread_create(&threads[i], NULL, loop, &runners[i]);
	}
	for (int i = 0; i < conc; i++) {
		pthread_join(threads[i], NULL);
		total += runners[i].count;
		failed += runners[i].failed;
	}
	elapsed = now() - start;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (all == NULL)
		return 1;
	for (int i = 0; i < conc; i++) {
		memcpy(all + at, runners[i].lat, runners[i].count * sizeof(*all));
		at += runners[i].count;
	}
	qsort(all, total, sizeof(*all), by_value);
	printf("{\"runs\": %zu, \"failed\": %zu, \"rate\": %.2f, \"p50_ms\": %.3f, "
	       "\"p99_ms\": %.3f}\n",
	       total, failed, (double)total / elapsed, total ? all[total / 2] : 0.0,
	       total ? all[(size_t)((double)(total - 1) * 0.99)] : 0.0);
	return failed ? 1 : 0;
}
