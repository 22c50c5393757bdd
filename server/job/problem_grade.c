/* A problem's result from its tests' outcomes: problem_grade.h. */
#include "problem_grade.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The default grader's verdicts, worst first (problemtools' order). */
enum kind { JE, RTE, MLE, TLE, OLE, WA, PE, AC };

static enum kind kind_of(enum sp_verdict v)
{
	switch (v) {
	case SP_VERDICT_CHECKER_ERROR:
	case SP_VERDICT_INTERNAL_ERROR:
		return JE;
	case SP_VERDICT_RUNTIME_ERROR:
	case SP_VERDICT_SYSCALL_BLOCKED:
		return RTE;
	case SP_VERDICT_MEMORY_LIMIT:
		return MLE;
	case SP_VERDICT_TIME_LIMIT:
		return TLE;
	case SP_VERDICT_OUTPUT_LIMIT:
		return OLE;
	case SP_VERDICT_WRONG_ANSWER:
		return WA;
	case SP_VERDICT_PRESENTATION_ERROR:
		return PE;
	default: /* accepted, partially accepted, skipped */
		return AC;
	}
}

/* An item's result while its group is graded. */
struct item {
	enum kind kind;
	enum sp_verdict verdict; /* of the first test of that kind */
	bool partial;		 /* accepted, a test that counts partially */
	double score;
};

struct grading {
	const struct sp_problem *p;
	const struct sp_grade_input *tests;
	struct sp_grade_result *groups;
	bool *reached;
};

static struct item grade_group(struct grading *g, size_t index, int depth);

static struct item test_item(struct grading *g, size_t t, const struct sp_problem_group *group)
{
	const struct sp_grade_input *in = &g->tests[t];
	enum sp_verdict v = in->known ? in->verdict : SP_VERDICT_ACCEPTED;
	struct item it = {.kind = kind_of(v), .verdict = v};
	bool accepted = it.kind == AC && v != SP_VERDICT_SKIPPED;

	it.partial = v == SP_VERDICT_PARTIALLY_ACCEPTED;
	if (in->has_score)
		it.score = in->score;
	else if (in->has_multiplier)
		it.score = in->multiplier * group->accept_score;
	else
		it.score = accepted ? group->accept_score : group->reject_score;
	g->reached[t] = true;
	return it;
}

/* The verdict of ITEMS (N) by GROUP's modes. */
static struct item aggregate_verdict(const struct sp_problem_group *group, const struct item *items,
				     size_t n)
{
	struct item out = {.kind = AC, .verdict = SP_VERDICT_ACCEPTED};
	size_t pick = n;

	for (size_t i = 0; i < n; i++)
		if (items[i].kind == JE)
			return items[i];
	for (size_t i = 0; i < n; i++)
		out.partial |= items[i].kind == AC && items[i].partial;
	if (group->verdict_mode == SP_GRADE_ALWAYS_ACCEPT)
		return out;
	for (size_t i = 0; i < n && group->accept_if_any_accepted; i++)
		if (items[i].kind == AC)
			return out;
	for (size_t i = 0; i < n; i++) {
		if (items[i].kind == AC)
			continue;
		if (pick == n || (group->verdict_mode == SP_GRADE_WORST_ERROR &&
				  items[i].kind < items[pick].kind))
			pick = i;
	}
	return pick < n ? items[pick] : out;
}

static double aggregate_score(enum sp_grade_score mode, const struct item *items, size_t n)
{
	double s = n > 0 ? items[0].score : 0;

	for (size_t i = 1; i < n; i++) {
		if (mode == SP_GRADE_MIN)
			s = items[i].score < s ? items[i].score : s;
		else if (mode == SP_GRADE_MAX)
			s = items[i].score > s ? items[i].score : s;
		else
			s += items[i].score;
	}
	return mode == SP_GRADE_AVG && n > 0 ? s / (double)n : s;
}

static struct item grade_group(struct grading *g, size_t index, int depth)
{
	const struct sp_problem_group *group = &g->p->groups[index];
	struct item *items = calloc(group->item_count + 1, sizeof(*items)), out = {.kind = JE};
	size_t n = 0;

	if (items == NULL || depth > 64) { /* out of memory: a judge error, no skip */
		free(items);
		out.verdict = SP_VERDICT_INTERNAL_ERROR;
		return out;
	}
	for (size_t i = 0; i < group->item_count; i++) {
		const struct sp_problem_item *it = &group->items[i];

		items[n] = it->is_group ? grade_group(g, it->index, depth + 1)
					: test_item(g, it->index, group);
		if (items[n++].kind != AC && group->on_reject_break)
			break;
	}
	/* a judge error anywhere is the group's (problemtools looks for one
	 * before its grader ignores the sample) */
	out = aggregate_verdict(group, items, n);
	if (group->ignore_sample && n > 0 && out.kind != JE) /* the last item alone: secret */
		out = aggregate_verdict(group, &items[n - 1], 1);
	out.score = group->ignore_sample && n > 0 ? items[n - 1].score
						  : aggregate_score(group->score_mode, items, n);
	g->groups[index] = (struct sp_grade_result){
	    .verdict = out.kind == AC && out.partial ? SP_VERDICT_PARTIALLY_ACCEPTED : out.verdict,
	    .score = out.score,
	    .reached = true};
	free(items);
	return out;
}

void sp_problem_grade(const struct sp_problem *p, const struct sp_grade_input *tests,
		      struct sp_grade_result *groups, bool *reached)
{
	struct grading g = {.p = p, .tests = tests, .groups = groups, .reached = reached};

	memset(groups, 0, p->group_count * sizeof(*groups));
	memset(reached, 0, p->test_count * sizeof(*reached));
	if (p->group_count > 0)
		grade_group(&g, 0, 0);
}

struct sp_grade_input sp_grade_input_of(const json_t *test)
{
	struct sp_grade_input in = {.known = test != NULL};
	json_t *score = json_object_get(test, "score");
	json_t *multiplier = json_object_get(test, "score_multiplier");

	if (test == NULL)
		return in;
	in.verdict = sp_verdict_from_string(json_string_value(json_object_get(test, "verdict")));
	in.has_score = json_is_number(score);
	in.score = json_number_value(score);
	in.has_multiplier = json_is_number(multiplier);
	in.multiplier = json_number_value(multiplier);
	return in;
}

/* RESULTS (test_count, NULL where not known) as the grading's inputs. */
static struct sp_grade_input *inputs_of(const struct sp_problem *p, json_t *const *results)
{
	struct sp_grade_input *in = calloc(p->test_count + 1, sizeof(*in));

	for (size_t i = 0; in != NULL && i < p->test_count; i++)
		in[i] = sp_grade_input_of(results[i]);
	return in;
}

/* Whether GROUP's verdict is certainly a rejection, whatever the tests
 * not known yet (IN) turn out to be; GROUPS' results below it already in
 * CERTAIN. A test is certainly rejected when it is known and not
 * accepted. A group by worst_error or first_error is rejected when any of
 * its items is (an earlier break leaves a rejection among the items it
 * took); with accept_if_any_accepted only when its first item is (on a
 * break: then it takes no other) or, without breaks, every one is; with
 * always_accept only when its first item is a judge error. */
static bool certainly_rejected(const struct sp_problem *p, const struct sp_grade_input *in,
			       const bool *certain, const bool *certain_je, size_t index, bool *je)
{
	const struct sp_problem_group *g = &p->groups[index];
	size_t rejected = 0;
	bool first = false, first_je = false;

	*je = false;
	for (size_t i = 0; i < g->item_count; i++) {
		const struct sp_problem_item *it = &g->items[i];
		bool r = it->is_group ? certain[it->index]
				      : in[it->index].known && kind_of(in[it->index].verdict) != AC;
		bool j = it->is_group ? certain_je[it->index]
				      : in[it->index].known && kind_of(in[it->index].verdict) == JE;

		rejected += r;
		if (i == 0) {
			first = r;
			first_je = j;
		}
	}
	*je = first_je;
	if (g->verdict_mode == SP_GRADE_ALWAYS_ACCEPT)
		return first_je;
	if (g->accept_if_any_accepted)
		return g->item_count > 0 &&
		       (g->on_reject_break ? first : rejected == g->item_count);
	return rejected > 0;
}

/* Tests under GROUP no outcome can bring into the grading into SKIP: those
 * after an item of a breaking group that is certainly rejected. */
static void mark_skips(const struct sp_problem *p, const struct sp_grade_input *in,
		       const bool *certain, size_t index, bool skipped, bool *skip, int depth)
{
	const struct sp_problem_group *g = &p->groups[index];
	bool after = false;

	for (size_t i = 0; i < g->item_count && depth < 64; i++) {
		const struct sp_problem_item *it = &g->items[i];
		bool r;

		if (it->is_group)
			mark_skips(p, in, certain, it->index, skipped || after, skip, depth + 1);
		else
			skip[it->index] = skipped || after;
		r = it->is_group ? certain[it->index]
				 : in[it->index].known && kind_of(in[it->index].verdict) != AC;
		after |= r && g->on_reject_break;
	}
}

int sp_problem_skippable(const struct sp_problem *p, json_t *const *results, bool *skip)
{
	struct sp_grade_input *in = inputs_of(p, results);
	bool *certain = calloc(p->group_count + 1, sizeof(*certain));
	bool *certain_je = calloc(p->group_count + 1, sizeof(*certain_je));
	int rc = -1;

	memset(skip, 0, p->test_count * sizeof(*skip));
	if (in != NULL && certain != NULL && certain_je != NULL && p->group_count > 0) {
		/* a group's parent comes before it: from the last group up */
		for (size_t g = p->group_count; g-- > 0;)
			certain[g] =
			    certainly_rejected(p, in, certain, certain_je, g, &certain_je[g]);
		mark_skips(p, in, certain, 0, false, skip, 0);
		rc = 0;
	}
	free(in);
	free(certain);
	free(certain_je);
	return rc;
}

static bool shows_score(const struct sp_problem *p, const struct sp_grade_input *in)
{
	for (size_t i = 0; !p->scoring && i < p->test_count; i++)
		if (in[i].has_score || in[i].has_multiplier)
			return true;
	return p->scoring;
}

static json_t *groups_json(const struct sp_problem *p, const struct sp_grade_result *groups,
			   bool scores)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->group_count; i++) {
		const struct sp_problem_group *g = &p->groups[i];
		size_t tests = 0;
		json_t *o;

		for (size_t k = 0; k < g->item_count; k++)
			tests += !g->items[k].is_group;
		o = json_pack("{s:s, s:s, s:I, s:b}", "name", g->name, "verdict",
			      groups[i].reached ? sp_verdict_to_string(groups[i].verdict)
						: "skipped",
			      "tests", (json_int_t)tests, "reached", groups[i].reached);
		if (o != NULL && scores)
			json_object_set_new(o, "score", json_real(groups[i].score));
		if (json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *sp_problem_grade_json(const struct sp_problem *p, json_t *const *results)
{
	struct sp_grade_input *in = inputs_of(p, results);
	struct sp_grade_result *groups = calloc(p->group_count + 1, sizeof(*groups));
	bool *reached = calloc(p->test_count + 1, sizeof(*reached));
	json_t *out = NULL;

	if (in != NULL && groups != NULL && reached != NULL) {
		bool scores = shows_score(p, in);

		sp_problem_grade(p, in, groups, reached);
		out = json_pack("{s:s, s:o}", "verdict", sp_verdict_to_string(groups[0].verdict),
				"groups", groups_json(p, groups, scores));
		if (out != NULL && scores)
			json_object_set_new(out, "score", json_real(groups[0].score));
	}
	free(in);
	free(groups);
	free(reached);
	return out;
}
