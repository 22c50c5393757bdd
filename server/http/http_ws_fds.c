#include "http_ws_fds.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define WORD_BITS (sizeof(unsigned long) * CHAR_BIT)

struct sp_ws_fds {
	unsigned size; /* numbers below it */
	atomic_ulong words[];
};

int sp_ws_fds_new(struct sp_ws_fds **out, unsigned size, struct sp_error *err)
{
	size_t words = (size + WORD_BITS - 1) / WORD_BITS;
	struct sp_ws_fds *fds = calloc(1, sizeof(*fds) + words * sizeof(fds->words[0]));

	if (fds == NULL)
		return sp_error_set(err, ENOMEM, "the WebSockets' descriptors");
	fds->size = size;
	*out = fds;
	return 0;
}

void sp_ws_fds_free(struct sp_ws_fds *fds)
{
	free(fds);
}

static bool in_range(const struct sp_ws_fds *fds, int fd)
{
	return fd >= 0 && (unsigned)fd < fds->size;
}

static unsigned long bit(int fd)
{
	return 1ul << ((unsigned)fd % WORD_BITS);
}

void sp_ws_fds_own(struct sp_ws_fds *fds, int fd)
{
	if (in_range(fds, fd))
		atomic_fetch_or(&fds->words[(unsigned)fd / WORD_BITS], bit(fd));
}

void sp_ws_fds_close(struct sp_ws_fds *fds, int fd)
{
	if (in_range(fds, fd))
		atomic_fetch_and(&fds->words[(unsigned)fd / WORD_BITS], ~bit(fd));
	close(fd);
}

bool sp_ws_fds_owned(const struct sp_ws_fds *fds, int fd)
{
	return in_range(fds, fd) &&
	       (atomic_load(&fds->words[(unsigned)fd / WORD_BITS]) & bit(fd)) != 0;
}

int sp_ws_fds_next_other(const struct sp_ws_fds *fds, int from, int end)
{
	int fd = from < 0 ? 0 : from;

	while (fd < end && in_range(fds, fd)) {
		unsigned long word = atomic_load(&fds->words[(unsigned)fd / WORD_BITS]);
		unsigned long free_bits = ~word >> ((unsigned)fd % WORD_BITS);

		if (free_bits != 0) {
			fd += __builtin_ctzl(free_bits);
			return fd < end ? fd : end;
		}
		fd += (int)(WORD_BITS - (unsigned)fd % WORD_BITS);
	}
	return fd < end ? fd : end;
}
