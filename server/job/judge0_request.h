/* A Judge0 CE submission (POST /submissions, 1.13.1) into sandpool's own
 * request, with Judge0's fields, units, defaults, bounds and field errors.
 *
 * The request made runs the submission as Judge0 runs it: its source as the
 * entry file, its additional_files unpacked beside it (its own file wins, as
 * Judge0's unzip -n lets it), compiler_options and command_line_arguments as
 * the words Judge0's bash script makes of them, its limits in sandpool's
 * units (the cpu limit plus cpu_extra_time as the point where the program is
 * killed; over the cpu limit alone is still Time Limit Exceeded, as isolate
 * says), number_of_runs as runs, redirect_stderr_to_stdout as
 * the run's stderr sent to its stdout (2>&1). Everything of the submission that its answer shows
 * later goes with the job as the request's "echo" (judge0_answer.h reads it). */
#ifndef SANDPOOL_JUDGE0_REQUEST_H
#define SANDPOOL_JUDGE0_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "language.h"

/* Judge0's bounds and defaults as this server applies them: Judge0's own,
 * each lowered to the server's max_limits where those are lower. */
struct sp_judge0_bounds {
	double cpu_time_limit, max_cpu_time_limit; /* seconds */
	double cpu_extra_time, max_cpu_extra_time;
	double wall_time_limit, max_wall_time_limit;
	long long memory_limit, max_memory_limit; /* KB */
	long long stack_limit, max_stack_limit;	  /* KB */
	long long max_processes, max_max_processes;
	long long max_file_size, max_max_file_size; /* KB */
	long long number_of_runs, max_number_of_runs;
	long long max_extract_size; /* KB of additional_files unpacked */
};

void sp_judge0_bounds_of(const struct sp_config *config, struct sp_judge0_bounds *bounds);

/* GET /config_info: Judge0's keys with this server's values. */
json_t *sp_judge0_config_info(const struct sp_config *config);

/* A submission sent as a form (application/x-www-form-urlencoded, as Rails
 * takes it too): DATA (LEN bytes) as the JSON object of its fields, each a
 * string (Rails casts them as a JSON body's); names Judge0 does not know
 * are left out, the last of a name twice is kept. NULL when a value is not
 * UTF-8 once decoded, or out of memory. */
json_t *sp_judge0_form(const char *data, size_t len);

/* The request of SUBMISSION (a JSON object; its source_code, stdin and
 * expected_output in base64 when BASE64), made at NOW_MS (ms since the
 * epoch). NULL with *ERRORS set to Judge0's field errors ({"field":
 * ["message"]}, a 422), or with *ERRORS NULL when out of memory. */
json_t *sp_judge0_request(json_t *submission, bool base64, const struct sp_language_set *languages,
			  const struct sp_config *config, uint64_t now_ms, json_t **errors);

#endif
