#include "entry.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "java_source.h"

static void file_entry(const char *source, struct sp_entry *entry)
{
	const char *dot = strrchr(source, '.');
	int stem = dot != NULL && dot != source ? (int)(dot - source) : (int)strlen(source);

	snprintf(entry->source, sizeof(entry->source), "%s", source);
	snprintf(entry->main, sizeof(entry->main), "%.*s", stem, source);
}

static void java_entry(const struct sp_language *lang, const char *text, size_t len,
		       struct sp_entry *entry)
{
	struct sp_java_source java;
	const char *run;

	sp_java_source_scan(text, len, &java);
	file_entry(lang->source, entry);
	if (java.public_type[0] != '\0')
		snprintf(entry->source, sizeof(entry->source), "%s.java", java.public_type);
	run = java.main_type[0]	    ? java.main_type
	      : java.public_type[0] ? java.public_type
	      : java.first_type[0]  ? java.first_type
				    : NULL;
	if (run != NULL) /* else the source name's stem */
		snprintf(entry->main, sizeof(entry->main), "%s%s%s", java.package,
			 java.package[0] ? "." : "", run);
}

void sp_entry_of(const struct sp_language *lang, const char *text, size_t len,
		 struct sp_entry *entry)
{
	if (lang->entry == SP_ENTRY_JAVA_CLASS)
		java_entry(lang, text, len, entry);
	else
		file_entry(lang->source, entry);
}

/* ARG with its placeholders replaced, in a string of its own. */
static char *expand(const char *arg, const struct sp_entry *entry)
{
	static const char *const names[] = {"{source}", "{main}"};
	const char *values[] = {entry->source, entry->main};
	size_t cap = strlen(arg) + 1, len = 0;
	char *out = malloc(cap);

	while (out != NULL && *arg != '\0') {
		const char *put = arg;
		size_t take = 1, skip = 1;

		for (size_t k = 0; k < 2; k++) {
			if (strncmp(arg, names[k], strlen(names[k])) == 0) {
				put = values[k];
				take = strlen(values[k]);
				skip = strlen(names[k]);
			}
		}
		if (len + take + 1 > cap) {
			char *grown = realloc(out, cap = len + take + strlen(arg) + 1);

			if (grown == NULL) {
				free(out);
				return NULL;
			}
			out = grown;
		}
		memcpy(out + len, put, take);
		len += take;
		arg += skip;
	}
	if (out != NULL)
		out[len] = '\0';
	return out;
}

/* ARGV expanded, with the N strings of EXTRA put in at AT (past the end:
 * last). */
static char **command_with(const char *const *argv, const struct sp_entry *entry,
			   const char *const *extra, size_t n, size_t at)
{
	size_t count = 0;
	char **out;

	while (argv[count] != NULL)
		count++;
	if (at > count)
		at = count;
	out = calloc(count + n + 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < count + n; i++) {
		if (i < at)
			out[i] = expand(argv[i], entry);
		else if (i < at + n)
			out[i] = strdup(extra[i - at]);
		else
			out[i] = expand(argv[i - n], entry);
		if (out[i] == NULL) {
			sp_argv_free(out);
			return NULL;
		}
	}
	return out;
}

char **sp_entry_command(const char *const *argv, const struct sp_entry *entry,
			const char *const *extra, size_t n)
{
	return command_with(argv, entry, extra, n, (size_t)-1);
}

char **sp_entry_compile_command(const char *const *argv, const struct sp_entry *entry,
				const char *const *extra, size_t n)
{
	size_t at = 0;

	while (argv[at] != NULL && strcmp(argv[at], "{source}") != 0 &&
	       strcmp(argv[at], entry->source) != 0)
		at++;
	return command_with(argv, entry, extra, n, at);
}

void sp_argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}
