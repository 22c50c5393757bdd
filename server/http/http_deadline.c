#include "http_deadline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "sandbox/base/clock.h"
#include "sandbox/base/dlist.h"

/* A body of unknown length may take this much more than it brought so far. */
#define UNKNOWN_MORE (64 * 1024)
#define TICK_MS	     1000

struct sp_body_watch {
	struct sp_dlink link;
	int fd, how;
	int64_t declared;
	uint64_t start_ms;
	atomic_uint_fast64_t received;
	bool cut;
};

struct sp_http_deadlines {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct sp_dlist watched;
	uint64_t rate, grace_ms;
	bool stopping;
	pthread_t thread;
};

/* When W's body is late, with what it brought so far. */
static uint64_t due_ms(const struct sp_http_deadlines *d, struct sp_body_watch *w)
{
	uint64_t received = atomic_load(&w->received);
	uint64_t expect = w->declared >= 0 ? (uint64_t)w->declared : received + UNKNOWN_MORE;

	return w->start_ms + d->grace_ms + expect * 1000 / d->rate;
}

/* Under the lock: cut the bodies that are late. */
static void cut_late(struct sp_http_deadlines *d, uint64_t now)
{
	for (struct sp_dlink *l = d->watched.head; l != NULL; l = l->next) {
		struct sp_body_watch *w = sp_dlist_entry(l, struct sp_body_watch, link);

		if (!w->cut && now > due_ms(d, w)) {
			/* the socket stays the connection's until it is unwatched */
			shutdown(w->fd, w->how);
			w->cut = true;
		}
	}
}

static void *watchdog(void *arg)
{
	struct sp_http_deadlines *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		struct timespec ts = sp_clock_timespec(sp_clock_ms() + TICK_MS);

		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
		cut_late(d, sp_clock_ms());
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct sp_http_deadlines *sp_http_deadlines_new(uint64_t rate, uint64_t grace_ms)
{
	struct sp_http_deadlines *d = calloc(1, sizeof(*d));
	pthread_condattr_t attr;

	if (d == NULL)
		return NULL;
	d->rate = rate;
	d->grace_ms = grace_ms;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (rate > 0 && pthread_create(&d->thread, NULL, watchdog, d) != 0) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

void sp_http_deadlines_free(struct sp_http_deadlines *d)
{
	if (d == NULL)
		return;
	if (d->rate > 0) {
		pthread_mutex_lock(&d->lock);
		d->stopping = true;
		pthread_cond_signal(&d->wake);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
	}
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

struct sp_body_watch *sp_http_deadline_watch(struct sp_http_deadlines *d, int fd, int64_t declared,
					     int how)
{
	struct sp_body_watch *w;

	if (d == NULL || d->rate == 0 || fd < 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->fd = fd;
	w->how = how;
	w->declared = declared;
	w->start_ms = sp_clock_ms();
	pthread_mutex_lock(&d->lock);
	sp_dlist_push(&d->watched, &w->link);
	pthread_mutex_unlock(&d->lock);
	return w;
}

void sp_http_deadline_progress(struct sp_body_watch *w, uint64_t received)
{
	if (w != NULL)
		atomic_store(&w->received, received);
}

bool sp_http_deadline_unwatch(struct sp_http_deadlines *d, struct sp_body_watch *w)
{
	bool cut;

	if (w == NULL)
		return false;
	pthread_mutex_lock(&d->lock);
	sp_dlist_remove(&d->watched, &w->link);
	cut = w->cut;
	pthread_mutex_unlock(&d->lock);
	free(w);
	return cut;
}
