/* FNV-1a, 64 bits: the hash of sandpool's in-memory tables (their keys are
 * compared after it, so a collision costs time, never a wrong entry). */
#ifndef SANDPOOL_HASH_H
#define SANDPOOL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SP_HASH_START 0xcbf29ce484222325ULL /* FNV's offset basis */

/* H (SP_HASH_START for a new hash) carried over the N bytes at DATA. */
static inline uint64_t sp_hash_bytes(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* The hash of the string S. */
static inline uint64_t sp_hash_string(const char *s)
{
	uint64_t h = SP_HASH_START;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

#endif
