/* How deeply JSON text nests, counted before jansson parses it: jansson
 * recurses once per level (up to 2048 levels), which overflows the small
 * stack of a civetweb thread long before. */
#ifndef SANDPOOL_JSON_DEPTH_H
#define SANDPOOL_JSON_DEPTH_H

#include <stdbool.h>
#include <stddef.h>

/* True when no array or object in TEXT (LENGTH bytes) is nested more than
 * MAX levels deep, the outermost being level 1. Brackets inside strings do
 * not count; the text need not be valid JSON. */
bool sp_json_nests_within(const char *text, size_t length, unsigned max);

#endif
