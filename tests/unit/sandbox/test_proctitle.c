/* The command line a cell shows its jobs as their pid 1's. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/proctitle.h"

/* /proc/PID/cmdline, NULs and all; its length. */
static size_t read_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, size);
	close(fd);
	assert_true(n > 0);
	return (size_t)n;
}

/* A child overwrites its argument area; its parent reads nothing of the
 * arguments there, only the title and zeros. */
static void test_title_replaces_every_argument(void **state)
{
	char before[4096], after[4096];
	size_t len_before, len_after;
	int ready[2], done[2], status;
	char c = 0;
	pid_t pid;

	(void)state;
	len_before = read_cmdline(getpid(), before, sizeof(before));
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(done), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sp_error err = {0};

		c = sp_proctitle_set("sandpool-cell", &err) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	len_after = read_cmdline(pid, after, sizeof(after));
	assert_int_equal(write(done[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(len_after, len_before);
	assert_string_equal(after, "sandpool-cell");
	for (size_t i = strlen("sandpool-cell"); i < len_after; i++)
		assert_int_equal(after[i], 0);
	/* the parent's own arguments are untouched */
	assert_int_equal(read_cmdline(getpid(), after, sizeof(after)), len_before);
	assert_memory_equal(after, before, len_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_title_replaces_every_argument),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
