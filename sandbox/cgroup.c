/* cgroups: v2, v1 and none behind one interface.
 *
 * Every cgroup sandpool makes lies below the cgroup this process is in:
 * <own>/<name> is the parent of the cells and <own>/<name>/<cell> one cell
 * (its init and every step it runs); on v1 once per hierarchy (memory,
 * pids, cpuacct).
 *
 * cgroup v2 forbids enabling controllers in a cgroup that holds processes
 * (the "no internal processes" rule; only the root cgroup is exempt). When
 * <own> holds this process and nothing else, the process moves itself into
 * the leaf <own>/sandpool-supervisor and tries again; when other processes are
 * there, the mode is none with a reason. A later sp_cgroup_root_init that
 * finds the process already in its leaf treats the leaf's parent as <own>.
 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cleanup.h"
#include "log.h"

#define CGROUP_MOUNT "/sys/fs/cgroup"
/* One leaf for every sandpool process of a cgroup: a fixed name, so that
 * runs one after the other reuse it instead of leaving one leaf each. */
#define LEAF_NAME     "sandpool-supervisor"
#define EMPTY_WAIT_MS 5000 /* how long a kill may take to empty a cgroup */
#define RMDIR_TRIES   20   /* about 150 ms of retries on EBUSY */

enum { V1_MEMORY, V1_PIDS, V1_CPUACCT, V1_COUNT };

static const char *const v1_controllers[V1_COUNT] = {"memory", "pids", "cpuacct"};

/* The v1 directories of a root or a job, in the order of v1_controllers. */
#define V1_DIRS(x)                                                                                 \
	{                                                                                          \
		(x)->v1_memory_dir, (x)->v1_pids_dir, (x)->v1_cpuacct_dir                          \
	}

/* Every directory of a cell cgroup, whatever the mode. */
#define CELL_DIRS(c)                                                                               \
	{                                                                                          \
		(c)->v2_dir, (c)->v1_pids_dir, (c)->v1_memory_dir, (c)->v1_cpuacct_dir             \
	}

enum { CTRL_MEMORY = 1u << 0, CTRL_PIDS = 1u << 1, CTRL_CPU = 1u << 2 };

static const char *const v2_controllers[] = {"memory", "pids", "cpu"};

const char *sp_cgroup_mode_to_string(enum sp_cgroup_mode mode)
{
	switch (mode) {
	case SP_CGROUP_NONE:
		return "none";
	case SP_CGROUP_V1:
		return "v1";
	case SP_CGROUP_V2:
		return "v2";
	}
	return "?";
}

/* ---- small helpers ---- */

/* Sleep a little longer each round, 1 ms up to 10 ms. */
static void backoff(unsigned int round)
{
	unsigned int ms = round < 10 ? round + 1 : 10;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};

	nanosleep(&ts, NULL);
}

/* Errors that mean "this host does not let us use cgroups", not "we failed". */
static bool is_denied(int errnum)
{
	return errnum == EACCES || errnum == EPERM || errnum == EROFS;
}

static bool valid_name(const char *name)
{
	return name != NULL && name[0] != '\0' && strchr(name, '/') == NULL &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strlen(name) <= NAME_MAX;
}

static int join(char *out, size_t size, const char *dir, const char *name, struct sp_error *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return sp_error_set(err, ENAMETOOLONG, "path %s/%s", dir, name);
	return 0;
}

static bool exists_at(const char *dir, const char *file)
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

/* Append a formatted note to BUF, separated by "; ". */
static void __attribute__((format(printf, 3, 4)))
append_note(char *buf, size_t size, const char *fmt, ...)
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

static int write_at(const char *dir, const char *file, const char *value, struct sp_error *err)
{
	char path[PATH_MAX];

	if (join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	return write_file(path, value, err);
}

static int write_u64_at(const char *dir, const char *file, uint64_t value, struct sp_error *err)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRIu64, value);
	return write_at(dir, file, text, err);
}

/* Read a whole (small, virtual) file into a NUL-terminated buffer. */
static int read_file(const char *path, char **out, struct sp_error *err)
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

static int read_at(const char *dir, const char *file, char **out, struct sp_error *err)
{
	char path[PATH_MAX];

	if (join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	return read_file(path, out, err);
}

/* A decimal number or "max" (UINT64_MAX). */
static bool parse_u64(const char *text, uint64_t *value)
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

/* KEY of a flat-keyed text ("key value" lines: cpu.stat, memory.events,
 * cgroup.events, memory.oom_control). Returns 0, or 1 when the key is
 * absent or not a number (*value is then 0). */
static int find_key(const char *text, const char *key, uint64_t *value)
{
	size_t klen = strlen(key);

	*value = 0;
	for (const char *line = text; line != NULL; line = next_line(line)) {
		if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
			continue;
		if (parse_u64(line + klen + 1, value))
			return 0;
		*value = 0;
		return 1;
	}
	return 1;
}

/* KEY of the flat-keyed file DIR/FILE. Returns 0, 1 when the file or the
 * key is absent (*value is then 0), or -1. */
static int read_key_at(const char *dir, const char *file, const char *key, uint64_t *value,
		       struct sp_error *err)
{
	cleanup_free char *text = NULL;

	*value = 0;
	if (read_at(dir, file, &text, err) < 0)
		return err->errnum == ENOENT ? 1 : -1;
	return find_key(text, key, value);
}

/* ---- directories ---- */

/* mkdir DIR; *created says whether it is new. An existing DIR is an error
 * unless MAY_EXIST. */
static int make_dir(const char *dir, bool may_exist, bool *created, struct sp_error *err)
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

/* Roll back a partly made set of N directories: remove those this call
 * made (CREATED), last first, and forget them all. */
static void undo_dirs(char *const dirs[], const bool created[], size_t n)
{
	size_t i;

	for (i = n; i-- > 0;)
		if (created[i])
			rmdir(dirs[i]);
	for (i = 0; i < n; i++)
		dirs[i][0] = '\0';
}

/* rmdir a cgroup, retrying briefly while the kernel still calls it busy.
 * A directory that is already gone is fine. */
static int remove_dir(const char *dir, struct sp_error *err)
{
	unsigned int round;

	for (round = 0;; round++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || round + 1 >= RMDIR_TRIES)
			return sp_error_set(err, errno, "rmdir %s", dir);
		backoff(round);
	}
}

/* ---- where this process is: /proc/self/cgroup and /proc/self/mountinfo ---- */

/* Whether LIST (LEN bytes) holds WORD between separators from SEPS. */
static bool has_word(const char *list, size_t len, const char *word, const char *seps)
{
	size_t wlen = strlen(word);
	size_t i = 0;

	while (i < len) {
		size_t n = 0;

		while (i + n < len && list[i + n] != '\0' && strchr(seps, list[i + n]) == NULL)
			n++;
		if (n == wlen && memcmp(list + i, word, n) == 0)
			return true;
		i += n + 1;
	}
	return false;
}

/* Find the path of the cgroup for CONTROLLER (NULL: the v2 "0::" line) in
 * the text of /proc/self/cgroup. Returns 0, 1 when absent, -1. */
static int find_own_path(const char *text, const char *controller, char *path, size_t size,
			 struct sp_error *err)
{
	const char *line = text;

	while (line != NULL && *line != '\0') {
		const char *end = strchrnul(line, '\n');
		const char *c1 = memchr(line, ':', (size_t)(end - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;

		if (c2 != NULL) {
			size_t list_len = (size_t)(c2 - c1 - 1);
			bool match = controller
					 ? has_word(c1 + 1, list_len, controller, ",")
					 : (c1 - line == 1 && line[0] == '0' && list_len == 0);

			if (match) {
				size_t plen = (size_t)(end - c2 - 1);

				if (plen == 0 || plen >= size)
					return sp_error_set(err, ENAMETOOLONG,
							    "bad cgroup path for %s",
							    controller ? controller : "cgroup2");
				memcpy(path, c2 + 1, plen);
				path[plen] = '\0';
				return 0;
			}
		}
		line = *end ? end + 1 : NULL;
	}
	return 1;
}

/* A path with a ".." component lies outside our cgroup namespace. */
static bool has_dotdot(const char *path)
{
	const char *p = path;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
		p += 2;
	}
	return false;
}

/* Decode the octal escapes (\040 for a space...) of a mountinfo field in place. */
static void unescape(char *s)
{
	char *out = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

struct mount_entry {
	char *root;  /* the directory of the filesystem mounted there */
	char *point; /* the mount point */
	char *fstype;
	char *super_options;
};

/* Split one mountinfo line (modified in place). Returns 0, or -1 when malformed. */
static int parse_mount_line(char *line, struct mount_entry *m)
{
	char *field[6];
	char *tok;
	size_t i;

	for (i = 0; i < SP_ARRAY_SIZE(field); i++) {
		field[i] = strsep(&line, " ");
		if (field[i] == NULL)
			return -1;
	}
	/* optional fields end with a lone "-" */
	do {
		tok = strsep(&line, " ");
	} while (tok != NULL && strcmp(tok, "-") != 0);
	m->fstype = strsep(&line, " ");
	if (tok == NULL || m->fstype == NULL || strsep(&line, " ") == NULL || line == NULL)
		return -1;
	m->super_options = line;
	m->root = field[3];
	m->point = field[4];
	unescape(m->root);
	unescape(m->point);
	return 0;
}

static bool mount_matches(const struct mount_entry *m, const char *controller)
{
	if (controller == NULL)
		return strcmp(m->fstype, "cgroup2") == 0;
	return strcmp(m->fstype, "cgroup") == 0 &&
	       has_word(m->super_options, strlen(m->super_options), controller, ",");
}

/* The directory of cgroup PATH under mount M. Returns 0, 1 when PATH is not
 * below the mount's root, -1 when too long. */
static int mount_dir_of(const struct mount_entry *m, const char *path, char *dir, size_t size)
{
	size_t rlen = strlen(m->root);
	const char *rel;
	int n;

	if (strcmp(m->root, "/") == 0)
		rel = path;
	else if (strncmp(path, m->root, rlen) == 0 && (path[rlen] == '\0' || path[rlen] == '/'))
		rel = path + rlen;
	else
		return 1;
	if (strcmp(rel, "/") == 0)
		rel = "";
	n = snprintf(dir, size, "%s%s", m->point, rel);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int sp_cgroup_resolve_dir(const char *proc_cgroup, const char *mountinfo, const char *controller,
			  char *dir, size_t size, struct sp_error *err)
{
	const char *what = controller ? controller : "cgroup2";
	cleanup_free char *copy = NULL;
	char path[PATH_MAX], found[PATH_MAX];
	char *save = NULL, *line;
	bool seen = false;
	int best = 0, rank, r;

	r = find_own_path(proc_cgroup, controller, path, sizeof(path), err);
	if (r != 0)
		return r;
	if (has_dotdot(path))
		return sp_error_set(err, EXDEV, "%s cgroup %s lies outside this cgroup namespace",
				    what, path);
	copy = strdup(mountinfo);
	if (copy == NULL)
		return sp_error_set(err, ENOMEM, "copy mountinfo");
	/* The first usable mount wins, but one below /sys/fs/cgroup beats others. */
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mount_entry m;

		if (parse_mount_line(line, &m) < 0 || !mount_matches(&m, controller))
			continue;
		seen = true;
		rank = strncmp(m.point, CGROUP_MOUNT, strlen(CGROUP_MOUNT)) == 0 ? 2 : 1;
		if (rank <= best)
			continue;
		r = mount_dir_of(&m, path, found, sizeof(found));
		if (r < 0 || (r == 0 && strlen(found) >= size))
			return sp_error_set(err, ENAMETOOLONG, "path of %s cgroup %s", what, path);
		if (r == 0) {
			memcpy(dir, found, strlen(found) + 1);
			best = rank;
		}
	}
	if (best > 0)
		return 0;
	if (seen)
		return sp_error_set(
		    err, EXDEV, "%s cgroup %s is outside every mount of its hierarchy", what, path);
	return 1;
}

static int read_self(char **proc_cgroup, char **mountinfo, struct sp_error *err)
{
	if (read_file("/proc/self/cgroup", proc_cgroup, err) < 0)
		return -1;
	return read_file("/proc/self/mountinfo", mountinfo, err);
}

/* ---- killing and waiting ---- */

/* SIGKILL every process listed in DIR/cgroup.procs. Returns how many were
 * listed (0 when the cgroup is empty or gone), or -1. */
static int kill_listed(const char *dir, struct sp_error *err)
{
	cleanup_free char *text = NULL;
	pid_t self = getpid();
	int listed = 0;
	char *p, *end;

	if (read_at(dir, "cgroup.procs", &text, err) < 0)
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

/* Kill the processes of DIR until its cgroup.procs is empty, for a bounded time. */
static int kill_until_empty(const char *dir, struct sp_error *err)
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
		backoff(round);
	}
}

/* Wait until "populated 0" in DIR/cgroup.events, for a bounded time. */
static int v2_wait_unpopulated(const char *dir, struct sp_error *err)
{
	uint64_t deadline = sp_clock_ms() + EMPTY_WAIT_MS;
	unsigned int round;
	uint64_t populated;
	int r;

	for (round = 0;; round++) {
		r = read_key_at(dir, "cgroup.events", "populated", &populated, err);
		if (r < 0)
			return -1;
		if (r == 1 || populated == 0)
			return 0;
		if (sp_clock_ms() >= deadline)
			return sp_error_set(err, ETIMEDOUT, "cgroup %s still populated", dir);
		backoff(round);
	}
}

static int v2_kill(const struct sp_cgroup_root *root, const char *dir, struct sp_error *err)
{
	if (root->has_kill) {
		if (write_at(dir, "cgroup.kill", "1", err) < 0)
			return err->errnum == ENOENT ? 0 : -1;
	} else if (kill_until_empty(dir, err) < 0) {
		return -1;
	}
	return v2_wait_unpopulated(dir, err);
}

/* ---- root: none ---- */

static void __attribute__((format(printf, 2, 3)))
set_none(struct sp_cgroup_root *root, const char *fmt, ...)
{
	char reason[sizeof(root->reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	memset(root, 0, sizeof(*root));
	root->mode = SP_CGROUP_NONE;
	memcpy(root->reason, reason, sizeof(reason));
	log_info("cgroups not used: %s", root->reason);
}

/* ---- root: v1 ---- */

static void v1_set_flags(struct sp_cgroup_root *root)
{
	root->limits_memory = exists_at(root->v1_memory_dir, "memory.limit_in_bytes");
	root->limits_swap =
	    root->limits_memory && exists_at(root->v1_memory_dir, "memory.memsw.limit_in_bytes");
	root->limits_pids = exists_at(root->v1_pids_dir, "pids.max");
	root->counts_cpu = exists_at(root->v1_cpuacct_dir, "cpuacct.usage");
	root->has_peak = exists_at(root->v1_memory_dir, "memory.max_usage_in_bytes");
	root->has_kill = false;
}

static void v1_set_reason(struct sp_cgroup_root *root, const char *notes)
{
	char *r = root->reason;
	size_t size = sizeof(root->reason);

	snprintf(r, size, "cgroup v1:%s%s%s", root->limits_memory ? " memory" : "",
		 root->limits_pids ? " pids" : "", root->counts_cpu ? " cpuacct" : "");
	if (root->limits_memory && !root->limits_swap)
		append_note(r, size, "no memsw (swap not limited)");
	if (notes[0] != '\0')
		append_note(r, size, "%s", notes);
}

/* Make <own>/<name> in one hierarchy. Returns 0, 1 when skipped (NOTES says
 * why), -1. */
/* A cgroup a sandpool process made (sandpool-WORD-PID) whose process is
 * gone: what a kill -9 left behind. */
static bool stale_name(const char *name)
{
	const char *dash = strrchr(name, '-');
	char *end;
	long pid;

	if (strncmp(name, "sandpool-", 9) != 0 || dash == NULL)
		return false;
	pid = strtol(dash + 1, &end, 10);
	if (*end != '\0' || pid <= 0 || end == dash + 1)
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
		    join(child, sizeof(child), dir, e->d_name, &err) < 0)
			continue;
		kill_until_empty(child, &err);
		rmdir(child);
	}
	if (d != NULL)
		closedir(d);
	kill_until_empty(dir, &err);
	if (rmdir(dir) == 0)
		log_info("removed %s, left by a sandpool that is gone", dir);
}

/* Below OWN, remove the cgroups of sandpool processes that died without
 * cleaning up (killed with SIGKILL, say). */
static void sweep_stale(const char *own)
{
	struct sp_error err = {0};
	DIR *d = opendir(own);
	struct dirent *e;
	char dir[PATH_MAX];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_type == DT_DIR && stale_name(e->d_name) &&
		    join(dir, sizeof(dir), own, e->d_name, &err) == 0)
			remove_cgroup_tree(dir);
	}
	if (d != NULL)
		closedir(d);
}

static int v1_make_parent(const char *proc_cgroup, const char *mountinfo, size_t i,
			  const char *name, char *dir, bool *created, char *notes, size_t nsize,
			  struct sp_error *err)
{
	char own[PATH_MAX];
	int r;

	r = sp_cgroup_resolve_dir(proc_cgroup, mountinfo, v1_controllers[i], own, sizeof(own), err);
	if (r != 0) {
		if (r < 0)
			append_note(notes, nsize, "%s", err->message);
		else
			append_note(notes, nsize, "no %s hierarchy", v1_controllers[i]);
		return 1;
	}
	if (join(dir, PATH_MAX, own, name, err) < 0)
		return -1;
	sweep_stale(own);
	if (make_dir(dir, true, created, err) == 0)
		return 0;
	dir[0] = '\0';
	if (!is_denied(err->errnum))
		return -1;
	log_info("%s: %s", err->message, strerror(err->errnum));
	append_note(notes, nsize, "%s: %s", v1_controllers[i], strerror(err->errnum));
	return 1;
}

static int v1_root_init(struct sp_cgroup_root *root, const char *name, struct sp_error *err)
{
	char *dirs[V1_COUNT] = V1_DIRS(root);
	bool created[V1_COUNT] = {false};
	cleanup_free char *proc_cgroup = NULL;
	cleanup_free char *mountinfo = NULL;
	char notes[sizeof(root->reason)] = "";
	size_t i, usable = 0;
	int r;

	if (read_self(&proc_cgroup, &mountinfo, err) < 0)
		return -1;
	for (i = 0; i < V1_COUNT; i++) {
		r = v1_make_parent(proc_cgroup, mountinfo, i, name, dirs[i], &created[i], notes,
				   sizeof(notes), err);
		if (r < 0)
			goto fail;
		if (r == 0)
			usable++;
	}
	if (usable == 0) {
		set_none(root, "cgroup v1 without a usable memory, pids or cpuacct hierarchy: %s",
			 notes);
		return 0;
	}
	root->mode = SP_CGROUP_V1;
	v1_set_flags(root);
	v1_set_reason(root, notes);
	log_info("%s", root->reason);
	return 0;

fail:
	undo_dirs(dirs, created, V1_COUNT);
	return -1;
}

/* ---- root: v2 ---- */

/* Bits of the controllers listed in DIR/FILE (cgroup.controllers or
 * cgroup.subtree_control). */
static int v2_read_controllers(const char *dir, const char *file, unsigned int *mask,
			       struct sp_error *err)
{
	cleanup_free char *text = NULL;
	size_t i;

	*mask = 0;
	if (read_at(dir, file, &text, err) < 0)
		return -1;
	for (i = 0; i < SP_ARRAY_SIZE(v2_controllers); i++)
		if (has_word(text, strlen(text), v2_controllers[i], " \n"))
			*mask |= 1u << i;
	return 0;
}

/* Enable memory, pids and cpu (those DIR offers) in DIR/cgroup.subtree_control,
 * one at a time. cpu is best effort (the kernel may refuse it, e.g. while
 * realtime tasks exist); memory and pids failures are returned. */
static int v2_enable(const char *dir, unsigned int *enabled, struct sp_error *err)
{
	unsigned int offered, active, bit;
	char value[16];
	size_t i;

	if (v2_read_controllers(dir, "cgroup.controllers", &offered, err) < 0 ||
	    v2_read_controllers(dir, "cgroup.subtree_control", &active, err) < 0)
		return -1;
	for (i = 0; i < SP_ARRAY_SIZE(v2_controllers); i++) {
		bit = 1u << i;
		if (!(offered & bit) || (active & bit))
			continue;
		snprintf(value, sizeof(value), "+%s", v2_controllers[i]);
		if (write_at(dir, "cgroup.subtree_control", value, err) == 0) {
			active |= bit;
			continue;
		}
		if (bit != CTRL_CPU)
			return -1;
		log_warn("cpu controller not enabled in %s: %s", dir, strerror(err->errnum));
	}
	*enabled = active;
	return 0;
}

/* How many processes other than this one DIR holds, or -1. */
static int v2_count_others(const char *dir, struct sp_error *err)
{
	cleanup_free char *text = NULL;
	pid_t self = getpid();
	int others = 0;
	char *p, *end;

	if (read_at(dir, "cgroup.procs", &text, err) < 0)
		return -1;
	for (p = text;; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid != self)
			others++;
	}
	return others;
}

static int v2_move_self(const char *dir, struct sp_error *err)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return write_at(dir, "cgroup.procs", pid, err);
}

/* Move this process out of OWN into <own>/sandpool-supervisor so that OWN may
 * enable controllers. Returns 0, 1 when the mode is none (reason set), -1. */
static int v2_move_into_leaf(struct sp_cgroup_root *root, const char *own, struct sp_error *err)
{
	char leaf[PATH_MAX];
	bool created;
	int others, n;

	others = v2_count_others(own, err);
	if (others < 0)
		return -1;
	if (others > 0) {
		set_none(root,
			 "cgroup v2: %s holds %d other processes, so no controller can be "
			 "enabled below it; run sandpool in a cgroup of its own",
			 own, others);
		return 1;
	}
	n = snprintf(leaf, sizeof(leaf), "%s/%s", own, LEAF_NAME);
	if (n < 0 || (size_t)n >= sizeof(leaf))
		return sp_error_set(err, ENAMETOOLONG, "leaf cgroup below %s", own);
	if (make_dir(leaf, true, &created, err) < 0)
		goto denied;
	if (v2_move_self(leaf, err) < 0) {
		if (created)
			rmdir(leaf);
		goto denied;
	}
	memcpy(root->v2_leaf_dir, leaf, sizeof(leaf));
	log_info("moved this process into %s (no internal processes in cgroup v2)", leaf);
	return 0;

denied:
	if (!is_denied(err->errnum))
		return -1;
	set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
	return 1;
}

/* Undo v2_move_into_leaf, best effort: back into OWN, remove the leaf. */
static void v2_leave_leaf(struct sp_cgroup_root *root, const char *own)
{
	struct sp_error ignored;

	if (root->v2_leaf_dir[0] == '\0')
		return;
	if (v2_move_self(own, &ignored) == 0)
		rmdir(root->v2_leaf_dir);
	root->v2_leaf_dir[0] = '\0';
}

/* Enable the controllers in OWN, moving into a leaf if OWN holds only this
 * process. Returns 0, 1 when the mode is none (reason set), -1. */
static int v2_enable_own(struct sp_cgroup_root *root, const char *own, struct sp_error *err)
{
	unsigned int enabled;
	int r;

	if (v2_enable(own, &enabled, err) == 0)
		return 0;
	if (err->errnum == EBUSY && root->v2_leaf_dir[0] == '\0') {
		r = v2_move_into_leaf(root, own, err);
		if (r != 0)
			return r;
		if (v2_enable(own, &enabled, err) == 0)
			return 0;
		v2_leave_leaf(root, own);
	}
	if (err->errnum == EBUSY) {
		set_none(root,
			 "cgroup v2: %s holds other processes, so no controller can be "
			 "enabled below it; run sandpool in a cgroup of its own",
			 own);
		return 1;
	}
	if (is_denied(err->errnum) || err->errnum == EOPNOTSUPP) {
		set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
		return 1;
	}
	return -1;
}

/* Our own cgroup directory; when this process already lives in the leaf
 * <own>/sandpool-supervisor (an earlier init), its parent. Returns 0, 1 when
 * the mode is none (reason set), -1. */
static int v2_own_dir(struct sp_cgroup_root *root, char *own, size_t size, struct sp_error *err)
{
	cleanup_free char *proc_cgroup = NULL;
	cleanup_free char *mountinfo = NULL;
	char *slash;
	int r;

	if (read_self(&proc_cgroup, &mountinfo, err) < 0)
		return -1;
	r = sp_cgroup_resolve_dir(proc_cgroup, mountinfo, NULL, own, size, err);
	if (r != 0) {
		if (r < 0)
			set_none(root, "cgroup v2: %s", err->message);
		else
			set_none(root, "cgroup v2: this process is in no cgroup2 cgroup");
		return 1;
	}
	slash = strrchr(own, '/');
	if (slash != NULL && strcmp(slash + 1, LEAF_NAME) == 0) {
		memcpy(root->v2_leaf_dir, own, strlen(own) + 1);
		*slash = '\0';
	}
	return 0;
}

static void v2_set_flags(struct sp_cgroup_root *root, unsigned int enabled)
{
	const char *dir = root->v2_dir;

	root->limits_memory = (enabled & CTRL_MEMORY) && exists_at(dir, "memory.max");
	root->limits_swap = root->limits_memory && exists_at(dir, "memory.swap.max");
	root->limits_pids = (enabled & CTRL_PIDS) && exists_at(dir, "pids.max");
	root->counts_cpu = exists_at(dir, "cpu.stat");
	root->has_kill = exists_at(dir, "cgroup.kill");
	root->has_peak = root->limits_memory && exists_at(dir, "memory.peak");
}

static void v2_set_reason(struct sp_cgroup_root *root)
{
	char *r = root->reason;
	size_t size = sizeof(root->reason);

	snprintf(r, size, "cgroup v2:%s%s%s", root->limits_memory ? " memory" : "",
		 root->limits_pids ? " pids" : "", root->counts_cpu ? " cpu.stat" : "");
	if (!root->limits_memory)
		append_note(r, size, "memory controller not available");
	else if (!root->limits_swap)
		append_note(r, size, "no memory.swap.max (swap not limited)");
	if (!root->limits_pids)
		append_note(r, size, "pids controller not available");
	if (root->limits_memory && !root->has_peak)
		append_note(r, size, "no memory.peak (largest resident set reported)");
	if (!root->has_kill)
		append_note(r, size, "no cgroup.kill");
	if (root->v2_leaf_dir[0] != '\0')
		append_note(r, size, "supervisor in %s", root->v2_leaf_dir);
}

static int v2_root_init(struct sp_cgroup_root *root, const char *name, struct sp_error *err)
{
	char own[PATH_MAX];
	unsigned int enabled = 0;
	bool created = false;
	int r;

	r = v2_own_dir(root, own, sizeof(own), err);
	if (r == 0)
		r = v2_enable_own(root, own, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	sweep_stale(own);
	if (join(root->v2_dir, sizeof(root->v2_dir), own, name, err) < 0 ||
	    make_dir(root->v2_dir, true, &created, err) < 0 ||
	    v2_enable(root->v2_dir, &enabled, err) < 0)
		goto fail;
	if (!(enabled & (CTRL_MEMORY | CTRL_PIDS))) {
		if (created)
			rmdir(root->v2_dir);
		set_none(root, "cgroup v2: neither memory nor pids controller available in %s",
			 own);
		return 0;
	}
	root->mode = SP_CGROUP_V2;
	v2_set_flags(root, enabled);
	v2_set_reason(root);
	log_info("%s", root->reason);
	return 0;

fail:
	if (created)
		rmdir(root->v2_dir);
	root->v2_dir[0] = '\0';
	if (!is_denied(err->errnum))
		return -1;
	set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
	return 0;
}

/* ---- root ---- */

int sp_cgroup_root_init(struct sp_cgroup_root *root, const char *name,
			enum sp_cgroup_request request, struct sp_error *err)
{
	struct sp_error local;
	struct statfs fs;

	if (err == NULL)
		err = &local;
	memset(root, 0, sizeof(*root));
	root->mode = SP_CGROUP_NONE;
	if (!valid_name(name))
		return sp_error_set(err, EINVAL, "bad cgroup name '%s'", name ? name : "(null)");
	if (request == SP_CGROUP_FORCE_NONE) {
		set_none(root, "disabled by request");
		return 0;
	}
	if (statfs(CGROUP_MOUNT, &fs) < 0) {
		set_none(root, "statfs %s: %s", CGROUP_MOUNT, strerror(errno));
		return 0;
	}
	if (fs.f_type == CGROUP2_SUPER_MAGIC)
		return v2_root_init(root, name, err);
	if (fs.f_type == TMPFS_MAGIC)
		return v1_root_init(root, name, err);
	set_none(root, "%s is neither cgroup2 nor tmpfs (type 0x%llx)", CGROUP_MOUNT,
		 (unsigned long long)fs.f_type);
	return 0;
}

int sp_cgroup_root_destroy(struct sp_cgroup_root *root, struct sp_error *err)
{
	char *dirs[] = {root->v2_dir, root->v1_memory_dir, root->v1_pids_dir, root->v1_cpuacct_dir};
	struct sp_error local;
	size_t i;

	if (err == NULL)
		err = &local;
	for (i = 0; i < SP_ARRAY_SIZE(dirs); i++) {
		if (dirs[i][0] == '\0')
			continue;
		if (remove_dir(dirs[i], err) < 0)
			return -1;
		dirs[i][0] = '\0';
	}
	/* The leaf holds this process until it exits; it goes when empty. */
	if (root->v2_leaf_dir[0] != '\0') {
		if (rmdir(root->v2_leaf_dir) == 0 || errno == ENOENT)
			root->v2_leaf_dir[0] = '\0';
		else
			log_debug("leaving %s in place: %s", root->v2_leaf_dir, strerror(errno));
	}
	return 0;
}

/* ---- cells ---- */

static uint64_t memory_bytes(uint64_t memory_kb)
{
	const uint64_t max_kb = INT64_MAX / 1024;

	return (memory_kb < max_kb ? memory_kb : max_kb) * 1024;
}

/* The pids limit of the cgroup for a step that may have PROCESSES. */
static uint64_t pids_max(uint64_t processes)
{
	return processes + SP_CGROUP_CELL_INIT_PROCESSES;
}

/* memsw (memory + swap) may never be below limit_in_bytes: when the kernel
 * refuses the first write, the other order works. */
static int v1_set_memory(const char *dir, uint64_t bytes, bool memsw, struct sp_error *err)
{
	if (write_u64_at(dir, "memory.limit_in_bytes", bytes, err) == 0)
		return memsw ? write_u64_at(dir, "memory.memsw.limit_in_bytes", bytes, err) : 0;
	if (!memsw || err->errnum != EINVAL)
		return -1;
	if (write_u64_at(dir, "memory.memsw.limit_in_bytes", bytes, err) < 0)
		return -1;
	return write_u64_at(dir, "memory.limit_in_bytes", bytes, err);
}

/* "max" for 0 (no limit), else the number. */
static void limit_text(char *text, size_t size, uint64_t value)
{
	if (value == 0)
		snprintf(text, size, "max");
	else
		snprintf(text, size, "%" PRIu64, value);
}

static int v2_set_limits(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			 struct sp_error *err)
{
	const struct sp_cgroup_root *root = cg->root;
	char text[32];

	if (root->limits_memory && (!cg->limits_known || limits->memory_kb != cg->memory_kb)) {
		limit_text(text, sizeof(text),
			   limits->memory_kb ? memory_bytes(limits->memory_kb) : 0);
		if (write_at(cg->v2_dir, "memory.max", text, err) < 0)
			return -1;
	}
	if (root->limits_pids && (!cg->limits_known || limits->processes != cg->processes)) {
		limit_text(text, sizeof(text), limits->processes ? pids_max(limits->processes) : 0);
		if (write_at(cg->v2_dir, "pids.max", text, err) < 0)
			return -1;
	}
	return 0;
}

static int v1_set_limits(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			 struct sp_error *err)
{
	const struct sp_cgroup_root *root = cg->root;
	const char *mem = cg->v1_memory_dir;
	const char *pids = cg->v1_pids_dir;
	char text[32];

	if (root->limits_memory && mem[0] != '\0' &&
	    (!cg->limits_known || limits->memory_kb != cg->memory_kb) &&
	    v1_set_memory(mem, limits->memory_kb ? memory_bytes(limits->memory_kb) : INT64_MAX,
			  root->limits_swap, err) < 0)
		return -1;
	if (root->limits_pids && pids[0] != '\0' &&
	    (!cg->limits_known || limits->processes != cg->processes)) {
		limit_text(text, sizeof(text), limits->processes ? pids_max(limits->processes) : 0);
		if (write_at(pids, "pids.max", text, err) < 0)
			return -1;
	}
	return 0;
}

/* Settings made once, when the cell cgroup is new. */
static int v2_prepare(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	if (cg->root->limits_swap && write_at(cg->v2_dir, "memory.swap.max", "0", err) < 0)
		return -1;
	return 0;
}

static int v1_prepare(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	const char *mem = cg->v1_memory_dir;

	/* a parent's oom_kill_disable would be inherited: tasks would hang */
	if (cg->root->limits_memory && mem[0] != '\0' &&
	    write_at(mem, "memory.oom_control", "0", err) < 0)
		return -1;
	return 0;
}

/* Whether dirs[i] is one of dirs[0..i) (co-mounted hierarchies). */
static bool same_as_earlier(char *const dirs[], size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (dirs[j][0] != '\0' && strcmp(dirs[j], dirs[i]) == 0)
			return true;
	return false;
}

static int v2_make_dirs(struct sp_cgroup_cell *cg, const char *name, struct sp_error *err)
{
	bool created = false;

	if (join(cg->v2_dir, PATH_MAX, cg->root->v2_dir, name, err) < 0 ||
	    make_dir(cg->v2_dir, false, &created, err) < 0) {
		cg->v2_dir[0] = '\0';
		return -1;
	}
	return 0;
}

static int v1_make_dirs(struct sp_cgroup_cell *cg, const char *name, struct sp_error *err)
{
	const char *parents[V1_COUNT] = V1_DIRS(cg->root);
	char *dirs[V1_COUNT] = V1_DIRS(cg);
	bool created[V1_COUNT] = {false};
	size_t i;

	for (i = 0; i < V1_COUNT; i++) {
		if (parents[i][0] == '\0')
			continue;
		if (join(dirs[i], PATH_MAX, parents[i], name, err) < 0)
			goto fail;
		if (!same_as_earlier(dirs, i) && make_dir(dirs[i], false, &created[i], err) < 0)
			goto fail;
	}
	return 0;

fail:
	undo_dirs(dirs, created, V1_COUNT);
	return -1;
}

/* Open DIR/FILE for the cell's life (-1, not an error, when it is absent). */
static int open_counter(const char *dir, const char *file, int flags, int *fd, struct sp_error *err)
{
	char path[PATH_MAX];

	*fd = -1;
	if (dir[0] == '\0')
		return 0;
	if (join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	*fd = open(path, flags | O_CLOEXEC);
	if (*fd < 0 && errno != ENOENT)
		return sp_error_set(err, errno, "open %s", path);
	return 0;
}

/* The peak restarts when written to (v1: any value; v2: since Linux 6.12,
 * per open file). */
static bool peak_reset(int fd)
{
	return fd >= 0 && pwrite(fd, "0", 1, 0) == 1;
}

static int open_counters(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	bool v2 = cg->root->mode == SP_CGROUP_V2;
	const char *mem = v2 ? cg->v2_dir : cg->v1_memory_dir;
	const char *cpu = v2 ? cg->v2_dir : cg->v1_cpuacct_dir;

	if (open_counter(cpu, v2 ? "cpu.stat" : "cpuacct.usage", O_RDONLY, &cg->cpu_fd, err) < 0)
		return -1;
	if (!cg->root->limits_memory)
		return 0;
	if (open_counter(mem, v2 ? "memory.events" : "memory.oom_control", O_RDONLY, &cg->events_fd,
			 err) < 0)
		return -1;
	/* a peak this process may not write is read as not measured */
	if (open_counter(mem, v2 ? "memory.peak" : "memory.max_usage_in_bytes", O_RDWR,
			 &cg->peak_fd, err) < 0 &&
	    err->errnum != EACCES && err->errnum != EPERM)
		return -1;
	cg->peak_resets = peak_reset(cg->peak_fd);
	return 0;
}

static int attach(struct sp_cgroup_cell *cg, pid_t pid, struct sp_error *err)
{
	char *dirs[] = CELL_DIRS(cg);
	char value[32];
	size_t i;

	snprintf(value, sizeof(value), "%d", (int)pid);
	for (i = 0; i < SP_ARRAY_SIZE(dirs); i++)
		if (dirs[i][0] != '\0' && write_at(dirs[i], "cgroup.procs", value, err) < 0)
			return -1;
	return 0;
}

static void close_counters(struct sp_cgroup_cell *cg)
{
	int *fds[] = {&cg->cpu_fd, &cg->peak_fd, &cg->events_fd};

	for (size_t i = 0; i < SP_ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void sp_cgroup_cell_clear(struct sp_cgroup_cell *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->cpu_fd = cg->peak_fd = cg->events_fd = -1;
}

int sp_cgroup_cell_create(const struct sp_cgroup_root *root, struct sp_cgroup_cell *cg,
			  const char *name, pid_t pid, struct sp_error *err)
{
	struct sp_error local;
	int rc;

	if (err == NULL)
		err = &local;
	sp_cgroup_cell_clear(cg);
	if (root->mode == SP_CGROUP_NONE)
		return 0;
	if (!valid_name(name))
		return sp_error_set(err, EINVAL, "bad cell cgroup name '%s'",
				    name ? name : "(null)");
	cg->root = root;
	if (root->mode == SP_CGROUP_V2)
		rc = v2_make_dirs(cg, name, err) < 0 ? -1 : v2_prepare(cg, err);
	else
		rc = v1_make_dirs(cg, name, err) < 0 ? -1 : v1_prepare(cg, err);
	if (rc == 0)
		rc = open_counters(cg, err);
	if (rc == 0)
		rc = attach(cg, pid, err);
	if (rc < 0) {
		sp_cgroup_cell_destroy(cg, NULL);
		cg->root = NULL;
	}
	return rc;
}

bool sp_cgroup_cell_active(const struct sp_cgroup_cell *cg)
{
	return cg->root != NULL;
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
		find_key(text, key, value);
	else if (!parse_u64(text, value))
		return sp_error_set(err, EINVAL, "no number in a cgroup counter");
	return 0;
}

/* The counters now: cpu in ns, the peak, OOM kills. */
static int read_counters(struct sp_cgroup_cell *cg, struct sp_usage *now, struct sp_error *err)
{
	bool v2 = cg->root->mode == SP_CGROUP_V2;

	if (read_number(cg->cpu_fd, v2 ? "usage_usec" : NULL, &now->cpu_ns, err) < 0 ||
	    read_number(cg->events_fd, "oom_kill", &now->oom_kills, err) < 0 ||
	    (cg->peak_resets && read_number(cg->peak_fd, NULL, &now->memory_bytes, err) < 0))
		return -1;
	if (v2)
		now->cpu_ns *= 1000;
	return 0;
}

int sp_cgroup_cell_begin(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			 struct sp_error *err)
{
	struct sp_error local;
	int rc;

	if (err == NULL)
		err = &local;
	if (cg->root == NULL)
		return 0;
	rc = cg->root->mode == SP_CGROUP_V2 ? v2_set_limits(cg, limits, err)
					    : v1_set_limits(cg, limits, err);
	if (rc < 0) {
		cg->limits_known = false;
		return -1;
	}
	cg->limits_known = true;
	cg->memory_kb = limits->memory_kb;
	cg->processes = limits->processes;
	if (cg->peak_resets && !peak_reset(cg->peak_fd))
		return sp_error_set(err, errno, "reset the memory peak");
	return read_counters(cg, &cg->start, err);
}

static uint64_t since(uint64_t now, uint64_t start)
{
	return now > start ? now - start : 0;
}

int sp_cgroup_cell_usage(struct sp_cgroup_cell *cg, struct sp_usage *usage, struct sp_error *err)
{
	struct sp_usage now = {0};
	struct sp_error local;

	if (err == NULL)
		err = &local;
	memset(usage, 0, sizeof(*usage));
	if (cg->root == NULL)
		return 0;
	if (read_counters(cg, &now, err) < 0)
		return -1;
	usage->cpu_ns = since(now.cpu_ns, cg->start.cpu_ns);
	usage->memory_bytes = since(now.memory_bytes, cg->start.memory_bytes);
	usage->oom_kills = since(now.oom_kills, cg->start.oom_kills);
	return 0;
}

int sp_cgroup_cell_destroy(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	char *dirs[] = CELL_DIRS(cg);
	struct sp_error local;
	size_t i;

	if (err == NULL)
		err = &local;
	if (cg->root == NULL)
		return 0;
	close_counters(cg);
	if (cg->v2_dir[0] != '\0' && v2_kill(cg->root, cg->v2_dir, err) < 0)
		return -1;
	for (i = 0; i < SP_ARRAY_SIZE(dirs); i++) {
		if (dirs[i][0] == '\0')
			continue;
		if (cg->v2_dir[0] == '\0' && kill_until_empty(dirs[i], err) < 0)
			return -1;
		if (remove_dir(dirs[i], err) < 0)
			return -1;
		dirs[i][0] = '\0';
	}
	cg->root = NULL;
	return 0;
}
