/* Stored problems as every node sees them. With a queue in this process
 * the state directory's store (problem_store.h) is all there is. With a
 * queue shared by several nodes (Redis), the queue holds every problem's
 * files too: a node that is asked for one it does not have brings it into
 * its own store first, and one the queue no longer has is gone from every
 * node (its copy here is removed when it is next asked for). */
#ifndef SANDPOOL_PROBLEM_ACCESS_H
#define SANDPOOL_PROBLEM_ACCESS_H

#include <jansson.h>

#include "sandbox/base/error.h"
#include "server/job/problem.h"
#include "server/job/request.h"

struct sp_server;

/* The files of stored problem ID shared with the queue's other nodes
 * (nothing to do for a queue in this process). Returns 0, or -1 with ERR. */
int sp_problem_publish(struct sp_server *server, const char *id, struct sp_error *err);

/* Problem ID into *PROBLEM: from this node's store, brought there first
 * when needed. Returns 0, or -1 with ERR (ENOENT: there is no such
 * problem). */
int sp_problem_find(struct sp_server *server, const char *id, struct sp_problem *problem,
		    struct sp_error *err);

/* The problem a judge request REQ names, attached to it
 * (sp_judge_attach_problem), brought here first when needed. Returns 0
 * (also for a request that names none), or -1 with FAIL. */
int sp_problems_attach(struct sp_server *server, struct sp_request *req,
		       struct sp_request_failure *fail);

/* The same as a queue worker's prepare (queue.h): CTX is the server. */
int sp_problems_prepare(void *ctx, struct sp_request *req, struct sp_request_failure *fail);

/* {"problems": [view...]} of every problem, sorted by id. NULL with ERR. */
json_t *sp_problems_list(struct sp_server *server, struct sp_error *err);

/* Problem ID removed, from the queue's share first. Returns 0, or -1 with
 * ERR (ENOENT: there was none). */
int sp_problems_remove(struct sp_server *server, const char *id, struct sp_error *err);

#endif
