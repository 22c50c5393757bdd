/* How the server runs one job taken from the queue: lease a cell of its
 * language, run the job's steps in it, give the cell back, count it. */
#ifndef SANDPOOL_SERVE_JOB_H
#define SANDPOOL_SERVE_JOB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

/* A sp_jobs_run_fn; CTX is the struct sp_server. */
struct sp_job;

json_t *sp_serve_job(void *ctx, struct sp_job *job, const struct sp_request *req, size_t language,
		     int cancel_fd, uint64_t queued_ms);

/* A sp_jobs_event_fn: the event goes to the job's WebSocket watchers. */
void sp_serve_job_event(void *ctx, const struct sp_job *job, json_t *event);

/* A sp_jobs_unrun_fn: a job of LANGUAGE ended without running. */
void sp_serve_job_unrun(void *ctx, size_t language);

#endif
