/* libFuzzer: arbitrary bytes as a client's archive (zip, tar or tar.gz) read
 * by sp_archive_files_read() under small bounds.
 *
 * Taken, the list must hold what the module promises: at most max_files
 * files, each within max_file_bytes and all within max_total_bytes, with
 * data; every name valid for a request (sp_request_name_problem()) and UTF-8;
 * no name twice, none a directory of another. Refused, the list must be
 * empty, the error one of the four kinds with a short UTF-8 message. Tar
 * header checksums are set right first (fuzz_tar_fix_checksums), else
 * almost every mutation of a tar fails there; zip and gzip are left as they
 * are. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/job/archive_files.h"
#include "server/job/request_program.h"
#include "server/job/utf8.h"
#include "tests/fuzz/fuzz_util.h"

static const struct sp_archive_limits limits = {
    .max_files = 64,
    .max_file_bytes = 64 * 1024,
    .max_total_bytes = 256 * 1024,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("FUZZ_VERBOSE") == NULL)
		sp_log_set_level(SP_LOG_ERROR);
	return 0;
}

/* Whether B is A or a path under A. */
static bool covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

static void check_list(const struct sp_archive_files *list)
{
	uint64_t total = 0;

	if (list->count > limits.max_files)
		fuzz_die("%zu files, above the bound", list->count);
	if (list->count > 0 && list->files == NULL)
		fuzz_die("files without an array");
	for (size_t i = 0; i < list->count; i++) {
		const struct sp_archive_file *f = &list->files[i];
		size_t len = strlen(f->name);

		if (sp_request_name_problem(f->name, len) != NULL || !sp_utf8_valid(f->name, len))
			fuzz_die("a bad name taken: '%s'", f->name);
		if (f->data == NULL || f->length > limits.max_file_bytes)
			fuzz_die("'%s': no data, or %zu bytes", f->name, f->length);
		total += f->length;
		for (size_t j = 0; j < i; j++) {
			if (covers(list->files[j].name, f->name) ||
			    covers(f->name, list->files[j].name))
				fuzz_die("'%s' and '%s' both taken", list->files[j].name, f->name);
		}
	}
	if (total > limits.max_total_bytes)
		fuzz_die("%llu bytes in all, above the bound", (unsigned long long)total);
}

static void check_error(const struct sp_archive_files *list, const struct sp_error *err)
{
	size_t len = strlen(err->message);

	if (list->files != NULL || list->count != 0)
		fuzz_die("refused, but a list is left");
	if (err->errnum != EFBIG && err->errnum != EPERM && err->errnum != EBADMSG &&
	    err->errnum != ENOMEM)
		fuzz_die("refused with errno %d: %s", err->errnum, err->message);
	if (len == 0 || len >= 256 || !sp_utf8_valid(err->message, len))
		fuzz_die("refused with a message empty, long or not UTF-8: %s", err->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_archive_files list = {0};
	struct sp_error err = {0};
	uint8_t *fixed = malloc(size ? size : 1);

	if (fixed == NULL)
		fuzz_die("out of memory");
	memcpy(fixed, data, size);
	if (size < 2 || fixed[0] != 'P' || fixed[1] != 'K')
		fuzz_tar_fix_checksums(fixed, size);
	if (sp_archive_files_read(fixed, size, SP_ARCHIVE_ANY, &limits, &list, &err) == 0)
		check_list(&list);
	else
		check_error(&list, &err);
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz: %s\n", err.message[0] ? err.message : "taken");
	sp_archive_files_free(&list);
	free(fixed);
	return 0;
}
