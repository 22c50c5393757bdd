/* The queue's Redis backend: jobs in Redis Streams, shared by API nodes and
 * worker nodes on many machines.
 *
 * Keys (all under "sandpool:"): job:{id}, a hash with the job's body, its
 * language, owner, user, tag and state, and its times in Redis' clock;
 * result:{id}, its result, written once (SET NX: a second result for the
 * same job is dropped); q:{language}, a stream of job ids read by the
 * consumer group "workers"; dead, the stream of jobs set aside after too
 * many deliveries; inflight:{user} and rate:{user}:{minute}, the per-user
 * limits across nodes. Channels: events (every job's events, for every
 * node's watchers) and cancel (the ids of jobs to kill).
 *
 * Delivery is at least once: a worker claims an entry through the group,
 * writes the result, then acknowledges and deletes the entry; a worker that
 * goes silent past queue_lease_s (killed, stopped, cut off) has its entries
 * claimed by another (XAUTOCLAIM), and a job delivered queue_max_deliveries
 * times ends internal_error, its entry kept aside in the dead stream.
 *
 * Its parts: queue_redis_api.c (the operations, and the start),
 * queue_redis_worker.c (the workers and their lease), queue_redis_events.c
 * (each node's listener), queue_redis_scripts.c (the Lua scripts),
 * queue_redis_links.c (the connections the API side and the listener
 * share); redis_link.c is one connection. */
#ifndef SANDPOOL_QUEUE_REDIS_H
#define SANDPOOL_QUEUE_REDIS_H

#include <stdbool.h>
#include <stdint.h>

#include "queue.h"
#include "sandbox/base/error.h"
#include "server/job/config.h"
#include "server/job/language.h"
#include "server/job/queue_url.h"

struct sp_queue_redis_config {
	struct sp_queue_url url;
	const struct sp_config *config;		 /* limits, timeouts, retention */
	const struct sp_language_set *languages; /* jobs name theirs by index */
	/* [languages]: jobs of each this node runs at once; NULL when it runs
	 * none (an API node without cells). */
	const unsigned *capacity;
	const char *node;		 /* this node's name among the workers */
	uint64_t max_bytes, share_bytes; /* for bodies being parsed here */
	bool share_by_token;
	struct sp_queue_worker worker;	   /* when capacity is not NULL */
	struct sp_queue_watchers watchers; /* of this node */
};

/* Connect to Redis (failing when it cannot be reached now), create the
 * streams' group, start the event listener and, with a capacity, the
 * workers. *QUEUE is set before a worker starts (a job it takes at once
 * reaches the queue through it), and NULL again on failure. Returns 0, or
 * -1 with ERR. */
int sp_queue_redis_start(struct sp_queue **queue, const struct sp_queue_redis_config *config,
			 struct sp_error *err);

#endif
