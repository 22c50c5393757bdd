/* A judge request summed up from its tests' outcomes as JSON: what the
 * worker that runs it makes of the outcomes other workers stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/judge_summary.h"

#define COUNT 4

static void test_summary_of_outcomes(void **state)
{
	struct sp_judge_test tests[COUNT] = {
	    {.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}};
	struct sp_judge judge = {.tests = tests, .test_count = COUNT};
	json_t *outcomes[COUNT] = {json_pack("{s:s, s:i, s:i, s:i}", "verdict", "accepted",
					     "cpu_ms", 12, "wall_ms", 30, "memory_kb", 900),
				   json_pack("{s:s, s:i, s:i, s:i}", "verdict", "time_limit",
					     "cpu_ms", 1000, "wall_ms", 1010, "memory_kb", 800),
				   json_pack("{s:s, s:i, s:i, s:i}", "verdict", "wrong_answer",
					     "cpu_ms", 5, "wall_ms", 9, "memory_kb", 4000),
				   json_pack("{s:s, s:s}", "verdict", "skipped", "message", "")};
	json_t *summary;

	(void)state;
	assert_int_equal(sp_judge_first_failure(outcomes, COUNT), 1);
	assert_int_equal(sp_judge_first_failure(outcomes, 1), -1);
	assert_int_equal(sp_judge_test_verdict(outcomes[2]), SP_VERDICT_WRONG_ANSWER);
	summary = sp_judge_summary(&judge, outcomes, "time_limit", 1);
	assert_non_null(summary);
	assert_string_equal(json_string_value(json_object_get(summary, "first_failure")), "b");
	assert_int_equal(json_integer_value(json_object_get(summary, "passed")), 1);
	assert_int_equal(json_integer_value(json_object_get(summary, "failed")), 2);
	assert_int_equal(json_integer_value(json_object_get(summary, "skipped")), 1);
	assert_int_equal(json_integer_value(json_object_get(summary, "max_cpu_ms")), 1000);
	assert_int_equal(json_integer_value(json_object_get(summary, "max_wall_ms")), 1010);
	assert_int_equal(json_integer_value(json_object_get(summary, "max_memory_kb")), 4000);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(summary, "counts"), "skipped")), 1);
	json_decref(summary);
	summary = sp_judge_summary(&judge, outcomes, "accepted", -1);
	assert_true(json_is_null(json_object_get(summary, "first_failure")));
	json_decref(summary);
	for (size_t i = 0; i < COUNT; i++)
		json_decref(outcomes[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary_of_outcomes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
