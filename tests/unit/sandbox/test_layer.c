/* Applying image layers: tars built here at run time, applied in order into
 * a fresh tree, the result checked file by file; hostile layers refused
 * with nothing written outside the tree. Runs as root and as nobody. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "rootfs/layer.h"
#include "rootfs/sha256.h"

#define MTIME	    1000000000
#define TMP_OUTSIDE "/tmp/outside"

enum filter { PLAIN, GZIP, ZSTD };

/* One entry of a test layer: 'f' file (data: content), 'd' directory,
 * 'l' symlink and 'h' hard link (data: target), 'c' char device, 'p' fifo. */
struct ent {
	char type;
	const char *path;
	const char *data;
	mode_t mode;
};

struct fixture {
	char base[PATH_MAX];
	char tree[PATH_MAX];
	char canary[PATH_MAX];
	int rootfd;
	int layers;
	bool outside_existed;
};

/* snprintf that must not cut. */
static void fmt(char *out, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void fmt(char *out, size_t size, const char *format, ...)
{
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(out, size, format, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < size);
}

/* ---- building layers ---- */

static void add_entry(struct archive *a, const struct ent *e)
{
	struct archive_entry *ae = archive_entry_new();
	size_t size = 0;

	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_mtime(ae, MTIME, 0);
	archive_entry_set_uid(ae, 1234);
	archive_entry_set_gid(ae, 1234);
	archive_entry_set_perm(ae, e->mode ? e->mode : (e->type == 'd' ? 0755 : 0644));
	switch (e->type) {
	case 'f':
		archive_entry_set_filetype(ae, AE_IFREG);
		size = strlen(e->data);
		break;
	case 'd':
		archive_entry_set_filetype(ae, AE_IFDIR);
		break;
	case 'l':
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_set_symlink(ae, e->data);
		break;
	case 'h':
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_hardlink(ae, e->data);
		break;
	case 'c':
		archive_entry_set_filetype(ae, AE_IFCHR);
		archive_entry_set_rdev(ae, makedev(1, 3));
		break;
	case 'p':
		archive_entry_set_filetype(ae, AE_IFIFO);
		break;
	default:
		fail_msg("bad entry type %c", e->type);
	}
	archive_entry_set_size(ae, (la_int64_t)size);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	if (size > 0)
		assert_int_equal(archive_write_data(a, e->data, size), (la_ssize_t)size);
	archive_entry_free(ae);
}

/* Write ENTS as a tar (compressed with F) to a new file; its path into OUT. */
static void make_layer(struct fixture *fx, enum filter f, const struct ent *ents, char *out)
{
	struct archive *a = archive_write_new();

	fmt(out, PATH_MAX, "%s/layer%d.tar", fx->base, fx->layers++);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	if (f == GZIP)
		assert_true(archive_write_add_filter_gzip(a) >= ARCHIVE_WARN);
	else if (f == ZSTD)
		assert_true(archive_write_add_filter_zstd(a) >= ARCHIVE_WARN);
	assert_int_equal(archive_write_open_filename(a, out), ARCHIVE_OK);
	for (const struct ent *e = ents; e->type != 0; e++)
		add_entry(a, e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static int apply_file(struct fixture *fx, const char *file, const struct sp_layer_options *opts,
		      struct sp_layer_stats *stats, struct sp_error *err)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	int r;

	assert_true(fd >= 0);
	sp_error_clear(err);
	r = sp_layer_apply(fx->rootfd, fd, opts, stats, err);
	close(fd);
	return r;
}

/* Build and apply a layer that must succeed. */
static void apply_ok_opts(struct fixture *fx, enum filter f, const struct ent *ents,
			  const struct sp_layer_options *opts, struct sp_layer_stats *stats)
{
	char file[PATH_MAX];
	struct sp_error err = {0};
	struct sp_layer_stats local;

	make_layer(fx, f, ents, file);
	if (apply_file(fx, file, opts, stats ? stats : &local, &err) < 0)
		fail_msg("apply failed: %s (%s)", err.message, strerror(err.errnum));
}

static void apply_ok(struct fixture *fx, const struct ent *ents)
{
	struct sp_layer_options opts = {0};

	apply_ok_opts(fx, PLAIN, ents, &opts, NULL);
}

/* Build and apply a layer that must fail with a message naming NAME. */
static void apply_refused(struct fixture *fx, const struct ent *ents, const char *name)
{
	char file[PATH_MAX];
	char quoted[PATH_MAX + 2];
	struct sp_error err = {0};
	struct sp_layer_stats stats;
	struct sp_layer_options opts = {0};

	make_layer(fx, PLAIN, ents, file);
	assert_int_equal(apply_file(fx, file, &opts, &stats, &err), -1);
	/* Directory names come back from the tar with a '/' at their end; long
	 * names are cut in the message. */
	snprintf(quoted, sizeof(quoted), "'%.100s", name);
	if (strstr(err.message, quoted) == NULL)
		fail_msg("message '%s' does not name %s", err.message, quoted);
}

/* ---- checking the tree ---- */

static void tree_path(const struct fixture *fx, const char *rel, char *out)
{
	fmt(out, PATH_MAX, "%s/%s", fx->tree, rel);
}

static struct stat lstat_ok(const struct fixture *fx, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	tree_path(fx, rel, path);
	if (lstat(path, &st) < 0)
		fail_msg("%s: %s", rel, strerror(errno));
	return st;
}

static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void assert_file(const struct fixture *fx, const char *rel, const char *text, mode_t mode)
{
	struct stat st = lstat_ok(fx, rel);
	char path[PATH_MAX];
	char buf[4096];

	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	tree_path(fx, rel, path);
	/* Files without the owner read bit: look at them as root only. */
	if ((mode & 0400) || geteuid() == 0) {
		read_text(path, buf, sizeof(buf));
		assert_string_equal(buf, text);
	}
	assert_int_equal(st.st_mtime, MTIME);
}

static void assert_dir(const struct fixture *fx, const char *rel, mode_t mode)
{
	struct stat st = lstat_ok(fx, rel);

	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
}

static void assert_symlink(const struct fixture *fx, const char *rel, const char *target)
{
	char path[PATH_MAX];
	char buf[PATH_MAX];
	ssize_t n;

	tree_path(fx, rel, path);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		fail_msg("readlink %s: %s", rel, strerror(errno));
	buf[n] = '\0';
	assert_string_equal(buf, target);
	assert_int_equal(lstat_ok(fx, rel).st_mtime, MTIME);
}

static void assert_absent(const struct fixture *fx, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	tree_path(fx, rel, path);
	if (lstat(path, &st) == 0 || errno != ENOENT)
		fail_msg("%s should not exist", rel);
}

static void assert_same_inode(const struct fixture *fx, const char *a, const char *b)
{
	struct stat sa = lstat_ok(fx, a);
	struct stat sb = lstat_ok(fx, b);

	assert_int_equal(sa.st_ino, sb.st_ino);
	assert_int_equal(sa.st_dev, sb.st_dev);
}

/* The canary next to the tree holds exactly "victim", unchanged. */
static void assert_canary_untouched(const struct fixture *fx)
{
	char path[PATH_MAX];
	char buf[64];
	DIR *dir = opendir(fx->canary);
	struct dirent *de;
	int count = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		assert_string_equal(de->d_name, "victim");
		count++;
	}
	closedir(dir);
	assert_int_equal(count, 1);
	fmt(path, sizeof(path), "%s/victim", fx->canary);
	read_text(path, buf, sizeof(buf));
	assert_string_equal(buf, "canary\n");
}

static void assert_nothing_outside(const struct fixture *fx)
{
	struct stat st;

	assert_canary_untouched(fx);
	if (!fx->outside_existed)
		assert_true(lstat(TMP_OUTSIDE, &st) < 0 && errno == ENOENT);
}

/* ---- fixture ---- */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	struct stat st;

	if (fx == NULL)
		return -1;
	snprintf(fx->base, sizeof(fx->base), "%s/sp-layer-test-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(fx->base) == NULL)
		return -1;
	fmt(fx->tree, sizeof(fx->tree), "%s/tree", fx->base);
	fmt(fx->canary, sizeof(fx->canary), "%s/canary", fx->base);
	if (mkdir(fx->tree, 0755) < 0 || mkdir(fx->canary, 0755) < 0)
		return -1;
	fmt(path, sizeof(path), "%s/victim", fx->canary);
	write_text(path, "canary\n");
	fx->rootfd = open(fx->tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
	fx->outside_existed = lstat(TMP_OUTSIDE, &st) == 0;
	*state = fx;
	return fx->rootfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct sp_error err = {0};
	int basefd = open(fx->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	close(fx->rootfd);
	/* The removal helper under test cleans up, 0555 directories and all. */
	r = sp_remove_tree_at(basefd, "tree", &err);
	r |= sp_remove_tree_at(basefd, "canary", &err);
	close(basefd);
	if (r == 0 && rmdir(fx->base) < 0) {
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->base);
		r = system(cmd);
	}
	free(fx);
	return r;
}

/* ---- tests ---- */

static void test_plain(void **state)
{
	struct fixture *fx = *state;
	struct sp_layer_options opts = {0};
	struct sp_layer_stats stats;
	const struct ent layer[] = {
	    {'d', "./", NULL, 0755},
	    {'d', "./etc/", NULL, 0755},
	    {'f', "./etc/hostname", "box\n", 0644},
	    {'d', "./var/lib/private", NULL, 0750},
	    {'f', "./var/lib/private/key", "secret", 0600},
	    {'f', "usr/bin/tool", "#!/bin/sh\n", 0755},
	    {'f', "empty", "", 0444},
	    {'f', "ro", "readonly", 0400},
	    {0},
	};

	apply_ok_opts(fx, PLAIN, layer, &opts, &stats);
	assert_file(fx, "etc/hostname", "box\n", 0644);
	assert_file(fx, "var/lib/private/key", "secret", 0600);
	assert_file(fx, "usr/bin/tool", "#!/bin/sh\n", 0755);
	assert_file(fx, "empty", "", 0444);
	assert_file(fx, "ro", "readonly", 0400);
	assert_dir(fx, "etc", 0755);
	assert_dir(fx, "var/lib/private", 0750);
	assert_dir(fx, "usr/bin", 0755);
	assert_int_equal(lstat_ok(fx, "etc").st_mtime, MTIME);
	assert_int_equal(lstat_ok(fx, "var/lib/private").st_mtime, MTIME);
	assert_int_equal(stats.entries, 7);
	assert_int_equal(stats.bytes, 4 + 6 + 10 + 8);
	assert_int_equal(stats.whiteouts, 0);
}

static void test_replace_types(void **state)
{
	struct fixture *fx = *state;
	const struct ent lower[] = {
	    {'f', "x", "file", 0},     {'d', "y", NULL, 0},	  {'f', "y/inner", "i", 0},
	    {'d', "z/deep", NULL, 0},  {'f', "z/deep/f", "f", 0}, {'f', "w", "old", 0},
	    {'d', "keep", NULL, 0700}, {'f', "keep/old", "o", 0}, {0},
	};
	const struct ent upper[] = {
	    {'d', "x", NULL, 0711},
	    {'f', "x/new", "n", 0},
	    {'f', "y", "now a file", 0},
	    {'l', "z", "elsewhere", 0},
	    {'f', "w", "new", 0600},
	    {'d', "keep", NULL, 0755},
	    {0},
	};

	apply_ok(fx, lower);
	apply_ok(fx, upper);
	assert_dir(fx, "x", 0711);
	assert_file(fx, "x/new", "n", 0644);
	assert_file(fx, "y", "now a file", 0644);
	assert_symlink(fx, "z", "elsewhere");
	assert_file(fx, "w", "new", 0600);
	assert_dir(fx, "keep", 0755);
	assert_file(fx, "keep/old", "o", 0644);
}

static void test_whiteouts(void **state)
{
	struct fixture *fx = *state;
	struct sp_layer_options opts = {0};
	struct sp_layer_stats stats;
	const struct ent lower[] = {
	    {'f', "a/keep", "k", 0},	   {'f', "a/gone", "g", 0},
	    {'f', "a/dir/x/y", "y", 0},	   {'d', "a/dir/ro", NULL, 0555},
	    {'f', "a/dir2/z", "z", 0},	   {'l', "a/link", "/etc/passwd", 0},
	    {'l', "a/dirlink", "dir2", 0}, {0},
	};
	const struct ent upper[] = {
	    {'f', "a/same", "s", 0},	     {'f', "a/.wh.gone", "", 0},
	    {'f', "a/.wh.dir", "", 0},	     {'f', "a/.wh.link", "", 0},
	    {'f', "a/.wh.dirlink", "", 0},   {'f', "a/.wh.same", "", 0},
	    {'f', "a/.wh.never-was", "", 0}, {'f', "missing/.wh.x", "", 0},
	    {'f', "a/new", "n", 0},	     {0},
	};

	apply_ok(fx, lower);
	apply_ok_opts(fx, PLAIN, upper, &opts, &stats);
	assert_file(fx, "a/keep", "k", 0644);
	assert_absent(fx, "a/gone");
	assert_absent(fx, "a/dir");
	assert_absent(fx, "a/link");
	assert_absent(fx, "a/dirlink");
	assert_absent(fx, "a/.wh.gone");
	assert_absent(fx, "missing");
	assert_file(fx, "a/dir2/z", "z", 0644);
	/* A whiteout only hides lower layers' entries. */
	assert_file(fx, "a/same", "s", 0644);
	assert_file(fx, "a/new", "n", 0644);
	assert_int_equal(stats.whiteouts, 7);
	assert_int_equal(stats.entries, 2);
}

static void check_opaque(struct fixture *fx, const struct ent *upper)
{
	const struct ent lower[] = {
	    {'f', "d/old1", "o1", 0},	  {'f', "d/sub/old2", "o2", 0},
	    {'f', "d/sub/new2", "o", 0},  {'l', "d/oldlink", "/x", 0},
	    {'d', "d/olddir/e", NULL, 0}, {'f', "other/o", "o", 0},
	    {'f', "d2/o", "o", 0},	  {0},
	};

	apply_ok(fx, lower);
	apply_ok(fx, upper);
	assert_absent(fx, "d/old1");
	assert_absent(fx, "d/sub/old2");
	assert_absent(fx, "d/oldlink");
	assert_absent(fx, "d/olddir");
	assert_absent(fx, "d/.wh..wh..opq");
	assert_file(fx, "d/new1", "n1", 0644);
	assert_file(fx, "d/sub/new2", "n2", 0644);
	assert_symlink(fx, "d/newlink", "/y");
	assert_file(fx, "other/o", "o", 0644);
	assert_file(fx, "d2/o", "o", 0644);
}

static void test_opaque_marker_first(void **state)
{
	const struct ent upper[] = {
	    {'d', "d", NULL, 0755},	  {'f', "d/.wh..wh..opq", "", 0}, {'f', "d/new1", "n1", 0},
	    {'f', "d/sub/new2", "n2", 0}, {'l', "d/newlink", "/y", 0},	  {0},
	};

	check_opaque(*state, upper);
}

static void test_opaque_marker_last(void **state)
{
	const struct ent upper[] = {
	    {'f', "d/new1", "n1", 0},	    {'d', "d/sub", NULL, 0755},
	    {'f', "d/sub/new2", "n2", 0},   {'l', "d/newlink", "/y", 0},
	    {'f', "d/.wh..wh..opq", "", 0}, {0},
	};

	check_opaque(*state, upper);
}

static void test_opaque_new_dir(void **state)
{
	struct fixture *fx = *state;
	const struct ent upper[] = {
	    {'f', "fresh/.wh..wh..opq", "", 0},
	    {'f', "fresh/f", "f", 0},
	    {0},
	};

	apply_ok(fx, upper);
	assert_dir(fx, "fresh", 0755);
	assert_file(fx, "fresh/f", "f", 0644);
}

static void test_hardlinks(void **state)
{
	struct fixture *fx = *state;
	const struct ent lower[] = {
	    {'f', "bin/busybox", "bb", 0755},
	    {'h', "bin/sh", "bin/busybox", 0},
	    {'h', "./usr/bin/env", "./bin/busybox", 0},
	    {'f', "replaced", "old", 0},
	    {'l', "lnk", "target", 0},
	    {0},
	};
	const struct ent upper[] = {
	    {'h', "bin/ls", "bin/sh", 0},
	    {'h', "replaced", "bin/busybox", 0},
	    {'h', "lnk2", "lnk", 0},
	    {0},
	};

	apply_ok(fx, lower);
	apply_ok(fx, upper);
	assert_file(fx, "bin/busybox", "bb", 0755);
	assert_same_inode(fx, "bin/busybox", "bin/sh");
	assert_same_inode(fx, "bin/busybox", "usr/bin/env");
	assert_same_inode(fx, "bin/busybox", "bin/ls");
	assert_same_inode(fx, "bin/busybox", "replaced");
	assert_same_inode(fx, "lnk", "lnk2");
	assert_symlink(fx, "lnk2", "target");
	assert_int_equal(lstat_ok(fx, "bin/busybox").st_nlink, 5);
}

static void test_symlinks(void **state)
{
	struct fixture *fx = *state;
	char victim[PATH_MAX];
	const struct ent layer[] = {
	    {'l', "abs", "/etc/passwd", 0},
	    {'l', "rel", "../../x/y", 0},
	    {'l', "dir/dot", ".", 0},
	    {'l', "proc", "/proc/self/root", 0},
	    {0},
	};
	struct ent lower[] = {
	    {'l', "over", victim, 0},
	    {'l', "overrel", "../canary/victim", 0},
	    {'l', "overdir", "../canary", 0},
	    {0},
	};
	const struct ent upper[] = {
	    {'f', "over", "new", 0},
	    {'f', "overrel", "new", 0},
	    {'d', "overdir", NULL, 0755},
	    {'f', "overdir/victim", "inside", 0},
	    {0},
	};

	fmt(victim, sizeof(victim), "%s/victim", fx->canary);
	apply_ok(fx, layer);
	assert_symlink(fx, "abs", "/etc/passwd");
	assert_symlink(fx, "rel", "../../x/y");
	assert_symlink(fx, "dir/dot", ".");
	assert_symlink(fx, "proc", "/proc/self/root");
	apply_ok(fx, lower);
	apply_ok(fx, upper);
	assert_file(fx, "over", "new", 0644);
	assert_file(fx, "overrel", "new", 0644);
	assert_dir(fx, "overdir", 0755);
	assert_file(fx, "overdir/victim", "inside", 0644);
	assert_nothing_outside(fx);
}

static void test_compressed(void **state)
{
	struct fixture *fx = *state;
	struct sp_layer_options opts = {0};
	struct sp_layer_stats stats;
	const struct ent gz[] = {
	    {'f', "gz/file", "gzip content", 0640},
	    {'l', "gz/link", "file", 0},
	    {0},
	};
	const struct ent zst[] = {
	    {'f', "zst/file", "zstd content", 0604},
	    {'f', "gz/.wh.link", "", 0},
	    {0},
	};

	apply_ok_opts(fx, GZIP, gz, &opts, &stats);
	assert_int_equal(stats.entries, 2);
	apply_ok_opts(fx, ZSTD, zst, &opts, &stats);
	assert_int_equal(stats.entries, 1);
	assert_file(fx, "gz/file", "gzip content", 0640);
	assert_absent(fx, "gz/link");
	assert_file(fx, "zst/file", "zstd content", 0604);
}

static void test_setuid_dropped(void **state)
{
	struct fixture *fx = *state;
	const struct ent layer[] = {
	    {'f', "su", "x", 04755},	  {'f', "sg", "x", 02755},   {'f', "sticky", "x", 01644},
	    {'d', "shared", NULL, 02775}, {'d', "tmp", NULL, 01777}, {0},
	};

	apply_ok(fx, layer);
	assert_file(fx, "su", "x", 0755);
	assert_file(fx, "sg", "x", 0755);
	assert_file(fx, "sticky", "x", 01644);
	assert_dir(fx, "shared", 0775);
	assert_dir(fx, "tmp", 01777);
	assert_int_equal(lstat_ok(fx, "su").st_uid, geteuid());
}

static void test_keep_owner(void **state)
{
	struct fixture *fx = *state;
	struct sp_layer_options opts = {.keep_owner = true};
	const struct ent layer[] = {
	    {'f', "su", "x", 04755},
	    {'d', "shared", NULL, 02775},
	    {'l', "link", "su", 0},
	    {0},
	};

	if (geteuid() != 0)
		skip();
	apply_ok_opts(fx, PLAIN, layer, &opts, NULL);
	assert_file(fx, "su", "x", 04755);
	assert_dir(fx, "shared", 02775);
	assert_int_equal(lstat_ok(fx, "su").st_uid, 1234);
	assert_int_equal(lstat_ok(fx, "su").st_gid, 1234);
	assert_int_equal(lstat_ok(fx, "link").st_uid, 1234);
	assert_int_equal(lstat_ok(fx, "shared").st_gid, 1234);
}

static void test_readonly_dirs(void **state)
{
	struct fixture *fx = *state;
	const struct ent lower[] = {
	    {'d', "ro", NULL, 0555},	   {'f', "ro/f", "f", 0444},
	    {'d', "ro/inner", NULL, 0500}, {'f', "ro/inner/g", "g", 0},
	    {'d', "gone", NULL, 0555},	   {'d', "gone/sub", NULL, 0555},
	    {'f', "gone/sub/h", "h", 0},   {0},
	};
	const struct ent upper[] = {
	    {'f', "ro/new", "n", 0},
	    {'f', "ro/.wh.f", "", 0},
	    {'f', ".wh.gone", "", 0},
	    {0},
	};

	apply_ok(fx, lower);
	assert_dir(fx, "ro", 0555);
	assert_dir(fx, "ro/inner", 0500);
	assert_int_equal(lstat_ok(fx, "ro").st_mtime, MTIME);
	assert_file(fx, "ro/inner/g", "g", 0644);
	apply_ok(fx, upper);
	assert_dir(fx, "ro", 0555);
	assert_absent(fx, "ro/f");
	assert_file(fx, "ro/new", "n", 0644);
	assert_absent(fx, "gone");
}

static void test_devices(void **state)
{
	struct fixture *fx = *state;
	struct sp_layer_options opts = {0};
	struct sp_layer_stats stats;
	const struct ent layer[] = {
	    {'c', "dev/null", NULL, 0666},
	    {'p', "dev/fifo", NULL, 0600},
	    {'f', "dev/.wh..wh.plnk", "", 0},
	    {0},
	};

	apply_ok_opts(fx, PLAIN, layer, &opts, &stats);
	assert_absent(fx, "dev/null");
	assert_absent(fx, "dev/fifo");
	assert_int_equal(stats.skipped, 3);
	if (geteuid() != 0)
		return;
	opts.keep_devices = true;
	apply_ok_opts(fx, PLAIN, layer, &opts, &stats);
	assert_true(S_ISFIFO(lstat_ok(fx, "dev/fifo").st_mode));
	assert_int_equal(lstat_ok(fx, "dev/fifo").st_mode & 07777, 0600);
	/* Device nodes may be refused (a user namespace): then they are skipped. */
	if (stats.skipped == 1)
		assert_true(S_ISCHR(lstat_ok(fx, "dev/null").st_mode));
}

static void test_digest(void **state)
{
	struct fixture *fx = *state;
	struct sp_layer_options opts = {0};
	const struct ent layer[] = {
	    {'f', "a", "some content", 0},
	    {'d', "b", NULL, 0},
	    {0},
	};
	enum filter filters[] = {PLAIN, GZIP, ZSTD};

	for (size_t i = 0; i < 3; i++) {
		char file[PATH_MAX];
		char zeros[3000] = {0};
		struct sp_layer_stats stats;
		struct sp_error err = {0};
		uint8_t sum[32];
		uint64_t length = 0;
		struct stat st;
		int fd;

		make_layer(fx, filters[i], layer, file);
		/* Padding after the end of the tar (or of the gzip stream) counts
		 * too; a zstd stream has none. */
		fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (filters[i] != ZSTD)
			assert_int_equal(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
		close(fd);
		if (apply_file(fx, file, &opts, &stats, &err) < 0)
			fail_msg("filter %zu: %s", i, err.message);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		assert_int_equal(sp_sha256_fd(fd, sum, &length, &err), 0);
		assert_int_equal(fstat(fd, &st), 0);
		close(fd);
		assert_memory_equal(stats.blob_sha256, sum, 32);
		assert_int_equal(stats.blob_bytes, st.st_size);
		assert_int_equal(length, st.st_size);
	}
}

static void test_sha256(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX];
	char digest[SP_DIGEST_MAX];
	struct sp_error err = {0};
	uint8_t sum[32];
	uint64_t length;
	int fd;

	fmt(path, sizeof(path), "%s/abc", fx->base);
	write_text(path, "abc");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(sp_sha256_fd(fd, sum, &length, &err), 0);
	close(fd);
	sp_sha256_to_digest(sum, digest);
	assert_string_equal(digest,
			    "sha256:"
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(length, 3);
}

static void test_not_a_tar(void **state)
{
	struct fixture *fx = *state;
	char file[PATH_MAX];
	struct sp_error err = {0};
	struct sp_layer_stats stats;
	struct sp_layer_options opts = {0};
	char junk[2048];

	fmt(file, sizeof(file), "%s/junk", fx->base);
	memset(junk, 'x', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	write_text(file, junk);
	assert_int_equal(apply_file(fx, file, &opts, &stats, &err), -1);
	assert_true(strlen(err.message) > 0);
	write_text(file, "");
	assert_int_equal(apply_file(fx, file, &opts, &stats, &err), -1);
}

static void test_truncated(void **state)
{
	struct fixture *fx = *state;
	static char big[200000];
	const struct ent layer[] = {
	    {'f', "big", big, 0},
	    {'f', "after", "a", 0},
	    {0},
	};
	enum filter filters[] = {PLAIN, GZIP, ZSTD};

	memset(big, 'b', sizeof(big) - 1);
	for (size_t i = 0; i < 3; i++) {
		char file[PATH_MAX];
		struct sp_error err = {0};
		struct sp_layer_stats stats;
		struct sp_layer_options opts = {0};
		struct stat st;

		make_layer(fx, filters[i], layer, file);
		assert_int_equal(stat(file, &st), 0);
		assert_int_equal(truncate(file, st.st_size / 2), 0);
		assert_int_equal(apply_file(fx, file, &opts, &stats, &err), -1);
		assert_true(strlen(err.message) > 0);
	}
	assert_absent(fx, "after");
}

static void test_traversal(void **state)
{
	struct fixture *fx = *state;
	const struct ent dotdot[] = {{'f', "../x", "x", 0}, {0}};
	const struct ent deep[] = {{'f', "a/../../canary/victim", "x", 0}, {0}};
	const struct ent inner[] = {{'f', "./a/b/../c", "x", 0}, {0}};
	const struct ent abs[] = {{'f', "/abs", "x", 0}, {0}};
	const struct ent dir[] = {{'d', "../canary/new", NULL, 0}, {0}};
	const struct ent sym[] = {{'l', "../canary/link", "/", 0}, {0}};
	static char longname[NAME_MAX + 2];
	static char deepname[2 * 300 + 2];
	const struct ent toolong[] = {{'f', longname, "x", 0}, {0}};
	const struct ent toodeep[] = {{'f', deepname, "x", 0}, {0}};

	apply_refused(fx, dotdot, "../x");
	apply_refused(fx, deep, "a/../../canary/victim");
	apply_refused(fx, inner, "./a/b/../c");
	apply_refused(fx, abs, "/abs");
	apply_refused(fx, dir, "../canary/new");
	apply_refused(fx, sym, "../canary/link");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	apply_refused(fx, toolong, longname);
	for (size_t i = 0; i + 2 < sizeof(deepname); i += 2)
		memcpy(deepname + i, "d/", 2);
	deepname[sizeof(deepname) - 2] = 'f';
	apply_refused(fx, toodeep, deepname);
	assert_nothing_outside(fx);
}

static void test_hostile_hardlinks(void **state)
{
	struct fixture *fx = *state;
	const struct ent rel[] = {{'h', "h", "../../etc/shadow", 0}, {0}};
	const struct ent abs[] = {{'h', "h", "/etc/shadow", 0}, {0}};
	const struct ent canary[] = {{'h', "h", "../canary/victim", 0}, {0}};
	const struct ent missing[] = {{'h', "h", "nowhere", 0}, {0}};
	const struct ent dir[] = {{'d', "d", NULL, 0}, {'h', "h", "d", 0}, {0}};
	struct ent evil[] = {{'l', "evil", fx->canary, 0}, {0}};
	const struct ent through[] = {{'h', "h", "evil/victim", 0}, {0}};

	apply_refused(fx, rel, "h");
	apply_refused(fx, rel, "../../etc/shadow");
	apply_refused(fx, abs, "/etc/shadow");
	apply_refused(fx, canary, "../canary/victim");
	apply_refused(fx, missing, "nowhere");
	apply_refused(fx, dir, "h");
	apply_ok(fx, evil);
	apply_refused(fx, through, "evil/victim");
	assert_absent(fx, "h");
	assert_nothing_outside(fx);
}

static void test_write_through_symlink(void **state)
{
	struct fixture *fx = *state;
	const struct ent tmp[] = {{'l', "evil", TMP_OUTSIDE, 0}, {0}};
	const struct ent up[] = {{'l', "up", "../..", 0}, {0}};
	struct ent canary[] = {{'l', "can", fx->canary, 0}, {0}};
	const struct ent file[] = {{'f', "evil/file", "x", 0}, {0}};
	const struct ent dir[] = {{'d', "evil/dir", NULL, 0}, {0}};
	const struct ent upfile[] = {{'f', "up/file", "x", 0}, {0}};
	const struct ent deep[] = {{'f', "can/sub/file", "x", 0}, {0}};
	const struct ent victim[] = {{'f', "can/victim", "pwned", 0}, {0}};
	const struct ent wh[] = {{'f', "can/.wh.victim", "", 0}, {0}};
	const struct ent opq[] = {{'f', "can/.wh..wh..opq", "", 0}, {0}};
	const struct ent link[] = {{'l', "can/l", "x", 0}, {0}};
	const struct ent hard[] = {{'f', "t", "t", 0}, {'h', "can/h", "t", 0}, {0}};
	const struct ent same[] = {
	    {'l', "same", "../canary", 0}, {'f', "same/victim", "x", 0}, {0}};

	apply_ok(fx, tmp);
	apply_ok(fx, up);
	apply_ok(fx, canary);
	apply_refused(fx, file, "evil/file");
	apply_refused(fx, dir, "evil/dir");
	apply_refused(fx, upfile, "up/file");
	apply_refused(fx, deep, "can/sub/file");
	apply_refused(fx, victim, "can/victim");
	apply_refused(fx, wh, "can/.wh.victim");
	apply_refused(fx, opq, "can/.wh..wh..opq");
	apply_refused(fx, link, "can/l");
	apply_refused(fx, hard, "can/h");
	apply_refused(fx, same, "same/victim");
	assert_symlink(fx, "evil", TMP_OUTSIDE);
	assert_nothing_outside(fx);
}

static void test_bad_whiteouts(void **state)
{
	struct fixture *fx = *state;
	const struct ent dotdot[] = {{'f', "a/.wh...", "", 0}, {0}};
	const struct ent dot[] = {{'f', "a/.wh..", "", 0}, {0}};
	const struct ent empty[] = {{'f', "a/.wh.", "", 0}, {0}};
	const struct ent up[] = {{'f', "../.wh.canary", "", 0}, {0}};

	apply_ok(fx, (const struct ent[]){{'f', "a/f", "f", 0}, {0}});
	apply_refused(fx, dotdot, "a/.wh...");
	apply_refused(fx, dot, "a/.wh..");
	apply_refused(fx, empty, "a/.wh.");
	apply_refused(fx, up, "../.wh.canary");
	assert_file(fx, "a/f", "f", 0644);
	assert_nothing_outside(fx);
}

static void test_remove_tree(void **state)
{
	struct fixture *fx = *state;
	struct sp_error err = {0};
	char path[PATH_MAX];
	struct ent layer[] = {
	    {'f', "t/a/b/c", "c", 0},
	    {'l', "t/canary", fx->canary, 0},
	    {'l', "t/rel", "../../canary", 0},
	    {'d', "t/ro", NULL, 0555},
	    {'f', "t/ro/f", "f", 0},
	    {'d', "t/none", NULL, 0},
	    {'d', "t/none/x", NULL, 0},
	    {'d', "t/x", NULL, 0},
	    {0},
	};
	int fd;

	layer[5].mode = 0100; /* a directory we may not even read */
	apply_ok(fx, layer);
	fd = open(fx->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(sp_remove_tree_at(fd, "t", &err), 0);
	assert_int_equal(sp_remove_tree_at(fd, "t", &err), 0);
	close(fd);
	assert_absent(fx, "t");
	assert_nothing_outside(fx);
	fmt(path, sizeof(path), "%s/victim", fx->canary);
	assert_int_equal(access(path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_opaque_marker_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_opaque_marker_last, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_opaque_new_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hardlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compressed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_setuid_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keep_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readonly_dirs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sha256, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_tar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_traversal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_hardlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_through_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_whiteouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_tree, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
