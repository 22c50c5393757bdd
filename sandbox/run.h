/* Running one step in a cell, from the supervisor: cgroup, output, limits,
 * verdict. */
#ifndef SANDPOOL_RUN_H
#define SANDPOOL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cell.h"
#include "cgroup.h"
#include "limits.h"
#include "sandbox/base/error.h"
#include "verdict.h"

struct sp_output {
	char *data;
	size_t length;
};

/* A stretch of the output kept, of one stream (1 stdout, 2 stderr): the
 * stretches in turn are the order the step wrote in, as the supervisor read
 * it (the two pipes read as they fill). A step keeps at most
 * SP_OUTPUT_TURNS_MAX of them (64 KiB: a program that writes a byte at a
 * time on each stream in turn must not make them cost more than its
 * output); past that, the order is no longer kept. */
struct sp_output_turn {
	int stream;
	size_t length;
};

#define SP_OUTPUT_TURNS_MAX 4096

struct sp_step_request {
	char *const *argv;
	char *const *envp;
	struct sp_limits limits;
	/* What the job reads on fd 0: the supervisor reads this descriptor and
	 * copies it into a pipe, so that no host file ever enters the sandbox.
	 * -1 for empty input. The caller ignores SIGPIPE. */
	int stdin_fd;
	/* When this descriptor becomes readable (an eventfd, a pipe), the step
	 * is killed and its status is cancelled. 0 or -1 for none: a request
	 * left zeroed has none (descriptor 0 is standard input, never this). */
	int cancel_fd;
	/* Called on the supervisor's thread with each piece of output kept
	 * (within the output limit) as the step writes it; STREAM is 1 for
	 * stdout, 2 for stderr. NULL: output is only collected. */
	void (*on_output)(void *ctx, int stream, const char *data, size_t length);
	void *output_ctx;
	/* fd 2 is fd 1's pipe, as with 2>&1: one stream, stdout, in the order
	 * written; stderr stays empty. */
	bool stderr_to_stdout;
};

struct sp_step_result {
	enum sp_status status;
	int exit_code; /* -1 when the step did not exit by itself */
	int signal;    /* 0 when it was not killed by a signal */
	uint64_t cpu_ms;
	uint64_t wall_ms;
	uint64_t wall_us; /* the same, in microseconds */
	uint64_t memory_kb;
	struct sp_output out;
	struct sp_output err;
	struct sp_output_turn *turns; /* OUT and ERR as they came, in turn */
	size_t turn_count;
	bool truncated;	       /* output beyond the limit was dropped */
	bool runtime_prepared; /* the runtime was started before the job (prepared_step.h) */
	/* the cell took the step (its files were written, it was sent): false
	 * when the cell failed before, and nothing of it ran */
	bool started;
	struct sp_error error; /* what failed, for internal_error and exec failures */
};

/* Run REQ in CELL. Returns 0 when the cell can be used again, -1 when it must
 * be destroyed (the result then says internal_error). */
int sp_run_step(struct sp_cell *cell, const struct sp_cgroup_root *cgroups,
		const struct sp_step_request *req, struct sp_step_result *res);

/* RES's stdout and stderr as one, in the order they were written (its
 * turns; what came after the last turn kept, stdout's and then stderr's),
 * NUL-terminated, *LENGTH bytes; NULL when out of memory. */
char *sp_step_output_interleaved(const struct sp_step_result *res, size_t *length);

void sp_step_result_free(struct sp_step_result *res);

#endif
