/* One figure, memory_max_mb, and what it is split into: the server's own
 * memory (its threads, tables, cells' bookkeeping), the checkers and
 * interactors it keeps compiled, and the rest for requests: bodies being
 * parsed and jobs (job_bytes.h), of which one userId, token or address may
 * hold a share. server/README.md states the formula. */
#ifndef SANDPOOL_MEMORY_PLAN_H
#define SANDPOOL_MEMORY_PLAN_H

#include <stdint.h>

#include "config.h"
#include "sandbox/base/error.h"

/* The server without requests: measured 8 to 11 MiB RSS with 45 cells and
 * 305 threads, after 1,280 jobs at 64 at once; this much, and per thread: */
#define SP_MEMORY_BASE	     (32ull << 20)
#define SP_MEMORY_PER_THREAD (128ull << 10) /* a reply's buffer, civetweb's, stacks */

struct sp_memory_plan {
	uint64_t total;	   /* memory_max_mb, in bytes */
	uint64_t base;	   /* SP_MEMORY_BASE and SP_MEMORY_PER_THREAD for each thread */
	uint64_t programs; /* checkers and interactors kept compiled: an eighth */
	uint64_t requests; /* the rest: bodies and jobs, the job table's bound */
	uint64_t share;	   /* memory_share_percent of requests */
};

/* The plan for CONFIG with WORKERS job threads besides the HTTP threads.
 * Fails when the part for requests could not hold the parse of one body of
 * max_body, for one holder. */
int sp_memory_plan(const struct sp_config *config, unsigned workers, struct sp_memory_plan *plan,
		   struct sp_error *err);

#endif
