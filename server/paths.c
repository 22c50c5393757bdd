#include "paths.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static int try_path(char *buf, size_t size, const char *dir, const char *name)
{
	if (snprintf(buf, size, "%s/%s.json", dir, name) >= (int)size)
		return 0;
	return access(buf, R_OK) == 0;
}

int sp_policy_path(const char *name, char *buf, size_t size, struct sp_error *err)
{
	const char *env = getenv("SANDPOOL_POLICY_DIR");
	char exe[PATH_MAX];
	char dir[PATH_MAX + 64];
	ssize_t n;

	if (env != NULL && *env != '\0') {
		if (try_path(buf, size, env, name))
			return 0;
		return sp_error_set(err, ENOENT, "no policy %s.json in %s", name, env);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		dirname(exe);
		snprintf(dir, sizeof(dir), "%s/policies", exe);
		if (try_path(buf, size, dir, name))
			return 0;
		snprintf(dir, sizeof(dir), "%s/../share/sandpool/policies", exe);
		if (try_path(buf, size, dir, name))
			return 0;
	}
	if (try_path(buf, size, SANDPOOL_DATADIR "/policies", name))
		return 0;
	return sp_error_set(err, ENOENT,
			    "no seccomp policy %s.json found (set SANDPOOL_POLICY_DIR)", name);
}

/* mkdir -p, each new folder 0755. */
static int make_dirs(char *path)
{
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static const char *cache_base(char *buf, size_t size)
{
	const char *env = getenv("SANDPOOL_CACHE_DIR");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && env[0] == '/')
		snprintf(buf, size, "%s", env);
	else if (geteuid() == 0)
		snprintf(buf, size, "/var/cache/sandpool");
	else if (xdg != NULL && xdg[0] == '/')
		snprintf(buf, size, "%s/sandpool", xdg);
	else if (home != NULL && home[0] == '/')
		snprintf(buf, size, "%s/.cache/sandpool", home);
	else
		return NULL;
	return buf;
}

int sp_cache_dir(const char *what, char *buf, size_t size)
{
	char base[PATH_MAX];

	if (cache_base(base, sizeof(base)) == NULL)
		return -1;
	if (snprintf(buf, size, "%s/%s", base, what) >= (int)size)
		return -1;
	return make_dirs(buf);
}
