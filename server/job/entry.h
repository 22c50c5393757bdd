/* Where a program starts: the name its entry file gets in /box, and the
 * names its language's commands give it. A command's "{source}" is that
 * file's name; "{main}" is, for a language whose entry is a Java class, the
 * class to run with its package, else the file's name without its
 * extension. */
#ifndef SANDPOOL_ENTRY_H
#define SANDPOOL_ENTRY_H

#include <stddef.h>

#include "language.h"

#define SP_ENTRY_NAME_MAX 600

struct sp_entry {
	char source[SP_ENTRY_NAME_MAX]; /* one file name: main.py, HelloWorld.java */
	char main[SP_ENTRY_NAME_MAX];	/* main, or a Java class: pkg.HelloWorld */
};

/* The entry of a program of LANG whose entry file holds TEXT (LEN bytes). A
 * Java class language names the file after its public top-level type (the
 * language's source name when it has none) and runs the first top-level
 * type that declares a static main method, else the public one, else the
 * first one. */
void sp_entry_of(const struct sp_language *lang, const char *text, size_t len,
		 struct sp_entry *entry);

/* ARGV with every "{source}" and "{main}" replaced by ENTRY's names, then the
 * N strings of EXTRA: a NULL-terminated vector whose strings are all its own
 * (sp_argv_free). NULL when out of memory. */
char **sp_entry_command(const char *const *argv, const struct sp_entry *entry,
			const char *const *extra, size_t n);

/* A compile command: ARGV expanded as sp_entry_command's, with the N
 * strings of EXTRA (the client's compile options) before the argument that
 * names the entry's source, so that they come after the language's own
 * options (the last of two wins, for most compilers) and before the file (a
 * go build reads its flags there); at the end when no argument names it. */
char **sp_entry_compile_command(const char *const *argv, const struct sp_entry *entry,
				const char *const *extra, size_t n);

void sp_argv_free(char **argv);

#endif
