#include "program_cache.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct entry {
	char key[SP_PROGRAM_KEY_LEN + 1];
	struct sp_program *program; /* NULL: a free slot */
	uint64_t used;		    /* the tick of its last use */
};

struct sp_program_cache {
	pthread_mutex_t lock;
	uint64_t tick;
	size_t capacity;
	struct entry entries[];
};

struct sp_program_cache *sp_program_cache_new(size_t capacity)
{
	struct sp_program_cache *c = calloc(1, sizeof(*c) + capacity * sizeof(c->entries[0]));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->capacity = capacity;
	return c;
}

/* A string and its NUL, so that no two sequences of strings hash alike. */
static void hash_string(struct sha256_ctx *h, const char *s)
{
	sha256_update(h, strlen(s ? s : "") + 1, (const uint8_t *)(s ? s : ""));
}

static void hash_argv(struct sha256_ctx *h, const char *const *argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		hash_string(h, argv[i]);
	sha256_update(h, 1, (const uint8_t *)"\n");
}

/* A file's bytes, prefixed by their count. */
static int hash_file(struct sha256_ctx *h, int fd)
{
	uint8_t buf[65536];
	uint64_t total = 0;
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		sha256_update(h, (size_t)n, buf);
		off += n;
		total += (uint64_t)n;
	}
	sha256_update(h, sizeof(total), (const uint8_t *)&total);
	return n < 0 ? -1 : 0;
}

int sp_program_key(const struct sp_request *req, char key[SP_PROGRAM_KEY_LEN + 1])
{
	const struct sp_language *lang = req->language;
	uint8_t sum[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;

	sha256_init(&h);
	hash_string(&h, lang->name);
	hash_string(&h, lang->version);
	hash_argv(&h, lang->compile);
	hash_argv(&h, (const char *const *)req->run_args);
	sha256_update(&h, sizeof(req->compile_limits), (const uint8_t *)&req->compile_limits);
	for (size_t i = 0; i < req->file_count; i++) {
		uint32_t mode = (uint32_t)req->files[i].mode;

		hash_string(&h, req->files[i].name);
		sha256_update(&h, sizeof(mode), (const uint8_t *)&mode);
		if (hash_file(&h, req->files[i].fd) < 0)
			return -1;
	}
	sha256_digest(&h, sizeof(sum), sum);
	for (size_t i = 0; i < sizeof(sum); i++)
		snprintf(key + 2 * i, 3, "%02x", sum[i]);
	return 0;
}

struct sp_program *sp_program_cache_find(struct sp_program_cache *c, const char *key)
{
	struct sp_program *found = NULL;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->capacity; i++) {
		struct entry *e = &c->entries[i];

		if (e->program != NULL && strcmp(e->key, key) == 0) {
			e->used = ++c->tick;
			found = sp_program_get(e->program);
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* The slot for KEY: its own, else a free one, else the least recently used. */
static struct entry *slot_for(struct sp_program_cache *c, const char *key)
{
	struct entry *pick = &c->entries[0];

	for (size_t i = 0; i < c->capacity; i++) {
		struct entry *e = &c->entries[i];

		if (e->program != NULL && strcmp(e->key, key) == 0)
			return e;
		if (pick->program != NULL && (e->program == NULL || e->used < pick->used))
			pick = e;
	}
	return pick;
}

void sp_program_cache_keep(struct sp_program_cache *c, const char *key, struct sp_program *program)
{
	struct sp_program *old;
	struct entry *e;

	if (c->capacity == 0)
		return;
	pthread_mutex_lock(&c->lock);
	e = slot_for(c, key);
	old = e->program;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->program = sp_program_get(program);
	e->used = ++c->tick;
	pthread_mutex_unlock(&c->lock);
	sp_program_put(old);
}

void sp_program_cache_free(struct sp_program_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->capacity; i++)
		sp_program_put(c->entries[i].program);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
