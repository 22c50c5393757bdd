/* The WebSocket upgrades under way: a connection from civetweb's connect
 * handler to its close handler, found by its civetweb connection. Not in
 * civetweb's user connection data, which a connection has one of: that
 * belongs to whoever keeps the HTTP connections' books, for every
 * connection. As many entries as upgrades at once (one HTTP thread each).
 * Any thread. */
#ifndef SANDPOOL_HTTP_WS_UPGRADES_H
#define SANDPOOL_HTTP_WS_UPGRADES_H

struct sp_ws_upgrades;

/* NULL: no memory. */
struct sp_ws_upgrades *sp_ws_upgrades_new(void);
void sp_ws_upgrades_free(struct sp_ws_upgrades *ups);

/* VALUE for CONN (not there yet); -1: no memory. */
int sp_ws_upgrades_add(struct sp_ws_upgrades *ups, const void *conn, void *value);

/* CONN's value, or NULL. */
void *sp_ws_upgrades_find(struct sp_ws_upgrades *ups, const void *conn);

/* CONN's value, taken out; NULL when there is none. */
void *sp_ws_upgrades_take(struct sp_ws_upgrades *ups, const void *conn);

#endif
