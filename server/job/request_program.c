#include "request_program.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "entry.h"
#include "limits_json.h"
#include "request_parse.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/read_all.h"
#include "sandbox/box_path.h"
#include "utf8.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* How much of a string of the client a message quotes. */
#define QUOTE_MAX 64

int sp_parse_fail(struct parse *p, enum sp_request_error kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_request_failv(p->fail, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int sp_parse_bad_field(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_request_failv(p->fail, SP_REQ_BAD_FIELD, fmt, ap);
	va_end(ap);
	return -1;
}

int sp_parse_internal(struct parse *p, const char *what)
{
	return sp_parse_fail(p, SP_REQ_INTERNAL, "%s: %s", what, strerror(errno));
}

/* ---- JSON helpers -------------------------------------------------------- */

/* A string member of OBJ (FIELD names it in errors): *OUT stays NULL when it
 * is absent. Without ALLOW_NUL, a NUL byte in it is an error. */
int sp_parse_string(struct parse *p, json_t *obj, const char *key, const char *field,
		    bool allow_nul, const char **out, size_t *len)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return sp_parse_bad_field(p, "%s must be a string", field);
	if (!allow_nul && strlen(json_string_value(v)) != json_string_length(v))
		return sp_parse_bad_field(p, "%s must not contain a NUL byte", field);
	*out = json_string_value(v);
	if (len != NULL)
		*len = json_string_length(v);
	return 0;
}

/* "utf8" (the default) or "base64". */
static int get_encoding(struct parse *p, json_t *obj, const char *key, const char *field,
			bool *base64)
{
	const char *s;

	if (sp_parse_string(p, obj, key, field, false, &s, NULL) < 0)
		return -1;
	*base64 = s != NULL && strcmp(s, "base64") == 0;
	if (s != NULL && !*base64 && strcmp(s, "utf8") != 0)
		return sp_parse_bad_field(p, "%s must be \"utf8\" or \"base64\"", field);
	return 0;
}

/* ---- inputs: memfds, or files ------------------------------------------- */

/* Base64 is decoded this many characters at a time (a multiple of 4). */
#define BASE64_PIECE 65536

/* Decode base64 TEXT into FD, a piece at a time, so that the decoded bytes
 * are never all in memory. Returns 0, -1 for bad base64 (errno 0) or a
 * failed write (errno set). */
static int write_base64(int fd, const char *text, size_t len, uint64_t *bytes)
{
	size_t at = 0;

	do {
		size_t piece = len - at < BASE64_PIECE ? len - at : BASE64_PIECE;
		size_t n = 0;
		unsigned char *data;
		int rc;

		/* padding ends the text: none in a piece before the last */
		errno = 0;
		if (at + piece < len && memchr(text + at, '=', piece) != NULL)
			return -1;
		data = sp_base64_decode(text + at, piece, &n);
		if (data == NULL)
			return -1;
		rc = sp_write_all(fd, data, n);
		free(data);
		if (rc < 0)
			return -1;
		*bytes += n;
		at += piece;
	} while (at < len);
	return 0;
}

static int seal(int fd)
{
	if (fcntl(fd, F_ADD_SEALS, SEALS) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	return 0;
}

/* The same file as FD (unnamed, in the inputs directory), opened again to be
 * read only: what memfds have from their seals. */
static int reopen_read_only(int fd)
{
	char path[64];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		return -1;
	close(fd);
	return ro;
}

/* Where an input of up to MAX bytes goes: a memfd while the request keeps
 * less than SP_REQUEST_RAM_INPUTS in them, else an unnamed file in the
 * config's inputs_dir (when it has one). *IN_RAM says which. */
static int new_input(struct parse *p, uint64_t max, bool *in_ram)
{
	int fd = -1;

	*in_ram = max <= p->ram_left || p->config->inputs_dir[0] == '\0';
	if (!*in_ram)
		fd = open(p->config->inputs_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	/* a file system without unnamed files: memory after all */
	if (fd < 0 && !*in_ram)
		*in_ram = true;
	if (*in_ram)
		fd = memfd_create("sandpool-input", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd;
}

/* FD (taken), written, made read only: sealed, or opened again for
 * reading. Returns it, or -1. */
static int finish_input(struct parse *p, int fd, bool in_ram, uint64_t bytes)
{
	int ro;

	if (in_ram) {
		p->ram_left -= bytes < p->ram_left ? bytes : p->ram_left;
		p->req->ram_bytes += bytes;
		if (seal(fd) == 0)
			return fd;
		close(fd);
		return sp_parse_internal(p, "seal memfd");
	}
	ro = reopen_read_only(fd);
	if (ro >= 0)
		return ro;
	close(fd);
	return sp_parse_internal(p, "open an input again");
}

/* A read-only input holding DATA, decoded when BASE64. Returns the fd or -1. */
static int input_of(struct parse *p, const char *field, const char *data, size_t len, bool base64)
{
	bool in_ram;
	cleanup_close int fd = new_input(p, base64 ? len / 4 * 3 : len, &in_ram);
	uint64_t bytes = 0;

	if (fd < 0)
		return sp_parse_internal(p, "create an input");
	if (base64 && write_base64(fd, data, len, &bytes) < 0) {
		if (errno == 0)
			return sp_parse_bad_field(p, "%s is not valid base64", field);
		return sp_parse_internal(p, "write an input");
	}
	if (!base64) {
		if (sp_write_all(fd, data, len) < 0)
			return sp_parse_internal(p, "write an input");
		bytes = len;
	}
	*p->total += bytes;
	if (*p->total > p->config->max_body)
		return sp_parse_fail(p, SP_REQ_TOO_LARGE,
				     "files and stdin are larger than %llu bytes in all",
				     (unsigned long long)p->config->max_body);
	return finish_input(p, steal_fd(&fd), in_ram, bytes);
}

/* ---- language and version ------------------------------------------------ */

static bool version_matches(const char *have, const char *want)
{
	size_t n = strlen(want);

	if (n == 0 || strcmp(want, "*") == 0)
		return true;
	if (have == NULL || strncmp(have, want, n) != 0)
		return false;
	return have[n] == '\0' || strchr(".-+", have[n]) != NULL ||
	       strchr(".-+", want[n - 1]) != NULL;
}

int sp_parse_language(struct parse *p, json_t *doc, const struct sp_language_set *languages)
{
	const char *name, *version;
	size_t len, vlen;
	const struct sp_language *lang;
	const struct sp_absent_language *absent;

	if (sp_parse_string(p, doc, "language", "language", false, &name, &len) < 0 ||
	    sp_parse_string(p, doc, "version", "version", false, &version, &vlen) < 0)
		return -1;
	if (name == NULL)
		return sp_parse_bad_field(p, "language is required");
	lang = sp_language_find(languages, name);
	if (lang == NULL && (absent = sp_language_find_absent(languages, name)) != NULL)
		return sp_parse_fail(p, SP_REQ_LANGUAGE_UNAVAILABLE,
				     "%s is not available on this server: %s",
				     absent->language.name, absent->why);
	if (lang == NULL)
		return sp_parse_fail(p, SP_REQ_UNKNOWN_LANGUAGE, "unknown language \"%.*s\"",
				     (int)sp_utf8_prefix(name, len, QUOTE_MAX), name);
	if (version != NULL && !version_matches(lang->version, version))
		return sp_parse_fail(p, SP_REQ_UNKNOWN_LANGUAGE, "%s %.*s is not available (%s%s)",
				     lang->name, (int)sp_utf8_prefix(version, vlen, QUOTE_MAX),
				     version, lang->version ? lang->version : "no version is known",
				     lang->version ? " is" : "");
	p->req->language = lang;
	if (version != NULL && (p->req->version = strdup(version)) == NULL)
		return sp_parse_internal(p, "strdup");
	return 0;
}

/* ---- files --------------------------------------------------------------- */

/* Why NAME (LEN bytes) is not a file name, or NULL when it is one. */
const char *sp_request_name_problem(const char *name, size_t len)
{
	char part[256];
	size_t parts = 0;

	if (strlen(name) != len)
		return "must not contain a NUL byte";
	if (len == 0)
		return "must not be empty";
	if (len > SP_REQUEST_MAX_NAME)
		return "is longer than 1024 bytes";
	if (name[0] == '/')
		return "must be a relative path";
	for (const char *s = name;; s++) {
		size_t n = strcspn(s, "/");

		if (n == 0)
			return "has an empty component";
		if (++parts > SP_REQUEST_MAX_COMPONENTS)
			return "has more than 16 components";
		if (n > 255)
			return "has a component longer than 255 bytes";
		memcpy(part, s, n);
		part[n] = '\0';
		if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0)
			return "has a . or .. component";
		if (!sp_box_name_valid(part))
			return "has a control character";
		s += n;
		if (*s == '\0')
			return NULL;
	}
}

/* A is B, or a directory of B. */
static bool name_covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/* NAME against the names already taken. */
static int check_unique(struct parse *p, const char *field, const char *name)
{
	struct sp_request *req = p->req;

	for (size_t j = 0; j < req->file_count; j++) {
		const char *other = req->file_names[j];

		if (strcmp(other, name) == 0)
			return sp_parse_bad_field(p, "%s is the name of files[%zu] already", field,
						  j);
		if (name_covers(other, name) || name_covers(name, other))
			return sp_parse_bad_field(
			    p,
			    "%s and files[%zu].name would need a file and a directory "
			    "of the same name",
			    field, j);
	}
	return 0;
}

static int add_file(struct parse *p, const char *name, int fd, mode_t mode)
{
	struct sp_request *req = p->req;
	char *copy = strdup(name);

	if (copy == NULL) {
		close(fd);
		return sp_parse_internal(p, "strdup");
	}
	req->file_names[req->file_count] = copy;
	req->files[req->file_count] = (struct sp_job_file){.name = copy, .fd = fd, .mode = mode};
	req->file_count++;
	return 0;
}

static int alloc_files(struct parse *p, size_t n)
{
	p->req->files = calloc(n, sizeof(*p->req->files));
	p->req->file_names = calloc(n, sizeof(*p->req->file_names));
	if (p->req->files == NULL || p->req->file_names == NULL)
		return sp_parse_internal(p, "calloc");
	return 0;
}

static int file_name(struct parse *p, json_t *file, size_t i, const char **name)
{
	char field[48];
	const char *problem;
	size_t len;

	snprintf(field, sizeof(field), "files[%zu].name", i);
	if (sp_parse_string(p, file, "name", field, true, name, &len) < 0)
		return -1;
	if (*name == NULL && i > 0)
		return sp_parse_bad_field(p, "%s is required", field);
	if (*name == NULL)
		return 0; /* files[0]: named after its entry, once its content is known */
	problem = sp_request_name_problem(*name, len);
	if (problem != NULL)
		return sp_parse_bad_field(p, "%s %s", field, problem);
	return check_unique(p, field, *name);
}

static int file_mode(struct parse *p, json_t *file, size_t i, mode_t *mode)
{
	json_t *v = json_object_get(file, "executable");

	*mode = 0644;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return sp_parse_bad_field(p, "files[%zu].executable must be a boolean", i);
	if (json_is_true(v))
		*mode = 0755;
	return 0;
}

/* The program's entry, from its entry file's content in the memfd FD. */
static int find_entry(struct parse *p, int fd)
{
	const struct sp_language *lang = p->req->language;
	struct stat st;
	void *text;

	if (lang->entry == SP_ENTRY_FILE) {
		sp_entry_of(lang, "", 0, &p->req->entry);
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return sp_parse_internal(p, "fstat");
	if (st.st_size == 0) {
		sp_entry_of(lang, "", 0, &p->req->entry);
		return 0;
	}
	text = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (text == MAP_FAILED)
		return sp_parse_internal(p, "mmap");
	sp_entry_of(lang, text, (size_t)st.st_size, &p->req->entry);
	munmap(text, (size_t)st.st_size);
	return 0;
}

static int parse_file(struct parse *p, json_t *file, size_t i)
{
	char field[48];
	const char *name, *content;
	size_t len;
	bool base64;
	mode_t mode;
	int fd;

	if (!json_is_object(file))
		return sp_parse_bad_field(p, "files[%zu] must be an object", i);
	if (file_name(p, file, i, &name) < 0)
		return -1;
	snprintf(field, sizeof(field), "files[%zu].content", i);
	if (sp_parse_string(p, file, "content", field, true, &content, &len) < 0)
		return -1;
	if (content == NULL)
		return sp_parse_bad_field(p, "%s is required", field);
	snprintf(field, sizeof(field), "files[%zu].encoding", i);
	if (get_encoding(p, file, "encoding", field, &base64) < 0 ||
	    file_mode(p, file, i, &mode) < 0)
		return -1;
	snprintf(field, sizeof(field), "files[%zu].content", i);
	fd = input_of(p, field, content, len, base64);
	if (fd < 0)
		return -1;
	if (i == 0 && find_entry(p, fd) < 0) {
		close(fd);
		return -1;
	}
	return add_file(p, name ? name : p->req->entry.source, fd, mode);
}

/* files[0] again under its entry's name, as the first file, when no file
 * has that name. */
static int add_entry_copy(struct parse *p)
{
	struct sp_request *req = p->req;
	const char *source = req->entry.source;
	int fd;

	for (size_t i = 0; i < req->file_count; i++) {
		if (strcmp(req->file_names[i], source) == 0)
			return 0;
	}
	/* The source name is one plain component, unlike any directory here. */
	for (size_t i = 0; i < req->file_count; i++) {
		if (name_covers(source, req->file_names[i]))
			return sp_parse_bad_field(
			    p, "files[%zu].name needs a directory %s, the program's entry file", i,
			    source);
	}
	fd = fcntl(req->files[0].fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return sp_parse_internal(p, "dup");
	memmove(req->files + 1, req->files, req->file_count * sizeof(*req->files));
	memmove(req->file_names + 1, req->file_names, req->file_count * sizeof(*req->file_names));
	req->file_names[0] = strdup(source);
	req->files[0] =
	    (struct sp_job_file){.name = req->file_names[0], .fd = fd, .mode = req->files[1].mode};
	req->file_count++;
	if (req->file_names[0] == NULL)
		return sp_parse_internal(p, "strdup");
	return 0;
}

static int parse_files(struct parse *p, json_t *files)
{
	size_t n, i;
	json_t *file;

	if (!json_is_array(files))
		return sp_parse_bad_field(p, "files must be an array");
	n = json_array_size(files);
	if (n == 0)
		return sp_parse_bad_field(p, "files must not be empty");
	if (n > SP_REQUEST_MAX_FILES)
		return sp_parse_bad_field(p, "files must have at most %d entries",
					  SP_REQUEST_MAX_FILES);
	if (alloc_files(p, n + 1) < 0)
		return -1;
	json_array_foreach(files, i, file)
	{
		if (parse_file(p, file, i) < 0)
			return -1;
	}
	return add_entry_copy(p);
}

static int parse_code(struct parse *p, json_t *doc)
{
	const char *code;
	size_t len;
	int fd;

	if (sp_parse_string(p, doc, "code", "code", true, &code, &len) < 0 || alloc_files(p, 1) < 0)
		return -1;
	fd = input_of(p, "code", code, len, false);
	if (fd < 0)
		return -1;
	if (find_entry(p, fd) < 0) {
		close(fd);
		return -1;
	}
	return add_file(p, p->req->entry.source, fd, 0644);
}

static int parse_source(struct parse *p, json_t *doc)
{
	json_t *code = json_object_get(doc, "code");
	json_t *files = json_object_get(doc, "files");

	if (code != NULL && files != NULL)
		return sp_parse_bad_field(p, "give either code or files, not both");
	if (code == NULL && files == NULL)
		return sp_parse_bad_field(p, "code or files is required");
	return code != NULL ? parse_code(p, doc) : parse_files(p, files);
}

/* ---- stdin, args, userId ------------------------------------------------- */

int sp_parse_stdin(struct parse *p, json_t *doc)
{
	const char *text;
	size_t len;
	bool base64;

	if (sp_parse_string(p, doc, "stdin", "stdin", true, &text, &len) < 0 ||
	    get_encoding(p, doc, "stdin_encoding", "stdin_encoding", &base64) < 0)
		return -1;
	if (text == NULL)
		return 0;
	p->req->stdin_fd = input_of(p, "stdin", text, len, base64);
	return p->req->stdin_fd < 0 ? -1 : 0;
}

static int check_arg(struct parse *p, const char *key, json_t *arg, size_t i)
{
	if (!json_is_string(arg))
		return sp_parse_bad_field(p, "%s[%zu] must be a string", key, i);
	if (strlen(json_string_value(arg)) != json_string_length(arg))
		return sp_parse_bad_field(p, "%s[%zu] must not contain a NUL byte", key, i);
	if (json_string_length(arg) > SP_REQUEST_MAX_ARG)
		return sp_parse_bad_field(p, "%s[%zu] is longer than %d bytes", key, i,
					  SP_REQUEST_MAX_ARG);
	return 0;
}

/* KEY ("args", "compile_args"): an array of strings, each checked. */
static int parse_arg_list(struct parse *p, json_t *doc, const char *key)
{
	json_t *args = json_object_get(doc, key), *arg;
	size_t i;

	if (args != NULL && !json_is_array(args))
		return sp_parse_bad_field(p, "%s must be an array", key);
	if (json_array_size(args) > SP_REQUEST_MAX_ARGS)
		return sp_parse_bad_field(p, "%s must have at most %d entries", key,
					  SP_REQUEST_MAX_ARGS);
	json_array_foreach(args, i, arg)
	{
		if (check_arg(p, key, arg, i) < 0)
			return -1;
	}
	return 0;
}

static int parse_args(struct parse *p, json_t *doc)
{
	if (parse_arg_list(p, doc, "args") < 0 || parse_arg_list(p, doc, "compile_args") < 0)
		return -1;
	if (json_array_size(json_object_get(doc, "compile_args")) > 0 &&
	    p->req->language->compile == NULL)
		return sp_parse_bad_field(p, "compile_args: %s is not compiled",
					  p->req->language->name);
	return 0;
}

/* The compile and run commands of this program: the language's, for its
 * entry, with "args" (checked) after the run command and "compile_args"
 * after the compile command. */
static int make_commands(struct parse *p, json_t *doc)
{
	const struct sp_language *lang = p->req->language;
	json_t *args = json_object_get(doc, "args"), *arg;
	const char *extra[SP_REQUEST_MAX_ARGS];
	size_t i;

	json_array_foreach(args, i, arg) extra[i] = json_string_value(arg);
	p->req->run_args =
	    sp_entry_command(lang->run, &p->req->entry, extra, json_array_size(args));
	if (p->req->run_args == NULL)
		return sp_parse_internal(p, "run command");
	if (lang->compile == NULL)
		return 0;
	args = json_object_get(doc, "compile_args");
	json_array_foreach(args, i, arg) extra[i] = json_string_value(arg);
	p->req->compile_args =
	    sp_entry_compile_command(lang->compile, &p->req->entry, extra, json_array_size(args));
	return p->req->compile_args ? 0 : sp_parse_internal(p, "compile command");
}

int sp_parse_user(struct parse *p, json_t *doc)
{
	const char *user;
	size_t len;

	if (sp_parse_string(p, doc, "userId", "userId", false, &user, &len) < 0)
		return -1;
	if (user == NULL || len == 0)
		return 0;
	if (len > SP_REQUEST_MAX_USER_ID)
		return sp_parse_bad_field(p, "userId is longer than %d bytes",
					  SP_REQUEST_MAX_USER_ID);
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f)
			return sp_parse_bad_field(p, "userId must not contain control characters");
	}
	p->req->user_id = strdup(user);
	return p->req->user_id ? 0 : sp_parse_internal(p, "strdup");
}

/* ---- limits -------------------------------------------------------------- */

static const struct {
	const char *name;
	size_t offset;
} limit_fields[] = {
    {"cpu_ms", offsetof(struct sp_limits, cpu_ms)},
    {"wall_ms", offsetof(struct sp_limits, wall_ms)},
    {"memory_kb", offsetof(struct sp_limits, memory_kb)},
    {"processes", offsetof(struct sp_limits, processes)},
    {"output_kb", offsetof(struct sp_limits, output_kb)},
    {"file_kb", offsetof(struct sp_limits, file_kb)},
    {"open_files", offsetof(struct sp_limits, open_files)},
    {"stack_kb", offsetof(struct sp_limits, stack_kb)},
    {"tmpfs_kb", offsetof(struct sp_limits, tmpfs_kb)},
};

static uint64_t *limit_at(struct sp_limits *limits, size_t i)
{
	return (uint64_t *)(void *)((char *)limits + limit_fields[i].offset);
}

/* The values OBJ gives against the server's maximum (0: none). */
static int check_maximum(struct parse *p, json_t *obj, const char *where, struct sp_limits *limits)
{
	struct sp_limits max = p->config->max_limits;

	for (size_t i = 0; i < SP_ARRAY_SIZE(limit_fields); i++) {
		uint64_t *v = limit_at(limits, i), m = *limit_at(&max, i);

		if (json_object_get(obj, limit_fields[i].name) == NULL || m == 0 || *v <= m)
			continue;
		if (!p->config->clamp_limits)
			return sp_parse_bad_field(
			    p, "%s.%s: %llu is above the server's maximum %llu", where,
			    limit_fields[i].name, (unsigned long long)*v, (unsigned long long)m);
		*v = m;
	}
	return 0;
}

static int parse_limits(struct parse *p, json_t *doc, const char *key, const char *where,
			struct sp_limits *limits, const struct sp_limits *base)
{
	json_t *obj = json_object_get(doc, key);
	struct sp_error err = {0};

	*limits = *base;
	if (obj == NULL)
		return 0;
	if (sp_limits_from_json(obj, where, limits, &err) < 0)
		return sp_parse_bad_field(p, "%s", err.message);
	return check_maximum(p, obj, where, limits);
}

int sp_request_limits(json_t *holder, const char *key, const char *where,
		      const struct sp_limits *base, const struct sp_config *config,
		      struct sp_limits *limits, struct sp_request_failure *fail)
{
	struct parse p = {.config = config, .fail = fail};

	return parse_limits(&p, holder, key, where, limits, base);
}

/* ---- the request --------------------------------------------------------- */

/* A limit of output the server does not give (0: none) would let a job's
 * output take any memory: it gets the server's maximum, else the most a
 * limit may be. */
static void bound_output(const struct sp_config *config, struct sp_limits *limits)
{
	if (limits->output_kb == 0)
		limits->output_kb =
		    config->max_limits.output_kb ? config->max_limits.output_kb : SP_OUTPUT_KB_MAX;
}

/* What makes a program: args, limits and its files, for the language found. */
int sp_parse_program(struct parse *p, json_t *doc)
{
	const struct sp_language *lang = p->req->language;

	if (parse_args(p, doc) < 0 ||
	    parse_limits(p, doc, "limits", "limits", &p->req->limits, &lang->limits) < 0 ||
	    parse_limits(p, doc, "compile_limits", "compile_limits", &p->req->compile_limits,
			 &lang->compile_limits) < 0 ||
	    parse_source(p, doc) < 0)
		return -1;
	bound_output(p->config, &p->req->limits);
	bound_output(p->config, &p->req->compile_limits);
	return make_commands(p, doc);
}

/* Messages of a program's own fields get WHERE in front. */
static int program_failed(struct sp_request *req, const char *where,
			  struct sp_request_failure *fail)
{
	char message[sizeof(fail->message)];

	snprintf(message, sizeof(message), "%s", fail->message);
	sp_request_fail(fail, fail->kind, "%s: %s", where, message);
	sp_request_program_free(req);
	return -1;
}

int sp_request_parse_program(json_t *obj, const char *where,
			     const struct sp_language_set *languages,
			     const struct sp_config *config, uint64_t *total,
			     struct sp_request *req, struct sp_request_failure *fail)
{
	struct parse p = {.config = config,
			  .req = req,
			  .fail = fail,
			  .total = total,
			  .ram_left = SP_REQUEST_RAM_INPUTS};

	memset(req, 0, sizeof(*req));
	req->stdin_fd = -1;
	if (sp_parse_language(&p, obj, languages) < 0 || sp_parse_program(&p, obj) < 0)
		return program_failed(req, where, fail);
	return 0;
}

/* Bytes of ARGV and its strings. */
static uint64_t argv_bytes(char **argv)
{
	uint64_t n = 0;

	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		n += sizeof(char *) + strlen(argv[i]) + 1 + SP_REQUEST_BLOCK;
	return n;
}

uint64_t sp_request_program_memory(const struct sp_request *req)
{
	uint64_t n = sizeof(*req) + req->ram_bytes + argv_bytes(req->run_args) +
		     argv_bytes(req->compile_args);

	for (size_t i = 0; i < req->file_count; i++)
		n += sizeof(req->files[i]) + strlen(req->file_names[i]) + 1 + SP_REQUEST_BLOCK;
	return n;
}

uint64_t sp_request_output_reserve(const struct sp_limits *limits,
				   const struct sp_limits *compile_limits)
{
	uint64_t kb = limits->output_kb + (compile_limits ? compile_limits->output_kb : 0);

	return kb * 1024 * SP_OUTPUT_FACTOR;
}

void sp_request_job_spec(const struct sp_request *req, char *const *envp, struct sp_job_spec *spec)
{
	*spec = (struct sp_job_spec){
	    .compile_argv = req->compile_args,
	    .argv = req->run_args,
	    .envp = envp,
	    .limits = req->limits,
	    .compile_limits = req->compile_limits,
	    .files = req->files,
	    .file_count = req->file_count,
	    .stdin_fd = req->stdin_fd,
	    .cancel_fd = -1,
	    .runs = req->runs,
	    .stderr_to_stdout = req->stderr_to_stdout,
	};
}

void sp_request_program_free(struct sp_request *req)
{
	for (size_t i = 0; i < req->file_count; i++) {
		if (req->files[i].fd >= 0)
			close(req->files[i].fd);
		free(req->file_names[i]);
	}
	free(req->files);
	free(req->file_names);
	if (req->stdin_fd >= 0)
		close(req->stdin_fd);
	sp_argv_free(req->run_args);
	sp_argv_free(req->compile_args);
	json_decref(req->doc);
	free(req->user_id);
	free(req->version);
	memset(req, 0, sizeof(*req));
	req->stdin_fd = -1;
}
