"""Hostile programs through a real `sandpool serve`: escapes, privileges,
resources, leaks between jobs and to the host, and links planted where
sandpool writes. Each job comes as source in a default language (c, python,
bash) over HTTP, into warm cells; where a cell serves again, the next job on
it checks that nothing of the hostile one is left.

Environment (set by tools/run-tests): as test_server.
"""

import ctypes
import errno
import json
import mmap
import os
import platform
import re
import secrets
import signal
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from test_server import STATE, Server, proc_status, wait_state

TOKEN = "hostile-" + secrets.token_hex(12)
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# Every attempt prints "NAME: refused" (why, on stderr) or "NAME: ALLOWED".
ESCAPES_C = r"""#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>


static void report(const char *name, long rc)
{
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", name, strerror(errno));
		printf("%s: refused\n", name);
	} else {
		printf("%s: ALLOWED\n", name);
	}
}

static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char line[256] = "fds:";

	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", e->d_name);
	}
	closedir(d);
	puts(line);
}

static long write_to(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	long rc;

	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text));
	close(fd);
	return rc;
}

static long read_some(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	long n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == 0)
		errno = ENODATA;
	return n > 0 ? 0 : -1;
}

static long open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* chroot into a subdirectory, then climb out of it by fchdir and "..". */
static long chroot_breakout(void)
{
	struct stat root, here;
	int outside = open("/", O_RDONLY | O_DIRECTORY);

	mkdir("/box/jail", 0755);
	if (chroot("/box/jail") < 0)
		fprintf(stderr, "chroot /box/jail: %s\n", strerror(errno));
	fchdir(outside);
	for (int i = 0; i < 64; i++)
		chdir("..");
	if (chroot(".") < 0)
		fprintf(stderr, "chroot .: %s\n", strerror(errno));
	stat("/", &root);
	stat(".", &here);
	close(outside);
	if (open_dir(CANARY) >= 0)
		return 0; /* the host's directory is in sight */
	if (root.st_dev != here.st_dev || root.st_ino != here.st_ino)
		return 0; /* climbed above the root */
	errno = ENOENT;
	return -1;
}

static long setns_of(const char *path)
{
	int fd = open(path, O_RDONLY);
	long rc;

	if (fd < 0)
		return -1;
	rc = setns(fd, 0);
	close(fd);
	return rc;
}

static long open_by_handle(void)
{
	struct file_handle *fh = calloc(1, sizeof(*fh) + MAX_HANDLE_SZ);
	int mount_id, fd;

	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, "/box", fh, &mount_id, 0) < 0) {
		fprintf(stderr, "name_to_handle_at: %s\n", strerror(errno));
		fh->handle_bytes = 8;
		fh->handle_type = 1;
	}
	fd = open_by_handle_at(AT_FDCWD, fh, O_RDONLY);
	free(fh);
	return fd;
}

int main(void)
{
	static const char *const ns[] = {"mnt", "net", "pid", "user", "uts", "ipc", "cgroup", NULL};
	char host[64] = "";

	list_fds();
	report("remount / rw", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
	report("remount /proc rw", mount(NULL, "/proc", NULL, MS_REMOUNT | MS_BIND, NULL));
	report("mount proc", mount("proc", "/tmp", "proc", 0, NULL));
	report("umount /proc/keys", umount2("/proc/keys", MNT_DETACH));
	report("umount /proc/sys", umount2("/proc/sys", MNT_DETACH));
	report("umount /proc", umount2("/proc", MNT_DETACH));
	report("umount /", umount2("/", MNT_DETACH));
	report("read /proc/keys", read_some("/proc/keys"));
	report("create /usr/evil", open("/usr/evil", O_WRONLY | O_CREAT, 0644));
	report("chroot breakout", chroot_breakout());
	report("open /proc/1/root", open_dir("/proc/1/root"));
	report("open /proc/1/cwd", open_dir("/proc/1/cwd"));
	report("open /proc/1/fd", open_dir("/proc/1/fd"));
	report("read /proc/1/environ", read_some("/proc/1/environ"));
	report("ptrace pid 1", ptrace(PTRACE_ATTACH, 1, 0, 0));
	for (int i = 0; ns[i] != NULL; i++) {
		char path[64], name[80];

		snprintf(path, sizeof(path), "/proc/1/ns/%s", ns[i]);
		snprintf(name, sizeof(name), "setns %s", path);
		report(name, setns_of(path));
	}
	report("setns own user ns", setns_of("/proc/self/ns/user"));
	report("write /proc/self/exe", write_to("/proc/self/exe", "x"));
	report("open_by_handle_at", open_by_handle());
	report("mknod char", mknod("/box/null", S_IFCHR | 0666, makedev(1, 3)));
	report("mknod block", mknod("/tmp/disk", S_IFBLK | 0666, makedev(8, 0)));
	report("write /proc/sys/kernel/hostname", write_to("/proc/sys/kernel/hostname", "evil"));
	report("write /proc/sys/vm/drop_caches", write_to("/proc/sys/vm/drop_caches", "3"));
	report("write /proc/sys/kernel/core_pattern",
	       write_to("/proc/sys/kernel/core_pattern", "|/box/x"));
	report("write /proc/sysrq-trigger", write_to("/proc/sysrq-trigger", "h"));
	gethostname(host, sizeof(host));
	printf("hostname %s\n", host);
	return 0;
}
"""

# Seccomp refusals carry the policy's errno: it is part of the expectation.
PRIVILEGES_C = r"""#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* "refused EPERM" and the like: the errno is part of the expectation. */
static void report(const char *name, long rc)
{
	if (rc >= 0)
		printf("%s: ALLOWED\n", name);
	else
		printf("%s: refused %s\n", name, strerrorname_np(errno));
}

static void status_lines(void)
{
	static const char *const keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
					   "NoNewPrivs", "Seccomp:", NULL};
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (fgets(line, sizeof(line), f) != NULL) {
		for (int i = 0; keys[i] != NULL; i++) {
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				fputs(line, stdout);
		}
	}
	fclose(f);
}

static long try_bpf(void)
{
	union bpf_attr attr = {
	    .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1};

	return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

static long try_perf(void)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE, .size = sizeof(attr), .config = PERF_COUNT_SW_CPU_CLOCK};

	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static long try_io_uring(void)
{
	struct io_uring_params p = {0};

	return syscall(SYS_io_uring_setup, 4, &p);
}

static long try_clone(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long try_clone3(unsigned long flags)
{
	struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

/* The 32-bit system call entry, from a child: the signal that ends it. */
static void int80(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		long ret;

		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("int80: %s\n", WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "returned");
}

int main(void)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} ns[] = {{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},     {"net", CLONE_NEWNET},
		  {"pid", CLONE_NEWPID},   {"uts", CLONE_NEWUTS},    {"ipc", CLONE_NEWIPC},
		  {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME}};
	uid_t uid = getuid();
	gid_t gid = getgid(), groups[1] = {0};
	char c = 'x', name[64];

	status_lines();
	report("setuid other", setuid(uid + 1));
	report("setgid other", setgid(gid + 1));
	report("setresuid 0", uid == 0 ? -(errno = EPERM, 1) : setresuid(0, 0, 0));
	report("setgroups", setgroups(1, groups));
	report("keyctl", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "x"));
	report("add_key", syscall(SYS_add_key, "user", "k", "v", 1, KEY_SPEC_PROCESS_KEYRING));
	report("bpf", try_bpf());
	report("perf_event_open", try_perf());
	report("io_uring_setup", try_io_uring());
	report("userfaultfd", syscall(SYS_userfaultfd, 0));
	report("tiocsti", ioctl(0, TIOCSTI, &c));
	report("socket AF_VSOCK", socket(AF_VSOCK, SOCK_STREAM, 0));
	report("socket AF_ALG", socket(AF_ALG, SOCK_SEQPACKET, 0));
	report("socket AF_PACKET", socket(AF_PACKET, SOCK_RAW, 0));
	report("socket raw", socket(AF_INET, SOCK_RAW, 1));
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		snprintf(name, sizeof(name), "unshare %s", ns[i].name);
		report(name, unshare((int)ns[i].flag));
		/* clone(2) has no CLONE_NEWTIME: that bit is part of its exit signal */
		snprintf(name, sizeof(name), "clone %s", ns[i].name);
		if (ns[i].flag != CLONE_NEWTIME)
			report(name, try_clone(ns[i].flag));
		snprintf(name, sizeof(name), "clone3 %s", ns[i].name);
		report(name, try_clone3(ns[i].flag));
	}
	int80();
	return 0;
}
"""

ESCAPES_EXPECTED = "fds: 0 1 2\n" + "".join(f"{name}: refused\n" for name in (
    "remount / rw", "remount /proc rw", "mount proc", "umount /proc/keys", "umount /proc/sys",
    "umount /proc", "umount /", "read /proc/keys", "create /usr/evil", "chroot breakout",
    "open /proc/1/root", "open /proc/1/cwd", "open /proc/1/fd", "read /proc/1/environ",
    "ptrace pid 1", *(f"setns /proc/1/ns/{ns}" for ns in
                      ("mnt", "net", "pid", "user", "uts", "ipc", "cgroup")),
    "setns own user ns", "write /proc/self/exe", "open_by_handle_at", "mknod char",
    "mknod block", "write /proc/sys/kernel/hostname", "write /proc/sys/vm/drop_caches",
    "write /proc/sys/kernel/core_pattern", "write /proc/sysrq-trigger")) + "hostname sandpool\n"


def privileges_expected(int80_signal):
    lines = [f"{cap}:\t0000000000000000" for cap in
             ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")]
    lines += ["NoNewPrivs:\t1", "Seccomp:\t2"]
    lines += [f"{name}: refused EPERM" for name in (
        "setuid other", "setgid other", "setresuid 0", "setgroups", "keyctl", "add_key", "bpf",
        "perf_event_open", "io_uring_setup", "userfaultfd", "tiocsti", "socket AF_VSOCK",
        "socket AF_ALG", "socket AF_PACKET", "socket raw")]
    for ns in ("user", "mnt", "net", "pid", "uts", "ipc", "cgroup", "time"):
        lines.append(f"unshare {ns}: refused EPERM")
        if ns != "time":
            lines.append(f"clone {ns}: refused EPERM")
        # clone3's flags are out of the filter's reach: it is refused whole
        lines.append(f"clone3 {ns}: refused ENOSYS")
    lines.append(f"int80: {int80_signal}")
    return "\n".join(lines) + "\n"


def host_int80_signal():
    """What int 0x80 does on this kernel outside any sandbox: SIGSEGV where it
    has no 32-bit entry; else the sandbox's seccomp filter must end it (SYS)."""
    code = b"\xb8\x14\x00\x00\x00\xcd\x80\xc3"  # mov eax, 20 (getpid); int 0x80; ret
    pid = os.fork()
    if pid == 0:
        try:
            buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE |
                            mmap.PROT_EXEC)
            buf.write(code)
            addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
            ctypes.CFUNCTYPE(ctypes.c_long)(addr)()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return "SEGV" if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV else "SYS"


# A setuid-root binary of the image, held while it waits for a password: its
# ids as the kernel gave them at execve.
SETUID_PY = r"""
import os, subprocess
p = subprocess.Popen(["/usr/bin/su", "-c", "true", "root"], stdin=subprocess.PIPE,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
with open(f"/proc/{p.pid}/status") as f:
    ids = [l.split()[1:] for l in f if l.startswith(("Uid:", "Gid:"))]
p.kill()
p.wait()
print(os.stat("/usr/bin/su").st_mode & 0o4000 != 0, os.getuid(), os.getgid(), ids)
"""

LEAKS_PY = r"""
import errno, os, socket
out = []
out.append("hostname " + socket.gethostname() + " " + os.uname().nodename)
others = sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid())
out.append(f"other processes {others}")
out.append("pid 1 " + repr(open("/proc/1/cmdline", "rb").read().rstrip(b"\0")))
roots = set()
for path in ("/proc/self/mountinfo", "/proc/1/mountinfo", "/proc/self/mounts"):
    text = open(path).read()
    for word in FORBIDDEN:
        if word in text:
            out.append(f"{path} shows {word}")
    if "mountinfo" in path:
        roots.update(line.split()[3] for line in text.splitlines())
out.append("mount roots " + " ".join(sorted(roots)))
def connect(family, kind, addr):
    s = socket.socket(family, kind)
    s.settimeout(5)
    try:
        s.connect(addr)
        if kind == socket.SOCK_DGRAM:
            s.send(b"x")
        return "connected"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
    finally:
        s.close()
out.append("server port " + connect(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", PORT)))
out.append("outside tcp " + connect(socket.AF_INET, socket.SOCK_STREAM, ("1.1.1.1", 53)))
out.append("outside udp " + connect(socket.AF_INET, socket.SOCK_DGRAM, ("1.1.1.1", 53)))
try:
    socket.getaddrinfo("deb.debian.org", 80)
    out.append("dns resolves")
except socket.gaierror:
    out.append("dns fails")
ifaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
out.append("interfaces " + " ".join(ifaces))
print("\n".join(out))
"""

# Two jobs at once in two cells. The holder leaves files, a socket and SysV
# memory, takes a lock on the image's /etc/passwd and holds all of it for
# HOLD seconds. The prober, meanwhile, looks for all of it and takes the
# same lock, again and again for PROBE seconds: some of its looks and locks
# fall while the holder holds (the test checks the times), so that a slow
# start of either cannot make it pass unseen.
HOLDER_PY = r"""
import ctypes, fcntl, os, socket, time
for d in ("/box", "/tmp", "/dev/shm"):
    open(d + "/secret-of-a", "w").write("a")
s = socket.socket(socket.AF_UNIX)
s.bind("\0sandpool-secret-of-a")
s.listen()
libc = ctypes.CDLL(None)
print("shm", libc.shmget(0x5eed, 4096, 0o1666) >= 0)
f = open("/etc/passwd")
fcntl.flock(f, fcntl.LOCK_EX)
print("holding", time.time())
time.sleep(HOLD)
print("released", time.time())
"""

PROBER_PY = r"""
import ctypes, fcntl, os, socket, time
libc = ctypes.CDLL(None)
seen, locks, end = set(), [], time.time() + PROBE
while time.time() < end:
    seen.update(os.listdir("/box") + os.listdir("/tmp") + os.listdir("/dev/shm"))
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect("\0sandpool-secret-of-a")
        seen.add("socket")
    except ConnectionRefusedError:
        pass
    s.close()
    if libc.shmget(0x5eed, 0, 0) >= 0:
        seen.add("shm")
    f = open("/etc/passwd")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        locks.append(time.time())
        # the lock is real here: a second open file cannot take it
        g = open("/etc/passwd")
        try:
            fcntl.flock(g, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen.add("second lock")
        except BlockingIOError:
            pass
        g.close()
    except BlockingIOError:
        seen.add("lock held elsewhere")
    f.close()
    last = time.time()
    time.sleep(0.1)
print(sorted(seen))
print(" ".join(map(repr, locks)))
"""

FORK_BOMB_C = r"""
#include <unistd.h>
int main(void) { for (;;) fork(); }
"""

THREAD_BOMB_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *sleeper(void *arg) { (void)arg; pause(); return NULL; }
int main(void)
{
	int n = 0;
	pthread_t t;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 65536);
	while (n < 10000 && pthread_create(&t, &attr, sleeper, NULL) == 0)
		n++;
	printf("%d\n", n);
	return 0;
}
"""

MEMORY_BOMB_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
	for (int mb = 0; mb < 4096; mb++) {
		char *p = malloc(1 << 20);
		if (p == NULL) {
			printf("malloc failed at %d MiB\n", mb);
			return 1;
		}
		memset(p, 1, 1 << 20);
	}
	printf("4 GiB allocated\n");
	return 0;
}
"""

CPU_THREADS_C = r"""
#include <pthread.h>
static void *spin(void *arg) { for (;;) (*(volatile int *)arg)++; return NULL; }
int main(void)
{
	pthread_t t[6];
	int n = 0;
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, spin, &n);
	pthread_join(t[0], NULL);
	return 0;
}
"""

# A double-forked, setsid daemon that ignores every signal it can; the job
# ends once the daemon says it is ready.
DAEMON_C = r"""
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(void)
{
	int ready[2];
	char c;

	pipe(ready);
	if (fork() == 0) {
		setsid();
		if (fork() == 0) {
			prctl(PR_SET_NAME, NAME);
			for (int s = 1; s < 65; s++)
				signal(s, SIG_IGN);
			write(ready[1], "r", 1);
			for (;;)
				pause();
		}
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) == 1)
		printf("daemon started\n");
	return 0;
}
"""

# What is left on a cell: its processes, and /box, /tmp and /dev/shm.
AFTER_C = r"""
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void list(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	printf("%s:", dir);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			printf(" %s", names[i]->d_name);
	}
	printf("\n");
}
int main(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], comm[64];
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		FILE *f;
		if (atoi(e->d_name) <= 0)
			continue;
		n++;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if ((f = fopen(path, "r")) != NULL && fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, "spd-", 4) == 0)
			printf("left: %s", comm);
		if (f != NULL)
			fclose(f);
	}
	closedir(d);
	printf("processes %d\n", n);
	list("/box");
	list("/tmp");
	list("/dev/shm");
	return 0;
}
"""
AFTER_C_CLEAN = "processes 2\n/box: main main.c\n/tmp:\n/dev/shm:\n"

# Fill each tmpfs with one file: how far it went and why it stopped.
FILL_SH = r"""
for d in /tmp /dev/shm; do
	head -c 100M /dev/zero >$d/fill 2>/box/err
	echo "$d $(stat -c %s $d/fill) $(sed 's/.*: //' /box/err)"
done
"""

FILE_LIMITS_PY = r"""
import errno, os, resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
fd = os.open("/box/big", os.O_WRONLY | os.O_CREAT)
written = 0
try:
    while True:
        written += os.write(fd, b"x" * 65536)
except OSError as e:
    print("write", errno.errorcode[e.errno], written)
os.close(fd)
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("open", errno.errorcode[e.errno], len(fds) + 3, resource.getrlimit(resource.RLIMIT_NOFILE))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard + 1, hard + 1))
    print("raised")
except ValueError:
    print("raise refused")
"""

# Links, hard links and FIFOs where sandpool writes the next job's files
# (main.sh, sub/, input.txt), in /tmp and /dev/shm, a directory too deep to
# walk and a /box nobody may enter; each link aims at the host's canary
# directory, at the job's own view of it and at /proc.
PLANT_SH = r"""
cd /box
rm -f main.sh
ln -s "$CANARY/canary" main.sh
ln -s "$CANARY" sub
ln -s /proc/1/root/etc/passwd input.txt
mkfifo main.py main.c
ln -s "$CANARY/new" main
mkdir "$CANARY" 2>/dev/null || mkdir -p "/tmp$CANARY"
for d in /tmp /dev/shm; do
	ln -s "$CANARY/canary" $d/canary
	ln -s "$CANARY" $d/dir
	mkfifo $d/fifo
	echo x >$d/file && ln $d/file $d/hardlink
	ln -s /proc/self/cwd $d/cwd
done
mkdir -p /tmp/deep/$(printf 'd/%.0s' $(seq 1000))
chmod 000 /box/.. 2>/dev/null
chmod 000 /tmp /dev/shm /box 2>/dev/null
echo planted
"""

AFTER_PLANT_SH = r"""
cat sub/data.txt input.txt
ls -A /box /box/sub /tmp /dev/shm
stat -c '%n %F %a' /box /box/main.sh /box/sub /box/sub/data.txt /box/input.txt /tmp /dev/shm
"""

# The run step of a compiled job replaces its source and its program with
# links and FIFOs, where the next job's compile writes and reads.
PLANT_C = r"""
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void)
{
	unlink("main.c");
	symlink(CANARY "/canary", "main.c");
	unlink("main");
	symlink(CANARY "/main", "main");
	mkfifo("sub", 0666);
	mkfifo("/tmp/cc.s", 0666);
	symlink(CANARY, "/tmp/ccout");
	chmod("/box", 0);
	printf("planted\n");
	return 0;
}
"""

HELPER_MAIN_C = r"""
#include <stdio.h>
#include "sub/helper.h"
int main(void) { printf("%s\n", GREETING); return 0; }
"""


def snapshot(directory):
    """Everything about DIRECTORY's entries that a write, a chmod, a link or
    a new file would change."""
    seen = {}
    for name in sorted(os.listdir(directory)):
        st = os.lstat(os.path.join(directory, name))
        content = None
        if stat.S_ISREG(st.st_mode):
            with open(os.path.join(directory, name), "rb") as f:
                content = f.read()
        seen[name] = (st.st_mode, st.st_uid, st.st_nlink, st.st_size, st.st_mtime_ns, content)
    st = os.stat(directory)
    return seen, st.st_mode, st.st_mtime_ns


def host_processes_named(name):
    out = subprocess.run(["ps", "-e", "-o", "pid=,comm="], capture_output=True, text=True,
                         timeout=30).stdout
    return [line for line in out.splitlines() if line.split()[-1] == name]


class Hostile(unittest.TestCase):
    """One server with an API token: one warm C cell and one warm bash cell
    (each job of those languages lands on the cell the one before it used),
    two warm python cells (for jobs at the same time)."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        # a host directory any job could write, were it in sight
        cls.canary = tempfile.mkdtemp(prefix="sandpool-canary-")
        os.chmod(cls.canary, 0o777)
        with open(os.path.join(cls.canary, "canary"), "w") as f:
            f.write("untouched\n")
        os.chmod(os.path.join(cls.canary, "canary"), 0o666)
        cls.canary_before = snapshot(cls.canary)
        cls.server = Server({"pool_total": 0, "pool_sizes": {"c": 1, "bash": 1, "python": 2},
                             "max_limits": {"wall_ms": 120000}}, args=("--token", TOKEN))
        status, health, _ = cls.server.request("GET", "/healthz")
        cls.memory_by_cgroup = health["limits"]["memory_by_cgroup"]

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        try:
            assert code == 0, f"sandpool serve exited {code}"
            assert snapshot(cls.canary) == cls.canary_before, "the host canary changed"
        finally:
            subprocess.run(["rm", "-rf", cls.canary])

    def job(self, language, code, limits=None, files=None, **extra):
        body = {"language": language, **extra}
        if files is not None:
            body["files"] = files
        else:
            body["code"] = code
        if limits:
            body["limits"] = limits
        status, r, _ = self.server.run(body, headers=AUTH)
        self.assertEqual(status, 200, r)
        return r

    def c(self, code, **kw):
        """A C job that must compile."""
        r = self.job("c", code, **kw)
        self.assertEqual(r["compile"]["status"], "ok", r["compile"])
        return r

    def replaced(self):
        status, health, _ = self.server.request("GET", "/healthz")
        return {lang: health["pool"][lang]["replaced"] for lang in ("c", "bash", "python")}

    def assert_canary_untouched(self):
        self.assertEqual(snapshot(self.canary), self.canary_before)

    def assert_c_cell_clean(self):
        r = self.c(AFTER_C)
        self.assertEqual(r["stdout"], AFTER_C_CLEAN, r)

    # ---- escapes ----------------------------------------------------------

    def test_escapes(self):
        r = self.c(f'#define CANARY "{self.canary}"\n' + ESCAPES_C)
        self.assertEqual((r["status"], r["stdout"]), ("ok", ESCAPES_EXPECTED), r["stderr"])

    def test_host_invisible(self):
        """No host path, process, name or network: the mount table shows no
        state directory (nor the server's files or token); pid 1's command line
        is not the server's; the server's own port on 127.0.0.1 is another
        loopback's; nothing outside is reachable, no name resolves."""
        forbidden = [STATE or "/var/lib/sandpool", self.server.dir, self.canary, TOKEN,
                     str(self.server.port)]
        r = self.job("python", f"FORBIDDEN = {forbidden!r}\nPORT = {self.server.port}\n"
                     + LEAKS_PY)
        masked = ["/null"] if any(os.path.exists(f"/proc/{n}") for n in
                                  ("keys", "timer_list", "kallsyms")) else []
        read_only = [f"/{n}" for n in ("sys", "irq", "bus", "fs", "acpi", "scsi")
                     if os.path.isdir(f"/proc/{n}")]
        roots = sorted({"/", *masked, *read_only, "/null", "/zero", "/full", "/random",
                        "/urandom"})
        self.assertEqual(r["stdout"], "\n".join([
            "hostname sandpool sandpool",
            "other processes [1]",
            "pid 1 b'sandpool-cell'",
            "mount roots " + " ".join(roots),
            "server port ECONNREFUSED",
            "outside tcp ENETUNREACH",
            "outside udp ENETUNREACH",
            "dns fails",
            "interfaces lo"]) + "\n", r)

    # ---- privileges -------------------------------------------------------

    def test_privileges(self):
        r = self.c(PRIVILEGES_C)
        if platform.machine() != "x86_64":
            self.skipTest("int 0x80 is x86")
        self.assertEqual((r["status"], r["stdout"]),
                         ("ok", privileges_expected(host_int80_signal())), r)

    def test_setuid_binary_gains_nothing(self):
        r = self.job("python", SETUID_PY)
        self.assertEqual(r["status"], "ok", r)
        setuid, uid, gid, ids = r["stdout"].split(" ", 3)
        self.assertEqual(setuid, "True", "the image's su must be setuid")
        self.assertEqual(ids, f"[{[uid] * 4}, {[gid] * 4}]\n".replace('"', "'"), r)

    # ---- resources --------------------------------------------------------

    def test_bombs_leave_nothing_on_the_cell(self):
        before = self.replaced()
        r = self.c(FORK_BOMB_C, limits={"processes": 16, "wall_ms": 2000})
        self.assertEqual(r["status"], "time_limit", r)
        r = self.c(THREAD_BOMB_C, limits={"processes": 16})
        self.assertEqual(r["status"], "ok", r)
        self.assertTrue(0 < int(r["stdout"]) < 16, r)
        r = self.c(MEMORY_BOMB_C, limits={"memory_kb": 65536, "wall_ms": 60000,
                                          "cpu_ms": 20000})
        if self.memory_by_cgroup:
            self.assertEqual(r["status"], "memory_limit", r)
            self.assertLessEqual(r["run"]["memory_kb"], 65536 + 1024, r)
        else:
            self.assertEqual(r["status"], "runtime_error", r)
            self.assertRegex(r["stdout"], r"^malloc failed at \d+ MiB\n$")
            # RLIMIT_DATA is twice the limit (sandbox/README.md: without a usable cgroup)
            self.assertLess(int(r["stdout"].split()[3]), 128, r)
        self.assert_c_cell_clean()
        self.assertEqual(self.replaced()["c"], before["c"], "the bombs' cell was replaced")

    def test_cpu_of_every_thread_counts(self):
        r = self.c(CPU_THREADS_C, limits={"cpu_ms": 1000, "wall_ms": 100000})
        self.assertEqual(r["status"], "time_limit", r)
        self.assertGreaterEqual(r["run"]["cpu_ms"], 1000, r)
        # stopped by the cpu limit, not by the wall clock
        self.assertLess(r["run"]["wall_ms"], 100000, r)

    def test_stopped_and_sleeping_jobs_end_at_wall_time(self):
        for code in ("kill -STOP $$", "sleep 60", "sleep 60 & kill -STOP $!; wait"):
            with self.subTest(code=code):
                r = self.job("bash", code, limits={"wall_ms": 1000})
                self.assertEqual(r["status"], "time_limit", r)
                self.assertGreaterEqual(r["run"]["wall_ms"], 1000, r)
                self.assertLess(r["run"]["wall_ms"], 5000, r)

    def test_daemon_dies_with_its_job(self):
        name = "spd-" + secrets.token_hex(5)
        r = self.c(f'#define NAME "{name}"\n' + DAEMON_C)
        self.assertEqual((r["status"], r["stdout"]), ("ok", "daemon started\n"), r)
        self.assertEqual(host_processes_named(name), [])
        before = self.replaced()
        self.assert_c_cell_clean()
        self.assertEqual(self.replaced(), before)

    def test_tmpfs_is_capped_and_charged(self):
        check = "ls -A /tmp /dev/shm; head -c 60M /dev/zero > /tmp/x && echo ok"
        before = self.replaced()
        r = self.job("bash", FILL_SH, limits={"memory_kb": 262144, "file_kb": 102400,
                                              "wall_ms": 30000, "cpu_ms": 10000})
        # each of /tmp and /dev/shm holds 64 MiB, and the job's memory all of them
        self.assertEqual(r["stdout"], "/tmp 67108864 No space left on device\n"
                         "/dev/shm 67108864 No space left on device\n", r)
        # the next job, on the same cell, gets all of it again, empty
        r = self.job("bash", check, limits={"file_kb": 65536})
        self.assertEqual(r["stdout"], "/dev/shm:\n\n/tmp:\nok\n", r)
        self.assertEqual(self.replaced(), before)
        r = self.job("bash", FILL_SH, limits={"memory_kb": 32768, "file_kb": 102400,
                                              "wall_ms": 30000, "cpu_ms": 10000})
        if self.memory_by_cgroup:
            # tmpfs pages count against the job's memory (the OOM killer may
            # choose the cell's init: the cell is then replaced)
            self.assertEqual(r["status"], "memory_limit", r)
        r = self.job("bash", check, limits={"file_kb": 65536})
        self.assertEqual(r["stdout"], "/dev/shm:\n\n/tmp:\nok\n", r)

    def test_file_size_and_open_files(self):
        r = self.job("python", FILE_LIMITS_PY, limits={"file_kb": 1024, "open_files": 64})
        self.assertEqual(r["stdout"], "write EFBIG 1048576\nopen EMFILE 64 (64, 64)\n"
                         "raise refused\n", r)

    def test_output_flood(self):
        """Output far beyond the limit on both streams: cut at the limit, and the
        server keeps no more than that."""
        pid = self.server.proc.pid
        peak = proc_status(pid, "VmHWM")
        for _ in range(3):
            r = self.job("bash", "yes >&2 & yes | head -c 3G",
                         limits={"output_kb": 1024, "wall_ms": 20000})
            self.assertEqual(r["status"], "output_limit", r["status"])
            self.assertTrue(r["run"]["truncated"])
            self.assertEqual(len(r["stdout"]) + len(r["stderr"]), 1 << 20)
            self.assertEqual(set(r["stdout"].split("\n")) | set(r["stderr"].split("\n")),
                             {"y", ""})
        self.assertLess(proc_status(pid, "VmHWM") - peak, 32 * 1024,
                        "the server's memory must stay bounded")

    def test_compile_reading_an_endless_file(self):
        r = self.job("c", '#include "/dev/zero"\nint main(void) { return 0; }',
                     compile_limits={"memory_kb": 131072, "wall_ms": 10000})
        self.assertIsNone(r["run"], r)
        self.assertIn(r["status"], ("memory_limit", "time_limit") if self.memory_by_cgroup
                      else ("compile_error", "time_limit"), r)
        self.assert_c_cell_clean()

    # ---- leaks between jobs -----------------------------------------------

    def test_concurrent_jobs_share_nothing(self):
        """Two python jobs at once, in the two python cells: the second sees
        none of the first's files, socket or SysV memory, and takes the lock
        the first holds on the same file of the same image (each cell's root
        is its own overlay): no lock to signal by."""
        status, view, _ = self.server.request(
            "POST", "/api/v1/jobs", {"language": "python", "code": "HOLD = 5\n" + HOLDER_PY,
                                     "limits": {"wall_ms": 60000}}, headers=AUTH)
        self.assertEqual(status, 202, view)
        status, view = wait_state_auth(self.server, view["id"], ("running", "done"))
        probe = self.job("python", "PROBE = 8\n" + PROBER_PY,
                         limits={"wall_ms": 60000, "cpu_ms": 20000})
        status, view = wait_state_auth(self.server, view["id"], ("done",))
        holder = view["result"]
        self.assertEqual(holder["status"], "ok", holder)
        shm, holding, released = holder["stdout"].splitlines()
        self.assertEqual(shm, "shm True", holder)
        holding, released = float(holding.split()[1]), float(released.split()[1])
        self.assertEqual(probe["status"], "ok", probe)
        seen, locks = probe["stdout"].splitlines()
        self.assertEqual(seen, "['main.py']", probe)
        # some of the prober's locks were taken while the holder held the same
        self.assertTrue(any(holding < float(t) < released for t in locks.split()),
                        (holding, released, locks))

    # ---- links planted where sandpool writes ------------------------------

    def test_links_planted_for_the_next_job(self):
        before = self.replaced()
        r = self.job("bash", f"CANARY={self.canary}\n" + PLANT_SH, limits={"wall_ms": 20000})
        self.assertEqual(r["stdout"], "planted\n", r)
        files = [{"name": "main.sh", "content": AFTER_PLANT_SH},
                 {"name": "sub/data.txt", "content": "data\n"},
                 {"name": "input.txt", "content": "input\n"}]
        r = self.job("bash", None, files=files)
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["stdout"],
                         "data\ninput\n/box:\ninput.txt\nmain.sh\nsub\n\n/box/sub:\ndata.txt\n\n"
                         "/dev/shm:\n\n/tmp:\n"
                         "/box directory 755\n/box/main.sh regular file 644\n"
                         "/box/sub directory 755\n/box/sub/data.txt regular file 644\n"
                         "/box/input.txt regular file 644\n/tmp directory 1777\n"
                         "/dev/shm directory 1777\n", r)
        # on the same cell, not on a fresh one that replaced it
        self.assertEqual(self.replaced(), before)
        self.assert_canary_untouched()

    def test_links_planted_between_compile_and_run(self):
        before = self.replaced()
        r = self.c(f'#define CANARY "{self.canary}"\n' + PLANT_C)
        self.assertEqual((r["status"], r["stdout"]), ("ok", "planted\n"), r)
        r = self.c(None, files=[{"name": "main.c", "content": HELPER_MAIN_C},
                                {"name": "sub/helper.h", "content": '#define GREETING "hi"\n'}])
        self.assertEqual((r["status"], r["stdout"]), ("ok", "hi\n"), r)
        self.assert_c_cell_clean()
        self.assertEqual(self.replaced(), before)
        self.assert_canary_untouched()


class LargeOutput(unittest.TestCase):
    """A job that fills a large output limit: the server holds its output and
    its answer in about twice the output kept, not once per copy made on the
    way out (the answer, whose output appears twice, is written in chunks)."""

    def test_answer_memory_stays_near_the_output_kept(self):
        server = Server({"pool_total": 0, "pool_sizes": {"bash": 1}})
        try:
            peak = proc_status(server.proc.pid, "VmHWM")
            status, r, _ = server.run({"language": "bash", "code": "yes",
                                       "limits": {"output_kb": 16384, "wall_ms": 60000}})
            grown = proc_status(server.proc.pid, "VmHWM") - peak
        finally:
            server.stop()
        self.assertEqual((status, r["status"]), (200, "output_limit"), r["status"])
        self.assertEqual(len(r["stdout"]), 16 << 20)
        self.assertTrue(r["run"]["stdout"] == r["stdout"], "the two copies differ")
        self.assertLess(grown, 3 * 16384, "the server's peak grew by more than 3x the output")


def wait_state_auth(server, job_id, states, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        status, view, _ = server.request("GET", f"/api/v1/jobs/{job_id}", headers=AUTH)
        if status != 200 or view["state"] in states or time.monotonic() > deadline:
            return status, view
        time.sleep(0.05)


if __name__ == "__main__":
    unittest.main()
