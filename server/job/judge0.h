/* Judge0 CE's API (1.13.1: judge0/judge0, app/) over sandpool's, as data:
 * its languages (the language files' "judge0" ids and names), its statuses
 * and its about. The HTTP side serves them. */
#ifndef SANDPOOL_JUDGE0_H
#define SANDPOOL_JUDGE0_H

#include <jansson.h>
#include <stdbool.h>

#include "language.h"

/* The version of Judge0 CE whose API this is. */
#define SP_JUDGE0_VERSION "1.13.1"

/* [{"id", "name"}] of LANGUAGES that have a Judge0 id, by name, as GET
 * /languages lists them; with ALL (GET /languages/all), "is_archived" too. */
json_t *sp_judge0_languages(const struct sp_language_set *languages, bool all);

/* {"id", "name", "is_archived", "source_file", "compile_cmd", "run_cmd"} of
 * the language of Judge0 id ID, or NULL when none has it. */
json_t *sp_judge0_language(const struct sp_language_set *languages, long long id);

/* The language of Judge0 id ID, or NULL. */
const struct sp_language *sp_judge0_find(const struct sp_language_set *languages, long long id);

/* [{"id", "description"}]: Judge0's statuses 1 to 14. */
json_t *sp_judge0_statuses(void);

/* The description of status ID (1 to 14), or NULL. */
const char *sp_judge0_status_name(int id);

/* {"version", "homepage", "source_code", "maintainer"}. */
json_t *sp_judge0_about(void);

#endif
