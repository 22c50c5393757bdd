#include "judge_summary.h"

#include <stdint.h>

enum sp_verdict sp_judge_test_verdict(const json_t *test)
{
	return sp_verdict_from_string(json_string_value(json_object_get(test, "verdict")));
}

static uint64_t figure_of(const json_t *test, const char *name)
{
	json_int_t n = json_integer_value(json_object_get(test, name));

	return n > 0 ? (uint64_t)n : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

long sp_judge_first_failure(json_t *const *tests, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (sp_verdict_failed(sp_judge_test_verdict(tests[i])))
			return (long)i;
	return -1;
}

json_t *sp_judge_summary(const struct sp_judge *judge, json_t *const *tests, const char *verdict,
			 long first)
{
	size_t counts[SP_VERDICT_COUNT] = {0};
	uint64_t cpu = 0, wall = 0, memory = 0;
	json_t *by_verdict = json_object();

	for (size_t i = 0; i < judge->test_count; i++) {
		counts[sp_judge_test_verdict(tests[i])]++;
		cpu = max_u64(cpu, figure_of(tests[i], "cpu_ms"));
		wall = max_u64(wall, figure_of(tests[i], "wall_ms"));
		memory = max_u64(memory, figure_of(tests[i], "memory_kb"));
	}
	for (int v = 0; v < SP_VERDICT_COUNT; v++) {
		if (counts[v] > 0)
			json_object_set_new(by_verdict, sp_verdict_to_string(v),
					    json_integer((json_int_t)counts[v]));
	}
	return json_pack(
	    "{s:s, s:o, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I}", "verdict", verdict,
	    "first_failure", first >= 0 ? json_string(judge->tests[first].name) : json_null(),
	    "tests", (json_int_t)judge->test_count, "passed",
	    (json_int_t)counts[SP_VERDICT_ACCEPTED], "failed",
	    (json_int_t)(judge->test_count - counts[SP_VERDICT_ACCEPTED] -
			 counts[SP_VERDICT_SKIPPED]),
	    "skipped", (json_int_t)counts[SP_VERDICT_SKIPPED], "counts", by_verdict, "max_cpu_ms",
	    (json_int_t)cpu, "max_wall_ms", (json_int_t)wall, "max_memory_kb", (json_int_t)memory);
}
