/* Unit tests for sandbox/seccomp.c: policies compile, bad ones are refused
 * with a message naming the field, and loaded filters behave as the policy
 * says. Filters are loaded for real, each in a forked child after
 * PR_SET_NO_NEW_PRIVS. A small classic-BPF interpreter checks the verdicts
 * for foreign ABIs, which not every kernel lets a process reach, and holds
 * the program with the always allowed syscalls in front to the verdicts of
 * the one libseccomp compiles alone, call by call.
 *
 * The policies are read from $SANDPOOL_POLICY_DIR, "policies" by default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_ranges.h"

/* Exit codes of a child that could not run its check. */
#define CHILD_BROKEN	 200
#define CHILD_NO_FILTER	 201
#define BPF_BAD		 0xdeadbeefU
#define X32_SYSCALL_BIT	 0x40000000
#define I386_NR_GETPID	 20
#define NOWHERE		 "/proc/self/sandpool-nowhere"
#define ADDR_NO_RANDOM	 0x0040000
#define PERSONA_QUERY	 0xffffffffUL
#define REQ_HIGH_TIOCSTI 0x100005412UL

struct call_case {
	const char *name;
	int (*call)(void);
	int expected; /* errno, or 0 when the call must succeed */
};

struct bad_policy {
	const char *json;
	const char *message; /* a part of the error message */
};

static int outcome(long rc)
{
	return rc < 0 ? errno : 0;
}

/* ---- helpers for the parent ---- */

static void policy_path(char *buf, size_t size, const char *name)
{
	const char *dir = getenv("SANDPOOL_POLICY_DIR");

	snprintf(buf, size, "%s/%s", dir != NULL && dir[0] != '\0' ? dir : "policies", name);
}

static void compile_or_fail(const char *json, struct sp_seccomp_program *prog)
{
	struct sp_error err = {0};
	char buf[1024];

	if (sp_seccomp_compile_json(json, prog, &err) < 0)
		fail_msg("compile: %s", sp_error_describe(&err, buf, sizeof(buf)));
	assert_non_null(prog->filter);
	assert_true(prog->len > 0);
}

/* cmocka catches SIGSEGV, SIGSYS and others to report a failed test: a child
 * must die of them instead, and never go back into the test runner. */
static void child_reset_signals(void)
{
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

/* Fork; the child sets no_new_privs, loads prog and exits with fn()'s value.
 * Returns the child's wait status. */
static int run_filtered(const struct sp_seccomp_program *prog, int (*fn)(void))
{
	struct sp_error err;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_reset_signals();
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(CHILD_NO_FILTER);
		if (sp_seccomp_apply_in_child(prog, &err) < 0)
			_exit(CHILD_NO_FILTER);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_NO_FILTER)
		snprintf(buf, size, "the filter could not be loaded");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_BROKEN)
		snprintf(buf, size, "the check could not be set up");
	else if (WIFEXITED(status))
		snprintf(buf, size, "%s (%d)",
			 WEXITSTATUS(status) ? strerror(WEXITSTATUS(status)) : "success",
			 WEXITSTATUS(status));
	else
		snprintf(buf, size, "signal %d", WTERMSIG(status));
}

static void run_cases(const struct sp_seccomp_program *prog, const struct call_case *cases,
		      size_t n)
{
	char got[128];
	int failures = 0;
	int status;
	size_t i;

	for (i = 0; i < n; i++) {
		status = run_filtered(prog, cases[i].call);
		if (WIFEXITED(status) && WEXITSTATUS(status) == cases[i].expected)
			continue;
		describe_status(status, got, sizeof(got));
		print_error("%s: expected %s (%d), got %s\n", cases[i].name,
			    cases[i].expected ? strerror(cases[i].expected) : "success",
			    cases[i].expected, got);
		failures++;
	}
	assert_int_equal(failures, 0);
}

static void assert_killed_by_sigsys(int status)
{
	char got[128];

	describe_status(status, got, sizeof(got));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("expected death by SIGSYS, got %s", got);
}

/* The few classic BPF instructions libseccomp emits, run as the kernel would
 * on data. Returns the SECCOMP_RET_* value, or BPF_BAD. */
static uint32_t bpf_run(const struct sp_seccomp_program *prog, const struct seccomp_data *data)
{
	const struct sock_filter *insn;
	unsigned int pc = 0;
	uint32_t a = 0;

	while (pc < prog->len) {
		insn = &prog->filter[pc++];
		switch (insn->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (insn->k % 4 != 0 || insn->k > sizeof(*data) - 4)
				return BPF_BAD;
			memcpy(&a, (const char *)data + insn->k, sizeof(a));
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= insn->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += insn->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == insn->k ? insn->jt : insn->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > insn->k ? insn->jt : insn->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= insn->k ? insn->jt : insn->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & insn->k) != 0 ? insn->jt : insn->jf;
			break;
		case BPF_RET | BPF_K:
			return insn->k;
		case BPF_RET | BPF_A:
			return a;
		default:
			return BPF_BAD;
		}
	}
	return BPF_BAD;
}

static uint32_t verdict(const struct sp_seccomp_program *prog, uint32_t arch, int nr, uint64_t a0,
			uint64_t a1)
{
	struct seccomp_data data = {.nr = nr, .arch = arch};

	data.args[0] = a0;
	data.args[1] = a1;
	return bpf_run(prog, &data);
}

/* ---- calls made in the filtered child ---- */

static int socket_outcome(int domain, int type, int protocol)
{
	int fd = socket(domain, type, protocol);
	int rc = outcome(fd);

	if (fd >= 0)
		close(fd);
	return rc;
}

static int clone_outcome(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0UL, NULL, NULL, 0UL);
	int rc = outcome(pid);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return rc;
}

/* An ioctl on a pipe: the kernel answers ENOTTY to a tty request the filter let through. */
static int ioctl_outcome(unsigned long request)
{
	int fds[2];
	char c = 'x';
	int rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return CHILD_BROKEN;
	rc = outcome(syscall(SYS_ioctl, fds[0], request, &c));
	close(fds[0]);
	close(fds[1]);
	return rc;
}

static int call_unshare_user(void)
{
	return outcome(unshare(CLONE_NEWUSER));
}

static int call_unshare_net(void)
{
	return outcome(unshare(CLONE_NEWNET));
}

static int call_setns(void)
{
	return outcome(setns(-1, 0));
}

static int call_mount(void)
{
	return outcome(mount("none", NOWHERE, "tmpfs", 0, NULL));
}

static int call_umount2(void)
{
	return outcome(umount2(NOWHERE, 0));
}

static int call_chroot(void)
{
	return outcome(chroot(NOWHERE));
}

static int call_pivot_root(void)
{
	return outcome(syscall(SYS_pivot_root, NOWHERE, NOWHERE));
}

static int call_fsopen(void)
{
	return outcome(syscall(SYS_fsopen, "tmpfs", 0UL));
}

static int call_keyctl(void)
{
	/* KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING, without creating it */
	return outcome(syscall(SYS_keyctl, 0L, -3L, 0L));
}

static int call_add_key(void)
{
	return outcome(syscall(SYS_add_key, NULL, NULL, NULL, 0UL, 0L));
}

static int call_bpf(void)
{
	return outcome(syscall(SYS_bpf, -1L, NULL, 0UL));
}

static int call_io_uring_setup(void)
{
	return outcome(syscall(SYS_io_uring_setup, 1UL, NULL));
}

static int call_perf_event_open(void)
{
	return outcome(syscall(SYS_perf_event_open, NULL, 0L, -1L, -1L, 0UL));
}

static int call_ptrace_traceme(void)
{
	return outcome(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

static int call_process_vm_readv(void)
{
	return outcome(syscall(SYS_process_vm_readv, (long)getppid(), NULL, 0UL, NULL, 0UL, 0UL));
}

static int call_userfaultfd(void)
{
	return outcome(syscall(SYS_userfaultfd, (long)O_CLOEXEC));
}

static int call_clone_newnet(void)
{
	return clone_outcome(CLONE_NEWNET);
}

static int call_clone_newuser(void)
{
	return clone_outcome(CLONE_NEWUSER);
}

static int call_clone_newns_newpid(void)
{
	return clone_outcome(CLONE_NEWNS | CLONE_NEWPID);
}

static int call_clone3(void)
{
	return outcome(syscall(SYS_clone3, NULL, 0UL));
}

static int call_socket_packet(void)
{
	return socket_outcome(AF_PACKET, SOCK_RAW, 0);
}

static int call_socket_vsock(void)
{
	return socket_outcome(AF_VSOCK, SOCK_STREAM, 0);
}

static int call_socket_alg(void)
{
	return socket_outcome(AF_ALG, SOCK_SEQPACKET, 0);
}

static int call_socket_inet_raw(void)
{
	return socket_outcome(AF_INET, SOCK_RAW, IPPROTO_ICMP);
}

static int call_socket_inet_raw_cloexec(void)
{
	return socket_outcome(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
}

static int call_socket_inet6_raw(void)
{
	return socket_outcome(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
}

static int call_socket_key(void)
{
	return socket_outcome(AF_KEY, SOCK_RAW, 2);
}

static int call_ioctl_tiocsti(void)
{
	return ioctl_outcome(TIOCSTI);
}

static int call_ioctl_tiocsti_high_bits(void)
{
	return ioctl_outcome(REQ_HIGH_TIOCSTI);
}

static int call_ioctl_tioclinux(void)
{
	return ioctl_outcome(TIOCLINUX);
}

static int call_open_by_handle_at(void)
{
	return outcome(syscall(SYS_open_by_handle_at, (long)AT_FDCWD, NULL, 0L));
}

static int call_name_to_handle_at(void)
{
	return outcome(syscall(SYS_name_to_handle_at, (long)AT_FDCWD, "/", NULL, NULL, 0L));
}

static int call_set_mempolicy(void)
{
	return outcome(syscall(SYS_set_mempolicy, 0L, NULL, 0UL));
}

static int call_personality_no_random(void)
{
	return outcome(syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOM));
}

static int call_clock_settime(void)
{
	return outcome(syscall(SYS_clock_settime, 0L, NULL));
}

static int call_delete_module(void)
{
	return outcome(syscall(SYS_delete_module, "sandpool_nowhere", (long)O_NONBLOCK));
}

static int call_getpid(void)
{
	return outcome(syscall(SYS_getpid));
}

static int call_pipe_write(void)
{
	int fds[2];
	int rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return errno;
	rc = write(fds[1], "x", 1) == 1 ? 0 : CHILD_BROKEN;
	close(fds[0]);
	close(fds[1]);
	return rc;
}

static int call_socket_unix(void)
{
	return socket_outcome(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int call_socketpair_unix(void)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) < 0)
		return errno;
	close(fds[0]);
	close(fds[1]);
	return 0;
}

static int call_socket_inet_stream(void)
{
	return socket_outcome(AF_INET, SOCK_STREAM, 0);
}

static int call_socket_inet_stream_flags(void)
{
	return socket_outcome(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
}

static int call_socket_inet_dgram(void)
{
	return socket_outcome(AF_INET, SOCK_DGRAM, 0);
}

static int call_socket_inet6_stream(void)
{
	int rc = socket_outcome(AF_INET6, SOCK_STREAM, 0);

	return rc == EAFNOSUPPORT ? 0 : rc; /* a kernel without IPv6 */
}

static int call_socket_netlink_route(void)
{
	return socket_outcome(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
}

static int call_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(7);
	if (waitpid(pid, &status, 0) != pid)
		return CHILD_BROKEN;
	return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : CHILD_BROKEN;
}

static void *thread_main(void *arg)
{
	return arg;
}

/* glibc tries clone3 first and falls back to clone on ENOSYS. */
static int call_pthread_create(void)
{
	int token = 0;
	pthread_t thread;
	void *ret = NULL;
	int rc;

	rc = pthread_create(&thread, NULL, thread_main, &token);
	if (rc != 0)
		return rc;
	if (pthread_join(thread, &ret) != 0)
		return CHILD_BROKEN;
	return ret == &token ? 0 : CHILD_BROKEN;
}

static int call_execve(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return errno;
}

static int call_ioctl_fionread(void)
{
	return ioctl_outcome(FIONREAD);
}

static int call_ioctl_fioclex(void)
{
	return ioctl_outcome(FIOCLEX);
}

static int call_ioctl_tiocgwinsz(void)
{
	return ioctl_outcome(TIOCGWINSZ);
}

static int call_ioctl_tiocoutq(void)
{
	return ioctl_outcome(TIOCOUTQ); /* just below TIOCSTI */
}

static int call_ioctl_sign_extended(void)
{
	/* TIOCGPTN passed through an int, as musl does */
	return ioctl_outcome((unsigned long)(long)(int)TIOCGPTN);
}

static int call_personality_query(void)
{
	return outcome(syscall(SYS_personality, PERSONA_QUERY));
}

static int call_prlimit(void)
{
	struct rlimit old;

	return outcome(syscall(SYS_prlimit64, 0L, (long)RLIMIT_NOFILE, NULL, &old));
}

static int call_memfd_create(void)
{
	long fd = syscall(SYS_memfd_create, "t", 1UL /* MFD_CLOEXEC */);
	int rc = outcome(fd);

	if (fd >= 0)
		close((int)fd);
	return rc;
}

static int call_getrandom(void)
{
	char buf[8];

	return outcome(syscall(SYS_getrandom, buf, sizeof(buf), 0UL));
}

static int call_getppid(void)
{
	return outcome(syscall(SYS_getppid));
}

static int call_x32_getpid(void)
{
	return outcome(syscall(X32_SYSCALL_BIT | SYS_getpid));
}

#if defined(__x86_64__)
static int call_int80_getpid(void)
{
	long rc;

	__asm__ volatile("int $0x80" : "=a"(rc) : "a"((long)I386_NR_GETPID) : "memory");
	return rc > 0 ? 0 : CHILD_BROKEN;
}
#else
static int call_int80_getpid(void)
{
	return CHILD_BROKEN;
}
#endif

/* The foreign-ABI checks are written for an x86_64 host. */
static void skip_unless_x86_64(void)
{
#if !defined(__x86_64__)
	skip();
#endif
}

/* Arguments that the policies' conditions tell apart: namespace flags of
 * clone, socket families, ioctl requests, personalities, the edges. */
static const uint64_t probe_args[] = {0,
				      1,
				      2,
				      3,
				      10,
				      16,
				      17,
				      0x10,
				      0x20000,
				      0x7e020000,
				      0x10000000,
				      0x5412,
				      0x541c,
				      FIONREAD,
				      REQ_HIGH_TIOCSTI,
				      0x0008,
				      0x20008,
				      ADDR_NO_RANDOM,
				      PERSONA_QUERY,
				      0xffffffffULL,
				      0x100000000ULL,
				      UINT64_MAX};

/* Every call (the numbers below 1024, x32's, some beyond, through the native
 * ABI and foreign ones, with the arguments above as its first two) gets from
 * the ranged program of JSON the verdict the plain one gives it. */
static void assert_same_verdicts(const char *json)
{
	static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64,
					  0};
	struct sp_seccomp_program ranged = {0}, plain = {0};
	struct sp_error err = {0};
	char buf[1024];
	int nrs[1024 + 64 + 4];
	size_t n = 0;

	if (sp_seccomp_compile_json(json, &ranged, &err) < 0 ||
	    sp_seccomp_compile_json_plain(json, &plain, &err) < 0)
		fail_msg("compile: %s", sp_error_describe(&err, buf, sizeof(buf)));
	for (int nr = 0; nr < 1024; nr++)
		nrs[n++] = nr;
	for (int nr = 0; nr < 64; nr++)
		nrs[n++] = X32_SYSCALL_BIT | nr * 9;
	nrs[n++] = -1;
	nrs[n++] = 0x3fffffff;
	nrs[n++] = 0x7fffffff;
	nrs[n++] = (int)0x80000000U;
	for (size_t a = 0; a < SP_ARRAY_SIZE(arches); a++)
		for (size_t i = 0; i < n; i++)
			for (size_t x = 0; x < SP_ARRAY_SIZE(probe_args); x++)
				for (size_t y = 0; y < SP_ARRAY_SIZE(probe_args); y++) {
					uint32_t want = verdict(&plain, arches[a], nrs[i],
								probe_args[x], probe_args[y]);
					uint32_t got = verdict(&ranged, arches[a], nrs[i],
							       probe_args[x], probe_args[y]);

					if (got != want || want == BPF_BAD)
						fail_msg("arch %#x nr %d args %#llx %#llx: "
							 "%#x, not %#x",
							 arches[a], nrs[i],
							 (unsigned long long)probe_args[x],
							 (unsigned long long)probe_args[y], got,
							 want);
				}
	sp_seccomp_program_free(&ranged);
	sp_seccomp_program_free(&plain);
}

static void test_ranged_program_gives_the_plain_verdicts(void **state)
{
	char path[4096];
	char *text;
	size_t len = 0;
	FILE *f;
	struct sp_seccomp_program *prog = *state, plain = {0};
	struct sp_error err = {0};

	skip_unless_x86_64();
	policy_path(path, sizeof(path), "default.json");
	f = fopen(path, "r");
	assert_non_null(f);
	text = calloc(1, 1 << 20);
	assert_non_null(text);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0);
	assert_same_verdicts(text);
	/* and it is shorter: what it is for */
	assert_int_equal(sp_seccomp_compile_json_plain(text, &plain, &err), 0);
	assert_true(prog->len < plain.len);
	sp_seccomp_program_free(&plain);
	free(text);
	/* errno and kill defaults, runs at 0 and at the top, a conditional rule */
	assert_same_verdicts("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
			     "{\"names\": [\"read\", \"write\", \"open\", \"close\", \"getpid\"],"
			     " \"action\": \"SCMP_ACT_ALLOW\"},"
			     "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","
			     " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]},"
			     "{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\","
			     " \"errnoRet\": 13}]}");
	assert_same_verdicts("{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", \"syscalls\": ["
			     "{\"names\": [\"read\", \"process_madvise\", \"exit_group\"],"
			     " \"action\": \"SCMP_ACT_ALLOW\"}]}");
	/* a compat ABI filtered too: no search, the same verdicts */
	assert_same_verdicts("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
			     " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
			     " \"syscalls\": [{\"names\": [\"read\", \"getpid\"],"
			     " \"action\": \"SCMP_ACT_ALLOW\"}]}");
	assert_same_verdicts("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			     "{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
}

/* The search alone for NRS (below 4096), in front of a program that
 * answers TAIL: those numbers allowed through x86_64, every other call
 * handed on; or, past 250 instructions of search, the program unchanged.
 * What to expect is worked out here from NRS, not by the code under test. */
static void assert_search(const int *nrs, size_t n)
{
	static const struct sock_filter tail = BPF_STMT(BPF_RET | BPF_K, 0x5eed);
	struct sp_seccomp_program prog = {0};
	struct sp_error err = {0};
	bool member[4096] = {false};
	size_t runs = 0, expect_len;
	bool searched;

	for (size_t i = 0; i < n; i++)
		member[nrs[i]] = true;
	for (int nr = 0; nr < 4096; nr++)
		runs += member[nr] && (nr == 0 || !member[nr - 1]);
	/* load the ABI, check it, load the number; a jump per bound; allow */
	searched = 3 + 2 * runs + 1 <= 250;
	expect_len = searched ? 3 + 2 * runs + 1 + 1 : 1;
	prog.filter = malloc(sizeof(tail));
	assert_non_null(prog.filter);
	prog.filter[0] = tail;
	prog.len = 1;
	assert_int_equal(
	    sp_seccomp_ranges_prepend(&prog.filter, &prog.len, AUDIT_ARCH_X86_64, nrs, n, &err), 0);
	assert_int_equal(prog.len, expect_len);
	for (int nr = 0; nr < 4096; nr++) {
		assert_int_equal(verdict(&prog, AUDIT_ARCH_X86_64, nr, 0, 0),
				 searched && member[nr] ? SECCOMP_RET_ALLOW : 0x5eed);
		assert_int_equal(verdict(&prog, AUDIT_ARCH_I386, nr, 0, 0), 0x5eed);
	}
	assert_int_equal(verdict(&prog, AUDIT_ARCH_X86_64, -1, 0, 0), 0x5eed);
	assert_int_equal(verdict(&prog, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, 0, 0), 0x5eed);
	sp_seccomp_program_free(&prog);
}

static void test_ranges_search_allows_its_numbers_only(void **state)
{
	static const int one[] = {0};
	/* unsorted, a duplicate, runs of one and of three, at 0 and at the top */
	static const int edges[] = {4095, 7, 0, 7, 8, 9, 4094, 100, 102};
	int many[2000], spread[200];
	unsigned seed = 20261208;

	(void)state;
	assert_search(one, 1);
	assert_search(edges, SP_ARRAY_SIZE(edges));
	for (size_t i = 0; i < SP_ARRAY_SIZE(many); i++)
		many[i] = (int)(i % 1000) + 1000;
	assert_search(many, SP_ARRAY_SIZE(many));
	/* random runs, of one to four numbers, up to 40 apart */
	for (int round = 0; round < 50; round++) {
		size_t n = 0;
		int nr = 0;

		while (n < SP_ARRAY_SIZE(spread)) {
			nr += 1 + (int)(rand_r(&seed) % 40);
			if (nr >= 4096)
				break;
			for (int len = (int)(rand_r(&seed) % 4);
			     len >= 0 && nr < 4096 && n < SP_ARRAY_SIZE(spread); len--)
				spread[n++] = nr++;
		}
		assert_search(spread, n);
	}
	/* 200 runs of one: too many */
	for (size_t i = 0; i < SP_ARRAY_SIZE(spread); i++)
		spread[i] = (int)i * 2;
	assert_search(spread, SP_ARRAY_SIZE(spread));
}

/* ---- tests ---- */

static int group_setup(void **state)
{
	struct sp_seccomp_program *prog = calloc(1, sizeof(*prog));
	struct sp_error err = {0};
	char path[4096];
	char buf[1024];

	if (prog == NULL)
		return -1;
	policy_path(path, sizeof(path), "default.json");
	if (sp_seccomp_compile_file(path, prog, &err) < 0) {
		print_error("%s\n", sp_error_describe(&err, buf, sizeof(buf)));
		free(prog);
		return -1;
	}
	*state = prog;
	return 0;
}

static int group_teardown(void **state)
{
	sp_seccomp_program_free(*state);
	free(*state);
	return 0;
}

static void test_default_policy_compiles(void **state)
{
	struct sp_seccomp_program *prog = *state;

	assert_non_null(prog->filter);
	assert_in_range(prog->len, 2, BPF_MAXINSNS);
}

static void test_default_policy_refuses(void **state)
{
	static const struct call_case cases[] = {
	    {"unshare(CLONE_NEWUSER)", call_unshare_user, EPERM},
	    {"unshare(CLONE_NEWNET)", call_unshare_net, EPERM},
	    {"setns", call_setns, EPERM},
	    {"mount", call_mount, EPERM},
	    {"umount2", call_umount2, EPERM},
	    {"chroot", call_chroot, EPERM},
	    {"pivot_root", call_pivot_root, EPERM},
	    {"fsopen", call_fsopen, EPERM},
	    {"keyctl", call_keyctl, EPERM},
	    {"add_key", call_add_key, EPERM},
	    {"bpf", call_bpf, EPERM},
	    {"io_uring_setup", call_io_uring_setup, EPERM},
	    {"perf_event_open", call_perf_event_open, EPERM},
	    {"ptrace(PTRACE_TRACEME)", call_ptrace_traceme, EPERM},
	    {"process_vm_readv", call_process_vm_readv, EPERM},
	    {"userfaultfd", call_userfaultfd, EPERM},
	    {"clone(CLONE_NEWNET)", call_clone_newnet, EPERM},
	    {"clone(CLONE_NEWUSER)", call_clone_newuser, EPERM},
	    {"clone(CLONE_NEWNS|CLONE_NEWPID)", call_clone_newns_newpid, EPERM},
	    {"clone3", call_clone3, ENOSYS},
	    {"socket(AF_PACKET)", call_socket_packet, EPERM},
	    {"socket(AF_VSOCK)", call_socket_vsock, EPERM},
	    {"socket(AF_ALG)", call_socket_alg, EPERM},
	    {"socket(AF_INET, SOCK_RAW)", call_socket_inet_raw, EPERM},
	    {"socket(AF_INET, SOCK_RAW|SOCK_CLOEXEC)", call_socket_inet_raw_cloexec, EPERM},
	    {"socket(AF_INET6, SOCK_RAW)", call_socket_inet6_raw, EPERM},
	    {"socket(AF_KEY)", call_socket_key, ENOSYS},
	    {"ioctl(TIOCSTI)", call_ioctl_tiocsti, EPERM},
	    {"ioctl(TIOCSTI | 1 << 32)", call_ioctl_tiocsti_high_bits, EPERM},
	    {"ioctl(TIOCLINUX)", call_ioctl_tioclinux, EPERM},
	    {"open_by_handle_at", call_open_by_handle_at, EPERM},
	    {"name_to_handle_at", call_name_to_handle_at, EPERM},
	    {"set_mempolicy", call_set_mempolicy, EPERM},
	    {"personality(ADDR_NO_RANDOMIZE)", call_personality_no_random, ENOSYS},
	    {"clock_settime", call_clock_settime, EPERM},
	    {"delete_module", call_delete_module, EPERM},
	};

	run_cases(*state, cases, SP_ARRAY_SIZE(cases));
}

static void test_default_policy_allows(void **state)
{
	static const struct call_case cases[] = {
	    {"getpid", call_getpid, 0},
	    {"write to a pipe", call_pipe_write, 0},
	    {"socket(AF_UNIX)", call_socket_unix, 0},
	    {"socketpair(AF_UNIX)", call_socketpair_unix, 0},
	    {"socket(AF_INET, SOCK_STREAM)", call_socket_inet_stream, 0},
	    {"socket(AF_INET, SOCK_STREAM|flags)", call_socket_inet_stream_flags, 0},
	    {"socket(AF_INET, SOCK_DGRAM)", call_socket_inet_dgram, 0},
	    {"socket(AF_INET6, SOCK_STREAM)", call_socket_inet6_stream, 0},
	    {"socket(AF_NETLINK, NETLINK_ROUTE)", call_socket_netlink_route, 0},
	    {"fork", call_fork, 0},
	    {"pthread_create", call_pthread_create, 0},
	    {"execve(/bin/true)", call_execve, 0},
	    {"ioctl(FIONREAD)", call_ioctl_fionread, 0},
	    {"ioctl(FIOCLEX)", call_ioctl_fioclex, 0},
	    {"ioctl(TIOCGWINSZ) on a pipe", call_ioctl_tiocgwinsz, ENOTTY},
	    {"ioctl(TIOCOUTQ) on a pipe", call_ioctl_tiocoutq, ENOTTY},
	    {"ioctl(sign-extended TIOCGPTN) on a pipe", call_ioctl_sign_extended, ENOTTY},
	    {"personality(0xffffffff)", call_personality_query, 0},
	    {"prlimit64", call_prlimit, 0},
	    {"memfd_create", call_memfd_create, 0},
	    {"getrandom", call_getrandom, 0},
	};

	run_cases(*state, cases, SP_ARRAY_SIZE(cases));
}

/* The i386 ABI through int $0x80, where the kernel offers it. */
static void test_int80_dies_with_sigsys(void **state)
{
	struct sp_seccomp_program allow_all = {0};
	int status;
	pid_t pid;

	skip_unless_x86_64();

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_reset_signals();
		_exit(call_int80_getpid());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_message("int $0x80 does not work on this kernel even without a filter; "
			      "test_foreign_abi_verdicts covers the filter\n");
		skip();
	}
	assert_killed_by_sigsys(run_filtered(*state, call_int80_getpid));
	/* whatever the policy: the bad-architecture action is not the default action */
	compile_or_fail("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", &allow_all);
	assert_killed_by_sigsys(run_filtered(&allow_all, call_int80_getpid));
	sp_seccomp_program_free(&allow_all);
}

static void test_x32_dies_with_sigsys(void **state)
{
	skip_unless_x86_64();
	assert_killed_by_sigsys(run_filtered(*state, call_x32_getpid));
}

/* What the filter answers for ABIs a process here may not be able to use. */
static void test_foreign_abi_verdicts(void **state)
{
	struct sp_seccomp_program *prog = *state;
	struct sp_seccomp_program with_i386 = {0};

	skip_unless_x86_64();

	assert_int_equal(verdict(prog, AUDIT_ARCH_X86_64, SYS_getpid, 0, 0), SECCOMP_RET_ALLOW);
	assert_int_equal(verdict(prog, AUDIT_ARCH_I386, I386_NR_GETPID, 0, 0),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(prog, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | SYS_getpid, 0, 0),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(prog, AUDIT_ARCH_X86_64, SYS_ioctl, 0, REQ_HIGH_TIOCSTI),
			 SECCOMP_RET_ERRNO | EPERM);
	assert_int_equal(verdict(prog, AUDIT_ARCH_X86_64, SYS_ioctl, 0, FIONREAD),
			 SECCOMP_RET_ALLOW);
	/* a compat ABI named in "architectures" is filtered, not killed */
	compile_or_fail("{\"defaultAction\": \"SCMP_ACT_ALLOW\", "
			"\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"]}",
			&with_i386);
	assert_int_equal(verdict(&with_i386, AUDIT_ARCH_I386, I386_NR_GETPID, 0, 0),
			 SECCOMP_RET_ALLOW);
	sp_seccomp_program_free(&with_i386);
}

static void test_kill_process_rule(void **state)
{
	struct sp_seccomp_program prog = {0};

	(void)state;
	compile_or_fail("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
			"[\"getppid\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"}]}",
			&prog);
	assert_killed_by_sigsys(run_filtered(&prog, call_getppid));
	assert_int_equal(WEXITSTATUS(run_filtered(&prog, call_getpid)), 0);
	sp_seccomp_program_free(&prog);
}

static void test_trap_and_log_rules(void **state)
{
	struct sp_seccomp_program prog = {0};
	int status;

	(void)state;
	compile_or_fail("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			"{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_TRAP\"},"
			"{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_LOG\"}]}",
			&prog);
	assert_killed_by_sigsys(run_filtered(&prog, call_getppid));
	status = run_filtered(&prog, call_getpid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	sp_seccomp_program_free(&prog);
}

static void test_unknown_syscall_names_are_skipped(void **state)
{
	struct sp_seccomp_program prog = {0};
	int status;

	(void)state;
	/* chown32 exists only for 32-bit ABIs, the first name nowhere */
	compile_or_fail("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
			"[\"sandpool_no_such_syscall\", \"chown32\", \"getppid\"], "
			"\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}",
			&prog);
	status = run_filtered(&prog, call_getppid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EACCES);
	sp_seccomp_program_free(&prog);
}

static void test_errno_defaults(void **state)
{
	struct sp_seccomp_program prog = {0};
	int status;

	(void)state;
	/* errnoRet defaults to EPERM; a rule with the default action (which
	 * libseccomp would refuse) is left out */
	compile_or_fail("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			"{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"},"
			"{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
			&prog);
	status = run_filtered(&prog, call_getppid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EPERM);
	status = run_filtered(&prog, call_getpid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	sp_seccomp_program_free(&prog);
}

#define POLICY(rest)	 "{\"defaultAction\": \"SCMP_ACT_ERRNO\"" rest "}"
#define RULES(rules)	 POLICY(", \"syscalls\": [" rules "]")
#define READ_RULE(extra) "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"" extra "}"
#define IOCTL_ALLOW	 "{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\"}"
#define IOCTL_TIOCSTI_ERR                                                                          \
	"{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 1, "      \
	"\"value\": 21522, \"op\": \"SCMP_CMP_EQ\"}]}"
#define ARG(index, op)	 "{\"index\": " #index ", \"value\": 1, \"op\": \"" op "\"}"
#define ARGS(args)	 ", \"args\": [" args "]"
#define ARG0_EQ		 ARG(0, "SCMP_CMP_EQ")
#define ARG1_EQ		 ARG(1, "SCMP_CMP_EQ")
#define READ_KILL(extra) "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_KILL\"" extra "}"

static void test_malformed_policies(void **state)
{
	static const struct bad_policy cases[] = {
	    {"{\"defaultAction\": ", "line 1"},
	    {"[]", "expected a JSON object"},
	    {"{}", "defaultAction: missing"},
	    {"{\"defaultAction\": 1}", "defaultAction: expected a string"},
	    {"{\"defaultAction\": \"SCMP_ACT_NOPE\"}",
	     "defaultAction: unknown action \"SCMP_ACT_NOPE\""},
	    {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
	     "defaultErrnoRet: only valid with SCMP_ACT_ERRNO"},
	    {POLICY(", \"defaultErrnoRet\": 70000"), "defaultErrnoRet: 70000 is not an errno"},
	    {POLICY(", \"defaultErrnoRet\": \"1\""), "defaultErrnoRet: expected an integer"},
	    {POLICY(", \"architectures\": \"SCMP_ARCH_X86_64\""),
	     "architectures: expected an array"},
	    {POLICY(", \"architectures\": [\"SCMP_ARCH_NOPE\"]"),
	     "architectures[0]: unknown architecture \"SCMP_ARCH_NOPE\""},
	    {POLICY(", \"syscalls\": {}"), "syscalls: expected an array"},
	    {RULES("1"), "syscalls[0]: expected an object"},
	    {RULES("{\"names\": \"read\", \"action\": \"SCMP_ACT_ALLOW\"}"),
	     "syscalls[0].names: expected a non-empty array"},
	    {RULES("{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}"),
	     "syscalls[0].names: expected a non-empty array"},
	    {RULES("{\"names\": [\"read\", 1], \"action\": \"SCMP_ACT_ALLOW\"}"),
	     "syscalls[0].names[1]: expected a string"},
	    {RULES("{\"action\": \"SCMP_ACT_ALLOW\"}"), "syscalls[0].names: missing"},
	    {RULES(READ_RULE("") ", {\"names\": [\"write\"]}"), "syscalls[1].action: missing"},
	    {RULES("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOTIFY\"}"),
	     "syscalls[0].action: unknown action \"SCMP_ACT_NOTIFY\""},
	    {RULES("{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": \"1\"}"),
	     "syscalls[0].errnoRet: expected an integer"},
	    {RULES(READ_RULE(", \"errnoRet\": 1")),
	     "syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO"},
	    {RULES(READ_RULE(", \"args\": {}")), "syscalls[0].args: expected an array"},
	    {RULES(READ_RULE(", \"args\": [1]")), "syscalls[0].args[0]: expected an object"},
	    {RULES(READ_RULE(ARGS(ARG(0, "SCMP_CMP_XX")))),
	     "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XX\""},
	    {RULES(READ_RULE(ARGS(ARG(6, "SCMP_CMP_EQ")))),
	     "syscalls[0].args[0].index: 6 is not an argument index"},
	    {RULES(READ_RULE(ARGS("{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}"))),
	     "syscalls[0].args[0].value: missing"},
	    {RULES(READ_RULE(ARGS("{\"index\": 0, \"value\": \"1\", \"op\": \"SCMP_CMP_EQ\"}"))),
	     "syscalls[0].args[0].value: expected an integer"},
	    {RULES(READ_RULE(ARGS("{\"index\": 0, \"value\": 1}"))),
	     "syscalls[0].args[0].op: missing"},
	    {RULES(READ_RULE(ARGS(ARG(0, "SCMP_CMP_EQ") "," ARG(0, "SCMP_CMP_NE")))),
	     "syscalls[0].args[1].index: argument 0 is already compared in args[0]"},
	    {RULES(READ_RULE(", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}")),
	     "syscalls[0].includes: Docker profile template keys"},
	    {RULES(IOCTL_ALLOW "," IOCTL_TIOCSTI_ERR),
	     "syscalls[1]: the SCMP_ACT_ERRNO rule for \"ioctl\" is shadowed by the "
	     "SCMP_ACT_ALLOW rule of syscalls[0]"},
	    {RULES(IOCTL_TIOCSTI_ERR "," IOCTL_ALLOW),
	     "syscalls[0]: the SCMP_ACT_ERRNO rule for \"ioctl\" is shadowed"},
	    {RULES(READ_RULE(ARGS(ARG0_EQ)) "," READ_KILL(ARGS(ARG1_EQ "," ARG0_EQ))),
	     "syscalls[1]: the SCMP_ACT_KILL rule for \"read\" is shadowed"},
	    {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultAction\": \"SCMP_ACT_KILL\"}",
	     "duplicate object key"},
	};
	struct sp_seccomp_program prog = {0};
	struct sp_error err;
	int failures = 0;
	size_t i;

	(void)state;
	for (i = 0; i < SP_ARRAY_SIZE(cases); i++) {
		sp_error_clear(&err);
		if (sp_seccomp_compile_json(cases[i].json, &prog, &err) == 0) {
			print_error("accepted: %s\n", cases[i].json);
			sp_seccomp_program_free(&prog);
			failures++;
		} else if (strstr(err.message, cases[i].message) == NULL ||
			   strncmp(err.message, "seccomp policy: ", 16) != 0) {
			print_error("policy %s\n  expected \"%s\"\n  got      \"%s\"\n",
				    cases[i].json, cases[i].message, err.message);
			failures++;
		} else {
			assert_null(prog.filter);
			assert_int_equal(err.errnum, EINVAL);
		}
	}
	assert_int_equal(failures, 0);
}

static void test_disjoint_conditional_rules_compile(void **state)
{
	struct sp_seccomp_program prog = {0};

	(void)state;
	/* same syscall, different actions, disjoint conditions: fine */
	compile_or_fail(RULES(READ_RULE(ARGS(ARG0_EQ)) "," READ_KILL(
			    ARGS("{\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"}"))),
			&prog);
	sp_seccomp_program_free(&prog);
	assert_null(prog.filter);
	assert_int_equal(prog.len, 0);
}

static void test_missing_file(void **state)
{
	struct sp_seccomp_program prog = {0};
	struct sp_error err;

	(void)state;
	assert_int_equal(sp_seccomp_compile_file(NOWHERE ".json", &prog, &err), -1);
	assert_non_null(strstr(err.message, NOWHERE ".json"));
	assert_null(prog.filter);
}

static void test_apply_without_program(void **state)
{
	struct sp_seccomp_program empty = {0};
	struct sp_error err;

	(void)state;
	assert_int_equal(sp_seccomp_apply_in_child(&empty, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_policy_compiles),
	    cmocka_unit_test(test_default_policy_refuses),
	    cmocka_unit_test(test_default_policy_allows),
	    cmocka_unit_test(test_int80_dies_with_sigsys),
	    cmocka_unit_test(test_x32_dies_with_sigsys),
	    cmocka_unit_test(test_foreign_abi_verdicts),
	    cmocka_unit_test(test_ranged_program_gives_the_plain_verdicts),
	    cmocka_unit_test(test_ranges_search_allows_its_numbers_only),
	    cmocka_unit_test(test_kill_process_rule),
	    cmocka_unit_test(test_trap_and_log_rules),
	    cmocka_unit_test(test_unknown_syscall_names_are_skipped),
	    cmocka_unit_test(test_errno_defaults),
	    cmocka_unit_test(test_malformed_policies),
	    cmocka_unit_test(test_disjoint_conditional_rules_compile),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_apply_without_program),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
