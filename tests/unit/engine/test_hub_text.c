/* An event serialized once for all its watchers: the same text as
 * json_dumps, whatever it holds, and a big string escaped once however many
 * times the event holds it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/engine/hub_text.h"

static void assert_same_as_dumps(json_t *event)
{
	struct sp_hub_text *t = sp_hub_text_new(event);
	char *want = json_dumps(event, JSON_COMPACT | JSON_ENCODE_ANY);
	char *got;

	assert_non_null(t);
	got = sp_hub_text_flatten(t);
	assert_string_equal(got, want);
	assert_int_equal(t->length, strlen(want));
	free(got);
	free(want);
	sp_hub_text_put(t);
}

static void test_small_events(void **state)
{
	json_t *ev = json_pack("{s:s, s:s, s:i, s:f, s:b, s:n, s:[i, s, {}], s:{}}", "type",
			       "stdout", "data", "tab\there \"quoted\" \\ é \x01", "n", 42, "x",
			       0.5, "t", 1, "z", "list", 1, "two", "empty", "o");

	(void)state;
	assert_same_as_dumps(ev);
	json_decref(ev);
	ev = json_array();
	assert_same_as_dumps(ev);
	json_decref(ev);
}

static void test_big_string_escaped_once(void **state)
{
	size_t n = 3 * SP_HUB_TEXT_BIG;
	char *out = malloc(n + 1);
	json_t *stdout_, *result, *ev;
	struct sp_hub_text *t;
	size_t bigs = 0;

	(void)state;
	for (size_t i = 0; i < n; i++)
		out[i] = i % 50 == 49 ? '\n' : (char)('a' + i % 26);
	out[n] = '\0';
	stdout_ = json_string(out);
	/* as a result holds it: at the top and in its run */
	result = json_pack("{s:s, s:O, s:{s:O, s:i}}", "status", "ok", "stdout", stdout_, "run",
			   "stdout", stdout_, "exit_code", 0);
	ev = json_pack("{s:s, s:O, s:s}", "type", "result", "result", result, "id", "abc");
	assert_same_as_dumps(ev);
	t = sp_hub_text_new(ev);
	assert_int_equal(t->big_count, 1);
	for (size_t i = 0; i < t->count; i++)
		bigs += t->pieces[i].data == t->big[0];
	assert_int_equal(bigs, 2);
	assert_non_null(sp_hub_text_get(t));
	sp_hub_text_put(t);
	sp_hub_text_put(t);
	json_decref(ev);
	json_decref(result);
	json_decref(stdout_);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_events),
	    cmocka_unit_test(test_big_string_escaped_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
