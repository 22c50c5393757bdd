/* Who may open a WebSocket: the caps in all, by descriptors, per client
 * address (an IPv6 /64 as one) and per token, each refusal counted by its
 * reason, places given back; the descriptors kept for the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "server/http/http_ws_admit.h"

static struct sp_ws_admit *made(unsigned total, unsigned descriptors, unsigned per_address,
				unsigned per_token, unsigned tokens)
{
	struct sp_ws_caps caps = {.total = total,
				  .descriptors = descriptors,
				  .per_address = per_address,
				  .per_token = per_token,
				  .tokens = tokens};
	struct sp_ws_admit *a = NULL;
	struct sp_error err = {0};

	assert_int_equal(sp_ws_admit_new(&a, &caps, &err), 0);
	return a;
}

static void test_total_and_address(void **state)
{
	struct sp_ws_admit *a = made(5, 100, 2, 0, 0);
	struct sp_ws_place p[8], refused;
	struct sp_ws_admit_stats st;

	(void)state;
	assert_int_equal(sp_ws_admit_take(a, "10.0.0.1", -1, &p[0]), SP_WS_ADMITTED);
	assert_int_equal(sp_ws_admit_take(a, "10.0.0.1", -1, &p[1]), SP_WS_ADMITTED);
	assert_int_equal(sp_ws_admit_take(a, "10.0.0.1", -1, &refused), SP_WS_ADDRESS_FULL);
	assert_false(refused.held);
	/* the same address written as IPv4 in IPv6 */
	assert_int_equal(sp_ws_admit_take(a, "::ffff:10.0.0.1", -1, &refused), SP_WS_ADDRESS_FULL);
	/* one /64: one client */
	assert_int_equal(sp_ws_admit_take(a, "2001:db8::1", -1, &p[2]), SP_WS_ADMITTED);
	assert_int_equal(sp_ws_admit_take(a, "2001:db8::ffff:2", -1, &p[3]), SP_WS_ADMITTED);
	assert_int_equal(sp_ws_admit_take(a, "2001:db8::3", -1, &refused), SP_WS_ADDRESS_FULL);
	assert_int_equal(sp_ws_admit_take(a, "2001:db8:0:1::3", -1, &p[4]), SP_WS_ADMITTED);
	assert_int_equal(sp_ws_admit_take(a, "10.0.0.2", -1, &refused), SP_WS_FULL);
	sp_ws_admit_stats(a, &st);
	assert_int_equal(st.open, 5);
	assert_int_equal(st.cap, 5);
	assert_int_equal(st.addresses, 3);
	assert_int_equal(st.address_peak, 2);
	assert_int_equal(st.refused[SP_WS_ADDRESS_FULL], 3);
	assert_int_equal(st.refused[SP_WS_FULL], 1);
	/* given back: room again, for that address too */
	sp_ws_admit_give_back(a, &p[0]);
	assert_false(p[0].held);
	sp_ws_admit_give_back(a, &p[0]); /* twice: nothing */
	assert_int_equal(sp_ws_admit_take(a, "10.0.0.1", -1, &p[0]), SP_WS_ADMITTED);
	for (int i = 0; i < 5; i++)
		sp_ws_admit_give_back(a, &p[i]);
	sp_ws_admit_stats(a, &st);
	assert_int_equal(st.open, 0);
	assert_int_equal(st.addresses, 0);
	sp_ws_admit_free(a);
}

static void test_descriptors_and_tokens(void **state)
{
	struct sp_ws_admit *a = made(10, 3, 0, 2, 2);
	struct sp_ws_place p[4], refused;
	struct sp_ws_admit_stats st;
	char address[32];

	(void)state;
	for (int i = 0; i < 2; i++) {
		snprintf(address, sizeof(address), "192.0.2.%d", i);
		assert_int_equal(sp_ws_admit_take(a, address, 1, &p[i]), SP_WS_ADMITTED);
	}
	assert_int_equal(sp_ws_admit_take(a, "192.0.2.9", 1, &refused), SP_WS_TOKEN_FULL);
	assert_int_equal(sp_ws_admit_take(a, "192.0.2.9", 0, &p[2]), SP_WS_ADMITTED);
	assert_int_equal(sp_ws_admit_take(a, "192.0.2.9", 0, &refused), SP_WS_NO_DESCRIPTORS);
	sp_ws_admit_stats(a, &st);
	assert_int_equal(st.cap, 3);
	assert_int_equal(st.refused[SP_WS_TOKEN_FULL], 1);
	assert_int_equal(st.refused[SP_WS_NO_DESCRIPTORS], 1);
	assert_string_equal(sp_ws_refusal_to_string(SP_WS_NO_DESCRIPTORS), "descriptors");
	assert_string_equal(sp_ws_refusal_to_string(SP_WS_ADDRESS_FULL), "per_address");
	for (int i = 0; i < 3; i++)
		sp_ws_admit_give_back(a, &p[i]);
	sp_ws_admit_free(a);
}

static void test_descriptor_room(void **state)
{
	(void)state;
	/* 256 threads and 45 cells keep 1 716 */
	assert_int_equal(sp_ws_reserved_descriptors(256, 45), 1716);
	assert_int_equal(sp_ws_descriptor_room(20000, 1716), 18284);
	/* a small limit is shared: half for WebSockets */
	assert_int_equal(sp_ws_descriptor_room(1024, 1716), 512);
	assert_int_equal(sp_ws_descriptor_room(1ul << 30, 1716), 1000000);
}

static void test_token_cap(void **state)
{
	(void)state;
	assert_int_equal(sp_ws_token_cap(300, 1, 4096), 300); /* as set */
	assert_int_equal(sp_ws_token_cap(300, 0, 4096), 300);
	assert_int_equal(sp_ws_token_cap(0, 0, 4096), 0); /* no token */
	assert_int_equal(sp_ws_token_cap(0, 1, 4096), 0); /* one: the total */
	assert_int_equal(sp_ws_token_cap(0, 2, 4096), 2048);
	assert_int_equal(sp_ws_token_cap(0, 3, 5), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_total_and_address),
	    cmocka_unit_test(test_descriptors_and_tokens),
	    cmocka_unit_test(test_descriptor_room),
	    cmocka_unit_test(test_token_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
