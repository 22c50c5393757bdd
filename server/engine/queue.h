/* The queue of jobs: the one way the API side (HTTP, WebSocket) reaches jobs,
 * and the one way a job's run reaches its watchers.
 *
 * The API side submits a job, waits for it, views it, cancels it and lets
 * it go, all by its id. The backend takes, for each language with a free
 * cell, the next job (users of a language take turns) and has the worker
 * (struct sp_queue_worker) run it; the worker's events go back through
 * sp_queue_publish to the watchers (struct sp_queue_watchers). What crosses
 * the interface is plain data: ids, strings, numbers and JSON, never a
 * pointer into the backend, so that a backend may keep its jobs in another
 * process. A job is submitted with its request parsed (request.h) and as
 * the client sent it: a backend that sends jobs to other processes ships
 * the text, and its workers parse it again.
 *
 * The local backend (queue_local.h) is this process's job table. */
#ifndef SANDPOOL_QUEUE_H
#define SANDPOOL_QUEUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "job_bytes.h"
#include "sandbox/base/error.h"
#include "server/job/request.h"

/* A job id: 32 lowercase hex digits, and the NUL. */
#define SP_QUEUE_ID_SIZE 33

enum sp_job_state { SP_JOB_QUEUED, SP_JOB_RUNNING, SP_JOB_DONE };

/* How a job ended. */
enum sp_job_end {
	SP_JOB_FINISHED,  /* the worker gave a result */
	SP_JOB_CANCELLED, /* cancelled while queued */
	SP_JOB_EXPIRED,	  /* waited longer than the queue timeout */
	SP_JOB_SHUTDOWN,  /* the server stopped before it ran */
	SP_JOB_LOST,	  /* the queue cannot be reached, or forgot the job */
};

/* A job as its worker and its watchers see it. */
struct sp_queue_job {
	char id[SP_QUEUE_ID_SIZE];
	const char *user;   /* userId, or NULL */
	const char *ref;    /* the client's tag, or NULL */
	int owner;	    /* the API token that submitted it, -1 for none */
	size_t language;    /* the index of its language among the server's */
	unsigned cells;	    /* of its language's cells it takes while it runs */
	uint64_t queued_ms; /* from its submission to its start */
	/* A helper's part of a judge job that another worker runs: the
	 * worker runs some of its tests (sp_queue_share_next), no more; its
	 * result is not the job's. */
	bool part;
};

/* What a job is submitted with besides its request. */
struct sp_queue_order {
	const char *id;	     /* NULL: a new one (sp_queue_new_id() makes one ahead) */
	const char *user;    /* userId, or NULL */
	const char *ref;     /* the client's tag, echoed in events, or NULL */
	int owner;	     /* the API token that submits it, -1 for none */
	const char *address; /* the client's address, or NULL */
	unsigned cells;	     /* cells it takes at once (a judge's tests); 0 is 1 */
	bool keep;	     /* stays after it ends, for GET, within the retention */
	bool hold;	     /* stays, found by its id, until sp_queue_release() */
	bool waits;	     /* the submitter calls sp_queue_wait at once */
	bool interactive;    /* its stdin comes from sp_queue_stdin, the request's first */
	bool watched;	     /* its submitter watches it from the start (its events) */
	/* The request as the client sent it: BODY_LENGTH bytes at BODY, or from
	 * the start of the file BODY_FD when BODY is NULL. */
	const char *body;
	int body_fd;
	size_t body_length;
};

/* Figures of one language, or of the whole queue. */
struct sp_queue_stats {
	unsigned queued, running, kept;
	unsigned idle_workers; /* of the whole queue: workers waiting for work */
	/* Of the whole queue: */
	uint64_t bytes[SP_BYTES_CLASSES]; /* held now, by class (job_bytes.h) */
	uint64_t bytes_limit, bytes_peak;
	unsigned long refused_memory;  /* submissions and bodies refused: no room */
	unsigned long refused_share;   /* over a holder's share */
	unsigned long dropped_results; /* kept results dropped early to make room */
	bool waiting_for_memory;       /* a queued job waits for room to start */
	const char *backend;	       /* "local" or "redis" */
	bool reachable;		       /* the queue answers (a shared one may not) */
	unsigned long deliveries;      /* jobs taken by this node's workers */
	unsigned long redeliveries;    /* of which taken again after a silent worker */
	unsigned long set_aside;       /* jobs taken too often, ended internal_error */
};

/* What runs the jobs a backend takes. */
struct sp_queue_worker {
	/* Run JOB's request REQ; CANCEL_FD becomes readable when the job is
	 * cancelled. Returns the result object, NULL when out of memory. */
	json_t *(*run)(void *ctx, const struct sp_queue_job *job, const struct sp_request *req,
		       int cancel_fd);
	/* The bytes REQ may take while it runs on CELLS cells, besides its
	 * inputs (*RESERVE); *HELD is its inputs, which the caller set. */
	void (*measure)(void *ctx, const struct sp_request *req, unsigned cells, uint64_t *held,
			uint64_t *reserve);
	/* A job of LANGUAGE ended without running. Quick: it may be called
	 * with the backend locked. */
	void (*unrun)(void *ctx, size_t language);
	/* Make REQ, parsed again by a backend that ships jobs to other
	 * processes, whole before it is measured and run: a judge request's
	 * stored problem attached (brought here first when this node does not
	 * have it). Returns 0, or -1 with FAIL: the job cannot run here. */
	int (*prepare)(void *ctx, struct sp_request *req, struct sp_request_failure *fail);
	/* This node's cells: {"languages": {NAME: {"cells", "idle", "busy"}},
	 * "jobs_done"}. */
	json_t *(*describe)(void *ctx);
	void *ctx;
};

/* Who watches jobs in this process. */
struct sp_queue_watchers {
	/* EVENT (borrowed; {"type", "id", "ref"?, ...}) of JOB to its
	 * watchers. Quick: it may be called with the backend locked. */
	void (*deliver)(void *ctx, const struct sp_queue_job *job, json_t *event);
	/* Whether anyone watches JOB (its id or its user) now. */
	bool (*watched)(void *ctx, const struct sp_queue_job *job);
	void *ctx;
};

/* A file of a stored problem as it crosses the queue: its name
 * ("problem.json", "data"...) and bytes. */
struct sp_queue_blob {
	char *name;
	char *data;
	size_t length;
};

/* A backend. Each operation is as its sp_queue_ function below says. */
struct sp_queue_ops {
	int (*submit)(void *self, struct sp_request *req, size_t language,
		      const struct sp_queue_order *order, char id[SP_QUEUE_ID_SIZE],
		      struct sp_error *err);
	void (*wait)(void *self, const char *id);
	int (*result)(void *self, const char *id, int owner, json_t **result, enum sp_job_end *end,
		      struct sp_error *err);
	json_t *(*view)(void *self, const char *id, int owner, struct sp_error *err);
	json_t *(*cancel)(void *self, const char *id, int owner, struct sp_error *err);
	bool (*ended)(void *self, const char *id);
	void (*release)(void *self, const char *id);
	ssize_t (*stdin_write)(void *self, const char *id, int owner, const void *data, size_t len,
			       bool close, struct sp_error *err);
	void (*publish)(void *self, const struct sp_queue_job *job, json_t *event);
	bool (*watched)(void *self, const struct sp_queue_job *job);
	void (*reserve_less)(void *self, const struct sp_queue_job *job,
			     uint64_t reserve); /* or NULL */
	void (*topic)(void *self, const char *key, bool user, int owner,
		      bool watched);	 /* or NULL */
	void (*topics_sync)(void *self); /* or NULL */
	/* A judge job's tests shared with other workers; all NULL for a
	 * backend whose jobs run in one process. */
	int (*share_open)(void *self, const struct sp_queue_job *job, const void *program,
			  size_t len, size_t tests, unsigned helpers, struct sp_error *err);
	int (*share_program)(void *self, const struct sp_queue_job *job, char **program,
			     size_t *len, struct sp_error *err);
	long (*share_next)(void *self, const struct sp_queue_job *job, uint64_t claim_ms,
			   bool stop);
	void (*share_put)(void *self, const struct sp_queue_job *job, size_t index,
			  const char *outcome, bool failed);
	json_t *(*share_outcomes)(void *self, const struct sp_queue_job *job);
	void (*share_close)(void *self, const struct sp_queue_job *job);
	/* Stored problems shared with the other nodes; all NULL for a backend
	 * whose nodes are this process. */
	int (*problem_put)(void *self, const char *id, const struct sp_queue_blob *blobs,
			   size_t count, struct sp_error *err);
	int (*problem_get)(void *self, const char *id, struct sp_queue_blob **blobs, size_t *count,
			   struct sp_error *err);
	int (*problem_drop)(void *self, const char *id, struct sp_error *err);
	int (*problem_has)(void *self, const char *id, struct sp_error *err);
	int (*problem_ids)(void *self, json_t **ids, struct sp_error *err);
	int (*hold)(void *self, const struct sp_bytes_holder *h, uint64_t n, struct sp_error *err);
	void (*unhold)(void *self, const struct sp_bytes_holder *h, uint64_t n);
	unsigned (*retry_after)(void *self, const char *user);
	void (*stats)(void *self, size_t language, struct sp_queue_stats *stats);
	json_t *(*workers)(void *self, struct sp_error *err);
	void (*stop)(void *self, uint64_t grace_ms);
	void (*free)(void *self);
};

struct sp_queue {
	const struct sp_queue_ops *ops;
	void *self;
};

/* A fresh job id. Returns 0, -1 when no random bytes could be had. */
int sp_queue_new_id(char id[SP_QUEUE_ID_SIZE]);

/* The API's error code for ERRNUM of a refused submission ("queue_full",
 * "memory_full"...), "internal_error" for one it does not know. */
const char *sp_queue_refusal_code(int errnum);

/* Queue REQ (moved: REQ is left empty) for LANGUAGE, its id in ID. Returns
 * 0, or -1 with ERR: EAGAIN when the language's queue is full, EDQUOT when
 * the user has as many jobs in flight as allowed, EBUSY when the user
 * submits too often (sp_queue_retry_after says when to try again), ENOSPC
 * when its bytes do not fit, ENOBUFS when they take a holder past its share,
 * E2BIG when the job could never fit, EEXIST for an id in use, ECANCELED
 * when the queue is stopping, ENOTCONN when the queue cannot be reached,
 * EFBIG when an interactive job's own stdin is over
 * SP_REQUEST_INTERACTIVE_STDIN_MAX. */
int sp_queue_submit(struct sp_queue *q, struct sp_request *req, size_t language,
		    const struct sp_queue_order *order, char id[SP_QUEUE_ID_SIZE],
		    struct sp_error *err);

/* Wait until the job ID has ended (held or kept, else it may be gone). A
 * backend may run the job in the calling thread when its turn comes. */
void sp_queue_wait(struct sp_queue *q, const char *id);

/* The result of the job ID of OWNER: *RESULT a new reference, NULL while it
 * has not ended, and *END how it ended. Returns 0, or -1 with ERR: ENOENT
 * when no such job of OWNER's is known, ENOTCONN when the queue cannot be
 * reached. */
int sp_queue_result(struct sp_queue *q, const char *id, int owner, json_t **result,
		    enum sp_job_end *end, struct sp_error *err);

/* {"id", "state", "language", "queued_ms", "run_ms"?, "result"?, "echo"?}:
 * the job ID of OWNER as it is now (its request's "echo" until it ends, then
 * its result's), or NULL with ERR (as sp_queue_result's). */
json_t *sp_queue_view(struct sp_queue *q, const char *id, int owner, struct sp_error *err);

/* Cancel the job ID of OWNER: a queued job ends at once, a running one is
 * killed and ends soon after, an ended one kept is dropped. Returns its
 * view after that, or NULL with ERR (as sp_queue_result's). */
json_t *sp_queue_cancel(struct sp_queue *q, const char *id, int owner, struct sp_error *err);

/* Whether the job ID has ended, or is not known. */
bool sp_queue_ended(struct sp_queue *q, const char *id);

/* The submitter of the held job ID lets it go (order.hold): once ended, and
 * unless kept, it may be dropped (the local backend drops it then; the
 * Redis one keeps an ended job a few minutes for every node, then drops
 * it). Its input (order.interactive) closes. */
void sp_queue_release(struct sp_queue *q, const char *id);

/* Input for the interactive job ID of OWNER (order.interactive): LEN bytes
 * of DATA, or with CLOSE the end of its input. Returns the bytes taken
 * (fewer than LEN, even none, while the program has not read what came
 * before), or -1 with ERR: ENOENT when OWNER has no such interactive job,
 * EPIPE when its input is closed (by CLOSE, or the job ended). */
ssize_t sp_queue_stdin(struct sp_queue *q, const char *id, int owner, const void *data, size_t len,
		       bool close, struct sp_error *err);

/* EVENT (borrowed) of the running JOB to its watchers; its "id" and "ref"
 * are added. */
void sp_queue_publish(struct sp_queue *q, const struct sp_queue_job *job, json_t *event);

/* Whether anyone watches JOB now (its output need not be sent else). */
bool sp_queue_watched(struct sp_queue *q, const struct sp_queue_job *job);

/* The running JOB needs RESERVE bytes beyond its inputs from now on, less
 * than the worker's measure said when it was queued (sp_queue_worker): the
 * rest goes back to the server's memory for requests. */
void sp_queue_reserve_less(struct sp_queue *q, const struct sp_queue_job *job, uint64_t reserve);

/* The watchers of this process began (WATCHED) or ceased to watch KEY (a
 * job id, or a userId when USER) of OWNER. Quick: it may be called with
 * the watchers' registry locked. A backend whose jobs run in other
 * processes tells them, so that they send the events of watched jobs only
 * (sp_queue_watched). */
void sp_queue_topic(struct sp_queue *q, const char *key, bool user, int owner, bool watched);

/* Wait until the processes that run jobs know of every watch told so far
 * (a second at most). */
void sp_queue_topics_sync(struct sp_queue *q);

/* A judge job's tests shared with the workers of other processes, so that
 * they run on the cells of many nodes at once. The worker that runs judge
 * JOB opens its share: PROGRAM (LEN bytes: the built submission as a box
 * archive, or none for a language that runs its sources) and the count of
 * TESTS, stored once, and up to HELPERS helper parts of JOB queued for
 * other workers (sp_queue_job.part). Returns 0, or -1 with ERR: ENOTSUP
 * when the backend runs every job in this process (nothing is shared then),
 * ENOTCONN when the queue cannot be reached. A job taken again after its
 * worker died finds its share as it was left. */
int sp_queue_share_open(struct sp_queue *q, const struct sp_queue_job *job, const void *program,
			size_t len, size_t tests, unsigned helpers, struct sp_error *err);

/* A helper part's program, as the job's worker stored it: *PROGRAM (malloc'd,
 * *LEN bytes; none for a language that runs its sources). Returns 0, or -1
 * with ERR: ENOENT when the share is gone (the job ended). */
int sp_queue_share_program(struct sp_queue *q, const struct sp_queue_job *job, char **program,
			   size_t *len, struct sp_error *err);

/* The index of the next test of the shared JOB for this caller to run, its
 * claim lasting CLAIM_MS (past it, with no outcome, another takes the test
 * again); -1 when none is left, or STOP is asked and a test failed; -2 when
 * the rest are claimed by others and not done yet; -3 when the queue
 * cannot be reached. */
long sp_queue_share_next(struct sp_queue *q, const struct sp_queue_job *job, uint64_t claim_ms,
			 bool stop);

/* The outcome of test INDEX of the shared JOB (its "test" event's JSON
 * text): the first one written stays. FAILED: the test failed. */
void sp_queue_share_put(struct sp_queue *q, const struct sp_queue_job *job, size_t index,
			const char *outcome, bool failed);

/* Every outcome of the shared JOB stored so far: {"INDEX": {...}}, or NULL
 * when the queue cannot be reached. */
json_t *sp_queue_share_outcomes(struct sp_queue *q, const struct sp_queue_job *job);

/* The share of JOB is done with: dropped, and its helpers stop. */
void sp_queue_share_close(struct sp_queue *q, const struct sp_queue_job *job);

/* Hold N bytes for a request body H is sending, before it is parsed.
 * Returns 0, or -1 with ERR as sp_queue_submit's (ENOSPC, ENOBUFS, E2BIG). */
/* Whether the queue shares stored problems with other nodes: a backend
 * whose nodes are other processes, perhaps on other machines, which do not
 * see this node's state directory. */
bool sp_queue_shares_problems(const struct sp_queue *q);

/* Problem ID's files (COUNT BLOBS) shared with every node of the queue, in
 * whole or not at all. Returns 0, or -1 with ERR. */
int sp_queue_problem_put(struct sp_queue *q, const char *id, const struct sp_queue_blob *blobs,
			 size_t count, struct sp_error *err);

/* Problem ID's shared files into *BLOBS (*COUNT; sp_queue_blobs_free()
 * them). Returns 0, or -1 with ERR: ENOENT when the queue shares no such
 * problem (or shares none). */
int sp_queue_problem_get(struct sp_queue *q, const char *id, struct sp_queue_blob **blobs,
			 size_t *count, struct sp_error *err);

/* Whether problem ID is shared: 1, 0, or -1 with ERR when the queue
 * cannot tell now. A queue that shares no problem: 0. */
int sp_queue_problem_has(struct sp_queue *q, const char *id, struct sp_error *err);

/* Problem ID no longer shared. Returns 0 (also when it was not), or -1. */
int sp_queue_problem_drop(struct sp_queue *q, const char *id, struct sp_error *err);

/* The ids of the shared problems, into *IDS (a JSON array). Returns 0, or
 * -1 with ERR (ENOTSUP: the queue shares none). */
int sp_queue_problem_ids(struct sp_queue *q, json_t **ids, struct sp_error *err);

void sp_queue_blobs_free(struct sp_queue_blob *blobs, size_t count);

int sp_queue_hold(struct sp_queue *q, const struct sp_bytes_holder *h, uint64_t n,
		  struct sp_error *err);

/* Let the N bytes held for H go. */
void sp_queue_unhold(struct sp_queue *q, const struct sp_bytes_holder *h, uint64_t n);

/* Seconds until USER may submit again (0: now). */
unsigned sp_queue_retry_after(struct sp_queue *q, const char *user);

/* Figures of LANGUAGE (its index), or of all when LANGUAGE is (size_t)-1. */
void sp_queue_stats(struct sp_queue *q, size_t language, struct sp_queue_stats *stats);

/* The nodes that run the queue's jobs, seen lately: [{"id", "host",
 * "languages", "jobs_done", "last_seen_ms"}], or NULL with ERR. */
json_t *sp_queue_workers(struct sp_queue *q, struct sp_error *err);

/* Refuse new jobs, end the queued ones (SP_JOB_SHUTDOWN), give the running
 * ones GRACE_MS to finish and cancel them after that. */
void sp_queue_stop(struct sp_queue *q, uint64_t grace_ms);

/* Once stopped and nothing calls it any more. Q may be NULL. */
void sp_queue_free(struct sp_queue *q);

#endif
