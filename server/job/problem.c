#include "problem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {
    [SP_PROBLEM_KATTIS] = "kattis",
    [SP_PROBLEM_PLAIN] = "plain",
};
static const char *const checking_names[] = {
    [SP_PROBLEM_DEFAULT_VALIDATOR] = "default_validator",
    [SP_PROBLEM_BUILTIN] = "builtin",
    [SP_PROBLEM_VALIDATOR] = "output_validator",
    [SP_PROBLEM_TESTLIB] = "testlib_checker",
};
static const char *const interaction_names[] = {
    [SP_PROBLEM_NOT_INTERACTIVE] = "none",
    [SP_PROBLEM_KATTIS_INTERACTIVE] = "output_validator",
    [SP_PROBLEM_TESTLIB_INTERACTOR] = "testlib_interactor",
};
static const char *const verdict_mode_names[] = {
    [SP_GRADE_WORST_ERROR] = "worst_error",
    [SP_GRADE_FIRST_ERROR] = "first_error",
    [SP_GRADE_ALWAYS_ACCEPT] = "always_accept",
};
static const char *const score_mode_names[] = {
    [SP_GRADE_SUM] = "sum",
    [SP_GRADE_AVG] = "avg",
    [SP_GRADE_MIN] = "min",
    [SP_GRADE_MAX] = "max",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t count, unsigned value)
{
	return value < count && names[value] != NULL ? names[value] : "?";
}

/* The index of NAME among NAMES, or -1. */
static int index_of(const char *const *names, size_t count, const char *name)
{
	for (size_t i = 0; name != NULL && i < count; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *sp_problem_format_to_string(enum sp_problem_format format)
{
	return name_of(format_names, COUNT(format_names), format);
}

const char *sp_problem_checking_to_string(enum sp_problem_checking checking)
{
	return name_of(checking_names, COUNT(checking_names), checking);
}

const char *sp_problem_interaction_to_string(enum sp_problem_interaction interaction)
{
	return name_of(interaction_names, COUNT(interaction_names), interaction);
}

bool sp_problem_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return false;
	for (; id[n] != '\0'; n++)
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
			return false;
	return n == SP_PROBLEM_ID_SIZE - 1;
}

/* ---- to JSON --------------------------------------------------------------- */

static json_t *strings_json(char *const *strings, size_t count)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < count; i++) {
		if (json_array_append_new(a, json_string(strings[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *program_json(const struct sp_problem_program *p)
{
	if (p->language == NULL)
		return json_null();
	return json_pack("{s:s, s:o, s:o}", "language", p->language, "files",
			 strings_json(p->files, p->file_count), "argv",
			 strings_json(p->argv, p->argc));
}

/* A bound of a score range: a number, or null for an infinite one. */
static json_t *bound_json(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *items_json(const struct sp_problem_group *g)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < g->item_count; i++) {
		const struct sp_problem_item *it = &g->items[i];

		if (json_array_append_new(a, json_pack("[s, I]", it->is_group ? "group" : "test",
						       (json_int_t)it->index)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *group_json(const struct sp_problem_group *g)
{
	return json_pack(
	    "{s:s, s:I, s:b, s:s, s:s, s:b, s:b, s:f, s:f, s:[o, o], s:o, s:o}", "name", g->name,
	    "parent", (json_int_t)g->parent, "on_reject_break", g->on_reject_break, "verdict_mode",
	    name_of(verdict_mode_names, COUNT(verdict_mode_names), g->verdict_mode), "score_mode",
	    name_of(score_mode_names, COUNT(score_mode_names), g->score_mode), "ignore_sample",
	    g->ignore_sample, "accept_if_any_accepted", g->accept_if_any_accepted, "accept_score",
	    g->accept_score, "reject_score", g->reject_score, "range", bound_json(g->range_min),
	    bound_json(g->range_max), "flags", strings_json(g->flags, g->flag_count), "items",
	    items_json(g));
}

static json_t *test_json(const struct sp_problem_test *t)
{
	return json_pack("{s:s, s:I, s:[I, I], s:[I, I]}", "name", t->name, "group",
			 (json_int_t)t->group, "input", (json_int_t)t->input_offset,
			 (json_int_t)t->input_length, "answer", (json_int_t)t->answer_offset,
			 (json_int_t)t->answer_length);
}

static json_t *array_of(const void *items, size_t count, size_t size,
			json_t *(*one)(const void *item))
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < count; i++) {
		if (json_array_append_new(a, one((const char *)items + i * size)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *group_json_any(const void *g)
{
	return group_json(g);
}

static json_t *test_json_any(const void *t)
{
	return test_json(t);
}

json_t *sp_problem_to_json(const struct sp_problem *p)
{
	return json_pack(
	    "{s:s, s:s, s:s?, s:s?, s:b, s:s, s:s, s:b, s:o, s:s, s:o, s:{s:I, s:I, s:I}, s:o, "
	    "s:o, s:I, s:I, s:I}",
	    "id", p->id, "format", sp_problem_format_to_string(p->format), "format_version",
	    p->format_version, "name", p->name, "scoring", p->scoring, "checking",
	    sp_problem_checking_to_string(p->checking), "builtin",
	    sp_checker_kind_to_string(p->builtin), "validator_scores", p->validator_scores,
	    "validator", program_json(&p->validator), "interaction",
	    sp_problem_interaction_to_string(p->interaction), "interactor",
	    program_json(&p->interactor), "limits", "time_ms", (json_int_t)p->time_ms, "memory_kb",
	    (json_int_t)p->memory_kb, "output_kb", (json_int_t)p->output_kb, "groups",
	    array_of(p->groups, p->group_count, sizeof(*p->groups), group_json_any), "tests",
	    array_of(p->tests, p->test_count, sizeof(*p->tests), test_json_any), "data_bytes",
	    (json_int_t)p->data_bytes, "package_bytes", (json_int_t)p->package_bytes,
	    "package_files", (json_int_t)p->package_files);
}

/* ---- from JSON ------------------------------------------------------------- */

static int bad(struct sp_error *err, const char *what)
{
	return sp_error_set(err, EINVAL, "problem: bad %s", what);
}

static int get_string(json_t *obj, const char *key, bool optional, char **out, struct sp_error *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if ((v == NULL || json_is_null(v)) && optional)
		return 0;
	if (!json_is_string(v))
		return bad(err, key);
	*out = strdup(json_string_value(v));
	return *out != NULL ? 0 : sp_error_set(err, ENOMEM, "problem");
}

static int get_u64(json_t *obj, const char *key, uint64_t *out, struct sp_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(err, key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_enum(json_t *obj, const char *key, const char *const *names, size_t count, int *out,
		    struct sp_error *err)
{
	*out = index_of(names, count, json_string_value(json_object_get(obj, key)));
	return *out >= 0 ? 0 : bad(err, key);
}

static int get_strings(json_t *arr, char ***out, size_t *count, struct sp_error *err)
{
	size_t n = json_array_size(arr);

	*out = NULL;
	*count = 0;
	if (!json_is_array(arr) || n > SP_PROBLEM_MAX_FLAGS * 16)
		return bad(err, "list of names");
	*out = calloc(n + 1, sizeof(**out));
	if (*out == NULL)
		return sp_error_set(err, ENOMEM, "problem");
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (s == NULL)
			return bad(err, "list of names");
		(*out)[i] = strdup(s);
		if ((*out)[i] == NULL)
			return sp_error_set(err, ENOMEM, "problem");
		*count = i + 1;
	}
	return 0;
}

static int program_from(json_t *v, struct sp_problem_program *p, struct sp_error *err)
{
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v) || get_string(v, "language", false, &p->language, err) < 0)
		return bad(err, "program");
	if (get_strings(json_object_get(v, "files"), &p->files, &p->file_count, err) < 0 ||
	    get_strings(json_object_get(v, "argv"), &p->argv, &p->argc, err) < 0)
		return -1;
	return p->argc > 0 ? 0 : bad(err, "program's command");
}

static int range_bound(json_t *v, double infinite, double *out, struct sp_error *err)
{
	if (json_is_null(v)) {
		*out = infinite;
		return 0;
	}
	if (!json_is_number(v))
		return bad(err, "range");
	*out = json_number_value(v);
	return 0;
}

static int items_from(json_t *arr, struct sp_problem_group *g, struct sp_error *err)
{
	size_t n = json_array_size(arr);

	if (!json_is_array(arr))
		return bad(err, "items");
	g->items = calloc(n + 1, sizeof(*g->items));
	if (g->items == NULL)
		return sp_error_set(err, ENOMEM, "problem");
	for (size_t i = 0; i < n; i++) {
		const char *kind = NULL;
		json_int_t index = -1;

		if (json_unpack(json_array_get(arr, i), "[sI]", &kind, &index) < 0 || index < 0 ||
		    (strcmp(kind, "group") != 0 && strcmp(kind, "test") != 0))
			return bad(err, "item");
		g->items[i] = (struct sp_problem_item){strcmp(kind, "group") == 0, (size_t)index};
		g->item_count = i + 1;
	}
	return 0;
}

static int group_flags(struct sp_problem_group *g, json_t *flags, struct sp_error *err)
{
	char why[160];

	if (get_strings(flags, &g->flags, &g->flag_count, err) < 0)
		return -1;
	if (g->flag_count > SP_PROBLEM_MAX_FLAGS)
		return bad(err, "flags");
	/* the default validator's flags, when they are its: others are a
	 * program's own, read by it */
	if (sp_default_validator_flags_parse((const char *const *)g->flags, g->flag_count,
					     &g->default_flags, why, sizeof(why)) < 0)
		memset(&g->default_flags, 0, sizeof(g->default_flags));
	return 0;
}

static int group_from(json_t *v, struct sp_problem_group *g, struct sp_error *err)
{
	json_int_t parent = -2;
	int vm, sm;

	if (!json_is_object(v) || get_string(v, "name", false, &g->name, err) < 0 ||
	    json_unpack(v, "{s:I, s:b, s:b, s:b, s:F, s:F}", "parent", &parent, "on_reject_break",
			&g->on_reject_break, "ignore_sample", &g->ignore_sample,
			"accept_if_any_accepted", &g->accept_if_any_accepted, "accept_score",
			&g->accept_score, "reject_score", &g->reject_score) < 0 ||
	    parent < -1)
		return bad(err, "group");
	g->parent = (long)parent;
	if (get_enum(v, "verdict_mode", verdict_mode_names, COUNT(verdict_mode_names), &vm, err) <
		0 ||
	    get_enum(v, "score_mode", score_mode_names, COUNT(score_mode_names), &sm, err) < 0)
		return -1;
	g->verdict_mode = (enum sp_grade_verdict)vm;
	g->score_mode = (enum sp_grade_score)sm;
	if (json_array_size(json_object_get(v, "range")) != 2 ||
	    range_bound(json_array_get(json_object_get(v, "range"), 0), -INFINITY, &g->range_min,
			err) < 0 ||
	    range_bound(json_array_get(json_object_get(v, "range"), 1), INFINITY, &g->range_max,
			err) < 0)
		return bad(err, "range");
	if (group_flags(g, json_object_get(v, "flags"), err) < 0)
		return -1;
	return items_from(json_object_get(v, "items"), g, err);
}

static int span_from(json_t *v, uint64_t *offset, uint64_t *length)
{
	json_int_t o = -1, l = -1;

	if (json_unpack(v, "[II]", &o, &l) < 0 || o < 0 || l < 0)
		return -1;
	*offset = (uint64_t)o;
	*length = (uint64_t)l;
	return 0;
}

static int test_from(json_t *v, struct sp_problem_test *t, struct sp_error *err)
{
	json_int_t group = -1;

	if (!json_is_object(v) || get_string(v, "name", false, &t->name, err) < 0 ||
	    json_unpack(v, "{s:I}", "group", &group) < 0 || group < 0 ||
	    span_from(json_object_get(v, "input"), &t->input_offset, &t->input_length) < 0 ||
	    span_from(json_object_get(v, "answer"), &t->answer_offset, &t->answer_length) < 0)
		return bad(err, "test");
	t->group = (size_t)group;
	return 0;
}

static int groups_from(json_t *arr, struct sp_problem *p, struct sp_error *err)
{
	size_t n = json_array_size(arr);

	if (!json_is_array(arr) || n == 0)
		return bad(err, "groups");
	p->groups = calloc(n, sizeof(*p->groups));
	if (p->groups == NULL)
		return sp_error_set(err, ENOMEM, "problem");
	for (size_t i = 0; i < n; i++) {
		p->group_count = i + 1;
		if (group_from(json_array_get(arr, i), &p->groups[i], err) < 0)
			return -1;
	}
	return 0;
}

static int tests_from(json_t *arr, struct sp_problem *p, struct sp_error *err)
{
	size_t n = json_array_size(arr);

	if (!json_is_array(arr) || n == 0)
		return bad(err, "tests");
	p->tests = calloc(n, sizeof(*p->tests));
	if (p->tests == NULL)
		return sp_error_set(err, ENOMEM, "problem");
	for (size_t i = 0; i < n; i++) {
		p->test_count = i + 1;
		if (test_from(json_array_get(arr, i), &p->tests[i], err) < 0)
			return -1;
	}
	return 0;
}

/* Each group's items in range, each test an item of its own group, once,
 * each group but the root an item of its parent, which comes before it,
 * once: a tree whose items cover every test and group once. */
static int check_tree(const struct sp_problem *p, struct sp_error *err)
{
	bool *test_seen = calloc(p->test_count + 1, sizeof(*test_seen));
	bool *group_seen = calloc(p->group_count + 1, sizeof(*group_seen));
	int rc = test_seen != NULL && group_seen != NULL ? 0 : sp_error_set(err, ENOMEM, "problem");

	if (rc == 0 && p->groups[0].parent != -1)
		rc = bad(err, "root group");
	for (size_t g = 0; rc == 0 && g < p->group_count; g++) {
		const struct sp_problem_group *grp = &p->groups[g];

		if (g > 0 && (grp->parent < 0 || (size_t)grp->parent >= g))
			rc = bad(err, "group parent");
		for (size_t i = 0; rc == 0 && i < grp->item_count; i++) {
			const struct sp_problem_item *it = &grp->items[i];
			size_t count = it->is_group ? p->group_count : p->test_count;
			bool *seen = it->is_group ? group_seen : test_seen;

			if (it->index >= count || seen[it->index] ||
			    (it->is_group ? p->groups[it->index].parent != (long)g
					  : p->tests[it->index].group != g))
				rc = bad(err, it->is_group ? "group item" : "test item");
			else
				seen[it->index] = true;
		}
	}
	for (size_t i = 0; rc == 0 && i < p->test_count; i++)
		if (!test_seen[i])
			rc = bad(err, "tree of groups");
	for (size_t g = 1; rc == 0 && g < p->group_count; g++)
		if (!group_seen[g])
			rc = bad(err, "tree of groups");
	free(test_seen);
	free(group_seen);
	return rc;
}

static int check_spans(const struct sp_problem *p, struct sp_error *err)
{
	for (size_t i = 0; i < p->test_count; i++) {
		const struct sp_problem_test *t = &p->tests[i];

		if (t->input_offset > p->data_bytes ||
		    t->input_length > p->data_bytes - t->input_offset ||
		    t->answer_offset > p->data_bytes ||
		    t->answer_length > p->data_bytes - t->answer_offset)
			return bad(err, "test bytes");
	}
	return 0;
}

static int kinds_from(json_t *doc, struct sp_problem *p, struct sp_error *err)
{
	int format, checking, interaction;

	if (get_enum(doc, "format", format_names, COUNT(format_names), &format, err) < 0 ||
	    get_enum(doc, "checking", checking_names, COUNT(checking_names), &checking, err) < 0 ||
	    get_enum(doc, "interaction", interaction_names, COUNT(interaction_names), &interaction,
		     err) < 0)
		return -1;
	if (sp_checker_kind_from_string(json_string_value(json_object_get(doc, "builtin")),
					&p->builtin) < 0)
		return bad(err, "builtin");
	p->format = (enum sp_problem_format)format;
	p->checking = (enum sp_problem_checking)checking;
	p->interaction = (enum sp_problem_interaction)interaction;
	if ((p->checking == SP_PROBLEM_VALIDATOR || p->checking == SP_PROBLEM_TESTLIB) !=
	    (json_is_object(json_object_get(doc, "validator"))))
		return bad(err, "validator");
	if ((p->interaction == SP_PROBLEM_TESTLIB_INTERACTOR) !=
	    json_is_object(json_object_get(doc, "interactor")))
		return bad(err, "interactor");
	return 0;
}

static int header_from(json_t *doc, struct sp_problem *p, struct sp_error *err)
{
	const char *id = json_string_value(json_object_get(doc, "id"));
	json_t *limits = json_object_get(doc, "limits");
	int scoring = 0, scores = 0;

	if (!sp_problem_id_valid(id))
		return bad(err, "id");
	memcpy(p->id, id, SP_PROBLEM_ID_SIZE);
	if (json_unpack(doc, "{s:b, s:b}", "scoring", &scoring, "validator_scores", &scores) < 0)
		return bad(err, "type");
	p->scoring = scoring;
	p->validator_scores = scores;
	if (get_string(doc, "format_version", true, &p->format_version, err) < 0 ||
	    get_string(doc, "name", true, &p->name, err) < 0 ||
	    get_u64(limits, "time_ms", &p->time_ms, err) < 0 ||
	    get_u64(limits, "memory_kb", &p->memory_kb, err) < 0 ||
	    get_u64(limits, "output_kb", &p->output_kb, err) < 0 ||
	    get_u64(doc, "data_bytes", &p->data_bytes, err) < 0 ||
	    get_u64(doc, "package_bytes", &p->package_bytes, err) < 0)
		return -1;
	if (json_integer_value(json_object_get(doc, "package_files")) < 0)
		return bad(err, "package_files");
	p->package_files = (size_t)json_integer_value(json_object_get(doc, "package_files"));
	return 0;
}

int sp_problem_from_json(json_t *doc, struct sp_problem *p, struct sp_error *err)
{
	memset(p, 0, sizeof(*p));
	if (!json_is_object(doc) || header_from(doc, p, err) < 0 || kinds_from(doc, p, err) < 0 ||
	    program_from(json_object_get(doc, "validator"), &p->validator, err) < 0 ||
	    program_from(json_object_get(doc, "interactor"), &p->interactor, err) < 0 ||
	    groups_from(json_object_get(doc, "groups"), p, err) < 0 ||
	    tests_from(json_object_get(doc, "tests"), p, err) < 0 || check_tree(p, err) < 0 ||
	    check_spans(p, err) < 0) {
		if (err->message[0] == '\0')
			bad(err, "document");
		sp_problem_free(p);
		return -1;
	}
	return 0;
}

/* ---- the client's view ----------------------------------------------------- */

static json_t *group_view(const struct sp_problem *p, const struct sp_problem_group *g)
{
	size_t tests = 0;
	json_t *v;

	for (size_t i = 0; i < g->item_count; i++)
		tests += !g->items[i].is_group;
	v = json_pack("{s:s, s:I, s:I}", "name", g->name, "tests", (json_int_t)tests, "groups",
		      (json_int_t)(g->item_count - tests));
	if (v != NULL && p->scoring)
		json_object_update_new(
		    v, json_pack("{s:f, s:f, s:s, s:s}", "accept_score", g->accept_score,
				 "reject_score", g->reject_score, "score_mode",
				 name_of(score_mode_names, COUNT(score_mode_names), g->score_mode),
				 "verdict_mode",
				 name_of(verdict_mode_names, COUNT(verdict_mode_names),
					 g->verdict_mode)));
	if (v != NULL && g->flag_count > 0)
		json_object_set_new(v, "validator_flags", strings_json(g->flags, g->flag_count));
	return v;
}

static json_t *groups_view(const struct sp_problem *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->group_count; i++) {
		if (json_array_append_new(a, group_view(p, &p->groups[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *limits_view(const struct sp_problem *p)
{
	json_t *v = json_object();

	if (v != NULL && p->time_ms > 0)
		json_object_set_new(v, "time_ms", json_integer((json_int_t)p->time_ms));
	if (v != NULL && p->memory_kb > 0)
		json_object_set_new(v, "memory_kb", json_integer((json_int_t)p->memory_kb));
	if (v != NULL && p->output_kb > 0)
		json_object_set_new(v, "output_kb", json_integer((json_int_t)p->output_kb));
	return v;
}

static json_t *judged_by(const struct sp_problem *p)
{
	json_t *v = json_pack("{s:s}", "checking", sp_problem_checking_to_string(p->checking));

	if (v == NULL)
		return NULL;
	if (p->checking == SP_PROBLEM_BUILTIN)
		json_object_set_new(v, "checker",
				    json_string(sp_checker_kind_to_string(p->builtin)));
	if (p->validator.language != NULL)
		json_object_set_new(v, "validator", program_json(&p->validator));
	json_object_set_new(v, "interaction",
			    json_string(sp_problem_interaction_to_string(p->interaction)));
	if (p->interactor.language != NULL)
		json_object_set_new(v, "interactor", program_json(&p->interactor));
	return v;
}

json_t *sp_problem_view(const struct sp_problem *p)
{
	return json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:I, s:o, s:o, s:o, s:I, s:I}", "id", p->id,
			 "format", sp_problem_format_to_string(p->format), "format_version",
			 p->format_version, "name", p->name, "type",
			 p->scoring ? "scoring" : "pass-fail", "tests", (json_int_t)p->test_count,
			 "limits", limits_view(p), "judged_by", judged_by(p), "groups",
			 groups_view(p), "data_bytes", (json_int_t)p->data_bytes, "package_bytes",
			 (json_int_t)p->package_bytes);
}

/* ---- free ------------------------------------------------------------------ */

static void free_strings(char **s, size_t count)
{
	for (size_t i = 0; s != NULL && i < count; i++)
		free(s[i]);
	free(s);
}

static void program_free(struct sp_problem_program *p)
{
	free(p->language);
	free_strings(p->files, p->file_count);
	free_strings(p->argv, p->argc);
	memset(p, 0, sizeof(*p));
}

void sp_problem_free(struct sp_problem *p)
{
	for (size_t i = 0; p->groups != NULL && i < p->group_count; i++) {
		free(p->groups[i].name);
		free_strings(p->groups[i].flags, p->groups[i].flag_count);
		free(p->groups[i].items);
	}
	for (size_t i = 0; p->tests != NULL && i < p->test_count; i++)
		free(p->tests[i].name);
	free(p->groups);
	free(p->tests);
	free(p->format_version);
	free(p->name);
	program_free(&p->validator);
	program_free(&p->interactor);
	memset(p, 0, sizeof(*p));
}
