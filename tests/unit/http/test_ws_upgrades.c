/* The WebSocket upgrades under way, found by their civetweb connection:
 * added, found, taken out once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "server/http/http_ws_upgrades.h"

static void test_add_find_take(void **state)
{
	enum { N = 300 };
	struct sp_ws_upgrades *ups = sp_ws_upgrades_new();
	char conns[N], values[N];

	(void)state;
	assert_non_null(ups);
	for (int i = 0; i < N; i++)
		assert_int_equal(sp_ws_upgrades_add(ups, &conns[i], &values[i]), 0);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(sp_ws_upgrades_find(ups, &conns[i]), &values[i]);
	assert_null(sp_ws_upgrades_find(ups, values));
	for (int i = 0; i < N; i += 2)
		assert_ptr_equal(sp_ws_upgrades_take(ups, &conns[i]), &values[i]);
	for (int i = 0; i < N; i++) {
		assert_ptr_equal(sp_ws_upgrades_find(ups, &conns[i]), i % 2 ? &values[i] : NULL);
		assert_null(i % 2 ? NULL : sp_ws_upgrades_take(ups, &conns[i]));
	}
	/* those left go with the table */
	sp_ws_upgrades_free(ups);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_find_take),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
