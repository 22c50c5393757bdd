/* A client's archive into a list of files (server/job/archive_files.c), over
 * real zip, tar and tar.gz archives made here with libarchive's writer: the
 * good ones read whole, every refusal with a message naming the entry and
 * nothing returned. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "server/job/archive_files.h"

#define MIB (1024 * 1024)
/* Room for any archive made here: the bombs compress to a few hundred KiB. */
#define BUILD_MAX (8 * MIB)

enum kind { FILE_, EXEC, DIR_, SYMLINK, HARDLINK, FIFO, CHARDEV };

struct spec {
	const char *name;
	enum kind kind;
	const char *data; /* a file's bytes, a link's target */
	uint64_t zeros;	  /* a file of so many zero bytes instead, written by MiB */
};

enum format { ZIP, ZIP_STORED, ZIP_ENCRYPTED, TAR, TAR_GZ };

struct built {
	uint8_t *data;
	size_t size;
};

static void add_entry(struct archive *a, const struct spec *s)
{
	struct archive_entry *ae = archive_entry_new();
	static const uint8_t zeros[MIB];
	size_t len = s->data && (s->kind == FILE_ || s->kind == EXEC) ? strlen(s->data) : 0;

	assert_non_null(ae);
	archive_entry_copy_pathname(ae, s->name);
	archive_entry_set_mtime(ae, 1700000000, 0);
	switch (s->kind) {
	case FILE_:
	case EXEC:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, s->kind == EXEC ? 0755 : 0644);
		archive_entry_set_size(ae, s->zeros ? (la_int64_t)s->zeros : (la_int64_t)len);
		break;
	case DIR_:
		archive_entry_set_filetype(ae, AE_IFDIR);
		archive_entry_set_perm(ae, 0755);
		break;
	case SYMLINK:
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_set_perm(ae, 0777);
		archive_entry_copy_symlink(ae, s->data);
		break;
	case HARDLINK:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_copy_hardlink(ae, s->data);
		break;
	case FIFO:
		archive_entry_set_filetype(ae, AE_IFIFO);
		archive_entry_set_perm(ae, 0644);
		break;
	case CHARDEV:
		archive_entry_set_filetype(ae, AE_IFCHR);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_rdev(ae, makedev(1, 3));
		break;
	}
	assert_true(archive_write_header(a, ae) >= ARCHIVE_WARN);
	for (uint64_t left = s->zeros; left > 0;) {
		size_t n = left < MIB ? (size_t)left : MIB;

		assert_int_equal(archive_write_data(a, zeros, n), (la_ssize_t)n);
		left -= n;
	}
	if (len > 0)
		assert_int_equal(archive_write_data(a, s->data, len), (la_ssize_t)len);
	archive_entry_free(ae);
}

/* An archive of FORMAT with the N entries of SPECS, written with names in
 * UTF-8. */
static struct built build(enum format format, const struct spec *specs, size_t n)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t saved = uselocale(utf8);
	struct archive *a = archive_write_new();
	struct built b = {.data = malloc(BUILD_MAX)};
	size_t used = 0;

	assert_non_null(a);
	assert_non_null(b.data);
	if (format == TAR || format == TAR_GZ) {
		assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
		if (format == TAR_GZ)
			assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	} else {
		assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
		if (format == ZIP_STORED)
			assert_int_equal(archive_write_set_options(a, "zip:compression=store"),
					 ARCHIVE_OK);
		if (format == ZIP_ENCRYPTED) {
			assert_int_equal(archive_write_set_options(a, "zip:encryption=zipcrypt"),
					 ARCHIVE_OK);
			assert_int_equal(archive_write_set_passphrase(a, "secret"), ARCHIVE_OK);
		}
	}
	assert_int_equal(archive_write_open_memory(a, b.data, BUILD_MAX, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++)
		add_entry(a, &specs[i]);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	uselocale(saved);
	freelocale(utf8);
	b.size = used;
	return b;
}

static const struct sp_archive_limits roomy = {
    .max_files = 100,
    .max_file_bytes = 1 * MIB,
    .max_total_bytes = 4 * MIB,
};

/* DATA refused under LIMITS with ERRNUM and a message holding WANT; the
 * list left empty. */
static void refused_as(const void *data, size_t size, unsigned formats,
		       const struct sp_archive_limits *limits, int errnum, const char *want)
{
	struct sp_archive_files list = {.count = 42};
	struct sp_error err = {0};

	assert_int_equal(sp_archive_files_read(data, size, formats, limits, &list, &err), -1);
	if (strstr(err.message, want) == NULL || err.errnum != errnum)
		fail_msg("wanted errno %d and '%s', got %d '%s'", errnum, want, err.errnum,
			 err.message);
	assert_null(list.files);
	assert_int_equal(list.count, 0);
	assert_true(strlen(err.message) < 256);
}

static void refused(enum format format, const struct spec *specs, size_t n, int errnum,
		    const char *want)
{
	struct built b = build(format, specs, n);

	refused_as(b.data, b.size, SP_ARCHIVE_ANY, &roomy, errnum, want);
	free(b.data);
}

#define REFUSED(format, errnum, want, ...)                                                         \
	do {                                                                                       \
		const struct spec specs_[] = {__VA_ARGS__};                                        \
		refused(format, specs_, sizeof(specs_) / sizeof(specs_[0]), errnum, want);         \
	} while (0)

/* ---- good archives --------------------------------------------------------- */

static const struct spec good[] = {
    {"./", DIR_, NULL, 0},
    {"./src/", DIR_, NULL, 0},
    {"./src/lib/", DIR_, NULL, 0},
    {"./src/lib/util.py", FILE_, "def f():\n    return 1\n", 0},
    {"main.py", FILE_, "import src.lib.util\n", 0},
    {"bin/run.sh", EXEC, "#!/bin/sh\necho hi\n", 0},
    {"empty", FILE_, "", 0},
    {"donn\xc3\xa9"
     "es/\xc3\xa9t\xc3\xa9.txt",
     FILE_, "\xc3\xa9t\xc3\xa9\n", 0},
    {"src/lib/", DIR_, NULL, 0}, /* a directory twice is no harm */
};

static void check_good(enum format format)
{
	struct built b = build(format, good, sizeof(good) / sizeof(good[0]));
	struct sp_archive_files list;
	struct sp_error err = {0};

	if (sp_archive_files_read(b.data, b.size, SP_ARCHIVE_ANY, &roomy, &list, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(list.count, 5);
	assert_string_equal(list.files[0].name, "src/lib/util.py");
	assert_int_equal(list.files[0].length, strlen(good[3].data));
	assert_memory_equal(list.files[0].data, good[3].data, list.files[0].length);
	assert_false(list.files[0].executable);
	assert_string_equal(list.files[1].name, "main.py");
	assert_string_equal(list.files[2].name, "bin/run.sh");
	assert_true(list.files[2].executable);
	assert_memory_equal(list.files[2].data, "#!/bin/sh\necho hi\n", 18);
	assert_string_equal(list.files[3].name, "empty");
	assert_int_equal(list.files[3].length, 0);
	assert_non_null(list.files[3].data);
	assert_string_equal(list.files[4].name, "donn\xc3\xa9"
						"es/\xc3\xa9t\xc3\xa9.txt");
	assert_memory_equal(list.files[4].data, "\xc3\xa9t\xc3\xa9\n", 7);
	sp_archive_files_free(&list);
	assert_null(list.files);
	assert_int_equal(list.count, 0);
	sp_archive_files_free(&list);
	free(b.data);
}

static void test_good_zip(void **state)
{
	(void)state;
	check_good(ZIP);
	check_good(ZIP_STORED);
}

static void test_good_tar(void **state)
{
	(void)state;
	check_good(TAR);
	check_good(TAR_GZ);
}

/* An archive without a file is an empty list. */
static void test_empty(void **state)
{
	static const enum format formats[] = {ZIP, TAR, TAR_GZ};
	static const struct spec only_dirs[] = {{"a/", DIR_, NULL, 0}, {"a/b/", DIR_, NULL, 0}};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		for (size_t with_dirs = 0; with_dirs < 2; with_dirs++) {
			struct built b = build(formats[i], only_dirs, with_dirs ? 2 : 0);
			struct sp_archive_files list;
			struct sp_error err = {0};

			if (sp_archive_files_read(b.data, b.size, SP_ARCHIVE_ANY, &roomy, &list,
						  &err) < 0)
				fail_msg("format %d: %s", formats[i], err.message);
			assert_int_equal(list.count, 0);
			sp_archive_files_free(&list);
			free(b.data);
		}
	}
}

/* ---- names ------------------------------------------------------------------ */

static void test_names(void **state)
{
	static const enum format formats[] = {ZIP, TAR, TAR_GZ};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		enum format f = formats[i];

		REFUSED(f, EPERM, "entry '../x' has a . or .. component", {"../x", FILE_, "x", 0});
		REFUSED(f, EPERM, "entry '/etc/passwd' must be a relative path",
			{"ok", FILE_, "x", 0}, {"/etc/passwd", FILE_, "x", 0});
		REFUSED(f, EPERM, "entry 'a/../../b' has a . or .. component",
			{"a/../../b", FILE_, "x", 0});
		REFUSED(f, EPERM, "entry 'a/./b' has a . or .. component",
			{"a/./b", FILE_, "x", 0});
		REFUSED(f, EPERM, "entry 'a//b' has an empty component", {"a//b", FILE_, "x", 0});
		REFUSED(f, EPERM, "entry '../up/' has a . or .. component",
			{"../up/", DIR_, NULL, 0});
		REFUSED(f, EPERM, "has more than 16 components",
			{"1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", FILE_, "x", 0});
		REFUSED(f, EPERM, "has a control character", {"a\tb", FILE_, "x", 0});
	}
	/* Bytes that are not UTF-8 in a tar's name (a zip's are converted). */
	REFUSED(TAR, EPERM, "not valid UTF-8", {"caf\xe9", FILE_, "x", 0});
}

static void test_duplicates(void **state)
{
	static const enum format formats[] = {ZIP, TAR, TAR_GZ};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		enum format f = formats[i];

		REFUSED(f, EPERM, "entry 'x' is in the archive twice", {"x", FILE_, "1", 0},
			{"y", FILE_, "2", 0}, {"x", FILE_, "3", 0});
		REFUSED(f, EPERM, "entry 'x' is in the archive twice", {"./x", FILE_, "1", 0},
			{"x", FILE_, "2", 0});
		REFUSED(f, EPERM, "entry 'a' is a file, and 'a/b' needs a directory",
			{"a", FILE_, "1", 0}, {"a/b", FILE_, "2", 0});
		REFUSED(f, EPERM, "entry 'a' is a file, and 'a/b/c' needs a directory",
			{"a/b/c", FILE_, "1", 0}, {"a-b", FILE_, "2", 0}, {"a", FILE_, "3", 0});
		REFUSED(f, EPERM, "entry 'a' is both a file and a directory", {"a/", DIR_, NULL, 0},
			{"a", FILE_, "1", 0});
	}
}

/* ---- kinds -------------------------------------------------------------------- */

static void test_kinds(void **state)
{
	(void)state;
	REFUSED(ZIP, EPERM, "entry 'link' is a symbolic link", {"f", FILE_, "x", 0},
		{"link", SYMLINK, "/etc/passwd", 0});
	REFUSED(TAR, EPERM, "entry 'link' is a symbolic link", {"link", SYMLINK, "f", 0});
	REFUSED(TAR_GZ, EPERM, "entry 'up' is a symbolic link", {"up", SYMLINK, "..", 0});
	REFUSED(TAR, EPERM, "entry 'hard' is a hard link", {"f", FILE_, "x", 0},
		{"hard", HARDLINK, "f", 0});
	REFUSED(TAR_GZ, EPERM, "entry 'hard' is a hard link", {"hard", HARDLINK, "/etc/shadow", 0});
	REFUSED(TAR, EPERM, "entry 'pipe' is a fifo", {"pipe", FIFO, NULL, 0});
	REFUSED(TAR, EPERM, "entry 'null' is a device", {"null", CHARDEV, NULL, 0});
	REFUSED(ZIP_ENCRYPTED, EPERM, "entry 'secret.txt' is encrypted",
		{"secret.txt", FILE_, "hidden", 0});
}

/* ---- bounds -------------------------------------------------------------------- */

static void test_bounds(void **state)
{
	static const enum format formats[] = {ZIP, TAR, TAR_GZ};
	const struct sp_archive_limits three = {3, 10, 25};
	const struct spec files[] = {{"a", FILE_, "0123456789", 0},
				     {"b", FILE_, "0123456789", 0},
				     {"c", FILE_, "01234", 0},
				     {"d", FILE_, "", 0}};
	const struct spec big[] = {{"ok", FILE_, "0123456789", 0},
				   {"big", FILE_, "0123456789x", 0}};
	const struct spec total[] = {{"a", FILE_, "0123456789", 0},
				     {"b", FILE_, "0123456789", 0},
				     {"c", FILE_, "012345", 0}};
	const struct spec dirs[] = {{"1/", DIR_, NULL, 0},
				    {"2/", DIR_, NULL, 0},
				    {"3/", DIR_, NULL, 0},
				    {"4/", DIR_, NULL, 0}};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct built b = build(formats[i], files, 4);
		struct sp_archive_files list;
		struct sp_error err = {0};

		refused_as(b.data, b.size, SP_ARCHIVE_ANY, &three, EFBIG, "more than 3 files");
		free(b.data);
		/* Exactly at every bound: taken. */
		b = build(formats[i], files, 3);
		assert_int_equal(
		    sp_archive_files_read(b.data, b.size, SP_ARCHIVE_ANY, &three, &list, &err), 0);
		assert_int_equal(list.count, 3);
		sp_archive_files_free(&list);
		free(b.data);

		b = build(formats[i], big, 2);
		refused_as(b.data, b.size, SP_ARCHIVE_ANY, &three, EFBIG,
			   "entry 'big' is larger than 10 bytes");
		free(b.data);
		b = build(formats[i], total, 3);
		refused_as(b.data, b.size, SP_ARCHIVE_ANY, &three, EFBIG,
			   "entry 'c' takes the files over 25 bytes in all");
		free(b.data);
		b = build(formats[i], dirs, 4);
		refused_as(b.data, b.size, SP_ARCHIVE_ANY, &three, EFBIG,
			   "more than 3 directories");
		free(b.data);
	}
}

static long max_rss_kib(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* V at P, 32 bits little-endian. */
static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The uncompressed size of every entry of the zip B, in its local headers
 * and its central directory, made VALUE: a header that lies. */
static void zip_lie_about_size(struct built *b, uint32_t value)
{
	size_t found = 0;

	for (size_t i = 0; i + 46 <= b->size; i++) {
		if (memcmp(b->data + i, "PK\3\4", 4) == 0) {
			put_le32(b->data + i + 22, value);
			found++;
		} else if (memcmp(b->data + i, "PK\1\2", 4) == 0) {
			put_le32(b->data + i + 24, value);
			found++;
		}
	}
	assert_int_equal(found, 2);
}

/* 100 MiB of zeros, compressed to a few hundred KiB: stopped at the bound,
 * without taking more than a few MiB. */
static void test_bomb(void **state)
{
	const struct spec bomb[] = {{"zeros", FILE_, NULL, 100 * (uint64_t)MIB}};
	const struct sp_archive_limits limits = {10, 1 * MIB, 2 * MIB};
	long before;
	struct built b;

	(void)state;
	b = build(ZIP, bomb, 1);
	assert_true(b.size < 1 * MIB);
	refused_as(b.data, b.size, SP_ARCHIVE_ANY, &limits, EFBIG,
		   "entry 'zeros' is larger than 1048576 bytes");
	/* Its headers say 1000 bytes: the bytes are counted all the same. */
	zip_lie_about_size(&b, 1000);
	before = max_rss_kib();
	refused_as(b.data, b.size, SP_ARCHIVE_ANY, &limits, EFBIG,
		   "entry 'zeros' is larger than 1048576 bytes");
	assert_true(max_rss_kib() - before < 16 * 1024);
	free(b.data);

	b = build(TAR_GZ, bomb, 1);
	assert_true(b.size < 1 * MIB);
	before = max_rss_kib();
	refused_as(b.data, b.size, SP_ARCHIVE_ANY, &limits, EFBIG, "tar.gz archive: inflates to");
	assert_true(max_rss_kib() - before < 16 * 1024);
	free(b.data);
}

/* ---- corrupt and foreign bytes ---------------------------------------------------- */

/* Text that deflate cannot shrink much: flipping a byte in the middle of a
 * compressed archive lands in its data. */
static char *noise(size_t n)
{
	char *s = malloc(n + 1);
	uint32_t x = 12345;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		s[i] = (char)('a' + (x >> 16) % 26);
	}
	s[n] = '\0';
	return s;
}

static void test_corrupt(void **state)
{
	static const enum format formats[] = {ZIP, ZIP_STORED, TAR, TAR_GZ};
	char *text = noise(20000);
	const struct spec one[] = {{"data.txt", FILE_, text, 0}};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct built b = build(formats[i], one, 1);

		/* Cut at every few hundred bytes: a plain tar whose first end
		 * block is whole is whole (its second is as good as padding). */
		size_t whole = formats[i] == TAR ? b.size - 512 : b.size;

		for (size_t cut = 0; cut < whole; cut += 397) {
			struct sp_archive_files list;
			struct sp_error err = {0};

			if (sp_archive_files_read(b.data, cut, SP_ARCHIVE_ANY, &roomy, &list,
						  &err) == 0)
				fail_msg("format %d of %zu bytes cut at %zu: taken", formats[i],
					 b.size, cut);
			assert_int_equal(err.errnum, EBADMSG);
			assert_int_equal(list.count, 0);
		}
		if (formats[i] == TAR) {
			/* Its end blocks gone (one header, 20000 bytes padded). */
			refused_as(b.data, 512 + 20480, SP_ARCHIVE_ANY, &roomy, EBADMSG,
				   "tar archive: truncated (no end blocks)");
			refused_as(b.data, 512 + 20480 + 511, SP_ARCHIVE_ANY, &roomy, EBADMSG,
				   "tar archive: ");
		}
		/* A byte of its data flipped (a tar's, plain, is only its data). */
		if (formats[i] != TAR) {
			b.data[b.size / 2] ^= 0x20;
			refused_as(b.data, b.size, SP_ARCHIVE_ANY, &roomy, EBADMSG,
				   formats[i] == TAR_GZ ? "tar.gz archive: "
							: "zip entry 'data.txt' is corrupt: ");
		}
		free(b.data);
	}
	free(text);
}

static void test_not_archive(void **state)
{
	static const char text[] = "just some text, not an archive at all\n";
	uint8_t zeros[100] = {0};
	struct built z;
	const struct spec one[] = {{"a", FILE_, "x", 0}};

	(void)state;
	refused_as(text, sizeof(text) - 1, SP_ARCHIVE_ANY, &roomy, EBADMSG,
		   "not a zip, tar or tar.gz archive");
	refused_as(text, 0, SP_ARCHIVE_ANY, &roomy, EBADMSG, "not a zip, tar or tar.gz archive");
	refused_as(zeros, sizeof(zeros), SP_ARCHIVE_ANY, &roomy, EBADMSG, "archive");
	refused_as("\x1f\x8b", 2, SP_ARCHIVE_ANY, &roomy, EBADMSG, "tar.gz archive");
	refused_as("PK\3\4", 4, SP_ARCHIVE_ANY, &roomy, EBADMSG, "zip archive");
	refused_as(text, sizeof(text) - 1, SP_ARCHIVE_ZIP, &roomy, EBADMSG, "not a zip archive");
	/* A format the caller does not take. */
	z = build(TAR, one, 1);
	refused_as(z.data, z.size, SP_ARCHIVE_ZIP, &roomy, EBADMSG, "not a zip archive");
	free(z.data);
	z = build(ZIP, one, 1);
	refused_as(z.data, z.size, SP_ARCHIVE_TAR | SP_ARCHIVE_TAR_GZ, &roomy, EBADMSG,
		   "a zip archive is not taken here");
	free(z.data);
	/* A gzip of something that is no tar. */
	z = build(TAR_GZ, one, 1);
	{
		struct archive *a = archive_write_new();
		size_t used = 0;

		assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
		assert_int_equal(archive_write_open_memory(a, z.data, BUILD_MAX, &used),
				 ARCHIVE_OK);
		{
			struct archive_entry *ae = archive_entry_new();

			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, sizeof(text) - 1);
			assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
			assert_int_equal(archive_write_data(a, text, sizeof(text) - 1),
					 (la_ssize_t)sizeof(text) - 1);
			archive_entry_free(ae);
		}
		assert_int_equal(archive_write_close(a), ARCHIVE_OK);
		archive_write_free(a);
		refused_as(z.data, used, SP_ARCHIVE_ANY, &roomy, EBADMSG, "tar.gz archive");
	}
	free(z.data);
}

/* A name longer than a message shows is cut, and the message stays short. */
static void test_long_name(void **state)
{
	char name[1100];

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	REFUSED(TAR, EPERM, "nnnn...' is longer than 1024 bytes", {name, FILE_, "x", 0});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_zip),   cmocka_unit_test(test_good_tar),
	    cmocka_unit_test(test_empty),      cmocka_unit_test(test_names),
	    cmocka_unit_test(test_duplicates), cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_bounds),     cmocka_unit_test(test_bomb),
	    cmocka_unit_test(test_corrupt),    cmocka_unit_test(test_not_archive),
	    cmocka_unit_test(test_long_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
