/* libFuzzer: arbitrary bytes as a box archive (what a cell sends when a
 * judge keeps a compiled program) through sp_box_archive_read().
 *
 * Checked for every input, besides what ASan and UBSan see: a failure has a
 * message and returns no file; a success has at most SP_BOX_FILES_MAX files
 * under distinct names that sp_box_path_valid() accepts, none the directory
 * of another, modes within 0755, each a sealed memfd; written again with the
 * writer and read back, the same files come out; no descriptor leaks. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox/box_archive.h"
#include "sandbox/box_path.h"
#include "sandbox/cell.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("FUZZ_VERBOSE") == NULL)
		sp_log_set_level(SP_LOG_ERROR);
	return 0;
}

/* A is B, or a directory of B. */
static bool covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static void check_file(const struct sp_box_file *files, size_t i)
{
	const struct sp_box_file *f = &files[i];

	if (f->name == NULL || !sp_box_path_valid(f->name))
		fuzz_die("file %zu has an invalid name", i);
	if ((f->mode & ~(mode_t)0755) != 0)
		fuzz_die("%s has mode %o", f->name, (unsigned)f->mode);
	if (fcntl(f->fd, F_GET_SEALS) != SP_BOX_SEALS)
		fuzz_die("%s is not a sealed memfd", f->name);
	for (size_t j = 0; j < i; j++) {
		if (covers(files[j].name, f->name) || covers(f->name, files[j].name))
			fuzz_die("%s and %s clash", files[j].name, f->name);
	}
}

static uint64_t size_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		fuzz_die("fstat: %s", strerror(errno));
	return (uint64_t)st.st_size;
}

/* The files written into a new archive and read back: the same names,
 * modes and sizes. */
static void check_round_trip(const struct sp_box_file *files, size_t count)
{
	struct sp_box_file *again = NULL;
	struct sp_box_writer w;
	struct sp_error err = {0};
	size_t n = 0;
	int fd = sp_box_memfd_new("fuzz-box", &err);

	if (fd < 0 || sp_box_archive_begin(&w, fd, UINT64_MAX, &err) < 0)
		fuzz_die("start an archive: %s", err.message);
	for (size_t i = 0; i < count; i++) {
		if (sp_box_archive_add(&w, files[i].name, files[i].mode, files[i].fd,
				       size_of(files[i].fd), &err) < 0)
			fuzz_die("write %s again: %s", files[i].name, err.message);
	}
	if (sp_box_archive_end(&w, &err) < 0 || sp_box_memfd_seal(fd, &err) < 0 ||
	    sp_box_archive_read(fd, &again, &n, &err) < 0)
		fuzz_die("read a written archive: %s", err.message);
	if (n != count)
		fuzz_die("%zu files written, %zu read", count, n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(again[i].name, files[i].name) != 0 || again[i].mode != files[i].mode ||
		    size_of(again[i].fd) != size_of(files[i].fd))
			fuzz_die("%s changed on its way round", files[i].name);
	}
	sp_box_files_free(again, n);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int free_fd = fuzz_lowest_free_fd();
	int fd = fuzz_memfd(data, size);
	struct sp_box_file *files = NULL;
	struct sp_error err = {0};
	size_t count = 0;

	if (sp_box_archive_read(fd, &files, &count, &err) < 0) {
		if (files != NULL || count != 0 || err.message[0] == '\0')
			fuzz_die("a failed read returned files, or no message");
	} else {
		if (count > SP_BOX_FILES_MAX)
			fuzz_die("%zu files", count);
		for (size_t i = 0; i < count; i++)
			check_file(files, i);
		check_round_trip(files, count);
		sp_box_files_free(files, count);
	}
	close(fd);
	if (fuzz_lowest_free_fd() != free_fd)
		fuzz_die("a file descriptor was left open");
	return 0;
}
