/* A problem package into a problem: problem_package.h. */
#include "problem_package.h"

#include <errno.h>
#include <stdbool.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem_build.h"
#include "problem_kattis.h"
#include "problem_plain.h"

/* ---- the package ----------------------------------------------------------------- */

/* The one top folder every file is in, when there is one and the package
 * is not at the top: its length with the '/', else 0. */
static size_t top_folder(const struct sp_archive_files *files)
{
	bool has_yaml = false;
	const char *first;
	size_t n;

	if (files->count == 0)
		return 0;
	first = files->files[0].name;
	n = strcspn(first, "/");
	if (first[n] != '/')
		return 0;
	for (size_t i = 0; i < files->count; i++) {
		const char *name = files->files[i].name;

		if (strncmp(name, first, n + 1) != 0)
			return 0;
		has_yaml |= strcmp(name + n + 1, "problem.yaml") == 0;
	}
	/* a package of data/ alone is at the top: data/ is its test data */
	if (n == 4 && strncmp(first, "data", 4) == 0 && !has_yaml)
		return 0;
	return n + 1;
}

static int index_entries(struct sp_problem_build *b, const struct sp_archive_files *files)
{
	size_t skip = top_folder(files);

	b->entries = calloc(files->count + 1, sizeof(*b->entries));
	if (b->entries == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	for (size_t i = 0; i < files->count; i++)
		b->entries[i] =
		    (struct sp_build_entry){files->files[i].name + skip, &files->files[i]};
	b->entry_count = files->count;
	sp_build_sort(b);
	return 0;
}

static bool is_kattis(const struct sp_problem_build *b)
{
	return sp_build_file(b, "problem.yaml") != NULL || sp_build_is_dir(b, "", "data");
}

static int compare_files(const void *a, const void *b)
{
	return strcmp((*(const struct sp_archive_file *const *)a)->name,
		      (*(const struct sp_archive_file *const *)b)->name);
}

void sp_package_id(const struct sp_archive_files *files, char id[SP_PROBLEM_ID_SIZE])
{
	const struct sp_archive_file **sorted = calloc(files->count + 1, sizeof(*sorted));
	size_t skip = top_folder(files);
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;

	sha256_init(&h);
	for (size_t i = 0; sorted != NULL && i < files->count; i++)
		sorted[i] = &files->files[i];
	if (sorted != NULL)
		qsort(sorted, files->count, sizeof(*sorted), compare_files);
	for (size_t i = 0; i < files->count; i++) {
		const struct sp_archive_file *f = sorted != NULL ? sorted[i] : &files->files[i];
		uint8_t head[9];
		uint64_t len = f->length;

		for (int k = 0; k < 8; k++)
			head[k] = (uint8_t)(len >> (8 * k));
		head[8] = f->executable;
		/* named from the package's top: its folder's name does not count */
		sha256_update(&h, strlen(f->name + skip) + 1, (const uint8_t *)f->name + skip);
		sha256_update(&h, sizeof(head), head);
		sha256_update(&h, f->length, f->data);
	}
	free(sorted);
	sha256_digest(&h, sizeof(digest), digest);
	for (size_t i = 0; i < (SP_PROBLEM_ID_SIZE - 1) / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", digest[i]);
}

static uint64_t files_bytes(const struct sp_archive_files *files)
{
	uint64_t n = 0;

	for (size_t i = 0; i < files->count; i++)
		n += files->files[i].length;
	return n;
}

int sp_package_read(const struct sp_archive_files *files, const struct sp_language_set *languages,
		    size_t max_tests, int data_fd, struct sp_package *out, struct sp_error *err)
{
	struct sp_problem_build b = {.package = out,
				     .languages = languages,
				     .max_tests = max_tests,
				     .data_fd = data_fd,
				     .err = err};
	int rc;

	memset(out, 0, sizeof(*out));
	sp_error_clear(err);
	if (index_entries(&b, files) < 0)
		return -1;
	sp_package_id(files, out->problem.id);
	out->problem.package_bytes = files_bytes(files);
	out->problem.package_files = files->count;
	rc = is_kattis(&b) ? sp_kattis_read(&b) : sp_plain_read(&b);
	free(b.entries);
	if (rc < 0)
		sp_package_free(out);
	return rc;
}

void sp_package_free(struct sp_package *package)
{
	sp_problem_free(&package->problem);
	free(package->validator.sources);
	free(package->interactor.sources);
	memset(package, 0, sizeof(*package));
}
