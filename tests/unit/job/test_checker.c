/* The judge's built-in checkers: exact, lines, tokens and float. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/checker.h"

#define AC SP_CHECK_ACCEPTED
#define WA SP_CHECK_WRONG_ANSWER
#define PE SP_CHECK_PRESENTATION_ERROR

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF, nothing cut short. */
static bool valid_utf8(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t more;

		if (c <= 0x7f) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (len - i - 1 < more)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= more; k++) {
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		}
		i += more + 1;
	}
	return true;
}

static void test_validator(void **state)
{
	(void)state;
	assert_true(valid_utf8("abc \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 15));
	assert_false(valid_utf8("\xff", 1));
	assert_false(valid_utf8("\xc0\x80", 2));
	assert_false(valid_utf8("\xed\xa0\x80", 3));
	assert_false(valid_utf8("\xe2\x82", 2));
	assert_false(valid_utf8("\xf4\x90\x80\x80", 4));
}

/* sp_check, and what holds of every result: the message is NUL-terminated
 * within its array, valid UTF-8, and empty exactly when accepted. The
 * inputs are copied into buffers of their exact size, so that nothing past
 * the lengths is there to be read. */
static void run_check(enum sp_checker_kind kind, double epsilon, const char *out, size_t out_len,
		      const char *ans, size_t ans_len, struct sp_check_result *res)
{
	char *o = malloc(out_len + 1), *a = malloc(ans_len + 1);
	size_t len;

	assert_non_null(o);
	assert_non_null(a);
	memcpy(o, out, out_len);
	memcpy(a, ans, ans_len);
	memset(res, 0xa5, sizeof(*res));
	sp_check(kind, epsilon, o, out_len, a, ans_len, res);
	free(o);
	free(a);
	len = strnlen(res->message, sizeof(res->message));
	assert_true(len < sizeof(res->message));
	assert_true(valid_utf8(res->message, len));
	assert_int_equal(len == 0, res->outcome == SP_CHECK_ACCEPTED);
}

/* OUT and ANS are string literals (they may hold NUL bytes); MSG is the
 * whole message expected, or NULL for any. */
#define CHECK(kind, eps, out, ans, want, msg)                                                      \
	do {                                                                                       \
		struct sp_check_result r_;                                                         \
		const char *msg_ = (msg);                                                          \
		run_check(kind, eps, out, sizeof(out) - 1, ans, sizeof(ans) - 1, &r_);             \
		assert_int_equal(r_.outcome, want);                                                \
		if (msg_ != NULL)                                                                  \
			assert_string_equal(r_.message, msg_);                                     \
	} while (0)

/* The same pair through every checker. */
#define CHECK_ALL(out, ans, exact, lines, tokens, flt)                                             \
	do {                                                                                       \
		CHECK(SP_CHECKER_EXACT, 1e-6, out, ans, exact, NULL);                              \
		CHECK(SP_CHECKER_LINES, 1e-6, out, ans, lines, NULL);                              \
		CHECK(SP_CHECKER_TOKENS, 1e-6, out, ans, tokens, NULL);                            \
		CHECK(SP_CHECKER_FLOAT, 1e-6, out, ans, flt, NULL);                                \
	} while (0)

static void test_kind_names(void **state)
{
	static const char *const names[] = {"exact", "lines", "tokens", "float"};
	enum sp_checker_kind kind;

	(void)state;
	for (int i = 0; i < 4; i++) {
		kind = (enum sp_checker_kind) - 1;
		assert_int_equal(sp_checker_kind_from_string(names[i], &kind), 0);
		assert_int_equal(kind, i);
		assert_string_equal(sp_checker_kind_to_string(kind), names[i]);
	}
	assert_int_equal(SP_CHECKER_EXACT, 0);
	assert_int_equal(SP_CHECKER_FLOAT, 3);
	kind = SP_CHECKER_LINES;
	assert_int_equal(sp_checker_kind_from_string("Exact", &kind), -1);
	assert_int_equal(sp_checker_kind_from_string("", &kind), -1);
	assert_int_equal(sp_checker_kind_from_string("floats", &kind), -1);
	assert_int_equal(sp_checker_kind_from_string("token", &kind), -1);
	assert_int_equal(sp_checker_kind_from_string(NULL, &kind), -1);
	assert_int_equal(kind, SP_CHECKER_LINES);
	assert_string_equal(sp_checker_kind_to_string((enum sp_checker_kind)42), "?");
}

static void test_exact(void **state)
{
	(void)state;
	CHECK(SP_CHECKER_EXACT, 0, "1 2\n", "1 2\n", AC, "");
	/* Only whitespace differs: presentation error. */
	CHECK(
	    SP_CHECKER_EXACT, 0, "1  2\n", "1 2\n", PE,
	    "differs only in whitespace: byte 3 (line 1) differs: expected '2\\n', found ' 2\\n'");
	CHECK(SP_CHECKER_EXACT, 0, "1 2", "1 2\n", PE,
	      "differs only in whitespace: byte 4 (line 1) differs: expected '\\n', found end of "
	      "output");
	CHECK(SP_CHECKER_EXACT, 0, "1\n2\n", "1 2\n", PE, NULL);
	CHECK(SP_CHECKER_EXACT, 0, "1\r\n2\r\n", "1\n2\n", PE, NULL);
	/* Anything else: wrong answer. */
	CHECK(SP_CHECKER_EXACT, 0, "1\n3\n", "1\n2\n", WA,
	      "byte 3 (line 2) differs: expected '2\\n', found '3\\n'");
	CHECK(SP_CHECKER_EXACT, 0, "1 2 3\n", "1 2\n", WA, NULL);
	CHECK(SP_CHECKER_EXACT, 0, "12\n", "1 2\n", WA, NULL);
	CHECK(SP_CHECKER_EXACT, 0, "", "1", WA,
	      "byte 1 (line 1) differs: expected '1', found end of output");
	/* Case matters. */
	CHECK(SP_CHECKER_EXACT, 0, "YES\n", "yes\n", WA, NULL);
	/* Epsilon is not used. */
	CHECK(SP_CHECKER_EXACT, 1, "1.0\n", "1\n", WA, NULL);
}

static void test_missing_final_newline(void **state)
{
	(void)state;
	CHECK_ALL("1\n2", "1\n2\n", PE, AC, AC, AC);
	CHECK_ALL("1\n2\n", "1\n2", PE, AC, AC, AC);
	CHECK_ALL("hello world", "hello world\n", PE, AC, AC, AC);
}

static void test_crlf(void **state)
{
	(void)state;
	CHECK_ALL("1 2\r\n3\r\n", "1 2\n3\n", PE, AC, AC, AC);
	CHECK_ALL("1 2\n3\n", "1 2\r\n3\r\n", PE, AC, AC, AC);
	CHECK_ALL("1 2\r\n3", "1 2\n3\n", PE, AC, AC, AC);
	/* A lone '\r' does not end a line. */
	CHECK(SP_CHECKER_LINES, 0, "1\r2\n", "1\n2\n", PE, NULL);
}

static void test_extra_spaces_between_tokens(void **state)
{
	(void)state;
	CHECK_ALL("1  2\n", "1 2\n", PE, PE, AC, AC);
	CHECK_ALL("1\t2\n", "1 2\n", PE, PE, AC, AC);
	CHECK_ALL("  1 2\n", "1 2\n", PE, PE, AC, AC);
	CHECK(SP_CHECKER_LINES, 0, "1  2\n3\n", "1 2\n3\n", PE,
	      "differs only in whitespace: line 1 differs: expected '1 2', found '1  2'");
	/* Tokens split over lines differently: still only whitespace. */
	CHECK_ALL("1\n2 3\n", "1 2\n3\n", PE, PE, AC, AC);
	CHECK_ALL("1 \v\f\r\n\t 2", "1 2", PE, PE, AC, AC);
}

static void test_trailing_spaces(void **state)
{
	(void)state;
	CHECK_ALL("1 2   \n3\t\n", "1 2\n3\n", PE, AC, AC, AC);
	CHECK_ALL("1 2\n3\n", "1 2 \t\n3  \n", PE, AC, AC, AC);
	CHECK_ALL("1 2 \r\n3\f\v\r\n", "1 2\n3\n", PE, AC, AC, AC);
	/* Leading spaces are not trailing ones. */
	CHECK(SP_CHECKER_LINES, 0, " 3\n", "3\n", PE, NULL);
}

static void test_trailing_blank_lines(void **state)
{
	(void)state;
	CHECK_ALL("1\n2\n\n\n", "1\n2\n", PE, AC, AC, AC);
	CHECK_ALL("1\n2\n \n\t\n\r\n", "1\n2", PE, AC, AC, AC);
	CHECK_ALL("1\n2", "1\n2\n\n\n", PE, AC, AC, AC);
	/* Blank lines elsewhere count. */
	CHECK_ALL("1\n\n2\n", "1\n2\n", PE, PE, AC, AC);
	CHECK_ALL("\n1\n2\n", "1\n2\n", PE, PE, AC, AC);
	CHECK(SP_CHECKER_LINES, 0, "1\n\n2\n", "1\n2\n", PE,
	      "differs only in whitespace: line 2 differs: expected '2', found ''");
}

static void test_empty(void **state)
{
	struct sp_check_result res;

	(void)state;
	CHECK_ALL("", "", AC, AC, AC, AC);
	CHECK_ALL("\n", "", PE, AC, AC, AC);
	CHECK_ALL("", " \n\n", PE, AC, AC, AC);
	/* A NULL with no bytes is empty. */
	for (int k = SP_CHECKER_EXACT; k <= SP_CHECKER_FLOAT; k++) {
		sp_check((enum sp_checker_kind)k, 0, NULL, 0, NULL, 0, &res);
		assert_int_equal(res.outcome, AC);
		assert_string_equal(res.message, "");
		sp_check((enum sp_checker_kind)k, 0, NULL, 0, "5", 1, &res);
		assert_int_equal(res.outcome, WA);
	}
	/* Empty output for a non-empty answer. */
	CHECK_ALL("", "5\n", WA, WA, WA, WA);
	CHECK_ALL("\n\n", "5\n", WA, WA, WA, WA);
	CHECK(SP_CHECKER_LINES, 0, "", "5\n", WA,
	      "line 1 differs: expected '5', found end of output");
	CHECK(SP_CHECKER_TOKENS, 0, "", "5\n", WA, "expected 1 token, found 0");
	CHECK(SP_CHECKER_FLOAT, 0, " ", "1 2 3", WA, "expected 3 tokens, found 0");
	/* And output for an empty answer. */
	CHECK_ALL("5", "", WA, WA, WA, WA);
	CHECK(SP_CHECKER_TOKENS, 0, "5", "", WA, "extra output after 0 tokens: '5'");
	CHECK(SP_CHECKER_LINES, 0, "5", "\n", WA,
	      "line 1 differs: expected end of output, found '5'");
}

static void test_lines_messages(void **state)
{
	(void)state;
	CHECK(SP_CHECKER_LINES, 0, "a\nb\nc\n", "a\nb\nd\n", WA,
	      "line 3 differs: expected 'd', found 'c'");
	CHECK(SP_CHECKER_LINES, 0, "a\n", "a\nb\n", WA,
	      "line 2 differs: expected 'b', found end of output");
	CHECK(SP_CHECKER_LINES, 0, "a\nb\nc", "a\nb\n", WA,
	      "line 3 differs: expected end of output, found 'c'");
	/* Long lines are cut at 40 bytes. */
	CHECK(SP_CHECKER_LINES, 0, "0123456789012345678901234567890123456789xyz\n",
	      "0123456789012345678901234567890123456789abc\n", WA,
	      "line 1 differs: expected '0123456789012345678901234567890123456789'..., found "
	      "'0123456789012345678901234567890123456789'...");
	CHECK(SP_CHECKER_LINES, 0, "a b\n", "a c\n", WA,
	      "line 1 differs: expected 'a c', found 'a b'");
	/* Control characters and backslashes escaped. */
	CHECK(SP_CHECKER_LINES, 0, "a\tb\\\x01\n", "x\n", WA,
	      "line 1 differs: expected 'x', found 'a\\tb\\\\\\x01'");
}

static void test_tokens(void **state)
{
	(void)state;
	CHECK(SP_CHECKER_TOKENS, 0, "1 2 6 4\n", "1 2 5 4\n", WA,
	      "token 3 differs: expected '5', found '6'");
	CHECK(SP_CHECKER_TOKENS, 0, "1 2 3\n", "1 2 3 4\n", WA, "expected 4 tokens, found 3");
	CHECK(SP_CHECKER_TOKENS, 0, "1 2 3 4 5\n", "1 2 3 4\n", WA,
	      "extra output after 4 tokens: '5'");
	CHECK(SP_CHECKER_TOKENS, 0, "1 2 x y z\n", "1 2 3 4 5 6 7\n", WA,
	      "token 3 differs: expected '3', found 'x'");
	CHECK(SP_CHECKER_TOKENS, 0, "a", "a b", WA, "expected 2 tokens, found 1");
	CHECK(SP_CHECKER_TOKENS, 0, "a b", "a", WA, "extra output after 1 token: 'b'");
	/* Never a presentation error, and exact strings. */
	CHECK(SP_CHECKER_TOKENS, 0, "\n\n  1\t\t2  \r\n\n", "1 2", AC, "");
	CHECK(SP_CHECKER_TOKENS, 1, "1.0", "1", WA, "token 1 differs: expected '1', found '1.0'");
	CHECK(SP_CHECKER_TOKENS, 0, "Yes", "yes", WA, NULL);
	CHECK(SP_CHECKER_TOKENS, 0, "12", "1 2", WA, NULL);
	CHECK(SP_CHECKER_TOKENS, 0, "1 2", "12", WA, NULL);
}

static void test_float_negative_zero(void **state)
{
	(void)state;
	CHECK(SP_CHECKER_FLOAT, 0, "-0.0", "0.0", AC, "");
	CHECK(SP_CHECKER_FLOAT, 0, "0", "-0", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-9, "-0.000", "0", AC, "");
	CHECK(SP_CHECKER_FLOAT, 0, "-0.0", "0.0001", WA, NULL);
}

static void test_float_epsilon(void **state)
{
	(void)state;
	/* 1e-7 off with epsilon 1e-6: accepted. */
	CHECK(SP_CHECKER_FLOAT, 1e-6, "0.5000001", "0.5", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "0.4999999", "0.5", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "3.1415927 2.7182818", "3.14159265 2.71828183", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "0.0000001", "0", AC, "");
	/* 1e-5 off: wrong. */
	CHECK(SP_CHECKER_FLOAT, 1e-6, "0.50001", "0.5", WA,
	      "token 1 differs: expected '0.5', found '0.50001'");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1 0.49999", "1 0.5", WA,
	      "token 2 differs: expected '0.5', found '0.49999'");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "0.00001", "0", WA, NULL);
	/* Epsilon 0: equal values only, however written. */
	CHECK(SP_CHECKER_FLOAT, 0, "1.50 2e3 .5", "1.5 2000 0.5", AC, "");
	CHECK(SP_CHECKER_FLOAT, 0, "1.0000001", "1", WA, NULL);
	/* A negative or NaN epsilon counts as 0. */
	CHECK(SP_CHECKER_FLOAT, -1, "1.0000001", "1", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, -1, "1.0", "1", AC, "");
	CHECK(SP_CHECKER_FLOAT, __builtin_nan(""), "1.0000001", "1", WA, NULL);
	/* Whitespace never matters. */
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1\n\n2   3", "1 2 3\n", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1 2", "1 2 3\n", WA, "expected 3 tokens, found 2");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1 2 3 4", "1 2 3\n", WA, "extra output after 3 tokens: '4'");
}

static void test_float_relative(void **state)
{
	(void)state;
	/* 1 off in 1e9 is 1e-9 relative. */
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1000000001", "1000000000", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1000000001", "1e9", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "-1000000001", "-1e9", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1.0000001e20", "1e20", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-10, "1000000001", "1000000000", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1000100000", "1000000000", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1.00001e20", "1e20", WA, NULL);
	/* Relative to the expected value, not to the output. */
	CHECK(SP_CHECKER_FLOAT, 0.5, "10", "6", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 0.5, "6", "10", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "0", "1e9", WA, NULL);
}

static void test_float_nan(void **state)
{
	(void)state;
	CHECK(SP_CHECKER_FLOAT, 1e-6, "nan", "nan", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "NaN", "nan", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "-nan", "NAN", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "nan", "0", WA, "token 1 differs: expected '0', found 'nan'");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "0", "nan", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e300, "nan", "1", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e300, "1", "nan", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "inf", "nan", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "nan", "inf", WA, NULL);
	/* "nan" is a number only in float. */
	CHECK(SP_CHECKER_TOKENS, 0, "NaN", "nan", WA, NULL);
}

static void test_float_inf(void **state)
{
	(void)state;
	CHECK(SP_CHECKER_FLOAT, 1e-6, "inf", "inf", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "Infinity", "INF", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "-inf", "-Inf", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "-inf", "inf", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "inf", "-inf", WA, NULL);
	/* Not even with a huge epsilon. */
	CHECK(SP_CHECKER_FLOAT, 1e300, "1e308", "inf", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e300, "inf", "1e308", WA, NULL);
	/* Overflow is the infinity. */
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1e400", "inf", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "-1e400", "-inf", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1e400", "1e500", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1e400", "1e308", WA, NULL);
	/* Underflow is (about) zero. */
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1e-400", "0", AC, "");
}

static void test_float_non_numbers(void **state)
{
	char long_number[80];

	(void)state;
	CHECK(SP_CHECKER_FLOAT, 1e-6, "Case #1: 1.0000001", "Case #1: 1", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "Case #2: 1", "Case #1: 1", WA,
	      "token 2 differs: expected '#1:', found '#2:'");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "yes", "YES", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "one", "1", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1", "one", WA, NULL);
	/* All of the token must be a number. */
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1.0x", "1.0", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1.0", "1.0x", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1,5", "1.5", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1,5", "1,5", AC, "");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "nanx", "nan", WA, NULL);
	/* Longer than 64 bytes: compared as strings. */
	memset(long_number, '0', sizeof(long_number));
	long_number[0] = '1';
	long_number[1] = '.';
	long_number[70] = '\0';
	CHECK(SP_CHECKER_FLOAT, 1e-6,
	      "1.0000000000000000000000000000000000000000000000000000000000000000000", "1", WA,
	      NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6,
	      "1.0000000000000000000000000000000000000000000000000000000000000000000",
	      "1.0000000000000000000000000000000000000000000000000000000000000000000", AC, "");
	/* 64 bytes is still a number. */
	CHECK(SP_CHECKER_FLOAT, 1e-6,
	      "1.00000000000000000000000000000000000000000000000000000000000000", "1", AC, "");
	{
		struct sp_check_result res;

		sp_check(SP_CHECKER_FLOAT, 1e-6, long_number, strlen(long_number), "1", 1, &res);
		assert_int_equal(res.outcome, WA);
		sp_check(SP_CHECKER_FLOAT, 1e-6, long_number, 64, "1", 1, &res);
		assert_int_equal(res.outcome, AC);
	}
}

static void test_nul_bytes(void **state)
{
	(void)state;
	CHECK(SP_CHECKER_EXACT, 0, "a\0b\n", "a\0b\n", AC, "");
	CHECK(SP_CHECKER_EXACT, 0, "a\0b\n", "a\0c\n", WA,
	      "byte 3 (line 1) differs: expected 'c\\n', found 'b\\n'");
	CHECK(SP_CHECKER_EXACT, 0, "a\0", "a", WA,
	      "byte 2 (line 1) differs: expected end of output, found '\\x00'");
	CHECK(SP_CHECKER_LINES, 0, "1\n2\0\n", "1\n2\n", WA,
	      "line 2 differs: expected '2', found '2\\x00'");
	CHECK(SP_CHECKER_TOKENS, 0, "1\0 2", "1 2", WA,
	      "token 1 differs: expected '1', found '1\\x00'");
	CHECK(SP_CHECKER_TOKENS, 0, "\0", "", WA, "extra output after 0 tokens: '\\x00'");
	CHECK(SP_CHECKER_FLOAT, 1e-6, "1\0", "1", WA, NULL);
	CHECK(SP_CHECKER_FLOAT, 1e-6,
	      "1\0"
	      "5",
	      "1", WA, NULL);
	/* A NUL is not a separator, and a number ends at the length. */
	CHECK(SP_CHECKER_TOKENS, 0,
	      "1\0"
	      "2",
	      "1 2", WA, NULL);
	{
		struct sp_check_result res;

		sp_check(SP_CHECKER_FLOAT, 0, "12", 1, "1", 1, &res);
		assert_int_equal(res.outcome, AC);
		sp_check(SP_CHECKER_EXACT, 0, "1\n", 1, "1\n", 2, &res);
		assert_int_equal(res.outcome, PE);
		sp_check(SP_CHECKER_LINES, 0, "1 2", 2, "1\n", 2, &res);
		assert_int_equal(res.outcome, AC);
	}
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	CHECK(SP_CHECKER_LINES, 0, "\xff\xfe abc \xc3\n", "x\n", WA,
	      "line 1 differs: expected 'x', found '\\xff\\xfe abc \\xc3'");
	/* Valid UTF-8 is kept as it is. */
	CHECK(SP_CHECKER_TOKENS, 0, "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 $", WA,
	      "token 2 differs: expected '$', found '\xe2\x82\xac'");
	/* Overlong forms, surrogates, code points above U+10FFFF, cut short
	 * sequences, C1 controls: escaped byte by byte. */
	CHECK(SP_CHECKER_TOKENS, 0, "\xc0\x80", "x", WA,
	      "token 1 differs: expected 'x', found '\\xc0\\x80'");
	CHECK(SP_CHECKER_TOKENS, 0, "\xed\xa0\x80", "x", WA,
	      "token 1 differs: expected 'x', found '\\xed\\xa0\\x80'");
	CHECK(SP_CHECKER_TOKENS, 0, "\xf4\x90\x80\x80", "x", WA,
	      "token 1 differs: expected 'x', found '\\xf4\\x90\\x80\\x80'");
	CHECK(SP_CHECKER_TOKENS, 0, "\xe2\x82", "x", WA,
	      "token 1 differs: expected 'x', found '\\xe2\\x82'");
	CHECK(SP_CHECKER_TOKENS, 0, "\xc2\x85", "x", WA,
	      "token 1 differs: expected 'x', found '\\xc2\\x85'");
	/* The 40-byte cut is on a character boundary: 13 euro signs (39 bytes). */
	CHECK(
	    SP_CHECKER_TOKENS, 0,
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	    "x", WA,
	    "token 1 differs: expected 'x', found "
	    "'\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac'...");
	/* Nor is an escape cut: 13 escapes are 52 bytes, 10 fit. */
	CHECK(SP_CHECKER_TOKENS, 0, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "x", WA,
	      "token 1 differs: expected 'x', found "
	      "'\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff'...");
	/* Exact shows both sides from the start of the character that differs. */
	CHECK(SP_CHECKER_EXACT, 0, "caf\xc3\xa9", "caf\xc3\xa8", WA,
	      "byte 5 (line 1) differs: expected '\xc3\xa8', found '\xc3\xa9'");
	CHECK(SP_CHECKER_EXACT, 0, "\xe2\x82\xac", "\xe2\x82\xad", WA,
	      "byte 3 (line 1) differs: expected '\xe2\x82\xad', found '\xe2\x82\xac'");
}

/* Random short inputs from an alphabet that mixes whitespace, digits, NULs
 * and high bytes: every result is well formed (run_check) and the checkers
 * agree with each other. */
static void test_random_inputs(void **state)
{
	static const char alphabet[] = " \n\r\t01.-e\0\xc3\xa9\xff\x80nai";
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		char out[24], ans[24];
		size_t out_len, ans_len;
		struct sp_check_result exact, lines, tokens, flt;

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
		run_check(SP_CHECKER_EXACT, 0, out, out_len, ans, ans_len, &exact);
		run_check(SP_CHECKER_LINES, 0, out, out_len, ans, ans_len, &lines);
		run_check(SP_CHECKER_TOKENS, 0, out, out_len, ans, ans_len, &tokens);
		run_check(SP_CHECKER_FLOAT, 0, out, out_len, ans, ans_len, &flt);
		assert_int_equal(exact.outcome == AC,
				 out_len == ans_len && memcmp(out, ans, out_len) == 0);
		/* Presentation error exactly when the tokens agree. */
		assert_int_equal(exact.outcome != WA, tokens.outcome == AC);
		assert_int_equal(lines.outcome != WA, tokens.outcome == AC);
		assert_true(tokens.outcome != PE && flt.outcome != PE);
		if (exact.outcome == AC)
			assert_int_equal(lines.outcome, AC);
		if (tokens.outcome == AC)
			assert_int_equal(flt.outcome, AC);
	}
}

/* 10 MB of numbers, 10 a line. */
static char *make_numbers(size_t size, const char *eol, size_t *len)
{
	char *buf = malloc(size + 64);
	size_t n = 0, count = 0;

	assert_non_null(buf);
	while (n < size) {
		n += (size_t)sprintf(buf + n, "%zu", (count * 7919) % 1000003);
		count++;
		n += (size_t)sprintf(buf + n, "%s", count % 10 == 0 ? eol : " ");
	}
	*len = n;
	return buf;
}

static void test_large_input(void **state)
{
	size_t ans_len, other_len, tokens = 0;
	char *ans = make_numbers(10 << 20, "\n", &ans_len);
	char *out = malloc(ans_len);
	char *other = malloc(2 * ans_len);
	struct sp_check_result res;
	char want[SP_CHECK_MESSAGE_MAX];

	(void)state;
	assert_non_null(out);
	assert_non_null(other);
	assert_true(ans_len >= 10 << 20);
	memcpy(out, ans, ans_len);
	for (int k = SP_CHECKER_EXACT; k <= SP_CHECKER_FLOAT; k++) {
		sp_check((enum sp_checker_kind)k, 1e-6, out, ans_len, ans, ans_len, &res);
		assert_int_equal(res.outcome, AC);
	}
	/* CRLF for LF over all of it. */
	other_len = 0;
	for (size_t i = 0; i < ans_len; i++) {
		if (ans[i] == '\n')
			other[other_len++] = '\r';
		other[other_len++] = ans[i];
	}
	sp_check(SP_CHECKER_EXACT, 0, other, other_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, PE);
	for (int k = SP_CHECKER_LINES; k <= SP_CHECKER_FLOAT; k++) {
		sp_check((enum sp_checker_kind)k, 0, other, other_len, ans, ans_len, &res);
		assert_int_equal(res.outcome, AC);
	}
	/* The last number changed. */
	for (size_t i = 0; i < ans_len; i++) {
		if ((i == 0 || ans[i - 1] == ' ' || ans[i - 1] == '\n') && ans[i] != ' ' &&
		    ans[i] != '\n')
			tokens++;
	}
	out[ans_len - 2] = out[ans_len - 2] == '9' ? '8' : '9';
	sp_check(SP_CHECKER_EXACT, 0, out, ans_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, WA);
	snprintf(want, sizeof(want), "byte %zu (line %zu) differs: ", ans_len - 1,
		 (tokens + 9) / 10);
	assert_memory_equal(res.message, want, strlen(want));
	sp_check(SP_CHECKER_LINES, 0, out, ans_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, WA);
	snprintf(want, sizeof(want), "line %zu differs: ", (tokens + 9) / 10);
	assert_memory_equal(res.message, want, strlen(want));
	sp_check(SP_CHECKER_TOKENS, 0, out, ans_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, WA);
	snprintf(want, sizeof(want), "token %zu differs: ", tokens);
	assert_memory_equal(res.message, want, strlen(want));
	sp_check(SP_CHECKER_FLOAT, 0, out, ans_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, WA);
	assert_memory_equal(res.message, want, strlen(want));
	/* Every newline a space: only whitespace differs. */
	memcpy(out, ans, ans_len);
	for (size_t i = 0; i < ans_len; i++) {
		if (out[i] == '\n')
			out[i] = ' ';
	}
	sp_check(SP_CHECKER_EXACT, 0, out, ans_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, PE);
	sp_check(SP_CHECKER_LINES, 0, out, ans_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, PE);
	sp_check(SP_CHECKER_TOKENS, 0, out, ans_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, AC);
	/* Every number written differently: float reads each of them. */
	other_len = 0;
	for (size_t i = 0; i < ans_len; i++) {
		if (ans[i] == ' ' || ans[i] == '\n')
			other[other_len++] = '.', other[other_len++] = '0';
		other[other_len++] = ans[i];
	}
	sp_check(SP_CHECKER_FLOAT, 0, other, other_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, AC);
	sp_check(SP_CHECKER_TOKENS, 0, other, other_len, ans, ans_len, &res);
	assert_int_equal(res.outcome, WA);
	free(other);
	free(out);
	free(ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validator),
	    cmocka_unit_test(test_kind_names),
	    cmocka_unit_test(test_exact),
	    cmocka_unit_test(test_missing_final_newline),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_extra_spaces_between_tokens),
	    cmocka_unit_test(test_trailing_spaces),
	    cmocka_unit_test(test_trailing_blank_lines),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_lines_messages),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_float_negative_zero),
	    cmocka_unit_test(test_float_epsilon),
	    cmocka_unit_test(test_float_relative),
	    cmocka_unit_test(test_float_nan),
	    cmocka_unit_test(test_float_inf),
	    cmocka_unit_test(test_float_non_numbers),
	    cmocka_unit_test(test_nul_bytes),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_random_inputs),
	    cmocka_unit_test(test_large_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
