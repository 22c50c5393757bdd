/* An event serialized once and shared, by reference count, by every watcher
 * that sends it. Its text is a list of pieces: a string value of
 * SP_HUB_TEXT_BIG bytes or more is escaped once into a piece of its own,
 * and every place the event holds that same string (a result's "stdout" and
 * its "run"'s) points to that one piece; the rest lies in one small buffer.
 * So a result of 48 MiB of output costs 48 MiB more, not 96 plus a copy per
 * watcher. */
#ifndef SANDPOOL_HUB_TEXT_H
#define SANDPOOL_HUB_TEXT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#define SP_HUB_TEXT_BIG 4096

struct sp_hub_piece {
	const char *data;
	size_t length;
};

struct sp_hub_text {
	atomic_uint refs;
	size_t length; /* of the whole text: the pieces' sum */
	size_t count;
	struct sp_hub_piece *pieces;
	char *small;
	char **big; /* big_count escaped strings */
	size_t big_count;
};

/* EVENT (borrowed) as compact JSON, with one reference; NULL when out of
 * memory. */
struct sp_hub_text *sp_hub_text_new(const json_t *event);

struct sp_hub_text *sp_hub_text_get(struct sp_hub_text *t);
void sp_hub_text_put(struct sp_hub_text *t);

/* The text in one buffer (malloc'd, NUL after it), for tests. */
char *sp_hub_text_flatten(const struct sp_hub_text *t);

#endif
