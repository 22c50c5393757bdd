#include "channel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct sp_msg *sp_msg_new(void)
{
	return malloc(sizeof(struct sp_msg));
}

int sp_channel_pair(int fds[2], struct sp_error *err)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return sp_error_set(err, errno, "socketpair");
	return 0;
}

union sp_cmsg_space {
	char buf[CMSG_SPACE(sizeof(int) * SP_CHANNEL_FDS_MAX)];
	struct cmsghdr align;
};

static size_t fill_control(struct msghdr *mh, union sp_cmsg_space *space, const int *fds,
			   size_t nfds)
{
	struct cmsghdr *cmsg;
	size_t used = 0;

	memset(space, 0, sizeof(*space));
	mh->msg_control = space->buf;
	mh->msg_controllen = sizeof(space->buf);
	cmsg = CMSG_FIRSTHDR(mh);
	if (nfds > 0) {
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
		used += CMSG_SPACE(sizeof(int) * nfds);
	}
	return used;
}

int sp_channel_send(int sock, uint32_t type, const void *payload, size_t length, const int *fds,
		    size_t nfds, struct sp_error *err)
{
	uint32_t header[2] = {type, (uint32_t)length};
	struct iovec iov[2] = {
	    {.iov_base = header, .iov_len = sizeof(header)},
	    {.iov_base = (void *)payload, .iov_len = length},
	};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = length > 0 ? 2 : 1};
	union sp_cmsg_space space;
	ssize_t n;

	if (length > SP_CHANNEL_PAYLOAD_MAX || nfds > SP_CHANNEL_FDS_MAX)
		return sp_error_set(err, EMSGSIZE, "control message too large");
	mh.msg_controllen = fill_control(&mh, &space, fds, nfds);
	if (mh.msg_controllen == 0)
		mh.msg_control = NULL;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sp_error_set(err, errno, "send control message");
	return 0;
}

static int take_control(struct msghdr *mh, int *fds, size_t *nfds, struct sp_error *err)
{
	size_t room = nfds ? *nfds : 0;
	size_t got = 0;
	int rc = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int tmp[SP_CHANNEL_FDS_MAX * 2];

			if (n > SP_CHANNEL_FDS_MAX * 2)
				n = SP_CHANNEL_FDS_MAX * 2;
			memcpy(tmp, CMSG_DATA(c), n * sizeof(int));
			for (size_t i = 0; i < n; i++) {
				if (got < room)
					fds[got++] = tmp[i];
				else {
					close(tmp[i]);
					rc = sp_error_set(err, EBADMSG, "unexpected descriptors");
				}
			}
		}
	}
	if (rc < 0) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		got = 0;
	}
	if (nfds != NULL)
		*nfds = got;
	return rc;
}

int sp_channel_recv(int sock, struct sp_msg *msg, int *fds, size_t *nfds, struct sp_error *err)
{
	struct iovec iov = {.iov_base = msg, .iov_len = sizeof(*msg)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	union sp_cmsg_space space;
	ssize_t n;

	memset(&space, 0, sizeof(space));
	mh.msg_control = space.buf;
	mh.msg_controllen = sizeof(space.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sp_error_set(err, errno, "receive control message");
	if (n == 0)
		return sp_error_set(err, EPIPE, "control socket closed");
	if (take_control(&mh, fds, nfds, err) < 0)
		return -1;
	if ((size_t)n < 2 * sizeof(uint32_t) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    msg->length != (size_t)n - 2 * sizeof(uint32_t))
		return sp_error_set(err, EBADMSG, "malformed control message");
	return 0;
}

int sp_channel_send_error(int sock, const struct sp_error *error)
{
	return sp_channel_send(sock, SP_MSG_ERROR, error, sizeof(*error), NULL, 0, NULL);
}
