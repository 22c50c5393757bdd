/* Taking an upgraded WebSocket connection away from civetweb.
 *
 * civetweb (1.15) holds a thread per WebSocket for as long as it is open and
 * offers no way to get the socket of a connection. Called in the ready
 * handler, on the connection's own thread after civetweb sent the 101, this
 * finds the connection's socket among the process's descriptors by its
 * addresses (the peer's address and port, the server's port), duplicates it
 * for the caller, and puts in its place, under civetweb's descriptor number,
 * one end of a socket pair whose other end is closed. civetweb's read loop
 * then meets end of file at once, leaves, calls the close handler, and shuts
 * down and closes the dummy, not the client's socket: the caller owns the
 * connection from then on. (civetweb v1.15: pull_inner() answers recv() == 0
 * with -2, read_websocket() leaves its loop on it, close_socket_gracefully()
 * works on conn->client.sock, whatever it now is.)
 *
 * The search skips the descriptors the WebSocket side owns already
 * (http_ws_fds.h): its cost is the process's other descriptors, a few
 * hundred, not the open WebSockets. Exactly one descriptor must match: two
 * (the same client address and port to two addresses of a server listening
 * on all of them) are refused, never guessed between. */
#ifndef SANDPOOL_HTTP_WS_TAKEOVER_H
#define SANDPOOL_HTTP_WS_TAKEOVER_H

#include "http_ws_fds.h"
#include "sandbox/base/error.h"

struct mg_connection;

/* The connection's socket, duplicated (close-on-exec) and marked in OWNED
 * (close it with sp_ws_fds_close); civetweb's descriptor is the dummy from
 * now on. -1 with ERR when it was not found or could not be replaced:
 * civetweb still has it, untouched. */
int sp_ws_take_socket(struct mg_connection *conn, struct sp_ws_fds *owned, struct sp_error *err);

#endif
