/* A problem's verdict and score from its tests' outcomes (problem_grade.h),
 * checked against the ICPC/Kattis format's default grader: the legacy
 * specification ("Test data groups", "Graders", "Default grader
 * specification") and problemtools, its reference (judge/submission_judge.py:
 * _judge_group, _aggregate_group_result; judge/grade.py: grade_group;
 * support/default_grader/default_grader). Each case says the rule it checks.
 *
 * The problems are built by hand: a tree of groups, each with its tests and
 * subgroups in the order they are judged. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/problem.h"
#include "server/job/problem_grade.h"

#define AC  SP_VERDICT_ACCEPTED
#define WA  SP_VERDICT_WRONG_ANSWER
#define PE  SP_VERDICT_PRESENTATION_ERROR
#define TLE SP_VERDICT_TIME_LIMIT
#define MLE SP_VERDICT_MEMORY_LIMIT
#define OLE SP_VERDICT_OUTPUT_LIMIT
#define RTE SP_VERDICT_RUNTIME_ERROR
#define SB  SP_VERDICT_SYSCALL_BLOCKED
#define CE  SP_VERDICT_CHECKER_ERROR
#define SK  SP_VERDICT_SKIPPED
#define IE  SP_VERDICT_INTERNAL_ERROR
#define PA  SP_VERDICT_PARTIALLY_ACCEPTED

#define MAX_GROUPS 16
#define MAX_TESTS  16

/* ---- building problems ------------------------------------------------------ */

static void add_item(struct sp_problem *p, size_t group, bool is_group, size_t index)
{
	struct sp_problem_group *g = &p->groups[group];

	g->items = realloc(g->items, (g->item_count + 1) * sizeof(*g->items));
	assert_non_null(g->items);
	g->items[g->item_count++] = (struct sp_problem_item){is_group, index};
}

/* A new group NAME, the last item of PARENT (-1: the root), with the
 * format's defaults: on_reject break, worst_error, sum, accept_score 1,
 * reject_score 0. Returns its index. */
static size_t group(struct sp_problem *p, long parent, const char *name)
{
	struct sp_problem_group *g;

	assert_true(p->group_count < MAX_GROUPS);
	p->groups = realloc(p->groups, (p->group_count + 1) * sizeof(*p->groups));
	assert_non_null(p->groups);
	g = &p->groups[p->group_count];
	memset(g, 0, sizeof(*g));
	g->name = strdup(name);
	assert_non_null(g->name);
	g->parent = parent;
	g->on_reject_break = true;
	g->verdict_mode = SP_GRADE_WORST_ERROR;
	g->score_mode = SP_GRADE_SUM;
	g->accept_score = 1;
	g->reject_score = 0;
	g->range_min = -INFINITY;
	g->range_max = INFINITY;
	if (parent >= 0)
		add_item(p, (size_t)parent, true, p->group_count);
	return p->group_count++;
}

/* A new test NAME, the last item of GROUP. Returns its index. */
static size_t test(struct sp_problem *p, size_t grp, const char *name)
{
	struct sp_problem_test *t;

	assert_true(p->test_count < MAX_TESTS);
	p->tests = realloc(p->tests, (p->test_count + 1) * sizeof(*p->tests));
	assert_non_null(p->tests);
	t = &p->tests[p->test_count];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	assert_non_null(t->name);
	t->group = grp;
	add_item(p, grp, false, p->test_count);
	return p->test_count++;
}

/* A root and N tests in it. */
static void flat(struct sp_problem *p, size_t n, bool on_reject_break)
{
	char name[32];

	memset(p, 0, sizeof(*p));
	group(p, -1, "data");
	p->groups[0].on_reject_break = on_reject_break;
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "t%zu", i);
		test(p, 0, name);
	}
}

/* ---- outcomes --------------------------------------------------------------- */

static struct sp_grade_input V(enum sp_verdict v) {
	return (struct sp_grade_input){.verdict = v, .known = true};
}

/* A checker's score (testlib's points, a validator's score.txt). */
static struct sp_grade_input
S(enum sp_verdict v, double score) {
	return (struct sp_grade_input){
	    .verdict = v, .known = true, .has_score = true, .score = score};
}

/* A validator's score_multiplier.txt. */
static struct sp_grade_input
M(enum sp_verdict v, double multiplier) {
	return (struct sp_grade_input){
	    .verdict = v, .known = true, .has_multiplier = true, .multiplier = multiplier};
}

/* Not known yet. */
static struct sp_grade_input
U(void) {
	return (struct sp_grade_input){.known = false};
}

struct graded {
	struct sp_grade_result groups[MAX_GROUPS];
	bool reached[MAX_TESTS];
};

static void grade(const struct sp_problem *p, const struct sp_grade_input *in, struct graded *g)
{
	memset(g, 0xa5, sizeof(*g));
	sp_problem_grade(p, in, g->groups, g->reached);
}

#define assert_score(got, want)                                                                    \
	do {                                                                                       \
		double got_ = (got), want_ = (want);                                               \
		if (!(fabs(got_ - want_) <= 1e-9)) {                                               \
			print_error("score %.17g, want %.17g\n", got_, want_);                     \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

#define assert_verdict(got, want)                                                                  \
	assert_string_equal(sp_verdict_to_string(got), sp_verdict_to_string(want))

/* Group G's verdict and score, and that it was reached. */
#define assert_group(res, grp, want_v, want_s)                                                     \
	do {                                                                                       \
		assert_true((res)->groups[grp].reached);                                           \
		assert_verdict((res)->groups[grp].verdict, want_v);                                \
		assert_score((res)->groups[grp].score, want_s);                                    \
	} while (0)

/* Which tests were reached, as a string of 1 and 0. */
static void assert_reached(const struct sp_problem *p, const struct graded *g, const char *want)
{
	char got[MAX_TESTS + 1];

	assert_int_equal(strlen(want), p->test_count);
	for (size_t i = 0; i < p->test_count; i++)
		got[i] = g->reached[i] ? '1' : '0';
	got[p->test_count] = '\0';
	assert_string_equal(got, want);
}

/* ---- sp_grade_input_of --------------------------------------------------------- */

/* A judge's "test" event as the grading reads it: NULL is not known yet; a
 * verdict it does not know is a judge error (internal_error); "score" and
 * "score_multiplier" are numbers, an integer too. */
static void test_input_of(void **state)
{
	struct sp_grade_input in;
	json_t *t;

	(void)state;
	in = sp_grade_input_of(NULL);
	assert_false(in.known);
	assert_false(in.has_score);
	assert_false(in.has_multiplier);

	t = json_pack("{s:s}", "verdict", "wrong_answer");
	in = sp_grade_input_of(t);
	assert_true(in.known);
	assert_verdict(in.verdict, WA);
	assert_false(in.has_score);
	assert_false(in.has_multiplier);
	json_decref(t);

	t = json_pack("{s:s, s:f, s:f}", "verdict", "partially_accepted", "score", 2.5,
		      "score_multiplier", 0.25);
	in = sp_grade_input_of(t);
	assert_true(in.known);
	assert_verdict(in.verdict, PA);
	assert_true(in.has_score);
	assert_score(in.score, 2.5);
	assert_true(in.has_multiplier);
	assert_score(in.multiplier, 0.25);
	json_decref(t);

	t = json_pack("{s:s, s:i, s:s}", "verdict", "accepted", "score", 3, "score_multiplier",
		      "x");
	in = sp_grade_input_of(t);
	assert_verdict(in.verdict, AC);
	assert_true(in.has_score);
	assert_score(in.score, 3);
	assert_false(in.has_multiplier);
	json_decref(t);

	t = json_pack("{s:s, s:i}", "verdict", "accepted", "score_multiplier", 1);
	in = sp_grade_input_of(t);
	assert_false(in.has_score);
	assert_true(in.has_multiplier);
	assert_score(in.multiplier, 1);
	json_decref(t);

	t = json_pack("{s:s}", "verdict", "nonsense");
	in = sp_grade_input_of(t);
	assert_true(in.known);
	assert_verdict(in.verdict, IE);
	json_decref(t);
	t = json_object();
	in = sp_grade_input_of(t);
	assert_true(in.known);
	assert_verdict(in.verdict, IE);
	json_decref(t);
}

/* ---- verdicts ----------------------------------------------------------------- */

/* worst_error: "the first of JE, IF, RTE, MLE, TLE, OLE, WA [, PE] that is
 * the sub-result of some item" (spec; default_grader's sorting_order JE, IF,
 * RTE, MLE, TLE, OLE, WA, PE, AC), with on_reject: continue so that every
 * item is taken. Sandpool's verdicts map: checker_error and internal_error
 * are JE, runtime_error and syscall_blocked RTE. Every pair, in both orders
 * and after an accepted test. */
static void test_worst_error_order(void **state)
{
	static const enum sp_verdict order[] = {CE, RTE, MLE, TLE, OLE, WA, PE};
	const size_t n = sizeof(order) / sizeof(order[0]);
	struct sp_problem p;
	struct graded r;

	(void)state;
	flat(&p, 3, false);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			struct sp_grade_input in[3] = {V(AC), V(order[j]), V(order[i])};

			grade(&p, in, &r);
			assert_verdict(r.groups[0].verdict, order[i]);
			assert_reached(&p, &r, "111");
			if (order[i] != CE) /* a JE's score is not the grader's */
				assert_score(r.groups[0].score, 1);
			in[0] = V(order[i]);
			in[1] = V(AC);
			in[2] = V(order[j]);
			grade(&p, in, &r);
			assert_verdict(r.groups[0].verdict, order[i]);
		}
	}
	{
		struct sp_grade_input all[3] = {V(AC), V(AC), V(AC)};

		grade(&p, all, &r);
		assert_group(&r, 0, AC, 3);
	}
	sp_problem_free(&p);
}

/* The sandbox's and the checker's failures are JE (worse than any verdict
 * of the program), a blocked system call a run-time error; of a kind, the
 * first test's verdict is the group's (problem_grade.h). */
static void test_verdict_mapping(void **state)
{
	static const struct {
		enum sp_verdict a, b, want;
	} cases[] = {
	    {RTE, IE, IE}, {IE, RTE, IE}, {CE, IE, CE},	   {IE, CE, IE},
	    {MLE, SB, SB}, {SB, MLE, SB}, {SB, RTE, SB},   {RTE, SB, RTE},
	    {SB, CE, CE},  {PE, WA, WA},  {OLE, TLE, TLE},
	};
	struct sp_problem p;
	struct graded r;

	(void)state;
	flat(&p, 2, false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sp_grade_input in[2] = {V(cases[i].a), V(cases[i].b)};

		grade(&p, in, &r);
		assert_verdict(r.groups[0].verdict, cases[i].want);
	}
	sp_problem_free(&p);
}

/* first_error: "the verdict of the first sub-result with a non-accepted
 * verdict", not the worst; but a JE anywhere is the group's result before
 * any grader is asked (_aggregate_group_result). */
static void test_first_error(void **state)
{
	struct sp_problem p;
	struct graded r;

	(void)state;
	flat(&p, 3, false);
	p.groups[0].verdict_mode = SP_GRADE_FIRST_ERROR;
	grade(&p, (struct sp_grade_input[]){V(AC), V(PE), V(RTE)}, &r);
	assert_group(&r, 0, PE, 1);
	grade(&p, (struct sp_grade_input[]){V(TLE), V(AC), V(WA)}, &r);
	assert_group(&r, 0, TLE, 1);
	grade(&p, (struct sp_grade_input[]){V(AC), V(AC), V(AC)}, &r);
	assert_group(&r, 0, AC, 3);
	grade(&p, (struct sp_grade_input[]){V(WA), V(AC), V(CE)}, &r);
	assert_verdict(r.groups[0].verdict, CE);
	/* the same under worst_error: the worst */
	p.groups[0].verdict_mode = SP_GRADE_WORST_ERROR;
	grade(&p, (struct sp_grade_input[]){V(AC), V(PE), V(RTE)}, &r);
	assert_group(&r, 0, RTE, 1);
	sp_problem_free(&p);
}

/* on_reject: break: "judging proceeds immediately to grading" at the first
 * item that is not accepted: the items after it are not taken (not reached)
 * and the score is of the items taken only. So worst_error gives the first
 * error, not the worst of the group's tests ("in combination with the
 * on_reject:break policy ... the result will be the first error
 * encountered"). */
static void test_on_reject_break(void **state)
{
	struct sp_problem p;
	struct graded r;

	(void)state;
	flat(&p, 4, true);
	grade(&p, (struct sp_grade_input[]){V(AC), V(WA), V(AC), V(TLE)}, &r);
	assert_group(&r, 0, WA, 1);
	assert_reached(&p, &r, "1100");
	/* the same under continue: every test, the worst, every score */
	p.groups[0].on_reject_break = false;
	grade(&p, (struct sp_grade_input[]){V(AC), V(WA), V(AC), V(TLE)}, &r);
	assert_group(&r, 0, TLE, 2);
	assert_reached(&p, &r, "1111");
	/* a first test rejected: only it */
	p.groups[0].on_reject_break = true;
	grade(&p, (struct sp_grade_input[]){V(MLE), V(AC), V(AC), V(AC)}, &r);
	assert_group(&r, 0, MLE, 0);
	assert_reached(&p, &r, "1000");
	sp_problem_free(&p);
}

/* A subgroup is an item like a test: a rejected subgroup stops a parent
 * that breaks, and the groups and tests after it are not reached; the
 * subgroup's own on_reject governs its own items. */
static void test_break_over_groups(void **state)
{
	struct sp_problem p = {0};
	struct graded r;
	size_t root, g1, g2, g3;

	(void)state;
	root = group(&p, -1, "data");
	g1 = group(&p, (long)root, "data/g1"); /* continue */
	p.groups[g1].on_reject_break = false;
	test(&p, g1, "g1/a");
	test(&p, g1, "g1/b");
	test(&p, g1, "g1/c");
	test(&p, root, "t");
	g2 = group(&p, (long)root, "data/g2");
	g3 = group(&p, (long)g2, "data/g2/g3");
	test(&p, g3, "g2/g3/d");

	grade(&p, (struct sp_grade_input[]){V(AC), V(WA), V(AC), V(AC), V(AC)}, &r);
	assert_group(&r, g1, WA, 2);
	assert_group(&r, root, WA, 2);
	assert_reached(&p, &r, "11100");
	assert_false(r.groups[g2].reached);
	assert_false(r.groups[g3].reached);

	grade(&p, (struct sp_grade_input[]){V(AC), V(AC), V(AC), V(RTE), V(AC)}, &r);
	assert_group(&r, g1, AC, 3);
	assert_group(&r, root, RTE, 3);
	assert_reached(&p, &r, "11110");
	assert_false(r.groups[g2].reached);

	grade(&p, (struct sp_grade_input[]){V(AC), V(AC), V(AC), V(AC), V(OLE)}, &r);
	assert_group(&r, g3, OLE, 0);
	assert_group(&r, g2, OLE, 0);
	assert_group(&r, root, OLE, 4);
	assert_reached(&p, &r, "11111");
	sp_problem_free(&p);
}

/* always_accept: "Verdict is always accepted", so a parent that breaks goes
 * on after it; its own break still stops its items. A JE among its items is
 * still the group's (problemtools asks no grader then). */
static void test_always_accept(void **state)
{
	struct sp_problem p = {0};
	struct graded r;
	size_t root, g;

	(void)state;
	root = group(&p, -1, "data");
	g = group(&p, (long)root, "data/g");
	p.groups[g].verdict_mode = SP_GRADE_ALWAYS_ACCEPT;
	test(&p, g, "g/a");
	test(&p, g, "g/b");
	test(&p, root, "t");

	grade(&p, (struct sp_grade_input[]){V(WA), V(AC), V(AC)}, &r);
	assert_group(&r, g, AC, 0);
	assert_group(&r, root, AC, 1);
	assert_reached(&p, &r, "101");

	p.groups[g].on_reject_break = false;
	grade(&p, (struct sp_grade_input[]){V(TLE), V(WA), V(AC)}, &r);
	assert_group(&r, g, AC, 0);
	assert_group(&r, root, AC, 1);
	assert_reached(&p, &r, "111");

	grade(&p, (struct sp_grade_input[]){V(WA), V(CE), V(AC)}, &r);
	assert_verdict(r.groups[g].verdict, CE);
	assert_verdict(r.groups[root].verdict, CE);
	assert_reached(&p, &r, "110");
	sp_problem_free(&p);
}

/* accept_if_any_accepted: "Verdict is accepted if any sub-result is
 * accepted, otherwise as specified by the verdict aggregation mode"; a JE
 * first all the same. With break, only the items taken count. */
static void test_accept_if_any_accepted(void **state)
{
	struct sp_problem p;
	struct graded r;

	(void)state;
	flat(&p, 3, false);
	p.groups[0].accept_if_any_accepted = true;
	grade(&p, (struct sp_grade_input[]){V(WA), V(AC), V(TLE)}, &r);
	assert_group(&r, 0, AC, 1);
	grade(&p, (struct sp_grade_input[]){V(WA), V(TLE), V(PE)}, &r);
	assert_group(&r, 0, TLE, 0);
	p.groups[0].verdict_mode = SP_GRADE_FIRST_ERROR;
	grade(&p, (struct sp_grade_input[]){V(WA), V(TLE), V(PE)}, &r);
	assert_group(&r, 0, WA, 0);
	grade(&p, (struct sp_grade_input[]){V(AC), V(IE), V(AC)}, &r);
	assert_verdict(r.groups[0].verdict, IE);
	/* break: the first rejection ends it, before the accepted test */
	p.groups[0].on_reject_break = true;
	grade(&p, (struct sp_grade_input[]){V(WA), V(AC), V(AC)}, &r);
	assert_group(&r, 0, WA, 0);
	assert_reached(&p, &r, "100");
	sp_problem_free(&p);
}

/* ---- scores ------------------------------------------------------------------- */

/* The score modes: "sum of input scores", "average", "minimum", "maximum"
 * of the items' scores (default_grader: sum, avg, min, max), whatever the
 * verdict. */
static void test_score_modes(void **state)
{
	static const struct {
		enum sp_grade_score mode;
		double want;
	} cases[] = {
	    {SP_GRADE_SUM, 6.5}, {SP_GRADE_AVG, 6.5 / 3}, {SP_GRADE_MIN, 1}, {SP_GRADE_MAX, 3.5}};
	struct sp_problem p;
	struct graded r;

	(void)state;
	flat(&p, 3, false);
	for (size_t i = 0; i < 4; i++) {
		p.groups[0].score_mode = cases[i].mode;
		grade(&p, (struct sp_grade_input[]){S(AC, 3.5), S(AC, 1), S(AC, 2)}, &r);
		assert_group(&r, 0, AC, cases[i].want);
		grade(&p, (struct sp_grade_input[]){S(AC, 2), S(WA, 1), S(AC, 3.5)}, &r);
		assert_group(&r, 0, WA, cases[i].want);
	}
	/* negative scores: min and max as numbers */
	p.groups[0].score_mode = SP_GRADE_MAX;
	grade(&p, (struct sp_grade_input[]){S(AC, -3), S(AC, -1), S(AC, -2)}, &r);
	assert_group(&r, 0, AC, -1);
	p.groups[0].score_mode = SP_GRADE_MIN;
	grade(&p, (struct sp_grade_input[]){S(AC, 4), S(AC, 0), S(AC, 2)}, &r);
	assert_group(&r, 0, AC, 0);
	sp_problem_free(&p);
}

/* A group with no item: accepted, score 0, whatever its modes (grade.py:
 * "Returns ('AC', 0.0) immediately if sub_results is empty"). */
static void test_empty_group(void **state)
{
	static const enum sp_grade_score modes[] = {SP_GRADE_SUM, SP_GRADE_AVG, SP_GRADE_MIN,
						    SP_GRADE_MAX};
	static const enum sp_grade_verdict verdicts[] = {SP_GRADE_WORST_ERROR, SP_GRADE_FIRST_ERROR,
							 SP_GRADE_ALWAYS_ACCEPT};
	struct sp_problem p = {0};
	struct graded r;
	size_t root, e;

	(void)state;
	root = group(&p, -1, "data");
	for (size_t m = 0; m < 4; m++) {
		for (size_t v = 0; v < 3; v++) {
			p.groups[root].score_mode = modes[m];
			p.groups[root].verdict_mode = verdicts[v];
			p.groups[root].accept_if_any_accepted = v == 1;
			p.groups[root].ignore_sample = m == 3;
			grade(&p, NULL, &r);
			assert_group(&r, root, AC, 0);
		}
	}
	/* as an item of a group that sums: accepted, 0 */
	e = group(&p, (long)root, "data/empty");
	p.groups[root].score_mode = SP_GRADE_SUM;
	p.groups[root].verdict_mode = SP_GRADE_WORST_ERROR;
	p.groups[root].accept_if_any_accepted = false;
	p.groups[root].ignore_sample = false;
	p.groups[e].score_mode = SP_GRADE_AVG;
	test(&p, root, "t");
	grade(&p, (struct sp_grade_input[]){V(AC)}, &r);
	assert_group(&r, e, AC, 0);
	assert_group(&r, root, AC, 1);
	sp_problem_free(&p);
}

/* A test with no score of its checker scores its group's accept_score when
 * accepted, else its reject_score ("If no score.txt exists the score will
 * be as defined by the grading accept_score and reject_score"; _judge_group
 * applies the test's own group's); a subgroup's score is its own, not its
 * parent's accept_score. */
static void test_accept_and_reject_scores(void **state)
{
	struct sp_problem p = {0};
	struct graded r;
	size_t root, g;

	(void)state;
	root = group(&p, -1, "data");
	p.groups[root].on_reject_break = false;
	p.groups[root].accept_score = 100;
	p.groups[root].reject_score = -100;
	g = group(&p, (long)root, "data/g");
	p.groups[g].on_reject_break = false;
	p.groups[g].accept_score = 10;
	p.groups[g].reject_score = 2.5;
	test(&p, g, "g/a");
	test(&p, g, "g/b");
	test(&p, g, "g/c");
	test(&p, root, "t");
	grade(&p, (struct sp_grade_input[]){V(AC), V(WA), V(PE), V(AC)}, &r);
	assert_group(&r, g, WA, 15);
	assert_group(&r, root, WA, 115);
	grade(&p, (struct sp_grade_input[]){V(AC), V(AC), V(AC), V(TLE)}, &r);
	assert_group(&r, g, AC, 30);
	assert_group(&r, root, TLE, -70);
	sp_problem_free(&p);
}

/* A checker's score is the test's (score.txt, testlib's points), whatever
 * its verdict; else a score_multiplier.txt times the group's accept_score
 * (the test's maximum score); the checker's score before a multiplier
 * (problem_grade.h). */
static void test_checker_scores_and_multipliers(void **state)
{
	struct sp_problem p;
	struct graded r;
	struct sp_grade_input both = S(AC, 7);

	(void)state;
	flat(&p, 5, false);
	p.groups[0].accept_score = 40;
	p.groups[0].reject_score = 1;
	both.has_multiplier = true;
	both.multiplier = 0.5;
	grade(&p, (struct sp_grade_input[]){M(AC, 0.25), S(AC, 3.5), S(WA, 2), V(AC), both}, &r);
	assert_group(&r, 0, WA, 10 + 3.5 + 2 + 40 + 7);
	grade(&p, (struct sp_grade_input[]){M(AC, 0), M(AC, 1), V(WA), S(AC, 0), M(AC, 0.5)}, &r);
	assert_group(&r, 0, WA, 0 + 40 + 1 + 0 + 20);
	sp_problem_free(&p);
}

/* A partially accepted test (testlib's points, partially correct) is
 * accepted for the verdict (it does not stop a group that breaks), and a
 * group that is accepted with one among the items that count says
 * partially_accepted, up the tree; a rejection still wins. */
static void test_partially_accepted(void **state)
{
	struct sp_problem p = {0};
	struct graded r;
	size_t root, sample, secret, g;

	(void)state;
	root = group(&p, -1, "data");
	sample = group(&p, (long)root, "data/sample");
	test(&p, sample, "sample/1");
	secret = group(&p, (long)root, "data/secret");
	g = group(&p, (long)secret, "data/secret/g");
	test(&p, g, "secret/g/1");
	test(&p, g, "secret/g/2");

	grade(&p, (struct sp_grade_input[]){V(AC), S(PA, 0.5), V(AC)}, &r);
	assert_group(&r, g, PA, 1.5);
	assert_group(&r, secret, PA, 1.5);
	assert_group(&r, root, PA, 2.5);
	assert_group(&r, sample, AC, 1);
	assert_reached(&p, &r, "111");

	grade(&p, (struct sp_grade_input[]){V(AC), S(PA, 0.5), V(WA)}, &r);
	assert_group(&r, g, WA, 0.5);
	assert_verdict(r.groups[root].verdict, WA);

	/* the sample does not count at a root that ignores it */
	p.groups[root].ignore_sample = true;
	grade(&p, (struct sp_grade_input[]){S(PA, 0.25), V(AC), V(AC)}, &r);
	assert_group(&r, sample, PA, 0.25);
	assert_group(&r, root, AC, 2);
	grade(&p, (struct sp_grade_input[]){V(AC), V(AC), S(PA, 0.75)}, &r);
	assert_group(&r, root, PA, 1.75);

	/* under always_accept too */
	p.groups[g].verdict_mode = SP_GRADE_ALWAYS_ACCEPT;
	p.groups[g].on_reject_break = false;
	grade(&p, (struct sp_grade_input[]){V(AC), V(WA), S(PA, 0.75)}, &r);
	assert_group(&r, g, PA, 0.75);
	sp_problem_free(&p);
}

/* A skipped test counts as accepted for the verdict and scores the reject
 * score; a test not known yet counts as accepted, with the accept score
 * (problem_grade.h). */
static void test_skipped_and_unknown(void **state)
{
	struct sp_problem p;
	struct graded r;

	(void)state;
	flat(&p, 3, true);
	p.groups[0].accept_score = 3;
	p.groups[0].reject_score = 0.5;
	grade(&p, (struct sp_grade_input[]){V(SK), V(AC), V(SK)}, &r);
	assert_group(&r, 0, AC, 0.5 + 3 + 0.5);
	assert_reached(&p, &r, "111");
	grade(&p, (struct sp_grade_input[]){U(), V(SK), U()}, &r);
	assert_group(&r, 0, AC, 3 + 0.5 + 3);
	assert_reached(&p, &r, "111");
	grade(&p, (struct sp_grade_input[]){U(), V(TLE), U()}, &r);
	assert_group(&r, 0, TLE, 3 + 0.5);
	assert_reached(&p, &r, "110");
	sp_problem_free(&p);
}

/* ---- the root ----------------------------------------------------------------- */

/* ignore_sample at the root: "The first sub-result (sample) will be
 * ignored, the second sub-result (secret) will be used, both verdict and
 * score". With on_reject: break at the root, a rejected sample is the only
 * item taken, and the last one (default_grader: verdicts[-1:]). */
static void test_ignore_sample(void **state)
{
	struct sp_problem p = {0};
	struct graded r;
	size_t root, sample, secret;

	(void)state;
	root = group(&p, -1, "data");
	p.groups[root].ignore_sample = true;
	p.groups[root].on_reject_break = false;
	sample = group(&p, (long)root, "data/sample");
	test(&p, sample, "sample/1");
	secret = group(&p, (long)root, "data/secret");
	p.groups[secret].accept_score = 50;
	test(&p, secret, "secret/1");
	test(&p, secret, "secret/2");

	grade(&p, (struct sp_grade_input[]){V(WA), V(AC), V(AC)}, &r);
	assert_group(&r, sample, WA, 0);
	assert_group(&r, secret, AC, 100);
	assert_group(&r, root, AC, 100);
	assert_reached(&p, &r, "111");

	grade(&p, (struct sp_grade_input[]){V(AC), V(AC), V(TLE)}, &r);
	assert_group(&r, root, TLE, 50);

	p.groups[root].on_reject_break = true;
	grade(&p, (struct sp_grade_input[]){S(WA, 0.5), V(AC), V(AC)}, &r);
	assert_group(&r, root, WA, 0.5);
	assert_false(r.groups[secret].reached);
	assert_reached(&p, &r, "100");

	sp_problem_free(&p);

	/* with secret alone, secret */
	root = group(&p, -1, "data");
	p.groups[root].ignore_sample = true;
	secret = group(&p, (long)root, "data/secret");
	p.groups[secret].accept_score = 50;
	test(&p, secret, "secret/1");
	test(&p, secret, "secret/2");
	grade(&p, (struct sp_grade_input[]){V(AC), V(WA)}, &r);
	assert_group(&r, root, WA, 50);
	sp_problem_free(&p);
}

/* A judge error in the sample at a root with ignore_sample: problemtools
 * looks for a JE among all of a group's sub-results before it runs the
 * grader (_aggregate_group_result: judge_error = next(r for r in
 * child_results if r.verdict == 'JE')), so the root is JE whatever the
 * grader's ignore_sample would drop. */
static void test_ignore_sample_judge_error(void **state)
{
	struct sp_problem p = {0};
	struct graded r;
	size_t root, sample, secret;

	(void)state;
	root = group(&p, -1, "data");
	p.groups[root].ignore_sample = true;
	p.groups[root].on_reject_break = false;
	sample = group(&p, (long)root, "data/sample");
	test(&p, sample, "sample/1");
	secret = group(&p, (long)root, "data/secret");
	test(&p, secret, "secret/1");
	grade(&p, (struct sp_grade_input[]){V(CE), V(AC)}, &r);
	assert_verdict(r.groups[sample].verdict, CE);
	assert_verdict(r.groups[root].verdict, CE);
	sp_problem_free(&p);
}

/* A legacy scoring package as problemtools' examples lay it out: the root
 * continues and ignores the sample; secret sums its groups (continue); each
 * group breaks at its first rejection and takes the least score, its
 * accept_score its points. */
static void test_scoring_tree(void **state)
{
	struct sp_problem p = {0};
	struct graded r;
	size_t root, sample, secret, g1, g2;

	(void)state;
	root = group(&p, -1, "data");
	p.groups[root].on_reject_break = false;
	p.groups[root].ignore_sample = true;
	sample = group(&p, (long)root, "data/sample");
	test(&p, sample, "sample/1");
	test(&p, sample, "sample/2");
	secret = group(&p, (long)root, "data/secret");
	p.groups[secret].on_reject_break = false;
	g1 = group(&p, (long)secret, "data/secret/g1");
	p.groups[g1].score_mode = SP_GRADE_MIN;
	p.groups[g1].accept_score = 30;
	test(&p, g1, "secret/g1/1");
	test(&p, g1, "secret/g1/2");
	test(&p, g1, "secret/g1/3");
	g2 = group(&p, (long)secret, "data/secret/g2");
	p.groups[g2].score_mode = SP_GRADE_MIN;
	p.groups[g2].accept_score = 70;
	test(&p, g2, "secret/g2/1");
	test(&p, g2, "secret/g2/2");

	grade(&p, (struct sp_grade_input[]){V(AC), V(WA), V(AC), V(WA), V(AC), V(AC), V(AC)}, &r);
	assert_group(&r, sample, WA, 1);
	assert_group(&r, g1, WA, 0);
	assert_group(&r, g2, AC, 70);
	assert_group(&r, secret, WA, 70);
	assert_group(&r, root, WA, 70);
	assert_reached(&p, &r, "1111011");

	grade(&p, (struct sp_grade_input[]){V(AC), V(AC), V(AC), V(AC), V(AC), V(AC), V(AC)}, &r);
	assert_group(&r, root, AC, 100);
	assert_reached(&p, &r, "1111111");

	grade(&p, (struct sp_grade_input[]){V(AC), V(AC), V(AC), V(AC), V(AC), V(TLE), V(AC)}, &r);
	assert_group(&r, g2, TLE, 0);
	assert_group(&r, root, TLE, 30);
	assert_reached(&p, &r, "1111110");
	sp_problem_free(&p);
}

/* ---- sp_problem_skippable ------------------------------------------------------ */

static json_t *result(enum sp_verdict v)
{
	json_t *o = json_pack("{s:s}", "verdict", sp_verdict_to_string(v));

	assert_non_null(o);
	return o;
}

/* SKIP as a string of 1 and 0, RESULTS a string of verdict letters: '?' not
 * known, 'A' accepted, 'W' wrong answer, 'T' time limit, 'J' checker error,
 * 'P' partially accepted, 'S' skipped. */
static enum sp_verdict letter(char c)
{
	switch (c) {
	case 'A':
		return AC;
	case 'W':
		return WA;
	case 'T':
		return TLE;
	case 'J':
		return CE;
	case 'P':
		return PA;
	case 'S':
		return SK;
	default:
		fail_msg("letter %c", c);
		return AC;
	}
}

static void assert_skippable(const struct sp_problem *p, const char *results, const char *want)
{
	json_t *res[MAX_TESTS] = {0};
	bool skip[MAX_TESTS];
	char got[MAX_TESTS + 1];

	assert_int_equal(strlen(results), p->test_count);
	for (size_t i = 0; i < p->test_count; i++)
		res[i] = results[i] == '?' ? NULL : result(letter(results[i]));
	memset(skip, 0xa5, sizeof(skip));
	assert_int_equal(sp_problem_skippable(p, res, skip), 0);
	for (size_t i = 0; i < p->test_count; i++) {
		got[i] = skip[i] ? '1' : '0';
		json_decref(res[i]);
	}
	got[p->test_count] = '\0';
	assert_string_equal(got, want);
}

/* Nothing known: nothing can be skipped; a rejection in a group that
 * breaks: its items after it never will be graded; in a group that
 * continues: all will. */
static void test_skippable_flat(void **state)
{
	struct sp_problem p;

	(void)state;
	flat(&p, 4, true);
	assert_skippable(&p, "????", "0000");
	assert_skippable(&p, "AAAA", "0000");
	assert_skippable(&p, "?W??", "0011");
	assert_skippable(&p, "W???", "0111");
	assert_skippable(&p, "???T", "0000");
	assert_skippable(&p, "?J??", "0011");
	/* a partially accepted or a skipped test is accepted: it breaks nothing */
	assert_skippable(&p, "P???", "0000");
	assert_skippable(&p, "S???", "0000");
	p.groups[0].on_reject_break = false;
	assert_skippable(&p, "?W??", "0000");
	assert_skippable(&p, "WWWW", "0000");
	sp_problem_free(&p);
}

/* Nested groups: a rejection inside a group that breaks skips the rest of
 * that group; whether its parent goes on is its parent's on_reject. */
static void test_skippable_nested(void **state)
{
	struct sp_problem p = {0};
	size_t root, secret, g1, g2;

	(void)state;
	root = group(&p, -1, "data");
	test(&p, group(&p, (long)root, "data/sample"), "sample/1");
	secret = group(&p, (long)root, "data/secret");
	p.groups[secret].on_reject_break = false;
	g1 = group(&p, (long)secret, "data/secret/g1");
	test(&p, g1, "secret/g1/1");
	test(&p, g1, "secret/g1/2");
	test(&p, g1, "secret/g1/3");
	g2 = group(&p, (long)secret, "data/secret/g2");
	test(&p, g2, "secret/g2/1");
	test(&p, g2, "secret/g2/2");

	assert_skippable(&p, "??????", "000000");
	assert_skippable(&p, "?W????", "001100");
	assert_skippable(&p, "?AW?W?", "000101");
	/* the sample rejected: the root breaks, secret is never graded */
	assert_skippable(&p, "W?????", "011111");
	p.groups[root].on_reject_break = false;
	assert_skippable(&p, "W?????", "000000");
	sp_problem_free(&p);
}

/* accept_if_any_accepted and always_accept: a rejection inside such a group
 * need not reject the group, so its parent's later items are still needed.
 * Skipping the rest of every group above a rejection would skip them. */
static void test_skippable_accepting_groups(void **state)
{
	struct sp_problem p = {0};
	size_t root, any, always;

	(void)state;
	root = group(&p, -1, "data");
	any = group(&p, (long)root, "data/any");
	p.groups[any].accept_if_any_accepted = true;
	p.groups[any].on_reject_break = false;
	test(&p, any, "any/1");
	test(&p, any, "any/2");
	test(&p, root, "t1");
	always = group(&p, (long)root, "data/always");
	p.groups[always].verdict_mode = SP_GRADE_ALWAYS_ACCEPT;
	test(&p, always, "always/1");
	test(&p, always, "always/2");
	test(&p, root, "t2");

	/* any/1 rejected: any/2 may still accept the group, t1 on */
	assert_skippable(&p, "W?????", "000000");
	/* both rejected: the group is rejected, the root breaks */
	assert_skippable(&p, "WW????", "001111");
	assert_skippable(&p, "WA????", "000000");
	/* always/1 rejected: always/2 skipped (the group breaks), t2 not */
	assert_skippable(&p, "AAAW??", "000010");
	/* a judge error in the always_accept group is the group's: t2 skipped */
	assert_skippable(&p, "AAAJ??", "000011");
	/* accept_if_any with break: its first rejection ends it */
	p.groups[any].on_reject_break = true;
	assert_skippable(&p, "W?????", "011111");
	sp_problem_free(&p);
}

/* Taking every test not known yet as accepted and skipping what that
 * grading does not reach would be sound only while a group's acceptance can
 * only fall as its tests fail; a group that breaks and always accepts (or
 * accepts if any item is accepted) is not like that: a test not known yet
 * that fails stops the group before a known judge error, and the group is
 * then accepted. Here: root (break) [g (always_accept, break) [a, b], t], b
 * a checker_error, a not known yet: t must not be skipped, for with a =
 * wrong_answer, g takes a alone, is accepted (always_accept), the root goes
 * on and grades t. */
static void test_skippable_always_accept_before_judge_error(void **state)
{
	struct sp_problem p = {0};
	size_t root, g;

	(void)state;
	root = group(&p, -1, "data");
	g = group(&p, (long)root, "data/g");
	p.groups[g].verdict_mode = SP_GRADE_ALWAYS_ACCEPT;
	test(&p, g, "g/a");
	test(&p, g, "g/b");
	test(&p, root, "t");
	/* what the final grading does with a = wrong_answer: t graded */
	{
		struct graded r;

		grade(&p, (struct sp_grade_input[]){V(WA), V(CE), V(AC)}, &r);
		assert_group(&r, g, AC, 0);
		assert_reached(&p, &r, "101");
	}
	assert_skippable(&p, "?J?", "000");
	sp_problem_free(&p);
}

/* The same with accept_if_any_accepted: root (break) [g
 * (accept_if_any_accepted, break) [a, b, c], t], a accepted, c a
 * checker_error, b not known yet: t must not be skipped, for with b =
 * wrong_answer g takes a and b, is accepted (a was), and the root grades t. */
static void test_skippable_accept_if_any_before_judge_error(void **state)
{
	struct sp_problem p = {0};
	size_t root, g;

	(void)state;
	root = group(&p, -1, "data");
	g = group(&p, (long)root, "data/g");
	p.groups[g].accept_if_any_accepted = true;
	test(&p, g, "g/a");
	test(&p, g, "g/b");
	test(&p, g, "g/c");
	test(&p, root, "t");
	{
		struct graded r;

		grade(&p, (struct sp_grade_input[]){V(AC), V(WA), V(CE), V(AC)}, &r);
		assert_group(&r, g, AC, 1);
		assert_reached(&p, &r, "1101");
	}
	assert_skippable(&p, "A?J?", "0000");
	sp_problem_free(&p);
}

/* The rule skippable stands on, tried whole: whatever the tests not known
 * yet turn out to be, the final grading reaches none of the tests skipped,
 * and gives the same result with them skipped as with their own outcomes.
 * Every mix of known and not known outcomes (accepted, wrong answer, judge
 * error, partially accepted) and of outcomes for those not known. Returns
 * the number of mixes where it does not hold (the first is printed). */
#define OUTCOMES 4
static const enum sp_verdict outcomes[OUTCOMES] = {AC, WA, CE, PA};

static const char outcome_letters[OUTCOMES + 1] = "AWJP";

static size_t check_mix(const struct sp_problem *p, const struct sp_grade_input *in,
			const bool *skip)
{
	struct graded full, skipped;
	struct sp_grade_input with_skips[MAX_TESTS];
	size_t bad = 0;

	grade(p, in, &full);
	for (size_t i = 0; i < p->test_count; i++) {
		bad += full.reached[i] && skip[i];
		with_skips[i] = skip[i] ? V(SK) : in[i];
	}
	grade(p, with_skips, &skipped);
	for (size_t g = 0; g < p->group_count; g++) {
		bad += full.groups[g].reached != skipped.groups[g].reached;
		if (full.groups[g].reached)
			bad += full.groups[g].verdict != skipped.groups[g].verdict ||
			       fabs(full.groups[g].score - skipped.groups[g].score) > 1e-9;
	}
	return bad > 0;
}

static size_t skip_unsound(const struct sp_problem *p)
{
	size_t n = p->test_count, patterns = 1, bad = 0;
	json_t *known[OUTCOMES];

	for (int i = 0; i < OUTCOMES; i++)
		known[i] = result(outcomes[i]);
	for (size_t i = 0; i < n; i++)
		patterns *= OUTCOMES + 1;
	for (size_t code = 0; code < patterns; code++) {
		json_t *res[MAX_TESTS];
		bool skip[MAX_TESTS];
		size_t unknown[MAX_TESTS], u = 0, c = code, completions = 1;
		struct sp_grade_input in[MAX_TESTS];
		char seen[MAX_TESTS + 1];

		for (size_t i = 0; i < n; i++, c /= OUTCOMES + 1) {
			size_t o = c % (OUTCOMES + 1);

			res[i] = o == 0 ? NULL : known[o - 1];
			in[i] = o == 0 ? U() : V(outcomes[o - 1]);
			seen[i] = o == 0 ? '?' : outcome_letters[o - 1];
			if (o == 0)
				unknown[u++] = i;
		}
		seen[n] = '\0';
		assert_int_equal(sp_problem_skippable(p, res, skip), 0);
		for (size_t i = 0; i < u; i++)
			completions *= OUTCOMES;
		for (size_t k = 0; k < completions; k++) {
			size_t kk = k;

			for (size_t i = 0; i < u; i++, kk /= OUTCOMES)
				in[unknown[i]] = V(outcomes[kk % OUTCOMES]);
			if (check_mix(p, in, skip) && bad++ == 0) {
				char then[MAX_TESTS + 1], sk[MAX_TESTS + 1];

				for (size_t i = 0; i < n; i++) {
					then[i] = outcome_letters[in[i].verdict == AC	? 0
								  : in[i].verdict == WA ? 1
								  : in[i].verdict == CE ? 2
											: 3];
					sk[i] = skip[i] ? '1' : '0';
				}
				then[n] = sk[n] = '\0';
				print_error(
				    "known %s, skipped %s, then %s: a skipped test counts\n", seen,
				    sk, then);
			}
		}
	}
	for (int i = 0; i < OUTCOMES; i++)
		json_decref(known[i]);
	return bad;
}

/* Groups that break and continue, first_error, ignore_sample at a root that
 * breaks, nested groups: no always_accept nor accept_if_any_accepted. */
static void test_skippable_sound(void **state)
{
	struct sp_problem p = {0};
	size_t root, sample, secret, g1, g2, g3;

	(void)state;
	root = group(&p, -1, "data");
	p.groups[root].ignore_sample = true;
	sample = group(&p, (long)root, "data/sample");
	test(&p, sample, "sample/1");
	secret = group(&p, (long)root, "data/secret");
	g1 = group(&p, (long)secret, "data/secret/g1");
	p.groups[g1].on_reject_break = false;
	p.groups[g1].verdict_mode = SP_GRADE_FIRST_ERROR;
	test(&p, g1, "secret/g1/1");
	test(&p, g1, "secret/g1/2");
	g2 = group(&p, (long)secret, "data/secret/g2");
	p.groups[g2].verdict_mode = SP_GRADE_FIRST_ERROR;
	test(&p, g2, "secret/g2/1");
	g3 = group(&p, (long)g2, "data/secret/g2/g3");
	test(&p, g3, "secret/g2/g3/1");
	test(&p, g2, "secret/g2/2");
	assert_int_equal(skip_unsound(&p), 0);
	p.groups[secret].on_reject_break = false;
	p.groups[g3].on_reject_break = false;
	assert_int_equal(skip_unsound(&p), 0);
	sp_problem_free(&p);
}

/* The same over groups that always accept or accept if any item is
 * accepted (see the two cases above). */
static void test_skippable_sound_with_accepting_groups(void **state)
{
	struct sp_problem p = {0};
	size_t root, sample, secret, g1, g2, g3;

	(void)state;
	root = group(&p, -1, "data");
	sample = group(&p, (long)root, "data/sample");
	test(&p, sample, "sample/1");
	secret = group(&p, (long)root, "data/secret");
	g1 = group(&p, (long)secret, "data/secret/any");
	p.groups[g1].accept_if_any_accepted = true;
	test(&p, g1, "secret/any/1");
	test(&p, g1, "secret/any/2");
	g2 = group(&p, (long)secret, "data/secret/always");
	p.groups[g2].verdict_mode = SP_GRADE_ALWAYS_ACCEPT;
	test(&p, g2, "secret/always/1");
	g3 = group(&p, (long)g2, "data/secret/always/g3");
	test(&p, g3, "secret/always/g3/1");
	test(&p, secret, "secret/last");
	assert_int_equal(skip_unsound(&p), 0); /* fails */
	sp_problem_free(&p);
}

/* ---- sp_problem_grade_json ----------------------------------------------------- */

static void assert_json(json_t *got, const char *want_text)
{
	json_error_t jerr;
	json_t *want = json_loads(want_text, 0, &jerr);

	assert_non_null(want);
	assert_non_null(got);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);

		print_error("got  %s\nwant %s\n", g, w);
		free(g);
		free(w);
		fail();
	}
	json_decref(want);
	json_decref(got);
}

/* A problem of a root that breaks, a sample and a secret of two tests and a
 * subgroup. */
static void small_tree(struct sp_problem *p)
{
	size_t root, sample, secret;

	memset(p, 0, sizeof(*p));
	root = group(p, -1, "data");
	sample = group(p, (long)root, "data/sample");
	test(p, sample, "sample/1");
	secret = group(p, (long)root, "data/secret");
	test(p, secret, "secret/1");
	test(p, group(p, (long)secret, "data/secret/g"), "secret/g/1");
	test(p, secret, "secret/2");
}

/* {"verdict", "groups": [{"name", "verdict", "tests" (its own tests, not
 * its subgroups'), "reached"}]}: a pass-fail problem shows no score; a
 * group not reached says "skipped". */
static void test_grade_json_pass_fail(void **state)
{
	struct sp_problem p;
	json_t *res[4];

	(void)state;
	small_tree(&p);
	res[0] = result(AC);
	res[1] = result(AC);
	res[2] = result(TLE);
	res[3] = result(AC);
	assert_json(sp_problem_grade_json(&p, res),
		    "{\"verdict\": \"time_limit\", \"groups\": ["
		    "{\"name\": \"data\", \"verdict\": \"time_limit\", \"tests\": 0, "
		    "\"reached\": true},"
		    "{\"name\": \"data/sample\", \"verdict\": \"accepted\", \"tests\": 1, "
		    "\"reached\": true},"
		    "{\"name\": \"data/secret\", \"verdict\": \"time_limit\", \"tests\": 2, "
		    "\"reached\": true},"
		    "{\"name\": \"data/secret/g\", \"verdict\": \"time_limit\", \"tests\": 1, "
		    "\"reached\": true}]}");
	json_decref(res[0]);
	res[0] = result(WA);
	assert_json(sp_problem_grade_json(&p, res),
		    "{\"verdict\": \"wrong_answer\", \"groups\": ["
		    "{\"name\": \"data\", \"verdict\": \"wrong_answer\", \"tests\": 0, "
		    "\"reached\": true},"
		    "{\"name\": \"data/sample\", \"verdict\": \"wrong_answer\", \"tests\": 1, "
		    "\"reached\": true},"
		    "{\"name\": \"data/secret\", \"verdict\": \"skipped\", \"tests\": 2, "
		    "\"reached\": false},"
		    "{\"name\": \"data/secret/g\", \"verdict\": \"skipped\", \"tests\": 1, "
		    "\"reached\": false}]}");
	for (int i = 0; i < 4; i++)
		json_decref(res[i]);
	sp_problem_free(&p);
}

/* A scoring problem: "score" at the top (the root's) and in every group, a
 * number (0 for a group not reached); a pass-fail problem whose checker gave
 * a score or a multiplier shows them too. */
static void test_grade_json_scores(void **state)
{
	struct sp_problem p;
	json_t *res[4];
	const char *want =
	    "{\"verdict\": \"partially_accepted\", \"score\": 4.5, \"groups\": ["
	    "{\"name\": \"data\", \"verdict\": \"partially_accepted\", \"tests\": 0, "
	    "\"reached\": true, \"score\": 4.5},"
	    "{\"name\": \"data/sample\", \"verdict\": \"accepted\", \"tests\": 1, "
	    "\"reached\": true, \"score\": 1.0},"
	    "{\"name\": \"data/secret\", \"verdict\": \"partially_accepted\", \"tests\": 2, "
	    "\"reached\": true, \"score\": 3.5},"
	    "{\"name\": \"data/secret/g\", \"verdict\": \"partially_accepted\", \"tests\": 1, "
	    "\"reached\": true, \"score\": 0.5}]}";

	(void)state;
	small_tree(&p);
	p.scoring = true;
	res[0] = result(AC);
	res[1] = json_pack("{s:s, s:f}", "verdict", "accepted", "score_multiplier", 2.0);
	res[2] = json_pack("{s:s, s:f}", "verdict", "partially_accepted", "score", 0.5);
	res[3] = result(AC);
	assert_json(sp_problem_grade_json(&p, res), want);
	/* pass-fail, with a checker's score */
	p.scoring = false;
	assert_json(sp_problem_grade_json(&p, res), want);
	/* pass-fail, with a multiplier alone */
	json_decref(res[2]);
	res[2] = result(AC);
	{
		json_t *got = sp_problem_grade_json(&p, res);

		assert_non_null(got);
		assert_string_equal(json_string_value(json_object_get(got, "verdict")), "accepted");
		assert_score(json_real_value(json_object_get(got, "score")), 5);
		json_decref(got);
	}
	/* scoring, a group not reached */
	p.scoring = true;
	json_decref(res[1]);
	res[1] = result(WA);
	assert_json(sp_problem_grade_json(&p, (json_t *const[]){res[0], res[1], res[3], res[3]}),
		    "{\"verdict\": \"wrong_answer\", \"score\": 1.0, \"groups\": ["
		    "{\"name\": \"data\", \"verdict\": \"wrong_answer\", \"tests\": 0, "
		    "\"reached\": true, \"score\": 1.0},"
		    "{\"name\": \"data/sample\", \"verdict\": \"accepted\", \"tests\": 1, "
		    "\"reached\": true, \"score\": 1.0},"
		    "{\"name\": \"data/secret\", \"verdict\": \"wrong_answer\", \"tests\": 2, "
		    "\"reached\": true, \"score\": 0.0},"
		    "{\"name\": \"data/secret/g\", \"verdict\": \"skipped\", \"tests\": 1, "
		    "\"reached\": false, \"score\": 0.0}]}");
	for (int i = 0; i < 4; i++)
		json_decref(res[i]);
	sp_problem_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_input_of),
	    cmocka_unit_test(test_worst_error_order),
	    cmocka_unit_test(test_verdict_mapping),
	    cmocka_unit_test(test_first_error),
	    cmocka_unit_test(test_on_reject_break),
	    cmocka_unit_test(test_break_over_groups),
	    cmocka_unit_test(test_always_accept),
	    cmocka_unit_test(test_accept_if_any_accepted),
	    cmocka_unit_test(test_score_modes),
	    cmocka_unit_test(test_empty_group),
	    cmocka_unit_test(test_accept_and_reject_scores),
	    cmocka_unit_test(test_checker_scores_and_multipliers),
	    cmocka_unit_test(test_partially_accepted),
	    cmocka_unit_test(test_skipped_and_unknown),
	    cmocka_unit_test(test_ignore_sample),
	    cmocka_unit_test(test_ignore_sample_judge_error),
	    cmocka_unit_test(test_scoring_tree),
	    cmocka_unit_test(test_skippable_flat),
	    cmocka_unit_test(test_skippable_nested),
	    cmocka_unit_test(test_skippable_accepting_groups),
	    cmocka_unit_test(test_skippable_always_accept_before_judge_error),
	    cmocka_unit_test(test_skippable_accept_if_any_before_judge_error),
	    cmocka_unit_test(test_skippable_sound),
	    cmocka_unit_test(test_skippable_sound_with_accepting_groups),
	    cmocka_unit_test(test_grade_json_pass_fail),
	    cmocka_unit_test(test_grade_json_scores),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
