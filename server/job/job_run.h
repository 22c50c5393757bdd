/* A job spec run in one cell: its files into /box, then the compile step
 * (when it has one) and the run step. Both programs run jobs so: `sandpool
 * run` on a cell of its own, the server on a cell it leased
 * (server/engine/cell_lease.h); the queue of jobs is the engine's job table. */
#ifndef SANDPOOL_JOB_RUN_H
#define SANDPOOL_JOB_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "language.h"
#include "sandbox/cell.h"
#include "sandbox/cgroup.h"
#include "sandbox/run.h"

struct sp_job_file {
	const char *name; /* in /box */
	int fd;		  /* its content, read from the start */
	mode_t mode;
};

/* Told of a job's progress as it happens (on the thread running the job). */
struct sp_job_observer {
	void (*stage)(void *ctx, const char *stage); /* "compile" or "run" starts */
	/* Output of the step under way, as it comes: STREAM 1 stdout, 2 stderr. */
	void (*output)(void *ctx, int stream, const char *data, size_t length);
	void *ctx;
};

struct sp_job_spec {
	char *const *compile_argv; /* the compile step's command; NULL: none */
	char *const *argv;	   /* the run step's command, with its arguments */
	char *const *envp;
	struct sp_limits limits;
	struct sp_limits compile_limits;
	const struct sp_job_file *files;
	size_t file_count;
	int stdin_fd;  /* the run step's input, -1 for none */
	int cancel_fd; /* readable: stop the job (cancelled); 0 or -1 for none */
	const struct sp_job_observer *observer; /* or NULL */
	bool compile_only;			/* stop after the compile step */
	unsigned runs;	       /* the run step runs so many times (0 is 1): sp_job_run */
	bool stderr_to_stdout; /* the run step's fd 2 is its fd 1 (run.h) */
};

struct sp_job_result {
	enum sp_status status;
	bool compiled; /* a compile step ran */
	bool ran;      /* the run step ran */
	struct sp_step_result compile;
	struct sp_step_result run;
	unsigned run_count;    /* of SPEC's runs, how many ran */
	struct sp_error error; /* a failure of the job outside its steps */
};

/* Run SPEC in CELL: its compile, then its run (SPEC's runs times, one
 * after the other while each is ok; the result is the last one's, its cpu
 * time and memory the average of those that ran, and its run_count how
 * many ran). Returns 0 when the cell may be used again, -1 when it
 * must be destroyed; the result tells what happened either way. */
int sp_job_run(struct sp_cell *cell, const struct sp_cgroup_root *cgroups,
	       const struct sp_job_spec *spec, struct sp_job_result *res);

/* What failed when RES is an internal_error: the job's own error, else its
 * last step's (the run step once it ran, else the compile). */
const struct sp_error *sp_job_result_error(const struct sp_job_result *res);

/* True once CANCEL_FD (a job spec's cancel_fd: 0 or -1 for none) is
 * readable: the job is to stop. */
bool sp_job_cancel_asked(int cancel_fd);

/* {"status", "language", "version", "compile": {...}|null, "run": {...}|null,
 * "stdout", "stderr", "error"}. */
json_t *sp_job_result_to_json(const struct sp_job_result *res, const struct sp_language *language);

/* "output" in the "compile" and "run" of ANSWER (RES as JSON): each step's
 * stdout and stderr in the order they were written (a request's
 * "interleave"). Returns -1 when out of memory. */
int sp_job_result_add_output(json_t *answer, const struct sp_job_result *res);

void sp_job_result_free(struct sp_job_result *res);

/* "KEY=VALUE" lists merged in order, a later KEY replacing an earlier one.
 * Returns a NULL-terminated vector of pointers into the lists (free() the
 * vector only), or NULL when out of memory. */
char **sp_env_merge(const char *const *const *lists, size_t count);

#endif
