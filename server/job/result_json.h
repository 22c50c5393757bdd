/* A step's result as the JSON of the API and of `sandpool run`. */
#ifndef SANDPOOL_RESULT_JSON_H
#define SANDPOOL_RESULT_JSON_H

#include <jansson.h>

#include "sandbox/run.h"

/* Set KEY to the bytes as a string, or base64 with KEY_encoding when they
 * are not valid UTF-8. Returns -1 when out of memory. */
int sp_json_set_output(json_t *obj, const char *key, const struct sp_output *out);

/* The result object: status, exit_code, signal, cpu_ms, wall_ms, memory_kb,
 * stdout, stderr, truncated, and error for internal errors. */
json_t *sp_result_to_json(const struct sp_step_result *res);

#endif
