/* The state directory and the images in it:
 *
 *   STATE/images/NAME/rootfs      the unpacked image, a sandbox root
 *   STATE/images/NAME/image.json  where it came from and how to run it
 *   STATE/tmp/                    imports and removals in progress
 *
 * An image appears under images/ by one rename, whole, or not at all. */
#ifndef SANDPOOL_STORE_H
#define SANDPOOL_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"

#define SP_IMAGE_NAME_MAX 64

/* [a-z0-9][a-z0-9._-]{0,63} */
bool sp_image_name_valid(const char *name);

/* The state directory, made (0755) if missing, as an absolute path:
 * OVERRIDE when given, else $SANDPOOL_STATE_DIR, else /var/lib/sandpool as
 * root, else $XDG_DATA_HOME/sandpool or ~/.local/share/sandpool. */
int sp_state_dir(const char *override, char *buf, size_t size, struct sp_error *err);

/* Remove the folders in DIRFD (named WHERE in the log) that a process
 * killed halfway left: those named PREFIX-PID-XXXXXX whose process PID is
 * gone. The store's tmp/ when an import starts; a store of problems' drafts
 * too. */
void sp_store_sweep(int dirfd, const char *where);

/* The rootfs of image NAME. Fails with ENOENT when there is no such image. */
int sp_store_image_rootfs(const char *state_dir, const char *name, char *buf, size_t size,
			  struct sp_error *err);

/* The parsed image.json of image NAME (the caller owns it): name, source,
 * manifest_digest, config_digest, created, architecture, os, layers, size,
 * imported_at and config {Env, WorkingDir, User, Cmd, Entrypoint}. */
json_t *sp_store_image_config(const char *state_dir, const char *name, struct sp_error *err);

/* The "KEY=VALUE" entries of IMAGE's (an image.json) config Env, as a
 * NULL-terminated vector pointing into IMAGE; others are left out. free()
 * the vector. NULL when out of memory. */
const char **sp_store_image_env(json_t *image);

/* Every image's image.json, sorted by name. */
json_t *sp_store_list(const char *state_dir, struct sp_error *err);

/* Remove image NAME. Fails with ENOENT when there is no such image. */
int sp_store_remove(const char *state_dir, const char *name, struct sp_error *err);

struct sp_import_options {
	bool replace; /* an image of that name is replaced, else it is an error */
	/* Called before each layer with its number (from 1), the count of
	 * layers and the layer's size as stored. May be NULL. */
	void (*progress)(void *ctx, size_t layer, size_t layers, uint64_t bytes);
	void *progress_ctx;
};

struct sp_import_result {
	size_t layers;
	uint64_t size; /* bytes of the unpacked tree, hard links counted once */
};

/* Import SOURCE (an OCI layout "DIR[:TAG]", an OCI archive or a docker save
 * tarball) as image NAME. On failure nothing of it is left in the store. */
int sp_store_import(const char *state_dir, const char *name, const char *source,
		    const struct sp_import_options *opts, struct sp_import_result *res,
		    struct sp_error *err);

#endif
