/* The body of POST /api/v1/run (and /jobs, and a WebSocket "run") into a job,
 * with an exact error for every bad input.
 *
 * The body is a JSON object (duplicate keys refused, nesting at most
 * SP_REQUEST_MAX_DEPTH levels); unknown members are ignored, a known member
 * of the wrong type is a 400 naming it ("stdin must be a string").
 *
 *   language        required string: a name or an alias.
 *   version         optional string: the language's version must be it, or
 *                   start with it at a '.', '-' or '+' ("3" and "3.11" match
 *                   "3.11.2", "3.1" does not); "" and "*" match any.
 *   code            a string, saved under its entry's name (entry.h: the
 *                   language's source name, or for Java the name of the
 *                   source's public class);
 *   files           or a non-empty array (at most SP_REQUEST_MAX_FILES) of
 *                   {"name", "content", "encoding": "utf8"|"base64",
 *                   "executable": bool}. files[0] is the entry file, and only
 *                   it may leave out its name: it then gets its entry's name.
 *                   Names are kept as given; when no file has the entry's
 *                   name, files[0] is written twice, first under that name
 *                   (the job's first file) and then under its own name.
 *                   Exactly one of code and files.
 *   stdin           optional string, "stdin_encoding": "utf8"|"base64".
 *   interleave      optional bool: each step's answer has "output" too,
 *                   its stdout and stderr in the order they were written.
 *   args            optional array of strings appended to the run command,
 *                   as they are (no shell sees them).
 *   compile_args    optional array of strings put in the compile command
 *                   (entry.h: before the source's name), for a compiled
 *                   language only.
 *   stderr_to_stdout optional bool: the run's stderr is its stdout, as with
 *                   2>&1 (one stream, in the exact order written; "stderr"
 *                   stays empty).
 *   runs            optional 1 to SP_REQUEST_MAX_RUNS: the run step runs so
 *                   many times in the same cell, one after the other,
 *                   stopping at the first that is not ok; the answer is the
 *                   last run's, with its cpu time and memory the average of
 *                   the runs and "runs" the count that ran.
 *   echo            optional object, given back as it is as the answer's
 *                   "echo", and in the job's view until it ends (an API
 *                   over this one keeps its own fields there).
 *   userId          optional string, no control characters; "" is none.
 *   limits          optional objects over the language's limits and
 *   compile_limits  compile_limits. A value the request gives above the
 *                   server's max_limits is refused, or lowered to it with
 *                   clamp_limits; the language's own values are kept.
 *
 * A file name is a relative path of 1 to SP_REQUEST_MAX_COMPONENTS
 * components joined by '/', each one valid for sp_box_name_valid(),
 * at most SP_REQUEST_MAX_NAME bytes in all; no two files with the same name,
 * and no file where another needs a directory ("a" and "a/b").
 * Base64 is RFC 4648 with padding, strictly: no whitespace, no other
 * alphabet, no bits set after the data. File contents and stdin, decoded,
 * are at most the config's max_body bytes in all.
 *
 * Memory: the body holds at most sp_request_max_values() JSON values (each
 * costs jansson up to SP_REQUEST_VALUE_BYTES), and the parsed body is
 * dropped once parsed. Inputs go into sealed memfds while the request holds
 * less than SP_REQUEST_RAM_INPUTS bytes in them, the rest into unnamed
 * read-only files of the config's inputs_dir (when it has one): not memory. A
 * limit of output left at 0 (none) gets the server's maximum. */
#ifndef SANDPOOL_REQUEST_H
#define SANDPOOL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "json_depth.h"
#include "language.h"
#include "request_program.h"

/* Parse BODY (LENGTH bytes, no terminating NUL needed) into REQ. Returns 0,
 * or -1 with FAIL filled and REQ empty (sp_request_free() on it is safe). */
int sp_request_parse(const char *body, size_t length, const struct sp_language_set *languages,
		     const struct sp_config *config, struct sp_request *req,
		     struct sp_request_failure *fail);

/* The same where MODE is the default: SP_REQUEST_RUN lets the body's "mode"
 * ("run" or "judge") choose; SP_REQUEST_JUDGE (POST /api/v1/judge) takes
 * only "judge". A judge request has no stdin, and must have
 * "tests" (judge_request.h); its "args" go to every test's run. */
int sp_request_parse_as(const char *body, size_t length, const struct sp_language_set *languages,
			const struct sp_config *config, enum sp_request_mode mode,
			struct sp_request *req, struct sp_request_failure *fail);

/* The same from the file FD (LENGTH bytes from its start; the caller keeps
 * FD): a body too large to be held in memory while it is parsed. */
int sp_request_parse_fd(int fd, uint64_t length, const struct sp_language_set *languages,
			const struct sp_config *config, enum sp_request_mode mode,
			struct sp_request *req, struct sp_request_failure *fail);

/* The bytes REQ holds in memory: its inputs in memfds (a judge's test data
 * too), its names, commands and tests, its checker's and interactor's. */
uint64_t sp_request_memory(const struct sp_request *req);

/* What REQ may take in the server more while it runs on CELLS cells: its
 * outputs, and for a judge request its compiled programs (each at most
 * PROGRAM_BYTES) and its tests' copies and results (judge_request.h). */
uint64_t sp_request_reserve(const struct sp_request *req, unsigned cells, uint64_t program_bytes);

/* What parsing a body of LENGTH bytes and VALUES JSON values takes in
 * memory, at most: its text when IN_MEMORY (else it is read from a file),
 * jansson's copy of the longest string while it reads it, the strings kept,
 * and the values. */
uint64_t sp_request_parse_bytes(uint64_t length, uint64_t values, bool in_memory);

/* How many JSON values a body may hold under CONFIG (judge_max_tests). */
uint64_t sp_request_max_values(const struct sp_config *config);

/* Whether a text whose SCAN (json_depth.h) was taken may be parsed: -1 with
 * FAIL when it nests deeper than SP_REQUEST_MAX_DEPTH (bad_json) or holds
 * more than MAX_VALUES values (body_too_large), naming it WHAT ("body",
 * "message"); 0 when within both. */
int sp_request_shape_failed(const struct sp_json_scan *scan, uint64_t max_values, const char *what,
			    struct sp_request_failure *fail);

/* Close and free everything of REQ; safe on an empty or failed request, and
 * twice. */
void sp_request_free(struct sp_request *req);

#endif
