/* Where the queue lives when it is not in the process: a Redis URL,
 * redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (the user and the password
 * percent-encoded when they hold ':', '@' or '/'; an IPv6 host in
 * brackets). */
#ifndef SANDPOOL_QUEUE_URL_H
#define SANDPOOL_QUEUE_URL_H

#include <stdint.h>

#include "sandbox/base/error.h"

struct sp_queue_url {
	char host[256];
	uint16_t port;	    /* 6379 when the URL names none */
	char user[128];	    /* "" = the default user */
	char password[256]; /* "" = none */
	unsigned db;	    /* 0 when the URL names none */
};

/* Parse TEXT into URL. Returns 0, or -1 with ERR saying what is wrong (the
 * password is never repeated in it). */
int sp_queue_url_parse(const char *text, struct sp_queue_url *url, struct sp_error *err);

/* TEXT with its password hidden, for logs and /healthz. */
void sp_queue_url_redacted(const char *text, char *out, size_t size);

#endif
