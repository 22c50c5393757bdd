/* The job table: a bounded queue per language, the worker threads that take
 * jobs from it, and the finished jobs kept for GET /api/v1/jobs/{id}.
 *
 * Scheduling: each language may run at most `capacity` jobs at once (its
 * warm cells, or the cold concurrency); a job that takes several cells at
 * once (order.cells) counts as many. Within a language, users take turns:
 * each user (userId; jobs without one share a turn) has a FIFO, and the next
 * job is the head of the next user's. A worker takes, among the languages
 * below their capacity, the oldest of those next jobs: a language whose cells
 * are all busy never holds up another language, and a user with many queued
 * jobs delays another user's job by at most one job per slot.
 *
 * Memory (job_bytes.h): a job holds its inputs from its submission, and
 * while it runs what its output may take (config.measure says how much);
 * once it ended, its result's size (sp_json_footprint) until it is dropped.
 * A submission that would take the bytes held past max_bytes, or its userId's,
 * token's or address's past share_bytes, is refused; a queued job starts only
 * when what it may take fits. Kept results go first, oldest first, when room
 * is needed. Request bodies being parsed hold their part too (sp_job_table_hold).
 *
 * Locking: one mutex over everything; the run callback is called without it.
 * A job's fields other than the request are read under the mutex only. */
#ifndef SANDPOOL_JOB_TABLE_H
#define SANDPOOL_JOB_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job_bytes.h"
#include "queue.h"
#include "sandbox/base/error.h"
#include "server/job/request.h"

struct sp_job; /* opaque */
struct sp_job_table;

/* Run JOB's request; CANCEL_FD becomes readable when the job is cancelled.
 * Returns the result object (the table owns it), NULL when out of memory.
 * Called on a worker thread. */
typedef json_t *sp_job_table_run_fn(void *ctx, struct sp_job *job, const struct sp_request *req,
				    size_t language, int cancel_fd, uint64_t queued_ms);

/* An event of JOB for its watchers: {"type": ..., "id": ..., "ref"?: ...}.
 * EVENT is borrowed. Called with the table locked for "queued" and
 * "result", so it must be quick and must not call back into the table. */
typedef void sp_job_table_event_fn(void *ctx, const struct sp_job *job, json_t *event);

/* The bytes REQ holds in memory while queued (*HELD), and what it may take
 * more while it runs on CELLS cells (*RESERVE). Called without the lock. */
typedef void sp_job_table_measure_fn(void *ctx, const struct sp_request *req, unsigned cells,
				     uint64_t *held, uint64_t *reserve);

/* A job of LANGUAGE ended without running (cancelled, expired, shutdown).
 * Called with the table locked: it must be quick and not call back. */
typedef void sp_job_table_unrun_fn(void *ctx, size_t language);

struct sp_job_table_config {
	size_t languages;		  /* how many; jobs name theirs by index */
	const unsigned *capacity;	  /* [languages]: jobs of it running at once, >= 1 */
	unsigned workers;		  /* threads; 0 = the sum of the capacities */
	unsigned queue_size;		  /* queued jobs per language; beyond it, submit fails */
	uint64_t queue_timeout_ms;	  /* a job not started by then ends expired; 0 = never */
	uint64_t retention_ms;		  /* finished kept jobs are dropped after this... */
	unsigned retention_count;	  /* ...or when more than this many are kept */
	unsigned user_in_flight;	  /* queued + running jobs per userId; 0 = no limit */
	unsigned user_jobs_per_minute;	  /* submissions per userId; 0 = no limit */
	uint64_t max_bytes;		  /* held for requests in all; 0 = no limit */
	uint64_t share_bytes;		  /* of one userId, token or address; 0 = no limit */
	bool share_by_token;		  /* tokens hold shares (else only userIds, addresses) */
	sp_job_table_measure_fn *measure; /* or NULL: sp_request_memory() and no reserve */
	sp_job_table_run_fn *run;
	sp_job_table_unrun_fn *unrun; /* or NULL */
	sp_job_table_event_fn *event; /* or NULL */
	void *ctx;
};

int sp_job_table_start(struct sp_job_table **jobs, const struct sp_job_table_config *config,
		       struct sp_error *err);

/* Queue REQ (moved into the job: REQ is left empty) for LANGUAGE, as ORDER
 * says (queue.h: with waits no worker is woken, the waiting thread runs the
 * job when its turn comes; cells at most the language's capacity; its body
 * and interactive are not read here). A job neither kept nor held leaves
 * the table when it ends and only the returned reference sees it. Returns a
 * reference (sp_job_put() it), or NULL with ERR: EAGAIN when the language's
 * queue is full, EDQUOT when the user has user_in_flight jobs in flight,
 * EBUSY when the user is over user_jobs_per_minute (ERR's message says when
 * to try again), ENOSPC when its bytes do not fit in max_bytes, ENOBUFS
 * when they take a holder past share_bytes, E2BIG when the job could never
 * fit, EEXIST for an id in use, ECANCELED when the table is stopping. */
struct sp_job *sp_job_table_submit(struct sp_job_table *jobs, struct sp_request *req,
				   size_t language, const struct sp_queue_order *order,
				   struct sp_error *err);

/* Hold N bytes for a request body that H is sending, before it is parsed.
 * Returns 0, or -1 with ERR as sp_job_table_submit's (ENOSPC, ENOBUFS, E2BIG). */
int sp_job_table_hold(struct sp_job_table *jobs, const struct sp_bytes_holder *h, uint64_t n,
		      struct sp_error *err);

/* Let the N bytes held for H go. */
void sp_job_table_unhold(struct sp_job_table *jobs, const struct sp_bytes_holder *h, uint64_t n);

/* A reference to the job with ID, or NULL. */
struct sp_job *sp_job_table_find(struct sp_job_table *jobs, const char *id);

/* Wait until JOB has ended; when its turn comes while it waits (a job
 * submitted with order.waits), run it in the calling thread. */
void sp_job_table_wait(struct sp_job_table *jobs, struct sp_job *job);

/* Cancel JOB: a queued job ends at once, a running one is killed and ends
 * cancelled soon after; an ended one kept is dropped from the table. */
void sp_job_table_cancel(struct sp_job_table *jobs, struct sp_job *job);

/* {"id", "state", "language", "queued_ms", "run_ms"?, "result"?}: the job as
 * it is now. */
json_t *sp_job_table_describe(struct sp_job_table *jobs, struct sp_job *job);

/* The result of an ended JOB (a new reference), and how it ended. */
json_t *sp_job_table_result(struct sp_job_table *jobs, struct sp_job *job, enum sp_job_end *end);

/* The job held by its submitter (order.hold) with ID is let go: dropped from
 * the table once it ended, unless kept. */
void sp_job_table_release(struct sp_job_table *jobs, const char *id);

/* The running job ID needs RESERVE bytes beyond its inputs from now on,
 * when that is less than it was measured to need (a judge's programs, once
 * built, are smaller than the most they could have been). */
void sp_job_table_reserve_less(struct sp_job_table *jobs, const char *id, uint64_t reserve);

/* JOB as plain data (its strings point into JOB: valid while it is held). */
void sp_job_view(const struct sp_job *job, struct sp_queue_job *view);

const char *sp_job_id(const struct sp_job *job);
const char *sp_job_user(const struct sp_job *job); /* or NULL */
int sp_job_owner(const struct sp_job *job);

enum sp_job_state sp_job_table_state(struct sp_job_table *jobs, const struct sp_job *job);

/* Seconds until USER may submit again under user_jobs_per_minute (0: now). */
unsigned sp_job_table_retry_after(struct sp_job_table *jobs, const char *user);

void sp_job_put(struct sp_job_table *jobs, struct sp_job *job);

/* Figures of LANGUAGE (its index), or of all when LANGUAGE is (size_t)-1. */
void sp_job_table_stats(struct sp_job_table *jobs, size_t language, struct sp_queue_stats *stats);

/* Stop: refuse new jobs, end the queued ones (SP_JOB_SHUTDOWN), give the
 * running ones GRACE_MS to finish and cancel them after that, join the
 * workers. References still held stay valid until put; free with
 * sp_job_table_free() once every holder is gone. */
void sp_job_table_stop(struct sp_job_table *jobs, uint64_t grace_ms);

void sp_job_table_free(struct sp_job_table *jobs);

#endif
