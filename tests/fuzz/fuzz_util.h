/* What the libFuzzer harnesses share: a private scratch directory with a
 * canary beside the trees they write, the check that nothing escaped into
 * it, and the input as a file descriptor. A broken invariant aborts, which
 * libFuzzer reports as a crash with the input that caused it. */
#ifndef SANDPOOL_FUZZ_UTIL_H
#define SANDPOOL_FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs/layer.h"
#include "sandbox/base/log.h"
#include "server/job/language.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define fuzz_die(...)                                                                              \
	do {                                                                                       \
		fprintf(stderr, "fuzz: " __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

/* The languages of $FUZZ_LANGUAGES, else of the repository's languages/,
 * into LANGUAGES; logs quiet unless $FUZZ_VERBOSE. */
static inline void fuzz_load_languages(struct sp_language_set *languages)
{
	const char *dir = getenv("FUZZ_LANGUAGES");
	char path[4096];
	struct sp_error err = {0};

	if (dir == NULL)
		dir = snprintf(path, sizeof(path), "%s/languages", SP_SOURCE_DIR) > 0 ? path : ".";
	if (sp_language_set_load(languages, dir, &err) < 0 || languages->count == 0)
		fuzz_die("languages from %s: %s", dir, err.message);
	if (getenv("FUZZ_VERBOSE") == NULL)
		sp_log_set_level(SP_LOG_ERROR);
}

/* The scratch directory of this process: BASE/canary must stay empty, and
 * BASE must hold nothing but canary and the harness's own NAMES. */
struct fuzz_scratch {
	char base[256];
	int basefd;
	int canaryfd;
};

static const struct fuzz_scratch *fuzz_scratch_for_exit;

/* The whole scratch directory goes when libFuzzer stops on its own (time
 * or runs up); after a crash it stays, for a look. */
static inline void fuzz_scratch_at_exit(void)
{
	struct sp_error err = {0};
	const struct fuzz_scratch *s = fuzz_scratch_for_exit;

	if (s != NULL && sp_remove_tree_at(AT_FDCWD, s->base, &err) < 0)
		fprintf(stderr, "fuzz: remove %s: %s\n", s->base, err.message);
}

/* Under $FUZZ_TMPDIR, else /dev/shm (no disk writes), else /tmp. */
static inline void fuzz_scratch_init(struct fuzz_scratch *s, const char *what)
{
	const char *dir = getenv("FUZZ_TMPDIR");
	struct stat st;

	if (dir == NULL || dir[0] == '\0')
		dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
			      access("/dev/shm", W_OK) == 0
			  ? "/dev/shm"
			  : "/tmp";
	snprintf(s->base, sizeof(s->base), "%s/sandpool-fuzz-%s.XXXXXX", dir, what);
	if (mkdtemp(s->base) == NULL)
		fuzz_die("mkdtemp %s: %s", s->base, strerror(errno));
	s->basefd = open(s->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->basefd < 0 || mkdirat(s->basefd, "canary", 0755) < 0)
		fuzz_die("%s: %s", s->base, strerror(errno));
	s->canaryfd = openat(s->basefd, "canary", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->canaryfd < 0)
		fuzz_die("%s/canary: %s", s->base, strerror(errno));
	fuzz_scratch_for_exit = s;
	atexit(fuzz_scratch_at_exit);
	/* Errors of bad input are expected by the million: keep them quiet. */
	if (getenv("FUZZ_VERBOSE") == NULL)
		sp_log_set_level(SP_LOG_ERROR);
}

static inline bool fuzz_name_in(const char *name, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		if (strcmp(name, names[i]) == 0)
			return true;
	}
	return false;
}

/* Abort when DIRFD holds an entry not in ALLOWED (NULL-terminated). */
static inline void fuzz_expect_only(int dirfd, const char *where, const char *const *allowed)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (dir == NULL)
		fuzz_die("open %s: %s", where, strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fuzz_name_in(de->d_name, allowed))
			continue;
		fuzz_die("%s/%s: written outside the tree it was given", where, de->d_name);
	}
	closedir(dir);
}

/* Nothing in the canary, nothing in BASE but canary and NAMES. */
static inline void fuzz_scratch_check(const struct fuzz_scratch *s, const char *const *names)
{
	static const char *const none[] = {NULL};
	const char *allowed[8] = {"canary"};
	size_t n = 1;

	for (size_t i = 0; names[i] != NULL && n + 1 < sizeof(allowed) / sizeof(allowed[0]); i++)
		allowed[n++] = names[i];
	allowed[n] = NULL;
	fuzz_expect_only(s->canaryfd, "canary", none);
	fuzz_expect_only(s->basefd, s->base, allowed);
}

/* Remove BASE/NAME, which must then be gone. */
static inline void fuzz_scratch_remove(const struct fuzz_scratch *s, const char *name)
{
	struct sp_error err = {0};
	struct stat st;

	if (sp_remove_tree_at(s->basefd, name, &err) < 0)
		fuzz_die("remove %s/%s: %s", s->base, name, err.message);
	if (fstatat(s->basefd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		fuzz_die("%s/%s is still there after its removal", s->base, name);
}

/* A memfd holding DATA, at offset 0. */
static inline int fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		fuzz_die("memfd_create: %s", strerror(errno));
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0)
			fuzz_die("write memfd: %s", strerror(errno));
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		fuzz_die("lseek memfd: %s", strerror(errno));
	return fd;
}

/* The octal number of FIELD (LEN bytes of a tar header), or -1. */
static inline long long fuzz_tar_octal(const uint8_t *field, size_t len)
{
	long long v = 0;
	size_t i = 0;

	while (i < len && field[i] == ' ')
		i++;
	if (i == len || field[i] < '0' || field[i] > '7')
		return -1;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++) {
		if (v > (1LL << 40))
			return -1;
		v = v * 8 + (field[i] - '0');
	}
	return v;
}

/* Mutations almost never keep a tar header's checksum right, and libarchive
 * refuses a header whose checksum is wrong: rewrite the checksum of every
 * header of the plain tar in BUF (found by walking the octal sizes), so that
 * what the fuzzer changes in a header reaches the unpacker. Compressed input
 * (gzip, zstd) is left as it is. */
static inline void fuzz_tar_fix_checksums(uint8_t *buf, size_t size)
{
	size_t off = 0;

	if (size >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return;
	if (size >= 4 && memcmp(buf, "\x28\xb5\x2f\xfd", 4) == 0)
		return;
	while (off + 512 <= size) {
		uint8_t *h = buf + off;
		unsigned sum = 0;
		long long len;
		char text[8];

		if (h[0] == 0)
			break; /* the end blocks, or garbage: left alone */
		memset(h + 148, ' ', 8);
		for (size_t i = 0; i < 512; i++)
			sum += h[i];
		snprintf(text, sizeof(text), "%06o", sum & 0777777);
		memcpy(h + 148, text, 7); /* six digits and a NUL, then the space */
		len = fuzz_tar_octal(h + 124, 12);
		if (len < 0 || (unsigned long long)len > size)
			break;
		off += 512 + ((size_t)len + 511) / 512 * 512;
	}
}

/* The lowest free descriptor: the same before and after an input when that
 * input leaked none. */
static inline int fuzz_lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fuzz_die("open /dev/null: %s", strerror(errno));
	close(fd);
	return fd;
}

#endif
