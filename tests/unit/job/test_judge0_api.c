/* Judge0 CE's submissions over sandpool's requests: its base64, its fields,
 * its tokens, a submission into a request (defaults, bounds, field errors)
 * and a job's view into its answer. The HTTP side is tested through HTTP
 * (tests/integration/test_judge0.py); these pin the rules down one by one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/base64.h"
#include "server/job/config.h"
#include "server/job/judge0_answer.h"
#include "server/job/judge0_base64.h"
#include "server/job/judge0_request.h"
#include "server/job/language.h"

/* The unit tests run from the top of the tree (tools/run-tests unit). */
#ifndef SP_SOURCE_DIR
#define SP_SOURCE_DIR "."
#endif

static void decodes_to(const char *text, const char *want, size_t want_len)
{
	size_t n;
	unsigned char *got = sp_judge0_base64_decode(text, strlen(text), &n);

	assert_non_null(got);
	assert_int_equal(n, want_len);
	assert_memory_equal(got, want, want_len);
	free(got);
}

static void test_base64_as_ruby_reads_and_writes_it(void **state)
{
	char *line;
	char sixty[46];

	(void)state;
	line = sp_judge0_base64_encode((const unsigned char *)"hi", 2);
	assert_string_equal(line, "aGk=\n");
	free(line);
	line = sp_judge0_base64_encode((const unsigned char *)"", 0);
	assert_string_equal(line, "");
	free(line);
	/* 45 bytes are 60 characters: one line; 46 two */
	memset(sixty, 'a', sizeof(sixty));
	line = sp_judge0_base64_encode((const unsigned char *)sixty, 45);
	assert_int_equal(strlen(line), 61);
	assert_int_equal(line[60], '\n');
	free(line);
	line = sp_judge0_base64_encode((const unsigned char *)sixty, 46);
	assert_int_equal(strlen(line), 61 + 5);
	assert_int_equal(line[60], '\n');
	assert_string_equal(line + 61, "YQ==\n");
	free(line);
	/* decode64: other characters skipped, a third or fourth '=' ends it */
	decodes_to("aGVs\nbG8=", "hello", 5);
	decodes_to("aGVsbG8", "hello", 5);
	decodes_to("aGk=aGk=", "hi", 2);
	decodes_to("=a=G=k", "h", 1); /* the third '=' ends it */
	decodes_to("a", "", 0);
	decodes_to("!!", "", 0);
	decodes_to("AA==", "\0", 1);
}

static void test_fields_as_judge0_reads_them(void **state)
{
	char invalid[64];
	uint64_t mask, all;

	(void)state;
	assert_int_equal(sp_judge0_fields(NULL, &mask, invalid, sizeof(invalid)), 0);
	assert_int_equal(mask, sp_judge0_default_fields());
	assert_int_equal(sp_judge0_fields("", &mask, invalid, sizeof(invalid)), 0);
	assert_int_equal(mask, sp_judge0_default_fields());
	assert_int_equal(sp_judge0_fields("*", &all, invalid, sizeof(invalid)), 0);
	assert_int_equal(__builtin_popcountll(all), 35);
	assert_int_equal(sp_judge0_fields("stdout,token,", &mask, invalid, sizeof(invalid)), 0);
	assert_int_equal(__builtin_popcountll(mask), 2);
	assert_int_equal(sp_judge0_fields("stdout,nope,x", &mask, invalid, sizeof(invalid)), -1);
	assert_string_equal(invalid, "nope, x");
	assert_int_equal(sp_judge0_fields("stdout,,token", &mask, invalid, sizeof(invalid)), -1);
	assert_int_equal(sp_judge0_fields("*,bad", &mask, invalid, sizeof(invalid)), -1);
	assert_string_equal(invalid, "bad");
}

static void test_a_form_as_rails_reads_it(void **state)
{
	const char *body = "source_code=print%28input%28%29%29&language_id=71&stdin=a+b%26c"
			   "&x=1&stdin=last&expected_output&bad=%zz";
	json_t *form = sp_judge0_form(body, strlen(body));

	(void)state;
	assert_non_null(form);
	assert_int_equal(json_object_size(form), 4);
	assert_string_equal(json_string_value(json_object_get(form, "source_code")),
			    "print(input())");
	assert_string_equal(json_string_value(json_object_get(form, "language_id")), "71");
	assert_string_equal(json_string_value(json_object_get(form, "stdin")), "last");
	assert_string_equal(json_string_value(json_object_get(form, "expected_output")), "");
	json_decref(form);
	form = sp_judge0_form("stdin=%ff", 9);
	assert_null(form);
	form = sp_judge0_form("stdin=%4", 8);
	assert_string_equal(json_string_value(json_object_get(form, "stdin")), "%4");
	json_decref(form);
}

static void test_tokens_are_job_ids(void **state)
{
	char token[SP_JUDGE0_TOKEN_SIZE], id[33];

	(void)state;
	sp_judge0_token_of("0123456789abcdef0123456789abcdef", token);
	assert_string_equal(token, "01234567-89ab-cdef-0123-456789abcdef");
	assert_true(sp_judge0_id_of(token, id));
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	assert_false(sp_judge0_id_of("01234567-89ab-cdef-0123-456789abcdeF", id));
	assert_false(sp_judge0_id_of("0123456789ab-cdef-0123-456789abcdef0", id));
	assert_false(sp_judge0_id_of("01234567-89ab-cdef-0123-456789abcde", id));
	assert_false(sp_judge0_id_of("../../etc/passwd", id));
}

struct fixture {
	struct sp_language_set languages;
	struct sp_config config;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sp_error err = {0};

	assert_int_equal(sp_language_set_load(&f->languages, SP_SOURCE_DIR "/languages", &err), 0);
	sp_config_defaults(&f->config);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sp_language_set_free(&f->languages);
	sp_config_free(&f->config);
	free(f);
	return 0;
}

static json_t *request_of(struct fixture *f, const char *submission, bool base64, json_t **errors)
{
	json_t *doc = json_loads(submission, 0, NULL), *request;

	assert_non_null(doc);
	request = sp_judge0_request(doc, base64, &f->languages, &f->config, 1000, errors);
	json_decref(doc);
	return request;
}

static json_int_t limit(const json_t *request, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(request, "limits"), key));
}

static void test_a_submission_with_judge0_defaults(void **state)
{
	json_t *errors,
	    *request = request_of(*state,
				  "{\"source_code\": \"int main(){}\", \"language_id\": \"50\", "
				  "\"compiler_options\": \"-O3 -DX='a b'\", \"stdin\": \"1 2\"}",
				  false, &errors);
	json_t *echo = json_object_get(request, "echo");

	assert_non_null(request);
	assert_null(errors);
	assert_string_equal(json_string_value(json_object_get(request, "language")), "c");
	/* cpu 5 s and its extra second: killed at 6 s */
	assert_int_equal(limit(request, "cpu_ms"), 6000);
	assert_int_equal(limit(request, "wall_ms"), 10000);
	assert_int_equal(limit(request, "memory_kb"), 128000);
	assert_int_equal(limit(request, "stack_kb"), 64000);
	assert_int_equal(limit(request, "processes"), 60);
	assert_int_equal(limit(request, "file_kb"), 1024);
	assert_int_equal(json_array_size(json_object_get(request, "compile_args")), 2);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(request, "compile_args"), 1)),
	    "-DX=a b");
	assert_string_equal(json_string_value(json_object_get(request, "stdin")), "MSAy");
	assert_int_equal(json_integer_value(json_object_get(echo, "created_at")), 1000);
	assert_int_equal(json_integer_value(json_object_get(echo, "language_id")), 50);
	assert_true(json_number_value(json_object_get(echo, "cpu_time_limit")) == 5.0);
	assert_true(json_is_null(json_object_get(echo, "expected_output")));
	json_decref(request);
}

static void test_a_submission_in_base64(void **state)
{
	json_t *errors, *request = request_of(*state,
					      "{\"source_code\": \"cHJp\\nbnQoMSk=\", "
					      "\"language_id\": 71, \"stdin\": \"eA\", "
					      "\"expected_output\": \"MQ==\"}",
					      true, &errors);
	json_t *file = json_array_get(json_object_get(request, "files"), 0);

	assert_non_null(request);
	assert_string_equal(json_string_value(json_object_get(file, "content")), "cHJpbnQoMSk=");
	assert_string_equal(json_string_value(json_object_get(request, "stdin")), "eA==");
	json_decref(request);
}

static void has_error(json_t *errors, const char *field, const char *message)
{
	json_t *list = json_object_get(errors, field), *item;
	size_t i;

	json_array_foreach(list, i, item) if (strcmp(json_string_value(item), message) == 0) return;
	fail_msg("%s: no \"%s\" in %s", field, message, json_dumps(errors, 0));
}

static void test_field_errors_as_rails_words_them(void **state)
{
	json_t *errors,
	    *request = request_of(
		*state,
		"{\"language_id\": 71, \"source_code\": \"  \", \"memory_limit\": 1,"
		" \"cpu_time_limit\": 16, \"cpu_extra_time\": \"x\", \"wall_time_limit\": 0.5,"
		" \"number_of_runs\": 0, \"max_processes_and_or_threads\": 121,"
		" \"enable_network\": true, \"enable_per_process_and_thread_time_limit\": "
		"\"true\", \"compiler_options\": \"-O2\", \"callback_url\": \"ftp://x\"}",
		false, &errors);

	assert_null(request);
	assert_non_null(errors);
	has_error(errors, "source_code", "can't be blank");
	has_error(errors, "memory_limit", "must be greater than or equal to 2048");
	has_error(errors, "cpu_time_limit", "must be less than or equal to 15.0");
	has_error(errors, "cpu_extra_time", "is not a number");
	has_error(errors, "wall_time_limit", "must be greater than or equal to 1");
	has_error(errors, "number_of_runs", "must be greater than 0");
	has_error(errors, "max_processes_and_or_threads", "must be less than or equal to 120");
	has_error(errors, "enable_network", "enabling network is not allowed");
	has_error(errors, "enable_per_process_and_thread_time_limit",
		  "this option cannot be enabled");
	has_error(errors, "compiler_options",
		  "setting compiler options is only allowed for compiled languages");
	assert_non_null(json_object_get(errors, "callback_url"));
	json_decref(errors);
	request = request_of(*state, "{\"source_code\": \"x\"}", false, &errors);
	assert_null(request);
	has_error(errors, "language_id", "can't be blank");
	json_decref(errors);
	request =
	    request_of(*state, "{\"source_code\": \"x\", \"language_id\": 4}", false, &errors);
	has_error(errors, "language_id", "language with id 4 doesn't exist");
	json_decref(errors);
	/* Rails truncates an integer column's value; a huge one stays itself */
	request =
	    request_of(*state, "{\"source_code\": \"x\", \"language_id\": 71.9}", false, &errors);
	assert_non_null(request);
	json_decref(request);
	request = request_of(*state,
			     "{\"source_code\": \"x\", \"language_id\": \"5e20\", "
			     "\"memory_limit\": 1e300, \"cpu_time_limit\": -1e300}",
			     false, &errors);
	assert_null(request);
	has_error(errors, "language_id", "language with id 500000000000000000000 doesn't exist");
	has_error(errors, "memory_limit", "must be less than or equal to 512000");
	has_error(errors, "cpu_time_limit", "must be greater than or equal to 0");
	json_decref(errors);
}

static json_t *view_of(const char *result)
{
	json_t *view = json_pack("{s:s, s:s, s:i, s:i}", "state", "done", "language", "python",
				 "queued_ms", 5, "run_ms", 20);

	json_object_set_new(view, "result", json_loads(result, 0, NULL));
	return view;
}

#define ECHO                                                                                       \
	"\"echo\": {\"created_at\": 1000, \"language_id\": 71, \"cpu_time_limit\": 1.5, "          \
	"\"source_code\": \"eA==\", \"stdin\": null, \"expected_output\": %s}"

static json_t *answer_of(struct fixture *f, const char *run, const char *expected, bool base64,
			 bool *not_utf8)
{
	char text[2048];
	json_t *view, *answer;
	uint64_t all;
	char invalid[8];

	snprintf(text, sizeof(text),
		 "{\"status\": \"ok\", \"compile\": null, \"run\": %s, " ECHO "}", run, expected);
	view = view_of(text);
	assert_int_equal(sp_judge0_fields("*", &all, invalid, sizeof(invalid)), 0);
	answer = sp_judge0_submission("t", view, &f->languages, all, base64, not_utf8);
	json_decref(view);
	return answer;
}

static int status_of(const json_t *answer)
{
	return (int)json_integer_value(json_object_get(answer, "status_id"));
}

static void test_an_answer_from_a_view(void **state)
{
	bool not_utf8;
	json_t *a = answer_of(*state,
			      "{\"status\": \"ok\", \"exit_code\": 0, \"signal\": null, "
			      "\"cpu_ms\": 12, \"wall_ms\": 1000, \"memory_kb\": 900, "
			      "\"stdout\": \"3  \\n\", \"stderr\": \"\"}",
			      "\"MwoK\"", false, &not_utf8);

	assert_non_null(a);
	assert_int_equal(status_of(a), 3);
	assert_string_equal(json_string_value(json_object_get(a, "time")), "0.012");
	assert_string_equal(json_string_value(json_object_get(a, "wall_time")), "1.0");
	assert_string_equal(json_string_value(json_object_get(a, "cpu_time_limit")), "1.5");
	assert_int_equal(json_integer_value(json_object_get(a, "memory")), 900);
	assert_true(json_is_null(json_object_get(a, "stderr")));
	assert_true(json_is_null(json_object_get(a, "message")));
	assert_string_equal(json_string_value(json_object_get(a, "source_code")), "x");
	assert_string_equal(json_string_value(json_object_get(a, "created_at")),
			    "1970-01-01T00:00:01.000Z");
	assert_string_equal(json_string_value(json_object_get(a, "finished_at")),
			    "1970-01-01T00:00:01.025Z");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "language"), "id")),
			 71);
	json_decref(a);
	/* a wrong answer, then over the cpu limit within its extra time */
	a = answer_of(*state, "{\"status\": \"ok\", \"cpu_ms\": 1, \"stdout\": \"4\"}", "\"Mw==\"",
		      false, &not_utf8);
	assert_int_equal(status_of(a), 4);
	json_decref(a);
	a = answer_of(*state, "{\"status\": \"ok\", \"cpu_ms\": 1501, \"stdout\": \"3\"}",
		      "\"Mw==\"", false, &not_utf8);
	assert_int_equal(status_of(a), 5);
	assert_string_equal(json_string_value(json_object_get(a, "message")),
			    "Time limit exceeded");
	json_decref(a);
	/* NZEC and its words, in base64 when asked */
	a = answer_of(*state, "{\"status\": \"runtime_error\", \"exit_code\": 3, \"stdout\": \"\"}",
		      "null", true, &not_utf8);
	assert_int_equal(status_of(a), 11);
	assert_string_equal(json_string_value(json_object_get(a, "message")),
			    "RXhpdGVkIHdpdGggZXJyb3Igc3RhdHVzIDM=\n");
	assert_true(json_is_null(json_object_get(a, "stdout")));
	json_decref(a);
}

static void test_output_not_utf8_needs_base64(void **state)
{
	bool not_utf8 = false;
	json_t *a = answer_of(*state,
			      "{\"status\": \"ok\", \"stdout\": \"/w==\", \"stdout_encoding\": "
			      "\"base64\"}",
			      "null", false, &not_utf8);

	assert_null(a);
	assert_true(not_utf8);
	a = answer_of(*state,
		      "{\"status\": \"ok\", \"stdout\": \"/w==\", \"stdout_encoding\": \"base64\"}",
		      "null", true, &not_utf8);
	assert_non_null(a);
	assert_false(not_utf8);
	assert_string_equal(json_string_value(json_object_get(a, "stdout")), "/w==\n");
	json_decref(a);
}

static void test_queued_compile_error_and_unrun(void **state)
{
	struct fixture *f = *state;
	json_t *view =
		   json_pack("{s:s, s:s, s:i}", "state", "queued", "language", "c", "queued_ms", 5),
	       *a;
	bool not_utf8;

	a = sp_judge0_submission("t", view, &f->languages, sp_judge0_default_fields(), false,
				 &not_utf8);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "status"), "id")),
			 1);
	assert_true(json_is_null(json_object_get(a, "time")));
	json_decref(a);
	json_decref(view);
	view = view_of("{\"status\": \"compile_error\", \"compile\": {\"status\": "
		       "\"compile_error\", \"stdout\": \"\", \"stderr\": \"main.c: error\"}, "
		       "\"run\": null, \"echo\": {\"language_id\": 50}}");
	a = sp_judge0_submission("t", view, &f->languages, sp_judge0_default_fields(), false,
				 &not_utf8);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "status"), "id")),
			 6);
	assert_string_equal(json_string_value(json_object_get(a, "compile_output")),
			    "main.c: error");
	json_decref(a);
	json_decref(view);
	view = view_of("{\"status\": \"cancelled\", \"compile\": null, \"run\": null, "
		       "\"error\": \"not started within the queue timeout (1000 ms)\"}");
	a = sp_judge0_submission("t", view, &f->languages, sp_judge0_default_fields(), false,
				 &not_utf8);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "status"), "id")),
			 13);
	assert_string_equal(json_string_value(json_object_get(a, "message")),
			    "not started within the queue timeout (1000 ms)");
	json_decref(a);
	json_decref(view);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_as_ruby_reads_and_writes_it),
	    cmocka_unit_test(test_fields_as_judge0_reads_them),
	    cmocka_unit_test(test_tokens_are_job_ids),
	    cmocka_unit_test(test_a_form_as_rails_reads_it),
	    cmocka_unit_test_setup_teardown(test_a_submission_with_judge0_defaults, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_a_submission_in_base64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_field_errors_as_rails_words_them, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_an_answer_from_a_view, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_not_utf8_needs_base64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queued_compile_error_and_unrun, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
