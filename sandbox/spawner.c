#include "spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/log.h"

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

/* The spawner, child of the supervisor SUPERVISOR, on SOCK. */
__attribute__((noreturn)) static void spawner_main(int sock, pid_t supervisor)
{
	sigset_t chld;
	int sigfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* the supervisor may have died before the death signal was armed */
	if (getppid() != supervisor)
		_exit(0);
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

/* A spawner run anew (SPAWNER_ARG): its socket is descriptor 3. */
#define RENEWED_SOCK 3

void sp_spawner_main_if_asked(int argc, char **argv)
{
	sigset_t none;
	char *end;
	long supervisor;

	if (argc != 3 || strcmp(argv[1], SP_SPAWNER_ARG) != 0)
		return;
	supervisor = strtol(argv[2], &end, 10);
	if (*end != '\0' || supervisor <= 0)
		_exit(2);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (fcntl(RENEWED_SOCK, F_SETFD, FD_CLOEXEC) < 0)
		_exit(1);
	spawner_main(RENEWED_SOCK, (pid_t)supervisor);
}

/* ---- in the supervisor --------------------------------------------------- */

static void spawner_clear(struct sp_spawner *spawner)
{
	spawner->pid = -1;
	spawner->sock = -1;
	spawner->program = -1;
}

int sp_spawner_start(struct sp_spawner *spawner, struct sp_error *err)
{
	int sv[2];

	pid_t supervisor = getpid();

	spawner_clear(spawner);
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
		spawner_main(sv[1], supervisor);
	}
	close(sv[1]);
	spawner->sock = sv[0];
	return 0;
}

int sp_spawner_start_renewable(struct sp_spawner *spawner, struct sp_error *err)
{
	int program = open("/proc/self/exe", O_PATH | O_CLOEXEC);

	if (program < 0)
		return sp_error_set(err, errno, "open /proc/self/exe");
	if (sp_spawner_start(spawner, err) < 0) {
		close(program);
		return -1;
	}
	spawner->program = program;
	return 0;
}

/* In the child of a fork from a process that may have threads: only calls
 * safe there. SOCK becomes descriptor 3, the program 4 (closed by its
 * execve), every other descriptor is closed; then the program runs as a
 * spawner. */
__attribute__((noreturn)) static void renewed_child(int sock, int program, char *const argv[],
						    char *const envp[])
{
	int s = fcntl(sock, F_DUPFD, 16), p = fcntl(program, F_DUPFD, 16);

	if (s < 0 || p < 0 || dup2(s, RENEWED_SOCK) < 0 || dup2(p, RENEWED_SOCK + 1) < 0 ||
	    fcntl(RENEWED_SOCK + 1, F_SETFD, FD_CLOEXEC) < 0 ||
	    syscall(SYS_close_range, RENEWED_SOCK + 2, ~0U, 0) < 0)
		_exit(127);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	syscall(SYS_execveat, RENEWED_SOCK + 1, "", argv, envp, AT_EMPTY_PATH);
	_exit(127);
}

/* The spawner is gone: reap it, and run its program anew as the spawner
 * (a fork alone would copy a process whose threads may hold locks). Its
 * death signal comes with the death of the thread that forked it (a
 * server's threads last as long as the server; else the next cell asked
 * for renews it again). */
static int renew(struct sp_spawner *spawner, struct sp_error *err)
{
	extern char **environ;
	char supervisor[24];
	char *argv[] = {"sandpool-spawn", SP_SPAWNER_ARG, supervisor, NULL};
	char **envp = environ;
	int sv[2];

	snprintf(supervisor, sizeof(supervisor), "%d", (int)getpid());
	close(spawner->sock);
	spawner->sock = -1;
	while (waitpid(spawner->pid, NULL, 0) < 0 && errno == EINTR) {
	}
	spawner->pid = -1;
	if (spawner->program < 0)
		return sp_error_set(err, EPIPE, "the spawner died");
	if (sp_channel_pair(sv, err) < 0)
		return -1;
	spawner->pid = fork();
	if (spawner->pid == 0)
		renewed_child(sv[1], spawner->program, argv, envp);
	close(sv[1]);
	if (spawner->pid < 0) {
		close(sv[0]);
		return sp_error_set(err, errno, "fork a new spawner");
	}
	spawner->sock = sv[0];
	return 0;
}

/* Has the spawner hung up? It alone holds the other end of its socket (a
 * cell closes it first thing), so it then has died or is dying. */
static bool hung_up(const struct sp_spawner *spawner)
{
	struct pollfd pfd = {.fd = spawner->sock, .events = POLLIN};

	return spawner->sock >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
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

/* Send the request in MSG and take the cell made for it. */
static int ask(struct sp_spawner *spawner, struct sp_msg *msg, const struct spawn_wire *wire,
	       size_t length, struct sp_cell *cell, struct sp_error *err)
{
	if (spawner->sock < 0)
		return sp_error_set(err, EPIPE, "no spawner");
	if (sp_channel_send(spawner->sock, SP_MSG_SPAWN, wire, length, NULL, 0, err) < 0)
		return sp_error_wrap(err, "spawner");
	return take_cell(spawner, msg, cell, err);
}

int sp_spawner_cell(struct sp_spawner *spawner, const struct sp_cell_config *config,
		    struct sp_cell *cell, struct sp_error *err)
{
	/* On the heap: 60 KiB would not fit the stack of an HTTP thread. */
	cleanup_free struct sp_msg *msg = sp_msg_new();
	/* the request apart from the reply, which is read into MSG */
	cleanup_free struct sp_msg *request = sp_msg_new();
	struct spawn_wire *wire;
	size_t length = 0;

	sp_cell_clear(cell, config);
	if (msg == NULL || request == NULL)
		return sp_error_set(err, ENOMEM, "spawn request");
	wire = (void *)request->payload.bytes;
	if (pack_config(config, wire, &length, err) < 0)
		return -1;
	if (ask(spawner, msg, wire, length, cell, err) == 0)
		return 0;
	if (!hung_up(spawner))
		return -1;
	log_warn("the spawner (%d) died; starting a new one", (int)spawner->pid);
	if (renew(spawner, err) < 0)
		return sp_error_wrap(err, "spawner");
	return ask(spawner, msg, wire, length, cell, err);
}

void sp_spawner_stop(struct sp_spawner *spawner)
{
	if (spawner->program >= 0) {
		close(spawner->program);
		spawner->program = -1;
	}
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
