#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

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

static int mount_box_tmp_shm(int rootfd, const struct sp_mount_config *cfg, struct sp_error *err)
{
	char options[128];

	snprintf(options, sizeof(options), "size=%luk,mode=0755,uid=%u,gid=%u",
		 (unsigned long)cfg->tmpfs_kb, cfg->box_uid, cfg->box_gid);
	if (mount_tmpfs(rootfd, "box", options, err) < 0)
		return -1;
	snprintf(options, sizeof(options), "size=%luk,mode=1777", (unsigned long)cfg->tmpfs_kb);
	if (mount_tmpfs(rootfd, "tmp", options, err) < 0)
		return -1;
	return mount_tmpfs(rootfd, "dev/shm", options, err);
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
static unsigned long kept_mount_flags(const char *path)
{
	struct statvfs st;
	unsigned long flags = 0;

	if (statvfs(path, &st) < 0)
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

/* Cover the bound rootfs at ROOTFD with a read-only overlay of it: the mount
 * table of a bind mount shows the host path of the image (the state
 * directory) as its root, an overlay's shows "/" and its layers only as
 * /proc/self/fd/N. Without an upper layer overlayfs wants two lower ones:
 * the other is an empty tmpfs, mounted on the bound /box for the time being
 * (the overlay reads the image below it, not what is mounted in it). Returns
 * 1 when the overlay is there, 0 when the kernel refused it (the bind mount
 * stays as it was). */
static int overlay_rootfs(int rootfd, struct sp_error *err)
{
	cleanup_close int emptyfd = -1;
	char options[128], target[64];

	if (mount_beneath(rootfd, "box", "tmpfs", "tmpfs", MS_RDONLY | TMPFS_FLAGS,
			  "size=4k,mode=0555", err) < 0)
		return -1;
	emptyfd = open_beneath(rootfd, "box", O_DIRECTORY | O_PATH, err);
	if (emptyfd < 0)
		return -1;
	snprintf(options, sizeof(options), "lowerdir=/proc/self/fd/%d:/proc/self/fd/%d", emptyfd,
		 rootfd);
	fd_path(rootfd, target, sizeof(target));
	if (mount("overlay", target, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, options) == 0)
		return 1;
	if (errno != ENODEV && errno != EINVAL && errno != EPERM && errno != EOPNOTSUPP)
		return sp_error_set(err, errno, "mount an overlay of the rootfs");
	fd_path(emptyfd, target, sizeof(target));
	if (umount2(target, MNT_DETACH) < 0)
		return sp_error_set(err, errno, "unmount the empty layer");
	return 0;
}

/* The rootfs bound onto itself, under an overlay where the kernel allows. */
static int open_rootfs(const char *rootfs, struct sp_error *err)
{
	cleanup_close int bindfd = -1;
	int fd, rc;

	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sp_error_set(err, errno, "bind the rootfs %s", rootfs);
	bindfd = open(rootfs, O_DIRECTORY | O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (bindfd < 0)
		return sp_error_set(err, errno, "open the rootfs %s", rootfs);
	rc = overlay_rootfs(bindfd, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		fd = bindfd;
		bindfd = -1;
		return fd;
	}
	/* the path now ends on the overlay, the topmost mount there */
	fd = open(rootfs, O_DIRECTORY | O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sp_error_set(err, errno, "open the overlay of %s", rootfs);
	return fd;
}

int sp_mount_rootfs_in_child(const struct sp_mount_config *cfg, struct sp_error *err)
{
	unsigned long root_flags = MS_RDONLY | MS_NOSUID | MS_NODEV;
	cleanup_close int rootfd = -1;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sp_error_set(err, errno, "make / private");
	rootfd = open_rootfs(cfg->rootfs, err);
	if (rootfd < 0)
		return -1;
	root_flags |= kept_mount_flags(cfg->rootfs);
	if (mount_proc(rootfd, err) < 0 || populate_dev(rootfd, err) < 0)
		return -1;
	if (remount_beneath(rootfd, "dev", MS_RDONLY | MS_NOSUID | MS_NOEXEC, err) < 0)
		return -1;
	if (mount_box_tmp_shm(rootfd, cfg, err) < 0)
		return -1;
	if (mount(NULL, cfg->rootfs, NULL, MS_REMOUNT | MS_BIND | root_flags, NULL) < 0)
		return sp_error_set(err, errno, "remount the rootfs read-only");
	return pivot_into(rootfd, err);
}

int sp_mount_reset_in_child(const struct sp_mount_config *cfg, struct sp_error *err)
{
	static const char *const fresh[] = {"/box", "/tmp", "/dev/shm", NULL};
	cleanup_close int rootfd = -1;

	if (chdir("/") < 0)
		return sp_error_set(err, errno, "chdir /");
	for (size_t i = 0; fresh[i] != NULL; i++) {
		if (umount2(fresh[i], MNT_DETACH) < 0)
			return sp_error_set(err, errno, "unmount %s", fresh[i]);
	}
	rootfd = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (rootfd < 0)
		return sp_error_set(err, errno, "open /");
	if (mount_box_tmp_shm(rootfd, cfg, err) < 0)
		return -1;
	if (chdir("/box") < 0)
		return sp_error_set(err, errno, "chdir /box");
	return 0;
}

int sp_mount_check_rootfs(const char *rootfs, struct sp_error *err)
{
	cleanup_close int rootfd = open(rootfs, O_DIRECTORY | O_PATH | O_CLOEXEC);
	struct stat st;

	if (rootfd < 0)
		return sp_error_set(err, errno, "rootfs %s", rootfs);
	for (size_t i = 0; sp_mount_points[i] != NULL; i++) {
		if (fstatat(rootfd, sp_mount_points[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return sp_error_set(err, errno, "rootfs %s has no /%s directory", rootfs,
					    sp_mount_points[i]);
		if (!S_ISDIR(st.st_mode))
			return sp_error_set(err, ENOTDIR, "rootfs %s: /%s is not a directory",
					    rootfs, sp_mount_points[i]);
	}
	return 0;
}
