/* Counters and histograms of the server, in the Prometheus text format. */
#ifndef SANDPOOL_METRICS_H
#define SANDPOOL_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "sandbox/verdict.h"
#include "server/job/judge_verdict.h"

#define SP_METRICS_STATUSES (SP_STATUS_CANCELLED + 1)
#define SP_METRICS_BUCKETS  12

struct sp_histogram {
	const double *bounds; /* [SP_METRICS_BUCKETS] upper bounds in seconds, the last +Inf */
	atomic_ulong buckets[SP_METRICS_BUCKETS]; /* cumulative at render time */
	atomic_ulong count;
	atomic_ullong sum_us;
};

struct sp_metrics {
	size_t languages;
	atomic_ulong *jobs;	  /* [language][status] */
	atomic_ulong *tests;	  /* judge tests: [language][verdict] */
	struct sp_histogram wait; /* from the request to a leased cell */
	struct sp_histogram run;  /* from the leased cell to the result */
	/* What the sandbox adds to a job: from the leased cell to the result,
	 * less the time its steps ran. */
	struct sp_histogram overhead;
};

int sp_metrics_init(struct sp_metrics *m, size_t languages);
void sp_metrics_free(struct sp_metrics *m);

/* A job of LANGUAGE (its index among the served ones) that ended with
 * STATUS, counted only: it did not run (cancelled or expired in the queue). */
void sp_metrics_count(struct sp_metrics *m, size_t language, enum sp_status status);

/* A finished job of LANGUAGE (its index among the served ones). */
void sp_metrics_job(struct sp_metrics *m, size_t language, enum sp_status status,
		    unsigned long long wait_us, unsigned long long run_us);

/* A test of a judge request of LANGUAGE that ended with VERDICT. */
void sp_metrics_test(struct sp_metrics *m, size_t language, enum sp_verdict verdict);

void sp_histogram_observe(struct sp_histogram *h, unsigned long long us);

/* Upper bounds of the buckets, in seconds (the last is +Inf): for waits and
 * runs, and finer ones for the overhead. */
extern const double sp_metrics_bucket_seconds[SP_METRICS_BUCKETS];
extern const double sp_metrics_fine_bucket_seconds[SP_METRICS_BUCKETS];

#endif
