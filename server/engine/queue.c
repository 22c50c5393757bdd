/* The queue interface: each operation handed to its backend; the job ids and
 * the refusal codes, which every backend shares. */
#include "queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#define ID_BYTES ((SP_QUEUE_ID_SIZE - 1) / 2)

int sp_queue_new_id(char id[SP_QUEUE_ID_SIZE])
{
	unsigned char raw[ID_BYTES];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

const char *sp_queue_refusal_code(int errnum)
{
	switch (errnum) {
	case EAGAIN:
		return "queue_full";
	case EDQUOT:
		return "user_limit";
	case EBUSY:
		return "rate_limited";
	case ENOSPC:
		return "memory_full";
	case ENOBUFS:
		return "memory_share";
	case E2BIG:
		return "job_too_large";
	case ECANCELED:
		return "draining";
	case ENOTCONN:
		return "queue_unavailable";
	default:
		return "internal_error";
	}
}

int sp_queue_submit(struct sp_queue *q, struct sp_request *req, size_t language,
		    const struct sp_queue_order *order, char id[SP_QUEUE_ID_SIZE],
		    struct sp_error *err)
{
	return q->ops->submit(q->self, req, language, order, id, err);
}

void sp_queue_wait(struct sp_queue *q, const char *id)
{
	q->ops->wait(q->self, id);
}

int sp_queue_result(struct sp_queue *q, const char *id, int owner, json_t **result,
		    enum sp_job_end *end, struct sp_error *err)
{
	return q->ops->result(q->self, id, owner, result, end, err);
}

json_t *sp_queue_view(struct sp_queue *q, const char *id, int owner, struct sp_error *err)
{
	return q->ops->view(q->self, id, owner, err);
}

json_t *sp_queue_cancel(struct sp_queue *q, const char *id, int owner, struct sp_error *err)
{
	return q->ops->cancel(q->self, id, owner, err);
}

bool sp_queue_ended(struct sp_queue *q, const char *id)
{
	return q->ops->ended(q->self, id);
}

void sp_queue_release(struct sp_queue *q, const char *id)
{
	q->ops->release(q->self, id);
}

ssize_t sp_queue_stdin(struct sp_queue *q, const char *id, int owner, const void *data, size_t len,
		       bool close, struct sp_error *err)
{
	return q->ops->stdin_write(q->self, id, owner, data, len, close, err);
}

void sp_queue_publish(struct sp_queue *q, const struct sp_queue_job *job, json_t *event)
{
	q->ops->publish(q->self, job, event);
}

void sp_queue_reserve_less(struct sp_queue *q, const struct sp_queue_job *job, uint64_t reserve)
{
	if (q->ops->reserve_less != NULL)
		q->ops->reserve_less(q->self, job, reserve);
}

void sp_queue_topic(struct sp_queue *q, const char *key, bool user, int owner, bool watched)
{
	if (q->ops->topic != NULL)
		q->ops->topic(q->self, key, user, owner, watched);
}

void sp_queue_topics_sync(struct sp_queue *q)
{
	if (q->ops->topics_sync != NULL)
		q->ops->topics_sync(q->self);
}

bool sp_queue_watched(struct sp_queue *q, const struct sp_queue_job *job)
{
	return q->ops->watched(q->self, job);
}

int sp_queue_hold(struct sp_queue *q, const struct sp_bytes_holder *h, uint64_t n,
		  struct sp_error *err)
{
	return q->ops->hold(q->self, h, n, err);
}

void sp_queue_unhold(struct sp_queue *q, const struct sp_bytes_holder *h, uint64_t n)
{
	q->ops->unhold(q->self, h, n);
}

unsigned sp_queue_retry_after(struct sp_queue *q, const char *user)
{
	return q->ops->retry_after(q->self, user);
}

void sp_queue_stats(struct sp_queue *q, size_t language, struct sp_queue_stats *stats)
{
	q->ops->stats(q->self, language, stats);
}

json_t *sp_queue_workers(struct sp_queue *q, struct sp_error *err)
{
	return q->ops->workers(q->self, err);
}

void sp_queue_stop(struct sp_queue *q, uint64_t grace_ms)
{
	q->ops->stop(q->self, grace_ms);
}

void sp_queue_free(struct sp_queue *q)
{
	if (q == NULL)
		return;
	q->ops->free(q->self);
	free(q);
}

int sp_queue_share_open(struct sp_queue *q, const struct sp_queue_job *job, const void *program,
			size_t len, size_t tests, unsigned helpers, struct sp_error *err)
{
	if (q->ops->share_open == NULL)
		return sp_error_set(err, ENOTSUP, "this queue runs every job in this process");
	return q->ops->share_open(q->self, job, program, len, tests, helpers, err);
}

int sp_queue_share_program(struct sp_queue *q, const struct sp_queue_job *job, char **program,
			   size_t *len, struct sp_error *err)
{
	if (q->ops->share_program == NULL)
		return sp_error_set(err, ENOTSUP, "this queue runs every job in this process");
	return q->ops->share_program(q->self, job, program, len, err);
}

long sp_queue_share_next(struct sp_queue *q, const struct sp_queue_job *job, uint64_t claim_ms,
			 bool stop)
{
	return q->ops->share_next ? q->ops->share_next(q->self, job, claim_ms, stop) : -3;
}

void sp_queue_share_put(struct sp_queue *q, const struct sp_queue_job *job, size_t index,
			const char *outcome, bool failed)
{
	if (q->ops->share_put != NULL)
		q->ops->share_put(q->self, job, index, outcome, failed);
}

json_t *sp_queue_share_outcomes(struct sp_queue *q, const struct sp_queue_job *job)
{
	return q->ops->share_outcomes ? q->ops->share_outcomes(q->self, job) : NULL;
}

void sp_queue_share_close(struct sp_queue *q, const struct sp_queue_job *job)
{
	if (q->ops->share_close != NULL)
		q->ops->share_close(q->self, job);
}

bool sp_queue_shares_problems(const struct sp_queue *q)
{
	return q->ops->problem_put != NULL;
}

int sp_queue_problem_put(struct sp_queue *q, const char *id, const struct sp_queue_blob *blobs,
			 size_t count, struct sp_error *err)
{
	return q->ops->problem_put ? q->ops->problem_put(q->self, id, blobs, count, err) : 0;
}

int sp_queue_problem_get(struct sp_queue *q, const char *id, struct sp_queue_blob **blobs,
			 size_t *count, struct sp_error *err)
{
	*blobs = NULL;
	*count = 0;
	if (q->ops->problem_get == NULL)
		return sp_error_set(err, ENOENT, "no shared problem %s", id);
	return q->ops->problem_get(q->self, id, blobs, count, err);
}

int sp_queue_problem_has(struct sp_queue *q, const char *id, struct sp_error *err)
{
	return q->ops->problem_has ? q->ops->problem_has(q->self, id, err) : 0;
}

int sp_queue_problem_drop(struct sp_queue *q, const char *id, struct sp_error *err)
{
	return q->ops->problem_drop ? q->ops->problem_drop(q->self, id, err) : 0;
}

int sp_queue_problem_ids(struct sp_queue *q, json_t **ids, struct sp_error *err)
{
	*ids = NULL;
	if (q->ops->problem_ids == NULL)
		return sp_error_set(err, ENOTSUP, "this queue shares no problem");
	return q->ops->problem_ids(q->self, ids, err);
}

void sp_queue_blobs_free(struct sp_queue_blob *blobs, size_t count)
{
	for (size_t i = 0; blobs != NULL && i < count; i++) {
		free(blobs[i].name);
		free(blobs[i].data);
	}
	free(blobs);
}
