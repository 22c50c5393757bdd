#include "metrics.h"

#include <stdlib.h>

const double sp_metrics_bucket_seconds[SP_METRICS_BUCKETS] = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 0 /* +Inf */};

const double sp_metrics_fine_bucket_seconds[SP_METRICS_BUCKETS] = {
    0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.01, 0 /* +Inf */};

int sp_metrics_init(struct sp_metrics *m, size_t languages)
{
	*m = (struct sp_metrics){.languages = languages};
	m->wait.bounds = sp_metrics_bucket_seconds;
	m->run.bounds = sp_metrics_bucket_seconds;
	m->overhead.bounds = sp_metrics_fine_bucket_seconds;
	m->jobs = calloc(languages * SP_METRICS_STATUSES + 1, sizeof(*m->jobs));
	m->tests = calloc(languages * SP_VERDICT_COUNT + 1, sizeof(*m->tests));
	if (m->jobs == NULL || m->tests == NULL) {
		sp_metrics_free(m);
		return -1;
	}
	return 0;
}

void sp_metrics_free(struct sp_metrics *m)
{
	free(m->jobs);
	free(m->tests);
	m->jobs = NULL;
	m->tests = NULL;
}

void sp_histogram_observe(struct sp_histogram *h, unsigned long long us)
{
	size_t i = 0;

	while (i < SP_METRICS_BUCKETS - 1 && (double)us > h->bounds[i] * 1e6)
		i++;
	atomic_fetch_add(&h->buckets[i], 1);
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum_us, us);
}

void sp_metrics_count(struct sp_metrics *m, size_t language, enum sp_status status)
{
	if (language < m->languages && (size_t)status < SP_METRICS_STATUSES)
		atomic_fetch_add(&m->jobs[language * SP_METRICS_STATUSES + status], 1);
}

void sp_metrics_job(struct sp_metrics *m, size_t language, enum sp_status status,
		    unsigned long long wait_us, unsigned long long run_us)
{
	sp_metrics_count(m, language, status);
	sp_histogram_observe(&m->wait, wait_us);
	sp_histogram_observe(&m->run, run_us);
}

void sp_metrics_test(struct sp_metrics *m, size_t language, enum sp_verdict verdict)
{
	if (language < m->languages && (size_t)verdict < SP_VERDICT_COUNT)
		atomic_fetch_add(&m->tests[language * SP_VERDICT_COUNT + verdict], 1);
}
