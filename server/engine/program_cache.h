/* Programs kept between requests (a judge's checkers and interactors), by a
 * hash of what makes them: the language, its version and commands, and each
 * file's name, mode and bytes. At most a fixed number, and bytes, are kept;
 * the least recently used goes first. Thread-safe. */
#ifndef SANDPOOL_PROGRAM_CACHE_H
#define SANDPOOL_PROGRAM_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "program.h"
#include "server/job/request.h"

#define SP_PROGRAM_KEY_LEN 64 /* hex digits of a sha256 */

struct sp_program_cache;

/* A cache of at most CAPACITY programs and MAX_BYTES in their files, or
 * NULL when out of memory. */
struct sp_program_cache *sp_program_cache_new(size_t capacity, uint64_t max_bytes);

/* The key of REQ's program, in hex. Returns 0, or -1 when a file could not
 * be read. */
int sp_program_key(const struct sp_request *req, char key[SP_PROGRAM_KEY_LEN + 1]);

/* The program kept under KEY (a new reference), or NULL. */
struct sp_program *sp_program_cache_find(struct sp_program_cache *cache, const char *key);

/* Keep PROGRAM (the cache takes a reference of its own) under KEY, the
 * least recently used going first when there is no room; a program larger
 * than the cache's bytes is not kept. */
void sp_program_cache_keep(struct sp_program_cache *cache, const char *key,
			   struct sp_program *program);

void sp_program_cache_free(struct sp_program_cache *cache);

#endif
