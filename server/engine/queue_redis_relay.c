/* The Redis backend's relay of an interactive job's input: what its client
 * sends (sandpool:stdin:ID, from any API node) into the write end of the
 * program's stdin pipe, on a thread of its own. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "queue_redis_parts.h"

/* The worker and the relay thread each hold a reference; the last one
 * frees it. */
struct rq_relay {
	struct sp_queue_url url;
	char key[RQ_KEY_MAX];
	int w;		  /* the pipe's write end, -1 once closed */
	atomic_bool done; /* the job ended */
	atomic_int refs;
};

static void relay_put(struct rq_relay *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1) {
		if (r->w >= 0)
			close(r->w);
		free(r);
	}
}

/* All of DATA into the pipe, as the program reads it; false when the
 * program will read no more. */
static bool feed(struct rq_relay *r, const char *data, size_t len)
{
	while (len > 0 && !atomic_load(&r->done)) {
		struct pollfd p = {.fd = r->w, .events = POLLOUT};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = write(r->w, data, len);
		if (n < 0 && errno != EAGAIN)
			return false;
		if (n > 0)
			data += n, len -= (size_t)n;
	}
	return true;
}

static void *relay_loop(void *arg)
{
	struct rq_relay *r = arg;
	struct sp_redis_link link;

	sp_redis_link_init(&link, &r->url, RQ_TIMEOUT_MS + 1000);
	while (!atomic_load(&r->done)) {
		struct sp_error err = {0};
		redisReply *got =
		    r->w >= 0 ? sp_redis_command(&link, &err, "BLPOP %s 0.2", r->key) : NULL;
		const redisReply *e;

		if (got == NULL) {
			usleep(100 * 1000);
			continue;
		}
		e = got->type == REDIS_REPLY_ARRAY && got->elements == 2 ? got->element[1] : NULL;
		if (e != NULL && e->type == REDIS_REPLY_STRING && e->len > 0 &&
		    (e->str[0] == 'c' || !feed(r, e->str + 1, e->len - 1))) {
			close(r->w);
			r->w = -1;
		}
		freeReplyObject(got);
	}
	sp_redis_link_drop(&link);
	relay_put(r);
	return NULL;
}

struct rq_relay *rq_relay_start(const struct sp_queue_url *url, const char *id, int w)
{
	struct rq_relay *r = calloc(1, sizeof(*r));
	pthread_t thread;

	if (r == NULL) {
		close(w);
		return NULL;
	}
	*r = (struct rq_relay){.url = *url, .w = w, .refs = 2};
	rq_key(r->key, "stdin", id);
	if (pthread_create(&thread, NULL, relay_loop, r) != 0) {
		close(w);
		free(r);
		return NULL;
	}
	pthread_detach(thread);
	return r;
}

void rq_relay_stop(struct sp_redis_link *link, struct rq_relay *r, const char *id)
{
	char key[RQ_KEY_MAX];
	struct sp_error err = {0};
	redisReply *gone;

	atomic_store(&r->done, true);
	relay_put(r);
	rq_key(key, "stdin", id);
	gone = sp_redis_command(link, &err, "DEL %s", key);
	if (gone != NULL)
		freeReplyObject(gone);
}
