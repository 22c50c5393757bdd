/* How a test's steps become its verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/judge_verdict.h"

static struct sp_step_result step(enum sp_status status, int exit_code, int signal)
{
	struct sp_step_result r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.exit_code = exit_code;
	r.signal = signal;
	return r;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sp_verdict_to_string(SP_VERDICT_ACCEPTED), "accepted");
	assert_string_equal(sp_verdict_to_string(SP_VERDICT_PRESENTATION_ERROR),
			    "presentation_error");
	assert_string_equal(sp_verdict_to_string(SP_VERDICT_CHECKER_ERROR), "checker_error");
	assert_string_equal(sp_verdict_to_string(SP_VERDICT_COUNT), "internal_error");
	for (int v = 0; v < SP_VERDICT_COUNT; v++)
		assert_non_null(sp_verdict_to_string(v));
	assert_false(sp_verdict_failed(SP_VERDICT_ACCEPTED));
	assert_false(sp_verdict_failed(SP_VERDICT_SKIPPED));
	assert_true(sp_verdict_failed(SP_VERDICT_WRONG_ANSWER));
	assert_true(sp_verdict_failed(SP_VERDICT_INTERNAL_ERROR));
	/* read back from a test's JSON, as a judge over several workers does */
	for (int v = 0; v < SP_VERDICT_COUNT; v++)
		assert_int_equal(sp_verdict_from_string(sp_verdict_to_string(v)), v);
	assert_int_equal(sp_verdict_from_string("accepted "), SP_VERDICT_INTERNAL_ERROR);
	assert_int_equal(sp_verdict_from_string(NULL), SP_VERDICT_INTERNAL_ERROR);
}

static void test_run_status(void **state)
{
	(void)state;
	assert_int_equal(sp_verdict_of_run(SP_STATUS_OK), SP_VERDICT_ACCEPTED);
	assert_int_equal(sp_verdict_of_run(SP_STATUS_RUNTIME_ERROR), SP_VERDICT_RUNTIME_ERROR);
	assert_int_equal(sp_verdict_of_run(SP_STATUS_TIME_LIMIT), SP_VERDICT_TIME_LIMIT);
	assert_int_equal(sp_verdict_of_run(SP_STATUS_MEMORY_LIMIT), SP_VERDICT_MEMORY_LIMIT);
	assert_int_equal(sp_verdict_of_run(SP_STATUS_OUTPUT_LIMIT), SP_VERDICT_OUTPUT_LIMIT);
	assert_int_equal(sp_verdict_of_run(SP_STATUS_SYSCALL_BLOCKED), SP_VERDICT_SYSCALL_BLOCKED);
	assert_int_equal(sp_verdict_of_run(SP_STATUS_INTERNAL_ERROR), SP_VERDICT_INTERNAL_ERROR);
	assert_int_equal(sp_verdict_of_run(SP_STATUS_CANCELLED), SP_VERDICT_SKIPPED);
}

/* A checker's verdict, its points dropped. */
static enum sp_verdict checker(const struct sp_step_result *r)
{
	double points;
	bool has;

	return sp_verdict_of_checker(r, &points, &has);
}

static void test_checker_exit(void **state)
{
	struct sp_step_result r;

	(void)state;
	r = step(SP_STATUS_OK, 0, 0);
	assert_int_equal(checker(&r), SP_VERDICT_ACCEPTED);
	r = step(SP_STATUS_RUNTIME_ERROR, 1, 0);
	assert_int_equal(checker(&r), SP_VERDICT_WRONG_ANSWER);
	r = step(SP_STATUS_RUNTIME_ERROR, 2, 0);
	assert_int_equal(checker(&r), SP_VERDICT_PRESENTATION_ERROR);
	/* testlib's "dirt" and unexpected end of file: presentation errors */
	r = step(SP_STATUS_RUNTIME_ERROR, 4, 0);
	assert_int_equal(checker(&r), SP_VERDICT_PRESENTATION_ERROR);
	r = step(SP_STATUS_RUNTIME_ERROR, 8, 0);
	assert_int_equal(checker(&r), SP_VERDICT_PRESENTATION_ERROR);
	r = step(SP_STATUS_RUNTIME_ERROR, 3, 0);
	assert_int_equal(checker(&r), SP_VERDICT_CHECKER_ERROR);
	r = step(SP_STATUS_RUNTIME_ERROR, -1, 11);
	assert_int_equal(checker(&r), SP_VERDICT_CHECKER_ERROR);
	/* a checker over its own limits never passes a program */
	r = step(SP_STATUS_TIME_LIMIT, -1, 9);
	assert_int_equal(checker(&r), SP_VERDICT_CHECKER_ERROR);
	r = step(SP_STATUS_MEMORY_LIMIT, 0, 0);
	assert_int_equal(checker(&r), SP_VERDICT_CHECKER_ERROR);
	r = step(SP_STATUS_INTERNAL_ERROR, -1, 0);
	assert_int_equal(checker(&r), SP_VERDICT_INTERNAL_ERROR);
}

/* R with stderr TEXT (borrowed). */
static struct sp_step_result with_err(struct sp_step_result r, const char *text)
{
	r.err.data = (char *)text;
	r.err.length = strlen(text);
	return r;
}

static void test_checker_points(void **state)
{
	struct sp_step_result r;
	double points = -1;
	bool has = false;

	(void)state;
	/* quitp: exit 7, "points X message" (or "X message") on stderr */
	r = with_err(step(SP_STATUS_RUNTIME_ERROR, 7, 0), "points 0.25 close enough");
	assert_int_equal(sp_verdict_of_checker(&r, &points, &has), SP_VERDICT_PARTIALLY_ACCEPTED);
	assert_true(has);
	assert_true(points == 0.25);
	r = with_err(step(SP_STATUS_RUNTIME_ERROR, 7, 0), "12");
	assert_int_equal(sp_verdict_of_checker(&r, &points, &has), SP_VERDICT_PARTIALLY_ACCEPTED);
	assert_true(points == 12);
	/* exit 7 without a number: the checker's failure */
	r = with_err(step(SP_STATUS_RUNTIME_ERROR, 7, 0), "points many");
	assert_int_equal(sp_verdict_of_checker(&r, &points, &has), SP_VERDICT_CHECKER_ERROR);
	assert_false(has);
	r = with_err(step(SP_STATUS_RUNTIME_ERROR, 7, 0), "points inf");
	assert_int_equal(sp_verdict_of_checker(&r, &points, &has), SP_VERDICT_CHECKER_ERROR);
	/* _pc(N): exit N (testlib's base 0) or 50 + N (TESTSYS), named on stderr */
	r = with_err(step(SP_STATUS_RUNTIME_ERROR, 90, 0), "partially correct (40) half");
	assert_int_equal(sp_verdict_of_checker(&r, &points, &has), SP_VERDICT_PARTIALLY_ACCEPTED);
	assert_true(points == 40);
	r = with_err(step(SP_STATUS_RUNTIME_ERROR, 1, 0), "partially correct (1) a little");
	assert_int_equal(sp_verdict_of_checker(&r, &points, &has), SP_VERDICT_PARTIALLY_ACCEPTED);
	assert_true(points == 1);
	/* the words alone, with another exit, are not enough */
	r = with_err(step(SP_STATUS_RUNTIME_ERROR, 1, 0), "partially correct (40) no");
	assert_int_equal(sp_verdict_of_checker(&r, &points, &has), SP_VERDICT_WRONG_ANSWER);
	assert_false(has);
}

static void test_validator_exit(void **state)
{
	struct sp_step_result r;

	(void)state;
	r = step(SP_STATUS_RUNTIME_ERROR, 42, 0);
	assert_int_equal(sp_verdict_of_validator(&r), SP_VERDICT_ACCEPTED);
	r = step(SP_STATUS_RUNTIME_ERROR, 43, 0);
	assert_int_equal(sp_verdict_of_validator(&r), SP_VERDICT_WRONG_ANSWER);
	/* any other exit, 0 among them, is the validator's failure */
	r = step(SP_STATUS_OK, 0, 0);
	assert_int_equal(sp_verdict_of_validator(&r), SP_VERDICT_CHECKER_ERROR);
	r = step(SP_STATUS_RUNTIME_ERROR, 1, 0);
	assert_int_equal(sp_verdict_of_validator(&r), SP_VERDICT_CHECKER_ERROR);
	r = step(SP_STATUS_RUNTIME_ERROR, -1, 11);
	assert_int_equal(sp_verdict_of_validator(&r), SP_VERDICT_CHECKER_ERROR);
	r = step(SP_STATUS_TIME_LIMIT, -1, 9);
	assert_int_equal(sp_verdict_of_validator(&r), SP_VERDICT_CHECKER_ERROR);
	r = step(SP_STATUS_INTERNAL_ERROR, -1, 0);
	assert_int_equal(sp_verdict_of_validator(&r), SP_VERDICT_INTERNAL_ERROR);
}

static void test_interaction(void **state)
{
	struct sp_step_result ok = step(SP_STATUS_OK, 0, 0);
	struct sp_step_result slow = step(SP_STATUS_TIME_LIMIT, -1, 9);
	struct sp_step_result crash = step(SP_STATUS_RUNTIME_ERROR, -1, 11);
	struct sp_step_result broken = step(SP_STATUS_INTERNAL_ERROR, -1, 0);

	(void)state;
	assert_int_equal(sp_verdict_of_interaction(&ok, SP_VERDICT_ACCEPTED), SP_VERDICT_ACCEPTED);
	assert_int_equal(sp_verdict_of_interaction(&ok, SP_VERDICT_WRONG_ANSWER),
			 SP_VERDICT_WRONG_ANSWER);
	assert_int_equal(sp_verdict_of_interaction(&ok, SP_VERDICT_CHECKER_ERROR),
			 SP_VERDICT_CHECKER_ERROR);
	/* a stalled program: both wait until their wall limit, the program's counts */
	assert_int_equal(sp_verdict_of_interaction(&slow, SP_VERDICT_CHECKER_ERROR),
			 SP_VERDICT_TIME_LIMIT);
	assert_int_equal(sp_verdict_of_interaction(&crash, SP_VERDICT_WRONG_ANSWER),
			 SP_VERDICT_RUNTIME_ERROR);
	assert_int_equal(sp_verdict_of_interaction(&ok, SP_VERDICT_INTERNAL_ERROR),
			 SP_VERDICT_INTERNAL_ERROR);
	assert_int_equal(sp_verdict_of_interaction(&broken, SP_VERDICT_ACCEPTED),
			 SP_VERDICT_INTERNAL_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),	   cmocka_unit_test(test_run_status),
	    cmocka_unit_test(test_checker_exit),   cmocka_unit_test(test_checker_points),
	    cmocka_unit_test(test_validator_exit), cmocka_unit_test(test_interaction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
