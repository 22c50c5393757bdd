/* Piston v2's API (engineer-man/piston, api/src/api/v2.js) over sandpool's:
 * its runtimes are sandpool's languages, its execute request becomes a run
 * request, and that run's answer becomes Piston's. Only data here: the
 * HTTP side runs the request as it runs /api/v1/run. */
#ifndef SANDPOOL_PISTON_H
#define SANDPOOL_PISTON_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "language.h"

/* The most of a Piston message (its 400's "message"). */
#define SP_PISTON_MESSAGE_MAX 512

/* [{"language", "version", "aliases", "runtime"?}] of LANGUAGES, as
 * GET /api/v2/runtimes lists them. */
json_t *sp_piston_runtimes(const struct sp_language_set *languages);

/* Piston's execute body DOC as the body of a sandpool run request (a new
 * object, with "interleave"), its language in *LANGUAGE; limits checked
 * against CONFIG's max_limits as Piston checks its configured ones. NULL
 * with MESSAGE (SP_PISTON_MESSAGE_MAX bytes): what Piston answers 400 with;
 * or NULL with MESSAGE empty when out of memory. */
json_t *sp_piston_request(json_t *doc, const struct sp_language_set *languages,
			  const struct sp_config *config, const struct sp_language **language,
			  char *message);

/* ANSWER (of a run request made by sp_piston_request) as Piston's:
 * {"language", "version", "run", "compile"?}, each stage {"stdout",
 * "stderr", "output", "code", "signal", "message", "status", "cpu_time",
 * "wall_time", "memory"}. NULL when out of memory. */
json_t *sp_piston_answer(const json_t *answer, const struct sp_language *language);

#endif
