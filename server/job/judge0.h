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
 * /languages lists them; with ALL (GET /languages/all), "is_archived" too,
 * and the languages that cannot run here, archived. */
json_t *sp_judge0_languages(const struct sp_language_set *languages, bool all);

/* {"id", "name", "is_archived", "source_file", "compile_cmd", "run_cmd"} of
 * the language of Judge0 id ID (archived when it cannot run here), or NULL
 * when none has it. */
json_t *sp_judge0_language(const struct sp_language_set *languages, long long id);

/* The language of Judge0 id ID, or NULL. */
const struct sp_language *sp_judge0_find(const struct sp_language_set *languages, long long id);

/* The language of Judge0 id ID that is known but cannot run here (its image
 * is not in the store): what Judge0 calls archived. NULL when none. */
const struct sp_language *sp_judge0_find_archived(const struct sp_language_set *languages,
						  long long id);

/* [{"id", "description"}]: Judge0's statuses 1 to 14. */
json_t *sp_judge0_statuses(void);

/* The description of status ID (1 to 14), or NULL. */
const char *sp_judge0_status_name(int id);

/* Judge0's comparison of a program's output A with the expected B: equal
 * once each line and then the whole are stripped of trailing whitespace
 * (and NULs) on the right. */
bool sp_judge0_same_output(const char *a, size_t a_len, const char *b, size_t b_len);

/* Judge0's status id of RUN (a run step's answer: "status", "signal",
 * "exit_code"), its output STDOUT checked against EXPECTED (NULL: none)
 * when it ran clean. Where Judge0 has no status of its own: a memory limit
 * is 12, Runtime Error (Other), as the SIGKILL a Judge0 run dies of past its
 * memory; an output limit is 8 (SIGXFSZ), as Judge0's output past its file
 * size; a blocked system call 12. */
int sp_judge0_status_of(const json_t *run, const char *stdout_text, size_t stdout_len,
			const char *expected, size_t expected_len);

/* Judge0's command_line_arguments TEXT as the words its run script's
 * shell makes of them: $ & ; < > | and ` dropped first (as Judge0 drops
 * them), then words split at blanks, 'single' and "double" quotes and
 * backslashes read as bash reads them (no glob is expanded; a quote left
 * open runs to the end). Returns a JSON array of strings, NULL when out of
 * memory. */
json_t *sp_judge0_arguments(const char *text);

/* {"version", "homepage", "source_code", "maintainer"}. */
json_t *sp_judge0_about(void);

#endif
