/* What the readers of each package format (problem_kattis.h,
 * problem_plain.h) share: the package's files by path, a problem
 * built group by group and test by test, the data file written as tests
 * come, and a program's language told from its sources. */
#ifndef SANDPOOL_PROBLEM_BUILD_H
#define SANDPOOL_PROBLEM_BUILD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive_files.h"
#include "language.h"
#include "problem.h"
#include "request_program.h"
#include "sandbox/base/error.h"

/* A program's source file, borrowed from the archive's list. */
struct sp_package_source {
	const char *name; /* relative to the program's folder */
	const struct sp_archive_file *file;
};

struct sp_package_program {
	struct sp_package_source *sources; /* the entry first */
	size_t count;
};

/* A package read: its problem, and the sources of its programs. */
struct sp_package {
	struct sp_problem problem;
	struct sp_package_program validator, interactor; /* as problem.validator... says */
};

/* A file of the package, by its path from the package's top. */
struct sp_build_entry {
	const char *path;
	const struct sp_archive_file *file;
};

struct sp_problem_build {
	struct sp_package *package;
	const struct sp_language_set *languages;
	struct sp_build_entry *entries; /* sorted by path (strcmp) */
	size_t entry_count;
	size_t max_tests;
	int data_fd;
	struct sp_error *err;
};

/* ENTRIES sorted by path. */
void sp_build_sort(struct sp_problem_build *b);

/* Fail with EINVAL and a message for the client. Returns -1. */
int sp_build_fail(struct sp_problem_build *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The file at PATH, or NULL. */
const struct sp_archive_file *sp_build_file(const struct sp_problem_build *b, const char *path);

/* The names of DIR's children ("" for the top), files and folders, each
 * once, sorted (strcmp), into *NAMES (a NULL-terminated array of strings
 * to free with sp_build_names_free). Returns their count, or -1 (ENOMEM). */
long sp_build_children(const struct sp_problem_build *b, const char *dir, char ***names);
void sp_build_names_free(char **names);

/* Whether DIR has a child of that name which is a folder. */
bool sp_build_is_dir(const struct sp_problem_build *b, const char *dir, const char *name);

/* A new group NAME under PARENT (-1: the root), its settings copied from
 * SETTINGS (name, parent and items aside, flags copied). Returns its index,
 * or -1. */
long sp_build_group(struct sp_problem_build *b, long parent, const char *name,
		    const struct sp_problem_group *settings);

/* A new test NAME in GROUP, its input and answer (NULL: empty) appended to
 * the data file. Returns 0, or -1 (too many tests, or the file failed). */
int sp_build_test(struct sp_problem_build *b, size_t group, const char *name,
		  const struct sp_archive_file *input, const struct sp_archive_file *answer);

/* WORDS (a string of flags) split on whitespace onto GROUP's flags. Returns
 * 0, or -1 (too many, or out of memory). */
int sp_build_add_flags(struct sp_problem_build *b, struct sp_problem_group *group,
		       const char *words);

/* The program made of the files under DIR (a folder: every file in it; a
 * file: that one), as the program called WHAT ("output validator") into
 * PROGRAM and SOURCES: its language told by its entry's extension, with
 * EXTRA_HEADERS (NULL-terminated paths, or NULL) as more files. Returns 0,
 * or -1 with a message for the client. */
int sp_build_program(struct sp_problem_build *b, const char *path, const char *what,
		     const char *const *extra, struct sp_problem_program *program,
		     struct sp_package_program *sources);

/* The language that runs sources named NAME, by its extension, among the
 * served ones; NULL when none does. */
const struct sp_language *sp_build_language_of(const struct sp_problem_build *b, const char *name);

/* Whether NAME is a header's (.h, .hpp, .hh, .hxx), not a source's. */
bool sp_build_is_header(const char *name);

#endif
