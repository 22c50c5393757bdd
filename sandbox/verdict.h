/* Statuses of a step and how one is decided. */
#ifndef SANDPOOL_VERDICT_H
#define SANDPOOL_VERDICT_H

#include <stdint.h>

enum sp_status {
	SP_STATUS_OK,
	SP_STATUS_COMPILE_ERROR,
	SP_STATUS_RUNTIME_ERROR,
	SP_STATUS_TIME_LIMIT,
	SP_STATUS_MEMORY_LIMIT,
	SP_STATUS_OUTPUT_LIMIT,
	SP_STATUS_SYSCALL_BLOCKED,
	SP_STATUS_INTERNAL_ERROR,
	SP_STATUS_CANCELLED, /* stopped on request (DELETE, shutdown) */
};

/* Why the supervisor killed a step, if it did. */
enum sp_kill_reason { SP_KILL_NONE, SP_KILL_TIME, SP_KILL_OUTPUT, SP_KILL_CANCEL };

const char *sp_status_to_string(enum sp_status status);

struct sp_verdict_input {
	enum sp_kill_reason killed;
	int wait_status; /* of the step's first process */
	int failure;	 /* enum sp_step_failure */
	uint64_t cpu_ms;
	uint64_t cpu_limit_ms; /* 0: none */
	uint64_t oom_kills;
};

/* The status of a step, from what the sandbox saw. Sandbox failures first,
 * then the limits the supervisor enforced, then what the kernel reported,
 * then the program's own exit. */
enum sp_status sp_verdict_decide(const struct sp_verdict_input *in);

#endif
