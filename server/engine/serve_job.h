/* How the server runs one job taken from the queue: a judge request goes to
 * the judge, any other runs on a cell of its language (cell_lease.h); its
 * progress goes to its watchers, its figures to the metrics. */
#ifndef SANDPOOL_SERVE_JOB_H
#define SANDPOOL_SERVE_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"
#include "server/job/job_run.h"
#include "server/job/request.h"

struct sp_queue_job;
struct sp_server;

/* The queue's worker (struct sp_queue_worker); CTX is the struct sp_server. */

/* Run JOB's request REQ. */
json_t *sp_serve_job(void *ctx, const struct sp_queue_job *job, const struct sp_request *req,
		     int cancel_fd);

/* What REQ may take while it runs (its outputs; a judge request's programs
 * and tests too). */
void sp_serve_job_measure(void *ctx, const struct sp_request *req, unsigned cells, uint64_t *held,
			  uint64_t *reserve);

/* A job of LANGUAGE ended without running. */
void sp_serve_job_unrun(void *ctx, size_t language);

#endif
