#include "hub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct watch {
	struct watch *next;
	struct sp_watcher *w;
	bool user; /* KEY is a userId, else a job id */
	int owner;
	char key[];
};

struct sp_hub {
	pthread_mutex_t lock;
	struct watch *watches;
};

struct sp_hub *sp_hub_new(void)
{
	struct sp_hub *hub = calloc(1, sizeof(*hub));

	if (hub != NULL)
		pthread_mutex_init(&hub->lock, NULL);
	return hub;
}

void sp_hub_free(struct sp_hub *hub)
{
	if (hub == NULL)
		return;
	while (hub->watches != NULL) {
		struct watch *w = hub->watches;

		hub->watches = w->next;
		free(w);
	}
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

static int add(struct sp_hub *hub, struct sp_watcher *watcher, const char *key, bool user,
	       int owner)
{
	size_t len = strlen(key);
	struct watch *w = calloc(1, sizeof(*w) + len + 1);

	if (w == NULL)
		return -1;
	w->w = watcher;
	w->user = user;
	w->owner = owner;
	memcpy(w->key, key, len + 1);
	pthread_mutex_lock(&hub->lock);
	w->next = hub->watches;
	hub->watches = w;
	pthread_mutex_unlock(&hub->lock);
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

/* Under the lock: drop the watches for which DROP says so. */
static void drop_where(struct sp_hub *hub, bool (*drop)(const struct watch *, const void *),
		       const void *arg)
{
	struct watch **p = &hub->watches;

	while (*p != NULL) {
		struct watch *w = *p;

		if (drop(w, arg)) {
			*p = w->next;
			free(w);
		} else {
			p = &w->next;
		}
	}
}

static bool of_watcher(const struct watch *w, const void *watcher)
{
	return w->w == watcher;
}

static bool on_job(const struct watch *w, const void *id)
{
	return !w->user && strcmp(w->key, id) == 0;
}

struct job_of_watcher {
	const struct sp_watcher *w;
	const char *id;
};

static bool on_job_of(const struct watch *w, const void *arg)
{
	const struct job_of_watcher *j = arg;

	return w->w == j->w && on_job(w, j->id);
}

void sp_hub_unwatch_job(struct sp_hub *hub, struct sp_watcher *w, const char *id)
{
	struct job_of_watcher j = {.w = w, .id = id};

	pthread_mutex_lock(&hub->lock);
	drop_where(hub, on_job_of, &j);
	pthread_mutex_unlock(&hub->lock);
}

void sp_hub_forget(struct sp_hub *hub, struct sp_watcher *w)
{
	pthread_mutex_lock(&hub->lock);
	drop_where(hub, of_watcher, w);
	pthread_mutex_unlock(&hub->lock);
}

static bool matches(const struct watch *w, const char *id, const char *user, int owner)
{
	if (w->owner != owner)
		return false;
	if (w->user)
		return user != NULL && strcmp(w->key, user) == 0;
	return strcmp(w->key, id) == 0;
}

bool sp_hub_watched(struct sp_hub *hub, const char *id, const char *user, int owner)
{
	bool found = false;

	pthread_mutex_lock(&hub->lock);
	for (struct watch *w = hub->watches; w != NULL && !found; w = w->next)
		found = matches(w, id, user, owner);
	pthread_mutex_unlock(&hub->lock);
	return found;
}

void sp_hub_publish(struct sp_hub *hub, const char *id, const char *user, int owner, json_t *event)
{
	const char *type = json_string_value(json_object_get(event, "type"));
	struct sp_hub_text *text = NULL;

	pthread_mutex_lock(&hub->lock);
	for (struct watch *w = hub->watches; w != NULL; w = w->next) {
		/* A watcher on both the job and its user hears the event once. */
		bool seen = false;

		if (!matches(w, id, user, owner))
			continue;
		for (struct watch *v = hub->watches; v != w && !seen; v = v->next)
			seen = v->w == w->w && matches(v, id, user, owner);
		if (seen)
			continue;
		if (text == NULL)
			text = sp_hub_text_new(event);
		if (text == NULL)
			break;
		w->w->deliver(w->w, text);
	}
	if (type != NULL && strcmp(type, "result") == 0)
		drop_where(hub, on_job, id);
	pthread_mutex_unlock(&hub->lock);
	sp_hub_text_put(text);
}
