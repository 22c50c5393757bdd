/* The ICPC/Kattis default output validator: its flags and each of its rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/default_validator.h"
#include "server/job/utf8.h"

#define AC SP_CHECK_ACCEPTED
#define WA SP_CHECK_WRONG_ANSWER

/* FLAGS (words separated by single spaces) parsed into *OUT; returns what
 * sp_default_validator_flags_parse returns, WHY its sentence. */
static int parse_flags(const char *flags, struct sp_default_validator_flags *out, char *why,
		       size_t why_size)
{
	char copy[256];
	const char *words[16];
	size_t count = 0;
	char *save = NULL;

	assert_true(strlen(flags) < sizeof(copy));
	strcpy(copy, flags);
	for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
		assert_true(count < 16);
		words[count++] = w;
	}
	return sp_default_validator_flags_parse(words, count, out, why, why_size);
}

/* sp_default_validate under FLAGS, and what holds of every result: the
 * message is NUL-terminated within its array, valid UTF-8, and empty exactly
 * when accepted. The inputs are copied into buffers of their exact size, so
 * that nothing past the lengths is there to be read. */
static void run(const char *flags, const char *out, size_t out_len, const char *ans, size_t ans_len,
		struct sp_check_result *res)
{
	struct sp_default_validator_flags f;
	char why[128];
	char *o = malloc(out_len + 1), *a = malloc(ans_len + 1);
	size_t len;

	assert_non_null(o);
	assert_non_null(a);
	assert_int_equal(parse_flags(flags, &f, why, sizeof(why)), 0);
	memcpy(o, out, out_len);
	memcpy(a, ans, ans_len);
	memset(res, 0xa5, sizeof(*res));
	sp_default_validate(&f, o, out_len, a, ans_len, res);
	free(o);
	free(a);
	len = strnlen(res->message, sizeof(res->message));
	assert_true(len < sizeof(res->message));
	assert_true(sp_utf8_valid(res->message, len));
	assert_int_equal(len == 0, res->outcome == AC);
	assert_true(res->outcome == AC || res->outcome == WA);
}

/* OUT and ANS are string literals (they may hold NUL bytes); MSG is the
 * whole message expected, or NULL for any. */
#define CHECK(flags, out, ans, want, msg)                                                          \
	do {                                                                                       \
		struct sp_check_result r_;                                                         \
		const char *msg_ = (msg);                                                          \
		run(flags, out, sizeof(out) - 1, ans, sizeof(ans) - 1, &r_);                       \
		assert_int_equal(r_.outcome, want);                                                \
		if (msg_ != NULL)                                                                  \
			assert_string_equal(r_.message, msg_);                                     \
	} while (0)

/* ---- flags ---- */

static void test_flags_each(void **state)
{
	struct sp_default_validator_flags f;
	char why[128];

	(void)state;
	memset(&f, 0xff, sizeof(f));
	assert_int_equal(parse_flags("", &f, why, sizeof(why)), 0);
	assert_false(f.case_sensitive || f.space_change_sensitive);
	assert_false(f.has_float_abs || f.has_float_rel);
	assert_string_equal(why, "");
	assert_int_equal(parse_flags("case_sensitive", &f, why, sizeof(why)), 0);
	assert_true(f.case_sensitive);
	assert_false(f.space_change_sensitive || f.has_float_abs || f.has_float_rel);
	assert_int_equal(parse_flags("space_change_sensitive", &f, why, sizeof(why)), 0);
	assert_true(f.space_change_sensitive);
	assert_false(f.case_sensitive || f.has_float_abs || f.has_float_rel);
	assert_int_equal(parse_flags("float_absolute_tolerance 0.25", &f, why, sizeof(why)), 0);
	assert_true(f.has_float_abs);
	assert_false(f.has_float_rel);
	assert_true(f.float_abs == 0.25);
	assert_int_equal(parse_flags("float_relative_tolerance 1e-6", &f, why, sizeof(why)), 0);
	assert_true(f.has_float_rel);
	assert_false(f.has_float_abs);
	assert_true(f.float_rel == 1e-6);
	assert_int_equal(parse_flags("float_tolerance 0x1p-3", &f, why, sizeof(why)), 0);
	assert_true(f.has_float_abs && f.has_float_rel);
	assert_true(f.float_abs == 0.125 && f.float_rel == 0.125);
	/* 0 is a tolerance, -0 too. */
	assert_int_equal(parse_flags("float_absolute_tolerance 0", &f, why, sizeof(why)), 0);
	assert_true(f.has_float_abs && f.float_abs == 0);
	assert_int_equal(parse_flags("float_absolute_tolerance -0", &f, why, sizeof(why)), 0);
	assert_true(f.has_float_abs && f.float_abs == 0);
}

static void test_flags_combined(void **state)
{
	struct sp_default_validator_flags f;
	char why[128];

	(void)state;
	assert_int_equal(parse_flags("case_sensitive space_change_sensitive float_tolerance 0.5",
				     &f, why, sizeof(why)),
			 0);
	assert_true(f.case_sensitive && f.space_change_sensitive);
	assert_true(f.float_abs == 0.5 && f.float_rel == 0.5);
	/* A later value replaces an earlier one, each tolerance its own. */
	assert_int_equal(
	    parse_flags("float_tolerance 2 float_absolute_tolerance 1", &f, why, sizeof(why)), 0);
	assert_true(f.float_abs == 1 && f.float_rel == 2);
	assert_int_equal(
	    parse_flags("float_absolute_tolerance 1 float_tolerance 2", &f, why, sizeof(why)), 0);
	assert_true(f.float_abs == 2 && f.float_rel == 2);
	assert_int_equal(parse_flags("float_relative_tolerance 3 float_relative_tolerance 4", &f,
				     why, sizeof(why)),
			 0);
	assert_true(f.float_rel == 4 && !f.has_float_abs);
	/* Again is fine. */
	assert_int_equal(parse_flags("case_sensitive case_sensitive", &f, why, sizeof(why)), 0);
	assert_true(f.case_sensitive);
}

static void test_flags_refused(void **state)
{
	static const char *const bad_numbers[] = {
	    "abc", "-1", "-1e-9", "inf", "-inf", "nan", "1e400", "0.5x", "1e", "0x.", ".", "1,5",
	};
	struct sp_default_validator_flags f;
	char why[128], text[128];

	(void)state;
	assert_int_equal(parse_flags("foo", &f, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown flag \"foo\"");
	/* Names are exact. */
	assert_int_equal(parse_flags("Case_Sensitive", &f, why, sizeof(why)), -1);
	assert_int_equal(parse_flags("case_sensitive=1", &f, why, sizeof(why)), -1);
	assert_int_equal(parse_flags("float_abs_tolerance 1", &f, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown flag \"float_abs_tolerance\"");
	/* A number where a flag is expected. */
	assert_int_equal(parse_flags("case_sensitive 0.5", &f, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown flag \"0.5\"");
	/* A tolerance without its number. */
	assert_int_equal(parse_flags("float_tolerance", &f, why, sizeof(why)), -1);
	assert_string_equal(why, "float_tolerance needs a number");
	assert_int_equal(
	    parse_flags("case_sensitive float_relative_tolerance", &f, why, sizeof(why)), -1);
	assert_string_equal(why, "float_relative_tolerance needs a number");
	for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++) {
		snprintf(text, sizeof(text), "float_absolute_tolerance %s", bad_numbers[i]);
		assert_int_equal(parse_flags(text, &f, why, sizeof(why)), -1);
		snprintf(text, sizeof(text),
			 "float_absolute_tolerance needs a finite number >= 0, "
			 "not \"%s\"",
			 bad_numbers[i]);
		assert_string_equal(why, text);
	}
	/* Flags are cleared on failure, even those read before. */
	memset(&f, 0xff, sizeof(f));
	assert_int_equal(parse_flags("case_sensitive float_tolerance 1 bar", &f, why, sizeof(why)),
			 -1);
	assert_false(f.case_sensitive || f.has_float_abs || f.has_float_rel);
}

static void test_flags_why(void **state)
{
	const char *const control[] = {"x\ty\xff"};
	const char *const null_word[] = {NULL};
	struct sp_default_validator_flags f;
	char why[128], small[12];

	(void)state;
	/* Escaped: valid UTF-8 always. */
	assert_int_equal(sp_default_validator_flags_parse(control, 1, &f, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown flag \"x\\ty\\xff\"");
	/* Cut to fit. */
	assert_int_equal(parse_flags("foo", &f, small, sizeof(small)), -1);
	assert_string_equal(small, "unknown fla");
	/* No room for a sentence at all. */
	assert_int_equal(parse_flags("foo", &f, NULL, 0), -1);
	assert_int_equal(parse_flags("case_sensitive", &f, NULL, 0), 0);
	assert_int_equal(sp_default_validator_flags_parse(null_word, 1, &f, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown flag \"\"");
	assert_int_equal(sp_default_validator_flags_parse(NULL, 0, &f, why, sizeof(why)), 0);
}

/* ---- tokens and whitespace ---- */

static void test_tokens(void **state)
{
	(void)state;
	CHECK("", "hello world\n", "hello world\n", AC, "");
	CHECK("", "hello there\n", "hello world\n", WA,
	      "output line 1, answer line 1: expected 'world', found 'there'");
	/* Tokens, not characters: joined or split tokens differ. */
	CHECK("", "helloworld\n", "hello world\n", WA,
	      "output line 1, answer line 1: expected 'hello', found 'helloworld'");
	CHECK("", "1 2 3\n", "12 3\n", WA, NULL);
	/* A prefix is not a match. */
	CHECK("", "ab\n", "abc\n", WA, NULL);
	CHECK("", "abc\n", "ab\n", WA, NULL);
}

static void test_whitespace_ignored(void **state)
{
	(void)state;
	/* Any run of whitespace is any other, at the start and the end too. */
	CHECK("", "1\n\n2   3", "1 2 3\n", AC, "");
	CHECK("", "  \n 1 2 3 \n\n\n", "1 2 3", AC, "");
	CHECK("", "1 2 3", "\n\n1\t2\r\n3 \n", AC, "");
	CHECK("", "1\r\n2\r\n", "1\n2\n", AC, "");
	/* The set is the "C" locale's isspace(). */
	CHECK("", "1\t2\n3\v4\f5\r6 7", "1 2 3 4 5 6 7", AC, "");
	CHECK("", "1 2 3 4 5 6 7", "1\t2\n3\v4\f5\r6 7", AC, "");
}

static void test_whitespace_set(void **state)
{
	(void)state;
	/* Nothing else is whitespace: other control bytes, NUL, a Latin-1 or
	 * UTF-8 no-break space, U+0085. */
	CHECK("",
	      "1\x1c"
	      "2",
	      "1 2", WA, "output line 1, answer line 1: expected '1', found '1\\x1c2'");
	CHECK("",
	      "1\x1f"
	      "2",
	      "1 2", WA, NULL);
	CHECK("",
	      "1\0"
	      "2",
	      "1 2", WA, "output line 1, answer line 1: expected '1', found '1\\x002'");
	CHECK("",
	      "1\xa0"
	      "2",
	      "1 2", WA, NULL);
	CHECK("",
	      "1\xc2\xa0"
	      "2",
	      "1 2", WA, NULL);
	CHECK("",
	      "1\xc2\x85"
	      "2",
	      "1 2", WA, NULL);
	CHECK("",
	      "1\x7f"
	      "2",
	      "1 2", WA, NULL);
	CHECK("",
	      "1\x08"
	      "2",
	      "1 2", WA, NULL);
	/* The same bytes match as part of a token. */
	CHECK("",
	      "1\x1c"
	      "2",
	      "1\x1c"
	      "2",
	      AC, "");
}

/* ---- case ---- */

static void test_case_insensitive_default(void **state)
{
	(void)state;
	CHECK("", "hELLO World YES\n", "Hello world yes\n", AC, "");
	CHECK("", "@[`{\n", "@[`{\n", AC, "");
	/* Only A-Z and a-z fold: not the bytes next to them... */
	CHECK("", "@", "`", WA, "output line 1, answer line 1: expected '`', found '@'");
	CHECK("", "[", "{", WA, NULL);
	/* ...nor letters outside ASCII, UTF-8 or Latin-1. */
	CHECK("", "\xc3\x89t\xc3\xa9", "\xc3\xa9t\xc3\xa9", WA,
	      "output line 1, answer line 1: expected '\xc3\xa9t\xc3\xa9', found "
	      "'\xc3\x89t\xc3\xa9'");
	CHECK("", "\xc9", "\xe9", WA, NULL);
	/* The length still counts. */
	CHECK("", "Yes", "YESS", WA, NULL);
}

static void test_case_sensitive(void **state)
{
	(void)state;
	CHECK("case_sensitive", "Hello\n", "Hello\n", AC, "");
	CHECK("case_sensitive", "hello\n", "Hello\n", WA,
	      "output line 1, answer line 1: expected 'Hello', found 'hello'");
	CHECK("case_sensitive", "YES", "yes", WA, NULL);
	/* Whitespace is still free. */
	CHECK("case_sensitive", "  Hello\n\nWorld", "Hello World\n", AC, "");
	/* Without a tolerance, number tokens are strings: 1E5 is not 1e5. */
	CHECK("case_sensitive", "1E5", "1e5", WA, NULL);
	CHECK("", "1E5", "1e5", AC, "");
}

/* ---- space_change_sensitive ---- */

static void test_space_change_sensitive_same(void **state)
{
	(void)state;
	CHECK("space_change_sensitive", "hello\n world\n", "hello\n world\n", AC, "");
	CHECK("space_change_sensitive", " a\t\tb \r\n\n", " a\t\tb \r\n\n", AC, "");
	CHECK("space_change_sensitive", "", "", AC, "");
	CHECK("space_change_sensitive", "x", "x", AC, "");
	/* Tokens still fold case. */
	CHECK("space_change_sensitive", "A b\n", "a B\n", AC, "");
}

static void test_space_change_sensitive_differs(void **state)
{
	(void)state;
	/* The answer has whitespace where the output has a token. */
	CHECK("space_change_sensitive", "hello\nworld\n", "hello\n world\n", WA,
	      "output line 2, answer line 2: whitespace differs: expected ' ', found 'world'");
	/* The output has whitespace where the answer has a token. */
	CHECK("space_change_sensitive", "hello\n world\n", "hello\nworld\n", WA,
	      "output line 2, answer line 2: whitespace differs: expected 'world', found ' '");
	/* The amount: two spaces for one, one for two. */
	CHECK("space_change_sensitive", "1  2\n", "1 2\n", WA,
	      "output line 1, answer line 1: whitespace differs: expected '2', found ' '");
	CHECK("space_change_sensitive", "1 2\n", "1  2\n", WA,
	      "output line 1, answer line 1: whitespace differs: expected ' ', found '2'");
	/* The kind: a tab for a space, a newline for a space, CRLF for LF. */
	CHECK("space_change_sensitive", "1\t2\n", "1 2\n", WA,
	      "output line 1, answer line 1: whitespace differs: expected ' ', found '\\t'");
	CHECK("space_change_sensitive", "1\n2\n", "1 2\n", WA, NULL);
	CHECK("space_change_sensitive", "1\r\n2\r\n", "1\n2\n", WA,
	      "output line 1, answer line 1: whitespace differs: expected '\\n', found '\\r'");
	/* At the start. */
	CHECK("space_change_sensitive", " 1\n", "1\n", WA,
	      "output line 1, answer line 1: whitespace differs: expected '1', found ' '");
	CHECK("space_change_sensitive", "1\n", "\n1\n", WA, NULL);
}

static void test_space_change_sensitive_end(void **state)
{
	(void)state;
	/* A missing final newline, an extra one, trailing spaces. */
	CHECK("space_change_sensitive", "1 2", "1 2\n", WA,
	      "output line 1, answer line 1: whitespace differs: expected '\\n', found end of "
	      "output");
	CHECK("space_change_sensitive", "1 2\n\n", "1 2\n", WA,
	      "output line 2, answer line 2: whitespace differs: expected end of output, found "
	      "'\\n'");
	CHECK("space_change_sensitive", "1 2 \n", "1 2\n", WA, NULL);
	/* Ignored by default. */
	CHECK("", "1 2", "1 2\n", AC, "");
	CHECK("", "1 2\n\n", "1 2\n", AC, "");
	CHECK("", "1 2 \n", "1 2\n", AC, "");
}

/* ---- numbers ---- */

static void test_float_absolute(void **state)
{
	(void)state;
	CHECK("float_absolute_tolerance 0.5", "1.4\n", "1\n", AC, "");
	CHECK("float_absolute_tolerance 0.5", "0.6\n", "1\n", AC, "");
	/* At the tolerance: accepted (both exact in binary). */
	CHECK("float_absolute_tolerance 0.5", "1.5", "1", AC, "");
	CHECK("float_absolute_tolerance 0.5", "0.5", "1", AC, "");
	CHECK("float_absolute_tolerance 0.1", "1.4\n", "1\n", WA,
	      "output line 1, answer line 1: expected '1', found '1.4': off by 0.4 (relative 0.4)");
	CHECK("float_absolute_tolerance 0.5", "1.50001", "1", WA, NULL);
	/* Absolute only: no help from a large answer. */
	CHECK("float_absolute_tolerance 0.5", "1000001", "1000000", WA, NULL);
	/* Relative to nothing: 0 has no relative error. */
	CHECK("float_absolute_tolerance 0.5", "1", "0", WA,
	      "output line 1, answer line 1: expected '0', found '1': off by 1");
	CHECK("float_absolute_tolerance 0.5", "-0.5", "0", AC, "");
}

static void test_float_relative(void **state)
{
	(void)state;
	CHECK("float_relative_tolerance 0.1", "105\n", "100\n", AC, "");
	CHECK("float_relative_tolerance 0.1", "-95", "-100", AC, "");
	CHECK("float_relative_tolerance 0.01", "105\n", "100\n", WA,
	      "output line 1, answer line 1: expected '100', found '105': off by 5 (relative "
	      "0.05)");
	/* Relative to the answer, not to the output. */
	CHECK("float_relative_tolerance 0.5", "6", "10", AC, "");
	CHECK("float_relative_tolerance 0.5", "10", "6", WA, NULL);
	/* Relative only: an answer of 0 takes nothing but 0. */
	CHECK("float_relative_tolerance 0.01", "1", "0", WA,
	      "output line 1, answer line 1: expected '0', found '1': off by 1");
	CHECK("float_relative_tolerance 0.01", "1e-300", "0", WA, NULL);
	CHECK("float_relative_tolerance 0.01", "-0.0", "0", AC, "");
	CHECK("float_relative_tolerance 1e-6", "1000000001", "1e9", AC, "");
}

static void test_float_either(void **state)
{
	(void)state;
	/* float_tolerance E: within E absolute or within E relative. */
	CHECK("float_tolerance 0.5", "1.1\n", "1\n", AC, "");
	CHECK("float_tolerance 0.5", "1.50001\n", "1\n", WA,
	      "output line 1, answer line 1: expected '1', found '1.50001': off by 0.50001 "
	      "(relative 0.50001)");
	CHECK("float_tolerance 0.01", "1005", "1000", AC, "");
	CHECK("float_tolerance 0.01", "0.005", "0", AC, "");
	/* Both set apart: either one is enough. */
	CHECK("float_absolute_tolerance 1 float_relative_tolerance 0.001", "10000.5", "10000", AC,
	      "");
	CHECK("float_absolute_tolerance 1 float_relative_tolerance 0.001", "10009", "10000", AC,
	      "");
	CHECK("float_absolute_tolerance 1 float_relative_tolerance 0.001", "10011", "10000", WA,
	      NULL);
	CHECK("float_absolute_tolerance 1 float_relative_tolerance 0.001", "1.9", "1", AC, "");
	CHECK("float_absolute_tolerance 1 float_relative_tolerance 0.001", "2.1", "1", WA, NULL);
	/* A difference that overflows is too large. */
	CHECK("float_absolute_tolerance 1e300", "-1e308", "1e308", WA, NULL);
	/* (A relative one can make the bound overflow too, and accept.) */
	CHECK("float_relative_tolerance 1e300", "-1e308", "1e308", AC, "");
}

static void test_float_text_ignored(void **state)
{
	(void)state;
	/* With a tolerance, a number answer is matched by value, whatever its
	 * text or case, even at tolerance 0. */
	CHECK("float_absolute_tolerance 0", "1.0 1E0 +1 0x1p0 .1e1 10e-1", "1 1 1 1 1 1", AC, "");
	CHECK("float_tolerance 1e-9", "0.0314", "3.14000000e-2", AC, "");
	CHECK("case_sensitive float_tolerance 0", "1E5", "1e5", AC, "");
	CHECK("float_absolute_tolerance 0", "1.0000000001", "1", WA, NULL);
	/* Without one, they are strings. */
	CHECK("", "1.0", "1", WA, "output line 1, answer line 1: expected '1', found '1.0'");
	CHECK("", "0.0314", "3.14000000e-2", WA, NULL);
	CHECK("", "1.000", "1.000", AC, "");
	/* Tokens that are not numbers are still strings, folded. */
	CHECK("float_tolerance 0.1", "Case #1: 1.05", "case #1: 1", AC, "");
	CHECK("case_sensitive float_tolerance 0.1", "Case #1: 1.05", "case #1: 1", WA, NULL);
}

static void test_float_answer_not_finite(void **state)
{
	(void)state;
	/* inf, nan and too large for a double: strings even with a tolerance. */
	CHECK("float_tolerance 0.5", "0\n", "inf\n", WA,
	      "output line 1, answer line 1: expected 'inf', found '0'");
	CHECK("float_tolerance 0.5", "INF", "inf", AC, "");
	CHECK("float_tolerance 0.5", "infinity", "inf", WA, NULL);
	CHECK("float_tolerance 0.5", "1e400", "inf", WA, NULL);
	CHECK("float_tolerance 0.5", "NaN", "nan", AC, "");
	CHECK("float_tolerance 0.5", "nan", "nan(1)", WA, NULL);
	CHECK("case_sensitive float_tolerance 0.5", "NaN", "nan", WA, NULL);
	CHECK("float_tolerance 0.5", "1E400", "1e400", AC, "");
	CHECK("float_tolerance 0.5", "2e400", "1e400", WA, NULL);
	CHECK("float_tolerance 0.5", "-Inf", "-inf", AC, "");
	/* A number too small is 0 or subnormal: a number. */
	CHECK("float_absolute_tolerance 0", "0", "1e-400", AC, "");
	CHECK("float_absolute_tolerance 0", "4.9e-324", "5e-324", AC, "");
}

static void test_float_output_not_a_number(void **state)
{
	(void)state;
	CHECK("float_absolute_tolerance 0.5", "abc", "1", WA,
	      "output line 1, answer line 1: expected '1', found 'abc', which is not a finite "
	      "number");
	CHECK("float_tolerance 1e300", "inf", "1", WA, NULL);
	CHECK("float_tolerance 1e300", "-inf", "-1e308", WA, NULL);
	CHECK("float_tolerance 1e300", "nan", "1", WA, NULL);
	CHECK("float_tolerance 1e300", "1e400", "1e308", WA, NULL);
	CHECK("float_tolerance 1", "1.4\xf0\x9f\x9a\x80", "1", WA,
	      "output line 1, answer line 1: expected '1', found '1.4\xf0\x9f\x9a\x80', which is "
	      "not a finite number");
}

/* Whole tokens only, with strtod()'s syntax. */
static void test_number_syntax(void **state)
{
	static const char *const numbers[][2] = {
	    {".5", "0.5"},
	    {"5.", "5"},
	    {"+1", "1"},
	    {"-0", "0"},
	    {"007", "7"},
	    {"1e+2", "100"},
	    {"1E-2", "0.01"},
	    {"1.e2", "100"},
	    {"0x10", "16"},
	    {"0X1P4", "16"},
	    {"-0x.8", "-0.5"},
	    {"0x1.8e", "1.5546875"},
	    {"0xAbC", "2748"},
	    {"0x1p-1074", "5e-324"},
	    {"1e0000000000000000000000001", "10"},
	};
	static const char *const not_numbers[] = {
	    ".",   "+",	  "-",	   "e5",       "1e",	       "1e+",	"1E-",
	    "0x",  "0x.", "0xp1",  "0x1p",     "1p3",	       "1.2.3", "1,5",
	    "--1", "+-1", "1e5.0", "1e2e3",    "0x1g",	       "1f",	"1d",
	    "1x",  "0b1", "0x1.p", "\xd9\xa1", "\xef\xbc\x91", "1_000", "$1",
	};
	struct sp_default_validator_flags f;
	struct sp_check_result res;

	(void)state;
	assert_int_equal(parse_flags("float_absolute_tolerance 0", &f, NULL, 0), 0);
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		const char *a = numbers[i][1], *t = numbers[i][0];

		sp_default_validate(&f, t, strlen(t), a, strlen(a), &res);
		assert_int_equal(res.outcome, AC);
		/* The other way round too. */
		sp_default_validate(&f, a, strlen(a), t, strlen(t), &res);
		assert_int_equal(res.outcome, AC);
	}
	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++) {
		const char *t = not_numbers[i];
		size_t len = strlen(t);
		char want[SP_CHECK_MESSAGE_MAX];

		sp_default_validate(&f, t, len, "1", 1, &res);
		assert_int_equal(res.outcome, WA);
		assert_non_null(strstr(res.message, ", which is not a finite number"));
		/* As an answer: a string, so that only itself matches. */
		sp_default_validate(&f, t, len, t, len, &res);
		assert_int_equal(res.outcome, AC);
		snprintf(want, sizeof(want), "x%s", t);
		sp_default_validate(&f, want, len + 1, t, len, &res);
		assert_int_equal(res.outcome, WA);
	}
}

/* Numbers longer than any buffer: read in linear time, rounded correctly. */
static void test_number_long(void **state)
{
	enum { MB = 1 << 20 };
	/* 1 + 2^-53, halfway between 1 and the next double: it rounds to even, 1;
	 * anything above it rounds up, to 1 + 2^-52. */
	static const char half[] = "1.00000000000000011102230246251565404236316680908203125";
	char *big = malloc(2 * MB + 64);
	struct sp_default_validator_flags f;
	struct sp_check_result res;
	size_t n;

	(void)state;
	assert_non_null(big);
	assert_int_equal(parse_flags("float_absolute_tolerance 0", &f, NULL, 0), 0);
	/* 1 MB of zeros, then 1: the number 1. */
	memset(big, '0', MB);
	big[MB] = '1';
	sp_default_validate(&f, big, MB + 1, "1", 1, &res);
	assert_int_equal(res.outcome, AC);
	sp_default_validate(&f, "1", 1, big, MB + 1, &res);
	assert_int_equal(res.outcome, AC);
	/* 1 then 1 MB of zeros: too large for a double, so not a number. */
	big[0] = '1';
	memset(big + 1, '0', MB);
	sp_default_validate(&f, big, MB + 1, "1", 1, &res);
	assert_int_equal(res.outcome, WA);
	assert_non_null(strstr(res.message, ", which is not a finite number"));
	/* ...unless an exponent brings it back: 1e1048576e-1048576 = 1. */
	n = MB + 1 + (size_t)sprintf(big + MB + 1, "e-%d", MB);
	sp_default_validate(&f, big, n, "1", 1, &res);
	assert_int_equal(res.outcome, AC);
	/* 0.(1 MB of zeros)1e1048577 = 1. */
	memcpy(big, "0.", 2);
	memset(big + 2, '0', MB);
	n = MB + 2 + (size_t)sprintf(big + MB + 2, "1e%d", MB + 1);
	sp_default_validate(&f, big, n, "1", 1, &res);
	assert_int_equal(res.outcome, AC);
	/* An exponent of 1 MB of digits. */
	memcpy(big, "1e", 2);
	memset(big + 2, '9', MB);
	sp_default_validate(&f, big, MB + 2, "1", 1, &res);
	assert_int_equal(res.outcome, WA);
	memcpy(big, "1e-", 3);
	memset(big + 3, '9', MB);
	sp_default_validate(&f, big, MB + 3, "0", 1, &res);
	assert_int_equal(res.outcome, AC);
	/* The halfway point is 1; with a 1 after 1 MB more zeros, it is above. */
	sp_default_validate(&f, half, strlen(half), "1", 1, &res);
	assert_int_equal(res.outcome, AC);
	n = strlen(half);
	memcpy(big, half, n);
	memset(big + n, '0', MB);
	big[n + MB] = '1';
	sp_default_validate(&f, big, n + MB + 1, "1", 1, &res);
	assert_int_equal(res.outcome, WA);
	sp_default_validate(&f, big, n + MB + 1, "1.0000000000000002", 18, &res);
	assert_int_equal(res.outcome, AC);
	/* The same in hexadecimal: 0x1.00000000000008 is halfway. */
	n = (size_t)sprintf(big, "0x1.00000000000008");
	sp_default_validate(&f, big, n, "1", 1, &res);
	assert_int_equal(res.outcome, AC);
	memset(big + n, '0', MB);
	big[n + MB] = '1';
	sp_default_validate(&f, big, n + MB + 1, "1.0000000000000002", 18, &res);
	assert_int_equal(res.outcome, AC);
	free(big);
}

/* ---- ends ---- */

static void test_output_ends_early(void **state)
{
	(void)state;
	CHECK("", "Hello \n", "Hello World!\n", WA,
	      "output line 2, answer line 1: expected 'World!', found end of output");
	CHECK("", "", "Hello World!\n", WA,
	      "output line 1, answer line 1: expected 'Hello', found end of output (the output "
	      "is empty)");
	CHECK("", " \n    \n\n", "Hello World!\n", WA,
	      "output line 4, answer line 1: expected 'Hello', found end of output (the output "
	      "is only whitespace)");
	CHECK("space_change_sensitive", "1 ", "1 2", WA,
	      "output line 1, answer line 1: expected '2', found end of output");
	CHECK("float_tolerance 1", "1", "1 2", WA, NULL);
}

static void test_trailing_output(void **state)
{
	(void)state;
	CHECK("", "Hello World! more\n", "Hello World!\n", WA,
	      "output line 1, answer line 2: expected end of output, found 'more'");
	CHECK("", "1\n2\n\n3", "1 2", WA,
	      "output line 4, answer line 1: expected end of output, found '3'");
	CHECK("float_tolerance 1", "1 2", "1", WA, NULL);
	CHECK("space_change_sensitive", "1 2", "1 ", WA, NULL);
	/* Whitespace after the last token is not output. */
	CHECK("", "1 2 \n\n\t", "1 2", AC, "");
}

static void test_empty_answer(void **state)
{
	(void)state;
	/* No token in the answer: no token in the output. */
	CHECK("", "", "", AC, "");
	CHECK("", " \n\n", "", AC, "");
	CHECK("", "", "\n", AC, "");
	CHECK("", "x", "", WA, "output line 1, answer line 1: expected end of output, found 'x'");
	CHECK("", "\n\nx", " \n", WA,
	      "output line 3, answer line 2: expected end of output, found 'x'");
	/* Under space_change_sensitive, the same whitespace. */
	CHECK("space_change_sensitive", "\n", "\n", AC, "");
	CHECK("space_change_sensitive", "\n", "", WA,
	      "output line 1, answer line 1: whitespace differs: expected end of output, found "
	      "'\\n'");
}

static void test_null_inputs(void **state)
{
	struct sp_check_result res;

	(void)state;
	sp_default_validate(NULL, NULL, 0, NULL, 0, &res);
	assert_int_equal(res.outcome, AC);
	assert_string_equal(res.message, "");
	sp_default_validate(NULL, NULL, 0, "5", 1, &res);
	assert_int_equal(res.outcome, WA);
	sp_default_validate(NULL, "5", 1, NULL, 0, &res);
	assert_int_equal(res.outcome, WA);
	/* NULL flags: none; case folds, whitespace is free, numbers are strings. */
	sp_default_validate(NULL, " YES\n", 5, "yes", 3, &res);
	assert_int_equal(res.outcome, AC);
	sp_default_validate(NULL, "1.0", 3, "1", 1, &res);
	assert_int_equal(res.outcome, WA);
}

/* ---- bytes ---- */

static void test_nul_bytes(void **state)
{
	struct sp_check_result res;

	(void)state;
	/* NUL is a byte of a token like any other (the reference stops at it). */
	CHECK("", "a\0b", "a\0b", AC, "");
	CHECK("", "a\0b", "a\0c", WA,
	      "output line 1, answer line 1: expected 'a\\x00c', found "
	      "'a\\x00b'");
	CHECK("", "a\0", "a", WA, NULL);
	CHECK("", "\0", "", WA, NULL);
	CHECK("float_tolerance 1", "1\0", "1", WA,
	      "output line 1, answer line 1: expected '1', found '1\\x00', which is not a finite "
	      "number");
	/* A NUL answer token is a string then. */
	CHECK("float_tolerance 1", "1\0", "1\0", AC, "");
	/* The lengths bound both sides, not a NUL. */
	sp_default_validate(NULL, "12", 1, "1", 1, &res);
	assert_int_equal(res.outcome, AC);
	sp_default_validate(NULL, "1", 1, "12", 1, &res);
	assert_int_equal(res.outcome, AC);
	sp_default_validate(NULL, "1 2", 2, "1", 1, &res);
	assert_int_equal(res.outcome, AC);
}

static void test_messages(void **state)
{
	(void)state;
	/* Lines of each side at the tokens compared. */
	CHECK("", "a\nb\nc\nX", "a b c\n\nd\n", WA,
	      "output line 4, answer line 3: expected 'd', found 'X'");
	CHECK("", "\n\n\na", "b", WA, "output line 4, answer line 1: expected 'b', found 'a'");
	/* A lone '\r' is not a line. */
	CHECK("", "a\rb", "a\rc", WA, "output line 1, answer line 1: expected 'c', found 'b'");
	/* Escapes as checker.c makes them. */
	CHECK("", "a\\b\x01\x7f\xff", "x", WA,
	      "output line 1, answer line 1: expected 'x', found 'a\\\\b\\x01\\x7f\\xff'");
	CHECK("", "\xed\xa0\x80", "x", WA,
	      "output line 1, answer line 1: expected 'x', found '\\xed\\xa0\\x80'");
	CHECK("", "\xc2\x85", "x", WA,
	      "output line 1, answer line 1: expected 'x', found '\\xc2\\x85'");
	/* Cut at 40 bytes, never inside an escape or a character. */
	CHECK("", "0123456789012345678901234567890123456789xyz", "x", WA,
	      "output line 1, answer line 1: expected 'x', found "
	      "'0123456789012345678901234567890123456789'...");
	CHECK("", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "x", WA,
	      "output line 1, answer line 1: expected 'x', found "
	      "'\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff'...");
	CHECK(
	    "",
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	    "x", WA,
	    "output line 1, answer line 1: expected 'x', found "
	    "'\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac'...");
	/* Long tokens that start alike: where they part. */
	CHECK(
	    "case_sensitive", "aaaaAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "aaaaaAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", WA,
	    "output line 1, answer line 1: expected 'aaaaaAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'..., "
	    "found 'aaaaAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'...");
	CHECK(
	    "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAc", WA,
	    "output line 1, answer line 1: expected 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'..., "
	    "found 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'... (they differ from byte 66)");
}

/* ---- properties ---- */

/* Random short inputs from an alphabet of whitespace, digits, letters, NULs
 * and high bytes: every result is well formed (run), and the flags relate. */
static void test_random_inputs(void **state)
{
	static const char alphabet[] = " \n\r\t01.-eEaA\0\xc3\xa9\xff";
	unsigned seed = 4242;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		char out[20], ans[20];
		size_t out_len, ans_len;
		struct sp_check_result plain, cs, scs, flt;

		seed = seed * 1103515245 + 12345;
		out_len = (seed >> 16) % sizeof(out);
		seed = seed * 1103515245 + 12345;
		ans_len = (seed >> 16) % sizeof(ans);
		for (size_t i = 0; i < out_len; i++) {
			seed = seed * 1103515245 + 12345;
			out[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		for (size_t i = 0; i < ans_len; i++) {
			seed = seed * 1103515245 + 12345;
			ans[i] = round % 3 == 0 && i < out_len
				     ? out[i]
				     : alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		run("", out, out_len, ans, ans_len, &plain);
		run("case_sensitive", out, out_len, ans, ans_len, &cs);
		run("space_change_sensitive", out, out_len, ans, ans_len, &scs);
		run("float_tolerance 0", out, out_len, ans, ans_len, &flt);
		/* The same bytes are accepted under every flag. */
		if (out_len == ans_len && memcmp(out, ans, out_len) == 0)
			assert_true(plain.outcome == AC && cs.outcome == AC && scs.outcome == AC &&
				    flt.outcome == AC);
		/* A sensitive flag only takes away. */
		if (cs.outcome == AC || scs.outcome == AC)
			assert_int_equal(plain.outcome, AC);
	}
}

/* 10 MB of numbers, 10 a line, against themselves written otherwise. */
static void test_large_input(void **state)
{
	size_t n = 0, m = 0, size = 10 << 20;
	char *ans = malloc(size + 64), *out = malloc(2 * size + 64);
	struct sp_check_result res;
	struct sp_default_validator_flags f;

	(void)state;
	assert_non_null(ans);
	assert_non_null(out);
	for (size_t count = 1; n < size; count++) {
		size_t v = (count * 7919) % 1000003;
		const char *sep = count % 10 == 0 ? "\n" : " ";

		n += (size_t)sprintf(ans + n, "%zu%s", v, sep);
		m += (size_t)sprintf(out + m, "%zu.0%s", v, count % 10 == 0 ? "\r\n" : "\t");
	}
	assert_int_equal(parse_flags("float_absolute_tolerance 0", &f, NULL, 0), 0);
	sp_default_validate(&f, out, m, ans, n, &res);
	assert_int_equal(res.outcome, AC);
	sp_default_validate(NULL, ans, n, ans, n, &res);
	assert_int_equal(res.outcome, AC);
	sp_default_validate(NULL, out, m, ans, n, &res);
	assert_int_equal(res.outcome, WA);
	assert_non_null(strstr(res.message, "output line 1, answer line 1: expected '"));
	assert_int_equal(parse_flags("space_change_sensitive", &f, NULL, 0), 0);
	sp_default_validate(&f, ans, n, ans, n, &res);
	assert_int_equal(res.outcome, AC);
	free(ans);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flags_each),
	    cmocka_unit_test(test_flags_combined),
	    cmocka_unit_test(test_flags_refused),
	    cmocka_unit_test(test_flags_why),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_whitespace_ignored),
	    cmocka_unit_test(test_whitespace_set),
	    cmocka_unit_test(test_case_insensitive_default),
	    cmocka_unit_test(test_case_sensitive),
	    cmocka_unit_test(test_space_change_sensitive_same),
	    cmocka_unit_test(test_space_change_sensitive_differs),
	    cmocka_unit_test(test_space_change_sensitive_end),
	    cmocka_unit_test(test_float_absolute),
	    cmocka_unit_test(test_float_relative),
	    cmocka_unit_test(test_float_either),
	    cmocka_unit_test(test_float_text_ignored),
	    cmocka_unit_test(test_float_answer_not_finite),
	    cmocka_unit_test(test_float_output_not_a_number),
	    cmocka_unit_test(test_number_syntax),
	    cmocka_unit_test(test_number_long),
	    cmocka_unit_test(test_output_ends_early),
	    cmocka_unit_test(test_trailing_output),
	    cmocka_unit_test(test_empty_answer),
	    cmocka_unit_test(test_null_inputs),
	    cmocka_unit_test(test_nul_bytes),
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_random_inputs),
	    cmocka_unit_test(test_large_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
