#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cell_lease.h"
#include "sandbox/box_archive.h"
#include "sandbox/cell.h"
#include "server.h"

static struct sp_program *program_new(const struct sp_language *language)
{
	struct sp_program *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->language = language;
	atomic_init(&p->refs, 1);
	return p;
}

static void free_files(struct sp_job_file *files, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free((char *)files[i].name);
		if (files[i].fd >= 0)
			close(files[i].fd);
	}
	free(files);
}

static void free_argv(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

void sp_program_put(struct sp_program *program)
{
	if (program == NULL || atomic_fetch_sub(&program->refs, 1) != 1)
		return;
	free_files(program->files, program->file_count);
	free_argv(program->argv);
	free(program);
}

struct sp_program *sp_program_get(struct sp_program *program)
{
	atomic_fetch_add(&program->refs, 1);
	return program;
}

static int copy_argv(struct sp_program *p, char *const *argv, struct sp_error *err)
{
	size_t n = 0;

	while (argv[n] != NULL)
		n++;
	p->argv = calloc(n + 1, sizeof(*p->argv));
	if (p->argv == NULL)
		return sp_error_set(err, ENOMEM, "program command");
	for (size_t i = 0; i < n; i++) {
		p->argv[i] = strdup(argv[i]);
		if (p->argv[i] == NULL)
			return sp_error_set(err, ENOMEM, "program command");
	}
	return 0;
}

/* A language without a compile step: the program is the request's files. */
static int copy_sources(struct sp_program *p, const struct sp_request *req, struct sp_error *err)
{
	p->files = calloc(req->file_count, sizeof(*p->files));
	if (p->files == NULL)
		return sp_error_set(err, ENOMEM, "program files");
	for (size_t i = 0; i < req->file_count; i++) {
		struct sp_job_file *f = &p->files[p->file_count];

		f->fd = fcntl(req->files[i].fd, F_DUPFD_CLOEXEC, 3);
		f->name = strdup(req->files[i].name);
		f->mode = req->files[i].mode;
		p->file_count++;
		if (f->fd < 0 || f->name == NULL)
			return sp_error_set(err, errno ? errno : ENOMEM, "program files");
	}
	return 0;
}

/* Take the files of a box archive as the program's. */
static int take_box_files(struct sp_program *p, struct sp_box_file *box, size_t count,
			  struct sp_error *err)
{
	p->files = calloc(count ? count : 1, sizeof(*p->files));
	if (p->files == NULL) {
		sp_box_files_free(box, count);
		return sp_error_set(err, ENOMEM, "program files");
	}
	for (size_t i = 0; i < count; i++) {
		p->files[i] =
		    (struct sp_job_file){.name = box[i].name, .fd = box[i].fd, .mode = box[i].mode};
		box[i].name = NULL;
		box[i].fd = -1;
	}
	p->file_count = count;
	sp_box_files_free(box, count);
	return 0;
}

/* What the program's files hold, in all. */
static uint64_t bytes_of(const struct sp_program *p)
{
	uint64_t total = 0;
	struct stat st;

	for (size_t i = 0; i < p->file_count; i++) {
		if (fstat(p->files[i].fd, &st) == 0)
			total += (uint64_t)st.st_size;
	}
	return total;
}

/* After a good compile, what it left in /box becomes the program's files. */
struct pack {
	struct sp_program *program;
	uint64_t max_bytes;
	bool failed;
	struct sp_error err;
};

/* The compile left more in /box than a program may have: its own doing, a
 * verdict on the compile; the cell said so and serves on. */
static bool too_much(struct sp_job_result *res, const struct sp_error *err)
{
	if (err->errnum != EFBIG && err->errnum != EMFILE)
		return false;
	res->compile.status = SP_STATUS_OUTPUT_LIMIT;
	res->status = SP_STATUS_OUTPUT_LIMIT;
	res->compile.error = *err;
	sp_error_wrap(&res->compile.error, "the compiled program is too large to keep");
	return true;
}

static int pack_box(void *ctx, struct sp_cell *cell, struct sp_job_result *res)
{
	struct pack *pk = ctx;
	struct sp_box_file *files = NULL;
	size_t count = 0;
	int fd = -1, rc;

	if (!res->compiled || res->compile.status != SP_STATUS_OK)
		return 0;
	if (sp_cell_pack_box(cell, pk->max_bytes, &fd, &pk->err) < 0) {
		if (too_much(res, &pk->err))
			return 0;
		pk->failed = true;
		sp_error_wrap(&pk->err, "keep the compiled program");
		return -1;
	}
	rc = sp_box_archive_read(fd, &files, &count, &pk->err);
	close(fd);
	if (rc < 0 || take_box_files(pk->program, files, count, &pk->err) < 0) {
		pk->failed = true;
		sp_error_wrap(&pk->err, "keep the compiled program");
	}
	return 0;
}

static int compile_and_pack(struct sp_server *server, const struct sp_request *req, int cancel_fd,
			    struct sp_program *p, struct sp_job_result *compile,
			    struct sp_error *err)
{
	struct pack pk = {.program = p, .max_bytes = server->config.judge_max_program_kb * 1024};
	struct sp_cell_after after = {.fn = pack_box, .ctx = &pk};
	struct sp_cell_use use = {.language = req->language->name, .after = &after};
	struct sp_job_spec spec;

	sp_request_job_spec(req, sp_server_env(server, req->language), &spec);
	spec.cancel_fd = cancel_fd;
	spec.compile_only = true;
	if (sp_run_on_cell(server, &use, &spec, compile, err) < 0)
		return -1;
	if (pk.failed) {
		*err = pk.err;
		return -1;
	}
	if (compile->status == SP_STATUS_INTERNAL_ERROR) {
		*err = *sp_job_result_error(compile);
		return -1;
	}
	return 0;
}

int sp_program_build(struct sp_server *server, const struct sp_request *req, int cancel_fd,
		     struct sp_program **program, struct sp_job_result *compile,
		     struct sp_error *err)
{
	struct sp_program *p = program_new(req->language);

	*program = NULL;
	memset(compile, 0, sizeof(*compile));
	if (p == NULL)
		return sp_error_set(err, ENOMEM, "program");
	p->limits = req->limits;
	if (copy_argv(p, req->run_args, err) < 0)
		goto fail;
	if (req->compile_args == NULL) {
		if (copy_sources(p, req, err) < 0)
			goto fail;
		p->bytes = bytes_of(p);
		*program = p;
		return 0;
	}
	if (compile_and_pack(server, req, cancel_fd, p, compile, err) < 0)
		goto fail;
	if (compile->status == SP_STATUS_OK)
		*program = p;
	else
		sp_program_put(p);
	if (*program != NULL)
		p->bytes = bytes_of(p);
	return 0;
fail:
	sp_program_put(p);
	return -1;
}

int sp_program_archive(const struct sp_program *program, int fd, struct sp_error *err)
{
	struct sp_box_writer w;
	struct stat st;

	if (sp_box_archive_begin(&w, fd, UINT64_MAX, err) < 0)
		return -1;
	for (size_t i = 0; i < program->file_count; i++) {
		const struct sp_job_file *f = &program->files[i];

		if (fstat(f->fd, &st) < 0)
			return sp_error_set(err, errno, "program file %s", f->name);
		if (sp_box_archive_add(&w, f->name, f->mode, f->fd, (uint64_t)st.st_size, err) < 0)
			return -1;
	}
	return sp_box_archive_end(&w, err);
}

int sp_program_from_archive(const struct sp_request *req, int archive_fd,
			    struct sp_program **program, struct sp_error *err)
{
	struct sp_program *p = program_new(req->language);
	struct sp_box_file *files = NULL;
	size_t count = 0;

	*program = NULL;
	if (p == NULL)
		return sp_error_set(err, ENOMEM, "program");
	p->limits = req->limits;
	if (copy_argv(p, req->run_args, err) < 0 ||
	    sp_box_archive_read(archive_fd, &files, &count, err) < 0 ||
	    take_box_files(p, files, count, err) < 0) {
		sp_program_put(p);
		return -1;
	}
	p->bytes = bytes_of(p);
	*program = p;
	return 0;
}

int sp_program_from_box(const struct sp_language *language, char *const *argv,
			const struct sp_limits *limits, int box_fd, struct sp_program **program,
			struct sp_error *err)
{
	struct sp_program *p = program_new(language);
	struct sp_box_file *files = NULL;
	size_t count = 0;

	*program = NULL;
	if (p == NULL)
		return sp_error_set(err, ENOMEM, "program");
	p->limits = *limits;
	if (lseek(box_fd, 0, SEEK_SET) < 0) {
		sp_program_put(p);
		return sp_error_set(err, errno, "rewind the program's files");
	}
	if (copy_argv(p, argv, err) < 0 || sp_box_archive_read(box_fd, &files, &count, err) < 0 ||
	    take_box_files(p, files, count, err) < 0) {
		sp_program_put(p);
		return -1;
	}
	p->bytes = bytes_of(p);
	*program = p;
	return 0;
}

void sp_program_spec(const struct sp_server *server, const struct sp_program *program,
		     const struct sp_limits *limits, struct sp_job_spec *spec)
{
	*spec = (struct sp_job_spec){
	    .argv = program->argv,
	    .envp = sp_server_env(server, program->language),
	    .limits = *limits,
	    .files = program->files,
	    .file_count = program->file_count,
	    .stdin_fd = -1,
	    .cancel_fd = -1,
	};
}
