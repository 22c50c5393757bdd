#include "http_ws_admit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/base/hash.h"

/* A client address holding WebSockets. */
struct address {
	struct address *next;
	uint8_t key[16];
	unsigned count;
};

struct sp_ws_admit {
	struct sp_ws_caps caps;
	pthread_mutex_t lock;
	unsigned open;
	unsigned *by_token; /* [caps.tokens] */
	struct address **buckets;
	size_t bucket_count; /* a power of two */
	unsigned addresses;
	unsigned address_peak;
	unsigned long refused[SP_WS_REFUSAL_COUNT];
};

const char *sp_ws_refusal_to_string(enum sp_ws_refusal r)
{
	static const char *const names[SP_WS_REFUSAL_COUNT] = {
	    [SP_WS_ADMITTED] = "",
	    [SP_WS_FULL] = "total",
	    [SP_WS_NO_DESCRIPTORS] = "descriptors",
	    [SP_WS_ADDRESS_FULL] = "per_address",
	    [SP_WS_TOKEN_FULL] = "per_token",
	};

	return (unsigned)r < SP_WS_REFUSAL_COUNT ? names[r] : "";
}

int sp_ws_admit_new(struct sp_ws_admit **out, const struct sp_ws_caps *caps, struct sp_error *err)
{
	struct sp_ws_admit *a = calloc(1, sizeof(*a));
	unsigned cap = caps->total < caps->descriptors ? caps->total : caps->descriptors;

	if (a == NULL)
		return sp_error_set(err, ENOMEM, "the WebSockets' caps");
	pthread_mutex_init(&a->lock, NULL);
	a->caps = *caps;
	/* About two places per bucket when full, at most 65536 buckets. */
	a->bucket_count = 64;
	while (a->bucket_count < 65536 && a->bucket_count * 2 < cap)
		a->bucket_count *= 2;
	a->buckets = calloc(a->bucket_count, sizeof(*a->buckets));
	a->by_token = calloc(caps->tokens + 1, sizeof(*a->by_token));
	if (a->buckets == NULL || a->by_token == NULL) {
		sp_ws_admit_free(a);
		return sp_error_set(err, ENOMEM, "the WebSockets' caps");
	}
	*out = a;
	return 0;
}

void sp_ws_admit_free(struct sp_ws_admit *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; a->buckets != NULL && i < a->bucket_count; i++) {
		while (a->buckets[i] != NULL) {
			struct address *next = a->buckets[i]->next;

			free(a->buckets[i]);
			a->buckets[i] = next;
		}
	}
	pthread_mutex_destroy(&a->lock);
	free(a->buckets);
	free(a->by_token);
	free(a);
}

const struct sp_ws_caps *sp_ws_admit_caps(const struct sp_ws_admit *a)
{
	return &a->caps;
}

/* TEXT as the key of its client: IPv4 mapped into IPv6, IPv6 cut to its
 * /64 (one host may use any address of its /64). Anything else: all zero. */
static void address_key(const char *text, uint8_t key[16])
{
	static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct in_addr v4;

	memset(key, 0, 16);
	if (inet_pton(AF_INET, text, &v4) == 1) {
		memcpy(key, v4_mapped, 12);
		memcpy(key + 12, &v4, 4);
	} else if (inet_pton(AF_INET6, text, key) == 1 && memcmp(key, v4_mapped, 12) != 0) {
		memset(key + 8, 0, 8);
	}
}

static struct address **bucket(struct sp_ws_admit *a, const uint8_t key[16])
{
	return &a->buckets[sp_hash_bytes(SP_HASH_START, key, 16) & (a->bucket_count - 1)];
}

/* Under the lock: KEY's entry, or NULL. */
static struct address *address_of(struct sp_ws_admit *a, const uint8_t key[16])
{
	for (struct address *e = *bucket(a, key); e != NULL; e = e->next) {
		if (memcmp(e->key, key, 16) == 0)
			return e;
	}
	return NULL;
}

/* Under the lock: KEY's entry, made when there is none; NULL: no memory. */
static struct address *address_add(struct sp_ws_admit *a, const uint8_t key[16])
{
	struct address *e = address_of(a, key);
	struct address **slot = bucket(a, key);

	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, 16);
	e->next = *slot;
	*slot = e;
	a->addresses++;
	return e;
}

static void address_drop(struct sp_ws_admit *a, struct address *gone)
{
	struct address **p = bucket(a, gone->key);

	while (*p != gone)
		p = &(*p)->next;
	*p = gone->next;
	a->addresses--;
	free(gone);
}

static unsigned *token_count(struct sp_ws_admit *a, int caller)
{
	return caller >= 0 && (unsigned)caller < a->caps.tokens ? &a->by_token[caller] : NULL;
}

/* Under the lock: may one more come from KEY with CALLER? */
static enum sp_ws_refusal check(struct sp_ws_admit *a, const uint8_t key[16], int caller)
{
	struct address *e = address_of(a, key);
	unsigned *by_token = token_count(a, caller);

	if (a->open >= a->caps.descriptors && a->caps.descriptors < a->caps.total)
		return SP_WS_NO_DESCRIPTORS;
	if (a->open >= a->caps.total)
		return SP_WS_FULL;
	if (a->caps.per_address > 0 && e != NULL && e->count >= a->caps.per_address)
		return SP_WS_ADDRESS_FULL;
	if (a->caps.per_token > 0 && by_token != NULL && *by_token >= a->caps.per_token)
		return SP_WS_TOKEN_FULL;
	return SP_WS_ADMITTED;
}

enum sp_ws_refusal sp_ws_admit_take(struct sp_ws_admit *a, const char *address, int caller,
				    struct sp_ws_place *place)
{
	enum sp_ws_refusal why;
	struct address *e = NULL;

	memset(place, 0, sizeof(*place));
	address_key(address, place->address);
	place->caller = caller;
	pthread_mutex_lock(&a->lock);
	why = check(a, place->address, caller);
	if (why == SP_WS_ADMITTED) {
		e = address_add(a, place->address);
		why = e != NULL ? SP_WS_ADMITTED : SP_WS_FULL; /* no memory */
	}
	if (why == SP_WS_ADMITTED) {
		unsigned *by_token = token_count(a, caller);

		a->open++;
		e->count++;
		if (e->count > a->address_peak)
			a->address_peak = e->count;
		if (by_token != NULL)
			(*by_token)++;
		place->held = true;
	} else {
		a->refused[why]++;
	}
	pthread_mutex_unlock(&a->lock);
	return why;
}

void sp_ws_admit_give_back(struct sp_ws_admit *a, struct sp_ws_place *place)
{
	struct address *e;
	unsigned *by_token;

	if (a == NULL || !place->held)
		return;
	pthread_mutex_lock(&a->lock);
	e = address_of(a, place->address);
	by_token = token_count(a, place->caller);
	if (e != NULL && --e->count == 0)
		address_drop(a, e);
	if (by_token != NULL && *by_token > 0)
		(*by_token)--;
	if (a->open > 0)
		a->open--;
	pthread_mutex_unlock(&a->lock);
	place->held = false;
}

void sp_ws_admit_stats(struct sp_ws_admit *a, struct sp_ws_admit_stats *st)
{
	pthread_mutex_lock(&a->lock);
	st->open = a->open;
	st->cap = a->caps.total < a->caps.descriptors ? a->caps.total : a->caps.descriptors;
	st->addresses = a->addresses;
	st->address_peak = a->address_peak;
	memcpy(st->refused, a->refused, sizeof(st->refused));
	pthread_mutex_unlock(&a->lock);
}

unsigned sp_ws_token_cap(unsigned configured, unsigned tokens, unsigned cap)
{
	if (configured > 0)
		return configured;
	return tokens >= 2 ? (cap + 1) / 2 : 0;
}

unsigned sp_ws_reserved_descriptors(unsigned threads, unsigned cells)
{
	return 512 + 4 * threads + 4 * cells;
}

unsigned sp_ws_descriptor_room(unsigned long open_files, unsigned reserved)
{
	unsigned long keep = reserved < open_files / 2 ? reserved : open_files / 2;
	unsigned long room = open_files - keep;

	return room > 1000000 ? 1000000 : (unsigned)room;
}
