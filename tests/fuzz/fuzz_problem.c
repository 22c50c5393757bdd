/* libFuzzer: a problem package upload, from the client's bytes to the stored
 * record and the client's view. The first byte of an input picks how the
 * rest is read (any other first byte: its value modulo 4, in this order):
 *
 *   'A'  an archive (zip, tar, tar.gz; tar checksums set right first, as in
 *        fuzz_archive.c) through sp_archive_files_read() under small bounds,
 *        then, when taken, the package steps below;
 *   'F'  files: "NAME\0CONTENT\0NAME\0CONTENT..." (the last CONTENT runs to
 *        the end), built directly as the archive's list of files (a name
 *        the archive reader would refuse, or one taken already, is left
 *        out), so that mutations reach problem.yaml, testdata.yaml,
 *        test_group.yaml and the tree of tests without keeping a zip whole;
 *        then the package steps;
 *   'Y'  the rest as one YAML document through sp_yaml_parse();
 *   'V'  "FLAGS\0OUTPUT\0ANSWER": FLAGS split on whitespace (as a package's
 *        validator_flags are) through sp_default_validator_flags_parse(),
 *        and when taken OUTPUT judged against ANSWER by
 *        sp_default_validate().
 *
 * The package steps: sp_package_read() with the repository's languages and
 * the tests' bytes into a memfd. Refused, the package is left empty and the
 * error is EINVAL (or ENOMEM) with a short UTF-8 message. Taken:
 *   - the problem is whole: its id sp_package_id()'s, its counts the list's,
 *     its groups a tree whose items hold every test once, each test's input
 *     and answer one after the other in the data file, the same bytes as
 *     the package's NAME.in and NAME.ans (or .out) files, programs with
 *     their sources; a default validator's flags parse to the groups'
 *     default_flags, and each test's answer is accepted against itself;
 *   - the same files in another order, or all in one top folder "t/",
 *     read to the same problem (when the list is not in one folder
 *     already);
 *   - stored as the server stores it (programs given a command as a build
 *     would, sp_problem_to_json, json_dumps, json_loadb, then
 *     sp_problem_from_json), it comes back exactly: every field, and the
 *     same JSON again; sp_problem_view shows both.
 * YAML: taken, a value no deeper than SP_YAML_MAX_DEPTH that JSON can write;
 * refused, no value and an EINVAL message "problem.yaml: line N..." on one
 * UTF-8 line. Validator: a refused flag leaves the flags cleared with a
 * reason; an outcome is accepted with "" or a wrong answer with a UTF-8
 * message; any text is accepted against itself, and without a tolerance
 * the comparison is symmetric. No descriptor is left open. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/job/archive_files.h"
#include "server/job/default_validator.h"
#include "server/job/language.h"
#include "server/job/problem.h"
#include "server/job/problem_package.h"
#include "server/job/request_program.h"
#include "server/job/utf8.h"
#include "server/job/yaml_doc.h"
#include "tests/fuzz/fuzz_util.h"

#define MAX_FILES 64
#define MAX_TESTS 50

static const struct sp_archive_limits limits = {
    .max_files = MAX_FILES,
    .max_file_bytes = 64 * 1024,
    .max_total_bytes = 256 * 1024,
};

static struct sp_language_set languages;
static int data_fds[3] = {-1, -1, -1};

/* A program's source names are borrowed: one that points into a stack frame
 * gone is seen where it is read, not only when that frame's bytes have
 * changed. (ASAN_OPTIONS can still turn it off.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_load_languages(&languages);
	for (int i = 0; i < 3; i++)
		data_fds[i] = fuzz_memfd((const uint8_t *)"", 0);
	return 0;
}

static bool message_ok(const char *message, size_t size)
{
	size_t len = strnlen(message, size);

	return len > 0 && len < size && sp_utf8_valid(message, len);
}

/* ---- YAML ------------------------------------------------------------------- */

static size_t json_depth(json_t *v)
{
	size_t deepest = 0, i;
	const char *key;
	json_t *item;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
		{
			size_t d = json_depth(item);

			deepest = d > deepest ? d : deepest;
		}
		return deepest + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			size_t d = json_depth(item);

			deepest = d > deepest ? d : deepest;
		}
		return deepest + 1;
	}
	return 0;
}

static void fuzz_yaml(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	struct sp_error err = {0};
	json_t *doc = (json_t *)(uintptr_t)1;
	char *text;
	int rc;

	if (copy == NULL)
		fuzz_die("out of memory");
	memcpy(copy, data, size);
	rc = sp_yaml_parse(copy, size, "problem.yaml", &doc, &err);
	free(copy);
	if (rc == 0) {
		if (doc == NULL)
			fuzz_die("yaml: taken without a value");
		if (json_depth(doc) > SP_YAML_MAX_DEPTH)
			fuzz_die("yaml: a value %zu deep", json_depth(doc));
		text = json_dumps(doc, JSON_ENCODE_ANY | JSON_COMPACT);
		if (text == NULL)
			fuzz_die("yaml: a value JSON cannot write");
		free(text);
		json_decref(doc);
		return;
	}
	if (rc != -1 || doc != NULL)
		fuzz_die("yaml: refused with %d and a value", rc);
	if (err.errnum != EINVAL && err.errnum != ENOMEM)
		fuzz_die("yaml: refused with errno %d: %s", err.errnum, err.message);
	if (!message_ok(err.message, sizeof(err.message)) || strchr(err.message, '\n') != NULL)
		fuzz_die("yaml: a message empty, long, not UTF-8 or of two lines");
	if (err.errnum == EINVAL && strncmp(err.message, "problem.yaml: line ", 19) != 0)
		fuzz_die("yaml: a message that does not name the line: %s", err.message);
}

/* ---- the default validator --------------------------------------------------- */

/* The next NUL-terminated part of DATA (SIZE bytes) from *AT: its length. */
static size_t next_part(const uint8_t *data, size_t size, size_t *at, const uint8_t **part)
{
	const uint8_t *start = data + *at;
	const uint8_t *nul = *at < size ? memchr(start, 0, size - *at) : NULL;
	size_t len = nul != NULL ? (size_t)(nul - start) : size - *at;

	*part = start;
	*at += len + (nul != NULL);
	return len;
}

static void validate(const struct sp_default_validator_flags *flags, const uint8_t *out,
		     size_t out_len, const uint8_t *ans, size_t ans_len,
		     struct sp_check_result *res)
{
	/* exact copies, so that nothing past them is there to be read */
	char *o = malloc(out_len ? out_len : 1), *a = malloc(ans_len ? ans_len : 1);

	if (o == NULL || a == NULL)
		fuzz_die("out of memory");
	memcpy(o, out, out_len);
	memcpy(a, ans, ans_len);
	memset(res, 0xa5, sizeof(*res));
	sp_default_validate(flags, o, out_len, a, ans_len, res);
	free(o);
	free(a);
	if (res->outcome == SP_CHECK_ACCEPTED) {
		if (res->message[0] != '\0')
			fuzz_die("validator: accepted with a message: %s", res->message);
	} else if (res->outcome != SP_CHECK_WRONG_ANSWER) {
		fuzz_die("validator: outcome %d", (int)res->outcome);
	} else if (!message_ok(res->message, sizeof(res->message))) {
		fuzz_die("validator: a wrong answer with a message empty, long or not UTF-8");
	}
}

static void fuzz_validator(const uint8_t *data, size_t size)
{
	const uint8_t *words, *out, *ans;
	size_t at = 0, words_len = next_part(data, size, &at, &words);
	size_t out_len = next_part(data, size, &at, &out);
	size_t ans_len = at < size ? size - at : 0;
	char *args[SP_PROBLEM_MAX_FLAGS + 1], text[4096], why[160];
	struct sp_default_validator_flags flags, *use = NULL;
	struct sp_check_result res, back;
	size_t count = 0;

	ans = data + at;
	snprintf(text, sizeof(text), "%.*s", (int)words_len, (const char *)words);
	for (char *save = NULL, *w = strtok_r(text, " \t\r\n\v\f", &save);
	     w != NULL && count < SP_PROBLEM_MAX_FLAGS; w = strtok_r(NULL, " \t\r\n\v\f", &save))
		args[count++] = w;
	args[count] = NULL;
	memset(&flags, 0xa5, sizeof(flags));
	why[0] = '\0';
	if (sp_default_validator_flags_parse((const char *const *)args, count, &flags, why,
					     sizeof(why)) < 0) {
		if (flags.case_sensitive || flags.space_change_sensitive || flags.has_float_abs ||
		    flags.has_float_rel || flags.float_abs != 0 || flags.float_rel != 0)
			fuzz_die("validator: flags refused but not cleared");
		if (!message_ok(why, sizeof(why)))
			fuzz_die("validator: flags refused without a reason");
		return;
	}
	if ((flags.has_float_abs && !(isfinite(flags.float_abs) && flags.float_abs >= 0)) ||
	    (flags.has_float_rel && !(isfinite(flags.float_rel) && flags.float_rel >= 0)))
		fuzz_die("validator: a tolerance taken that is not finite and >= 0");
	if (count > 0)
		use = &flags;
	validate(use, out, out_len, ans, ans_len, &res);
	validate(use, ans, ans_len, ans, ans_len, &back);
	if (back.outcome != SP_CHECK_ACCEPTED)
		fuzz_die("validator: the answer is not accepted against itself: %s", back.message);
	validate(use, out, out_len, out, out_len, &back);
	if (back.outcome != SP_CHECK_ACCEPTED)
		fuzz_die("validator: the output is not accepted against itself: %s", back.message);
	if (!flags.has_float_abs && !flags.has_float_rel) {
		validate(use, ans, ans_len, out, out_len, &back);
		if (back.outcome != res.outcome)
			fuzz_die("validator: output and answer swapped, outcome %d, not %d",
				 (int)back.outcome, (int)res.outcome);
	}
}

/* ---- the package ------------------------------------------------------------- */

/* Whether B is A or a path under A. */
static bool covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/* NAME (LEN bytes) with CONTENT appended to LIST, when the archive reader
 * would have taken it. */
static void add_file(struct sp_archive_files *list, const char *name, size_t len,
		     const uint8_t *content, size_t length)
{
	struct sp_archive_file *f = &list->files[list->count];
	char *copy;

	if (list->count >= MAX_FILES || len > SP_REQUEST_MAX_NAME)
		return;
	copy = strndup(name, len);
	if (copy == NULL)
		fuzz_die("out of memory");
	if (sp_request_name_problem(copy, len) != NULL || !sp_utf8_valid(copy, len)) {
		free(copy);
		return;
	}
	for (size_t i = 0; i < list->count; i++) {
		if (covers(list->files[i].name, copy) || covers(copy, list->files[i].name)) {
			free(copy);
			return;
		}
	}
	f->name = copy;
	f->data = malloc(length ? length : 1);
	if (f->data == NULL)
		fuzz_die("out of memory");
	memcpy(f->data, content, length);
	f->length = length;
	f->executable = false;
	list->count++;
}

static void split_files(const uint8_t *data, size_t size, struct sp_archive_files *list)
{
	size_t at = 0;

	list->files = calloc(MAX_FILES, sizeof(*list->files));
	list->count = 0;
	if (list->files == NULL)
		fuzz_die("out of memory");
	while (at < size) {
		const uint8_t *name, *content;
		size_t name_len = next_part(data, size, &at, &name);
		size_t length = next_part(data, size, &at, &content);

		add_file(list, (const char *)name, name_len, content, length);
	}
}

/* The length of the one top folder every file of LIST is in, with its '/',
 * else 0; a list of data/ alone, without a data/problem.yaml, is at the top
 * (problem_package.h). */
static size_t shared_top(const struct sp_archive_files *list)
{
	bool has_yaml = false;
	size_t n;

	if (list->count == 0)
		return 0;
	n = strcspn(list->files[0].name, "/");
	if (list->files[0].name[n] != '/')
		return 0;
	for (size_t i = 0; i < list->count; i++) {
		if (strncmp(list->files[i].name, list->files[0].name, n + 1) != 0)
			return 0;
		has_yaml |= strcmp(list->files[i].name + n + 1, "problem.yaml") == 0;
	}
	if (n == 4 && strncmp(list->files[0].name, "data", 4) == 0 && !has_yaml)
		return 0;
	return n + 1;
}

/* The file of LIST at PATH from the package's top (SKIP bytes of its names
 * left out), or NULL. */
static const struct sp_archive_file *file_at(const struct sp_archive_files *list, size_t skip,
					     const char *path)
{
	for (size_t i = 0; i < list->count; i++)
		if (strlen(list->files[i].name) >= skip &&
		    strcmp(list->files[i].name + skip, path) == 0)
			return &list->files[i];
	return NULL;
}

static uint8_t *read_data(int fd, uint64_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct stat st;
	size_t done = 0;

	if (buf == NULL || fstat(fd, &st) < 0)
		fuzz_die("data file: %s", strerror(errno));
	if ((uint64_t)st.st_size != size)
		fuzz_die("data file of %lld bytes, the problem says %llu", (long long)st.st_size,
			 (unsigned long long)size);
	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, (off_t)done);

		if (n <= 0)
			fuzz_die("read the data file: %s", strerror(errno));
		done += (size_t)n;
	}
	return buf;
}

static void check_bytes(const char *test, const char *what, const uint8_t *data, uint64_t offset,
			uint64_t length, const struct sp_archive_file *file)
{
	uint64_t want = file != NULL ? file->length : 0;

	if (length != want)
		fuzz_die("test %s: %s of %llu bytes, its file has %llu", test, what,
			 (unsigned long long)length, (unsigned long long)want);
	if (length > 0 && memcmp(data + offset, file->data, length) != 0)
		fuzz_die("test %s: %s is not its file's bytes", test, what);
}

/* Test T's input and answer files in LIST (the package's top SKIP bytes in). */
static void test_files(const struct sp_problem *p, const struct sp_archive_files *list, size_t skip,
		       const struct sp_problem_test *t, const struct sp_archive_file **in,
		       const struct sp_archive_file **ans)
{
	char path[SP_REQUEST_MAX_NAME + 16];
	const char *base = p->format == SP_PROBLEM_KATTIS ? "data/" : "";

	snprintf(path, sizeof(path), "%s%s.in", base, t->name);
	*in = file_at(list, skip, path);
	snprintf(path, sizeof(path), "%s%s.ans", base, t->name);
	*ans = file_at(list, skip, path);
	if (*ans == NULL && p->format == SP_PROBLEM_PLAIN) {
		snprintf(path, sizeof(path), "%s.out", t->name);
		*ans = file_at(list, skip, path);
	}
	if (*in == NULL)
		fuzz_die("test %s: no file %s%s.in in the package (its top folder misread?)",
			 t->name, base, t->name);
	if (*ans == NULL &&
	    (p->format == SP_PROBLEM_KATTIS || p->interaction != SP_PROBLEM_TESTLIB_INTERACTOR))
		fuzz_die("test %s: taken without its answer file", t->name);
}

static void check_program(const char *what, const struct sp_problem_program *prog,
			  const struct sp_package_program *src, bool wanted)
{
	if ((prog->language != NULL) != wanted)
		fuzz_die("%s: %s", what, wanted ? "missing" : "there, but not used");
	if (!wanted) {
		if (src->count != 0 || prog->file_count != 0)
			fuzz_die("%s: sources without a program", what);
		return;
	}
	if (sp_language_find(&languages, prog->language) == NULL)
		fuzz_die("%s: language %s is not served", what, prog->language);
	if (src->count == 0 || src->count != prog->file_count || prog->files == NULL)
		fuzz_die("%s: %zu sources, %zu names", what, src->count, prog->file_count);
	for (size_t i = 0; i < src->count; i++) {
		if (src->sources[i].file == NULL || src->sources[i].name == NULL ||
		    strcmp(src->sources[i].name, prog->files[i]) != 0)
			fuzz_die("%s: source %zu is not its name", what, i);
		if (sp_request_name_problem(prog->files[i], strlen(prog->files[i])) != NULL)
			fuzz_die("%s: a source named '%s'", what, prog->files[i]);
	}
}

static bool same_flags(const struct sp_default_validator_flags *a,
		       const struct sp_default_validator_flags *b)
{
	return a->case_sensitive == b->case_sensitive &&
	       a->space_change_sensitive == b->space_change_sensitive &&
	       a->has_float_abs == b->has_float_abs && a->has_float_rel == b->has_float_rel &&
	       (!a->has_float_abs || a->float_abs == b->float_abs) &&
	       (!a->has_float_rel || a->float_rel == b->float_rel);
}

/* The problem read from LIST (SKIP: its top folder) is whole. */
static void check_problem(const struct sp_package *pk, const struct sp_archive_files *list,
			  size_t skip, int fd)
{
	const struct sp_problem *p = &pk->problem;
	char id[SP_PROBLEM_ID_SIZE];
	uint64_t bytes = 0, at = 0;
	size_t *seen;
	uint8_t *data;

	sp_package_id(list, id);
	if (!sp_problem_id_valid(p->id) || strcmp(p->id, id) != 0)
		fuzz_die("id %s, not the package's %s", p->id, id);
	for (size_t i = 0; i < list->count; i++)
		bytes += list->files[i].length;
	if (p->package_files != list->count || p->package_bytes != bytes)
		fuzz_die("%zu files of %llu bytes counted, not %zu of %llu", p->package_files,
			 (unsigned long long)p->package_bytes, list->count,
			 (unsigned long long)bytes);
	if (p->test_count == 0 || p->test_count > MAX_TESTS || p->group_count == 0 ||
	    p->groups[0].parent != -1)
		fuzz_die("%zu tests, %zu groups", p->test_count, p->group_count);
	if ((p->format == SP_PROBLEM_KATTIS) != (p->format_version != NULL))
		fuzz_die("format %d with version %s", (int)p->format,
			 p->format_version ? p->format_version : "none");
	check_program("validator", &p->validator, &pk->validator,
		      p->checking == SP_PROBLEM_VALIDATOR || p->checking == SP_PROBLEM_TESTLIB);
	check_program("interactor", &p->interactor, &pk->interactor,
		      p->interaction == SP_PROBLEM_TESTLIB_INTERACTOR);
	if (p->interaction == SP_PROBLEM_KATTIS_INTERACTIVE && p->checking != SP_PROBLEM_VALIDATOR)
		fuzz_die("interactive without a validator");

	/* the tree: every test once, in its own group; every group but the
	 * root once, in its parent, which comes before it */
	seen = calloc(p->test_count + p->group_count, sizeof(*seen));
	if (seen == NULL)
		fuzz_die("out of memory");
	for (size_t g = 0; g < p->group_count; g++) {
		const struct sp_problem_group *grp = &p->groups[g];
		struct sp_default_validator_flags flags;
		char why[160];

		if (grp->name == NULL || (g > 0 && (grp->parent < 0 || (size_t)grp->parent >= g)))
			fuzz_die("group %zu: no name, or parent %ld", g, grp->parent);
		if (grp->flag_count > SP_PROBLEM_MAX_FLAGS ||
		    (grp->flag_count > 0 && grp->flags[grp->flag_count] != NULL))
			fuzz_die("group %s: %zu flags", grp->name, grp->flag_count);
		if (p->checking == SP_PROBLEM_DEFAULT_VALIDATOR &&
		    (sp_default_validator_flags_parse((const char *const *)grp->flags,
						      grp->flag_count, &flags, why,
						      sizeof(why)) < 0 ||
		     !same_flags(&flags, &grp->default_flags)))
			fuzz_die("group %s: default validator flags that do not parse to its own",
				 grp->name);
		if (isnan(grp->range_min) || isnan(grp->range_max) ||
		    grp->range_min > grp->range_max)
			fuzz_die("group %s: range %g %g", grp->name, grp->range_min,
				 grp->range_max);
		for (size_t i = 0; i < grp->item_count; i++) {
			const struct sp_problem_item *it = &grp->items[i];
			size_t k = it->is_group ? p->test_count + it->index : it->index;

			if (it->is_group
				? it->index >= p->group_count ||
				      p->groups[it->index].parent != (long)g
				: it->index >= p->test_count || p->tests[it->index].group != g)
				fuzz_die("group %s: item %zu out of place", grp->name, i);
			if (seen[k]++ > 0)
				fuzz_die("group %s: item %zu twice", grp->name, i);
		}
	}
	for (size_t k = 0; k < p->test_count + p->group_count; k++)
		if (seen[k] != (k == p->test_count ? 0u : 1u))
			fuzz_die("item %zu in %zu groups", k, seen[k]);
	free(seen);

	/* the data file: each test's input then answer, the files' bytes */
	data = read_data(fd, p->data_bytes);
	for (size_t i = 0; i < p->test_count; i++) {
		const struct sp_problem_test *t = &p->tests[i];
		const struct sp_archive_file *in, *ans;
		struct sp_check_result res;

		if (t->name == NULL || t->input_offset != at ||
		    t->answer_offset != at + t->input_length)
			fuzz_die("test %zu: not where it follows the one before", i);
		at = t->answer_offset + t->answer_length;
		if (at > p->data_bytes)
			fuzz_die("test %s: past the data file", t->name);
		test_files(p, list, skip, t, &in, &ans);
		check_bytes(t->name, "input", data, t->input_offset, t->input_length, in);
		check_bytes(t->name, "answer", data, t->answer_offset, t->answer_length, ans);
		if (p->checking != SP_PROBLEM_DEFAULT_VALIDATOR)
			continue;
		sp_default_validate(&p->groups[t->group].default_flags,
				    (const char *)data + t->answer_offset, t->answer_length,
				    (const char *)data + t->answer_offset, t->answer_length, &res);
		if (res.outcome != SP_CHECK_ACCEPTED)
			fuzz_die("test %s: its answer is not accepted against itself: %s", t->name,
				 res.message);
	}
	if (at != p->data_bytes)
		fuzz_die("%llu bytes of data, the tests take %llu",
			 (unsigned long long)p->data_bytes, (unsigned long long)at);
	free(data);
}

/* ---- the stored record ------------------------------------------------------- */

static bool same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_strings(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!same_string(a[i], b[i]))
			return false;
	return true;
}

static bool same_double(double a, double b)
{
	return a == b && signbit(a) == signbit(b);
}

static bool same_program(const struct sp_problem_program *a, const struct sp_problem_program *b)
{
	return same_string(a->language, b->language) &&
	       same_strings(a->files, a->file_count, b->files, b->file_count) &&
	       same_strings(a->argv, a->argc, b->argv, b->argc);
}

/* What of group A differs from B, or NULL. */
static const char *group_differs(const struct sp_problem_group *a, const struct sp_problem_group *b,
				 bool default_validator)
{
	if (!same_string(a->name, b->name) || a->parent != b->parent)
		return "name or parent";
	if (a->on_reject_break != b->on_reject_break || a->verdict_mode != b->verdict_mode ||
	    a->score_mode != b->score_mode || a->ignore_sample != b->ignore_sample ||
	    a->accept_if_any_accepted != b->accept_if_any_accepted)
		return "grading modes";
	if (!same_double(a->accept_score, b->accept_score) ||
	    !same_double(a->reject_score, b->reject_score))
		return "scores";
	if (!same_double(a->range_min, b->range_min) || !same_double(a->range_max, b->range_max))
		return "range";
	if (!same_strings(a->flags, a->flag_count, b->flags, b->flag_count))
		return "flags";
	if (default_validator && !same_flags(&a->default_flags, &b->default_flags))
		return "default validator flags";
	if (a->item_count != b->item_count)
		return "items";
	for (size_t i = 0; i < a->item_count; i++)
		if (a->items[i].is_group != b->items[i].is_group ||
		    a->items[i].index != b->items[i].index)
			return "items";
	return NULL;
}

/* What of problem A differs from B, or NULL. */
static const char *problem_differs(const struct sp_problem *a, const struct sp_problem *b,
				   size_t *where)
{
	const char *what;

	*where = 0;
	if (strcmp(a->id, b->id) != 0 || a->format != b->format ||
	    !same_string(a->format_version, b->format_version) || !same_string(a->name, b->name))
		return "id, format or name";
	if (a->scoring != b->scoring || a->checking != b->checking || a->builtin != b->builtin ||
	    a->validator_scores != b->validator_scores || a->interaction != b->interaction)
		return "type or checking";
	if (!same_program(&a->validator, &b->validator) ||
	    !same_program(&a->interactor, &b->interactor))
		return "programs";
	if (a->time_ms != b->time_ms || a->memory_kb != b->memory_kb ||
	    a->output_kb != b->output_kb)
		return "limits";
	if (a->data_bytes != b->data_bytes || a->package_bytes != b->package_bytes ||
	    a->package_files != b->package_files)
		return "sizes";
	if (a->group_count != b->group_count || a->test_count != b->test_count)
		return "counts";
	for (size_t i = 0; i < a->group_count; i++) {
		*where = i;
		what = group_differs(&a->groups[i], &b->groups[i],
				     a->checking == SP_PROBLEM_DEFAULT_VALIDATOR);
		if (what != NULL)
			return what;
	}
	for (size_t i = 0; i < a->test_count; i++) {
		const struct sp_problem_test *x = &a->tests[i], *y = &b->tests[i];

		*where = i;
		if (!same_string(x->name, y->name) || x->group != y->group ||
		    x->input_offset != y->input_offset || x->input_length != y->input_length ||
		    x->answer_offset != y->answer_offset || x->answer_length != y->answer_length)
			return "a test";
	}
	return NULL;
}

/* A command for PROG, as building it would record one. */
static void give_command(struct sp_problem_program *prog)
{
	if (prog->language == NULL)
		return;
	prog->argv = calloc(3, sizeof(*prog->argv));
	if (prog->argv == NULL || (prog->argv[0] = strdup("/box/run")) == NULL ||
	    (prog->argv[1] = strdup(prog->files[0])) == NULL)
		fuzz_die("out of memory");
	prog->argc = 2;
}

static char *record_of(const struct sp_problem *p)
{
	json_t *doc = sp_problem_to_json(p);
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	return text;
}

static void check_view(const struct sp_problem *p)
{
	json_t *view = sp_problem_view(p);

	if (!json_is_object(view) ||
	    json_integer_value(json_object_get(view, "tests")) != (json_int_t)p->test_count ||
	    json_array_size(json_object_get(view, "groups")) != p->group_count)
		fuzz_die("no view of the problem, or a wrong one");
	json_decref(view);
}

/* The problem stored as the server stores it, and read back. */
static void round_trip(struct sp_problem *p)
{
	struct sp_problem back;
	struct sp_error err = {0};
	json_error_t jerr;
	char *text, *again;
	const char *what;
	size_t where;
	json_t *doc;

	give_command(&p->validator);
	give_command(&p->interactor);
	text = record_of(p);
	if (text == NULL)
		fuzz_die("a package taken whose problem cannot be written as JSON (%zu groups, "
			 "scoring %d)",
			 p->group_count, p->scoring);
	doc = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		fuzz_die("problem.json does not load: %s: %s", jerr.text, text);
	if (sp_problem_from_json(doc, &back, &err) < 0)
		fuzz_die("problem.json is refused: %s: %s", err.message, text);
	json_decref(doc);
	what = problem_differs(p, &back, &where);
	if (what != NULL)
		fuzz_die("problem.json read back differs in %s (%zu): %s", what, where, text);
	again = record_of(&back);
	if (again == NULL || strcmp(text, again) != 0)
		fuzz_die("problem.json written again differs:\n%s\n%s", text,
			 again ? again : "(none)");
	check_view(p);
	check_view(&back);
	free(again);
	free(text);
	sp_problem_free(&back);
}

/* ---- the package steps ------------------------------------------------------ */

static void clear_fd(int fd)
{
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		fuzz_die("data file: %s", strerror(errno));
}

/* LIST read with sp_package_read() into the data file FD: 0 with its
 * problem's record text in *RECORD (NULL when it cannot be written), or -1
 * when refused. */
static int read_package(const struct sp_archive_files *list, int fd, struct sp_package *pk,
			struct sp_error *err, char **record)
{
	static const struct sp_package empty;

	clear_fd(fd);
	memset(err, 0, sizeof(*err));
	*record = NULL;
	if (sp_package_read(list, &languages, MAX_TESTS, fd, pk, err) < 0) {
		if (memcmp(pk, &empty, sizeof(*pk)) != 0)
			fuzz_die("refused, but the package is not left empty");
		if (err->errnum != EINVAL && err->errnum != ENOMEM)
			fuzz_die("refused with errno %d: %s", err->errnum, err->message);
		if (!message_ok(err->message, sizeof(err->message)))
			fuzz_die("refused with a message empty, long or not UTF-8");
		return -1;
	}
	*record = record_of(&pk->problem);
	return 0;
}

/* The same files, in another order (reversed), or each under "t/". */
static void variant(const struct sp_archive_files *list, bool in_top, struct sp_archive_files *out)
{
	out->files = calloc(list->count + 1, sizeof(*out->files));
	out->count = list->count;
	if (out->files == NULL)
		fuzz_die("out of memory");
	for (size_t i = 0; i < list->count; i++) {
		const struct sp_archive_file *f = &list->files[in_top ? i : list->count - 1 - i];
		char *name = malloc(strlen(f->name) + 3);

		if (name == NULL)
			fuzz_die("out of memory");
		sprintf(name, "%s%s", in_top ? "t/" : "", f->name);
		out->files[i] = *f;
		out->files[i].name = name;
	}
}

static void free_variant(struct sp_archive_files *v)
{
	for (size_t i = 0; i < v->count; i++)
		free(v->files[i].name);
	free(v->files);
}

/* Whether every name of LIST under "t/" is still a name the archive reader
 * takes. */
static bool fits_in_top(const struct sp_archive_files *list)
{
	char name[SP_REQUEST_MAX_NAME + 8];

	for (size_t i = 0; i < list->count; i++) {
		int n = snprintf(name, sizeof(name), "t/%s", list->files[i].name);

		if (n < 0 || (size_t)n >= sizeof(name) ||
		    sp_request_name_problem(name, (size_t)n) != NULL)
			return false;
	}
	return true;
}

/* LIST's variant (IN_TOP: in a top folder, else reordered) reads as LIST
 * did: RC, RECORD, ERR. */
static void check_variant(const struct sp_archive_files *list, bool in_top, int rc,
			  const char *record, const struct sp_error *want_err)
{
	const char *how = in_top ? "in a top folder" : "reordered";
	struct sp_archive_files v;
	struct sp_package pk;
	struct sp_error err;
	char *got;

	variant(list, in_top, &v);
	if (read_package(&v, data_fds[in_top ? 2 : 1], &pk, &err, &got) != rc)
		fuzz_die("%s, the package is %s: %s", how, rc == 0 ? "refused" : "taken",
			 rc == 0 ? err.message : want_err->message);
	if (got != NULL && record != NULL && strcmp(got, record) != 0)
		fuzz_die("%s, the package reads otherwise:\n%s\n%s", how, record, got);
	if (rc < 0 && want_err->errnum == EINVAL && err.errnum == EINVAL &&
	    strcmp(err.message, want_err->message) != 0)
		fuzz_die("%s, the package is refused otherwise:\n%s\n%s", how, want_err->message,
			 err.message);
	free(got);
	sp_package_free(&pk);
	free_variant(&v);
}

static void package_steps(const struct sp_archive_files *list)
{
	struct sp_package pk;
	struct sp_error err;
	size_t skip = shared_top(list);
	char *record;
	int rc = read_package(list, data_fds[0], &pk, &err, &record);

	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz: %zu files: %s\n", list->count,
			rc < 0		 ? err.message
			: record != NULL ? record
					 : "taken, no record");
	if (rc == 0)
		check_problem(&pk, list, skip, data_fds[0]);
	if (list->count > 1)
		check_variant(list, false, rc, record, &err);
	if (skip == 0 && list->count > 0 && fits_in_top(list))
		check_variant(list, true, rc, record, &err);
	if (rc == 0)
		round_trip(&pk.problem);
	free(record);
	sp_package_free(&pk);
}

static void fuzz_archive(const uint8_t *data, size_t size)
{
	struct sp_archive_files list = {0};
	struct sp_error err = {0};
	uint8_t *fixed = malloc(size ? size : 1);

	if (fixed == NULL)
		fuzz_die("out of memory");
	memcpy(fixed, data, size);
	if (size < 2 || fixed[0] != 'P' || fixed[1] != 'K')
		fuzz_tar_fix_checksums(fixed, size);
	if (sp_archive_files_read(fixed, size, SP_ARCHIVE_ANY, &limits, &list, &err) == 0)
		package_steps(&list);
	sp_archive_files_free(&list);
	free(fixed);
}

static void fuzz_files(const uint8_t *data, size_t size)
{
	struct sp_archive_files list;

	split_files(data, size, &list);
	package_steps(&list);
	sp_archive_files_free(&list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char modes[] = "AFYV";
	const char *mode;
	int lowest = fuzz_lowest_free_fd();

	if (size == 0)
		return 0;
	mode = data[0] != 0 ? strchr(modes, data[0]) : NULL;
	switch (mode != NULL ? *mode : modes[data[0] % 4]) {
	case 'A':
		fuzz_archive(data + 1, size - 1);
		break;
	case 'F':
		fuzz_files(data + 1, size - 1);
		break;
	case 'Y':
		fuzz_yaml(data + 1, size - 1);
		break;
	default:
		fuzz_validator(data + 1, size - 1);
		break;
	}
	if (fuzz_lowest_free_fd() != lowest)
		fuzz_die("a descriptor left open");
	return 0;
}
