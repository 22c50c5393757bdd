/* A judge request that names a stored problem ("problem": ID), made whole:
 * the problem's tests, limits and checking laid onto it. */
#ifndef SANDPOOL_JUDGE_PROBLEM_H
#define SANDPOOL_JUDGE_PROBLEM_H

#include "config.h"
#include "language.h"
#include "problem_store.h"
#include "request.h"
#include "request_failure.h"

/* Attach the problem REQ's judge names (when it names one; else nothing)
 * from STORE, for a server of LANGUAGES and CONFIG:
 *   - its tests become the request's, their bytes read from the problem's
 *     data file (not copied), each with its group's validator flags;
 *   - each test's limits are the request's language's, then the problem's
 *     (its time limit, times the language's judge_time_multipliers factor,
 *     is the cpu time; the wall time twice that and a second more; its
 *     memory and output), then what the request itself gave; a limit over
 *     the server's max_limits is lowered to it;
 *   - its checking: the default validator, a built-in checker, or its
 *     validator or checker and interactor, built when it was stored, with
 *     the calling convention of its format.
 * Returns 0, or -1 with FAIL: unknown_problem (404) when there is no such
 * problem, language_unavailable when its programs' language is not served
 * here, bad_request when it has more tests than judge_max_tests allows. */
int sp_judge_attach_problem(struct sp_request *req, const struct sp_problem_store *store,
			    const struct sp_language_set *languages, const struct sp_config *config,
			    struct sp_request_failure *fail);

#endif
