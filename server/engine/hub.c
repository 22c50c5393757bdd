#include "hub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/base/hash.h"

#define FIRST_BUCKETS 256

/* A job id or a userId, of one owner, and its watches. */
struct topic {
	struct topic *next; /* in its bucket */
	struct sp_dlist watches;
	uint64_t hash;
	bool user;
	int owner;
	char key[];
};

struct watch {
	struct sp_dlink in_topic;
	struct sp_dlink in_watcher;
	struct topic *topic;
	struct sp_watcher *w;
};

struct sp_hub {
	pthread_mutex_t lock;
	struct topic **buckets;
	size_t bucket_count; /* a power of two */
	size_t topic_count;
	uint64_t stamp; /* of the last event */
	struct sp_hub_topics topics;
};

/* FNV-1a over the key, the kind and the owner. */
static uint64_t hash_of(const char *key, bool user, int owner)
{
	unsigned char kind = user ? 1 : 2;
	uint32_t who = (uint32_t)owner;

	return sp_hash_bytes(sp_hash_bytes(sp_hash_string(key), &kind, 1), &who, sizeof(who));
}

void sp_hub_observe(struct sp_hub *hub, const struct sp_hub_topics *topics)
{
	pthread_mutex_lock(&hub->lock);
	hub->topics = *topics;
	pthread_mutex_unlock(&hub->lock);
}

/* Under the lock: T gained its first watch, or lost its last. */
static void tell_topic(struct sp_hub *hub, const struct topic *t, bool watched)
{
	if (hub->topics.changed != NULL)
		hub->topics.changed(hub->topics.ctx, t->key, t->user, t->owner, watched);
}

struct sp_hub *sp_hub_new(void)
{
	struct sp_hub *hub = calloc(1, sizeof(*hub));

	if (hub == NULL)
		return NULL;
	hub->bucket_count = FIRST_BUCKETS;
	hub->buckets = calloc(hub->bucket_count, sizeof(*hub->buckets));
	if (hub->buckets == NULL) {
		free(hub);
		return NULL;
	}
	pthread_mutex_init(&hub->lock, NULL);
	return hub;
}

static void free_topic(struct topic *t)
{
	struct sp_dlink *l;

	while ((l = sp_dlist_pop(&t->watches)) != NULL)
		free(sp_dlist_entry(l, struct watch, in_topic));
	free(t);
}

void sp_hub_free(struct sp_hub *hub)
{
	if (hub == NULL)
		return;
	for (size_t i = 0; i < hub->bucket_count; i++) {
		while (hub->buckets[i] != NULL) {
			struct topic *t = hub->buckets[i];

			hub->buckets[i] = t->next;
			free_topic(t);
		}
	}
	free(hub->buckets);
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

/* --- topics, under the lock ------------------------------------------------ */

static struct topic **slot_of(struct sp_hub *hub, uint64_t hash)
{
	return &hub->buckets[hash & (hub->bucket_count - 1)];
}

static struct topic *find(struct sp_hub *hub, const char *key, bool user, int owner)
{
	uint64_t hash = hash_of(key, user, owner);

	for (struct topic *t = *slot_of(hub, hash); t != NULL; t = t->next) {
		if (t->hash == hash && t->user == user && t->owner == owner &&
		    strcmp(t->key, key) == 0)
			return t;
	}
	return NULL;
}

/* Twice the buckets, when there are twice as many topics as buckets. Stays
 * as it is when there is no memory for more. */
static void grow(struct sp_hub *hub)
{
	size_t count = hub->bucket_count * 2;
	struct topic **old = hub->buckets, **buckets;

	if (hub->topic_count <= hub->bucket_count * 2 || count > ((size_t)1 << 24))
		return;
	buckets = calloc(count, sizeof(*buckets));
	if (buckets == NULL)
		return;
	hub->buckets = buckets;
	for (size_t i = 0; i < hub->bucket_count; i++) {
		while (old[i] != NULL) {
			struct topic *t = old[i];

			old[i] = t->next;
			t->next = buckets[t->hash & (count - 1)];
			buckets[t->hash & (count - 1)] = t;
		}
	}
	hub->bucket_count = count;
	free(old);
}

static struct topic *find_or_add(struct sp_hub *hub, const char *key, bool user, int owner)
{
	struct topic *t = find(hub, key, user, owner);
	size_t len = strlen(key);
	struct topic **slot;

	if (t != NULL)
		return t;
	t = calloc(1, sizeof(*t) + len + 1);
	if (t == NULL)
		return NULL;
	t->hash = hash_of(key, user, owner);
	t->user = user;
	t->owner = owner;
	memcpy(t->key, key, len + 1);
	slot = slot_of(hub, t->hash);
	t->next = *slot;
	*slot = t;
	hub->topic_count++;
	grow(hub);
	tell_topic(hub, t, true);
	return t;
}

/* T has no watch left: out of the table. */
static void drop_topic(struct sp_hub *hub, struct topic *t)
{
	struct topic **p = slot_of(hub, t->hash);

	while (*p != t)
		p = &(*p)->next;
	*p = t->next;
	hub->topic_count--;
	tell_topic(hub, t, false);
	free(t);
}

static void drop_watch(struct sp_hub *hub, struct watch *watch)
{
	struct topic *t = watch->topic;

	sp_dlist_remove(&t->watches, &watch->in_topic);
	sp_dlist_remove(&watch->w->watches, &watch->in_watcher);
	atomic_fetch_sub(&watch->w->count, 1);
	free(watch);
	if (t->watches.count == 0)
		drop_topic(hub, t);
}

/* Drop every watch of T, and T with the last. */
static void end_topic(struct sp_hub *hub, struct topic *t)
{
	unsigned left = t->watches.count;

	for (; left > 0; left--)
		drop_watch(hub, sp_dlist_entry(t->watches.head, struct watch, in_topic));
}

/* --- watches ---------------------------------------------------------------- */

static int add(struct sp_hub *hub, struct sp_watcher *w, const char *key, bool user, int owner)
{
	struct watch *watch = calloc(1, sizeof(*watch));
	struct topic *t;

	if (watch == NULL)
		return -1;
	pthread_mutex_lock(&hub->lock);
	t = find_or_add(hub, key, user, owner);
	if (t != NULL) {
		watch->topic = t;
		watch->w = w;
		sp_dlist_push(&t->watches, &watch->in_topic);
		sp_dlist_push(&w->watches, &watch->in_watcher);
		atomic_fetch_add(&w->count, 1);
	}
	pthread_mutex_unlock(&hub->lock);
	if (t == NULL) {
		free(watch);
		return -1;
	}
	return 0;
}

int sp_hub_watch_job(struct sp_hub *hub, struct sp_watcher *w, const char *id, int owner)
{
	return add(hub, w, id, false, owner);
}

int sp_hub_watch_user(struct sp_hub *hub, struct sp_watcher *w, const char *user, int owner)
{
	return add(hub, w, user, true, owner);
}

bool sp_hub_unwatch_job(struct sp_hub *hub, struct sp_watcher *w, const char *id)
{
	struct sp_dlink *l;
	bool was = false;

	pthread_mutex_lock(&hub->lock);
	l = w->watches.head;
	while (l != NULL) {
		struct watch *watch = sp_dlist_entry(l, struct watch, in_watcher);

		l = l->next;
		if (!watch->topic->user && strcmp(watch->topic->key, id) == 0) {
			drop_watch(hub, watch);
			was = true;
		}
	}
	pthread_mutex_unlock(&hub->lock);
	return was;
}

void sp_hub_forget(struct sp_hub *hub, struct sp_watcher *w)
{
	pthread_mutex_lock(&hub->lock);
	while (w->watches.head != NULL)
		drop_watch(hub, sp_dlist_entry(w->watches.head, struct watch, in_watcher));
	pthread_mutex_unlock(&hub->lock);
}

unsigned sp_hub_watches(struct sp_watcher *w)
{
	return atomic_load(&w->count);
}

bool sp_hub_watched(struct sp_hub *hub, const char *id, const char *user, int owner)
{
	bool found;

	pthread_mutex_lock(&hub->lock);
	found = find(hub, id, false, owner) != NULL ||
		(user != NULL && find(hub, user, true, owner) != NULL);
	pthread_mutex_unlock(&hub->lock);
	return found;
}

/* --- events ----------------------------------------------------------------- */

/* TEXT (made on first need) to every watcher of T not reached yet by this
 * event (STAMP). False when there is no memory for the text. */
static bool deliver_topic(struct topic *t, uint64_t stamp, json_t *event, struct sp_hub_text **text)
{
	for (struct sp_dlink *l = t ? t->watches.head : NULL; l != NULL; l = l->next) {
		struct sp_watcher *w = sp_dlist_entry(l, struct watch, in_topic)->w;

		/* A watcher on both the job and its user hears the event once. */
		if (w->stamp == stamp)
			continue;
		w->stamp = stamp;
		if (w->deliver_event != NULL) {
			w->deliver_event(w, event);
			continue;
		}
		if (*text == NULL)
			*text = sp_hub_text_new(event);
		if (*text == NULL)
			return false;
		w->deliver(w, *text);
	}
	return true;
}

void sp_hub_publish(struct sp_hub *hub, const char *id, const char *user, int owner, json_t *event)
{
	const char *type = json_string_value(json_object_get(event, "type"));
	struct sp_hub_text *text = NULL;
	struct topic *job;
	uint64_t stamp;

	pthread_mutex_lock(&hub->lock);
	stamp = ++hub->stamp;
	job = find(hub, id, false, owner);
	if (deliver_topic(job, stamp, event, &text) && user != NULL)
		deliver_topic(find(hub, user, true, owner), stamp, event, &text);
	if (job != NULL && type != NULL && strcmp(type, "result") == 0)
		end_topic(hub, job);
	pthread_mutex_unlock(&hub->lock);
	sp_hub_text_put(text);
}
