/* How the server runs one job taken from the queue: lease a cell of its
 * language, run the job's steps in it, give the cell back, count it. */
#ifndef SANDPOOL_SERVE_JOB_H
#define SANDPOOL_SERVE_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "request.h"
#include "sandbox/error.h"

struct sp_job;
struct sp_server;
struct sp_cell;

/* What to do with the job's cell after the job ended well, before it goes
 * back (a judge packs a compiled box): FN returns 0, or -1 when the cell
 * must be destroyed. */
struct sp_cell_after {
	int (*fn)(void *ctx, struct sp_cell *cell, struct sp_job_result *res);
	void *ctx;
};

/* Which cell a job runs on, and what is done with it after. */
struct sp_cell_use {
	const char *language;
	bool spare; /* a cell that waits for no one (sp_pool_lease_spare), not
		     * one of the language's warm cells waited for */
	const struct sp_cell_after *after; /* or NULL */
	uint64_t leased_us;		   /* out: when the cell was leased (sp_clock_us) */
};

/* Run SPEC on a cell as USE says: lease one (a warm one waited for up to
 * 30 s, or a spare), run, USE's after, release. A cell found broken before
 * any of the job ran is replaced and the job tried again, three times at
 * most. Returns 0 with RES filled (sp_job_result_free() it), or -1 with ERR
 * when no cell could be had. */
int sp_serve_on_cell(struct sp_server *server, struct sp_cell_use *use,
		     const struct sp_job_spec *spec, struct sp_job_result *res,
		     struct sp_error *err);

/* A sp_jobs_run_fn; CTX is the struct sp_server. */

json_t *sp_serve_job(void *ctx, struct sp_job *job, const struct sp_request *req, size_t language,
		     int cancel_fd, uint64_t queued_ms);

/* A sp_jobs_event_fn: the event goes to the job's WebSocket watchers. */
void sp_serve_job_event(void *ctx, const struct sp_job *job, json_t *event);

/* A sp_jobs_measure_fn: what REQ may take while it runs (its outputs; a
 * judge request's programs and tests too). */
void sp_serve_job_measure(void *ctx, const struct sp_request *req, unsigned cells, uint64_t *held,
			  uint64_t *reserve);

/* A sp_jobs_unrun_fn: a job of LANGUAGE ended without running. */
void sp_serve_job_unrun(void *ctx, size_t language);

#endif
