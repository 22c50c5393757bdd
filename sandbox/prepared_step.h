/* A prepared step: a process the cell forks once it is reset, which builds
 * the whole sandbox of a step before any job exists and waits. Its stdin,
 * stdout and stderr are already pipes: the supervisor takes their other
 * ends with the answer to the prepare. When the job comes, the cell hands
 * the step the job's command over a socket of its own, and all that is left
 * on the job's path is the job's rlimits and its execve.
 *
 * A step may also prepare its language's runtime: it then runs the
 * language's prepare command (the run command, with an environment that
 * has the runtime read a loader first) before the job, inside the same
 * sandbox and rlimits as the job's; the loader waits on descriptor 3 for
 * the job's arguments, and the runtime goes on to run the job's code as if
 * it had just started. */
#ifndef SANDPOOL_PREPARED_STEP_H
#define SANDPOOL_PREPARED_STEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "channel.h"
#include "limits.h"
#include "sandbox/base/error.h"
#include "step.h"

struct sp_prepared_step {
	pid_t pid;    /* -1: none */
	int control;  /* the cell's end of the step's socket */
	int stdio[3]; /* the step's stdin, stdout, stderr: the cell's copies, kept
		       * until the job starts (a step started in its place takes them) */
	bool runtime; /* it runs its language's runtime already */
	/* One failed before it was ready: this cell prepares no more (its steps
	 * start the usual way, which report what fails). */
	bool refused;
};

/* The loader of a prepared runtime: copied from FD to PATH (a file below
 * /tmp, its folders made) as the job's user before the runtime starts; the
 * loader removes it. ENV (KEY=VALUE, NULL-terminated) is added to the
 * runtime's environment to have it read the loader; the loader takes it
 * out. */
struct sp_prepared_loader {
	int fd;
	const char *path;
	char *const *env;
	char *const *args; /* put after the command's first word, to have it read the loader */
};

void sp_prepared_step_clear(struct sp_prepared_step *prepared);

/* Fork the step and wait until it is ready. CTX gives its ids, seccomp
 * program and shared report; with LOADER it also gives the runtime's
 * command, environment and limits (rlimits set now, and the runtime started),
 * without, the job's limits are set when it comes. BUFFER is what the step
 * receives its job into (its own copy). ENDS gets the supervisor's ends of
 * the step's stdin (write), stdout and stderr (read), close-on-exec. When the
 * step could not be made, PREPARED is refused, and ERR says why. */
int sp_prepared_step_start(struct sp_prepared_step *prepared, struct sp_step_context *ctx,
			   const struct sp_prepared_loader *loader, struct sp_msg *buffer,
			   int ends[3], struct sp_error *err);

/* Hand the job over: DATA is the job's sp_step_wire for a step, the job's
 * arguments after the prepare command's (each NUL-terminated) for a
 * runtime. Returns the step's pid, which now is the job's first process (its
 * copies of the stdio closed), or -1 when the step is gone: PREPARED is then
 * refused, and its stdio are still there for a step started in its place
 * (sp_prepared_step_discard closes them). */
pid_t sp_prepared_step_go(struct sp_prepared_step *prepared, const void *data, size_t length);

/* Kill a prepared step that no job took, reap it, close its descriptors. */
void sp_prepared_step_discard(struct sp_prepared_step *prepared);

/* Whether a job of ARGV, ENVP and LIMITS may run on a runtime prepared
 * with PREPARE_ARGV, PREPARE_ENVP and PREPARE_LIMITS: the same command (with
 * arguments after it when it TAKES_ARGUMENTS), the same environment, and the
 * same limits where they are rlimits (set before the runtime started). */
bool sp_prepared_runtime_fits(char *const *prepare_argv, char *const *prepare_envp,
			      const struct sp_limits *prepare_limits, bool takes_arguments,
			      char *const *argv, char *const *envp, const struct sp_limits *limits,
			      bool cgroup_memory, bool cgroup_pids);

#endif
