/* A prepared step: a process the cell forks once it is reset, which builds
 * the whole sandbox of a step (session, fresh IPC namespace, the job's ids
 * without capabilities, no_new_privs, the seccomp filter) before any job
 * exists, and then waits. When the job comes, the cell hands it the job's
 * command and descriptors over a socket of its own, and all that is left
 * on the job's path is its descriptors, its rlimits and execve. */
#ifndef SANDPOOL_PREPARED_STEP_H
#define SANDPOOL_PREPARED_STEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "channel.h"
#include "sandbox/base/error.h"
#include "step.h"

struct sp_prepared_step {
	pid_t pid; /* -1: none */
	int sock;  /* the cell's end of the step's socket */
	/* One failed or ended before its job came: this cell prepares no more
	 * (its steps start the usual way, which report what fails). */
	bool refused;
};

void sp_prepared_step_clear(struct sp_prepared_step *prepared);

/* Fork the step, which closes every descriptor but its socket, builds its
 * sandbox from CTX (ids, seccomp program; no job yet) and says it is ready:
 * this returns once it did, with it waiting for its job. BUFFER is a message
 * buffer the child receives its job into (its copy of it). When the step
 * could not be made, PREPARED is refused, and ERR says why. */
int sp_prepared_step_start(struct sp_prepared_step *prepared, struct sp_step_context *ctx,
			   struct sp_msg *buffer, struct sp_error *err);

/* Hand the job over: WIRE (an sp_step_wire of LENGTH bytes) and the job's
 * stdin, stdout and stderr. Returns the step's pid, which now is the job's
 * first process, or -1 when the step was gone (then it is discarded and
 * PREPARED refused: start the job's step the usual way). */
pid_t sp_prepared_step_go(struct sp_prepared_step *prepared, const void *wire, size_t length,
			  const int fds[3]);

/* Kill a prepared step that no job took, and reap it. */
void sp_prepared_step_discard(struct sp_prepared_step *prepared);

#endif
