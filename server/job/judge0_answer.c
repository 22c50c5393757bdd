#include "judge0_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "judge0.h"
#include "judge0_base64.h"
#include "utf8.h"

/* Judge0's columns in its order (Submission.column_names, then the two its
 * serializer adds), its id dropped. */
static const char *const columns[] = {
    "source_code",
    "language_id",
    "stdin",
    "expected_output",
    "stdout",
    "status_id",
    "created_at",
    "finished_at",
    "time",
    "memory",
    "stderr",
    "token",
    "number_of_runs",
    "cpu_time_limit",
    "cpu_extra_time",
    "wall_time_limit",
    "memory_limit",
    "stack_limit",
    "max_processes_and_or_threads",
    "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
    "max_file_size",
    "compile_output",
    "exit_code",
    "exit_signal",
    "message",
    "wall_time",
    "compiler_options",
    "command_line_arguments",
    "redirect_stderr_to_stdout",
    "callback_url",
    "additional_files",
    "enable_network",
    "status",
    "language",
};

#define COLUMN_COUNT (sizeof(columns) / sizeof(columns[0]))

static const char *const default_columns[] = {
    "token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status",
};

static int column_index(const char *name, size_t len)
{
	for (size_t i = 0; i < COLUMN_COUNT; i++)
		if (strlen(columns[i]) == len && strncmp(columns[i], name, len) == 0)
			return (int)i;
	return -1;
}

uint64_t sp_judge0_default_fields(void)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < sizeof(default_columns) / sizeof(default_columns[0]); i++)
		mask |= 1ull << column_index(default_columns[i], strlen(default_columns[i]));
	return mask;
}

/* Each name of TEXT, split at commas as Ruby's split(",") does (empty
 * names dropped at the end only; kept elsewhere, and invalid). */
int sp_judge0_fields(const char *text, uint64_t *mask, char *invalid, size_t size)
{
	size_t used = 0, names = 0, len = text ? strlen(text) : 0;
	bool all = false;

	*mask = 0;
	invalid[0] = '\0';
	while (len > 0 && text[len - 1] == ',')
		len--;
	for (size_t at = 0; at < len;) {
		const char *comma = memchr(text + at, ',', len - at);
		size_t n = comma ? (size_t)(comma - text) - at : len - at;
		int i = column_index(text + at, n);

		if (n == 1 && text[at] == '*')
			all = true;
		else if (i >= 0)
			*mask |= 1ull << i;
		else if (++names > 0 && used + n + 3 < size)
			used += (size_t)snprintf(invalid + used, size - used, "%s%.*s",
						 names > 1 ? ", " : "", (int)n, text + at);
		at += n + 1;
	}
	if (names > 0)
		return -1;
	if (all)
		*mask = (1ull << COLUMN_COUNT) - 1;
	else if (*mask == 0)
		*mask = sp_judge0_default_fields();
	return 0;
}

void sp_judge0_token_of(const char *id, char token[SP_JUDGE0_TOKEN_SIZE])
{
	snprintf(token, SP_JUDGE0_TOKEN_SIZE, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12,
		 id + 16, id + 20);
}

bool sp_judge0_id_of(const char *token, char *id)
{
	size_t n = 0;

	if (strlen(token) != SP_JUDGE0_TOKEN_SIZE - 1)
		return false;
	for (size_t i = 0; token[i] != '\0'; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash != (token[i] == '-'))
			return false;
		if (dash)
			continue;
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
			return false;
		id[n++] = token[i];
	}
	id[n] = '\0';
	return true;
}

/* --- what an answer is made of ------------------------------------------- */

struct answer {
	const json_t *view, *result, *echo, *compile, *run;
	const struct sp_language *language;
	const char *token;
	bool base64;
	bool not_utf8;
	int status;
};

/* A stream KEY of STEP as bytes (*LEN), decoded when it came in base64; a
 * new buffer, NULL for none (or out of memory). */
static unsigned char *stream_bytes(const json_t *step, const char *key, size_t *len)
{
	char encoding_key[64];
	const json_t *v = json_object_get(step, key);
	unsigned char *out;

	*len = 0;
	if (!json_is_string(v))
		return NULL;
	snprintf(encoding_key, sizeof(encoding_key), "%s_encoding", key);
	if (json_object_get(step, encoding_key) != NULL)
		return sp_base64_decode(json_string_value(v), json_string_length(v), len);
	*len = json_string_length(v);
	out = malloc(*len + 1);
	if (out != NULL)
		memcpy(out, json_string_value(v), *len + 1);
	return out;
}

/* An echoed input (strict base64) as bytes. */
static unsigned char *echo_bytes(const struct answer *a, const char *key, size_t *len)
{
	const json_t *v = json_object_get(a->echo, key);

	*len = 0;
	if (!json_is_string(v))
		return NULL;
	return sp_base64_decode(json_string_value(v), json_string_length(v), len);
}

/* BYTES (LEN; taken) as the answer shows a text: base64 when asked, else the
 * text, which must be UTF-8. EMPTY_NULL: no bytes is null. */
static json_t *text_value(struct answer *a, unsigned char *bytes, size_t len, bool present,
			  bool empty_null)
{
	json_t *out;

	if (!present || (empty_null && len == 0)) {
		free(bytes);
		return json_null();
	}
	if (a->base64) {
		char *encoded = sp_judge0_base64_encode(bytes ? bytes : (unsigned char *)"", len);

		out = encoded ? json_string(encoded) : NULL;
		free(encoded);
	} else {
		out = json_stringn(bytes ? (const char *)bytes : "", len);
		if (out == NULL) {
			a->not_utf8 = true;
			out = json_null();
		}
	}
	free(bytes);
	return out;
}

static json_t *input_value(struct answer *a, const char *key)
{
	size_t len;
	unsigned char *bytes = echo_bytes(a, key, &len);

	return text_value(a, bytes, len, json_is_string(json_object_get(a->echo, key)), false);
}

static json_t *stream_value(struct answer *a, const char *key)
{
	size_t len;
	unsigned char *bytes = stream_bytes(a->run, key, &len);

	return text_value(a, bytes, len, true, true);
}

/* What the compile wrote, stdout and then stderr (Judge0 sends both to one
 * file); Judge0's words for a compile out of time. */
static json_t *compile_output_value(struct answer *a)
{
	const char *status = json_string_value(json_object_get(a->compile, "status"));
	size_t out_len, err_len;
	unsigned char *out, *err, *both;

	if (status != NULL && strcmp(status, "time_limit") == 0 && a->status == 6) {
		const char *text = "Compilation time limit exceeded.";

		both = (unsigned char *)strdup(text);
		return both ? text_value(a, both, strlen(text), true, true) : NULL;
	}
	out = stream_bytes(a->compile, "stdout", &out_len);
	err = stream_bytes(a->compile, "stderr", &err_len);
	both = malloc(out_len + err_len + 1);
	if (both != NULL) {
		if (out_len > 0)
			memcpy(both, out, out_len);
		if (err_len > 0)
			memcpy(both + out_len, err, err_len);
	}
	free(out);
	free(err);
	return both ? text_value(a, both, out_len + err_len, true, true) : NULL;
}

/* Seconds as Judge0 writes a decimal: "0.002", "1.0". */
static json_t *seconds_value(const json_t *ms)
{
	char text[64];
	size_t n;

	if (!json_is_integer(ms))
		return json_null();
	n = (size_t)snprintf(text, sizeof(text), "%.3f", (double)json_integer_value(ms) / 1000);
	while (n > 0 && text[n - 1] == '0' && text[n - 2] != '.')
		text[--n] = '\0';
	return json_string(text);
}

/* A limit in seconds from the echo, as a decimal string. */
static json_t *limit_seconds(const struct answer *a, const char *key)
{
	const json_t *v = json_object_get(a->echo, key);
	char text[64];
	double s;

	if (!json_is_number(v))
		return json_null();
	s = json_number_value(v);
	if (s == (double)(long long)s)
		snprintf(text, sizeof(text), "%.1f", s);
	else
		snprintf(text, sizeof(text), "%.15g", s);
	return json_string(text);
}

/* MS since the epoch as Rails writes a time: 2026-12-07T09:00:02.123Z. */
static json_t *time_value(json_int_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char text[64];

	if (ms <= 0 || gmtime_r(&s, &tm) == NULL)
		return json_null();
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(text);
}

static json_int_t created_ms(const struct answer *a)
{
	return json_integer_value(json_object_get(a->echo, "created_at"));
}

static json_t *finished_value(const struct answer *a)
{
	if (a->status <= 2 || created_ms(a) == 0)
		return json_null();
	return time_value(created_ms(a) +
			  json_integer_value(json_object_get(a->view, "queued_ms")) +
			  json_integer_value(json_object_get(a->view, "run_ms")));
}

/* isolate's words for how the run ended, as Judge0 passes them on. */
static json_t *message_value(struct answer *a)
{
	const char *status = json_string_value(json_object_get(a->run, "status"));
	const char *error = json_string_value(json_object_get(a->result, "error"));
	json_int_t code = json_integer_value(json_object_get(a->run, "exit_code"));
	json_int_t signal = json_integer_value(json_object_get(a->run, "signal"));
	char text[256];

	if (a->status <= 2 || a->status == 6)
		return json_null();
	if (a->status == 13)
		snprintf(text, sizeof(text), "%s",
			 error ? error
			 : json_string_value(json_object_get(a->run, "error"))
			     ? json_string_value(json_object_get(a->run, "error"))
			     : "the job did not run");
	else if (status != NULL && strcmp(status, "memory_limit") == 0)
		snprintf(text, sizeof(text), "Memory limit exceeded");
	else if (status != NULL && strcmp(status, "output_limit") == 0)
		snprintf(text, sizeof(text), "Output limit exceeded (max_file_size)");
	else if (status != NULL && strcmp(status, "syscall_blocked") == 0)
		snprintf(text, sizeof(text), "%s",
			 json_string_value(json_object_get(a->run, "error"))
			     ? json_string_value(json_object_get(a->run, "error"))
			     : "A system call was blocked");
	else if (a->status == 5)
		snprintf(text, sizeof(text), "Time limit exceeded");
	else if (signal > 0)
		snprintf(text, sizeof(text), "Caught fatal signal %lld", (long long)signal);
	else if (code != 0)
		snprintf(text, sizeof(text), "Exited with error status %lld", (long long)code);
	else
		return json_null();
	if (a->base64) {
		char *encoded = sp_judge0_base64_encode((unsigned char *)text, strlen(text));
		json_t *out = encoded ? json_string(encoded) : NULL;

		free(encoded);
		return out;
	}
	return json_string(text);
}

static json_t *echo_value(const struct answer *a, const char *key)
{
	const json_t *v = json_object_get(a->echo, key);

	return v ? json_deep_copy(v) : json_null();
}

static json_t *ran_integer(const struct answer *a, const char *key)
{
	const json_t *v = json_object_get(a->run, key);

	return a->run != NULL && json_is_integer(v) ? json_integer(json_integer_value(v))
						    : json_null();
}

static json_t *language_value(const struct answer *a)
{
	if (a->language == NULL)
		return json_null();
	return json_pack("{s:i, s:s}", "id", a->language->judge0_id, "name",
			 a->language->judge0_name);
}

/* Column I of the answer. */
static json_t *column(struct answer *a, size_t i)
{
	const char *name = columns[i];

	if (strcmp(name, "source_code") == 0 || strcmp(name, "stdin") == 0 ||
	    strcmp(name, "expected_output") == 0)
		return input_value(a, name);
	if (strcmp(name, "language_id") == 0)
		return a->language ? json_integer(a->language->judge0_id) : json_null();
	if (strcmp(name, "stdout") == 0)
		return a->run ? stream_value(a, "stdout") : json_null();
	if (strcmp(name, "stderr") == 0)
		return a->run ? stream_value(a, "stderr") : json_null();
	if (strcmp(name, "status_id") == 0)
		return json_integer(a->status);
	if (strcmp(name, "created_at") == 0)
		return time_value(created_ms(a));
	if (strcmp(name, "finished_at") == 0)
		return finished_value(a);
	if (strcmp(name, "time") == 0)
		return a->run ? seconds_value(json_object_get(a->run, "cpu_ms")) : json_null();
	if (strcmp(name, "wall_time") == 0)
		return a->run ? seconds_value(json_object_get(a->run, "wall_ms")) : json_null();
	if (strcmp(name, "memory") == 0)
		return ran_integer(a, "memory_kb");
	if (strcmp(name, "token") == 0)
		return json_string(a->token);
	if (strcmp(name, "cpu_time_limit") == 0 || strcmp(name, "cpu_extra_time") == 0 ||
	    strcmp(name, "wall_time_limit") == 0)
		return limit_seconds(a, name);
	if (strcmp(name, "enable_per_process_and_thread_time_limit") == 0 ||
	    strcmp(name, "enable_per_process_and_thread_memory_limit") == 0 ||
	    strcmp(name, "enable_network") == 0)
		return a->echo ? json_false() : json_null();
	if (strcmp(name, "compile_output") == 0)
		return a->compile ? compile_output_value(a) : json_null();
	if (strcmp(name, "exit_code") == 0)
		return a->run
			   ? json_integer(json_integer_value(json_object_get(a->run, "exit_code")))
			   : json_null();
	if (strcmp(name, "exit_signal") == 0)
		return ran_integer(a, "signal");
	if (strcmp(name, "message") == 0)
		return message_value(a);
	if (strcmp(name, "additional_files") == 0) {
		/* In base64 always, as Judge0's serializer gives it. */
		bool asked = a->base64;
		json_t *v;

		a->base64 = true;
		v = input_value(a, name);
		a->base64 = asked;
		return v;
	}
	if (strcmp(name, "status") == 0)
		return json_pack("{s:i, s:s}", "id", a->status, "description",
				 sp_judge0_status_name(a->status));
	if (strcmp(name, "language") == 0)
		return language_value(a);
	return echo_value(a, name);
}

/* --- the status ---------------------------------------------------------- */

/* A finished job's status: its compile's, then its run's. */
static int finished_status(const json_t *result, const json_t *echo)
{
	const json_t *compile = json_object_get(result, "compile");
	const json_t *run = json_object_get(result, "run");
	const char *compiled = json_string_value(json_object_get(compile, "status"));
	double limit = json_number_value(json_object_get(echo, "cpu_time_limit"));
	const json_t *expected = json_object_get(echo, "expected_output");
	unsigned char *out = NULL, *want = NULL;
	size_t out_len = 0, want_len = 0;
	int status;

	if (echo == NULL || (!json_is_object(run) && !json_is_object(compile)))
		return 13;
	if (json_is_object(compile) && compiled != NULL && strcmp(compiled, "ok") != 0)
		return strcmp(compiled, "internal_error") == 0 ? 13 : 6;
	if (!json_is_object(run))
		return 13;
	if (json_is_string(expected)) {
		out = stream_bytes(run, "stdout", &out_len);
		want = sp_base64_decode(json_string_value(expected), json_string_length(expected),
					&want_len);
	}
	status = sp_judge0_status_of(
	    run, (const char *)out, out_len,
	    json_is_string(expected) ? (want ? (const char *)want : "") : NULL, want_len);
	free(out);
	free(want);
	if (status != 13 && limit > 0 &&
	    (double)json_integer_value(json_object_get(run, "cpu_ms")) > limit * 1000)
		return 5;
	return status;
}

int sp_judge0_view_status(const json_t *view)
{
	const char *state = json_string_value(json_object_get(view, "state"));
	const json_t *result = json_object_get(view, "result");

	if (state != NULL && strcmp(state, "queued") == 0)
		return 1;
	if (state != NULL && strcmp(state, "running") == 0)
		return 2;
	return finished_status(result, json_object_get(result, "echo"));
}

static const struct sp_language *language_of(const json_t *view, const json_t *echo,
					     const struct sp_language_set *languages)
{
	const json_t *id = json_object_get(echo, "language_id");
	const char *name = json_string_value(json_object_get(view, "language"));

	if (json_is_integer(id))
		return sp_judge0_find(languages, json_integer_value(id));
	for (size_t i = 0; name != NULL && i < languages->count; i++)
		if (strcmp(languages->items[i].name, name) == 0)
			return &languages->items[i];
	return NULL;
}

json_t *sp_judge0_submission(const char *token, const json_t *view,
			     const struct sp_language_set *languages, uint64_t mask, bool base64,
			     bool *not_utf8)
{
	const json_t *result = json_object_get(view, "result");
	/* the inputs: the result's, or the request's while it runs */
	const json_t *echo = json_object_get(result, "echo") ? json_object_get(result, "echo")
							     : json_object_get(view, "echo");
	struct answer a = {.view = view,
			   .result = result,
			   .echo = echo,
			   .token = token,
			   .base64 = base64,
			   .status = sp_judge0_view_status(view)};
	json_t *out = json_object();

	if (json_is_object(json_object_get(result, "compile")))
		a.compile = json_object_get(result, "compile");
	if (json_is_object(json_object_get(result, "run")) && a.status != 6)
		a.run = json_object_get(result, "run");
	a.language = language_of(view, a.echo, languages);
	for (size_t i = 0; out != NULL && i < COLUMN_COUNT; i++) {
		json_t *v;

		if (!(mask & (1ull << i)))
			continue;
		v = column(&a, i);
		if (v == NULL || json_object_set_new(out, columns[i], v) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	*not_utf8 = a.not_utf8;
	if (out != NULL && a.not_utf8) {
		json_decref(out);
		out = NULL;
	}
	return out;
}
