/* The shape of JSON text, measured before jansson parses it: how deeply it
 * nests (jansson recurses once per level, up to 2048 levels, which overflows
 * the small stack of a civetweb thread long before), and how many values it
 * can hold (each costs jansson tens to hundreds of bytes: a body of "{},"
 * repeated takes about 77 times its size once parsed). */
#ifndef SANDPOOL_JSON_DEPTH_H
#define SANDPOOL_JSON_DEPTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A scan fed in pieces: the same figures whichever way the text is cut. */
struct sp_json_scan {
	unsigned depth;	    /* arrays and objects open now */
	unsigned max_depth; /* the most open at once so far */
	/* At least the values and keys so far: every '[', '{', ',' and ':'
	 * outside strings, and one for the whole text. */
	uint64_t values;
	bool in_string, escaped;
};

/* An empty scan. */
void sp_json_scan_init(struct sp_json_scan *scan);

/* Go on over LENGTH more bytes of the text. Brackets inside strings do not
 * count; the text need not be valid JSON. */
void sp_json_scan_feed(struct sp_json_scan *scan, const char *text, size_t length);

#endif
