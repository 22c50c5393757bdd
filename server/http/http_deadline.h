/* Request bodies that must keep coming, and answers that must keep being
 * taken: on average at least RATE bytes a second, after a grace of GRACE ms
 * (request_timeout_s) from when they began. civetweb's own timeout only
 * bounds each pause, so a client that sends (or reads) a byte every few
 * seconds would hold its thread for as long as it likes; here a watchdog
 * thread looks at the transfers every second and shuts down the socket of
 * one that is late, in the direction given: its thread's read meets end of
 * file at once (the request is answered 408), or its write fails. */
#ifndef SANDPOOL_HTTP_DEADLINE_H
#define SANDPOOL_HTTP_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

struct sp_http_deadlines;
struct sp_body_watch;

/* The watchdog, started; NULL when out of memory or threads. RATE 0: no
 * deadlines (and no thread). */
struct sp_http_deadlines *sp_http_deadlines_new(uint64_t rate, uint64_t grace_ms);

/* Stop the watchdog; no body may be watched any more. */
void sp_http_deadlines_free(struct sp_http_deadlines *d);

/* Watch a transfer of DECLARED bytes (-1: unknown) on the socket FD, from
 * now; when late, shutdown(FD, HOW). NULL when there are no deadlines (or no
 * memory): the others take NULL too. */
struct sp_body_watch *sp_http_deadline_watch(struct sp_http_deadlines *d, int fd, int64_t declared,
					     int how);

/* RECEIVED bytes of the body are in. */
void sp_http_deadline_progress(struct sp_body_watch *w, uint64_t received);

/* The body is read (or given up): watch it no more. True when the watchdog
 * cut it. */
bool sp_http_deadline_unwatch(struct sp_http_deadlines *d, struct sp_body_watch *w);

#endif
