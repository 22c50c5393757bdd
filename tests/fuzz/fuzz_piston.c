/* libFuzzer: arbitrary bytes as the body of Piston's POST /api/v2/execute,
 * through sp_piston_request() with the repository's languages, and as the
 * init of its WebSocket through sp_piston_connect_request(); as an answer
 * through sp_piston_answer(), as a step through sp_piston_exit(), as an
 * output event through sp_piston_data() and its "signal" through
 * sp_piston_signal(); the "version" of each body also goes through
 * sp_semver_satisfies() against every language's version.
 *
 * Checked for every input, besides what ASan and UBSan see: a refusal has a
 * message in valid UTF-8, NUL-terminated within SP_PISTON_MESSAGE_MAX; an
 * accepted body becomes a run request that sandpool's parser either takes
 * (with "interleave" on for execute and off for an init, the language
 * found) or refuses with a 4xx, never a 500; a semver answer is -1, 0 or 1;
 * an answer is an object with "run"; an exit is an object, a signal a
 * number from 0 to 64. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/job/config.h"
#include "server/job/language.h"
#include "server/job/piston.h"
#include "server/job/request.h"
#include "server/job/semver.h"
#include "server/job/utf8.h"
#include "tests/fuzz/fuzz_util.h"

static struct sp_language_set languages;
static struct sp_config config;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_load_languages(&languages);
	sp_config_defaults(&config);
	return 0;
}

static void check_message(const char *message)
{
	size_t n = strnlen(message, SP_PISTON_MESSAGE_MAX);

	if (n == SP_PISTON_MESSAGE_MAX)
		fuzz_die("a message without its NUL");
	if (!sp_utf8_valid(message, n))
		fuzz_die("a message that is not UTF-8: %s", message);
}

static void check_request(json_t *req, const struct sp_language *language, bool interleave)
{
	char *text = json_dumps(req, JSON_COMPACT);
	struct sp_request parsed;
	struct sp_request_failure fail = {0};

	if (text == NULL)
		return;
	if (sp_request_parse_as(text, strlen(text), &languages, &config, SP_REQUEST_RUN, &parsed,
				&fail) == 0) {
		if (parsed.interleave != interleave || parsed.language != language)
			fuzz_die("the run request lost its interleave or its language: %s", text);
	} else if (fail.http_status >= 500) {
		fuzz_die("sandpool refused a translated body with %d: %s", fail.http_status,
			 fail.message);
	}
	sp_request_free(&parsed);
	free(text);
}

static void check_semver(json_t *doc)
{
	const char *range = json_string_value(json_object_get(doc, "version"));

	for (size_t i = 0; range != NULL && i < languages.count; i++) {
		const char *v = languages.items[i].version ? languages.items[i].version : "0";
		int rc = sp_semver_satisfies(v, range);

		if (rc < -1 || rc > 1)
			fuzz_die("semver answered %d", rc);
		(void)sp_semver_compare(v, range);
	}
}

/* The input as a run's answer, in Piston's shape. */
static void check_answer(json_t *doc)
{
	json_t *piston = sp_piston_answer(doc, &languages.items[0]);

	if (piston != NULL && !json_is_object(json_object_get(piston, "run")) &&
	    !json_is_null(json_object_get(piston, "run")))
		fuzz_die("an answer without its run");
	json_decref(piston);
}

/* The input as what the WebSocket's messages are made of. */
static void check_connect(json_t *doc)
{
	int signo = sp_piston_signal(json_object_get(doc, "signal"));
	json_t *exit = sp_piston_exit(doc, "run", signo);

	if (signo < 0 || signo > 64)
		fuzz_die("a signal of %d", signo);
	if (exit != NULL && !json_is_object(exit))
		fuzz_die("an exit that is not an object");
	(void)sp_piston_signal_ends(signo);
	json_decref(exit);
	json_decref(sp_piston_data(doc));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *req;
	const struct sp_language *language = NULL;
	char message[SP_PISTON_MESSAGE_MAX];

	if (doc == NULL)
		return 0;
	req = sp_piston_request(doc, &languages, &config, &language, message);
	if (req == NULL)
		check_message(message);
	else
		check_request(req, language, true);
	json_decref(req);
	req = sp_piston_connect_request(doc, &languages, &config, &language, message);
	if (req == NULL)
		check_message(message);
	else
		check_request(req, language, false);
	if (json_is_object(doc)) {
		check_semver(doc);
		check_answer(doc);
		check_connect(doc);
	}
	json_decref(req);
	json_decref(doc);
	return 0;
}
