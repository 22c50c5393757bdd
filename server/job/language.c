#include "language.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits_json.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/json_fd.h"
#include "sandbox/box_path.h"

const struct sp_limits sp_default_run_limits = {
    .cpu_ms = 2000,
    .wall_ms = 5000,
    .memory_kb = 256 * 1024,
    .processes = 64,
    .output_kb = 1024,
    .file_kb = 10 * 1024,
    .open_files = 256,
    .stack_kb = 8 * 1024,
    .tmpfs_kb = 64 * 1024,
};

const struct sp_limits sp_default_compile_limits = {
    .cpu_ms = 10000,
    .wall_ms = 20000,
    .memory_kb = 512 * 1024,
    .processes = 64,
    .output_kb = 1024,
    .file_kb = 64 * 1024,
    .open_files = 256,
    .stack_kb = 8 * 1024,
    .tmpfs_kb = 64 * 1024,
};

static bool name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("+#._-", c)))
			return false;
	}
	return true;
}

static const char *get_string(json_t *doc, const char *key, bool required, const char *file,
			      struct sp_error *err)
{
	json_t *v = json_object_get(doc, key);

	if (v == NULL && !required)
		return NULL;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		sp_error_set(err, EINVAL, "%s: \"%s\" must be a non-empty string", file, key);
		return NULL;
	}
	return json_string_value(v);
}

/* An array of strings as a NULL-terminated vector pointing into DOC. */
static const char **get_argv(json_t *doc, const char *key, const char *file, struct sp_error *err)
{
	json_t *v = json_object_get(doc, key);
	const char **argv;
	size_t i;
	json_t *item;

	if (!json_is_array(v) || json_array_size(v) == 0) {
		sp_error_set(err, EINVAL, "%s: \"%s\" must be a non-empty array of strings", file,
			     key);
		return NULL;
	}
	argv = calloc(json_array_size(v) + 1, sizeof(*argv));
	if (argv == NULL) {
		sp_error_set(err, ENOMEM, "%s", file);
		return NULL;
	}
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item)) {
			free(argv);
			sp_error_set(err, EINVAL, "%s: \"%s\"[%zu] must be a string", file, key, i);
			return NULL;
		}
		argv[i] = json_string_value(item);
	}
	return argv;
}

/* A list of no strings (NULL when out of memory). */
static const char **empty_list(const char *file, struct sp_error *err)
{
	const char **none = calloc(1, sizeof(*none));

	if (none == NULL)
		sp_error_set(err, ENOMEM, "%s", file);
	return none;
}

/* KEY's strings as get_argv gives them, an empty list when DOC has no KEY. */
static const char **get_optional_argv(json_t *doc, const char *key, const char *file,
				      struct sp_error *err)
{
	if (json_object_get(doc, key) != NULL)
		return get_argv(doc, key, file, err);
	return empty_list(file, err);
}

/* OBJ's {"KEY": "VALUE"} under "env" as "KEY=VALUE" strings; they are kept
 * in DOC under STORE so that they live as long as the language. */
static const char **get_env_of(json_t *doc, json_t *obj, const char *store, const char *file,
			       struct sp_error *err)
{
	json_t *env = json_object_get(obj, "env");
	json_t *pairs = json_array();
	const char *key;
	json_t *value;

	if (env != NULL && !json_is_object(env)) {
		json_decref(pairs);
		sp_error_set(err, EINVAL, "%s: \"env\" must be an object of strings", file);
		return NULL;
	}
	json_object_foreach(env, key, value)
	{
		char *pair;

		if (!json_is_string(value) || strchr(key, '=') != NULL || key[0] == '\0') {
			json_decref(pairs);
			sp_error_set(err, EINVAL, "%s: env.%s must be a string", file, key);
			return NULL;
		}
		if (asprintf(&pair, "%s=%s", key, json_string_value(value)) < 0) {
			json_decref(pairs);
			sp_error_set(err, ENOMEM, "%s", file);
			return NULL;
		}
		json_array_append_new(pairs, json_string(pair));
		free(pair);
	}
	json_object_set_new(doc, store, pairs);
	if (json_array_size(pairs) == 0)
		return empty_list(file, err);
	return get_argv(doc, store, file, err);
}

static const char **get_env(json_t *doc, const char *file, struct sp_error *err)
{
	return get_env_of(doc, doc, "env_pairs_", file, err);
}

/* Whether PATH is a file below /tmp: what follows "/tmp/" a path that
 * /box would take, of at most four parts, the whole at most 200 bytes. */
static bool loader_path_valid(const char *path)
{
	const char *below = path + strlen("/tmp/");
	unsigned parts = 1;

	if (strncmp(path, "/tmp/", 5) != 0 || strlen(path) > 200 || !sp_box_path_valid(below))
		return false;
	for (const char *c = below; *c != '\0'; c++)
		parts += *c == '/';
	return parts <= 4;
}

/* KEY: {"loader", "path", "env"?, "args"?, "arguments"?} into OUT: a runtime
 * started before the job. The loader is a file beside the language file. */
static int parse_prepare(json_t *doc, const char *key, const char *file,
			 struct sp_language_prepare *out, struct sp_error *err)
{
	json_t *prepare = json_object_get(doc, key), *arguments;
	const char *loader, *slash = strrchr(file, '/');
	char store[64];

	if (prepare == NULL || json_is_null(prepare))
		return 0;
	if (!json_is_object(prepare))
		return sp_error_set(err, EINVAL, "%s: \"%s\" must be an object", file, key);
	loader = get_string(prepare, "loader", true, file, err);
	out->path = get_string(prepare, "path", true, file, err);
	if (loader == NULL || out->path == NULL)
		return sp_error_wrap(err, "%s", key);
	if (loader[0] == '/' || strstr(loader, "..") != NULL)
		return sp_error_set(err, EINVAL, "%s: %s.loader must be a path beside it", file,
				    key);
	if (!loader_path_valid(out->path))
		return sp_error_set(err, EINVAL, "%s: %s.path must be a file below /tmp", file,
				    key);
	arguments = json_object_get(prepare, "arguments");
	if (arguments != NULL && !json_is_boolean(arguments))
		return sp_error_set(err, EINVAL, "%s: %s.arguments must be true or false", file,
				    key);
	out->takes_arguments = arguments == NULL || json_is_true(arguments);
	if (asprintf(&out->loader, "%.*s%s", slash ? (int)(slash - file + 1) : 0, file, loader) < 0)
		return sp_error_set(err, ENOMEM, "%s", file);
	snprintf(store, sizeof(store), "%s_env_pairs_", key);
	out->env = get_env_of(doc, prepare, store, file, err);
	if (out->env == NULL)
		return -1;
	out->args = get_optional_argv(prepare, "args", file, err);
	return out->args == NULL ? -1 : 0;
}

static void prepare_free(struct sp_language_prepare *p)
{
	free(p->loader);
	free(p->env);
	free(p->args);
}

static int parse_aliases(json_t *doc, const char *file, struct sp_language *lang,
			 struct sp_error *err)
{
	lang->aliases = get_optional_argv(doc, "aliases", file, err);
	if (lang->aliases == NULL)
		return -1;
	for (size_t i = 0; lang->aliases[i] != NULL; i++) {
		if (!name_valid(lang->aliases[i]))
			return sp_error_set(err, EINVAL, "%s: alias \"%s\" is not a valid name",
					    file, lang->aliases[i]);
	}
	return 0;
}

static int parse_commands(json_t *doc, const char *file, struct sp_language *lang,
			  struct sp_error *err)
{
	json_t *compile = json_object_get(doc, "compile");

	if (compile != NULL && !json_is_null(compile)) {
		lang->compile = get_argv(doc, "compile", file, err);
		if (lang->compile == NULL)
			return -1;
	}
	lang->run = get_argv(doc, "run", file, err);
	return lang->run == NULL ? -1 : 0;
}

/* "piston": {"language"?, "runtime"?}, how Piston's API names it. */
static int parse_piston(json_t *doc, const char *file, struct sp_language *lang,
			struct sp_error *err)
{
	json_t *piston = json_object_get(doc, "piston");

	if (piston == NULL)
		return 0;
	if (!json_is_object(piston))
		return sp_error_set(err, EINVAL, "%s: \"piston\" must be an object", file);
	lang->piston_language = get_string(piston, "language", false, file, err);
	if (lang->piston_language == NULL && json_object_get(piston, "language") != NULL)
		return -1;
	lang->piston_runtime = get_string(piston, "runtime", false, file, err);
	if (lang->piston_runtime == NULL && json_object_get(piston, "runtime") != NULL)
		return -1;
	return 0;
}

/* "judge0": {"id": 1 to 100000, "name", "memory_limit"?: 2048 to 512000},
 * how Judge0's API knows it. */
static int parse_judge0(json_t *doc, const char *file, struct sp_language *lang,
			struct sp_error *err)
{
	json_t *judge0 = json_object_get(doc, "judge0"), *id, *memory;

	if (judge0 == NULL)
		return 0;
	id = json_object_get(judge0, "id");
	memory = json_object_get(judge0, "memory_limit");
	if (!json_is_object(judge0) || !json_is_integer(id) || json_integer_value(id) < 1 ||
	    json_integer_value(id) > 100000 ||
	    (memory != NULL && (!json_is_integer(memory) || json_integer_value(memory) < 2048 ||
				json_integer_value(memory) > 512000)))
		return sp_error_set(err, EINVAL,
				    "%s: \"judge0\" must be {\"id\": 1 to 100000, \"name\", "
				    "\"memory_limit\"?: 2048 to 512000}",
				    file);
	lang->judge0_memory_limit = (unsigned)json_integer_value(memory);
	lang->judge0_id = (int)json_integer_value(id);
	lang->judge0_name = get_string(judge0, "name", true, file, err);
	return lang->judge0_name == NULL ? -1 : 0;
}

static int parse_limits(json_t *doc, const char *file, struct sp_language *lang,
			struct sp_error *err)
{
	json_t *limits = json_object_get(doc, "limits");
	json_t *compile = json_object_get(doc, "compile_limits");

	lang->limits = sp_default_run_limits;
	lang->compile_limits = sp_default_compile_limits;
	if (limits != NULL && sp_limits_from_json(limits, "limits", &lang->limits, err) < 0)
		return sp_error_wrap(err, "%s", file);
	if (compile != NULL &&
	    sp_limits_from_json(compile, "compile_limits", &lang->compile_limits, err) < 0)
		return sp_error_wrap(err, "%s", file);
	return 0;
}

static int parse_entry(json_t *doc, const char *file, struct sp_language *lang,
		       struct sp_error *err)
{
	const char *entry = get_string(doc, "entry", false, file, err);

	if (entry == NULL && json_object_get(doc, "entry") != NULL)
		return -1;
	if (entry == NULL || strcmp(entry, "file") == 0)
		lang->entry = SP_ENTRY_FILE;
	else if (strcmp(entry, "java_class") == 0)
		lang->entry = SP_ENTRY_JAVA_CLASS;
	else
		return sp_error_set(err, EINVAL, "%s: \"entry\" must be \"file\" or \"java_class\"",
				    file);
	return 0;
}

int sp_language_parse(json_t *doc, const char *file, struct sp_language *lang, struct sp_error *err)
{
	memset(lang, 0, sizeof(*lang));
	if (!json_is_object(doc))
		return sp_error_set(err, EINVAL, "%s: a language is a JSON object", file);
	lang->doc = json_incref(doc);
	lang->name = get_string(doc, "name", true, file, err);
	if (lang->name == NULL)
		return -1;
	if (!name_valid(lang->name))
		return sp_error_set(err, EINVAL, "%s: \"%s\" is not a valid language name", file,
				    lang->name);
	lang->version = get_string(doc, "version", false, file, err);
	lang->image = get_string(doc, "image", true, file, err);
	lang->source = get_string(doc, "source", true, file, err);
	if (lang->image == NULL || lang->source == NULL)
		return -1;
	if (!sp_box_name_valid(lang->source))
		return sp_error_set(err, EINVAL, "%s: \"source\" must be a plain file name", file);
	if (parse_entry(doc, file, lang, err) < 0)
		return -1;
	lang->policy =
	    json_object_get(doc, "policy") ? get_string(doc, "policy", true, file, err) : "default";
	if (lang->policy == NULL || !name_valid(lang->policy))
		return sp_error_set(err, EINVAL, "%s: \"policy\" must be a policy name", file);
	if (parse_aliases(doc, file, lang, err) < 0 || parse_commands(doc, file, lang, err) < 0 ||
	    parse_piston(doc, file, lang, err) < 0 || parse_judge0(doc, file, lang, err) < 0)
		return -1;
	lang->env = get_env(doc, file, err);
	if (lang->env == NULL || parse_prepare(doc, "prepare", file, &lang->prepare, err) < 0 ||
	    parse_prepare(doc, "prepare_compile", file, &lang->prepare_compile, err) < 0)
		return -1;
	if (lang->prepare_compile.loader != NULL && lang->compile == NULL)
		return sp_error_set(err, EINVAL, "%s: prepare_compile without a compile", file);
	return parse_limits(doc, file, lang, err);
}

void sp_language_free(struct sp_language *lang)
{
	free(lang->aliases);
	free(lang->compile);
	free(lang->run);
	free(lang->env);
	prepare_free(&lang->prepare);
	prepare_free(&lang->prepare_compile);
	json_decref(lang->doc);
	memset(lang, 0, sizeof(*lang));
}

static bool taken(const struct sp_language_set *set, const char *name)
{
	return sp_language_find(set, name) != NULL;
}

static int add_language(struct sp_language_set *set, struct sp_language *lang, const char *file,
			struct sp_error *err)
{
	struct sp_language *grown;

	if (taken(set, lang->name))
		return sp_error_set(err, EEXIST, "%s: language \"%s\" is defined twice", file,
				    lang->name);
	for (size_t i = 0; lang->aliases[i] != NULL; i++) {
		if (taken(set, lang->aliases[i]) || strcmp(lang->aliases[i], lang->name) == 0)
			return sp_error_set(err, EEXIST, "%s: alias \"%s\" is taken", file,
					    lang->aliases[i]);
	}
	grown = realloc(set->items, (set->count + 1) * sizeof(*grown));
	if (grown == NULL)
		return sp_error_set(err, ENOMEM, "%s", file);
	set->items = grown;
	set->items[set->count++] = *lang;
	return 0;
}

static int load_file(struct sp_language_set *set, int dirfd, const char *dir, const char *name,
		     struct sp_error *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct sp_language lang;
	json_error_t jerr;
	json_t *doc;
	char file[1024];
	int rc;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	if (fd < 0)
		return sp_error_set(err, errno, "%s", file);
	doc = sp_json_load_fd(fd, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return sp_error_set(err, EINVAL, "%s: line %d: %s", file, jerr.line, jerr.text);
	rc = sp_language_parse(doc, file, &lang, err);
	json_decref(doc);
	if (rc == 0)
		rc = add_language(set, &lang, file, err);
	if (rc < 0)
		sp_language_free(&lang);
	return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_json(const struct dirent *e)
{
	size_t len = strlen(e->d_name);

	return e->d_name[0] != '.' && len > 5 && strcmp(e->d_name + len - 5, ".json") == 0;
}

int sp_language_set_load(struct sp_language_set *set, const char *dir, struct sp_error *err)
{
	cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent **names = NULL;
	int n, rc = 0;

	memset(set, 0, sizeof(*set));
	if (dirfd < 0)
		return sp_error_set(err, errno, "languages %s", dir);
	n = scandir(dir, &names, is_json, by_name);
	if (n < 0)
		return sp_error_set(err, errno, "languages %s", dir);
	for (int i = 0; i < n; i++) {
		if (rc == 0)
			rc = load_file(set, dirfd, dir, names[i]->d_name, err);
		free(names[i]);
	}
	free(names);
	if (rc == 0 && set->count == 0)
		rc = sp_error_set(err, ENOENT, "no language in %s", dir);
	if (rc < 0)
		sp_language_set_free(set);
	return rc;
}

static bool named(const struct sp_language *lang, const char *name)
{
	if (strcmp(lang->name, name) == 0)
		return true;
	for (size_t j = 0; lang->aliases[j] != NULL; j++) {
		if (strcmp(lang->aliases[j], name) == 0)
			return true;
	}
	return false;
}

const struct sp_language *sp_language_find(const struct sp_language_set *set, const char *name)
{
	for (size_t i = 0; i < set->count; i++) {
		if (named(&set->items[i], name))
			return &set->items[i];
	}
	return NULL;
}

int sp_language_set_absent(struct sp_language_set *set, struct sp_language *lang, const char *why,
			   struct sp_error *err)
{
	struct sp_absent_language *grown;

	grown = realloc(set->absent, (set->absent_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		sp_language_free(lang);
		return sp_error_set(err, ENOMEM, "languages");
	}
	set->absent = grown;
	grown += set->absent_count++;
	grown->language = *lang;
	snprintf(grown->why, sizeof(grown->why), "%s", why);
	memset(lang, 0, sizeof(*lang));
	return 0;
}

const struct sp_absent_language *sp_language_find_absent(const struct sp_language_set *set,
							 const char *name)
{
	for (size_t i = 0; i < set->absent_count; i++) {
		if (named(&set->absent[i].language, name))
			return &set->absent[i];
	}
	return NULL;
}

void sp_language_set_free(struct sp_language_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		sp_language_free(&set->items[i]);
	for (size_t i = 0; i < set->absent_count; i++)
		sp_language_free(&set->absent[i].language);
	free(set->items);
	free(set->absent);
	memset(set, 0, sizeof(*set));
}
