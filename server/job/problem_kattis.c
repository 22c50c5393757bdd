/* The ICPC/Kattis problem package format (problem_package.h says what of
 * it is read). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem_kattis.h"
#include "problem_settings.h"

enum version { LEGACY, NEWER };

/* A group's settings while the tree is walked: the group's own, and its
 * validator flags as its nearest testdata.yaml gives them. */
struct settings {
	struct sp_problem_group group;
	const char *flags; /* output_validator_flags (legacy); NULL: none */
	json_t *flag_list; /* output_validator_args (newer); borrowed */
	bool in_group;	   /* newer: inside one of secret's groups */
};

struct kattis {
	struct sp_problem_build *b;
	enum version version;
	json_t *problem_yaml; /* {} when there is none */
	const char *validator_flags;
	bool interactive;
	bool custom;
};

/* ---- problem.yaml ------------------------------------------------------------- */

static const char *const legacy_keys[] = {"problem_format_version",
					  "type",
					  "name",
					  "uuid",
					  "author",
					  "source",
					  "source_url",
					  "license",
					  "rights_owner",
					  "limits",
					  "validation",
					  "validator_flags",
					  "grading",
					  "keywords",
					  NULL};
static const char *const newer_keys[] = {"problem_format_version",
					 "type",
					 "name",
					 "uuid",
					 "version",
					 "credits",
					 "source",
					 "license",
					 "rights_owner",
					 "embargo_until",
					 "limits",
					 "keywords",
					 "languages",
					 "allow_file_writing",
					 "constants",
					 NULL};
static const char *const legacy_limits[] = {"time_multiplier",
					    "time_safety_margin",
					    "memory",
					    "output",
					    "code",
					    "compilation_time",
					    "compilation_memory",
					    "validation_time",
					    "validation_memory",
					    "validation_output",
					    NULL};
static const char *const newer_limits[] = {"time_multipliers",
					   "time_limit",
					   "time_resolution",
					   "memory",
					   "output",
					   "code",
					   "compilation_time",
					   "compilation_memory",
					   "validation_time",
					   "validation_memory",
					   "validation_output",
					   "validation_passes",
					   NULL};

static int read_version(struct kattis *k)
{
	const char *v = NULL;

	if (sp_settings_text(k->b, k->problem_yaml, "problem_format_version", "problem.yaml", &v) <
	    0)
		return -1;
	k->version = LEGACY;
	if (v == NULL || strcmp(v, "legacy") == 0 || strcmp(v, "legacy-icpc") == 0)
		return 0;
	if (strcmp(v, "2023-07-draft") == 0 || strcmp(v, "2023-07") == 0 ||
	    strcmp(v, "2025-09") == 0 || strcmp(v, "draft") == 0) {
		k->version = NEWER;
		return 0;
	}
	return sp_build_fail(k->b,
			     "problem.yaml: problem_format_version \"%.60s\" is not one "
			     "this server reads (legacy, 2023-07, 2025-09)",
			     v);
}

/* The name: a string, or a map of languages to names (English first). */
static int read_name(struct kattis *k)
{
	json_t *v = json_object_get(k->problem_yaml, "name");
	const char *name = json_string_value(v);

	if (json_is_object(v)) {
		name = json_string_value(json_object_get(v, "en"));
		if (name == NULL && json_object_size(v) > 0)
			name = json_string_value(json_object_iter_value(json_object_iter(v)));
	}
	if (name == NULL)
		return v == NULL || json_is_null(v) ? 0
						    : sp_build_fail(k->b, "problem.yaml: bad name");
	k->b->package->problem.name = strdup(name);
	return k->b->package->problem.name != NULL ? 0 : sp_error_set(k->b->err, ENOMEM, "name");
}

/* The newer type: a string or a list of pass-fail, scoring, interactive. */
static int read_newer_type(struct kattis *k)
{
	json_t *v = json_object_get(k->problem_yaml, "type"), *one;
	json_t *list = json_is_string(v) ? json_pack("[O]", v) : json_incref(v);
	size_t i;
	int rc = 0;

	if (v == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) == 0)
		rc = sp_build_fail(k->b, "problem.yaml: type must be a string or a list of them");
	json_array_foreach(list, i, one)
	{
		const char *t = json_string_value(one);

		if (rc < 0)
			break;
		if (t != NULL && strcmp(t, "scoring") == 0)
			k->b->package->problem.scoring = true;
		else if (t != NULL && strcmp(t, "interactive") == 0)
			k->interactive = true;
		else if (t == NULL || strcmp(t, "pass-fail") != 0)
			rc = sp_build_fail(k->b, "problem.yaml: type \"%.40s\" is not supported",
					   t ? t : "?");
	}
	json_decref(list);
	k->custom = k->interactive;
	return rc;
}

/* The legacy type and validation. */
static int read_legacy_type(struct kattis *k)
{
	const char *type = NULL, *validation = NULL;
	char words[256];

	if (sp_settings_text(k->b, k->problem_yaml, "type", "problem.yaml", &type) < 0 ||
	    sp_settings_text(k->b, k->problem_yaml, "validation", "problem.yaml", &validation) <
		0 ||
	    sp_settings_text(k->b, k->problem_yaml, "validator_flags", "problem.yaml",
			     &k->validator_flags) < 0)
		return -1;
	if (type != NULL && strcmp(type, "scoring") == 0)
		k->b->package->problem.scoring = true;
	else if (type != NULL && strcmp(type, "pass-fail") != 0)
		return sp_build_fail(k->b, "problem.yaml: type must be pass-fail or scoring");
	snprintf(words, sizeof(words), " %s ", validation ? validation : "default");
	k->custom = strncmp(words, " custom ", 8) == 0;
	k->interactive = strstr(words, " interactive ") != NULL;
	k->b->package->problem.validator_scores = strstr(words, " score ") != NULL;
	if (!k->custom && strncmp(words, " default ", 9) != 0)
		return sp_build_fail(k->b, "problem.yaml: validation must begin with default or "
					   "custom");
	return 0;
}

static int read_limits(struct kattis *k)
{
	json_t *limits = json_object_get(k->problem_yaml, "limits");
	struct sp_problem *p = &k->b->package->problem;
	double seconds = 0;

	if (limits == NULL || json_is_null(limits))
		return 0;
	if (!json_is_object(limits))
		return sp_build_fail(k->b, "problem.yaml: limits must be a mapping");
	if (sp_settings_known(k->b, limits, "problem.yaml limits",
			      k->version == LEGACY ? legacy_limits : newer_limits) < 0 ||
	    sp_settings_mib(k->b, limits, "memory", &p->memory_kb) < 0 ||
	    sp_settings_mib(k->b, limits, "output", &p->output_kb) < 0 ||
	    sp_settings_number(k->b, limits, "time_limit", "problem.yaml limits", &seconds) < 0)
		return -1;
	if (!(seconds >= 0 && seconds <= 3600))
		return sp_build_fail(k->b, "problem.yaml limits: time_limit must be 0 to 3600 "
					   "(seconds)");
	p->time_ms = (uint64_t)ceil(seconds * 1000);
	return 0;
}

/* DOMjudge's .timelimit: seconds, when the package has no time limit. */
static int read_timelimit_file(struct kattis *k)
{
	const struct sp_archive_file *f = sp_build_file(k->b, ".timelimit");
	char text[64], *end = NULL;
	double seconds;

	if (f == NULL || k->b->package->problem.time_ms > 0)
		return 0;
	if (f->length >= sizeof(text))
		return sp_build_fail(k->b, ".timelimit: not a number of seconds");
	memcpy(text, f->data, f->length);
	text[f->length] = '\0';
	seconds = strtod(text, &end);
	while (end != NULL && (*end == '\n' || *end == ' ' || *end == '\r' || *end == '\t'))
		end++;
	if (end == text || end == NULL || *end != '\0' || !(seconds > 0 && seconds <= 3600))
		return sp_build_fail(k->b, ".timelimit: not a number of seconds (0 to 3600)");
	k->b->package->problem.time_ms = (uint64_t)ceil(seconds * 1000);
	return 0;
}

/* The legacy grading keys of problem.yaml, which every group inherits. */
static int apply_legacy_grading(struct kattis *k, struct settings *s)
{
	json_t *grading = json_object_get(k->problem_yaml, "grading");
	const char *on_reject = NULL, *range = NULL;

	if (grading == NULL || json_is_null(grading))
		return 0;
	if (!json_is_object(grading))
		return sp_build_fail(k->b, "problem.yaml: grading must be a mapping");
	if (sp_settings_known(k->b, grading, "problem.yaml grading",
			      (const char *const[]){"objective", "show_test_data_groups",
						    "accept_score", "reject_score", "range",
						    "on_reject", NULL}) < 0 ||
	    sp_settings_number(k->b, grading, "accept_score", "problem.yaml grading",
			       &s->group.accept_score) < 0 ||
	    sp_settings_number(k->b, grading, "reject_score", "problem.yaml grading",
			       &s->group.reject_score) < 0 ||
	    sp_settings_text(k->b, grading, "on_reject", "problem.yaml grading", &on_reject) < 0 ||
	    sp_settings_text(k->b, grading, "range", "problem.yaml grading", &range) < 0)
		return -1;
	if (on_reject != NULL)
		s->group.on_reject_break = strcmp(on_reject, "grade") != 0;
	return range != NULL ? sp_settings_range(k->b, range, "problem.yaml grading", &s->group)
			     : 0;
}

/* ---- the tree of tests -------------------------------------------------------- */

/* Whether the format lets NAME be a file's or folder's name (others are
 * left out of the package). */
static bool allowed_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255 || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* The group's validator flags: the problem's, then its own. */
static int group_flags(struct kattis *k, struct sp_problem_group *g, const struct settings *s)
{
	char why[160];

	if (sp_build_add_flags(k->b, g, k->validator_flags) < 0 ||
	    sp_build_add_flags(k->b, g, s->flags) < 0)
		return -1;
	for (size_t i = 0; s->flag_list != NULL && i < json_array_size(s->flag_list); i++) {
		const char *word = json_string_value(json_array_get(s->flag_list, i));

		if (word == NULL || strpbrk(word, " \t\r\n") != NULL)
			return sp_build_fail(k->b,
					     "%s: output_validator_args must be a list of "
					     "words",
					     g->name);
		if (sp_build_add_flags(k->b, g, word) < 0)
			return -1;
	}
	if (k->custom)
		return 0;
	if (sp_default_validator_flags_parse((const char *const *)g->flags, g->flag_count,
					     &g->default_flags, why, sizeof(why)) < 0)
		return sp_build_fail(k->b, "%s: the default validator's flags: %s", g->name, why);
	return 0;
}

static long new_group(struct kattis *k, long parent, const char *dir, const struct settings *s)
{
	long g = sp_build_group(k->b, parent, dir, &s->group);

	/* ignore_sample is the root's only: a group below that inherits it
	 * does not take it (problemtools refuses such a package) */
	if (g > 0)
		k->b->package->problem.groups[g].ignore_sample = false;

	if (g < 0 || group_flags(k, &k->b->package->problem.groups[g], s) < 0)
		return -1;
	return g;
}

static int walk(struct kattis *k, const char *dir, long parent, struct settings s);

/* The test DIR/STEM (its .in and .ans) in GROUP. */
static int add_test(struct kattis *k, const char *dir, const char *stem, long group)
{
	char in[SP_REQUEST_MAX_NAME + 8], ans[SP_REQUEST_MAX_NAME + 8];
	const struct sp_archive_file *input, *answer;

	snprintf(in, sizeof(in), "%s/%s.in", dir, stem);
	snprintf(ans, sizeof(ans), "%s/%s.ans", dir, stem);
	input = sp_build_file(k->b, in);
	answer = sp_build_file(k->b, ans);
	if (input == NULL || answer == NULL)
		return 0; /* not a test: an .ans alone */
	/* named from data/, without the extension */
	if (strcmp(dir, "data") == 0)
		snprintf(in, sizeof(in), "%s", stem);
	else
		snprintf(in, sizeof(in), "%s/%s", dir + strlen("data/"), stem);
	return sp_build_test(k->b, (size_t)group, in, input, answer);
}

/* Whether DIR's folder NAME is not test data: in the newer format, data/
 * holds sample and secret to judge, and folders of other uses
 * (invalid_input, valid_output...). */
static bool skipped_folder(struct kattis *k, const char *dir, const char *name)
{
	return k->version == NEWER && strcmp(dir, "data") == 0 && strcmp(name, "sample") != 0 &&
	       strcmp(name, "secret") != 0 && sp_build_is_dir(k->b, dir, name);
}

/* Each item of DIR, in order, into GROUP. */
static int walk_items(struct kattis *k, const char *dir, long group, const struct settings *s)
{
	char **names = NULL;
	long count = sp_build_children(k->b, dir, &names);
	int rc = count < 0 ? sp_error_set(k->b->err, ENOMEM, "problem") : 0;

	for (long i = 0; rc == 0 && i < count; i++) {
		char path[SP_REQUEST_MAX_NAME + 2];
		size_t n = strlen(names[i]);

		if (!allowed_name(names[i]) || skipped_folder(k, dir, names[i]))
			continue;
		if (n > 6 && strcmp(names[i] + n - 6, ".files") == 0 &&
		    sp_build_is_dir(k->b, dir, names[i])) {
			rc = sp_build_fail(k->b,
					   "%s/%s: input files of a test (.files) are not "
					   "supported",
					   dir, names[i]);
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (sp_build_is_dir(k->b, dir, names[i]))
			rc = walk(k, path, group, *s);
		else if (n > 4 && strcmp(names[i] + n - 4, ".ans") == 0) {
			names[i][n - 4] = '\0';
			rc = add_test(k, dir, names[i], group);
		}
	}
	sp_build_names_free(names);
	return rc;
}

/* ---- the newer format's groups ----------------------------------------------- */

static const char *const test_group_keys[] = {"max_score",
					      "score_aggregation",
					      "static_validation_score",
					      "require_pass",
					      "args",
					      "input_validator_args",
					      "static_validator_args",
					      "output_validator_args",
					      "input_visualizer_args",
					      "output_visualizer_args",
					      "full_feedback",
					      NULL};

/* The tests under DIR, nested folders included. */
static size_t count_tests(struct kattis *k, const char *dir)
{
	char prefix[SP_REQUEST_MAX_NAME + 2];
	size_t n = 0, len;

	snprintf(prefix, sizeof(prefix), "%s/", dir);
	len = strlen(prefix);
	for (size_t i = 0; i < k->b->entry_count; i++) {
		const char *p = k->b->entries[i].path;
		size_t l = strlen(p);
		char in[SP_REQUEST_MAX_NAME + 8];

		if (strncmp(p, prefix, len) != 0 || l < 4 || strcmp(p + l - 4, ".ans") != 0)
			continue;
		snprintf(in, sizeof(in), "%.*s.in", (int)(l - 4), p);
		n += sp_build_file(k->b, in) != NULL;
	}
	return n;
}

/* max_score and score_aggregation laid onto the default grader: a group's
 * tests are worth its max_score divided among them (sum), or max_score
 * each (min and pass-fail: the least, so all or nothing). */
static int apply_newer_scoring(struct kattis *k, json_t *doc, const char *dir, struct settings *s)
{
	const char *aggregation = NULL;
	double max_score = strcmp(dir, "data/secret") == 0 ? 100 : NAN;
	size_t tests = count_tests(k, dir);

	if (sp_settings_text(k->b, doc, "score_aggregation", dir, &aggregation) < 0 ||
	    sp_settings_number(k->b, doc, "max_score", dir, &max_score) < 0)
		return -1;
	if (aggregation == NULL)
		aggregation = strcmp(dir, "data/secret") == 0 ? "sum" : "pass-fail";
	if (isnan(max_score) || max_score < 0)
		return sp_build_fail(k->b,
				     "%s: max_score must be given, a number of 0 or more "
				     "(unbounded is not supported)",
				     dir);
	if (strcmp(aggregation, "sum") == 0) {
		s->group.score_mode = SP_GRADE_SUM;
		s->group.on_reject_break = false;
		s->group.accept_score = tests > 0 ? max_score / (double)tests : 0;
	} else if (strcmp(aggregation, "min") == 0 || strcmp(aggregation, "pass-fail") == 0) {
		/* one rejection is 0: the rest need not run */
		s->group.score_mode = SP_GRADE_MIN;
		s->group.on_reject_break = true;
		s->group.accept_score = max_score;
	} else {
		return sp_build_fail(k->b, "%s: score_aggregation must be pass-fail, sum or min",
				     dir);
	}
	s->group.reject_score = 0;
	return 0;
}

/* DIR's test_group.yaml (newer format) over S. */
static int apply_test_group(struct kattis *k, json_t *doc, const char *dir, struct settings *s)
{
	json_t *args = json_object_get(doc, "args");
	json_t *ov = json_object_get(doc, "output_validator_args");

	if (sp_settings_known(k->b, doc, dir, test_group_keys) < 0)
		return -1;
	if (json_object_get(doc, "require_pass") != NULL ||
	    json_object_get(doc, "static_validation_score") != NULL)
		return sp_build_fail(k->b,
				     "%s: require_pass and static validation are not "
				     "supported",
				     dir);
	if (args != NULL && json_array_size(args) > 0)
		return sp_build_fail(k->b, "%s: args for the submission are not supported", dir);
	if (ov != NULL && !json_is_array(ov))
		return sp_build_fail(k->b, "%s: output_validator_args must be a list", dir);
	if (ov != NULL)
		s->flag_list = ov;
	if (k->b->package->problem.scoring && strcmp(dir, "data/sample") != 0)
		return apply_newer_scoring(k, doc, dir, s);
	return 0;
}

/* Whether DIR (newer format) is a test data group: secret's folders with a
 * test_group.yaml. */
static bool newer_group(struct kattis *k, const char *dir, const struct settings *s)
{
	char path[SP_REQUEST_MAX_NAME + 24];

	if (strcmp(dir, "data") == 0 || strcmp(dir, "data/sample") == 0 ||
	    strcmp(dir, "data/secret") == 0)
		return true;
	if (s->in_group || strncmp(dir, "data/secret/", 12) != 0 || strchr(dir + 12, '/'))
		return false;
	snprintf(path, sizeof(path), "%s/test_group.yaml", dir);
	return sp_build_file(k->b, path) != NULL;
}

/* A test's NAME.yaml (newer format): keys it may have, none changing how
 * it is judged but its validator's flags, which are not supported. */
static int check_test_yaml(struct kattis *k, const char *dir)
{
	for (size_t i = 0; i < k->b->entry_count; i++) {
		const char *p = k->b->entries[i].path;
		size_t l = strlen(p), d = strlen(dir);
		json_t *doc = NULL;
		int rc;

		if (strncmp(p, dir, d) != 0 || p[d] != '/' || strchr(p + d + 1, '/') != NULL ||
		    l < 5 || strcmp(p + l - 5, ".yaml") != 0 ||
		    strcmp(p + d + 1, "test_group.yaml") == 0)
			continue;
		if (sp_settings_read(k->b, p, &doc) < 0)
			return -1;
		rc = sp_settings_known(
		    k->b, doc, p,
		    (const char *const[]){"args", "input_validator_args", "output_validator_args",
					  "input_visualizer_args", "output_visualizer_args",
					  "full_feedback", "hint", "description", NULL});
		if (rc == 0 && (json_array_size(json_object_get(doc, "args")) > 0 ||
				json_object_get(doc, "output_validator_args") != NULL))
			rc = sp_build_fail(k->b,
					   "%s: args and output_validator_args of one test are "
					   "not supported",
					   p);
		json_decref(doc);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- walking ------------------------------------------------------------------ */

/* The settings DIR's own file lays over S. */
static int own_settings(struct kattis *k, const char *dir, struct settings *s, json_t **doc)
{
	char path[SP_REQUEST_MAX_NAME + 24];

	snprintf(path, sizeof(path), "%s/%s", dir,
		 k->version == LEGACY ? "testdata.yaml" : "test_group.yaml");
	if (sp_settings_read(k->b, path, doc) < 0)
		return -1;
	if (k->version == LEGACY)
		return sp_settings_testdata(k->b, *doc, path, &s->group, &s->flags);
	if (check_test_yaml(k, dir) < 0)
		return -1;
	return newer_group(k, dir, s) && strcmp(dir, "data") != 0
		   ? apply_test_group(k, *doc, dir, s)
		   : 0;
}

static int walk(struct kattis *k, const char *dir, long parent, struct settings s)
{
	json_t *doc = NULL;
	long group = parent;
	int rc = own_settings(k, dir, &s, &doc);

	/* a folder of the newer format that is not a group lends its tests to
	 * the group it is in */
	if (rc == 0 && (k->version == LEGACY || newer_group(k, dir, &s))) {
		group = new_group(k, parent, dir, &s);
		rc = group < 0 ? -1 : 0;
		if (k->version == NEWER && strncmp(dir, "data/secret/", 12) == 0)
			s.in_group = true;
	}
	if (rc == 0)
		rc = walk_items(k, dir, group, &s);
	json_decref(doc);
	return rc;
}

/* ---- programs ----------------------------------------------------------------- */

/* The one output validator of the package. */
static int find_validator(struct kattis *k)
{
	const char *dir = k->version == LEGACY ? "output_validators" : "output_validator";
	struct sp_package *pk = k->b->package;
	char **names = NULL;
	long count = sp_build_children(k->b, dir, &names), kept = 0;
	char path[SP_REQUEST_MAX_NAME + 2] = "";
	int rc;

	if (count < 0)
		return sp_error_set(k->b->err, ENOMEM, "problem");
	for (long i = 0; i < count; i++) {
		if (!allowed_name(names[i]))
			continue;
		kept++;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
	}
	sp_build_names_free(names);
	if (kept == 0)
		return sp_build_fail(k->b,
				     "the problem has custom validation but no program in "
				     "%s/",
				     dir);
	if (k->version == NEWER && sp_build_file(k->b, path) != NULL)
		snprintf(path, sizeof(path), "%s", dir); /* its files are the program */
	else if (kept > 1)
		return sp_build_fail(k->b, "%s/ holds %ld programs; one is supported", dir, kept);
	rc = sp_build_program(k->b, path, "output validator", NULL, &pk->problem.validator,
			      &pk->validator);
	pk->problem.checking = SP_PROBLEM_VALIDATOR;
	return rc;
}

/* ---- the package -------------------------------------------------------------- */

/* The root's settings: the format's defaults, then problem.yaml's. */
static int root_settings(struct kattis *k, struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->group.on_reject_break = true;
	s->group.accept_score = 1;
	s->group.range_min = -INFINITY;
	s->group.range_max = INFINITY;
	if (k->version == NEWER && k->b->package->problem.scoring) {
		/* the score is secret's: a failed sample holds it back not */
		s->group.ignore_sample = true;
		s->group.on_reject_break = false;
	}
	return k->version == LEGACY ? apply_legacy_grading(k, s) : 0;
}

static int read_problem_yaml(struct kattis *k)
{
	if (sp_settings_read(k->b, "problem.yaml", &k->problem_yaml) < 0 || read_version(k) < 0 ||
	    sp_settings_known(k->b, k->problem_yaml, "problem.yaml",
			      k->version == LEGACY ? legacy_keys : newer_keys) < 0 ||
	    read_name(k) < 0 ||
	    (k->version == LEGACY ? read_legacy_type(k) : read_newer_type(k)) < 0 ||
	    read_limits(k) < 0 || read_timelimit_file(k) < 0)
		return -1;
	return 0;
}

static int read_format_version(struct kattis *k)
{
	struct sp_problem *p = &k->b->package->problem;
	const char *v =
	    json_string_value(json_object_get(k->problem_yaml, "problem_format_version"));

	p->format = SP_PROBLEM_KATTIS;
	p->format_version = strdup(v != NULL ? v : "legacy");
	return p->format_version != NULL ? 0 : sp_error_set(k->b->err, ENOMEM, "problem");
}

int sp_kattis_read(struct sp_problem_build *b)
{
	struct kattis k = {.b = b};
	struct sp_problem *p = &b->package->problem;
	struct settings root;
	int rc;

	rc = read_problem_yaml(&k);
	if (rc == 0)
		rc = read_format_version(&k);
	if (rc == 0 && k.interactive && !k.custom)
		rc = sp_build_fail(b, "an interactive problem needs a custom output validator");
	if (rc == 0)
		p->interaction =
		    k.interactive ? SP_PROBLEM_KATTIS_INTERACTIVE : SP_PROBLEM_NOT_INTERACTIVE;
	p->checking = SP_PROBLEM_DEFAULT_VALIDATOR;
	if (rc == 0 && k.custom)
		rc = find_validator(&k);
	if (rc == 0)
		rc = root_settings(&k, &root);
	if (rc == 0)
		rc = walk(&k, "data", -1, root);
	if (rc == 0 && p->test_count == 0)
		rc = sp_build_fail(b, "the package has no test: data/ holds no NAME.in with its "
				      "NAME.ans");
	json_decref(k.problem_yaml);
	return rc;
}
