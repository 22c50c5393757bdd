#include "box_archive.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box_path.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/read_all.h"

/* At most this much per sendfile(2) call (it moves at most 2 GiB - 4 KiB). */
#define COPY_CHUNK  (1u << 30)
#define BUFFER_SIZE 65536

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Up to LEN bytes of SRC at *OFF appended to OUT through a buffer, for when
 * sendfile(2) does not take these descriptors. */
static ssize_t copy_buffered(int src, off_t *off, int out, size_t len)
{
	char buf[BUFFER_SIZE];
	ssize_t n = pread(src, buf, len < sizeof(buf) ? len : sizeof(buf), *off);

	if (n <= 0)
		return n;
	if (sp_write_all(out, buf, (size_t)n) < 0)
		return -1;
	*off += n;
	return n;
}

/* LEN bytes of SRC from offset OFF, written at OUT's file offset. Holes are
 * read as zeros. EIO when SRC ends before. */
static int copy_range(int src, off_t off, int out, uint64_t len, struct sp_error *err)
{
	bool in_kernel = true;

	while (len > 0) {
		size_t chunk = len > COPY_CHUNK ? COPY_CHUNK : (size_t)len;
		ssize_t n;

		if (in_kernel) {
			n = sendfile(out, src, &off, chunk);
			if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
				in_kernel = false;
				continue;
			}
		} else {
			n = copy_buffered(src, &off, out, chunk);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_error_set(err, errno, "copy");
		if (n == 0)
			return sp_error_set(err, EIO, "the file ended before its size");
		len -= (uint64_t)n;
	}
	return 0;
}

int sp_box_memfd_new(const char *name, struct sp_error *err)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return sp_error_set(err, errno, "memfd_create");
	return fd;
}

int sp_box_memfd_seal(int fd, struct sp_error *err)
{
	if (fcntl(fd, F_ADD_SEALS, SP_BOX_SEALS) < 0)
		return sp_error_set(err, errno, "seal the memfd");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sp_error_set(err, errno, "rewind the memfd");
	return 0;
}

/* ---- writer ------------------------------------------------------------- */

int sp_box_archive_begin(struct sp_box_writer *w, int fd, uint64_t data_max, struct sp_error *err)
{
	*w = (struct sp_box_writer){.fd = fd, .data_max = data_max};
	if (sp_write_all(fd, SP_BOX_ARCHIVE_MAGIC, SP_BOX_ARCHIVE_MAGIC_LEN) < 0)
		return sp_error_set(err, errno, "write the box archive");
	return 0;
}

int sp_box_archive_add(struct sp_box_writer *w, const char *name, mode_t mode, int src,
		       uint64_t size, struct sp_error *err)
{
	uint8_t head[SP_BOX_ARCHIVE_HEADER + SP_BOX_PATH_MAX];
	size_t len = strlen(name);

	if (!sp_box_path_valid(name))
		return sp_error_set(err, EINVAL, "box archive: invalid name");
	if (w->files >= SP_BOX_FILES_MAX)
		return sp_error_set(err, EMFILE, "the step left more than %d files in /box",
				    SP_BOX_FILES_MAX);
	if (size > w->data_max - w->data_bytes)
		return sp_error_set(err, EFBIG, "the files in /box hold more than %llu bytes",
				    (unsigned long long)w->data_max);
	put_u32(head, (uint32_t)len);
	put_u32(head + 4, (uint32_t)(mode & 0755));
	put_u64(head + 8, size);
	memcpy(head + SP_BOX_ARCHIVE_HEADER, name, len);
	if (sp_write_all(w->fd, head, SP_BOX_ARCHIVE_HEADER + len) < 0)
		return sp_error_set(err, errno, "write the box archive");
	if (copy_range(src, 0, w->fd, size, err) < 0)
		return sp_error_wrap(err, "archive /box/%s", name);
	w->files++;
	w->data_bytes += size;
	return 0;
}

int sp_box_archive_end(struct sp_box_writer *w, struct sp_error *err)
{
	uint8_t head[SP_BOX_ARCHIVE_HEADER] = {0};

	put_u64(head + 8, w->files);
	if (sp_write_all(w->fd, head, sizeof(head)) < 0)
		return sp_error_set(err, errno, "write the box archive");
	return 0;
}

/* ---- reader ------------------------------------------------------------- */

/* A file of the archive, found by the first pass. */
struct entry {
	char *name;
	mode_t mode;
	uint64_t offset; /* of its content in the archive */
	uint64_t size;
};

/* The first pass: the whole archive checked, nothing copied yet, so that a
 * malformed one costs no descriptor. */
struct reader {
	int fd;
	uint64_t size; /* of the archive */
	uint64_t off;  /* where the next record starts */
	struct entry *entries;
	size_t count;
	size_t cap;
};

__attribute__((format(printf, 2, 3))) static int bad(struct sp_error *err, const char *fmt, ...)
{
	char what[SP_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sp_error_set(err, EBADMSG, "box archive: %s", what);
}

/* LEN bytes at the reader's offset, which the caller checked are there. */
static int read_here(struct reader *r, void *buf, size_t len, struct sp_error *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(r->fd, (char *)buf + done, len - done, (off_t)(r->off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_error_set(err, errno, "box archive: read");
		if (n == 0)
			return bad(err, "truncated at offset %llu",
				   (unsigned long long)(r->off + done));
		done += (size_t)n;
	}
	r->off += len;
	return 0;
}

static void free_entries(struct entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(entries[i].name);
	free(entries);
}

static int grow(struct reader *r, struct sp_error *err)
{
	size_t cap = r->cap ? r->cap * 2 : 16;
	struct entry *bigger;

	if (r->count < r->cap)
		return 0;
	bigger = realloc(r->entries, cap * sizeof(*bigger));
	if (bigger == NULL)
		return sp_error_set(err, ENOMEM, "box archive");
	r->entries = bigger;
	r->cap = cap;
	return 0;
}

/* The name of the file whose header says NAME_LEN, MODE, SIZE, and where its
 * content is. */
static int read_entry(struct reader *r, uint32_t name_len, uint32_t mode, uint64_t size,
		      struct sp_error *err)
{
	cleanup_free char *name = NULL;
	size_t index = r->count;

	if (name_len > SP_BOX_PATH_MAX)
		return bad(err, "entry %zu: a name of %u bytes", index, name_len);
	if ((mode & ~0755u) != 0)
		return bad(err, "entry %zu: mode %o", index, mode);
	if (name_len > r->size - r->off)
		return bad(err, "entry %zu: the name goes past the end", index);
	if ((name = malloc(name_len + 1)) == NULL)
		return sp_error_set(err, ENOMEM, "box archive");
	if (read_here(r, name, name_len, err) < 0)
		return -1;
	name[name_len] = '\0';
	if (memchr(name, '\0', name_len) != NULL || !sp_box_path_valid(name))
		return bad(err, "entry %zu: invalid name", index);
	if (size > r->size - r->off)
		return bad(err, "entry %zu (%s): %llu bytes of content go past the end", index,
			   name, (unsigned long long)size);
	if (grow(r, err) < 0)
		return -1;
	r->entries[r->count++] = (struct entry){
	    .name = steal_pointer(&name), .mode = (mode_t)mode, .offset = r->off, .size = size};
	r->off += size;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* No name twice, and none that is a directory of another: such files could
 * not all be written back. */
static int check_names(const struct reader *r, struct sp_error *err)
{
	cleanup_free char **names = malloc((r->count ? r->count : 1) * sizeof(*names));
	char prefix[SP_BOX_PATH_MAX + 1];

	if (names == NULL)
		return sp_error_set(err, ENOMEM, "box archive");
	for (size_t i = 0; i < r->count; i++)
		names[i] = r->entries[i].name;
	qsort(names, r->count, sizeof(*names), compare_names);
	for (size_t i = 1; i < r->count; i++) {
		if (strcmp(names[i - 1], names[i]) == 0)
			return bad(err, "'%s' twice", names[i]);
	}
	for (size_t i = 0; i < r->count; i++) {
		for (const char *slash = strchr(names[i], '/'); slash != NULL;
		     slash = strchr(slash + 1, '/')) {
			const char *key = prefix;

			memcpy(prefix, names[i], (size_t)(slash - names[i]));
			prefix[slash - names[i]] = '\0';
			if (bsearch(&key, names, r->count, sizeof(*names), compare_names) != NULL)
				return bad(err, "'%s' is a file and the directory of '%s'", prefix,
					   names[i]);
		}
	}
	return 0;
}

/* The end record: no name, no mode, the number of files; then nothing. */
static int check_end(const struct reader *r, uint32_t mode, uint64_t files, struct sp_error *err)
{
	if (mode != 0 || files != r->count)
		return bad(err, "the end record says %llu files (mode %o), %zu came",
			   (unsigned long long)files, mode, r->count);
	if (r->off != r->size)
		return bad(err, "%llu bytes after the end record",
			   (unsigned long long)(r->size - r->off));
	return 0;
}

static int read_records(struct reader *r, struct sp_error *err)
{
	char magic[SP_BOX_ARCHIVE_MAGIC_LEN];

	if (r->size < sizeof(magic))
		return bad(err, "no magic");
	if (read_here(r, magic, sizeof(magic), err) < 0)
		return -1;
	if (memcmp(magic, SP_BOX_ARCHIVE_MAGIC, sizeof(magic)) != 0)
		return bad(err, "bad magic");
	for (;;) {
		uint8_t head[SP_BOX_ARCHIVE_HEADER];
		uint32_t name_len, mode;
		uint64_t size;

		if (r->size - r->off < sizeof(head))
			return bad(err, "truncated header at offset %llu",
				   (unsigned long long)r->off);
		if (read_here(r, head, sizeof(head), err) < 0)
			return -1;
		name_len = get_u32(head);
		mode = get_u32(head + 4);
		size = get_u64(head + 8);
		if (name_len == 0)
			return check_end(r, mode, size, err);
		if (r->count >= SP_BOX_FILES_MAX)
			return bad(err, "more than %d entries", SP_BOX_FILES_MAX);
		if (read_entry(r, name_len, mode, size, err) < 0)
			return -1;
	}
}

/* The second pass: each entry's content into a sealed memfd of its own. The
 * names move from ENTRIES to *FILES. */
static int copy_out(int archive_fd, struct entry *entries, size_t count, struct sp_box_file **files,
		    struct sp_error *err)
{
	struct sp_box_file *out = calloc(count ? count : 1, sizeof(*out));

	if (out == NULL)
		return sp_error_set(err, ENOMEM, "box archive");
	for (size_t i = 0; i < count; i++)
		out[i].fd = -1;
	for (size_t i = 0; i < count; i++) {
		struct entry *e = &entries[i];

		out[i].fd = sp_box_memfd_new("sandpool-box-file", err);
		if (out[i].fd < 0 ||
		    copy_range(archive_fd, (off_t)e->offset, out[i].fd, e->size, err) < 0 ||
		    sp_box_memfd_seal(out[i].fd, err) < 0) {
			sp_box_files_free(out, count);
			return sp_error_wrap(err, "box archive: %s", e->name);
		}
		out[i].mode = e->mode;
	}
	for (size_t i = 0; i < count; i++)
		out[i].name = steal_pointer(&entries[i].name);
	*files = out;
	return 0;
}

int sp_box_archive_read(int archive_fd, struct sp_box_file **files, size_t *count,
			struct sp_error *err)
{
	struct reader r = {.fd = archive_fd};
	struct stat st;
	int rc;

	*files = NULL;
	*count = 0;
	if (fstat(archive_fd, &st) < 0)
		return sp_error_set(err, errno, "box archive: fstat");
	if (!S_ISREG(st.st_mode))
		return bad(err, "not a regular file");
	r.size = (uint64_t)st.st_size;
	rc = read_records(&r, err);
	if (rc == 0)
		rc = check_names(&r, err);
	if (rc == 0)
		rc = copy_out(archive_fd, r.entries, r.count, files, err);
	if (rc == 0)
		*count = r.count;
	free_entries(r.entries, r.count);
	return rc;
}

void sp_box_files_free(struct sp_box_file *files, size_t count)
{
	if (files == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free(files[i].name);
		if (files[i].fd >= 0)
			close(files[i].fd);
	}
	free(files);
}
