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
 *   problem               in place of tests, checker and interactor: the id
 *                         of a stored problem (problem_store.h), whose tests
 *                         and checking the request takes when it is attached
 *                         (judge_problem.h). The request's limits lie over
 *                         the problem's, which lie over the language's.
 */
#ifndef SANDPOOL_JUDGE_REQUEST_H
#define SANDPOOL_JUDGE_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "checker.h"
#include "config.h"
#include "default_validator.h"
#include "language.h"
#include "problem.h"
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
	/* A problem's test: its validator's flags (its group's), borrowed from
	 * the problem; none for a request's own test. */
	char *const *flags;
	size_t flag_count;
	const struct sp_default_validator_flags *default_flags;
};

/* How a checker or an interactor program is called, and what its exit
 * status says. */
enum sp_judge_convention {
	SP_CONVENTION_TESTLIB, /* checker input output answer; interactor input output [answer] */
	SP_CONVENTION_KATTIS,  /* validator input answer feedback/ [flags]: 42 accepted, 43 not */
};

/* A program compiled before the request came (a stored problem's): what
 * runs it. */
struct sp_judge_built {
	const struct sp_language *language; /* NULL: none */
	char **argv;			    /* borrowed from the problem */
	struct sp_limits limits;
	int box_fd; /* its files, a box archive; -1 with no program */
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
	/* A stored problem's judge: its id as asked, the limits the request
	 * itself gave (0: not given), and once attached the problem, whose
	 * programs come built. */
	char problem_id[SP_PROBLEM_ID_SIZE]; /* "" for a request's own tests */
	struct sp_limits asked;
	struct sp_problem *problem;
	bool default_validator; /* Kattis's, with each test's flags */
	enum sp_judge_convention checker_convention, interactor_convention;
	struct sp_judge_built checker_built, interactor_built;
};

/* Whether JUDGE has a checker program, given or built. */
bool sp_judge_has_checker(const struct sp_judge *judge);

/* Whether JUDGE has an interactor, given or built. */
bool sp_judge_has_interactor(const struct sp_judge *judge);

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
