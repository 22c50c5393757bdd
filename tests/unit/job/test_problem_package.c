/* A problem package (a list of files in memory) read into a problem
 * (problem_package.h): the ICPC/Kattis format, legacy and 2023-07, and the
 * plain one; the data file; the package's id; and a problem written as JSON
 * and read back (problem.h). The expected results follow the legacy
 * specification ("Test data groups", "Problem metadata"), the 2025-09 one
 * (2023-07's, completed: "Test data groups", "Scoring problems"),
 * problemtools (verifyproblem.py: TestCaseGroup) and problem_package.h's
 * own rules, as each case says. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/job/language.h"
#include "server/job/problem.h"
#include "server/job/problem_grade.h"
#include "server/job/problem_package.h"

/* The unit tests run from the top of the tree (tools/run-tests unit). */
#ifndef SP_SOURCE_DIR
#define SP_SOURCE_DIR "."
#endif

/* ---- packages in memory ----------------------------------------------------- */

/* A file of a package: its name and its text. */
struct entry {
	const char *name;
	const char *text;
};

/* A package read: the files (freed last: the package borrows from them),
 * the problem, the error, the data file. */
struct pkg {
	struct sp_archive_files files;
	struct sp_package package;
	struct sp_error err;
	int fd;
	int rc;
};

/* LIST (up to a NULL name), each name under TOP ("" or "folder/"). */
static void files_of(struct sp_archive_files *out, const struct entry *list, const char *top)
{
	size_t n = 0;

	while (list[n].name != NULL)
		n++;
	out->files = calloc(n + 1, sizeof(*out->files));
	assert_non_null(out->files);
	out->count = n;
	for (size_t i = 0; i < n; i++) {
		struct sp_archive_file *f = &out->files[i];
		size_t len = strlen(list[i].text);

		assert_true(asprintf(&f->name, "%s%s", top, list[i].name) > 0);
		f->data = malloc(len + 1);
		assert_non_null(f->data);
		memcpy(f->data, list[i].text, len + 1);
		f->length = len;
		f->executable = false;
	}
}

static const struct sp_language_set *languages(void **state)
{
	return *state;
}

/* Read FILES into K, its data file a new memfd. */
static int read_files(void **state, struct pkg *k, size_t max_tests)
{
	k->fd = memfd_create("test-data", MFD_CLOEXEC);
	assert_true(k->fd >= 0);
	memset(&k->err, 0, sizeof(k->err));
	k->rc =
	    sp_package_read(&k->files, languages(state), max_tests, k->fd, &k->package, &k->err);
	if (k->rc < 0) {
		assert_int_not_equal(k->err.errnum, 0);
		assert_true(k->err.message[0] != '\0');
	}
	return k->rc;
}

static int read_pkg(void **state, struct pkg *k, const struct entry *list, const char *top,
		    size_t max_tests)
{
	memset(k, 0, sizeof(*k));
	files_of(&k->files, list, top);
	return read_files(state, k, max_tests);
}

static void pkg_free(struct pkg *k)
{
	sp_package_free(&k->package);
	sp_archive_files_free(&k->files);
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

/* A package that must be read. */
static const struct sp_problem *must_read(void **state, struct pkg *k, const struct entry *list,
					  const char *top)
{
	if (read_pkg(state, k, list, top, 1000) < 0)
		fail_msg("refused: %s", k->err.message);
	return &k->package.problem;
}

/* A package that must be refused (EINVAL) with a message holding WHAT. */
static void must_refuse(void **state, const struct entry *list, size_t max_tests, const char *what)
{
	struct pkg k;
	struct sp_problem empty;

	assert_int_equal(read_pkg(state, &k, list, "", max_tests), -1);
	assert_int_equal(k.err.errnum, EINVAL);
	if (strstr(k.err.message, what) == NULL)
		fail_msg("message \"%s\" does not say \"%s\"", k.err.message, what);
	memset(&empty, 0, sizeof(empty));
	assert_memory_equal(&k.package.problem, &empty, sizeof(empty));
	pkg_free(&k);
}

/* ---- looking at a problem --------------------------------------------------- */

static size_t find_group(const struct sp_problem *p, const char *name)
{
	for (size_t i = 0; i < p->group_count; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return i;
	fail_msg("no group %s", name);
	return 0;
}

/* The groups' names, in order, space-separated. */
static void assert_groups(const struct sp_problem *p, const char *want)
{
	char got[1024] = "";

	for (size_t i = 0; i < p->group_count; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i > 0 ? " " : "",
			 p->groups[i].name);
	assert_string_equal(got, want);
}

/* The tests' names, in order, space-separated. */
static void assert_tests(const struct sp_problem *p, const char *want)
{
	char got[1024] = "";

	for (size_t i = 0; i < p->test_count; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i > 0 ? " " : "",
			 p->tests[i].name);
	assert_string_equal(got, want);
}

/* Group NAME's items: "t:NAME" for a test, "g:NAME" for a group. */
static void assert_items(const struct sp_problem *p, const char *name, const char *want)
{
	const struct sp_problem_group *g = &p->groups[find_group(p, name)];
	char got[1024] = "";

	for (size_t i = 0; i < g->item_count; i++) {
		const struct sp_problem_item *it = &g->items[i];

		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s:%s", i > 0 ? " " : "",
			 it->is_group ? "g" : "t",
			 it->is_group ? p->groups[it->index].name : p->tests[it->index].name);
	}
	assert_string_equal(got, want);
}

/* Group NAME's validator flags, space-separated. */
static void assert_flags(const struct sp_problem *p, const char *name, const char *want)
{
	const struct sp_problem_group *g = &p->groups[find_group(p, name)];
	char got[1024] = "";

	for (size_t i = 0; i < g->flag_count; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i > 0 ? " " : "",
			 g->flags[i]);
	assert_string_equal(got, want);
}

#define assert_double(got, want)                                                                   \
	do {                                                                                       \
		double got_ = (got), want_ = (want);                                               \
		if (!(got_ == want_ || fabs(got_ - want_) <= 1e-9)) {                              \
			print_error("%.17g, want %.17g\n", got_, want_);                           \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

/* LEN bytes of the data file at OFFSET. */
static void assert_data(int fd, uint64_t offset, uint64_t len, const char *want)
{
	char buf[4096];

	assert_int_equal(len, strlen(want));
	assert_true(len < sizeof(buf));
	assert_int_equal(pread(fd, buf, len, (off_t)offset), (ssize_t)len);
	assert_memory_equal(buf, want, len);
}

/* Test NAME: in group GROUP, its input and answer in the data file. */
static void assert_test(const struct pkg *k, const char *name, const char *grp, const char *in,
			const char *ans)
{
	const struct sp_problem *p = &k->package.problem;

	for (size_t i = 0; i < p->test_count; i++) {
		const struct sp_problem_test *t = &p->tests[i];

		if (strcmp(t->name, name) != 0)
			continue;
		assert_string_equal(p->groups[t->group].name, grp);
		assert_data(k->fd, t->input_offset, t->input_length, in);
		assert_data(k->fd, t->answer_offset, t->answer_length, ans);
		return;
	}
	fail_msg("no test %s", name);
}

/* ---- ICPC/Kattis, legacy ------------------------------------------------------ */

static const struct entry minimal[] = {
    {"problem.yaml", "name: Hello\n"},
    {"data/secret/1.in", "1 2\n"},
    {"data/secret/1.ans", "3\n"},
    {NULL, NULL},
};

/* The least package: problem.yaml and one secret test. The format's
 * defaults (testdata.yaml's table: on_reject break, accept_score 1,
 * reject_score 0, range -inf +inf; the default grader's worst_error and
 * sum), the default output validator, data/ the root group and data/secret
 * its one group, the test named from data/ without its extension. */
static void test_kattis_minimal(void **state)
{
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, minimal, "");
	char id[SP_PROBLEM_ID_SIZE];

	assert_int_equal(p->format, SP_PROBLEM_KATTIS);
	assert_string_equal(p->format_version, "legacy");
	assert_string_equal(p->name, "Hello");
	assert_false(p->scoring);
	assert_int_equal(p->checking, SP_PROBLEM_DEFAULT_VALIDATOR);
	assert_int_equal(p->interaction, SP_PROBLEM_NOT_INTERACTIVE);
	assert_null(p->validator.language);
	assert_null(p->interactor.language);
	assert_int_equal(p->time_ms, 0);
	assert_int_equal(p->memory_kb, 0);
	assert_int_equal(p->output_kb, 0);
	assert_groups(p, "data data/secret");
	assert_items(p, "data", "g:data/secret");
	assert_items(p, "data/secret", "t:secret/1");
	assert_int_equal(p->groups[0].parent, -1);
	assert_int_equal(p->groups[1].parent, 0);
	for (size_t g = 0; g < 2; g++) {
		const struct sp_problem_group *grp = &p->groups[g];

		assert_true(grp->on_reject_break);
		assert_int_equal(grp->verdict_mode, SP_GRADE_WORST_ERROR);
		assert_int_equal(grp->score_mode, SP_GRADE_SUM);
		assert_false(grp->ignore_sample);
		assert_false(grp->accept_if_any_accepted);
		assert_double(grp->accept_score, 1);
		assert_double(grp->reject_score, 0);
		assert_true(isinf(grp->range_min) && grp->range_min < 0);
		assert_true(isinf(grp->range_max) && grp->range_max > 0);
		assert_int_equal(grp->flag_count, 0);
	}
	assert_tests(p, "secret/1");
	assert_int_equal(p->tests[0].group, 1);
	assert_test(&k, "secret/1", "data/secret", "1 2\n", "3\n");
	assert_int_equal(p->data_bytes, 6);
	assert_int_equal(p->package_files, 3);
	assert_int_equal(p->package_bytes, strlen("name: Hello\n") + 4 + 2);
	assert_true(sp_problem_id_valid(p->id));
	sp_package_id(&k.files, id);
	assert_string_equal(p->id, id);
	pkg_free(&k);
}

/* "The package may sit in one top folder of the archive": the same problem,
 * the same names and the same id. */
static void test_top_folder(void **state)
{
	struct pkg a, b;
	const struct sp_problem *pa = must_read(state, &a, minimal, "");
	const struct sp_problem *pb = must_read(state, &b, minimal, "hello/");

	assert_string_equal(pa->id, pb->id);
	assert_groups(pb, "data data/secret");
	assert_tests(pb, "secret/1");
	assert_test(&b, "secret/1", "data/secret", "1 2\n", "3\n");
	assert_string_equal(pb->name, "Hello");
	pkg_free(&a);
	pkg_free(&b);
}

/* "ICPC/Kattis (a problem.yaml, or a data/ folder, at the package's top)":
 * a package of data/ alone (no problem.yaml) is not one in a top folder
 * "data/" to be stripped and read as plain: it is Kattis, as the same files
 * in a top folder ("p/data/...") are, with the same id. */
static void test_data_folder_alone(void **state)
{
	static const struct entry list[] = {
	    {"data/testdata.yaml", "on_reject: continue\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	struct pkg a, b;
	const struct sp_problem *pa = must_read(state, &a, list, "p/");
	const struct sp_problem *pb;

	assert_int_equal(pa->format, SP_PROBLEM_KATTIS);
	assert_groups(pa, "data data/secret");
	assert_false(pa->groups[0].on_reject_break);
	pb = must_read(state, &b, list, "");
	assert_int_equal(pb->format, SP_PROBLEM_KATTIS);
	assert_string_equal(pb->id, pa->id);
	assert_groups(pb, "data data/secret");
	pkg_free(&a);
	pkg_free(&b);
}

/* "ICPC/Kattis (a problem.yaml, or a data/ folder, at the package's top)":
 * without problem.yaml, the legacy format's defaults. */
static void test_kattis_without_problem_yaml(void **state)
{
	static const struct entry list[] = {
	    {".timelimit", "1\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	assert_int_equal(p->format, SP_PROBLEM_KATTIS);
	assert_string_equal(p->format_version, "legacy");
	assert_int_equal(p->checking, SP_PROBLEM_DEFAULT_VALIDATOR);
	assert_int_equal(p->time_ms, 1000);
	assert_groups(p, "data data/secret");
	pkg_free(&k);
}

/* The top folder is the one "every file is in"; the id does not depend on
 * how the files were packed. An archive whose first file is
 * FOLDER/problem.yaml and that has a file outside FOLDER has no top
 * folder: no name is cut (a name shorter than the folder's would have been
 * read past its end), and the same files in another order are the same
 * package, with the same id. */
static void test_top_folder_with_a_file_outside(void **state)
{
	static const struct entry first[] = {
	    {"hello/problem.yaml", "name: Hello\n"},
	    {"hello/data/secret/1.in", "1\n"},
	    {"hello/data/secret/1.ans", "1\n"},
	    {"notes.txt", "x\n"},
	    {NULL, NULL},
	};
	static const struct entry last[] = {
	    {"notes.txt", "x\n"},
	    {"hello/data/secret/1.in", "1\n"},
	    {"hello/data/secret/1.ans", "1\n"},
	    {"hello/problem.yaml", "name: Hello\n"},
	    {NULL, NULL},
	};
	struct sp_archive_files a = {0}, b = {0};
	char ida[SP_PROBLEM_ID_SIZE], idb[SP_PROBLEM_ID_SIZE];

	(void)state;
	files_of(&a, first, "");
	files_of(&b, last, "");
	sp_package_id(&a, ida);
	sp_package_id(&b, idb);
	assert_string_equal(ida, idb); /* fails */
	sp_archive_files_free(&a);
	sp_archive_files_free(&b);
}

/* "Test cases and groups will be used in lexicographical order": problemtools
 * takes sorted(os.listdir()), the file names, and so does the reader
 * (problem_package.h: "in lexicographic order of their file names"): "1",
 * "10", the folder "15", "2"; a folder "a-b" before the test "a" ('-' <
 * '.'), a folder "b" before the test "b-c" (a prefix first); sample before
 * secret. Tests are judged in the tree's order. */
static void test_kattis_order(void **state)
{
	static const struct entry list[] = {
	    {"problem.yaml", ""},
	    {"data/secret/2.in", "i2\n"},
	    {"data/secret/2.ans", "a2\n"},
	    {"data/secret/10.in", "i10\n"},
	    {"data/secret/10.ans", "a10\n"},
	    {"data/secret/1.in", "i1\n"},
	    {"data/secret/1.ans", "a1\n"},
	    {"data/secret/15/a.in", "i15a\n"},
	    {"data/secret/15/a.ans", "a15a\n"},
	    {"data/secret/15/a-b/z.in", "iz\n"},
	    {"data/secret/15/a-b/z.ans", "az\n"},
	    {"data/secret/15/b-c.in", "ibc\n"},
	    {"data/secret/15/b-c.ans", "abc\n"},
	    {"data/secret/15/b/y.in", "iy\n"},
	    {"data/secret/15/b/y.ans", "ay\n"},
	    {"data/sample/b.in", "ib\n"},
	    {"data/sample/b.ans", "ab\n"},
	    {"data/sample/a.in", "ia\n"},
	    {"data/sample/a.ans", "aa\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	assert_string_equal(p->format_version, "legacy");
	assert_null(p->name);
	assert_groups(p, "data data/sample data/secret data/secret/15 data/secret/15/a-b "
			 "data/secret/15/b");
	assert_items(p, "data", "g:data/sample g:data/secret");
	assert_items(p, "data/sample", "t:sample/a t:sample/b");
	assert_items(p, "data/secret", "t:secret/1 t:secret/10 g:data/secret/15 t:secret/2");
	assert_items(p, "data/secret/15",
		     "g:data/secret/15/a-b t:secret/15/a g:data/secret/15/b t:secret/15/b-c");
	assert_tests(p, "sample/a sample/b secret/1 secret/10 secret/15/a-b/z secret/15/a "
			"secret/15/b/y secret/15/b-c secret/2");
	assert_test(&k, "secret/10", "data/secret", "i10\n", "a10\n");
	assert_test(&k, "secret/15/a-b/z", "data/secret/15/a-b", "iz\n", "az\n");
	assert_int_equal(p->groups[find_group(p, "data/secret/15/a-b")].parent,
			 (long)find_group(p, "data/secret/15"));
	pkg_free(&k);
}

/* testdata.yaml: "If a property is not defined for a given group, its value
 * is taken from the nearest ancestor group whose testdata.yaml defines that
 * property": on_reject, accept_score, reject_score, range,
 * output_validator_flags and grader_flags each on its own. ignore_sample is
 * the root's only ("Must only be used on the root level"). */
static void test_testdata_inheritance(void **state)
{
	static const struct entry list[] = {
	    {"problem.yaml", "type: scoring\n"},
	    {"data/testdata.yaml",
	     "on_reject: continue\naccept_score: 5\nreject_score: 1\n"
	     "range: 0 100\noutput_validator_flags: case_sensitive\n"
	     "grader_flags: first_error max ignore_sample accept_if_any_accepted\n"},
	    {"data/sample/1.in", "s\n"},
	    {"data/sample/1.ans", "s\n"},
	    {"data/secret/testdata.yaml", "accept_score: 7\n"},
	    {"data/secret/g1/testdata.yaml", "on_reject: break\ngrader_flags: avg\n"
					     "output_validator_flags: float_tolerance 1e-6\n"},
	    {"data/secret/g1/1.in", "1\n"},
	    {"data/secret/g1/1.ans", "1\n"},
	    {"data/secret/g1/deep/1.in", "1\n"},
	    {"data/secret/g1/deep/1.ans", "1\n"},
	    {"data/secret/g2/1.in", "2\n"},
	    {"data/secret/g2/1.ans", "2\n"},
	    {NULL, NULL},
	};
	static const struct {
		const char *name;
		bool brk;
		double accept;
		enum sp_grade_verdict verdict;
		enum sp_grade_score score;
		bool ignore_sample, any;
		const char *flags;
	} want[] = {
	    {"data", false, 5, SP_GRADE_FIRST_ERROR, SP_GRADE_MAX, true, true, "case_sensitive"},
	    {"data/sample", false, 5, SP_GRADE_FIRST_ERROR, SP_GRADE_MAX, false, true,
	     "case_sensitive"},
	    {"data/secret", false, 7, SP_GRADE_FIRST_ERROR, SP_GRADE_MAX, false, true,
	     "case_sensitive"},
	    {"data/secret/g1", true, 7, SP_GRADE_WORST_ERROR, SP_GRADE_AVG, false, false,
	     "float_tolerance 1e-6"},
	    {"data/secret/g1/deep", true, 7, SP_GRADE_WORST_ERROR, SP_GRADE_AVG, false, false,
	     "float_tolerance 1e-6"},
	    {"data/secret/g2", false, 7, SP_GRADE_FIRST_ERROR, SP_GRADE_MAX, false, true,
	     "case_sensitive"},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	assert_true(p->scoring);
	assert_int_equal(p->group_count, 6);
	for (size_t i = 0; i < 6; i++) {
		const struct sp_problem_group *g = &p->groups[find_group(p, want[i].name)];

		assert_int_equal(g->on_reject_break, want[i].brk);
		assert_double(g->accept_score, want[i].accept);
		assert_double(g->reject_score, 1);
		assert_double(g->range_min, 0);
		assert_double(g->range_max, 100);
		assert_int_equal(g->verdict_mode, want[i].verdict);
		assert_int_equal(g->score_mode, want[i].score);
		assert_int_equal(g->ignore_sample, want[i].ignore_sample);
		assert_int_equal(g->accept_if_any_accepted, want[i].any);
		assert_flags(p, want[i].name, want[i].flags);
		/* the default validator's flags, read */
		assert_int_equal(g->default_flags.case_sensitive,
				 strcmp(want[i].flags, "case_sensitive") == 0);
		assert_int_equal(g->default_flags.has_float_abs, want[i].brk);
		assert_int_equal(g->default_flags.has_float_rel, want[i].brk);
		if (want[i].brk) {
			assert_double(g->default_flags.float_abs, 1e-6);
			assert_double(g->default_flags.float_rel, 1e-6);
		}
	}
	assert_items(p, "data/secret/g1", "t:secret/g1/1 g:data/secret/g1/deep");
	pkg_free(&k);
}

/* validator_flags (problem.yaml) are "passed as command-line arguments to
 * each of the output validators", a group's output_validator_flags after
 * them; with the default validator a later flag replaces an earlier one,
 * and a word it does not take is refused; a custom validator's flags are
 * its own. */
static void test_validator_flags(void **state)
{
	static const struct entry list[] = {
	    {"problem.yaml", "validator_flags: float_tolerance 1e-3\n"},
	    {"data/secret/testdata.yaml",
	     "output_validator_flags: case_sensitive   float_absolute_tolerance 0.5\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry bad[] = {
	    {"problem.yaml", "validator_flags: case_sensitive bogus_flag\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry custom[] = {
	    {"problem.yaml", "validation: custom\nvalidator_flags: bogus_flag --x\n"},
	    {"output_validators/check/check.py", "print()\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");
	const struct sp_problem_group *secret = &p->groups[find_group(p, "data/secret")];

	assert_flags(p, "data", "float_tolerance 1e-3");
	assert_flags(p, "data/secret",
		     "float_tolerance 1e-3 case_sensitive float_absolute_tolerance 0.5");
	assert_true(secret->default_flags.case_sensitive);
	assert_double(secret->default_flags.float_abs, 0.5);
	assert_double(secret->default_flags.float_rel, 1e-3);
	assert_false(p->groups[0].default_flags.case_sensitive);
	assert_double(p->groups[0].default_flags.float_abs, 1e-3);
	pkg_free(&k);

	must_refuse(state, bad, 1000, "bogus_flag");

	p = must_read(state, &k, custom, "");
	assert_int_equal(p->checking, SP_PROBLEM_VALIDATOR);
	assert_flags(p, "data/secret", "bogus_flag --x");
	assert_string_equal(p->validator.language, "python");
	assert_int_equal(p->validator.file_count, 1);
	assert_string_equal(p->validator.files[0], "check.py");
	pkg_free(&k);
}

/* "Any unknown keys should be treated as an error" (problem.yaml), named in
 * the message; testdata.yaml's and limits' keys alike. */
static void test_unknown_keys(void **state)
{
	static const struct entry yaml[] = {
	    {"problem.yaml", "name: x\nsome_other_key: 1\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry limits[] = {
	    {"problem.yaml", "limits:\n  memory: 256\n  cpu_seconds: 3\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry testdata[] = {
	    {"problem.yaml", ""},
	    {"data/secret/testdata.yaml", "on_reject: continue\ngrader: x\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};

	must_refuse(state, yaml, 1000, "some_other_key");
	must_refuse(state, limits, 1000, "cpu_seconds");
	must_refuse(state, testdata, 1000, "\"grader\"");
	must_refuse(state, testdata, 1000, "data/secret/testdata.yaml");
}

/* validation: "custom": custom output validators "are provided in
 * output_validators/"; none there is an error. "interactive specifies that
 * the validator is run interactively", so it needs a custom one. */
static void test_validation(void **state)
{
	static const struct entry no_validator[] = {
	    {"problem.yaml", "validation: custom\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry default_interactive[] = {
	    {"problem.yaml", "validation: default interactive\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry interactive[] = {
	    {"problem.yaml", "validation: custom interactive\n"},
	    {"output_validators/val/val.cpp", "int main() {}\n"},
	    {"output_validators/val/helper.h", "#pragma once\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p;

	must_refuse(state, no_validator, 1000, "output_validators");
	must_refuse(state, default_interactive, 1000, "interactive");

	p = must_read(state, &k, interactive, "");
	assert_int_equal(p->checking, SP_PROBLEM_VALIDATOR);
	assert_int_equal(p->interaction, SP_PROBLEM_KATTIS_INTERACTIVE);
	assert_false(p->validator_scores);
	assert_string_equal(p->validator.language, "cpp");
	assert_int_equal(p->validator.file_count, 2);
	assert_string_equal(p->validator.files[0], "val.cpp"); /* the entry first */
	assert_string_equal(p->validator.files[1], "helper.h");
	assert_int_equal(k.package.validator.count, 2);
	assert_string_equal(k.package.validator.sources[0].name, "val.cpp");
	assert_memory_equal(k.package.validator.sources[0].file->data, "int main() {}\n", 14);
	pkg_free(&k);
}

/* A test is an .in with its .ans (problemtools: "if ext == '.ans' and
 * os.path.isfile(f'{base}.in')"): an .ans alone or an .in alone is none.
 * Names the format does not allow (".git", "-x", other characters) are
 * "removed before the system interacts with the package". */
static void test_not_tests(void **state)
{
	static const struct entry list[] = {
	    {"problem.yaml", ""},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {"data/secret/2.ans", "2\n"},
	    {"data/secret/3.in", "3\n"},
	    {"data/secret/_ok.in", "ok\n"},
	    {"data/secret/_ok.ans", "ok\n"},
	    {"data/secret/.git/x.in", "x\n"},
	    {"data/secret/.git/x.ans", "x\n"},
	    {"data/secret/-x.in", "x\n"},
	    {"data/secret/-x.ans", "x\n"},
	    {"data/secret/a+b.in", "x\n"},
	    {"data/secret/a+b.ans", "x\n"},
	    {"data/.hidden/1.in", "x\n"},
	    {"data/.hidden/1.ans", "x\n"},
	    {".git/config", "x\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	assert_groups(p, "data data/secret");
	assert_tests(p, "secret/1 secret/_ok");
	assert_int_equal(p->data_bytes, 4 + 6);
	pkg_free(&k);
}

/* Limits: legacy memory and output in MiB; DOMjudge's .timelimit in
 * seconds when the package gives no time limit of its own (a legacy one
 * has none; a newer one's limits.time_limit comes first). */
static void test_limits(void **state)
{
	static const struct entry legacy[] = {
	    {"problem.yaml", "limits:\n  memory: 512\n  output: 16\n  time_multiplier: 3\n"},
	    {".timelimit", "2.5\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry newer[] = {
	    {"problem.yaml", "problem_format_version: 2023-07-draft\nlimits:\n  time_limit: 3\n"},
	    {".timelimit", "2\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry bad[] = {
	    {"problem.yaml", ""},
	    {".timelimit", "fast\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, legacy, "");

	assert_int_equal(p->time_ms, 2500);
	assert_int_equal(p->memory_kb, 512 * 1024);
	assert_int_equal(p->output_kb, 16 * 1024);
	pkg_free(&k);
	p = must_read(state, &k, newer, "");
	assert_int_equal(p->time_ms, 3000);
	pkg_free(&k);
	must_refuse(state, bad, 1000, ".timelimit");
}

/* ---- ICPC/Kattis, 2023-07 ------------------------------------------------------ */

static const struct entry newer_scoring[] = {
    {"problem.yaml", "problem_format_version: 2023-07-draft\ntype: scoring\n"
		     "name: {en: Newer}\nlimits:\n  time_limit: 1.5\n"},
    {"data/sample/1.in", "s\n"},
    {"data/sample/1.ans", "s\n"},
    {"data/secret/a/test_group.yaml", "max_score: 30\nscore_aggregation: min\n"},
    {"data/secret/a/1.in", "a1\n"},
    {"data/secret/a/1.ans", "a1\n"},
    {"data/secret/a/2.in", "a2\n"},
    {"data/secret/a/2.ans", "a2\n"},
    {"data/secret/b/test_group.yaml", "max_score: 60\nscore_aggregation: sum\n"},
    {"data/secret/b/1.in", "b1\n"},
    {"data/secret/b/1.ans", "b1\n"},
    {"data/secret/b/2.in", "b2\n"},
    {"data/secret/b/2.ans", "b2\n"},
    {"data/secret/b/sub/3.in", "b3\n"},
    {"data/secret/b/sub/3.ans", "b3\n"},
    {"data/secret/b/lone.ans", "not a test\n"},
    {"data/secret/c/test_group.yaml", "max_score: 10\n"},
    {"data/secret/c/1.in", "c1\n"},
    {"data/secret/c/1.ans", "c1\n"},
    {"data/invalid_input/1.in", "bad\n"},
    {"data/invalid_input/1.ans", "bad\n"},
    {NULL, NULL},
};

/* Grade the problem with OUTCOMES (one letter a test: A accepted, W wrong
 * answer) into R. */
static void grade(const struct sp_problem *p, const char *outcomes, struct sp_grade_result *groups,
		  bool *reached)
{
	struct sp_grade_input in[16];

	assert_int_equal(strlen(outcomes), p->test_count);
	for (size_t i = 0; i < p->test_count; i++)
		in[i] = (struct sp_grade_input){
		    .known = true,
		    .verdict = outcomes[i] == 'A' ? SP_VERDICT_ACCEPTED : SP_VERDICT_WRONG_ANSWER};
	sp_problem_grade(p, in, groups, reached);
}

/* The newer format's scores laid onto the default grader ("Scoring
 * problems"): a sum group's test is worth max_score / N, N its tests
 * (nested folders' too: "The test data groups themselves can contain
 * directories"); min and pass-fail groups' tests max_score each, the least
 * taken; a failed test 0; secret sums its groups (default sum, max_score
 * 100) and "The submission score is the score of secret". Groups are
 * secret's folders with a test_group.yaml (an .ans without its .in is not a
 * test, and counts for no share); data/invalid_input is not judged;
 * limits.time_limit is the time limit. */
static void test_2023_07_scoring(void **state)
{
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, newer_scoring, "");
	struct sp_grade_result groups[8];
	bool reached[8];
	size_t a, b, c, secret;

	assert_int_equal(p->format, SP_PROBLEM_KATTIS);
	assert_string_equal(p->format_version, "2023-07-draft");
	assert_string_equal(p->name, "Newer");
	assert_true(p->scoring);
	assert_int_equal(p->time_ms, 1500);
	assert_groups(p, "data data/sample data/secret data/secret/a data/secret/b data/secret/c");
	assert_tests(p, "sample/1 secret/a/1 secret/a/2 secret/b/1 secret/b/2 secret/b/sub/3 "
			"secret/c/1");
	assert_items(p, "data/secret/b", "t:secret/b/1 t:secret/b/2 t:secret/b/sub/3");
	assert_test(&k, "secret/b/sub/3", "data/secret/b", "b3\n", "b3\n");
	a = find_group(p, "data/secret/a");
	b = find_group(p, "data/secret/b");
	c = find_group(p, "data/secret/c");
	secret = find_group(p, "data/secret");
	assert_true(p->groups[0].ignore_sample);
	assert_int_equal(p->groups[a].score_mode, SP_GRADE_MIN);
	assert_double(p->groups[a].accept_score, 30);
	assert_double(p->groups[a].reject_score, 0);
	assert_int_equal(p->groups[b].score_mode, SP_GRADE_SUM);
	assert_double(p->groups[b].accept_score, 20);
	assert_false(p->groups[b].on_reject_break);
	assert_int_equal(p->groups[c].score_mode, SP_GRADE_MIN);
	assert_double(p->groups[c].accept_score, 10);
	assert_int_equal(p->groups[secret].score_mode, SP_GRADE_SUM);
	assert_false(p->groups[secret].on_reject_break);

	grade(p, "AAAAAAA", groups, reached);
	assert_int_equal(groups[0].verdict, SP_VERDICT_ACCEPTED);
	assert_double(groups[0].score, 100);
	grade(p, "AAAAWAA", groups, reached);
	assert_double(groups[b].score, 40);
	assert_double(groups[0].score, 80);
	grade(p, "AWAAAAW", groups, reached);
	assert_double(groups[a].score, 0);
	assert_double(groups[c].score, 0);
	assert_double(groups[0].score, 60);
	pkg_free(&k);
}

/* In the newer format a scoring problem's score is secret's ("The
 * submission score is the score of secret"), and a group is held back
 * after a failed sample only when its require_pass says so (which is
 * refused here): a failed sample does not stop the grading before secret. */
static void test_2023_07_failed_sample(void **state)
{
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, newer_scoring, "");
	struct sp_grade_result groups[8];
	bool reached[8];
	size_t secret = find_group(p, "data/secret");

	grade(p, "WAAAAAA", groups, reached);
	assert_true(groups[secret].reached); /* fails */
	assert_double(groups[0].score, 100);
	pkg_free(&k);
}

/* A pass-fail package of the newer format: folders of secret without a
 * test_group.yaml are not groups and lend their tests to secret (a
 * test_group.yaml deeper than secret's folders is not read: "there must not
 * be any test_group.yaml further down"); keys of the
 * legacy format and settings not supported are refused. */
static void test_2023_07_pass_fail(void **state)
{
	static const struct entry list[] = {
	    {"problem.yaml", "problem_format_version: '2023-07'\nname: Plain folders\n"},
	    {"data/secret/x/1.in", "x1\n"},
	    {"data/secret/x/1.ans", "x1\n"},
	    {"data/secret/x/y/2.in", "y2\n"},
	    {"data/secret/x/y/2.ans", "y2\n"},
	    {"data/secret/x/y/test_group.yaml", "full_feedback: true\n"},
	    {"data/secret/3.in", "3\n"},
	    {"data/secret/3.ans", "3\n"},
	    {"data/valid_output/1.in", "v\n"},
	    {"data/valid_output/1.ans", "v\n"},
	    {NULL, NULL},
	};
	static const struct entry legacy_key[] = {
	    {"problem.yaml", "problem_format_version: 2023-07-draft\nvalidation: custom\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry require_pass[] = {
	    {"problem.yaml", "problem_format_version: 2023-07-draft\ntype: scoring\n"},
	    {"data/secret/a/test_group.yaml", "max_score: 100\nrequire_pass: sample\n"},
	    {"data/secret/a/1.in", "1\n"},
	    {"data/secret/a/1.ans", "1\n"},
	    {NULL, NULL},
	};
	static const struct entry group_key[] = {
	    {"problem.yaml", "problem_format_version: 2023-07-draft\n"},
	    {"data/secret/a/test_group.yaml", "on_reject: continue\n"},
	    {"data/secret/a/1.in", "1\n"},
	    {"data/secret/a/1.ans", "1\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	assert_string_equal(p->format_version, "2023-07");
	assert_false(p->scoring);
	assert_groups(p, "data data/secret");
	assert_items(p, "data/secret", "t:secret/3 t:secret/x/1 t:secret/x/y/2");
	assert_false(p->groups[0].ignore_sample);
	pkg_free(&k);
	must_refuse(state, legacy_key, 1000, "validation");
	must_refuse(state, require_pass, 1000, "require_pass");
	must_refuse(state, group_key, 1000, "on_reject");
}

/* ---- plain -------------------------------------------------------------------- */

/* "every NAME.in with NAME.ans or NAME.out beside it, in any folder, ordered
 * by name with numbers compared as numbers": 1, 2, 9, 10; one group; the
 * built-in tokens checker without a checker program. */
static void test_plain(void **state)
{
	static const struct entry list[] = {
	    {"10.in", "i10\n"}, {"10.out", "o10\n"}, {"2.in", "i2\n"},	  {"2.ans", "a2\n"},
	    {"1.in", "i1\n"},	{"1.ans", "a1\n"},   {"9.in", "i9\n"},	  {"9.ans", "a9\n"},
	    {"b/1.in", "b1\n"}, {"b/1.ans", "b1\n"}, {"a/10.in", "x\n"},  {"a/10.ans", "y\n"},
	    {"a/2.in", "x\n"},	{"a/2.ans", "y\n"},  {"readme.txt", "x"}, {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	assert_int_equal(p->format, SP_PROBLEM_PLAIN);
	assert_null(p->format_version);
	assert_null(p->name);
	assert_int_equal(p->checking, SP_PROBLEM_BUILTIN);
	assert_int_equal(p->builtin, SP_CHECKER_TOKENS);
	assert_int_equal(p->interaction, SP_PROBLEM_NOT_INTERACTIVE);
	assert_groups(p, "tests");
	assert_int_equal(p->groups[0].parent, -1);
	assert_true(p->groups[0].on_reject_break);
	assert_tests(p, "1 2 9 10 a/2 a/10 b/1");
	assert_test(&k, "10", "tests", "i10\n", "o10\n");
	assert_test(&k, "2", "tests", "i2\n", "a2\n");
	assert_int_equal(p->package_files, 15);
	pkg_free(&k);
}

/* A testlib checker "checker.EXT" and interactor "interactor.EXT" at the
 * top, with the top's headers (testlib.h); with an interactor a test's
 * answer is optional (empty). */
static void test_plain_programs(void **state)
{
	static const struct entry list[] = {
	    {"checker.cpp", "#include \"testlib.h\"\n"},
	    {"interactor.cpp", "#include \"testlib.h\"\n// i\n"},
	    {"testlib.h", "#pragma once\n"},
	    {"tests/1.in", "1\n"},
	    {"tests/1.ans", "one\n"},
	    {"tests/2.in", "2\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	assert_int_equal(p->checking, SP_PROBLEM_TESTLIB);
	assert_string_equal(p->validator.language, "cpp");
	assert_int_equal(p->validator.file_count, 2);
	assert_string_equal(p->validator.files[0], "checker.cpp");
	assert_string_equal(p->validator.files[1], "testlib.h");
	assert_int_equal(p->interaction, SP_PROBLEM_TESTLIB_INTERACTOR);
	assert_string_equal(p->interactor.language, "cpp");
	assert_int_equal(p->interactor.file_count, 2);
	assert_string_equal(p->interactor.files[0], "interactor.cpp");
	assert_string_equal(p->interactor.files[1], "testlib.h");
	assert_int_equal(k.package.interactor.count, 2);
	assert_memory_equal(k.package.interactor.sources[0].file->data,
			    "#include \"testlib.h\"\n// i\n", 26);
	assert_memory_equal(k.package.validator.sources[1].file->data, "#pragma once\n", 13);
	assert_tests(p, "tests/1 tests/2");
	assert_test(&k, "tests/1", "tests", "1\n", "one\n");
	assert_test(&k, "tests/2", "tests", "2\n", "");
	pkg_free(&k);
}

/* Without an interactor an .in needs its answer: refused, naming it; and a
 * package with no test at all. */
static void test_plain_refused(void **state)
{
	static const struct entry no_answer[] = {
	    {"check.py", "print()\n"}, {"1.in", "1\n"}, {"1.ans", "1\n"},
	    {"2.in", "2\n"},	       {NULL, NULL},
	};
	static const struct entry no_test[] = {
	    {"readme.txt", "nothing\n"},
	    {"1.ans", "1\n"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p;

	must_refuse(state, no_answer, 1000, "2.in");
	must_refuse(state, no_test, 1000, "no test");
	/* the checker found: check.py, python */
	p = must_read(
	    state, &k,
	    (const struct entry[]){
		{"check.py", "print()\n"}, {"1.in", "1\n"}, {"1.ans", "1\n"}, {NULL, NULL}},
	    "");
	assert_int_equal(p->checking, SP_PROBLEM_TESTLIB);
	assert_string_equal(p->validator.language, "python");
	assert_int_equal(p->interaction, SP_PROBLEM_NOT_INTERACTIVE);
	pkg_free(&k);
}

/* At most MAX_TESTS tests, in both formats. */
static void test_max_tests(void **state)
{
	static const struct entry plain[] = {
	    {"1.in", "1\n"}, {"1.ans", "1\n"}, {"2.in", "2\n"}, {"2.ans", "2\n"},
	    {"3.in", "3\n"}, {"3.ans", "3\n"}, {NULL, NULL},
	};
	static const struct entry kattis[] = {
	    {"problem.yaml", ""},	  {"data/sample/1.in", "1\n"},
	    {"data/sample/1.ans", "1\n"}, {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"}, {"data/secret/2.in", "2\n"},
	    {"data/secret/2.ans", "2\n"}, {NULL, NULL},
	};
	struct pkg k;

	must_refuse(state, plain, 2, "more than 2 tests");
	must_refuse(state, kattis, 2, "more than 2 tests");
	assert_int_equal(read_pkg(state, &k, plain, "", 3), 0);
	assert_int_equal(k.package.problem.test_count, 3);
	pkg_free(&k);
	assert_int_equal(read_pkg(state, &k, kattis, "", 3), 0);
	pkg_free(&k);
}

/* The data file: "every test's, one after the other", each test's input
 * then its answer, at the offsets the problem says; data_bytes its size. */
static void test_data_file(void **state)
{
	static const struct entry list[] = {
	    {"problem.yaml", ""},
	    {"data/sample/1.in", "sample input\n"},
	    {"data/sample/1.ans", "sample answer\n"},
	    {"data/secret/big.in", "a longer input, of many more bytes\n"},
	    {"data/secret/big.ans", "42\n"},
	    {"data/secret/empty.in", ""},
	    {"data/secret/empty.ans", ""},
	    {"data/secret/z.in", "\x01\x02\xff\n"},
	    {"data/secret/z.ans", "zz"},
	    {NULL, NULL},
	};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");
	struct stat st;
	uint64_t at = 0;

	assert_int_equal(fstat(k.fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, p->data_bytes);
	assert_tests(p, "sample/1 secret/big secret/empty secret/z");
	for (size_t i = 0; i < p->test_count; i++) {
		assert_int_equal(p->tests[i].input_offset, at);
		at += p->tests[i].input_length;
		assert_int_equal(p->tests[i].answer_offset, at);
		at += p->tests[i].answer_length;
	}
	assert_int_equal(at, p->data_bytes);
	assert_test(&k, "sample/1", "data/sample", "sample input\n", "sample answer\n");
	assert_test(&k, "secret/big", "data/secret", "a longer input, of many more bytes\n",
		    "42\n");
	assert_test(&k, "secret/empty", "data/secret", "", "");
	assert_test(&k, "secret/z", "data/secret", "\x01\x02\xff\n", "zz");
	pkg_free(&k);
}

/* sp_package_id: a hash of each file's name from the package's top, its
 * executable bit, length and bytes, in name order. */
static void test_package_id(void **state)
{
	static const struct entry reordered[] = {
	    {"data/secret/1.ans", "3\n"},
	    {"problem.yaml", "name: Hello\n"},
	    {"data/secret/1.in", "1 2\n"},
	    {NULL, NULL},
	};
	struct sp_archive_files a = {0}, b = {0};
	char ida[SP_PROBLEM_ID_SIZE], idb[SP_PROBLEM_ID_SIZE];

	(void)state;
	files_of(&a, minimal, "");
	sp_package_id(&a, ida);
	assert_true(sp_problem_id_valid(ida));
	assert_int_equal(strlen(ida), 32);

	files_of(&b, reordered, "");
	sp_package_id(&b, idb);
	assert_string_equal(ida, idb);
	sp_archive_files_free(&b);

	files_of(&b, reordered, "top/");
	sp_package_id(&b, idb);
	assert_string_equal(ida, idb);
	/* one byte */
	b.files[0].data[0] = '4';
	sp_package_id(&b, idb);
	assert_string_not_equal(ida, idb);
	b.files[0].data[0] = '3';
	sp_package_id(&b, idb);
	assert_string_equal(ida, idb);
	/* the executable bit */
	b.files[1].executable = true;
	sp_package_id(&b, idb);
	assert_string_not_equal(ida, idb);
	b.files[1].executable = false;
	/* a name */
	b.files[2].name[strlen(b.files[2].name) - 1] = 'x';
	sp_package_id(&b, idb);
	assert_string_not_equal(ida, idb);
	b.files[2].name[strlen(b.files[2].name) - 1] = 'n';
	/* a byte moved from one file to the next: lengths count */
	b.files[0].length = 1; /* "3" */
	sp_package_id(&b, idb);
	assert_string_not_equal(ida, idb);
	b.files[0].length = 2;
	sp_package_id(&b, idb);
	assert_string_equal(ida, idb);
	sp_archive_files_free(&a);
	sp_archive_files_free(&b);

	/* lengths count: {a: "Qb\0\0R"} and {a: "Q", b: "R"} are one stream of
	 * names, executable bits and bytes without them */
	{
		static const uint8_t one[] = {'Q', 'b', 0, 0, 'R'};
		struct sp_archive_file f1[1] = {{(char *)"a", (uint8_t *)one, 5, false}};
		struct sp_archive_file f2[2] = {{(char *)"a", (uint8_t *)"Q", 1, false},
						{(char *)"b", (uint8_t *)"R", 1, false}};
		struct sp_archive_files x = {f1, 1}, y = {f2, 2};

		sp_package_id(&x, ida);
		sp_package_id(&y, idb);
		assert_string_not_equal(ida, idb);
	}
}

/* ---- JSON ---------------------------------------------------------------------- */

static void assert_same_strings(char *const *a, size_t na, char *const *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_string_equal(a[i], b[i]);
}

static void assert_same_program(const struct sp_problem_program *a,
				const struct sp_problem_program *b)
{
	if (a->language == NULL || b->language == NULL) {
		assert_null(a->language);
		assert_null(b->language);
		return;
	}
	assert_string_equal(a->language, b->language);
	assert_same_strings(a->files, a->file_count, b->files, b->file_count);
	assert_same_strings(a->argv, a->argc, b->argv, b->argc);
}

static void assert_same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		assert_null(a);
		assert_null(b);
		return;
	}
	assert_string_equal(a, b);
}

static void assert_same_double(double a, double b)
{
	if (!(a == b)) {
		print_error("%.17g != %.17g\n", a, b);
		fail();
	}
}

static void assert_same_group(const struct sp_problem_group *a, const struct sp_problem_group *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->parent, b->parent);
	assert_int_equal(a->on_reject_break, b->on_reject_break);
	assert_int_equal(a->verdict_mode, b->verdict_mode);
	assert_int_equal(a->score_mode, b->score_mode);
	assert_int_equal(a->ignore_sample, b->ignore_sample);
	assert_int_equal(a->accept_if_any_accepted, b->accept_if_any_accepted);
	assert_same_double(a->accept_score, b->accept_score);
	assert_same_double(a->reject_score, b->reject_score);
	assert_same_double(a->range_min, b->range_min);
	assert_same_double(a->range_max, b->range_max);
	assert_same_strings(a->flags, a->flag_count, b->flags, b->flag_count);
	assert_int_equal(a->default_flags.case_sensitive, b->default_flags.case_sensitive);
	assert_int_equal(a->default_flags.space_change_sensitive,
			 b->default_flags.space_change_sensitive);
	assert_int_equal(a->default_flags.has_float_abs, b->default_flags.has_float_abs);
	assert_int_equal(a->default_flags.has_float_rel, b->default_flags.has_float_rel);
	assert_same_double(a->default_flags.float_abs, b->default_flags.float_abs);
	assert_same_double(a->default_flags.float_rel, b->default_flags.float_rel);
	assert_int_equal(a->item_count, b->item_count);
	for (size_t i = 0; i < a->item_count; i++) {
		assert_int_equal(a->items[i].is_group, b->items[i].is_group);
		assert_int_equal(a->items[i].index, b->items[i].index);
	}
}

static void assert_same_problem(const struct sp_problem *a, const struct sp_problem *b)
{
	assert_string_equal(a->id, b->id);
	assert_int_equal(a->format, b->format);
	assert_same_text(a->format_version, b->format_version);
	assert_same_text(a->name, b->name);
	assert_int_equal(a->scoring, b->scoring);
	assert_int_equal(a->checking, b->checking);
	assert_int_equal(a->builtin, b->builtin);
	assert_int_equal(a->validator_scores, b->validator_scores);
	assert_same_program(&a->validator, &b->validator);
	assert_int_equal(a->interaction, b->interaction);
	assert_same_program(&a->interactor, &b->interactor);
	assert_int_equal(a->time_ms, b->time_ms);
	assert_int_equal(a->memory_kb, b->memory_kb);
	assert_int_equal(a->output_kb, b->output_kb);
	assert_int_equal(a->group_count, b->group_count);
	for (size_t i = 0; i < a->group_count; i++)
		assert_same_group(&a->groups[i], &b->groups[i]);
	assert_int_equal(a->test_count, b->test_count);
	for (size_t i = 0; i < a->test_count; i++) {
		const struct sp_problem_test *x = &a->tests[i], *y = &b->tests[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->group, y->group);
		assert_int_equal(x->input_offset, y->input_offset);
		assert_int_equal(x->input_length, y->input_length);
		assert_int_equal(x->answer_offset, y->answer_offset);
		assert_int_equal(x->answer_length, y->answer_length);
	}
	assert_int_equal(a->data_bytes, b->data_bytes);
	assert_int_equal(a->package_bytes, b->package_bytes);
	assert_int_equal(a->package_files, b->package_files);
}

/* P as JSON text (as the store writes it), read back into OUT: 0 or -1. */
static int round_trip(const struct sp_problem *p, struct sp_problem *out, struct sp_error *err)
{
	json_t *doc = sp_problem_to_json(p), *back;
	char *text;
	json_error_t jerr;
	int rc;

	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	assert_non_null(text);
	back = json_loads(text, 0, &jerr);
	assert_non_null(back);
	memset(err, 0, sizeof(*err));
	rc = sp_problem_from_json(back, out, err);
	if (rc == 0) {
		/* and the same JSON again */
		json_t *again = sp_problem_to_json(out);

		assert_true(json_equal(again, doc));
		json_decref(again);
	}
	json_decref(back);
	json_decref(doc);
	free(text);
	return rc;
}

static char **strings(size_t n, ...)
{
	char **out = calloc(n + 1, sizeof(*out));
	va_list ap;

	assert_non_null(out);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(va_arg(ap, const char *));
		assert_non_null(out[i]);
	}
	va_end(ap);
	return out;
}

static size_t add_group(struct sp_problem *p, long parent, const char *name)
{
	struct sp_problem_group *g;

	p->groups = realloc(p->groups, (p->group_count + 1) * sizeof(*p->groups));
	assert_non_null(p->groups);
	g = &p->groups[p->group_count];
	memset(g, 0, sizeof(*g));
	g->name = strdup(name);
	g->parent = parent;
	g->accept_score = 1;
	g->range_min = -INFINITY;
	g->range_max = INFINITY;
	if (parent >= 0) {
		struct sp_problem_group *up = &p->groups[parent];

		up->items = realloc(up->items, (up->item_count + 1) * sizeof(*up->items));
		assert_non_null(up->items);
		up->items[up->item_count++] = (struct sp_problem_item){true, p->group_count};
	}
	return p->group_count++;
}

static void add_test(struct sp_problem *p, size_t grp, const char *name, uint64_t in_len,
		     uint64_t ans_len)
{
	struct sp_problem_group *g = &p->groups[grp];
	struct sp_problem_test *t;

	p->tests = realloc(p->tests, (p->test_count + 1) * sizeof(*p->tests));
	assert_non_null(p->tests);
	t = &p->tests[p->test_count];
	t->name = strdup(name);
	t->group = grp;
	t->input_offset = p->data_bytes;
	t->input_length = in_len;
	t->answer_offset = p->data_bytes + in_len;
	t->answer_length = ans_len;
	p->data_bytes += in_len + ans_len;
	g->items = realloc(g->items, (g->item_count + 1) * sizeof(*g->items));
	assert_non_null(g->items);
	g->items[g->item_count++] = (struct sp_problem_item){false, p->test_count++};
}

static void set_flags(struct sp_problem_group *g, char **flags, size_t n)
{
	g->flags = flags;
	g->flag_count = n;
	if (sp_default_validator_flags_parse((const char *const *)flags, n, &g->default_flags, NULL,
					     0) < 0)
		memset(&g->default_flags, 0, sizeof(g->default_flags));
}

/* A problem with every field set: programs, modes, scores that are not
 * short decimals, finite and infinite ranges, flags of the default
 * validator and others. */
static void full_problem(struct sp_problem *p)
{
	size_t root, sample, secret, g;

	memset(p, 0, sizeof(*p));
	memcpy(p->id, "0123456789abcdef0123456789abcdef", SP_PROBLEM_ID_SIZE);
	p->format = SP_PROBLEM_KATTIS;
	p->format_version = strdup("legacy");
	p->name = strdup("Round \"trip\" \xc3\xa9");
	p->scoring = true;
	p->checking = SP_PROBLEM_TESTLIB;
	p->builtin = SP_CHECKER_FLOAT;
	p->validator_scores = true;
	p->validator =
	    (struct sp_problem_program){strdup("cpp"), strings(2, "checker.cpp", "testlib.h"), 2,
					strings(2, "./checker", "-x"), 2};
	p->interaction = SP_PROBLEM_TESTLIB_INTERACTOR;
	p->interactor = (struct sp_problem_program){strdup("python"), strings(1, "interactor.py"),
						    1, strings(2, "python3", "interactor.py"), 2};
	p->time_ms = 2500;
	p->memory_kb = 262144;
	p->output_kb = 8192;
	root = add_group(p, -1, "data");
	p->groups[root].verdict_mode = SP_GRADE_FIRST_ERROR;
	p->groups[root].score_mode = SP_GRADE_MAX;
	p->groups[root].ignore_sample = true;
	p->groups[root].accept_score = 1.0 / 3;
	p->groups[root].reject_score = -0.1;
	p->groups[root].range_min = 0;
	p->groups[root].range_max = 100;
	sample = add_group(p, (long)root, "data/sample");
	p->groups[sample].on_reject_break = true;
	p->groups[sample].verdict_mode = SP_GRADE_ALWAYS_ACCEPT;
	p->groups[sample].score_mode = SP_GRADE_AVG;
	p->groups[sample].accept_if_any_accepted = true;
	p->groups[sample].range_max = 5e-324;
	set_flags(&p->groups[sample], strings(2, "--mode", "strict"), 2);
	add_test(p, sample, "sample/1", 3, 4);
	secret = add_group(p, (long)root, "data/secret");
	p->groups[secret].score_mode = SP_GRADE_MIN;
	p->groups[secret].accept_score = 1e300;
	set_flags(&p->groups[secret],
		  strings(5, "case_sensitive", "float_tolerance", "1e-6",
			  "float_absolute_tolerance", "0.1"),
		  5);
	add_test(p, secret, "secret/1", 0, 0);
	g = add_group(p, (long)secret, "data/secret/g");
	add_test(p, g, "secret/g/1", 10, 1);
	add_test(p, secret, "secret/2", 5, 0);
	p->package_bytes = 123456789012ull;
	p->package_files = 7;
}

/* A test right in data/ (found by fuzz_problem): named from data/, "1",
 * not from bytes past the end of the folder's name. */
static void test_test_in_data(void **state)
{
	static const struct entry list[] = {{"problem.yaml", "name: x\n"},
					    {"data/1.in", "1\n"},
					    {"data/1.ans", "1\n"},
					    {NULL, NULL}};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	assert_int_equal(p->test_count, 1);
	assert_string_equal(p->tests[0].name, "1");
	assert_string_equal(p->groups[p->tests[0].group].name, "data");
	pkg_free(&k);
}

/* A validator folder whose only "source" is a folder named like one (found
 * by fuzz_problem: a NULL entry's extension was read): refused, saying
 * there is no source file. */
static void test_validator_folder_without_source(void **state)
{
	static const struct entry list[] = {{"problem.yaml", "validation: custom\n"},
					    {"output_validators/v/c.py/x", "print(1)\n"},
					    {"data/secret/1.in", "1\n"},
					    {"data/secret/1.ans", "1\n"},
					    {NULL, NULL}};

	must_refuse(state, list, 1000, "no source file");
}

/* Scribbles over the stack a caller's locals were on. */
static __attribute__((noinline)) void scribble(void)
{
	volatile char junk[8192];

	memset((char *)junk, 'Z', sizeof(junk));
}

/* A legacy validator of one file (found by fuzz_problem): its source's
 * name outlives the reading, not a pointer into a folder's path on the
 * stack of the function that found it. */
static void test_validator_of_one_file(void **state)
{
	static const struct entry list[] = {{"problem.yaml", "validation: custom\n"},
					    {"output_validators/check.py", "print(1)\n"},
					    {"data/secret/1.in", "1\n"},
					    {"data/secret/1.ans", "1\n"},
					    {NULL, NULL}};
	struct pkg k;
	const struct sp_problem *p = must_read(state, &k, list, "");

	scribble();
	assert_int_equal(k.package.validator.count, 1);
	assert_string_equal(k.package.validator.sources[0].name, "check.py");
	assert_string_equal(p->validator.files[0], "check.py");
	pkg_free(&k);
}

/* Scores that are not finite numbers (found by fuzz_problem: the store
 * could not write such a problem, after its compile): refused by name. */
static void test_scores_not_finite(void **state)
{
	static const struct entry accept[] = {{"problem.yaml", "type: scoring\n"},
					      {"data/secret/testdata.yaml", "accept_score: .inf\n"},
					      {"data/secret/1.in", "1\n"},
					      {"data/secret/1.ans", "1\n"},
					      {NULL, NULL}};
	static const struct entry reject[] = {{"problem.yaml", "type: scoring\n"},
					      {"data/testdata.yaml", "reject_score: nan\n"},
					      {"data/secret/1.in", "1\n"},
					      {"data/secret/1.ans", "1\n"},
					      {NULL, NULL}};
	static const struct entry max[] = {
	    {"problem.yaml", "problem_format_version: 2023-07\ntype: scoring\n"},
	    {"data/secret/test_group.yaml", "max_score: 1e+309\n"},
	    {"data/secret/1.in", "1\n"},
	    {"data/secret/1.ans", "1\n"},
	    {NULL, NULL}};

	must_refuse(state, accept, 1000, "accept_score");
	must_refuse(state, reject, 1000, "reject_score");
	must_refuse(state, max, 1000, "max_score");
}

/* A score range that holds no number (found by fuzz_problem: "inf inf"
 * came back from JSON as -inf +inf): refused. */
static void test_empty_ranges(void **state)
{
	static const struct entry high[] = {{"problem.yaml", "type: scoring\n"},
					    {"data/testdata.yaml", "range: inf inf\n"},
					    {"data/secret/1.in", "1\n"},
					    {"data/secret/1.ans", "1\n"},
					    {NULL, NULL}};
	static const struct entry low[] = {{"problem.yaml", "type: scoring\n"},
					   {"data/testdata.yaml", "range: -inf -inf\n"},
					   {"data/secret/1.in", "1\n"},
					   {"data/secret/1.ans", "1\n"},
					   {NULL, NULL}};

	must_refuse(state, high, 1000, "range");
	must_refuse(state, low, 1000, "range");
}

/* sp_problem_to_json, as text and back through sp_problem_from_json: the
 * same problem, field by field, and the same JSON again. */
static void test_json_round_trip(void **state)
{
	struct sp_problem p, back;
	struct sp_error err;
	struct pkg k;

	full_problem(&p);
	if (round_trip(&p, &back, &err) < 0)
		fail_msg("refused: %s", err.message);
	assert_same_problem(&p, &back);
	sp_problem_free(&back);
	/* no name, no format version, the built-in checker */
	free(p.name);
	p.name = NULL;
	free(p.format_version);
	p.format_version = NULL;
	p.format = SP_PROBLEM_PLAIN;
	p.checking = SP_PROBLEM_BUILTIN;
	p.interaction = SP_PROBLEM_NOT_INTERACTIVE;
	free(p.validator.language);
	p.validator.language = NULL;
	free(p.interactor.language);
	p.interactor.language = NULL;
	for (size_t i = 0; i < 2; i++) {
		free(p.validator.files[i]);
		free(p.validator.argv[i]);
		free(p.interactor.argv[i]);
	}
	free(p.interactor.files[0]);
	free(p.validator.files);
	free(p.validator.argv);
	free(p.interactor.files);
	free(p.interactor.argv);
	memset(&p.validator, 0, sizeof(p.validator));
	memset(&p.interactor, 0, sizeof(p.interactor));
	if (round_trip(&p, &back, &err) < 0)
		fail_msg("refused: %s", err.message);
	assert_same_problem(&p, &back);
	sp_problem_free(&back);
	sp_problem_free(&p);

	/* a package read */
	must_read(state, &k,
		  (const struct entry[]){
		      {"problem.yaml", "type: scoring\nvalidator_flags: float_tolerance 0.25\n"},
		      {"data/testdata.yaml", "grader_flags: ignore_sample min\n"},
		      {"data/sample/1.in", "1\n"},
		      {"data/sample/1.ans", "1\n"},
		      {"data/secret/g/testdata.yaml", "accept_score: 0.3\nrange: -inf 7\n"},
		      {"data/secret/g/1.in", "1\n"},
		      {"data/secret/g/1.ans", "1\n"},
		      {NULL, NULL}},
		  "");
	if (round_trip(&k.package.problem, &back, &err) < 0)
		fail_msg("refused: %s", err.message);
	assert_same_problem(&k.package.problem, &back);
	sp_problem_free(&back);
	pkg_free(&k);
}

/* DOC read must be refused: EINVAL, and the problem left empty. */
static void assert_refused_doc(json_t *doc)
{
	struct sp_problem p, empty;
	struct sp_error err = {0};

	memset(&p, 0x5a, sizeof(p));
	memset(&empty, 0, sizeof(empty));
	assert_int_equal(sp_problem_from_json(doc, &p, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	assert_true(strncmp(err.message, "problem: bad ", 13) == 0);
	assert_memory_equal(&p, &empty, sizeof(p));
	json_decref(doc);
}

static json_t *full_doc(void)
{
	struct sp_problem p;
	json_t *doc;

	full_problem(&p);
	doc = sp_problem_to_json(&p);
	assert_non_null(doc);
	sp_problem_free(&p);
	return doc;
}

static json_t *group_of(json_t *doc, size_t g)
{
	return json_array_get(json_object_get(doc, "groups"), g);
}

static json_t *test_of(json_t *doc, size_t t)
{
	return json_array_get(json_object_get(doc, "tests"), t);
}

/* "checked: every index in range, the groups a tree whose items cover every
 * test once, every byte range within data_bytes" (problem.h). The full
 * problem's groups: 0 data [1, 2], 1 data/sample [test 0], 2 data/secret
 * [test 1, group 3, test 3], 3 data/secret/g [test 2]; data_bytes 23. */
static void test_json_refused(void **state)
{
	json_t *doc;
	struct sp_problem p;
	struct sp_error err = {0};

	(void)state;
	/* the document as it is: taken */
	doc = full_doc();
	assert_int_equal(sp_problem_from_json(doc, &p, &err), 0);
	assert_int_equal(p.data_bytes, 23);
	sp_problem_free(&p);
	json_decref(doc);

	/* a test index out of range */
	doc = full_doc();
	json_array_set_new(json_object_get(group_of(doc, 1), "items"), 0,
			   json_pack("[s, i]", "test", 4));
	assert_refused_doc(doc);
	/* a group index out of range */
	doc = full_doc();
	json_array_set_new(json_object_get(group_of(doc, 2), "items"), 1,
			   json_pack("[s, i]", "group", 4));
	assert_refused_doc(doc);
	/* a test's group is not the group that lists it */
	doc = full_doc();
	json_object_set_new(test_of(doc, 2), "group", json_integer(2));
	assert_refused_doc(doc);
	/* a group listed by a group that is not its parent: data/secret/g by
	 * data */
	doc = full_doc();
	json_array_remove(json_object_get(group_of(doc, 2), "items"), 1);
	json_array_append_new(json_object_get(group_of(doc, 0), "items"),
			      json_pack("[s, i]", "group", 3));
	assert_refused_doc(doc);
	/* the root with a parent */
	doc = full_doc();
	json_object_set_new(group_of(doc, 0), "parent", json_integer(0));
	assert_refused_doc(doc);
	/* a group whose parent comes after it: 1 data/sample under 3 */
	doc = full_doc();
	json_object_set_new(group_of(doc, 1), "parent", json_integer(3));
	json_array_remove(json_object_get(group_of(doc, 0), "items"), 0);
	json_array_append_new(json_object_get(group_of(doc, 3), "items"),
			      json_pack("[s, i]", "group", 1));
	assert_refused_doc(doc);
	/* a byte range past data_bytes (23) */
	doc = full_doc();
	json_object_set_new(test_of(doc, 3), "answer", json_pack("[i, i]", 22, 2));
	assert_refused_doc(doc);
	doc = full_doc();
	json_object_set_new(test_of(doc, 0), "input", json_pack("[i, i]", 24, 0));
	assert_refused_doc(doc);
	doc = full_doc();
	json_object_set_new(test_of(doc, 0), "input",
			    json_pack("[I, I]", (json_int_t)INT64_MAX, (json_int_t)INT64_MAX));
	assert_refused_doc(doc);
	/* ...but an empty range at its very end is within it */
	doc = full_doc();
	json_object_set_new(test_of(doc, 0), "input", json_pack("[i, i]", 23, 0));
	assert_int_equal(sp_problem_from_json(doc, &p, &err), 0);
	sp_problem_free(&p);
	json_decref(doc);
	/* a bad id, a bad verdict mode, a program without its command */
	doc = full_doc();
	json_object_set_new(doc, "id", json_string("0123456789ABCDEF0123456789abcdef"));
	assert_refused_doc(doc);
	doc = full_doc();
	json_object_set_new(group_of(doc, 2), "verdict_mode", json_string("best_error"));
	assert_refused_doc(doc);
	doc = full_doc();
	json_object_set_new(json_object_get(doc, "validator"), "argv", json_array());
	assert_refused_doc(doc);
	/* no tests */
	doc = full_doc();
	json_object_set_new(doc, "tests", json_array());
	assert_refused_doc(doc);
}

/* "the groups a tree whose items cover every test once" (problem.h): a
 * test listed twice by its group and another listed by none is refused,
 * though the count of test items is right: here data/secret lists test 1
 * twice and test 3 (secret/2) never. */
static void test_json_refused_test_twice(void **state)
{
	json_t *doc = full_doc();

	(void)state;
	json_array_set_new(json_object_get(group_of(doc, 2), "items"), 2,
			   json_pack("[s, i]", "test", 1));
	assert_refused_doc(doc);
}

/* The same with groups: data lists data/sample twice and data/secret (and
 * so its tests) never. */
static void test_json_refused_group_twice(void **state)
{
	json_t *doc = full_doc();

	(void)state;
	json_array_set_new(json_object_get(group_of(doc, 0), "items"), 1,
			   json_pack("[s, i]", "group", 1));
	assert_refused_doc(doc);
}

static int setup(void **state)
{
	struct sp_language_set *set = calloc(1, sizeof(*set));
	struct sp_error err = {0};

	assert_non_null(set);
	if (sp_language_set_load(set, SP_SOURCE_DIR "/languages", &err) < 0)
		fail_msg("languages: %s", err.message);
	assert_non_null(sp_language_find(set, "cpp"));
	assert_non_null(sp_language_find(set, "python"));
	*state = set;
	return 0;
}

static int teardown(void **state)
{
	sp_language_set_free(*state);
	free(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kattis_minimal),
	    cmocka_unit_test(test_top_folder),
	    cmocka_unit_test(test_data_folder_alone),
	    cmocka_unit_test(test_kattis_without_problem_yaml),
	    cmocka_unit_test(test_top_folder_with_a_file_outside),
	    cmocka_unit_test(test_kattis_order),
	    cmocka_unit_test(test_testdata_inheritance),
	    cmocka_unit_test(test_validator_flags),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_not_tests),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_2023_07_scoring),
	    cmocka_unit_test(test_2023_07_failed_sample),
	    cmocka_unit_test(test_2023_07_pass_fail),
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_plain_programs),
	    cmocka_unit_test(test_plain_refused),
	    cmocka_unit_test(test_max_tests),
	    cmocka_unit_test(test_data_file),
	    cmocka_unit_test(test_package_id),
	    cmocka_unit_test(test_test_in_data),
	    cmocka_unit_test(test_validator_folder_without_source),
	    cmocka_unit_test(test_validator_of_one_file),
	    cmocka_unit_test(test_scores_not_finite),
	    cmocka_unit_test(test_empty_ranges),
	    cmocka_unit_test(test_json_round_trip),
	    cmocka_unit_test(test_json_refused),
	    cmocka_unit_test(test_json_refused_test_twice),
	    cmocka_unit_test(test_json_refused_group_twice),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
