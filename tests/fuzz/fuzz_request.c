/* libFuzzer: arbitrary bytes as the body of POST /api/v1/run, through
 * sp_request_parse() (JSON, language and version, files and their names,
 * base64, stdin, args, userId, limits) with the repository's languages.
 *
 * Checked for every input, besides what ASan and UBSan see: a failure is a
 * 400 or 413 with a code and a valid UTF-8 message and leaves the request
 * empty, never a 500; a success has sealed memfds under valid, distinct file
 * names, the language's source file among them, and a NULL-terminated argv; and no
 * file descriptor is left open after sp_request_free(). A judge request (with
 * "mode": "judge") has 1 to judge_max_tests tests, their bytes within one
 * sealed memfd, each with an answer unless a program decides, and its checker or
 * interactor holds the same as a request; the parsed body is not kept, and
 * output limits are never 0 (none). Inputs of odd length are parsed with
 * clamp_limits and a 1 KiB max_body, to reach those paths. Every input is
 * parsed again from a file (sp_request_parse_fd, as a large body is), which
 * must come to the same: success, or the same failure and message. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sandbox/box_path.h"
#include "server/job/config.h"
#include "server/job/judge_request.h"
#include "server/job/language.h"
#include "server/job/request.h"
#include "tests/fuzz/fuzz_util.h"

#define SEALED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

static struct sp_language_set languages;
static struct sp_config plain_config, small_config;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_load_languages(&languages);
	sp_config_defaults(&plain_config);
	sp_config_defaults(&small_config);
	small_config.clamp_limits = true;
	small_config.max_body = 1024;
	return 0;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != 0) {
		size_t n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : 3;

		if (*p >= 0x80 && ((*p & 0xf8) == 0xf8 || (*p & 0xc0) == 0x80))
			return false;
		p++;
		for (size_t i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
		}
	}
	return true;
}

static void check_failure(const struct sp_request *req, const struct sp_request_failure *fail)
{
	if (fail->kind == SP_REQ_OK || (fail->http_status != 400 && fail->http_status != 413))
		fuzz_die("failed with kind %d, status %d: %s", fail->kind, fail->http_status,
			 fail->message);
	if (fail->code[0] == '\0' || fail->message[0] == '\0' || !utf8_valid(fail->message))
		fuzz_die("failure without a code or a valid UTF-8 message (%s)", fail->code);
	if (req->doc != NULL || req->files != NULL || req->file_count != 0 || req->stdin_fd != -1 ||
	    req->run_args != NULL || req->compile_args != NULL || req->judge != NULL)
		fuzz_die("a failed request is not empty");
}

/* A is B, or a directory of B. */
static bool name_covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static void check_file(const struct sp_request *req, size_t i)
{
	const struct sp_job_file *f = &req->files[i];

	if (f->name == NULL || strlen(f->name) > SP_REQUEST_MAX_NAME || !sp_box_path_valid(f->name))
		fuzz_die("files[%zu] has a name the cell refuses", i);
	if (fcntl(f->fd, F_GET_SEALS) != SEALED)
		fuzz_die("files[%zu] is not a sealed memfd", i);
	if (f->mode != 0644 && f->mode != 0755)
		fuzz_die("files[%zu] has mode %o", i, (unsigned)f->mode);
	for (size_t j = 0; j < i; j++) {
		if (name_covers(req->files[j].name, f->name) ||
		    name_covers(f->name, req->files[j].name))
			fuzz_die("files[%zu] '%s' and files[%zu] '%s' clash", j, req->files[j].name,
				 i, f->name);
	}
}

/* The entry file is there: given under its name (files keep their order),
 * or files[0] again under that name, first (request.h). Its name is one
 * plain component; a language without an entry rule keeps its own. */
static void check_source(const struct sp_request *req)
{
	const char *source = req->entry.source;

	if (!sp_box_name_valid(source))
		fuzz_die("the entry's name '%s' is no file name", source);
	if (req->language->entry == SP_ENTRY_FILE && strcmp(source, req->language->source) != 0)
		fuzz_die("the entry is %s, not the language's %s", source, req->language->source);
	for (size_t i = 0; i < req->file_count; i++) {
		if (strcmp(req->files[i].name, source) == 0)
			return;
	}
	fuzz_die("no file is %s, the entry file (files[0] is '%s')", source, req->files[0].name);
}

static void check_success(const struct sp_request *req, const struct sp_request_failure *fail)
{
	struct sp_job_spec spec;
	size_t n = 0;

	if (fail->kind != SP_REQ_OK || req->language == NULL || req->file_count == 0 ||
	    req->run_args == NULL)
		fuzz_die("a parsed request lacks its language, files or argv");
	if (req->doc != NULL)
		fuzz_die("the parsed body is kept");
	if (req->limits.output_kb == 0 || req->compile_limits.output_kb == 0)
		fuzz_die("an output without a limit");
	check_source(req);
	for (size_t i = 0; i < req->file_count; i++)
		check_file(req, i);
	if (req->stdin_fd >= 0 && fcntl(req->stdin_fd, F_GET_SEALS) != SEALED)
		fuzz_die("stdin is not a sealed memfd");
	while (req->run_args[n] != NULL)
		n++;
	if (n == 0 || n > 64 + SP_REQUEST_MAX_ARGS)
		fuzz_die("argv of %zu strings", n);
	if ((req->compile_args != NULL) != (req->language->compile != NULL))
		fuzz_die("a compile command where the language has none, or none where it has");
	sp_request_job_spec(req, NULL, &spec);
	if (spec.files != req->files || spec.file_count != req->file_count)
		fuzz_die("the job spec does not hold the request's files");
	if (spec.argv != req->run_args || spec.compile_argv != req->compile_args)
		fuzz_die("the job spec does not run the request's commands");
}

static bool sealed_or_none(int fd)
{
	return fd == -1 || (fd >= 0 && fcntl(fd, F_GET_SEALS) == SEALED);
}

static void check_program(const struct sp_request *req, const char *what)
{
	if (req->language == NULL || req->file_count == 0 || req->run_args == NULL)
		fuzz_die("the %s lacks its language, files or argv", what);
	for (size_t i = 0; i < req->file_count; i++)
		check_file(req, i);
}

static void check_judge(const struct sp_request *req, const struct sp_config *config)
{
	const struct sp_judge *j = req->judge;
	bool decided = j != NULL && (j->checker != NULL || j->interactor != NULL);

	if (req->mode != SP_REQUEST_JUDGE) {
		if (j != NULL)
			fuzz_die("a run request with judge parts");
		return;
	}
	if (j == NULL || j->test_count == 0 || j->test_count > config->judge_max_tests)
		fuzz_die("a judge request with %zu tests", j ? j->test_count : 0);
	if (req->stdin_fd != -1)
		fuzz_die("a judge request with a stdin of its own");
	if (j->checker != NULL && j->interactor != NULL)
		fuzz_die("both a checker and an interactor");
	if (j->data_fd < 0 || !sealed_or_none(j->data_fd))
		fuzz_die("the tests' data is not a sealed memfd");
	for (size_t i = 0; i < j->test_count; i++) {
		const struct sp_judge_test *t = &j->tests[i];

		if (t->name == NULL || t->name[0] == '\0' || !utf8_valid(t->name))
			fuzz_die("tests[%zu] has no name", i);
		if (t->input.offset + t->input.length > j->data_size ||
		    (t->has_answer && t->answer.offset + t->answer.length > j->data_size))
			fuzz_die("tests[%zu]: bytes past the end of the data", i);
		if (!t->has_answer && !decided)
			fuzz_die("tests[%zu] has no answer and nothing decides", i);
	}
	if (j->checker != NULL)
		check_program(j->checker, "checker");
	if (j->interactor != NULL)
		check_program(j->interactor, "interactor");
	if (!(j->epsilon >= 0 && j->epsilon <= 1))
		fuzz_die("epsilon %g", j->epsilon);
}

/* The same DATA parsed from a file comes to the same as FAIL. */
static void check_from_file(const uint8_t *data, size_t size, const struct sp_config *config,
			    const struct sp_request_failure *fail)
{
	int fd = memfd_create("fuzz-body", MFD_CLOEXEC);
	struct sp_request req;
	struct sp_request_failure again;

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		fuzz_die("a memfd for the body");
	if (sp_request_parse_fd(fd, size, &languages, config, SP_REQUEST_RUN, &req, &again) < 0)
		check_failure(&req, &again);
	else
		check_success(&req, &again);
	if (again.kind != fail->kind || strcmp(again.message, fail->message) != 0)
		fuzz_die("from a file: %d '%s', from memory: %d '%s'", again.kind, again.message,
			 fail->kind, fail->message);
	sp_request_free(&req);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sp_config *config = size % 2 ? &small_config : &plain_config;
	struct sp_request req;
	struct sp_request_failure fail;
	int free_fd = fuzz_lowest_free_fd();

	if (sp_request_parse((const char *)data, size, &languages, config, &req, &fail) < 0)
		check_failure(&req, &fail);
	else
		check_success(&req, &fail);
	if (fail.kind == SP_REQ_OK)
		check_judge(&req, config);
	sp_request_free(&req);
	sp_request_free(&req); /* safe twice, says request.h */
	check_from_file(data, size, config, &fail);
	if (fuzz_lowest_free_fd() != free_fd)
		fuzz_die("a file descriptor was left open");
	return 0;
}
