/* The Redis backend's listener: one subscribed connection per node. Every
 * node's job events reach this node's watchers; a result wakes this node's
 * waiters of that job; a cancel reaches the job if it runs here. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "queue_redis_parts.h"
#include "sandbox/base/log.h"

#define LISTEN_POLL_MS 250 /* how soon the listener sees that it must stop */
#define RECONNECT_MS   250

void rq_wake(struct redis_queue *q, const char *id)
{
	pthread_mutex_lock(&q->lock);
	for (struct rq_waiter *w = q->waiters; w != NULL; w = w->next) {
		if (id != NULL && strcmp(w->id, id) != 0)
			continue;
		w->woken = true;
		w->ended = w->ended || id != NULL;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&q->lock);
}

void rq_hand_result(struct redis_queue *q, const char *id, int owner, enum sp_job_end end,
		    json_t *result)
{
	pthread_mutex_lock(&q->lock);
	for (struct rq_waiter *w = q->waiters; w != NULL; w = w->next) {
		if (strcmp(w->id, id) != 0 || w->news != NULL)
			continue;
		w->news = calloc(1, sizeof(*w->news));
		if (w->news == NULL)
			break;
		snprintf(w->news->id, sizeof(w->news->id), "%s", id);
		w->news->owner = owner;
		w->news->end = end;
		w->news->result = json_incref(result);
	}
	pthread_mutex_unlock(&q->lock);
}

/* The next reply on the subscribed connection: 1 and *REPLY, 0 when none
 * came within TIMEOUT_MS, -1 when the connection failed. */
static int next_reply(redisContext *ctx, redisReply **reply, int timeout_ms)
{
	void *r = NULL;
	struct pollfd p = {.fd = ctx->fd, .events = POLLIN};
	int n;

	if (redisGetReplyFromReader(ctx, &r) != REDIS_OK)
		return -1;
	if (r == NULL) {
		n = poll(&p, 1, timeout_ms);
		if (n <= 0)
			return n < 0 && errno != EINTR ? -1 : 0;
		if (redisBufferRead(ctx) != REDIS_OK ||
		    redisGetReplyFromReader(ctx, &r) != REDIS_OK)
			return -1;
	}
	*reply = r;
	return r != NULL;
}

/* A result event comes without its result: it is read here, once for this
 * node. Returns 0, -1 when it is not there (any more). */
static int add_result(struct redis_queue *q, const char *id, json_t *event)
{
	char key[RQ_KEY_MAX];
	struct sp_error err = {0};
	struct sp_redis_link *link = rq_link_take(q);
	redisReply *r;
	json_t *stored = NULL;

	rq_key(key, "result", id);
	r = sp_redis_command(link, &err, "GET %s", key);
	rq_link_give(q, link);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		stored = json_loadb(r->str, r->len, 0, NULL);
	if (r != NULL)
		freeReplyObject(r);
	if (json_object_get(stored, "result") == NULL) {
		json_decref(stored);
		return -1;
	}
	json_object_set(event, "result", json_object_get(stored, "result"));
	json_decref(stored);
	return 0;
}

/* A message of the events channel: {"user", "owner", "event"}. */
static void on_event(struct redis_queue *q, const char *text, size_t length)
{
	json_t *msg = json_loadb(text, length, 0, NULL);
	json_t *event = json_object_get(msg, "event");
	const char *id = json_string_value(json_object_get(event, "id"));
	const char *type = json_string_value(json_object_get(event, "type"));
	struct sp_queue_job job = {
	    .user = json_string_value(json_object_get(msg, "user")),
	    .ref = json_string_value(json_object_get(event, "ref")),
	    .owner = (int)json_integer_value(json_object_get(msg, "owner")),
	};

	bool result = type != NULL && strcmp(type, "result") == 0;
	json_t *carried;

	if (id != NULL && strlen(id) < sizeof(job.id) && json_is_object(event)) {
		memcpy(job.id, id, strlen(id) + 1);
		/* a small result comes with its news */
		carried = json_object_get(event, "result");
		if (result && carried != NULL)
			rq_hand_result(q, id, job.owner,
				       rq_end_of(json_string_value(json_object_get(msg, "end"))),
				       carried);
		if (result)
			rq_wake(q, id);
		if (q->c.watchers.deliver != NULL &&
		    (!result || q->c.watchers.watched == NULL ||
		     q->c.watchers.watched(q->c.watchers.ctx, &job)) &&
		    (!result || carried != NULL || add_result(q, id, event) == 0))
			q->c.watchers.deliver(q->c.watchers.ctx, &job, event);
	}
	json_decref(msg);
}

static void on_reply(struct redis_queue *q, const redisReply *r)
{
	const redisReply *channel, *payload;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0)
		return;
	channel = r->element[1];
	payload = r->element[2];
	if (channel->type != REDIS_REPLY_STRING || payload->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(channel->str, RQ_EVENTS) == 0)
		on_event(q, payload->str, payload->len);
	else if (strcmp(channel->str, RQ_CANCEL) == 0)
		rq_cancel_running(q, payload->str);
}

/* Subscribe on LINK; then hand each message on until the connection fails
 * or the queue stops. */
static void listen_on(struct redis_queue *q, struct sp_redis_link *link)
{
	struct sp_error err = {0};
	redisReply *r;

	if (sp_redis_link_connect(link, &err) < 0)
		return;
	/* a node without watchers (a worker) needs the cancels only */
	if ((q->c.watchers.deliver != NULL
		 ? redisAppendCommand(link->ctx, "SUBSCRIBE %s %s", RQ_EVENTS, RQ_CANCEL)
		 : redisAppendCommand(link->ctx, "SUBSCRIBE %s", RQ_CANCEL)) != REDIS_OK)
		return;
	for (int done = 0; !done;)
		if (redisBufferWrite(link->ctx, &done) != REDIS_OK)
			return;
	atomic_store(&q->listening, true);
	/* events may have been missed while away: waiters look again; a Redis
	 * that restarted forgot what this node's clients watch */
	rq_wake(q, NULL);
	rq_watches_renew_now(q);
	while (!atomic_load(&q->stopping)) {
		int rc = next_reply(link->ctx, &r, LISTEN_POLL_MS);

		if (rc < 0)
			break;
		if (rc > 0) {
			on_reply(q, r);
			freeReplyObject(r);
		}
	}
}

static void *listen_loop(void *arg)
{
	struct redis_queue *q = arg;
	struct sp_redis_link link;
	bool said = false;

	sp_redis_link_init(&link, &q->c.url, RQ_TIMEOUT_MS);
	while (!atomic_load(&q->stopping)) {
		listen_on(q, &link);
		atomic_store(&q->listening, false);
		sp_redis_link_drop(&link);
		if (atomic_load(&q->stopping))
			break;
		if (!said)
			log_warn("queue: lost Redis at %s:%u; trying again", q->c.url.host,
				 q->c.url.port);
		said = true;
		rq_wake(q, NULL);
		usleep(RECONNECT_MS * 1000);
	}
	sp_redis_link_drop(&link);
	return NULL;
}

int rq_listener_start(struct redis_queue *q, struct sp_error *err)
{
	int rc = pthread_create(&q->listener, NULL, listen_loop, q);

	if (rc != 0)
		return sp_error_set(err, rc, "start the queue's listener");
	q->listener_started = true;
	return 0;
}

void rq_listener_stop(struct redis_queue *q)
{
	if (!q->listener_started)
		return;
	atomic_store(&q->stopping, true);
	pthread_join(q->listener, NULL);
	q->listener_started = false;
}
