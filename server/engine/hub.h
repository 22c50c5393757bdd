/* Who watches which jobs: WebSocket clients subscribed to a job id or to a
 * userId. Events are serialized once (hub_text.h) and that one text is handed
 * to every watcher of the job or of its user; a watch on a job id ends with
 * the job's "result".
 *
 * Watches are kept by topic (a job id or a userId, of one owner) in a hash
 * table, and by watcher: an event costs the watchers of its job and of its
 * user, not every watch of the server, and a watcher that goes costs its own
 * watches. */
#ifndef SANDPOOL_HUB_H
#define SANDPOOL_HUB_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub_text.h"
#include "sandbox/base/dlist.h"

struct sp_watcher {
	/* TEXT for this watcher, which takes a reference if it keeps it.
	 * Called with the hub locked: it must not block and must not call the
	 * hub. */
	void (*deliver)(struct sp_watcher *w, struct sp_hub_text *text);
	/* Or, when set, the EVENT itself (borrowed), for a watcher that says
	 * it in words of its own (Piston's); the same rules. */
	void (*deliver_event)(struct sp_watcher *w, const json_t *event);
	/* The hub's (zero before the first watch). */
	struct sp_dlist watches; /* under the hub's lock */
	uint64_t stamp;		 /* the last event handed over, under the lock */
	atomic_uint count;	 /* how many watches: read from any thread */
};

struct sp_hub;

/* Told when a topic gains its first watch or loses its last: KEY (a job
 * id, or a userId when USER) of OWNER is WATCHED now, or no longer. Called
 * with the hub locked, in the order of the changes: it must not block and
 * must not call the hub. */
struct sp_hub_topics {
	void (*changed)(void *ctx, const char *key, bool user, int owner, bool watched);
	void *ctx;
};

struct sp_hub *sp_hub_new(void);
void sp_hub_free(struct sp_hub *hub);

/* Tell TOPICS of every topic's first and last watch from now on (before
 * the first watch). */
void sp_hub_observe(struct sp_hub *hub, const struct sp_hub_topics *topics);

/* W watches the job ID, or every job of USER from now on, of the jobs whose
 * owner (the API token that submitted them) is OWNER. -1: no memory. */
int sp_hub_watch_job(struct sp_hub *hub, struct sp_watcher *w, const char *id, int owner);
int sp_hub_watch_user(struct sp_hub *hub, struct sp_watcher *w, const char *user, int owner);

/* W no longer watches the job ID. Returns whether it did (a watch ends with
 * the job's result: false when that was handed over already). */
bool sp_hub_unwatch_job(struct sp_hub *hub, struct sp_watcher *w, const char *id);

/* Drop every watch of W; when it returns, no delivery to W is under way. */
void sp_hub_forget(struct sp_hub *hub, struct sp_watcher *w);

/* How many watches W has now (a job's ends with its result). */
unsigned sp_hub_watches(struct sp_watcher *w);

/* Does anyone watch the job ID (of USER, or NULL, and OWNER)? */
bool sp_hub_watched(struct sp_hub *hub, const char *id, const char *user, int owner);

/* Deliver EVENT (borrowed) of the job ID of USER (or NULL) and OWNER. */
void sp_hub_publish(struct sp_hub *hub, const char *id, const char *user, int owner, json_t *event);

#endif
