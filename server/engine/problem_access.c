/* Stored problems here or shared by the queue: problem_access.h. */
#include "problem_access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "sandbox/base/log.h"
#include "sandbox/base/read_all.h"
#include "server.h"
#include "server/job/judge_problem.h"
#include "server/job/judge_request.h"
#include "server/job/problem_store.h"

/* The files of a stored problem, as the queue shares them. */
static const char *const problem_files[] = {"problem.json", "data", "validator.box",
					    "interactor.box"};
#define FILE_COUNT (sizeof(problem_files) / sizeof(problem_files[0]))

/* A problem's file is at most this large. */
static uint64_t file_max(const struct sp_server *server)
{
	return server->config.problem_max_mb * 1024 * 1024 * 2 + 64 * 1024 * 1024;
}

static bool shared(const struct sp_server *server)
{
	return server->queue != NULL && sp_queue_shares_problems(server->queue);
}

/* ---- sharing ----------------------------------------------------------------- */

int sp_problem_publish(struct sp_server *server, const char *id, struct sp_error *err)
{
	struct sp_queue_blob blobs[FILE_COUNT] = {{0}};
	size_t count = 0;
	int rc = 0;

	if (!shared(server))
		return 0;
	for (size_t i = 0; rc == 0 && i < FILE_COUNT; i++) {
		int fd = sp_problem_store_open_file(&server->problems, id, problem_files[i], err);

		if (fd < 0 && err->errnum == ENOENT && i >= 2)
			continue; /* a problem without that program */
		if (fd < 0 || sp_read_all(fd, file_max(server), &blobs[count].data,
					  &blobs[count].length, err) < 0)
			rc = -1;
		if (fd >= 0)
			close(fd);
		if (rc == 0)
			blobs[count++].name = (char *)problem_files[i];
	}
	if (rc == 0)
		rc = sp_queue_problem_put(server->queue, id, blobs, count, err);
	for (size_t i = 0; i < FILE_COUNT; i++)
		free(blobs[i].data);
	return rc;
}

/* Whether NAME is one of a problem's files. */
static bool problem_file(const char *name)
{
	for (size_t i = 0; i < FILE_COUNT; i++)
		if (strcmp(name, problem_files[i]) == 0)
			return true;
	return false;
}

/* The shared files BLOBS of problem ID written into DRAFT, its
 * problem.json read (and checked) into *PROBLEM. */
static int write_blobs(struct sp_problem_draft *draft, const char *id,
		       const struct sp_queue_blob *blobs, size_t count, struct sp_problem *problem,
		       struct sp_error *err)
{
	json_t *doc = NULL;

	for (size_t i = 0; i < count; i++) {
		int fd;

		if (!problem_file(blobs[i].name))
			return sp_error_set(err, EPROTO, "shared problem %s has a file %.40s", id,
					    blobs[i].name);
		if (strcmp(blobs[i].name, "problem.json") == 0) {
			doc = json_loadb(blobs[i].data, blobs[i].length, 0, NULL);
			continue; /* the store writes it from the problem */
		}
		fd = sp_problem_draft_file(draft, blobs[i].name, err);
		if (fd < 0)
			return -1;
		if (sp_write_all(fd, blobs[i].data, blobs[i].length) < 0) {
			close(fd);
			return sp_error_set(err, errno, "write %s", blobs[i].name);
		}
		close(fd);
	}
	if (doc == NULL)
		return sp_error_set(err, EPROTO, "shared problem %s has no problem.json", id);
	if (sp_problem_from_json(doc, problem, err) < 0) {
		json_decref(doc);
		return -1;
	}
	json_decref(doc);
	if (strcmp(problem->id, id) != 0) {
		sp_problem_free(problem);
		return sp_error_set(err, EPROTO, "shared problem %s is another's", id);
	}
	return 0;
}

/* Problem ID brought from the queue into this node's store. */
static int fetch(struct sp_server *server, const char *id, struct sp_error *err)
{
	struct sp_queue_blob *blobs = NULL;
	struct sp_problem_draft draft = {.dirfd = -1};
	struct sp_problem problem = {0};
	size_t count = 0;
	int rc;

	if (sp_queue_problem_get(server->queue, id, &blobs, &count, err) < 0)
		return -1;
	rc = sp_problem_draft_begin(&server->problems, &draft, err);
	if (rc == 0)
		rc = write_blobs(&draft, id, blobs, count, &problem, err);
	sp_queue_blobs_free(blobs, count);
	if (rc == 0)
		rc = sp_problem_draft_commit(&server->problems, &draft, &problem, err) < 0 ? -1 : 0;
	else
		sp_problem_draft_drop(&draft);
	if (rc == 0)
		log_info("problem %s brought from the queue", id);
	sp_problem_free(&problem);
	return rc;
}

/* Problem ID here as the queue has it: brought when missing, removed when
 * the queue has it no more. Nothing to do with a queue in this process;
 * with a queue that cannot be reached now, the copy here serves. Returns
 * 0, or -1 with ERR (ENOENT: there is none). */
static int make_current(struct sp_server *server, const char *id, struct sp_error *err)
{
	int has;

	if (!shared(server))
		return 0;
	has = sp_queue_problem_has(server->queue, id, err);
	if (has < 0) {
		log_warn("problem %s: the queue cannot tell whether it has it: %s", id,
			 err->message);
		return 0;
	}
	if (has == 0) {
		sp_problem_store_remove(&server->problems, id, err);
		return sp_error_set(err, ENOENT, "no problem %s", id);
	}
	if (sp_problem_store_has(&server->problems, id))
		return 0;
	return fetch(server, id, err);
}

/* ---- what the API and the workers ask for ------------------------------------------ */

int sp_problem_find(struct sp_server *server, const char *id, struct sp_problem *problem,
		    struct sp_error *err)
{
	memset(problem, 0, sizeof(*problem));
	if (!sp_problem_id_valid(id))
		return sp_error_set(err, ENOENT, "no problem %.40s", id);
	if (make_current(server, id, err) < 0)
		return -1;
	return sp_problem_store_load(&server->problems, id, problem, err);
}

int sp_problems_attach(struct sp_server *server, struct sp_request *req,
		       struct sp_request_failure *fail)
{
	struct sp_error err = {0};

	if (req->mode != SP_REQUEST_JUDGE || req->judge == NULL ||
	    req->judge->problem_id[0] == '\0')
		return 0;
	if (make_current(server, req->judge->problem_id, &err) < 0 && err.errnum != ENOENT)
		return sp_request_fail(fail, SP_REQ_INTERNAL, "problem %s: %s",
				       req->judge->problem_id, err.message);
	return sp_judge_attach_problem(req, &server->problems, &server->languages, &server->config,
				       fail);
}

int sp_problems_prepare(void *ctx, struct sp_request *req, struct sp_request_failure *fail)
{
	return sp_problems_attach(ctx, req, fail);
}

/* The ids of every problem, in no order: the queue's when it shares them,
 * else this store's. */
static int all_ids(struct sp_server *server, json_t **ids, struct sp_error *err)
{
	if (shared(server) && sp_queue_problem_ids(server->queue, ids, err) == 0)
		return 0;
	return sp_problem_store_ids(&server->problems, ids, err);
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

json_t *sp_problems_list(struct sp_server *server, struct sp_error *err)
{
	json_t *ids = NULL, *views = json_array(), **sorted = NULL;
	size_t n;

	if (views == NULL || all_ids(server, &ids, err) < 0) {
		json_decref(views);
		return NULL;
	}
	n = json_array_size(ids);
	sorted = calloc(n + 1, sizeof(*sorted));
	for (size_t i = 0; sorted != NULL && i < n; i++)
		sorted[i] = json_array_get(ids, i);
	if (sorted != NULL)
		qsort(sorted, n, sizeof(*sorted), compare_ids);
	for (size_t i = 0; sorted != NULL && i < n; i++) {
		struct sp_problem p;
		struct sp_error skip = {0};

		/* one removed meanwhile, or broken, is left out */
		if (sp_problem_find(server, json_string_value(sorted[i]), &p, &skip) == 0) {
			json_array_append_new(views, sp_problem_view(&p));
			sp_problem_free(&p);
		}
	}
	free(sorted);
	json_decref(ids);
	return json_pack("{s:o}", "problems", views);
}

int sp_problems_remove(struct sp_server *server, const char *id, struct sp_error *err)
{
	int has = 0, rc;

	if (!sp_problem_id_valid(id))
		return sp_error_set(err, ENOENT, "no problem %.40s", id);
	if (shared(server)) {
		has = sp_queue_problem_has(server->queue, id, err);
		if (has < 0 || (has == 1 && sp_queue_problem_drop(server->queue, id, err) < 0))
			return -1;
	}
	rc = sp_problem_store_remove(&server->problems, id, err);
	/* gone from the queue: gone, whether this node had a copy or not */
	if (rc < 0 && err->errnum == ENOENT && has == 1)
		return 0;
	return rc;
}
