/* One YAML document into a jansson value (server/job/yaml_doc.c): the
 * values as PyYAML's SafeLoader resolves them (each surprise checked against
 * PyYAML 6), the refusals with their lines, the bounds, and real problem
 * package files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "server/job/utf8.h"
#include "server/job/yaml_doc.h"

#define WHAT "problem.yaml"

/* sp_yaml_parse on TEXT (LEN bytes) copied into a buffer of its exact size,
 * so that nothing past it is there to be read, and what holds of every
 * answer: 0 with a value, or -1 with no value and a message that is
 * NUL-terminated, valid UTF-8, one line, and names the text. */
static int parse(const char *text, size_t len, json_t **out, struct sp_error *err)
{
	char *copy = malloc(len > 0 ? len : 1);
	size_t msg_len;
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(err, 0xa5, sizeof(*err));
	*out = (json_t *)(uintptr_t)0x1;
	rc = sp_yaml_parse(copy, len, WHAT, out, err);
	free(copy);
	if (rc == 0) {
		assert_non_null(*out);
		return 0;
	}
	assert_int_equal(rc, -1);
	assert_null(*out);
	msg_len = strnlen(err->message, sizeof(err->message));
	assert_true(msg_len < sizeof(err->message));
	assert_true(sp_utf8_valid(err->message, msg_len));
	assert_null(memchr(err->message, '\n', msg_len));
	assert_memory_equal(err->message, WHAT ": line ", strlen(WHAT ": line "));
	return -1;
}

/* TEXT (LEN bytes) reads as the value of the JSON text WANT: the same types
 * (1 is not 1.0), the same values, exactly. */
static void check_reads(const char *text, size_t len, const char *want)
{
	struct sp_error err;
	json_error_t jerr;
	json_t *got, *expected;

	if (parse(text, len, &got, &err) < 0)
		fail_msg("%s", err.message);
	expected = json_loads(want, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (expected == NULL)
		fail_msg("bad expected JSON %s: %s", want, jerr.text);
	if (!json_equal(got, expected)) {
		char *dump = json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS);

		print_message("got  %s\nwant %s\n", dump, want);
		free(dump);
	}
	assert_true(json_equal(got, expected));
	json_decref(got);
	json_decref(expected);
}

/* TEXT (LEN bytes) is refused with errno EINVAL and the message WANT, or,
 * when PREFIX, a message that starts with WANT. */
static void check_fails(const char *text, size_t len, const char *want, bool prefix)
{
	struct sp_error err;
	json_t *got;

	if (parse(text, len, &got, &err) == 0) {
		char *dump = json_dumps(got, JSON_ENCODE_ANY);

		json_decref(got);
		print_message("read as %s, not refused with %s\n", dump, want);
		free(dump);
		fail();
	}
	assert_int_equal(err.errnum, EINVAL);
	if (prefix && strncmp(err.message, want, strlen(want)) != 0)
		fail_msg("'%s' does not start with '%s'", err.message, want);
	if (!prefix)
		assert_string_equal(err.message, want);
}

/* YAML is a string literal (it may hold NUL bytes); WANT JSON text. */
#define READS(yaml, want) check_reads(yaml, sizeof(yaml) - 1, want)
#define FAILS(yaml, msg)  check_fails(yaml, sizeof(yaml) - 1, WHAT ": " msg, false)
/* For libyaml's own messages: only the line is sandpool's. */
#define FAILS_AT(yaml, start) check_fails(yaml, sizeof(yaml) - 1, WHAT ": " start, true)
/* One plain scalar as the value of a mapping, read as WANT (JSON text). */
#define VALUE(scalar, want) READS("v: " scalar "\n", "{\"v\": " want "}")

/* A text made here is refused with the message WANT (without "WHAT: "). */
static void fails_text(const char *text, const char *want)
{
	char full[SP_ERROR_MESSAGE_MAX];

	snprintf(full, sizeof(full), "%s: %s", WHAT, want);
	check_fails(text, strlen(text), full, false);
}

/* ---- documents ----------------------------------------------------------- */

static void test_empty_documents(void **state)
{
	struct sp_error err;
	json_t *out = NULL;

	(void)state;
	READS("", "null");
	READS("\n\n   \n", "null");
	READS("# a comment\n  # and another\n", "null");
	READS("---\n", "null");
	READS("--- # nothing\n...\n", "null");
	READS("~\n", "null");
	/* No text at all. */
	assert_int_equal(sp_yaml_parse(NULL, 0, WHAT, &out, &err), 0);
	assert_true(json_is_null(out));
	json_decref(out);
}

static void test_one_document_only(void **state)
{
	(void)state;
	READS("a: 1\n...\n", "{\"a\": 1}");
	READS("---\na: 1\n...\n# the end\n", "{\"a\": 1}");
	READS("%YAML 1.1\n---\na: 1\n", "{\"a\": 1}");
	FAILS("a: 1\n---\nb: 2\n", "line 2: a second document (only one is allowed)");
	FAILS("---\na: 1\n---\nb: 2\n", "line 3: a second document (only one is allowed)");
	/* PyYAML refuses an empty second document too. */
	FAILS("---\na: 1\n---\n", "line 3: a second document (only one is allowed)");
	FAILS("---\n---\n", "line 2: a second document (only one is allowed)");
	FAILS("a: 1\n...\n---\nb: 2\n", "line 3: a second document (only one is allowed)");
	/* After "...", content without "---" is no document (PyYAML agrees). */
	FAILS("a: 1\n...\nb: 2\n", "line 3: did not find expected <document start>");
}

/* ---- mappings and sequences --------------------------------------------- */

static void test_mappings_and_sequences(void **state)
{
	(void)state;
	READS("a: 1\nb:\n  c: [1, two, 3.5]\n  d:\n    - x\n    - {e: f}\n",
	      "{\"a\": 1, \"b\": {\"c\": [1, \"two\", 3.5], \"d\": [\"x\", {\"e\": \"f\"}]}}");
	READS("- 1\n- - 2\n  - 3\n- []\n- {}\n", "[1, [2, 3], [], {}]");
	READS("{a: 1, b: [x, y]}", "{\"a\": 1, \"b\": [\"x\", \"y\"]}");
	READS("[a: 1, b]", "[{\"a\": 1}, \"b\"]");
	READS("plain text\n", "\"plain text\"");
	READS("42", "42");
	/* The same key in two mappings is no duplicate. */
	READS("a: {x: 1}\nb: {x: 2}\n", "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}");
}

static void test_keys_are_text(void **state)
{
	(void)state;
	READS("1: a\nyes: b\n~: c\n1.5: d\n'q': e\n0x10: f\n\"\": g\nnull: h\n",
	      "{\"1\": \"a\", \"yes\": \"b\", \"~\": \"c\", \"1.5\": \"d\", \"q\": \"e\", "
	      "\"0x10\": \"f\", \"\": \"g\", \"null\": \"h\"}");
	/* A tagged key keeps its text too, once its tag fits it. */
	READS("!!int 007: a\n!!str x: b\n", "{\"007\": \"a\", \"x\": \"b\"}");
	READS("\"caf\\u00e9\": 1\n", "{\"caf\\u00e9\": 1}");
	FAILS("!!int x: 1\n", "line 1: 'x' is not an integer (!!int)");
	FAILS("\"a\\0b\": 1\n", "line 1: a key holds a NUL character");
}

static void test_non_scalar_keys(void **state)
{
	(void)state;
	FAILS("? [a]\n: 1\n", "line 1: a key must be a scalar, not a sequence");
	FAILS("x: 1\n? {a: 1}\n: 2\n", "line 2: a key must be a scalar, not a mapping");
	FAILS("{[a, b]: 1}", "line 1: a key must be a scalar, not a sequence");
	FAILS("- x\n- {{a: 1}: 2}\n", "line 2: a key must be a scalar, not a mapping");
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	FAILS("name: A\ntype: pass-fail\nname: B\n", "line 3: duplicate key 'name'");
	FAILS("'a': 1\n\"a\": 2\n", "line 2: duplicate key 'a'");
	FAILS("1: x\n'1': y\n", "line 2: duplicate key '1'");
	FAILS("limits:\n  time: 1\n  memory: 2\n  time: 3\n", "line 4: duplicate key 'time'");
	FAILS("{a: 1, b: 2, a: 3}", "line 1: duplicate key 'a'");
	/* Shown escaped, as one line. */
	FAILS("\"a\\nb\\\\c\\td\": 1\n\"a\\nb\\\\c\\td\": 2\n",
	      "line 2: duplicate key 'a\\nb\\\\c\\td'");
	FAILS("\"\\e\": 1\n\"\\e\": 2\n", "line 2: duplicate key '\\x1b'");
	FAILS("caf\xc3\xa9: 1\ncaf\xc3\xa9: 2\n", "line 2: duplicate key 'caf\xc3\xa9'");
}

static void test_long_duplicate_key_is_cut(void **state)
{
	char text[600], want[200], key[250];

	(void)state;
	memset(key, 'k', 200);
	key[200] = '\0';
	snprintf(text, sizeof(text), "%s: 1\n%s: 2\n", key, key);
	/* 60 bytes shown, then "...". */
	snprintf(want, sizeof(want), "line 2: duplicate key '%.60s'...", key);
	fails_text(text, want);
	/* A character is never cut: 59 'k' and then a 2-byte 'é' does not fit. */
	memset(key, 'k', 59);
	memcpy(key + 59, "\xc3\xa9xyz", 6);
	snprintf(text, sizeof(text), "%s: 1\n%s: 2\n", key, key);
	snprintf(want, sizeof(want), "line 2: duplicate key '%.59s'...", key);
	fails_text(text, want);
}

/* ---- scalars ------------------------------------------------------------- */

static void test_nulls(void **state)
{
	(void)state;
	VALUE("~", "null");
	VALUE("null", "null");
	VALUE("Null", "null");
	VALUE("NULL", "null");
	VALUE("", "null");
	READS("a:\nb: 1\n", "{\"a\": null, \"b\": 1}");
	READS("- \n- ~\n-\n", "[null, null, null]");
	VALUE("nUll", "\"nUll\"");
	VALUE("nil", "\"nil\"");
	VALUE("None", "\"None\"");
	VALUE("'~'", "\"~\"");
	VALUE("\"null\"", "\"null\"");
}

static void test_booleans(void **state)
{
	(void)state;
	READS("[yes, Yes, YES, true, True, TRUE, on, On, ON]",
	      "[true, true, true, true, true, true, true, true, true]");
	READS("[no, No, NO, false, False, FALSE, off, Off, OFF]",
	      "[false, false, false, false, false, false, false, false, false]");
	/* YAML 1.1's y and n are not in PyYAML's resolver. */
	READS("[y, Y, n, N, yEs, tRUE, oN, 'yes', \"off\", yes please]",
	      "[\"y\", \"Y\", \"n\", \"N\", \"yEs\", \"tRUE\", \"oN\", \"yes\", \"off\", "
	      "\"yes please\"]");
}

static void test_integers(void **state)
{
	(void)state;
	VALUE("0", "0");
	VALUE("-0", "0");
	VALUE("+0", "0");
	VALUE("42", "42");
	VALUE("-17", "-17");
	VALUE("+12", "12");
	VALUE("1_000_000", "1000000");
	VALUE("1__0_", "10");
	VALUE("0x1F", "31");
	VALUE("0x1f", "31");
	VALUE("-0x1F", "-31");
	VALUE("0x_f_f", "255");
	VALUE("012", "10");
	VALUE("-012", "-10");
	VALUE("00", "0");
	VALUE("0_", "0");
	VALUE("0b101", "5");
	VALUE("+0b1_1", "3");
	/* Not integers in PyYAML: strings. */
	VALUE("09", "\"09\"");
	VALUE("08", "\"08\"");
	VALUE("0o17", "\"0o17\"");
	VALUE("0X1F", "\"0X1F\"");
	VALUE("0b2", "\"0b2\"");
	VALUE("0x", "\"0x\"");
	VALUE("0b", "\"0b\"");
	VALUE("_1", "\"_1\"");
	VALUE("1 000", "\"1 000\"");
	VALUE("12abc", "\"12abc\"");
	VALUE("'12'", "\"12\"");
}

static void test_integer_range(void **state)
{
	(void)state;
	VALUE("9223372036854775807", "9223372036854775807");
	VALUE("-9223372036854775808", "-9223372036854775808");
	VALUE("0x7fffffffffffffff", "9223372036854775807");
	VALUE("-0x8000000000000000", "-9223372036854775808");
	VALUE("0777777777777777777777", "9223372036854775807");
	FAILS("v: 9223372036854775808\n",
	      "line 1: the integer 9223372036854775808 is out of range (a 64-bit integer)");
	FAILS("a: 1\nv: -9223372036854775809\n",
	      "line 2: the integer -9223372036854775809 is out of range (a 64-bit integer)");
	FAILS("v: 0x8000000000000000\n",
	      "line 1: the integer 0x8000000000000000 is out of range (a 64-bit integer)");
	FAILS("v: 99999999999999999999999999\n",
	      "line 1: the integer 99999999999999999999999999 is out of range (a 64-bit integer)");
	FAILS("v: 2562047788015215:30:8\n",
	      "line 1: the integer 2562047788015215:30:8 is out of range (a 64-bit integer)");
	/* PyYAML's int() fails on these (a ValueError). */
	FAILS("v: 0x_\n", "line 1: the integer '0x_' has no digits");
	FAILS("v: -0b__\n", "line 1: the integer '-0b__' has no digits");
}

static void test_base_60(void **state)
{
	(void)state;
	VALUE("1:30", "90");
	VALUE("-1:30", "-90");
	VALUE("1:3:5", "3785");
	VALUE("190:20:30", "685230");
	VALUE("1_0:05", "605");
	VALUE("2562047788015215:30:7", "9223372036854775807");
	VALUE("1:30.5", "90.5");
	VALUE("190:20:30.15", "685230.15");
	VALUE("0:30.5", "30.5");
	VALUE("1:30.", "90.0");
	/* A first part of 0 is no integer, a part of 60 no part. */
	VALUE("0:30", "\"0:30\"");
	VALUE("1:60", "\"1:60\"");
	VALUE("1:123", "\"1:123\"");
	VALUE("1:30.5e+3", "\"1:30.5e+3\"");
}

static void test_floats(void **state)
{
	(void)state;
	VALUE("2.5", "2.5");
	VALUE("-2.5", "-2.5");
	VALUE("+2.5", "2.5");
	VALUE("1.", "1.0");
	VALUE("-1.", "-1.0");
	VALUE(".5", "0.5");
	VALUE("0.1", "0.1");
	VALUE("1_000.5_", "1000.5");
	VALUE("1.0e+6", "1000000.0");
	VALUE("1.5E-3", "0.0015");
	VALUE("1.e+5", "100000.0");
	VALUE(".5e-3", "0.0005");
	VALUE("-0.0", "-0.0");
	VALUE("6.02214076e+23", "6.02214076e+23");
	VALUE("1.0e-999", "0.0");
	VALUE("'2.5'", "\"2.5\"");
}

/* The forms that look like floats but are strings to PyYAML's resolver: its
 * float needs a '.', its exponent a sign, its ".5" no sign. */
static void test_float_strings(void **state)
{
	(void)state;
	VALUE("1e-6", "\"1e-6\"");
	VALUE("1E-6", "\"1E-6\"");
	VALUE("1e5", "\"1e5\"");
	VALUE("1e+5", "\"1e+5\"");
	VALUE("1.0e6", "\"1.0e6\"");
	VALUE("1.5e+", "\"1.5e+\"");
	VALUE("-.5", "\"-.5\"");
	VALUE("+.5", "\"+.5\"");
	VALUE("._5", "\"._5\"");
	VALUE("_1.5", "\"_1.5\"");
	VALUE("1.5e+3_", "\"1.5e+3_\"");
	VALUE("1,5", "\"1,5\"");
	VALUE("0x1.8p1", "\"0x1.8p1\"");
}

/* jansson holds no infinity or NaN: they are strings. */
static void test_infinity_and_nan(void **state)
{
	(void)state;
	VALUE(".inf", "\"inf\"");
	VALUE(".Inf", "\"inf\"");
	VALUE(".INF", "\"inf\"");
	VALUE("+.inf", "\"inf\"");
	VALUE("-.inf", "\"-inf\"");
	VALUE("-.INF", "\"-inf\"");
	VALUE(".nan", "\"nan\"");
	VALUE(".NaN", "\"nan\"");
	VALUE(".NAN", "\"nan\"");
	/* Too large for a double: PyYAML's float() makes it infinite too. */
	VALUE("1.0e+999", "\"inf\"");
	VALUE("-1.0e+999", "\"-inf\"");
	/* Other spellings are plain strings, and stay as written. */
	VALUE(".iNf", "\".iNf\"");
	VALUE("inf", "\"inf\"");
	VALUE("-inf", "\"-inf\"");
	VALUE("+.nan", "\"+.nan\"");
	VALUE("-.nan", "\"-.nan\"");
	VALUE(".infinity", "\".infinity\"");
	VALUE("NaN", "\"NaN\"");
}

static void test_other_plain_strings(void **state)
{
	(void)state;
	/* A timestamp in PyYAML (datetime.date): kept as written. */
	VALUE("2024-01-31", "\"2024-01-31\"");
	VALUE("2001-12-14t21:59:43.10-05:00", "\"2001-12-14t21:59:43.10-05:00\"");
	/* Errors in PyYAML (no constructor for !!value, !!merge). */
	VALUE("=", "\"=\"");
	VALUE("<<", "\"<<\"");
	VALUE("float_tolerance 1e-6", "\"float_tolerance 1e-6\"");
	VALUE("a   b  # comment", "\"a   b\"");
	VALUE("x\ty", "\"x\\ty\"");
	READS("v: a\n  b\n\n  c\n", "{\"v\": \"a b\\nc\"}");
}

static void test_quoted_and_block_scalars(void **state)
{
	(void)state;
	VALUE("'yes'", "\"yes\"");
	VALUE("\"12\"", "\"12\"");
	VALUE("''", "\"\"");
	VALUE("'it''s'", "\"it's\"");
	VALUE("\"tab\\there\\x41\\u00e9\"", "\"tab\\there\\u0041\\u00e9\"");
	VALUE("\"a\\0b\"", "\"a\\u0000b\"");
	READS("v: |\n  12\n  yes\n", "{\"v\": \"12\\nyes\\n\"}");
	READS("v: |-\n  1.5\n", "{\"v\": \"1.5\"}");
	READS("v: >\n  a\n  b\n\n  c\n", "{\"v\": \"a b\\nc\\n\"}");
	READS("v: >-\n  true\n", "{\"v\": \"true\"}");
}

/* ---- tags ---------------------------------------------------------------- */

static void test_str_tag(void **state)
{
	(void)state;
	VALUE("!!str 12", "\"12\"");
	VALUE("!!str yes", "\"yes\"");
	VALUE("!!str ~", "\"~\"");
	VALUE("!!str 1.5", "\"1.5\"");
	VALUE("!!str .inf", "\".inf\"");
	VALUE("!!str", "\"\"");
	VALUE("!<tag:yaml.org,2002:str> 7", "\"7\"");
}

static void test_typed_tags(void **state)
{
	(void)state;
	VALUE("!!int \"12\"", "12");
	VALUE("!!int '0x1f'", "31");
	VALUE("!!int '1:30'", "90");
	VALUE("!!float 2.5", "2.5");
	VALUE("!!float '2.5'", "2.5");
	VALUE("!!float 1", "1.0");
	VALUE("!!float 012", "12.0");
	VALUE("!!float \"1e-6\"", "1e-06");
	VALUE("!!float 1e5", "100000.0");
	VALUE("!!float 1.0e6", "1000000.0");
	VALUE("!!float -.5", "-0.5");
	VALUE("!!float 1:30", "90.0");
	VALUE("!!float .inf", "\"inf\"");
	VALUE("!!bool \"yes\"", "true");
	VALUE("!!bool 'off'", "false");
	VALUE("!!null ''", "null");
	VALUE("!!null ~", "null");
	VALUE("!!null", "null");
	VALUE("!<tag:yaml.org,2002:int> '5'", "5");
	READS("%TAG !e! tag:yaml.org,2002:\n---\nv: !e!int '3'\n", "{\"v\": 3}");
	READS("v: !!map {a: 1}\nw: !!seq [1]\n", "{\"v\": {\"a\": 1}, \"w\": [1]}");
}

static void test_tag_errors(void **state)
{
	(void)state;
	FAILS("a: 1\nv: !!int 1.5\n", "line 2: '1.5' is not an integer (!!int)");
	FAILS("v: !!int '0o17'\n", "line 1: '0o17' is not an integer (!!int)");
	FAILS("v: !!int 99999999999999999999\n",
	      "line 1: the integer 99999999999999999999 is out of range (a 64-bit integer)");
	FAILS("v: !!float abc\n", "line 1: 'abc' is not a float (!!float)");
	FAILS("v: !!float 0x10\n", "line 1: '0x10' is not a float (!!float)");
	FAILS("v: !!float ''\n", "line 1: '' is not a float (!!float)");
	FAILS("v: !!bool maybe\n", "line 1: 'maybe' is not a boolean (!!bool)");
	FAILS("v: !!bool TrUe\n", "line 1: 'TrUe' is not a boolean (!!bool)");
	FAILS("v: !!null foo\n", "line 1: 'foo' is not a null (!!null)");
	FAILS("v: !!binary aGVsbG8=\n", "line 1: unsupported tag '!!binary'");
	FAILS("v: !!timestamp 2001-01-01\n", "line 1: unsupported tag '!!timestamp'");
	FAILS("v: !!set {a}\n", "line 1: unsupported tag '!!set'");
	FAILS("v: !!omap [a: 1]\n", "line 1: unsupported tag '!!omap'");
	FAILS("v: !!python/object:os.system x\n",
	      "line 1: unsupported tag '!!python/object:os.system'");
	FAILS("v: !foo x\n", "line 1: unsupported tag '!foo'");
	FAILS("v: ! 12\n", "line 1: unsupported tag '!'");
	FAILS("v: !<tag:example.com,2000:x> 1\n",
	      "line 1: unsupported tag 'tag:example.com,2000:x'");
	FAILS("v: !!str {a: 1}\n", "line 1: the tag '!!str' cannot be on a mapping");
	FAILS("v: !!map [1]\n", "line 1: the tag '!!map' cannot be on a sequence");
	FAILS("v: !!seq x\n", "line 1: the tag '!!seq' cannot be on a scalar");
	FAILS("v: !foo [1]\n", "line 1: unsupported tag '!foo'");
}

/* ---- anchors and aliases ------------------------------------------------- */

static void test_anchors_without_aliases(void **state)
{
	(void)state;
	READS("a: &x 1\nb: &y [1, 2]\nc: &z {d: 3}\n&k e: 4\n",
	      "{\"a\": 1, \"b\": [1, 2], \"c\": {\"d\": 3}, \"e\": 4}");
}

static void test_aliases_refused(void **state)
{
	(void)state;
	FAILS("a: &x 1\nb: *x\n", "line 2: aliases are not supported (*x)");
	FAILS("a: &x 1\n*x : 2\n", "line 2: aliases are not supported (*x)");
	FAILS("- &x [1]\n- [2, *x]\n", "line 2: aliases are not supported (*x)");
	FAILS("a: *nowhere\n", "line 1: aliases are not supported (*nowhere)");
}

/* The billion laughs: nine levels of nine aliases each, 9^9 strings if
 * expanded. Refused at the first alias. */
static void test_alias_attack(void **state)
{
	(void)state;
	FAILS("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	      "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	      "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	      "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	      "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
	      "line 2: aliases are not supported (*a)");
}

static void test_merge_keys(void **state)
{
	(void)state;
	FAILS("<<: {a: 1}\nb: 2\n", "line 1: merge keys (<<) are not supported");
	FAILS("base: 1\nx:\n  <<: {a: 1}\n", "line 3: merge keys (<<) are not supported");
	READS("'<<': 1\n", "{\"<<\": 1}");
	READS("!!str <<: 1\n", "{\"<<\": 1}");
}

/* ---- bounds -------------------------------------------------------------- */

/* LEVELS sequences, each in the one before, the innermost empty. */
static char *nested_sequences(int levels)
{
	char *text = malloc((size_t)levels * 2 + 1);

	assert_non_null(text);
	memset(text, '[', (size_t)levels);
	memset(text + levels, ']', (size_t)levels);
	text[levels * 2] = '\0';
	return text;
}

/* LEVELS block mappings, each the value of "k" in the one before. */
static char *nested_mappings(int levels)
{
	char *text = malloc((size_t)levels * (size_t)(levels + 4) + 8);
	size_t len = 0;

	assert_non_null(text);
	for (int i = 0; i < levels; i++) {
		memset(text + len, ' ', (size_t)i);
		len += (size_t)i;
		memcpy(text + len, i + 1 < levels ? "k:\n" : "k: 1\n", i + 1 < levels ? 3 : 5);
		len += i + 1 < levels ? 3 : 5;
	}
	text[len] = '\0';
	return text;
}

static void test_depth(void **state)
{
	struct sp_error err;
	char *text;
	json_t *out, *v;
	int depth = 0;

	(void)state;
	text = nested_sequences(SP_YAML_MAX_DEPTH);
	assert_int_equal(parse(text, strlen(text), &out, &err), 0);
	for (v = out; json_is_array(v); v = json_array_get(v, 0))
		depth++;
	assert_int_equal(depth, SP_YAML_MAX_DEPTH);
	json_decref(out);
	free(text);

	text = nested_sequences(SP_YAML_MAX_DEPTH + 1);
	fails_text(text, "line 1: nested more than 64 levels deep");
	free(text);

	/* A block mapping at each line: the 65th starts at line 65. */
	text = nested_mappings(SP_YAML_MAX_DEPTH);
	assert_int_equal(parse(text, strlen(text), &out, &err), 0);
	json_decref(out);
	free(text);
	text = nested_mappings(SP_YAML_MAX_DEPTH + 1);
	fails_text(text, "line 65: nested more than 64 levels deep");
	free(text);

	/* Mappings and sequences count alike. */
	READS("a: [{b: [{c: [[1]]}]}]", "{\"a\": [{\"b\": [{\"c\": [[1]]}]}]}");
}

/* A million '[' never closed: refused at the 65th, nothing else read. */
static void test_deep_attack(void **state)
{
	size_t n = 1000000;
	char *text = malloc(n + 1);

	(void)state;
	assert_non_null(text);
	memset(text, '[', n);
	text[n] = '\0';
	fails_text(text, "line 1: nested more than 64 levels deep");
	free(text);
}

/* A flow sequence of COUNT zeros, or, when MAPPING, a flow mapping of COUNT
 * keys "kN" with the value 0. */
static char *many_nodes(size_t count, bool mapping)
{
	char *text = malloc(count * 16 + 8);
	size_t len = 0;

	assert_non_null(text);
	text[len++] = mapping ? '{' : '[';
	for (size_t i = 0; i < count; i++) {
		if (mapping)
			len += (size_t)sprintf(text + len, "%sk%zu: 0", i > 0 ? "," : "", i);
		else
			len += (size_t)sprintf(text + len, "%s0", i > 0 ? "," : "");
	}
	text[len++] = mapping ? '}' : ']';
	text[len] = '\0';
	return text;
}

static void test_node_count(void **state)
{
	struct sp_error err;
	json_t *out;
	char *text;

	(void)state;
	/* The sequence and its items: 100000 nodes. */
	text = many_nodes(SP_YAML_MAX_NODES - 1, false);
	assert_int_equal(parse(text, strlen(text), &out, &err), 0);
	assert_int_equal(json_array_size(out), SP_YAML_MAX_NODES - 1);
	json_decref(out);
	free(text);
	text = many_nodes(SP_YAML_MAX_NODES, false);
	fails_text(text, "line 1: more than 100000 nodes");
	free(text);
	/* Keys count: 1 + 2 * 49999 nodes, then 1 + 2 * 50000. */
	text = many_nodes(SP_YAML_MAX_NODES / 2 - 1, true);
	assert_int_equal(parse(text, strlen(text), &out, &err), 0);
	assert_int_equal(json_object_size(out), SP_YAML_MAX_NODES / 2 - 1);
	json_decref(out);
	free(text);
	text = many_nodes(SP_YAML_MAX_NODES / 2, true);
	fails_text(text, "line 1: more than 100000 nodes");
	free(text);
}

/* ---- bytes --------------------------------------------------------------- */

static void test_nul_byte(void **state)
{
	(void)state;
	FAILS("a: 1\nb: \0\n", "line 2: a NUL byte (YAML text holds none)");
	FAILS("\0", "line 1: a NUL byte (YAML text holds none)");
	FAILS("# a comment \0\n", "line 1: a NUL byte (YAML text holds none)");
	FAILS("a: 'x\0y'\n", "line 1: a NUL byte (YAML text holds none)");
	/* UTF-16 holds NUL bytes: refused as such. */
	FAILS("\xff\xfe"
	      "a\0:\0 \0"
	      "1\0",
	      "line 1: invalid UTF-8 (byte 0xff): the text must be UTF-8");
	FAILS("a\0:\0 \0"
	      "1\0",
	      "line 1: a NUL byte (YAML text holds none)");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	FAILS("\xff", "line 1: invalid UTF-8 (byte 0xff): the text must be UTF-8");
	FAILS("a: 1\nb: caf\xc3\n", "line 2: invalid UTF-8 (byte 0xc3): the text must be UTF-8");
	FAILS("a: 1\nb: caf\xc3", "line 2: invalid UTF-8 (byte 0xc3): the text must be UTF-8");
	FAILS("a: \xc0\xaf\n", "line 1: invalid UTF-8 (byte 0xc0): the text must be UTF-8");
	FAILS("a: '\xed\xa0\x80'\n", "line 1: invalid UTF-8 (byte 0xed): the text must be UTF-8");
	FAILS("a: \xf4\x90\x80\x80\n", "line 1: invalid UTF-8 (byte 0xf4): the text must be UTF-8");
	FAILS("a: 1\n\n# \xfe\n", "line 3: invalid UTF-8 (byte 0xfe): the text must be UTF-8");
	FAILS("latin1: \xe9t\xe9\n", "line 1: invalid UTF-8 (byte 0xe9): the text must be UTF-8");
	READS("name: \xc3\x9cn\xc3\xaf"
	      "c\xc3\xb8"
	      "d\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\n",
	      "{\"name\": \"\\u00dcn\\u00efc\\u00f8d\\u00e9 \\u2603 \\ud83d\\ude00\"}");
}

static void test_control_characters(void **state)
{
	(void)state;
	FAILS("a: \x07\n", "line 1: control characters are not allowed (U+0007)");
	FAILS("a: 1\nb: \x1b[0m\n", "line 2: control characters are not allowed (U+001B)");
	FAILS("a: x\x7f\n", "line 1: control characters are not allowed (U+007F)");
	FAILS("a: \xc2\x80\n", "line 1: control characters are not allowed (U+0080)");
	/* Tab is no control character here; an escaped one is any character. */
	READS("a: x\ty\nb: \"\\x07\"\n", "{\"a\": \"x\\ty\", \"b\": \"\\u0007\"}");
}

static void test_byte_order_mark(void **state)
{
	(void)state;
	READS("\xef\xbb\xbf"
	      "a: 1\n",
	      "{\"a\": 1}");
	READS("\xef\xbb\xbf", "null");
}

/* ---- errors and their lines ---------------------------------------------- */

static void test_syntax_errors(void **state)
{
	(void)state;
	FAILS("a: b: c\n", "line 1: mapping values are not allowed in this context");
	FAILS("name: x\nlimits:\n  time: [1, 2\nvalidation: custom\n",
	      "line 4: did not find expected ',' or ']' (while parsing a flow sequence at line 3)");
	FAILS_AT("limits:\n\tmemory: 512\n", "line 2: ");
	FAILS_AT("name: 'unclosed\ntype: pass-fail\n", "line 3: ");
	FAILS_AT("a: 1\n- b\n", "line 2: ");
	FAILS_AT("a: 1\n  b: 2\n", "line 2: ");
	FAILS_AT("a: {b: 1\n", "line 2: ");
	FAILS_AT("a: \"\\ud800\"\n", "line 1: ");
	FAILS_AT("%YAML 2.0\n---\na: 1\n", "line 1: ");
	FAILS_AT("a: 1\n\n\n@b: 2\n", "line 4: ");
}

static void test_line_breaks(void **state)
{
	(void)state;
	READS("a: 1\r\nb: [x,\r\n y]\r\n", "{\"a\": 1, \"b\": [\"x\", \"y\"]}");
	FAILS("a: 1\r\nb: 2\r\nc: d: e\r\n",
	      "line 3: mapping values are not allowed in this context");
	FAILS("a: 1\rb: 2\rc: d: e\r", "line 3: mapping values are not allowed in this context");
	FAILS("a: 1\r\n\r\nb: \0", "line 3: a NUL byte (YAML text holds none)");
	FAILS("a: 1\r\rb: \xff", "line 3: invalid UTF-8 (byte 0xff): the text must be UTF-8");
	/* NEL and LS end lines in YAML 1.1: the same count either way. */
	FAILS("a: 1\xc2\x85"
	      "b: c: d\n",
	      "line 2: mapping values are not allowed in this context");
	FAILS("# x\xe2\x80\xa8# y\xc2\x85\0", "line 3: a NUL byte (YAML text holds none)");
}

/* ---- problem packages ---------------------------------------------------- */

static void test_problem_yaml(void **state)
{
	(void)state;
	READS(
	    "# A Kattis problem package.\n"
	    "problem_format_version: legacy\n"
	    "type: scoring\n"
	    "name: Hello, Wörld\n"
	    "uuid: 8ee7605a-c4f4-4d3c-9e55-3f0a3d2a1c4b\n"
	    "author: Jane Doe\n"
	    "source: NWERC 2023\n"
	    "source_url: https://2023.nwerc.example/\n"
	    "license: cc by-sa\n"
	    "rights_owner: NWERC\n"
	    "\n"
	    "limits:\n"
	    "  memory: 512      # MiB\n"
	    "  time_multiplier: 2.5\n"
	    "  time_safety_margin: 1.5\n"
	    "  output: 8\n"
	    "  validation_passes: 2\n"
	    "\n"
	    "validation: custom interactive score\n"
	    "validator_flags: float_tolerance 1e-6\n"
	    "keywords: [graphs, 'shortest path']\n"
	    "languages: all\n"
	    "grading:\n"
	    "  show_test_data_groups: yes\n"
	    "  objective: max\n"
	    "  on_reject: continue\n",
	    "{\"problem_format_version\": \"legacy\", \"type\": \"scoring\","
	    " \"name\": \"Hello, W\\u00f6rld\", \"uuid\": \"8ee7605a-c4f4-4d3c-9e55-3f0a3d2a1c4b\","
	    " \"author\": \"Jane Doe\", \"source\": \"NWERC 2023\","
	    " \"source_url\": \"https://2023.nwerc.example/\", \"license\": \"cc by-sa\","
	    " \"rights_owner\": \"NWERC\","
	    " \"limits\": {\"memory\": 512, \"time_multiplier\": 2.5, \"time_safety_margin\": 1.5,"
	    " \"output\": 8, \"validation_passes\": 2},"
	    " \"validation\": \"custom interactive score\","
	    " \"validator_flags\": \"float_tolerance 1e-6\","
	    " \"keywords\": [\"graphs\", \"shortest path\"], \"languages\": \"all\","
	    " \"grading\": {\"show_test_data_groups\": true, \"objective\": \"max\","
	    " \"on_reject\": \"continue\"}}");
	/* The 2023-07 format: a version string and a name per language. */
	READS("problem_format_version: 2023-07-draft\n"
	      "type: pass-fail\n"
	      "name:\n"
	      "  en: Hello\n"
	      "  sv: Hej\n"
	      "credits:\n"
	      "  authors: [Jane Doe <jane@example.com>]\n"
	      "limits:\n"
	      "  time_limit: 1.0\n"
	      "  memory: 1024\n",
	      "{\"problem_format_version\": \"2023-07-draft\", \"type\": \"pass-fail\","
	      " \"name\": {\"en\": \"Hello\", \"sv\": \"Hej\"},"
	      " \"credits\": {\"authors\": [\"Jane Doe <jane@example.com>\"]},"
	      " \"limits\": {\"time_limit\": 1.0, \"memory\": 1024}}");
}

static void test_testdata_yaml(void **state)
{
	(void)state;
	READS("on_reject: continue\n"
	      "accept_score: 20\n"
	      "reject_score: 0\n"
	      "grader_flags: min\n"
	      "range: 0 100\n"
	      "input_validator_flags: --max-n 1000\n"
	      "output_validator_flags: float_tolerance 1e-6\n",
	      "{\"on_reject\": \"continue\", \"accept_score\": 20, \"reject_score\": 0,"
	      " \"grader_flags\": \"min\", \"range\": \"0 100\","
	      " \"input_validator_flags\": \"--max-n 1000\","
	      " \"output_validator_flags\": \"float_tolerance 1e-6\"}");
	READS("accept_score: 2.5\nrange: -inf 100\non_reject: break\n",
	      "{\"accept_score\": 2.5, \"range\": \"-inf 100\", \"on_reject\": \"break\"}");
	/* An empty testdata.yaml, as packages often hold. */
	READS("# defaults\n", "null");
}

/* ---- robustness ---------------------------------------------------------- */

/* Random texts from YAML's punctuation, numbers and bytes that are not
 * UTF-8: never a crash, and what parse() checks of every answer holds. */
static void test_random_inputs(void **state)
{
	static const char *const pieces[] = {
	    "a",  "b",	 ":",	" ",   "\n",   "- ",   "[",    "]",    "{",   "}",    ",",
	    "'",  "\"",	 "#",	"&x ", "*x",   "!!",   "int ", "str ", "!",   "? ",   "|",
	    ">",  "---", "...", "1",   "0x",   ".5",   "e+",   "~",    "yes", "\\",   "\t",
	    "\r", "%",	 "<<",	"\0",  "\xc3", "\xa9", "\xff", "  ",   "1:3", ".inf", "\"\\0\"",
	};
	char text[256];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct sp_error err;
		size_t len = 0;
		json_t *out;
		int count;

		seed = seed * 1103515245 + 12345;
		count = (int)(seed >> 16) % 24;
		for (int i = 0; i < count; i++) {
			const char *piece;
			size_t n;

			seed = seed * 1103515245 + 12345;
			piece = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			n = piece[0] == '\0' ? 1 : strlen(piece);
			if (len + n > sizeof(text))
				break;
			memcpy(text + len, piece, n);
			len += n;
		}
		if (parse(text, len, &out, &err) == 0)
			json_decref(out);
		else
			assert_true(err.errnum == EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_documents),
	    cmocka_unit_test(test_one_document_only),
	    cmocka_unit_test(test_mappings_and_sequences),
	    cmocka_unit_test(test_keys_are_text),
	    cmocka_unit_test(test_non_scalar_keys),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_long_duplicate_key_is_cut),
	    cmocka_unit_test(test_nulls),
	    cmocka_unit_test(test_booleans),
	    cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_integer_range),
	    cmocka_unit_test(test_base_60),
	    cmocka_unit_test(test_floats),
	    cmocka_unit_test(test_float_strings),
	    cmocka_unit_test(test_infinity_and_nan),
	    cmocka_unit_test(test_other_plain_strings),
	    cmocka_unit_test(test_quoted_and_block_scalars),
	    cmocka_unit_test(test_str_tag),
	    cmocka_unit_test(test_typed_tags),
	    cmocka_unit_test(test_tag_errors),
	    cmocka_unit_test(test_anchors_without_aliases),
	    cmocka_unit_test(test_aliases_refused),
	    cmocka_unit_test(test_alias_attack),
	    cmocka_unit_test(test_merge_keys),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_deep_attack),
	    cmocka_unit_test(test_node_count),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_byte_order_mark),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_line_breaks),
	    cmocka_unit_test(test_problem_yaml),
	    cmocka_unit_test(test_testdata_yaml),
	    cmocka_unit_test(test_random_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
