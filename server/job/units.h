/* Parsing sizes ("256M") and durations ("2s", "500ms") from the command line. */
#ifndef SANDPOOL_UNITS_H
#define SANDPOOL_UNITS_H

#include <stdint.h>

/* A size in bytes with an optional K, M, G or T suffix (powers of 1024), as
 * KiB rounded up. Fails (-1) on junk, zero, negatives and values over MAX_KB. */
int sp_parse_size_kb(const char *text, uint64_t max_kb, uint64_t *kb);

/* A duration: a number with an optional unit ms, s, m, h (default s), as
 * milliseconds rounded up. Fails on junk, zero, negatives and over MAX_MS. */
int sp_parse_duration_ms(const char *text, uint64_t max_ms, uint64_t *ms);

/* A plain positive count up to MAX. */
int sp_parse_count(const char *text, uint64_t max, uint64_t *count);

#endif
