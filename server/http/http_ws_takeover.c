#include "http_ws_takeover.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

#define BATCH 256 /* descriptor numbers per poll(2) */

/* An address as IPv6 bytes (IPv4 as ::ffff:a.b.c.d), and a port. */
struct endpoint {
	uint8_t addr[16];
	unsigned port;
};

static void mapped_v4(const void *v4, uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

static bool parse_addr(const char *text, uint8_t out[16])
{
	struct in_addr v4;

	if (inet_pton(AF_INET6, text, out) == 1)
		return true;
	if (inet_pton(AF_INET, text, &v4) != 1)
		return false;
	mapped_v4(&v4, out);
	return true;
}

static bool endpoint_of(const struct sockaddr_storage *ss, struct endpoint *e)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		mapped_v4(&in->sin_addr, e->addr);
		e->port = ntohs(in->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		memcpy(e->addr, &in6->sin6_addr, 16);
		e->port = ntohs(in6->sin6_port);
		return true;
	}
	return false;
}

/* Is FD a TCP socket from PEER to our LOCAL_PORT? */
static bool is_connection(int fd, const struct endpoint *peer, unsigned local_port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct endpoint e;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 || !endpoint_of(&ss, &e) ||
	    e.port != peer->port || memcmp(e.addr, peer->addr, 16) != 0)
		return false;
	len = sizeof(ss);
	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && endpoint_of(&ss, &e) &&
	       e.port == local_port;
}

/* The size of the descriptor table (FDSize of /proc/self/status): no
 * descriptor is above it. Without /proc, the open files limit. */
static int table_size(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
	struct rlimit rl = {.rlim_cur = 1024};
	char line[256];
	int size;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "FDSize: %d", &size) == 1 && size > 0)
			return size;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
}

/* The open ones among BATCH (N numbers), by one poll(2): a closed number
 * answers POLLNVAL. Each that is the connection counts in *MATCHES, the
 * last in *FOUND. */
static void check_batch(struct pollfd *batch, size_t n, const struct endpoint *peer,
			unsigned local_port, int *matches, int *found)
{
	bool polled = poll(batch, n, 0) >= 0; /* if not, every number is asked */

	for (size_t i = 0; i < n; i++) {
		if ((!polled || (batch[i].revents & POLLNVAL) == 0) &&
		    is_connection(batch[i].fd, peer, local_port)) {
			*found = batch[i].fd;
			(*matches)++;
		}
	}
}

/* Every descriptor but the WebSocket side's own: the numbers it owns are
 * skipped, the others are polled in batches to tell the open ones, and each
 * open one is asked its addresses. The cost is the process's other
 * descriptors (HTTP connections, cells, files), whatever the number of open
 * WebSockets. Returns how many matched (the last in *FOUND). */
static int search(const struct sp_ws_fds *owned, const struct endpoint *peer, unsigned local_port,
		  int *found)
{
	struct pollfd batch[BATCH];
	int end = table_size(), matches = 0, fd = 0;

	while (fd < end) {
		size_t n = 0;

		for (; n < BATCH; fd++) {
			fd = sp_ws_fds_next_other(owned, fd, end);
			if (fd >= end)
				break;
			batch[n++] = (struct pollfd){.fd = fd};
		}
		check_batch(batch, n, peer, local_port, &matches, found);
	}
	return matches;
}

static int find_socket(const struct mg_request_info *ri, const struct sp_ws_fds *owned,
		       struct sp_error *err)
{
	struct endpoint peer = {.port = (unsigned)ri->remote_port};
	int fd = -1, matches;

	if (!parse_addr(ri->remote_addr, peer.addr))
		return sp_error_set(err, EINVAL, "the peer's address \"%s\"", ri->remote_addr);
	matches = search(owned, &peer, (unsigned)ri->server_port, &fd);
	if (matches != 1)
		return sp_error_set(err, ENOTSOCK, "%d sockets from %s port %d to port %d", matches,
				    ri->remote_addr, ri->remote_port, ri->server_port);
	return fd;
}

/* Put a socket whose peer is gone in FD's place. */
static int put_dummy(int fd, struct sp_error *err)
{
	int pair[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return sp_error_set(err, errno, "socketpair");
	close(pair[1]);
	if (dup3(pair[0], fd, O_CLOEXEC) < 0) {
		close(pair[0]);
		return sp_error_set(err, errno, "dup3");
	}
	close(pair[0]);
	return 0;
}

int sp_ws_take_socket(struct mg_connection *conn, struct sp_ws_fds *owned, struct sp_error *err)
{
	int fd = find_socket(mg_get_request_info(conn), owned, err);
	int mine;

	if (fd < 0)
		return sp_error_wrap(err, "the WebSocket's socket");
	mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (mine < 0)
		return sp_error_set(err, errno, "dup the WebSocket's socket");
	sp_ws_fds_own(owned, mine);
	if (put_dummy(fd, err) < 0) {
		sp_ws_fds_close(owned, mine);
		return -1;
	}
	return mine;
}
