/* Problem packages uploaded to the server: unpacked with the bounds of the
 * configuration (problem_max_mb, problem_max_files), read (problem_package.h),
 * their programs compiled once in the sandbox, on cells of their language,
 * and the whole kept in the state directory's store (problem_store.h). One
 * upload is read and compiled at a time. */
#ifndef SANDPOOL_PROBLEMS_H
#define SANDPOOL_PROBLEMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"

struct sp_server;

/* How an upload ended: STATUS 201 (stored), 200 (that package was stored
 * already) with ANSWER, or an error status with CODE and MESSAGE (400 the
 * package is not right or a program did not compile, with ANSWER holding
 * the compile's output then; 413 over a bound; 500 the server's failure). */
struct sp_upload {
	int status;
	json_t *answer; /* the problem's view (problem.h), "compile"; or NULL */
	char code[32];
	char message[SP_ERROR_MESSAGE_MAX + 64];
};

/* The bytes an upload's archive may have: the package's bound and room for
 * the archive's own headers. */
uint64_t sp_problems_max_archive(const struct sp_server *server);

/* Store the package ARCHIVE (SIZE bytes: zip, tar or tar.gz) into OUT
 * (its answer to be freed by the caller). */
void sp_problems_upload(struct sp_server *server, const void *archive, size_t size,
			struct sp_upload *out);

#endif
