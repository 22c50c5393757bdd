#include "limits_json.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/cleanup.h"

#define MIB ((uint64_t)1024)
#define GIB ((uint64_t)1024 * 1024)

/* Each limit: its JSON name, where it lives, and the most it may be. */
static const struct limit_field {
	const char *name;
	size_t offset;
	uint64_t max;
} fields[] = {
    {"cpu_ms", offsetof(struct sp_limits, cpu_ms), 3600000},
    {"wall_ms", offsetof(struct sp_limits, wall_ms), 3600000},
    {"memory_kb", offsetof(struct sp_limits, memory_kb), 64 * GIB},
    {"processes", offsetof(struct sp_limits, processes), 65536},
    {"output_kb", offsetof(struct sp_limits, output_kb), 256 * MIB},
    {"file_kb", offsetof(struct sp_limits, file_kb), 64 * GIB},
    {"open_files", offsetof(struct sp_limits, open_files), 1048576},
    {"stack_kb", offsetof(struct sp_limits, stack_kb), 1 * GIB},
    {"tmpfs_kb", offsetof(struct sp_limits, tmpfs_kb), 64 * GIB},
};

static uint64_t *field_of(struct sp_limits *limits, const struct limit_field *f)
{
	return (uint64_t *)(void *)((char *)limits + f->offset);
}

int sp_limits_from_json(json_t *obj, const char *where, struct sp_limits *limits,
			struct sp_error *err)
{
	if (!json_is_object(obj))
		return sp_error_set(err, EINVAL, "%s must be an object", where);
	for (size_t i = 0; i < SP_ARRAY_SIZE(fields); i++) {
		json_t *v = json_object_get(obj, fields[i].name);
		json_int_t n;

		if (v == NULL)
			continue;
		if (!json_is_integer(v))
			return sp_error_set(err, EINVAL, "%s.%s must be an integer", where,
					    fields[i].name);
		n = json_integer_value(v);
		if (n <= 0 || (uint64_t)n > fields[i].max)
			return sp_error_set(err, EINVAL, "%s.%s must be from 1 to %llu", where,
					    fields[i].name, (unsigned long long)fields[i].max);
		*field_of(limits, &fields[i]) = (uint64_t)n;
	}
	return 0;
}

json_t *sp_limits_to_json(const struct sp_limits *limits)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj != NULL && i < SP_ARRAY_SIZE(fields); i++) {
		struct sp_limits copy = *limits;

		json_object_set_new(obj, fields[i].name,
				    json_integer((json_int_t)*field_of(&copy, &fields[i])));
	}
	return obj;
}
