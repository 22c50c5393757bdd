#include "http_ws_takeover.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/cleanup.h"

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

/* Look at every open descriptor: /proc/self/fd lists them. Returns how
 * many matched (the last in *FOUND), -1 without /proc. */
static int search_proc(const struct endpoint *peer, unsigned local_port, int *found)
{
	cleanup_closedir DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int matches = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || fd == dirfd(d))
			continue;
		if (is_connection((int)fd, peer, local_port)) {
			*found = (int)fd;
			matches++;
		}
	}
	return matches;
}

/* Without /proc: every descriptor number up to the limit. */
static int search_numbers(const struct endpoint *peer, unsigned local_port, int *found)
{
	struct rlimit rl = {.rlim_cur = 1024};
	int matches = 0, max;

	getrlimit(RLIMIT_NOFILE, &rl);
	max = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
	for (int fd = 0; fd < max; fd++) {
		if (is_connection(fd, peer, local_port)) {
			*found = fd;
			matches++;
		}
	}
	return matches;
}

static int find_socket(const struct mg_request_info *ri, struct sp_error *err)
{
	struct endpoint peer = {.port = (unsigned)ri->remote_port};
	int fd = -1, matches;

	if (!parse_addr(ri->remote_addr, peer.addr))
		return sp_error_set(err, EINVAL, "the peer's address \"%s\"", ri->remote_addr);
	matches = search_proc(&peer, (unsigned)ri->server_port, &fd);
	if (matches < 0)
		matches = search_numbers(&peer, (unsigned)ri->server_port, &fd);
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

int sp_ws_take_socket(struct mg_connection *conn, struct sp_error *err)
{
	int fd = find_socket(mg_get_request_info(conn), err);
	cleanup_close int mine = -1;

	if (fd < 0)
		return sp_error_wrap(err, "the WebSocket's socket");
	mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (mine < 0)
		return sp_error_set(err, errno, "dup the WebSocket's socket");
	if (put_dummy(fd, err) < 0)
		return -1;
	return steal_fd(&mine);
}
