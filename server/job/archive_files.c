/* A client's archive into a list of files: archive_files.h. */
#include "archive_files.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request_program.h"
#include "sandbox/base/cleanup.h"
#include "utf8.h"

/* Bytes of an entry's name shown in a message: the message stays under the
 * 256 bytes of a request's failure. */
#define NAME_SHOWN 120
/* A file's buffer starts at this many bytes (or its declared size, when
 * smaller) and doubles as its bytes come. */
#define FIRST_BUFFER (64 * 1024)
/* What a tar.gz is inflated into, a block at a time, when it is checked. */
#define INFLATE_BLOCK (64 * 1024)

struct reader {
	struct archive *archive;
	const struct sp_archive_limits *limits;
	struct sp_error *err;
	const char *format; /* "zip", "tar", "tar.gz": for messages */
	struct sp_archive_files list;
	size_t capacity;
	char **dirs; /* directory entries' names, normalized */
	size_t dir_count, dir_capacity;
	uint64_t total;	     /* bytes of the files so far */
	bool tar;	     /* a tar, plain or in gzip */
	int64_t entries_end; /* a tar's offset after its last entry so far */
};

/* ---- messages ------------------------------------------------------------ */

/* The message of ARCHIVE's last error, or a word when it has none. */
static const char *archive_message(struct archive *archive)
{
	const char *msg = archive_error_string(archive);

	return msg != NULL && msg[0] != '\0' ? msg : "unknown error";
}

/* "entry 'NAME' " and the rest: NAME cut and made UTF-8 for the client. */
__attribute__((format(printf, 4, 5))) static int entry_fail(struct reader *r, int errnum,
							    const char *name, const char *fmt, ...)
{
	char shown[NAME_SHOWN], rest[SP_ERROR_MESSAGE_MAX];
	size_t len = strlen(name);
	va_list ap;

	sp_utf8_message(shown, sizeof(shown), name, len);
	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	return sp_error_set(r->err, errnum, "%s entry '%s%s' %s", r->format, shown,
			    strlen(shown) < len ? "..." : "", rest);
}

/* libarchive's words about ENTRY (NULL: none yet) as a corrupt archive. */
static int archive_fail(struct reader *r, const char *name)
{
	char msg[160];
	const char *text = archive_message(r->archive);

	sp_utf8_message(msg, sizeof(msg), text, strlen(text));
	if (name == NULL)
		return sp_error_set(r->err, EBADMSG, "%s archive: %s", r->format, msg);
	return entry_fail(r, EBADMSG, name, "is corrupt: %s", msg);
}

static int out_of_memory(struct reader *r)
{
	return sp_error_set(r->err, ENOMEM, "%s archive: out of memory", r->format);
}

/* ---- names and kinds ------------------------------------------------------ */

/* RAW without its leading "./"s and, for a directory, one trailing '/' (a
 * directory "." or "./" becomes ""), in a new string; NULL when out of
 * memory. */
static char *normalize(const char *raw, bool dir)
{
	size_t n;

	while (raw[0] == '.' && raw[1] == '/')
		raw += 2;
	n = strlen(raw);
	if (dir && n > 0 && raw[n - 1] == '/')
		n--;
	if (dir && n == 1 && raw[0] == '.')
		n = 0;
	return strndup(raw, n);
}

/* Why the entry AE may not be a file or a directory here, or NULL. */
static const char *kind_problem(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae) != NULL || archive_entry_hardlink_utf8(ae) != NULL)
		return "is a hard link: only regular files and directories are taken";
	if (archive_entry_is_encrypted(ae))
		return "is encrypted";
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
	case AE_IFDIR:
		return NULL;
	case AE_IFLNK:
		return "is a symbolic link: only regular files and directories are taken";
	case AE_IFCHR:
	case AE_IFBLK:
		return "is a device: only regular files and directories are taken";
	case AE_IFIFO:
		return "is a fifo: only regular files and directories are taken";
	default:
		return "is not a regular file or a directory";
	}
}

/* The entry's name checked and normalized into *NAME (owned), "" for the
 * directory of the archive itself. */
static int entry_name(struct reader *r, struct archive_entry *ae, bool dir, char **name)
{
	const char *raw = archive_entry_pathname_utf8(ae);
	const char *problem;

	if (raw == NULL) {
		raw = archive_entry_pathname(ae);
		if (raw == NULL)
			return sp_error_set(r->err, EPERM, "%s archive: an entry has no name",
					    r->format);
		return entry_fail(r, EPERM, raw, "has a name that is not valid UTF-8");
	}
	if (!sp_utf8_valid(raw, strlen(raw)))
		return entry_fail(r, EPERM, raw, "has a name that is not valid UTF-8");
	*name = normalize(raw, dir);
	if (*name == NULL)
		return out_of_memory(r);
	if (dir && (*name)[0] == '\0')
		return 0;
	problem = sp_request_name_problem(*name, strlen(*name));
	if (problem != NULL)
		return entry_fail(r, EPERM, raw, "%s", problem);
	return 0;
}

/* ---- a file's bytes ------------------------------------------------------- */

/* Whether END bytes of the file NAME stay within both bounds; an error when
 * not. */
static int within_bounds(struct reader *r, const char *name, uint64_t end)
{
	const struct sp_archive_limits *l = r->limits;

	if (end > l->max_file_bytes)
		return entry_fail(r, EFBIG, name, "is larger than %llu bytes",
				  (unsigned long long)l->max_file_bytes);
	if (end > l->max_total_bytes - r->total)
		return entry_fail(r, EFBIG, name,
				  "takes the files over %llu bytes in all (the bound of the "
				  "archive's files together)",
				  (unsigned long long)l->max_total_bytes);
	return 0;
}

/* *BUF (of *CAP bytes) grown to hold at least NEED bytes, doubling; NEED has
 * been checked against the bounds. */
static int grow(struct reader *r, uint8_t **buf, size_t *cap, uint64_t need)
{
	size_t next = *cap;
	uint8_t *bigger;

	if (need <= *cap)
		return 0;
	while (next < need)
		next = next > SIZE_MAX / 2 ? SIZE_MAX : next * 2;
	if (next > r->limits->max_file_bytes && need <= r->limits->max_file_bytes)
		next = (size_t)r->limits->max_file_bytes;
	bigger = realloc(*buf, next);
	if (bigger == NULL)
		return out_of_memory(r);
	*buf = bigger;
	*cap = next;
	return 0;
}

/* The bytes of the entry AE (file NAME) into F, counted block by block as
 * libarchive decompresses them. A sparse tar's holes are zeros. */
static int read_data(struct reader *r, struct archive_entry *ae, const char *name,
		     struct sp_archive_file *f)
{
	cleanup_free uint8_t *buf = NULL;
	size_t cap = FIRST_BUFFER, len = 0;
	uint64_t declared = 0;

	if (archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0) {
		declared = (uint64_t)archive_entry_size(ae);
		if (within_bounds(r, name, declared) < 0)
			return -1;
		if (declared < cap)
			cap = (size_t)declared;
	}
	if (cap == 0)
		cap = 1;
	buf = malloc(cap);
	if (buf == NULL)
		return out_of_memory(r);
	for (;;) {
		const void *block;
		size_t size;
		la_int64_t offset;
		int rc = archive_read_data_block(r->archive, &block, &size, &offset);
		uint64_t end;

		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK)
			return archive_fail(r, name);
		if (offset < 0 || (uint64_t)offset < len)
			return entry_fail(r, EBADMSG, name, "is corrupt: its data goes back");
		if ((uint64_t)offset > UINT64_MAX - size)
			return entry_fail(r, EFBIG, name, "is too large");
		end = (uint64_t)offset + size;
		if (within_bounds(r, name, end) < 0 || grow(r, &buf, &cap, end) < 0)
			return -1;
		memset(buf + len, 0, (size_t)offset - len);
		if (size > 0)
			memcpy(buf + offset, block, size);
		len = (size_t)end;
	}
	/* A sparse tar may end in a hole: its size, already within bounds. */
	if (declared > len && archive_entry_sparse_count(ae) > 0) {
		if (grow(r, &buf, &cap, declared) < 0)
			return -1;
		memset(buf + len, 0, (size_t)declared - len);
		len = (size_t)declared;
	}
	f->data = steal_pointer(&buf);
	f->length = len;
	r->total += len;
	return 0;
}

/* ---- entries -------------------------------------------------------------- */

static int add_dir(struct reader *r, char *name)
{
	if (r->dir_count == r->dir_capacity) {
		size_t next = r->dir_capacity ? r->dir_capacity * 2 : 16;
		char **dirs = realloc(r->dirs, next * sizeof(*dirs));

		if (dirs == NULL)
			return out_of_memory(r);
		r->dirs = dirs;
		r->dir_capacity = next;
	}
	r->dirs[r->dir_count++] = name;
	return 0;
}

static int add_file(struct reader *r, struct archive_entry *ae, char *name)
{
	struct sp_archive_files *list = &r->list;
	struct sp_archive_file *f;

	if (list->count == r->capacity) {
		size_t next = r->capacity ? r->capacity * 2 : 16;
		struct sp_archive_file *files = realloc(list->files, next * sizeof(*files));

		if (files == NULL)
			return out_of_memory(r);
		list->files = files;
		r->capacity = next;
	}
	f = &list->files[list->count];
	*f = (struct sp_archive_file){
	    .name = name,
	    .executable = (archive_entry_perm(ae) & 0111) != 0,
	};
	list->count++; /* owns NAME now, with or without its data */
	return read_data(r, ae, name, f);
}

static int read_entry(struct reader *r, struct archive_entry *ae)
{
	const char *problem = kind_problem(ae);
	bool dir = archive_entry_filetype(ae) == AE_IFDIR;
	char *name = NULL;

	if (problem != NULL) {
		const char *raw = archive_entry_pathname_utf8(ae);

		if (raw == NULL)
			raw = archive_entry_pathname(ae);
		return entry_fail(r, EPERM, raw ? raw : "", "%s", problem);
	}
	if (entry_name(r, ae, dir, &name) < 0) {
		free(name);
		return -1;
	}
	if (dir) {
		if (r->dir_count >= r->limits->max_files) {
			free(name);
			return sp_error_set(r->err, EFBIG, "%s archive: more than %zu directories",
					    r->format, r->limits->max_files);
		}
		if (name[0] == '\0') {
			free(name);
			return 0;
		}
		if (add_dir(r, name) < 0) {
			free(name);
			return -1;
		}
		return 0;
	}
	if (r->list.count >= r->limits->max_files) {
		free(name);
		return sp_error_set(r->err, EFBIG, "%s archive: more than %zu files", r->format,
				    r->limits->max_files);
	}
	return add_file(r, ae, name);
}

/* ---- names against each other --------------------------------------------- */

struct taken {
	const char *name;
	bool dir;
};

/* Names in an order where '/' comes before any other byte, so that every
 * path under A comes right after A. */
static int compare_taken(const void *pa, const void *pb)
{
	const unsigned char *a = (const unsigned char *)((const struct taken *)pa)->name;
	const unsigned char *b = (const unsigned char *)((const struct taken *)pb)->name;

	for (;; a++, b++) {
		unsigned ca = *a == '/' ? 1 : *a, cb = *b == '/' ? 1 : *b;

		if (ca != cb || ca == 0)
			return ca < cb ? -1 : ca > cb;
	}
}

/* Whether B is a path under A. */
static bool under(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && b[n] == '/';
}

/* No file twice, no file named as a directory, no file under a file. */
static int check_names(struct reader *r)
{
	size_t n = r->list.count + r->dir_count;
	cleanup_free struct taken *all = malloc((n ? n : 1) * sizeof(*all));

	if (all == NULL)
		return out_of_memory(r);
	for (size_t i = 0; i < r->list.count; i++)
		all[i] = (struct taken){r->list.files[i].name, false};
	for (size_t i = 0; i < r->dir_count; i++)
		all[r->list.count + i] = (struct taken){r->dirs[i], true};
	qsort(all, n, sizeof(*all), compare_taken);
	for (size_t i = 0; i + 1 < n; i++) {
		const struct taken *a = &all[i], *b = &all[i + 1];

		if (strcmp(a->name, b->name) == 0) {
			if (a->dir && b->dir)
				continue;
			if (!a->dir && !b->dir)
				return entry_fail(r, EPERM, a->name, "is in the archive twice");
			return entry_fail(r, EPERM, a->name, "is both a file and a directory");
		}
		if (!a->dir && under(a->name, b->name)) {
			char shown[NAME_SHOWN];

			sp_utf8_message(shown, sizeof(shown), b->name, strlen(b->name));
			return entry_fail(r, EPERM, a->name,
					  "is a file, and '%s' needs a directory of that name",
					  shown);
		}
	}
	return 0;
}

/* ---- formats -------------------------------------------------------------- */

static bool is_zip(const uint8_t *p, size_t n)
{
	return n >= 4 && p[0] == 'P' && p[1] == 'K' &&
	       ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6));
}

static bool is_gzip(const uint8_t *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* The most a tar.gz may inflate to under LIMITS: its files' bytes and the
 * headers and padding of as many entries as it may hold. */
static uint64_t inflated_max(const struct sp_archive_limits *l)
{
	uint64_t entries = (uint64_t)l->max_files * 2 + 4;
	uint64_t overhead = entries > UINT64_MAX / SP_ARCHIVE_ENTRY_OVERHEAD
				? UINT64_MAX
				: entries * SP_ARCHIVE_ENTRY_OVERHEAD;

	return l->max_total_bytes > UINT64_MAX - overhead ? UINT64_MAX
							  : l->max_total_bytes + overhead;
}

static void archive_freep(struct archive **a)
{
	if (*a != NULL)
		archive_read_free(*a);
}

#define cleanup_archive __attribute__((cleanup(archive_freep)))

/* Inflate the gzip DATA to its end without keeping it: its CRC and length
 * checked, and at most inflated_max() bytes, else an error. */
static int check_gzip(struct reader *r, const void *data, size_t size)
{
	cleanup_archive struct archive *a = archive_read_new();
	cleanup_free uint8_t *block = malloc(INFLATE_BLOCK);
	uint64_t max = inflated_max(r->limits), total = 0;
	struct archive_entry *ae;
	struct archive *saved = r->archive;
	int rc = -1;

	if (a == NULL || block == NULL)
		return out_of_memory(r);
	r->archive = a;
	if (archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(a) < ARCHIVE_WARN ||
	    archive_read_open_memory(a, data, size) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		archive_fail(r, NULL);
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, block, INFLATE_BLOCK);

		if (n == 0)
			break;
		if (n < 0) {
			archive_fail(r, NULL);
			goto out;
		}
		total += (uint64_t)n;
		if (total > max) {
			sp_error_set(r->err, EFBIG,
				     "tar.gz archive: inflates to more than %llu bytes (its files' "
				     "bound and their headers)",
				     (unsigned long long)max);
			goto out;
		}
	}
	rc = 0;
out:
	r->archive = saved;
	return rc;
}

/* Bytes in none of FORMATS. */
static int not_taken(struct reader *r, unsigned formats)
{
	const char *names[3];
	size_t n = 0;

	if (formats & SP_ARCHIVE_ZIP)
		names[n++] = "zip";
	if (formats & SP_ARCHIVE_TAR)
		names[n++] = "tar";
	if (formats & SP_ARCHIVE_TAR_GZ)
		names[n++] = "tar.gz";
	if (n == 0)
		return sp_error_set(r->err, EBADMSG, "no archive format is taken here");
	return sp_error_set(r->err, EBADMSG, "not a %s%s%s%s%s archive", names[0],
			    n == 3   ? ", "
			    : n == 2 ? " or "
				     : "",
			    n > 1 ? names[1] : "", n == 3 ? " or " : "", n == 3 ? names[2] : "");
}

/* The reader of R->archive for the format DATA is in, among FORMATS. */
static int choose_format(struct reader *r, const void *data, size_t size, unsigned formats)
{
	struct archive *a = r->archive;
	int rc;

	if (is_zip(data, size)) {
		r->format = "zip";
		if (!(formats & SP_ARCHIVE_ZIP))
			return sp_error_set(r->err, EBADMSG, "a zip archive is not taken here");
		/* An empty zip is its end record alone, which only the
		 * streaming reader takes; any other by its central directory. */
		rc = ((const uint8_t *)data)[2] == 5 ? archive_read_support_format_zip_streamable(a)
						     : archive_read_support_format_zip_seekable(a);
	} else if (is_gzip(data, size)) {
		r->format = "tar.gz";
		r->tar = true;
		if (!(formats & SP_ARCHIVE_TAR_GZ))
			return sp_error_set(r->err, EBADMSG, "a tar.gz archive is not taken here");
		if (check_gzip(r, data, size) < 0)
			return -1;
		rc = archive_read_support_format_tar(a);
		if (rc == ARCHIVE_OK && archive_read_support_filter_gzip(a) < ARCHIVE_WARN)
			rc = ARCHIVE_FATAL;
	} else if (formats & SP_ARCHIVE_TAR) {
		r->format = "tar";
		r->tar = true;
		rc = archive_read_support_format_tar(a);
	} else {
		return not_taken(r, formats);
	}
	if (rc != ARCHIVE_OK)
		return archive_fail(r, NULL);
	if (archive_read_support_filter_none(a) != ARCHIVE_OK)
		return archive_fail(r, NULL);
	return 0;
}

static int read_entries(struct reader *r, const void *data, size_t size, unsigned formats)
{
	struct archive_entry *ae;
	int rc;

	if (size == 0)
		return not_taken(r, formats);
	rc = archive_read_open_memory(r->archive, data, size);
	if (rc != ARCHIVE_OK) {
		if (strcmp(r->format, "tar") == 0)
			return not_taken(r, formats);
		return archive_fail(r, NULL);
	}
	while ((rc = archive_read_next_header(r->archive, &ae)) != ARCHIVE_EOF) {
		if (rc != ARCHIVE_OK) {
			const char *name = archive_entry_pathname_utf8(ae);

			return archive_fail(r, rc == ARCHIVE_WARN ? name : NULL);
		}
		if (read_entry(r, ae) < 0)
			return -1;
		r->entries_end = archive_filter_bytes(r->archive, 0);
	}
	/* libarchive takes a tar that stops after an entry without its end
	 * blocks: whole entries could be missing after it. */
	if (r->tar && archive_filter_bytes(r->archive, 0) < r->entries_end + 512)
		return sp_error_set(r->err, EBADMSG, "%s archive: truncated (no end blocks)",
				    r->format);
	return check_names(r);
}

static void reader_free(struct reader *r)
{
	for (size_t i = 0; i < r->dir_count; i++)
		free(r->dirs[i]);
	free(r->dirs);
	sp_archive_files_free(&r->list);
}

/* The reader with the thread's locale set to UTF-8 while it runs, so that
 * libarchive gives names as UTF-8 (the server's own locale is C, in which
 * it refuses any name that is not ASCII); without a UTF-8 locale, such
 * names are refused. */
int sp_archive_files_read(const void *data, size_t size, unsigned formats,
			  const struct sp_archive_limits *limits, struct sp_archive_files *out,
			  struct sp_error *err)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t saved = utf8 != (locale_t)0 ? uselocale(utf8) : (locale_t)0;
	struct reader r = {
	    .archive = archive_read_new(),
	    .limits = limits,
	    .err = err,
	    .format = "tar",
	};
	int rc = -1;

	*out = (struct sp_archive_files){0};
	if (r.archive == NULL)
		out_of_memory(&r);
	else if (choose_format(&r, data, size, formats) == 0 &&
		 read_entries(&r, data, size, formats) == 0)
		rc = 0;
	if (r.archive != NULL)
		archive_read_free(r.archive);
	if (saved != (locale_t)0)
		uselocale(saved);
	if (utf8 != (locale_t)0)
		freelocale(utf8);
	if (rc < 0) {
		reader_free(&r);
		return -1;
	}
	for (size_t i = 0; i < r.dir_count; i++)
		free(r.dirs[i]);
	free(r.dirs);
	*out = r.list;
	return 0;
}

void sp_archive_files_free(struct sp_archive_files *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->files[i].name);
		free(list->files[i].data);
	}
	free(list->files);
	*list = (struct sp_archive_files){0};
}
