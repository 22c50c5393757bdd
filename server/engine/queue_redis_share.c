/* The Redis backend's share of a judge job's tests: the worker that runs
 * the job stores its built program and its test count once, under
 * "sandpool:share:ID", and queues helper entries (part "1") in the job's
 * user's stream, so that users still take turns. A worker that takes a
 * helper entry reads the job's request and the program, and pulls tests by
 * index like the job's own worker: each test claimed for a while, its
 * outcome written once, a lapsed claim taken again by another. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue_redis_parts.h"
#include "sandbox/base/log.h"

int rq_share_open(void *self, const struct sp_queue_job *job, const void *program, size_t len,
		  size_t tests, unsigned helpers, struct sp_error *err)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	int rc = rq_script_share_open(q, link, job, program, len, tests, helpers, err);

	rq_link_give(q, link);
	return rc;
}

int rq_share_program(void *self, const struct sp_queue_job *job, char **program, size_t *len,
		     struct sp_error *err)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	redisReply *r = rq_script_share_read(link, job->id, true, err);
	int rc = -1;

	rq_link_give(q, link);
	*program = NULL;
	*len = 0;
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STRING)
		sp_error_set(err, ENOENT, "the judge job %s shares no tests now", job->id);
	else if ((*program = malloc(r->len ? r->len : 1)) == NULL)
		sp_error_set(err, ENOMEM, "the shared program");
	else {
		memcpy(*program, r->str, r->len);
		*len = r->len;
		rc = 0;
	}
	freeReplyObject(r);
	return rc;
}

long rq_share_next(void *self, const struct sp_queue_job *job, uint64_t claim_ms, bool stop)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	struct sp_error err = {0};
	long rc = rq_script_share_next(link, job->id, claim_ms, stop, &err);

	rq_link_give(q, link);
	if (rc == -3)
		log_warn("queue: next test of job %s: %s", job->id, err.message);
	return rc;
}

void rq_share_put(void *self, const struct sp_queue_job *job, size_t index, const char *outcome,
		  bool failed)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	struct sp_error err = {0};

	if (rq_script_share_put(link, job->id, index, outcome, failed, &err) < 0)
		log_warn("queue: outcome of test %zu of job %s: %s", index, job->id, err.message);
	rq_link_give(q, link);
}

/* HGETALL's answer (index, JSON, ...) as {"INDEX": {...}}; an outcome
 * that does not parse is left out (its test runs again). */
static json_t *outcomes_of(const redisReply *r)
{
	json_t *all = json_object();

	for (size_t i = 0; all != NULL && i + 1 < r->elements; i += 2) {
		const redisReply *key = r->element[i], *value = r->element[i + 1];
		json_t *outcome;

		if (key->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING)
			continue;
		outcome = json_loadb(value->str, value->len, 0, NULL);
		if (json_is_object(outcome))
			json_object_set_new(all, key->str, outcome);
		else
			json_decref(outcome);
	}
	return all;
}

json_t *rq_share_outcomes(void *self, const struct sp_queue_job *job)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	struct sp_error err = {0};
	redisReply *r = rq_script_share_read(link, job->id, false, &err);
	json_t *all = NULL;

	rq_link_give(q, link);
	if (r == NULL)
		log_warn("queue: outcomes of job %s: %s", job->id, err.message);
	else if (r->type == REDIS_REPLY_ARRAY)
		all = outcomes_of(r);
	if (r != NULL)
		freeReplyObject(r);
	return all;
}

void rq_share_close(void *self, const struct sp_queue_job *job)
{
	struct redis_queue *q = self;
	struct sp_redis_link *link = rq_link_take(q);
	struct sp_error err = {0};

	if (rq_script_share_drop(link, job->id, &err) < 0)
		log_warn("queue: drop the share of job %s: %s", job->id, err.message);
	rq_link_give(q, link);
}
