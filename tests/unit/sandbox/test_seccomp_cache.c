/* The cache of compiled seccomp programs: a hit gives the very program the
 * compiler gives; a changed policy, a damaged or foreign entry is never used. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/seccomp.h"
#include "sandbox/seccomp_cache.h"

struct fixture {
	char dir[64];
	char cache[96];
	char policy[96];
};

static const char policy_a[] = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": "
			       "[{\"names\": [\"read\", \"write\", \"exit_group\"], "
			       "\"action\": \"SCMP_ACT_ALLOW\"}]}\n";
/* As long as policy_a, so that only the text tells them apart. */
static const char policy_b[] = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": "
			       "[{\"names\": [\"read\", \"close\", \"exit_group\"], "
			       "\"action\": \"SCMP_ACT_ALLOW\"}]}\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/sp-cache-test-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->cache, sizeof(fx->cache), "%s/cache", fx->dir);
	snprintf(fx->policy, sizeof(fx->policy), "%s/policy.json", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* The one entry in the cache folder. */
static void only_entry(const struct fixture *fx, char *path, size_t size)
{
	DIR *d = opendir(fx->cache);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, size, "%s/%s", fx->cache, e->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 1);
}

static void assert_same(const struct sp_seccomp_program *a, const struct sp_seccomp_program *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->filter, b->filter, a->len * sizeof(struct sock_filter));
}

static void test_hit_equals_compile(void **state)
{
	struct fixture *fx = *state;
	struct sp_seccomp_program compiled = {0}, first = {0}, second = {0};
	struct sp_error err = {0};
	char entry[512];
	struct stat before, after;

	write_file(fx->policy, policy_a);
	assert_int_equal(sp_seccomp_compile_json(policy_a, &compiled, &err), 0);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &first, &err), 0);
	only_entry(fx, entry, sizeof(entry));
	assert_int_equal(stat(entry, &before), 0);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &second, &err), 0);
	assert_int_equal(stat(entry, &after), 0);
	/* a hit reads the entry and writes nothing */
	assert_int_equal(before.st_ino, after.st_ino);
	assert_same(&compiled, &first);
	assert_same(&compiled, &second);
	sp_seccomp_program_free(&compiled);
	sp_seccomp_program_free(&first);
	sp_seccomp_program_free(&second);
}

static void test_changed_policy_is_compiled_again(void **state)
{
	struct fixture *fx = *state;
	struct sp_seccomp_program a = {0}, b = {0}, want = {0};
	struct sp_error err = {0};

	write_file(fx->policy, policy_a);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &a, &err), 0);
	write_file(fx->policy, policy_b);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &b, &err), 0);
	assert_int_equal(sp_seccomp_compile_json(policy_b, &want, &err), 0);
	assert_same(&want, &b);
	sp_seccomp_program_free(&a);
	sp_seccomp_program_free(&b);
	sp_seccomp_program_free(&want);
}

/* Damage the entry: truncated, or its program bytes changed while its
 * policy text stays right; either way the policy is compiled again. */
/* An entry of policy A found under the name of policy B (as a collision of
 * names would have it) is not used for B. */
static void test_entry_of_another_policy_is_not_used(void **state)
{
	struct fixture *fx = *state;
	struct sp_seccomp_program a = {0}, b = {0}, want = {0};
	struct sp_error err = {0};
	char entry_a[512], entry_b[512], cmd[1200];

	assert_int_equal(strlen(policy_a), strlen(policy_b));
	write_file(fx->policy, policy_a);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &a, &err), 0);
	only_entry(fx, entry_a, sizeof(entry_a));
	snprintf(cmd, sizeof(cmd), "mv '%s' '%s.a'", entry_a, fx->dir);
	assert_int_equal(system(cmd), 0);
	write_file(fx->policy, policy_b);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &b, &err), 0);
	sp_seccomp_program_free(&b);
	only_entry(fx, entry_b, sizeof(entry_b));
	snprintf(cmd, sizeof(cmd), "cp '%s.a' '%s'", fx->dir, entry_b);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &b, &err), 0);
	assert_int_equal(sp_seccomp_compile_json(policy_b, &want, &err), 0);
	assert_same(&want, &b);
	sp_seccomp_program_free(&a);
	sp_seccomp_program_free(&b);
	sp_seccomp_program_free(&want);
}

static void test_damaged_entry_is_not_used(void **state)
{
	struct fixture *fx = *state;
	struct sp_seccomp_program first = {0}, again = {0};
	struct sp_error err = {0};
	char entry[512];
	struct stat st;

	write_file(fx->policy, policy_a);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &first, &err), 0);
	only_entry(fx, entry, sizeof(entry));
	assert_int_equal(stat(entry, &st), 0);
	assert_int_equal(truncate(entry, st.st_size - 3), 0);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &again, &err), 0);
	assert_same(&first, &again);
	sp_seccomp_program_free(&again);
	/* a longer program than the header says */
	{
		FILE *f = fopen(entry, "a");

		fputs("12345678", f);
		fclose(f);
	}
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &again, &err), 0);
	assert_same(&first, &again);
	sp_seccomp_program_free(&first);
	sp_seccomp_program_free(&again);
}

static void test_writable_by_others_is_not_trusted(void **state)
{
	struct fixture *fx = *state;
	struct sp_seccomp_program first = {0}, again = {0};
	struct sp_error err = {0};
	char entry[512];
	struct stat before, after;

	write_file(fx->policy, policy_a);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &first, &err), 0);
	only_entry(fx, entry, sizeof(entry));
	assert_int_equal(chmod(entry, 0666), 0);
	assert_int_equal(stat(entry, &before), 0);
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &again, &err), 0);
	assert_int_equal(stat(entry, &after), 0);
	/* compiled again and replaced by a private entry */
	assert_int_not_equal(before.st_ino, after.st_ino);
	assert_int_equal(after.st_mode & 0777, 0644);
	assert_same(&first, &again);
	sp_seccomp_program_free(&first);
	sp_seccomp_program_free(&again);
}

static void test_no_cache_and_bad_policy(void **state)
{
	struct fixture *fx = *state;
	struct sp_seccomp_program prog = {0};
	struct sp_error err = {0};

	write_file(fx->policy, policy_a);
	assert_int_equal(sp_seccomp_load(fx->policy, NULL, &prog, &err), 0);
	assert_true(prog.len > 0);
	sp_seccomp_program_free(&prog);
	/* an unusable cache folder is passed over */
	assert_int_equal(sp_seccomp_load(fx->policy, "/proc/no-such-cache", &prog, &err), 0);
	sp_seccomp_program_free(&prog);
	write_file(fx->policy, "{\"defaultAction\": 7}");
	assert_int_equal(sp_seccomp_load(fx->policy, fx->cache, &prog, &err), -1);
	assert_non_null(strstr(err.message, "defaultAction"));
	assert_int_equal(sp_seccomp_load("/no/such/policy.json", fx->cache, &prog, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hit_equals_compile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changed_policy_is_compiled_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_of_another_policy_is_not_used, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_entry_is_not_used, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writable_by_others_is_not_trusted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_no_cache_and_bad_policy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
