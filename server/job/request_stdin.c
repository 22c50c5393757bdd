#include "request_stdin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Copy the sealed memfd FD into the pipe W; -1 when it does not fit. (On
 * the heap: 64 KiB is too much for a thread's stack.) */
static int prefill(int fd, int w)
{
	char *buf = malloc(SP_REQUEST_INTERACTIVE_STDIN_MAX);
	ssize_t n = buf ? pread(fd, buf, SP_REQUEST_INTERACTIVE_STDIN_MAX, 0) : -1;
	int rc = -1;

	if (n == 0 ||
	    (n > 0 && n < SP_REQUEST_INTERACTIVE_STDIN_MAX && write(w, buf, (size_t)n) == n))
		rc = 0;
	free(buf);
	return rc;
}

int sp_request_interactive(struct sp_request *req)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	if (req->stdin_fd >= 0 && prefill(req->stdin_fd, p[1]) < 0) {
		close(p[0]);
		close(p[1]);
		errno = EFBIG;
		return -1;
	}
	if (req->stdin_fd >= 0)
		close(req->stdin_fd);
	req->stdin_fd = p[0];
	return p[1];
}
