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
 *   args            optional array of strings appended to the run command,
 *                   as they are (no shell sees them).
 *   userId          optional string, no control characters; "" is none.
 *   limits          optional objects over the language's limits and
 *   compile_limits  compile_limits. A value the request gives above the
 *                   server's max_limits is refused, or lowered to it with
 *                   clamp_limits; the language's own values are kept.
 *
 * A file name is a relative path of 1 to SP_REQUEST_MAX_COMPONENTS
 * components joined by '/', each one valid for sp_cell_file_name_valid(),
 * at most SP_REQUEST_MAX_NAME bytes in all; no two files with the same name,
 * and no file where another needs a directory ("a" and "a/b").
 * Base64 is RFC 4648 with padding, strictly: no whitespace, no other
 * alphabet, no bits set after the data. File contents and stdin, decoded,
 * are at most the config's max_body bytes in all. */
#ifndef SANDPOOL_REQUEST_H
#define SANDPOOL_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "entry.h"
#include "job.h"
#include "language.h"
#include "sandbox/limits.h"

#define SP_REQUEST_MAX_DEPTH	  64
#define SP_REQUEST_MAX_FILES	  1000
#define SP_REQUEST_MAX_NAME	  1024
#define SP_REQUEST_MAX_COMPONENTS 16
#define SP_REQUEST_MAX_ARGS	  256
#define SP_REQUEST_MAX_ARG	  4096
#define SP_REQUEST_MAX_USER_ID	  128

enum sp_request_error {
	SP_REQ_OK,
	SP_REQ_BAD_JSON,	 /* 400 "bad_json" */
	SP_REQ_BAD_FIELD,	 /* 400 "bad_request" */
	SP_REQ_UNKNOWN_LANGUAGE, /* 400 "unknown_language" */
	SP_REQ_TOO_LARGE,	 /* 413 "body_too_large" */
	SP_REQ_INTERNAL,	 /* 500 "internal_error": out of memory, memfd failed */
};

struct sp_request_failure {
	enum sp_request_error kind;
	int http_status; /* 400, 413 or 500; 0 with SP_REQ_OK */
	char code[32];
	char message[256]; /* valid UTF-8 */
};

enum sp_request_mode {
	SP_REQUEST_RUN,	  /* compile and run once */
	SP_REQUEST_JUDGE, /* compile once, run every test, check the answers */
};

struct sp_judge; /* judge_request.h */

struct sp_request {
	enum sp_request_mode mode;
	struct sp_judge *judge; /* judge mode: tests, checker, interactor */
	json_t *doc;		/* the body; version and user_id point into it */
	const struct sp_language *language;
	struct sp_job_file *files; /* the entry point first; fds are sealed memfds */
	size_t file_count;
	char **file_names;     /* owned storage for files[i].name */
	int stdin_fd;	       /* sealed memfd with the stdin bytes, or -1 */
	struct sp_entry entry; /* the entry file's name, and {main} */
	char **compile_args;   /* the language's compile command for this entry, or
				* NULL when it has none; owned, NULL-terminated */
	char **run_args;       /* the run command for this entry + "args"; the same */
	struct sp_limits limits, compile_limits;
	const char *user_id; /* or NULL */
	const char *version; /* as asked, or NULL */
};

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

/* A program inside a request (a judge's checker or interactor): OBJ has
 * language, version, code or files, args, limits and compile_limits, like a
 * request's body. WHERE ("checker") comes first in messages. *TOTAL counts
 * the bytes of files so far, against the config's max_body. */
int sp_request_parse_program(json_t *obj, const char *where,
			     const struct sp_language_set *languages,
			     const struct sp_config *config, uint64_t *total,
			     struct sp_request *req, struct sp_request_failure *fail);

/* Fill FAIL (KIND, its status and code, the message). Returns -1. */
__attribute__((format(printf, 3, 4))) int
sp_request_fail(struct sp_request_failure *fail, enum sp_request_error kind, const char *fmt, ...);

/* HOLDER's member KEY (named WHERE in messages) laid over BASE, against the
 * server's max_limits. Returns 0, or -1 with FAIL. */
int sp_request_limits(json_t *holder, const char *key, const char *where,
		      const struct sp_limits *base, const struct sp_config *config,
		      struct sp_limits *limits, struct sp_request_failure *fail);

/* The job of REQ, pointing into REQ, with ENVP as its environment: its
 * compile_args and run_args are the steps' commands. */
void sp_request_job_spec(const struct sp_request *req, char *const *envp, struct sp_job_spec *spec);

/* Close and free everything of REQ; safe on an empty or failed request, and
 * twice. */
void sp_request_free(struct sp_request *req);

#endif
