/* libFuzzer: arbitrary bytes as an image source for sp_oci_open(): the OCI
 * index, image index, manifest and config parsers, docker save's
 * manifest.json, and the unpacking of OCI and docker archives.
 *
 * The first byte says what the rest is; a lowercase one opens SOURCE:latest
 * instead of SOURCE (the tag is picked by name then):
 *   'L' / 'l'  an OCI layout: parts separated by NUL bytes, index.json first,
 *              then blobs 1, 2... each written as blobs/sha256/<its sha256>;
 *   'D' / 'd'  a docker save directory: manifest.json, then blobs, each
 *              written both as <hex>.json and as blobs/sha256/<hex>;
 *   'A' / 'a'  an archive (a tar of either), unpacked by sp_oci_open; its
 *              tar header checksums are set right first.
 * Digests cannot be found by mutation, so in every part "@D<n>@" stands for
 * the digest "sha256:<hex>" of blob n, "@H<n>@" for its hex alone and
 * "@S<n>@" for its size (n from 1 to 9, and a part refers only to blobs
 * after it: blobs are written from the last). The oci-layout file of 'L' is
 * always {"imageLayoutVersion": "1.0.0"}.
 *
 * Checked for every input, besides what ASan and UBSan see: an image opened
 * has a config object, valid digests and plain layer paths; a failure has a
 * message; an archive is unpacked into SCRATCH/scratch/source and nowhere
 * else (scratch holds nothing else, the canary beside stays empty), and all
 * is removed after; no descriptor leaks. */
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs/oci.h"
#include "tests/fuzz/fuzz_util.h"

#define MAX_PARTS 10

static struct fuzz_scratch scratch;
static const char *const own_names[] = {"in", "scratch", "source.tar", NULL};
/* What sp_oci_open may make in the scratch directory it is given. */
static const char *const scratch_names[] = {"source", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_scratch_init(&scratch, "oci");
	return 0;
}

struct part {
	const uint8_t *data;
	size_t size;
	uint8_t *text; /* with placeholders replaced */
	size_t length;
	char hex[SP_SHA256_HEX_LEN + 1];
};

static size_t split_parts(const uint8_t *data, size_t size, struct part *parts)
{
	size_t n = 0;

	while (n < MAX_PARTS) {
		const uint8_t *nul = memchr(data, 0, size);
		size_t len = nul ? (size_t)(nul - data) : size;

		parts[n++] = (struct part){.data = data, .size = len};
		if (nul == NULL)
			break;
		data += len + 1;
		size -= len + 1;
	}
	return n;
}

/* What "@X<n>@" at P stands for when blob n (> SELF) has its digest, or NULL. */
static const char *placeholder(const struct part *parts, size_t count, size_t self,
			       const uint8_t *p, size_t left, char buf[96])
{
	size_t n;

	if (left < 4 || p[0] != '@' || p[3] != '@' || p[2] < '1' || p[2] > '9')
		return NULL;
	n = (size_t)(p[2] - '0');
	if (n <= self || n >= count)
		return NULL;
	if (p[1] == 'D')
		snprintf(buf, 96, "sha256:%s", parts[n].hex);
	else if (p[1] == 'H')
		snprintf(buf, 96, "%s", parts[n].hex);
	else if (p[1] == 'S')
		snprintf(buf, 96, "%zu", parts[n].length);
	else
		return NULL;
	return buf;
}

static void substitute(struct part *parts, size_t count, size_t self)
{
	struct part *me = &parts[self];
	size_t cap = me->size * 20 + 1, used = 0;
	char buf[96];

	me->text = malloc(cap);
	if (me->text == NULL)
		fuzz_die("out of memory");
	for (size_t i = 0; i < me->size;) {
		const char *with = placeholder(parts, count, self, me->data + i, me->size - i, buf);

		if (with != NULL) {
			memcpy(me->text + used, with, strlen(with));
			used += strlen(with);
			i += 4;
		} else {
			me->text[used++] = me->data[i++];
		}
	}
	me->length = used;
}

static void hash_part(struct part *p)
{
	struct sha256_ctx ctx;
	uint8_t sum[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, p->length, p->text);
	sha256_digest(&ctx, sizeof(sum), sum);
	for (size_t i = 0; i < sizeof(sum); i++)
		snprintf(p->hex + 2 * i, 3, "%02x", sum[i]);
}

static void write_file(int dirfd, const char *path, const void *data, size_t size)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		fuzz_die("write %s: %s", path, strerror(errno));
	close(fd);
}

/* The layout or docker directory of PARTS in SCRATCH/in. */
static void write_source(struct part *parts, size_t count, bool docker)
{
	char path[128];
	int dirfd;

	if (mkdirat(scratch.basefd, "in", 0755) < 0)
		fuzz_die("mkdir in: %s", strerror(errno));
	dirfd = openat(scratch.basefd, "in", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || mkdirat(dirfd, "blobs", 0755) < 0 ||
	    mkdirat(dirfd, "blobs/sha256", 0755) < 0)
		fuzz_die("mkdir in/blobs/sha256: %s", strerror(errno));
	for (size_t i = count; i-- > 0;) {
		substitute(parts, count, i);
		hash_part(&parts[i]);
		if (i == 0)
			break;
		snprintf(path, sizeof(path), "blobs/sha256/%s", parts[i].hex);
		write_file(dirfd, path, parts[i].text, parts[i].length);
		snprintf(path, sizeof(path), "%s.json", parts[i].hex);
		if (docker)
			write_file(dirfd, path, parts[i].text, parts[i].length);
	}
	if (docker) {
		write_file(dirfd, "manifest.json", parts[0].text, parts[0].length);
	} else {
		write_file(dirfd, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}", 31);
		write_file(dirfd, "index.json", parts[0].text, parts[0].length);
	}
	close(dirfd);
	for (size_t i = 0; i < count; i++)
		free(parts[i].text);
}

static bool path_plain(const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || path[0] == '/' || strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0 ||
	    strstr(path, "/../") != NULL || (len >= 3 && strcmp(path + len - 3, "/..") == 0))
		return false;
	return true;
}

static void check_image(const struct sp_oci_image *img)
{
	struct sp_layer_stats stats = {0};
	struct sp_error err = {0};

	if (!json_is_object(img->config) || !sp_oci_digest_valid(img->config_digest))
		fuzz_die("opened without a config object or its digest");
	if (img->kind != SP_OCI_DOCKER_DIR && img->kind != SP_OCI_DOCKER_ARCHIVE &&
	    !sp_oci_digest_valid(img->manifest_digest))
		fuzz_die("an OCI image without its manifest's digest");
	for (size_t i = 0; i < img->layer_count; i++) {
		int fd;

		if (!sp_oci_digest_valid(img->layers[i].digest) || !path_plain(img->layers[i].path))
			fuzz_die("layer %zu: digest or path '%s' not checked", i,
				 img->layers[i].path);
		fd = sp_oci_open_layer(img, i, &err);
		if (fd >= 0)
			close(fd);
		if (sp_oci_check_layer(img, i, &stats, &err) == 0 &&
		    strcmp(img->layers[i].digest,
			   "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b9"
			   "34ca495991b7852b855") != 0)
			fuzz_die("layer %zu: an empty read matches digest %s", i,
				 img->layers[i].digest);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int free_fd = fuzz_lowest_free_fd();
	struct part parts[MAX_PARTS];
	struct sp_oci_image img;
	struct sp_error err = {0};
	char source[PATH_MAX];
	int scratchfd;
	char mode;

	if (size < 1)
		return -1; /* not kept in the corpus */
	mode = (char)data[0];
	if (strchr("LlDdAa", mode) == NULL || mode == '\0')
		return -1;
	if (mkdirat(scratch.basefd, "scratch", 0700) < 0)
		fuzz_die("mkdir scratch: %s", strerror(errno));
	scratchfd = openat(scratch.basefd, "scratch", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (scratchfd < 0)
		fuzz_die("open scratch: %s", strerror(errno));
	if (mode == 'A' || mode == 'a') {
		uint8_t *tar = malloc(size);

		if (tar == NULL)
			fuzz_die("out of memory");
		memcpy(tar, data + 1, size - 1);
		fuzz_tar_fix_checksums(tar, size - 1);
		write_file(scratch.basefd, "source.tar", tar, size - 1);
		free(tar);
		snprintf(source, sizeof(source), "%s/source.tar%s", scratch.base,
			 mode == 'a' ? ":latest" : "");
	} else {
		write_source(parts, split_parts(data + 1, size - 1, parts),
			     mode == 'D' || mode == 'd');
		snprintf(source, sizeof(source), "%s/in%s", scratch.base,
			 mode == 'l' || mode == 'd' ? ":latest" : "");
	}
	if (sp_oci_open(source, scratchfd, &img, &err) < 0) {
		if (err.message[0] == '\0')
			fuzz_die("sp_oci_open failed without a message");
		if (getenv("FUZZ_VERBOSE") != NULL)
			fprintf(stderr, "fuzz: %s\n", err.message);
	} else {
		if (getenv("FUZZ_VERBOSE") != NULL)
			fprintf(stderr, "fuzz: ok, %zu layers\n", img.layer_count);
		check_image(&img);
	}
	sp_oci_image_free(&img);
	fuzz_expect_only(scratchfd, "scratch", scratch_names);
	close(scratchfd);
	fuzz_scratch_check(&scratch, own_names);
	fuzz_scratch_remove(&scratch, "scratch");
	fuzz_scratch_remove(&scratch, "in");
	fuzz_scratch_remove(&scratch, "source.tar");
	if (fuzz_lowest_free_fd() != free_fd)
		fuzz_die("a file descriptor was left open");
	return 0;
}
