#include "program_cache.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

#define HASH_CHUNK 65536

struct entry {
	char key[SP_PROGRAM_KEY_LEN + 1];
	struct sp_program *program; /* NULL: a free slot */
	uint64_t used;		    /* the tick of its last use */
};

struct sp_program_cache {
	pthread_mutex_t lock;
	uint64_t tick;
	uint64_t bytes, max_bytes; /* in the programs kept */
	size_t capacity;
	struct entry entries[];
};

struct sp_program_cache *sp_program_cache_new(size_t capacity, uint64_t max_bytes)
{
	struct sp_program_cache *c = calloc(1, sizeof(*c) + capacity * sizeof(c->entries[0]));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->capacity = capacity;
	c->max_bytes = max_bytes;
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

/* A file's bytes, then their count. The buffer is the caller's: this runs
 * on an HTTP thread, whose stack is small. */
static int hash_file(struct sha256_ctx *h, int fd, uint8_t *buf, size_t size)
{
	uint64_t total = 0;
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, size, off)) > 0) {
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
	cleanup_free uint8_t *buf = malloc(HASH_CHUNK);

	if (buf == NULL)
		return -1;
	sha256_init(&h);
	hash_string(&h, lang->name);
	hash_string(&h, lang->version);
	hash_argv(&h, (const char *const *)req->compile_args);
	hash_argv(&h, (const char *const *)req->run_args);
	sha256_update(&h, sizeof(req->compile_limits), (const uint8_t *)&req->compile_limits);
	for (size_t i = 0; i < req->file_count; i++) {
		uint32_t mode = (uint32_t)req->files[i].mode;

		hash_string(&h, req->files[i].name);
		sha256_update(&h, sizeof(mode), (const uint8_t *)&mode);
		if (hash_file(&h, req->files[i].fd, buf, HASH_CHUNK) < 0)
			return -1;
	}
	sha256_digest(&h, sizeof(sum), sum);
	for (size_t i = 0; i < sizeof(sum); i++)
		snprintf(key + 2 * i, 3, "%02x", sum[i]);
	return 0;
}

/* KEY's slot, or NULL. */
static struct entry *find_key(struct sp_program_cache *c, const char *key)
{
	for (size_t i = 0; i < c->capacity; i++) {
		if (c->entries[i].program != NULL && strcmp(c->entries[i].key, key) == 0)
			return &c->entries[i];
	}
	return NULL;
}

struct sp_program *sp_program_cache_find(struct sp_program_cache *c, const char *key)
{
	struct sp_program *found = NULL;
	struct entry *e;

	pthread_mutex_lock(&c->lock);
	e = find_key(c, key);
	if (e != NULL) {
		e->used = ++c->tick;
		found = sp_program_get(e->program);
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* The least recently used slot that holds a program, or NULL. */
static struct entry *oldest(struct sp_program_cache *c)
{
	struct entry *pick = NULL;

	for (size_t i = 0; i < c->capacity; i++) {
		struct entry *e = &c->entries[i];

		if (e->program != NULL && (pick == NULL || e->used < pick->used))
			pick = e;
	}
	return pick;
}

/* A free slot, else the least recently used one. */
static struct entry *free_or_oldest(struct sp_program_cache *c)
{
	for (size_t i = 0; i < c->capacity; i++) {
		if (c->entries[i].program == NULL)
			return &c->entries[i];
	}
	return oldest(c);
}

/* Empty E; its program goes in *DROPPED, to be put outside the lock. */
static void drop(struct sp_program_cache *c, struct entry *e, struct sp_program **dropped)
{
	*dropped = e->program;
	if (e->program != NULL)
		c->bytes -= e->program->bytes;
	e->program = NULL;
}

void sp_program_cache_keep(struct sp_program_cache *c, const char *key, struct sp_program *program)
{
	struct sp_program *dropped[2] = {NULL, NULL};
	struct entry *e;

	if (c->capacity == 0 || program->bytes > c->max_bytes)
		return;
	pthread_mutex_lock(&c->lock);
	e = find_key(c, key);
	if (e != NULL)
		drop(c, e, &dropped[0]);
	/* room in bytes: the least recently used go first */
	while (c->bytes + program->bytes > c->max_bytes && (e = oldest(c)) != NULL) {
		struct sp_program *gone;

		drop(c, e, &gone);
		sp_program_put(gone); /* takes no lock: fine under ours */
	}
	e = free_or_oldest(c);
	drop(c, e, &dropped[1]);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->program = sp_program_get(program);
	e->used = ++c->tick;
	c->bytes += program->bytes;
	pthread_mutex_unlock(&c->lock);
	sp_program_put(dropped[0]);
	sp_program_put(dropped[1]);
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
