#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layer.h"
#include "oci.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/json_fd.h"
#include "sandbox/base/log.h"
#include "sandbox/mount.h"

#define MAX_TREE_DEPTH 256

/* Besides sp_mount_points: /sys, for tools that look for it. */
static const char *const extra_mount_points[] = {"sys", NULL};

bool sp_image_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > SP_IMAGE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

static int check_name(const char *name, struct sp_error *err)
{
	if (sp_image_name_valid(name))
		return 0;
	return sp_error_set(err, EINVAL,
			    "invalid image name (want [a-z0-9][a-z0-9._-]*, at most %d characters)",
			    SP_IMAGE_NAME_MAX);
}

/* mkdir -p, each new folder 0755. */
static int make_dirs(char *path, struct sp_error *err)
{
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			sp_error_set(err, errno, "mkdir %s", path);
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return sp_error_set(err, errno, "mkdir %s", path);
	return 0;
}

static int state_base(const char *override, char *buf, size_t size, struct sp_error *err)
{
	const char *env = getenv("SANDPOOL_STATE_DIR");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (override != NULL)
		n = snprintf(buf, size, "%s", override);
	else if (env != NULL && env[0] != '\0')
		n = snprintf(buf, size, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/var/lib/sandpool");
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, size, "%s/sandpool", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, size, "%s/.local/share/sandpool", home);
	else
		return sp_error_set(err, ENOENT,
				    "no state directory: set SANDPOOL_STATE_DIR or HOME");
	if (n <= 0 || (size_t)n >= size)
		return sp_error_set(err, ENAMETOOLONG, "state directory");
	return 0;
}

int sp_state_dir(const char *override, char *buf, size_t size, struct sp_error *err)
{
	char path[PATH_MAX];
	char real[PATH_MAX];

	if (state_base(override, path, sizeof(path), err) < 0 || make_dirs(path, err) < 0)
		return -1;
	if (realpath(path, real) == NULL)
		return sp_error_set(err, errno, "state directory %s", path);
	if (snprintf(buf, size, "%s", real) >= (int)size)
		return sp_error_set(err, ENAMETOOLONG, "state directory %s", real);
	return 0;
}

/* The open folders of the state directory. */
struct store {
	int imagesfd;
	int tmpfd;
};

static void store_close(struct store *s)
{
	sp_closep(&s->imagesfd);
	sp_closep(&s->tmpfd);
	s->imagesfd = s->tmpfd = -1;
}

static int open_subdir(int statefd, const char *name, struct sp_error *err)
{
	int fd;

	if (mkdirat(statefd, name, 0755) < 0 && errno != EEXIST)
		return sp_error_set(err, errno, "mkdir %s", name);
	fd = openat(statefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sp_error_set(err, errno, "open %s", name);
	return fd;
}

static int store_open(const char *state_dir, struct store *s, struct sp_error *err)
{
	cleanup_close int statefd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	s->imagesfd = s->tmpfd = -1;
	if (statefd < 0)
		return sp_error_set(err, errno, "state directory %s", state_dir);
	s->imagesfd = open_subdir(statefd, "images", err);
	if (s->imagesfd >= 0)
		s->tmpfd = open_subdir(statefd, "tmp", err);
	if (s->tmpfd < 0) {
		store_close(s);
		return sp_error_wrap(err, "state directory %s", state_dir);
	}
	return 0;
}

static bool image_exists(const struct store *s, const char *name)
{
	struct stat st;

	return fstatat(s->imagesfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int no_image(const char *name, struct sp_error *err)
{
	return sp_error_set(err, 0, "no image %s (sandpool image ls lists them)", name);
}

int sp_store_image_rootfs(const char *state_dir, const char *name, char *buf, size_t size,
			  struct sp_error *err)
{
	struct stat st;

	if (check_name(name, err) < 0)
		return -1;
	if (snprintf(buf, size, "%s/images/%s/rootfs", state_dir, name) >= (int)size)
		return sp_error_set(err, ENAMETOOLONG, "image %s", name);
	if (lstat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
		no_image(name, err);
		err->errnum = ENOENT;
		return -1;
	}
	return 0;
}

/* image.json of NAME beneath IMAGESFD. */
static json_t *load_record(int imagesfd, const char *name, struct sp_error *err)
{
	char path[NAME_MAX + 32];
	cleanup_close int fd = -1;
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof(path), "%s/image.json", name);
	fd = openat(imagesfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		no_image(name, err);
		err->errnum = ENOENT;
		return NULL;
	}
	if (fd < 0) {
		sp_error_set(err, errno, "image %s: open image.json", name);
		return NULL;
	}
	j = sp_json_load_fd(fd, 0, &jerr);
	if (!json_is_object(j)) {
		json_decref(j);
		sp_error_set(err, 0, "image %s: image.json is damaged", name);
		return NULL;
	}
	return j;
}

json_t *sp_store_image_config(const char *state_dir, const char *name, struct sp_error *err)
{
	struct store s;
	json_t *j;

	if (check_name(name, err) < 0 || store_open(state_dir, &s, err) < 0)
		return NULL;
	j = load_record(s.imagesfd, name, err);
	store_close(&s);
	return j;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The valid image names under images/, sorted. */
static int list_names(int imagesfd, char ***names, size_t *count, struct sp_error *err)
{
	cleanup_closedir DIR *d = NULL;
	int fd = openat(imagesfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*count = 0;
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		sp_closep(&fd);
		return sp_error_set(err, errno, "read images");
	}
	while ((de = readdir(d)) != NULL) {
		if (!sp_image_name_valid(de->d_name))
			continue;
		if (*count == cap) {
			void *bigger = reallocarray(*names, cap ? cap * 2 : 16, sizeof(char *));

			if (bigger == NULL)
				return sp_error_set(err, ENOMEM, "list images");
			*names = bigger;
			cap = cap ? cap * 2 : 16;
		}
		if (((*names)[*count] = strdup(de->d_name)) == NULL)
			return sp_error_set(err, ENOMEM, "list images");
		(*count)++;
	}
	qsort(*names, *count, sizeof(char *), compare_names);
	return 0;
}

static void free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

json_t *sp_store_list(const char *state_dir, struct sp_error *err)
{
	struct store s;
	json_t *list = NULL;
	char **names;
	size_t count;

	if (store_open(state_dir, &s, err) < 0)
		return NULL;
	if (list_names(s.imagesfd, &names, &count, err) == 0 && (list = json_array()) == NULL)
		sp_error_set(err, ENOMEM, "list images");
	for (size_t i = 0; list != NULL && i < count; i++) {
		struct sp_error skip = {0};
		json_t *j = load_record(s.imagesfd, names[i], &skip);

		if (j == NULL)
			log_warn("%s", skip.message);
		else
			json_array_append_new(list, j);
	}
	free_names(names, count);
	store_close(&s);
	return list;
}

/* A fresh folder tmp/PREFIX-PID-XXXXXX: its name into NAME. The pid tells
 * a later run whether the process that made it is still there. */
static int make_temp(const char *state_dir, const char *prefix, char *name, size_t size,
		     struct sp_error *err)
{
	char path[PATH_MAX];
	const char *base;

	if (snprintf(path, sizeof(path), "%s/tmp/%s-%d-XXXXXX", state_dir, prefix, (int)getpid()) >=
	    (int)sizeof(path))
		return sp_error_set(err, ENAMETOOLONG, "temporary directory");
	if (mkdtemp(path) == NULL)
		return sp_error_set(err, errno, "make a temporary directory in %s/tmp", state_dir);
	base = strrchr(path, '/') + 1;
	snprintf(name, size, "%s", base);
	return 0;
}

static void remove_temp(int tmpfd, const char *name)
{
	struct sp_error err = {0};
	char text[SP_ERROR_MESSAGE_MAX + 64];

	if (name[0] != '\0' && sp_remove_tree_at(tmpfd, name, &err) < 0)
		log_warn("leftover tmp/%s: %s", name, sp_error_describe(&err, text, sizeof(text)));
}

/* The pid in a temporary folder's name (PREFIX-PID-XXXXXX), or 0. */
static pid_t temp_owner(const char *name)
{
	const char *dash = strchr(name, '-');
	char *end;
	long pid;

	if (dash == NULL)
		return 0;
	pid = strtol(dash + 1, &end, 10);
	return *end == '-' && pid > 0 ? (pid_t)pid : 0;
}

void sp_store_sweep(int dirfd, const char *where)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		pid_t owner = temp_owner(e->d_name);
		struct sp_error err = {0};
		char text[SP_ERROR_MESSAGE_MAX + 64];

		if (owner <= 0 || kill(owner, 0) == 0 || errno != ESRCH)
			continue;
		log_info("removing %s/%s, left by process %d", where, e->d_name, (int)owner);
		if (sp_remove_tree_at(dirfd, e->d_name, &err) < 0)
			log_warn("leftover %s/%s: %s", where, e->d_name,
				 sp_error_describe(&err, text, sizeof(text)));
	}
	closedir(d);
}

int sp_store_remove(const char *state_dir, const char *name, struct sp_error *err)
{
	struct store s;
	char temp[NAME_MAX + 1] = "";
	char moved[NAME_MAX + 16];
	int rc = 0;

	if (check_name(name, err) < 0 || store_open(state_dir, &s, err) < 0)
		return -1;
	if (!image_exists(&s, name)) {
		no_image(name, err);
		err->errnum = ENOENT;
		rc = -1;
	} else if (make_temp(state_dir, "remove", temp, sizeof(temp), err) < 0) {
		rc = -1;
	} else {
		/* Out of images/ by one rename, then deleted at leisure. */
		snprintf(moved, sizeof(moved), "%s/image", temp);
		if (renameat(s.imagesfd, name, s.tmpfd, moved) < 0)
			rc = sp_error_set(err, errno, "remove image %s", name);
	}
	remove_temp(s.tmpfd, temp);
	store_close(&s);
	return rc;
}

/* One import in progress: tmp/import-XXXXXX holds rootfs/, image.json and,
 * for an archive, source/ (the archive unpacked). */
struct import {
	const char *state_dir;
	const char *name;
	const char *source;
	const struct sp_import_options *opts;
	struct store store;
	char temp[NAME_MAX + 1];
	int workfd;
	int rootfd;
	struct sp_oci_image img;
	struct sp_import_result res;
};

static int make_work(struct import *im, struct sp_error *err)
{
	sp_store_sweep(im->store.tmpfd, "tmp");
	if (make_temp(im->state_dir, "import", im->temp, sizeof(im->temp), err) < 0)
		return -1;
	im->workfd =
	    openat(im->store.tmpfd, im->temp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (im->workfd < 0)
		return sp_error_set(err, errno, "open tmp/%s", im->temp);
	if (mkdirat(im->workfd, "rootfs", 0755) < 0)
		return sp_error_set(err, errno, "mkdir tmp/%s/rootfs", im->temp);
	im->rootfd = openat(im->workfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (im->rootfd < 0)
		return sp_error_set(err, errno, "open tmp/%s/rootfs", im->temp);
	return 0;
}

static int apply_layer(struct import *im, size_t i, const struct sp_layer_options *lo,
		       struct sp_error *err)
{
	cleanup_close int fd = sp_oci_open_layer(&im->img, i, err);
	struct sp_layer_stats stats = {0};
	struct stat st;

	if (fd < 0)
		return -1;
	if (im->opts->progress != NULL && fstat(fd, &st) == 0)
		im->opts->progress(im->opts->progress_ctx, i + 1, im->img.layer_count,
				   (uint64_t)st.st_size);
	if (sp_layer_apply(im->rootfd, fd, lo, &stats, err) < 0)
		return sp_error_wrap(err, "layer %zu", i + 1);
	return sp_oci_check_layer(&im->img, i, &stats, err);
}

static int apply_layers(struct import *im, struct sp_error *err)
{
	struct sp_layer_options lo = {.keep_owner = geteuid() == 0, .keep_devices = geteuid() == 0};

	for (size_t i = 0; i < im->img.layer_count; i++) {
		if (apply_layer(im, i, &lo, err) < 0)
			return -1;
	}
	im->res.layers = im->img.layer_count;
	return 0;
}

/* /NAME of the rootfs as an empty 0755 directory, unless it is a directory
 * already; whatever else is there (a file, a symlink) goes. */
static int make_mount_point(int rootfd, const char *name, struct sp_error *err)
{
	cleanup_close int fd = -1;
	struct stat st;

	if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		if (sp_remove_tree_at(rootfd, name, err) < 0)
			return -1;
	} else if (errno != ENOENT) {
		return sp_error_set(err, errno, "stat /%s", name);
	}
	if (mkdirat(rootfd, name, 0755) < 0)
		return sp_error_set(err, errno, "mkdir /%s", name);
	fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0755) < 0)
		return sp_error_set(err, errno, "chmod /%s", name);
	return 0;
}

static int make_mount_points(struct import *im, struct sp_error *err)
{
	for (size_t i = 0; sp_mount_points[i] != NULL; i++) {
		if (make_mount_point(im->rootfd, sp_mount_points[i], err) < 0)
			return sp_error_wrap(err, "image mount point");
	}
	for (size_t i = 0; extra_mount_points[i] != NULL; i++) {
		if (make_mount_point(im->rootfd, extra_mount_points[i], err) < 0)
			return sp_error_wrap(err, "image mount point");
	}
	return 0;
}

static int compare_inodes(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a;
	ino_t y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

/* Count a file with several links once. */
static bool first_link(void **seen, ino_t ino)
{
	ino_t *key = malloc(sizeof(*key));
	void *found;

	if (key == NULL)
		return true;
	*key = ino;
	found = tsearch(key, seen, compare_inodes);
	if (found != NULL && *(ino_t **)found == key)
		return true;
	free(key);
	return found == NULL;
}

/* Bytes of the files and symlinks beneath DIRFD (which it closes). */
static uint64_t tree_size(int dirfd, int depth, void **seen)
{
	cleanup_closedir DIR *d = fdopendir(dirfd);
	struct dirent *de;
	uint64_t total = 0;

	if (d == NULL) {
		close(dirfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int fd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode) ||
		    (S_ISREG(st.st_mode) && (st.st_nlink == 1 || first_link(seen, st.st_ino))))
			total += (uint64_t)st.st_size;
		if (!S_ISDIR(st.st_mode) || depth >= MAX_TREE_DEPTH)
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			total += tree_size(fd, depth + 1, seen);
	}
	return total;
}

static void measure(struct import *im)
{
	void *seen = NULL;
	int fd = dup(im->rootfd);

	im->res.size = fd < 0 ? 0 : tree_size(fd, 0, &seen);
	tdestroy(seen, free);
}

static bool all_strings(json_t *array)
{
	size_t i;
	json_t *v;

	if (!json_is_array(array))
		return false;
	json_array_foreach(array, i, v)
	{
		if (!json_is_string(v))
			return false;
	}
	return true;
}

/* What the image says about running it, each field of the right type. */
static json_t *run_config(json_t *config)
{
	json_t *c = json_object_get(config, "config");
	json_t *env = json_object_get(c, "Env");
	json_t *cmd = json_object_get(c, "Cmd");
	json_t *entrypoint = json_object_get(c, "Entrypoint");
	const char *workdir = json_string_value(json_object_get(c, "WorkingDir"));
	const char *user = json_string_value(json_object_get(c, "User"));

	return json_pack("{s:o, s:s, s:s, s:o, s:o}", "Env",
			 all_strings(env) ? json_deep_copy(env) : json_array(), "WorkingDir",
			 workdir ? workdir : "", "User", user ? user : "", "Cmd",
			 all_strings(cmd) ? json_deep_copy(cmd) : json_null(), "Entrypoint",
			 all_strings(entrypoint) ? json_deep_copy(entrypoint) : json_null());
}

static json_t *image_record(struct import *im)
{
	json_t *config = im->img.config;
	json_t *source = json_string(im->source);
	char now[32];
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack(
	    "{s:s, s:o, s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:I, s:I, s:s, s:o}", "name", im->name,
	    "source", source ? source : json_string("?"), "kind",
	    sp_oci_kind_to_string(im->img.kind), "manifest_digest",
	    im->img.manifest_digest[0] ? im->img.manifest_digest : NULL, "config_digest",
	    im->img.config_digest, "created", json_string_value(json_object_get(config, "created")),
	    "architecture", json_string_value(json_object_get(config, "architecture")), "os",
	    json_string_value(json_object_get(config, "os")), "layers", (json_int_t)im->res.layers,
	    "size", (json_int_t)im->res.size, "imported_at", now, "config", run_config(config));
}

static int write_record(struct import *im, struct sp_error *err)
{
	json_auto_t *record = image_record(im);
	cleanup_close int fd = -1;

	if (record == NULL)
		return sp_error_set(err, ENOMEM, "image.json");
	fd = openat(im->workfd, "image.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return sp_error_set(err, errno, "write image.json");
	if (json_dumpfd(record, fd, JSON_INDENT(2)) < 0 || write(fd, "\n", 1) != 1)
		return sp_error_set(err, errno, "write image.json");
	if (close(steal_fd(&fd)) < 0)
		return sp_error_set(err, errno, "write image.json");
	return 0;
}

static int exists_error(const char *name, struct sp_error *err)
{
	return sp_error_set(err, EEXIST, "image %s exists (use --replace)", name);
}

/* Where RENAME_EXCHANGE is not supported: the old image aside, the new in,
 * the old back when that fails. The old then waits in tmp/ to go. */
static int replace_by_steps(struct import *im, struct sp_error *err)
{
	struct store *s = &im->store;
	char old[NAME_MAX + 16];

	snprintf(old, sizeof(old), "%s-old", im->temp);
	if (renameat(s->imagesfd, im->name, s->tmpfd, old) < 0)
		return sp_error_set(err, errno, "move image %s aside", im->name);
	if (renameat2(s->tmpfd, im->temp, s->imagesfd, im->name, RENAME_NOREPLACE) < 0) {
		sp_error_set(err, errno, "rename into images/%s", im->name);
		if (renameat(s->tmpfd, old, s->imagesfd, im->name) < 0)
			log_warn("image %s: the old one is left in tmp/%s", im->name, old);
		return -1;
	}
	remove_temp(s->tmpfd, old);
	return 0;
}

/* The finished import into images/NAME. With replace, the old image is
 * swapped out at once and left in tmp/ for removal. */
static int install(struct import *im, struct sp_error *err)
{
	struct store *s = &im->store;

	if (fchmod(im->workfd, 0755) < 0)
		return sp_error_set(err, errno, "chmod tmp/%s", im->temp);
	if (im->opts->replace) {
		if (renameat2(s->tmpfd, im->temp, s->imagesfd, im->name, RENAME_EXCHANGE) == 0)
			return 0;
		if (errno == EINVAL)
			return replace_by_steps(im, err);
		if (errno != ENOENT)
			return sp_error_set(err, errno, "replace images/%s", im->name);
	}
	if (renameat2(s->tmpfd, im->temp, s->imagesfd, im->name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST || errno == ENOTEMPTY)
		return exists_error(im->name, err);
	return sp_error_set(err, errno, "rename into images/%s", im->name);
}

/* The steps of an import, in order. */
static int import_steps(struct import *im, struct sp_error *err)
{
	if (!im->opts->replace && image_exists(&im->store, im->name))
		return exists_error(im->name, err);
	if (make_work(im, err) < 0)
		return -1;
	if (sp_oci_open(im->source, im->workfd, &im->img, err) < 0)
		return -1;
	if (apply_layers(im, err) < 0 || make_mount_points(im, err) < 0)
		return -1;
	/* The unpacked archive, if any, is not part of the image. */
	sp_closep(&im->img.dirfd);
	im->img.dirfd = -1;
	if (sp_remove_tree_at(im->workfd, "source", err) < 0)
		return -1;
	measure(im);
	if (write_record(im, err) < 0)
		return -1;
	return install(im, err);
}

int sp_store_import(const char *state_dir, const char *name, const char *source,
		    const struct sp_import_options *opts, struct sp_import_result *res,
		    struct sp_error *err)
{
	struct import im = {.state_dir = state_dir,
			    .name = name,
			    .source = source,
			    .opts = opts,
			    .workfd = -1,
			    .rootfd = -1,
			    .img = {.dirfd = -1}};
	int rc;

	if (check_name(name, err) < 0 || store_open(state_dir, &im.store, err) < 0)
		return -1;
	rc = import_steps(&im, err);
	sp_oci_image_free(&im.img);
	sp_closep(&im.rootfd);
	sp_closep(&im.workfd);
	/* Failed: the partial import. Replaced: the old image. Else nothing. */
	remove_temp(im.store.tmpfd, im.temp);
	store_close(&im.store);
	if (rc == 0 && res != NULL)
		*res = im.res;
	return rc;
}

const char **sp_store_image_env(json_t *image)
{
	json_t *env = json_object_get(json_object_get(image, "config"), "Env");
	const char **out = calloc(json_array_size(env) + 1, sizeof(*out));
	size_t i, n = 0;
	json_t *item;

	if (out == NULL)
		return NULL;
	json_array_foreach(env, i, item)
	{
		if (json_is_string(item) && strchr(json_string_value(item), '=') != NULL)
			out[n++] = json_string_value(item);
	}
	return out;
}
