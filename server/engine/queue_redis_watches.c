/* What an API node's watchers watch, told to the workers: a worker sends
 * the events of a running job (its output, its tests) only while a node
 * watches the job or its user, so that output nobody reads crosses no
 * node. Each topic is a sorted set of the nodes that watch it, each until
 * its lease ends: a node that dies without a word stops counting when its
 * lease does. One thread writes the changes in the order the hub made them,
 * and every topic again before its lease ends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue_redis_parts.h"
#include "sandbox/base/clock.h"
#include "sandbox/base/hash.h"
#include "sandbox/base/log.h"

#define TOPIC_LEASE_MS	30000 /* a topic told lasts this long... */
#define TOPIC_RENEW_MS	10000 /* ...and is told again this often */
#define TOPIC_RETRY_MS	1000  /* after Redis failed */
#define TOPIC_KEY_TTL_S 60
#define SYNC_WAIT_MS	250 /* the longest a sync waits for Redis */
#define TOPIC_BUCKETS	1024

/* A topic gained its first watch here, or lost its last. */
struct change {
	struct change *next;
	bool watched;
	char key[RQ_KEY_MAX];
};

/* A topic this node watches, as last written. */
struct registered {
	struct registered *next;
	char key[RQ_KEY_MAX];
};

/* The topics of one write: at most RQ_TOPICS_AT_ONCE. */
struct batch {
	const char *keys[RQ_TOPICS_AT_ONCE];
	char signs[RQ_TOPICS_AT_ONCE];
	size_t count;
	bool failed;
};

struct rq_watches {
	struct redis_queue *q;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a change came, or the stop */
	pthread_cond_t written; /* changes were written (or given up) */
	struct change *head, **tail;
	uint64_t told, written_count; /* changes told so far; written so far */
	bool stopping;
	pthread_t thread;
	uint64_t next_renew_ms; /* sp_clock_ms(); 0: now */
	/* the thread's alone: */
	struct sp_redis_link link;
	struct registered *buckets[TOPIC_BUCKETS];
};

static size_t bucket_of(const char *key)
{
	return (size_t)sp_hash_string(key) & (TOPIC_BUCKETS - 1);
}

/* --- the registered topics ------------------------------------------------ */

static struct registered **find(struct rq_watches *w, const char *key)
{
	struct registered **p = &w->buckets[bucket_of(key)];

	while (*p != NULL && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return p;
}

/* Note the change C among the registered topics. False when nothing is to
 * be written (out of memory for a new one: it is not watched in Redis). */
static bool note(struct rq_watches *w, const struct change *c)
{
	struct registered **p = find(w, c->key), *r;

	if (!c->watched) {
		if ((r = *p) != NULL) {
			*p = r->next;
			free(r);
		}
		return true;
	}
	if (*p != NULL)
		return true;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		log_warn("queue: no memory to watch %s", c->key);
		return false;
	}
	memcpy(r->key, c->key, sizeof(r->key));
	*p = r;
	return true;
}

/* --- writing ---------------------------------------------------------------- */

static void flush(struct rq_watches *w, struct batch *b)
{
	struct sp_error err = {0};

	if (b->count == 0 || b->failed) {
		b->count = 0; /* after a failure, the next renewal writes it all */
		return;
	}
	if (rq_script_topics(&w->link, w->q->c.node, TOPIC_LEASE_MS, TOPIC_KEY_TTL_S, b->keys,
			     b->signs, b->count, &err) < 0) {
		log_warn("queue: tell the workers what is watched: %s", err.message);
		b->failed = true;
	}
	b->count = 0;
}

static void add(struct rq_watches *w, struct batch *b, const char *key, char sign)
{
	b->keys[b->count] = key;
	b->signs[b->count++] = sign;
	if (b->count == RQ_TOPICS_AT_ONCE)
		flush(w, b);
}

/* The changes from FIRST on, in their order, into Redis; they are freed.
 * False when Redis failed. */
static bool write_changes(struct rq_watches *w, struct change *first)
{
	struct batch b = {0};
	struct change *done = NULL;

	for (struct change *c = first; c != NULL; c = c->next)
		if (note(w, c))
			add(w, &b, c->key, c->watched ? '+' : '-');
	flush(w, &b);
	/* the keys of the batch were the changes': freed after it went */
	for (struct change *c = first; c != NULL; c = done) {
		done = c->next;
		free(c);
	}
	return !b.failed;
}

/* Every registered topic told again (with SIGN '+'), or taken out ('-').
 * False when Redis failed. */
static bool write_all(struct rq_watches *w, char sign)
{
	struct batch b = {0};

	for (size_t i = 0; i < TOPIC_BUCKETS; i++)
		for (struct registered *r = w->buckets[i]; r != NULL; r = r->next)
			add(w, &b, r->key, sign);
	flush(w, &b);
	return !b.failed;
}

static void *watches_loop(void *arg)
{
	struct rq_watches *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		uint64_t now = sp_clock_ms();
		bool ok;

		if (w->head != NULL) {
			struct change *first = w->head;
			uint64_t upto = w->told;

			w->head = NULL;
			w->tail = &w->head;
			pthread_mutex_unlock(&w->lock);
			ok = write_changes(w, first);
			pthread_mutex_lock(&w->lock);
			w->written_count = upto;
			pthread_cond_broadcast(&w->written);
			if (!ok) /* what failed goes with the next renewal */
				w->next_renew_ms = sp_clock_ms() + TOPIC_RETRY_MS;
		} else if (now >= w->next_renew_ms) {
			w->next_renew_ms = now + TOPIC_RENEW_MS;
			pthread_mutex_unlock(&w->lock);
			ok = write_all(w, '+');
			pthread_mutex_lock(&w->lock);
			if (!ok)
				w->next_renew_ms = sp_clock_ms() + TOPIC_RETRY_MS;
		} else {
			struct timespec until = sp_clock_timespec(w->next_renew_ms);

			pthread_cond_timedwait(&w->changed, &w->lock, &until);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* --- the API node's side ----------------------------------------------------- */

void rq_watches_topic(struct redis_queue *q, const char *key, bool user, int owner, bool watched)
{
	struct rq_watches *w = q->watches;
	struct change *c;

	if (w == NULL)
		return;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_warn("queue: no memory to tell the workers of a watch");
		return;
	}
	c->watched = watched;
	rq_topic_key(c->key, key, user, owner);
	pthread_mutex_lock(&w->lock);
	*w->tail = c;
	w->tail = &c->next;
	w->told++;
	pthread_cond_signal(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

void rq_watches_sync(struct redis_queue *q)
{
	struct rq_watches *w = q->watches;
	struct timespec until = sp_clock_timespec(sp_clock_ms() + SYNC_WAIT_MS);
	uint64_t target;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	target = w->told;
	while (w->written_count < target && !w->stopping &&
	       pthread_cond_timedwait(&w->written, &w->lock, &until) == 0) {
	}
	pthread_mutex_unlock(&w->lock);
}

void rq_watches_renew_now(struct redis_queue *q)
{
	struct rq_watches *w = q->watches;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->next_renew_ms = 0;
	pthread_cond_signal(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

int rq_watches_start(struct redis_queue *q, struct sp_error *err)
{
	struct rq_watches *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;
	int rc;

	if (w == NULL)
		return sp_error_set(err, ENOMEM, "watches");
	w->q = q;
	w->tail = &w->head;
	w->next_renew_ms = sp_clock_ms() + TOPIC_RENEW_MS;
	sp_redis_link_init(&w->link, &q->c.url, RQ_TIMEOUT_MS);
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->changed, &attr);
	pthread_cond_init(&w->written, &attr);
	pthread_condattr_destroy(&attr);
	rc = pthread_create(&w->thread, NULL, watches_loop, w);
	if (rc != 0) {
		pthread_cond_destroy(&w->changed);
		pthread_cond_destroy(&w->written);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return sp_error_set(err, rc, "start the watches' thread");
	}
	q->watches = w;
	return 0;
}

void rq_watches_stop(struct redis_queue *q)
{
	struct rq_watches *w = q->watches;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->changed);
	pthread_cond_broadcast(&w->written);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	q->watches = NULL;
	/* what came after the thread's last write, then every topic out */
	write_changes(w, w->head);
	write_all(w, '-');
	for (size_t i = 0; i < TOPIC_BUCKETS; i++) {
		while (w->buckets[i] != NULL) {
			struct registered *r = w->buckets[i];

			w->buckets[i] = r->next;
			free(r);
		}
	}
	sp_redis_link_drop(&w->link);
	pthread_cond_destroy(&w->changed);
	pthread_cond_destroy(&w->written);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
