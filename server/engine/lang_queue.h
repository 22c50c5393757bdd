/* The queue of one language: users take turns, each with a FIFO of jobs.
 * Jobs are linked in by an embedded struct sp_queue_link. Not locked: the
 * job table's mutex covers it. */
#ifndef SANDPOOL_LANG_QUEUE_H
#define SANDPOOL_LANG_QUEUE_H

#include <stdint.h>

#include "sandbox/base/dlist.h"

struct sp_queue_link {
	struct sp_dlink in_user; /* in its user's FIFO */
	uint64_t seq;		 /* submit order */
	uint64_t created_ms;	 /* CLOCK_MONOTONIC */
};

struct sp_user_queue; /* private */

struct sp_lang_queue {
	struct sp_user_queue *turn; /* the user whose job goes next; a ring */
	unsigned queued;
};

/* Queue LINK as USER's (NULL or "" for jobs without a user). Returns -1 when
 * out of memory. */
int sp_lang_queue_push(struct sp_lang_queue *q, struct sp_queue_link *link, const char *user);

/* The job whose turn it is, or NULL. */
struct sp_queue_link *sp_lang_queue_next(const struct sp_lang_queue *q);

/* Take the job whose turn it is off the queue; the next user's turn comes. */
struct sp_queue_link *sp_lang_queue_pop(struct sp_lang_queue *q);

/* Take LINK (USER's) off the queue, wherever it is. Returns 0, or -1 when it
 * is not there. */
int sp_lang_queue_remove(struct sp_lang_queue *q, struct sp_queue_link *link, const char *user);

/* A queued job created before BEFORE_MS, taken off the queue; NULL when
 * none. */
struct sp_queue_link *sp_lang_queue_take_older(struct sp_lang_queue *q, uint64_t before_ms);

/* When the oldest queued job was created; 0 when the queue is empty. */
uint64_t sp_lang_queue_oldest(const struct sp_lang_queue *q);

#endif
