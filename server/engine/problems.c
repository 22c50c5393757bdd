/* Problem packages uploaded, compiled and stored: problems.h. */
#include "problems.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "problem_access.h"
#include "program.h"
#include "sandbox/base/log.h"
#include "server.h"
#include "server/job/archive_files.h"
#include "server/job/base64.h"
#include "server/job/problem_package.h"
#include "server/job/problem_store.h"
#include "server/job/request_program.h"
#include "server/job/result_json.h"
#include "server/job/utf8.h"

#define MIB (1024ull * 1024)

/* One upload while it runs. */
struct upload {
	struct sp_server *server;
	struct sp_archive_files files;
	struct sp_package package;
	struct sp_problem_draft draft;
	json_t *compile; /* {"validator": {...}, "interactor": {...}} */
	struct sp_upload *out;
};

static void fail(struct upload *u, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(struct upload *u, int status, const char *code, const char *fmt, ...)
{
	char text[sizeof(u->out->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	u->out->status = status;
	snprintf(u->out->code, sizeof(u->out->code), "%s", code);
	sp_utf8_message(u->out->message, sizeof(u->out->message), text, strlen(text));
}

/* An error of the package (EINVAL, EPERM, EBADMSG: 400; EFBIG: 413), or
 * of the server (500). */
static void failed_with(struct upload *u, const struct sp_error *err)
{
	if (err->errnum == EFBIG)
		fail(u, 413, "package_too_large", "%s", err->message);
	else if (err->errnum == EINVAL || err->errnum == EPERM || err->errnum == EBADMSG)
		fail(u, 400, "bad_package", "%s", err->message);
	else
		fail(u, 500, "internal_error", "%s: %s", err->message, strerror(err->errnum));
}

uint64_t sp_problems_max_archive(const struct sp_server *server)
{
	return server->config.problem_max_mb * MIB +
	       (uint64_t)server->config.problem_max_files * SP_ARCHIVE_ENTRY_OVERHEAD;
}

/* ---- programs ---------------------------------------------------------------- */

/* The request that compiles the package's program SOURCES in LANGUAGE: its
 * files, the entry first, as a body's "files" would give them. */
static int program_request(struct upload *u, const char *language,
			   const struct sp_package_program *sources, struct sp_request *req,
			   struct sp_request_failure *why)
{
	json_t *files = json_array(), *doc;
	uint64_t total = 0;
	int rc;

	for (size_t i = 0; files != NULL && i < sources->count; i++) {
		const struct sp_archive_file *f = sources->sources[i].file;
		char *text = sp_base64_encode(f->data, f->length);

		if (text == NULL ||
		    json_array_append_new(files, json_pack("{s:s, s:s, s:s, s:b}", "name",
							   sources->sources[i].name, "content",
							   text, "encoding", "base64", "executable",
							   f->executable)) < 0) {
			free(text);
			json_decref(files);
			return sp_request_fail(why, SP_REQ_INTERNAL, "out of memory");
		}
		free(text);
	}
	doc = json_pack("{s:s, s:o}", "language", language, "files", files);
	if (doc == NULL)
		return sp_request_fail(why, SP_REQ_INTERNAL, "out of memory");
	rc = sp_request_parse_program(doc, "program", &u->server->languages, &u->server->config,
				      &total, req, why);
	json_decref(doc);
	return rc;
}

/* ARGV (NULL-terminated) as PROGRAM's command. */
static int copy_command(struct sp_problem_program *program, char *const *argv)
{
	size_t n = 0;

	while (argv[n] != NULL)
		n++;
	program->argv = calloc(n + 1, sizeof(*program->argv));
	if (program->argv == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		program->argv[i] = strdup(argv[i]);
		if (program->argv[i] == NULL)
			return -1;
		program->argc = i + 1;
	}
	return 0;
}

/* PROGRAM (WHAT: "validator") compiled and kept in the draft's NAME.box,
 * its command recorded. Returns 0, or -1 with the upload failed. */
static int build_one(struct upload *u, const char *what, struct sp_problem_program *program,
		     const struct sp_package_program *sources)
{
	struct sp_request req = {0};
	struct sp_request_failure why = {0};
	struct sp_program *built = NULL;
	struct sp_job_result compile;
	struct sp_error err = {0};
	char name[32];
	int fd, rc = -1;

	if (program_request(u, program->language, sources, &req, &why) < 0) {
		fail(u, why.http_status, "bad_package", "the %s: %s", what, why.message);
		sp_request_program_free(&req);
		return -1;
	}
	if (sp_program_build(u->server, &req, -1, &built, &compile, &err) < 0) {
		failed_with(u, &err);
	} else {
		json_object_set_new(u->compile, what,
				    compile.compiled ? sp_result_to_json(&compile.compile)
						     : json_null());
		if (built == NULL)
			fail(u, 400, "compile_error", "the %s did not compile (%s)", what,
			     sp_status_to_string(compile.status));
		snprintf(name, sizeof(name), "%s.box", what);
		if (built != NULL && (fd = sp_problem_draft_file(&u->draft, name, &err)) >= 0) {
			rc = sp_program_archive(built, fd, &err);
			close(fd);
		}
		if (built != NULL && rc < 0)
			failed_with(u, &err);
		sp_job_result_free(&compile);
	}
	if (rc == 0 && copy_command(program, built->argv) < 0) {
		fail(u, 500, "internal_error", "out of memory");
		rc = -1;
	}
	sp_program_put(built);
	sp_request_program_free(&req);
	return rc;
}

static int build_programs(struct upload *u)
{
	struct sp_problem *p = &u->package.problem;

	if (p->validator.language != NULL &&
	    build_one(u, "validator", &p->validator, &u->package.validator) < 0)
		return -1;
	if (p->interactor.language != NULL &&
	    build_one(u, "interactor", &p->interactor, &u->package.interactor) < 0)
		return -1;
	return 0;
}

/* ---- the upload ---------------------------------------------------------------- */

static int unpack(struct upload *u, const void *archive, size_t size)
{
	const struct sp_config *c = &u->server->config;
	struct sp_archive_limits limits = {.max_files = c->problem_max_files,
					   .max_file_bytes = c->problem_max_mb * MIB,
					   .max_total_bytes = c->problem_max_mb * MIB};
	struct sp_error err = {0};

	if (sp_archive_files_read(archive, size, SP_ARCHIVE_ANY, &limits, &u->files, &err) < 0) {
		failed_with(u, &err);
		return -1;
	}
	return 0;
}

/* The stored problem ID, shown, into the answer; STATUS when it is there. */
static bool answer_stored(struct upload *u, const char *id, int status)
{
	struct sp_problem stored;
	struct sp_error err = {0};

	if (sp_problem_find(u->server, id, &stored, &err) < 0)
		return false;
	u->out->status = status;
	u->out->answer = sp_problem_view(&stored);
	sp_problem_free(&stored);
	if (u->out->answer != NULL && u->compile != NULL)
		json_object_set(u->out->answer, "compile", u->compile);
	return u->out->answer != NULL;
}

static void store(struct upload *u)
{
	struct sp_error err = {0};
	int data_fd, rc;

	if (sp_problem_draft_begin(&u->server->problems, &u->draft, &err) < 0 ||
	    (data_fd = sp_problem_draft_file(&u->draft, "data", &err)) < 0) {
		failed_with(u, &err);
		return;
	}
	rc = sp_package_read(&u->files, &u->server->languages, u->server->config.judge_max_tests,
			     data_fd, &u->package, &err);
	close(data_fd);
	if (rc < 0) {
		failed_with(u, &err);
		return;
	}
	if (build_programs(u) < 0)
		return;
	rc = sp_problem_draft_commit(&u->server->problems, &u->draft, &u->package.problem, &err);
	if (rc < 0) {
		failed_with(u, &err);
		return;
	}
	if (sp_problem_publish(u->server, u->package.problem.id, &err) < 0) {
		/* not on every node: not stored at all */
		struct sp_error ignored = {0};

		if (rc == 0)
			sp_problem_store_remove(&u->server->problems, u->package.problem.id,
						&ignored);
		fail(u, 503, "queue_unavailable",
		     "the problem could not be shared with the "
		     "queue's other nodes: %s",
		     err.message);
		return;
	}
	if (!answer_stored(u, u->package.problem.id, rc == 0 ? 201 : 200))
		fail(u, 500, "internal_error", "the problem was stored but cannot be read back");
	if (rc == 0)
		log_info("problem %s stored: %zu tests, %llu bytes of data", u->package.problem.id,
			 u->package.problem.test_count,
			 (unsigned long long)u->package.problem.data_bytes);
}

void sp_problems_upload(struct sp_server *server, const void *archive, size_t size,
			struct sp_upload *out)
{
	struct upload u = {.server = server, .out = out, .draft = {.dirfd = -1}};
	char id[SP_PROBLEM_ID_SIZE];

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&server->upload_lock);
	u.compile = json_object();
	if (u.compile == NULL)
		fail(&u, 500, "internal_error", "out of memory");
	else if (unpack(&u, archive, size) == 0) {
		sp_package_id(&u.files, id);
		/* the same package again: stored once, nothing compiled */
		json_decref(u.compile);
		u.compile = NULL;
		if (!answer_stored(&u, id, 200)) {
			u.compile = json_object();
			store(&u);
		}
	}
	pthread_mutex_unlock(&server->upload_lock);
	if (out->status >= 400 && u.compile != NULL && json_object_size(u.compile) > 0)
		out->answer = json_pack("{s:O}", "compile", u.compile);
	sp_problem_draft_drop(&u.draft);
	sp_package_free(&u.package);
	sp_archive_files_free(&u.files);
	json_decref(u.compile);
}
