/* Piston's connect API, its data side: the init as an interactive run
 * request (its stdin as it is), the signals Piston knows by name, and the
 * runtime, data and exit messages made of sandpool's events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/config.h"
#include "server/job/language.h"
#include "server/job/piston.h"

static void load(struct sp_language_set *set)
{
	json_t *doc = json_pack("{s:s, s:s, s:[s], s:s, s:s, s:[s,s]}", "name", "python", "version",
				"3.11.2", "aliases", "py", "image", "python", "source", "main.py",
				"run", "python3", "main.py");
	struct sp_error err = {0};

	*set = (struct sp_language_set){.count = 1, .items = calloc(1, sizeof(*set->items))};
	assert_int_equal(sp_language_parse(doc, "python.json", &set->items[0], &err), 0);
	json_decref(doc);
}

static json_t *init_of(const char *extra)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"type\": \"init\", \"language\": \"py\", \"version\": \"3.x\", "
		 "\"files\": [{\"content\": \"print(input())\"}]%s}",
		 extra);
	return json_loads(text, 0, NULL);
}

static void test_init_as_a_request(void **state)
{
	struct sp_language_set set;
	struct sp_config config;
	const struct sp_language *language = NULL;
	char message[SP_PISTON_MESSAGE_MAX];
	json_t *init, *req, *runtime;

	(void)state;
	load(&set);
	sp_config_defaults(&config);

	/* stdin as it is: no newline added (more may follow as data) */
	init = init_of(", \"stdin\": \"ab\"");
	req = sp_piston_connect_request(init, &set, &config, &language, message);
	assert_non_null(req);
	assert_string_equal(json_string_value(json_object_get(req, "stdin")), "ab");
	assert_null(json_object_get(req, "interleave"));
	assert_string_equal(json_string_value(json_object_get(req, "language")), "python");
	runtime = sp_piston_runtime(language);
	assert_string_equal(json_string_value(json_object_get(runtime, "type")), "runtime");
	assert_string_equal(json_string_value(json_object_get(runtime, "version")), "3.11.2");
	json_decref(runtime);
	json_decref(req);
	json_decref(init);

	/* none: nothing is written first */
	init = init_of("");
	req = sp_piston_connect_request(init, &set, &config, &language, message);
	assert_string_equal(json_string_value(json_object_get(req, "stdin")), "");
	json_decref(req);
	json_decref(init);

	/* Piston's checks and words, as /api/v2/execute */
	init = init_of(", \"run_timeout\": \"1\"");
	assert_null(sp_piston_connect_request(init, &set, &config, &language, message));
	assert_string_equal(message, "If specified, run_timeout must be a number");
	json_decref(init);
	init = json_pack("{s:s, s:s, s:[]}", "language", "cobol", "version", "*", "files");
	assert_null(sp_piston_connect_request(init, &set, &config, &language, message));
	assert_string_equal(message, "cobol-* runtime is unknown");
	json_decref(init);
	sp_config_free(&config);
	sp_language_set_free(&set);
}

static void test_signals_by_piston_name(void **state)
{
	json_t *name;
	struct {
		const char *name;
		int n;
	} known[] = {{"SIGHUP", 1},
		     {"SIGKILL", 9},
		     {"SIGTERM", 15},
		     {"SIGSYS", 31},
		     {"SIGRTMIN", 34},
		     {"SIGRTMIN+1", 35},
		     {"SIGRTMIN+15", 49},
		     {"SIGRTMAX-14", 50},
		     {"SIGRTMAX-1", 63},
		     {"SIGRTMAX", 64},
		     {"SIGRTMIN+16", 0},
		     {"SIGRTMAX-15", 0},
		     {"SIGRTMIN+0", 0},
		     {"sigkill", 0},
		     {"KILL", 0},
		     {"9", 0},
		     {"", 0},
		     {"SIGKILL ", 0}};

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		name = json_string(known[i].name);
		assert_int_equal(sp_piston_signal(name), known[i].n);
		json_decref(name);
	}
	/* numbers are not among Piston's signals */
	name = json_integer(9);
	assert_int_equal(sp_piston_signal(name), 0);
	json_decref(name);
	assert_int_equal(sp_piston_signal(NULL), 0);
	assert_true(sp_piston_signal_ends(9));
	assert_true(sp_piston_signal_ends(15));
	assert_true(sp_piston_signal_ends(2));
	assert_true(sp_piston_signal_ends(40));
	assert_false(sp_piston_signal_ends(17)); /* SIGCHLD */
	assert_false(sp_piston_signal_ends(19)); /* SIGSTOP */
	assert_false(sp_piston_signal_ends(28)); /* SIGWINCH */
	assert_false(sp_piston_signal_ends(0));
}

static void test_data_messages(void **state)
{
	json_t *ev = json_pack("{s:s, s:s, s:s}", "type", "stdout", "data", "hi\n", "id", "x");
	json_t *msg = sp_piston_data(ev);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(msg, "type")), "data");
	assert_string_equal(json_string_value(json_object_get(msg, "stream")), "stdout");
	assert_string_equal(json_string_value(json_object_get(msg, "data")), "hi\n");
	assert_null(json_object_get(msg, "id"));
	json_decref(msg);
	json_decref(ev);
	/* bytes that are not UTF-8 (base64 "/2E=": ff 61) as node's toString() */
	ev = json_pack("{s:s, s:s, s:s}", "type", "stderr", "data", "/2E=", "encoding", "base64");
	msg = sp_piston_data(ev);
	assert_string_equal(json_string_value(json_object_get(msg, "stream")), "stderr");
	assert_string_equal(json_string_value(json_object_get(msg, "data")), "\xef\xbf\xbd"
									     "a");
	json_decref(msg);
	json_decref(ev);
}

static json_t *exit_of(const char *step_json, int killed_by)
{
	json_t *step = json_loads(step_json, 0, NULL);
	json_t *msg = sp_piston_exit(step, "run", killed_by);

	json_decref(step);
	return msg;
}

static void assert_exit(json_t *msg, json_int_t code, const char *signal, const char *status)
{
	assert_string_equal(json_string_value(json_object_get(msg, "type")), "exit");
	assert_string_equal(json_string_value(json_object_get(msg, "stage")), "run");
	if (code < 0)
		assert_true(json_is_null(json_object_get(msg, "code")));
	else
		assert_int_equal(json_integer_value(json_object_get(msg, "code")), code);
	if (signal == NULL)
		assert_true(json_is_null(json_object_get(msg, "signal")));
	else
		assert_string_equal(json_string_value(json_object_get(msg, "signal")), signal);
	if (status == NULL)
		assert_true(json_is_null(json_object_get(msg, "status")));
	else
		assert_string_equal(json_string_value(json_object_get(msg, "status")), status);
	json_decref(msg);
}

static void test_exit_messages(void **state)
{
	(void)state;
	assert_exit(exit_of("{\"status\": \"ok\", \"exit_code\": 0, \"signal\": null}", 0), 0, NULL,
		    NULL);
	assert_exit(
	    exit_of("{\"status\": \"runtime_error\", \"exit_code\": 3, \"signal\": null}", 0), 3,
	    NULL, "RE");
	assert_exit(
	    exit_of("{\"status\": \"runtime_error\", \"exit_code\": null, \"signal\": 11}", 0), -1,
	    "SIGSEGV", "SG");
	assert_exit(exit_of("{\"status\": \"time_limit\", \"exit_code\": null, \"signal\": 9}", 0),
		    -1, "SIGKILL", "TO");
	assert_exit(
	    exit_of("{\"status\": \"memory_limit\", \"exit_code\": null, \"signal\": 9}", 0), -1,
	    "SIGKILL", "SG");
	/* killed on the client's signal */
	json_t *msg =
	    exit_of("{\"status\": \"cancelled\", \"exit_code\": null, \"signal\": 9}", 15);
	assert_string_equal(json_string_value(json_object_get(msg, "message")),
			    "Killed on the client's SIGTERM");
	assert_exit(msg, -1, "SIGKILL", "SG");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_as_a_request),
	    cmocka_unit_test(test_signals_by_piston_name),
	    cmocka_unit_test(test_data_messages),
	    cmocka_unit_test(test_exit_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
