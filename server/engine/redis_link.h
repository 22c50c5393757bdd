/* One connection to Redis, as a thread of the queue's Redis backend holds
 * it: opened when first used and again after a failure (with the URL's user,
 * password and database), each command answered or failed within the
 * link's timeout. Not shared between threads. */
#ifndef SANDPOOL_REDIS_LINK_H
#define SANDPOOL_REDIS_LINK_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "sandbox/base/error.h"
#include "server/job/queue_url.h"

struct sp_redis_link {
	redisContext *ctx; /* NULL while not connected */
	struct sp_queue_url url;
	unsigned timeout_ms; /* connecting, and each command */
};

void sp_redis_link_init(struct sp_redis_link *link, const struct sp_queue_url *url,
			unsigned timeout_ms);

/* Connect now if not connected. Returns 0, or -1 with ERR (ENOTCONN). */
int sp_redis_link_connect(struct sp_redis_link *link, struct sp_error *err);

/* Run the command FORMAT (hiredis' format: %s a string, %b bytes and a
 * length) and return its reply (freeReplyObject() it). A command that
 * fails on a broken connection is sent again once over a new one. Returns
 * NULL with ERR: ENOTCONN when Redis cannot be reached, or cannot serve
 * for now (LOADING its data after a restart, BUSY with a script,
 * MASTERDOWN, TRYAGAIN), EPROTO when it answers with another error (ERR's
 * message is Redis'). */
redisReply *sp_redis_command(struct sp_redis_link *link, struct sp_error *err, const char *format,
			     ...);

/* As sp_redis_command, with ARGC arguments of the given lengths. */
redisReply *sp_redis_command_argv(struct sp_redis_link *link, struct sp_error *err, int argc,
				  const char **argv, const size_t *lengths);

/* Drop the connection (the next command makes a new one). */
void sp_redis_link_drop(struct sp_redis_link *link);

#endif
