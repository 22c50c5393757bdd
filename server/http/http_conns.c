#include "http_conns.h"

#include <civetweb.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http_deadline.h"
#include "http_linger.h"
#include "sandbox/base/hash.h"
#include "sandbox/base/log.h"
#include "server/engine/server.h"

#define BUCKETS 1024 /* a power of two */

/* The refusals counted, by their error code. */
static const char *const reasons[] = {
    "address_limit", "token_limit",    "memory_full",	  "memory_share",
    "job_too_large", "queue_full",     "user_limit",	  "rate_limited",
    "busy",	     "body_too_large", "request_timeout",
};
#define REASONS (sizeof(reasons) / sizeof(reasons[0]))

/* The connections open from one address. */
struct address {
	struct address *next;
	unsigned open;
	char name[];
};

/* The socket of a connection, by its peer's address and port ("ADDR
 * PORT"): accept(2) gave it, civetweb does not tell. */
struct peer {
	struct peer *next;
	int fd;
	char key[];
};

/* What a connection counts besides its address: the token of its request
 * in flight (-1: none). */
struct note {
	int token;
};

struct sp_http_conns {
	pthread_mutex_t lock;
	struct address *buckets[BUCKETS];
	unsigned open, addresses;
	unsigned per_address, per_token; /* caps; per_token 0: none */
	unsigned *in_flight;		 /* per token */
	struct peer *peers[BUCKETS];
	struct sp_http_deadlines *deadlines;
	struct sp_linger *linger; /* closes the connections refused at accept */
	atomic_ulong refused[REASONS];
};

static unsigned share_of(unsigned threads, unsigned percent)
{
	unsigned n = threads * percent / 100;

	return n > 0 ? n : 1;
}

struct sp_http_conns *sp_http_conns_new(const struct sp_config *config)
{
	struct sp_http_conns *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->in_flight = calloc(SP_CONFIG_MAX_TOKENS, sizeof(*c->in_flight));
	if (c->in_flight == NULL) {
		free(c);
		return NULL;
	}
	c->deadlines = sp_http_deadlines_new((uint64_t)config->body_min_rate_kb * 1024,
					     (uint64_t)config->request_timeout_s * 1000);
	c->linger = sp_linger_new();
	if (c->deadlines == NULL || c->linger == NULL) {
		sp_http_deadlines_free(c->deadlines);
		sp_linger_free(c->linger);
		free(c->in_flight);
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->per_address = share_of(config->threads, config->http_address_percent);
	if (config->token_count > 1)
		c->per_token = share_of(config->threads, config->http_token_percent);
	return c;
}

void sp_http_conns_free(struct sp_http_conns *c)
{
	if (c == NULL)
		return;
	sp_http_deadlines_free(c->deadlines);
	sp_linger_free(c->linger);
	for (size_t i = 0; i < BUCKETS; i++) {
		while (c->buckets[i] != NULL) {
			struct address *a = c->buckets[i];

			c->buckets[i] = a->next;
			free(a);
		}
		while (c->peers[i] != NULL) {
			struct peer *p = c->peers[i];

			c->peers[i] = p->next;
			free(p);
		}
	}
	pthread_mutex_destroy(&c->lock);
	free(c->in_flight);
	free(c);
}

static struct sp_http_conns *conns_of(const struct mg_connection *conn)
{
	struct sp_server *server = mg_get_user_data(mg_get_context(conn));

	return server->conns;
}

static size_t hash(const char *text)
{
	return (size_t)sp_hash_string(text) & (BUCKETS - 1);
}

static struct address **slot_of(struct sp_http_conns *c, const char *name)
{
	struct address **p = &c->buckets[hash(name)];

	while (*p != NULL && strcmp((*p)->name, name) != 0)
		p = &(*p)->next;
	return p;
}

static struct peer **peer_slot(struct sp_http_conns *c, const char *key)
{
	struct peer **p = &c->peers[hash(key)];

	while (*p != NULL && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return p;
}

/* Under the lock: the socket FD is the connection from KEY. */
static void add_peer(struct sp_http_conns *c, const char *key, int fd)
{
	struct peer **at = peer_slot(c, key), *p = *at;
	size_t len = strlen(key);

	if (p == NULL) {
		p = calloc(1, sizeof(*p) + len + 1);
		if (p == NULL)
			return;
		memcpy(p->key, key, len + 1);
		*at = p;
	}
	p->fd = fd;
}

/* Under the lock: the connection from KEY is closed. */
static void remove_peer(struct sp_http_conns *c, const char *key)
{
	struct peer **at = peer_slot(c, key), *p = *at;

	if (p != NULL) {
		*at = p->next;
		free(p);
	}
}

static void peer_key(char *key, size_t size, const char *address, unsigned port)
{
	snprintf(key, size, "%s %u", address, port);
}

/* Under the lock: one more connection from NAME, when it stays within the
 * cap. Returns its entry, or NULL (over the cap, or out of memory). */
static struct address *open_from(struct sp_http_conns *c, const char *name, bool *over)
{
	struct address **p = slot_of(c, name), *a = *p;
	size_t len = strlen(name);

	*over = a != NULL && a->open >= c->per_address;
	if (*over)
		return NULL;
	if (a == NULL) {
		a = calloc(1, sizeof(*a) + len + 1);
		if (a == NULL)
			return NULL;
		memcpy(a->name, name, len + 1);
		*p = a;
		c->addresses++;
	}
	a->open++;
	c->open++;
	return a;
}

/* Under the lock: a connection from A closed. */
static void close_from(struct sp_http_conns *c, struct address *a)
{
	c->open--;
	if (--a->open > 0)
		return;
	*slot_of(c, a->name) = a->next;
	c->addresses--;
	free(a);
}

/* Answer a connection over its address's cap, and close it. */
static void refuse_address(struct sp_linger *linger, int fd, unsigned cap)
{
	char body[256], reply[512];
	int len;

	snprintf(body, sizeof(body),
		 "{\"error\":{\"code\":\"address_limit\",\"message\":\"this address has %u "
		 "connections open, the most one address may have (http_address_percent of "
		 "threads); try again later\"}}\n",
		 cap);
	len = snprintf(reply, sizeof(reply),
		       "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
		       "Content-Length: %zu\r\nCache-Control: no-store\r\nRetry-After: 1\r\n"
		       "Connection: close\r\n\r\n%s",
		       strlen(body), body);
	if (send(fd, reply, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("answer a connection over its address's cap: %s", strerror(errno));
	shutdown(fd, SHUT_WR);
	sp_linger_close(linger, fd);
}

/* Count the connection FD just accepted from ADDR, or answer and close it
 * when its address has its cap. Returns 0, or -1 when it was refused. */
static int accepted(struct sp_http_conns *c, const struct sockaddr *addr, socklen_t len, int fd)
{
	char name[NI_MAXHOST], port[NI_MAXSERV], key[NI_MAXHOST + NI_MAXSERV + 2];
	bool over = false;

	/* the address as civetweb writes it (its remote_addr) */
	if (getnameinfo(addr, len, name, sizeof(name), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return 0;
	peer_key(key, sizeof(key), name, (unsigned)strtoul(port, NULL, 10));
	pthread_mutex_lock(&c->lock);
	open_from(c, name, &over);
	if (!over)
		add_peer(c, key, fd);
	pthread_mutex_unlock(&c->lock);
	if (!over)
		return 0;
	sp_http_conns_refused(c, "address_limit");
	refuse_address(c->linger, fd, c->per_address);
	return -1;
}

/* The caps of the connections that civetweb's master thread accepts: set in
 * that thread (civetweb's init_thread), NULL in every other. */
static __thread struct sp_http_conns *accepting;

void *sp_http_conns_thread(const struct mg_context *ctx, int thread_type)
{
	struct sp_server *server = mg_get_user_data(ctx);

	if (thread_type == 0)
		accepting = server->conns;
	return NULL;
}

/* civetweb (1.15) takes each connection with accept(2) in its master thread
 * and offers no hook before a worker thread has it: this accept() comes
 * before libc's for civetweb's calls (the executable's symbols do, for the
 * shared libraries it loads). In any other thread it is accept(2) itself. */
int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int s = (int)syscall(SYS_accept4, fd, addr, len, 0);

	if (s < 0 || accepting == NULL || addr == NULL || len == NULL ||
	    accepted(accepting, addr, *len, s) == 0)
		return s;
	errno = EAGAIN;
	return -1;
}

int sp_http_conns_opened(const struct mg_connection *conn, void **conn_data)
{
	struct note *note = malloc(sizeof(*note));

	(void)conn;
	if (note != NULL)
		note->token = -1;
	*conn_data = note;
	return 0;
}

/* Under the lock: the request in flight of NOTE has ended. */
static void request_ended(struct sp_http_conns *c, struct note *note)
{
	if (note->token >= 0)
		c->in_flight[note->token]--;
	note->token = -1;
}

void sp_http_conns_closed(const struct mg_connection *conn)
{
	struct sp_http_conns *c = conns_of(conn);
	struct note *note = mg_get_user_connection_data(conn);
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char key[NI_MAXHOST + NI_MAXSERV + 2];
	struct address *a;

	/* civetweb calls this twice for a connection a handler closed: the
	 * second time without its note */
	if (c == NULL || note == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	request_ended(c, note);
	a = ri != NULL ? *slot_of(c, ri->remote_addr) : NULL;
	if (a != NULL)
		close_from(c, a);
	if (ri != NULL) {
		peer_key(key, sizeof(key), ri->remote_addr, (unsigned)ri->remote_port);
		remove_peer(c, key);
	}
	pthread_mutex_unlock(&c->lock);
	free(note);
}

/* Watch a transfer of EXPECT bytes on CONN's socket: when late,
 * shutdown(HOW). */
static struct sp_body_watch *watch(struct mg_connection *conn, int64_t expect, int how)
{
	struct sp_http_conns *c = conns_of(conn);
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char key[NI_MAXHOST + NI_MAXSERV + 2];
	struct peer *p;
	int fd;

	if (c == NULL || ri == NULL)
		return NULL;
	peer_key(key, sizeof(key), ri->remote_addr, (unsigned)ri->remote_port);
	pthread_mutex_lock(&c->lock);
	p = *peer_slot(c, key);
	fd = p != NULL ? p->fd : -1;
	pthread_mutex_unlock(&c->lock);
	return sp_http_deadline_watch(c->deadlines, fd, expect, how);
}

struct sp_body_watch *sp_http_conns_watch_body(struct mg_connection *conn, int64_t expect)
{
	return watch(conn, expect, SHUT_RD);
}

struct sp_body_watch *sp_http_conns_watch_reply(struct mg_connection *conn, uint64_t length)
{
	return watch(conn, (int64_t)length, SHUT_RDWR);
}

bool sp_http_conns_unwatch_body(struct mg_connection *conn, struct sp_body_watch *w)
{
	struct sp_http_conns *c = conns_of(conn);

	return c != NULL && sp_http_deadline_unwatch(c->deadlines, w);
}

void sp_http_conns_ended(const struct mg_connection *conn, int status)
{
	struct sp_http_conns *c = conns_of(conn);
	struct note *note = mg_get_user_connection_data(conn);

	(void)status;
	if (c == NULL || note == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	request_ended(c, note);
	pthread_mutex_unlock(&c->lock);
}

unsigned sp_http_conns_admit(struct mg_connection *conn, int token)
{
	struct sp_server *server = mg_get_user_data(mg_get_context(conn));
	struct sp_http_conns *c = server->conns;
	struct note *note = mg_get_user_connection_data(conn);
	bool over;

	if (c == NULL || note == NULL || c->per_token == 0 || token < 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	over = c->in_flight[token] >= c->per_token;
	if (!over) {
		c->in_flight[token]++;
		note->token = token;
	}
	pthread_mutex_unlock(&c->lock);
	if (!over)
		return 0;
	sp_http_conns_refused(c, "token_limit");
	return c->per_token;
}

void sp_http_conns_refused(struct sp_http_conns *c, const char *code)
{
	for (size_t i = 0; c != NULL && i < REASONS; i++) {
		if (strcmp(reasons[i], code) == 0)
			atomic_fetch_add(&c->refused[i], 1);
	}
}

json_t *sp_http_conns_json(struct sp_http_conns *c)
{
	json_t *refused = json_object();
	unsigned open, addresses;

	for (size_t i = 0; i < REASONS; i++)
		json_object_set_new(refused, reasons[i],
				    json_integer((json_int_t)atomic_load(&c->refused[i])));
	pthread_mutex_lock(&c->lock);
	open = c->open;
	addresses = c->addresses;
	pthread_mutex_unlock(&c->lock);
	return json_pack("{s:i, s:i, s:i, s:i, s:o}", "open", open, "addresses", addresses,
			 "per_address_max", c->per_address, "per_token_max", c->per_token,
			 "refused", refused);
}

void sp_http_conns_render(FILE *f, struct sp_http_conns *c)
{
	unsigned open;

	pthread_mutex_lock(&c->lock);
	open = c->open;
	pthread_mutex_unlock(&c->lock);
	fprintf(f,
		"# HELP sandpool_http_connections HTTP connections open (each holds a thread).\n"
		"# TYPE sandpool_http_connections gauge\nsandpool_http_connections %u\n"
		"# HELP sandpool_http_refused_total Requests refused, by reason.\n"
		"# TYPE sandpool_http_refused_total counter\n",
		open);
	for (size_t i = 0; i < REASONS; i++)
		fprintf(f, "sandpool_http_refused_total{reason=\"%s\"} %lu\n", reasons[i],
			atomic_load(&c->refused[i]));
}
