/* What a JSON value takes in memory, as jansson (2.14) and glibc's malloc
 * lay it out: for the job table's count of the results it keeps. */
#ifndef SANDPOOL_JSON_FOOTPRINT_H
#define SANDPOOL_JSON_FOOTPRINT_H

#include <jansson.h>
#include <stdint.h>

/* The bytes of VALUE and of everything in it, about: a string its length and
 * some 64 bytes, an object or array member some 80. A value held several
 * times (a result's stdout, at its top and in its "run") counts once: each
 * holder counts its share. NULL takes nothing. */
uint64_t sp_json_footprint(json_t *value);

#endif
