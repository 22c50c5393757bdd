/* The cell's file system: the image read-only, under a layer that provides
 * the mount points, fresh /proc and /dev, tmpfs /box, /tmp and /dev/shm,
 * then pivot_root. Nothing is written into the image. */
#ifndef SANDPOOL_MOUNT_H
#define SANDPOOL_MOUNT_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

struct sp_mount_config {
	const char *rootfs; /* host path of the image's root directory */
	uid_t box_uid;	    /* owner of /box, inside the namespace */
	gid_t box_gid;
	uint64_t tmpfs_kb; /* size of each of /box, /tmp, /dev/shm */
};

/* /box, /tmp and /dev/shm as each was mounted: its root's inode, owner,
 * mode, links, size and times. A reset keeps a mount whose root is still
 * all of that, with no extended attribute: a job can leave nothing in a
 * tmpfs without changing one of those, so such a mount holds what a fresh
 * one holds (mount.c, untouched()). */
struct sp_mount_scratch {
	struct stat as_mounted[3];
};

/* The directories the sandbox mounts over. A read-only overlay provides them
 * over any image (covering a symlink or a file of the same name); where the
 * kernel refuses the overlay the image must have them, as directories. */
extern const char *const sp_mount_points[];

/* Check from outside that ROOTFS can serve as a sandbox root: a directory,
 * not a symlink to one. */
int sp_mount_check_rootfs(const char *rootfs, struct sp_error *err);

/* In the cell (new user and mount namespaces, pid 1 of a new pid namespace):
 * build the file system and pivot into it. The working directory is /box;
 * SCRATCH notes how /box, /tmp and /dev/shm are as mounted. */
int sp_mount_rootfs_in_child(const struct sp_mount_config *cfg, struct sp_mount_scratch *scratch,
			     struct sp_error *err);

/* In a process of its own, in new user and mount namespaces: build a root as
 * a cell does, over an image in a new tmpfs. *REFUSAL is 0 when the kernel
 * laid the overlay that provides the mount points, else the errno with which
 * it refused it (a rootfs must then have the mount points itself). */
int sp_mount_probe_overlay_in_child(int *refusal, struct sp_error *err);

/* In the cell, after a job: replace /box, /tmp and /dev/shm by empty tmpfs,
 * each one the job touched (SCRATCH says how they were mounted). */
int sp_mount_reset_in_child(const struct sp_mount_config *cfg, struct sp_mount_scratch *scratch,
			    struct sp_error *err);

#endif
