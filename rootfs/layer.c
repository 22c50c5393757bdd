/* Applying one image layer onto a tree. Every path is resolved beneath the
 * tree with openat2() refusing symlinks, and only the last component is
 * touched with *at() calls that do not follow it either. */
#include "layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/hash.h"
#include "sandbox/base/log.h"

#define LAYER_READ_SIZE (128 * 1024)
/* Deeper entries are refused, so that walking a tree never runs out of fds. */
#define LAYER_MAX_DEPTH	 256
#define REMOVE_MAX_DEPTH 512

#define WH_PREFIX      ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE      ".wh..wh..opq"

#define RESOLVE_STRICT (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* The paths this layer wrote (and their parents), to tell them from lower
 * layers' entries when an opaque marker or a whiteout is applied. */
struct path_set {
	char **slots; /* open addressing, a power of two */
	size_t cap;
	size_t count;
};

/* A directory whose mode and mtime are set once the layer is written. */
struct dir_fix {
	char *path;
	mode_t mode;
	bool has_mtime;
	struct timespec mtime;
	size_t depth;
	size_t seq;
};

struct dir_fixes {
	struct dir_fix *items;
	size_t count;
	size_t cap;
};

struct layer_ctx {
	int rootfd;
	int fd;
	struct sp_layer_options opts;
	struct sp_layer_stats *stats;
	struct sp_error *err;
	bool root; /* DAC checks do not apply to us */
	uid_t euid;
	struct archive *archive;
	struct sha256_ctx sha;
	uint8_t *buf;
	struct path_set written;
	struct dir_fixes fixes;
};

/* One tar entry: its name as in the tar (for messages) and checked. */
struct layer_entry {
	struct archive_entry *ae;
	const char *name;
	char path[PATH_MAX];   /* relative, no ".", "..", empty components */
	char parent[PATH_MAX]; /* "." for the top level */
	const char *base;      /* last component, inside path */
	size_t depth;
};

enum name_check { NAME_OK, NAME_ESCAPES, NAME_TOO_LONG };

static void archive_readp(struct archive **a)
{
	if (*a != NULL)
		archive_read_free(*a);
}

#define cleanup_archive __attribute__((cleanup(archive_readp)))

/* ---- small file system helpers ---- */

static int openat_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)flags | O_CLOEXEC,
	    .resolve = RESOLVE_STRICT,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* chmod the very inode behind FD (which may be O_PATH). */
static int chmod_fd(int fd, mode_t mode)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return chmod(self, mode);
}

/* chmod NAME in DIRFD, which must not be a symlink. */
static int chmod_at(int dirfd, const char *name, mode_t mode)
{
	cleanup_close int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	return chmod_fd(fd, mode);
}

static int write_all_at(int fd, const void *data, size_t size, off_t offset)
{
	const char *p = data;

	while (size > 0) {
		ssize_t n = pwrite(fd, p, size, offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		size -= (size_t)n;
		offset += n;
	}
	return 0;
}

/* ---- recursive removal ---- */

static int remove_tree(int dirfd, const char *name, int depth, struct sp_error *err);

/* Open directory NAME for reading, opening up its mode if we may not read it. */
static int open_dir_for_removal(int dirfd, const char *name, struct sp_error *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == EACCES) {
		if (chmod_at(dirfd, name, 0700) < 0)
			return sp_error_set(err, errno, "remove %s: chmod", name);
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return sp_error_set(err, errno, "remove %s: open", name);
	return fd;
}

static int empty_dir(int atfd, const char *name, int depth, struct sp_error *err)
{
	cleanup_closedir DIR *dir = NULL;
	struct dirent *de;
	struct stat st;
	int fd = open_dir_for_removal(atfd, name, err);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || ((st.st_mode & 0700) != 0700 && fchmod(fd, 0700) < 0)) {
		sp_error_set(err, errno, "remove %s: chmod", name);
		close(fd);
		return -1;
	}
	dir = fdopendir(fd);
	if (dir == NULL) {
		sp_error_set(err, errno, "remove %s: fdopendir", name);
		close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_tree(dirfd(dir), de->d_name, depth + 1, err) < 0)
			return sp_error_wrap(err, "%s", name);
	}
	if (errno != 0)
		return sp_error_set(err, errno, "remove %s: readdir", name);
	return 0;
}

static int remove_tree(int dirfd, const char *name, int depth, struct sp_error *err)
{
	if (depth > REMOVE_MAX_DEPTH)
		return sp_error_set(err, ELOOP, "remove %s: tree too deep", name);
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return sp_error_set(err, errno, "remove %s", name);
	if (empty_dir(dirfd, name, depth, err) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return sp_error_set(err, errno, "remove directory %s", name);
	return 0;
}

int sp_remove_tree_at(int dirfd, const char *name, struct sp_error *err)
{
	return remove_tree(dirfd, name, 0, err);
}

/* ---- the set of paths this layer wrote ---- */

static uint64_t hash_path(const char *s)
{
	return sp_hash_string(s);
}

/* The slot holding PATH, or the empty slot where it would go. */
static char **set_slot(char **slots, size_t cap, const char *path)
{
	size_t i = (size_t)hash_path(path) & (cap - 1);

	while (slots[i] != NULL && strcmp(slots[i], path) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static bool set_contains(const struct path_set *set, const char *path)
{
	if (set->cap == 0)
		return false;
	return *set_slot(set->slots, set->cap, path) != NULL;
}

static int set_grow(struct path_set *set)
{
	size_t cap = set->cap ? set->cap * 2 : 256;
	char **slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < set->cap; i++) {
		if (set->slots[i] != NULL)
			*set_slot(slots, cap, set->slots[i]) = set->slots[i];
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

static int set_add(struct path_set *set, const char *path)
{
	char **slot;

	if ((set->count + 1) * 2 > set->cap && set_grow(set) < 0)
		return -1;
	slot = set_slot(set->slots, set->cap, path);
	if (*slot != NULL)
		return 0;
	*slot = strdup(path);
	if (*slot == NULL)
		return -1;
	set->count++;
	return 0;
}

static void set_free(struct path_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	set->slots = NULL;
	set->cap = set->count = 0;
}

/* Record PATH and each of its parents as written by this layer. */
static int mark_written(struct layer_ctx *ctx, const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strchr(buf, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (set_add(&ctx->written, buf) < 0)
			return sp_error_set(ctx->err, ENOMEM, "record %s", path);
		*p = '/';
	}
	if (set_add(&ctx->written, buf) < 0)
		return sp_error_set(ctx->err, ENOMEM, "record %s", path);
	return 0;
}

/* ---- directories fixed up at the end ---- */

static size_t path_depth(const char *path)
{
	size_t depth = 1;

	if (strcmp(path, ".") == 0)
		return 0;
	for (const char *p = path; *p != '\0'; p++)
		depth += *p == '/';
	return depth;
}

static int add_dir_fix(struct layer_ctx *ctx, const char *path, mode_t mode,
		       const struct timespec *mtime)
{
	struct dir_fixes *f = &ctx->fixes;
	struct dir_fix *fix;

	if (f->count == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct dir_fix *items = reallocarray(f->items, cap, sizeof(*items));

		if (items == NULL)
			return sp_error_set(ctx->err, ENOMEM, "record directory %s", path);
		f->items = items;
		f->cap = cap;
	}
	fix = &f->items[f->count];
	*fix = (struct dir_fix){.mode = mode, .depth = path_depth(path), .seq = f->count};
	fix->path = strdup(path);
	if (fix->path == NULL)
		return sp_error_set(ctx->err, ENOMEM, "record directory %s", path);
	if (mtime != NULL) {
		fix->has_mtime = true;
		fix->mtime = *mtime;
	}
	f->count++;
	return 0;
}

/* Deepest first, so that a parent's mode and mtime are set after its
 * children's; at equal depth, in the order of the tar. */
static int compare_fixes(const void *pa, const void *pb)
{
	const struct dir_fix *a = pa, *b = pb;

	if (a->depth != b->depth)
		return a->depth > b->depth ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int apply_dir_fix(struct layer_ctx *ctx, const struct dir_fix *fix)
{
	cleanup_close int fd = openat_beneath(ctx->rootfd, fix->path, O_RDONLY | O_DIRECTORY);
	struct timespec times[2];

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)) {
		log_debug("directory %s was replaced in the same layer", fix->path);
		return 0;
	}
	if (fd < 0)
		return sp_error_set(ctx->err, errno, "open directory %s", fix->path);
	if (fchmod(fd, fix->mode) < 0)
		return sp_error_set(ctx->err, errno, "chmod directory %s", fix->path);
	if (!fix->has_mtime)
		return 0;
	times[0] = times[1] = fix->mtime;
	if (futimens(fd, times) < 0)
		return sp_error_set(ctx->err, errno, "set times of directory %s", fix->path);
	return 0;
}

static int apply_dir_fixes(struct layer_ctx *ctx)
{
	struct dir_fixes *f = &ctx->fixes;

	if (f->count > 0)
		qsort(f->items, f->count, sizeof(*f->items), compare_fixes);
	for (size_t i = 0; i < f->count; i++) {
		if (apply_dir_fix(ctx, &f->items[i]) < 0)
			return -1;
	}
	return 0;
}

static void free_dir_fixes(struct dir_fixes *f)
{
	for (size_t i = 0; i < f->count; i++)
		free(f->items[i].path);
	free(f->items);
	f->items = NULL;
	f->count = f->cap = 0;
}

/* As non-root, open up a directory we are about to write into whose mode
 * lacks the owner's rwx bits; its mode is put back at the end. */
static int ensure_writable(struct layer_ctx *ctx, int dirfd, const char *path)
{
	struct stat st;

	if (ctx->root)
		return 0;
	if (fstat(dirfd, &st) < 0)
		return sp_error_set(ctx->err, errno, "stat directory %s", path);
	if ((st.st_mode & 0700) == 0700 || st.st_uid != ctx->euid)
		return 0;
	if (chmod_fd(dirfd, (st.st_mode & 07777) | 0700) < 0)
		return sp_error_set(ctx->err, errno, "chmod directory %s", path);
	return add_dir_fix(ctx, path, st.st_mode & 07777, NULL);
}

/* ---- entry names ---- */

/* NAME as a relative path without "." or empty components into OUT ("" for
 * the root itself), with its depth. */
static enum name_check normalize_name(const char *name, char out[PATH_MAX], size_t *depth)
{
	size_t len = 0;

	*depth = 0;
	if (name[0] == '/')
		return NAME_ESCAPES;
	for (const char *p = name; *p != '\0';) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return NAME_ESCAPES;
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (n > NAME_MAX || len + (len > 0) + n >= PATH_MAX ||
			    ++*depth > LAYER_MAX_DEPTH)
				return NAME_TOO_LONG;
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
		p += *p == '/';
	}
	out[len] = '\0';
	return NAME_OK;
}

static int check_name(struct layer_ctx *ctx, const char *entry, const char *what, const char *name,
		      char out[PATH_MAX], size_t *depth)
{
	switch (normalize_name(name, out, depth)) {
	case NAME_OK:
		return 0;
	case NAME_ESCAPES:
		if (what == NULL)
			return sp_error_set(ctx->err, EPERM, "layer entry '%s' leaves the image",
					    entry);
		return sp_error_set(ctx->err, EPERM, "layer entry '%s': %s '%s' leaves the image",
				    entry, what, name);
	case NAME_TOO_LONG:
	default:
		return sp_error_set(ctx->err, ENAMETOOLONG,
				    "layer entry '%s': name too long or nested too deep", entry);
	}
}

static int entry_init(struct layer_ctx *ctx, struct layer_entry *e, struct archive_entry *ae)
{
	char *slash;

	e->ae = ae;
	e->name = archive_entry_pathname(ae);
	if (e->name == NULL)
		e->name = archive_entry_pathname_utf8(ae);
	if (e->name == NULL)
		return sp_error_set(ctx->err, EINVAL, "layer entry without a name");
	if (check_name(ctx, e->name, NULL, e->name, e->path, &e->depth) < 0)
		return -1;
	slash = strrchr(e->path, '/');
	if (slash == NULL) {
		snprintf(e->parent, sizeof(e->parent), ".");
		e->base = e->path;
	} else {
		memcpy(e->parent, e->path, (size_t)(slash - e->path));
		e->parent[slash - e->path] = '\0';
		e->base = slash + 1;
	}
	return 0;
}

/* ---- resolving the parent directory ---- */

static int resolve_error(struct layer_ctx *ctx, const struct layer_entry *e, const char *dir)
{
	if (errno == ELOOP || errno == EXDEV)
		return sp_error_set(ctx->err, errno,
				    "layer entry '%s' leaves the image: '%s' is or goes through a "
				    "symbolic link",
				    e->name, dir);
	if (errno == ENOTDIR)
		return sp_error_set(ctx->err, errno, "layer entry '%s': '%s' is not a directory",
				    e->name, dir);
	return sp_error_set(ctx->err, errno, "layer entry '%s': open '%s'", e->name, dir);
}

/* Create the missing directories of E's parent, one component at a time. */
static int create_parents(struct layer_ctx *ctx, const struct layer_entry *e)
{
	cleanup_close int cur = openat_beneath(ctx->rootfd, ".", O_PATH | O_DIRECTORY);
	char sofar[PATH_MAX] = ".";
	size_t len = 0;

	if (cur < 0)
		return sp_error_set(ctx->err, errno, "open the image root");
	for (const char *p = e->parent; *p != '\0';) {
		size_t n = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		int next;

		snprintf(comp, sizeof(comp), "%.*s", (int)n, p);
		p += n + (p[n] == '/');
		next = openat_beneath(cur, comp, O_PATH | O_DIRECTORY);
		if (next < 0 && errno == ENOENT) {
			if (ensure_writable(ctx, cur, sofar) < 0)
				return -1;
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
				return sp_error_set(ctx->err, errno,
						    "layer entry '%s': mkdir '%s/%s'", e->name,
						    sofar, comp);
			next = openat_beneath(cur, comp, O_PATH | O_DIRECTORY);
			if (next >= 0 && chmod_fd(next, 0755) < 0)
				log_debug("chmod %s/%s: %s", sofar, comp, strerror(errno));
		}
		len += (size_t)snprintf(sofar + len, sizeof(sofar) - len, "%s%s", len ? "/" : "",
					comp);
		if (next < 0)
			return resolve_error(ctx, e, sofar);
		close(cur);
		cur = next;
		if (mark_written(ctx, sofar) < 0)
			return -1;
	}
	return steal_fd(&cur);
}

/* The parent directory of E as an O_PATH descriptor, resolved beneath the
 * root without following symlinks, created when CREATE. With MISSING and
 * no such directory, sets *MISSING and returns -1 with no error. */
static int open_parent(struct layer_ctx *ctx, const struct layer_entry *e, bool create,
		       bool *missing)
{
	cleanup_close int fd = openat_beneath(ctx->rootfd, e->parent, O_PATH | O_DIRECTORY);

	if (fd < 0 && errno == ENOENT && create) {
		fd = create_parents(ctx, e);
		if (fd < 0)
			return -1;
	} else if (fd < 0 && missing != NULL && (errno == ENOENT || errno == ENOTDIR)) {
		*missing = true;
		return -1;
	} else if (fd < 0) {
		return resolve_error(ctx, e, e->parent);
	}
	if (ensure_writable(ctx, fd, e->parent) < 0)
		return -1;
	return steal_fd(&fd);
}

/* Remove whatever is at E's name, except a directory when KEEP_DIR.
 * Returns 1 if a directory was kept, 0 if the name is free now. */
static int clear_name(struct layer_ctx *ctx, int parentfd, const struct layer_entry *e,
		      bool keep_dir)
{
	struct stat st;

	if (fstatat(parentfd, e->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return sp_error_set(ctx->err, errno, "layer entry '%s': stat", e->name);
	}
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 1;
		if (sp_remove_tree_at(parentfd, e->base, ctx->err) < 0)
			return sp_error_wrap(ctx->err, "layer entry '%s'", e->name);
		return 0;
	}
	if (unlinkat(parentfd, e->base, 0) < 0 && errno != ENOENT)
		return sp_error_set(ctx->err, errno, "layer entry '%s': unlink", e->name);
	return 0;
}

/* ---- metadata ---- */

static mode_t entry_mode(const struct layer_ctx *ctx, struct archive_entry *ae)
{
	mode_t mode = archive_entry_perm(ae) & 07777;

	if (!ctx->opts.keep_owner)
		mode &= (mode_t) ~(S_ISUID | S_ISGID);
	return mode;
}

/* The entry's times for utimensat(), or UTIME_OMIT where the tar has none. */
static void entry_times(struct archive_entry *ae, struct timespec times[2])
{
	times[1].tv_sec = archive_entry_mtime(ae);
	times[1].tv_nsec = archive_entry_mtime_nsec(ae);
	if (!archive_entry_mtime_is_set(ae))
		times[1].tv_nsec = UTIME_OMIT;
	times[0] = times[1];
	if (archive_entry_atime_is_set(ae)) {
		times[0].tv_sec = archive_entry_atime(ae);
		times[0].tv_nsec = archive_entry_atime_nsec(ae);
	}
}

static int chown_at(struct layer_ctx *ctx, int parentfd, const struct layer_entry *e)
{
	uid_t uid = (uid_t)archive_entry_uid(e->ae);
	gid_t gid = (gid_t)archive_entry_gid(e->ae);

	if (!ctx->opts.keep_owner)
		return 0;
	if (fchownat(parentfd, e->base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': chown %u:%u", e->name,
				    (unsigned)uid, (unsigned)gid);
	return 0;
}

static int times_at(struct layer_ctx *ctx, int parentfd, const struct layer_entry *e)
{
	struct timespec times[2];

	entry_times(e->ae, times);
	if (utimensat(parentfd, e->base, times, AT_SYMLINK_NOFOLLOW) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': set times", e->name);
	return 0;
}

static int entry_written(struct layer_ctx *ctx, const struct layer_entry *e)
{
	ctx->stats->entries++;
	return mark_written(ctx, e->path);
}

/* ---- entry types ---- */

/* libarchive reports a bad format as EILSEQ and other trouble of its own as
 * -1: those are not system errors. Only a real errno goes into the error;
 * the message says the rest. */
static int archive_system_errno(struct archive *a)
{
	int e = archive_errno(a);

	return e == EILSEQ || e <= 0 ? 0 : e;
}

static int copy_data(struct layer_ctx *ctx, const struct layer_entry *e, int fd)
{
	for (;;) {
		const void *data;
		size_t size;
		la_int64_t offset;
		int r = archive_read_data_block(ctx->archive, &data, &size, &offset);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return sp_error_set(ctx->err, archive_system_errno(ctx->archive),
					    "layer entry '%s': %s", e->name,
					    archive_error_string(ctx->archive));
		if (write_all_at(fd, data, size, (off_t)offset) < 0)
			return sp_error_set(ctx->err, errno, "layer entry '%s': write", e->name);
		ctx->stats->bytes += size;
	}
	if (archive_entry_size_is_set(e->ae) && ftruncate(fd, (off_t)archive_entry_size(e->ae)) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': truncate", e->name);
	return 0;
}

static int write_file(struct layer_ctx *ctx, const struct layer_entry *e, int parentfd)
{
	cleanup_close int fd = -1;
	struct timespec times[2];

	if (clear_name(ctx, parentfd, e, false) < 0)
		return -1;
	fd = openat(parentfd, e->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': create", e->name);
	if (copy_data(ctx, e, fd) < 0)
		return -1;
	if (ctx->opts.keep_owner &&
	    fchown(fd, (uid_t)archive_entry_uid(e->ae), (gid_t)archive_entry_gid(e->ae)) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': chown", e->name);
	if (fchmod(fd, entry_mode(ctx, e->ae)) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': chmod", e->name);
	entry_times(e->ae, times);
	if (futimens(fd, times) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': set times", e->name);
	return entry_written(ctx, e);
}

/* A directory keeps what lower layers put in it; its mode and mtime are set
 * at the end, with the owner's rwx bits meanwhile if we are not root. */
static int write_dir(struct layer_ctx *ctx, const struct layer_entry *e, int parentfd)
{
	cleanup_close int fd = -1;
	mode_t mode = entry_mode(ctx, e->ae);
	struct timespec times[2];
	int kept = clear_name(ctx, parentfd, e, true);

	if (kept < 0)
		return -1;
	if (!kept && mkdirat(parentfd, e->base, 0700) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': mkdir", e->name);
	if (chown_at(ctx, parentfd, e) < 0)
		return -1;
	fd = openat(parentfd, e->base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': open", e->name);
	if (chmod_fd(fd, ctx->root ? mode : mode | 0700) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': chmod", e->name);
	entry_times(e->ae, times);
	if (add_dir_fix(ctx, e->path, mode, times[1].tv_nsec == UTIME_OMIT ? NULL : &times[1]) < 0)
		return -1;
	return entry_written(ctx, e);
}

static int write_symlink(struct layer_ctx *ctx, const struct layer_entry *e, int parentfd)
{
	const char *target = archive_entry_symlink(e->ae);

	if (target == NULL)
		target = archive_entry_symlink_utf8(e->ae);
	if (target == NULL || target[0] == '\0')
		return sp_error_set(ctx->err, EINVAL, "layer entry '%s': symlink without a target",
				    e->name);
	if (clear_name(ctx, parentfd, e, false) < 0)
		return -1;
	if (symlinkat(target, parentfd, e->base) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': symlink", e->name);
	if (chown_at(ctx, parentfd, e) < 0 || times_at(ctx, parentfd, e) < 0)
		return -1;
	return entry_written(ctx, e);
}

/* The target of a hard link entry, as an O_PATH descriptor of the inode. */
static int open_link_target(struct layer_ctx *ctx, const struct layer_entry *e, const char *target)
{
	char path[PATH_MAX];
	size_t depth;
	struct stat st;
	cleanup_close int fd = -1;

	if (check_name(ctx, e->name, "hard link target", target, path, &depth) < 0)
		return -1;
	if (depth == 0)
		return sp_error_set(ctx->err, EPERM, "layer entry '%s': hard link to the root",
				    e->name);
	fd = openat_beneath(ctx->rootfd, path, O_PATH | O_NOFOLLOW);
	if (fd < 0 && (errno == ELOOP || errno == EXDEV))
		return sp_error_set(ctx->err, errno,
				    "layer entry '%s': hard link target '%s' leaves the image "
				    "through a symbolic link",
				    e->name, target);
	if (fd < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': hard link target '%s'",
				    e->name, target);
	if (fstat(fd, &st) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': stat '%s'", e->name,
				    target);
	if (S_ISDIR(st.st_mode))
		return sp_error_set(ctx->err, EPERM,
				    "layer entry '%s': hard link target '%s' is a directory",
				    e->name, target);
	return steal_fd(&fd);
}

static bool same_inode_at(int parentfd, const char *name, int fd)
{
	struct stat a, b;

	if (fstatat(parentfd, name, &a, AT_SYMLINK_NOFOLLOW) < 0 || fstat(fd, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int write_hardlink(struct layer_ctx *ctx, const struct layer_entry *e, int parentfd,
			  const char *target)
{
	cleanup_close int tfd = open_link_target(ctx, e, target);
	char self[64];

	if (tfd < 0)
		return -1;
	if (same_inode_at(parentfd, e->base, tfd))
		return entry_written(ctx, e);
	if (clear_name(ctx, parentfd, e, false) < 0)
		return -1;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", tfd);
	if (linkat(AT_FDCWD, self, parentfd, e->base, AT_SYMLINK_FOLLOW) < 0 &&
	    (errno != ENOENT || linkat(tfd, "", parentfd, e->base, AT_EMPTY_PATH) < 0))
		return sp_error_set(ctx->err, errno, "layer entry '%s': link to '%s'", e->name,
				    target);
	return entry_written(ctx, e);
}

static int write_special(struct layer_ctx *ctx, const struct layer_entry *e, int parentfd)
{
	mode_t type = archive_entry_filetype(e->ae);

	if (!ctx->opts.keep_devices || !ctx->root) {
		log_debug("layer entry '%s': device or fifo skipped", e->name);
		ctx->stats->skipped++;
		return 0;
	}
	if (clear_name(ctx, parentfd, e, false) < 0)
		return -1;
	if (mknodat(parentfd, e->base, type | 0600, archive_entry_rdev(e->ae)) < 0) {
		if (errno != EPERM)
			return sp_error_set(ctx->err, errno, "layer entry '%s': mknod", e->name);
		log_info("layer entry '%s': device not permitted here, skipped", e->name);
		ctx->stats->skipped++;
		return 0;
	}
	if (chown_at(ctx, parentfd, e) < 0)
		return -1;
	if (chmod_at(parentfd, e->base, entry_mode(ctx, e->ae)) < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': chmod", e->name);
	if (times_at(ctx, parentfd, e) < 0)
		return -1;
	return entry_written(ctx, e);
}

/* ---- whiteouts ---- */

static int opaque_clean(struct layer_ctx *ctx, int dirfd, char path[PATH_MAX]);

/* Append "/NAME" to the directory path PATH ("." for the root) in place.
 * Returns the length to cut it back to, or -1 if it does not fit. */
static ssize_t path_push(char path[PATH_MAX], const char *name)
{
	bool top = strcmp(path, ".") == 0;
	size_t len = top ? 0 : strlen(path);
	size_t start = top ? 0 : len + 1;

	if (start + strlen(name) >= PATH_MAX)
		return -1;
	if (!top)
		path[len] = '/';
	strcpy(path + start, name);
	return (ssize_t)len;
}

static void path_pop(char path[PATH_MAX], ssize_t len)
{
	if (len == 0)
		strcpy(path, ".");
	else
		path[len] = '\0';
}

/* Clean NAME in DIRFD (at PATH/NAME) of an opaque directory: remove it if
 * a lower layer put it there, else clean inside it. */
static int opaque_clean_child(struct layer_ctx *ctx, int dirfd, char path[PATH_MAX],
			      const char *name)
{
	cleanup_close int fd = -1;
	ssize_t len = path_push(path, name);
	struct stat st;
	int r = 0;

	if (len < 0)
		return sp_error_set(ctx->err, ENAMETOOLONG, "opaque directory %s", path);
	if (!set_contains(&ctx->written, path)) {
		r = sp_remove_tree_at(dirfd, name, ctx->err);
	} else if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? sp_error_set(ctx->err, errno, "open %s", path)
			   : opaque_clean(ctx, fd, path);
	}
	path_pop(path, len);
	return r;
}

/* Remove from the directory at DIRFD (an O_RDONLY descriptor of PATH)
 * every entry this layer did not write, recursively. */
static int opaque_clean(struct layer_ctx *ctx, int dirfd, char path[PATH_MAX])
{
	cleanup_closedir DIR *dir = NULL;
	struct dirent *de;
	int fd = dup(dirfd);

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		sp_error_set(ctx->err, errno, "read opaque directory %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (opaque_clean_child(ctx, dirfd, path, de->d_name) < 0)
			return -1;
	}
	if (errno != 0)
		return sp_error_set(ctx->err, errno, "read opaque directory %s", path);
	return 0;
}

static int apply_opaque(struct layer_ctx *ctx, const struct layer_entry *e)
{
	cleanup_close int parentfd = open_parent(ctx, e, true, NULL);
	cleanup_close int fd = -1;
	char path[PATH_MAX];

	if (parentfd < 0)
		return -1;
	if (mark_written(ctx, e->parent) < 0)
		return -1;
	fd = openat(parentfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sp_error_set(ctx->err, errno, "layer entry '%s': open '%s'", e->name,
				    e->parent);
	snprintf(path, sizeof(path), "%s", e->parent);
	if (opaque_clean(ctx, fd, path) < 0)
		return sp_error_wrap(ctx->err, "layer entry '%s'", e->name);
	ctx->stats->whiteouts++;
	return 0;
}

static int apply_whiteout(struct layer_ctx *ctx, const struct layer_entry *e)
{
	const char *victim = e->base + strlen(WH_PREFIX);
	cleanup_close int parentfd = -1;
	char path[PATH_MAX];
	bool missing = false;

	if (victim[0] == '\0' || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
		return sp_error_set(ctx->err, EPERM, "layer entry '%s': invalid whiteout", e->name);
	parentfd = open_parent(ctx, e, false, &missing);
	if (parentfd < 0 && !missing)
		return -1;
	ctx->stats->whiteouts++;
	if (missing)
		return 0;
	snprintf(path, sizeof(path), "%s", e->parent);
	if (path_push(path, victim) < 0)
		return sp_error_set(ctx->err, ENAMETOOLONG, "layer entry '%s'", e->name);
	if (set_contains(&ctx->written, path)) {
		log_debug("whiteout '%s' spares '%s' of the same layer", e->name, path);
		return 0;
	}
	if (sp_remove_tree_at(parentfd, victim, ctx->err) < 0)
		return sp_error_wrap(ctx->err, "layer entry '%s'", e->name);
	return 0;
}

/* ---- one entry ---- */

static int write_entry(struct layer_ctx *ctx, const struct layer_entry *e)
{
	cleanup_close int parentfd = -1;
	const char *hardlink = archive_entry_hardlink(e->ae);
	mode_t type = archive_entry_filetype(e->ae);

	if (hardlink == NULL)
		hardlink = archive_entry_hardlink_utf8(e->ae);
	if (hardlink == NULL && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK &&
	    type != AE_IFCHR && type != AE_IFBLK && type != AE_IFIFO) {
		log_debug("layer entry '%s': type %o skipped", e->name, (unsigned)type);
		ctx->stats->skipped++;
		return 0;
	}
	parentfd = open_parent(ctx, e, true, NULL);
	if (parentfd < 0)
		return -1;
	if (hardlink != NULL)
		return write_hardlink(ctx, e, parentfd, hardlink);
	switch (type) {
	case AE_IFREG:
		return write_file(ctx, e, parentfd);
	case AE_IFDIR:
		return write_dir(ctx, e, parentfd);
	case AE_IFLNK:
		return write_symlink(ctx, e, parentfd);
	default:
		return write_special(ctx, e, parentfd);
	}
}

static int apply_entry(struct layer_ctx *ctx, struct archive_entry *ae)
{
	struct layer_entry e;

	if (entry_init(ctx, &e, ae) < 0)
		return -1;
	if (e.depth == 0) {
		log_debug("layer entry '%s' is the root itself, skipped", e.name);
		return 0;
	}
	if (strcmp(e.base, WH_OPAQUE) == 0)
		return apply_opaque(ctx, &e);
	if (strncmp(e.base, WH_META_PREFIX, strlen(WH_META_PREFIX)) == 0) {
		log_debug("layer entry '%s': whiteout metadata skipped", e.name);
		ctx->stats->skipped++;
		return 0;
	}
	if (strncmp(e.base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
		return apply_whiteout(ctx, &e);
	return write_entry(ctx, &e);
}

/* ---- reading the blob ---- */

/* Read the next chunk of the blob into ctx->buf, hashing and counting it. */
static ssize_t read_blob(struct layer_ctx *ctx)
{
	ssize_t n;

	do
		n = read(ctx->fd, ctx->buf, LAYER_READ_SIZE);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		sha256_update(&ctx->sha, (size_t)n, ctx->buf);
		ctx->stats->blob_bytes += (uint64_t)n;
	}
	return n;
}

static la_ssize_t archive_read_cb(struct archive *a, void *data, const void **buf)
{
	struct layer_ctx *ctx = data;
	ssize_t n = read_blob(ctx);

	if (n < 0) {
		archive_set_error(a, errno, "read the layer blob");
		return -1;
	}
	*buf = ctx->buf;
	return n;
}

/* The rest of the blob after the end of the tar (padding, a gzip trailer). */
static int drain_blob(struct layer_ctx *ctx)
{
	ssize_t n;

	while ((n = read_blob(ctx)) > 0)
		;
	if (n < 0)
		return sp_error_set(ctx->err, errno, "read the layer blob");
	return 0;
}

static int archive_fail(struct layer_ctx *ctx, const char *what)
{
	const char *msg = archive_error_string(ctx->archive);

	return sp_error_set(ctx->err, archive_system_errno(ctx->archive), "%s: %s", what,
			    msg ? msg : "unknown error");
}

static int open_archive(struct layer_ctx *ctx)
{
	struct archive *a = ctx->archive;

	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(a) < ARCHIVE_WARN ||
	    archive_read_support_filter_zstd(a) < ARCHIVE_WARN ||
	    archive_read_support_filter_none(a) != ARCHIVE_OK)
		return archive_fail(ctx, "layer reader");
	if (archive_read_open(a, ctx, NULL, archive_read_cb, NULL) < ARCHIVE_WARN)
		return archive_fail(ctx, "layer");
	return 0;
}

static int apply_entries(struct layer_ctx *ctx)
{
	struct archive_entry *ae;
	int r;

	while ((r = archive_read_next_header(ctx->archive, &ae)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			return archive_fail(ctx, "layer");
		if (r == ARCHIVE_WARN)
			log_debug("layer: %s", archive_error_string(ctx->archive));
		if (apply_entry(ctx, ae) < 0)
			return -1;
	}
	return 0;
}

int sp_layer_apply(int rootfd, int fd, const struct sp_layer_options *opts,
		   struct sp_layer_stats *stats, struct sp_error *err)
{
	cleanup_archive struct archive *archive = archive_read_new();
	cleanup_free uint8_t *buf = malloc(LAYER_READ_SIZE);
	struct sp_layer_stats local_stats;
	struct layer_ctx ctx = {
	    .rootfd = rootfd,
	    .fd = fd,
	    .opts = opts ? *opts : (struct sp_layer_options){0},
	    .stats = stats ? stats : &local_stats,
	    .err = err,
	    .root = geteuid() == 0,
	    .euid = geteuid(),
	    .archive = archive,
	    .buf = buf,
	};
	int r = -1;

	if (archive == NULL || buf == NULL)
		return sp_error_set(err, ENOMEM, "layer reader");
	memset(ctx.stats, 0, sizeof(*ctx.stats));
	sha256_init(&ctx.sha);

	if (open_archive(&ctx) < 0)
		goto out;
	if (apply_entries(&ctx) < 0)
		goto out;
	/* The digest covers the whole blob: padding after the tar too. */
	if (drain_blob(&ctx) < 0)
		goto out;
	/* Directory modes and mtimes last, deepest first. */
	if (apply_dir_fixes(&ctx) < 0)
		goto out;
	sha256_digest(&ctx.sha, SHA256_DIGEST_SIZE, ctx.stats->blob_sha256);
	r = 0;
out:
	set_free(&ctx.written);
	free_dir_fixes(&ctx.fixes);
	return r;
}
