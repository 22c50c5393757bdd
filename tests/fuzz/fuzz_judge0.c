/* libFuzzer: arbitrary bytes as the body of Judge0's POST /submissions,
 * through sp_judge0_request() with the repository's languages (base64 on
 * and off), as a form through sp_judge0_form() and the same, and as a job's view through
 * sp_judge0_submission() with every field; the bytes also go through Judge0's lenient base64 and
 * its fields.
 *
 * Checked for every input, besides what ASan and UBSan see: a refused body
 * has field errors ({"field": ["message"]}, each message a string); an
 * accepted body becomes a run request that sandpool's parser either takes
 * (its echo kept) or refuses with a 4xx, never a 500; an answer is an object
 * whose status is 1 to 14; base64 written then read gives the bytes back. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/job/config.h"
#include "server/job/judge0_answer.h"
#include "server/job/judge0_base64.h"
#include "server/job/judge0_request.h"
#include "server/job/language.h"
#include "server/job/request.h"
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

static void check_errors(json_t *errors)
{
	const char *field;
	json_t *list, *item;
	size_t i;

	if (!json_is_object(errors) || json_object_size(errors) == 0)
		fuzz_die("a refusal without field errors");
	json_object_foreach(errors, field, list)
	{
		if (!json_is_array(list) || json_array_size(list) == 0)
			fuzz_die("field %s without messages", field);
		json_array_foreach(list, i, item) if (!json_is_string(item))
		    fuzz_die("a message of %s that is not a string", field);
	}
}

static void check_request(json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT);
	struct sp_request parsed;
	struct sp_request_failure fail = {0};

	if (text == NULL)
		return;
	if (sp_request_parse_as(text, strlen(text), &languages, &config, SP_REQUEST_RUN, &parsed,
				&fail) == 0) {
		if (parsed.echo == NULL)
			fuzz_die("the run request lost its echo: %s", text);
	} else if (fail.http_status >= 500) {
		fuzz_die("sandpool refused a translated body with %d: %s", fail.http_status,
			 fail.message);
	}
	sp_request_free(&parsed);
	free(text);
}

static void check_submission(json_t *doc, bool base64)
{
	json_t *errors = NULL, *req;

	req = sp_judge0_request(doc, base64, &languages, &config, 1000, &errors);
	if (req != NULL)
		check_request(req);
	else if (errors != NULL)
		check_errors(errors);
	json_decref(req);
	json_decref(errors);
}

/* The input as a job's view ({"state", "result": {..., "echo"}}). */
static void check_answer(json_t *doc, bool base64)
{
	char invalid[64];
	uint64_t all;
	bool not_utf8;
	json_t *answer;
	json_int_t status;

	sp_judge0_fields("*", &all, invalid, sizeof(invalid));
	answer = sp_judge0_submission("token", doc, &languages, all, base64, &not_utf8);
	if (answer == NULL)
		return;
	status = json_integer_value(json_object_get(answer, "status_id"));
	if (status < 1 || status > 14)
		fuzz_die("status %lld", (long long)status);
	json_decref(answer);
}

static void check_base64(const uint8_t *data, size_t size)
{
	size_t n, m;
	unsigned char *bytes = sp_judge0_base64_decode((const char *)data, size, &n), *again;
	char *text, invalid[64];
	uint64_t mask;

	if (bytes == NULL)
		return;
	text = sp_judge0_base64_encode(bytes, n);
	if (text != NULL) {
		again = sp_judge0_base64_decode(text, strlen(text), &m);
		if (again == NULL || m != n || memcmp(again, bytes, n) != 0)
			fuzz_die("base64 written and read back differs");
		free(again);
	}
	free(text);
	text = strndup((const char *)data, size);
	if (text != NULL)
		sp_judge0_fields(text, &mask, invalid, sizeof(invalid));
	free(text);
	free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	json_t *form = sp_judge0_form((const char *)data, size);

	check_base64(data, size);
	if (form != NULL)
		check_submission(form, false);
	json_decref(form);
	if (doc == NULL)
		return 0;
	check_submission(doc, false);
	check_submission(doc, true);
	if (json_is_object(doc)) {
		check_answer(doc, false);
		check_answer(doc, true);
	}
	json_decref(doc);
	return 0;
}
