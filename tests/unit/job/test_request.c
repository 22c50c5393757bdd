/* The body of POST /api/v1/run into a job, and its exact errors. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/job/config.h"
#include "server/job/judge_request.h"
#include "server/job/language.h"
#include "server/job/request.h"

static const char python_lang[] =
    "{\"name\": \"python\", \"aliases\": [\"py\", \"python3\"], \"version\": \"3.11.2\","
    " \"image\": \"python\", \"source\": \"main.py\", \"run\": [\"python3\", \"main.py\"],"
    " \"limits\": {\"cpu_ms\": 1000, \"memory_kb\": 65536}}";

static const char c_lang[] =
    "{\"name\": \"c\", \"version\": \"12.2.0\", \"image\": \"gcc\", \"source\": \"main.c\","
    " \"compile\": [\"gcc\", \"-o\", \"main\", \"main.c\"], \"run\": [\"./main\"],"
    " \"compile_limits\": {\"wall_ms\": 30000}}";

struct fixture {
	struct sp_language_set languages;
	struct sp_config config;
	struct sp_request req;
	struct sp_request_failure fail;
};

static void add_language(struct sp_language_set *set, const char *text)
{
	struct sp_error err = {0};
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);

	assert_non_null(doc);
	set->items = realloc(set->items, (set->count + 1) * sizeof(*set->items));
	assert_non_null(set->items);
	assert_int_equal(sp_language_parse(doc, "test.json", &set->items[set->count], &err), 0);
	set->count++;
	json_decref(doc);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	add_language(&f->languages, python_lang);
	add_language(&f->languages, c_lang);
	sp_config_defaults(&f->config);
	f->req.stdin_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sp_request_free(&f->req);
	sp_language_set_free(&f->languages);
	sp_config_free(&f->config);
	free(f);
	return 0;
}

static int parse(struct fixture *f, const char *body)
{
	sp_request_free(&f->req);
	return sp_request_parse(body, strlen(body), &f->languages, &f->config, &f->req, &f->fail);
}

/* The whole content of FD from its start, which it must be at. */
static void assert_content(int fd, const void *want, size_t len)
{
	char buf[4096];
	ssize_t n;

	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	n = pread(fd, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)len);
	assert_memory_equal(buf, want, len);
}

static void assert_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	assert_int_equal(seals, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	errno = 0;
	assert_int_equal(pwrite(fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, 0), -1);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void test_seed_body(void **state)
{
	struct fixture *f = *state;
	struct sp_request *r = &f->req;
	struct sp_job_spec spec;

	assert_int_equal(
	    parse(f, "{\"code\": \"print('Hello World!')\", \"language\": \"python\"}"), 0);
	assert_int_equal(f->fail.kind, SP_REQ_OK);
	assert_ptr_equal(r->language, &f->languages.items[0]);
	assert_int_equal(r->file_count, 1);
	assert_string_equal(r->files[0].name, "main.py");
	assert_int_equal(r->files[0].mode, 0644);
	assert_content(r->files[0].fd, "print('Hello World!')", 21);
	assert_sealed(r->files[0].fd);
	assert_int_equal(r->stdin_fd, -1);
	assert_string_equal(r->run_args[0], "python3");
	assert_string_equal(r->run_args[1], "main.py");
	assert_null(r->run_args[2]);
	assert_int_equal(r->limits.cpu_ms, 1000);
	assert_int_equal(r->limits.memory_kb, 65536);
	assert_int_equal(r->limits.wall_ms, sp_default_run_limits.wall_ms);
	assert_null(r->user_id);
	assert_null(r->version);

	sp_request_job_spec(r, NULL, &spec);
	assert_ptr_equal(spec.files, r->files);
	assert_int_equal(spec.file_count, 1);
	assert_ptr_equal(spec.argv, r->run_args);
	assert_int_equal(spec.stdin_fd, -1);
}

static void test_alias_and_user(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "{\"language\": \"py\", \"code\": \"\", \"userId\": \"u1\","
				  " \"unknown\": [1, {\"x\": null}]}"),
			 0);
	assert_string_equal(f->req.language->name, "python");
	assert_string_equal(f->req.user_id, "u1");
	assert_content(f->req.files[0].fd, "", 0);
	assert_int_equal(parse(f, "{\"language\": \"py\", \"code\": \"\", \"userId\": \"\"}"), 0);
	assert_null(f->req.user_id);
}

static void test_nested_files(void **state)
{
	struct fixture *f = *state;
	struct sp_request *r = &f->req;

	/* No file is main.py: files[0] goes in first as main.py too. */
	assert_int_equal(parse(f, "{\"language\": \"python\", \"files\": ["
				  "{\"name\": \"src/app.py\", \"content\": \"import lib.util.h\"},"
				  "{\"name\": \"lib/util/h.py\", \"content\": \"X = 1\","
				  " \"executable\": true}]}"),
			 0);
	assert_int_equal(r->file_count, 3);
	assert_string_equal(r->files[0].name, "main.py");
	assert_string_equal(r->files[1].name, "src/app.py");
	assert_string_equal(r->files[2].name, "lib/util/h.py");
	assert_content(r->files[0].fd, "import lib.util.h", 17);
	assert_content(r->files[1].fd, "import lib.util.h", 17);
	assert_content(r->files[2].fd, "X = 1", 5);
	assert_int_equal(r->files[0].mode, 0644);
	assert_int_equal(r->files[2].mode, 0755);
	for (size_t i = 0; i < r->file_count; i++) {
		assert_ptr_equal(r->files[i].name, r->file_names[i]);
		assert_sealed(r->files[i].fd);
	}
	assert_true(r->files[0].fd != r->files[1].fd);

	/* files[0] without a name is the source. */
	assert_int_equal(parse(f,
			       "{\"language\": \"python\", \"files\": ["
			       "{\"content\": \"a\"}, {\"name\": \"b.py\", \"content\": \"b\"}]}"),
			 0);
	assert_int_equal(r->file_count, 2);
	assert_string_equal(r->files[0].name, "main.py");
	assert_string_equal(r->files[1].name, "b.py");

	/* A later file has the source name: names and order as given. */
	assert_int_equal(parse(f, "{\"language\": \"python\", \"files\": ["
				  "{\"name\": \"a.py\", \"content\": \"a\"},"
				  " {\"name\": \"main.py\", \"content\": \"m\"}]}"),
			 0);
	assert_int_equal(r->file_count, 2);
	assert_string_equal(r->files[0].name, "a.py");
	assert_string_equal(r->files[1].name, "main.py");
}

static void test_base64(void **state)
{
	struct fixture *f = *state;
	struct sp_request *r = &f->req;
	static const unsigned char bytes[] = {0, 1, 2, 0xff};

	assert_int_equal(
	    parse(f, "{\"language\": \"python\", \"files\": ["
		     "{\"name\": \"main.py\", \"content\": \"aGVsbG8=\","
		     " \"encoding\": \"base64\"},"
		     "{\"name\": \"d\", \"content\": \"AAEC/w==\", \"encoding\": \"base64\"},"
		     "{\"name\": \"e\", \"content\": \"\", \"encoding\": \"base64\"},"
		     "{\"name\": \"g\", \"content\": \"Zm9vYg==\", \"encoding\": \"base64\"},"
		     "{\"name\": \"h\", \"content\": \"Zm9vYmE=\", \"encoding\": \"base64\"},"
		     "{\"name\": \"u\", \"content\": \"a\\u0000b\", \"encoding\": \"utf8\"}],"
		     " \"stdin\": \"MTIzCg==\", \"stdin_encoding\": \"base64\"}"),
	    0);
	assert_int_equal(r->file_count, 6);
	assert_content(r->files[0].fd, "hello", 5);
	assert_content(r->files[1].fd, bytes, sizeof(bytes));
	assert_content(r->files[2].fd, "", 0);
	assert_content(r->files[3].fd, "foob", 4);
	assert_content(r->files[4].fd, "fooba", 5);
	assert_content(r->files[5].fd, "a\0b", 3);
	assert_content(r->stdin_fd, "123\n", 4);
	assert_sealed(r->stdin_fd);

	assert_int_equal(parse(f, "{\"language\": \"python\", \"code\": \"x\","
				  " \"stdin\": \"\\u00e9\\n\\u0000\"}"),
			 0);
	assert_content(r->stdin_fd, "\xc3\xa9\n\0", 4);
	assert_sealed(r->stdin_fd);
}

static void test_large_base64(void **state)
{
	struct fixture *f = *state;
	size_t n = 100000, b64 = (n + 2) / 3 * 4;
	char *body = malloc(b64 + 128), *p;
	unsigned char buf[4096];
	size_t at = 0;

	assert_non_null(body);
	p = body + sprintf(body, "{\"language\": \"python\", \"files\": [{\"encoding\": \"base64\","
				 " \"content\": \"");
	/* "AAAA"... would be zeros: "/w==" style quads would end it, so use "////". */
	for (size_t i = 0; i < b64; i++)
		*p++ = '/';
	strcpy(p, "\"}]}");
	assert_int_equal(parse(f, body), 0);
	while (at < b64 / 4 * 3) {
		ssize_t got = pread(f->req.files[0].fd, buf, sizeof(buf), (off_t)at);

		assert_true(got > 0);
		for (ssize_t i = 0; i < got; i++)
			assert_int_equal(buf[i], 0xff);
		at += (size_t)got;
	}
	assert_int_equal(pread(f->req.files[0].fd, buf, 1, (off_t)at), 0);
	free(body);
}

static void test_version(void **state)
{
	struct fixture *f = *state;
	static const char *const good[] = {"3", "3.11", "3.11.2", "*", "", "3."};
	static const char *const bad[] = {"2", "3.1", "3.11.2.1", "31", "3.11.20"};
	char body[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"language\": \"python\", \"version\": \"%s\", \"code\": \"\"}",
			 good[i]);
		assert_int_equal(parse(f, body), 0);
		assert_string_equal(f->req.version, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[128];

		snprintf(body, sizeof(body),
			 "{\"language\": \"python3\", \"version\": \"%s\", \"code\": \"\"}",
			 bad[i]);
		assert_int_equal(parse(f, body), -1);
		assert_int_equal(f->fail.kind, SP_REQ_UNKNOWN_LANGUAGE);
		assert_int_equal(f->fail.http_status, 400);
		assert_string_equal(f->fail.code, "unknown_language");
		snprintf(want, sizeof(want), "python %s is not available (3.11.2 is)", bad[i]);
		assert_string_equal(f->fail.message, want);
	}
}

static void test_args(void **state)
{
	struct fixture *f = *state;
	char **a;

	assert_int_equal(parse(f, "{\"language\": \"python\", \"code\": \"\","
				  " \"args\": [\"-v\", \"two words\", \"\"]}"),
			 0);
	a = f->req.run_args;
	assert_string_equal(a[0], "python3");
	assert_string_equal(a[1], "main.py");
	assert_string_equal(a[2], "-v");
	assert_string_equal(a[3], "two words");
	assert_string_equal(a[4], "");
	assert_null(a[5]);

	/* Only the run step: the compile command stays the language's. */
	assert_int_equal(parse(f, "{\"language\": \"c\", \"code\": \"\", \"args\": [\"x\"]}"), 0);
	assert_string_equal(f->req.run_args[0], "./main");
	assert_string_equal(f->req.run_args[1], "x");
	assert_null(f->req.run_args[2]);
	assert_string_equal(f->req.files[0].name, "main.c");
}

static void test_limits(void **state)
{
	struct fixture *f = *state;
	struct sp_request *r = &f->req;

	assert_int_equal(parse(f, "{\"language\": \"c\", \"code\": \"\","
				  " \"limits\": {\"wall_ms\": 2000, \"cpu_ms\": 1500},"
				  " \"compile_limits\": {\"memory_kb\": 131072}}"),
			 0);
	assert_int_equal(r->limits.wall_ms, 2000);
	assert_int_equal(r->limits.cpu_ms, 1500);
	assert_int_equal(r->limits.memory_kb, sp_default_run_limits.memory_kb);
	assert_int_equal(r->compile_limits.wall_ms, 30000); /* the language's */
	assert_int_equal(r->compile_limits.memory_kb, 131072);

	/* The language's own values are kept even above the maximum. */
	f->config.max_limits.wall_ms = 10000;
	assert_int_equal(parse(f, "{\"language\": \"c\", \"code\": \"\"}"), 0);
	assert_int_equal(r->compile_limits.wall_ms, 30000);
}

static void test_limits_above_maximum(void **state)
{
	struct fixture *f = *state;
	struct sp_request *r = &f->req;
	const char *body = "{\"language\": \"python\", \"code\": \"\","
			   " \"limits\": {\"cpu_ms\": 99999, \"wall_ms\": 1000}}";

	assert_int_equal(parse(f, body), -1);
	assert_int_equal(f->fail.kind, SP_REQ_BAD_FIELD);
	assert_int_equal(f->fail.http_status, 400);
	assert_string_equal(f->fail.code, "bad_request");
	assert_string_equal(f->fail.message,
			    "limits.cpu_ms: 99999 is above the server's maximum 60000");
	assert_int_equal(r->file_count, 0);
	assert_null(r->doc);

	assert_int_equal(parse(f, "{\"language\": \"python\", \"code\": \"\","
				  " \"compile_limits\": {\"memory_kb\": 8388608}}"),
			 -1);
	assert_string_equal(
	    f->fail.message,
	    "compile_limits.memory_kb: 8388608 is above the server's maximum 4194304");

	f->config.clamp_limits = true;
	assert_int_equal(parse(f, body), 0);
	assert_int_equal(r->limits.cpu_ms, 60000);
	assert_int_equal(r->limits.wall_ms, 1000);
}

struct bad_case {
	const char *body;
	enum sp_request_error kind;
	const char *message;
};

static const struct bad_case bad_cases[] = {
    /* The body. */
    {"", SP_REQ_BAD_JSON, "invalid JSON at line 1, column 0: '[' or '{' expected near end of file"},
    {"{\"language\": ", SP_REQ_BAD_JSON,
     "invalid JSON at line 1, column 13: unexpected token near end of file"},
    {"[1]", SP_REQ_BAD_JSON, "the body must be a JSON object"},
    {"{\"language\": \"python\", \"language\": \"c\", \"code\": \"\"}", SP_REQ_BAD_JSON,
     "invalid JSON at line 1, column 33: duplicate object key near '\"language\"'"},
    /* language and version */
    {"{\"code\": \"\"}", SP_REQ_BAD_FIELD, "language is required"},
    {"{\"language\": 3, \"code\": \"\"}", SP_REQ_BAD_FIELD, "language must be a string"},
    {"{\"language\": \"py\\u0000thon\", \"code\": \"\"}", SP_REQ_BAD_FIELD,
     "language must not contain a NUL byte"},
    {"{\"language\": \"cobol\", \"code\": \"\"}", SP_REQ_UNKNOWN_LANGUAGE,
     "unknown language \"cobol\""},
    {"{\"language\": \"python\", \"version\": 3, \"code\": \"\"}", SP_REQ_BAD_FIELD,
     "version must be a string"},
    /* code and files */
    {"{\"language\": \"python\"}", SP_REQ_BAD_FIELD, "code or files is required"},
    {"{\"language\": \"python\", \"code\": \"\", \"files\": []}", SP_REQ_BAD_FIELD,
     "give either code or files, not both"},
    {"{\"language\": \"python\", \"code\": null}", SP_REQ_BAD_FIELD, "code must be a string"},
    {"{\"language\": \"python\", \"files\": {}}", SP_REQ_BAD_FIELD, "files must be an array"},
    {"{\"language\": \"python\", \"files\": []}", SP_REQ_BAD_FIELD, "files must not be empty"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"\"}, 1]}", SP_REQ_BAD_FIELD,
     "files[1] must be an object"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"\"}, {\"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[1].name is required"},
    {"{\"language\": \"python\", \"files\": [{\"name\": 1, \"content\": \"\"}]}", SP_REQ_BAD_FIELD,
     "files[0].name must be a string"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\"}]}", SP_REQ_BAD_FIELD,
     "files[0].content is required"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\", \"content\": []}]}",
     SP_REQ_BAD_FIELD, "files[0].content must be a string"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\", \"content\": \"\","
     " \"encoding\": \"hex\"}]}",
     SP_REQ_BAD_FIELD, "files[0].encoding must be \"utf8\" or \"base64\""},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\", \"content\": \"\","
     " \"encoding\": 64}]}",
     SP_REQ_BAD_FIELD, "files[0].encoding must be a string"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\", \"content\": \"\","
     " \"executable\": 1}]}",
     SP_REQ_BAD_FIELD, "files[0].executable must be a boolean"},
    /* file names */
    {"{\"language\": \"python\", \"files\": [{\"name\": \"\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name must not be empty"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"/etc/passwd\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name must be a relative path"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a//b\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name has an empty component"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a/\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name has an empty component"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a/../../b\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name has a . or .. component"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"./a\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name has a . or .. component"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"..\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name has a . or .. component"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\\nb\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name has a control character"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\\u007f\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name has a control character"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\\u0000b\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[0].name must not contain a NUL byte"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"main.py\", \"content\": \"\"},"
     " {\"name\": \"main.py\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[1].name is the name of files[0] already"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"\"},"
     " {\"name\": \"main.py\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[1].name is the name of files[0] already"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a/b\", \"content\": \"\"},"
     " {\"name\": \"a\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD,
     "files[1].name and files[0].name would need a file and a directory of the same name"},
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\", \"content\": \"\"},"
     " {\"name\": \"main.py/b\", \"content\": \"\"}]}",
     SP_REQ_BAD_FIELD, "files[1].name needs a directory main.py, the program's entry file"},
    /* base64 */
    {"{\"language\": \"python\", \"files\": [{\"name\": \"a\", \"content\": \"\"},"
     " {\"name\": \"b\", \"content\": \"\"}, {\"name\": \"c\", \"content\": \"aGVsbG8\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[2].content is not valid base64"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"aGVs bG8=\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[0].content is not valid base64"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"aGVsbG8=\\n\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[0].content is not valid base64"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"aGVs=G8=\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[0].content is not valid base64"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"aG=s\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[0].content is not valid base64"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"a===\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[0].content is not valid base64"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"aGVsbG9=\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[0].content is not valid base64"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"aGVsbG-_\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[0].content is not valid base64"},
    {"{\"language\": \"python\", \"files\": [{\"content\": \"====\","
     " \"encoding\": \"base64\"}]}",
     SP_REQ_BAD_FIELD, "files[0].content is not valid base64"},
    /* stdin */
    {"{\"language\": \"python\", \"code\": \"\", \"stdin\": 1}", SP_REQ_BAD_FIELD,
     "stdin must be a string"},
    {"{\"language\": \"python\", \"code\": \"\", \"stdin\": \"\", \"stdin_encoding\": \"b64\"}",
     SP_REQ_BAD_FIELD, "stdin_encoding must be \"utf8\" or \"base64\""},
    {"{\"language\": \"python\", \"code\": \"\", \"stdin\": \"Zg=\","
     " \"stdin_encoding\": \"base64\"}",
     SP_REQ_BAD_FIELD, "stdin is not valid base64"},
    /* args */
    {"{\"language\": \"python\", \"code\": \"\", \"args\": \"-v\"}", SP_REQ_BAD_FIELD,
     "args must be an array"},
    {"{\"language\": \"python\", \"code\": \"\", \"args\": [\"a\", 2]}", SP_REQ_BAD_FIELD,
     "args[1] must be a string"},
    {"{\"language\": \"python\", \"code\": \"\", \"args\": [\"a\\u0000b\"]}", SP_REQ_BAD_FIELD,
     "args[0] must not contain a NUL byte"},
    /* userId */
    {"{\"language\": \"python\", \"code\": \"\", \"userId\": 7}", SP_REQ_BAD_FIELD,
     "userId must be a string"},
    {"{\"language\": \"python\", \"code\": \"\", \"userId\": \"a\\tb\"}", SP_REQ_BAD_FIELD,
     "userId must not contain control characters"},
    /* limits */
    {"{\"language\": \"python\", \"code\": \"\", \"limits\": 5}", SP_REQ_BAD_FIELD,
     "limits must be an object"},
    {"{\"language\": \"python\", \"code\": \"\", \"limits\": {\"cpu_ms\": \"1\"}}",
     SP_REQ_BAD_FIELD, "limits.cpu_ms must be an integer"},
    {"{\"language\": \"python\", \"code\": \"\", \"compile_limits\": {\"wall_ms\": 0}}",
     SP_REQ_BAD_FIELD, "compile_limits.wall_ms must be from 1 to 3600000"},
};

static void assert_failure(struct fixture *f, const char *body, enum sp_request_error kind,
			   const char *message)
{
	static const char *const codes[] = {
	    [SP_REQ_BAD_JSON] = "bad_json",
	    [SP_REQ_BAD_FIELD] = "bad_request",
	    [SP_REQ_UNKNOWN_LANGUAGE] = "unknown_language",
	    [SP_REQ_TOO_LARGE] = "body_too_large",
	};

	if (parse(f, body) != -1)
		fail_msg("accepted: %s", body);
	if (f->fail.kind != kind || strcmp(f->fail.message, message) != 0)
		fail_msg("%s\n  got %d \"%s\"\n  want %d \"%s\"", body, f->fail.kind,
			 f->fail.message, kind, message);
	assert_int_equal(f->fail.http_status, kind == SP_REQ_TOO_LARGE ? 413 : 400);
	assert_string_equal(f->fail.code, codes[kind]);
	/* A failed parse leaves nothing behind. */
	assert_null(f->req.doc);
	assert_null(f->req.files);
	assert_null(f->req.run_args);
	assert_int_equal(f->req.file_count, 0);
	assert_int_equal(f->req.stdin_fd, -1);
}

static void test_bad_inputs(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		assert_failure(f, bad_cases[i].body, bad_cases[i].kind, bad_cases[i].message);
}

/* A JSON string of N bytes of C, as a malloc'd "...". */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_bad_sizes(void **state)
{
	struct fixture *f = *state;
	size_t size = 64 * 1024;
	char *body = malloc(size), *s;
	size_t len;

	assert_non_null(body);

	s = repeat('a', 1025);
	snprintf(body, size,
		 "{\"language\": \"python\", \"files\": [{\"name\": \"%s\", \"content\": \"\"}]}",
		 s);
	assert_failure(f, body, SP_REQ_BAD_FIELD, "files[0].name is longer than 1024 bytes");
	free(s);

	s = repeat('a', 256);
	snprintf(body, size,
		 "{\"language\": \"python\", \"files\": [{\"name\": \"d/%s\", \"content\": \"\"}]}",
		 s);
	assert_failure(f, body, SP_REQ_BAD_FIELD,
		       "files[0].name has a component longer than 255 bytes");
	s[255] = '\0';
	snprintf(body, size,
		 "{\"language\": \"python\", \"files\": [{\"name\": \"d/%s\", \"content\": \"\"}]}",
		 s);
	assert_int_equal(parse(f, body), 0);
	free(s);

	len = (size_t)snprintf(body, size, "{\"language\": \"python\", \"files\": [{\"name\": \"");
	for (int i = 0; i < 17; i++)
		len += (size_t)snprintf(body + len, size - len, i ? "/d" : "d");
	snprintf(body + len, size - len, "\", \"content\": \"\"}]}");
	assert_failure(f, body, SP_REQ_BAD_FIELD, "files[0].name has more than 16 components");
	body[len - 2] = '\0'; /* 16 components */
	snprintf(body + len - 2, size - len + 2, "\", \"content\": \"\"}]}");
	assert_int_equal(parse(f, body), 0);
	assert_int_equal(f->req.file_count, 2);

	len = (size_t)snprintf(body, size, "{\"language\": \"python\", \"files\": [");
	for (int i = 0; i < 1001; i++)
		len +=
		    (size_t)snprintf(body + len, size - len,
				     "%s{\"name\": \"f%d\", \"content\": \"\"}", i ? "," : "", i);
	snprintf(body + len, size - len, "]}");
	assert_failure(f, body, SP_REQ_BAD_FIELD, "files must have at most 1000 entries");
	body[strlen(body) - 2 - strlen(",{\"name\": \"f1000\", \"content\": \"\"}")] = '\0';
	strcat(body, "]}");
	assert_int_equal(parse(f, body), 0);
	assert_int_equal(f->req.file_count, 1001); /* and main.py */

	len =
	    (size_t)snprintf(body, size, "{\"language\": \"python\", \"code\": \"\", \"args\": [");
	for (int i = 0; i < 257; i++)
		len += (size_t)snprintf(body + len, size - len, "%s\"a\"", i ? "," : "");
	snprintf(body + len, size - len, "]}");
	assert_failure(f, body, SP_REQ_BAD_FIELD, "args must have at most 256 entries");

	s = repeat('a', 4097);
	snprintf(body, size, "{\"language\": \"python\", \"code\": \"\", \"args\": [\"%s\"]}", s);
	assert_failure(f, body, SP_REQ_BAD_FIELD, "args[0] is longer than 4096 bytes");
	s[4096] = '\0';
	snprintf(body, size, "{\"language\": \"python\", \"code\": \"\", \"args\": [\"%s\"]}", s);
	assert_int_equal(parse(f, body), 0);
	free(s);

	s = repeat('u', 129);
	snprintf(body, size, "{\"language\": \"python\", \"code\": \"\", \"userId\": \"%s\"}", s);
	assert_failure(f, body, SP_REQ_BAD_FIELD, "userId is longer than 128 bytes");
	s[128] = '\0';
	snprintf(body, size, "{\"language\": \"python\", \"code\": \"\", \"userId\": \"%s\"}", s);
	assert_int_equal(parse(f, body), 0);
	free(s);

	free(body);
}

static void test_too_large(void **state)
{
	struct fixture *f = *state;
	const char *body = "{\"language\": \"python\", \"code\": \"0123456789\"}";

	f->config.max_body = strlen(body) - 1;
	assert_failure(f, body, SP_REQ_TOO_LARGE, "the body is larger than 43 bytes");
	f->config.max_body = strlen(body);
	assert_int_equal(parse(f, body), 0);
}

static void test_depth(void **state)
{
	struct fixture *f = *state;
	char body[1024];
	size_t len;

	/* The body is level 1: 63 arrays inside it make 64 levels. */
	for (int levels = 64; levels <= 65; levels++) {
		len = (size_t)snprintf(body, sizeof(body),
				       "{\"language\": \"python\", \"code\": \"\", \"x\": ");
		for (int i = 1; i < levels; i++)
			body[len++] = '[';
		for (int i = 1; i < levels; i++)
			body[len++] = ']';
		snprintf(body + len, sizeof(body) - len, "}");
		if (levels == 64)
			assert_int_equal(parse(f, body), 0);
		else
			assert_failure(f, body, SP_REQ_BAD_JSON,
				       "the body nests deeper than 64 levels");
	}
	/* Brackets in strings, after an escaped quote too, are no nesting. */
	len = (size_t)snprintf(body, sizeof(body), "{\"language\": \"python\", \"code\": \"\\\"");
	for (int i = 0; i < 100; i++)
		body[len++] = '[';
	snprintf(body + len, sizeof(body) - len, "\"}");
	assert_int_equal(parse(f, body), 0);
	/* Far deeper than jansson's own limit: refused before jansson recurses. */
	memset(body, '[', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	assert_failure(f, body, SP_REQ_BAD_JSON, "the body nests deeper than 64 levels");
}

/* A body of many small values is refused before jansson builds them. */
static void test_values(void **state)
{
	struct fixture *f = *state;
	uint64_t max = sp_request_max_values(&f->config);
	size_t cap = 64 + 4 * (size_t)max;
	char *body = malloc(cap), want[128];
	size_t len;

	assert_non_null(body);
	assert_int_equal(max, 65536 + 64 * 1000);
	snprintf(want, sizeof(want),
		 "the body holds more than %llu JSON values (see judge_max_tests)",
		 (unsigned long long)max);
	/* the text, the object, its 3 colons and 2 commas, the array: 8, then a
	 * comma before each value but the first */
	for (uint64_t zeros = max - 7; zeros <= max - 6; zeros++) {
		len = (size_t)snprintf(body, cap,
				       "{\"language\": \"python\", \"code\": \"\", \"x\": [0");
		for (uint64_t i = 1; i < zeros; i++)
			len += (size_t)snprintf(body + len, cap - len, ",0");
		snprintf(body + len, cap - len, "]}");
		if (zeros == max - 7)
			assert_int_equal(parse(f, body), 0);
		else
			assert_failure(f, body, SP_REQ_TOO_LARGE, want);
	}
	free(body);
}

/* The parsed body is not kept; what the request holds is counted. */
static void test_memory(void **state)
{
	struct fixture *f = *state;
	struct sp_request *r = &f->req;

	assert_int_equal(parse(f, "{\"language\": \"python\", \"code\": \"print(1)\","
				  " \"stdin\": \"12345\", \"userId\": \"u\", \"version\": \"3\"}"),
			 0);
	assert_null(r->doc);
	assert_string_equal(r->user_id, "u");
	assert_string_equal(r->version, "3");
	assert_int_equal(r->ram_bytes, strlen("print(1)") + 5);
	assert_true(sp_request_memory(r) > r->ram_bytes);
	/* a run: 4 bytes per byte of its output limit; a compile adds its own */
	assert_int_equal(sp_request_reserve(r, 1, 0), r->limits.output_kb * 1024 * 4);
	assert_int_equal(parse(f, "{\"language\": \"c\", \"code\": \"\"}"), 0);
	assert_int_equal(sp_request_reserve(r, 1, 0),
			 (r->limits.output_kb + r->compile_limits.output_kb) * 1024 * 4);
	/* no output limit anywhere: the server's maximum, else the most there is */
	f->languages.items[0].limits.output_kb = 0;
	assert_int_equal(parse(f, "{\"language\": \"python\", \"code\": \"\"}"), 0);
	assert_int_equal(r->limits.output_kb, f->config.max_limits.output_kb);
	f->config.max_limits.output_kb = 0;
	assert_int_equal(parse(f, "{\"language\": \"python\", \"code\": \"\"}"), 0);
	assert_int_equal(r->limits.output_kb, SP_OUTPUT_KB_MAX);
}

/* Inputs beyond the first MiB in memfds go into read-only unnamed files. */
static void test_inputs_in_files(void **state)
{
	struct fixture *f = *state;
	struct sp_request *r = &f->req;
	size_t big = SP_REQUEST_RAM_INPUTS + 1;
	char *body = malloc(big + 200), *text = malloc(big + 1);
	size_t len;
	struct stat st;

	assert_non_null(body);
	assert_non_null(text);
	snprintf(f->config.inputs_dir, sizeof(f->config.inputs_dir), "/tmp");
	memset(text, 'z', big);
	text[big] = '\0';
	len = (size_t)snprintf(
	    body, big + 200,
	    "{\"language\": \"python\", \"code\": \"print(1)\", \"stdin\": \"%s\"}", text);
	assert_int_equal(sp_request_parse(body, len, &f->languages, &f->config, r, &f->fail), 0);
	assert_sealed(r->files[0].fd); /* small: a memfd */
	assert_int_equal(fstat(r->stdin_fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_nlink, 0); /* no name */
	assert_int_equal(st.st_size, (off_t)big);
	assert_int_equal(fcntl(r->stdin_fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_true(fcntl(r->stdin_fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(r->stdin_fd, F_GET_SEALS), -1); /* not a memfd */
	assert_int_equal(r->ram_bytes, strlen("print(1)"));
	/* the same from a file, as a large body comes */
	{
		FILE *tmp = tmpfile();

		assert_non_null(tmp);
		assert_int_equal(fwrite(body, 1, len, tmp), len);
		fflush(tmp);
		sp_request_free(r);
		assert_int_equal(sp_request_parse_fd(fileno(tmp), len, &f->languages, &f->config,
						     SP_REQUEST_RUN, r, &f->fail),
				 0);
		assert_int_equal(fstat(r->stdin_fd, &st), 0);
		assert_int_equal(st.st_size, (off_t)big);
		fclose(tmp);
	}
	free(body);
	free(text);
}

static void test_messages_stay_utf8(void **state)
{
	struct fixture *f = *state;
	char body[512];
	json_t *s;

	/* 40 two-byte characters: the quote is cut between two of them. */
	size_t len = (size_t)snprintf(body, sizeof(body), "{\"language\": \"x");
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "\\u00e9");
	snprintf(body + len, sizeof(body) - len, "\", \"code\": \"\"}");
	assert_int_equal(parse(f, body), -1);
	assert_int_equal(f->fail.kind, SP_REQ_UNKNOWN_LANGUAGE);
	s = json_string(f->fail.message);
	assert_non_null(s);
	json_decref(s);

	/* jansson's text about bad bytes stays ASCII. */
	assert_int_equal(parse(f, "{\"language\": \"\xff\"}"), -1);
	assert_int_equal(f->fail.kind, SP_REQ_BAD_JSON);
	s = json_string(f->fail.message);
	assert_non_null(s);
	json_decref(s);
}

static void test_free_is_safe(void **state)
{
	struct fixture *f = *state;
	struct sp_request req;
	struct sp_request_failure fail;
	const char *body;

	memset(&req, 0, sizeof(req));
	req.stdin_fd = -1;
	sp_request_free(&req);
	assert_int_equal(sp_request_parse(NULL, 0, &f->languages, &f->config, &req, &fail), -1);
	assert_int_equal(fail.kind, SP_REQ_BAD_JSON);
	sp_request_free(&req);
	sp_request_free(&req);
	body = "{\"language\": \"c\", \"code\": \"int main;\", \"stdin\": \"x\"}";
	assert_int_equal(
	    sp_request_parse(body, strlen(body), &f->languages, &f->config, &req, &fail), 0);
	sp_request_free(&req);
	sp_request_free(&req);
	assert_int_equal(req.stdin_fd, -1);
}

/* ---- judge mode ------------------------------------------------------------ */

static void test_judge_body(void **state)
{
	struct fixture *f = *state;
	struct sp_judge *j;

	assert_int_equal(
	    parse(f,
		  "{\"mode\": \"judge\", \"language\": \"c\", \"code\": \"int main;\","
		  " \"limits\": {\"cpu_ms\": 700},"
		  " \"tests\": [{\"stdin\": \"1 2\", \"expected\": \"3\"},"
		  " {\"name\": \"big\", \"stdin_base64\": \"AAE=\", \"expected_base64\": \"/w==\","
		  " \"limits\": {\"cpu_ms\": 50, \"wall_ms\": 90}}],"
		  " \"checker\": {\"type\": \"float\", \"epsilon\": 0.001},"
		  " \"stop_on_first_failure\": true}"),
	    0);
	j = f->req.judge;
	assert_int_equal(f->req.mode, SP_REQUEST_JUDGE);
	assert_non_null(j);
	assert_int_equal(j->test_count, 2);
	assert_string_equal(j->tests[0].name, "1");
	assert_string_equal(j->tests[1].name, "big");
	/* the tests' bytes, decoded, one after the other in one sealed memfd */
	assert_content(j->data_fd, "1 23\0\1\xff", 7);
	assert_sealed(j->data_fd);
	assert_int_equal(j->data_size, 7);
	assert_int_equal(j->tests[0].input.offset, 0);
	assert_int_equal(j->tests[0].input.length, 3);
	assert_int_equal(j->tests[0].answer.offset, 3);
	assert_int_equal(j->tests[1].input.offset, 4);
	assert_int_equal(j->tests[1].input.length, 2);
	assert_int_equal(j->tests[1].answer.offset, 6);
	assert_int_equal(j->tests[1].answer.length, 1);
	assert_true(j->tests[1].has_answer);
	/* a test's limits lie over the request's, which lie over the language's */
	assert_int_equal(j->tests[0].limits.cpu_ms, 700);
	assert_int_equal(j->tests[1].limits.cpu_ms, 50);
	assert_int_equal(j->tests[1].limits.wall_ms, 90);
	assert_int_equal(j->tests[0].limits.wall_ms, sp_default_run_limits.wall_ms);
	assert_int_equal(j->checker_kind, SP_CHECKER_FLOAT);
	assert_true(j->epsilon == 0.001);
	assert_true(j->stop_on_first_failure);
	assert_null(j->checker);
	assert_null(j->interactor);

	/* the same body without "mode" is a run, and "tests" is ignored */
	assert_int_equal(parse(f, "{\"language\": \"c\", \"code\": \"\", \"tests\": 5}"), 0);
	assert_int_equal(f->req.mode, SP_REQUEST_RUN);
	assert_null(f->req.judge);
}

static void test_judge_programs(void **state)
{
	struct fixture *f = *state;
	const char *body =
	    "{\"language\": \"python\", \"code\": \"print(1)\", \"tests\": [{\"stdin\": \"\"}],"
	    " \"checker\": {\"language\": \"c\", \"files\": [{\"name\": \"check.c\", \"content\": "
	    "\"x\"}, {\"name\": \"testlib.h\", \"content\": \"y\"}], \"limits\": {\"cpu_ms\": "
	    "99}}}";
	struct sp_request *c;

	sp_request_free(&f->req);
	assert_int_equal(sp_request_parse_as(body, strlen(body), &f->languages, &f->config,
					     SP_REQUEST_JUDGE, &f->req, &f->fail),
			 0);
	c = f->req.judge->checker;
	assert_non_null(c);
	assert_string_equal(c->language->name, "c");
	/* the entry file again under the language's source name, then both */
	assert_int_equal(c->file_count, 3);
	assert_string_equal(c->files[0].name, "main.c");
	assert_string_equal(c->files[2].name, "testlib.h");
	assert_int_equal(c->limits.cpu_ms, 99);
	assert_string_equal(c->run_args[0], "./main");
	/* no expected answer is needed when a program decides */
	assert_false(f->req.judge->tests[0].has_answer);
}

static void judge_failure(struct fixture *f, const char *extra, enum sp_request_error kind,
			  const char *message)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"language\": \"python\", \"code\": \"\"%s}", extra);
	sp_request_free(&f->req);
	if (sp_request_parse_as(body, strlen(body), &f->languages, &f->config, SP_REQUEST_JUDGE,
				&f->req, &f->fail) != -1)
		fail_msg("accepted: %s", body);
	if (f->fail.kind != kind || strcmp(f->fail.message, message) != 0)
		fail_msg("%s: got %d \"%s\", want \"%s\"", body, f->fail.kind, f->fail.message,
			 message);
	assert_null(f->req.judge);
}

static void test_judge_bad_inputs(void **state)
{
	struct fixture *f = *state;
	const char *one = ", \"tests\": [{\"stdin\": \"\", \"expected\": \"\"}]";
	char extra[256];

	judge_failure(f, "", SP_REQ_BAD_FIELD, "tests is required in a judge request");
	judge_failure(f, ", \"tests\": []", SP_REQ_BAD_FIELD, "tests must not be empty");
	judge_failure(f, ", \"tests\": [{\"expected\": \"1\"}]", SP_REQ_BAD_FIELD,
		      "tests[0].stdin is required (\"\" for a test without input)");
	judge_failure(f, ", \"tests\": [{\"stdin\": \"\"}]", SP_REQ_BAD_FIELD,
		      "tests[0].expected is required: the answer the checker compares with");
	judge_failure(f, ", \"mode\": \"run\", \"tests\": []", SP_REQ_BAD_FIELD,
		      "mode must be \"judge\" here");
	snprintf(extra, sizeof(extra), "%s, \"checker\": {\"language\": \"cobol\"}", one);
	judge_failure(f, extra, SP_REQ_UNKNOWN_LANGUAGE, "checker: unknown language \"cobol\"");
	snprintf(extra, sizeof(extra), "%s, \"checker\": {\"language\": \"c\", \"code\": 1}", one);
	judge_failure(f, extra, SP_REQ_BAD_FIELD, "checker: code must be a string");
	snprintf(extra, sizeof(extra), "%s, \"stdin\": \"\"", one);
	judge_failure(f, extra, SP_REQ_BAD_FIELD,
		      "stdin: a judge request gives each test's input in tests[].stdin");
	f->config.judge_max_tests = 1;
	judge_failure(f, ", \"tests\": [{\"stdin\": \"\", \"expected\": \"\"}, {}]",
		      SP_REQ_BAD_FIELD,
		      "tests has 2 entries, more than this server's judge_max_tests (1)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_seed_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alias_and_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nested_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_base64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_base64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits_above_maximum, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inputs_in_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_messages_stay_utf8, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_is_safe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_judge_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_judge_programs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_judge_bad_inputs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
