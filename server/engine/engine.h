/* The engine under the HTTP API: the warm pool, the queue of jobs and its
 * workers, the event hub and the program cache of a loaded server
 * (server.h), started and stopped in order. */
#ifndef SANDPOOL_ENGINE_H
#define SANDPOOL_ENGINE_H

#include "sandbox/base/error.h"

struct sp_server;
struct sp_spawner;

/* Plan each language's cells and memory_max_mb, choose where large inputs
 * go, start the warm pool (its cells made by SPAWNER) and the queue. */
int sp_engine_start(struct sp_server *server, struct sp_spawner *spawner, struct sp_error *err);

/* Take no new job, and end those queued and running (the grace period,
 * then cancelled): what waits for them is answered. */
void sp_engine_drain(struct sp_server *server);

/* Once nothing submits any more (the HTTP side stopped): stop the pool and
 * free the queue, the hub and the program cache. */
void sp_engine_stop(struct sp_server *server);

#endif
