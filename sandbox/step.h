/* A step: one compile or run command executed inside a cell. */
#ifndef SANDPOOL_STEP_H
#define SANDPOOL_STEP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "limits.h"
#include "sandbox/base/error.h"
#include "seccomp.h"

#define SP_STEP_ARGS_MAX 4096

/* What the supervisor sends with SP_MSG_RUN: limits, then argc + envc
 * strings, NUL-terminated, back to back. */
struct sp_step_wire {
	struct sp_limits limits;
	uint32_t prepared; /* sent without descriptors: the cell's prepared step of slot
			    * PREPARED - 1 runs it (cell.h) */
	uint32_t argc;
	uint32_t envc;
	uint32_t strings_length;
	char strings[];
};

/* How a step ended, sent with SP_MSG_EXITED once every process is dead. */
enum sp_step_failure {
	SP_STEP_RAN = 0,	  /* execve happened (or the step was killed before) */
	SP_STEP_SETUP_FAILED = 1, /* the sandbox failed before execve */
	SP_STEP_EXEC_FAILED = 2,  /* execve failed: the command is not there or not runnable */
};

struct sp_step_exit {
	int32_t wait_status; /* of the step's first process */
	int32_t failure;     /* enum sp_step_failure */
	uint64_t cpu_ns;     /* user + system time of every process reaped */
	uint64_t maxrss_kb;  /* largest resident set of any process */
	uint64_t wall_us;    /* from the execve call to the end of the first process */
	struct sp_error error;
	bool wall_expired;     /* the cell killed it at its wall limit */
	bool runtime_prepared; /* a runtime prepared before the job ran it */
};

/* Everything the step process needs; lives in the cell. */
struct sp_step_context {
	char **argv; /* point into argv_store and envp_store */
	char **envp;
	char *argv_store[SP_STEP_ARGS_MAX + 1];
	char *envp_store[SP_STEP_ARGS_MAX + 1];
	struct sp_limits limits;
	uid_t uid;
	gid_t gid;
	bool cgroup_memory; /* the cgroup limits memory: no RLIMIT_AS */
	bool cgroup_pids;   /* the cgroup limits pids: no RLIMIT_NPROC */
	const struct sp_seccomp_program *seccomp;
	int stdio[3]; /* the job's stdin, stdout, stderr */
	/* In memory the cell shares with the step (its own, for a step cloned
	 * with CLONE_VM; a shared mapping, for a prepared step): */
	struct sp_step_exit *report; /* a failure, if any */
	uint64_t *exec_us;	     /* when execve was called */
};

/* Unpack a wire step into CTX (pointers into WIRE). */
int sp_step_unpack(struct sp_step_wire *wire, size_t length, struct sp_step_context *ctx,
		   struct sp_error *err);

/* Pack ARGV/ENVP and LIMITS into WIRE (room: SIZE bytes). Returns its length. */
ssize_t sp_step_pack(struct sp_step_wire *wire, size_t size, char *const *argv, char *const *envp,
		     const struct sp_limits *limits, struct sp_error *err);

/* In the step process, cloned with CLONE_VM | CLONE_VFORK (it shares the
 * cell's memory, and the cell waits, until its execve): build the sandbox of
 * the step and exec. Never returns; a failure is written to *ctx->report. */
__attribute__((noreturn)) void sp_step_exec_in_child(const struct sp_step_context *ctx);

/* The same in parts, for a step prepared before its job comes (a process
 * of its own, forked by the cell, its descriptors already the job's): */

/* Signals unblocked, a session of its own, a fresh IPC namespace. */
int sp_step_session_in_child(struct sp_error *err);

/* The job's ids, without capabilities. */
int sp_step_drop_in_child(const struct sp_step_context *ctx, struct sp_error *err);

/* no_new_privs and the seccomp filter; then the one call the step makes
 * after it but execve (prlimit64), once, harmlessly, so that a policy that
 * refuses it fails here and not in a job. */
int sp_step_seal_in_child(const struct sp_step_context *ctx, struct sp_error *err);

/* The rlimits of CTX's limits (lowered, which needs no capability). */
int sp_step_limit_in_child(const struct sp_step_context *ctx, struct sp_error *err);

/* The job's rlimits, and execve of its command. Never returns; a failure is
 * written to *ctx->report. */
__attribute__((noreturn)) void sp_step_start_in_child(const struct sp_step_context *ctx);

/* Execve of CTX's command as it is (its rlimits set). Never returns. */
__attribute__((noreturn)) void sp_step_exec_command_in_child(const struct sp_step_context *ctx);

/* End the step before its execve with ERROR as a failure of its sandbox. */
__attribute__((noreturn)) void sp_step_fail_in_child(const struct sp_step_context *ctx,
						     const struct sp_error *error);

#endif
