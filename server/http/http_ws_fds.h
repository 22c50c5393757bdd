/* The descriptors the WebSocket side owns: one bit per descriptor number, set
 * right after the socket taken from civetweb is duplicated, cleared right
 * before it is closed, from any thread (atomic). The search for a new
 * connection's socket (http_ws_takeover.h) skips them, so that it costs the
 * process's other descriptors, not the open WebSockets. */
#ifndef SANDPOOL_HTTP_WS_FDS_H
#define SANDPOOL_HTTP_WS_FDS_H

#include <stdbool.h>

#include "sandbox/base/error.h"

struct sp_ws_fds;

/* A set for descriptor numbers below SIZE (the open files limit): one above
 * it is never marked, so never skipped. */
int sp_ws_fds_new(struct sp_ws_fds **fds, unsigned size, struct sp_error *err);
void sp_ws_fds_free(struct sp_ws_fds *fds);

/* FD (open) is the WebSocket side's from now on. */
void sp_ws_fds_own(struct sp_ws_fds *fds, int fd);

/* Forget FD, then close it. */
void sp_ws_fds_close(struct sp_ws_fds *fds, int fd);

bool sp_ws_fds_owned(const struct sp_ws_fds *fds, int fd);

/* The first number from FROM on, below END, that is not owned; END when
 * none is. Whole words of owned numbers are skipped at once. */
int sp_ws_fds_next_other(const struct sp_ws_fds *fds, int from, int end);

#endif
