/* Reading an image source: an OCI image layout (a directory), an OCI archive
 * (a tar of one) or a `docker save` tarball. Everything read is checked
 * against its digest: the index, manifest and config here, the layers by the
 * caller after applying them (sp_oci_check_layer). */
#ifndef SANDPOOL_OCI_H
#define SANDPOOL_OCI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "layer.h"
#include "sandbox/base/error.h"
#include "sha256.h"

enum sp_oci_kind {
	SP_OCI_LAYOUT,	       /* a directory with an oci-layout file */
	SP_OCI_ARCHIVE,	       /* a tar of such a directory */
	SP_OCI_DOCKER_DIR,     /* a directory with a docker save manifest.json */
	SP_OCI_DOCKER_ARCHIVE, /* a docker save tarball */
};

struct sp_oci_layer {
	char *path;		    /* of the blob, relative to the source directory */
	char digest[SP_DIGEST_MAX]; /* expected sha256 of the blob as read */
	int64_t size;		    /* expected length, -1 when the source does not say */
};

struct sp_oci_image {
	enum sp_oci_kind kind;
	int dirfd;			     /* the layout, or where the archive was unpacked */
	char manifest_digest[SP_DIGEST_MAX]; /* "" for docker sources: they have none */
	char config_digest[SP_DIGEST_MAX];
	json_t *config; /* the image configuration, verified */
	struct sp_oci_layer *layers;
	size_t layer_count;
};

const char *sp_oci_kind_to_string(enum sp_oci_kind kind);

/* The architecture name of this host in OCI terms ("amd64", "arm64"...). */
const char *sp_oci_host_arch(void);

/* Open SOURCE ("PATH" or "PATH:TAG"): find its kind, pick the manifest (by
 * tag, or the only one, or the host's platform in an image index), read and
 * verify the manifest and the config. An archive is unpacked (regular files
 * and directories only, beneath it) into a new directory "source" under
 * SCRATCHFD, which the caller removes. Free IMG with sp_oci_image_free even
 * on failure. */
int sp_oci_open(const char *source, int scratchfd, struct sp_oci_image *img, struct sp_error *err);

/* Open layer I's blob for reading: a regular file beneath the source, never
 * through a final symlink. Its length is checked when the source gives one. */
int sp_oci_open_layer(const struct sp_oci_image *img, size_t i, struct sp_error *err);

/* Compare what sp_layer_apply read of layer I with what the source says:
 * "layer N: digest mismatch" (N counted from 1) when they differ. */
int sp_oci_check_layer(const struct sp_oci_image *img, size_t i, const struct sp_layer_stats *stats,
		       struct sp_error *err);

void sp_oci_image_free(struct sp_oci_image *img);

/* Strict: "sha256:" and 64 lowercase hex digits. */
int sp_oci_digest_valid(const char *digest);

#endif
