/* Redis URLs of the queue: host, port, database, user and password (with
 * %-escapes), IPv6 hosts; errors for what is not one, never repeating the
 * password; the password hidden for logs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/config.h"
#include "server/job/queue_url.h"

static void test_full_and_short_forms(void **state)
{
	struct sp_queue_url u;
	struct sp_error err = {0};

	(void)state;
	assert_int_equal(sp_queue_url_parse("redis://queue.example:7000/3", &u, &err), 0);
	assert_string_equal(u.host, "queue.example");
	assert_int_equal(u.port, 7000);
	assert_int_equal(u.db, 3);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "");
	assert_int_equal(sp_queue_url_parse("redis://10.0.0.1", &u, &err), 0);
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_int_equal(sp_queue_url_parse("redis://[::1]:6380/", &u, &err), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6380);
}

static void test_credentials(void **state)
{
	struct sp_queue_url u;
	struct sp_error err = {0};

	(void)state;
	assert_int_equal(sp_queue_url_parse("redis://:s3cret@h:1", &u, &err), 0);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "s3cret");
	assert_int_equal(sp_queue_url_parse("redis://judge:p%40ss%3Aw%2Fd@h:1/2", &u, &err), 0);
	assert_string_equal(u.user, "judge");
	assert_string_equal(u.password, "p@ss:w/d");
	assert_int_equal(u.db, 2);
	/* an @ in the password itself, unescaped: the last @ ends it */
	assert_int_equal(sp_queue_url_parse("redis://u:a@b@h", &u, &err), 0);
	assert_string_equal(u.password, "a@b");
	assert_string_equal(u.host, "h");
}

static void refused(const char *url, const char *says)
{
	struct sp_queue_url u;
	struct sp_error err = {0};

	assert_int_equal(sp_queue_url_parse(url, &u, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	if (strstr(err.message, says) == NULL)
		fail_msg("%s: '%s' does not say '%s'", url, err.message, says);
	assert_null(strstr(err.message, "hunter2"));
}

static void test_not_urls(void **state)
{
	(void)state;
	refused("http://h:1", "redis://");
	refused("redis://", "host");
	refused("redis://h:0", "port");
	refused("redis://h:70000", "port");
	refused("redis://h:12x", "port");
	refused("redis://h/db", "database");
	refused("redis://hunter2@h", "PASSWORD@");
	refused("redis://u:hunter2%zz@h", "escape");
	refused("redis://[::1", "IPv6");
}

static void test_redacted(void **state)
{
	char out[128];

	(void)state;
	sp_queue_url_redacted("redis://judge:hunter2@h:1/2", out, sizeof(out));
	assert_string_equal(out, "redis://judge:***@h:1/2");
	sp_queue_url_redacted("redis://h:1", out, sizeof(out));
	assert_string_equal(out, "redis://h:1");
}

static void test_config_key_and_default(void **state)
{
	struct sp_config c;
	struct sp_error err = {0};
	json_t *doc =
	    json_pack("{s:s, s:i}", "queue", "redis://127.0.0.1:7001", "queue_lease_s", 5);

	(void)state;
	sp_config_defaults(&c);
	assert_string_equal(c.queue, "");
	assert_int_equal(sp_config_apply(&c, doc, "test", &err), 0);
	assert_string_equal(c.queue, "redis://127.0.0.1:7001");
	assert_int_equal(c.queue_lease_s, 5);
	json_decref(doc);
	doc = json_pack("{s:s}", "queue", "redis:/nope");
	assert_int_equal(sp_config_apply(&c, doc, "test", &err), -1);
	assert_non_null(strstr(err.message, "test"));
	json_decref(doc);
	sp_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_and_short_forms),
	    cmocka_unit_test(test_credentials),
	    cmocka_unit_test(test_not_urls),
	    cmocka_unit_test(test_redacted),
	    cmocka_unit_test(test_config_key_and_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
