/* Limits from JSON ({"cpu_ms": 2000, ...}), checked field by field. */
#ifndef SANDPOOL_LIMITS_JSON_H
#define SANDPOOL_LIMITS_JSON_H

#include <jansson.h>

#include "sandbox/base/error.h"
#include "sandbox/limits.h"

/* Fill LIMITS from the members of OBJ that it has; others stay as they are.
 * A member that is not a positive integer, or above its maximum, is an
 * error naming "WHERE.member" (EINVAL). Unknown members are ignored. */
int sp_limits_from_json(json_t *obj, const char *where, struct sp_limits *limits,
			struct sp_error *err);

/* The limits as a JSON object (every member). */
json_t *sp_limits_to_json(const struct sp_limits *limits);

#endif
