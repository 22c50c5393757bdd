#include "request.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_depth.h"
#include "judge_request.h"
#include "request_parse.h"

/* The ASCII of jansson's error text, the rest as '?'. */
static void ascii_only(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
	}
}

/* Read exactly LEN bytes of FD at OFFSET. */
static int pread_all(int fd, void *buf, size_t len, off_t offset)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf = (char *)buf + n;
		len -= (size_t)n;
		offset += n;
	}
	return 0;
}

/* The body as jansson reads it, in pieces, each measured before jansson
 * sees it: a piece that nests too deep or brings too many values ends the
 * read, so that jansson never recurses too far nor builds too much. */
struct body_reader {
	const char *data; /* the body in memory, or NULL: */
	int fd;		  /* read from this file, from its start */
	uint64_t length, offset;
	struct sp_json_scan scan;
	uint64_t max_values;
	enum { READ_OK, READ_TOO_BIG, READ_FAILED } stop;
	struct sp_request_failure too_big; /* READ_TOO_BIG: why */
};

int sp_request_shape_failed(const struct sp_json_scan *scan, uint64_t max_values, const char *what,
			    struct sp_request_failure *fail)
{
	if (scan->max_depth > SP_REQUEST_MAX_DEPTH)
		return sp_request_fail(fail, SP_REQ_BAD_JSON, "the %s nests deeper than %d levels",
				       what, SP_REQUEST_MAX_DEPTH);
	if (scan->values > max_values)
		return sp_request_fail(
		    fail, SP_REQ_TOO_LARGE,
		    "the %s holds more than %llu JSON values (see judge_max_tests)", what,
		    (unsigned long long)max_values);
	return 0;
}

static size_t read_piece(void *buffer, size_t size, void *arg)
{
	struct body_reader *r = arg;
	uint64_t left = r->length - r->offset;
	size_t n = left < size ? (size_t)left : size;

	if (r->data != NULL)
		memcpy(buffer, r->data + r->offset, n);
	else if (n > 0 && pread_all(r->fd, buffer, n, (off_t)r->offset) < 0)
		r->stop = READ_FAILED;
	sp_json_scan_feed(&r->scan, buffer, n);
	if (r->stop == READ_OK &&
	    sp_request_shape_failed(&r->scan, r->max_values, "body", &r->too_big) < 0)
		r->stop = READ_TOO_BIG;
	if (r->stop != READ_OK)
		return (size_t)-1;
	r->offset += n;
	return n;
}

static int load_failed(struct parse *p, const struct body_reader *r, json_error_t *jerr)
{
	switch (r->stop) {
	case READ_TOO_BIG:
		*p->fail = r->too_big;
		return -1;
	case READ_FAILED:
		return sp_parse_internal(p, "read the body");
	case READ_OK:
		break;
	}
	ascii_only(jerr->text);
	return sp_parse_fail(p, SP_REQ_BAD_JSON, "invalid JSON at line %d, column %d: %s",
			     jerr->line, jerr->column, jerr->text);
}

static int load_body(struct parse *p, struct body_reader *r)
{
	json_error_t jerr;

	sp_json_scan_init(&r->scan);
	r->max_values = sp_request_max_values(p->config);
	p->req->doc =
	    json_load_callback(read_piece, r, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (p->req->doc == NULL)
		return load_failed(p, r, &jerr);
	if (!json_is_object(p->req->doc))
		return sp_parse_fail(p, SP_REQ_BAD_JSON, "the body must be a JSON object");
	return 0;
}

/* "mode": "run" or "judge"; at /api/v1/judge only "judge". */
static int parse_mode(struct parse *p, json_t *doc)
{
	const char *mode;

	if (sp_parse_string(p, doc, "mode", "mode", false, &mode, NULL) < 0)
		return -1;
	if (mode == NULL)
		return 0;
	if (strcmp(mode, "judge") == 0) {
		p->req->mode = SP_REQUEST_JUDGE;
		return 0;
	}
	if (strcmp(mode, "run") == 0 && p->req->mode == SP_REQUEST_RUN)
		return 0;
	return sp_parse_bad_field(p, p->req->mode == SP_REQUEST_JUDGE
					 ? "mode must be \"judge\" here"
					 : "mode must be \"run\" or \"judge\"");
}

static int parse_judge(struct parse *p, json_t *doc, const struct sp_language_set *languages)
{
	if (json_object_get(doc, "stdin") != NULL)
		return sp_parse_bad_field(p, "stdin: a judge request gives each test's input in "
					     "tests[].stdin");
	return sp_judge_parse(doc, p->req, languages, p->config, p->total, p->fail);
}

/* A boolean member KEY of DOC into *OUT (false when missing). */
static int parse_flag(struct parse *p, json_t *doc, const char *key, bool *out)
{
	json_t *v = json_object_get(doc, key);

	if (v != NULL && !json_is_boolean(v))
		return sp_parse_bad_field(p, "%s must be a boolean", key);
	*out = json_is_true(v);
	return 0;
}

/* "runs": the run step runs so many times, its time and memory averaged. */
static int parse_runs(struct parse *p, json_t *doc)
{
	json_t *v = json_object_get(doc, "runs");

	p->req->runs = 1;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > SP_REQUEST_MAX_RUNS)
		return sp_parse_bad_field(p, "runs must be a whole number from 1 to %d",
					  SP_REQUEST_MAX_RUNS);
	p->req->runs = (unsigned)json_integer_value(v);
	return 0;
}

/* "echo": an object given back as it is in the answer. */
static int parse_echo(struct parse *p, json_t *doc)
{
	json_t *v = json_object_get(doc, "echo");

	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return sp_parse_bad_field(p, "echo must be an object");
	p->req->echo = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return p->req->echo ? 0 : sp_parse_internal(p, "echo");
}

static int parse_body(struct parse *p, struct body_reader *body,
		      const struct sp_language_set *languages)
{
	struct sp_request *req = p->req;
	json_t *doc;

	if (body->length > p->config->max_body)
		return sp_parse_fail(p, SP_REQ_TOO_LARGE, "the body is larger than %llu bytes",
				     (unsigned long long)p->config->max_body);
	if (load_body(p, body) < 0)
		return -1;
	doc = req->doc;
	if (sp_parse_language(p, doc, languages) < 0)
		return -1;
	if (sp_parse_user(p, doc) < 0 || sp_parse_program(p, doc) < 0 || parse_mode(p, doc) < 0)
		return -1;
	if (req->mode == SP_REQUEST_JUDGE)
		return parse_judge(p, doc, languages);
	if (parse_flag(p, doc, "interleave", &req->interleave) < 0 ||
	    parse_flag(p, doc, "stderr_to_stdout", &req->stderr_to_stdout) < 0 ||
	    parse_runs(p, doc) < 0 || parse_echo(p, doc) < 0)
		return -1;
	return sp_parse_stdin(p, doc);
}

/* The parsed body is dropped once the request holds what it needs: its
 * strings (a stdin of 50 MB among them) would stay in memory with the job. */
static int parse_from(struct body_reader *body, const struct sp_language_set *languages,
		      const struct sp_config *config, enum sp_request_mode mode,
		      struct sp_request *req, struct sp_request_failure *fail)
{
	struct parse p = {.config = config, .req = req, .fail = fail};

	p.total = &p.own_total;
	p.ram_left = SP_REQUEST_RAM_INPUTS;
	memset(req, 0, sizeof(*req));
	req->stdin_fd = -1;
	req->mode = mode;
	memset(fail, 0, sizeof(*fail));
	if (parse_body(&p, body, languages) < 0) {
		sp_request_free(req);
		return -1;
	}
	json_decref(req->doc);
	req->doc = NULL;
	return 0;
}

int sp_request_parse_as(const char *body, size_t length, const struct sp_language_set *languages,
			const struct sp_config *config, enum sp_request_mode mode,
			struct sp_request *req, struct sp_request_failure *fail)
{
	struct body_reader reader = {.data = body ? body : "", .fd = -1, .length = length};

	return parse_from(&reader, languages, config, mode, req, fail);
}

int sp_request_parse_fd(int fd, uint64_t length, const struct sp_language_set *languages,
			const struct sp_config *config, enum sp_request_mode mode,
			struct sp_request *req, struct sp_request_failure *fail)
{
	struct body_reader reader = {.fd = fd, .length = length};

	return parse_from(&reader, languages, config, mode, req, fail);
}

int sp_request_parse(const char *body, size_t length, const struct sp_language_set *languages,
		     const struct sp_config *config, struct sp_request *req,
		     struct sp_request_failure *fail)
{
	return sp_request_parse_as(body, length, languages, config, SP_REQUEST_RUN, req, fail);
}

uint64_t sp_request_memory(const struct sp_request *req)
{
	uint64_t n = sp_request_program_memory(req) + (req->echo ? strlen(req->echo) + 1 : 0);
	const struct sp_judge *judge = req->judge;

	if (judge == NULL)
		return n;
	/* a stored problem's data is its store's file, not memory: its
	 * description is */
	n += sizeof(*judge) + (judge->problem == NULL ? judge->data_size : 0);
	if (judge->problem != NULL)
		n += sizeof(*judge->problem) +
		     judge->problem->test_count * sizeof(*judge->problem->tests) +
		     judge->problem->group_count * (sizeof(*judge->problem->groups) + 256);
	for (size_t i = 0; i < judge->test_count; i++)
		n += sizeof(judge->tests[i]) + strlen(judge->tests[i].name) + 1 + SP_REQUEST_BLOCK;
	if (judge->checker != NULL)
		n += sp_request_program_memory(judge->checker);
	if (judge->interactor != NULL)
		n += sp_request_program_memory(judge->interactor);
	return n;
}

uint64_t sp_request_reserve(const struct sp_request *req, unsigned cells, uint64_t program_bytes)
{
	if (req->mode == SP_REQUEST_JUDGE && req->judge != NULL)
		return sp_judge_reserve(req, cells, program_bytes);
	return sp_request_output_reserve(&req->limits,
					 req->compile_args ? &req->compile_limits : NULL);
}

uint64_t sp_request_parse_bytes(uint64_t length, uint64_t values, bool in_memory)
{
	return (in_memory ? 3 : 2) * length + values * SP_REQUEST_VALUE_BYTES;
}

uint64_t sp_request_max_values(const struct sp_config *config)
{
	return SP_REQUEST_BASE_VALUES +
	       (uint64_t)SP_REQUEST_VALUES_PER_TEST * config->judge_max_tests;
}

void sp_request_free(struct sp_request *req)
{
	sp_judge_free(req->judge);
	req->judge = NULL;
	free(req->echo);
	req->echo = NULL;
	sp_request_program_free(req);
}
