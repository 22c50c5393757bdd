#include "verdict.h"

#include <signal.h>
#include <sys/wait.h>

#include "step.h"

const char *sp_status_to_string(enum sp_status status)
{
	switch (status) {
	case SP_STATUS_OK:
		return "ok";
	case SP_STATUS_COMPILE_ERROR:
		return "compile_error";
	case SP_STATUS_RUNTIME_ERROR:
		return "runtime_error";
	case SP_STATUS_TIME_LIMIT:
		return "time_limit";
	case SP_STATUS_MEMORY_LIMIT:
		return "memory_limit";
	case SP_STATUS_OUTPUT_LIMIT:
		return "output_limit";
	case SP_STATUS_SYSCALL_BLOCKED:
		return "syscall_blocked";
	case SP_STATUS_INTERNAL_ERROR:
		return "internal_error";
	case SP_STATUS_CANCELLED:
		return "cancelled";
	}
	return "internal_error";
}

static enum sp_status from_signal(int sig)
{
	switch (sig) {
	case SIGXCPU:
		return SP_STATUS_TIME_LIMIT;
	case SIGSYS:
		return SP_STATUS_SYSCALL_BLOCKED;
	case SIGXFSZ:
		return SP_STATUS_OUTPUT_LIMIT;
	default:
		return SP_STATUS_RUNTIME_ERROR;
	}
}

enum sp_status sp_verdict_decide(const struct sp_verdict_input *in)
{
	if (in->failure == SP_STEP_SETUP_FAILED)
		return SP_STATUS_INTERNAL_ERROR;
	if (in->killed == SP_KILL_CANCEL)
		return SP_STATUS_CANCELLED;
	if (in->killed == SP_KILL_OUTPUT)
		return SP_STATUS_OUTPUT_LIMIT;
	if (in->killed == SP_KILL_TIME)
		return SP_STATUS_TIME_LIMIT;
	if (in->oom_kills > 0)
		return SP_STATUS_MEMORY_LIMIT;
	if (in->cpu_limit_ms > 0 && in->cpu_ms > in->cpu_limit_ms)
		return SP_STATUS_TIME_LIMIT;
	if (WIFSIGNALED(in->wait_status))
		return from_signal(WTERMSIG(in->wait_status));
	if (in->failure == SP_STEP_EXEC_FAILED)
		return SP_STATUS_RUNTIME_ERROR;
	if (WIFEXITED(in->wait_status) && WEXITSTATUS(in->wait_status) != 0)
		return SP_STATUS_RUNTIME_ERROR;
	return SP_STATUS_OK;
}
