#include "judge_share.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "sandbox/base/log.h"
#include "sandbox/box_archive.h"
#include "server.h"
#include "server/job/judge_request.h"

uint64_t sp_judge_claim_ms(const struct sp_server *server, const struct sp_request *req)
{
	const struct sp_judge *judge = req->judge;
	uint64_t ms = req->limits.wall_ms;

	/* the longest run of a test and its checker's or interactor's, twice
	 * over, and the queue's lease */
	for (size_t i = 0; i < judge->test_count; i++)
		if (judge->tests[i].limits.wall_ms > ms)
			ms = judge->tests[i].limits.wall_ms;
	if (judge->interactor != NULL)
		ms += judge->interactor->limits.wall_ms;
	if (judge->checker != NULL)
		ms += judge->checker->limits.wall_ms;
	return 2 * ms + (uint64_t)server->config.queue_lease_s * 1000;
}

/* PROGRAM as a box archive, in *DATA (*LEN bytes); none for a language
 * that runs its sources (a helper has those in the request). */
static int program_bytes(const struct sp_request *req, const struct sp_program *program,
			 char **data, size_t *len, struct sp_error *err)
{
	int fd;
	off_t size;

	*data = NULL;
	*len = 0;
	if (req->compile_args == NULL)
		return 0;
	if ((fd = sp_box_memfd_new("sandpool-share", err)) < 0)
		return -1;
	if (sp_program_archive(program, fd, err) < 0 || (size = lseek(fd, 0, SEEK_END)) < 0 ||
	    (*data = malloc((size_t)size + 1)) == NULL ||
	    pread(fd, *data, (size_t)size, 0) != size) {
		sp_error_set(err, err->errnum ? err->errnum : EIO, "archive the program");
		free(*data);
		*data = NULL;
		close(fd);
		return -1;
	}
	close(fd);
	*len = (size_t)size;
	return 0;
}

bool sp_judge_share_open(struct sp_server *server, const struct sp_queue_job *job,
			 const struct sp_request *req, const struct sp_program *program,
			 size_t at_once)
{
	size_t n = req->judge->test_count;
	/* enough parts for the tests left waiting, if each took AT_ONCE */
	size_t helpers = at_once > 0 ? (n - 1) / at_once : 0;
	struct sp_error err = {0};
	char *data;
	size_t len;
	bool shared = false;

	if (n <= at_once || server->config.judge_spread == 0)
		return false;
	if (helpers > server->config.judge_spread)
		helpers = server->config.judge_spread;
	if (program_bytes(req, program, &data, &len, &err) == 0 &&
	    sp_queue_share_open(server->queue, job, data, len, n, (unsigned)helpers, &err) == 0)
		shared = true;
	else if (err.errnum != ENOTSUP)
		log_warn("judge %s: its tests run on this worker only: %s", job->id, err.message);
	free(data);
	return shared;
}

void sp_judge_share_collect(struct sp_server *server, const struct sp_queue_job *job,
			    json_t **results, size_t count)
{
	json_t *stored = sp_queue_share_outcomes(server->queue, job);
	char key[24];

	for (size_t i = 0; stored != NULL && i < count; i++) {
		json_t *t;

		snprintf(key, sizeof(key), "%zu", i);
		if (results[i] == NULL && (t = json_object_get(stored, key)) != NULL)
			results[i] = json_incref(t);
	}
	json_decref(stored);
	sp_queue_share_close(server->queue, job);
}

/* The archive DATA (LEN bytes) as REQ's program. */
static int program_of(const struct sp_request *req, const char *data, size_t len,
		      struct sp_program **program, struct sp_error *err)
{
	int fd = sp_box_memfd_new("sandpool-share", err), rc = -1;

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len)
		sp_error_set(err, errno ? errno : EIO, "the shared program");
	else if (sp_box_memfd_seal(fd, err) == 0)
		rc = sp_program_from_archive(req, fd, program, err);
	close(fd);
	return rc;
}

int sp_judge_share_program(struct sp_server *server, const struct sp_queue_job *job,
			   const struct sp_request *req, struct sp_program **program)
{
	struct sp_error err = {0};
	struct sp_job_result unused;
	char *data = NULL;
	size_t len = 0;
	int rc = -1;

	*program = NULL;
	if (sp_queue_share_program(server->queue, job, &data, &len, &err) < 0) {
		if (err.errnum != ENOENT)
			log_warn("judge %s: a helper cannot read the program: %s", job->id,
				 err.message);
		return -1;
	}
	if (req->compile_args == NULL) { /* its sources */
		rc = sp_program_build(server, req, -1, program, &unused, &err);
		sp_job_result_free(&unused);
	} else {
		rc = program_of(req, data, len, program, &err);
	}
	if (rc < 0)
		log_warn("judge %s: a helper cannot read the program: %s", job->id, err.message);
	free(data);
	return rc;
}
