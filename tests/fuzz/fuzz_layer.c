/* libFuzzer: arbitrary bytes as an image layer (tar, gzip or zstd) applied
 * by sp_layer_apply() onto a fresh tree per input, which is removed after.
 *
 * Each input gets SCRATCH/root, laid out like a lower layer (directories,
 * files, and symlinks that lead out of it: escape -> ../canary, up -> ..),
 * and SCRATCH/canary beside it. After the layer, whether it applied or not:
 * the canary must be empty and SCRATCH hold nothing but root and canary, so
 * nothing was written outside the tree; the tree must come off entirely with
 * sp_remove_tree_at(); no file descriptor may stay open. A layer that
 * applied must have been read to its end: blob_bytes and blob_sha256 are
 * those of the whole input. Tar header checksums are set right before
 * (fuzz_tar_fix_checksums), else almost every mutation fails there. Inputs of odd length are
 * applied with keep_owner when running as root (chown to the tar's ids). */
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs/layer.h"
#include "tests/fuzz/fuzz_util.h"

#define NOBODY 65534

static struct fuzz_scratch scratch;
static const char *const tree_names[] = {"root", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_scratch_init(&scratch, "layer");
	/* Where nobody can reach its tree; the canary stays root's. */
	if (geteuid() == 0 && fchmod(scratch.basefd, 0755) < 0)
		fuzz_die("chmod %s: %s", scratch.base, strerror(errno));
	return 0;
}

static void make_file(int rootfd, const char *path, const char *text)
{
	int fd = openat(rootfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fuzz_die("lower layer %s: %s", path, strerror(errno));
	close(fd);
}

/* The lower layer: what whiteouts and opaque markers have to remove, and
 * symlinks that a careless unpacker would follow out of the tree. */
static int make_lower(bool unprivileged)
{
	static const char *const dirs[] = {"etc", "usr", "usr/bin", "dir", "dir/sub", "ro", NULL};
	static const char *const links[][2] = {
	    {"escape", "../canary"}, {"up", ".."}, {"bin", "usr/bin"}, {"dir/sub/out", "../../.."}};
	int rootfd;

	if (mkdirat(scratch.basefd, "root", 0755) < 0)
		fuzz_die("mkdir root: %s", strerror(errno));
	if (unprivileged && (fchownat(scratch.basefd, "root", NOBODY, NOBODY, 0) < 0 ||
			     setegid(NOBODY) < 0 || seteuid(NOBODY) < 0))
		fuzz_die("become nobody: %s", strerror(errno));
	rootfd = openat(scratch.basefd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		fuzz_die("open root: %s", strerror(errno));
	for (size_t i = 0; dirs[i] != NULL; i++) {
		if (mkdirat(rootfd, dirs[i], 0755) < 0)
			fuzz_die("lower layer %s: %s", dirs[i], strerror(errno));
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (symlinkat(links[i][1], rootfd, links[i][0]) < 0)
			fuzz_die("lower layer %s: %s", links[i][0], strerror(errno));
	}
	make_file(rootfd, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	make_file(rootfd, "usr/bin/sh", "#!\n");
	make_file(rootfd, "dir/a", "a");
	make_file(rootfd, "dir/sub/b", "b");
	if (linkat(rootfd, "dir/a", rootfd, "dir/a-link", 0) < 0 || fchmodat(rootfd, "ro", 0555, 0))
		fuzz_die("lower layer: %s", strerror(errno));
	return rootfd;
}

static void check_digest(const uint8_t *data, size_t size, const struct sp_layer_stats *stats)
{
	struct sha256_ctx ctx;
	uint8_t sum[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, size, data);
	sha256_digest(&ctx, sizeof(sum), sum);
	if (stats->blob_bytes != size || memcmp(sum, stats->blob_sha256, sizeof(sum)) != 0)
		fuzz_die("applied, but %llu bytes of %zu read, or their digest differs",
			 (unsigned long long)stats->blob_bytes, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int free_fd = fuzz_lowest_free_fd();
	bool unprivileged = size % 4 == 2 && geteuid() == 0;
	struct sp_layer_options opts = {.keep_owner = size % 2 == 1 && geteuid() == 0};
	struct sp_layer_stats stats;
	struct sp_error err = {0};
	int rootfd = make_lower(unprivileged);
	uint8_t *fixed = malloc(size ? size : 1);
	int fd;

	if (fixed == NULL)
		fuzz_die("out of memory");
	memcpy(fixed, data, size);
	fuzz_tar_fix_checksums(fixed, size);
	data = fixed;
	fd = fuzz_memfd(data, size);

	if (sp_layer_apply(rootfd, fd, &opts, &stats, &err) == 0)
		check_digest(data, size, &stats);
	else if (err.message[0] == '\0')
		fuzz_die("the layer failed without a message");
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz: %s\n", err.message[0] ? err.message : "applied");
	close(fd);
	close(rootfd);
	free(fixed);
	if (unprivileged && (seteuid(0) < 0 || setegid(0) < 0))
		fuzz_die("back to root: %s", strerror(errno));
	fuzz_scratch_check(&scratch, tree_names);
	fuzz_scratch_remove(&scratch, "root");
	if (fuzz_lowest_free_fd() != free_fd)
		fuzz_die("a file descriptor was left open");
	return 0;
}
