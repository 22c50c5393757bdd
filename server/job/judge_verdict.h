/* The verdict of one test of a judge request, from what its steps did. */
#ifndef SANDPOOL_JUDGE_VERDICT_H
#define SANDPOOL_JUDGE_VERDICT_H

#include <stdbool.h>

#include "checker.h"
#include "sandbox/run.h"

enum sp_verdict {
	SP_VERDICT_ACCEPTED,
	SP_VERDICT_WRONG_ANSWER,
	SP_VERDICT_PRESENTATION_ERROR,
	SP_VERDICT_TIME_LIMIT,
	SP_VERDICT_MEMORY_LIMIT,
	SP_VERDICT_OUTPUT_LIMIT,
	SP_VERDICT_RUNTIME_ERROR,
	SP_VERDICT_SYSCALL_BLOCKED,
	SP_VERDICT_CHECKER_ERROR,  /* the checker or interactor failed, not the program */
	SP_VERDICT_SKIPPED,	   /* not run: stop_on_first_failure, a failed compile, cancel */
	SP_VERDICT_INTERNAL_ERROR, /* the sandbox failed */
	SP_VERDICT_COUNT,
};

const char *sp_verdict_to_string(enum sp_verdict verdict);

/* The verdict called NAME; SP_VERDICT_INTERNAL_ERROR for a name it does
 * not know (or NULL). */
enum sp_verdict sp_verdict_from_string(const char *name);

/* A failure: neither accepted nor skipped. */
bool sp_verdict_failed(enum sp_verdict verdict);

/* The verdict of a run step before its answer is checked: accepted means
 * "ran to a clean exit, check the answer". */
enum sp_verdict sp_verdict_of_run(enum sp_status status);

/* A built-in checker's outcome. */
enum sp_verdict sp_verdict_of_check(enum sp_check_outcome outcome);

/* A testlib checker's or interactor's end (its step result): exit 0
 * accepted, 1 wrong answer, 2 presentation error; anything else (3, a
 * signal, a limit) is a checker error. */
enum sp_verdict sp_verdict_of_checker(const struct sp_step_result *checker);

/* An interactive test: a sandbox failure, then the submission's own
 * verdict (a limit, a crash), then the interactor's word. */
enum sp_verdict sp_verdict_of_interaction(const struct sp_step_result *submission,
					  const struct sp_step_result *interactor);

#endif
