/* One test of a judge request: run the program on a warm cell with the
 * test's input, then decide: a built-in checker in the supervisor, a
 * checker program on a cell of its own, or an interactor running beside the
 * program on a second cell. */
#ifndef SANDPOOL_JUDGE_CASE_H
#define SANDPOOL_JUDGE_CASE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "program.h"
#include "sandbox/run.h"
#include "server/job/judge_request.h"
#include "server/job/judge_verdict.h"

/* What a message of a checker or interactor (its stderr) keeps, and how
 * much of a program's output a test's answer shows. */
#define SP_JUDGE_MESSAGE_MAX 1024
#define SP_JUDGE_PREVIEW_MAX 1024

struct sp_server;

/* What every test of a request shares. */
struct sp_judge_run {
	struct sp_server *server;
	const struct sp_judge *judge;
	struct sp_program *program;
	struct sp_program *checker;    /* or NULL: the built-in one */
	struct sp_program *interactor; /* or NULL */
	int cancel_fd;
	const char *data; /* the judge's data_fd, mapped */
};

struct sp_test_outcome {
	enum sp_verdict verdict;
	bool ran;
	struct sp_step_result run; /* its output cut to a preview once checked */
	bool output_cut;	   /* the preview is shorter than the output */
	bool interacted;
	struct sp_step_result interactor; /* figures only */
	char message[SP_JUDGE_MESSAGE_MAX];
	/* What the checker said besides its verdict: testlib's points or a
	 * Kattis validator's score.txt (SCORE), its score_multiplier.txt
	 * (MULTIPLIER), its teammessage.txt. */
	bool has_score, has_multiplier;
	double score, multiplier;
	char team_message[SP_JUDGE_MESSAGE_MAX];
};

/* Run test INDEX of RUN into OUT (cleared first). Thread-safe. */
void sp_judge_case_run(const struct sp_judge_run *run, size_t index, struct sp_test_outcome *out);

void sp_test_outcome_free(struct sp_test_outcome *outcome);

#endif
