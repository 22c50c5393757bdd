#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

const char *const sp_mount_points[] = {"proc", "dev", "tmp", "box", NULL};

/* Device nodes bound from the host into the sandbox's /dev. */
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", NULL};

/* /proc files hidden behind /dev/null, and directories made read-only. */
static const char *const proc_masked_files[] = {
    "kcore",	"keys",	      "timer_list", "sched_debug", "latency_stats", "timer_stats",
    "kallsyms", "kpagecount", "kpageflags", "kpagecgroup", "sysrq-trigger", NULL};
static const char *const proc_readonly_dirs[] = {"sys", "irq", "bus", "fs", "acpi", "scsi", NULL};

static const struct {
	const char *path;
	const char *target;
} dev_links[] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
};

#define TMPFS_FLAGS (MS_NOSUID | MS_NODEV)

static int open_beneath(int dirfd, const char *path, int flags, struct sp_error *err)
{
	struct open_how how = {
	    .flags = (uint64_t)flags | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	if (fd < 0)
		return sp_error_set(err, errno, "open %s in the rootfs", path);
	return fd;
}

static void fd_path(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/* mount() onto DIRFD/PATH, resolved without following any symlink. */
static int mount_beneath(int dirfd, const char *path, const char *source, const char *fstype,
			 unsigned long flags, const char *data, struct sp_error *err)
{
	cleanup_close int fd = open_beneath(dirfd, path, O_PATH, err);
	char target[64];

	if (fd < 0)
		return -1;
	fd_path(fd, target, sizeof(target));
	if (mount(source, target, fstype, flags, data) < 0)
		return sp_error_set(err, errno, "mount %s on /%s", fstype ? fstype : source, path);
	return 0;
}

/* Change the flags of the mount at DIRFD/PATH (a bind remount). */
static int remount_beneath(int dirfd, const char *path, unsigned long flags, struct sp_error *err)
{
	return mount_beneath(dirfd, path, NULL, NULL, MS_REMOUNT | MS_BIND | flags, NULL, err);
}

static int mount_tmpfs(int dirfd, const char *path, const char *options, struct sp_error *err)
{
	return mount_beneath(dirfd, path, "tmpfs", "tmpfs", TMPFS_FLAGS, options, err);
}

/* The scratch mounts: /box the job's own, /tmp and /dev/shm anyone's. */
static const char *const scratch_paths[] = {"box", "tmp", "dev/shm"};

/* Mount scratch I fresh at ROOTFD, and note how it is as mounted. */
static int mount_scratch(int rootfd, const struct sp_mount_config *cfg, size_t i,
			 struct sp_mount_scratch *scratch, struct sp_error *err)
{
	cleanup_close int fd = -1;
	char options[128];

	if (i == 0)
		snprintf(options, sizeof(options), "size=%luk,mode=0755,uid=%u,gid=%u",
			 (unsigned long)cfg->tmpfs_kb, cfg->box_uid, cfg->box_gid);
	else
		snprintf(options, sizeof(options), "size=%luk,mode=1777",
			 (unsigned long)cfg->tmpfs_kb);
	if (mount_tmpfs(rootfd, scratch_paths[i], options, err) < 0)
		return -1;
	fd = open_beneath(rootfd, scratch_paths[i], O_PATH | O_DIRECTORY, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &scratch->as_mounted[i]) < 0)
		return sp_error_set(err, errno, "stat /%s", scratch_paths[i]);
	return 0;
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Is scratch I's root at ROOTFD still as it was mounted, with no extended
 * attribute? Nothing can be left in a tmpfs, or on its root, without
 * changing its root's size or links (an entry), mode, owner, attributes
 * (an ACL is one) or times. Times that a coarse clock leaves equal hide
 * only what left nothing behind (a file made and removed in one tick). */
static bool untouched(int rootfd, size_t i, const struct sp_mount_scratch *scratch)
{
	struct sp_error ignored = {0};
	cleanup_close int fd =
	    open_beneath(rootfd, scratch_paths[i], O_RDONLY | O_DIRECTORY, &ignored);
	const struct stat *was = &scratch->as_mounted[i];
	struct stat now;

	if (fd < 0 || fstat(fd, &now) < 0 || flistxattr(fd, NULL, 0) != 0)
		return false;
	return now.st_dev == was->st_dev && now.st_ino == was->st_ino &&
	       now.st_mode == was->st_mode && now.st_uid == was->st_uid &&
	       now.st_gid == was->st_gid && now.st_nlink == was->st_nlink &&
	       now.st_size == was->st_size && same_time(&now.st_atim, &was->st_atim) &&
	       same_time(&now.st_mtim, &was->st_mtim) && same_time(&now.st_ctim, &was->st_ctim);
}

static int mount_box_tmp_shm(int rootfd, const struct sp_mount_config *cfg,
			     struct sp_mount_scratch *scratch, struct sp_error *err)
{
	for (size_t i = 0; i < SP_ARRAY_SIZE(scratch_paths); i++) {
		if (mount_scratch(rootfd, cfg, i, scratch, err) < 0)
			return -1;
	}
	return 0;
}

static int bind_dev_node(int devfd, const char *name, struct sp_error *err)
{
	char source[64];
	cleanup_close int fd = -1;

	fd = openat(devfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0)
		return sp_error_set(err, errno, "create /dev/%s", name);
	snprintf(source, sizeof(source), "/dev/%s", name);
	if (mount_beneath(devfd, name, source, NULL, MS_BIND, NULL, err) < 0)
		return -1;
	return remount_beneath(devfd, name, MS_NOSUID | MS_NOEXEC, err);
}

static int populate_dev(int rootfd, struct sp_error *err)
{
	cleanup_close int devfd = -1;

	if (mount_beneath(rootfd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC,
			  "size=64k,mode=0755", err) < 0)
		return -1;
	devfd = open_beneath(rootfd, "dev", O_DIRECTORY | O_PATH, err);
	if (devfd < 0)
		return -1;
	for (size_t i = 0; dev_nodes[i] != NULL; i++) {
		if (bind_dev_node(devfd, dev_nodes[i], err) < 0)
			return -1;
	}
	for (size_t i = 0; i < SP_ARRAY_SIZE(dev_links); i++) {
		if (symlinkat(dev_links[i].target, devfd, dev_links[i].path) < 0)
			return sp_error_set(err, errno, "symlink /dev/%s", dev_links[i].path);
	}
	if (mkdirat(devfd, "shm", 01777) < 0 || mkdirat(devfd, "pts", 0755) < 0)
		return sp_error_set(err, errno, "mkdir in /dev");
	return 0;
}

static int bind_onto_itself(int dirfd, const char *path, struct sp_error *err)
{
	cleanup_close int fd = open_beneath(dirfd, path, O_PATH, err);
	char self[64];

	if (fd < 0)
		return -1;
	fd_path(fd, self, sizeof(self));
	if (mount(self, self, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sp_error_set(err, errno, "bind /%s onto itself", path);
	return 0;
}

static int mask_proc(int rootfd, struct sp_error *err)
{
	char path[64];

	for (size_t i = 0; proc_masked_files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "proc/%s", proc_masked_files[i]);
		if (faccessat(rootfd, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (mount_beneath(rootfd, path, "/dev/null", NULL, MS_BIND, NULL, err) < 0)
			return -1;
	}
	for (size_t i = 0; proc_readonly_dirs[i] != NULL; i++) {
		snprintf(path, sizeof(path), "proc/%s", proc_readonly_dirs[i]);
		if (faccessat(rootfd, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (bind_onto_itself(rootfd, path, err) < 0)
			return -1;
		if (remount_beneath(rootfd, path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				    err) < 0)
			return -1;
	}
	return 0;
}

static int mount_proc(int rootfd, struct sp_error *err)
{
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if (mount_beneath(rootfd, "proc", "proc", "proc", flags, NULL, err) < 0)
		return -1;
	if (mask_proc(rootfd, err) < 0)
		return -1;
	return remount_beneath(rootfd, "proc", flags | MS_RDONLY, err);
}

/* The flags a bind remount must keep: in a user namespace the kernel refuses
 * to clear the locked ones (atime flags, noexec...) of the mount below. */
static unsigned long kept_mount_flags(int fd)
{
	struct statvfs st;
	unsigned long flags = 0;

	if (fstatvfs(fd, &st) < 0)
		return 0;
	if (st.f_flag & ST_NOEXEC)
		flags |= MS_NOEXEC;
	if (st.f_flag & ST_NOATIME)
		flags |= MS_NOATIME;
	if (st.f_flag & ST_NODIRATIME)
		flags |= MS_NODIRATIME;
	if (st.f_flag & ST_RELATIME)
		flags |= MS_RELATIME;
	return flags;
}

static int pivot_into(int rootfd, struct sp_error *err)
{
	if (fchdir(rootfd) < 0)
		return sp_error_set(err, errno, "chdir to the rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sp_error_set(err, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return sp_error_set(err, errno, "detach the old root");
	if (chdir("/box") < 0)
		return sp_error_set(err, errno, "chdir /box");
	return 0;
}

/* The image's root directory at the host path ROOTFS, which must be a
 * directory and not a symlink to one: nothing there is followed. */
static int open_image_dir(const char *rootfs, struct sp_error *err)
{
	cleanup_close int fd = open(rootfs, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return sp_error_set(err, errno, "rootfs %s", rootfs);
	if (S_ISLNK(st.st_mode))
		return sp_error_set(err, 0, "rootfs %s is a symbolic link, not a directory",
				    rootfs);
	if (!S_ISDIR(st.st_mode))
		return sp_error_set(err, 0, "rootfs %s is not a directory", rootfs);
	return steal_fd(&fd);
}

/* Attach the detached mount FD on top of what is mounted at PLACEFD. */
static int attach_above(int fd, int placefd, const char *what, struct sp_error *err)
{
	if (move_mount(fd, "", placefd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return sp_error_set(err, errno, "attach %s", what);
	return 0;
}

/* The image directory PLACEFD bound (recursively) on top of itself. */
static int bind_image(int placefd, struct sp_error *err)
{
	cleanup_close int fd = open_tree(
	    placefd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);

	if (fd < 0)
		return sp_error_set(err, errno, "bind the rootfs");
	if (attach_above(fd, placefd, "the bound rootfs", err) < 0)
		return -1;
	return steal_fd(&fd);
}

/* A new tmpfs of 16 KiB (enough for a few directories), not attached
 * anywhere yet. */
static int small_tmpfs(const char *what, struct sp_error *err)
{
	cleanup_close int fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	int fd;

	if (fsfd < 0 || fsconfig(fsfd, FSCONFIG_SET_STRING, "size", "16k", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "nr_inodes", "16", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return sp_error_set(err, errno, "make the tmpfs of %s", what);
	fd = fsmount(fsfd, FSMOUNT_CLOEXEC,
		     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (fd < 0)
		return sp_error_set(err, errno, "mount the tmpfs of %s", what);
	return fd;
}

/* Empty 0755 directories NAMES (a NULL-terminated list) in DIRFD. */
static int make_dirs(int dirfd, const char *const *names, struct sp_error *err)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		if (mkdirat(dirfd, names[i], 0755) < 0 || fchmodat(dirfd, names[i], 0755, 0) < 0)
			return sp_error_set(err, errno, "mkdir /%s", names[i]);
	}
	return 0;
}

/* The layer of mount points, not attached anywhere yet: an empty directory
 * for each mount point of the sandbox, and /sys as an imported image has it. */
static int make_mount_point_layer(struct sp_error *err)
{
	static const char *const extra[] = {"sys", NULL};
	cleanup_close int fd = small_tmpfs("the mount points", err);

	if (fd < 0 || make_dirs(fd, sp_mount_points, err) < 0 || make_dirs(fd, extra, err) < 0)
		return -1;
	return steal_fd(&fd);
}

/* 0 with ERRNUM in *REFUSAL when ERRNUM is the kernel refusing the overlay,
 * else -1 and ERR. */
static int overlay_refused(int errnum, int *refusal, const char *what, struct sp_error *err)
{
	if (errnum == ENODEV || errnum == EINVAL || errnum == EPERM || errnum == EOPNOTSUPP) {
		*refusal = errnum;
		return 0;
	}
	return sp_error_set(err, errnum, "%s", what);
}

/* A read-only overlay of the layer of mount points LAYERFD over the image
 * IMAGEFD, attached on top of them at PLACEFD: a directory of the upper layer
 * covers whatever the image has under that name (nothing, a symlink, a file)
 * and nothing is written below. Without an upper layer overlayfs wants two
 * lower ones, and the mount table of an overlay shows "/" as its root and its
 * layers only as /proc/self/fd/N, where a bind mount shows the host path of
 * the image. The layers are attached mounts, not detached ones: Linux 6.1
 * (Debian 12's) refuses a detached lower layer (EINVAL). Returns 1 with the
 * overlay's descriptor in *FD, 0 when the kernel refused the overlay (with
 * its errno in *REFUSAL). */
static int overlay_rootfs(int placefd, int layerfd, int imagefd, int *fd, int *refusal,
			  struct sp_error *err)
{
	cleanup_close int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	cleanup_close int mntfd = -1;
	char lower[64];

	if (fsfd < 0)
		return overlay_refused(errno, refusal, "open an overlay", err);
	snprintf(lower, sizeof(lower), "/proc/self/fd/%d:/proc/self/fd/%d", layerfd, imagefd);
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return overlay_refused(errno, refusal, "make an overlay of the rootfs", err);
	mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC,
			MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mntfd < 0)
		return sp_error_set(err, errno, "mount the overlay of the rootfs");
	if (attach_above(mntfd, placefd, "the overlay of the rootfs", err) < 0)
		return -1;
	*fd = steal_fd(&mntfd);
	return 1;
}

/* Without the overlay the image must have its mount points, as directories:
 * one that is missing, a symlink or a file is refused, never followed. */
static int check_image_mount_points(int imagefd, struct sp_error *err)
{
	struct stat st;

	for (size_t i = 0; sp_mount_points[i] != NULL; i++) {
		const char *name = sp_mount_points[i];

		if (fstatat(imagefd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return sp_error_set(err, errno,
					    "the rootfs has no /%s directory, and the kernel "
					    "refused the overlay that would provide one",
					    name);
		if (S_ISLNK(st.st_mode))
			return sp_error_set(err, 0,
					    "/%s is a symbolic link in the rootfs, and the kernel "
					    "refused the overlay that would cover it",
					    name);
		if (!S_ISDIR(st.st_mode))
			return sp_error_set(err, 0,
					    "/%s is not a directory in the rootfs, and the kernel "
					    "refused the overlay that would cover it",
					    name);
	}
	return 0;
}

static int detach_mount(int fd, struct sp_error *err)
{
	char path[64];

	fd_path(fd, path, sizeof(path));
	if (umount2(path, MNT_DETACH) < 0)
		return sp_error_set(err, errno, "detach the mount points");
	return 0;
}

/* The image directory PLACEFD, ready to be the cell's root: bound onto
 * itself, under a read-only overlay that adds the mount points where the
 * kernel allows it (*REFUSAL 0), alone where the image has the mount points
 * itself (*REFUSAL the errno of the kernel's refusal). All three mounts go on
 * top of one another at PLACEFD, in the cell's own mount namespace, where
 * nothing can collide with them; the image is not written. */
static int stack_rootfs(int placefd, int *refusal, struct sp_error *err)
{
	cleanup_close int imagefd = bind_image(placefd, err);
	cleanup_close int layerfd = -1;
	int fd = -1, rc;

	*refusal = 0;
	if (imagefd < 0)
		return -1;
	layerfd = make_mount_point_layer(err);
	if (layerfd < 0 || attach_above(layerfd, placefd, "the mount points", err) < 0)
		return -1;
	rc = overlay_rootfs(placefd, layerfd, imagefd, &fd, refusal, err);
	if (rc != 0)
		return rc < 0 ? -1 : fd;
	if (detach_mount(layerfd, err) < 0 || check_image_mount_points(imagefd, err) < 0)
		return -1;
	return steal_fd(&imagefd);
}

static int open_rootfs(const char *rootfs, struct sp_error *err)
{
	cleanup_close int placefd = open_image_dir(rootfs, err);
	int refusal;

	if (placefd < 0)
		return -1;
	return stack_rootfs(placefd, &refusal, err);
}

int sp_mount_rootfs_in_child(const struct sp_mount_config *cfg, struct sp_mount_scratch *scratch,
			     struct sp_error *err)
{
	unsigned long root_flags = MS_RDONLY | MS_NOSUID | MS_NODEV;
	cleanup_close int rootfd = -1;
	char root[64];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sp_error_set(err, errno, "make / private");
	rootfd = open_rootfs(cfg->rootfs, err);
	if (rootfd < 0)
		return -1;
	root_flags |= kept_mount_flags(rootfd);
	if (mount_proc(rootfd, err) < 0 || populate_dev(rootfd, err) < 0)
		return -1;
	if (remount_beneath(rootfd, "dev", MS_RDONLY | MS_NOSUID | MS_NOEXEC, err) < 0)
		return -1;
	if (mount_box_tmp_shm(rootfd, cfg, scratch, err) < 0)
		return -1;
	fd_path(rootfd, root, sizeof(root));
	if (mount(NULL, root, NULL, MS_REMOUNT | MS_BIND | root_flags, NULL) < 0)
		return sp_error_set(err, errno, "remount the rootfs read-only");
	return pivot_into(rootfd, err);
}

int sp_mount_reset_in_child(const struct sp_mount_config *cfg, struct sp_mount_scratch *scratch,
			    struct sp_error *err)
{
	cleanup_close int rootfd = -1;
	char path[32];

	if (chdir("/") < 0)
		return sp_error_set(err, errno, "chdir /");
	rootfd = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (rootfd < 0)
		return sp_error_set(err, errno, "open /");
	/* Each detach waits for an expedited RCU grace period, which stops
	 * every busy CPU a moment: an untouched mount is kept. */
	for (size_t i = 0; i < SP_ARRAY_SIZE(scratch_paths); i++) {
		if (untouched(rootfd, i, scratch))
			continue;
		snprintf(path, sizeof(path), "/%s", scratch_paths[i]);
		if (umount2(path, MNT_DETACH) < 0)
			return sp_error_set(err, errno, "unmount %s", path);
		if (mount_scratch(rootfd, cfg, i, scratch, err) < 0)
			return -1;
	}
	if (chdir("/box") < 0)
		return sp_error_set(err, errno, "chdir /box");
	return 0;
}

int sp_mount_check_rootfs(const char *rootfs, struct sp_error *err)
{
	cleanup_close int fd = open_image_dir(rootfs, err);

	return fd < 0 ? -1 : 0;
}

int sp_mount_probe_overlay_in_child(int *refusal, struct sp_error *err)
{
	static const char *const image[] = {"image", NULL};
	cleanup_close int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int tmpfd = -1;
	cleanup_close int imagefd = -1;
	cleanup_close int fd = -1;

	if (rootfd < 0)
		return sp_error_set(err, errno, "open /");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sp_error_set(err, errno, "make / private");
	tmpfd = small_tmpfs("the probe", err);
	if (tmpfd < 0 || make_dirs(tmpfd, image, err) < 0)
		return -1;
	imagefd = open_beneath(tmpfd, "image", O_PATH | O_DIRECTORY, err);
	if (imagefd < 0 || make_dirs(imagefd, sp_mount_points, err) < 0)
		return -1;
	if (attach_above(tmpfd, rootfd, "the tmpfs of the probe", err) < 0)
		return -1;
	fd = stack_rootfs(imagefd, refusal, err);
	return fd < 0 ? -1 : 0;
}
