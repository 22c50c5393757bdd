#include "prepared_step.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void sp_prepared_step_clear(struct sp_prepared_step *prepared)
{
	prepared->pid = -1;
	prepared->sock = -1;
	prepared->refused = false;
}

/* ---- in the prepared step ------------------------------------------------ */

/* Every descriptor but 0, 1, 2 (/dev/null in a cell) and SOCK closes: the
 * cell's control socket is not the step's to hold, even before its job. */
static int keep_only(int sock, struct sp_error *err)
{
	if (sock > 3 && syscall(SYS_close_range, 3, sock - 1, 0) < 0)
		return sp_error_set(err, errno, "close_range");
	if (syscall(SYS_close_range, sock + 1, ~0U, 0) < 0)
		return sp_error_set(err, errno, "close_range");
	return 0;
}

/* The job comes by recvmsg, after the filter is loaded: a policy that
 * refuses it fails here, before the step says it is ready. */
static int probe_recvmsg(int sock, struct sp_error *err)
{
	struct msghdr none = {0};

	if (recvmsg(sock, &none, MSG_DONTWAIT) < 0 && errno != EAGAIN)
		return sp_error_set(err, errno, "the policy refuses recvmsg");
	return 0;
}

/* Build the sandbox, say so, wait for the job, start it. Whatever fails once
 * the job may have been sent is the job's failure, reported as such: this
 * process never ends without a report or an execve. */
__attribute__((noreturn)) static void prepared_main(struct sp_step_context *ctx, int sock,
						    struct sp_msg *msg)
{
	struct sp_error err = {0};
	int fds[SP_CHANNEL_FDS_MAX];
	size_t nfds = SP_CHANNEL_FDS_MAX;

	if (keep_only(sock, &err) < 0 || sp_step_enter_in_child(ctx, &err) < 0 ||
	    probe_recvmsg(sock, &err) < 0) {
		sp_channel_send_error(sock, &err);
		_exit(126);
	}
	if (sp_channel_send(sock, SP_MSG_READY, NULL, 0, NULL, 0, &err) < 0)
		_exit(126);
	if (sp_channel_recv(sock, msg, fds, &nfds, &err) < 0)
		sp_step_fail_in_child(ctx, &err);
	if (msg->type != SP_MSG_RUN || nfds != 3) {
		sp_error_set(&err, EPROTO, "a prepared step was sent %u with %zu descriptors",
			     msg->type, nfds);
		sp_step_fail_in_child(ctx, &err);
	}
	if (sp_step_unpack((void *)msg->payload.bytes, msg->length, ctx, &err) < 0)
		sp_step_fail_in_child(ctx, &err);
	memcpy(ctx->stdio, fds, sizeof(ctx->stdio));
	close(sock);
	sp_step_start_in_child(ctx);
}

/* ---- in the cell ----------------------------------------------------------- */

static int refuse(struct sp_prepared_step *prepared, struct sp_error *err)
{
	sp_prepared_step_discard(prepared);
	prepared->refused = true;
	return sp_error_wrap(err, "prepared step");
}

/* Its first message: READY, or the ERROR that stopped it. */
static int wait_ready(struct sp_prepared_step *prepared, struct sp_msg *msg, struct sp_error *err)
{
	if (sp_channel_recv(prepared->sock, msg, NULL, NULL, err) < 0)
		return -1;
	if (msg->type == SP_MSG_ERROR && msg->length == sizeof(*err)) {
		memcpy(err, msg->payload.bytes, sizeof(*err));
		err->message[sizeof(err->message) - 1] = '\0';
		return -1;
	}
	if (msg->type != SP_MSG_READY)
		return sp_error_set(err, EPROTO, "the step sent %u instead of ready", msg->type);
	return 0;
}

int sp_prepared_step_start(struct sp_prepared_step *prepared, struct sp_step_context *ctx,
			   struct sp_msg *buffer, struct sp_error *err)
{
	int pair[2];
	pid_t pid;

	if (prepared->pid > 0)
		return 0;
	if (sp_channel_pair(pair, err) < 0)
		return refuse(prepared, err);
	pid = fork();
	if (pid == 0) {
		close(pair[0]);
		prepared_main(ctx, pair[1], buffer);
	}
	close(pair[1]);
	if (pid < 0) {
		close(pair[0]);
		sp_error_set(err, errno, "fork");
		return refuse(prepared, err);
	}
	prepared->pid = pid;
	prepared->sock = pair[0];
	if (wait_ready(prepared, buffer, err) < 0)
		return refuse(prepared, err);
	return 0;
}

pid_t sp_prepared_step_go(struct sp_prepared_step *prepared, const void *wire, size_t length,
			  const int fds[3])
{
	struct sp_error err = {0};
	pid_t pid = prepared->pid;

	if (pid < 0)
		return -1;
	if (sp_channel_send(prepared->sock, SP_MSG_RUN, wire, length, fds, 3, &err) < 0) {
		refuse(prepared, &err);
		return -1;
	}
	close(prepared->sock);
	prepared->sock = -1;
	prepared->pid = -1;
	return pid;
}

void sp_prepared_step_discard(struct sp_prepared_step *prepared)
{
	if (prepared->pid > 0) {
		kill(prepared->pid, SIGKILL);
		while (waitpid(prepared->pid, NULL, __WALL) < 0 && errno == EINTR) {
		}
	}
	if (prepared->sock >= 0)
		close(prepared->sock);
	prepared->pid = -1;
	prepared->sock = -1;
}
