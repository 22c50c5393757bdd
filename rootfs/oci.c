#include "oci.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <nettle/sha2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/log.h"
#include "sandbox/base/read_all.h"

#define JSON_MAX	(16 * 1024 * 1024) /* index, manifest, config */
#define MAX_LAYERS	1024
#define MAX_MEMBERS	1000000
#define MAX_INDEX_DEPTH 3
#define MAX_LINK_PASSES 8
#define TAGS_TEXT_MAX	200
#define PRINTABLE_MAX	96
#define REF_NAME	"org.opencontainers.image.ref.name"

#define MT_OCI_MANIFEST	   "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX	   "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST	   "application/vnd.docker.distribution.manifest.list.v2+json"

static const char *const config_media_types[] = {
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
    NULL,
};

static const char *const layer_media_types[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    NULL,
};

static void archive_freep(struct archive **a)
{
	if (*a != NULL)
		archive_read_free(*a);
}

#define cleanup_archive __attribute__((cleanup(archive_freep)))

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; s != NULL && list[i] != NULL; i++) {
		if (strcmp(s, list[i]) == 0)
			return true;
	}
	return false;
}

/* S cut short and with every unprintable byte as '?': safe in one line. */
static const char *printable(const char *s, char buf[PRINTABLE_MAX])
{
	size_t i = 0;

	for (; s != NULL && s[i] != '\0' && i + 4 < PRINTABLE_MAX; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s != NULL && s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

const char *sp_oci_kind_to_string(enum sp_oci_kind kind)
{
	switch (kind) {
	case SP_OCI_LAYOUT:
		return "oci-layout";
	case SP_OCI_ARCHIVE:
		return "oci-archive";
	case SP_OCI_DOCKER_DIR:
		return "docker-dir";
	case SP_OCI_DOCKER_ARCHIVE:
		return "docker-archive";
	}
	return "unknown";
}

const char *sp_oci_host_arch(void)
{
	static const struct {
		const char *machine;
		const char *arch;
	} arches[] = {
	    {"x86_64", "amd64"},    {"aarch64", "arm64"}, {"armv7l", "arm"},	  {"i686", "386"},
	    {"ppc64le", "ppc64le"}, {"s390x", "s390x"},	  {"riscv64", "riscv64"},
	};
	struct utsname u;

	if (uname(&u) == 0) {
		for (size_t i = 0; i < SP_ARRAY_SIZE(arches); i++) {
			if (strcmp(u.machine, arches[i].machine) == 0)
				return arches[i].arch;
		}
	}
	return "amd64";
}

int sp_oci_digest_valid(const char *digest)
{
	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0)
		return 0;
	for (size_t i = 0; i < SP_SHA256_HEX_LEN; i++) {
		char c = digest[7 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return digest[7 + SP_SHA256_HEX_LEN] == '\0';
}

/* A relative path of plain components: no "", ".", ".." and not absolute. */
static bool path_plain(const char *path)
{
	const char *p = path;

	if (*p == '\0' || *p == '/' || strlen(path) >= PATH_MAX)
		return false;
	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
		if (*p == '/')
			p++;
		if (*p == '\0' && p[-1] == '/')
			return false;
	}
	return true;
}

/* A regular file beneath DIRFD, its last component no symlink. A FIFO or a
 * device does not block the open: it is refused after. */
static int open_beneath(int dirfd, const char *path, const char *what, struct sp_error *err)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	char shown[PRINTABLE_MAX];
	cleanup_close int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	struct stat st;

	if (fd < 0 && errno == ENOENT)
		return sp_error_set(err, 0, "%s: blob %s is missing", what, printable(path, shown));
	if (fd < 0)
		return sp_error_set(err, errno, "%s: open %s", what, printable(path, shown));
	if (fstat(fd, &st) < 0)
		return sp_error_set(err, errno, "%s: stat %s", what, printable(path, shown));
	if (!S_ISREG(st.st_mode))
		return sp_error_set(err, 0, "%s: %s is not a regular file", what,
				    printable(path, shown));
	if (fcntl(fd, F_SETFL, 0) < 0)
		return sp_error_set(err, errno, "%s: fcntl", what);
	return steal_fd(&fd);
}

static json_t *parse_json(const char *text, size_t length, json_type type, const char *what,
			  struct sp_error *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(text, length, JSON_REJECT_DUPLICATES, &jerr);
	char shown[PRINTABLE_MAX];

	if (j == NULL) {
		sp_error_set(err, 0, "%s is not valid JSON: %s (line %d)", what,
			     printable(jerr.text, shown), jerr.line);
		return NULL;
	}
	if (json_typeof(j) != type) {
		json_decref(j);
		sp_error_set(err, 0, "%s is not a JSON %s", what,
			     type == JSON_ARRAY ? "array" : "object");
		return NULL;
	}
	return j;
}

/* Read PATH beneath DIRFD as JSON; check its sha256 against DIGEST and its
 * length against SIZE when they are given. */
static json_t *read_json(int dirfd, const char *path, const char *digest, int64_t size,
			 json_type type, const char *what, struct sp_error *err)
{
	cleanup_close int fd = open_beneath(dirfd, path, what, err);
	cleanup_free char *text = NULL;
	char actual[SP_DIGEST_MAX];
	uint8_t sum[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	size_t length = 0;

	if (fd < 0)
		return NULL;
	if (sp_read_all(fd, JSON_MAX, &text, &length, err) < 0) {
		sp_error_wrap(err, "%s", what);
		return NULL;
	}
	if (size >= 0 && (uint64_t)size != length) {
		sp_error_set(err, 0, "%s: size mismatch (%lld bytes expected, %zu found)", what,
			     (long long)size, length);
		return NULL;
	}
	sha256_init(&ctx);
	sha256_update(&ctx, length, (const uint8_t *)text);
	sha256_digest(&ctx, sizeof(sum), sum);
	sp_sha256_to_digest(sum, actual);
	if (digest != NULL && strcmp(digest, actual) != 0) {
		sp_error_set(err, 0, "%s: digest mismatch (expected %s, found %s)", what, digest,
			     actual);
		return NULL;
	}
	return parse_json(text, length, type, what, err);
}

/* What a descriptor of the OCI image spec says. */
struct descriptor {
	const char *media_type;
	char digest[SP_DIGEST_MAX];
	int64_t size;
};

static int parse_descriptor(json_t *j, const char *what, struct descriptor *d, struct sp_error *err)
{
	const char *digest = json_string_value(json_object_get(j, "digest"));
	json_t *size = json_object_get(j, "size");
	char shown[PRINTABLE_MAX];

	if (!json_is_object(j))
		return sp_error_set(err, 0, "%s: descriptor is not an object", what);
	if (digest == NULL)
		return sp_error_set(err, 0, "%s: descriptor has no digest", what);
	if (!sp_oci_digest_valid(digest))
		return sp_error_set(err, 0, "%s: invalid digest '%s' (want sha256: and 64 hex)",
				    what, printable(digest, shown));
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return sp_error_set(err, 0, "%s: descriptor has no valid size", what);
	d->media_type = json_string_value(json_object_get(j, "mediaType"));
	snprintf(d->digest, sizeof(d->digest), "%s", digest);
	d->size = json_integer_value(size);
	return 0;
}

/* "blobs/sha256/<hex>" of a digest checked by sp_oci_digest_valid. */
static void blob_path(const char *digest, char *buf, size_t size)
{
	snprintf(buf, size, "blobs/sha256/%s", digest + 7);
}

static json_t *read_blob_json(int dirfd, const struct descriptor *d, const char *what,
			      struct sp_error *err)
{
	char path[PATH_MAX];

	if (d->size > JSON_MAX) {
		sp_error_set(err, EFBIG, "%s: %lld bytes is too large", what, (long long)d->size);
		return NULL;
	}
	blob_path(d->digest, path, sizeof(path));
	return read_json(dirfd, path, d->digest, d->size, JSON_OBJECT, what, err);
}

static const char *ref_name(json_t *desc)
{
	return json_string_value(json_object_get(json_object_get(desc, "annotations"), REF_NAME));
}

static bool platform_matches(json_t *desc)
{
	json_t *platform = json_object_get(desc, "platform");
	const char *os = json_string_value(json_object_get(platform, "os"));
	const char *arch = json_string_value(json_object_get(platform, "architecture"));

	return os != NULL && arch != NULL && strcmp(os, "linux") == 0 &&
	       strcmp(arch, sp_oci_host_arch()) == 0;
}

/* "a, b, c" of what NAME_OF gives for each descriptor, for error messages. */
static void list_names(json_t *descs, const char *(*name_of)(json_t *, char *, size_t), char *buf,
		       size_t size)
{
	size_t used = 0;
	size_t i;
	json_t *d;

	buf[0] = '\0';
	json_array_foreach(descs, i, d)
	{
		char one[PRINTABLE_MAX];
		char shown[PRINTABLE_MAX];
		const char *name = name_of(d, one, sizeof(one));
		int n;

		if (name == NULL)
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
			     printable(name, shown));
		if (n < 0 || (size_t)n >= size - used) {
			snprintf(buf + used, size - used, "...");
			break;
		}
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, size, "none");
}

static const char *tag_of(json_t *desc, char *buf, size_t size)
{
	const char *name = ref_name(desc);

	if (name == NULL)
		return NULL;
	snprintf(buf, size, "%s", name);
	return buf;
}

static const char *platform_of(json_t *desc, char *buf, size_t size)
{
	json_t *platform = json_object_get(desc, "platform");
	const char *os = json_string_value(json_object_get(platform, "os"));
	const char *arch = json_string_value(json_object_get(platform, "architecture"));

	snprintf(buf, size, "%s/%s", os ? os : "?", arch ? arch : "?");
	return buf;
}

static json_t *pick_platform(json_t *descs, const char *what, struct sp_error *err)
{
	char platforms[TAGS_TEXT_MAX];
	size_t i;
	json_t *d;

	json_array_foreach(descs, i, d)
	{
		if (platform_matches(d))
			return d;
	}
	list_names(descs, platform_of, platforms, sizeof(platforms));
	sp_error_set(err, 0, "%s: no linux/%s image (platforms: %s)", what, sp_oci_host_arch(),
		     platforms);
	return NULL;
}

static bool tag_matches(json_t *desc, const char *tag)
{
	const char *name = ref_name(desc);

	return tag == NULL || (name != NULL && strcmp(name, tag) == 0);
}

/* The descriptor of index.json's MANIFESTS that TAG names, or the only one.
 * Several of one tag (one per platform) are told apart by platform. */
static json_t *pick_tagged(json_t *manifests, const char *tag, struct sp_error *err)
{
	char tags[TAGS_TEXT_MAX];
	char shown[PRINTABLE_MAX];
	json_t *first = NULL;
	size_t count = 0;
	size_t i;
	json_t *d;

	json_array_foreach(manifests, i, d)
	{
		if (!tag_matches(d, tag))
			continue;
		if (count++ == 0)
			first = d;
	}
	if (count == 1)
		return first;
	json_array_foreach(manifests, i, d)
	{
		if (count > 1 && tag_matches(d, tag) && platform_matches(d))
			return d;
	}
	list_names(manifests, tag_of, tags, sizeof(tags));
	if (count == 0 && tag != NULL)
		sp_error_set(err, 0, "no image tagged '%s' (tags: %s)", printable(tag, shown),
			     tags);
	else if (count == 0)
		sp_error_set(err, 0, "index.json lists no image");
	else
		sp_error_set(err, 0, "%zu images here, choose one with SOURCE:TAG (tags: %s)",
			     count, tags);
	return NULL;
}

static bool is_index(const char *media_type)
{
	return media_type != NULL &&
	       (strcmp(media_type, MT_OCI_INDEX) == 0 || strcmp(media_type, MT_DOCKER_LIST) == 0);
}

static bool is_manifest(const char *media_type)
{
	return media_type != NULL && (strcmp(media_type, MT_OCI_MANIFEST) == 0 ||
				      strcmp(media_type, MT_DOCKER_MANIFEST) == 0);
}

/* From the descriptor CHOSEN down through image indexes to an image
 * manifest, picking the host's platform in each index. */
static json_t *descend(int dirfd, json_t *chosen, int depth, struct descriptor *d,
		       struct sp_error *err)
{
	json_auto_t *nested = NULL;
	char shown[PRINTABLE_MAX];
	json_t *manifests;
	json_t *next;

	if (parse_descriptor(chosen, "index", d, err) < 0)
		return NULL;
	if (is_manifest(d->media_type))
		return read_blob_json(dirfd, d, "manifest", err);
	if (!is_index(d->media_type)) {
		sp_error_set(err, 0, "index: unsupported manifest media type '%s'",
			     printable(d->media_type ? d->media_type : "(none)", shown));
		return NULL;
	}
	if (depth >= MAX_INDEX_DEPTH) {
		sp_error_set(err, 0, "image indexes nested too deep");
		return NULL;
	}
	nested = read_blob_json(dirfd, d, "image index", err);
	if (nested == NULL)
		return NULL;
	manifests = json_object_get(nested, "manifests");
	if (!json_is_array(manifests)) {
		sp_error_set(err, 0, "image index %s has no manifests list", d->digest);
		return NULL;
	}
	next = pick_platform(manifests, "image index", err);
	return next == NULL ? NULL : descend(dirfd, next, depth + 1, d, err);
}

/* index.json, then down to one image manifest; D describes the manifest. */
static json_t *find_manifest(int dirfd, const char *tag, struct descriptor *d, struct sp_error *err)
{
	json_auto_t *index =
	    read_json(dirfd, "index.json", NULL, -1, JSON_OBJECT, "index.json", err);
	json_t *manifests = json_object_get(index, "manifests");
	json_t *chosen;

	if (index == NULL)
		return NULL;
	if (!json_is_array(manifests)) {
		sp_error_set(err, 0, "index.json has no manifests list");
		return NULL;
	}
	chosen = pick_tagged(manifests, tag, err);
	return chosen == NULL ? NULL : descend(dirfd, chosen, 0, d, err);
}

/* The config's rootfs.diff_ids: one valid digest per layer. */
static json_t *diff_ids(json_t *config, size_t layers, struct sp_error *err)
{
	json_t *ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	size_t i;
	json_t *id;

	if (!json_is_array(ids)) {
		sp_error_set(err, 0, "config has no rootfs.diff_ids");
		return NULL;
	}
	if (json_array_size(ids) != layers) {
		sp_error_set(err, 0, "config lists %zu layers, the manifest %zu",
			     json_array_size(ids), layers);
		return NULL;
	}
	json_array_foreach(ids, i, id)
	{
		if (!sp_oci_digest_valid(json_string_value(id))) {
			sp_error_set(err, 0, "config: rootfs.diff_ids[%zu] is not a sha256 digest",
				     i);
			return NULL;
		}
	}
	return ids;
}

static int alloc_layers(struct sp_oci_image *img, size_t count, struct sp_error *err)
{
	if (count > MAX_LAYERS)
		return sp_error_set(err, 0, "%zu layers: at most %d are supported", count,
				    MAX_LAYERS);
	img->layers = calloc(count ? count : 1, sizeof(*img->layers));
	if (img->layers == NULL)
		return sp_error_set(err, ENOMEM, "layers");
	return 0;
}

static int oci_layer(struct sp_oci_image *img, size_t i, json_t *j, struct sp_error *err)
{
	struct sp_oci_layer *l = &img->layers[i];
	char what[32];
	char shown[PRINTABLE_MAX];
	char path[PATH_MAX];
	struct descriptor d;

	snprintf(what, sizeof(what), "layer %zu", i + 1);
	if (parse_descriptor(j, what, &d, err) < 0)
		return -1;
	if (!in_list(d.media_type, layer_media_types))
		return sp_error_set(err, 0, "%s: unsupported media type '%s'", what,
				    printable(d.media_type ? d.media_type : "(none)", shown));
	if (json_object_get(j, "urls") != NULL)
		return sp_error_set(err, 0, "%s: foreign layers (with urls) are not supported",
				    what);
	blob_path(d.digest, path, sizeof(path));
	l->path = strdup(path);
	if (l->path == NULL)
		return sp_error_set(err, ENOMEM, "%s", what);
	snprintf(l->digest, sizeof(l->digest), "%s", d.digest);
	l->size = d.size;
	img->layer_count = i + 1;
	return 0;
}

static int oci_config(struct sp_oci_image *img, json_t *manifest, struct sp_error *err)
{
	char shown[PRINTABLE_MAX];
	struct descriptor d;

	if (parse_descriptor(json_object_get(manifest, "config"), "config", &d, err) < 0)
		return -1;
	if (!in_list(d.media_type, config_media_types))
		return sp_error_set(err, 0, "not a container image (config media type '%s')",
				    printable(d.media_type ? d.media_type : "(none)", shown));
	img->config = read_blob_json(img->dirfd, &d, "config", err);
	if (img->config == NULL)
		return -1;
	snprintf(img->config_digest, sizeof(img->config_digest), "%s", d.digest);
	return 0;
}

static int check_layout_file(int dirfd, struct sp_error *err)
{
	json_auto_t *j = read_json(dirfd, "oci-layout", NULL, -1, JSON_OBJECT, "oci-layout", err);
	const char *version = json_string_value(json_object_get(j, "imageLayoutVersion"));

	if (j == NULL)
		return -1;
	if (version == NULL || strncmp(version, "1.", 2) != 0)
		return sp_error_set(err, 0, "oci-layout: unsupported imageLayoutVersion");
	return 0;
}

static int read_oci(struct sp_oci_image *img, const char *tag, struct sp_error *err)
{
	struct descriptor md;
	json_auto_t *manifest = NULL;
	const char *media_type;
	json_t *layers;
	size_t i;
	json_t *l;

	if (check_layout_file(img->dirfd, err) < 0)
		return -1;
	manifest = find_manifest(img->dirfd, tag, &md, err);
	if (manifest == NULL)
		return -1;
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", md.digest);
	media_type = json_string_value(json_object_get(manifest, "mediaType"));
	if (media_type != NULL && !is_manifest(media_type))
		return sp_error_set(err, 0, "manifest: media type differs from its descriptor's");
	layers = json_object_get(manifest, "layers");
	if (!json_is_array(layers))
		return sp_error_set(err, 0, "manifest has no layers list");
	if (oci_config(img, manifest, err) < 0 || alloc_layers(img, json_array_size(layers), err))
		return -1;
	json_array_foreach(layers, i, l)
	{
		if (oci_layer(img, i, l, err) < 0)
			return -1;
	}
	return diff_ids(img->config, img->layer_count, err) == NULL ? -1 : 0;
}

/* A docker save entry names TAG in RepoTags: "repo:tag" in full, or its tag. */
static bool docker_tag_matches(json_t *entry, const char *tag, bool by_suffix)
{
	size_t i;
	json_t *t;

	if (tag == NULL)
		return true;
	json_array_foreach(json_object_get(entry, "RepoTags"), i, t)
	{
		const char *s = json_string_value(t);
		const char *colon = s ? strrchr(s, ':') : NULL;

		if (s != NULL && strcmp(s, tag) == 0)
			return true;
		if (by_suffix && colon != NULL && strcmp(colon + 1, tag) == 0)
			return true;
	}
	return false;
}

static const char *docker_tags_of(json_t *entry, char *buf, size_t size)
{
	json_t *tags = json_object_get(entry, "RepoTags");
	size_t used = 0;
	size_t i;
	json_t *t;

	buf[0] = '\0';
	json_array_foreach(tags, i, t)
	{
		int n;

		if (!json_is_string(t))
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
			     json_string_value(t));
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return used ? buf : NULL;
}

static json_t *pick_docker(json_t *entries, const char *tag, struct sp_error *err)
{
	char tags[TAGS_TEXT_MAX];
	char shown[PRINTABLE_MAX];

	for (int by_suffix = 0; by_suffix < 2; by_suffix++) {
		json_t *found = NULL;
		size_t count = 0;
		size_t i;
		json_t *e;

		json_array_foreach(entries, i, e)
		{
			if (docker_tag_matches(e, tag, by_suffix)) {
				found = e;
				count++;
			}
		}
		if (count == 1)
			return found;
		if (count > 1 || tag == NULL)
			break;
	}
	list_names(entries, docker_tags_of, tags, sizeof(tags));
	if (tag != NULL)
		sp_error_set(err, 0, "no single image tagged '%s' (tags: %s)",
			     printable(tag, shown), tags);
	else if (json_array_size(entries) == 0)
		sp_error_set(err, 0, "manifest.json lists no image");
	else
		sp_error_set(err, 0, "%zu images here, choose one with SOURCE:TAG (tags: %s)",
			     json_array_size(entries), tags);
	return NULL;
}

/* docker save names the config after its digest: "<hex>.json", or
 * "blobs/sha256/<hex>" since Docker 25. */
static int docker_config(struct sp_oci_image *img, json_t *entry, struct sp_error *err)
{
	const char *path = json_string_value(json_object_get(entry, "Config"));
	const char *base;
	char digest[SP_DIGEST_MAX + 8];
	char shown[PRINTABLE_MAX];

	if (path == NULL || !path_plain(path))
		return sp_error_set(err, 0, "manifest.json: invalid Config '%s'",
				    printable(path ? path : "(none)", shown));
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(digest, sizeof(digest), "sha256:%.*s", (int)strcspn(base, "."), base);
	if (!sp_oci_digest_valid(digest) || (base[64] != '\0' && strcmp(base + 64, ".json") != 0))
		return sp_error_set(err, 0, "manifest.json: Config '%s' is not named by its digest",
				    printable(path, shown));
	img->config = read_json(img->dirfd, path, digest, -1, JSON_OBJECT, "config", err);
	if (img->config == NULL)
		return -1;
	memcpy(img->config_digest, digest, SP_DIGEST_MAX); /* checked: it fits */
	return 0;
}

/* Docker layers are checked against the config's diff_ids: docker save
 * writes them uncompressed, so the blob is the diff. */
static int docker_layers(struct sp_oci_image *img, json_t *entry, struct sp_error *err)
{
	json_t *layers = json_object_get(entry, "Layers");
	json_t *ids;
	char shown[PRINTABLE_MAX];
	size_t i;
	json_t *l;

	if (!json_is_array(layers))
		return sp_error_set(err, 0, "manifest.json has no Layers list");
	if (json_object_size(json_object_get(entry, "LayerSources")) > 0)
		return sp_error_set(err, 0, "foreign layers (LayerSources) are not supported");
	ids = diff_ids(img->config, json_array_size(layers), err);
	if (ids == NULL || alloc_layers(img, json_array_size(layers), err) < 0)
		return -1;
	json_array_foreach(layers, i, l)
	{
		const char *path = json_string_value(l);

		if (path == NULL || !path_plain(path))
			return sp_error_set(err, 0, "layer %zu: invalid path '%s'", i + 1,
					    printable(path ? path : "(none)", shown));
		img->layers[i].path = strdup(path);
		if (img->layers[i].path == NULL)
			return sp_error_set(err, ENOMEM, "layers");
		snprintf(img->layers[i].digest, sizeof(img->layers[i].digest), "%s",
			 json_string_value(json_array_get(ids, i)));
		img->layers[i].size = -1;
		img->layer_count = i + 1;
	}
	return 0;
}

static int read_docker(struct sp_oci_image *img, const char *tag, struct sp_error *err)
{
	json_auto_t *entries =
	    read_json(img->dirfd, "manifest.json", NULL, -1, JSON_ARRAY, "manifest.json", err);
	json_t *entry;

	if (entries == NULL)
		return -1;
	entry = pick_docker(entries, tag, err);
	if (entry == NULL || docker_config(img, entry, err) < 0)
		return -1;
	return docker_layers(img, entry, err);
}

/* Member NAME of an archive as a plain relative path into OUT: 1, or 0 for
 * the archive's root, or -1 when it is not safe to write. */
static int member_path(const char *name, char *out, size_t size)
{
	size_t len;

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	while (name[0] == '/' && name[1] == '\0')
		name++;
	if (name[0] == '\0' || strcmp(name, ".") == 0)
		return 0;
	if (snprintf(out, size, "%s", name) >= (int)size)
		return -1;
	len = strlen(out);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	return path_plain(out) ? 1 : -1;
}

/* TARGET of a symlink at PATH, resolved within the archive into OUT. */
static int link_target(const char *path, const char *target, char *out, size_t size)
{
	char joined[PATH_MAX * 2];
	const char *slash = strrchr(path, '/');
	size_t used = 0;
	char *p;

	if (target[0] == '/')
		return -1;
	snprintf(joined, sizeof(joined), "%.*s/%s", slash ? (int)(slash - path) : 0, path, target);
	out[0] = '\0';
	for (char *save = NULL, *c = strtok_r(joined, "/", &save); c != NULL;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (used == 0)
				return -1;
			p = strrchr(out, '/');
			used = p ? (size_t)(p - out) : 0;
			out[used] = '\0';
			continue;
		}
		if (snprintf(out + used, size - used, "%s%s", used ? "/" : "", c) >=
		    (int)(size - used))
			return -1;
		used = strlen(out);
	}
	return path_plain(out) ? 0 : -1;
}

struct pending_link {
	char *path;
	char *target; /* a plain path within the archive */
};

struct unpack {
	int destfd;
	const char *source;
	struct pending_link *links;
	size_t link_count;
	size_t link_cap;
};

/* mkdir -p of PATH's parents beneath DESTFD, which holds no symlink. */
static int make_parents(int destfd, const char *path, struct sp_error *err)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strchr(buf, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(destfd, buf, 0755) < 0 && errno != EEXIST)
			return sp_error_set(err, errno, "unpack %s", buf);
		*p = '/';
	}
	return 0;
}

static int unpack_file(struct unpack *u, struct archive *a, const char *path, struct sp_error *err)
{
	struct open_how how = {
	    .flags = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    .mode = 0644,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	cleanup_close int fd = -1;

	if (make_parents(u->destfd, path, err) < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, u->destfd, path, &how, sizeof(how));
	if (fd < 0)
		return sp_error_set(err, errno, "unpack %s", path);
	if (archive_read_data_into_fd(a, fd) != ARCHIVE_OK)
		return sp_error_set(err, 0, "unpack %s: %s", path, archive_error_string(a));
	return 0;
}

static int unpack_dir(struct unpack *u, const char *path, struct sp_error *err)
{
	if (make_parents(u->destfd, path, err) < 0)
		return -1;
	if (mkdirat(u->destfd, path, 0755) < 0 && errno != EEXIST)
		return sp_error_set(err, errno, "unpack %s", path);
	return 0;
}

/* Links are made after every file is there, each as a hard link to a regular
 * file of the archive: docker save links duplicate layers. */
static int note_link(struct unpack *u, const char *path, const char *target, struct sp_error *err)
{
	struct pending_link *l;

	if (u->link_count == u->link_cap) {
		size_t cap = u->link_cap ? u->link_cap * 2 : 16;
		void *bigger = reallocarray(u->links, cap, sizeof(*u->links));

		if (bigger == NULL)
			return sp_error_set(err, ENOMEM, "unpack");
		u->links = bigger;
		u->link_cap = cap;
	}
	l = &u->links[u->link_count];
	l->path = strdup(path);
	l->target = strdup(target);
	if (l->path == NULL || l->target == NULL) {
		free(l->path);
		free(l->target);
		return sp_error_set(err, ENOMEM, "unpack");
	}
	u->link_count++;
	return 0;
}

static int unpack_link(struct unpack *u, struct archive_entry *e, const char *path,
		       struct sp_error *err)
{
	const char *hard = archive_entry_hardlink(e);
	const char *soft = archive_entry_symlink(e);
	char target[PATH_MAX];

	if (hard != NULL && member_path(hard, target, sizeof(target)) == 1)
		return note_link(u, path, target, err);
	if (hard == NULL && soft != NULL && link_target(path, soft, target, sizeof(target)) == 0)
		return note_link(u, path, target, err);
	return 0; /* pointing nowhere in the archive: left out */
}

static void make_links(struct unpack *u)
{
	bool progress = true;

	for (int pass = 0; progress && pass < MAX_LINK_PASSES; pass++) {
		progress = false;
		for (size_t i = 0; i < u->link_count; i++) {
			struct pending_link *l = &u->links[i];
			struct stat st;

			if (l->target == NULL ||
			    fstatat(u->destfd, l->target, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			if (make_parents(u->destfd, l->path, NULL) < 0 ||
			    linkat(u->destfd, l->target, u->destfd, l->path, 0) < 0)
				sp_log_errno(SP_LOG_DEBUG, "archive link %s", l->path);
			free(l->target);
			l->target = NULL;
			progress = true;
		}
	}
}

static void unpack_free(struct unpack *u)
{
	for (size_t i = 0; i < u->link_count; i++) {
		free(u->links[i].path);
		free(u->links[i].target);
	}
	free(u->links);
}

static int unpack_entry(struct unpack *u, struct archive *a, struct archive_entry *e,
			struct sp_error *err)
{
	char path[PATH_MAX];
	char shown[PRINTABLE_MAX];
	int ok = member_path(archive_entry_pathname(e) ? archive_entry_pathname(e) : "", path,
			     sizeof(path));

	if (ok < 0)
		return sp_error_set(err, 0, "archive member '%s': unsafe path",
				    printable(archive_entry_pathname(e), shown));
	if (ok == 0)
		return 0;
	if (archive_entry_hardlink(e) != NULL || archive_entry_filetype(e) == AE_IFLNK)
		return unpack_link(u, e, path, err);
	if (archive_entry_filetype(e) == AE_IFREG)
		return unpack_file(u, a, path, err);
	if (archive_entry_filetype(e) == AE_IFDIR)
		return unpack_dir(u, path, err);
	return 0; /* devices, FIFOs: nothing an image source holds */
}

static int open_archive(struct archive **out, int fd, struct sp_error *err)
{
	cleanup_archive struct archive *a = archive_read_new();

	if (a == NULL)
		return sp_error_set(err, ENOMEM, "archive");
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
	    archive_read_support_filter_none(a) != ARCHIVE_OK)
		return sp_error_set(err, 0, "archive: %s", archive_error_string(a));
	if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
		return sp_error_set(err, 0, "not a tar archive (%s)", archive_error_string(a));
	*out = steal_pointer(&a);
	return 0;
}

/* Unpack the tar at FD into DESTFD: plain paths, regular files and
 * directories only; links within the archive become hard links. */
static int unpack_archive(int fd, int destfd, struct sp_error *err)
{
	cleanup_archive struct archive *a = NULL;
	struct unpack u = {.destfd = destfd};
	struct archive_entry *e;
	size_t members = 0;
	int rc = 0;
	int r;

	if (open_archive(&a, fd, err) < 0)
		return -1;
	while (rc == 0 && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			rc = sp_error_set(err, 0, "not a valid tar archive (%s)",
					  archive_error_string(a));
		else if (++members > MAX_MEMBERS)
			rc = sp_error_set(err, 0, "more than %d archive members", MAX_MEMBERS);
		else
			rc = unpack_entry(&u, a, e, err);
	}
	if (rc == 0 && members == 0)
		rc = sp_error_set(err, 0, "an empty archive");
	if (rc == 0)
		make_links(&u);
	unpack_free(&u);
	return rc;
}

/* "PATH:TAG" when PATH alone exists and SOURCE does not. */
static int split_source(const char *source, char **path, const char **tag, struct sp_error *err)
{
	struct stat st;
	char shown[PRINTABLE_MAX];

	*tag = NULL;
	if (stat(source, &st) < 0) {
		for (const char *c = strchr(source, ':'); c != NULL; c = strchr(c + 1, ':')) {
			cleanup_free char *prefix = strndup(source, (size_t)(c - source));

			if (prefix != NULL && prefix[0] != '\0' && stat(prefix, &st) == 0) {
				if (c[1] == '\0')
					return sp_error_set(err, 0, "%s: empty tag",
							    printable(source, shown));
				*tag = c + 1;
				*path = steal_pointer(&prefix);
				return 0;
			}
		}
		return sp_error_set(err, 0, "%s: no such file or directory",
				    printable(source, shown));
	}
	*path = strdup(source);
	return *path ? 0 : sp_error_set(err, ENOMEM, "source");
}

static bool has_file(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int open_archive_source(struct sp_oci_image *img, const char *path, int scratchfd,
			       struct sp_error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return sp_error_set(err, errno, "open %s", path);
	if (mkdirat(scratchfd, "source", 0700) < 0)
		return sp_error_set(err, errno, "mkdir source");
	img->dirfd = openat(scratchfd, "source", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (img->dirfd < 0)
		return sp_error_set(err, errno, "open source");
	if (unpack_archive(fd, img->dirfd, err) < 0)
		return -1;
	img->kind = SP_OCI_ARCHIVE;
	return 0;
}

int sp_oci_open(const char *source, int scratchfd, struct sp_oci_image *img, struct sp_error *err)
{
	cleanup_free char *path = NULL;
	const char *tag;
	struct stat st;

	memset(img, 0, sizeof(*img));
	img->dirfd = -1;
	if (split_source(source, &path, &tag, err) < 0)
		return -1;
	if (stat(path, &st) < 0)
		return sp_error_set(err, errno, "%s", path);
	if (S_ISDIR(st.st_mode)) {
		img->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (img->dirfd < 0)
			return sp_error_set(err, errno, "open %s", path);
		img->kind = SP_OCI_LAYOUT;
	} else if (!S_ISREG(st.st_mode)) {
		return sp_error_set(err, 0, "%s is neither a directory nor an archive", path);
	} else if (open_archive_source(img, path, scratchfd, err) < 0) {
		return sp_error_wrap(err, "%s", path);
	}
	if (has_file(img->dirfd, "oci-layout"))
		return read_oci(img, tag, err);
	if (!has_file(img->dirfd, "manifest.json"))
		return sp_error_set(
		    err, 0, "%s is not an OCI layout, OCI archive or docker save tarball", path);
	img->kind = img->kind == SP_OCI_LAYOUT ? SP_OCI_DOCKER_DIR : SP_OCI_DOCKER_ARCHIVE;
	return read_docker(img, tag, err);
}

int sp_oci_open_layer(const struct sp_oci_image *img, size_t i, struct sp_error *err)
{
	const struct sp_oci_layer *l = &img->layers[i];
	char what[32];
	cleanup_close int fd = -1;
	struct stat st;

	snprintf(what, sizeof(what), "layer %zu", i + 1);
	fd = open_beneath(img->dirfd, l->path, what, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		return sp_error_set(err, errno, "%s", what);
	if (l->size >= 0 && st.st_size != l->size)
		return sp_error_set(err, 0,
				    "%s: size mismatch (manifest says %lld bytes, blob has %lld)",
				    what, (long long)l->size, (long long)st.st_size);
	return steal_fd(&fd);
}

int sp_oci_check_layer(const struct sp_oci_image *img, size_t i, const struct sp_layer_stats *stats,
		       struct sp_error *err)
{
	const struct sp_oci_layer *l = &img->layers[i];
	char actual[SP_DIGEST_MAX];

	if (l->size >= 0 && stats->blob_bytes != (uint64_t)l->size)
		return sp_error_set(
		    err, 0, "layer %zu: size mismatch (manifest says %lld bytes, read %llu)", i + 1,
		    (long long)l->size, (unsigned long long)stats->blob_bytes);
	sp_sha256_to_digest(stats->blob_sha256, actual);
	if (strcmp(actual, l->digest) != 0)
		return sp_error_set(err, 0, "layer %zu: digest mismatch (expected %s, found %s)",
				    i + 1, l->digest, actual);
	return 0;
}

void sp_oci_image_free(struct sp_oci_image *img)
{
	for (size_t i = 0; i < img->layer_count; i++)
		free(img->layers[i].path);
	free(img->layers);
	img->layers = NULL;
	img->layer_count = 0;
	json_decref(img->config);
	img->config = NULL;
	if (img->dirfd >= 0)
		close(img->dirfd);
	img->dirfd = -1;
}
