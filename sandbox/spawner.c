#include "spawner.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "sandbox/base/cleanup.h"

#define SP_MSG_SPAWN 100 /* supervisor → spawner: a cell, please */
#define SP_MSG_CELL  101 /* spawner → supervisor: its pid, its socket by SCM_RIGHTS */

#define FILTER_MAX ((SP_CHANNEL_PAYLOAD_MAX - 4096 - PATH_MAX) / sizeof(struct sock_filter))

/* A cell configuration by value. */
struct spawn_wire {
	struct sp_idmap idmap;
	uint64_t tmpfs_kb;
	uint8_t cgroup_memory;
	uint8_t cgroup_pids;
	char rootfs[PATH_MAX];
	char hostname[65];
	uint32_t filter_len;
	struct sock_filter filter[];
};

struct cell_reply {
	int32_t pid;
};

static int pack_config(const struct sp_cell_config *cfg, struct spawn_wire *w, size_t *length,
		       struct sp_error *err)
{
	if (cfg->seccomp == NULL || cfg->seccomp->len > FILTER_MAX)
		return sp_error_set(err, E2BIG, "seccomp program too large to send");
	if (snprintf(w->rootfs, sizeof(w->rootfs), "%s", cfg->rootfs) >= (int)sizeof(w->rootfs) ||
	    snprintf(w->hostname, sizeof(w->hostname), "%s", cfg->hostname) >=
		(int)sizeof(w->hostname))
		return sp_error_set(err, ENAMETOOLONG, "rootfs or hostname too long");
	w->idmap = cfg->idmap;
	w->tmpfs_kb = cfg->tmpfs_kb;
	w->cgroup_memory = cfg->cgroup_memory;
	w->cgroup_pids = cfg->cgroup_pids;
	w->filter_len = cfg->seccomp->len;
	memcpy(w->filter, cfg->seccomp->filter, cfg->seccomp->len * sizeof(struct sock_filter));
	*length = sizeof(*w) + w->filter_len * sizeof(struct sock_filter);
	return 0;
}

/* ---- in the spawner ------------------------------------------------------ */

static int unpack_config(struct sp_msg *msg, struct sp_cell_config *cfg,
			 struct sp_seccomp_program *prog, struct sp_error *err)
{
	struct spawn_wire *w = (void *)msg->payload.bytes;

	if (msg->length < sizeof(*w) ||
	    msg->length != sizeof(*w) + (size_t)w->filter_len * sizeof(struct sock_filter) ||
	    w->filter_len == 0 || w->filter_len > FILTER_MAX ||
	    memchr(w->rootfs, '\0', sizeof(w->rootfs)) == NULL ||
	    memchr(w->hostname, '\0', sizeof(w->hostname)) == NULL)
		return sp_error_set(err, EBADMSG, "malformed spawn request");
	prog->filter = w->filter;
	prog->len = (unsigned short)w->filter_len;
	memset(cfg, 0, sizeof(*cfg));
	cfg->rootfs = w->rootfs;
	cfg->hostname = w->hostname;
	cfg->idmap = w->idmap;
	cfg->seccomp = prog;
	cfg->tmpfs_kb = w->tmpfs_kb;
	cfg->cgroup_memory = w->cgroup_memory;
	cfg->cgroup_pids = w->cgroup_pids;
	return 0;
}

/* Build the cell and hand it over: the spawner keeps no descriptor of it. */
static void spawn(int sock, struct sp_msg *msg)
{
	struct sp_seccomp_program prog;
	struct sp_cell_config cfg;
	struct sp_cell cell;
	struct sp_error err = {0};
	struct cell_reply reply;

	if (unpack_config(msg, &cfg, &prog, &err) < 0 || sp_cell_create(&cell, &cfg, &err) < 0) {
		sp_channel_send_error(sock, &err);
		return;
	}
	reply.pid = cell.pid;
	if (sp_channel_send(sock, SP_MSG_CELL, &reply, sizeof(reply), &cell.sock, 1, &err) < 0)
		kill(cell.pid, SIGKILL);
	close(cell.sock);
}

static void reap_cells(int sigfd)
{
	struct signalfd_siginfo info;

	while (read(sigfd, &info, sizeof(info)) == sizeof(info)) {
	}
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
}

__attribute__((noreturn)) static void spawner_main(int sock)
{
	sigset_t chld;
	int sigfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "sandpool-spawn");
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	for (;;) {
		struct pollfd fds[2] = {{.fd = sock, .events = POLLIN},
					{.fd = sigfd, .events = POLLIN}};
		struct sp_msg msg;
		struct sp_error err;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		if (fds[1].revents)
			reap_cells(sigfd);
		if (!fds[0].revents)
			continue;
		if (sp_channel_recv(sock, &msg, NULL, NULL, &err) < 0)
			_exit(0); /* the supervisor is gone: the cells follow */
		if (msg.type == SP_MSG_SPAWN)
			spawn(sock, &msg);
	}
}

/* ---- in the supervisor --------------------------------------------------- */

int sp_spawner_start(struct sp_spawner *spawner, struct sp_error *err)
{
	int sv[2];

	if (sp_channel_pair(sv, err) < 0)
		return -1;
	spawner->pid = fork();
	if (spawner->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return sp_error_set(err, errno, "fork the spawner");
	}
	if (spawner->pid == 0) {
		close(sv[0]);
		spawner_main(sv[1]);
	}
	close(sv[1]);
	spawner->sock = sv[0];
	return 0;
}

static int take_cell(struct sp_spawner *spawner, struct sp_msg *msg, struct sp_cell *cell,
		     struct sp_error *err)
{
	struct cell_reply reply;
	int fd = -1;
	size_t nfds = 1;

	if (sp_channel_recv(spawner->sock, msg, &fd, &nfds, err) < 0)
		return sp_error_wrap(err, "spawner");
	if (msg->type == SP_MSG_ERROR && msg->length == sizeof(*err)) {
		memcpy(err, msg->payload.bytes, sizeof(*err));
		err->message[sizeof(err->message) - 1] = '\0';
		return -1;
	}
	if (msg->type != SP_MSG_CELL || msg->length != sizeof(reply) || nfds != 1) {
		if (nfds == 1)
			close(fd);
		return sp_error_set(err, EPROTO, "spawner sent %u instead of a cell", msg->type);
	}
	memcpy(&reply, msg->payload.bytes, sizeof(reply));
	cell->pid = reply.pid;
	cell->sock = fd;
	return 0;
}

int sp_spawner_cell(struct sp_spawner *spawner, const struct sp_cell_config *config,
		    struct sp_cell *cell, struct sp_error *err)
{
	/* On the heap: 60 KiB would not fit the stack of an HTTP thread. */
	cleanup_free struct sp_msg *msg = sp_msg_new();
	struct spawn_wire *wire;
	size_t length = 0;

	sp_cell_clear(cell, config);
	if (msg == NULL)
		return sp_error_set(err, ENOMEM, "spawn request");
	wire = (void *)msg->payload.bytes;
	if (pack_config(config, wire, &length, err) < 0)
		return -1;
	if (sp_channel_send(spawner->sock, SP_MSG_SPAWN, wire, length, NULL, 0, err) < 0)
		return sp_error_wrap(err, "spawner");
	return take_cell(spawner, msg, cell, err);
}

void sp_spawner_stop(struct sp_spawner *spawner)
{
	if (spawner->sock >= 0) {
		close(spawner->sock);
		spawner->sock = -1;
	}
	if (spawner->pid > 0) {
		kill(spawner->pid, SIGKILL);
		while (waitpid(spawner->pid, NULL, 0) < 0 && errno == EINTR) {
		}
		spawner->pid = -1;
	}
}
