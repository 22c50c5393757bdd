#include "json_footprint.h"

#include <string.h>

/* What malloc adds to each block, and what jansson's structs take. */
#define BLOCK	   16
#define SCALAR	   (32 + BLOCK)
#define STRING	   (32 + 2 * BLOCK + 1)
#define CONTAINER  (96 + BLOCK)
#define MEMBER	   (64 + BLOCK)
#define ARRAY_SLOT 16 /* a pointer, and room for the array to grow */

static uint64_t shared(json_t *value, uint64_t bytes, int top)
{
	size_t refs = value->refcount;

	/* the value itself is counted whole, whoever else holds it */
	return top || refs <= 1 ? bytes : bytes / refs;
}

static uint64_t footprint_of(json_t *value, int top)
{
	uint64_t bytes = 0;
	const char *key;
	json_t *item;
	size_t i;

	switch (json_typeof(value)) {
	case JSON_OBJECT:
		bytes = CONTAINER + (uint64_t)json_object_size(value) * 2 * ARRAY_SLOT;
		json_object_foreach(value, key, item)
		{
			bytes += MEMBER + strlen(key) + footprint_of(item, 0);
		}
		break;
	case JSON_ARRAY:
		bytes = CONTAINER + (uint64_t)json_array_size(value) * ARRAY_SLOT;
		json_array_foreach(value, i, item) bytes += footprint_of(item, 0);
		break;
	case JSON_STRING:
		bytes = STRING + json_string_length(value);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		bytes = SCALAR;
		break;
	default: /* true, false and null are shared constants */
		return 0;
	}
	return shared(value, bytes, top);
}

uint64_t sp_json_footprint(json_t *value)
{
	return value ? footprint_of(value, 1) : 0;
}
