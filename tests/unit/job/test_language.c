/* Language files and limits from JSON. */
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

#include "server/job/language.h"
#include "server/job/limits_json.h"

static const char c_lang[] =
    "{\"name\": \"c\", \"aliases\": [\"gcc\"], \"version\": \"12\", \"image\": \"gcc\","
    " \"source\": \"main.c\", \"compile\": [\"gcc\", \"-o\", \"main\", \"main.c\"],"
    " \"run\": [\"./main\"], \"env\": {\"LANG\": \"C.UTF-8\"},"
    " \"limits\": {\"cpu_ms\": 1000, \"memory_kb\": 65536},"
    " \"compile_limits\": {\"wall_ms\": 30000}}";

static int parse(const char *text, struct sp_language *lang, struct sp_error *err)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	int rc;

	assert_non_null(doc);
	rc = sp_language_parse(doc, "test.json", lang, err);
	json_decref(doc);
	return rc;
}

static void test_parse_compiled_language(void **state)
{
	struct sp_language lang;
	struct sp_error err = {0};

	(void)state;
	assert_int_equal(parse(c_lang, &lang, &err), 0);
	assert_string_equal(lang.name, "c");
	assert_string_equal(lang.aliases[0], "gcc");
	assert_null(lang.aliases[1]);
	assert_string_equal(lang.compile[0], "gcc");
	assert_string_equal(lang.compile[3], "main.c");
	assert_null(lang.compile[4]);
	assert_string_equal(lang.run[0], "./main");
	assert_string_equal(lang.env[0], "LANG=C.UTF-8");
	assert_null(lang.env[1]);
	assert_string_equal(lang.policy, "default");
	assert_int_equal(lang.limits.cpu_ms, 1000);
	assert_int_equal(lang.limits.memory_kb, 65536);
	assert_int_equal(lang.limits.wall_ms, 5000); /* default kept */
	assert_int_equal(lang.compile_limits.wall_ms, 30000);
	sp_language_free(&lang);
}

/* A language with KEYS (a "prepare" and the like) after its own. */
#define PREPARED(keys)                                                                             \
	"{\"name\": \"x\", \"image\": \"x\", \"source\": \"a\", \"run\": [\"a\"], " keys "}"

static void test_bad_languages(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
	    {"[]", "JSON object"},
	    {"{\"image\": \"x\", \"source\": \"a\", \"run\": [\"a\"]}", "\"name\""},
	    {"{\"name\": \"Bad Name\", \"image\": \"x\", \"source\": \"a\", \"run\": [\"a\"]}",
	     "valid language name"},
	    {"{\"name\": \"x\", \"image\": \"x\", \"source\": \"../a\", \"run\": [\"a\"]}",
	     "plain file name"},
	    {"{\"name\": \"x\", \"image\": \"x\", \"source\": \"a\", \"run\": []}", "\"run\""},
	    {"{\"name\": \"x\", \"image\": \"x\", \"source\": \"a\", \"run\": [1]}", "\"run\"[0]"},
	    {"{\"name\": \"x\", \"image\": \"x\", \"source\": \"a\", \"run\": [\"a\"],"
	     " \"env\": {\"A\": 1}}",
	     "env.A"},
	    {"{\"name\": \"x\", \"image\": \"x\", \"source\": \"a\", \"run\": [\"a\"],"
	     " \"limits\": {\"cpu_ms\": -1}}",
	     "limits.cpu_ms"},
	    {"{\"name\": \"x\", \"image\": \"x\", \"source\": \"a\", \"run\": [\"a\"],"
	     " \"limits\": {\"memory_kb\": \"lots\"}}",
	     "limits.memory_kb must be an integer"},
	    {"{\"name\": \"x\", \"image\": \"x\", \"source\": \"a\", \"run\": [\"a\"],"
	     " \"compile_limits\": {\"wall_ms\": 99999999}}",
	     "compile_limits.wall_ms"},
	    {PREPARED("\"prepare\": []"), "\"prepare\" must be an object"},
	    {PREPARED("\"prepare\": {\"path\": \"/tmp/x/l.py\"}"), "\"loader\""},
	    {PREPARED("\"prepare\": {\"loader\": \"../l.py\", \"path\": \"/tmp/x/l.py\"}"),
	     "beside it"},
	    {PREPARED("\"prepare\": {\"loader\": \"/etc/l.py\", \"path\": \"/tmp/x/l.py\"}"),
	     "beside it"},
	    {PREPARED("\"prepare\": {\"loader\": \"l.py\", \"path\": \"/box/l.py\"}"),
	     "below /tmp"},
	    {PREPARED("\"prepare\": {\"loader\": \"l.py\", \"path\": \"/tmp/../etc/l\"}"),
	     "below /tmp"},
	    {PREPARED("\"prepare\": {\"loader\": \"l.py\", \"path\": \"/tmp/\"}"), "below /tmp"},
	    {PREPARED("\"prepare\": {\"loader\": \"l.py\", \"path\": \"/tmp//l\"}"), "below /tmp"},
	    {PREPARED("\"prepare\": {\"loader\": \"l.py\", \"path\": \"/tmp/x/\"}"), "below /tmp"},
	    {PREPARED("\"prepare\": {\"loader\": \"l.py\", \"path\": \"/tmp/l\", "
		      "\"arguments\": 1}"),
	     "true or false"},
	    {PREPARED("\"prepare\": {\"loader\": \"l.py\", \"path\": \"/tmp/l\", "
		      "\"env\": {\"A\": 2}}"),
	     "env.A"},
	    {PREPARED("\"prepare\": {\"loader\": \"l.py\", \"path\": \"/tmp/l\", "
		      "\"args\": [3]}"),
	     "\"args\"[0]"},
	    {PREPARED("\"prepare_compile\": {\"loader\": \"l.py\", \"path\": \"/tmp/l\"}"),
	     "without a compile"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sp_language lang;
		struct sp_error err = {0};

		assert_int_equal(parse(cases[i].text, &lang, &err), -1);
		if (strstr(err.message, cases[i].message) == NULL)
			fail_msg("case %zu: '%s' does not mention '%s'", i, err.message,
				 cases[i].message);
		sp_language_free(&lang);
	}
}

/* A prepared runtime: its loader beside the language file, where it goes,
 * its environment and arguments; a job's arguments follow unless said. */
static void test_prepare(void **state)
{
	struct sp_language lang;
	struct sp_error err = {0};
	json_error_t jerr;
	json_t *doc = json_loads(
	    PREPARED("\"compile\": [\"cc\"], \"prepare\": {\"loader\": \"prepare/l.py\", "
		     "\"path\": \"/tmp/.p/l.py\", \"env\": {\"P\": \"/tmp/.p\"}}, "
		     "\"prepare_compile\": {\"loader\": \"a.so\", \"path\": \"/tmp/.q/a.so\", "
		     "\"args\": [\"-agentpath:/tmp/.q/a.so\"], \"arguments\": false}"),
	    0, &jerr);

	(void)state;
	assert_non_null(doc);
	assert_int_equal(sp_language_parse(doc, "/langs/x.json", &lang, &err), 0);
	json_decref(doc);
	assert_string_equal(lang.prepare.loader, "/langs/prepare/l.py");
	assert_string_equal(lang.prepare.path, "/tmp/.p/l.py");
	assert_string_equal(lang.prepare.env[0], "P=/tmp/.p");
	assert_null(lang.prepare.env[1]);
	assert_null(lang.prepare.args[0]);
	assert_true(lang.prepare.takes_arguments);
	assert_string_equal(lang.prepare_compile.loader, "/langs/a.so");
	assert_string_equal(lang.prepare_compile.args[0], "-agentpath:/tmp/.q/a.so");
	assert_null(lang.prepare_compile.env[0]);
	assert_false(lang.prepare_compile.takes_arguments);
	sp_language_free(&lang);
	assert_int_equal(parse(c_lang, &lang, &err), 0);
	assert_null(lang.prepare.loader);
	assert_null(lang.prepare_compile.loader);
	sp_language_free(&lang);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_set(void **state)
{
	char dir[] = "/tmp/sp-lang-test-XXXXXX";
	struct sp_language_set set;
	struct sp_error err = {0};
	char cmd[128];

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "c.json", c_lang);
	write_file(dir, "python.json",
		   "{\"name\": \"python\", \"aliases\": [\"py\"], \"image\": \"python\","
		   " \"source\": \"main.py\", \"run\": [\"python3\", \"main.py\"]}");
	write_file(dir, "README.txt", "not a language");
	assert_int_equal(sp_language_set_load(&set, dir, &err), 0);
	assert_int_equal(set.count, 2);
	assert_string_equal(sp_language_find(&set, "py")->name, "python");
	assert_string_equal(sp_language_find(&set, "gcc")->name, "c");
	assert_null(sp_language_find(&set, "cobol"));
	assert_null(sp_language_find(&set, "python")->compile);
	sp_language_set_free(&set);
	/* an alias used twice is refused, naming the file */
	write_file(dir, "z.json",
		   "{\"name\": \"z\", \"aliases\": [\"py\"], \"image\": \"z\","
		   " \"source\": \"z\", \"run\": [\"z\"]}");
	assert_int_equal(sp_language_set_load(&set, dir, &err), -1);
	assert_non_null(strstr(err.message, "z.json"));
	assert_non_null(strstr(err.message, "alias \"py\" is taken"));
	write_file(dir, "z.json", "{not json");
	assert_int_equal(sp_language_set_load(&set, dir, &err), -1);
	assert_non_null(strstr(err.message, "z.json: line 1"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_limits_round_trip(void **state)
{
	struct sp_limits limits = {0}, back = {0};
	struct sp_error err = {0};
	json_t *obj;

	(void)state;
	obj = json_pack("{s:i, s:i, s:i}", "cpu_ms", 1500, "output_kb", 64, "unknown", 3);
	assert_int_equal(sp_limits_from_json(obj, "limits", &limits, &err), 0);
	assert_int_equal(limits.cpu_ms, 1500);
	assert_int_equal(limits.output_kb, 64);
	json_decref(obj);
	obj = sp_limits_to_json(&limits);
	assert_int_equal(sp_limits_from_json(obj, "x", &back, &err), -1); /* zeros refused */
	json_object_set_new(obj, "wall_ms", json_integer(1));
	json_decref(obj);
	obj = json_pack("{s:f}", "cpu_ms", 1.5);
	assert_int_equal(sp_limits_from_json(obj, "limits", &limits, &err), -1);
	assert_string_equal(err.message, "limits.cpu_ms must be an integer");
	json_decref(obj);
	obj = json_pack("{s:b}", "processes", 1);
	assert_int_equal(sp_limits_from_json(obj, "limits", &limits, &err), -1);
	json_decref(obj);
	obj = json_pack("{s:I}", "memory_kb", (json_int_t)1 << 40);
	assert_int_equal(sp_limits_from_json(obj, "limits", &limits, &err), -1);
	assert_non_null(strstr(err.message, "limits.memory_kb must be from 1 to"));
	json_decref(obj);
	assert_int_equal(sp_limits_from_json(json_null(), "limits", &limits, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_compiled_language),
	    cmocka_unit_test(test_bad_languages),
	    cmocka_unit_test(test_prepare),
	    cmocka_unit_test(test_load_set),
	    cmocka_unit_test(test_limits_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
