#include "judge0.h"

#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
    NULL,
    "In Queue",
    "Processing",
    "Accepted",
    "Wrong Answer",
    "Time Limit Exceeded",
    "Compilation Error",
    "Runtime Error (SIGSEGV)",
    "Runtime Error (SIGXFSZ)",
    "Runtime Error (SIGFPE)",
    "Runtime Error (SIGABRT)",
    "Runtime Error (NZEC)",
    "Runtime Error (Other)",
    "Internal Error",
    "Exec Format Error",
};

#define STATUS_COUNT ((int)(sizeof(status_names) / sizeof(status_names[0])))

const char *sp_judge0_status_name(int id)
{
	return id >= 1 && id < STATUS_COUNT ? status_names[id] : NULL;
}

json_t *sp_judge0_statuses(void)
{
	json_t *list = json_array();

	for (int id = 1; list != NULL && id < STATUS_COUNT; id++)
		json_array_append_new(
		    list, json_pack("{s:i, s:s}", "id", id, "description", status_names[id]));
	return list;
}

/* Ruby's rstrip: whitespace and NUL. */
static bool strippable(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
	       c == '\0';
}

/* TEXT as Judge0 compares it, into OUT (LEN bytes at most): each line
 * stripped on the right, then the whole. Returns its length. */
static size_t normalized(const char *text, size_t len, char *out)
{
	size_t n = 0, start = 0;

	while (start <= len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len, line = end;

		while (line > start && strippable(text[line - 1]))
			line--;
		memcpy(out + n, text + start, line - start);
		n += line - start;
		if (nl == NULL)
			break;
		out[n++] = '\n';
		start = end + 1;
	}
	while (n > 0 && strippable(out[n - 1]))
		n--;
	return n;
}

bool sp_judge0_same_output(const char *a, size_t a_len, const char *b, size_t b_len)
{
	char *x = malloc(a_len + 1), *y = malloc(b_len + 1);
	bool same = false;
	size_t nx, ny;

	if (x != NULL && y != NULL) {
		nx = normalized(a ? a : "", a ? a_len : 0, x);
		ny = normalized(b ? b : "", b ? b_len : 0, y);
		same = nx == ny && memcmp(x, y, nx) == 0;
	}
	free(x);
	free(y);
	return same;
}

int sp_judge0_status_of(const json_t *run, const char *stdout_text, size_t stdout_len,
			const char *expected, size_t expected_len)
{
	const char *status = json_string_value(json_object_get(run, "status"));
	json_int_t signal = json_integer_value(json_object_get(run, "signal"));

	if (status == NULL || strcmp(status, "internal_error") == 0 ||
	    strcmp(status, "cancelled") == 0)
		return 13;
	if (strcmp(status, "time_limit") == 0)
		return 5;
	if (strcmp(status, "output_limit") == 0)
		return 8;
	if (strcmp(status, "memory_limit") == 0 || strcmp(status, "syscall_blocked") == 0)
		return 12;
	if (signal > 0)
		return signal == 11   ? 7
		       : signal == 25 ? 8
		       : signal == 8  ? 9
		       : signal == 6  ? 10
				      : 12;
	if (strcmp(status, "ok") != 0)
		return 11;
	if (expected == NULL ||
	    sp_judge0_same_output(stdout_text, stdout_len, expected, expected_len))
		return 3;
	return 4;
}

/* One word of TEXT from *AT (blanks before it skipped) into WORD (as
 * long as TEXT at least); false when none is left. */
static bool next_word(const char *text, size_t *at, char *word)
{
	const char *p = text + *at;
	size_t n = 0;
	char quote = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (strchr("$&;<>|`", *p) != NULL)
			continue;
		if (quote == '\'') {
			if (*p == '\'')
				quote = 0;
			else
				word[n++] = *p;
		} else if (quote == '"') {
			if (*p == '"')
				quote = 0;
			else if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				word[n++] = *++p;
			else
				word[n++] = *p;
		} else if (*p == ' ' || *p == '\t' || *p == '\n') {
			break;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '\\' && p[1] != '\0') {
			word[n++] = *++p;
		} else {
			word[n++] = *p;
		}
	}
	word[n] = '\0';
	*at = (size_t)(p - text);
	return true;
}

json_t *sp_judge0_arguments(const char *text)
{
	char *word = malloc(strlen(text) + 1);
	json_t *words = json_array();
	size_t at = 0;

	while (word != NULL && words != NULL && next_word(text, &at, word))
		json_array_append_new(words, json_string(word));
	if (word == NULL) {
		json_decref(words);
		words = NULL;
	}
	free(word);
	return words;
}

json_t *sp_judge0_about(void)
{
	return json_pack("{s:s, s:n, s:n, s:s}", "version", SP_JUDGE0_VERSION, "homepage",
			 "source_code", "maintainer", "sandpool");
}

const struct sp_language *sp_judge0_find(const struct sp_language_set *languages, long long id)
{
	for (size_t i = 0; i < languages->count; i++)
		if (languages->items[i].judge0_id != 0 && languages->items[i].judge0_id == id)
			return &languages->items[i];
	return NULL;
}

const struct sp_language *sp_judge0_find_archived(const struct sp_language_set *languages,
						  long long id)
{
	for (size_t i = 0; i < languages->absent_count; i++) {
		const struct sp_language *lang = &languages->absent[i].language;

		if (lang->judge0_id != 0 && lang->judge0_id == id)
			return lang;
	}
	return NULL;
}

/* One entry of Judge0's list: a language, and whether it is archived (its
 * image is missing here). */
struct list_item {
	const struct sp_language *language;
	bool archived;
};

static int by_name(const void *a, const void *b)
{
	const struct list_item *x = a;
	const struct list_item *y = b;

	return strcmp(x->language->judge0_name, y->language->judge0_name);
}

static json_t *list_entry(const struct list_item *item, bool all)
{
	json_t *entry = json_pack("{s:i, s:s}", "id", item->language->judge0_id, "name",
				  item->language->judge0_name);

	if (entry != NULL && all)
		json_object_set_new(entry, "is_archived", json_boolean(item->archived));
	return entry;
}

json_t *sp_judge0_languages(const struct sp_language_set *languages, bool all)
{
	size_t total = languages->count + (all ? languages->absent_count : 0);
	struct list_item *items = calloc(total + 1, sizeof(*items));
	json_t *list = json_array();
	size_t n = 0;

	for (size_t i = 0; items != NULL && i < total; i++) {
		bool archived = i >= languages->count;
		const struct sp_language *lang =
		    archived ? &languages->absent[i - languages->count].language
			     : &languages->items[i];

		if (lang->judge0_id != 0)
			items[n++] = (struct list_item){lang, archived};
	}
	if (items == NULL || list == NULL) {
		free(items);
		json_decref(list);
		return NULL;
	}
	qsort(items, n, sizeof(*items), by_name);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, list_entry(&items[i], all));
	free(items);
	return list;
}

/* ARGV as one command line, or null. */
static json_t *command_of(const char **argv)
{
	size_t length = 1;
	char *text;
	json_t *out;

	if (argv == NULL)
		return json_null();
	for (size_t i = 0; argv[i] != NULL; i++)
		length += strlen(argv[i]) + 1;
	if ((text = calloc(1, length)) == NULL)
		return NULL;
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			strcat(text, " ");
		strcat(text, argv[i]);
	}
	out = json_string(text);
	free(text);
	return out;
}

json_t *sp_judge0_language(const struct sp_language_set *languages, long long id)
{
	const struct sp_language *lang = sp_judge0_find(languages, id);
	bool archived = lang == NULL;

	if (lang == NULL && (lang = sp_judge0_find_archived(languages, id)) == NULL)
		return NULL;
	return json_pack("{s:i, s:s, s:b, s:s, s:o, s:o}", "id", lang->judge0_id, "name",
			 lang->judge0_name, "is_archived", archived, "source_file", lang->source,
			 "compile_cmd", command_of(lang->compile), "run_cmd",
			 command_of(lang->run));
}
