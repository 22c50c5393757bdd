/* Units of the command line, base64, verdicts, and the step wire format. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/base/json_fd.h"
#include "sandbox/box_path.h"
#include "sandbox/cell.h"
#include "sandbox/step.h"
#include "sandbox/verdict.h"
#include "server/job/base64.h"
#include "server/job/units.h"

static void test_sizes(void **state)
{
	uint64_t kb = 0;

	(void)state;
	assert_int_equal(sp_parse_size_kb("256M", 1 << 30, &kb), 0);
	assert_int_equal(kb, 256 * 1024);
	assert_int_equal(sp_parse_size_kb("1G", 1 << 30, &kb), 0);
	assert_int_equal(kb, 1024 * 1024);
	assert_int_equal(sp_parse_size_kb("1536", 1 << 30, &kb), 0);
	assert_int_equal(kb, 2); /* bytes, rounded up to KiB */
	assert_int_equal(sp_parse_size_kb("1.5k", 1 << 30, &kb), 0);
	assert_int_equal(kb, 2);
	assert_int_equal(sp_parse_size_kb("64MiB", 1 << 30, &kb), 0);
	assert_int_equal(kb, 65536);
	assert_int_equal(sp_parse_size_kb("0", 1 << 30, &kb), -1);
	assert_int_equal(sp_parse_size_kb("-5M", 1 << 30, &kb), -1);
	assert_int_equal(sp_parse_size_kb("5X", 1 << 30, &kb), -1);
	assert_int_equal(sp_parse_size_kb("", 1 << 30, &kb), -1);
	assert_int_equal(sp_parse_size_kb("nan", 1 << 30, &kb), -1);
	assert_int_equal(sp_parse_size_kb("inf", 1 << 30, &kb), -1);
	assert_int_equal(sp_parse_size_kb("1e400", 1 << 30, &kb), -1);
	assert_int_equal(sp_parse_size_kb("2G", 1024 * 1024, &kb), -1);
	assert_int_equal(sp_parse_size_kb(NULL, 1 << 30, &kb), -1);
}

static void test_durations(void **state)
{
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(sp_parse_duration_ms("2s", 3600000, &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(sp_parse_duration_ms("2", 3600000, &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(sp_parse_duration_ms("500ms", 3600000, &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(sp_parse_duration_ms("1.5s", 3600000, &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(sp_parse_duration_ms("1m", 3600000, &ms), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(sp_parse_duration_ms("0.0001ms", 3600000, &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(sp_parse_duration_ms("0s", 3600000, &ms), -1);
	assert_int_equal(sp_parse_duration_ms("2h", 3600000, &ms), -1);
	assert_int_equal(sp_parse_duration_ms("1 s", 3600000, &ms), -1);
	assert_int_equal(sp_parse_duration_ms("s", 3600000, &ms), -1);
}

static void test_counts(void **state)
{
	uint64_t n = 0;

	(void)state;
	assert_int_equal(sp_parse_count("64", 65536, &n), 0);
	assert_int_equal(n, 64);
	assert_int_equal(sp_parse_count("0", 65536, &n), -1);
	assert_int_equal(sp_parse_count("65537", 65536, &n), -1);
	assert_int_equal(sp_parse_count("12abc", 65536, &n), -1);
	assert_int_equal(sp_parse_count("-1", 65536, &n), -1);
	assert_int_equal(sp_parse_count("99999999999999999999999", 65536, &n), -1);
}

static void test_base64(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {{"", ""},
		     {"f", "Zg=="},
		     {"fo", "Zm8="},
		     {"foo", "Zm9v"},
		     {"foob", "Zm9vYg=="},
		     {"fooba", "Zm9vYmE="},
		     {"foobar", "Zm9vYmFy"}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *enc =
		    sp_base64_encode((const unsigned char *)cases[i].in, strlen(cases[i].in));

		assert_string_equal(enc, cases[i].out);
		free(enc);
	}
}

static int exited(int code)
{
	return (code & 0xff) << 8;
}

static void test_verdicts(void **state)
{
	struct sp_verdict_input in = {0};

	(void)state;
	in.wait_status = exited(0);
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_OK);
	in.wait_status = exited(1);
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_RUNTIME_ERROR);
	in.wait_status = SIGSEGV;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_RUNTIME_ERROR);
	in.wait_status = SIGSYS;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_SYSCALL_BLOCKED);
	in.wait_status = SIGXCPU;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_TIME_LIMIT);
	in.wait_status = SIGXFSZ;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_OUTPUT_LIMIT);
	in.wait_status = SIGKILL;
	in.oom_kills = 1;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_MEMORY_LIMIT);
	in.killed = SP_KILL_TIME;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_TIME_LIMIT);
	in.killed = SP_KILL_OUTPUT;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_OUTPUT_LIMIT);
	in.failure = SP_STEP_SETUP_FAILED;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_INTERNAL_ERROR);
	memset(&in, 0, sizeof(in));
	in.wait_status = exited(0);
	in.cpu_ms = 1001;
	in.cpu_limit_ms = 1000;
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_TIME_LIMIT);
	in.cpu_ms = 0;
	in.failure = SP_STEP_EXEC_FAILED;
	in.wait_status = exited(127);
	assert_int_equal(sp_verdict_decide(&in), SP_STATUS_RUNTIME_ERROR);
	assert_string_equal(sp_status_to_string(SP_STATUS_SYSCALL_BLOCKED), "syscall_blocked");
}

static void test_step_wire_round_trip(void **state)
{
	union {
		struct sp_step_wire wire;
		char bytes[4096];
	} buf;
	char *argv[] = {"python3", "-c", "print(1)", NULL};
	char *envp[] = {"PATH=/usr/bin", "LANG=C.UTF-8", NULL};
	struct sp_limits limits = {.cpu_ms = 1234, .memory_kb = 5678};
	struct sp_step_context ctx = {0};
	struct sp_error err = {0};
	ssize_t len;

	(void)state;
	len = sp_step_pack(&buf.wire, sizeof(buf), argv, envp, &limits, &err);
	assert_true(len > 0);
	assert_int_equal(sp_step_unpack(&buf.wire, (size_t)len, &ctx, &err), 0);
	assert_string_equal(ctx.argv[0], "python3");
	assert_string_equal(ctx.argv[2], "print(1)");
	assert_null(ctx.argv[3]);
	assert_string_equal(ctx.envp[1], "LANG=C.UTF-8");
	assert_null(ctx.envp[2]);
	assert_int_equal(ctx.limits.cpu_ms, 1234);
	/* a truncated message, or strings without their final NUL, are refused */
	assert_int_equal(sp_step_unpack(&buf.wire, (size_t)len - 1, &ctx, &err), -1);
	buf.wire.strings_length--;
	assert_int_equal(sp_step_unpack(&buf.wire, (size_t)len - 1, &ctx, &err), -1);
	/* too long for the room */
	assert_int_equal(sp_step_pack(&buf.wire, sizeof(buf.wire) + 8, argv, envp, &limits, &err),
			 -1);
}

static void test_file_names(void **state)
{
	(void)state;
	assert_true(sp_box_name_valid("main.py"));
	assert_true(sp_box_name_valid("Main.java"));
	assert_false(sp_box_name_valid(""));
	assert_false(sp_box_name_valid("."));
	assert_false(sp_box_name_valid(".."));
	assert_false(sp_box_name_valid("a/b"));
	assert_false(sp_box_name_valid("/etc"));
	assert_false(sp_box_name_valid("bad\nname"));
	assert_true(sp_box_path_valid("src/app/main.py"));
	assert_true(sp_box_path_valid("main.py"));
	assert_false(sp_box_path_valid("/etc/passwd"));
	assert_false(sp_box_path_valid("src//main.py"));
	assert_false(sp_box_path_valid("src/../main.py"));
	assert_false(sp_box_path_valid("src/"));
	assert_false(sp_box_path_valid("./main.py"));
	assert_false(sp_box_path_valid("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q"));
	assert_true(sp_box_path_valid("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p"));
}

/* A memfd holding TEXT, at offset 0. */
static int memfd_with(const char *text, size_t len)
{
	int fd = memfd_create("json", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void test_json_from_fd(void **state)
{
	size_t big = 100 * 1024; /* several reads and buffer growths */
	char *text = malloc(big + 64);
	json_error_t jerr;
	json_t *doc;
	int fd;

	(void)state;
	assert_non_null(text);
	memcpy(text, "{\"a\": \"", 7);
	memset(text + 7, 'x', big);
	memcpy(text + 7 + big, "\", \"b\": 2}", 10);
	fd = memfd_with(text, big + 17);
	doc = sp_json_load_fd(fd, JSON_REJECT_DUPLICATES, &jerr);
	close(fd);
	assert_non_null(doc);
	assert_int_equal(strlen(json_string_value(json_object_get(doc, "a"))), big);
	assert_int_equal(json_integer_value(json_object_get(doc, "b")), 2);
	json_decref(doc);
	/* flags are jansson's: a duplicate key is refused */
	fd = memfd_with("{\"a\": 1, \"a\": 2}", strlen("{\"a\": 1, \"a\": 2}"));
	assert_null(sp_json_load_fd(fd, JSON_REJECT_DUPLICATES, &jerr));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	doc = sp_json_load_fd(fd, 0, &jerr);
	assert_non_null(doc);
	json_decref(doc);
	close(fd);
	/* not JSON, and empty */
	fd = memfd_with("{\"a\":", 5);
	assert_null(sp_json_load_fd(fd, 0, &jerr));
	close(fd);
	fd = memfd_with("", 0);
	assert_null(sp_json_load_fd(fd, 0, &jerr));
	close(fd);
	/* a read error, not a crash */
	assert_null(sp_json_load_fd(-1, 0, &jerr));
	assert_string_equal(jerr.text, "Bad file descriptor");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),      cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_counts),     cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_verdicts),   cmocka_unit_test(test_step_wire_round_trip),
	    cmocka_unit_test(test_file_names), cmocka_unit_test(test_json_from_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
