/* The judge part of a request: the tests, and how an answer is checked.
 *
 *   tests                 required, 1 to the config's judge_max_tests:
 *                         {"name"?, "stdin" | "stdin_base64",
 *                          "expected" | "expected_base64", "limits"?}.
 *                         stdin is required ("" for none); expected is
 *                         required unless a checker program or an
 *                         interactor is given. A test's limits lie over
 *                         the request's. name: 1 to 128 bytes, no control
 *                         characters; "1", "2"... when left out.
 *   checker               {"type": "exact"|"lines"|"tokens"|"float",
 *                          "epsilon"?} (default "exact"; epsilon, float
 *                         only: 0 to 1, default 1e-6), or a program
 *                         {"language", "code"|"files", ...}: run as
 *                         `checker input output answer` in a sandbox of its
 *                         own.
 *   interactor            a program run beside each test, its stdout the
 *                         submission's stdin and the other way round, as
 *                         `interactor input output [answer]`; its exit
 *                         status is the verdict, or, when it accepts and a
 *                         checker program is given too, the checker's on
 *                         what the interactor wrote to its output file (a
 *                         built-in checker does not follow an interactor).
 *   stop_on_first_failure optional boolean: tests after the first that
 *                         fails are skipped.
 */
#ifndef SANDPOOL_JUDGE_REQUEST_H
#define SANDPOOL_JUDGE_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "checker.h"
#include "config.h"
#include "language.h"
#include "request_program.h"
#include "sandbox/limits.h"

#define SP_JUDGE_MAX_TEST_NAME 128

/* Bytes of the request's test data (struct sp_judge's data_fd). */
struct sp_judge_bytes {
	uint64_t offset;
	uint64_t length;
};

struct sp_judge_test {
	char *name;
	struct sp_judge_bytes input;
	struct sp_judge_bytes answer; /* when has_answer */
	bool has_answer;
	struct sp_limits limits;
};

struct sp_judge {
	/* Every test's input and answer, decoded, one after the other, in one
	 * sealed memfd: a request of a thousand tests holds one descriptor
	 * while it waits, not two thousand. */
	int data_fd;
	uint64_t data_size;
	struct sp_judge_test *tests;
	size_t test_count;
	enum sp_checker_kind checker_kind; /* when there is no checker program */
	double epsilon;
	struct sp_request *checker;    /* a checker program, or NULL */
	struct sp_request *interactor; /* or NULL */
	bool stop_on_first_failure;
};

/* The judge members of DOC into REQ->judge, for REQ's language and limits
 * (parsed already). *TOTAL counts bytes against max_body. Returns 0, or -1
 * with FAIL. */
int sp_judge_parse(json_t *doc, struct sp_request *req, const struct sp_language_set *languages,
		   const struct sp_config *config, uint64_t *total,
		   struct sp_request_failure *fail);

/* What the judge request REQ may take in the server more while it runs with
 * CELLS tests at once: its programs' compiles and compiled files (each at
 * most PROGRAM_BYTES, packed then unpacked), per test at once the outputs
 * of the submission, checker and interactor, copies of the test's bytes and
 * the interactor's file, and every test's result. */
uint64_t sp_judge_reserve(const struct sp_request *req, unsigned cells, uint64_t program_bytes);

void sp_judge_free(struct sp_judge *judge);

#endif
