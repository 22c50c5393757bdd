/* Tries the system calls a job must not have. Prints one line per call and
 * exits 0 only when every one was refused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int allowed;

static void report(const char *name, long rc)
{
	if (rc < 0) {
		printf("%s: refused (%s)\n", name, strerror(errno));
	} else {
		printf("%s: ALLOWED\n", name);
		allowed++;
	}
}

static long try_clone_newns(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long try_perf(void)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE, .size = sizeof(attr), .config = PERF_COUNT_SW_CPU_CLOCK};

	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static long try_bpf(void)
{
	union bpf_attr attr = {
	    .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1};

	return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

static long try_io_uring(void)
{
	struct io_uring_params p = {0};

	return syscall(SYS_io_uring_setup, 4, &p);
}

static long try_tiocsti(void)
{
	char c = 'x';

	return ioctl(0, TIOCSTI, &c);
}

int main(void)
{
	report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
	report("umount2", umount2("/proc", MNT_DETACH));
	report("unshare-user", unshare(CLONE_NEWUSER));
	report("unshare-mount", unshare(CLONE_NEWNS));
	report("clone-newnet", try_clone_newns());
	report("setns", syscall(SYS_setns, open("/proc/self/ns/net", O_RDONLY), 0));
	report("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
	report("keyctl", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "x"));
	report("add_key", syscall(SYS_add_key, "user", "k", "v", 1, KEY_SPEC_PROCESS_KEYRING));
	report("bpf", try_bpf());
	report("perf_event_open", try_perf());
	report("io_uring_setup", try_io_uring());
	report("userfaultfd", syscall(SYS_userfaultfd, 0));
	report("chroot", chroot("/tmp"));
	report("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
	report("socket-packet", socket(AF_PACKET, SOCK_RAW, 0));
	report("socket-raw", socket(AF_INET, SOCK_RAW, 1));
	report("socket-vsock", socket(40 /* AF_VSOCK */, SOCK_STREAM, 0));
	report("socket-alg", socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0));
	report("tiocsti", try_tiocsti());
	report("process_vm_readv", syscall(SYS_process_vm_readv, 1, NULL, 0, NULL, 0, 0));
	report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
	report("mknod", mknod("/tmp/null", S_IFCHR | 0666, makedev(1, 3)));
	report("sethostname", sethostname("evil", 4));
	printf("%d allowed\n", allowed);
	return allowed == 0 ? 0 : 1;
}
