/* One program of a request: its language and version, code or files, args,
 * limits and compile_limits, and the commands they make (request.h has the
 * rules of each field). The body of a request is one program (with its
 * stdin, userId and mode); a judge request's checker and interactor are
 * programs too (judge_request.h). */
#ifndef SANDPOOL_REQUEST_PROGRAM_H
#define SANDPOOL_REQUEST_PROGRAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "entry.h"
#include "job_run.h"
#include "language.h"
#include "request_failure.h"
#include "sandbox/box_path.h"
#include "sandbox/limits.h"

#define SP_REQUEST_MAX_DEPTH	  64
#define SP_REQUEST_MAX_FILES	  1000
#define SP_REQUEST_MAX_NAME	  1024
#define SP_REQUEST_MAX_COMPONENTS 16
#define SP_REQUEST_MAX_ARGS	  256
#define SP_REQUEST_MAX_ARG	  4096
#define SP_REQUEST_MAX_USER_ID	  128
#define SP_REQUEST_MAX_RUNS	  20
/* Input bytes a request keeps in memfds; the rest go into files. */
#define SP_REQUEST_RAM_INPUTS (1024 * 1024)
/* JSON values in a body: so many, and so many more per judge test allowed. */
#define SP_REQUEST_BASE_VALUES	   65536
#define SP_REQUEST_VALUES_PER_TEST 64
/* What one JSON value may cost once parsed, at most: an empty object in an
 * array, measured (jansson 2.14, glibc), about 230 bytes. */
#define SP_REQUEST_VALUE_BYTES 256
/* The most an output limit may be (limits_json.c). */
#define SP_OUTPUT_KB_MAX (256 * 1024)

enum sp_request_mode {
	SP_REQUEST_RUN,	  /* compile and run once */
	SP_REQUEST_JUDGE, /* compile once, run every test, check the answers */
};

struct sp_judge; /* judge_request.h */

struct sp_request {
	enum sp_request_mode mode;
	struct sp_judge *judge; /* judge mode: tests, checker, interactor */
	json_t *doc;		/* the body while it is parsed; NULL after */
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
	char *user_id;	       /* or NULL */
	char *version;	       /* as asked, or NULL */
	bool interleave;       /* the answer has "output": stdout and stderr in turn */
	unsigned runs;	       /* the run step runs so many times (1 to SP_REQUEST_MAX_RUNS) */
	bool stderr_to_stdout; /* the run's stderr is its stdout (2>&1) */
	char *echo;	       /* "echo": its JSON text, given back in the answer; or NULL */
	uint64_t ram_bytes;    /* of its inputs in memfds */
};

/* What a step's output may take in the server, for each byte its limit
 * allows: the output read (1), its JSON string (1, or 4/3 in base64) and the
 * base64 text on its way there (4/3): 3.7, rounded up. */
#define SP_OUTPUT_FACTOR 4

/* What the output of a run under LIMITS, after a compile under COMPILE_LIMITS
 * (NULL: none), may take in the server. */
uint64_t sp_request_output_reserve(const struct sp_limits *limits,
				   const struct sp_limits *compile_limits);

/* Why NAME (LEN bytes) is not the name of a request's file (request.h: its
 * rules), as the end of a sentence ("must be a relative path", "has a . or
 * .. component"), or NULL when it is one. Names of other origins (an
 * archive's entries) are held to the same rules with it. */
const char *sp_request_name_problem(const char *name, size_t len);

/* A program inside a request (a judge's checker or interactor): OBJ has
 * language, version, code or files, args, limits and compile_limits, like a
 * request's body. WHERE ("checker") comes first in messages. *TOTAL counts
 * the bytes of files so far, against the config's max_body. */
int sp_request_parse_program(json_t *obj, const char *where,
			     const struct sp_language_set *languages,
			     const struct sp_config *config, uint64_t *total,
			     struct sp_request *req, struct sp_request_failure *fail);

/* HOLDER's member KEY (named WHERE in messages) laid over BASE, against the
 * server's max_limits. Returns 0, or -1 with FAIL. */
int sp_request_limits(json_t *holder, const char *key, const char *where,
		      const struct sp_limits *base, const struct sp_config *config,
		      struct sp_limits *limits, struct sp_request_failure *fail);

/* The job of REQ, pointing into REQ, with ENVP as its environment: its
 * compile_args and run_args are the steps' commands. */
void sp_request_job_spec(const struct sp_request *req, char *const *envp, struct sp_job_spec *spec);

/* The bytes a program holds in memory: its inputs in memfds, its names and
 * commands. */
uint64_t sp_request_program_memory(const struct sp_request *req);

/* Close and free everything of the program REQ (not a judge part); safe on
 * an empty or failed one, and twice. */
void sp_request_program_free(struct sp_request *req);

#endif
