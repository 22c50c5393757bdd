#include "cell.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box_archive.h"
#include "caps.h"
#include "channel.h"
#include "mount.h"
#include "netns.h"
#include "prepared_step.h"
#include "proctitle.h"
#include "sandbox/base/asan.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/clock.h"
#include "sandbox/base/read_all.h"
#include "step.h"

#define CELL_CLONE_FLAGS                                                                           \
	(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)

/* The stack the step process runs on until its execve (it shares the cell's
 * memory): one, reused, for the cell's life. */
#define STEP_STACK_SIZE (256 * 1024)

/* Every entry the walk of /box may look at, skipped ones included: a bound on
 * the time that a litter of empty directories or symlinks costs. */
#define PACK_ENTRIES_MAX (16 * SP_BOX_FILES_MAX)
/* A bound on the content of the archive of /box when /box has no size. */
#define PACK_DATA_MAX_UNSIZED (1ull << 30)

struct write_file_wire {
	uint32_t mode;
	char name[SP_BOX_PATH_MAX + 1];
};

struct read_file_wire {
	uint64_t max_bytes;
	char name[SP_BOX_PATH_MAX + 1];
};

/* What a step writes for the cell: in a mapping they share, since a
 * prepared step is a process of its own. */
struct step_shared {
	struct sp_step_exit report; /* its failure, when it failed before its job ran */
	uint64_t exec_us;	    /* when it called execve; 0 before */
};

/* A step the cell has prepared, and, for a runtime, its command (pointing
 * into its prepare message), to check a job against. */
struct prepared_slot {
	struct sp_prepared_step step;
	struct sp_msg *msg;
	struct sp_step_context *command;
	bool takes_arguments; /* the job's arguments may follow the command */
};

/* The cell's own state while it runs. */
struct cell_state {
	const struct sp_cell_config *config;
	int sock;
	int sigfd;
	char *step_stack; /* STEP_STACK_SIZE bytes above a guard page */
	struct step_shared *shared;
	struct sp_msg *prepare_buffer; /* what a prepared step receives its job into */
	/* a file write failed since the last reset: the next step is not run
	 * (the supervisor may send it before it has the write's answer) */
	bool write_failed;
	struct prepared_slot slots[SP_CELL_SLOTS];
	struct sp_mount_config mounts;
	struct sp_mount_scratch scratch; /* /box, /tmp and /dev/shm as mounted */
};

/* A step running in the cell. */
struct running_step {
	pid_t pid;
	bool main_done;
	uint64_t go_us; /* when it was started, or its job handed over */
	uint64_t *exec_us;
	struct sp_step_exit exit;
};

/* ---- inside the cell ---------------------------------------------------- */

__attribute__((noreturn)) static void cell_die(int sock, const struct sp_error *error)
{
	sp_channel_send_error(sock, error);
	_exit(1);
}

static int stdio_to_null(struct sp_error *err)
{
	cleanup_close int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return sp_error_set(err, errno, "open /dev/null");
	for (int i = 0; i < 3; i++) {
		if (dup2(null, i) < 0)
			return sp_error_set(err, errno, "dup2 /dev/null");
	}
	return 0;
}

/* The kernel's sigaction, for rt_sigaction(2). */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/* SIG_DFL for SIG, by the system call: glibc's signal() refuses the two
 * real-time signals it keeps for itself (32 and 33), and a parent that
 * ignored them would otherwise hand SIG_IGN down to every job. */
static int default_disposition(int sig)
{
	struct kernel_sigaction act = {.handler = SIG_DFL};

	return (int)syscall(SYS_rt_sigaction, sig, &act, NULL, sizeof(act.mask));
}

/* The cell's init blocks every signal it can, so that none acts on it;
 * SIGCHLD comes by signalfd. Every disposition is the default (whatever the
 * supervisor ignored, SIGPIPE say): a step then needs only to unblock, and
 * its execve starts the job with no signal ignored or blocked. */
static int setup_signals(struct cell_state *st, struct sp_error *err)
{
	sigset_t all, chld;

	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP && default_disposition(sig) < 0)
			return sp_error_set(err, errno, "reset signal %d", sig);
	}
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
		return sp_error_set(err, errno, "block signals");
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	st->sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (st->sigfd < 0)
		return sp_error_set(err, errno, "signalfd");
	return 0;
}

static int wait_for_maps(int sock, struct sp_error *err)
{
	struct sp_msg msg;

	if (sp_channel_recv(sock, &msg, NULL, NULL, err) < 0)
		return -1;
	if (msg.type != SP_MSG_MAPS_DONE)
		return sp_error_set(err, EPROTO, "expected the id maps");
	return 0;
}

/* The memory shared with every step, and the buffer of a prepared one. */
static int make_step_shared(struct cell_state *st, struct sp_error *err)
{
	void *map = mmap(NULL, sizeof(*st->shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED)
		return sp_error_set(err, errno, "map the memory shared with steps");
	st->shared = map;
	st->prepare_buffer = sp_msg_new();
	if (st->prepare_buffer == NULL)
		return sp_error_set(err, ENOMEM, "the prepared step's buffer");
	for (int i = 0; i < SP_CELL_SLOTS; i++) {
		struct prepared_slot *slot = &st->slots[i];

		sp_prepared_step_clear(&slot->step);
		slot->msg = sp_msg_new();
		slot->command = calloc(1, sizeof(*slot->command));
		if (slot->msg == NULL || slot->command == NULL)
			return sp_error_set(err, ENOMEM, "the prepared steps' buffers");
	}
	return 0;
}

static int make_step_stack(struct cell_state *st, struct sp_error *err)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, STEP_STACK_SIZE + page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED)
		return sp_error_set(err, errno, "map the step stack");
	if (mprotect(map, page, PROT_NONE) < 0)
		return sp_error_set(err, errno, "guard the step stack");
	st->step_stack = map + page;
	return 0;
}

/* Close every descriptor the cell was cloned with but its socket and its
 * standard ones (soon /dev/null): the spawner's socket, whatever its
 * supervisor had open. */
static int close_others(int sock, struct sp_error *err)
{
	if (sock > 3 && syscall(SYS_close_range, 3, sock - 1, 0) < 0)
		return sp_error_set(err, errno, "close_range");
	if (syscall(SYS_close_range, sock + 1, ~0U, 0) < 0)
		return sp_error_set(err, errno, "close_range");
	return 0;
}

/* Build the cell's sandbox, in order. */
static int cell_build(struct cell_state *st, struct sp_error *err)
{
	const struct sp_cell_config *cfg = st->config;

	/* The death signal ends the cell if its parent (the spawner) dies while
	 * it is built, until its ids are set; from then on the cell ends when
	 * its socket closes. getppid() is 0 in the new pid namespace: whether
	 * the parent died before the signal was armed shows as end of file on
	 * the socket. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return sp_error_set(err, errno, "parent death signal");
	if (close_others(st->sock, err) < 0)
		return -1;
	if (wait_for_maps(st->sock, err) < 0)
		return -1;
	if (sp_userns_in_child(&cfg->idmap, err) < 0)
		return -1;
	/* Disarmed by hand: a change of ids clears it only when the ids the
	 * kernel sees change, which rootless (0 inside is the user outside)
	 * they do not, and a cell then died with a killed spawner. */
	if (prctl(PR_SET_PDEATHSIG, 0) < 0)
		return sp_error_set(err, errno, "parent death signal");
	if (stdio_to_null(err) < 0)
		return -1;
	if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return sp_error_set(err, errno, "sethostname");
	if (sp_netns_loopback_up_in_child(err) < 0)
		return -1;
	if (sp_mount_rootfs_in_child(&st->mounts, &st->scratch, err) < 0)
		return -1;
	/* keeps its own capabilities; every step inherits these limits */
	if (sp_caps_limit(err) < 0)
		return -1;
	if (make_step_stack(st, err) < 0 || make_step_shared(st, err) < 0)
		return -1;
	/* after the last use of the configuration, which may point into argv */
	if (sp_proctitle_set("sandpool-cell", err) < 0)
		return -1;
	return setup_signals(st, err);
}

/* The directory of PATH's last component, made (owned by the job) where
 * missing, each level opened without following symlinks. */
static int open_parent_dirs(struct cell_state *st, const char *path, const char **base,
			    struct sp_error *err)
{
	int dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char part[SP_BOX_NAME_MAX + 1];

	while (dirfd >= 0 && strchr(path, '/') != NULL) {
		size_t n = strcspn(path, "/");
		int next;

		memcpy(part, path, n);
		part[n] = '\0';
		path += n + 1;
		if (mkdirat(dirfd, part, 0755) == 0 &&
		    fchownat(dirfd, part, st->mounts.box_uid, st->mounts.box_gid,
			     AT_SYMLINK_NOFOLLOW) < 0) {
			close(dirfd);
			return sp_error_set(err, errno, "chown /box directory %s", part);
		}
		next = openat(dirfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dirfd);
		dirfd = next;
	}
	if (dirfd < 0)
		return sp_error_set(err, errno, "directory of /box/%s", path);
	*base = path;
	return dirfd;
}

static int handle_write_file(struct cell_state *st, const struct sp_msg *msg, int fd,
			     struct sp_error *err)
{
	const struct write_file_wire *wire = (const void *)msg->payload.bytes;
	cleanup_close int out = -1;
	cleanup_close int dirfd = -1;
	const char *base = NULL;
	mode_t mode;

	if (msg->length != sizeof(*wire) || fd < 0)
		return sp_error_set(err, EBADMSG, "malformed write-file command");
	if (memchr(wire->name, '\0', sizeof(wire->name)) == NULL || !sp_box_path_valid(wire->name))
		return sp_error_set(err, EINVAL, "invalid file name");
	mode = wire->mode & 0755;
	dirfd = open_parent_dirs(st, wire->name, &base, err);
	if (dirfd < 0)
		return -1;
	out = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (out < 0)
		return sp_error_set(err, errno, "create /box/%s", wire->name);
	if (sp_copy_all(fd, out, err) < 0)
		return sp_error_wrap(err, "/box/%s", wire->name);
	if (fchown(out, st->mounts.box_uid, st->mounts.box_gid) < 0)
		return sp_error_set(err, errno, "chown /box/%s", wire->name);
	if (fchmod(out, mode) < 0)
		return sp_error_set(err, errno, "chmod /box/%s", wire->name);
	return 0;
}

/* The walk of /box for its archive. */
struct pack_walk {
	struct sp_box_writer writer;
	char path[SP_BOX_PATH_MAX + 1]; /* the directory walked, then the entry */
	size_t entries;			/* seen so far */
};

/* Open NAME (/box/PATH) in DIRFD without following a symlink, and without
 * blocking on a fifo. Returns the descriptor, or -1 with *SKIP set when the
 * entry is neither a file nor a directory (a symlink: ELOOP; a socket: ENXIO;
 * a device on the nodev /box: EACCES), or with err set. */
static int pack_open(int dirfd, const char *name, const char *path, bool *skip,
		     struct sp_error *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int saved = errno;
	struct stat st;

	*skip = false;
	if (fd >= 0)
		return fd;
	if (saved == ELOOP || (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			       !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		*skip = true;
		return -1;
	}
	return sp_error_set(err, saved, "open /box/%s", path);
}

static int pack_dir(struct pack_walk *pw, int fd, size_t len, unsigned depth, struct sp_error *err);

/* Add NAME, in the directory DIRFD whose path of DEPTH components is the
 * first LEN bytes of pw->path: a file to the archive, a directory walked.
 * Anything else, and whatever has a path that could not be written back, is
 * skipped. */
static int pack_entry(struct pack_walk *pw, int dirfd, const char *name, size_t len, unsigned depth,
		      struct sp_error *err)
{
	size_t name_len = strlen(name);
	size_t sep = len > 0 ? 1 : 0;
	cleanup_close int fd = -1;
	struct stat st;
	bool skip;
	int rc = 0;

	if (depth + 1 > SP_BOX_DEPTH_MAX || len + sep + name_len > SP_BOX_PATH_MAX ||
	    !sp_box_name_valid(name))
		return 0;
	if (sep)
		pw->path[len] = '/';
	memcpy(pw->path + len + sep, name, name_len + 1);
	fd = pack_open(dirfd, name, pw->path, &skip, err);
	if (fd < 0)
		rc = skip ? 0 : -1;
	else if (fstat(fd, &st) < 0)
		rc = sp_error_set(err, errno, "stat /box/%s", pw->path);
	else if (S_ISDIR(st.st_mode) && depth + 1 < SP_BOX_DEPTH_MAX)
		rc = pack_dir(pw, steal_fd(&fd), len + sep + name_len, depth + 1, err);
	else if (S_ISREG(st.st_mode))
		rc = sp_box_archive_add(&pw->writer, pw->path, st.st_mode, fd, (uint64_t)st.st_size,
					err);
	pw->path[len] = '\0';
	return rc;
}

/* Walk the directory FD (taken over), whose path is the first LEN bytes of
 * pw->path, DEPTH components long. */
static int pack_dir(struct pack_walk *pw, int fd, size_t len, unsigned depth, struct sp_error *err)
{
	cleanup_closedir DIR *dir = fdopendir(fd);
	struct dirent *de;

	if (dir == NULL) {
		close(fd);
		return sp_error_set(err, errno, "read /box/%s", pw->path);
	}
	while ((errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++pw->entries > PACK_ENTRIES_MAX)
			return sp_error_set(err, EMFILE,
					    "the step left more than %d entries in /box",
					    PACK_ENTRIES_MAX);
		if (pack_entry(pw, dirfd(dir), de->d_name, len, depth, err) < 0)
			return -1;
	}
	if (errno != 0)
		return sp_error_set(err, errno, "read /box/%s", pw->path);
	return 0;
}

/* An archive of the regular files in /box (the cell's working directory), in
 * a sealed memfd. The step's processes are dead, but what they left is read
 * as hostile: nothing is followed, and the content is bounded by the size of
 * /box (sparse files and hard links could claim more). Empty directories are
 * lost. Returns the memfd, or -1. */
static int handle_pack_box(struct cell_state *st, const struct sp_msg *msg, size_t nfds,
			   struct sp_error *err)
{
	uint64_t data_max =
	    st->mounts.tmpfs_kb ? st->mounts.tmpfs_kb * 1024 : PACK_DATA_MAX_UNSIZED;
	struct pack_walk pw = {.path = ""};
	cleanup_close int archive = -1;
	uint64_t asked;
	int root;

	if (msg->length != sizeof(asked) || nfds != 0)
		return sp_error_set(err, EBADMSG, "malformed pack-box command");
	memcpy(&asked, msg->payload.bytes, sizeof(asked));
	if (asked != 0 && asked < data_max)
		data_max = asked;
	archive = sp_box_memfd_new("sandpool-box", err);
	if (archive < 0 || sp_box_archive_begin(&pw.writer, archive, data_max, err) < 0)
		return -1;
	root = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return sp_error_set(err, errno, "open /box");
	if (pack_dir(&pw, root, 0, 0, err) < 0 || sp_box_archive_end(&pw.writer, err) < 0 ||
	    sp_box_memfd_seal(archive, err) < 0)
		return -1;
	return steal_fd(&archive);
}

/* One file of /box in a sealed memfd. What the step left is read as hostile:
 * no symlink is followed on the way (openat2 beneath /box, the working
 * directory), and only a regular file of bounded size is copied. */
static int handle_read_file(const struct sp_msg *msg, size_t nfds, struct sp_error *err)
{
	const struct read_file_wire *wire = (const void *)msg->payload.bytes;
	struct open_how how = {
	    .flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC,
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	cleanup_close int fd = -1;
	cleanup_close int copy = -1;
	struct stat st;

	if (msg->length != sizeof(*wire) || nfds != 0)
		return sp_error_set(err, EBADMSG, "malformed read-file command");
	if (memchr(wire->name, '\0', sizeof(wire->name)) == NULL || !sp_box_path_valid(wire->name))
		return sp_error_set(err, EINVAL, "invalid file name");
	fd = (int)syscall(SYS_openat2, AT_FDCWD, wire->name, &how, sizeof(how));
	if (fd < 0)
		return sp_error_set(err, errno, "open /box/%s", wire->name);
	if (fstat(fd, &st) < 0)
		return sp_error_set(err, errno, "stat /box/%s", wire->name);
	if (!S_ISREG(st.st_mode))
		return sp_error_set(err, EINVAL, "/box/%s is not a regular file", wire->name);
	copy = sp_box_memfd_new("sandpool-file", err);
	if (copy < 0 || sp_copy_at_most(fd, copy, wire->max_bytes, err) < 0 ||
	    sp_box_memfd_seal(copy, err) < 0)
		return sp_error_wrap(err, "/box/%s", wire->name);
	return steal_fd(&copy);
}

static void add_rusage(struct sp_step_exit *exit, const struct rusage *ru)
{
	uint64_t us = (uint64_t)ru->ru_utime.tv_sec * 1000000 + (uint64_t)ru->ru_utime.tv_usec +
		      (uint64_t)ru->ru_stime.tv_sec * 1000000 + (uint64_t)ru->ru_stime.tv_usec;

	exit->cpu_ns += us * 1000;
	if ((uint64_t)ru->ru_maxrss > exit->maxrss_kb)
		exit->maxrss_kb = (uint64_t)ru->ru_maxrss;
}

/* When the step called execve, or (not yet) when it was started: the wall
 * limit counts from the execve, and is never early. */
static uint64_t step_start_us(const struct running_step *step)
{
	uint64_t exec_us = __atomic_load_n(step->exec_us, __ATOMIC_ACQUIRE);

	return exec_us != 0 ? exec_us : step->go_us;
}

static void prepared_gone(struct cell_state *st, pid_t pid);
static bool is_prepared(const struct cell_state *st, pid_t pid);

/* PID reaped: a prepared step that died waiting, or one of the step's
 * processes (its first one noted). */
static void reaped(struct cell_state *st, struct running_step *step, pid_t pid, int status,
		   const struct rusage *ru)
{
	if (is_prepared(st, pid)) {
		prepared_gone(st, pid);
		return;
	}
	add_rusage(&step->exit, ru);
	if (pid == step->pid) {
		step->exit.wait_status = status;
		step->exit.wall_us = sp_clock_us() - step_start_us(step);
		step->main_done = true;
	}
}

/* Reap whatever has ended; note the step's first process. */
static void reap(struct cell_state *st, struct running_step *step, bool block)
{
	struct rusage ru;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, __WALL | (block ? 0 : WNOHANG), &ru)) > 0)
		reaped(st, step, pid, status, &ru);
}

static void drain_signalfd(int sigfd)
{
	struct signalfd_siginfo info;

	while (read(sigfd, &info, sizeof(info)) == sizeof(info)) {
	}
}

/* Whether PID is one of the cell's prepared steps, waiting for a later
 * step of the same job. */
static bool is_prepared(const struct cell_state *st, pid_t pid)
{
	for (int i = 0; i < SP_CELL_SLOTS; i++) {
		if (st->slots[i].step.pid == pid)
			return true;
	}
	return false;
}

static bool any_prepared(const struct cell_state *st)
{
	for (int i = 0; i < SP_CELL_SLOTS; i++) {
		if (st->slots[i].step.pid > 0)
			return true;
	}
	return false;
}

/* SIGKILL every process of the pid namespace but this one and the
 * prepared steps, all of them stopped. */
static void kill_unprepared(const struct cell_state *st)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;

	if (proc == NULL) {
		kill(-1, SIGKILL); /* cannot tell them apart: none is spared */
		return;
	}
	while ((e = readdir(proc)) != NULL) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);

		if (pid > 1 && !is_prepared(st, pid))
			kill(pid, SIGKILL);
	}
	closedir(proc);
}

/* Whether the cell has a child that is not a prepared step (one killed and
 * not reaped yet). */
static bool unprepared_children(const struct cell_state *st)
{
	char buf[4096];
	ssize_t n;
	cleanup_close int fd = open("/proc/1/task/1/children", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) < 0)
		return true;
	buf[n] = '\0';
	for (char *p = buf, *end; *p != '\0'; p = end) {
		pid_t pid = (pid_t)strtol(p, &end, 10);

		if (end == p)
			break;
		if (!is_prepared(st, pid))
			return true;
	}
	return false;
}

/* A prepared step reaped: it died waiting. Its slot keeps its stdio (pid
 * 0): the hand-over to it fails, and a step started in its place takes them. */
static void prepared_gone(struct cell_state *st, pid_t pid)
{
	for (int i = 0; i < SP_CELL_SLOTS; i++) {
		if (st->slots[i].step.pid == pid)
			st->slots[i].step.pid = 0;
	}
}

/* Kill every process of the pid namespace but this one, and reap them all.
 * kill(-1) is atomic against fork: a child forked while it runs is either
 * signalled or never created, so the blocking reap ends. The cell's
 * prepared steps wait for later steps of the same job and are spared: then
 * everyone is stopped first (as atomically), every other process killed,
 * and the prepared ones go on. */
static void kill_all(struct cell_state *st, struct running_step *step)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (!any_prepared(st)) {
		kill(-1, SIGKILL);
		reap(st, step, true);
		return;
	}
	kill(-1, SIGSTOP);
	kill_unprepared(st);
	for (int i = 0; i < SP_CELL_SLOTS; i++) {
		if (st->slots[i].step.pid > 0)
			kill(st->slots[i].step.pid, SIGCONT);
	}
	while (unprepared_children(st) && (pid = wait4(-1, &status, __WALL, &ru)) > 0)
		reaped(st, step, pid, status, &ru);
}

static int step_main(void *arg)
{
	sp_step_exec_in_child(arg);
}

/* Start the step. It shares this process's memory until its execve, and this
 * process waits until then (CLONE_VM | CLONE_VFORK): no page tables to copy,
 * no copy-on-write faults after. The step has its own descriptor table,
 * signal handlers and credentials; it writes nothing of ours but its stack
 * and, on failure, the report. */
static int spawn_step(struct cell_state *st, struct sp_step_context *ctx, struct running_step *step,
		      struct sp_error *err)
{
	/* The last step's frames never returned (it called execve or _exit):
	 * AddressSanitizer would still see their redzones on this stack. */
	sp_asan_unpoison(st->step_stack, STEP_STACK_SIZE);
	step->pid = clone(step_main, st->step_stack + STEP_STACK_SIZE,
			  CLONE_VM | CLONE_VFORK | SIGCHLD, ctx);
	if (step->pid < 0)
		return sp_error_set(err, errno, "clone the step");
	return 0;
}

/* What every step of the cell takes from it: the job's ids, its seccomp
 * program, what its cgroup limits, where it reports. */
static void step_settings(const struct cell_state *st, struct sp_step_context *ctx)
{
	ctx->uid = st->config->idmap.job_uid;
	ctx->gid = st->config->idmap.job_gid;
	ctx->cgroup_memory = st->config->cgroup_memory;
	ctx->cgroup_pids = st->config->cgroup_pids;
	ctx->seccomp = st->config->seccomp;
	ctx->report = &st->shared->report;
	ctx->exec_us = &st->shared->exec_us;
}

/* A step started in SLOT's prepared step's place takes its stdio. */
static int spawn_instead(struct cell_state *st, struct prepared_slot *slot,
			 struct sp_step_context *ctx, struct running_step *step,
			 struct sp_error *err)
{
	int rc;

	memcpy(ctx->stdio, slot->step.stdio, sizeof(ctx->stdio));
	rc = spawn_step(st, ctx, step, err);
	sp_prepared_step_discard(&slot->step);
	return rc;
}

/* The job's arguments after the prepared runtime's command, each
 * NUL-terminated, in BUF (room: SIZE). Returns their length. */
static size_t runtime_arguments(const struct prepared_slot *slot, const struct sp_step_context *ctx,
				char *buf, size_t size)
{
	size_t skip = 0, used = 0;

	while (slot->command->argv[skip] != NULL)
		skip++;
	for (size_t i = skip; ctx->argv[i] != NULL; i++) {
		size_t len = strlen(ctx->argv[i]) + 1;

		if (len > size - used)
			break; /* cannot be: the job's own wire held them */
		memcpy(buf + used, ctx->argv[i], len);
		used += len;
	}
	return used;
}

/* Hand the job to SLOT's prepared runtime, when it fits the job. */
static int go_runtime(struct cell_state *st, struct prepared_slot *slot,
		      struct sp_step_context *ctx, struct running_step *step, struct sp_error *err)
{
	const struct sp_step_context *cmd = slot->command;
	size_t length;

	if (!sp_prepared_runtime_fits(cmd->argv, cmd->envp, &cmd->limits, slot->takes_arguments,
				      ctx->argv, ctx->envp, &ctx->limits, ctx->cgroup_memory,
				      ctx->cgroup_pids)) {
		sp_prepared_step_discard(&slot->step);
		return sp_error_set(err, ESRCH, "the job does not fit the prepared runtime");
	}
	length = runtime_arguments(slot, ctx, (char *)st->prepare_buffer->payload.bytes,
				   sizeof(st->prepare_buffer->payload.bytes));
	step->pid = sp_prepared_step_go(&slot->step, st->prepare_buffer->payload.bytes, length);
	if (step->pid < 0) {
		sp_prepared_step_discard(&slot->step);
		return sp_error_set(err, ESRCH, "the prepared runtime ended before its job");
	}
	/* its time counts from the hand-over */
	__atomic_store_n(step->exec_us, sp_clock_us(), __ATOMIC_RELEASE);
	step->exit.runtime_prepared = true;
	return 0;
}

/* The job's step. With its descriptors (NFDS 3, in CTX): one cloned now.
 * Without: the prepared step of the slot the job names, handed the job's
 * command (MSG), or one cloned in its place with its stdio when it is gone;
 * a prepared runtime that does not fit or is gone is an error (ESRCH). */
static int start_step(struct cell_state *st, struct sp_step_context *ctx, const struct sp_msg *msg,
		      size_t nfds, struct running_step *step, struct sp_error *err)
{
	const struct sp_step_wire *wire = (const void *)msg->payload.bytes;
	struct prepared_slot *slot;

	memset(st->shared, 0, sizeof(*st->shared));
	step->exec_us = &st->shared->exec_us;
	step->go_us = sp_clock_us();
	if (nfds == 3)
		return spawn_step(st, ctx, step, err);
	if (wire->prepared == 0 || wire->prepared > SP_CELL_SLOTS ||
	    st->slots[wire->prepared - 1].step.control < 0)
		return sp_error_set(err, ESRCH, "no step is prepared there");
	slot = &st->slots[wire->prepared - 1];
	if (slot->step.runtime)
		return go_runtime(st, slot, ctx, step, err);
	step->pid = sp_prepared_step_go(&slot->step, msg->payload.bytes, msg->length);
	if (step->pid > 0)
		return 0;
	return spawn_instead(st, slot, ctx, step, err);
}

static void discard_prepared(struct cell_state *st)
{
	for (int i = 0; i < SP_CELL_SLOTS; i++)
		sp_prepared_step_discard(&st->slots[i].step);
}

/* What the step's process reported: how it failed, before its job ran. */
static void take_report(struct cell_state *st, struct running_step *step)
{
	step->exit.failure = st->shared->report.failure;
	step->exit.error = st->shared->report.error;
	step->exit.error.message[sizeof(step->exit.error.message) - 1] = '\0';
}

/* What a prepare asks for (SP_MSG_PREPARE): a step in a slot, or a runtime
 * with its loader (path, environment, arguments after the command's first)
 * and command. */
struct prepare_wire {
	uint32_t slot;
	uint32_t runtime;
	uint32_t takes_arguments;
	uint32_t loader_envc;	 /* KEY=VALUE strings, then the inserted arguments, */
	uint32_t insertc;	 /* NUL-terminated, back to back, */
	uint32_t strings_length; /* in all */
	char loader_path[SP_BOX_PATH_MAX + 1];
	char strings[]; /* those, then the command's sp_step_wire */
};

#define PREPARE_LIST_MAX 64

/* COUNT strings from *CURSOR (before END) into LIST, NULL-terminated. */
static int take_strings(char **list, uint32_t count, char **cursor, const char *end,
			struct sp_error *err)
{
	if (count >= PREPARE_LIST_MAX)
		return sp_error_set(err, EBADMSG, "malformed prepare");
	for (uint32_t i = 0; i < count; i++) {
		size_t len = strnlen(*cursor, (size_t)(end - *cursor));

		if (*cursor + len == end)
			return sp_error_set(err, EBADMSG, "malformed prepare strings");
		list[i] = *cursor;
		*cursor += len + 1;
	}
	list[count] = NULL;
	return 0;
}

/* SLOT's runtime command (kept for the check of its job), its loader's
 * environment (into ENV) and the arguments inserted (into INSERT). */
static int unpack_runtime(struct prepared_slot *slot, char **env, char **insert,
			  struct sp_error *err)
{
	struct prepare_wire *w = (void *)slot->msg->payload.bytes;
	size_t length = slot->msg->length;
	char *cursor = w->strings, *end;

	if (length < sizeof(*w) || w->strings_length > length - sizeof(*w) ||
	    memchr(w->loader_path, '\0', sizeof(w->loader_path)) == NULL)
		return sp_error_set(err, EBADMSG, "malformed prepare");
	end = w->strings + w->strings_length;
	if (take_strings(env, w->loader_envc, &cursor, end, err) < 0 ||
	    take_strings(insert, w->insertc, &cursor, end, err) < 0)
		return -1;
	slot->takes_arguments = w->takes_arguments != 0;
	return sp_step_unpack((void *)end, length - sizeof(*w) - w->strings_length, slot->command,
			      err);
}

/* Prepare a step in the slot the message names (a runtime, when it asks for
 * one and brings its loader in FDS): built from the cell's settings. ENDS
 * gets the supervisor's ends of its stdio. */
static int prepare_step(struct cell_state *st, const struct sp_msg *msg, int *fds, size_t nfds,
			int ends[3], struct sp_error *err)
{
	const struct prepare_wire *w = (const void *)msg->payload.bytes;
	char *env[PREPARE_LIST_MAX], *insert[PREPARE_LIST_MAX];
	struct sp_prepared_loader loader = {
	    .fd = nfds == 1 ? fds[0] : -1, .env = env, .args = insert};
	struct prepared_slot *slot;
	struct sp_step_context *ctx;

	if (msg->length < sizeof(*w) || w->slot >= SP_CELL_SLOTS)
		return sp_error_set(err, EBADMSG, "malformed prepare");
	slot = &st->slots[w->slot];
	ctx = slot->command;
	if (slot->step.refused)
		return sp_error_set(err, EPERM, "this cell prepares no step");
	sp_prepared_step_discard(&slot->step);
	if (w->runtime) {
		memcpy(slot->msg, msg, sizeof(msg->type) + sizeof(msg->length) + msg->length);
		if (loader.fd < 0 || unpack_runtime(slot, env, insert, err) < 0)
			return -1;
		loader.path = ((const struct prepare_wire *)slot->msg->payload.bytes)->loader_path;
	}
	step_settings(st, ctx);
	return sp_prepared_step_start(&slot->step, ctx, w->runtime ? &loader : NULL,
				      st->prepare_buffer, ends, err);
}

/* How long to wait for the step: until its wall limit, counted from its
 * execve (-1: no limit). Never early, so a killed step ran its full limit. */
static int wall_timeout(const struct running_step *step, uint64_t wall_ms, struct timespec *ts)
{
	uint64_t deadline = step_start_us(step) + wall_ms * 1000;
	uint64_t now = sp_clock_us();
	uint64_t left = deadline > now ? deadline - now : 0;

	if (wall_ms == 0)
		return -1;
	ts->tv_sec = (time_t)(left / 1000000);
	ts->tv_nsec = (long)(left % 1000000) * 1000;
	return left == 0 ? 0 : 1;
}

/* Supervise the step until its first process ends, or its wall limit or a
 * KILL from the supervisor stops it; then kill the rest. The wall limit is
 * kept here because only the cell knows when the execve happened. */
static void supervise_step(struct cell_state *st, struct running_step *step, uint64_t wall_ms)
{
	struct pollfd fds[2] = {{.fd = st->sigfd, .events = POLLIN},
				{.fd = st->sock, .events = POLLIN}};

	while (!step->main_done) {
		struct timespec ts;
		int limited = wall_timeout(step, wall_ms, &ts);

		if (limited == 0) {
			step->exit.wall_expired = true;
			break;
		}
		if (ppoll(fds, 2, limited > 0 ? &ts : NULL, NULL) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN) {
			drain_signalfd(st->sigfd);
			reap(st, step, false);
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct sp_msg msg;
			struct sp_error err;

			if (sp_channel_recv(st->sock, &msg, NULL, NULL, &err) < 0) {
				kill_all(st, step);
				_exit(1);
			}
			if (msg.type == SP_MSG_KILL)
				kill_all(st, step);
		}
	}
	kill_all(st, step);
}

static void close_all(int *fds, size_t nfds)
{
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
}

static void handle_run(struct cell_state *st, struct sp_msg *msg, int *fds, size_t nfds)
{
	struct sp_step_context ctx;
	struct running_step step = {.pid = -1};
	struct sp_error err = {0};
	int rc;

	step_settings(st, &ctx);
	if (nfds != 3 && nfds != 0)
		rc = sp_error_set(&err, EBADMSG, "run takes three descriptors or none");
	else if (st->write_failed)
		rc = sp_error_set(&err, ECANCELED, "not run: a file of the step was not written");
	else
		rc = sp_step_unpack((void *)msg->payload.bytes, msg->length, &ctx, &err);
	if (rc == 0) {
		if (nfds == 3)
			memcpy(ctx.stdio, fds, sizeof(ctx.stdio));
		rc = start_step(st, &ctx, msg, nfds, &step, &err);
	}
	close_all(fds, nfds);
	if (rc < 0) {
		sp_channel_send_error(st->sock, &err);
		return;
	}
	supervise_step(st, &step, ctx.limits.wall_ms);
	take_report(st, &step);
	if (sp_channel_send(st->sock, SP_MSG_EXITED, &step.exit, sizeof(step.exit), NULL, 0, &err) <
	    0)
		_exit(1);
}

/* ERR when RC < 0, else OK with the supervisor's ends of the prepared
 * step's stdio (then closed here). */
static void reply_prepared(struct cell_state *st, int rc, const struct sp_error *err, int ends[3])
{
	if (rc < 0) {
		sp_channel_send_error(st->sock, err);
		return;
	}
	sp_channel_send(st->sock, SP_MSG_OK, NULL, 0, ends, 3, NULL);
	close_all(ends, 3);
}

/* ERR when RC < 0, else OK with FD when FD >= 0. */
static void reply(struct cell_state *st, int rc, const struct sp_error *err, int fd)
{
	if (rc < 0)
		sp_channel_send_error(st->sock, err);
	else
		sp_channel_send(st->sock, SP_MSG_OK, NULL, 0, fd >= 0 ? &fd : NULL, fd >= 0, NULL);
}

__attribute__((noreturn)) static void cell_serve(struct cell_state *st)
{
	for (;;) {
		struct sp_msg msg;
		struct sp_error err = {0};
		int fds[SP_CHANNEL_FDS_MAX];
		size_t nfds = SP_CHANNEL_FDS_MAX;
		int answer = -1;
		int ends[3];
		int rc;

		if (sp_channel_recv(st->sock, &msg, fds, &nfds, &err) < 0)
			_exit(err.errnum == EPIPE ? 0 : 1);
		switch (msg.type) {
		case SP_MSG_RUN:
			handle_run(st, &msg, fds, nfds);
			continue;
		case SP_MSG_KILL:
			/* sent as the step ended on its own: nothing is left to kill,
			 * and a kill has no answer */
			close_all(fds, nfds);
			continue;
		case SP_MSG_WRITE_FILE:
			rc = handle_write_file(st, &msg, nfds == 1 ? fds[0] : -1, &err);
			if (rc < 0)
				st->write_failed = true;
			break;
		case SP_MSG_RESET:
			/* made before this reset: they must not serve the next job */
			discard_prepared(st);
			st->write_failed = false;
			rc = sp_mount_reset_in_child(&st->mounts, &st->scratch, &err);
			break;
		case SP_MSG_PREPARE:
			reply_prepared(st, prepare_step(st, &msg, fds, nfds, ends, &err), &err,
				       ends);
			close_all(fds, nfds);
			continue;
		case SP_MSG_PACK_BOX:
			rc = answer = handle_pack_box(st, &msg, nfds, &err);
			break;
		case SP_MSG_READ_FILE:
			rc = answer = handle_read_file(&msg, nfds, &err);
			break;
		default:
			rc = sp_error_set(&err, EPROTO, "unexpected command %u", msg.type);
		}
		close_all(fds, nfds);
		reply(st, rc, &err, answer);
		if (answer >= 0)
			close(answer);
	}
}

__attribute__((noreturn)) static void cell_main(const struct sp_cell_config *config, int sock)
{
	struct cell_state st = {
	    .config = config,
	    .sock = sock,
	    .sigfd = -1,
	    .mounts = {.rootfs = config->rootfs,
		       .box_uid = config->idmap.job_uid,
		       .box_gid = config->idmap.job_gid,
		       .tmpfs_kb = config->tmpfs_kb},
	};
	struct sp_error err = {0};

	if (cell_build(&st, &err) < 0)
		cell_die(sock, &err);
	if (sp_channel_send(sock, SP_MSG_READY, NULL, 0, NULL, 0, &err) < 0)
		_exit(1);
	cell_serve(&st);
}

/* ---- supervisor side ---------------------------------------------------- */

static int expect_ready(struct sp_cell *cell, struct sp_error *err)
{
	struct sp_msg msg;

	if (sp_channel_recv(cell->sock, &msg, NULL, NULL, err) < 0)
		return sp_error_wrap(err, "cell did not start");
	if (msg.type == SP_MSG_ERROR && msg.length == sizeof(struct sp_error)) {
		memcpy(err, msg.payload.bytes, sizeof(*err));
		err->message[sizeof(err->message) - 1] = '\0';
		return sp_error_wrap(err, "cell setup");
	}
	if (msg.type != SP_MSG_READY)
		return sp_error_set(err, EPROTO, "cell sent %u instead of ready", msg.type);
	return 0;
}

/* P as nothing prepared (its descriptors given away or closed). */
static void forget_slot(struct sp_cell_prepared *p)
{
	for (int i = 0; i < 3; i++)
		p->stdio[i] = -1;
	p->runtime = NULL;
	p->ready = false;
}

void sp_cell_clear(struct sp_cell *cell, const struct sp_cell_config *config)
{
	memset(cell, 0, sizeof(*cell));
	cell->pid = -1;
	cell->sock = -1;
	for (int slot = 0; slot < SP_CELL_SLOTS; slot++)
		forget_slot(&cell->prepared[slot]);
	sp_cgroup_cell_clear(&cell->cgroup);
	cell->config = *config;
}

int sp_cell_create(struct sp_cell *cell, const struct sp_cell_config *config, struct sp_error *err)
{
	int sv[2];

	sp_cell_clear(cell, config);
	if (sp_channel_pair(sv, err) < 0)
		return -1;
	cell->pid = (pid_t)syscall(SYS_clone, CELL_CLONE_FLAGS | SIGCHLD, 0, 0, 0, 0);
	if (cell->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return sp_error_set(err, errno, "clone the cell");
	}
	if (cell->pid == 0) {
		close(sv[0]);
		cell_main(&cell->config, sv[1]);
	}
	close(sv[1]);
	cell->sock = sv[0];
	if (sp_userns_from_parent(&config->idmap, cell->pid, err) < 0)
		goto fail;
	if (sp_channel_send(cell->sock, SP_MSG_MAPS_DONE, NULL, 0, NULL, 0, err) < 0)
		goto fail;
	if (expect_ready(cell, err) < 0)
		goto fail;
	return 0;
fail:
	sp_cell_destroy(cell);
	return -1;
}

void sp_cell_destroy(struct sp_cell *cell)
{
	sp_cell_prepared_drop(cell);
	if (cell->sock >= 0) {
		close(cell->sock);
		cell->sock = -1;
	}
	if (cell->pid > 0) {
		kill(cell->pid, SIGKILL);
		while (waitpid(cell->pid, NULL, 0) < 0 && errno == EINTR) {
		}
		cell->pid = -1;
	}
	sp_cgroup_cell_destroy(&cell->cgroup, NULL);
}

int sp_cell_use_cgroups(struct sp_cell *cell, const struct sp_cgroup_root *root,
			struct sp_error *err)
{
	char name[32];

	if (root == NULL || root->mode == SP_CGROUP_NONE || sp_cgroup_cell_active(&cell->cgroup))
		return 0;
	snprintf(name, sizeof(name), "cell-%d", (int)cell->pid);
	if (sp_cgroup_cell_create(root, &cell->cgroup, name, cell->pid, err) < 0)
		return sp_error_wrap(err, "cell cgroup");
	return 0;
}

/* Wait for the answer to the last command: OK carrying exactly NFDS
 * descriptors, put in FDS, or ERROR copied into err. */
static int wait_ok_fds(struct sp_cell *cell, int *fds, size_t nfds, struct sp_error *err)
{
	cleanup_free struct sp_msg *msg = sp_msg_new();
	size_t got = nfds;

	if (msg == NULL)
		return sp_error_set(err, ENOMEM, "message");
	if (sp_channel_recv(cell->sock, msg, fds, &got, err) < 0)
		return -1;
	if (msg->type == SP_MSG_OK && got == nfds)
		return 0;
	close_all(fds, got);
	if (msg->type == SP_MSG_ERROR && msg->length == sizeof(struct sp_error)) {
		memcpy(err, msg->payload.bytes, sizeof(*err));
		err->message[sizeof(err->message) - 1] = '\0';
		return -1;
	}
	if (msg->type != SP_MSG_OK)
		return sp_error_set(err, EPROTO, "cell sent %u instead of ok", msg->type);
	return sp_error_set(err, EPROTO, "cell answered with %zu descriptors instead of %zu", got,
			    nfds);
}

int sp_cell_wait_ok(struct sp_cell *cell, struct sp_error *err)
{
	return wait_ok_fds(cell, NULL, 0, err);
}

int sp_cell_write_file_begin(struct sp_cell *cell, const char *name, int fd, mode_t mode,
			     struct sp_error *err)
{
	struct write_file_wire wire = {.mode = mode};

	if (!sp_box_path_valid(name))
		return sp_error_set(err, EINVAL, "invalid file name '%s'", name);
	snprintf(wire.name, sizeof(wire.name), "%s", name);
	if (sp_channel_send(cell->sock, SP_MSG_WRITE_FILE, &wire, sizeof(wire), &fd, 1, err) < 0)
		return -1;
	cell->writes_pending++;
	return 0;
}

int sp_cell_write_file_end(struct sp_cell *cell, struct sp_error *err)
{
	int rc = 0;

	for (; cell->writes_pending > 0; cell->writes_pending--) {
		struct sp_error one = {0};

		/* every answer read, the first failure kept */
		if (sp_cell_wait_ok(cell, &one) < 0 && rc == 0) {
			*err = one;
			rc = -1;
		}
	}
	return rc;
}

int sp_cell_write_file(struct sp_cell *cell, const char *name, int fd, mode_t mode,
		       struct sp_error *err)
{
	if (sp_cell_write_file_begin(cell, name, fd, mode, err) < 0)
		return -1;
	return sp_cell_write_file_end(cell, err);
}

int sp_cell_pack_box(struct sp_cell *cell, uint64_t max_bytes, int *archive_fd,
		     struct sp_error *err)
{
	int fd = -1;
	int seals;

	*archive_fd = -1;
	if (sp_cell_write_file_end(cell, err) < 0)
		return -1;
	if (sp_channel_send(cell->sock, SP_MSG_PACK_BOX, &max_bytes, sizeof(max_bytes), NULL, 0,
			    err) < 0 ||
	    wait_ok_fds(cell, &fd, 1, err) < 0)
		return -1;
	/* the cell is trusted, but what comes back must be what this promises */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & SP_BOX_SEALS) != SP_BOX_SEALS) {
		close(fd);
		return sp_error_set(err, EPROTO, "the archive of /box is not sealed");
	}
	*archive_fd = fd;
	return 0;
}

int sp_cell_read_file(struct sp_cell *cell, const char *name, uint64_t max_bytes, int *fd_out,
		      struct sp_error *err)
{
	struct read_file_wire wire = {.max_bytes = max_bytes};
	int fd = -1;
	int seals;

	if (sp_cell_write_file_end(cell, err) < 0)
		return -1;
	*fd_out = -1;
	if (!sp_box_path_valid(name))
		return sp_error_set(err, EINVAL, "invalid file name '%s'", name);
	snprintf(wire.name, sizeof(wire.name), "%s", name);
	if (sp_channel_send(cell->sock, SP_MSG_READ_FILE, &wire, sizeof(wire), NULL, 0, err) < 0 ||
	    wait_ok_fds(cell, &fd, 1, err) < 0)
		return -1;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & SP_BOX_SEALS) != SP_BOX_SEALS) {
		close(fd);
		return sp_error_set(err, EPROTO, "the copy of /box/%s is not sealed", name);
	}
	*fd_out = fd;
	return 0;
}

/* LIST's strings into W's strings from *USED (room: ROOM), counted in
 * *COUNT. */
static int pack_list(struct prepare_wire *w, size_t room, size_t *used, char *const *list,
		     uint32_t *count, struct sp_error *err)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++, (*count)++) {
		size_t len = strlen(list[i]) + 1;

		if (len > room - *used || *count >= PREPARE_LIST_MAX - 1)
			return sp_error_set(err, E2BIG, "the loader's settings are too long");
		memcpy(w->strings + *used, list[i], len);
		*used += len;
	}
	return 0;
}

/* The prepare message for SLOT (and RUNTIME) in MSG. */
static int pack_prepare(struct sp_msg *msg, unsigned slot, const struct sp_cell_runtime *runtime,
			struct sp_error *err)
{
	struct prepare_wire *w = (void *)msg->payload.bytes;
	size_t room = sizeof(msg->payload.bytes) - sizeof(*w), used = 0;
	ssize_t n;

	memset(w, 0, sizeof(*w));
	w->slot = slot;
	msg->length = sizeof(*w);
	if (runtime == NULL)
		return 0;
	w->runtime = 1;
	w->takes_arguments = runtime->takes_arguments;
	if (snprintf(w->loader_path, sizeof(w->loader_path), "%s", runtime->loader_path) >=
	    (int)sizeof(w->loader_path))
		return sp_error_set(err, ENAMETOOLONG, "loader path");
	if (pack_list(w, room, &used, runtime->loader_env, &w->loader_envc, err) < 0 ||
	    pack_list(w, room, &used, runtime->loader_args, &w->insertc, err) < 0)
		return -1;
	w->strings_length = (uint32_t)used;
	n = sp_step_pack((void *)(w->strings + used), room - used, runtime->argv, runtime->envp,
			 &runtime->limits, err);
	if (n < 0)
		return -1;
	msg->length = (uint32_t)(sizeof(*w) + used + (size_t)n);
	return 0;
}

static void drop_slot(struct sp_cell_prepared *p)
{
	if (p->ready)
		close_all(p->stdio, 3);
	forget_slot(p);
}

int sp_cell_prepare_begin(struct sp_cell *cell, unsigned slot,
			  const struct sp_cell_runtime *runtime, struct sp_error *err)
{
	struct sp_msg *msg;
	int rc;

	if (slot >= SP_CELL_SLOTS || cell->prepares_pending >= SP_CELL_SLOTS)
		return sp_error_set(err, EINVAL, "no room for a prepare in slot %u", slot);
	msg = sp_msg_new();
	if (msg == NULL)
		return sp_error_set(err, ENOMEM, "prepare");
	drop_slot(&cell->prepared[slot]);
	rc = pack_prepare(msg, slot, runtime, err);
	if (rc == 0)
		rc = sp_channel_send(cell->sock, SP_MSG_PREPARE, msg->payload.bytes, msg->length,
				     runtime ? &runtime->loader_fd : NULL, runtime ? 1 : 0, err);
	free(msg);
	if (rc == 0) {
		cell->pending_slot[cell->prepares_pending] = slot;
		cell->pending_runtime[cell->prepares_pending] = runtime;
		cell->prepares_pending++;
	}
	return rc;
}

/* The answer to the prepare pending at INDEX, into MSG. */
static int take_answer(struct sp_cell *cell, unsigned index, struct sp_msg *msg,
		       struct sp_error *err)
{
	struct sp_cell_prepared *p = &cell->prepared[cell->pending_slot[index]];
	int fds[SP_CHANNEL_FDS_MAX];
	size_t nfds = SP_CHANNEL_FDS_MAX;

	if (sp_channel_recv(cell->sock, msg, fds, &nfds, err) < 0)
		return sp_error_wrap(err, "prepare");
	if (msg->type == SP_MSG_OK && nfds == 3) {
		memcpy(p->stdio, fds, sizeof(p->stdio));
		p->runtime = cell->pending_runtime[index];
		p->ready = true;
		return 0;
	}
	close_all(fds, nfds);
	if (msg->type != SP_MSG_ERROR)
		return sp_error_set(err, EPROTO, "cell sent %u to a prepare", msg->type);
	return 0; /* nothing prepared */
}

int sp_cell_prepare_end(struct sp_cell *cell, struct sp_error *err)
{
	unsigned pending = cell->prepares_pending;
	/* on the heap: 60 KiB is too much for the stack of an HTTP thread */
	struct sp_msg *msg;
	int rc = 0;

	if (pending == 0)
		return 0;
	cell->prepares_pending = 0;
	msg = sp_msg_new();
	if (msg == NULL)
		return sp_error_set(err, ENOMEM, "prepare");
	for (unsigned i = 0; i < pending && rc == 0; i++)
		rc = take_answer(cell, i, msg, err);
	free(msg);
	return rc;
}

int sp_cell_prepare(struct sp_cell *cell, const struct sp_cell_runtime *runtime,
		    struct sp_error *err)
{
	if (sp_cell_prepare_begin(cell, 0, runtime, err) < 0)
		return -1;
	return sp_cell_prepare_end(cell, err);
}

int sp_cell_prepared_slot(const struct sp_cell *cell, char *const *argv, char *const *envp,
			  const struct sp_limits *limits)
{
	int plain = -1;

	for (int slot = 0; slot < SP_CELL_SLOTS; slot++) {
		const struct sp_cell_prepared *p = &cell->prepared[slot];
		const struct sp_cell_runtime *r = p->runtime;

		if (!p->ready)
			continue;
		if (r == NULL) {
			if (plain < 0)
				plain = slot;
		} else if (sp_prepared_runtime_fits(
			       r->argv, r->envp, &r->limits, r->takes_arguments, argv, envp, limits,
			       cell->config.cgroup_memory, cell->config.cgroup_pids)) {
			return slot;
		}
	}
	return plain;
}

void sp_cell_prepared_take(struct sp_cell *cell, int slot, int stdio[3])
{
	struct sp_cell_prepared *p = &cell->prepared[slot];

	memcpy(stdio, p->stdio, sizeof(p->stdio));
	forget_slot(p);
}

void sp_cell_prepared_drop(struct sp_cell *cell)
{
	for (int slot = 0; slot < SP_CELL_SLOTS; slot++)
		drop_slot(&cell->prepared[slot]);
}

int sp_cell_reset_begin(struct sp_cell *cell, struct sp_error *err)
{
	struct sp_error ignored;

	/* a failed write matters no more: the files go */
	if (cell->writes_pending > 0 && sp_cell_write_file_end(cell, &ignored) < 0 &&
	    ignored.errnum == EPIPE)
		return sp_error_set(err, EPIPE, "the cell is gone");
	sp_cell_prepared_drop(cell); /* the cell kills it */
	return sp_channel_send(cell->sock, SP_MSG_RESET, NULL, 0, NULL, 0, err);
}

int sp_cell_reset_end(struct sp_cell *cell, struct sp_error *err)
{
	return sp_cell_wait_ok(cell, err);
}

int sp_cell_reset(struct sp_cell *cell, struct sp_error *err)
{
	if (sp_cell_reset_begin(cell, err) < 0)
		return -1;
	return sp_cell_reset_end(cell, err);
}
