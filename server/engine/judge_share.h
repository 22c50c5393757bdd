/* A judge job's tests shared with the workers of other processes, as the
 * judge sees it (the queue keeps the share: sp_queue_share_*): the worker
 * that runs the job offers its tests and its built program, and collects
 * the outcomes others wrote; a helper part reads the program back. */
#ifndef SANDPOOL_JUDGE_SHARE_H
#define SANDPOOL_JUDGE_SHARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "program.h"
#include "server/job/request.h"

struct sp_server;
struct sp_queue_job;

/* How long a test of REQ may take, checked, before another worker takes it
 * again. */
uint64_t sp_judge_claim_ms(const struct sp_server *server, const struct sp_request *req);

/* Offer the tests of the judge JOB (REQ, built as PROGRAM) that this
 * worker's AT_ONCE tests at a time leave waiting to other workers too:
 * up to judge_spread helper parts. Returns whether they are shared: not
 * with a queue that runs every job in this process, nor for a request of
 * no more than AT_ONCE tests. */
bool sp_judge_share_open(struct sp_server *server, const struct sp_queue_job *job,
			 const struct sp_request *req, const struct sp_program *program,
			 size_t at_once);

/* The outcomes other workers stored for the shared JOB, into the COUNT
 * RESULTS still NULL; then the share is dropped. */
void sp_judge_share_collect(struct sp_server *server, const struct sp_queue_job *job,
			    json_t **results, size_t count);

/* A helper part's program (sp_queue_job.part): the one JOB's worker
 * stored, or REQ's sources. Returns 0 with *PROGRAM, -1 when there is none
 * to have (the job ended, the share is gone). */
int sp_judge_share_program(struct sp_server *server, const struct sp_queue_job *job,
			   const struct sp_request *req, struct sp_program **program);

#endif
