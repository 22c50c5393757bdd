/* Languages are data: languages/NAME.json says which image, which source
 * file, how to compile and run, with which environment and limits. */
#ifndef SANDPOOL_LANGUAGE_H
#define SANDPOOL_LANGUAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sandbox/base/error.h"
#include "sandbox/limits.h"

/* How a program's entry file is named ("entry" in the file). */
enum sp_entry_rule {
	SP_ENTRY_FILE,	     /* "file": always the language's source name */
	SP_ENTRY_JAVA_CLASS, /* "java_class": after the source's public class (entry.h) */
};

/* A runtime started before the job comes (sandbox/prepared_step.h): the
 * loader's file (beside the language file), where the step puts it (a file
 * below /tmp), the environment and the arguments (after the command's
 * first word) that have the runtime read it, and whether a job's arguments
 * may follow the command (they can be handed to it). */
struct sp_language_prepare {
	char *loader;
	const char *path;
	const char **env;
	const char **args;
	bool takes_arguments;
};

struct sp_language {
	json_t *doc; /* the file; every string below points into it */
	const char *name;
	const char *version;
	const char *image;
	const char *source; /* file name in /box, e.g. main.py */
	enum sp_entry_rule entry;
	const char *policy;   /* seccomp policy name, e.g. default */
	const char **aliases; /* NULL-terminated */
	const char **compile; /* argv, NULL-terminated; NULL when not compiled;
			       * may hold {source} and {main} (entry.h) */
	const char **run;     /* argv, NULL-terminated; the same */
	const char **env;     /* "KEY=VALUE", NULL-terminated */
	/* "prepare" and "prepare_compile": its run's and its compile's
	 * runtime started before the job (loader NULL: never). */
	struct sp_language_prepare prepare, prepare_compile;
	struct sp_limits limits;
	struct sp_limits compile_limits;
	/* As Piston's API names it ("piston": {"language", "runtime"}): its
	 * language name (NULL: NAME) and the runtime that provides it (NULL:
	 * none). */
	const char *piston_language;
	const char *piston_runtime;
	/* As Judge0 CE's API knows it ("judge0": {"id", "name",
	 * "memory_limit"?}): its language id (0: none), the name it lists
	 * ("Python (3.11.2)"), and the default memory_limit (KB) of its
	 * submissions where Judge0's is too little for it (0: Judge0's). */
	int judge0_id;
	const char *judge0_name;
	unsigned judge0_memory_limit;
};

/* The limits of a step when neither a language nor a request sets them. */
extern const struct sp_limits sp_default_run_limits;
extern const struct sp_limits sp_default_compile_limits;

/* A language whose file was read but that cannot run here (its image is
 * not in the store, its policy does not load): listed as unavailable, and
 * refused with WHY. */
struct sp_absent_language {
	struct sp_language language;
	char why[256];
};

struct sp_language_set {
	struct sp_language *items;
	size_t count;
	struct sp_absent_language *absent; /* none but in a server's set */
	size_t absent_count;
};

/* Parse one language document; FILE names it in errors. */
int sp_language_parse(json_t *doc, const char *file, struct sp_language *lang,
		      struct sp_error *err);

/* Load every *.json of DIR. A bad file, or a name or alias used twice, is an
 * error naming the file. */
int sp_language_set_load(struct sp_language_set *set, const char *dir, struct sp_error *err);

/* By name or alias, or NULL. */
const struct sp_language *sp_language_find(const struct sp_language_set *set, const char *name);

/* Move LANG (read, then found unable to run) to SET's absent languages,
 * with WHY; LANG is left empty. */
int sp_language_set_absent(struct sp_language_set *set, struct sp_language *lang, const char *why,
			   struct sp_error *err);

/* An absent language by name or alias, or NULL. */
const struct sp_absent_language *sp_language_find_absent(const struct sp_language_set *set,
							 const char *name);

void sp_language_free(struct sp_language *lang);
void sp_language_set_free(struct sp_language_set *set);

#endif
