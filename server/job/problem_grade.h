/* A problem's result from its tests' outcomes, graded as the ICPC/Kattis
 * format's default grader does (and a plain package's one group alike).
 *
 * Each group's items (tests and subgroups) are taken in order; a group that
 * breaks on a rejection (on_reject: break) takes no item after the first
 * that is not accepted. A test's score is what its checker gave (testlib's
 * points, a validator's score.txt), or its score_multiplier.txt times its
 * group's accept_score, else the group's accept_score when accepted and
 * reject_score when not. A group's verdict, of the items it took: a checker
 * or sandbox failure (JE) if any; else accepted when every one was (or, with
 * accept_if_any_accepted, any one), or always with always_accept; else, by
 * worst_error, the first of runtime error, memory, time and output limits,
 * wrong answer, presentation error that an item has, or, by first_error,
 * the first item's that is not accepted. With ignore_sample only its last
 * item counts (the root's sample and secret: secret). Its score: the sum,
 * average, least or most of its items' scores (0 with none). The verdict
 * is reported as the verdict of the first test of that kind; accepted as
 * partially_accepted when a test that counts was partially accepted. A
 * skipped test counts as accepted for the verdict and scores the reject
 * score; a test not known yet (its outcome NULL) counts as accepted. */
#ifndef SANDPOOL_PROBLEM_GRADE_H
#define SANDPOOL_PROBLEM_GRADE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "judge_verdict.h"
#include "problem.h"

/* A test's outcome as the grading reads it. */
struct sp_grade_input {
	enum sp_verdict verdict;
	bool known;
	bool has_score, has_multiplier;
	double score, multiplier;
};

/* A group's (or a test's) result. */
struct sp_grade_result {
	enum sp_verdict verdict;
	double score;
	bool reached; /* the grading took it */
};

/* The outcome TEST (a judge's "test" event: "verdict", "score"?,
 * "score_multiplier"?), or NULL for one not known yet. */
struct sp_grade_input sp_grade_input_of(const json_t *test);

/* Grade PROBLEM's tests TESTS (test_count) into GROUPS (group_count) and
 * REACHED (test_count): whether the grading took each test. */
void sp_problem_grade(const struct sp_problem *problem, const struct sp_grade_input *tests,
		      struct sp_grade_result *groups, bool *reached);

/* Which tests of PROBLEM the grading can take no more, whatever the
 * outcomes still to come, given RESULTS (test_count, NULL where not known):
 * *SKIP[i] is true for those after an item of a breaking group that is
 * certainly rejected (an item's rejection is certain when no outcome to
 * come can make it accepted: problem_grade.c says when). Returns -1 when
 * out of memory (nothing skipped). */
int sp_problem_skippable(const struct sp_problem *problem, json_t *const *results, bool *skip);

/* {"verdict", "score"?, "groups": [{"name", "verdict", "score"?, "tests",
 * "reached"}]} of PROBLEM from RESULTS (its tests' outcomes, all known):
 * the score where the problem is scoring or a checker gave one. NULL when
 * out of memory. */
json_t *sp_problem_grade_json(const struct sp_problem *problem, json_t *const *results);

#endif
