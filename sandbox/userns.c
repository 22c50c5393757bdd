#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

/* Host ids from here on are taken for sandboxes when running as root: one
 * range of SP_IDMAP_RANGE_SIZE per slot, far above any account. */
#define HOST_RANGE_BASE	 0x40000000u
#define HOST_RANGE_SLOTS 16000u

const char *sp_idmap_kind_to_string(enum sp_idmap_kind kind)
{
	switch (kind) {
	case SP_IDMAP_HOST_RANGE:
		return "host-range";
	case SP_IDMAP_SUBID:
		return "subid";
	case SP_IDMAP_ONE_ID:
		return "single";
	}
	return "?";
}

static int parse_subid_line(char *line, const char *name, unsigned long id, unsigned long *start,
			    unsigned long *count)
{
	char *owner = strtok(line, ":\n");
	char *first = strtok(NULL, ":\n");
	char *n = strtok(NULL, ":\n");
	char *end;
	unsigned long owner_id;

	if (owner == NULL || first == NULL || n == NULL)
		return 0;
	owner_id = strtoul(owner, &end, 10);
	if (strcmp(owner, name) != 0 && !(*end == '\0' && end != owner && owner_id == id))
		return 0;
	*start = strtoul(first, &end, 10);
	if (*end != '\0')
		return 0;
	*count = strtoul(n, &end, 10);
	return *end == '\0' && *count > 0;
}

int sp_subid_lookup(const char *file, const char *name, unsigned long id, unsigned long *start,
		    unsigned long *count, struct sp_error *err)
{
	cleanup_fclose FILE *f = fopen(file, "re");
	char line[512];

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return sp_error_set(err, errno, "open %s", file);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (parse_subid_line(line, name, id, start, count))
			return 1;
	}
	return 0;
}

/* The login name of UID from /etc/passwd ("" when it has none there). Read
 * directly: sandpool is linked statically and uses no NSS module. */
static void user_name(uid_t uid, char *name, size_t size)
{
	cleanup_fclose FILE *f = fopen("/etc/passwd", "re");
	char line[1024];

	name[0] = '\0';
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *user = strtok(line, ":");
		char *id;

		if (user == NULL || strtok(NULL, ":") == NULL || (id = strtok(NULL, ":")) == NULL)
			continue;
		if (strtoul(id, NULL, 10) == uid) {
			snprintf(name, size, "%s", user);
			return;
		}
	}
}

static int plan_subid(struct sp_idmap *map, struct sp_error *err)
{
	unsigned long start, count;
	char name[256];
	int found;

	user_name(map->outer_uid, name, sizeof(name));
	found = sp_subid_lookup("/etc/subuid", name, map->outer_uid, &start, &count, err);
	if (found <= 0)
		return found;
	map->sub_uid = start;
	map->sub_uid_count = count;
	found = sp_subid_lookup("/etc/subgid", name, map->outer_uid, &start, &count, err);
	if (found <= 0)
		return found;
	if (access("/usr/bin/newuidmap", X_OK) != 0 || access("/usr/bin/newgidmap", X_OK) != 0)
		return 0;
	map->sub_gid = start;
	map->sub_gid_count = count;
	return 1;
}

int sp_idmap_plan(struct sp_idmap *map, enum sp_idmap_request request, unsigned slot,
		  struct sp_error *err)
{
	memset(map, 0, sizeof(*map));
	map->outer_uid = getuid();
	map->outer_gid = getgid();
	if (request == SP_IDMAP_AUTO && geteuid() == 0) {
		map->kind = SP_IDMAP_HOST_RANGE;
		map->outer_uid = HOST_RANGE_BASE + (slot % HOST_RANGE_SLOTS) * SP_IDMAP_RANGE_SIZE;
		map->outer_gid = map->outer_uid;
		map->job_uid = SP_JOB_ID;
		map->job_gid = SP_JOB_ID;
		return 0;
	}
	if (request == SP_IDMAP_AUTO) {
		int found = plan_subid(map, err);

		if (found < 0)
			return -1;
		if (found > 0 && map->sub_uid_count >= SP_JOB_ID &&
		    map->sub_gid_count >= SP_JOB_ID) {
			map->kind = SP_IDMAP_SUBID;
			map->job_uid = SP_JOB_ID;
			map->job_gid = SP_JOB_ID;
			return 0;
		}
	}
	map->kind = SP_IDMAP_ONE_ID;
	map->job_uid = 0;
	map->job_gid = 0;
	return 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *text, struct sp_error *err)
{
	char path[64];
	cleanup_close int fd = -1;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sp_error_set(err, errno, "open %s", path);
	if (write(fd, text, len) != (ssize_t)len)
		return sp_error_set(err, errno, "write %s", path);
	return 0;
}

/* Run newuidmap or newgidmap: TOOL PID 0 OUTER 1 1 SUB COUNT. */
static int run_idmap_tool(const char *tool, pid_t pid, unsigned long outer, unsigned long sub,
			  unsigned long count, struct sp_error *err)
{
	char a_pid[24], a_outer[24], a_sub[24], a_count[24];
	int status;
	pid_t child;

	snprintf(a_pid, sizeof(a_pid), "%d", (int)pid);
	snprintf(a_outer, sizeof(a_outer), "%lu", outer);
	snprintf(a_sub, sizeof(a_sub), "%lu", sub);
	snprintf(a_count, sizeof(a_count), "%lu", count);
	child = fork();
	if (child < 0)
		return sp_error_set(err, errno, "fork %s", tool);
	if (child == 0) {
		char *argv[] = {(char *)tool, a_pid, "0", a_outer, "1", "1", a_sub, a_count, NULL};
		char *envp[] = {NULL};
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execve(tool, argv, envp);
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			return sp_error_set(err, errno, "wait %s", tool);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sp_error_set(err, 0, "%s failed (status %d)", tool, status);
	return 0;
}

int sp_userns_from_parent(const struct sp_idmap *map, pid_t pid, struct sp_error *err)
{
	char text[128];

	switch (map->kind) {
	case SP_IDMAP_HOST_RANGE:
		snprintf(text, sizeof(text), "0 %u %u\n", map->outer_uid, SP_IDMAP_RANGE_SIZE);
		if (write_proc_file(pid, "uid_map", text, err) < 0)
			return -1;
		snprintf(text, sizeof(text), "0 %u %u\n", map->outer_gid, SP_IDMAP_RANGE_SIZE);
		return write_proc_file(pid, "gid_map", text, err);
	case SP_IDMAP_SUBID:
		if (run_idmap_tool("/usr/bin/newuidmap", pid, map->outer_uid, map->sub_uid,
				   map->sub_uid_count, err) < 0)
			return -1;
		return run_idmap_tool("/usr/bin/newgidmap", pid, map->outer_gid, map->sub_gid,
				      map->sub_gid_count, err);
	case SP_IDMAP_ONE_ID:
		if (write_proc_file(pid, "setgroups", "deny", err) < 0)
			return -1;
		snprintf(text, sizeof(text), "0 %u 1\n", map->outer_uid);
		if (write_proc_file(pid, "uid_map", text, err) < 0)
			return -1;
		snprintf(text, sizeof(text), "0 %u 1\n", map->outer_gid);
		return write_proc_file(pid, "gid_map", text, err);
	}
	return sp_error_set(err, EINVAL, "unknown id map kind");
}

int sp_userns_in_child(const struct sp_idmap *map, struct sp_error *err)
{
	if (setresgid(0, 0, 0) < 0)
		return sp_error_set(err, errno, "setresgid 0");
	if (map->kind != SP_IDMAP_ONE_ID && setgroups(0, NULL) < 0)
		return sp_error_set(err, errno, "setgroups");
	if (setresuid(0, 0, 0) < 0)
		return sp_error_set(err, errno, "setresuid 0");
	return 0;
}
