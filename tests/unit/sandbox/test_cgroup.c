/* Unit tests of sandbox/cgroup*.c. Parsing tests run anywhere; the tests that
 * make cgroups need root and a cgroup v1 host (they skip otherwise). Every
 * cgroup made here is named sp-test-<pid>-... and removed in the teardown. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/cgroup.h"
#include "sandbox/cgroup_backend.h"

#define MiB (1024ull * 1024)

struct fixture {
	struct sp_cgroup_root root;
	struct sp_cgroup_cell cell;
	bool have_root;
	bool have_cell;
	pid_t child;
	char extra_dir[PATH_MAX]; /* a directory the test made by hand */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	*state = f;
	return 0;
}

static void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct sp_error err;
	char buf[SP_ERROR_MESSAGE_MAX + 64];
	int rc = 0;

	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	if (f->have_cell && sp_cgroup_cell_destroy(&f->cell, &err) < 0) {
		fprintf(stderr, "teardown: %s\n", sp_error_describe(&err, buf, sizeof(buf)));
		rc = -1;
	}
	reap_all();
	if (f->extra_dir[0] != '\0')
		rmdir(f->extra_dir);
	if (f->have_root && sp_cgroup_root_destroy(&f->root, &err) < 0) {
		fprintf(stderr, "teardown: %s\n", sp_error_describe(&err, buf, sizeof(buf)));
		rc = -1;
	}
	free(f);
	return rc;
}

static void test_name(char *buf, size_t size, const char *what)
{
	snprintf(buf, size, "sp-test-%d-%s", (int)getpid(), what);
}

static bool host_is_v1(void)
{
	struct statfs fs;

	return statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

static bool dir_exists(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool dir_has(const char *dir, const char *file)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

static void fail_with(const char *what, const struct sp_error *err)
{
	char buf[SP_ERROR_MESSAGE_MAX + 64];

	fail_msg("%s: %s", what, sp_error_describe(err, buf, sizeof(buf)));
}

/* Init a v1 root for this test, or skip when that cannot be done here. */
static void init_v1_root(struct fixture *f, const char *what)
{
	struct sp_error err;
	char name[64];

	if (geteuid() != 0 || !host_is_v1())
		skip();
	test_name(name, sizeof(name), what);
	if (sp_cgroup_root_init(&f->root, name, SP_CGROUP_AUTO, &err) < 0)
		fail_with("root init", &err);
	f->have_root = true;
	assert_int_equal(f->root.mode, SP_CGROUP_V1);
}

static void begin_step(struct fixture *f, uint64_t memory_kb, uint64_t processes)
{
	struct sp_limits limits = {.memory_kb = memory_kb, .processes = processes};
	struct sp_error err;

	if (sp_cgroup_cell_begin(&f->cell, &limits, &err) < 0)
		fail_with("begin", &err);
}

/* Fork a child that waits for a byte on a pipe, then runs FN. */
static pid_t fork_waiting(int (*fn)(void), int *go_fd)
{
	int go[2];
	pid_t pid;
	char c = 0;

	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(120);
		_exit(fn());
	}
	close(go[0]);
	*go_fd = go[1];
	return pid;
}

static void let_go(int go_fd)
{
	char c = 0;

	assert_int_equal(write(go_fd, &c, 1), 1);
	close(go_fd);
}

/* The cell cgroup "cell" made around a child that then runs FN as a step
 * with the given limits (the child stands for the cell's init and its step). */
static pid_t spawn_in_cell(struct fixture *f, int (*fn)(void), uint64_t memory_kb,
			   uint64_t processes)
{
	struct sp_error err;
	int go;
	pid_t pid = fork_waiting(fn, &go);

	f->child = pid;
	if (sp_cgroup_cell_create(&f->root, &f->cell, "cell", pid, &err) < 0)
		fail_with("cell create", &err);
	f->have_cell = true;
	begin_step(f, memory_kb, processes);
	let_go(go);
	return pid;
}

/* A later step of the same cell: a new child, moved in by hand (a cell's
 * steps are born in it). */
static pid_t spawn_next_step(struct fixture *f, int (*fn)(void), uint64_t memory_kb,
			     uint64_t processes)
{
	char *dirs[] = {f->cell.v1_memory_dir, f->cell.v1_pids_dir, f->cell.v1_cpuacct_dir,
			f->cell.v2_dir};
	char path[PATH_MAX + 16], value[32];
	int go, fd;
	pid_t pid = fork_waiting(fn, &go);

	f->child = pid;
	snprintf(value, sizeof(value), "%d", (int)pid);
	for (size_t i = 0; i < 4; i++) {
		if (dirs[i][0] == '\0')
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.procs", dirs[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, value, strlen(value)), (ssize_t)strlen(value));
		close(fd);
	}
	begin_step(f, memory_kb, processes);
	let_go(go);
	return pid;
}

static uint64_t read_number_file(const char *dir, const char *file)
{
	char path[PATH_MAX + 64], text[64] = "";
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fp = fopen(path, "re");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	return strtoull(text, NULL, 10);
}

static int wait_child(struct fixture *f)
{
	int status = 0;

	assert_int_equal(waitpid(f->child, &status, 0), f->child);
	f->child = 0;
	return status;
}

static int count_procs(const char *dir)
{
	char path[PATH_MAX + 16], line[64];
	FILE *fp;
	int n = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fp = fopen(path, "re");
	if (fp == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		n++;
	fclose(fp);
	return n;
}

/* ---- children ---- */

static int report_fd = -1;

static int child_hog(void)
{
	size_t size = 200 * MiB, i;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 2;
	for (i = 0; i < size; i += 4096)
		p[i] = 1;
	return 0;
}

static int child_forker(void)
{
	int result[2] = {0, 0};
	int i;

	for (i = 0; i < 100; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			result[1] = errno;
			break;
		}
		result[0]++;
	}
	if (write(report_fd, result, sizeof(result)) != sizeof(result))
		return 3;
	pause();
	return 0;
}

static uint64_t cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int child_burn(void)
{
	while (cpu_ms() < 200)
		;
	return 0;
}

static int child_spin_family(void)
{
	int i;

	for (i = 0; i < 3; i++)
		if (fork() == 0)
			break;
	for (;;)
		;
	return 0;
}

/* ---- parsing ---- */

static const char fake_proc_cgroup[] = "12:pids:/user.slice\n"
				       "5:freezer:/\n"
				       "4:memory:/docker/abc/inner\n"
				       "3:cpuset:/\n"
				       "2:cpu,cpuacct:/x/y\n"
				       "6:devices:/elsewhere\n"
				       "7:hugetlb:/../up\n"
				       "1:name=systemd:/init.scope\n"
				       "0::/\n";

static const char fake_mountinfo[] =
    "22 1 0:20 / /sys rw - sysfs sysfs rw\n"
    "30 22 0:27 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "35 30 0:32 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "32 30 0:29 /docker/abc /sys/fs/cgroup/memory rw shared:10 - cgroup cgroup rw,memory\n"
    "36 30 0:33 /docker/abc /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n"
    "33 30 0:30 / /sys/fs/cgroup/pids\\040dir rw - cgroup cgroup rw,pids\n"
    "37 30 0:34 / /sys/fs/cgroup/hugetlb rw - cgroup cgroup rw,hugetlb\n"
    "34 30 0:31 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n";

static void expect_dir(const char *proc_cgroup, const char *mountinfo, const char *controller,
		       const char *want)
{
	struct sp_error err = {0};
	char dir[PATH_MAX];
	int r;

	r = sp_cgroup_resolve_dir(proc_cgroup, mountinfo, controller, dir, sizeof(dir), &err);
	if (r != 0)
		fail_msg("%s: r=%d %s", controller ? controller : "v2", r, err.message);
	assert_string_equal(dir, want);
}

static void test_resolve_v1(void **state)
{
	struct sp_error err = {0};
	char dir[PATH_MAX];

	(void)state;
	expect_dir(fake_proc_cgroup, fake_mountinfo, "cpuacct", "/sys/fs/cgroup/cpu,cpuacct/x/y");
	expect_dir(fake_proc_cgroup, fake_mountinfo, "cpu", "/sys/fs/cgroup/cpu,cpuacct/x/y");
	expect_dir(fake_proc_cgroup, fake_mountinfo, "cpuset", "/sys/fs/cgroup/cpuset");
	expect_dir(fake_proc_cgroup, fake_mountinfo, "memory", "/sys/fs/cgroup/memory/inner");
	expect_dir(fake_proc_cgroup, fake_mountinfo, "pids", "/sys/fs/cgroup/pids dir/user.slice");
	expect_dir(fake_proc_cgroup, fake_mountinfo, NULL, "/sys/fs/cgroup/unified");
	/* not listed in /proc/self/cgroup, or listed but not mounted */
	assert_int_equal(sp_cgroup_resolve_dir(fake_proc_cgroup, fake_mountinfo, "blkio", dir,
					       sizeof(dir), &err),
			 1);
	assert_int_equal(sp_cgroup_resolve_dir(fake_proc_cgroup, fake_mountinfo, "freezer", dir,
					       sizeof(dir), &err),
			 1);
	/* outside the mount's root, or outside the namespace */
	assert_int_equal(sp_cgroup_resolve_dir(fake_proc_cgroup, fake_mountinfo, "devices", dir,
					       sizeof(dir), &err),
			 -1);
	assert_int_equal(err.errnum, EXDEV);
	assert_int_equal(sp_cgroup_resolve_dir(fake_proc_cgroup, fake_mountinfo, "hugetlb", dir,
					       sizeof(dir), &err),
			 -1);
	assert_int_equal(err.errnum, EXDEV);
	/* a pure v1 host has no "0::" line */
	assert_int_equal(
	    sp_cgroup_resolve_dir("4:memory:/\n", fake_mountinfo, NULL, dir, sizeof(dir), &err), 1);
}

static void test_resolve_v2(void **state)
{
	static const char mi[] = "25 20 0:26 / /run/other rw - cgroup2 cgroup2 rw\n"
				 "26 20 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 "
				 "cgroup2 rw,nsdelegate,memory_recursiveprot\n";
	static const char bind[] = "40 30 0:26 /system.slice/docker-1.scope /sys/fs/cgroup ro - "
				   "cgroup2 cgroup2 rw\n";

	(void)state;
	expect_dir("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope\n", mi, NULL,
		   "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope");
	expect_dir("0::/\n", mi, NULL, "/sys/fs/cgroup");
	expect_dir("0::/system.slice/docker-1.scope\n", bind, NULL, "/sys/fs/cgroup");
	expect_dir("0::/system.slice/docker-1.scope/sub\n", bind, NULL, "/sys/fs/cgroup/sub");
}

/* ---- none ---- */

static void test_force_none(void **state)
{
	struct fixture *f = *state;
	struct sp_usage usage;
	struct sp_error err;

	assert_int_equal(sp_cgroup_root_init(&f->root, "sp-test-none", SP_CGROUP_FORCE_NONE, &err),
			 0);
	f->have_root = true;
	assert_int_equal(f->root.mode, SP_CGROUP_NONE);
	assert_string_equal(sp_cgroup_mode_to_string(f->root.mode), "none");
	assert_string_equal(f->root.reason, "disabled by request");
	assert_false(f->root.limits_memory || f->root.limits_swap || f->root.limits_pids ||
		     f->root.counts_cpu || f->root.has_kill || f->root.has_peak);
	assert_int_equal(sp_cgroup_cell_create(&f->root, &f->cell, "cell", getpid(), &err), 0);
	assert_false(sp_cgroup_cell_active(&f->cell));
	begin_step(f, 65536, 16);
	memset(&usage, 0xff, sizeof(usage));
	assert_int_equal(sp_cgroup_cell_usage(&f->cell, &usage, &err), 0);
	assert_true(usage.cpu_ns == 0 && usage.memory_bytes == 0 && usage.oom_kills == 0);
	assert_int_equal(sp_cgroup_cell_destroy(&f->cell, &err), 0);
	assert_int_equal(sp_cgroup_root_destroy(&f->root, &err), 0);
}

static void test_bad_names(void **state)
{
	struct fixture *f = *state;
	struct sp_error err;

	assert_int_equal(sp_cgroup_root_init(&f->root, "a/b", SP_CGROUP_AUTO, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	assert_int_equal(sp_cgroup_root_init(&f->root, "..", SP_CGROUP_AUTO, &err), -1);
	assert_int_equal(sp_cgroup_root_init(&f->root, "", SP_CGROUP_AUTO, &err), -1);
}

/* A pid that was a process's and is no more. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

/* What a server killed with SIGKILL left is swept by the next one of the
 * same pid namespace; what a live one or one of another namespace (its
 * pids are not ours to look at) made stays. In a plain folder: the names
 * are what is judged. */
static void test_sweep_judges_names_of_this_namespace_only(void **state)
{
	char dir[] = "/tmp/sp-sweep-XXXXXX", path[PATH_MAX], mine[64];
	pid_t dead = dead_pid();
	struct stat st;
	const char *names[] = {"dead-here", "dead-elsewhere", "dead-old", "alive", "not-ours"};
	char made[5][96];
	bool stays[] = {false, true, false, true, true};

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(stat("/proc/self/ns/pid", &st), 0);
	snprintf(made[0], sizeof(made[0]), "sandpool-serve-%d-ns%lu", (int)dead,
		 (unsigned long)st.st_ino);
	snprintf(made[1], sizeof(made[1]), "sandpool-serve-%d-ns%lu", (int)dead,
		 (unsigned long)st.st_ino + 1);
	snprintf(made[2], sizeof(made[2]), "sandpool-run-%d", (int)dead);
	sp_cgroup_owner_name(mine, sizeof(mine), "serve");
	snprintf(made[3], sizeof(made[3]), "%s", mine);
	snprintf(made[4], sizeof(made[4]), "sandpool-serve-x%d", (int)dead);
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	sp_cgroup_sweep_stale(dir);
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		if ((stat(path, &st) == 0) != stays[i])
			fail_msg("%s (%s): %s", names[i], made[i], stays[i] ? "swept" : "left");
		rmdir(path);
	}
	rmdir(dir);
}

/* ---- v1, as root ---- */

static void test_v1_root(void **state)
{
	struct fixture *f = *state;
	struct sp_error err;
	char memory[PATH_MAX], pids[PATH_MAX], cpuacct[PATH_MAX];

	init_v1_root(f, "root");
	print_message("reason: %s\n", f->root.reason);
	assert_true(f->root.limits_memory);
	assert_true(f->root.limits_pids);
	assert_true(f->root.counts_cpu);
	assert_true(f->root.has_peak);
	assert_false(f->root.has_kill);
	assert_non_null(strstr(f->root.reason, "cgroup v1"));
	assert_true(dir_exists(f->root.v1_memory_dir));
	assert_true(dir_exists(f->root.v1_pids_dir));
	assert_true(dir_exists(f->root.v1_cpuacct_dir));
	memcpy(memory, f->root.v1_memory_dir, sizeof(memory));
	memcpy(pids, f->root.v1_pids_dir, sizeof(pids));
	memcpy(cpuacct, f->root.v1_cpuacct_dir, sizeof(cpuacct));
	if (sp_cgroup_root_destroy(&f->root, &err) < 0)
		fail_with("root destroy", &err);
	assert_false(dir_exists(memory));
	assert_false(dir_exists(pids));
	assert_false(dir_exists(cpuacct));
	assert_int_equal(sp_cgroup_root_destroy(&f->root, &err), 0);
}

static void test_v1_oom(void **state)
{
	struct fixture *f = *state;
	struct sp_usage usage;
	struct sp_error err;
	int status;

	init_v1_root(f, "oom");
	spawn_in_cell(f, child_hog, 64 * 1024, 16);
	status = wait_child(f);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	if (sp_cgroup_cell_usage(&f->cell, &usage, &err) < 0)
		fail_with("usage", &err);
	print_message("peak %llu bytes, oom kills %llu\n", (unsigned long long)usage.memory_bytes,
		      (unsigned long long)usage.oom_kills);
	assert_true(usage.oom_kills >= 1);
	assert_true(usage.memory_bytes <= 64 * MiB + 4 * MiB);
	assert_true(usage.memory_bytes >= 32 * MiB);
}

static void test_v1_pids_kill_destroy(void **state)
{
	struct fixture *f = *state;
	char dirs[3][PATH_MAX];
	struct sp_error err;
	int result[2], report[2], status, i;

	init_v1_root(f, "pids");
	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	report_fd = report[1];
	spawn_in_cell(f, child_forker, 64 * 1024, 16);
	memcpy(dirs[0], f->cell.v1_memory_dir, PATH_MAX);
	memcpy(dirs[1], f->cell.v1_pids_dir, PATH_MAX);
	memcpy(dirs[2], f->cell.v1_cpuacct_dir, PATH_MAX);
	/* 16 for the step, one for the cell's init: here the child is both */
	assert_int_equal(read_number_file(dirs[1], "pids.max"), 17);
	close(report[1]);
	assert_int_equal(read(report[0], result, sizeof(result)), sizeof(result));
	close(report[0]);
	print_message("forked %d times, then errno %d\n", result[0], result[1]);
	assert_int_equal(result[1], EAGAIN);
	assert_in_range(result[0], 10, 16);
	assert_int_equal(count_procs(dirs[1]), result[0] + 1);

	/* destroy kills what is left, then removes the cgroups */
	if (sp_cgroup_cell_destroy(&f->cell, &err) < 0)
		fail_with("destroy", &err);
	f->have_cell = false;
	status = wait_child(f);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	reap_all();
	for (i = 0; i < 3; i++)
		assert_false(dir_exists(dirs[i]));
}

static void test_v1_cpu(void **state)
{
	struct fixture *f = *state;
	struct sp_usage usage;
	struct sp_error err;
	int status;

	init_v1_root(f, "cpu");
	spawn_in_cell(f, child_burn, 0, 0);
	status = wait_child(f);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (sp_cgroup_cell_usage(&f->cell, &usage, &err) < 0)
		fail_with("usage", &err);
	print_message("cpu %llu ns\n", (unsigned long long)usage.cpu_ns);
	assert_true(usage.cpu_ns >= 150 * 1000000ull);
	assert_true(usage.cpu_ns < 10 * 1000000000ull);
	assert_int_equal(usage.oom_kills, 0);
}

/* The second step of a cell: its cpu, peak and OOM kills count from its own
 * start, and its limits replace the first step's. */
static void test_v1_second_step(void **state)
{
	struct fixture *f = *state;
	struct sp_usage first, second;
	struct sp_error err;
	int status;

	init_v1_root(f, "steps");
	spawn_in_cell(f, child_hog, 64 * 1024, 16);
	status = wait_child(f);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	if (sp_cgroup_cell_usage(&f->cell, &first, &err) < 0)
		fail_with("usage", &err);
	assert_true(first.oom_kills >= 1);
	assert_true(first.memory_bytes >= 32 * MiB);

	spawn_next_step(f, child_burn, 512 * 1024, 8);
	assert_int_equal(read_number_file(f->cell.v1_pids_dir, "pids.max"), 9);
	assert_int_equal(read_number_file(f->cell.v1_memory_dir, "memory.limit_in_bytes"),
			 512 * MiB);
	status = wait_child(f);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (sp_cgroup_cell_usage(&f->cell, &second, &err) < 0)
		fail_with("usage", &err);
	print_message("first: peak %llu, oom %llu; second: cpu %llu ns, peak %llu, oom %llu\n",
		      (unsigned long long)first.memory_bytes, (unsigned long long)first.oom_kills,
		      (unsigned long long)second.cpu_ns, (unsigned long long)second.memory_bytes,
		      (unsigned long long)second.oom_kills);
	assert_int_equal(second.oom_kills, 0);
	assert_true(second.memory_bytes < 16 * MiB);
	assert_true(second.cpu_ns >= 150 * 1000000ull);
	assert_true(second.cpu_ns < 10 * 1000000000ull);
}

/* A create that fails halfway leaves nothing behind. */
static void test_v1_rollback(void **state)
{
	struct fixture *f = *state;
	char memory_job[PATH_MAX + 8], cpuacct_job[PATH_MAX + 8];
	struct sp_error err;

	init_v1_root(f, "rollback");
	assert_true(snprintf(f->extra_dir, sizeof(f->extra_dir), "%s/job", f->root.v1_pids_dir) <
		    (int)sizeof(f->extra_dir));
	assert_int_equal(mkdir(f->extra_dir, 0755), 0);
	snprintf(memory_job, sizeof(memory_job), "%s/job", f->root.v1_memory_dir);
	snprintf(cpuacct_job, sizeof(cpuacct_job), "%s/job", f->root.v1_cpuacct_dir);

	f->have_cell = true; /* whatever happens, teardown destroys it */
	assert_int_equal(sp_cgroup_cell_create(&f->root, &f->cell, "job", getpid(), &err), -1);
	assert_int_equal(err.errnum, EEXIST);
	assert_false(sp_cgroup_cell_active(&f->cell));
	assert_false(dir_exists(memory_job));
	assert_false(dir_exists(cpuacct_job));
	assert_true(dir_exists(f->extra_dir));
	assert_int_equal(sp_cgroup_cell_destroy(&f->cell, &err), 0);
	assert_true(dir_exists(f->extra_dir));
}

/* ---- rootless ---- */

static void check_unprivileged_init(int out)
{
	struct sp_cgroup_root root;
	struct sp_error err;
	char name[64];
	int r;

	test_name(name, sizeof(name), "rootless");
	r = sp_cgroup_root_init(&root, name, SP_CGROUP_AUTO, &err);
	dprintf(out, "r=%d mode=%s reason=%s\n", r, sp_cgroup_mode_to_string(root.mode),
		root.reason);
	if (r == 0 && root.mode != SP_CGROUP_NONE)
		sp_cgroup_root_destroy(&root, &err);
}

/* Without privileges (uid 65534 when we are root) init gives mode none with
 * a reason, not an error. */
static void test_unprivileged(void **state)
{
	struct fixture *f = *state;
	char text[512] = "";
	int out[2], status;
	ssize_t n;

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0) {
		close(out[0]);
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		     setresuid(65534, 65534, 65534) < 0))
			_exit(100);
		check_unprivileged_init(out[1]);
		_exit(0);
	}
	close(out[1]);
	n = read(out[0], text, sizeof(text) - 1);
	close(out[0]);
	status = wait_child(f);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n > 0);
	print_message("unprivileged: %s", text);
	assert_non_null(strstr(text, "r=0 "));
	if (geteuid() == 0 || strstr(text, "mode=none") != NULL) {
		assert_non_null(strstr(text, "mode=none"));
		assert_null(strstr(text, "reason=\n"));
	}
}

/* ---- the v2 job code, on the controller-less cgroup2 mount of a hybrid host ---- */

/* Build a v2 root by hand under our cgroup of the cgroup2 hierarchy
 * mounted at /sys/fs/cgroup/unified; skip when there is none. */
static void init_v2_root_by_hand(struct fixture *f, const char *what)
{
	char proc_cgroup[4096], own[PATH_MAX], name[64];
	char *mountinfo = NULL;
	struct sp_error err;
	struct statfs fs;
	size_t len = 0;
	FILE *fp;
	int fd, r;

	if (geteuid() != 0 || statfs("/sys/fs/cgroup/unified", &fs) < 0 ||
	    fs.f_type != CGROUP2_SUPER_MAGIC)
		skip();
	fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	r = (int)read(fd, proc_cgroup, sizeof(proc_cgroup) - 1);
	close(fd);
	assert_true(r > 0);
	proc_cgroup[r] = '\0';
	fp = fopen("/proc/self/mountinfo", "re");
	assert_non_null(fp);
	assert_true(getdelim(&mountinfo, &len, '\0', fp) > 0);
	fclose(fp);
	r = sp_cgroup_resolve_dir(proc_cgroup, mountinfo, NULL, own, sizeof(own), &err);
	free(mountinfo);
	if (r != 0 || strncmp(own, "/sys/fs/cgroup/unified", 22) != 0)
		skip();

	test_name(name, sizeof(name), what);
	f->root.mode = SP_CGROUP_V2;
	assert_true(snprintf(f->root.v2_dir, sizeof(f->root.v2_dir), "%s/%s", own, name) <
		    (int)sizeof(f->root.v2_dir));
	assert_int_equal(mkdir(f->root.v2_dir, 0755), 0);
	f->have_root = true;
	f->root.counts_cpu = true;
	f->root.has_kill = dir_has(f->root.v2_dir, "cgroup.kill");
}

static void run_v2_cell(struct fixture *f)
{
	struct sp_usage usage;
	struct sp_error err;
	char dir[PATH_MAX];
	struct timespec ts = {0, 100 * 1000000};
	int status, tries;

	spawn_in_cell(f, child_spin_family, 65536, 16);
	memcpy(dir, f->cell.v2_dir, sizeof(dir));
	assert_true(dir_exists(dir));
	/* counting works if 150 ms of cpu show up within 5 s, however busy the host */
	for (tries = 0; tries < 50; tries++) {
		nanosleep(&ts, NULL);
		if (sp_cgroup_cell_usage(&f->cell, &usage, &err) < 0)
			fail_with("usage", &err);
		if (usage.cpu_ns >= 150 * 1000000ull)
			break;
	}
	assert_int_equal(count_procs(dir), 4);
	print_message("v2 (cgroup.kill %s): cpu %llu ns\n", f->root.has_kill ? "yes" : "no",
		      (unsigned long long)usage.cpu_ns);
	assert_true(usage.cpu_ns >= 150 * 1000000ull);
	assert_int_equal(usage.memory_bytes, 0);
	assert_int_equal(usage.oom_kills, 0);
	if (sp_cgroup_cell_destroy(&f->cell, &err) < 0)
		fail_with("destroy", &err);
	f->have_cell = false;
	assert_false(dir_exists(dir));
	status = wait_child(f);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	reap_all();
}

static void test_v2_jobs_kill_file(void **state)
{
	struct fixture *f = *state;

	init_v2_root_by_hand(f, "v2kill");
	if (!f->root.has_kill)
		skip();
	run_v2_cell(f);
}

static void test_v2_jobs_kill_loop(void **state)
{
	struct fixture *f = *state;

	init_v2_root_by_hand(f, "v2loop");
	f->root.has_kill = false;
	run_v2_cell(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_resolve_v1),
	    T(test_resolve_v2),
	    T(test_force_none),
	    T(test_bad_names),
	    T(test_sweep_judges_names_of_this_namespace_only),
	    T(test_v1_root),
	    T(test_v1_oom),
	    T(test_v1_pids_kill_destroy),
	    T(test_v1_cpu),
	    T(test_v1_second_step),
	    T(test_v1_rollback),
	    T(test_unprivileged),
	    T(test_v2_jobs_kill_file),
	    T(test_v2_jobs_kill_loop),
	};

	/* orphans of killed jobs come to us, to be reaped */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
