#include "http_ws_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "http_ws_frame.h"
#include "sandbox/base/clock.h"
#include "sandbox/base/dlist.h"
#include "sandbox/base/log.h"

#define READ_BUF      65536
#define READ_BUDGET   (4 * READ_BUF) /* per client per wake: others get their turn */
#define IOV_FRAMES    32	     /* frames gathered into one writev */
#define TICK_MS	      1000
#define CLOSE_WAIT_MS 5000 /* for the peer's close, then for its end of the socket */
#define STOP_WAIT_MS  2000

static const char slow_reader[] = "{\"type\":\"error\",\"code\":\"slow_reader\",\"message\":"
				  "\"events were dropped: the client reads too slowly\"}";

/* A frame to write: its header, then a shared text or its own payload. */
struct frame {
	struct frame *next;
	struct sp_hub_text *text; /* or NULL: the payload follows */
	size_t length;		  /* header and payload */
	enum sp_ws_opcode opcode;
	uint8_t head_len;
	uint8_t head[SP_WS_HEADER_MAX];
	size_t payload_len;
	uint8_t payload[];
};

struct queue {
	struct frame *head, *tail;
};

struct sp_ws_conn {
	struct sp_dlink link; /* loop->conns (the loop's thread) */
	struct sp_dlink ready_link;
	struct sp_ws_loop *loop;
	int fd;
	const struct sp_ws_handlers *h;
	void *user;
	struct sp_ws_reader reader;
	uint8_t *early; /* bytes read before the hand over, fed first */
	size_t early_len;
	/* Under the loop's lock. */
	struct queue events; /* from any thread, oldest first */
	size_t backlog;	     /* bytes queued and not yet taken by the kernel */
	bool refusing;	     /* takes no more events */
	bool overflowed;     /* an event was refused for the backlog */
	bool ready;	     /* on loop->ready */
	bool fresh;	     /* not yet in the epoll set */
	unsigned end_code;   /* sp_ws_conn_end asked for this close, or 0 */
	char end_reason[SP_WS_CONTROL_MAX];
	/* The loop's thread only. */
	struct frame *cur; /* being written, OFF bytes of it already */
	size_t off;
	struct queue control; /* right after CUR */
	struct queue mine;    /* events taken from EVENTS, then maybe the last words */
	uint64_t progress_ms; /* the socket last took a byte, or output began */
	uint64_t heard_ms;    /* the client last sent a byte */
	uint64_t said_ms;     /* the client last sent a message */
	uint64_t active_ms;   /* its owner last watched something */
	uint64_t ping_ms;     /* our ping waiting for an answer was sent then, or 0 */
	bool idle;	      /* nothing to write */
	bool out_armed;	      /* EPOLLOUT asked for */
	bool close_queued, close_sent, peer_closed, told_slow;
	bool wait_peer;		    /* after our close, wait for theirs */
	bool draining;		    /* both closes done, our end shut: reading to the peer's end */
	bool dead;		    /* gone: freed once the loop is done with this round */
	bool given_up;		    /* no answer to a ping: gone at close_by_ms whatever */
	uint64_t close_by_ms;	    /* give up on the closing handshake then */
	struct sp_dlink timer_link; /* on loop->timed while TIMER_MS is set */
	uint64_t timer_ms;	    /* call the timer handler then, or 0 */
};

struct sp_ws_loop {
	struct sp_ws_limits limits;
	struct sp_ws_fds *fds; /* the descriptors of the connections */
	int epfd, wakefd;
	pthread_t thread;
	pthread_mutex_t lock;
	struct sp_dlist ready; /* connections with new events or new (under lock) */
	bool stopping;	       /* under lock */
	struct sp_dlist conns; /* the loop's thread only */
	struct sp_dlist dead;  /* gone, to free after this round of events */
	struct sp_dlist timed; /* with a timer set (the loop's thread) */
	uint64_t stop_by_ms;
	atomic_ulong pings, dead_peers, idle_closed; /* struct sp_ws_loop_stats */
	uint8_t buf[READ_BUF];
};

/* --- frames ----------------------------------------------------------------- */

static struct frame *frame_new(enum sp_ws_opcode opcode, const void *payload, size_t len,
			       struct sp_hub_text *text)
{
	size_t own = text ? 0 : len;
	struct frame *f = calloc(1, sizeof(*f) + own);

	if (f == NULL)
		return NULL;
	f->opcode = opcode;
	f->payload_len = text ? text->length : len;
	f->head_len = (uint8_t)sp_ws_header(f->head, opcode, f->payload_len);
	f->length = f->head_len + f->payload_len;
	f->text = text ? sp_hub_text_get(text) : NULL;
	if (own)
		memcpy(f->payload, payload, own);
	return f;
}

static void frame_free(struct frame *f)
{
	if (f != NULL)
		sp_hub_text_put(f->text);
	free(f);
}

static void push(struct queue *q, struct frame *f)
{
	f->next = NULL;
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
}

static struct frame *pop(struct queue *q)
{
	struct frame *f = q->head;

	if (f != NULL) {
		q->head = f->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return f;
}

static void append(struct queue *to, struct queue *from)
{
	if (from->head == NULL)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	from->head = from->tail = NULL;
}

/* Free Q's frames; returns their bytes. */
static size_t drop_all(struct queue *q)
{
	size_t bytes = 0;
	struct frame *f;

	while ((f = pop(q)) != NULL) {
		bytes += f->length;
		frame_free(f);
	}
	return bytes;
}

static void add_iov(struct iovec *iov, size_t *n, const void *data, size_t len, size_t *skip)
{
	if (*skip >= len) {
		*skip -= len;
		return;
	}
	iov[*n].iov_base = (char *)data + *skip;
	iov[*n].iov_len = len - *skip;
	(*n)++;
	*skip = 0;
}

/* F's bytes from SKIP on, as iovecs; returns how many were added. */
static size_t frame_iov(const struct frame *f, size_t skip, struct iovec *iov)
{
	size_t n = 0;

	add_iov(iov, &n, f->head, f->head_len, &skip);
	if (f->text == NULL) {
		add_iov(iov, &n, f->payload, f->payload_len, &skip);
		return n;
	}
	for (size_t i = 0; i < f->text->count; i++)
		add_iov(iov, &n, f->text->pieces[i].data, f->text->pieces[i].length, &skip);
	return n;
}

static size_t frame_iov_count(const struct frame *f)
{
	return 1 + (f->text ? f->text->count : 1);
}

/* --- the loop's side of a connection --------------------------------------- */

static void wake(struct sp_ws_loop *loop)
{
	uint64_t one = 1;

	if (write(loop->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("websocket loop: cannot wake it: %s", strerror(errno));
}

/* Under the lock: CONN has something for the loop. True: wake the loop. */
static bool mark_ready(struct sp_ws_conn *c)
{
	bool was_empty = c->loop->ready.count == 0;

	if (c->ready)
		return false;
	c->ready = true;
	sp_dlist_push(&c->loop->ready, &c->ready_link);
	return was_empty;
}

static void last_words(struct sp_ws_conn *c, const char *final, unsigned code, const char *reason);

/* Take the events queued from other threads, and the close asked after
 * them (sp_ws_conn_end). */
static void take_events(struct sp_ws_conn *c)
{
	char reason[SP_WS_CONTROL_MAX];
	unsigned code;

	pthread_mutex_lock(&c->loop->lock);
	append(&c->mine, &c->events);
	code = c->end_code;
	memcpy(reason, c->end_reason, sizeof(reason));
	pthread_mutex_unlock(&c->loop->lock);
	if (code != 0)
		last_words(c, NULL, code, reason);
}

static void add_backlog(struct sp_ws_conn *c, size_t bytes)
{
	pthread_mutex_lock(&c->loop->lock);
	c->backlog += bytes;
	pthread_mutex_unlock(&c->loop->lock);
}

static void sub_backlog(struct sp_ws_conn *c, size_t bytes)
{
	pthread_mutex_lock(&c->loop->lock);
	c->backlog -= bytes < c->backlog ? bytes : c->backlog;
	pthread_mutex_unlock(&c->loop->lock);
}

/* Take no more events, and those waiting. */
static void refuse(struct sp_ws_conn *c)
{
	pthread_mutex_lock(&c->loop->lock);
	c->refusing = true;
	append(&c->mine, &c->events);
	pthread_mutex_unlock(&c->loop->lock);
}

static void queue_frame(struct sp_ws_conn *c, struct queue *q, enum sp_ws_opcode opcode,
			const void *payload, size_t len)
{
	struct frame *f = frame_new(opcode, payload, len, NULL);

	if (f == NULL)
		return;
	add_backlog(c, f->length);
	push(q, f);
}

static void queue_close(struct sp_ws_conn *c, struct queue *q, unsigned code, const char *reason)
{
	uint8_t payload[SP_WS_CONTROL_MAX];
	size_t len = sp_ws_close_payload(payload, code, reason);

	c->close_queued = true;
	queue_frame(c, q, SP_WS_CLOSE, payload, len);
}

/* Close after the frames queued, with FINAL (a text frame) before. */
static void last_words(struct sp_ws_conn *c, const char *final, unsigned code, const char *reason)
{
	if (c->close_queued)
		return;
	refuse(c);
	if (final != NULL)
		queue_frame(c, &c->mine, SP_WS_TEXT, final, strlen(final));
	queue_close(c, &c->mine, code, reason);
	c->wait_peer = true;
}

/* Close right after the frame being written: nothing queued goes out. */
static void close_now(struct sp_ws_conn *c, unsigned code, const char *reason)
{
	if (c->close_queued)
		return;
	refuse(c);
	queue_close(c, &c->control, code, reason);
}

static void tell_slow(struct sp_ws_conn *c, bool drop_waiting)
{
	c->told_slow = true;
	if (drop_waiting && !c->close_queued) {
		refuse(c);
		sub_backlog(c, drop_all(&c->mine));
	}
	last_words(c, slow_reader, SP_WS_POLICY, "slow reader");
}

static void set_out(struct sp_ws_conn *c, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};

	if (c->out_armed == on)
		return;
	if (epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->out_armed = on;
}

/* The connection is over: tell the owner, close, free what it holds. The
 * rest goes after this round of events, which may still name it. */
static void gone(struct sp_ws_conn *c)
{
	struct sp_ws_loop *loop = c->loop;

	if (c->dead)
		return;
	c->dead = true;
	c->h->closed(c->user);
	sp_ws_fds_close(loop->fds, c->fd);
	pthread_mutex_lock(&loop->lock);
	c->refusing = true;
	if (c->ready)
		sp_dlist_remove(&loop->ready, &c->ready_link);
	drop_all(&c->events);
	pthread_mutex_unlock(&loop->lock);
	drop_all(&c->mine);
	drop_all(&c->control);
	frame_free(c->cur);
	c->cur = NULL;
	if (c->timer_ms != 0)
		sp_dlist_remove(&loop->timed, &c->timer_link);
	c->timer_ms = 0;
	sp_dlist_remove(&loop->conns, &c->link);
	sp_dlist_push(&loop->dead, &c->link);
	sp_ws_reader_free(&c->reader);
	free(c->early);
	c->early = NULL;
}

static void bury(struct sp_ws_loop *loop)
{
	struct sp_dlink *l;

	while ((l = sp_dlist_pop(&loop->dead)) != NULL)
		free(sp_dlist_entry(l, struct sp_ws_conn, link));
}

/* Both closes are done: shut our end, read to the peer's (so that our last
 * frames are not lost to a reset). */
static void drain(struct sp_ws_conn *c)
{
	c->draining = true;
	c->close_by_ms = sp_clock_ms() + CLOSE_WAIT_MS;
	shutdown(c->fd, SHUT_WR);
	set_out(c, false);
}

/* Our close frame is out. */
static void close_written(struct sp_ws_conn *c)
{
	c->close_sent = true;
	sub_backlog(c, drop_all(&c->mine) + drop_all(&c->control));
	if (c->peer_closed || !c->wait_peer)
		drain(c);
	else
		c->close_by_ms = sp_clock_ms() + CLOSE_WAIT_MS;
}

/* The next frame to write: control frames first. */
static struct frame *next_frame(struct sp_ws_conn *c)
{
	struct frame *f = pop(&c->control);

	return f ? f : pop(&c->mine);
}

static size_t gather_queue(const struct queue *q, struct iovec *iov, size_t n, size_t max)
{
	for (const struct frame *f = q->head; f != NULL; f = f->next) {
		if (n + frame_iov_count(f) > max)
			break;
		n += frame_iov(f, 0, iov + n);
	}
	return n;
}

/* What to write next, in order: the rest of CUR, the control frames, the
 * events. */
static size_t gather(struct sp_ws_conn *c, struct iovec *iov, size_t max)
{
	size_t n;

	if (c->cur == NULL) {
		c->cur = next_frame(c);
		c->off = 0;
	}
	if (c->cur == NULL)
		return 0;
	n = frame_iov(c->cur, c->off, iov);
	n = gather_queue(&c->control, iov, n, max);
	if (c->control.head == NULL)
		n = gather_queue(&c->mine, iov, n, max);
	return n;
}

/* The kernel took WRITTEN bytes: drop the frames that are out. */
static void advance(struct sp_ws_conn *c, size_t written)
{
	sub_backlog(c, written);
	while (written > 0 && c->cur != NULL) {
		size_t left = c->cur->length - c->off;

		if (written < left) {
			c->off += written;
			return;
		}
		written -= left;
		if (c->cur->opcode == SP_WS_CLOSE) {
			frame_free(c->cur);
			c->cur = NULL;
			close_written(c);
			return;
		}
		frame_free(c->cur);
		c->cur = next_frame(c);
		c->off = 0;
	}
}

/* Write what the socket takes. False: the connection is gone. */
static bool flush(struct sp_ws_conn *c)
{
	struct iovec iov[IOV_FRAMES * 4];

	if (c->draining)
		return true;
	if (!c->close_sent)
		take_events(c);
	for (;;) {
		size_t n = c->close_sent ? 0 : gather(c, iov, sizeof(iov) / sizeof(iov[0]));
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = n};
		ssize_t w;

		if (n == 0) {
			c->idle = true;
			set_out(c, false);
			return true;
		}
		if (c->idle) {
			c->idle = false;
			c->progress_ms = sp_clock_ms();
		}
		w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_out(c, true);
			return true;
		}
		if (w < 0)
			return false;
		c->progress_ms = sp_clock_ms();
		advance(c, (size_t)w);
		if (c->draining)
			return true;
	}
}

/* --- what the client sends -------------------------------------------------- */

static void on_close(struct sp_ws_conn *c, const struct sp_ws_in *in)
{
	c->peer_closed = true;
	if (c->close_sent) {
		drain(c);
		return;
	}
	if (!c->close_queued)
		close_now(c, in->code == SP_WS_NO_STATUS ? SP_WS_NO_STATUS : in->code, NULL);
}

static void on_item(struct sp_ws_conn *c, const struct sp_ws_in *in)
{
	bool open = !c->close_queued;

	switch (in->kind) {
	case SP_WS_IN_MESSAGE:
		c->said_ms = sp_clock_ms();
		if (open)
			c->h->message(c->user, c, in->data, in->length);
		break;
	case SP_WS_IN_TOO_LARGE:
		c->said_ms = sp_clock_ms();
		if (open)
			c->h->too_large(c->user, c);
		break;
	case SP_WS_IN_PING:
		if (open)
			queue_frame(c, &c->control, SP_WS_PONG, in->data, in->length);
		break;
	case SP_WS_IN_CLOSE:
		on_close(c, in);
		break;
	case SP_WS_IN_ERROR:
		log_debug("websocket: %s: closing with %u", in->why, in->code);
		c->peer_closed = true; /* nothing more can be read */
		close_now(c, in->code, in->why);
		break;
	case SP_WS_IN_PONG:
	case SP_WS_IN_NONE:
		break;
	}
}

static void feed(struct sp_ws_conn *c, const uint8_t *data, size_t len)
{
	struct sp_ws_in in;

	do {
		size_t used = sp_ws_read(&c->reader, data, len, &in);

		data += used;
		len -= used;
		on_item(c, &in);
	} while (len > 0 && in.kind != SP_WS_IN_ERROR && !c->peer_closed);
}

/* Read what is there. False: the connection is gone. */
static bool on_readable(struct sp_ws_conn *c)
{
	size_t total = 0;

	while (total < READ_BUDGET) {
		ssize_t n = recv(c->fd, c->loop->buf, sizeof(c->loop->buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		total += (size_t)n;
		c->heard_ms = sp_clock_ms();
		if (!c->draining && !c->peer_closed)
			feed(c, c->loop->buf, (size_t)n);
	}
	return true;
}

/* --- the loop ---------------------------------------------------------------- */

/* False: it is gone already. */
static bool start_conn(struct sp_ws_conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	sp_dlist_push(&c->loop->conns, &c->link);
	c->progress_ms = c->heard_ms = c->said_ms = c->active_ms = sp_clock_ms();
	c->idle = true;
	if (epoll_ctl(c->loop->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		log_warn("websocket loop: epoll_ctl: %s", strerror(errno));
		gone(c);
		return false;
	}
	if (c->h->opened != NULL)
		c->h->opened(c->user, c);
	if (c->early_len > 0)
		feed(c, c->early, c->early_len);
	free(c->early);
	c->early = NULL;
	return true;
}

/* The next connection of loop->ready, taken off it under the lock (another
 * thread may put it back at once: its link is the list's alone). */
static struct sp_ws_conn *take_ready(struct sp_ws_loop *loop, bool *fresh, bool *overflowed)
{
	struct sp_dlink *l;
	struct sp_ws_conn *c = NULL;

	pthread_mutex_lock(&loop->lock);
	l = sp_dlist_pop(&loop->ready);
	if (l != NULL) {
		c = sp_dlist_entry(l, struct sp_ws_conn, ready_link);
		c->ready = false;
		*fresh = c->fresh;
		*overflowed = c->overflowed;
		c->fresh = false;
	}
	pthread_mutex_unlock(&loop->lock);
	return c;
}

/* The connections that have new events, or are new: those ready now, once
 * each (one made ready again meanwhile waits for the next round). */
static void serve_ready(struct sp_ws_loop *loop)
{
	uint64_t count;
	unsigned todo;

	if (read(loop->wakefd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warn("websocket loop: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&loop->lock);
	todo = loop->ready.count;
	pthread_mutex_unlock(&loop->lock);
	for (; todo > 0; todo--) {
		bool fresh = false, overflowed = false;
		struct sp_ws_conn *c = take_ready(loop, &fresh, &overflowed);

		if (c == NULL)
			break;
		if (c->dead || (fresh && !start_conn(c)))
			continue;
		if (overflowed && !c->told_slow)
			tell_slow(c, false);
		if (!flush(c))
			gone(c);
	}
	/* Those made ready meanwhile found the list not empty and woke no one. */
	pthread_mutex_lock(&loop->lock);
	todo = loop->ready.count;
	pthread_mutex_unlock(&loop->lock);
	if (todo > 0)
		wake(loop);
}

static void on_event(struct sp_ws_conn *c, uint32_t events)
{
	if (c->dead)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !on_readable(c)) {
		gone(c);
		return;
	}
	if (!flush(c))
		gone(c);
}

/* Milliseconds from SINCE to NOW; 0 when SINCE is later (a time noted
 * while this round of events was served, after NOW was read). */
static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* Does the client show it is there: a frame since our ping, or its socket
 * taking what waits for it? */
static bool answers(const struct sp_ws_conn *c, uint64_t now)
{
	unsigned timeout = c->loop->limits.ping_timeout_ms;

	return c->heard_ms >= c->ping_ms || since(now, c->ping_ms) < timeout ||
	       (!c->idle && since(now, c->progress_ms) < timeout);
}

/* Ping a client silent for ping_interval_ms; drop one that answers none. */
static void keep_alive(struct sp_ws_conn *c, uint64_t now)
{
	struct sp_ws_loop *loop = c->loop;

	if (c->ping_ms != 0 && c->heard_ms >= c->ping_ms)
		c->ping_ms = 0; /* answered */
	if (c->ping_ms != 0 && !answers(c, now)) {
		atomic_fetch_add(&loop->dead_peers, 1);
		close_now(c, SP_WS_INTERNAL_ERROR, "no answer to a ping");
		c->given_up = true;
		c->close_by_ms = now + CLOSE_WAIT_MS;
	} else if (c->ping_ms == 0 && since(now, c->heard_ms) >= loop->limits.ping_interval_ms) {
		queue_frame(c, &c->control, SP_WS_PING, NULL, 0);
		c->ping_ms = now;
		atomic_fetch_add(&loop->pings, 1);
	} else {
		return;
	}
	if (!flush(c))
		gone(c);
}

/* Close a client that sent no message and watched nothing for idle_ms. */
static void close_idle(struct sp_ws_conn *c, uint64_t now)
{
	struct sp_ws_loop *loop = c->loop;
	uint64_t last = c->said_ms > c->active_ms ? c->said_ms : c->active_ms;
	char reason[64];

	if (c->h->watching(c->user)) {
		c->active_ms = now;
		return;
	}
	if (since(now, last) < loop->limits.idle_ms)
		return;
	atomic_fetch_add(&loop->idle_closed, 1);
	snprintf(reason, sizeof(reason), "idle for %u s: no message, nothing watched",
		 loop->limits.idle_ms / 1000);
	last_words(c, NULL, SP_WS_GOING_AWAY, reason);
	if (!flush(c))
		gone(c);
}

/* Once a second: stalled clients, closing handshakes that take too long,
 * silent clients pinged, dead ones dropped, idle ones closed. */
static void tick(struct sp_ws_loop *loop, uint64_t now)
{
	struct sp_dlink *l = loop->conns.head;

	while (l != NULL) {
		struct sp_ws_conn *c = sp_dlist_entry(l, struct sp_ws_conn, link);
		bool stalled = !c->idle && since(now, c->progress_ms) >= c->loop->limits.stall_ms;

		l = l->next;
		if ((c->close_sent || c->draining || c->given_up) && now >= c->close_by_ms) {
			gone(c);
		} else if (stalled && !c->told_slow && !c->close_queued) {
			tell_slow(c, true);
			c->progress_ms = now;
			if (!flush(c))
				gone(c);
		} else if (stalled) {
			gone(c); /* it took nothing of its last words either */
		} else if (!c->close_queued && loop->limits.ping_interval_ms > 0) {
			keep_alive(c, now);
		}
		if (!c->dead && !c->close_queued && loop->limits.idle_ms > 0)
			close_idle(c, now);
	}
}

/* The timers that have come, and how long until the next one (TICK_MS at
 * most). */
static int run_timers(struct sp_ws_loop *loop, uint64_t now)
{
	uint64_t next = now + TICK_MS;

	for (struct sp_dlink *l = loop->timed.head; l != NULL;) {
		struct sp_ws_conn *c = sp_dlist_entry(l, struct sp_ws_conn, timer_link);

		l = l->next;
		if (c->timer_ms > now) {
			next = c->timer_ms < next ? c->timer_ms : next;
			continue;
		}
		sp_dlist_remove(&loop->timed, &c->timer_link);
		c->timer_ms = 0;
		if (c->dead)
			continue;
		c->h->timer(c->user, c);
		if (!c->dead && !flush(c))
			gone(c);
	}
	bury(loop);
	return (int)(next - now);
}

static bool stop_asked(struct sp_ws_loop *loop)
{
	bool stopping;

	pthread_mutex_lock(&loop->lock);
	stopping = loop->stopping;
	pthread_mutex_unlock(&loop->lock);
	return stopping;
}

/* Stopping: every client is closed (1001) after what it has queued. */
static void say_goodbye(struct sp_ws_loop *loop)
{
	for (struct sp_dlink *l = loop->conns.head; l != NULL;) {
		struct sp_ws_conn *c = sp_dlist_entry(l, struct sp_ws_conn, link);

		l = l->next;
		last_words(c, NULL, SP_WS_GOING_AWAY, "the server is shutting down");
		if (!flush(c))
			gone(c);
	}
}

static void *loop_main(void *arg)
{
	struct sp_ws_loop *loop = arg;
	struct epoll_event events[64];
	uint64_t last_tick = sp_clock_ms();
	int wait_ms = TICK_MS;

	for (;;) {
		int n = epoll_wait(loop->epfd, events, 64, wait_ms);
		uint64_t now;

		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				serve_ready(loop);
			else
				on_event(events[i].data.ptr, events[i].events);
		}
		bury(loop);
		/* After the events: the times they noted are not later than it */
		now = sp_clock_ms();
		if (now - last_tick >= TICK_MS) {
			last_tick = now;
			tick(loop, now);
		}
		wait_ms = run_timers(loop, now);
		if (loop->stop_by_ms == 0 && stop_asked(loop)) {
			loop->stop_by_ms = now + STOP_WAIT_MS;
			serve_ready(loop);
			say_goodbye(loop);
		}
		if (loop->stop_by_ms != 0 && (loop->conns.count == 0 || now >= loop->stop_by_ms))
			break;
	}
	while (loop->conns.head != NULL)
		gone(sp_dlist_entry(loop->conns.head, struct sp_ws_conn, link));
	bury(loop);
	return NULL;
}

/* No descriptor is above it (the server raised it at its start). */
static unsigned open_files_limit(void)
{
	struct rlimit rl = {.rlim_cur = 1024};

	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 1u << 24 ? 1u << 24 : (unsigned)rl.rlim_cur;
}

int sp_ws_loop_start(struct sp_ws_loop **out, const struct sp_ws_limits *limits,
		     struct sp_error *err)
{
	struct sp_ws_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	if (loop == NULL)
		return sp_error_set(err, ENOMEM, "websocket loop");
	if (sp_ws_fds_new(&loop->fds, open_files_limit(), err) < 0) {
		free(loop);
		return -1;
	}
	loop->limits = *limits;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&loop->lock, NULL);
	if (loop->epfd < 0 || loop->wakefd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0 ||
	    (errno = pthread_create(&loop->thread, NULL, loop_main, loop)) != 0) {
		sp_error_set(err, errno, "websocket loop");
		if (loop->epfd >= 0)
			close(loop->epfd);
		if (loop->wakefd >= 0)
			close(loop->wakefd);
		pthread_mutex_destroy(&loop->lock);
		sp_ws_fds_free(loop->fds);
		free(loop);
		return -1;
	}
	*out = loop;
	return 0;
}

void sp_ws_loop_stop(struct sp_ws_loop *loop)
{
	if (loop == NULL)
		return;
	pthread_mutex_lock(&loop->lock);
	loop->stopping = true;
	pthread_mutex_unlock(&loop->lock);
	wake(loop);
	pthread_join(loop->thread, NULL);
	close(loop->epfd);
	close(loop->wakefd);
	pthread_mutex_destroy(&loop->lock);
	sp_ws_fds_free(loop->fds);
	free(loop);
}

void sp_ws_loop_stats(struct sp_ws_loop *loop, struct sp_ws_loop_stats *st)
{
	st->pings = atomic_load(&loop->pings);
	st->dead = atomic_load(&loop->dead_peers);
	st->idle_closed = atomic_load(&loop->idle_closed);
}

struct sp_ws_fds *sp_ws_loop_fds(struct sp_ws_loop *loop)
{
	return loop->fds;
}

int sp_ws_loop_add(struct sp_ws_loop *loop, int fd, const uint8_t *early, size_t len,
		   const struct sp_ws_handlers *h, void *user, struct sp_error *err)
{
	struct sp_ws_conn *c = calloc(1, sizeof(*c));
	bool wake_it;

	if (c == NULL || (len > 0 && (c->early = malloc(len)) == NULL) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		sp_error_set(err, errno, "websocket connection");
		goto fail;
	}
	if (len > 0)
		memcpy(c->early, early, len);
	c->early_len = len;
	c->loop = loop;
	c->fd = fd;
	c->h = h;
	c->user = user;
	c->fresh = true;
	sp_ws_reader_init(&c->reader, loop->limits.max_message);
	pthread_mutex_lock(&loop->lock);
	if (loop->stopping) {
		pthread_mutex_unlock(&loop->lock);
		sp_error_set(err, ECANCELED, "the server is shutting down");
		goto fail;
	}
	wake_it = mark_ready(c);
	pthread_mutex_unlock(&loop->lock);
	if (wake_it)
		wake(loop);
	return 0;
fail:
	if (c != NULL)
		free(c->early);
	free(c);
	sp_ws_fds_close(loop->fds, fd);
	return -1;
}

bool sp_ws_conn_send(struct sp_ws_conn *c, struct sp_hub_text *text)
{
	struct sp_ws_loop *loop = c->loop;
	struct frame *f = frame_new(SP_WS_TEXT, NULL, 0, text);
	bool wake_it = false, taken = false;

	if (f == NULL)
		return false;
	pthread_mutex_lock(&loop->lock);
	if (!c->refusing && c->backlog >= loop->limits.max_backlog) {
		c->refusing = true;
		c->overflowed = true;
		wake_it = mark_ready(c);
	} else if (!c->refusing) {
		push(&c->events, f);
		c->backlog += f->length;
		wake_it = mark_ready(c);
		taken = true;
	}
	pthread_mutex_unlock(&loop->lock);
	if (!taken)
		frame_free(f);
	if (wake_it)
		wake(loop);
	return taken;
}

void sp_ws_conn_close(struct sp_ws_conn *c, unsigned code, const char *reason)
{
	last_words(c, NULL, code, reason);
}

void sp_ws_conn_end(struct sp_ws_conn *c, unsigned code, const char *reason)
{
	struct sp_ws_loop *loop = c->loop;
	bool wake_it = false;

	pthread_mutex_lock(&loop->lock);
	if (!c->refusing && c->end_code == 0) {
		c->refusing = true;
		c->end_code = code;
		snprintf(c->end_reason, sizeof(c->end_reason), "%s", reason ? reason : "");
		wake_it = mark_ready(c);
	}
	pthread_mutex_unlock(&loop->lock);
	if (wake_it)
		wake(loop);
}

void sp_ws_conn_timer(struct sp_ws_conn *c, unsigned ms)
{
	struct sp_ws_loop *loop = c->loop;

	if (c->timer_ms != 0)
		sp_dlist_remove(&loop->timed, &c->timer_link);
	c->timer_ms = 0;
	if (ms == 0 || c->dead || c->h->timer == NULL)
		return;
	c->timer_ms = sp_clock_ms() + ms;
	sp_dlist_push(&loop->timed, &c->timer_link);
}
