/* cgroups: where this process's cgroup lies, per hierarchy, from the text of
 * /proc/self/cgroup and /proc/self/mountinfo (shared by the v2 and v1
 * backends; sp_cgroup_resolve_dir is public for tests and `sandpool check`). */
#include "cgroup.h"
#include "cgroup_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/base/cleanup.h"

bool sp_cgroup_has_word(const char *list, size_t len, const char *word, const char *seps)
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
					 ? sp_cgroup_has_word(c1 + 1, list_len, controller, ",")
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
	       sp_cgroup_has_word(m->super_options, strlen(m->super_options), controller, ",");
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

int sp_cgroup_read_self(char **proc_cgroup, char **mountinfo, struct sp_error *err)
{
	if (sp_cgroup_read_file("/proc/self/cgroup", proc_cgroup, err) < 0)
		return -1;
	return sp_cgroup_read_file("/proc/self/mountinfo", mountinfo, err);
}

/* ---- killing and waiting ---- */
