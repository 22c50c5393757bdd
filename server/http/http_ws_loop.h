/* The server's own WebSocket loop: one thread with an epoll set owns every
 * WebSocket connection once civetweb has answered its upgrade
 * (http_ws_takeover.h). It reads and parses the clients' frames
 * (http_ws_frame.h), answers pings and closes, hands whole messages to the
 * connection's owner, and writes the events queued for each client.
 *
 * Output: a frame is written whole, never cut by another: the loop keeps an
 * offset into the frame being written and goes on with it when the socket
 * takes more; a pong or a close goes right after that frame. An event is
 * accepted while the bytes queued for the client and not yet taken by the
 * kernel (its backlog) are under max_backlog, so a client holds at most
 * max_backlog plus one event. A client over it, or whose socket takes no
 * byte for stall_ms while frames wait, is sent a slow_reader error and a
 * close (1008) after the frames it was sent already; one that takes nothing
 * for stall_ms more is dropped. Events are shared texts (hub_text.h): a
 * queued frame holds a reference, not a copy.
 *
 * Keepalive: a client that has sent nothing (no frame of any kind) for
 * ping_interval_ms is pinged; one that answers nothing (any frame counts)
 * within ping_timeout_ms while its socket takes none of what waits for it
 * is dropped (a close 1011 is tried first). A client that sends no message
 * and watches nothing (its owner says) for idle_ms is closed with 1001.
 * Both are checked once a second, by the same walk over the connections as
 * the stalls.
 *
 * Everything but sp_ws_conn_send runs on the loop's thread, or before the
 * connection is handed over. The loop's state travels in struct sp_ws_loop,
 * so that several loops could share the clients later. */
#ifndef SANDPOOL_HTTP_WS_LOOP_H
#define SANDPOOL_HTTP_WS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_ws_fds.h"
#include "sandbox/base/error.h"
#include "server/engine/hub_text.h"

struct sp_ws_loop;
struct sp_ws_conn;

struct sp_ws_limits {
	size_t max_message;	   /* bytes of a client's message (ws_max_frame) */
	size_t max_backlog;	   /* bytes waiting for a client (ws_max_backlog) */
	unsigned stall_ms;	   /* a client's socket taking nothing (ws_stall_timeout_s) */
	unsigned ping_interval_ms; /* a client silent this long is pinged; 0: never */
	unsigned ping_timeout_ms;  /* and dropped when nothing comes back this long */
	unsigned idle_ms;	   /* no message and nothing watched: closed; 0: never */
};

/* Counted since the start, for /healthz and /metrics. */
struct sp_ws_loop_stats {
	unsigned long pings;	   /* pings sent */
	unsigned long dead;	   /* clients dropped for not answering one */
	unsigned long idle_closed; /* clients closed for idleness */
};

/* What a connection's owner hears, on the loop's thread. */
struct sp_ws_handlers {
	/* A whole text or binary message, NUL after it. */
	void (*message)(void *user, struct sp_ws_conn *conn, const char *data, size_t length);
	/* A message over max_message was read past, none of it kept. */
	void (*too_large)(void *user, struct sp_ws_conn *conn);
	/* The connection is gone: nothing more is heard; USER may go. Events
	 * sent from the start of this call on are dropped. */
	void (*closed)(void *user);
	/* Does the owner watch anything (a subscription, a job of its own)?
	 * One that does is never idle. Asked once a second. */
	bool (*watching)(void *user);
	/* Optional: the loop serves CONN from now on (before its first
	 * message). */
	void (*opened)(void *user, struct sp_ws_conn *conn);
	/* Optional: the time set by sp_ws_conn_timer has come. */
	void (*timer)(void *user, struct sp_ws_conn *conn);
};

int sp_ws_loop_start(struct sp_ws_loop **loop, const struct sp_ws_limits *limits,
		     struct sp_error *err);

/* Close every connection (1001, after what was queued for it, for up to two
 * seconds), stop the thread and free LOOP. */
void sp_ws_loop_stop(struct sp_ws_loop *loop);

void sp_ws_loop_stats(struct sp_ws_loop *loop, struct sp_ws_loop_stats *st);

/* The descriptors LOOP's connections hold: a socket is marked there before
 * it is handed over, and unmarked when the loop closes it. */
struct sp_ws_fds *sp_ws_loop_fds(struct sp_ws_loop *loop);

/* Hand the connected socket FD (taken, closed on failure) to LOOP, with
 * EARLY (LEN bytes: frames as the client sent them, read before the hand
 * over), served by H with USER. Returns -1 when the loop is stopping or out
 * of memory; H is then never called. */
int sp_ws_loop_add(struct sp_ws_loop *loop, int fd, const uint8_t *early, size_t len,
		   const struct sp_ws_handlers *h, void *user, struct sp_error *err);

/* Queue TEXT (a reference is taken) for CONN as a text frame. From any
 * thread, until CONN's closed handler starts. False when it is dropped: the
 * connection is closing, or its backlog is full (then the client is told
 * slow_reader and closed). */
bool sp_ws_conn_send(struct sp_ws_conn *conn, struct sp_hub_text *text);

/* Close CONN with CODE and REASON after what is queued for it. On the
 * loop's thread. */
void sp_ws_conn_close(struct sp_ws_conn *conn, unsigned code, const char *reason);

/* The same from any thread, until CONN's closed handler starts: events
 * sent after this call are dropped; the loop closes CONN after those sent
 * before it. REASON is cut to what a close frame holds. */
void sp_ws_conn_end(struct sp_ws_conn *conn, unsigned code, const char *reason);

/* Call CONN's timer handler MS milliseconds from now (0: never; a new time
 * replaces the one set before). On the loop's thread. For the few
 * connections that need one at a time (a time to say hello in): the loop
 * walks them on each wake. */
void sp_ws_conn_timer(struct sp_ws_conn *conn, unsigned ms);

#endif
