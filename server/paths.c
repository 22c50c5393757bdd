#include "paths.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SANDPOOL_DATADIR
#define SANDPOOL_DATADIR "/usr/local/share/sandpool"
#endif

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
	char dir[PATH_MAX + 16];
	ssize_t n;

	if (env != NULL && *env != '\0') {
		if (try_path(buf, size, env, name))
			return 0;
		return sp_error_set(err, ENOENT, "no policy %s.json in %s", name, env);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(dir, sizeof(dir), "%s/policies", dirname(exe));
		if (try_path(buf, size, dir, name))
			return 0;
	}
	if (try_path(buf, size, SANDPOOL_DATADIR "/policies", name))
		return 0;
	return sp_error_set(err, ENOENT,
			    "no seccomp policy %s.json found (set SANDPOOL_POLICY_DIR)", name);
}
