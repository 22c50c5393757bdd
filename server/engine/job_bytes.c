#include "job_bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/base/hash.h"
#define BUCKETS 1024 /* a power of two */

/* A holder's key is its kind's letter, then its name: "uALICE", "t3",
 * "a192.0.2.1". */
#define KEY_MAX 192

struct sp_bytes_entry {
	struct sp_bytes_entry *next;
	uint64_t bytes;
	char key[];
};

/* The keys of H, each with the name of its kind; returns how many. */
static int keys_of(const struct sp_bytes_holder *h, char keys[3][KEY_MAX], const char *kinds[3])
{
	int n = 0;

	if (h == NULL)
		return 0;
	if (h->user != NULL && h->user[0] != '\0') {
		snprintf(keys[n], KEY_MAX, "u%s", h->user);
		kinds[n++] = "user";
	}
	if (h->token >= 0) {
		snprintf(keys[n], KEY_MAX, "t%d", h->token);
		kinds[n++] = "token";
	}
	if (h->address != NULL && h->address[0] != '\0') {
		snprintf(keys[n], KEY_MAX, "a%s", h->address);
		kinds[n++] = "address";
	}
	return n;
}

static size_t bucket_of(const char *key)
{
	return (size_t)sp_hash_string(key) & (BUCKETS - 1);
}

/* The entry of KEY, or NULL; *AT where it is linked (or would be). */
static struct sp_bytes_entry *find(const struct sp_job_bytes *b, const char *key,
				   struct sp_bytes_entry ***at)
{
	struct sp_bytes_entry **p = &b->buckets[bucket_of(key)];

	while (*p != NULL && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	if (at != NULL)
		*at = p;
	return *p;
}

int sp_job_bytes_init(struct sp_job_bytes *b, uint64_t limit, uint64_t share)
{
	*b = (struct sp_job_bytes){.limit = limit, .share = share};
	b->buckets = calloc(BUCKETS, sizeof(*b->buckets));
	return b->buckets ? 0 : -1;
}

void sp_job_bytes_free(struct sp_job_bytes *b)
{
	for (size_t i = 0; b->buckets != NULL && i < BUCKETS; i++) {
		while (b->buckets[i] != NULL) {
			struct sp_bytes_entry *e = b->buckets[i];

			b->buckets[i] = e->next;
			free(e);
		}
	}
	free(b->buckets);
	b->buckets = NULL;
}

uint64_t sp_job_bytes_total(const struct sp_job_bytes *b)
{
	uint64_t total = 0;

	for (int c = 0; c < SP_BYTES_CLASSES; c++)
		total += b->held[c];
	return total;
}

bool sp_job_bytes_fit(const struct sp_job_bytes *b, uint64_t n)
{
	uint64_t total = sp_job_bytes_total(b);

	return b->limit == 0 || (n <= b->limit && total <= b->limit - n);
}

const char *sp_job_bytes_over_share(const struct sp_job_bytes *b, const struct sp_bytes_holder *h,
				    uint64_t n, uint64_t *held)
{
	char keys[3][KEY_MAX];
	const char *kinds[3];
	int count = keys_of(h, keys, kinds);

	*held = 0;
	if (b->share == 0)
		return NULL;
	for (int i = 0; i < count; i++) {
		struct sp_bytes_entry *e = find(b, keys[i], NULL);
		uint64_t now = e ? e->bytes : 0;

		if (n > b->share || now > b->share - n) {
			*held = now;
			return kinds[i];
		}
	}
	return NULL;
}

static int add_to(struct sp_job_bytes *b, const char *key, uint64_t n)
{
	struct sp_bytes_entry **at, *e = find(b, key, &at);
	size_t len = strlen(key);

	if (e == NULL) {
		e = calloc(1, sizeof(*e) + len + 1);
		if (e == NULL)
			return -1;
		memcpy(e->key, key, len + 1);
		*at = e;
	}
	e->bytes += n;
	return 0;
}

static void sub_from(struct sp_job_bytes *b, const char *key, uint64_t n)
{
	struct sp_bytes_entry **at, *e = find(b, key, &at);

	if (e == NULL)
		return;
	e->bytes -= n < e->bytes ? n : e->bytes;
	if (e->bytes == 0) {
		*at = e->next;
		free(e);
	}
}

int sp_job_bytes_add(struct sp_job_bytes *b, enum sp_bytes_class c, const struct sp_bytes_holder *h,
		     uint64_t n)
{
	char keys[3][KEY_MAX];
	const char *kinds[3];
	int count = c == SP_BYTES_KEPT ? 0 : keys_of(h, keys, kinds);

	if (n == 0)
		return 0;
	for (int i = 0; i < count; i++) {
		if (add_to(b, keys[i], n) < 0) {
			while (i-- > 0)
				sub_from(b, keys[i], n);
			return -1;
		}
	}
	b->held[c] += n;
	return 0;
}

void sp_job_bytes_note_peak(struct sp_job_bytes *b)
{
	uint64_t total = sp_job_bytes_total(b);

	if (total > b->peak)
		b->peak = total;
}

void sp_job_bytes_sub(struct sp_job_bytes *b, enum sp_bytes_class c,
		      const struct sp_bytes_holder *h, uint64_t n)
{
	char keys[3][KEY_MAX];
	const char *kinds[3];
	int count = c == SP_BYTES_KEPT || n == 0 ? 0 : keys_of(h, keys, kinds);

	for (int i = 0; i < count; i++)
		sub_from(b, keys[i], n);
	b->held[c] -= n < b->held[c] ? n : b->held[c];
}
