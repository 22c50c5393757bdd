#include "judge_request.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base64.h"
#include "sandbox/base/read_all.h"

#define DEFAULT_EPSILON 1e-6
#define SEALS		(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* One judge parse: where it goes, and how it fails. */
struct judge_parse {
	const struct sp_config *config;
	const struct sp_request *req;
	struct sp_judge *judge;
	uint64_t *total;
	struct sp_request_failure *fail;
};

#define bad(jp, ...) sp_request_fail((jp)->fail, SP_REQ_BAD_FIELD, __VA_ARGS__)

/* A string member KEY of OBJ, or NULL; -1 when it is not a string. */
static int get_text(struct judge_parse *jp, json_t *obj, const char *key, const char *where,
		    json_t **out)
{
	*out = json_object_get(obj, key);
	if (*out != NULL && !json_is_string(*out))
		return bad(jp, "%s.%s must be a string", where, key);
	return 0;
}

/* LEN bytes more of test data, against max_body. */
static int add_data(struct judge_parse *jp, const void *bytes, size_t len,
		    struct sp_judge_bytes *where)
{
	where->offset = jp->judge->data_size;
	where->length = len;
	*jp->total += len;
	if (*jp->total > jp->config->max_body)
		return sp_request_fail(jp->fail, SP_REQ_TOO_LARGE,
				       "files and tests are larger than %llu bytes in all",
				       (unsigned long long)jp->config->max_body);
	if (sp_write_all(jp->judge->data_fd, bytes, len) < 0)
		return sp_request_fail(jp->fail, SP_REQ_INTERNAL, "write the test data: %s",
				       strerror(errno));
	jp->judge->data_size += len;
	return 0;
}

/* KEY (text) or KEY_base64 of OBJ, decoded, into the test data; *GIVEN
 * false when both are absent. */
static int text_or_base64(struct judge_parse *jp, json_t *obj, const char *key, const char *where,
			  struct sp_judge_bytes *bytes, bool *given)
{
	char key64[32];
	json_t *text, *b64;
	unsigned char *decoded;
	size_t len = 0;
	int rc;

	snprintf(key64, sizeof(key64), "%s_base64", key);
	*given = false;
	if (get_text(jp, obj, key, where, &text) < 0 || get_text(jp, obj, key64, where, &b64) < 0)
		return -1;
	if (text != NULL && b64 != NULL)
		return bad(jp, "%s: give %s or %s, not both", where, key, key64);
	*given = text != NULL || b64 != NULL;
	if (text != NULL)
		return add_data(jp, json_string_value(text), json_string_length(text), bytes);
	if (b64 == NULL)
		return 0;
	errno = 0;
	decoded = sp_base64_decode(json_string_value(b64), json_string_length(b64), &len);
	if (decoded == NULL && errno == 0)
		return bad(jp, "%s.%s is not valid base64", where, key64);
	if (decoded == NULL)
		return sp_request_fail(jp->fail, SP_REQ_INTERNAL, "out of memory");
	rc = add_data(jp, decoded, len, bytes);
	free(decoded);
	return rc;
}

static int test_name(struct judge_parse *jp, json_t *test, size_t i, const char *where, char **name)
{
	json_t *v;
	const char *s;
	size_t len;

	if (get_text(jp, test, "name", where, &v) < 0)
		return -1;
	if (v == NULL) {
		if (asprintf(name, "%zu", i + 1) < 0)
			*name = NULL;
	} else {
		s = json_string_value(v);
		len = json_string_length(v);
		if (len == 0 || len > SP_JUDGE_MAX_TEST_NAME)
			return bad(jp, "%s.name must be 1 to %d bytes", where,
				   SP_JUDGE_MAX_TEST_NAME);
		for (size_t k = 0; k < len; k++) {
			if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
				return bad(jp, "%s.name must not contain control characters",
					   where);
		}
		*name = strdup(s);
	}
	if (*name == NULL)
		return sp_request_fail(jp->fail, SP_REQ_INTERNAL, "out of memory");
	return 0;
}

/* An answer is needed unless a program decides. */
static bool needs_expected(const struct judge_parse *jp)
{
	return jp->judge->checker == NULL && jp->judge->interactor == NULL;
}

static int parse_test(struct judge_parse *jp, json_t *test, size_t i)
{
	struct sp_judge_test *t = &jp->judge->tests[i];
	char where[48];
	bool has_input;

	snprintf(where, sizeof(where), "tests[%zu]", i);
	if (!json_is_object(test))
		return bad(jp, "%s must be an object", where);
	if (test_name(jp, test, i, where, &t->name) < 0 ||
	    text_or_base64(jp, test, "stdin", where, &t->input, &has_input) < 0 ||
	    text_or_base64(jp, test, "expected", where, &t->answer, &t->has_answer) < 0)
		return -1;
	if (!has_input)
		return bad(jp, "%s.stdin is required (\"\" for a test without input)", where);
	if (!t->has_answer && needs_expected(jp))
		return bad(jp, "%s.expected is required: the answer the checker compares with",
			   where);
	snprintf(where, sizeof(where), "tests[%zu].limits", i);
	return sp_request_limits(test, "limits", where, &jp->req->limits, jp->config, &t->limits,
				 jp->fail);
}

static int parse_tests(struct judge_parse *jp, json_t *doc)
{
	json_t *tests = json_object_get(doc, "tests"), *test;
	size_t n, i;

	if (tests == NULL)
		return bad(jp, "tests is required in a judge request");
	if (!json_is_array(tests))
		return bad(jp, "tests must be an array");
	n = json_array_size(tests);
	if (n == 0)
		return bad(jp, "tests must not be empty");
	if (n > jp->config->judge_max_tests)
		return bad(jp,
			   "tests has %zu entries, more than this server's judge_max_tests (%u)", n,
			   jp->config->judge_max_tests);
	jp->judge->tests = calloc(n, sizeof(*jp->judge->tests));
	if (jp->judge->tests == NULL)
		return sp_request_fail(jp->fail, SP_REQ_INTERNAL, "out of memory");
	jp->judge->test_count = n;
	json_array_foreach(tests, i, test)
	{
		if (parse_test(jp, test, i) < 0)
			return -1;
	}
	if (fcntl(jp->judge->data_fd, F_ADD_SEALS, SEALS) < 0 ||
	    lseek(jp->judge->data_fd, 0, SEEK_SET) < 0)
		return sp_request_fail(jp->fail, SP_REQ_INTERNAL, "seal the test data: %s",
				       strerror(errno));
	return 0;
}

static int parse_program(struct judge_parse *jp, json_t *obj, const char *where,
			 const struct sp_language_set *languages, struct sp_request **out)
{
	struct sp_request *program = calloc(1, sizeof(*program));

	if (program == NULL)
		return sp_request_fail(jp->fail, SP_REQ_INTERNAL, "out of memory");
	if (sp_request_parse_program(obj, where, languages, jp->config, jp->total, program,
				     jp->fail) < 0) {
		free(program);
		return -1;
	}
	*out = program;
	return 0;
}

static int parse_epsilon(struct judge_parse *jp, json_t *checker)
{
	json_t *v = json_object_get(checker, "epsilon");

	jp->judge->epsilon = DEFAULT_EPSILON;
	if (v == NULL)
		return 0;
	if (jp->judge->checker_kind != SP_CHECKER_FLOAT)
		return bad(jp, "checker.epsilon is for the float checker only");
	if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0 ||
	    json_number_value(v) > 1)
		return bad(jp, "checker.epsilon must be a number from 0 to 1");
	jp->judge->epsilon = json_number_value(v);
	return 0;
}

static int parse_builtin(struct judge_parse *jp, json_t *checker)
{
	json_t *type = json_object_get(checker, "type");

	if (!json_is_string(type))
		return bad(jp, "checker.type must be a string");
	if (sp_checker_kind_from_string(json_string_value(type), &jp->judge->checker_kind) < 0)
		return bad(jp,
			   "checker.type must be \"exact\", \"lines\", \"tokens\" or \"float\"");
	return parse_epsilon(jp, checker);
}

static int parse_checker(struct judge_parse *jp, json_t *doc,
			 const struct sp_language_set *languages)
{
	json_t *checker = json_object_get(doc, "checker");

	jp->judge->checker_kind = SP_CHECKER_EXACT;
	jp->judge->epsilon = DEFAULT_EPSILON;
	if (checker == NULL)
		return 0;
	if (!json_is_object(checker))
		return bad(jp, "checker must be an object");
	if (json_object_get(checker, "type") != NULL && json_object_get(checker, "language"))
		return bad(jp, "checker: give a type (built in) or a language and code, not both");
	if (json_object_get(checker, "type") != NULL && json_object_get(doc, "interactor") != NULL)
		return bad(jp, "checker: after an interactor, a checker is a program (language "
			       "and code) that reads the interactor's judge/output");
	if (json_object_get(checker, "type") != NULL)
		return parse_builtin(jp, checker);
	return parse_program(jp, checker, "checker", languages, &jp->judge->checker);
}

static int parse_interactor(struct judge_parse *jp, json_t *doc,
			    const struct sp_language_set *languages)
{
	json_t *interactor = json_object_get(doc, "interactor");

	if (interactor == NULL)
		return 0;
	if (!json_is_object(interactor))
		return bad(jp, "interactor must be an object");
	return parse_program(jp, interactor, "interactor", languages, &jp->judge->interactor);
}

static int parse_stop(struct judge_parse *jp, json_t *doc)
{
	json_t *v = json_object_get(doc, "stop_on_first_failure");

	if (v != NULL && !json_is_boolean(v))
		return bad(jp, "stop_on_first_failure must be true or false");
	jp->judge->stop_on_first_failure = json_is_true(v);
	return 0;
}

/* "problem": a stored problem's id in place of the request's own tests,
 * checker and interactor; the limits the request gives, kept apart.
 * Returns 1 when the request names a problem, 0 when it does not, -1. */
static int parse_problem(struct judge_parse *jp, json_t *doc)
{
	static const char *const own[] = {"tests", "checker", "interactor"};
	static const struct sp_limits none;
	json_t *v = json_object_get(doc, "problem");
	const char *id = json_string_value(v);

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return bad(jp, "problem must be a string: the id of a stored problem");
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (json_object_get(doc, own[i]) != NULL)
			return bad(jp, "%s: a problem brings its own; leave %s out, or problem",
				   own[i], own[i]);
	if (!sp_problem_id_valid(id))
		return sp_request_fail(jp->fail, SP_REQ_UNKNOWN_PROBLEM,
				       "no problem \"%.40s\": a problem's id is 32 hex digits", id);
	memcpy(jp->judge->problem_id, id, SP_PROBLEM_ID_SIZE);
	if (sp_request_limits(doc, "limits", "limits", &none, jp->config, &jp->judge->asked,
			      jp->fail) < 0)
		return -1;
	return 1;
}

int sp_judge_parse(json_t *doc, struct sp_request *req, const struct sp_language_set *languages,
		   const struct sp_config *config, uint64_t *total, struct sp_request_failure *fail)
{
	struct judge_parse jp = {.config = config, .req = req, .total = total, .fail = fail};
	int rc;

	req->judge = calloc(1, sizeof(*req->judge));
	if (req->judge == NULL)
		return sp_request_fail(fail, SP_REQ_INTERNAL, "out of memory");
	jp.judge = req->judge;
	req->judge->checker_built.box_fd = req->judge->interactor_built.box_fd = -1;
	req->judge->data_fd = memfd_create("sandpool-tests", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (req->judge->data_fd < 0)
		return sp_request_fail(fail, SP_REQ_INTERNAL, "memfd_create: %s", strerror(errno));
	rc = parse_problem(&jp, doc);
	if (rc != 0)
		return rc < 0 ? -1 : parse_stop(&jp, doc);
	/* the programs first: they decide whether tests need an answer */
	if (parse_checker(&jp, doc, languages) < 0 || parse_interactor(&jp, doc, languages) < 0 ||
	    parse_stop(&jp, doc) < 0)
		return -1;
	return parse_tests(&jp, doc);
}

bool sp_judge_has_checker(const struct sp_judge *judge)
{
	return judge->checker != NULL || judge->checker_built.box_fd >= 0;
}

bool sp_judge_has_interactor(const struct sp_judge *judge)
{
	return judge->interactor != NULL || judge->interactor_built.box_fd >= 0;
}

/* What a test's result keeps: its output's first KiB each of stdout and
 * stderr (judge_test.h) and its figures, in JSON. */
#define TEST_RESULT_BYTES 4096

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* A program built before the request (a problem's): its files, once, and
 * *PER_TEST what one run of it takes. */
static uint64_t built_reserve(const struct sp_judge_built *built, uint64_t program_bytes,
			      uint64_t *per_test)
{
	if (built->box_fd < 0)
		return 0;
	*per_test += sp_request_output_reserve(&built->limits, NULL);
	return 2 * program_bytes;
}

/* A program of the request (a checker, an interactor, or NULL): its compile
 * and compiled files, once; *PER_TEST what one run of it takes. */
static uint64_t program_reserve(const struct sp_request *program, uint64_t program_bytes,
				uint64_t *per_test)
{
	if (program == NULL)
		return 0;
	*per_test += sp_request_output_reserve(&program->limits, NULL);
	if (program->compile_args == NULL)
		return 0;
	return sp_request_output_reserve(&program->compile_limits, NULL) + 2 * program_bytes;
}

uint64_t sp_judge_reserve(const struct sp_request *req, unsigned cells, uint64_t program_bytes)
{
	const struct sp_judge *judge = req->judge;
	uint64_t once = 2 * program_bytes, per_test = 0, output_kb = 0, bytes = 0;

	if (req->compile_args != NULL)
		once += sp_request_output_reserve(&req->compile_limits, NULL);
	once += program_reserve(judge->checker, program_bytes, &per_test);
	once += program_reserve(judge->interactor, program_bytes, &per_test);
	once += built_reserve(&judge->checker_built, program_bytes, &per_test);
	once += built_reserve(&judge->interactor_built, program_bytes, &per_test);
	for (size_t i = 0; i < judge->test_count; i++) {
		output_kb = max_u64(output_kb, judge->tests[i].limits.output_kb);
		bytes =
		    max_u64(bytes, judge->tests[i].input.length + judge->tests[i].answer.length);
	}
	/* the output read, and a copy for a checker program */
	per_test += output_kb * 1024 * (SP_OUTPUT_FACTOR + 1) + bytes;
	/* the interactor's judge/output, read for the checker (judge_case.c) */
	if (sp_judge_has_interactor(judge) && sp_judge_has_checker(judge)) {
		const struct sp_limits *l = judge->interactor != NULL
						? &judge->interactor->limits
						: &judge->interactor_built.limits;

		per_test += (l->file_kb ? l->file_kb : l->tmpfs_kb) * 1024;
	}
	return once + (cells ? cells : 1) * per_test + judge->test_count * TEST_RESULT_BYTES;
}

static void free_program(struct sp_request *program)
{
	if (program == NULL)
		return;
	sp_request_program_free(program);
	free(program);
}

void sp_judge_free(struct sp_judge *judge)
{
	if (judge == NULL)
		return;
	for (size_t i = 0; i < judge->test_count; i++)
		free(judge->tests[i].name);
	free(judge->tests);
	if (judge->data_fd >= 0)
		close(judge->data_fd);
	free_program(judge->checker);
	free_program(judge->interactor);
	if (judge->checker_built.box_fd >= 0)
		close(judge->checker_built.box_fd);
	if (judge->interactor_built.box_fd >= 0)
		close(judge->interactor_built.box_fd);
	if (judge->problem != NULL)
		sp_problem_free(judge->problem);
	free(judge->problem);
	free(judge);
}
