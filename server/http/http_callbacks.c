#include "http_callbacks.h"

#include <civetweb.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/base/log.h"
#include "server/engine/queue.h"
#include "server/engine/server.h"
#include "server/job/judge0_answer.h"

#define TRIES	   3
#define TIMEOUT_MS 5000
#define URL_MAX	   2048
#define STACK	   (256 * 1024)

struct sp_http_callbacks {
	pthread_mutex_t lock;
	pthread_cond_t idle;
	size_t pending, max;
	atomic_bool stopping;
};

/* Where a callback goes: http://HOST[:PORT]PATH. */
struct target {
	char host[256];
	int port;
	char path[URL_MAX];
};

struct callback {
	struct sp_http_callbacks *cbs;
	struct sp_server *server;
	char id[SP_QUEUE_ID_SIZE];
	int owner;
	struct target to;
};

static int parse_url(const char *url, struct target *t)
{
	const char *host = url + 7, *end, *path;
	size_t n;

	if (strncmp(url, "http://", 7) != 0 || strlen(url) > URL_MAX)
		return -1;
	path = host + strcspn(host, "/?#");
	if (*host == '[') {
		end = memchr(host, ']', (size_t)(path - host));
		if (end == NULL)
			return -1;
		n = (size_t)(end - host - 1);
		host++;
		end++;
	} else {
		end = memchr(host, ':', (size_t)(path - host));
		if (end == NULL)
			end = path;
		n = (size_t)(end - host);
	}
	if (n == 0 || n >= sizeof(t->host))
		return -1;
	memcpy(t->host, host, n);
	t->host[n] = '\0';
	t->port = 80;
	if (*end == ':') {
		char *stop;
		long port = strtol(end + 1, &stop, 10);

		if (stop != path || port < 1 || port > 65535)
			return -1;
		t->port = (int)port;
	} else if (end != path) {
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s%.*s", *path == '/' ? "" : "/",
		 (int)strcspn(path, "#"), path);
	for (const char *c = t->path; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return -1;
	return 0;
}

/* One PUT of BODY: 1 when it was answered (and not with a 5xx), 0 when it
 * is worth another try. */
static int put_once(const struct target *to, const char *body)
{
	char ebuf[256];
	struct mg_connection *conn = mg_connect_client(to->host, to->port, 0, ebuf, sizeof(ebuf));
	const struct mg_response_info *info;
	int done = 0;

	if (conn == NULL) {
		log_info("judge0 callback to %s:%d: %s", to->host, to->port, ebuf);
		return 0;
	}
	mg_printf(conn,
		  "PUT %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
		  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		  to->path, to->host, to->port, strlen(body));
	mg_write(conn, body, strlen(body));
	if (mg_get_response(conn, ebuf, sizeof(ebuf), TIMEOUT_MS) >= 0 &&
	    (info = mg_get_response_info(conn)) != NULL)
		done = info->status_code < 500;
	else
		log_info("judge0 callback to %s:%d: %s", to->host, to->port, ebuf);
	mg_close_connection(conn);
	return done;
}

/* The job's answer as the callback sends it. */
static char *answer_of(struct callback *cb)
{
	char token[SP_JUDGE0_TOKEN_SIZE];
	struct sp_error err = {0};
	json_t *view = sp_queue_view(cb->server->queue, cb->id, cb->owner, &err), *answer;
	bool not_utf8;
	char *text;

	if (view == NULL)
		return NULL;
	sp_judge0_token_of(cb->id, token);
	answer = sp_judge0_submission(token, view, &cb->server->languages,
				      sp_judge0_default_fields(), true, &not_utf8);
	json_decref(view);
	text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	json_decref(answer);
	return text;
}

static void *send_callback(void *arg)
{
	struct callback *cb = arg;
	struct sp_http_callbacks *cbs = cb->cbs;
	char *body;

	sp_queue_wait(cb->server->queue, cb->id);
	body = answer_of(cb);
	for (int i = 0; body != NULL && i < TRIES; i++) {
		if (put_once(&cb->to, body) || atomic_load(&cbs->stopping))
			break;
		if (i + 1 < TRIES)
			sleep(1);
	}
	free(body);
	free(cb);
	pthread_mutex_lock(&cbs->lock);
	if (--cbs->pending == 0)
		pthread_cond_broadcast(&cbs->idle);
	pthread_mutex_unlock(&cbs->lock);
	return NULL;
}

struct sp_http_callbacks *sp_http_callbacks_new(size_t max)
{
	struct sp_http_callbacks *cbs = calloc(1, sizeof(*cbs));

	if (cbs == NULL)
		return NULL;
	pthread_mutex_init(&cbs->lock, NULL);
	pthread_cond_init(&cbs->idle, NULL);
	cbs->max = max;
	return cbs;
}

/* Start CB's thread. Returns 0, or an errno. */
static int start(struct callback *cb)
{
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, STACK);
	rc = pthread_create(&thread, &attr, send_callback, cb);
	pthread_attr_destroy(&attr);
	return rc;
}

int sp_http_callback(struct sp_http_callbacks *cbs, struct sp_server *server, const char *id,
		     int owner, const char *url, struct sp_error *err)
{
	struct callback *cb = calloc(1, sizeof(*cb));
	int rc;

	if (cb == NULL)
		return sp_error_set(err, ENOMEM, "callback");
	if (parse_url(url, &cb->to) < 0) {
		free(cb);
		return sp_error_set(err, EINVAL, "callback_url is not an http:// URL");
	}
	*cb = (struct callback){.cbs = cbs, .server = server, .owner = owner, .to = cb->to};
	snprintf(cb->id, sizeof(cb->id), "%s", id);
	pthread_mutex_lock(&cbs->lock);
	if (cbs->pending >= cbs->max) {
		pthread_mutex_unlock(&cbs->lock);
		free(cb);
		return sp_error_set(err, EAGAIN, "too many callbacks pending");
	}
	cbs->pending++;
	pthread_mutex_unlock(&cbs->lock);
	if ((rc = start(cb)) != 0) {
		pthread_mutex_lock(&cbs->lock);
		cbs->pending--;
		pthread_mutex_unlock(&cbs->lock);
		free(cb);
		return sp_error_set(err, rc, "callback thread");
	}
	return 0;
}

void sp_http_callbacks_free(struct sp_http_callbacks *cbs)
{
	if (cbs == NULL)
		return;
	atomic_store(&cbs->stopping, true);
	pthread_mutex_lock(&cbs->lock);
	while (cbs->pending > 0)
		pthread_cond_wait(&cbs->idle, &cbs->lock);
	pthread_mutex_unlock(&cbs->lock);
	pthread_cond_destroy(&cbs->idle);
	pthread_mutex_destroy(&cbs->lock);
	free(cbs);
}
