/* The parse of one request body, shared by the body's parser (request.c)
 * and the program's (request_program.c): where it goes, how it fails, and
 * the pieces the body's parser takes from the program's. Only those two
 * files include it. */
#ifndef SANDPOOL_REQUEST_PARSE_H
#define SANDPOOL_REQUEST_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "request_failure.h"

struct sp_config;
struct sp_language_set;
struct sp_request;

/* What malloc adds to a block. */
#define SP_REQUEST_BLOCK 16

/* One parse: where it goes, and how it fails. */
struct parse {
	const struct sp_config *config;
	struct sp_request *req;
	struct sp_request_failure *fail;
	uint64_t *total; /* bytes of files and stdin so far, in the whole body */
	uint64_t own_total;
	uint64_t ram_left; /* of SP_REQUEST_RAM_INPUTS: input bytes still kept in memfds */
};

/* Fail P with KIND and the message; -1. */
__attribute__((format(printf, 3, 4))) int sp_parse_fail(struct parse *p, enum sp_request_error kind,
							const char *fmt, ...);

/* Fail P with a 400 bad_request; -1. */
__attribute__((format(printf, 2, 3))) int sp_parse_bad_field(struct parse *p, const char *fmt, ...);

/* Fail P with a 500 for WHAT, and errno; -1. */
int sp_parse_internal(struct parse *p, const char *what);

/* A string member KEY of OBJ (FIELD names it in errors): *OUT stays NULL
 * when it is absent. Without ALLOW_NUL, a NUL byte in it is an error. */
int sp_parse_string(struct parse *p, json_t *obj, const char *key, const char *field,
		    bool allow_nul, const char **out, size_t *len);

/* "language" and "version" of DOC among LANGUAGES. */
int sp_parse_language(struct parse *p, json_t *doc, const struct sp_language_set *languages);

/* "userId" of DOC. */
int sp_parse_user(struct parse *p, json_t *doc);

/* The program's own fields of DOC: args, limits, compile_limits, code or
 * files, and the commands they make. */
int sp_parse_program(struct parse *p, json_t *doc);

/* "stdin" and "stdin_encoding" of DOC. */
int sp_parse_stdin(struct parse *p, json_t *doc);

#endif
