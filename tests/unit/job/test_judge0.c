/* Judge0 CE's languages, statuses and about, as its API lists them, from
 * the language files' "judge0" ids and names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/judge0.h"
#include "server/job/language.h"

/* The unit tests run from the top of the tree (tools/run-tests unit). */
#ifndef SP_SOURCE_DIR
#define SP_SOURCE_DIR "."
#endif

static json_t *lang(const char *name, int id, const char *judge0_name, const char *compile)
{
	json_t *doc = json_pack("{s:s, s:s, s:s, s:[s,s]}", "name", name, "image", name, "source",
				"main.x", "run", "./run", "{main}");

	if (id != 0)
		json_object_set_new(doc, "judge0",
				    json_pack("{s:i, s:s}", "id", id, "name", judge0_name));
	if (compile != NULL)
		json_object_set_new(doc, "compile", json_pack("[s,s]", compile, "{source}"));
	return doc;
}

static void load(struct sp_language_set *set)
{
	json_t *docs[] = {lang("python", 71, "Python (3.11.2)", NULL),
			  lang("c", 50, "C (GCC 12.2.0)", "gcc"), lang("odd", 0, NULL, NULL)};
	json_t *gone = lang("zed", 99, "Zed (1.0)", NULL);
	struct sp_language absent;
	struct sp_error err = {0};

	*set = (struct sp_language_set){.count = 3, .items = calloc(3, sizeof(*set->items))};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(sp_language_parse(docs[i], "x.json", &set->items[i], &err), 0);
		json_decref(docs[i]);
	}
	/* known, but its image is not there: what Judge0 calls archived */
	assert_int_equal(sp_language_parse(gone, "zed.json", &absent, &err), 0);
	json_decref(gone);
	assert_int_equal(sp_language_set_absent(set, &absent, "no image", &err), 0);
}

static void test_languages_by_name(void **state)
{
	struct sp_language_set set;
	json_t *list, *all, *one;

	(void)state;
	load(&set);
	list = sp_judge0_languages(&set, false);
	assert_int_equal(json_array_size(list), 2); /* "odd" has no Judge0 id */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), 50);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "name")),
			    "Python (3.11.2)");
	assert_null(json_object_get(json_array_get(list, 0), "is_archived"));
	all = sp_judge0_languages(&set, true);
	assert_int_equal(json_array_size(all), 3);
	assert_true(json_is_false(json_object_get(json_array_get(all, 1), "is_archived")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(all, 2), "id")), 99);
	assert_true(json_is_true(json_object_get(json_array_get(all, 2), "is_archived")));
	assert_null(sp_judge0_find(&set, 99));
	assert_non_null(sp_judge0_find_archived(&set, 99));
	one = sp_judge0_language(&set, 99);
	assert_true(json_is_true(json_object_get(one, "is_archived")));
	json_decref(one);
	one = sp_judge0_language(&set, 50);
	assert_string_equal(json_string_value(json_object_get(one, "compile_cmd")), "gcc {source}");
	assert_string_equal(json_string_value(json_object_get(one, "run_cmd")), "./run {main}");
	assert_string_equal(json_string_value(json_object_get(one, "source_file")), "main.x");
	json_decref(one);
	one = sp_judge0_language(&set, 71);
	assert_true(json_is_null(json_object_get(one, "compile_cmd")));
	assert_null(sp_judge0_language(&set, 72));
	assert_null(sp_judge0_find(&set, 0));
	json_decref(one);
	json_decref(list);
	json_decref(all);
	sp_language_set_free(&set);
}

static void test_statuses_and_about(void **state)
{
	json_t *statuses = sp_judge0_statuses(), *about = sp_judge0_about();

	(void)state;
	assert_int_equal(json_array_size(statuses), 14);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(statuses, 5), "description")),
	    "Compilation Error");
	assert_string_equal(sp_judge0_status_name(3), "Accepted");
	assert_null(sp_judge0_status_name(15));
	assert_null(sp_judge0_status_name(0));
	assert_string_equal(json_string_value(json_object_get(about, "version")), "1.13.1");
	json_decref(statuses);
	json_decref(about);
}

static void test_the_repository_languages_have_judge0_ids(void **state)
{
	struct sp_language_set set;
	struct sp_error err = {0};
	static const struct {
		const char *name;
		int id;
	} want[] = {{"python", 71},	{"c", 50},  {"cpp", 54},  {"java", 62},
		    {"javascript", 63}, {"go", 60}, {"rust", 73}, {"bash", 46}};

	(void)state;
	assert_int_equal(sp_language_set_load(&set, SP_SOURCE_DIR "/languages", &err), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(sp_language_find(&set, want[i].name)->judge0_id, want[i].id);
	sp_language_set_free(&set);
}

static bool same(const char *a, const char *b)
{
	return sp_judge0_same_output(a, strlen(a), b, strlen(b));
}

static void test_output_compared_as_judge0_does(void **state)
{
	(void)state;
	assert_true(same("42\n", "42"));
	assert_true(same("1 2  \n3\t\n\n\n", "1 2\n3"));
	assert_true(same("", "\n \n"));
	assert_true(same("a\r\nb\r\n", "a\nb"));
	assert_false(same("1  2", "1 2"));    /* inside a line, spaces count */
	assert_false(same("\n42", "42"));     /* a leading blank line counts */
	assert_false(same("1\n\n2", "1\n2")); /* and a blank line between */
	assert_false(same("42", "43"));
}

static json_t *step(const char *status, int signal)
{
	return json_pack("{s:s, s:o}", "status", status, "signal",
			 signal ? json_integer(signal) : json_null());
}

static void test_statuses_of_a_run(void **state)
{
	struct {
		const char *status;
		int signal, want;
	} cases[] = {
	    {"time_limit", 9, 5},	 {"runtime_error", 11, 7}, {"runtime_error", 25, 8},
	    {"runtime_error", 8, 9},	 {"runtime_error", 6, 10}, {"runtime_error", 0, 11},
	    {"runtime_error", 15, 12},	 {"memory_limit", 9, 12},  {"output_limit", 9, 8},
	    {"syscall_blocked", 31, 12}, {"internal_error", 0, 13}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *run = step(cases[i].status, cases[i].signal);

		assert_int_equal(sp_judge0_status_of(run, "", 0, NULL, 0), cases[i].want);
		json_decref(run);
	}
	json_t *ok = step("ok", 0);

	assert_int_equal(sp_judge0_status_of(ok, "42\n", 3, NULL, 0), 3);
	assert_int_equal(sp_judge0_status_of(ok, "42\n", 3, "42", 2), 3);
	assert_int_equal(sp_judge0_status_of(ok, "42\n", 3, "41", 2), 4);
	json_decref(ok);
}

static void args_are(const char *text, const char *want)
{
	json_t *words = sp_judge0_arguments(text);
	char *got = json_dumps(words, JSON_COMPACT);

	assert_string_equal(got, want);
	free(got);
	json_decref(words);
}

static void test_arguments_as_bash_splits_them(void **state)
{
	(void)state;
	args_are("", "[]");
	args_are("  a   b\tc ", "[\"a\",\"b\",\"c\"]");
	args_are("'a b' \"c d\" e\\ f", "[\"a b\",\"c d\",\"e f\"]");
	args_are("\"say \\\"hi\\\"\" 'it''s'", "[\"say \\\"hi\\\"\",\"its\"]");
	args_are("x$HOME;rm -rf /|cat `id` >out", "[\"xHOMErm\",\"-rf\",\"/cat\",\"id\",\"out\"]");
	args_are("''", "[\"\"]");
	args_are("'open", "[\"open\"]");
	args_are("ü \"é\"", "[\"ü\",\"é\"]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arguments_as_bash_splits_them),
	    cmocka_unit_test(test_output_compared_as_judge0_does),
	    cmocka_unit_test(test_statuses_of_a_run),
	    cmocka_unit_test(test_languages_by_name),
	    cmocka_unit_test(test_statuses_and_about),
	    cmocka_unit_test(test_the_repository_languages_have_judge0_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
