/* The server configuration: defaults, a file over them, clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/job/config.h"
#include "server/job/memory_plan.h"

static int apply(struct sp_config *c, const char *text, struct sp_error *err)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	int rc;

	assert_non_null(doc);
	rc = sp_config_apply(c, doc, "test.json", err);
	json_decref(doc);
	return rc;
}

static void test_defaults_need_no_file(void **state)
{
	struct sp_config c;
	struct sp_error err = {0};

	(void)state;
	sp_config_defaults(&c);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8080);
	assert_int_equal(c.pool_total, 45);
	assert_int_equal(c.max_body, 64 * 1024 * 1024);
	assert_true(sp_config_is_loopback(&c));
	assert_int_equal(sp_config_check(&c, &err), 0);
	sp_config_free(&c);
}

static void test_file_over_defaults(void **state)
{
	struct sp_config c;
	struct sp_error err = {0};

	(void)state;
	sp_config_defaults(&c);
	assert_int_equal(apply(&c,
			       "{\"listen\": \"[::1]:9000\", \"threads\": 4, \"queue_size\": 10,"
			       " \"pool_sizes\": {\"python\": 5, \"java\": 0},"
			       " \"max_limits\": {\"cpu_ms\": 5000}, \"clamp_limits\": true,"
			       " \"tokens\": [\"0123456789abcdef\"], \"state_dir\": \"/srv/sp\","
			       " \"max_body\": 1048576}",
			       &err),
			 0);
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(c.listen_port, 9000);
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.queue_size, 10);
	assert_int_equal(json_integer_value(json_object_get(c.pool_sizes, "python")), 5);
	assert_int_equal(c.max_limits.cpu_ms, 5000);
	assert_int_equal(c.max_limits.wall_ms, 120000); /* default kept */
	assert_true(c.clamp_limits);
	assert_int_equal(c.token_count, 1);
	assert_string_equal(c.state_dir, "/srv/sp");
	assert_int_equal(c.max_body, 1048576);
	assert_int_equal(c.pool_total, 45);
	sp_config_free(&c);
}

static void test_errors_name_the_key(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
	    {"[]", "JSON object"},
	    {"{\"thread\": 4}", "unknown key \"thread\""},
	    {"{\"threads\": \"4\"}", "\"threads\" must be a whole number"},
	    {"{\"threads\": 0}", "\"threads\" must be from 1 to 1024"},
	    {"{\"threads\": 1.5}", "\"threads\" must be a whole number"},
	    {"{\"request_timeout_s\": 0}", "\"request_timeout_s\" must be from 1 to 3600"},
	    {"{\"max_body\": 10}", "\"max_body\" must be from 1024"},
	    {"{\"listen\": \"nowhere\"}", "want ADDR:PORT"},
	    {"{\"listen\": \"1.2.3.4:99999\"}", "want ADDR:PORT"},
	    {"{\"listen\": \"example.com:80\"}", "not an IP address"},
	    {"{\"tokens\": [\"short\"]}", "16 to 256 characters"},
	    {"{\"tokens\": \"0123456789abcdef\"}", "\"tokens\" must be an array"},
	    {"{\"state_dir\": \"relative\"}", "\"state_dir\" must be an absolute path"},
	    {"{\"pool_sizes\": {\"python\": -1}}", "pool_sizes.python"},
	    {"{\"max_limits\": {\"cpu_ms\": 0}}", "max_limits.cpu_ms"},
	    {"{\"clamp_limits\": 1}", "\"clamp_limits\" must be true or false"},
	    {"{\"default_limits\": [1]}", "\"default_limits\" must be an object"},
	    {"{\"default_limits\": {\"wall_ms\": -5}}", "default_limits.wall_ms"},
	    {"{\"queue_timeout_s\": -1}", "\"queue_timeout_s\" must be from 0"},
	    {"{\"cold_concurrency\": 0}", "\"cold_concurrency\" must be from 1"},
	    {"{\"memory_max_mb\": 63}", "\"memory_max_mb\" must be from 64"},
	    {"{\"memory_share_percent\": 0}", "\"memory_share_percent\" must be from 1 to 100"},
	    {"{\"http_address_percent\": 101}", "\"http_address_percent\" must be from 1 to 100"},
	    {"{\"http_token_percent\": 0}", "\"http_token_percent\" must be from 1 to 100"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sp_config c;
		struct sp_error err = {0};

		sp_config_defaults(&c);
		assert_int_equal(apply(&c, cases[i].text, &err), -1);
		if (strstr(err.message, cases[i].message) == NULL)
			fail_msg("case %zu: '%s' does not mention '%s'", i, err.message,
				 cases[i].message);
		sp_config_free(&c);
	}
}

/* memory_max_mb, split: the server's own, the cached programs, requests. */
static void test_memory_plan(void **state)
{
	struct sp_config c;
	struct sp_error err = {0};
	struct sp_memory_plan plan;
	const uint64_t mib = 1 << 20;

	(void)state;
	sp_config_defaults(&c);
	assert_int_equal(c.memory_max_mb, 1024);
	assert_int_equal(sp_memory_plan(&c, 44, &plan, &err), 0);
	assert_int_equal(plan.total, 1024 * mib);
	assert_int_equal(plan.base, 32 * mib + (256 + 44) * 128 * 1024);
	assert_int_equal(plan.programs, 128 * mib);
	assert_int_equal(plan.requests, plan.total - plan.base - plan.programs);
	assert_int_equal(plan.share, plan.requests / 2);
	/* too small for one body of max_body (64 MiB, parsed from a file: 128) */
	assert_int_equal(apply(&c, "{\"memory_max_mb\": 256}", &err), 0);
	assert_int_equal(sp_memory_plan(&c, 44, &plan, &err), -1);
	assert_non_null(strstr(err.message, "raise memory_max_mb or lower max_body"));
	assert_int_equal(apply(&c, "{\"memory_share_percent\": 100}", &err), 0);
	assert_int_equal(sp_memory_plan(&c, 44, &plan, &err), 0);
	sp_config_free(&c);
}

static void test_default_limits(void **state)
{
	struct sp_config c;
	struct sp_error err = {0};

	(void)state;
	sp_config_defaults(&c);
	assert_null(c.default_limits);
	assert_int_equal(apply(&c,
			       "{\"default_limits\": {\"wall_ms\": 1000},"
			       " \"default_compile_limits\": {\"cpu_ms\": 9000},"
			       " \"queue_timeout_s\": 5, \"cold_concurrency\": 3}",
			       &err),
			 0);
	assert_int_equal(json_integer_value(json_object_get(c.default_limits, "wall_ms")), 1000);
	assert_int_equal(c.queue_timeout_s, 5);
	assert_int_equal(c.cold_concurrency, 3);
	assert_int_equal(sp_config_check(&c, &err), 0);
	/* a default above the maximum is refused at start */
	assert_int_equal(apply(&c, "{\"max_limits\": {\"cpu_ms\": 8000}}", &err), 0);
	assert_int_equal(sp_config_check(&c, &err), -1);
	assert_non_null(strstr(err.message, "default_compile_limits.cpu_ms: 9000 is above"));
	sp_config_free(&c);
}

static void test_listen_and_tokens(void **state)
{
	struct sp_config c;
	struct sp_error err = {0};

	(void)state;
	sp_config_defaults(&c);
	assert_int_equal(sp_config_set_listen(&c, "0.0.0.0:8080", &err), 0);
	assert_false(sp_config_is_loopback(&c));
	assert_int_equal(sp_config_check(&c, &err), -1);
	assert_non_null(strstr(err.message, "needs an API token"));
	assert_int_equal(sp_config_add_token(&c, "0123456789abcdef0123", &err), 0);
	assert_int_equal(sp_config_check(&c, &err), 0);
	assert_int_equal(sp_config_set_listen(&c, "127.0.0.5:1", &err), 0);
	assert_true(sp_config_is_loopback(&c));
	assert_int_equal(sp_config_set_listen(&c, ":8081", &err), 0);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8081);
	assert_int_equal(sp_config_set_listen(&c, "localhost:80", &err), 0);
	assert_true(sp_config_is_loopback(&c));
	assert_int_equal(sp_config_add_token(&c, "with space in the token", &err), -1);
	sp_config_free(&c);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/sp-config-XXXXXX";
	struct sp_config c;
	struct sp_error err = {0};
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("{\"queue_size\": 7,\n \"queue_size\": 8}\n", f);
	fclose(f);
	sp_config_defaults(&c);
	/* a key given twice is refused, with the file and line */
	assert_int_equal(sp_config_load(&c, path, &err), -1);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "line 2"));
	f = fopen(path, "w");
	fputs("{\"queue_size\": 7}\n", f);
	fclose(f);
	assert_int_equal(sp_config_load(&c, path, &err), 0);
	assert_int_equal(c.queue_size, 7);
	assert_int_equal(sp_config_load(&c, "/no/such/config.json", &err), -1);
	unlink(path);
	sp_config_free(&c);
}

/* The WebSockets' caps and timers: defaults, a file over them, ranges. */
static void test_websocket_keys(void **state)
{
	struct sp_config c;
	struct sp_error err = {0};

	(void)state;
	sp_config_defaults(&c);
	assert_int_equal(c.ws_max_connections, 4096);
	assert_int_equal(c.ws_max_per_address, 1024);
	assert_int_equal(c.ws_max_per_token, 0);
	assert_int_equal(c.ws_ping_interval_s, 30);
	assert_int_equal(c.ws_ping_timeout_s, 30);
	assert_int_equal(c.ws_idle_timeout_s, 600);
	assert_int_equal(apply(&c,
			       "{\"ws_max_connections\": 10000, \"ws_max_per_address\": 0, "
			       "\"ws_max_per_token\": 500, \"ws_ping_interval_s\": 0, "
			       "\"ws_ping_timeout_s\": 5, \"ws_idle_timeout_s\": 0}",
			       &err),
			 0);
	assert_int_equal(c.ws_max_connections, 10000);
	assert_int_equal(c.ws_max_per_address, 0);
	assert_int_equal(c.ws_max_per_token, 500);
	assert_int_equal(c.ws_ping_interval_s, 0);
	assert_int_equal(c.ws_ping_timeout_s, 5);
	assert_int_equal(c.ws_idle_timeout_s, 0);
	assert_int_equal(apply(&c, "{\"ws_max_connections\": 0}", &err), -1);
	assert_non_null(strstr(err.message, "\"ws_max_connections\" must be from 1"));
	assert_int_equal(apply(&c, "{\"ws_ping_timeout_s\": 0}", &err), -1);
	assert_non_null(strstr(err.message, "\"ws_ping_timeout_s\" must be from 1"));
	sp_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_need_no_file), cmocka_unit_test(test_file_over_defaults),
	    cmocka_unit_test(test_errors_name_the_key),	  cmocka_unit_test(test_default_limits),
	    cmocka_unit_test(test_listen_and_tokens),	  cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_memory_plan),		  cmocka_unit_test(test_websocket_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
