/* The archive of /box: what the writer packs the reader gives back, and the
 * reader refuses every malformed archive without leaking a descriptor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/box_archive.h"
#include "sandbox/cell.h"

#define BIG_SIZE (3 * 1024 * 1024)

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

/* The whole content of FD from offset 0 (LEN bytes expected), checked. */
static void assert_content(int fd, const void *data, size_t len)
{
	char *buf = malloc(len + 1);
	struct stat st;

	assert_non_null(buf);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0); /* ready to read from the start */
	assert_int_equal(pread(fd, buf, len + 1, 0), (ssize_t)len);
	assert_memory_equal(buf, data, len);
	free(buf);
}

static void assert_sealed(int fd)
{
	assert_int_equal(fcntl(fd, F_GET_SEALS) & SP_BOX_SEALS, SP_BOX_SEALS);
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, 1024 * 1024), -1);
	assert_int_equal(errno, EPERM);
}

static int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(dir);
	while (readdir(dir) != NULL)
		n++;
	closedir(dir);
	return n;
}

struct source {
	const char *name;
	mode_t mode;
	const char *data;
	size_t len;
	mode_t want_mode;
};

static void test_round_trip(void **state)
{
	static const char binary[] = "\0\x01\xff\0ELF\0\0\n\r\0";
	char *big = malloc(BIG_SIZE);
	struct source src[] = {
	    {"main", 0755, "#!/bin/sh\necho hi\n", 18, 0755},
	    {"lib/util.so", 0644, "util", 4, 0644},
	    {"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/deep", 0600, "deep", 4, 0600 & 0755},
	    {"empty", 0644, "", 0, 0644},
	    {"bin.dat", 0700, binary, sizeof(binary), 0700 & 0755},
	    {"big", 04777, big, BIG_SIZE, 0755}, /* setuid and the group and other writes go */
	    {"lib/z z", 0, "spaces", 6, 0},
	};
	size_t n = sizeof(src) / sizeof(src[0]);
	struct sp_box_writer w;
	struct sp_error err = {0};
	struct sp_box_file *files = NULL;
	size_t count = 0;
	int archive = sp_box_memfd_new("archive", &err);
	int fds_before;

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = (char)(i * 7 + i / 4096);
	assert_true(archive >= 0);
	assert_int_equal(sp_box_archive_begin(&w, archive, UINT64_MAX, &err), 0);
	for (size_t i = 0; i < n; i++) {
		int fd = memfd_with(src[i].data, src[i].len); /* its offset at the end */

		if (sp_box_archive_add(&w, src[i].name, src[i].mode, fd, src[i].len, &err) < 0)
			fail_msg("add %s: %s", src[i].name, err.message);
		close(fd);
	}
	assert_int_equal(sp_box_archive_end(&w, &err), 0);
	assert_int_equal(sp_box_memfd_seal(archive, &err), 0);
	assert_int_equal(w.files, n);

	fds_before = open_fds();
	if (sp_box_archive_read(archive, &files, &count, &err) < 0)
		fail_msg("read: %s", err.message);
	assert_int_equal(count, n);
	assert_int_equal(open_fds(), fds_before + (int)n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(files[i].name, src[i].name);
		assert_int_equal(files[i].mode, src[i].want_mode);
		assert_int_equal(fcntl(files[i].fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		assert_content(files[i].fd, src[i].data, src[i].len);
		assert_sealed(files[i].fd);
	}
	sp_box_files_free(files, count);
	assert_int_equal(open_fds(), fds_before);
	/* the archive's own offset is not the reader's business: read it again */
	assert_int_equal(lseek(archive, 5, SEEK_SET), 5);
	assert_int_equal(sp_box_archive_read(archive, &files, &count, &err), 0);
	assert_int_equal(count, n);
	sp_box_files_free(files, count);
	close(archive);
	free(big);
}

static void test_empty_box(void **state)
{
	struct sp_box_writer w;
	struct sp_error err = {0};
	struct sp_box_file *files = NULL;
	size_t count = 1;
	int archive = sp_box_memfd_new("archive", &err);

	(void)state;
	assert_int_equal(sp_box_archive_begin(&w, archive, 0, &err), 0);
	assert_int_equal(sp_box_archive_end(&w, &err), 0);
	assert_int_equal(sp_box_archive_read(archive, &files, &count, &err), 0);
	assert_int_equal(count, 0);
	sp_box_files_free(files, count);
	close(archive);
}

static void test_writer_limits(void **state)
{
	struct sp_box_writer w;
	struct sp_error err = {0};
	int archive = sp_box_memfd_new("archive", &err);
	int src = memfd_with("0123456789", 10);
	char name[32];

	(void)state;
	assert_int_equal(sp_box_archive_begin(&w, archive, 25, &err), 0);
	/* a file shorter than it said */
	assert_int_equal(sp_box_archive_add(&w, "d", 0644, src, 11, &err), -1);
	assert_int_equal(err.errnum, EIO);
	/* the content bound: 10 + 10 fit in 25, 10 more do not */
	assert_int_equal(sp_box_archive_add(&w, "a", 0644, src, 10, &err), 0);
	assert_int_equal(sp_box_archive_add(&w, "b", 0644, src, 10, &err), 0);
	assert_int_equal(sp_box_archive_add(&w, "c", 0644, src, 10, &err), -1);
	assert_int_equal(err.errnum, EFBIG);
	/* names that could not be written back */
	assert_int_equal(sp_box_archive_add(&w, "../x", 0644, src, 0, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	assert_int_equal(sp_box_archive_add(&w, "a\nb", 0644, src, 0, &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	close(archive);

	archive = sp_box_memfd_new("archive", &err);
	assert_int_equal(sp_box_archive_begin(&w, archive, UINT64_MAX, &err), 0);
	for (int i = 0; i < SP_BOX_FILES_MAX; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(sp_box_archive_add(&w, name, 0644, src, 1, &err), 0);
	}
	assert_int_equal(sp_box_archive_add(&w, "one-more", 0644, src, 1, &err), -1);
	assert_int_equal(err.errnum, EMFILE);
	assert_string_equal(err.message, "the step left more than 4096 files in /box");
	close(archive);
	close(src);
}

/* ---- hostile archives, built by hand ------------------------------------ */

struct buf {
	uint8_t *data;
	size_t len;
};

static void put(struct buf *b, const void *data, size_t len)
{
	b->data = realloc(b->data, b->len + len + 1);
	assert_non_null(b->data);
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void put_le(struct buf *b, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));

		put(b, &c, 1);
	}
}

static void put_header(struct buf *b, uint32_t name_len, uint32_t mode, uint64_t size)
{
	put_le(b, name_len, 4);
	put_le(b, mode, 4);
	put_le(b, size, 8);
}

static void put_file(struct buf *b, const char *name, size_t name_len, uint32_t mode,
		     const char *data)
{
	put_header(b, (uint32_t)name_len, mode, strlen(data));
	put(b, name, name_len);
	put(b, data, strlen(data));
}

static struct buf magic(void)
{
	struct buf b = {0};

	put(&b, SP_BOX_ARCHIVE_MAGIC, SP_BOX_ARCHIVE_MAGIC_LEN);
	return b;
}

/* Read the archive B (freed), which must be refused with EBADMSG, leaving
 * no descriptor open; its message must contain WHAT. */
static void assert_refused(struct buf b, const char *what)
{
	struct sp_error err = {0};
	struct sp_box_file *files = (void *)1;
	size_t count = 7;
	int fd = memfd_with(b.data ? (const void *)b.data : "", b.len);
	int fds_before = open_fds();

	if (sp_box_archive_read(fd, &files, &count, &err) == 0)
		fail_msg("accepted an archive that should fail with '%s'", what);
	assert_int_equal(err.errnum, EBADMSG);
	if (strstr(err.message, what) == NULL)
		fail_msg("'%s' does not say '%s'", err.message, what);
	assert_null(files);
	assert_int_equal(count, 0);
	assert_int_equal(open_fds(), fds_before);
	close(fd);
	free(b.data);
}

static void test_hostile_archives(void **state)
{
	struct buf b;

	(void)state;
	/* the frame */
	assert_refused((struct buf){0}, "no magic");
	b = (struct buf){0};
	put(&b, "SPBOX2\0\0", 8);
	put_header(&b, 0, 0, 0);
	assert_refused(b, "bad magic");
	b = magic();
	assert_refused(b, "truncated header"); /* no end record */
	b = magic();
	put_header(&b, 1, 0644, 0);
	b.len -= 6;
	assert_refused(b, "truncated header");
	b = magic();
	put_file(&b, "a", 1, 0644, "x"); /* the end record is missing */
	assert_refused(b, "truncated header");
	b = magic();
	put_header(&b, 0, 0, 0);
	put(&b, "x", 1);
	assert_refused(b, "after the end record");
	b = magic();
	put_file(&b, "a", 1, 0644, "x");
	put_header(&b, 0, 0, 2); /* says two files */
	assert_refused(b, "the end record says 2 files");
	b = magic();
	put_header(&b, 0, 0644, 0);
	assert_refused(b, "the end record says");

	/* lengths past the end */
	b = magic();
	put_header(&b, 1, 0644, 100);
	put(&b, "a", 1);
	put(&b, "only ten b", 10);
	put_header(&b, 0, 0, 1);
	assert_refused(b, "past the end"); /* truncated data */
	b = magic();
	put_header(&b, 1, 0644, UINT64_MAX);
	put(&b, "a", 1);
	put_header(&b, 0, 0, 1);
	assert_refused(b, "past the end");
	b = magic();
	put_header(&b, 1, 0644, (uint64_t)1 << 63);
	put(&b, "a", 1);
	put_header(&b, 0, 0, 1);
	assert_refused(b, "past the end");
	b = magic();
	put_header(&b, 900, 0644, 0);
	put(&b, "abc", 3);
	assert_refused(b, "the name goes past the end");
	b = magic();
	put_header(&b, UINT32_MAX, 0644, 0);
	put_header(&b, 0, 0, 1);
	assert_refused(b, "a name of 4294967295 bytes");

	/* names that could not be written back */
	static const char *const bad_names[] = {
	    "../x", "/abs", "a//b", "a\nb", "a/", ".", "..", "a/../b", "a/./b", "\x7f", "tab\t",
	};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		b = magic();
		put_file(&b, bad_names[i], strlen(bad_names[i]), 0644, "x");
		put_header(&b, 0, 0, 1);
		assert_refused(b, "invalid name");
	}
	b = magic();
	put_file(&b, "a\0b", 3, 0644, "x");
	put_header(&b, 0, 0, 1);
	assert_refused(b, "invalid name");
	{
		char deep[64] = "";

		for (int i = 0; i < 17; i++) /* 17 components */
			strcat(deep, i ? "/d" : "d");
		b = magic();
		put_file(&b, deep, strlen(deep), 0644, "x");
		put_header(&b, 0, 0, 1);
		assert_refused(b, "invalid name");
	}

	/* modes beyond 0755 */
	b = magic();
	put_file(&b, "a", 1, 04755, "x");
	put_header(&b, 0, 0, 1);
	assert_refused(b, "mode 4755");
	b = magic();
	put_file(&b, "a", 1, 0777, "x");
	put_header(&b, 0, 0, 1);
	assert_refused(b, "mode 777");

	/* names that clash */
	b = magic();
	put_file(&b, "dup", 3, 0644, "one");
	put_file(&b, "other", 5, 0644, "");
	put_file(&b, "dup", 3, 0755, "two");
	put_header(&b, 0, 0, 3);
	assert_refused(b, "'dup' twice");
	b = magic();
	put_file(&b, "a-x", 3, 0644, "");
	put_file(&b, "a/b/c", 5, 0644, "");
	put_file(&b, "a/b", 3, 0644, "");
	put_header(&b, 0, 0, 3);
	assert_refused(b, "'a/b' is a file and the directory of 'a/b/c'");
}

static void test_too_many_entries(void **state)
{
	struct buf b = magic();
	char name[32];

	(void)state;
	for (int i = 0; i <= SP_BOX_FILES_MAX; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		put_file(&b, name, strlen(name), 0644, "");
	}
	put_header(&b, 0, 0, SP_BOX_FILES_MAX + 1);
	assert_refused(b, "more than 4096 entries");
}

/* 4096 files come back, one descriptor each (when the limit allows it). */
static void test_most_entries(void **state)
{
	struct buf b = magic();
	struct sp_box_file *files = NULL;
	struct sp_error err = {0};
	struct rlimit rl;
	size_t count = 0;
	char name[32];
	int fd;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < SP_BOX_FILES_MAX + 64) {
		print_message("open files limited to %llu: not tried\n",
			      (unsigned long long)rl.rlim_cur);
		free(b.data);
		skip();
	}
	for (int i = 0; i < SP_BOX_FILES_MAX; i++) {
		snprintf(name, sizeof(name), "d%d/f%d", i % 7, i);
		put_file(&b, name, strlen(name), 0644, name);
	}
	put_header(&b, 0, 0, SP_BOX_FILES_MAX);
	fd = memfd_with(b.data, b.len);
	if (sp_box_archive_read(fd, &files, &count, &err) < 0)
		fail_msg("read: %s", err.message);
	assert_int_equal(count, SP_BOX_FILES_MAX);
	assert_string_equal(files[4095].name, "d0/f4095");
	assert_content(files[4095].fd, "d0/f4095", 8);
	sp_box_files_free(files, count);
	close(fd);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	     cmocka_unit_test(test_empty_box),
	    cmocka_unit_test(test_writer_limits),    cmocka_unit_test(test_hostile_archives),
	    cmocka_unit_test(test_too_many_entries), cmocka_unit_test(test_most_entries),
	};
	struct rlimit rl;

	/* as the server does: a descriptor per file of an archive */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
