/* One UTF-8 character at a time: what is valid, and how long. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/utf8.h"

#define LEN(s) sp_utf8_char_len((const unsigned char *)(s), sizeof(s) - 1)

static void test_valid(void **state)
{
	(void)state;
	assert_int_equal(LEN("a"), 1);
	assert_int_equal(LEN("\0"), 1);
	assert_int_equal(LEN("\x7f"), 1);
	assert_int_equal(LEN("\xc2\x80"), 2);	       /* U+0080 */
	assert_int_equal(LEN("\xc3\xa9 and more"), 2); /* é */
	assert_int_equal(LEN("\xe0\xa0\x80"), 3);      /* U+0800 */
	assert_int_equal(LEN("\xed\x9f\xbf"), 3);      /* U+D7FF */
	assert_int_equal(LEN("\xee\x80\x80"), 3);      /* U+E000 */
	assert_int_equal(LEN("\xf0\x90\x80\x80"), 4);  /* U+10000 */
	assert_int_equal(LEN("\xf4\x8f\xbf\xbf"), 4);  /* U+10FFFF */
}

static void test_invalid(void **state)
{
	(void)state;
	assert_int_equal(sp_utf8_char_len((const unsigned char *)"a", 0), 0);
	assert_int_equal(LEN("\x80"), 0);	      /* a stray continuation */
	assert_int_equal(LEN("\xc0\xaf"), 0);	      /* overlong '/' */
	assert_int_equal(LEN("\xc1\xbf"), 0);	      /* overlong */
	assert_int_equal(LEN("\xe0\x9f\xbf"), 0);     /* overlong U+07FF */
	assert_int_equal(LEN("\xf0\x8f\xbf\xbf"), 0); /* overlong U+FFFF */
	assert_int_equal(LEN("\xed\xa0\x80"), 0);     /* surrogate U+D800 */
	assert_int_equal(LEN("\xed\xbf\xbf"), 0);     /* surrogate U+DFFF */
	assert_int_equal(LEN("\xf4\x90\x80\x80"), 0); /* U+110000 */
	assert_int_equal(LEN("\xf5\x80\x80\x80"), 0); /* no such lead byte */
	assert_int_equal(LEN("\xff"), 0);
	assert_int_equal(LEN("\xe2\x82"), 0);	  /* cut short */
	assert_int_equal(LEN("\xe2\x28\xa1"), 0); /* not a continuation */
}

static void test_whole_texts(void **state)
{
	(void)state;
	assert_true(sp_utf8_valid("", 0));
	assert_true(sp_utf8_valid("h\xc3\xa9\0\xe2\x98\x83", 7));
	assert_false(sp_utf8_valid("ok\xff", 3));
	assert_false(sp_utf8_valid("\xe2\x98", 2)); /* cut short */
	assert_true(sp_utf8_valid("\xe2\x98", 0));
}

static void test_message(void **state)
{
	char dst[8];

	(void)state;
	sp_utf8_message(dst, sizeof(dst), "abc", 3);
	assert_string_equal(dst, "abc");
	sp_utf8_message(dst, sizeof(dst), "a\0b\xff\xc3\xa9", 6); /* NUL, a stray byte, é */
	assert_string_equal(dst, "a?b?\xc3\xa9");
	sp_utf8_message(dst, sizeof(dst), "abcdef\xc3\xa9", 8); /* é would not fit whole */
	assert_string_equal(dst, "abcdef");
	sp_utf8_message(dst, sizeof(dst), "0123456789", 10);
	assert_string_equal(dst, "0123456");
	sp_utf8_message(dst, 1, "abc", 3);
	assert_string_equal(dst, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_whole_texts),
	    cmocka_unit_test(test_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
