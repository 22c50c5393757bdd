/* Applying one image layer (a tar stream, plain, gzip or zstd) onto a tree,
 * safely: no entry may land outside the tree. */
#ifndef SANDPOOL_LAYER_H
#define SANDPOOL_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/base/error.h"

struct sp_layer_options {
	bool keep_owner;   /* chown entries to the uid/gid of the tar (root only) */
	bool keep_devices; /* create device nodes (root only); else skip them */
};

struct sp_layer_stats {
	uint64_t entries;	 /* entries written */
	uint64_t whiteouts;	 /* .wh. files and opaque markers applied */
	uint64_t skipped;	 /* device nodes and the like left out, with a reason logged */
	uint64_t bytes;		 /* file content bytes written */
	uint64_t blob_bytes;	 /* bytes read from FD: the (compressed) blob */
	uint8_t blob_sha256[32]; /* sha256 of exactly those bytes */
};

/* Read the layer blob from FD to its end and apply it on top of the tree at
 * ROOTFD (an O_PATH or O_DIRECTORY descriptor). Every path is resolved
 * beneath ROOTFD without following symlinks; an entry that would land
 * outside it (.., absolute paths, through a symlink of this or an earlier
 * layer, a hard link to a path outside) fails the whole layer with a clear
 * message. Whiteouts (.wh.NAME) delete NAME from lower layers; an opaque
 * marker (.wh..wh..opq) empties its directory of lower layers' entries.
 * setuid/setgid bits are dropped unless keep_owner. The caller compares
 * stats->blob_sha256 and blob_bytes with the manifest. */
int sp_layer_apply(int rootfd, int fd, const struct sp_layer_options *opts,
		   struct sp_layer_stats *stats, struct sp_error *err);

/* Remove NAME beneath DIRFD and, if it is a directory, everything in it,
 * never following a symlink. A missing NAME is not an error. Directories
 * that lack the owner's rwx bits are opened up first (they are going away). */
int sp_remove_tree_at(int dirfd, const char *name, struct sp_error *err);

#endif
