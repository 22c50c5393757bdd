/* A problem: tests stored once and judged against many times (a problem
 * package, read by problem_package.h, kept by problem_store.h).
 *
 * Its tests are grouped in a tree, as the ICPC/Kattis format's test data
 * groups are: each group holds tests and subgroups in order, and how a
 * group's result is made from its items' is the group's grading
 * (problem_grade.h). A package of another format has one group of all its
 * tests. Each test's input and answer are bytes of the problem's data file:
 * every test's, one after the other.
 *
 * How an answer is judged: the Kattis default output validator (built in,
 * with its flags), a program (an output validator in the Kattis convention,
 * a testlib checker), or a built-in checker of checker.h; an interactive
 * problem has an interactor (a Kattis validator that talks with the
 * program, or a testlib interactor, followed by the checker when there is
 * one). Programs are compiled once, when the package is stored; the problem
 * keeps what they need to run again (their language, entry and command)
 * besides their compiled files, which the store keeps.
 *
 * A problem is plain data: it is written as JSON (sp_problem_to_json) and
 * read back (sp_problem_from_json), checked as if it came from outside. */
#ifndef SANDPOOL_PROBLEM_H
#define SANDPOOL_PROBLEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checker.h"
#include "default_validator.h"
#include "sandbox/base/error.h"

/* A problem's id: 32 lowercase hex digits of a sha256 of its package's
 * files, and the NUL. */
#define SP_PROBLEM_ID_SIZE 33
/* Words of flags a group or a problem gives its validator, at most. */
#define SP_PROBLEM_MAX_FLAGS 64

enum sp_problem_format {
	SP_PROBLEM_KATTIS, /* ICPC/Kattis problem package */
	SP_PROBLEM_PLAIN,  /* a folder of NAME.in and NAME.ans (or .out) */
};

/* How an answer is judged. */
enum sp_problem_checking {
	SP_PROBLEM_DEFAULT_VALIDATOR, /* Kattis's default, built in, with flags */
	SP_PROBLEM_BUILTIN,	      /* a built-in checker of checker.h */
	SP_PROBLEM_VALIDATOR,	      /* validator input answer feedback/ [flags] < output: 42/43 */
	SP_PROBLEM_TESTLIB,	      /* checker input output answer: testlib's exit codes */
};

enum sp_problem_interaction {
	SP_PROBLEM_NOT_INTERACTIVE,
	SP_PROBLEM_KATTIS_INTERACTIVE, /* the validator talks with the program */
	SP_PROBLEM_TESTLIB_INTERACTOR, /* interactor input output [answer]; then the checker */
};

/* How a group's items make its verdict (the default grader's modes). */
enum sp_grade_verdict { SP_GRADE_WORST_ERROR, SP_GRADE_FIRST_ERROR, SP_GRADE_ALWAYS_ACCEPT };
enum sp_grade_score { SP_GRADE_SUM, SP_GRADE_AVG, SP_GRADE_MIN, SP_GRADE_MAX };

/* A program of the problem, compiled when it was stored. */
struct sp_problem_program {
	char *language; /* a language the server serves */
	char **files;	/* its source files' names, in the package's program folder */
	size_t file_count;
	char **argv; /* its run command, once compiled (NULL-terminated) */
	size_t argc;
};

struct sp_problem_item {
	bool is_group;
	size_t index; /* into tests or groups */
};

struct sp_problem_group {
	char *name;  /* "data/secret/group1"; a plain package's one group: "tests" */
	long parent; /* its index, -1 for the root (the first group) */
	bool on_reject_break;
	enum sp_grade_verdict verdict_mode;
	enum sp_grade_score score_mode;
	bool ignore_sample;
	bool accept_if_any_accepted;
	double accept_score, reject_score;
	double range_min, range_max; /* may be infinite */
	char **flags;		     /* the validator's flags for its tests, all */
	size_t flag_count;
	struct sp_default_validator_flags default_flags; /* FLAGS read, for the default */
	struct sp_problem_item *items;			 /* tests and subgroups, in order */
	size_t item_count;
};

struct sp_problem_test {
	char *name;   /* its path from the package's data folder, no extension */
	size_t group; /* the group it is an item of */
	uint64_t input_offset, input_length;
	uint64_t answer_offset, answer_length;
};

struct sp_problem {
	char id[SP_PROBLEM_ID_SIZE];
	enum sp_problem_format format;
	char *format_version; /* "legacy", "2023-07"...; NULL for a plain package */
	char *name;	      /* or NULL */
	bool scoring;	      /* a scoring problem, else pass-fail */
	enum sp_problem_checking checking;
	enum sp_checker_kind builtin;	     /* SP_PROBLEM_BUILTIN's */
	bool validator_scores;		     /* the validator may write score.txt */
	struct sp_problem_program validator; /* VALIDATOR, TESTLIB: its program */
	enum sp_problem_interaction interaction;
	struct sp_problem_program interactor; /* TESTLIB_INTERACTOR's */
	/* Limits the package gives, 0 where it gives none. */
	uint64_t time_ms, memory_kb, output_kb;
	struct sp_problem_group *groups; /* the root first */
	size_t group_count;
	struct sp_problem_test *tests; /* in the order they are judged */
	size_t test_count;
	uint64_t data_bytes;	/* of the data file */
	uint64_t package_bytes; /* of the package's files, unpacked */
	size_t package_files;
};

const char *sp_problem_format_to_string(enum sp_problem_format format);
const char *sp_problem_checking_to_string(enum sp_problem_checking checking);
const char *sp_problem_interaction_to_string(enum sp_problem_interaction interaction);

/* Whether ID is a problem id: 32 lowercase hex digits. */
bool sp_problem_id_valid(const char *id);

/* PROBLEM as JSON, everything of it (what the store keeps), or NULL when
 * out of memory. */
json_t *sp_problem_to_json(const struct sp_problem *problem);

/* A problem from DOC (sp_problem_to_json's), checked: every index in range,
 * the groups a tree whose items cover every test once, every byte range
 * within data_bytes, flags the default validator takes. Returns 0, or -1
 * with ERR (EINVAL) and *PROBLEM empty. */
int sp_problem_from_json(json_t *doc, struct sp_problem *problem, struct sp_error *err);

/* What a client is shown of PROBLEM: its id, format, name, type, limits,
 * how it is judged, its groups (name, tests, and for a scoring problem
 * their scores' settings) and its test count. NULL when out of memory. */
json_t *sp_problem_view(const struct sp_problem *problem);

/* Free everything of PROBLEM and empty it; safe twice. */
void sp_problem_free(struct sp_problem *problem);

#endif
