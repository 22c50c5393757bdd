/* The plain package format: problem_plain.h. */
#include "problem_plain.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the plain format --------------------------------------------------------- */

/* Compare names with runs of digits as numbers: "2" < "10". */
static int natural_compare(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;
			size_t la, lb;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			if (la != lb)
				return la < lb ? -1 : 1;
			if (memcmp(a, b, la) != 0)
				return memcmp(a, b, la);
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a == *b ? 0 : (*a == '\0' ? -1 : 1);
}

static int compare_natural(const void *a, const void *b)
{
	return natural_compare(*(char *const *)a, *(char *const *)b);
}

/* Every NAME of a NAME.in, natural order, into *STEMS (freed by the caller
 * with sp_build_names_free). */
static long plain_stems(struct sp_problem_build *b, char ***stems)
{
	size_t count = 0;

	*stems = calloc(b->entry_count + 1, sizeof(**stems));
	if (*stems == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	for (size_t i = 0; i < b->entry_count; i++) {
		const char *path = b->entries[i].path;
		size_t n = strlen(path);

		if (n < 4 || strcmp(path + n - 3, ".in") != 0)
			continue;
		(*stems)[count] = strndup(path, n - 3);
		if ((*stems)[count++] == NULL)
			return sp_error_set(b->err, ENOMEM, "problem");
	}
	qsort(*stems, count, sizeof(**stems), compare_natural);
	return (long)count;
}

static const struct sp_archive_file *with_ext(const struct sp_problem_build *b, const char *stem,
					      const char *ext)
{
	char path[SP_REQUEST_MAX_NAME + 8];

	snprintf(path, sizeof(path), "%s%s", stem, ext);
	return sp_build_file(b, path);
}

static int plain_tests(struct sp_problem_build *b, size_t group, bool answers_needed)
{
	char **stems = NULL;
	long count = plain_stems(b, &stems);
	int rc = count < 0 ? -1 : 0;

	if (count == 0)
		rc = sp_build_fail(b, "no test: the package has neither problem.yaml nor a "
				      "NAME.in with its NAME.ans or NAME.out");
	for (long i = 0; rc == 0 && i < count; i++) {
		const struct sp_archive_file *answer = with_ext(b, stems[i], ".ans");

		if (answer == NULL)
			answer = with_ext(b, stems[i], ".out");
		if (answer == NULL && answers_needed)
			rc = sp_build_fail(b, "%s.in has no %s.ans nor %s.out beside it", stems[i],
					   stems[i], stems[i]);
		else
			rc =
			    sp_build_test(b, group, stems[i], with_ext(b, stems[i], ".in"), answer);
	}
	sp_build_names_free(stems);
	return rc;
}

/* The file at the top named STEM.EXT for a served language, or NULL. */
static const char *plain_program(struct sp_problem_build *b, const char *const *stems)
{
	for (size_t i = 0; i < b->entry_count; i++) {
		const char *path = b->entries[i].path;

		for (size_t k = 0; stems[k] != NULL; k++) {
			size_t n = strlen(stems[k]);

			if (strncmp(path, stems[k], n) == 0 && path[n] == '.' &&
			    strchr(path, '/') == NULL && !sp_build_is_header(path) &&
			    sp_build_language_of(b, path) != NULL)
				return path;
		}
	}
	return NULL;
}

/* The headers at the top (testlib.h), for the programs. */
static const char **plain_headers(struct sp_problem_build *b)
{
	const char **list = calloc(b->entry_count + 1, sizeof(*list));
	size_t n = 0;

	for (size_t i = 0; list != NULL && i < b->entry_count; i++)
		if (strchr(b->entries[i].path, '/') == NULL &&
		    sp_build_is_header(b->entries[i].path))
			list[n++] = b->entries[i].path;
	if (list == NULL)
		sp_error_set(b->err, ENOMEM, "problem");
	return list;
}

static int plain_programs(struct sp_problem_build *b)
{
	struct sp_package *pk = b->package;
	struct sp_problem *p = &pk->problem;
	const char *checker = plain_program(b, (const char *const[]){"checker", "check", NULL});
	const char *interactor = plain_program(b, (const char *const[]){"interactor", NULL});
	const char **headers = plain_headers(b);
	int rc = headers != NULL ? 0 : -1;

	p->checking = checker != NULL ? SP_PROBLEM_TESTLIB : SP_PROBLEM_BUILTIN;
	p->builtin = SP_CHECKER_TOKENS;
	if (rc == 0 && checker != NULL)
		rc =
		    sp_build_program(b, checker, "checker", headers, &p->validator, &pk->validator);
	if (rc == 0 && interactor != NULL) {
		p->interaction = SP_PROBLEM_TESTLIB_INTERACTOR;
		rc = sp_build_program(b, interactor, "interactor", headers, &p->interactor,
				      &pk->interactor);
	}
	free(headers);
	return rc;
}

int sp_plain_read(struct sp_problem_build *b)
{
	struct sp_problem *p = &b->package->problem;
	struct sp_problem_group settings = {.on_reject_break = true,
					    .accept_score = 1,
					    .range_min = -INFINITY,
					    .range_max = INFINITY};

	p->format = SP_PROBLEM_PLAIN;
	if (plain_programs(b) < 0 || sp_build_group(b, -1, "tests", &settings) < 0)
		return -1;
	return plain_tests(b, 0, p->interaction == SP_PROBLEM_NOT_INTERACTIVE);
}
