#include "paths.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_config.h"

/* DIR/NAME (or DIR alone when NAME is NULL) when it is there to read. */
static int try_path(char *buf, size_t size, const char *dir, const char *name)
{
	int n = name ? snprintf(buf, size, "%s/%s", dir, name) : snprintf(buf, size, "%s", dir);

	if (n < 0 || n >= (int)size)
		return 0;
	return access(buf, R_OK) == 0;
}

/* Look for SUBDIR/NAME: in $ENV_VAR (NAME directly in it), beside the
 * executable (a build tree), in ../share/sandpool from it (an installed
 * tree, wherever it was put), then in the data directory. */
static int find_data(const char *env_var, const char *subdir, const char *name, char *buf,
		     size_t size, struct sp_error *err)
{
	const char *env = getenv(env_var);
	char exe[PATH_MAX];
	char dir[PATH_MAX + 64];
	ssize_t n;

	if (env != NULL && *env != '\0') {
		if (try_path(buf, size, env, name))
			return 0;
		return sp_error_set(err, ENOENT, "%s not found in %s (%s)", name ? name : subdir,
				    env, env_var);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		dirname(exe);
		snprintf(dir, sizeof(dir), "%s/%s", exe, subdir);
		if (try_path(buf, size, dir, name))
			return 0;
		snprintf(dir, sizeof(dir), "%s/../share/sandpool/%s", exe, subdir);
		if (try_path(buf, size, dir, name))
			return 0;
	}
	snprintf(dir, sizeof(dir), "%s/%s", SANDPOOL_DATADIR, subdir);
	if (try_path(buf, size, dir, name))
		return 0;
	return sp_error_set(err, ENOENT, "no %s%s%s found (set %s)", subdir, name ? "/" : "",
			    name ? name : "", env_var);
}

int sp_policy_path(const char *name, char *buf, size_t size, struct sp_error *err)
{
	char file[NAME_MAX + 1];

	snprintf(file, sizeof(file), "%s.json", name);
	return find_data("SANDPOOL_POLICY_DIR", "policies", file, buf, size, err);
}

int sp_web_dir(char *buf, size_t size, struct sp_error *err)
{
	return find_data("SANDPOOL_WEB_DIR", "web", NULL, buf, size, err);
}

int sp_languages_dir(char *buf, size_t size, struct sp_error *err)
{
	return find_data("SANDPOOL_LANGUAGES_DIR", "languages", NULL, buf, size, err);
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
