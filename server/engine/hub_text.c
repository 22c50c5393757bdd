#include "hub_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FLAGS (JSON_COMPACT | JSON_ENCODE_ANY)

/* A piece while the text is built: a span of the small buffer (which may
 * still move), or one of the big strings. */
struct mark {
	size_t offset, length;
	size_t big; /* 1 + its index, or 0 for the small buffer */
};

struct big {
	const json_t *value;
	char *text;
	size_t length;
};

struct builder {
	char *small;
	size_t small_len, small_cap;
	struct mark *marks;
	size_t count, cap;
	struct big *bigs;
	size_t big_count, big_cap;
	bool failed;
};

static bool grow(void **array, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 8;
	void *grown;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	grown = realloc(*array, n * size);
	if (grown == NULL)
		return false;
	*array = grown;
	*cap = n;
	return true;
}

static bool add_mark(struct builder *b, size_t offset, size_t length, size_t big)
{
	struct mark *last = b->count ? &b->marks[b->count - 1] : NULL;

	if (big == 0 && last != NULL && last->big == 0 && last->offset + last->length == offset) {
		last->length += length;
		return true;
	}
	if (!grow((void **)&b->marks, &b->cap, b->count + 1, sizeof(*b->marks)))
		return false;
	b->marks[b->count++] = (struct mark){.offset = offset, .length = length, .big = big};
	return true;
}

/* json_dump_callback's writer into the small buffer. */
static int put_small(const char *data, size_t size, void *arg)
{
	struct builder *b = arg;
	size_t cap = b->small_cap;

	if (b->failed || !grow((void **)&b->small, &cap, b->small_len + size, 1) ||
	    !add_mark(b, b->small_len, size, 0)) {
		b->failed = true;
		return -1;
	}
	b->small_cap = cap;
	memcpy(b->small + b->small_len, data, size);
	b->small_len += size;
	return 0;
}

static void put(struct builder *b, const char *text)
{
	put_small(text, strlen(text), b);
}

static void put_key(struct builder *b, const char *key)
{
	json_t *k = json_string(key);

	if (k == NULL || json_dump_callback(k, put_small, b, FLAGS) < 0)
		b->failed = true;
	json_decref(k);
	put(b, ":");
}

/* A big string: escaped once, however many times the event holds it. */
static void put_big(struct builder *b, const json_t *value)
{
	size_t i, length;
	char *text;

	for (i = 0; i < b->big_count && b->bigs[i].value != value; i++) {
	}
	if (i == b->big_count) {
		length = json_dumpb(value, NULL, 0, FLAGS);
		text = length ? malloc(length) : NULL;
		if (text == NULL || json_dumpb(value, text, length, FLAGS) != length ||
		    !grow((void **)&b->bigs, &b->big_cap, b->big_count + 1, sizeof(*b->bigs))) {
			free(text);
			b->failed = true;
			return;
		}
		b->bigs[b->big_count++] =
		    (struct big){.value = value, .text = text, .length = length};
	}
	if (!add_mark(b, 0, b->bigs[i].length, i + 1))
		b->failed = true;
}

static void put_value(struct builder *b, const json_t *v);

static void put_object(struct builder *b, const json_t *v)
{
	const char *key;
	json_t *value;
	bool first = true;

	put(b, "{");
	json_object_foreach((json_t *)v, key, value)
	{
		if (!first)
			put(b, ",");
		first = false;
		put_key(b, key);
		put_value(b, value);
	}
	put(b, "}");
}

static void put_array(struct builder *b, const json_t *v)
{
	size_t i;
	json_t *value;

	put(b, "[");
	json_array_foreach((json_t *)v, i, value)
	{
		if (i > 0)
			put(b, ",");
		put_value(b, value);
	}
	put(b, "]");
}

static void put_value(struct builder *b, const json_t *v)
{
	if (json_is_object(v))
		put_object(b, v);
	else if (json_is_array(v))
		put_array(b, v);
	else if (json_is_string(v) && json_string_length(v) >= SP_HUB_TEXT_BIG)
		put_big(b, v);
	else if (json_dump_callback(v, put_small, b, FLAGS) < 0)
		b->failed = true;
}

static void builder_free(struct builder *b)
{
	for (size_t i = 0; i < b->big_count; i++)
		free(b->bigs[i].text);
	free(b->bigs);
	free(b->marks);
	free(b->small);
}

/* The text from a finished builder, whose buffers it takes. */
static struct sp_hub_text *text_from(struct builder *b)
{
	struct sp_hub_text *t = calloc(1, sizeof(*t));
	char **big = calloc(b->big_count + 1, sizeof(*big));
	struct sp_hub_piece *pieces = calloc(b->count + 1, sizeof(*pieces));

	if (t == NULL || big == NULL || pieces == NULL) {
		free(t);
		free(big);
		free(pieces);
		return NULL;
	}
	for (size_t i = 0; i < b->count; i++) {
		const struct mark *m = &b->marks[i];
		const char *base = m->big ? b->bigs[m->big - 1].text : b->small;

		pieces[i] = (struct sp_hub_piece){.data = base + m->offset, .length = m->length};
		t->length += m->length;
	}
	for (size_t i = 0; i < b->big_count; i++)
		big[i] = b->bigs[i].text;
	atomic_init(&t->refs, 1);
	t->count = b->count;
	t->pieces = pieces;
	t->small = b->small;
	t->big = big;
	t->big_count = b->big_count;
	free(b->bigs);
	free(b->marks);
	return t;
}

struct sp_hub_text *sp_hub_text_new(const json_t *event)
{
	struct builder b = {0};
	struct sp_hub_text *t;

	if (event == NULL)
		return NULL;
	put_value(&b, event);
	t = b.failed ? NULL : text_from(&b);
	if (t == NULL)
		builder_free(&b);
	return t;
}

struct sp_hub_text *sp_hub_text_get(struct sp_hub_text *t)
{
	atomic_fetch_add(&t->refs, 1);
	return t;
}

void sp_hub_text_put(struct sp_hub_text *t)
{
	if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	for (size_t i = 0; i < t->big_count; i++)
		free(t->big[i]);
	free(t->big);
	free(t->small);
	free(t->pieces);
	free(t);
}

char *sp_hub_text_flatten(const struct sp_hub_text *t)
{
	char *flat = malloc(t->length + 1), *p = flat;

	if (flat == NULL)
		return NULL;
	for (size_t i = 0; i < t->count; i++) {
		memcpy(p, t->pieces[i].data, t->pieces[i].length);
		p += t->pieces[i].length;
	}
	*p = '\0';
	return flat;
}
