#include "redis_link.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static struct timeval timeval_of(unsigned ms)
{
	return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

void sp_redis_link_init(struct sp_redis_link *link, const struct sp_queue_url *url,
			unsigned timeout_ms)
{
	*link = (struct sp_redis_link){.url = *url, .timeout_ms = timeout_ms};
}

void sp_redis_link_drop(struct sp_redis_link *link)
{
	if (link->ctx != NULL)
		redisFree(link->ctx);
	link->ctx = NULL;
}

/* A command of the handshake: its reply must not be an error. */
static int handshake(struct sp_redis_link *link, struct sp_error *err, redisReply *reply,
		     const char *what)
{
	int rc = 0;

	if (reply == NULL)
		rc = sp_error_set(err, ENOTCONN, "redis %s:%u: %s", link->url.host, link->url.port,
				  link->ctx->errstr);
	else if (reply->type == REDIS_REPLY_ERROR)
		rc = sp_error_set(err, EACCES, "redis %s:%u: %s: %s", link->url.host,
				  link->url.port, what, reply->str);
	if (reply != NULL)
		freeReplyObject(reply);
	if (rc < 0)
		sp_redis_link_drop(link);
	return rc;
}

int sp_redis_link_connect(struct sp_redis_link *link, struct sp_error *err)
{
	const struct sp_queue_url *u = &link->url;
	redisReply *reply;

	if (link->ctx != NULL)
		return 0;
	link->ctx = redisConnectWithTimeout(u->host, u->port, timeval_of(link->timeout_ms));
	if (link->ctx == NULL || link->ctx->err) {
		sp_error_set(err, ENOTCONN, "redis %s:%u: %s", u->host, u->port,
			     link->ctx ? link->ctx->errstr : "out of memory");
		sp_redis_link_drop(link);
		return -1;
	}
	redisSetTimeout(link->ctx, timeval_of(link->timeout_ms));
	redisEnableKeepAlive(link->ctx);
	if (u->password[0] != '\0') {
		reply = u->user[0] ? redisCommand(link->ctx, "AUTH %s %s", u->user, u->password)
				   : redisCommand(link->ctx, "AUTH %s", u->password);
		if (handshake(link, err, reply, "AUTH") < 0)
			return -1;
	}
	if (u->db != 0) {
		reply = redisCommand(link->ctx, "SELECT %u", u->db);
		if (handshake(link, err, reply, "SELECT") < 0)
			return -1;
	}
	return 0;
}

/* An error of a Redis that cannot serve for now, as when it is down: it
 * loads its data after a restart, a script keeps it busy, its master is
 * gone, or a key moves. */
static bool not_ready(const char *error)
{
	static const char *const codes[] = {"LOADING ", "BUSY ", "MASTERDOWN ", "TRYAGAIN "};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strncmp(error, codes[i], strlen(codes[i])) == 0)
			return true;
	return false;
}

/* REPLY of a command: an error reply becomes ERR (ENOTCONN when Redis
 * cannot serve for now). */
static redisReply *checked(redisReply *reply, struct sp_error *err)
{
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		sp_error_set(err, not_ready(reply->str) ? ENOTCONN : EPROTO, "redis: %s",
			     reply->str);
		freeReplyObject(reply);
		return NULL;
	}
	return reply;
}

/* After a failed command: the connection is no use any more. */
static redisReply *broken(struct sp_redis_link *link, struct sp_error *err)
{
	sp_error_set(err, ENOTCONN, "redis %s:%u: %s", link->url.host, link->url.port,
		     link->ctx && link->ctx->errstr[0] ? link->ctx->errstr : "connection lost");
	sp_redis_link_drop(link);
	return NULL;
}

redisReply *sp_redis_command_argv(struct sp_redis_link *link, struct sp_error *err, int argc,
				  const char **argv, const size_t *lengths)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		redisReply *reply;

		if (sp_redis_link_connect(link, err) < 0)
			return NULL;
		reply = redisCommandArgv(link->ctx, argc, argv, lengths);
		if (reply != NULL)
			return checked(reply, err);
		broken(link, err);
	}
	return NULL;
}

redisReply *sp_redis_command(struct sp_redis_link *link, struct sp_error *err, const char *format,
			     ...)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		redisReply *reply;
		va_list ap;

		if (sp_redis_link_connect(link, err) < 0)
			return NULL;
		va_start(ap, format);
		reply = redisvCommand(link->ctx, format, ap);
		va_end(ap);
		if (reply != NULL)
			return checked(reply, err);
		broken(link, err);
	}
	return NULL;
}
