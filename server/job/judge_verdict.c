#include "judge_verdict.h"

#include <string.h>

static const char *const names[SP_VERDICT_COUNT] = {
    [SP_VERDICT_ACCEPTED] = "accepted",
    [SP_VERDICT_WRONG_ANSWER] = "wrong_answer",
    [SP_VERDICT_PRESENTATION_ERROR] = "presentation_error",
    [SP_VERDICT_TIME_LIMIT] = "time_limit",
    [SP_VERDICT_MEMORY_LIMIT] = "memory_limit",
    [SP_VERDICT_OUTPUT_LIMIT] = "output_limit",
    [SP_VERDICT_RUNTIME_ERROR] = "runtime_error",
    [SP_VERDICT_SYSCALL_BLOCKED] = "syscall_blocked",
    [SP_VERDICT_CHECKER_ERROR] = "checker_error",
    [SP_VERDICT_SKIPPED] = "skipped",
    [SP_VERDICT_INTERNAL_ERROR] = "internal_error",
};

const char *sp_verdict_to_string(enum sp_verdict verdict)
{
	return verdict < SP_VERDICT_COUNT ? names[verdict] : "internal_error";
}

enum sp_verdict sp_verdict_from_string(const char *name)
{
	for (int v = 0; name != NULL && v < SP_VERDICT_COUNT; v++)
		if (strcmp(names[v], name) == 0)
			return (enum sp_verdict)v;
	return SP_VERDICT_INTERNAL_ERROR;
}

bool sp_verdict_failed(enum sp_verdict verdict)
{
	return verdict != SP_VERDICT_ACCEPTED && verdict != SP_VERDICT_SKIPPED;
}

enum sp_verdict sp_verdict_of_run(enum sp_status status)
{
	switch (status) {
	case SP_STATUS_OK:
		return SP_VERDICT_ACCEPTED;
	case SP_STATUS_COMPILE_ERROR: /* a run step never says it; a crash it would be */
	case SP_STATUS_RUNTIME_ERROR:
		return SP_VERDICT_RUNTIME_ERROR;
	case SP_STATUS_TIME_LIMIT:
		return SP_VERDICT_TIME_LIMIT;
	case SP_STATUS_MEMORY_LIMIT:
		return SP_VERDICT_MEMORY_LIMIT;
	case SP_STATUS_OUTPUT_LIMIT:
		return SP_VERDICT_OUTPUT_LIMIT;
	case SP_STATUS_SYSCALL_BLOCKED:
		return SP_VERDICT_SYSCALL_BLOCKED;
	case SP_STATUS_CANCELLED:
		return SP_VERDICT_SKIPPED;
	case SP_STATUS_INTERNAL_ERROR:
	default:
		return SP_VERDICT_INTERNAL_ERROR;
	}
}

enum sp_verdict sp_verdict_of_check(enum sp_check_outcome outcome)
{
	switch (outcome) {
	case SP_CHECK_ACCEPTED:
		return SP_VERDICT_ACCEPTED;
	case SP_CHECK_PRESENTATION_ERROR:
		return SP_VERDICT_PRESENTATION_ERROR;
	case SP_CHECK_WRONG_ANSWER:
	default:
		return SP_VERDICT_WRONG_ANSWER;
	}
}

enum sp_verdict sp_verdict_of_checker(const struct sp_step_result *checker)
{
	if (checker->status == SP_STATUS_INTERNAL_ERROR)
		return SP_VERDICT_INTERNAL_ERROR;
	if (checker->status != SP_STATUS_OK && checker->status != SP_STATUS_RUNTIME_ERROR)
		return SP_VERDICT_CHECKER_ERROR;
	switch (checker->exit_code) {
	case 0:
		return SP_VERDICT_ACCEPTED;
	case 1:
		return SP_VERDICT_WRONG_ANSWER;
	case 2:
		return SP_VERDICT_PRESENTATION_ERROR;
	default:
		return SP_VERDICT_CHECKER_ERROR;
	}
}

enum sp_verdict sp_verdict_of_interaction(const struct sp_step_result *submission,
					  const struct sp_step_result *interactor)
{
	enum sp_verdict own = sp_verdict_of_run(submission->status);
	enum sp_verdict word = sp_verdict_of_checker(interactor);

	if (own == SP_VERDICT_INTERNAL_ERROR || word == SP_VERDICT_INTERNAL_ERROR)
		return SP_VERDICT_INTERNAL_ERROR;
	/* the interactor's failure after a crash or a limit of the submission is
	 * most likely its consequence */
	return own != SP_VERDICT_ACCEPTED ? own : word;
}
