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
	/* a checker gave some points (testlib's quitp, partially correct), or a
	 * problem's tests were passed with less than their whole score */
	SP_VERDICT_PARTIALLY_ACCEPTED,
	SP_VERDICT_COUNT,
};

const char *sp_verdict_to_string(enum sp_verdict verdict);

/* The verdict called NAME; SP_VERDICT_INTERNAL_ERROR for a name it does
 * not know (or NULL). */
enum sp_verdict sp_verdict_from_string(const char *name);

/* A failure: neither accepted, partially accepted nor skipped. */
bool sp_verdict_failed(enum sp_verdict verdict);

/* The verdict of a run step before its answer is checked: accepted means
 * "ran to a clean exit, check the answer". */
enum sp_verdict sp_verdict_of_run(enum sp_status status);

/* A built-in checker's outcome. */
enum sp_verdict sp_verdict_of_check(enum sp_check_outcome outcome);

/* A testlib checker's or interactor's end (its step result, its stderr
 * ERR, ERR_LEN bytes): exit 0 accepted, 1 wrong answer, 2, 4 (testlib's
 * "dirt") and 8 (its unexpected end of file) a presentation error; 7 (quitp)
 * partially accepted with the points its stderr gives ("points 0.5 ..." or
 * "0.5 ..."); a stderr that begins "partially correct (N)" with exit N or
 * 50 + N (testlib's _pc(N), TESTSYS's base), partially accepted with N
 * points. Anything else (3, a signal, a limit, points that are not a
 * number) is a checker error. *POINTS and *HAS_POINTS say the points. */
enum sp_verdict sp_verdict_of_checker(const struct sp_step_result *checker, double *points,
				      bool *has_points);

/* A Kattis output validator's end: exit 42 accepted, 43 wrong answer;
 * anything else (0 included, a signal, a limit) a checker error. */
enum sp_verdict sp_verdict_of_validator(const struct sp_step_result *validator);

/* An interactive test: a sandbox failure, then the submission's own
 * verdict (a limit, a crash), then WORD, the interactor's (as its
 * convention reads its end). */
enum sp_verdict sp_verdict_of_interaction(const struct sp_step_result *submission,
					  enum sp_verdict word);

#endif
