#include "proctitle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

/* arg_start and arg_end are fields 48 and 49 of /proc/self/stat. */
#define STAT_ARG_START_FIELD 48

/* The bounds of the argument area, from /proc/self/stat. */
static int arg_area(unsigned long *start, unsigned long *end, struct sp_error *err)
{
	char buf[2048];
	cleanup_close int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *p;

	if (fd < 0)
		return sp_error_set(err, errno, "open /proc/self/stat");
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return sp_error_set(err, n < 0 ? errno : EIO, "read /proc/self/stat");
	buf[n] = '\0';
	/* the command name (field 2) may hold anything: count from its ')' */
	p = strrchr(buf, ')');
	for (int field = 2; p != NULL && field < STAT_ARG_START_FIELD; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", start, end) != 2 || *end <= *start)
		return sp_error_set(err, EPROTO, "no argument area in /proc/self/stat");
	return 0;
}

int sp_proctitle_set(const char *title, struct sp_error *err)
{
	unsigned long start, end;
	size_t size, len = strlen(title);

	if (arg_area(&start, &end, err) < 0)
		return -1;
	size = end - start;
	memset((char *)start, 0, size);
	memcpy((char *)start, title, len < size ? len : size - 1);
	return 0;
}
