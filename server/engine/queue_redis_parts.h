/* The parts of the queue's Redis backend (queue_redis.h), and what they
 * share: the backend's state, its keys, its scripts. Private to
 * queue_redis*.c. */
#ifndef SANDPOOL_QUEUE_REDIS_PARTS_H
#define SANDPOOL_QUEUE_REDIS_PARTS_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "job_bytes.h"
#include "queue_redis.h"
#include "redis_link.h"

#define RQ_PREFIX	"sandpool:"
#define RQ_GROUP	"workers"
#define RQ_EVENTS	RQ_PREFIX "events"
#define RQ_CANCEL	RQ_PREFIX "cancel"
#define RQ_DEAD		RQ_PREFIX "dead"
#define RQ_WORKERS	RQ_PREFIX "workers"
#define RQ_WORKERS_SEEN RQ_PREFIX "workers:seen"
/* A worker node says it is there this often; unheard for RQ_GONE_MS, it is
 * not listed; for RQ_FORGET_MS, it is forgotten. */
#define RQ_HEARTBEAT_MS 2000
#define RQ_GONE_MS	(5 * RQ_HEARTBEAT_MS)
#define RQ_FORGET_MS	(3600 * 1000)
#define RQ_LINKS	8    /* connections of the API side, each used by one caller */
#define RQ_TIMEOUT_MS	3000 /* of a command, of connecting */
#define RQ_BLOCK_MS	1000 /* a worker's wait for a job, per read */
/* An ended job not kept stays this long for its waiter and its watchers. */
#define RQ_UNKEPT_TTL_S 300
#define RQ_KEY_MAX	192

/* A result small enough to travel in its news (RQ_NEWS_RESULT_MAX), handed
 * to the node's waiter without a read of its key. */
#define RQ_NEWS_RESULT_MAX 16384

struct rq_news_result {
	struct rq_news_result *next;
	char id[SP_QUEUE_ID_SIZE];
	int owner;
	enum sp_job_end end;
	json_t *result;
};

/* A thread waiting for a job's result on this node. */
struct rq_waiter {
	struct rq_waiter *next;
	const char *id;
	pthread_cond_t cond;	     /* signalled when woken */
	bool woken;		     /* look again (under the backend's lock) */
	bool ended;		     /* its result event came */
	struct rq_news_result *news; /* the result it brought, when small */
};

/* A stream entry a worker took: of job ID. */
struct rq_taken {
	char stream[RQ_KEY_MAX];
	char entry[64];
	char id[SP_QUEUE_ID_SIZE];
	bool part; /* a helper's entry: a share of judge job ID's tests */
};

/* A job running on this node. */
struct rq_running {
	struct rq_running *next;
	char id[SP_QUEUE_ID_SIZE];
	char stream[RQ_KEY_MAX]; /* its user's stream */
	char entry[64];		 /* its entry there */
	size_t language;
	const char *consumer; /* the worker that claimed the entry */
	int cancel_fd;
	bool watched;	     /* as Redis said at WATCHED_MS */
	uint64_t watched_ms; /* sp_clock_ms(); 0: never asked */
};

struct rq_slot; /* a worker thread (queue_redis_worker.c) */

struct redis_queue {
	struct sp_queue_redis_config c;
	struct {
		pthread_mutex_t lock;
		struct sp_redis_link link;
	} links[RQ_LINKS];
	atomic_uint next_link;
	pthread_mutex_t lock; /* over waiters, running, bytes */
	struct rq_waiter *waiters;
	struct rq_news_result *handed; /* to a waiter, until its result is read */
	struct rq_running *running;
	struct sp_job_bytes bytes; /* bodies being parsed on this node */
	atomic_bool stopping;
	atomic_bool draining;  /* no new job taken, none submitted */
	atomic_bool listening; /* the event listener is subscribed */
	pthread_t listener;
	bool listener_started;
	struct rq_slot *slots;
	unsigned slot_count;
	pthread_t renewer;
	bool renewer_started;
	atomic_ulong deliveries, redeliveries, dead;
	atomic_uint_least64_t *next_reclaim; /* [languages]: ms, sp_clock_ms() */
	struct rq_watches *watches;	     /* an API node's, or NULL */
};

/* Keys. */
void rq_key(char key[RQ_KEY_MAX], const char *kind, const char *name);
/* Input of an interactive job waiting in Redis, in entries (each a stdin
 * message): past it, the sender hears that the program's input is full. */
#define RQ_STDIN_BACKLOG 64

/* "sandpool:KIND:LANGUAGE". */
void rq_language_key(const struct redis_queue *q, char key[RQ_KEY_MAX], const char *kind,
		     size_t language);

/* One of the API side's connections, for the caller alone until given
 * back. */
struct sp_redis_link *rq_link_take(struct redis_queue *q);
void rq_link_give(struct redis_queue *q, struct sp_redis_link *link);

/* The scripts (queue_redis_scripts.c), each one atomic in Redis. They fail
 * with ERR's ENOTCONN when Redis cannot be reached. */

/* Store job ID (its hash of FIELDS: COUNT names and values, alternately)
 * and queue it on the stream of LANGUAGE, against the queue's and the
 * user's limits; its "queued" event goes to every node (JOB: its user, tag
 * and owner). Returns its position in the queue, or -1 with ERR (EEXIST,
 * EAGAIN, EDQUOT, EBUSY). */
long long rq_script_submit(struct redis_queue *q, struct sp_redis_link *link, const char *id,
			   size_t language, const struct sp_queue_job *job, const char **fields,
			   size_t count, struct sp_error *err);

/* The entry TAKEN acknowledged and deleted. */
int rq_script_ack(struct sp_redis_link *link, const struct rq_taken *taken, struct sp_error *err);

/* The job ID ends with RESULT (borrowed) as END, if it has no result yet.
 * The result event goes to every node's watchers. Returns 1 when this one
 * was written, 0 when the job had one already. */
int rq_script_finish(struct redis_queue *q, struct sp_redis_link *link,
		     const struct sp_queue_job *job, enum sp_job_end end, json_t *result,
		     struct sp_error *err);

/* The next job of LANGUAGE for CONSUMER, users taking turns: 1 and TAKEN,
 * 0 when none waits, -1 with ERR. */
int rq_script_take(struct redis_queue *q, struct sp_redis_link *link, size_t language,
		   const char *consumer, struct rq_taken *taken, struct sp_error *err);

/* A job of LANGUAGE whose worker went silent past the lease, claimed for
 * CONSUMER: as rq_script_take. */
int rq_script_reclaim(struct redis_queue *q, struct sp_redis_link *link, size_t language,
		      const char *consumer, struct rq_taken *taken, struct sp_error *err);

/* Jobs of LANGUAGE not taken (*QUEUED) and taken (*RUNNING). */
int rq_script_stats(struct redis_queue *q, struct sp_redis_link *link, size_t language,
		    unsigned *queued, unsigned *running, struct sp_error *err);

/* Input for the interactive job ID of OWNER, as sp_queue_stdin: queued in
 * sandpool:stdin:ID ("d" and the bytes, or "c" for its end). */
ssize_t rq_script_stdin(struct redis_queue *q, struct sp_redis_link *link, const char *id,
			int owner, const void *data, size_t len, bool close, struct sp_error *err);

/* What a worker does with a job it took: "run" (and the job's fields:
 * body, mode, user, ref, owner, queued_ms in REPLY's elements 1..6), or
 * "done", "gone", "cancelled", "expired"; element 7 is "1" for an
 * interactive job, element 8 "1" for a watched one (rq_script_watched).
 * REPLY is the script's. */
redisReply *rq_script_start(struct sp_redis_link *link, const char *id, const char *node,
			    uint64_t queue_timeout_ms, bool part, struct sp_error *err);

/* Whether the job ID is watched: by its submitter from the start
 * (order.watched), or now by a node's watchers of its id or of its user
 * (rq_script_topics). 1 or 0, or -1 with ERR. */
int rq_script_watched(struct sp_redis_link *link, const char *id, struct sp_error *err);

/* Node NODE's watchers watch the topics KEYS[i] (rq_topic_key) for
 * LEASE_MS from now when SIGNS[i] is '+', or no longer when '-'; a topic's
 * key lasts TTL_S after its last change. At most RQ_TOPICS_AT_ONCE keys.
 * Returns 0, or -1 with ERR. */
#define RQ_TOPICS_AT_ONCE 16
int rq_script_topics(struct sp_redis_link *link, const char *node, uint64_t lease_ms,
		     unsigned ttl_s, const char *const *keys, const char *signs, size_t count,
		     struct sp_error *err);

/* A judge job's tests shared with other workers (queue_redis_share.c).
 * Open: the compiled PROGRAM (a box archive, or empty) and the count of
 * TESTS stored once for JOB, HELPERS entries put in its user's stream for
 * other workers to take part (rq_taken.part). Next: the index of a test to
 * run, -1 when none is left, -2 when the rest run elsewhere, -3 with ERR.
 * Put: a test's outcome (its "test" event's JSON), the first written only;
 * FAILED stops the rest when the request says so. Read: the program
 * (PROGRAM) or every outcome so far (index -> JSON). */
int rq_script_share_open(struct redis_queue *q, struct sp_redis_link *link,
			 const struct sp_queue_job *job, const void *program, size_t program_len,
			 size_t tests, unsigned helpers, struct sp_error *err);
long rq_script_share_next(struct sp_redis_link *link, const char *id, uint64_t claim_ms, bool stop,
			  struct sp_error *err);
int rq_script_share_put(struct sp_redis_link *link, const char *id, size_t index,
			const char *outcome, bool failed, struct sp_error *err);
redisReply *rq_script_share_read(struct sp_redis_link *link, const char *id, bool program,
				 struct sp_error *err);
/* The share of job ID dropped. */
int rq_script_share_drop(struct sp_redis_link *link, const char *id, struct sp_error *err);

/* How long a job's keys live: queued, run, and kept afterwards. */
unsigned rq_job_ttl_s(const struct redis_queue *q);

/* The queue operations of a shared judge job (queue.h's sp_queue_share_*). */
/* queue_redis_problems.c: stored problems shared (queue.h's problem_*). */
int rq_problem_put(void *self, const char *id, const struct sp_queue_blob *blobs, size_t count,
		   struct sp_error *err);
int rq_problem_get(void *self, const char *id, struct sp_queue_blob **blobs, size_t *count,
		   struct sp_error *err);
int rq_problem_drop(void *self, const char *id, struct sp_error *err);
int rq_problem_has(void *self, const char *id, struct sp_error *err);
int rq_problem_ids(void *self, json_t **ids, struct sp_error *err);

int rq_share_open(void *self, const struct sp_queue_job *job, const void *program, size_t len,
		  size_t tests, unsigned helpers, struct sp_error *err);
int rq_share_program(void *self, const struct sp_queue_job *job, char **program, size_t *len,
		     struct sp_error *err);
long rq_share_next(void *self, const struct sp_queue_job *job, uint64_t claim_ms, bool stop);
void rq_share_put(void *self, const struct sp_queue_job *job, size_t index, const char *outcome,
		  bool failed);
json_t *rq_share_outcomes(void *self, const struct sp_queue_job *job);
void rq_share_close(void *self, const struct sp_queue_job *job);

/* The key of a topic: KEY (a job id, or a userId when USER) of OWNER. */
void rq_topic_key(char out[RQ_KEY_MAX], const char *key, bool user, int owner);

/* The job ID as seen now, in Redis' clock. The reply's elements: state,
 * language, created, started, finished, owner, now, result, keep, user,
 * ref (missing ones nil); NULL with ENOENT when there is no such job. */
redisReply *rq_script_view(struct sp_redis_link *link, const char *id, struct sp_error *err);

/* Cancel the job ID of OWNER: "unknown", "dropped" (a kept job that had
 * ended), "ended", "cancelled" (queued: ended now), or "running" (its
 * worker is told). */
redisReply *rq_script_cancel(struct sp_redis_link *link, const char *id, int owner,
			     struct sp_error *err);

/* The unrun result of a job of LANGUAGE that ended as END. */
json_t *rq_unrun_result(const struct redis_queue *q, const char *language, enum sp_job_end end,
			const char *message);

/* Worker node NODE is there, as DESCRIPTION (JSON) says. */
int rq_script_heartbeat(struct sp_redis_link *link, const char *node, const char *description,
			struct sp_error *err);

/* The worker nodes heard within SEEN_MS (those unheard for FORGET_MS are
 * forgotten): Redis' time, then each node's name, time last seen and
 * description. */
redisReply *rq_script_workers(struct sp_redis_link *link, uint64_t seen_ms, uint64_t forget_ms,
			      struct sp_error *err);

const char *rq_end_name(enum sp_job_end end);
enum sp_job_end rq_end_of(const char *name);

/* The worker side (queue_redis_worker.c). */
int rq_workers_start(struct redis_queue *q, struct sp_error *err);
void rq_workers_stop(struct redis_queue *q);
/* The running job ID is to be killed (from the cancel channel). */
void rq_cancel_running(struct redis_queue *q, const char *id);
/* Under the lock: the job ID running on this node, or NULL. */
struct rq_running *rq_running_find(struct redis_queue *q, const char *id);
/* Whether the job ID running here is WATCHED, as Redis said just now. */
void rq_running_watched(struct redis_queue *q, const char *id, bool watched);

/* The relay of an interactive job's input (queue_redis_relay.c): job ID's
 * input, as its client sends it from any API node, into the pipe's write
 * end W. Returns the relay, or NULL (W closed) when no thread could be had. */
struct rq_relay;
struct rq_relay *rq_relay_start(const struct sp_queue_url *url, const char *id, int w);
/* The job ended: its relay stops (on LINK, its input's key goes). */
void rq_relay_stop(struct sp_redis_link *link, struct rq_relay *r, const char *id);

/* The listener (queue_redis_events.c): every node's events to this node's
 * watchers and waiters, cancels to this node's running jobs. */
int rq_listener_start(struct redis_queue *q, struct sp_error *err);
void rq_listener_stop(struct redis_queue *q);
/* The watches of this node's watchers, told to the workers
 * (queue_redis_watches.c): a thread writes each change as it comes, and
 * every registered topic again now and then, before it would lapse. */
int rq_watches_start(struct redis_queue *q, struct sp_error *err);
void rq_watches_stop(struct redis_queue *q);
void rq_watches_topic(struct redis_queue *q, const char *key, bool user, int owner, bool watched);
void rq_watches_sync(struct redis_queue *q);
/* Write every registered topic again now (Redis may have lost them). */
void rq_watches_renew_now(struct redis_queue *q);

/* The job ID ended: its waiters go (with ID NULL, every waiter looks
 * again: events may have been missed). */
void rq_wake(struct redis_queue *q, const char *id);

/* The news of job ID's end brought its RESULT (not taken): the node's
 * waiters for it keep it (for OWNER, as END), to be read without Redis. */
void rq_hand_result(struct redis_queue *q, const char *id, int owner, enum sp_job_end end,
		    json_t *result);

#endif
