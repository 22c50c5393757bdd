/* A judge request's answer summed up from its tests' outcomes, each as its
 * "test" event gives it ({"verdict", "cpu_ms"?, "wall_ms"?, "memory_kb"?,
 * ...}): the same whichever worker ran the test. */
#ifndef SANDPOOL_JUDGE_SUMMARY_H
#define SANDPOOL_JUDGE_SUMMARY_H

#include <jansson.h>
#include <stddef.h>

#include "judge_request.h"
#include "judge_verdict.h"

/* The verdict of the outcome TEST. */
enum sp_verdict sp_judge_test_verdict(const json_t *test);

/* The index of the first failing test of TESTS (COUNT, in test order), -1
 * when none failed. */
long sp_judge_first_failure(json_t *const *tests, size_t count);

/* {"verdict": VERDICT, "first_failure": the name of test FIRST or null,
 * "tests", "passed", "failed", "skipped", "counts": {VERDICT: n},
 * "max_cpu_ms", "max_wall_ms", "max_memory_kb"} of JUDGE's TESTS. */
json_t *sp_judge_summary(const struct sp_judge *judge, json_t *const *tests, const char *verdict,
			 long first);

#endif
