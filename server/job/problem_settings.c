/* A package's settings from its YAML files: problem_settings.h. */
#include "problem_settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_doc.h"

/* A problem.yaml or testdata.yaml larger than this is refused. */
#define YAML_MAX (1024 * 1024)

/* ---- YAML --------------------------------------------------------------------- */

/* PATH read as YAML into *DOC ({} when the file is missing or empty). */
int sp_settings_read(struct sp_problem_build *b, const char *path, json_t **doc)
{
	const struct sp_archive_file *f = sp_build_file(b, path);

	*doc = NULL;
	if (f == NULL) {
		*doc = json_object();
		return *doc != NULL ? 0 : sp_error_set(b->err, ENOMEM, "problem");
	}
	if (f->length > YAML_MAX)
		return sp_build_fail(b, "%s: larger than %d bytes", path, YAML_MAX);
	if (sp_yaml_parse((const char *)f->data, f->length, path, doc, b->err) < 0)
		return -1;
	if (json_is_null(*doc)) {
		json_decref(*doc);
		*doc = json_object();
	}
	if (*doc == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	if (!json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		return sp_build_fail(b, "%s: not a mapping of keys", path);
	}
	return 0;
}

/* Each key of DOC must be one of KEYS. */
int sp_settings_known(struct sp_problem_build *b, json_t *doc, const char *where,
		      const char *const *keys)
{
	const char *key;
	json_t *v;

	json_object_foreach(doc, key, v)
	{
		size_t i = 0;

		while (keys[i] != NULL && strcmp(keys[i], key) != 0)
			i++;
		if (keys[i] == NULL)
			return sp_build_fail(b, "%s: unknown key \"%.100s\"", where, key);
	}
	return 0;
}

/* A number of DOC's KEY (a YAML number, or a string that is one), into
 * *OUT; left as it is when the key is missing. */
int sp_settings_number(struct sp_problem_build *b, json_t *doc, const char *key, const char *where,
		       double *out)
{
	json_t *v = json_object_get(doc, key);
	char *end = NULL;
	double d;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	/* "inf" and "nan" (the YAML reader's .inf and .nan) are numbers of no
	 * use here: a score or a limit is finite */
	if (json_is_string(v)) {
		d = strtod(json_string_value(v), &end);
		if (end != json_string_value(v) && *end == '\0' && isfinite(d)) {
			*out = d;
			return 0;
		}
	}
	return sp_build_fail(b, "%s: %s must be a finite number", where, key);
}

/* A string of DOC's KEY, or NULL when missing. -1 when it is not one. */
int sp_settings_text(struct sp_problem_build *b, json_t *doc, const char *key, const char *where,
		     const char **out)
{
	json_t *v = json_object_get(doc, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return sp_build_fail(b, "%s: %s must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

/* A size in MiB into KiB. */
int sp_settings_mib(struct sp_problem_build *b, json_t *limits, const char *key, uint64_t *kb)
{
	double mib = 0;

	if (sp_settings_number(b, limits, key, "problem.yaml limits", &mib) < 0)
		return -1;
	if (!(mib >= 0 && mib <= 1024 * 1024))
		return sp_build_fail(b, "problem.yaml limits: %s must be 0 to 1048576 (MiB)", key);
	*kb = (uint64_t)(mib * 1024);
	return 0;
}

/* ---- testdata.yaml (legacy) ---------------------------------------------------- */

static const char *const testdata_keys[] = {"on_reject",
					    "grading",
					    "grader_flags",
					    "input_validator_flags",
					    "output_validator_flags",
					    "accept_score",
					    "reject_score",
					    "range",
					    NULL};

/* The default grader's flags: modes and flags it knows; others it skips. */
static void read_grader_flags(struct sp_problem_group *g, const char *words)
{
	static const char *const verdicts[] = {"worst_error", "first_error", "always_accept",
					       "no_errors"};
	static const char *const scores[] = {"sum", "avg", "min", "max"};
	char word[64];

	for (const char *p = words; p != NULL && *p != '\0';) {
		size_t n;

		p += strspn(p, " \t\r\n");
		n = strcspn(p, " \t\r\n");
		snprintf(word, sizeof(word), "%.*s", (int)(n < 63 ? n : 63), p);
		p += n;
		for (int i = 0; i < 4; i++) {
			if (strcmp(word, verdicts[i]) == 0)
				g->verdict_mode =
				    i == 3 ? SP_GRADE_WORST_ERROR : (enum sp_grade_verdict)i;
			if (strcmp(word, scores[i]) == 0)
				g->score_mode = (enum sp_grade_score)i;
		}
		if (strcmp(word, "ignore_sample") == 0)
			g->ignore_sample = true;
		if (strcmp(word, "accept_if_any_accepted") == 0)
			g->accept_if_any_accepted = true;
	}
}

int sp_settings_range(struct sp_problem_build *b, const char *text, const char *where,
		      struct sp_problem_group *g)
{
	char *end = NULL;
	double lo = strtod(text, &end), hi;
	const char *rest = end;

	if (end == text)
		return sp_build_fail(b, "%s: range must be two numbers", where);
	hi = strtod(rest, &end);
	while (end != NULL && (*end == ' ' || *end == '\t'))
		end++;
	/* a range that holds a number: not above +inf, nor below -inf */
	if (end == rest || *end != '\0' || isnan(lo) || isnan(hi) || lo > hi || lo == INFINITY ||
	    hi == -INFINITY)
		return sp_build_fail(b,
				     "%s: range must be two numbers, the first no larger, "
				     "holding some number",
				     where);
	g->range_min = lo;
	g->range_max = hi;
	return 0;
}

static int read_on_reject(struct sp_problem_build *b, json_t *doc, const char *where,
			  struct sp_problem_group *g)
{
	const char *v = NULL;

	if (sp_settings_text(b, doc, "on_reject", where, &v) < 0)
		return -1;
	if (v == NULL)
		return 0;
	if (strcmp(v, "break") != 0 && strcmp(v, "continue") != 0)
		return sp_build_fail(b, "%s: on_reject must be break or continue", where);
	g->on_reject_break = strcmp(v, "break") == 0;
	return 0;
}

int sp_settings_testdata(struct sp_problem_build *b, json_t *doc, const char *where,
			 struct sp_problem_group *g, const char **validator_flags)
{
	const char *grading = NULL, *grader = NULL, *range = NULL;

	if (sp_settings_known(b, doc, where, testdata_keys) < 0 ||
	    read_on_reject(b, doc, where, g) < 0 ||
	    sp_settings_text(b, doc, "grading", where, &grading) < 0 ||
	    sp_settings_text(b, doc, "grader_flags", where, &grader) < 0 ||
	    sp_settings_number(b, doc, "accept_score", where, &g->accept_score) < 0 ||
	    sp_settings_number(b, doc, "reject_score", where, &g->reject_score) < 0 ||
	    sp_settings_text(b, doc, "range", where, &range) < 0)
		return -1;
	if (grading != NULL && strcmp(grading, "default") != 0)
		return sp_build_fail(b,
				     "%s: grading \"%.40s\": only the default grader is "
				     "supported",
				     where, grading);
	if (grader != NULL) {
		/* each group's grader flags are its own: modes are not summed */
		g->verdict_mode = SP_GRADE_WORST_ERROR;
		g->score_mode = SP_GRADE_SUM;
		g->ignore_sample = g->accept_if_any_accepted = false;
		read_grader_flags(g, grader);
	}
	if (json_object_get(doc, "output_validator_flags") != NULL &&
	    sp_settings_text(b, doc, "output_validator_flags", where, validator_flags) < 0)
		return -1;
	return range != NULL ? sp_settings_range(b, range, where, g) : 0;
}
