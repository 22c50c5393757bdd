#include "seccomp_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/hash.h"
#include "sandbox/base/log.h"
#include "sandbox/base/read_all.h"

#define POLICY_MAX (1024 * 1024)
#define MAGIC	   "SPBPF\0\0\2" /* 2: the always allowed syscalls in front */

/* An entry: this header, the policy text, the program. The entry is used
 * only when all of it matches, the policy text byte for byte. */
struct entry_header {
	char magic[8];
	uint32_t seccomp_version[3];
	uint32_t arch;
	uint32_t policy_length;
	uint32_t filter_length; /* instructions */
};

static int read_all(int fd, char **data, size_t *length, size_t max, struct sp_error *err)
{
	struct stat st;
	char *buf;

	if (fstat(fd, &st) < 0)
		return sp_error_set(err, errno, "stat");
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max)
		return sp_error_set(err, EFBIG, "not a regular file of at most %zu bytes", max);
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		return sp_error_set(err, ENOMEM, "read");
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		return sp_error_set(err, errno ? errno : EIO, "short read");
	}
	buf[st.st_size] = '\0';
	*data = buf;
	*length = (size_t)st.st_size;
	return 0;
}

static void fill_header(struct entry_header *h, size_t policy_length, unsigned filter_length)
{
	const struct scmp_version *v = seccomp_version();

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, MAGIC, sizeof(h->magic));
	h->seccomp_version[0] = v->major;
	h->seccomp_version[1] = v->minor;
	h->seccomp_version[2] = v->micro;
	h->arch = seccomp_arch_native();
	h->policy_length = (uint32_t)policy_length;
	h->filter_length = filter_length;
}

/* FNV-1a of the policy text: only names the entry; the text is compared. */
static uint64_t name_hash(const char *text, size_t length)
{
	/* the start its files have been named with since the first cache */
	return sp_hash_bytes(1469598103934665603ULL, text, length);
}

static void entry_path(char *buf, size_t size, const char *dir, const char *text, size_t length)
{
	snprintf(buf, size, "%s/%016llx.bpf", dir, (unsigned long long)name_hash(text, length));
}

/* Only an entry that this user owns and nobody else may write is trusted. */
static int open_trusted(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return -1;
	return steal_fd(&fd);
}

static int load_entry(const char *path, const char *text, size_t length,
		      struct sp_seccomp_program *prog)
{
	cleanup_close int fd = open_trusted(path);
	cleanup_free char *data = NULL;
	struct entry_header want, *have;
	struct sp_error ignored;
	size_t size, filter_bytes;

	if (fd < 0 || read_all(fd, &data, &size, sizeof(want) + POLICY_MAX + 65536 * 8, &ignored))
		return -1;
	if (size < sizeof(want))
		return -1;
	have = (struct entry_header *)(void *)data;
	fill_header(&want, length, have->filter_length);
	filter_bytes = (size_t)have->filter_length * sizeof(struct sock_filter);
	if (memcmp(have, &want, sizeof(want)) != 0 || have->filter_length == 0 ||
	    size != sizeof(want) + length + filter_bytes ||
	    memcmp(data + sizeof(want), text, length) != 0)
		return -1;
	prog->filter = malloc(filter_bytes);
	if (prog->filter == NULL)
		return -1;
	memcpy(prog->filter, data + sizeof(want) + length, filter_bytes);
	prog->len = (unsigned short)have->filter_length;
	return 0;
}

/* Write the entry beside its final name and rename it into place, so that a
 * reader never sees half an entry. */
static void store_entry(const char *dir, const char *path, const char *text, size_t length,
			const struct sp_seccomp_program *prog)
{
	struct entry_header h;
	char tmp[4096];
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir) >= (int)sizeof(tmp))
		return;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	fill_header(&h, length, prog->len);
	if (fchmod(fd, 0644) < 0 || sp_write_all(fd, &h, sizeof(h)) < 0 ||
	    sp_write_all(fd, text, length) < 0 ||
	    sp_write_all(fd, prog->filter, prog->len * sizeof(struct sock_filter)) < 0 ||
	    rename(tmp, path) < 0) {
		log_debug("cannot store the compiled policy in %s", dir);
		unlink(tmp);
	}
	close(fd);
}

static int read_policy(const char *path, char **text, size_t *length, struct sp_error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sp_error_set(err, errno, "seccomp policy %s", path);
	if (read_all(fd, text, length, POLICY_MAX, err) < 0)
		return sp_error_wrap(err, "seccomp policy %s", path);
	return 0;
}

int sp_seccomp_load(const char *path, const char *cache_dir, struct sp_seccomp_program *prog,
		    struct sp_error *err)
{
	cleanup_free char *text = NULL;
	char entry[4096];
	size_t length;

	prog->filter = NULL;
	prog->len = 0;
	if (read_policy(path, &text, &length, err) < 0)
		return -1;
	if (cache_dir != NULL) {
		entry_path(entry, sizeof(entry), cache_dir, text, length);
		if (load_entry(entry, text, length, prog) == 0)
			return 0;
	}
	if (sp_seccomp_compile_json(text, prog, err) < 0)
		return sp_error_wrap(err, "%s", path);
	if (cache_dir != NULL)
		store_entry(cache_dir, entry, text, length, prog);
	return 0;
}
