#include "judge0_request.h"

#include <errno.h>
#include <math.h> /* isfinite: no libm */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "hex.h"
#include "judge0.h"
#include "judge0_base64.h"
#include "judge0_files.h"

/* Judge0's own bounds and defaults (app/helpers/config.rb). */
#define CPU_TIME_LIMIT		  5.0
#define MAX_CPU_TIME_LIMIT	  15.0
#define CPU_EXTRA_TIME		  1.0
#define MAX_CPU_EXTRA_TIME	  5.0
#define WALL_TIME_LIMIT		  10.0
#define MAX_WALL_TIME_LIMIT	  20.0
#define MEMORY_LIMIT		  128000
#define MAX_MEMORY_LIMIT	  512000
#define STACK_LIMIT		  64000
#define MAX_STACK_LIMIT		  128000
#define MAX_PROCESSES		  60
#define MAX_MAX_PROCESSES	  120
#define MAX_FILE_SIZE		  1024
#define MAX_MAX_FILE_SIZE	  4096
#define MAX_NUMBER_OF_RUNS	  20
#define MAX_EXTRACT_SIZE	  10240
#define MAX_OPTIONS		  512
#define CALLBACKS_MAX_TRIES	  3
#define CALLBACKS_TIMEOUT	  5.0
#define MAX_SUBMISSION_BATCH_SIZE 20
#define MIN_MEMORY_LIMIT	  2048
#define MIN_WALL_TIME_LIMIT	  1.0

/* What libm would give, for the values here (within +-1e15). */
static double whole(double v)
{
	return v > 1e15 ? 1e15 : v < -1e15 ? -1e15 : (double)(long long)v;
}

static double round_up(double v)
{
	return whole(v) < v ? whole(v) + 1 : whole(v);
}

static double smaller(double a, double b)
{
	return a < b ? a : b;
}

static double lower(double judge0, uint64_t server)
{
	return server > 0 && (double)server < judge0 ? (double)server : judge0;
}

void sp_judge0_bounds_of(const struct sp_config *config, struct sp_judge0_bounds *b)
{
	const struct sp_limits *max = &config->max_limits;

	b->max_cpu_time_limit = lower(MAX_CPU_TIME_LIMIT, max->cpu_ms / 1000);
	b->max_cpu_extra_time = MAX_CPU_EXTRA_TIME;
	b->max_wall_time_limit = lower(MAX_WALL_TIME_LIMIT, max->wall_ms / 1000);
	b->max_memory_limit = (long long)lower(MAX_MEMORY_LIMIT, max->memory_kb);
	b->max_stack_limit = (long long)lower(MAX_STACK_LIMIT, max->stack_kb);
	b->max_max_processes = (long long)lower(MAX_MAX_PROCESSES, max->processes);
	b->max_max_file_size = (long long)lower(MAX_MAX_FILE_SIZE, max->file_kb);
	b->max_number_of_runs = MAX_NUMBER_OF_RUNS;
	b->max_extract_size = (long long)lower(MAX_EXTRACT_SIZE, config->max_body / 1024);
	b->cpu_time_limit = smaller(CPU_TIME_LIMIT, b->max_cpu_time_limit);
	b->cpu_extra_time = CPU_EXTRA_TIME;
	b->wall_time_limit = smaller(WALL_TIME_LIMIT, b->max_wall_time_limit);
	b->memory_limit = MEMORY_LIMIT < b->max_memory_limit ? MEMORY_LIMIT : b->max_memory_limit;
	b->stack_limit = STACK_LIMIT < b->max_stack_limit ? STACK_LIMIT : b->max_stack_limit;
	b->max_processes =
	    MAX_PROCESSES < b->max_max_processes ? MAX_PROCESSES : b->max_max_processes;
	b->max_file_size =
	    MAX_FILE_SIZE < b->max_max_file_size ? MAX_FILE_SIZE : b->max_max_file_size;
	b->number_of_runs = 1;
}

json_t *sp_judge0_config_info(const struct sp_config *config)
{
	struct sp_judge0_bounds b;
	json_t *info;

	sp_judge0_bounds_of(config, &b);
	info = json_pack(
	    "{s:b, s:b, s:b, s:[], s:b, s:b, s:b, s:i, s:f, s:b, s:i}", "maintenance_mode", false,
	    "enable_wait_result", true, "enable_compiler_options", true,
	    "allowed_languages_for_compile_options", "enable_command_line_arguments", true,
	    "enable_submission_delete", true, "enable_callbacks", config->judge0_callbacks,
	    "callbacks_max_tries", CALLBACKS_MAX_TRIES, "callbacks_timeout", CALLBACKS_TIMEOUT,
	    "enable_additional_files", true, "max_queue_size", (int)config->queue_size);
	if (info == NULL)
		return NULL;
	json_object_update_new(
	    info,
	    json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I}",
		      "cpu_time_limit", b.cpu_time_limit, "max_cpu_time_limit",
		      b.max_cpu_time_limit, "cpu_extra_time", b.cpu_extra_time,
		      "max_cpu_extra_time", b.max_cpu_extra_time, "wall_time_limit",
		      b.wall_time_limit, "max_wall_time_limit", b.max_wall_time_limit,
		      "memory_limit", (json_int_t)b.memory_limit, "max_memory_limit",
		      (json_int_t)b.max_memory_limit, "stack_limit", (json_int_t)b.stack_limit,
		      "max_stack_limit", (json_int_t)b.max_stack_limit,
		      "max_processes_and_or_threads", (json_int_t)b.max_processes,
		      "max_max_processes_and_or_threads", (json_int_t)b.max_max_processes));
	json_object_update_new(
	    info,
	    json_pack(
		"{s:b, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:b, s:I, s:b, s:I, s:f, s:b, s:b, s:b}",
		"enable_per_process_and_thread_time_limit", false,
		"allow_enable_per_process_and_thread_time_limit", false,
		"enable_per_process_and_thread_memory_limit", false,
		"allow_enable_per_process_and_thread_memory_limit", false, "max_file_size",
		(json_int_t)b.max_file_size, "max_max_file_size", (json_int_t)b.max_max_file_size,
		"number_of_runs", (json_int_t)b.number_of_runs, "max_number_of_runs",
		(json_int_t)b.max_number_of_runs, "redirect_stderr_to_stdout", false,
		"max_extract_size", (json_int_t)b.max_extract_size, "enable_batched_submissions",
		true, "max_submission_batch_size", (json_int_t)MAX_SUBMISSION_BATCH_SIZE,
		"submission_cache_duration", 1.0, "use_docs_as_homepage", false,
		"allow_enable_network", false, "enable_network", false));
	return info;
}

/* --- reading a submission's fields --------------------------------------- */

struct reader {
	json_t *sub;
	json_t *errors; /* {"field": ["message", ...]} */
	bool failed;	/* out of memory */
};

static void add_error(struct reader *r, const char *field, const char *fmt, ...)
{
	char message[512];
	json_t *list = json_object_get(r->errors, field);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (list == NULL) {
		list = json_array();
		if (list == NULL || json_object_set_new(r->errors, field, list) < 0) {
			r->failed = true;
			return;
		}
	}
	if (json_array_append_new(list, json_string(message)) < 0)
		r->failed = true;
}

/* FIELD's value, or NULL when it is missing or null (Judge0's nil). */
static json_t *value(struct reader *r, const char *field)
{
	json_t *v = json_object_get(r->sub, field);

	return json_is_null(v) ? NULL : v;
}

/* A number as Rails reads a decimal column: a JSON number or a numeric
 * string; "" is none. Returns 1 with *OUT, 0 for none, -1 for not a
 * number. */
static int number_of(json_t *v, double *out)
{
	const char *text;
	char *end;

	if (v == NULL)
		return 0;
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 1;
	}
	if (!json_is_string(v))
		return -1;
	text = json_string_value(v);
	while (*text == ' ')
		text++;
	if (*text == '\0')
		return 0;
	errno = 0;
	*out = strtod(text, &end);
	while (*end == ' ')
		end++;
	return *end == '\0' && errno == 0 && isfinite(*out) ? 1 : -1;
}

/* A bound as Rails writes it in a message: 15.0 for a decimal, 512000 for
 * an integer column. */
static void bound_text(double bound, bool decimal, char *out, size_t size)
{
	if (decimal && bound == whole(bound))
		snprintf(out, size, "%.1f", bound);
	else
		snprintf(out, size, "%.15g", bound);
}

/* FIELD as a number from MIN (above it when MIN_OPEN) to MAX, DEF when
 * none; an integer column's value is truncated as Rails casts it. */
static double number(struct reader *r, const char *field, bool decimal, double def, double min,
		     bool min_open, double max)
{
	double v = def;
	char bound[64];
	int got = number_of(value(r, field), &v);

	if (got == 0)
		return def;
	if (got < 0) {
		add_error(r, field, "is not a number");
		return def;
	}
	if (!decimal)
		v = whole(v);
	if (min_open ? v <= min : v < min) {
		/* submission.rb writes its lower bounds as integers */
		bound_text(min, false, bound, sizeof(bound));
		add_error(r, field,
			  min_open ? "must be greater than %s"
				   : "must be greater than or equal to %s",
			  bound);
	} else if (v > max) {
		bound_text(max, decimal, bound, sizeof(bound));
		add_error(r, field, "must be less than or equal to %s", bound);
	}
	return v;
}

/* FIELD as Rails casts a boolean: true, false, "true"/"1"/"t"/"on"..., DEF
 * when none. */
static bool boolean(struct reader *r, const char *field, bool def)
{
	json_t *v = value(r, field);
	const char *t;

	if (v == NULL)
		return def;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (!json_is_string(v) || *(t = json_string_value(v)) == '\0')
		return def;
	return !(strcmp(t, "0") == 0 || strcasecmp(t, "f") == 0 || strcasecmp(t, "false") == 0 ||
		 strcasecmp(t, "off") == 0);
}

/* FIELD as text (a JSON string; a number Rails would take is written out),
 * NULL when none. */
static const char *text(struct reader *r, const char *field, size_t *len)
{
	json_t *v = value(r, field);

	*len = 0;
	if (v == NULL)
		return NULL;
	if (!json_is_string(v)) {
		add_error(r, field, "must be a string");
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

/* Whether TEXT (LEN bytes) is blank as Rails means it: none, or only
 * whitespace. */
static bool blank(const char *text, size_t len)
{
	for (size_t i = 0; text != NULL && i < len; i++)
		if (strchr(" \t\n\v\f\r", text[i]) == NULL)
			return false;
	return true;
}

/* --- a form ----------------------------------------------------------- */

/* The fields a submission may have (the controller's permitted params). */
static const char *const submission_fields[] = {
    "source_code",
    "language_id",
    "compiler_options",
    "command_line_arguments",
    "number_of_runs",
    "stdin",
    "expected_output",
    "cpu_time_limit",
    "cpu_extra_time",
    "wall_time_limit",
    "memory_limit",
    "stack_limit",
    "max_processes_and_or_threads",
    "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
    "max_file_size",
    "redirect_stderr_to_stdout",
    "callback_url",
    "additional_files",
    "enable_network",
};

/* TEXT (LEN bytes) URL-decoded into OUT (LEN bytes at least): its length.
 * A '%' not followed by two hex digits stays as it is. */
static size_t url_decode(const char *text, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '+') {
			out[n++] = ' ';
		} else if (text[i] == '%' && i + 2 < len && sp_hex_digit(text[i + 1]) >= 0 &&
			   sp_hex_digit(text[i + 2]) >= 0) {
			out[n++] =
			    (char)(sp_hex_digit(text[i + 1]) * 16 + sp_hex_digit(text[i + 2]));
			i += 2;
		} else {
			out[n++] = text[i];
		}
	}
	return n;
}

static bool known_field(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(submission_fields) / sizeof(submission_fields[0]); i++)
		if (strlen(submission_fields[i]) == len &&
		    memcmp(submission_fields[i], name, len) == 0)
			return true;
	return false;
}

json_t *sp_judge0_form(const char *data, size_t len)
{
	json_t *form = json_object();
	char *buf = malloc(len + 1);
	size_t at = 0;

	while (form != NULL && buf != NULL && at < len) {
		const char *amp = memchr(data + at, '&', len - at);
		size_t end = amp ? (size_t)(amp - data) : len;
		const char *eq = memchr(data + at, '=', end - at);
		size_t name_end = eq ? (size_t)(eq - data) : end;
		size_t name_len = url_decode(data + at, name_end - at, buf), value_len;
		json_t *value;

		buf[name_len] = '\0';
		if (known_field(buf, name_len) && strlen(buf) == name_len) {
			char name[64];

			snprintf(name, sizeof(name), "%s", buf);
			value_len = eq ? url_decode(eq + 1, end - name_end - 1, buf) : 0;
			value = json_stringn(buf, value_len);
			if (value == NULL || json_object_set_new(form, name, value) < 0) {
				json_decref(form);
				form = NULL;
			}
		}
		at = end + 1;
	}
	free(buf);
	if (buf == NULL) {
		json_decref(form);
		return NULL;
	}
	return form;
}

/* --- the request --------------------------------------------------------- */

/* The bytes of FIELD (base64 decoded when BASE64) as strict base64 for
 * sandpool, in *OUT (NULL for none). Returns -1 when out of memory. */
static int content_of(struct reader *r, const char *field, bool base64, char **out, bool *is_blank)
{
	size_t len, n;
	const char *t = text(r, field, &len);
	unsigned char *decoded;

	*out = NULL;
	*is_blank = true;
	if (t == NULL)
		return 0;
	if (!base64) {
		*is_blank = blank(t, len);
		*out = sp_base64_encode((const unsigned char *)t, len);
		return *out ? 0 : -1;
	}
	decoded = sp_judge0_base64_decode(t, len, &n);
	if (decoded == NULL)
		return -1;
	*is_blank = blank((const char *)decoded, n);
	*out = sp_base64_encode(decoded, n);
	free(decoded);
	return *out ? 0 : -1;
}

/* The language of language_id, with Judge0's errors. */
static const struct sp_language *language_of(struct reader *r,
					     const struct sp_language_set *languages, long long *id)
{
	double v = 0;
	int got = number_of(value(r, "language_id"), &v);
	/* an integer column: Rails truncates (a double past 2^53 is whole) */
	double t = v < 1e15 && v > -1e15 ? whole(v) : v;
	const struct sp_language *lang;

	*id = (long long)whole(v);
	if (got == 0) {
		add_error(r, "language_id", "can't be blank");
		add_error(r, "language_id", "language with id  doesn't exist");
		return NULL;
	}
	if (got < 0 || t != (double)*id || (lang = sp_judge0_find(languages, *id)) == NULL) {
		if (got > 0 && t == (double)*id && sp_judge0_find_archived(languages, *id) != NULL)
			add_error(r, "language_id",
				  "language with id %lld is archived and cannot be used anymore",
				  *id);
		else if (got > 0)
			add_error(r, "language_id", "language with id %.0f doesn't exist", t);
		else
			add_error(r, "language_id", "language with id %s doesn't exist",
				  json_is_string(value(r, "language_id"))
				      ? json_string_value(value(r, "language_id"))
				      : "");
		return NULL;
	}
	return lang;
}

/* Judge0's words of FIELD's text (compiler_options, command_line_arguments),
 * at most MAX_OPTIONS characters; an empty array for none. */
static json_t *words_of(struct reader *r, const char *field, const char **given)
{
	size_t len;
	const char *t = text(r, field, &len);

	*given = t;
	if (t != NULL && len > MAX_OPTIONS)
		add_error(r, field, "is too long (maximum is %d characters)", MAX_OPTIONS);
	if (t != NULL && strlen(t) != len) {
		add_error(r, field, "must not contain a NUL byte");
		t = NULL;
	}
	return t ? sp_judge0_arguments(t) : json_array();
}

/* The options Judge0 refuses outright, as it words them when they are not
 * allowed: sandpool has no per-process limits and gives jobs no network. */
static void refused_options(struct reader *r)
{
	if (boolean(r, "enable_per_process_and_thread_time_limit", false))
		add_error(r, "enable_per_process_and_thread_time_limit",
			  "this option cannot be enabled");
	if (boolean(r, "enable_per_process_and_thread_memory_limit", false))
		add_error(r, "enable_per_process_and_thread_memory_limit",
			  "this option cannot be enabled");
	if (boolean(r, "enable_network", false))
		add_error(r, "enable_network", "enabling network is not allowed");
}

/* callback_url: called back with http only (this server speaks no TLS). */
static const char *callback_of(struct reader *r, const struct sp_config *config)
{
	size_t len;
	const char *url = text(r, "callback_url", &len);

	if (blank(url, len))
		return NULL;
	if (!config->judge0_callbacks)
		add_error(r, "callback_url", "setting callback is not allowed");
	else if (strncmp(url, "http://", 7) != 0 || len > 2048 || strlen(url) != len)
		add_error(r, "callback_url",
			  "must be an http:// URL of at most 2048 characters (this server "
			  "calls back without TLS)");
	return url;
}

struct limits {
	double cpu, extra, wall;
	long long memory, stack, processes, file_size, runs;
};

/* The default memory limit for LANG: Judge0's, or its language file's where
 * that is more (a JVM reserves more than 128000 KB where the limit is set by
 * process limits, with no memory cgroup), within the bound. */
static double default_memory(const struct sp_judge0_bounds *b, const struct sp_language *lang)
{
	double own = lang ? (double)lang->judge0_memory_limit : 0;

	if (own <= (double)b->memory_limit)
		return (double)b->memory_limit;
	return smaller(own, (double)b->max_memory_limit);
}

static void limits_of(struct reader *r, const struct sp_judge0_bounds *b,
		      const struct sp_language *lang, struct limits *l)
{
	l->runs = (long long)number(r, "number_of_runs", false, (double)b->number_of_runs, 0, true,
				    (double)b->max_number_of_runs);
	l->cpu =
	    number(r, "cpu_time_limit", true, b->cpu_time_limit, 0, false, b->max_cpu_time_limit);
	l->extra =
	    number(r, "cpu_extra_time", true, b->cpu_extra_time, 0, false, b->max_cpu_extra_time);
	l->wall = number(r, "wall_time_limit", true, b->wall_time_limit, MIN_WALL_TIME_LIMIT, false,
			 b->max_wall_time_limit);
	l->memory = (long long)number(r, "memory_limit", false, default_memory(b, lang),
				      MIN_MEMORY_LIMIT, false, (double)b->max_memory_limit);
	l->stack = (long long)number(r, "stack_limit", false, (double)b->stack_limit, 0, false,
				     (double)b->max_stack_limit);
	l->processes =
	    (long long)number(r, "max_processes_and_or_threads", false, (double)b->max_processes, 0,
			      true, (double)b->max_max_processes);
	l->file_size = (long long)number(r, "max_file_size", false, (double)b->max_file_size, 0,
					 false, (double)b->max_max_file_size);
}

/* The limits in sandpool's units: the program is killed past the cpu limit
 * and its extra time (the server's own maximum at most). */
static json_t *sandpool_limits(const struct limits *l, const struct sp_config *config)
{
	double kill_ms = round_up((l->cpu + l->extra) * 1000);

	if (config->max_limits.cpu_ms > 0 && kill_ms > (double)config->max_limits.cpu_ms)
		kill_ms = (double)config->max_limits.cpu_ms;
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "cpu_ms",
			 (json_int_t)(kill_ms > 0 ? kill_ms : 1), "wall_ms",
			 (json_int_t)round_up(l->wall * 1000), "memory_kb", (json_int_t)l->memory,
			 "stack_kb", (json_int_t)(l->stack > 0 ? l->stack : 1), "processes",
			 (json_int_t)l->processes, "file_kb",
			 (json_int_t)(l->file_size > 0 ? l->file_size : 1), "output_kb",
			 (json_int_t)(l->file_size > 0 ? l->file_size : 1));
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* What the answer shows of the submission later, beside the job. */
static json_t *echo_of(long long language_id, const char *source, const char *in,
		       const char *expected, const char *files, const struct limits *l,
		       bool redirect, const char *options, const char *arguments,
		       const char *callback, uint64_t now_ms)
{
	json_t *echo =
	    json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "created_at", (json_int_t)now_ms,
		      "language_id", (json_int_t)language_id, "source_code", string_or_null(source),
		      "stdin", string_or_null(in), "expected_output", string_or_null(expected),
		      "additional_files", string_or_null(files));

	if (echo == NULL)
		return NULL;
	json_object_update_new(
	    echo,
	    json_pack("{s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:b, s:o, s:o, s:o}",
		      "number_of_runs", (json_int_t)l->runs, "cpu_time_limit", l->cpu,
		      "cpu_extra_time", l->extra, "wall_time_limit", l->wall, "memory_limit",
		      (json_int_t)l->memory, "stack_limit", (json_int_t)l->stack,
		      "max_processes_and_or_threads", (json_int_t)l->processes, "max_file_size",
		      (json_int_t)l->file_size, "redirect_stderr_to_stdout", redirect,
		      "compiler_options", string_or_null(options), "command_line_arguments",
		      string_or_null(arguments), "callback_url", string_or_null(callback)));
	return echo;
}

/* The submission's inputs, read: base64 texts for sandpool. */
struct inputs {
	char *source, *in, *expected, *files;
};

static void inputs_free(struct inputs *in)
{
	free(in->source);
	free(in->in);
	free(in->expected);
	free(in->files);
}

static int inputs_of(struct reader *r, bool base64, struct inputs *in)
{
	bool source_blank, in_blank, expected_blank, files_blank;

	memset(in, 0, sizeof(*in));
	if (content_of(r, "source_code", base64, &in->source, &source_blank) < 0 ||
	    content_of(r, "stdin", base64, &in->in, &in_blank) < 0 ||
	    content_of(r, "expected_output", base64, &in->expected, &expected_blank) < 0 ||
	    content_of(r, "additional_files", true, &in->files, &files_blank) < 0)
		return -1;
	if (source_blank)
		add_error(r, "source_code", "can't be blank");
	if (files_blank) {
		free(in->files);
		in->files = NULL;
	}
	return 0;
}

/* The request's files: the source as the entry file, then the unpacked
 * additional_files but the ones of the entry's name. */
static json_t *files_of(struct reader *r, const struct sp_language *lang, const struct inputs *in,
			const struct sp_judge0_bounds *b)
{
	json_t *files = json_pack("[{s:s, s:s}]", "content", in->source, "encoding", "base64");

	if (files == NULL || in->files == NULL)
		return files;
	if (sp_judge0_files_add(files, lang, in->source, in->files,
				(uint64_t)b->max_extract_size * 1024, r->errors) < 0) {
		json_decref(files);
		r->failed = json_object_get(r->errors, "additional_files") == NULL;
		return NULL;
	}
	return files;
}

static json_t *build(struct reader *r, bool base64, const struct sp_language_set *languages,
		     const struct sp_config *config, uint64_t now_ms)
{
	struct sp_judge0_bounds b;
	struct limits l;
	struct inputs in;
	const struct sp_language *lang;
	const char *options, *arguments, *callback;
	json_t *compile_args, *args, *request = NULL, *files = NULL, *echo;
	long long id;
	bool redirect;

	sp_judge0_bounds_of(config, &b);
	lang = language_of(r, languages, &id);
	if (inputs_of(r, base64, &in) < 0) {
		inputs_free(&in);
		r->failed = true;
		return NULL;
	}
	limits_of(r, &b, lang, &l);
	refused_options(r);
	redirect = boolean(r, "redirect_stderr_to_stdout", false);
	callback = callback_of(r, config);
	compile_args = words_of(r, "compiler_options", &options);
	args = words_of(r, "command_line_arguments", &arguments);
	if (lang != NULL && lang->compile == NULL && !blank(options, options ? strlen(options) : 0))
		add_error(r, "compiler_options",
			  "setting compiler options is only allowed for compiled languages");
	if (lang != NULL && json_object_size(r->errors) == 0 && !r->failed)
		files = files_of(r, lang, &in, &b);
	if (files != NULL && json_object_size(r->errors) == 0) {
		echo = echo_of(id, in.source, in.in, in.expected, in.files, &l, redirect, options,
			       arguments, callback, now_ms);
		request = json_pack(
		    "{s:s, s:o, s:s, s:s, s:O, s:O, s:b, s:I, s:o, s:o}", "language", lang->name,
		    "files", files, "stdin", in.in ? in.in : "", "stdin_encoding", "base64", "args",
		    args, "compile_args", compile_args, "stderr_to_stdout", redirect, "runs",
		    (json_int_t)l.runs, "limits", sandpool_limits(&l, config), "echo", echo);
		files = NULL;
		r->failed = request == NULL;
	}
	json_decref(files);
	json_decref(compile_args);
	json_decref(args);
	inputs_free(&in);
	return request;
}

json_t *sp_judge0_request(json_t *submission, bool base64, const struct sp_language_set *languages,
			  const struct sp_config *config, uint64_t now_ms, json_t **errors)
{
	struct reader r = {.sub = submission, .errors = json_object()};
	json_t *request;

	*errors = NULL;
	if (r.errors == NULL)
		return NULL;
	/* Rails keeps a body that is not an object aside (params[:_json]): the
	 * submission has no field then. */
	if (!json_is_object(submission))
		r.sub = json_object();
	request = build(&r, base64, languages, config, now_ms);
	if (r.sub != submission)
		json_decref(r.sub);
	if (request != NULL)
		json_decref(r.errors);
	else if (r.failed)
		json_decref(r.errors);
	else
		*errors = r.errors;
	return request;
}
