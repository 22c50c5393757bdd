/* Judge mode: compile a submission once, run it against every test of the
 * request on warm cells (several at once, up to judge_pool_percent of its
 * language's cells), check each answer, and sum the verdicts up. */
#ifndef SANDPOOL_JUDGE_H
#define SANDPOOL_JUDGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "server/job/request.h"

struct sp_server;
struct sp_queue_job;

/* Judge REQ (a judge-mode request) as JOB (queue.h); each
 * finished test is a "test" event for the job's watchers. Returns the
 * answer: {"language", "version", "status", "verdict", "compile", "checker"?,
 * "interactor"?, "tests": [...], "summary": {...}, "error"?}. */
json_t *sp_serve_judge(struct sp_server *server, const struct sp_queue_job *job,
		       const struct sp_request *req, int cancel_fd);

/* The cells of its language REQ takes at once while it runs: 1 for a run;
 * for a judge its tests at once (judge_pool_percent of the language's cells,
 * at least one), two cells each with an interactor of the same language.
 * The queue reserves them (sp_queue_order.cells). */
unsigned sp_judge_cells(const struct sp_server *server, const struct sp_request *req);

#endif
