/* The descriptors the WebSocket side owns: marked and unmarked, skipped a
 * word at a time, numbers past the set's size never skipped, a close that
 * unmarks first. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/http/http_ws_fds.h"

static void test_next_other_skips_owned(void **state)
{
	struct sp_ws_fds *fds;
	struct sp_error err = {0};

	(void)state;
	assert_int_equal(sp_ws_fds_new(&fds, 1000, &err), 0);
	assert_int_equal(sp_ws_fds_next_other(fds, 0, 1000), 0);
	for (int fd = 3; fd < 300; fd++)
		sp_ws_fds_own(fds, fd);
	assert_true(sp_ws_fds_owned(fds, 3));
	assert_true(sp_ws_fds_owned(fds, 299));
	assert_false(sp_ws_fds_owned(fds, 300));
	assert_int_equal(sp_ws_fds_next_other(fds, 0, 1000), 0);
	assert_int_equal(sp_ws_fds_next_other(fds, 3, 1000), 300);
	assert_int_equal(sp_ws_fds_next_other(fds, 64, 1000), 300);
	assert_int_equal(sp_ws_fds_next_other(fds, 3, 200), 200); /* none below END */
	assert_int_equal(sp_ws_fds_next_other(fds, 301, 1000), 301);
	/* past the size: never owned, never skipped */
	sp_ws_fds_own(fds, 5000);
	assert_false(sp_ws_fds_owned(fds, 5000));
	assert_int_equal(sp_ws_fds_next_other(fds, 999, 6000), 999);
	assert_int_equal(sp_ws_fds_next_other(fds, 1000, 6000), 1000);
	assert_int_equal(sp_ws_fds_next_other(fds, 4999, 6000), 4999);
	for (int fd = 960; fd < 1000; fd++)
		sp_ws_fds_own(fds, fd);
	assert_int_equal(sp_ws_fds_next_other(fds, 960, 6000), 1000);
	sp_ws_fds_free(fds);
}

static void test_close_unmarks(void **state)
{
	struct sp_ws_fds *fds;
	struct sp_error err = {0};
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(sp_ws_fds_new(&fds, 4096, &err), 0);
	sp_ws_fds_own(fds, fd);
	assert_true(sp_ws_fds_owned(fds, fd));
	sp_ws_fds_close(fds, fd);
	assert_false(sp_ws_fds_owned(fds, fd));
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	sp_ws_fds_free(fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_other_skips_owned),
	    cmocka_unit_test(test_close_unmarks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
