/* A program made ready once and run many times, on any cell of its
 * language: what its compile left in /box (or, for a language without a
 * compile step, its sources), kept as sealed memfds, and its run command.
 * A judge builds the submission, the checker and the interactor this way;
 * the checker and the interactor are kept in a cache for later requests. */
#ifndef SANDPOOL_PROGRAM_H
#define SANDPOOL_PROGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"
#include "server/job/job_run.h"
#include "server/job/request.h"

struct sp_server;

struct sp_program {
	const struct sp_language *language;
	char **argv;		 /* the run command and the request's args; owned */
	struct sp_limits limits; /* of its run steps, as the request gave them */
	struct sp_job_file *files;
	size_t file_count;
	uint64_t bytes; /* in its files, in all */
	atomic_uint refs;
};

/* Build REQ's program. A compiled language compiles on a cell of its own
 * (COMPILE gets that step: compiled true); the program is then what the
 * compile left in /box, at most judge_max_program_kb (more is the
 * compile's output_limit). Returns 0 with *PROGRAM, or with *PROGRAM NULL when
 * the compile failed (COMPILE says how); -1 with ERR when the sandbox
 * failed. CANCEL_FD as in a job spec. sp_job_result_free() COMPILE. */
int sp_program_build(struct sp_server *server, const struct sp_request *req, int cancel_fd,
		     struct sp_program **program, struct sp_job_result *compile,
		     struct sp_error *err);

/* The job spec that runs PROGRAM on a fresh cell with LIMITS, in the
 * environment SERVER gives its language; stdin none, no observer. */
void sp_program_spec(const struct sp_server *server, const struct sp_program *program,
		     const struct sp_limits *limits, struct sp_job_spec *spec);

/* PROGRAM's files as a box archive (box_archive.h) on the empty file FD,
 * for another process to read back with sp_program_from_archive(). */
int sp_program_archive(const struct sp_program *program, int fd, struct sp_error *err);

/* REQ's program from the box archive ARCHIVE_FD that another process made
 * of it (sp_program_archive): its files checked as a compile's are, its
 * command and limits REQ's. Returns 0 with *PROGRAM, or -1 with ERR. */
int sp_program_from_archive(const struct sp_request *req, int archive_fd,
			    struct sp_program **program, struct sp_error *err);

/* A program of LANGUAGE built before (a stored problem's), its files in the
 * box archive BOX_FD (read from its start), run as ARGV with LIMITS.
 * Returns 0 with *PROGRAM, or -1 with ERR. */
int sp_program_from_box(const struct sp_language *language, char *const *argv,
			const struct sp_limits *limits, int box_fd, struct sp_program **program,
			struct sp_error *err);

struct sp_program *sp_program_get(struct sp_program *program);

/* Drop a reference; the last frees the program. NULL is fine. */
void sp_program_put(struct sp_program *program);

#endif
