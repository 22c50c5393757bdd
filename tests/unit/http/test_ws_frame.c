/* The WebSocket frame codec: a client's frames in (masked, 7/16/64-bit
 * lengths, fragments, control frames between fragments, byte by byte), the
 * protocol errors, messages over the limit, and the server's headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/http/http_ws_frame.h"

#define MAX 4096

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A client frame: FIRST (FIN, RSV, opcode) and PAYLOAD masked with KEY. */
static size_t client_frame(uint8_t *out, uint8_t first, const void *payload, uint64_t len)
{
	size_t n = sp_ws_header(out, SP_WS_CONTINUATION, len);

	out[0] = first;
	out[1] |= 0x80;
	memcpy(out + n, KEY, 4);
	n += 4;
	for (uint64_t i = 0; i < len; i++)
		out[n + i] = ((const uint8_t *)payload)[i] ^ KEY[i & 3];
	return n + (size_t)len;
}

/* Read all of IN in pieces of STEP bytes; the items found, in order. */
static size_t read_all(struct sp_ws_reader *r, const uint8_t *in, size_t len, size_t step,
		       struct sp_ws_in *items, char (*texts)[256], size_t max_items)
{
	size_t count = 0, pos = 0;

	while (pos < len && count < max_items) {
		size_t piece = len - pos < step ? len - pos : step;
		size_t taken = 0;

		while (taken < piece && count < max_items) {
			struct sp_ws_in in_item;
			size_t n = sp_ws_read(r, in + pos + taken, piece - taken, &in_item);

			taken += n;
			if (in_item.kind == SP_WS_IN_NONE)
				continue;
			items[count] = in_item;
			snprintf(texts[count], 256, "%.*s",
				 (int)(in_item.length < 255 ? in_item.length : 255),
				 in_item.data ? in_item.data : "");
			count++;
			if (in_item.kind == SP_WS_IN_ERROR)
				return count;
		}
		pos += piece;
	}
	return count;
}

static void test_messages_in_every_split(void **state)
{
	uint8_t buf[8192];
	char big[300];
	size_t n = 0;

	(void)state;
	memset(big, 'b', sizeof(big));
	n += client_frame(buf + n, 0x81, "hello", 5);	    /* text, 7-bit */
	n += client_frame(buf + n, 0x82, big, sizeof(big)); /* binary, 16-bit */
	n += client_frame(buf + n, 0x01, "frag", 4);	    /* text, not FIN */
	n += client_frame(buf + n, 0x89, "ping!", 5);	    /* ping between */
	n += client_frame(buf + n, 0x00, "men", 3);	    /* continuation */
	n += client_frame(buf + n, 0x8a, "", 0);	    /* pong, empty */
	n += client_frame(buf + n, 0x80, "ted", 3);	    /* last fragment */
	n += client_frame(buf + n, 0x81, "", 0);	    /* empty message */
	n += client_frame(buf + n, 0x88,
			  "\x03\xe8"
			  "bye",
			  5); /* close 1000 */
	for (size_t step = 1; step <= n; step = step < 16 ? step + 1 : step * 3) {
		struct sp_ws_reader r;
		struct sp_ws_in items[16];
		char texts[16][256];
		size_t count;

		sp_ws_reader_init(&r, MAX);
		count = read_all(&r, buf, n, step, items, texts, 16);
		assert_int_equal(count, 7);
		assert_int_equal(items[0].kind, SP_WS_IN_MESSAGE);
		assert_int_equal(items[0].opcode, SP_WS_TEXT);
		assert_string_equal(texts[0], "hello");
		assert_int_equal(items[1].kind, SP_WS_IN_MESSAGE);
		assert_int_equal(items[1].opcode, SP_WS_BINARY);
		assert_int_equal(items[1].length, sizeof(big));
		assert_int_equal(items[2].kind, SP_WS_IN_PING);
		assert_string_equal(texts[2], "ping!");
		assert_int_equal(items[3].kind, SP_WS_IN_PONG);
		assert_int_equal(items[3].length, 0);
		assert_int_equal(items[4].kind, SP_WS_IN_MESSAGE);
		assert_int_equal(items[4].opcode, SP_WS_TEXT);
		assert_string_equal(texts[4], "fragmented");
		assert_int_equal(items[5].kind, SP_WS_IN_MESSAGE);
		assert_int_equal(items[5].length, 0);
		assert_int_equal(items[6].kind, SP_WS_IN_CLOSE);
		assert_int_equal(items[6].code, 1000);
		assert_int_equal(items[6].length, 5);
		sp_ws_reader_free(&r);
	}
}

static void test_64_bit_length(void **state)
{
	size_t len = 70000, n;
	uint8_t *buf = malloc(len + SP_WS_HEADER_MAX);
	char *payload = malloc(len);
	struct sp_ws_reader r;
	struct sp_ws_in in;

	(void)state;
	for (size_t i = 0; i < len; i++)
		payload[i] = (char)('a' + i % 26);
	n = client_frame(buf, 0x81, payload, len);
	assert_int_equal(buf[1] & 0x7f, 127);
	sp_ws_reader_init(&r, len);
	assert_int_equal(sp_ws_read(&r, buf, n, &in), n);
	assert_int_equal(in.kind, SP_WS_IN_MESSAGE);
	assert_int_equal(in.length, len);
	assert_memory_equal(in.data, payload, len);
	sp_ws_reader_free(&r);
	free(buf);
	free(payload);
}

/* One bad frame (after a good one): the error, its code, and no more. */
static void expect_error(const uint8_t *bad, size_t len, unsigned code, const char *why)
{
	uint8_t buf[512];
	size_t n = client_frame(buf, 0x81, "ok", 2);
	struct sp_ws_reader r;
	struct sp_ws_in items[4];
	char texts[4][256];

	memcpy(buf + n, bad, len);
	sp_ws_reader_init(&r, 64);
	assert_int_equal(read_all(&r, buf, n + len, n + len, items, texts, 4), 2);
	assert_int_equal(items[0].kind, SP_WS_IN_MESSAGE);
	assert_int_equal(items[1].kind, SP_WS_IN_ERROR);
	assert_int_equal(items[1].code, code);
	assert_non_null(strstr(items[1].why, why));
	/* the reader stays failed */
	assert_int_equal(sp_ws_read(&r, buf, n, &items[2]), 0);
	assert_int_equal(items[2].kind, SP_WS_IN_ERROR);
	sp_ws_reader_free(&r);
}

static void test_protocol_errors(void **state)
{
	uint8_t f[256], big[200] = {0};
	size_t n;

	(void)state;
	/* unmasked */
	expect_error((const uint8_t *)"\x81\x02hi", 4, 1002, "masked");
	n = client_frame(f, 0xc1, "x", 1); /* RSV1 */
	expect_error(f, n, 1002, "reserved");
	n = client_frame(f, 0x91, "x", 1); /* RSV3 */
	expect_error(f, n, 1002, "reserved");
	n = client_frame(f, 0x83, "x", 1); /* opcode 3 */
	expect_error(f, n, 1002, "opcode");
	n = client_frame(f, 0x8b, "x", 1); /* opcode 11 */
	expect_error(f, n, 1002, "opcode");
	n = client_frame(f, 0x89, big, 126); /* ping over 125 */
	expect_error(f, n, 1002, "125");
	n = client_frame(f, 0x09, "x", 1); /* fragmented ping */
	expect_error(f, n, 1002, "fragmented control");
	n = client_frame(f, 0x80, "x", 1); /* continuation, nothing open */
	expect_error(f, n, 1002, "continuation");
	n = client_frame(f, 0x01, "x", 1); /* a message inside a message */
	n += client_frame(f + n, 0x81, "y", 1);
	expect_error(f, n, 1002, "inside");
	n = client_frame(f, 0x88, "\x03", 1); /* close, one byte */
	expect_error(f, n, 1002, "one byte");
	n = client_frame(f, 0x88, "\x03\xed", 2); /* close 1005 may not be sent */
	expect_error(f, n, 1002, "close code");
	n = client_frame(f, 0x88, "\x03\xe8\xff", 3); /* reason not UTF-8 */
	expect_error(f, n, 1007, "UTF-8");
	/* a 64-bit length with its top bit set */
	memcpy(f, "\x81\xff\x80\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00", 14);
	expect_error(f, 14, 1002, "top bit");
}

static void test_too_large_is_skipped(void **state)
{
	uint8_t buf[1024];
	char big[100];
	size_t n = 0;
	struct sp_ws_reader r;
	struct sp_ws_in items[8];
	char texts[8][256];

	(void)state;
	memset(big, 'x', sizeof(big));
	n += client_frame(buf + n, 0x81, big, 65); /* one frame over 64 */
	n += client_frame(buf + n, 0x01, big, 40); /* 40 ... */
	n += client_frame(buf + n, 0x89, "p", 1);  /* a ping between */
	n += client_frame(buf + n, 0x80, big, 40); /* ... + 40 over 64 */
	n += client_frame(buf + n, 0x81, big, 64); /* exactly 64 */
	sp_ws_reader_init(&r, 64);
	assert_int_equal(read_all(&r, buf, n, 7, items, texts, 8), 4);
	assert_int_equal(items[0].kind, SP_WS_IN_TOO_LARGE);
	assert_int_equal(items[1].kind, SP_WS_IN_PING);
	assert_int_equal(items[2].kind, SP_WS_IN_TOO_LARGE);
	assert_int_equal(items[3].kind, SP_WS_IN_MESSAGE);
	assert_int_equal(items[3].length, 64);
	sp_ws_reader_free(&r);
}

static void test_server_headers(void **state)
{
	uint8_t h[SP_WS_HEADER_MAX];

	(void)state;
	assert_int_equal(sp_ws_header(h, SP_WS_TEXT, 5), 2);
	assert_memory_equal(h, "\x81\x05", 2);
	assert_int_equal(sp_ws_header(h, SP_WS_PONG, 125), 2);
	assert_memory_equal(h, "\x8a\x7d", 2);
	assert_int_equal(sp_ws_header(h, SP_WS_TEXT, 126), 4);
	assert_memory_equal(h, "\x81\x7e\x00\x7e", 4);
	assert_int_equal(sp_ws_header(h, SP_WS_TEXT, 65535), 4);
	assert_memory_equal(h, "\x81\x7e\xff\xff", 4);
	assert_int_equal(sp_ws_header(h, SP_WS_TEXT, 65536), 10);
	assert_memory_equal(h, "\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	assert_int_equal(sp_ws_header(h, SP_WS_CLOSE, 0), 2);
	assert_memory_equal(h, "\x88\x00", 2);
}

static void test_close_payload(void **state)
{
	uint8_t p[SP_WS_CONTROL_MAX];
	char reason[300];
	size_t n;

	(void)state;
	assert_int_equal(sp_ws_close_payload(p, SP_WS_NO_STATUS, "x"), 0);
	assert_int_equal(sp_ws_close_payload(p, 1008, "slow"), 6);
	assert_memory_equal(p, "\x03\xf0slow", 6);
	/* cut to 125 bytes, never inside a character */
	for (size_t i = 0; i + 2 < sizeof(reason); i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	reason[298] = '\0';
	n = sp_ws_close_payload(p, 1000, reason);
	assert_int_equal(n, 124);
	assert_true(sp_ws_close_code_valid(1000));
	assert_true(sp_ws_close_code_valid(4999));
	assert_false(sp_ws_close_code_valid(1004));
	assert_false(sp_ws_close_code_valid(1005));
	assert_false(sp_ws_close_code_valid(1006));
	assert_false(sp_ws_close_code_valid(1016));
	assert_false(sp_ws_close_code_valid(999));
	assert_false(sp_ws_close_code_valid(5000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages_in_every_split),
	    cmocka_unit_test(test_64_bit_length),
	    cmocka_unit_test(test_protocol_errors),
	    cmocka_unit_test(test_too_large_is_skipped),
	    cmocka_unit_test(test_server_headers),
	    cmocka_unit_test(test_close_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
