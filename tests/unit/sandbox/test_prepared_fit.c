/* Which job may run on a prepared runtime (sp_prepared_runtime_fits): the
 * command it was started with, arguments after it only when it takes them,
 * the same environment, the same limits where they are rlimits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sandbox/prepared_step.h"

static char *const PREPARED_ARGV[] = {"python3", "main.py", NULL};
static char *const ENV[] = {"PATH=/usr/bin", "LANG=C.UTF-8", NULL};
static const struct sp_limits LIMITS = {.cpu_ms = 2000,
					.wall_ms = 5000,
					.memory_kb = 262144,
					.processes = 64,
					.output_kb = 1024,
					.file_kb = 10240,
					.open_files = 256,
					.stack_kb = 8192};

static bool fits(char *const *argv, char *const *envp, const struct sp_limits *limits,
		 bool takes_arguments, bool cgroups)
{
	return sp_prepared_runtime_fits(PREPARED_ARGV, ENV, &LIMITS, takes_arguments, argv, envp,
					limits, cgroups, cgroups);
}

static void test_the_same_run_fits(void **state)
{
	char *const with_args[] = {"python3", "main.py", "a", "", NULL};

	(void)state;
	assert_true(fits(PREPARED_ARGV, ENV, &LIMITS, true, true));
	assert_true(fits(PREPARED_ARGV, ENV, &LIMITS, false, true));
	assert_true(fits(with_args, ENV, &LIMITS, true, true));
	assert_false(fits(with_args, ENV, &LIMITS, false, true));
}

static void test_another_command_or_environment_does_not(void **state)
{
	char *const other[] = {"python3", "other.py", NULL};
	char *const shorter[] = {"python3", NULL};
	char *const other_env[] = {"PATH=/usr/bin", "LANG=C", NULL};
	char *const more_env[] = {"PATH=/usr/bin", "LANG=C.UTF-8", "X=1", NULL};

	(void)state;
	assert_false(fits(other, ENV, &LIMITS, true, true));
	assert_false(fits(shorter, ENV, &LIMITS, true, true));
	assert_false(fits(PREPARED_ARGV, other_env, &LIMITS, true, true));
	assert_false(fits(PREPARED_ARGV, more_env, &LIMITS, true, true));
}

/* rlimits were set before the runtime started: those must be the same;
 * what the cgroup, the cell or the supervisor keeps (wall time, output, the
 * cgroup's memory and processes) may differ. */
static void test_rlimits_must_be_the_same(void **state)
{
	struct sp_limits l;

	(void)state;
	l = LIMITS;
	l.cpu_ms = 1000;
	assert_false(fits(PREPARED_ARGV, ENV, &l, true, true));
	l = LIMITS;
	l.file_kb = 1;
	assert_false(fits(PREPARED_ARGV, ENV, &l, true, true));
	l = LIMITS;
	l.open_files = 16;
	assert_false(fits(PREPARED_ARGV, ENV, &l, true, true));
	l = LIMITS;
	l.stack_kb = 1024;
	assert_false(fits(PREPARED_ARGV, ENV, &l, true, true));
	l = LIMITS;
	l.wall_ms = 100;
	l.output_kb = 1;
	l.memory_kb = 1024;
	l.processes = 2;
	assert_true(fits(PREPARED_ARGV, ENV, &l, true, true));
	assert_false(fits(PREPARED_ARGV, ENV, &l, true, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_same_run_fits),
	    cmocka_unit_test(test_another_command_or_environment_does_not),
	    cmocka_unit_test(test_rlimits_must_be_the_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
