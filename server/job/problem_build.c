/* The builder every package format's reader shares: problem_build.h. */
#include "problem_build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/base/read_all.h"

/* ---- the builder ------------------------------------------------------------- */

int sp_build_fail(struct sp_problem_build *b, const char *fmt, ...)
{
	char text[SP_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return sp_error_set(b->err, EINVAL, "%s", text);
}

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct sp_build_entry *)a)->path,
		      ((const struct sp_build_entry *)b)->path);
}

void sp_build_sort(struct sp_problem_build *b)
{
	qsort(b->entries, b->entry_count, sizeof(*b->entries), compare_entries);
}

/* The entry of PATH in the package's list, or NULL. */
static const struct sp_build_entry *find_entry(const struct sp_problem_build *b, const char *path)
{
	struct sp_build_entry key = {.path = path};

	return bsearch(&key, b->entries, b->entry_count, sizeof(key), compare_entries);
}

/* PATH as the package's list holds it (a string that lives as long as the
 * list), or NULL when it is no file of the package. */
static const char *entry_path(const struct sp_problem_build *b, const char *path)
{
	const struct sp_build_entry *e = find_entry(b, path);

	return e != NULL ? e->path : NULL;
}

const struct sp_archive_file *sp_build_file(const struct sp_problem_build *b, const char *path)
{
	const struct sp_build_entry *e = find_entry(b, path);

	return e != NULL ? e->file : NULL;
}

/* The first entry whose path is PREFIX or comes after it. */
static size_t lower_bound(const struct sp_problem_build *b, const char *prefix)
{
	size_t lo = 0, hi = b->entry_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(b->entries[mid].path, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void sp_build_names_free(char **names)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DIR + "/" (or "" for the top) into BUF. */
static int dir_prefix(const char *dir, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", dir, dir[0] != '\0' ? "/" : "");

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

long sp_build_children(const struct sp_problem_build *b, const char *dir, char ***names)
{
	char prefix[SP_REQUEST_MAX_NAME + 2];
	size_t len, count = 0;
	char **out;

	*names = NULL;
	if (dir_prefix(dir, prefix, sizeof(prefix)) < 0)
		return 0;
	len = strlen(prefix);
	out = calloc(b->entry_count + 1, sizeof(*out));
	if (out == NULL)
		return -1;
	for (size_t i = lower_bound(b, prefix); i < b->entry_count; i++) {
		const char *rest = b->entries[i].path;
		size_t n;

		if (strncmp(rest, prefix, len) != 0)
			break;
		rest += len;
		n = strcspn(rest, "/");
		if (count > 0 && strncmp(out[count - 1], rest, n) == 0 && out[count - 1][n] == '\0')
			continue;
		out[count] = strndup(rest, n);
		if (out[count++] == NULL) {
			sp_build_names_free(out);
			return -1;
		}
	}
	qsort(out, count, sizeof(*out), compare_strings);
	*names = out;
	return (long)count;
}

bool sp_build_is_dir(const struct sp_problem_build *b, const char *dir, const char *name)
{
	char prefix[SP_REQUEST_MAX_NAME + 2], path[SP_REQUEST_MAX_NAME + 2];
	size_t at;

	if (dir_prefix(dir, prefix, sizeof(prefix)) < 0 ||
	    snprintf(path, sizeof(path), "%s%s/", prefix, name) >= (int)sizeof(path))
		return false;
	at = lower_bound(b, path);
	return at < b->entry_count && strncmp(b->entries[at].path, path, strlen(path)) == 0;
}

static char *copy_or_fail(struct sp_problem_build *b, const char *s)
{
	char *c = strdup(s);

	if (c == NULL)
		sp_error_set(b->err, ENOMEM, "problem");
	return c;
}

/* ITEM appended to GROUP's items. */
static int add_item(struct sp_problem_build *b, size_t group, bool is_group, size_t index)
{
	struct sp_problem_group *g = &b->package->problem.groups[group];
	struct sp_problem_item *items = realloc(g->items, (g->item_count + 1) * sizeof(*items));

	if (items == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	items[g->item_count++] = (struct sp_problem_item){is_group, index};
	g->items = items;
	return 0;
}

static int copy_flags(struct sp_problem_build *b, struct sp_problem_group *g,
		      const struct sp_problem_group *from)
{
	g->flags = calloc(from->flag_count + 1, sizeof(*g->flags));
	if (g->flags == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	for (size_t i = 0; i < from->flag_count; i++) {
		g->flags[i] = copy_or_fail(b, from->flags[i]);
		if (g->flags[i] == NULL)
			return -1;
		g->flag_count = i + 1;
	}
	return 0;
}

long sp_build_group(struct sp_problem_build *b, long parent, const char *name,
		    const struct sp_problem_group *settings)
{
	struct sp_problem *p = &b->package->problem;
	struct sp_problem_group *groups =
	    realloc(p->groups, (p->group_count + 1) * sizeof(*groups));
	struct sp_problem_group *g;
	size_t index = p->group_count;

	if (groups == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	p->groups = groups;
	g = &groups[index];
	*g = *settings;
	g->name = NULL;
	g->flags = NULL;
	g->flag_count = 0;
	g->items = NULL;
	g->item_count = 0;
	g->parent = parent;
	p->group_count++;
	if ((g->name = copy_or_fail(b, name)) == NULL || copy_flags(b, g, settings) < 0)
		return -1;
	if (parent >= 0 && add_item(b, (size_t)parent, true, index) < 0)
		return -1;
	return (long)index;
}

/* FILE's bytes (or none) appended to the data file: *OFFSET, *LENGTH. */
static int append_data(struct sp_problem_build *b, const struct sp_archive_file *file,
		       uint64_t *offset, uint64_t *length)
{
	struct sp_problem *p = &b->package->problem;

	*offset = p->data_bytes;
	*length = file != NULL ? file->length : 0;
	if (*length > 0 && sp_write_all(b->data_fd, file->data, file->length) < 0)
		return sp_error_set(b->err, errno ? errno : EIO, "write the problem's tests");
	p->data_bytes += *length;
	return 0;
}

int sp_build_test(struct sp_problem_build *b, size_t group, const char *name,
		  const struct sp_archive_file *input, const struct sp_archive_file *answer)
{
	struct sp_problem *p = &b->package->problem;
	struct sp_problem_test *tests, *t;

	if (p->test_count >= b->max_tests)
		return sp_build_fail(b, "the package has more than %zu tests", b->max_tests);
	tests = realloc(p->tests, (p->test_count + 1) * sizeof(*tests));
	if (tests == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	p->tests = tests;
	t = &tests[p->test_count];
	memset(t, 0, sizeof(*t));
	t->group = group;
	if ((t->name = copy_or_fail(b, name)) == NULL)
		return -1;
	p->test_count++;
	if (append_data(b, input, &t->input_offset, &t->input_length) < 0 ||
	    append_data(b, answer, &t->answer_offset, &t->answer_length) < 0)
		return -1;
	return add_item(b, group, false, p->test_count - 1);
}

int sp_build_add_flags(struct sp_problem_build *b, struct sp_problem_group *g, const char *words)
{
	const char *p = words;

	while (p != NULL && *p != '\0') {
		size_t skip = strspn(p, " \t\r\n\v\f"), n;
		char **flags;

		p += skip;
		n = strcspn(p, " \t\r\n\v\f");
		if (n == 0)
			break;
		if (g->flag_count >= SP_PROBLEM_MAX_FLAGS)
			return sp_build_fail(b, "%s: more than %d validator flags", g->name,
					     SP_PROBLEM_MAX_FLAGS);
		flags = realloc(g->flags, (g->flag_count + 2) * sizeof(*flags));
		if (flags == NULL)
			return sp_error_set(b->err, ENOMEM, "problem");
		g->flags = flags;
		g->flags[g->flag_count] = strndup(p, n);
		if (g->flags[g->flag_count] == NULL)
			return sp_error_set(b->err, ENOMEM, "problem");
		g->flags[++g->flag_count] = NULL;
		p += n;
	}
	return 0;
}

/* ---- programs ---------------------------------------------------------------- */

/* Extensions of a format's languages, and the served languages to run them,
 * preferred first. */
static const struct {
	const char *ext;
	const char *languages[3];
} extension_languages[] = {
    {"c", {"c"}},
    {"cpp", {"cpp"}},
    {"cc", {"cpp"}},
    {"cxx", {"cpp"}},
    {"c++", {"cpp"}},
    {"C", {"cpp"}},
    {"py", {"python", "pypy"}},
    {"java", {"java"}},
    {"kt", {"kotlin"}},
    {"rs", {"rust"}},
    {"go", {"go"}},
    {"js", {"javascript"}},
    {"ts", {"typescript"}},
    {"rb", {"ruby"}},
    {"hs", {"haskell"}},
    {"pas", {"pascal"}},
    {"cs", {"csharp"}},
    {"sh", {"bash"}},
    {"ml", {"ocaml"}},
    {"pl", {"perl"}},
    {"php", {"php"}},
    {"lua", {"lua"}},
    {"scala", {"scala"}},
    {"d", {"d"}},
};

static const char *extension_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL && dot != name ? dot + 1 : NULL;
}

/* A served language whose source file has the extension EXT. */
static const struct sp_language *language_by_source(const struct sp_problem_build *b,
						    const char *ext)
{
	for (size_t i = 0; i < b->languages->count; i++) {
		const char *own = extension_of(b->languages->items[i].source);

		if (own != NULL && strcmp(own, ext) == 0)
			return &b->languages->items[i];
	}
	return NULL;
}

const struct sp_language *sp_build_language_of(const struct sp_problem_build *b, const char *name)
{
	const char *ext = extension_of(name);

	if (ext == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(extension_languages) / sizeof(extension_languages[0]); i++) {
		if (strcmp(extension_languages[i].ext, ext) != 0)
			continue;
		for (size_t k = 0; k < 3 && extension_languages[i].languages[k] != NULL; k++) {
			const struct sp_language *l =
			    sp_language_find(b->languages, extension_languages[i].languages[k]);

			if (l != NULL)
				return l;
		}
	}
	return language_by_source(b, ext);
}

bool sp_build_is_header(const char *name)
{
	const char *ext = extension_of(name);

	return ext != NULL && (strcmp(ext, "h") == 0 || strcmp(ext, "hpp") == 0 ||
			       strcmp(ext, "hh") == 0 || strcmp(ext, "hxx") == 0);
}

/* Whether DIR's child NAME is a source file a served language runs: a
 * file (not a folder named like one), not a header. */
static bool source_named(const struct sp_problem_build *b, const char *dir, const char *name)
{
	return !sp_build_is_header(name) && sp_build_language_of(b, name) != NULL &&
	       !sp_build_is_dir(b, dir, name);
}

/* Of a folder's files, the entry: the one source a served language runs; or
 * of several, the one named like the folder, or validate, validator,
 * checker, interactor or main. */
static long pick_entry(const struct sp_problem_build *b, const char *dir, char **names,
		       size_t count, const char *folder)
{
	static const char *const usual[] = {"validate",	  "validator", "checker", "check",
					    "interactor", "main",      NULL};
	long found = -1, sources = 0;

	for (size_t i = 0; i < count; i++) {
		if (!source_named(b, dir, names[i]))
			continue;
		sources++;
		found = (long)i;
	}
	if (sources <= 1)
		return found;
	for (size_t i = 0; i < count; i++) {
		size_t stem = strcspn(names[i], ".");

		if (!source_named(b, dir, names[i]))
			continue;
		if (strlen(folder) == stem && strncmp(names[i], folder, stem) == 0)
			return (long)i;
		for (size_t k = 0; usual[k] != NULL; k++)
			if (strlen(usual[k]) == stem && strncmp(names[i], usual[k], stem) == 0)
				return (long)i;
	}
	return -2;
}

static int add_source(struct sp_problem_build *b, struct sp_package_program *sources,
		      const char *name, const struct sp_archive_file *file)
{
	struct sp_package_source *s =
	    realloc(sources->sources, (sources->count + 1) * sizeof(*sources->sources));

	if (s == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	sources->sources = s;
	s[sources->count++] = (struct sp_package_source){name, file};
	return 0;
}

/* PROGRAM's names of SOURCES, copied. */
static int name_program(struct sp_problem_build *b, const struct sp_language *language,
			struct sp_problem_program *program,
			const struct sp_package_program *sources)
{
	program->language = copy_or_fail(b, language->name);
	program->files = calloc(sources->count + 1, sizeof(*program->files));
	if (program->language == NULL || program->files == NULL)
		return sp_error_set(b->err, ENOMEM, "problem");
	for (size_t i = 0; i < sources->count; i++) {
		program->files[i] = copy_or_fail(b, sources->sources[i].name);
		if (program->files[i] == NULL)
			return -1;
		program->file_count = i + 1;
	}
	return 0;
}

/* The files of the folder PATH, the entry first, into SOURCES. */
static int folder_sources(struct sp_problem_build *b, const char *path, const char *what,
			  struct sp_package_program *sources, const char **entry)
{
	char **names = NULL;
	long count = sp_build_children(b, path, &names), pick;
	const char *folder = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int rc = 0;

	if (count < 0)
		return sp_error_set(b->err, ENOMEM, "problem");
	for (long i = 0; i < count; i++)
		if (strcmp(names[i], "build") == 0 || strcmp(names[i], "run") == 0)
			rc = sp_build_fail(b, "%s: build and run scripts are not supported", path);
	pick = rc == 0 ? pick_entry(b, path, names, (size_t)count, folder) : -3;
	if (pick == -1)
		rc = sp_build_fail(b, "%s: no source file of a language this server runs", path);
	else if (pick == -2)
		rc = sp_build_fail(b, "%s: several source files, and none tells which is the %s",
				   path, what);
	for (long k = -1; rc == 0 && k < count; k++) {
		char full[SP_REQUEST_MAX_NAME + 2];
		long i = k < 0 ? pick : k;

		if (k == pick || (k >= 0 && sp_build_is_dir(b, path, names[i])))
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		for (size_t e = 0; e < b->entry_count; e++) {
			if (strcmp(b->entries[e].path, full) != 0)
				continue;
			rc = add_source(b, sources, b->entries[e].path + strlen(path) + 1,
					b->entries[e].file);
			if (k < 0)
				*entry = b->entries[e].path + strlen(path) + 1;
		}
	}
	sp_build_names_free(names);
	return rc;
}

int sp_build_program(struct sp_problem_build *b, const char *path, const char *what,
		     const char *const *extra, struct sp_problem_program *program,
		     struct sp_package_program *sources)
{
	const char *stored = entry_path(b, path); /* PATH as the package's list has it */
	const struct sp_language *language;
	const char *entry = NULL;

	if (stored != NULL) {
		/* its name kept from the package's list, which outlives PATH */
		entry = strrchr(stored, '/') ? strrchr(stored, '/') + 1 : stored;
		if (add_source(b, sources, entry, sp_build_file(b, path)) < 0)
			return -1;
	} else if (folder_sources(b, path, what, sources, &entry) < 0) {
		return -1;
	}
	if (entry == NULL)
		return sp_build_fail(b, "%s: no source file of a language this server runs", path);
	language = sp_build_language_of(b, entry);
	if (language == NULL)
		return sp_build_fail(b, "%s: no language this server runs takes %s", path, entry);
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		if (add_source(b, sources, extra[i], sp_build_file(b, extra[i])) < 0)
			return -1;
	return name_program(b, language, program, sources);
}
