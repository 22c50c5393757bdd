#include "read_all.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"

int sp_read_all(int fd, size_t max, char **out, size_t *length, struct sp_error *err)
{
	cleanup_free char *buf = NULL;
	size_t used = 0;
	size_t cap = 0;

	for (;;) {
		ssize_t n;

		if (used == cap) {
			char *bigger;

			if (cap >= max)
				return sp_error_set(err, EFBIG, "larger than %zu bytes", max);
			cap = cap == 0 ? 64 * 1024 : cap * 2;
			if (cap > max)
				cap = max;
			bigger = realloc(buf, cap + 1);
			if (bigger == NULL)
				return sp_error_set(err, ENOMEM, "read");
			buf = bigger;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_error_set(err, errno, "read");
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return sp_error_set(err, ENOMEM, "read");
	buf[used] = '\0';
	*out = steal_pointer(&buf);
	*length = used;
	return 0;
}

int sp_copy_at_most(int from, int to, uint64_t max, struct sp_error *err)
{
	bool positioned = lseek(from, 0, SEEK_CUR) >= 0;
	char buf[65536];
	off_t off = 0;

	for (;;) {
		ssize_t n =
		    positioned ? pread(from, buf, sizeof(buf), off) : read(from, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_error_set(err, errno, "read the file to copy");
		if (n == 0)
			return 0;
		off += n;
		if ((uint64_t)off > max)
			return sp_error_set(err, EFBIG, "the file is larger than %llu bytes",
					    (unsigned long long)max);
		if (sp_write_all(to, buf, (size_t)n) < 0)
			return sp_error_set(err, errno, "write the copy");
	}
}

int sp_copy_all(int from, int to, struct sp_error *err)
{
	return sp_copy_at_most(from, to, UINT64_MAX, err);
}

int sp_write_all(int fd, const void *data, size_t len)
{
	for (const char *s = data; len > 0;) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}
