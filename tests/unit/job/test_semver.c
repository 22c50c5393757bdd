/* Version ranges as npm's semver reads them: what Piston's clients send
 * as "version". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/job/semver.h"

static void yes(const char *version, const char *range)
{
	if (sp_semver_satisfies(version, range) != 1)
		fail_msg("%s should satisfy \"%s\"", version, range);
}

static void no(const char *version, const char *range)
{
	if (sp_semver_satisfies(version, range) != 0)
		fail_msg("%s should not satisfy \"%s\"", version, range);
}

static void test_any_and_partial(void **state)
{
	(void)state;
	yes("3.11.2", "*");
	yes("3.11.2", "x");
	yes("3.11.2", "");
	yes("3.11.2", "3");
	yes("3.11.2", "3.11");
	yes("3.11.2", "3.x");
	yes("3.11.2", "3.11.*");
	yes("3.11.2", "3.11.2");
	yes("3.11.2", "v3.11.2");
	yes("3.11.2", "=3.11.2");
	no("3.11.2", "3.1");
	no("3.11.2", "3.11.3");
	no("3.11.2", "2");
	/* four numbers: the first three count */
	yes("17.0.21.1", "17");
	yes("17.0.21.1", "17.0.21");
	no("17.0.21.1", "17.1");
}

static void test_comparators(void **state)
{
	(void)state;
	yes("3.11.2", ">=3.10");
	yes("3.11.2", ">3.11.1");
	no("3.11.2", ">3.11.2");
	no("3.11.2", ">3.11");
	yes("3.11.2", "<3.12");
	no("3.11.2", "<3.11");
	yes("3.11.2", "<=3.11");
	yes("3.11.2", "<=3.11.2");
	no("3.11.2", "<=3.11.1");
	yes("3.11.2", ">= 3.0.0 < 4");
	no("3.11.2", ">=3.0.0 <3.11.0");
	yes("3.11.2", "1.2.3 - 3.11.2");
	yes("3.11.2", "3 - 4");
	no("3.11.2", "1 - 3.10");
	yes("3.11.2", "2.x || 3.x");
	no("3.11.2", "1 || 2.7");
	no("3.11.2", ">*");
}

static void test_caret_and_tilde(void **state)
{
	(void)state;
	yes("3.11.2", "^3.10.1");
	no("3.11.2", "^4");
	no("4.0.0", "^3.10.1");
	yes("0.2.5", "^0.2.3");
	no("0.3.0", "^0.2.3");
	yes("0.0.3", "^0.0.3");
	no("0.0.4", "^0.0.3");
	yes("0.9.0", "^0");
	no("1.0.0", "^0");
	yes("0.0.9", "^0.0");
	no("0.1.0", "^0.0");
	yes("3.11.2", "~3.11.0");
	no("3.12.0", "~3.11.0");
	yes("3.99.0", "~3");
	no("4.0.0", "~3");
}

static void test_what_is_not_a_range(void **state)
{
	(void)state;
	assert_int_equal(sp_semver_satisfies("3.11.2", "latest"), -1);
	assert_int_equal(sp_semver_satisfies("3.11.2", ">=a.b"), -1);
	assert_int_equal(sp_semver_satisfies("3.11.2", "3.11.2 -"), -1);
	assert_int_equal(sp_semver_satisfies("three", "*"), -1);
	assert_true(sp_semver_compare("3.11.2", "3.9.0") > 0);
	assert_true(sp_semver_compare("1.63.0", "1.63.0") == 0);
	assert_true(sp_semver_compare("12.2.0", "18.20.4") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_any_and_partial),
	    cmocka_unit_test(test_comparators),
	    cmocka_unit_test(test_caret_and_tilde),
	    cmocka_unit_test(test_what_is_not_a_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
