#include "piston.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "semver.h"
#include "utf8.h"

/* ---- runtimes ------------------------------------------------------------- */

static const char *piston_name(const struct sp_language *lang)
{
	return lang->piston_language ? lang->piston_language : lang->name;
}

/* Its aliases as Piston lists them: sandpool's, and sandpool's own name
 * where Piston's differs; never Piston's name itself. */
static json_t *aliases_of(const struct sp_language *lang)
{
	json_t *aliases = json_array();
	const char *name = piston_name(lang);

	if (strcmp(name, lang->name) != 0)
		json_array_append_new(aliases, json_string(lang->name));
	for (size_t i = 0; lang->aliases[i] != NULL; i++)
		if (strcmp(lang->aliases[i], name) != 0)
			json_array_append_new(aliases, json_string(lang->aliases[i]));
	return aliases;
}

json_t *sp_piston_runtimes(const struct sp_language_set *languages)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < languages->count; i++) {
		const struct sp_language *lang = &languages->items[i];
		json_t *rt =
		    json_pack("{s:s, s:s, s:o}", "language", piston_name(lang), "version",
			      lang->version ? lang->version : "0.0.0", "aliases", aliases_of(lang));

		if (rt != NULL && lang->piston_runtime != NULL)
			json_object_set_new(rt, "runtime", json_string(lang->piston_runtime));
		if (rt == NULL || json_array_append_new(list, rt) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* ---- the request ------------------------------------------------------------ */

static bool named(const struct sp_language *lang, const char *name)
{
	if (strcmp(piston_name(lang), name) == 0 || strcmp(lang->name, name) == 0)
		return true;
	for (size_t i = 0; lang->aliases[i] != NULL; i++)
		if (strcmp(lang->aliases[i], name) == 0)
			return true;
	return false;
}

/* The newest language called NAME whose version satisfies RANGE. */
static const struct sp_language *runtime_of(const struct sp_language_set *languages,
					    const char *name, const char *range)
{
	const struct sp_language *best = NULL;

	for (size_t i = 0; i < languages->count; i++) {
		const struct sp_language *lang = &languages->items[i];
		const char *version = lang->version ? lang->version : "0.0.0";

		if (!named(lang, name) || sp_semver_satisfies(version, range) != 1)
			continue;
		if (best == NULL || sp_semver_compare(version, best->version) > 0)
			best = lang;
	}
	return best;
}

/* MESSAGE made of FMT with the client's strings A and B: cut between two
 * characters when too long, so that it stays UTF-8. */
static int refuse(char *message, const char *fmt, const char *a, const char *b)
{
	char text[2 * SP_PISTON_MESSAGE_MAX];

	snprintf(text, sizeof(text), fmt, a, b);
	sp_utf8_message(message, SP_PISTON_MESSAGE_MAX, text, strlen(text));
	return -1;
}

/* The index of the first utf8 file of FILES (the one Piston runs), -1 when
 * none is. */
static long first_utf8(const json_t *files)
{
	for (size_t i = 0; i < json_array_size(files); i++) {
		const char *encoding =
		    json_string_value(json_object_get(json_array_get(files, i), "encoding"));

		if (encoding == NULL || strcmp(encoding, "utf8") == 0)
			return (long)i;
	}
	return -1;
}

/* Hex TEXT as base64, NULL when it is not hex (or out of memory). */
static char *hex_to_base64(const char *text, size_t length)
{
	unsigned char *bytes;
	char *encoded;

	if (length % 2 != 0 || (bytes = malloc(length / 2 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < length; i += 2) {
		unsigned hi, lo;

		if (sscanf(text + i, "%1x%1x", &hi, &lo) != 2) {
			free(bytes);
			return NULL;
		}
		bytes[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	encoded = sp_base64_encode(bytes, length / 2);
	free(bytes);
	return encoded;
}

/* Piston's file I (the I-th of its order) as sandpool's: its name (Piston
 * gives "file<I>.code" to one without; sandpool's entry file keeps its
 * entry name), its content as utf8 or base64 (hex decoded; an encoding
 * Piston does not know is utf8, as in Piston). */
static json_t *file_of(const json_t *file, size_t i, bool entry, char *message)
{
	const char *encoding = json_string_value(json_object_get(file, "encoding"));
	const json_t *name = json_object_get(file, "name");
	json_t *content = json_object_get(file, "content"), *out = json_object();
	char fallback[32];

	if (out == NULL)
		return NULL;
	if (json_is_string(name))
		json_object_set(out, "name", (json_t *)name);
	else if (!entry && snprintf(fallback, sizeof(fallback), "file%zu.code", i) > 0)
		json_object_set_new(out, "name", json_string(fallback));
	if (encoding != NULL && strcmp(encoding, "hex") == 0) {
		char *b64 = hex_to_base64(json_string_value(content), json_string_length(content));

		if (b64 == NULL) {
			json_decref(out);
			snprintf(message, SP_PISTON_MESSAGE_MAX, "files[%zu].content is not hex",
				 i);
			return NULL;
		}
		json_object_set_new(out, "content", json_string(b64));
		json_object_set_new(out, "encoding", json_string("base64"));
		free(b64);
	} else {
		json_object_set(out, "content", content);
		if (encoding != NULL && strcmp(encoding, "base64") == 0)
			json_object_set_new(out, "encoding", json_string("base64"));
	}
	return out;
}

/* Piston's files as sandpool's: file ENTRY (the first utf8 one, which
 * Piston runs) first, as the entry. */
static json_t *files_of(json_t *files, size_t entry, char *message)
{
	json_t *out = json_array();

	for (size_t k = 0; out != NULL && k < json_array_size(files); k++) {
		size_t at = k == 0 ? entry : (k <= entry ? k - 1 : k);
		json_t *f = file_of(json_array_get(files, at), at, k == 0, message);

		if (f == NULL || json_array_append_new(out, f) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* A limit of Piston's (TYPE "compile" or "run", CONSTRAINT "timeout",
 * "cpu_time" or "memory_limit") into LIMITS' KEY, in sandpool's unit
 * (UNIT of Piston's make one); MAX (Piston's unit) is its configured
 * limit. Checked as Piston checks it. */
static int limit_of(json_t *doc, const char *type, const char *constraint, uint64_t max,
		    uint64_t unit, json_t *limits, const char *key, char *message)
{
	char name[64], max_text[32];
	uint64_t whole;
	json_t *v;
	double n;

	snprintf(name, sizeof(name), "%s_%s", type, constraint);
	v = json_object_get(doc, name);
	/* absent, null, 0, false or "": the runtime's own */
	if (v == NULL || json_is_null(v) || json_is_false(v) ||
	    (json_is_number(v) && json_number_value(v) == 0) ||
	    (json_is_string(v) && json_string_length(v) == 0))
		return 0;
	if (!json_is_number(v))
		return refuse(message, "If specified, %s must be a number", name, "");
	n = json_number_value(v);
	/* -1 is Piston's "no memory limit": the runtime's own, here */
	if (n == -1 && strcmp(constraint, "memory_limit") == 0)
		return 0;
	snprintf(max_text, sizeof(max_text), "%llu", (unsigned long long)max);
	if (max > 0 && n > (double)max)
		return refuse(message, "%s cannot exceed the configured limit of %s", name,
			      max_text);
	if (n < 0)
		return refuse(message, "%s must be non-negative", name, "");
	whole = (uint64_t)n;
	if ((double)whole < n)
		whole++;
	json_object_set_new(limits, key, json_integer((json_int_t)((whole + unit - 1) / unit)));
	return 0;
}

static int limits_of(json_t *doc, const char *type, const struct sp_config *config, json_t *limits,
		     char *message)
{
	const struct sp_limits *max = &config->max_limits;

	if (limit_of(doc, type, "memory_limit", max->memory_kb * 1024, 1024, limits, "memory_kb",
		     message) < 0 ||
	    limit_of(doc, type, "timeout", max->wall_ms, 1, limits, "wall_ms", message) < 0 ||
	    limit_of(doc, type, "cpu_time", max->cpu_ms, 1, limits, "cpu_ms", message) < 0)
		return -1;
	return 0;
}

/* Piston's checks, in its order. */
static int check_shape(json_t *doc, char *message)
{
	json_t *files = json_object_get(doc, "files"), *file;
	const char *language = json_string_value(json_object_get(doc, "language"));
	const char *version = json_string_value(json_object_get(doc, "version"));
	size_t i;

	if (language == NULL || language[0] == '\0')
		return refuse(message, "language is required as a string", "", "");
	if (version == NULL || version[0] == '\0')
		return refuse(message, "version is required as a string", "", "");
	if (!json_is_array(files))
		return refuse(message, "files is required as an array", "", "");
	json_array_foreach(files, i, file)
	{
		if (!json_is_string(json_object_get(file, "content"))) {
			snprintf(message, SP_PISTON_MESSAGE_MAX,
				 "files[%zu].content is required as a string", i);
			return -1;
		}
	}
	return 0;
}

/* Piston's stdin: a string, with a newline at its end if it has none. */
static json_t *stdin_of(json_t *doc, char *message)
{
	json_t *v = json_object_get(doc, "stdin");
	const char *text = json_is_string(v) ? json_string_value(v) : "";
	size_t length = json_is_string(v) ? json_string_length(v) : 0;
	json_t *out;
	char *copy;

	if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		refuse(message, "stdin must be a string", "", "");
		return NULL;
	}
	if (length > 0 && text[length - 1] == '\n')
		return json_stringn(text, length);
	if ((copy = malloc(length + 1)) == NULL)
		return NULL;
	memcpy(copy, text, length);
	copy[length] = '\n';
	out = json_stringn(copy, length + 1);
	free(copy);
	return out;
}

json_t *sp_piston_request(json_t *doc, const struct sp_language_set *languages,
			  const struct sp_config *config, const struct sp_language **language,
			  char *message)
{
	json_t *req = NULL, *files, *limits = json_object(), *compile = json_object(), *input;
	const char *name, *version;
	json_t *args = json_object_get(doc, "args");
	long entry;

	message[0] = '\0';
	if (!json_is_object(doc)) {
		refuse(message, "the body must be a JSON object", "", "");
		goto out;
	}
	if (check_shape(doc, message) < 0)
		goto out;
	name = json_string_value(json_object_get(doc, "language"));
	version = json_string_value(json_object_get(doc, "version"));
	if ((*language = runtime_of(languages, name, version)) == NULL) {
		refuse(message, "%s-%s runtime is unknown", name, version);
		goto out;
	}
	files = json_object_get(doc, "files");
	if ((entry = first_utf8(files)) < 0) {
		refuse(message, "files must include at least one utf8 encoded file", "", "");
		goto out;
	}
	if (limits == NULL || compile == NULL ||
	    limits_of(doc, "run", config, limits, message) < 0 ||
	    limits_of(doc, "compile", config, compile, message) < 0)
		goto out;
	if ((input = stdin_of(doc, message)) == NULL)
		goto out;
	req = json_pack("{s:s, s:o, s:o, s:b, s:O, s:O}", "language", (*language)->name, "files",
			files_of(files, (size_t)entry, message), "stdin", input, "interleave", true,
			"limits", limits, "compile_limits", compile);
	if (req != NULL && args != NULL && !json_is_null(args))
		json_object_set(req, "args", args);
out:
	json_decref(limits);
	json_decref(compile);
	return req;
}

/* Piston's connect API writes no stdin of its init; sandpool writes the
 * init's stdin first, as it is (more may follow: no newline added). */
json_t *sp_piston_connect_request(json_t *doc, const struct sp_language_set *languages,
				  const struct sp_config *config,
				  const struct sp_language **language, char *message)
{
	json_t *req = sp_piston_request(doc, languages, config, language, message);
	json_t *input = json_object_get(doc, "stdin");

	if (req == NULL)
		return NULL;
	json_object_del(req, "interleave");
	if (json_object_set_new(req, "stdin",
				json_is_string(input) ? json_incref(input) : json_string("")) < 0) {
		json_decref(req);
		message[0] = '\0';
		return NULL;
	}
	return req;
}

json_t *sp_piston_runtime(const struct sp_language *language)
{
	return json_pack("{s:s, s:s, s:s}", "type", "runtime", "language", piston_name(language),
			 "version", language->version ? language->version : "0.0.0");
}

/* ---- the answer -------------------------------------------------------------- */

static const char *const signal_names[] = {
    NULL,	 "SIGHUP",  "SIGINT",	 "SIGQUIT", "SIGILL",	"SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",	 "SIGKILL", "SIGUSR1",	 "SIGSEGV", "SIGUSR2",	"SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",	 "SIGSTOP", "SIGTSTP",	"SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",	 "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};

/* Piston's name of signal N (its globals.SIGNALS, 1-64 but 32 and 33) into
 * NAME; false when it has none. */
static bool piston_signal_name(int n, char name[16])
{
	if (n > 0 && (size_t)n < sizeof(signal_names) / sizeof(signal_names[0]))
		snprintf(name, 16, "%s", signal_names[n]);
	else if (n == 34 || n == 64)
		snprintf(name, 16, n == 34 ? "SIGRTMIN" : "SIGRTMAX");
	else if (n > 34 && n < 50)
		snprintf(name, 16, "SIGRTMIN+%d", n - 34);
	else if (n >= 50 && n < 64)
		snprintf(name, 16, "SIGRTMAX-%d", 64 - n);
	else
		return false;
	return true;
}

int sp_piston_signal(const json_t *name)
{
	const char *text = json_string_value(name);
	char known[16];

	for (int n = 1; text != NULL && n <= 64; n++)
		if (piston_signal_name(n, known) && strcmp(known, text) == 0)
			return n;
	return 0;
}

bool sp_piston_signal_ends(int n)
{
	switch (n) {
	case 17: /* SIGCHLD */
	case 18: /* SIGCONT */
	case 19: /* SIGSTOP */
	case 20: /* SIGTSTP */
	case 21: /* SIGTTIN */
	case 22: /* SIGTTOU */
	case 23: /* SIGURG */
	case 28: /* SIGWINCH */
		return false;
	default:
		return n > 0 && n <= 64;
	}
}

static json_t *signal_name(json_int_t n)
{
	if (n > 0 && (size_t)n < sizeof(signal_names) / sizeof(signal_names[0]))
		return json_string(signal_names[n]);
	return json_null();
}

/* Bytes as a string the way node's toString() makes one: what is not UTF-8
 * becomes U+FFFD. */
static json_t *lossy(const unsigned char *data, size_t length)
{
	char *text = malloc(length * 3 + 1);
	size_t at = 0;
	json_t *out;

	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < length;) {
		size_t n = sp_utf8_char_len(data + i, length - i);

		if (n == 0) {
			memcpy(text + at, "\xef\xbf\xbd", 3);
			at += 3;
			i++;
		} else {
			memcpy(text + at, data + i, n);
			at += n;
			i += n;
		}
	}
	out = json_stringn(text, at);
	free(text);
	return out;
}

/* The string V as text: as it is, or decoded from BASE64 (lossy). */
static json_t *text_from(const json_t *v, bool base64)
{
	unsigned char *bytes;
	size_t length;
	json_t *out;

	if (!json_is_string(v))
		return json_string("");
	if (!base64)
		return json_incref((json_t *)v);
	bytes = sp_base64_decode(json_string_value(v), json_string_length(v), &length);
	if (bytes == NULL)
		return json_string("");
	out = lossy(bytes, length);
	free(bytes);
	return out;
}

/* A stream of STEP (KEY, and KEY_encoding when base64) as text. */
static json_t *text_of(const json_t *step, const char *key)
{
	char encoding_key[64];

	snprintf(encoding_key, sizeof(encoding_key), "%s_encoding", key);
	return text_from(json_object_get(step, key), json_object_get(step, encoding_key) != NULL);
}

/* Piston's status and message (isolate's words) for a sandpool step. */
static void status_of(const json_t *step, const char **status, char *message, size_t size,
		      json_int_t *signal)
{
	const char *s = json_string_value(json_object_get(step, "status"));
	json_int_t code = json_integer_value(json_object_get(step, "exit_code"));

	*signal = json_integer_value(json_object_get(step, "signal"));
	*status = NULL;
	message[0] = '\0';
	if (s == NULL || strcmp(s, "ok") == 0)
		return;
	if (strcmp(s, "time_limit") == 0) {
		*status = "TO";
		snprintf(message, size, "Time limit exceeded");
	} else if (strcmp(s, "output_limit") == 0) {
		*status = "OL";
		snprintf(message, size, "Output limit exceeded (stdout and stderr together)");
	} else if (strcmp(s, "memory_limit") == 0) {
		*status = "SG";
		*signal = 9;
		snprintf(message, size, "Memory limit exceeded");
	} else if (strcmp(s, "syscall_blocked") == 0) {
		*status = "SG";
		*signal = *signal ? *signal : 31;
		snprintf(message, size, "Blocked system call");
	} else if (strcmp(s, "internal_error") == 0 || strcmp(s, "cancelled") == 0) {
		*status = "XX";
		snprintf(message, size, "%s",
			 json_string_value(json_object_get(step, "error"))
			     ? json_string_value(json_object_get(step, "error"))
			     : s);
	} else if (*signal > 0) {
		*status = "SG";
		snprintf(message, size, "Caught fatal signal %lld", (long long)*signal);
	} else {
		*status = "RE";
		snprintf(message, size, "Exited with error status %lld", (long long)code);
	}
}

json_t *sp_piston_data(const json_t *event)
{
	const char *type = json_string_value(json_object_get(event, "type"));
	const json_t *data = json_object_get(event, "data");
	const char *encoding = json_string_value(json_object_get(event, "encoding"));
	json_t *text = json_is_string(data)
			   ? text_from(data, encoding != NULL && strcmp(encoding, "base64") == 0)
			   : NULL;

	if (text == NULL || type == NULL) {
		json_decref(text);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:o}", "type", "data", "stream", type, "data", text);
}

static json_t *stage_of(const json_t *step)
{
	char message[SP_PISTON_MESSAGE_MAX];
	const char *status;
	json_int_t signal;
	const json_t *code = json_object_get(step, "exit_code");

	status_of(step, &status, message, sizeof(message), &signal);
	if (status != NULL && (strcmp(status, "TO") == 0 || strcmp(status, "OL") == 0))
		signal = 9; /* Piston kills what passes these */
	return json_pack(
	    "{s:o, s:o, s:o, s:O, s:o, s:o, s:o, s:I, s:I, s:I}", "stdout", text_of(step, "stdout"),
	    "stderr", text_of(step, "stderr"), "output", text_of(step, "output"), "code",
	    json_is_integer(code) && signal == 0 ? code : json_null(), "signal",
	    signal_name(signal), "message", message[0] ? json_string(message) : json_null(),
	    "status", status ? json_string(status) : json_null(), "cpu_time",
	    json_integer_value(json_object_get(step, "cpu_ms")), "wall_time",
	    json_integer_value(json_object_get(step, "wall_ms")), "memory",
	    json_integer_value(json_object_get(step, "memory_kb")) * 1024);
}

json_t *sp_piston_exit(const json_t *step, const char *stage, int killed_by)
{
	char message[SP_PISTON_MESSAGE_MAX], name[16];
	const char *status;
	json_int_t signal;
	const json_t *code = json_object_get(step, "exit_code");
	const char *s = json_string_value(json_object_get(step, "status"));

	status_of(step, &status, message, sizeof(message), &signal);
	if (status != NULL && (strcmp(status, "TO") == 0 || strcmp(status, "OL") == 0))
		signal = 9;
	if (s != NULL && strcmp(s, "cancelled") == 0 && piston_signal_name(killed_by, name)) {
		status = "SG";
		signal = 9;
		snprintf(message, sizeof(message), "Killed on the client's %s", name);
	}
	return json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:o}", "type", "exit", "stage", stage, "code",
	    json_is_integer(code) && signal == 0 ? json_incref((json_t *)code) : json_null(),
	    "signal", signal_name(signal), "status", status ? json_string(status) : json_null(),
	    "message", message[0] ? json_string(message) : json_null());
}

json_t *sp_piston_answer(const json_t *answer, const struct sp_language *language)
{
	const json_t *compile = json_object_get(answer, "compile");
	const json_t *run = json_object_get(answer, "run");
	json_t *out = json_pack("{s:s, s:s}", "language", piston_name(language), "version",
				language->version ? language->version : "0.0.0");
	json_t *compiled = json_is_object(compile) ? stage_of(compile) : NULL;

	if (out == NULL)
		return NULL;
	if (compiled != NULL)
		json_object_set(out, "compile", compiled);
	/* a compile that failed: its stage is the run's too, as in Piston */
	json_object_set_new(out, "run",
			    json_is_object(run) ? stage_of(run)
						: (compiled ? json_incref(compiled) : json_null()));
	json_decref(compiled);
	return out;
}
