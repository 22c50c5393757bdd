/* The Redis backend's stored problems, shared with every node: each one's
 * files in the hash "sandpool:problem:ID" (a field per file), its id in the
 * set "sandpool:problems" once the hash is whole. A node that is asked for
 * a problem it does not have brings it from there (problems.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_redis_parts.h"

#define RQ_PROBLEMS RQ_PREFIX "problems"

static void problem_key(const char *id, char key[RQ_KEY_MAX])
{
	snprintf(key, RQ_KEY_MAX, RQ_PREFIX "problem:%s", id);
}

/* Run a command on one of Q's links; its reply (NULL with ERR). */
static redisReply *command_argv(struct redis_queue *q, int argc, const char **argv,
				const size_t *lengths, struct sp_error *err)
{
	struct sp_redis_link *link = rq_link_take(q);
	redisReply *r = sp_redis_command_argv(link, err, argc, argv, lengths);

	rq_link_give(q, link);
	return r;
}

static redisReply *command2(struct redis_queue *q, const char *verb, const char *a, const char *b,
			    struct sp_error *err)
{
	const char *argv[3] = {verb, a, b};
	size_t lengths[3] = {strlen(verb), strlen(a), b ? strlen(b) : 0};

	return command_argv(q, b ? 3 : 2, argv, lengths, err);
}

/* The reply R of a command whose answer does not matter, freed: 0, or -1
 * when there is none (the command failed: its ERR says why). */
static int done(redisReply *r)
{
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int rq_problem_put(void *self, const char *id, const struct sp_queue_blob *blobs, size_t count,
		   struct sp_error *err)
{
	struct redis_queue *q = self;
	const char **argv = calloc(2 + 2 * count, sizeof(*argv));
	size_t *lengths = calloc(2 + 2 * count, sizeof(*lengths));
	char key[RQ_KEY_MAX];
	int rc = -1;

	problem_key(id, key);
	if (argv == NULL || lengths == NULL) {
		sp_error_set(err, ENOMEM, "problem %s", id);
	} else {
		argv[0] = "HSET";
		argv[1] = key;
		lengths[0] = 4;
		lengths[1] = strlen(key);
		for (size_t i = 0; i < count; i++) {
			argv[2 + 2 * i] = blobs[i].name;
			lengths[2 + 2 * i] = strlen(blobs[i].name);
			argv[3 + 2 * i] = blobs[i].data ? blobs[i].data : "";
			lengths[3 + 2 * i] = blobs[i].length;
		}
		/* the hash whole first: a node sees the id only then */
		if (done(command_argv(q, (int)(2 + 2 * count), argv, lengths, err)) == 0 &&
		    done(command2(q, "SADD", RQ_PROBLEMS, id, err)) == 0)
			rc = 0;
	}
	free(argv);
	free(lengths);
	if (rc < 0)
		sp_error_wrap(err, "share problem %s", id);
	return rc;
}

/* The hash R (HGETALL's) into BLOBS. */
static int take_blobs(const redisReply *r, struct sp_queue_blob **blobs, size_t *count,
		      struct sp_error *err)
{
	size_t n = r->elements / 2;

	*blobs = calloc(n + 1, sizeof(**blobs));
	if (*blobs == NULL)
		return sp_error_set(err, ENOMEM, "problem");
	for (size_t i = 0; i < n; i++) {
		const redisReply *name = r->element[2 * i], *data = r->element[2 * i + 1];
		struct sp_queue_blob *b = &(*blobs)[i];

		if (name->type != REDIS_REPLY_STRING || data->type != REDIS_REPLY_STRING)
			return sp_error_set(err, EPROTO,
					    "a shared problem's field is not a string");
		b->name = strndup(name->str, name->len);
		b->data = malloc(data->len ? data->len : 1);
		if (b->name == NULL || b->data == NULL)
			return sp_error_set(err, ENOMEM, "problem");
		memcpy(b->data, data->str, data->len);
		b->length = data->len;
		*count = i + 1;
	}
	return 0;
}

int rq_problem_has(void *self, const char *id, struct sp_error *err)
{
	redisReply *r = command2(self, "SISMEMBER", RQ_PROBLEMS, id, err);
	int rc;

	if (r == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return rc;
}

int rq_problem_get(void *self, const char *id, struct sp_queue_blob **blobs, size_t *count,
		   struct sp_error *err)
{
	struct redis_queue *q = self;
	char key[RQ_KEY_MAX];
	int rc = rq_problem_has(self, id, err);
	redisReply *r;

	if (rc < 0)
		return -1;
	if (rc == 0)
		return sp_error_set(err, ENOENT, "no shared problem %s", id);
	problem_key(id, key);
	r = command2(q, "HGETALL", key, NULL, err);
	if (r == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_ARRAY && r->elements > 0
		 ? take_blobs(r, blobs, count, err)
		 : sp_error_set(err, ENOENT, "no shared problem %s", id);
	freeReplyObject(r);
	if (rc < 0) {
		sp_queue_blobs_free(*blobs, *count);
		*blobs = NULL;
		*count = 0;
	}
	return rc;
}

int rq_problem_drop(void *self, const char *id, struct sp_error *err)
{
	struct redis_queue *q = self;
	char key[RQ_KEY_MAX];

	problem_key(id, key);
	/* out of the set first: no node brings it any more */
	if (done(command2(q, "SREM", RQ_PROBLEMS, id, err)) < 0 ||
	    done(command2(q, "DEL", key, NULL, err)) < 0)
		return sp_error_wrap(err, "forget problem %s", id);
	return 0;
}

int rq_problem_ids(void *self, json_t **ids, struct sp_error *err)
{
	struct redis_queue *q = self;
	redisReply *r = command2(q, "SMEMBERS", RQ_PROBLEMS, NULL, err);
	json_t *list;

	*ids = NULL;
	if (r == NULL)
		return -1;
	list = json_array();
	for (size_t i = 0; list != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			json_array_append_new(list,
					      json_stringn(r->element[i]->str, r->element[i]->len));
	freeReplyObject(r);
	if (list == NULL)
		return sp_error_set(err, ENOMEM, "problems");
	*ids = list;
	return 0;
}
