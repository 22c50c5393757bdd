/* cgroups: what the v2 and v1 backends share. Paths, reading and writing
 * the small files of a cgroup, making and removing its directories (and
 * rolling back a partly made set, written once here), killing what a cgroup
 * holds, sweeping the cgroups of a dead sandpool, and for cells the limit
 * texts, the move of a process in, and the counter files kept open. */
#include "cgroup.h"
#include "cgroup_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/clock.h"
#include "sandbox/base/log.h"

#define RMDIR_TRIES 20 /* about 150 ms of retries on EBUSY */

/* ---- small helpers ---- */

void sp_cgroup_backoff(unsigned int round)
{
	unsigned int ms = round < 10 ? round + 1 : 10;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};

	nanosleep(&ts, NULL);
}

bool sp_cgroup_is_denied(int errnum)
{
	return errnum == EACCES || errnum == EPERM || errnum == EROFS;
}

int sp_cgroup_join(char *out, size_t size, const char *dir, const char *name, struct sp_error *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return sp_error_set(err, ENAMETOOLONG, "path %s/%s", dir, name);
	return 0;
}

bool sp_cgroup_exists_at(const char *dir, const char *file)
{
	char path[PATH_MAX];
	int n;

	if (dir[0] == '\0')
		return false;
	n = snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return access(path, F_OK) == 0;
}

void sp_cgroup_append_note(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len > 0 && len + 2 < size) {
		memcpy(buf + len, "; ", 3);
		len += 2;
	}
	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* ---- files ---- */

static int write_file(const char *path, const char *value, struct sp_error *err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return sp_error_set(err, errno, "open %s", path);
	n = write(fd, value, len);
	if (n < 0)
		return sp_error_set(err, errno, "write %s", path);
	if ((size_t)n != len)
		return sp_error_set(err, EIO, "short write to %s", path);
	return 0;
}

int sp_cgroup_write_at(const char *dir, const char *file, const char *value, struct sp_error *err)
{
	char path[PATH_MAX];

	if (sp_cgroup_join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	return write_file(path, value, err);
}

int sp_cgroup_write_u64_at(const char *dir, const char *file, uint64_t value, struct sp_error *err)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRIu64, value);
	return sp_cgroup_write_at(dir, file, text, err);
}

int sp_cgroup_read_file(const char *path, char **out, struct sp_error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	if (fd < 0)
		return sp_error_set(err, errno, "open %s", path);
	for (;;) {
		if (cap - len < 1024) {
			char *bigger = realloc(buf, cap ? cap * 2 : 4096);

			if (bigger == NULL)
				return sp_error_set(err, ENOMEM, "read %s", path);
			buf = bigger;
			cap = cap ? cap * 2 : 4096;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_error_set(err, errno, "read %s", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = steal_pointer(&buf);
	return 0;
}

int sp_cgroup_read_at(const char *dir, const char *file, char **out, struct sp_error *err)
{
	char path[PATH_MAX];

	if (sp_cgroup_join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	return sp_cgroup_read_file(path, out, err);
}

bool sp_cgroup_parse_u64(const char *text, uint64_t *value)
{
	char *end;

	while (*text == ' ')
		text++;
	if (strncmp(text, "max", 3) == 0) {
		*value = UINT64_MAX;
		return true;
	}
	errno = 0;
	*value = strtoull(text, &end, 10);
	return end != text && errno == 0;
}

/* The line after LINE, or NULL at the end of the text. */
static const char *next_line(const char *line)
{
	line = strchr(line, '\n');
	return line != NULL && line[1] != '\0' ? line + 1 : NULL;
}

int sp_cgroup_find_key(const char *text, const char *key, uint64_t *value)
{
	size_t klen = strlen(key);

	*value = 0;
	for (const char *line = text; line != NULL; line = next_line(line)) {
		if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
			continue;
		if (sp_cgroup_parse_u64(line + klen + 1, value))
			return 0;
		*value = 0;
		return 1;
	}
	return 1;
}

int sp_cgroup_read_key_at(const char *dir, const char *file, const char *key, uint64_t *value,
			  struct sp_error *err)
{
	cleanup_free char *text = NULL;

	*value = 0;
	if (sp_cgroup_read_at(dir, file, &text, err) < 0)
		return err->errnum == ENOENT ? 1 : -1;
	return sp_cgroup_find_key(text, key, value);
}

/* ---- directories ---- */

int sp_cgroup_make_dir(const char *dir, bool may_exist, bool *created, struct sp_error *err)
{
	*created = false;
	if (mkdir(dir, 0755) == 0) {
		*created = true;
		return 0;
	}
	if (errno == EEXIST && may_exist)
		return 0;
	return sp_error_set(err, errno, "mkdir %s", dir);
}

int sp_cgroup_remove_dir(const char *dir, struct sp_error *err)
{
	unsigned int round;

	for (round = 0;; round++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || round + 1 >= RMDIR_TRIES)
			return sp_error_set(err, errno, "rmdir %s", dir);
		sp_cgroup_backoff(round);
	}
}

int sp_cgroup_remove_dirs(char *const dirs[], size_t n, struct sp_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (dirs[i][0] == '\0')
			continue;
		if (sp_cgroup_remove_dir(dirs[i], err) < 0)
			return -1;
		dirs[i][0] = '\0';
	}
	return 0;
}

void sp_cgroup_undo_dirs(char *const dirs[], const bool created[], size_t n)
{
	size_t i;

	for (i = n; i-- > 0;)
		if (created[i])
			rmdir(dirs[i]);
	for (i = 0; i < n; i++)
		dirs[i][0] = '\0';
}

/* ---- killing ---- */

/* SIGKILL every process listed in DIR/cgroup.procs. Returns how many were
 * listed (0 when the cgroup is empty or gone), or -1. */
static int kill_listed(const char *dir, struct sp_error *err)
{
	cleanup_free char *text = NULL;
	pid_t self = getpid();
	int listed = 0;
	char *p, *end;

	if (sp_cgroup_read_at(dir, "cgroup.procs", &text, err) < 0)
		return err->errnum == ENOENT ? 0 : -1;
	for (p = text;; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		listed++;
		/* 0: a process of another pid namespace; never ourselves */
		if (pid > 0 && pid != self)
			kill((pid_t)pid, SIGKILL);
	}
	return listed;
}

int sp_cgroup_kill_until_empty(const char *dir, struct sp_error *err)
{
	uint64_t deadline = sp_clock_ms() + EMPTY_WAIT_MS;
	unsigned int round;
	int listed;

	for (round = 0;; round++) {
		listed = kill_listed(dir, err);
		if (listed <= 0)
			return listed;
		if (sp_clock_ms() >= deadline)
			return sp_error_set(err, ETIMEDOUT, "%d processes left in %s", listed, dir);
		sp_cgroup_backoff(round);
	}
}

/* ---- what a sandpool killed with SIGKILL left ---- */

/* The inode of this process's pid namespace; 0 when it cannot be read. */
static unsigned long pid_namespace(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

void sp_cgroup_owner_name(char *buf, size_t size, const char *word)
{
	unsigned long ns = pid_namespace();

	if (ns != 0)
		snprintf(buf, size, "sandpool-%s-%d-ns%lu", word, (int)getpid(), ns);
	else
		snprintf(buf, size, "sandpool-%s-%d", word, (int)getpid());
}

/* The number that ends TEXT at END, after PREFIX ("-", "-ns"): its value,
 * and *AT where PREFIX begins; -1 when there is none. */
static long long number_before(const char *text, const char *end, const char *prefix,
			       const char **at)
{
	size_t len = strlen(prefix);
	const char *p = end;
	long long n = 0, scale = 1;

	while (p > text && p[-1] >= '0' && p[-1] <= '9' && scale <= 100000000000000000LL) {
		p--;
		n += (*p - '0') * scale;
		scale *= 10;
	}
	if (p == end || (size_t)(p - text) < len || strncmp(p - len, prefix, len) != 0)
		return -1;
	*at = p - len;
	return n;
}

/* A cgroup a sandpool process of this pid namespace made
 * (sandpool-WORD-PID-nsINODE, or sandpool-WORD-PID from before there was a
 * namespace in the name) whose process is gone: what a kill -9 left
 * behind. One of another namespace is not ours to judge. */
static bool stale_name(const char *name)
{
	const char *end = name + strlen(name), *at;
	long long ns, pid;

	if (strncmp(name, "sandpool-", 9) != 0)
		return false;
	ns = number_before(name, end, "-ns", &at);
	if (ns >= 0) {
		if ((unsigned long long)ns != pid_namespace())
			return false;
		end = at;
	}
	pid = number_before(name, end, "-", &at);
	if (pid <= 0 || pid > INT32_MAX || at < name + 9)
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Kill what is in DIR and in its child cgroups, and remove them all. */
static void remove_cgroup_tree(const char *dir)
{
	struct sp_error err = {0};
	DIR *d = opendir(dir);
	struct dirent *e;
	char child[PATH_MAX];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.' ||
		    sp_cgroup_join(child, sizeof(child), dir, e->d_name, &err) < 0)
			continue;
		sp_cgroup_kill_until_empty(child, &err);
		rmdir(child);
	}
	if (d != NULL)
		closedir(d);
	sp_cgroup_kill_until_empty(dir, &err);
	if (rmdir(dir) == 0)
		log_info("removed %s, left by a sandpool that is gone", dir);
}

void sp_cgroup_sweep_stale(const char *own)
{
	struct sp_error err = {0};
	DIR *d = opendir(own);
	struct dirent *e;
	char dir[PATH_MAX];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_type == DT_DIR && stale_name(e->d_name) &&
		    sp_cgroup_join(dir, sizeof(dir), own, e->d_name, &err) == 0)
			remove_cgroup_tree(dir);
	}
	if (d != NULL)
		closedir(d);
}

/* ---- cells ---- */

bool sp_cgroup_memory_changed(const struct sp_cgroup_cell *cg, const struct sp_limits *limits)
{
	return !cg->limits_known || limits->memory_kb != cg->memory_kb;
}

bool sp_cgroup_processes_changed(const struct sp_cgroup_cell *cg, const struct sp_limits *limits)
{
	return !cg->limits_known || limits->processes != cg->processes;
}

uint64_t sp_cgroup_memory_bytes(uint64_t memory_kb)
{
	const uint64_t max_kb = INT64_MAX / 1024;

	return (memory_kb < max_kb ? memory_kb : max_kb) * 1024;
}

/* The pids limit of the cgroup for a step that may have PROCESSES. */
static uint64_t pids_max(uint64_t processes)
{
	return processes + SP_CGROUP_CELL_INIT_PROCESSES;
}

void sp_cgroup_limit_text(char *text, size_t size, uint64_t value)
{
	if (value == 0)
		snprintf(text, size, "max");
	else
		snprintf(text, size, "%" PRIu64, value);
}

int sp_cgroup_write_pids_max(const char *dir, uint64_t processes, struct sp_error *err)
{
	char text[32];

	sp_cgroup_limit_text(text, sizeof(text), processes ? pids_max(processes) : 0);
	return sp_cgroup_write_at(dir, "pids.max", text, err);
}

int sp_cgroup_attach(char *const dirs[], size_t n, pid_t pid, struct sp_error *err)
{
	char value[32];
	size_t i;

	snprintf(value, sizeof(value), "%d", (int)pid);
	for (i = 0; i < n; i++)
		if (dirs[i][0] != '\0' &&
		    sp_cgroup_write_at(dirs[i], "cgroup.procs", value, err) < 0)
			return -1;
	return 0;
}

/* Open DIR/FILE for the cell's life (-1, not an error, when it is absent). */
static int open_counter(const char *dir, const char *file, int flags, int *fd, struct sp_error *err)
{
	char path[PATH_MAX];

	*fd = -1;
	if (dir[0] == '\0')
		return 0;
	if (sp_cgroup_join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	*fd = open(path, flags | O_CLOEXEC);
	if (*fd < 0 && errno != ENOENT)
		return sp_error_set(err, errno, "open %s", path);
	return 0;
}

bool sp_cgroup_peak_reset(int fd)
{
	return fd >= 0 && pwrite(fd, "0", 1, 0) == 1;
}

int sp_cgroup_open_counters(struct sp_cgroup_cell *cg, const struct sp_cgroup_counter_files *files,
			    struct sp_error *err)
{
	const char *mem = files->memory_dir;

	if (open_counter(files->cpu_dir, files->cpu_file, O_RDONLY, &cg->cpu_fd, err) < 0)
		return -1;
	if (!cg->root->limits_memory)
		return 0;
	if (open_counter(mem, files->events_file, O_RDONLY, &cg->events_fd, err) < 0)
		return -1;
	/* a peak this process may not write is read as not measured */
	if (open_counter(mem, files->peak_file, O_RDWR, &cg->peak_fd, err) < 0 &&
	    err->errnum != EACCES && err->errnum != EPERM)
		return -1;
	cg->peak_resets = sp_cgroup_peak_reset(cg->peak_fd);
	return 0;
}

/* Read the whole of a counter file through its open FD. */
static int read_counter(int fd, char *buf, size_t size, struct sp_error *err)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return sp_error_set(err, errno, "read a cgroup counter");
	buf[n] = '\0';
	return 0;
}

static int read_number(int fd, const char *key, uint64_t *value, struct sp_error *err)
{
	char text[1024];

	*value = 0;
	if (fd < 0)
		return 0;
	if (read_counter(fd, text, sizeof(text), err) < 0)
		return -1;
	if (key != NULL)
		sp_cgroup_find_key(text, key, value);
	else if (!sp_cgroup_parse_u64(text, value))
		return sp_error_set(err, EINVAL, "no number in a cgroup counter");
	return 0;
}

int sp_cgroup_read_counters(struct sp_cgroup_cell *cg, const char *cpu_key, struct sp_usage *now,
			    struct sp_error *err)
{
	if (read_number(cg->cpu_fd, cpu_key, &now->cpu_ns, err) < 0 ||
	    read_number(cg->events_fd, "oom_kill", &now->oom_kills, err) < 0 ||
	    (cg->peak_resets && read_number(cg->peak_fd, NULL, &now->memory_bytes, err) < 0))
		return -1;
	return 0;
}
