/* A problem package's settings from its YAML files (problem.yaml,
 * testdata.yaml, test_group.yaml): documents read whole, their keys held
 * to a list, numbers, texts and sizes taken out with a message for the
 * client when they are not right; and a legacy testdata.yaml laid over a
 * test data group's settings. */
#ifndef SANDPOOL_PROBLEM_SETTINGS_H
#define SANDPOOL_PROBLEM_SETTINGS_H

#include <jansson.h>
#include <stdint.h>

#include "problem.h"
#include "problem_build.h"

/* PATH read as YAML into *DOC ({} when the file is missing or empty; at
 * most 1 MiB). Returns 0, or -1 with B's error. */
int sp_settings_read(struct sp_problem_build *b, const char *path, json_t **doc);

/* Each key of DOC must be one of KEYS (NULL-terminated); WHERE names DOC. */
int sp_settings_known(struct sp_problem_build *b, json_t *doc, const char *where,
		      const char *const *keys);

/* DOC's KEY, a finite YAML number or a string that is one, into *OUT;
 * left as it is when missing. */
int sp_settings_number(struct sp_problem_build *b, json_t *doc, const char *key, const char *where,
		       double *out);

/* DOC's KEY, a string, into *OUT (borrowed from DOC), NULL when missing. */
int sp_settings_text(struct sp_problem_build *b, json_t *doc, const char *key, const char *where,
		     const char **out);

/* LIMITS' KEY, a size in MiB (0 to 1 TiB), into *KB. */
int sp_settings_mib(struct sp_problem_build *b, json_t *limits, const char *key, uint64_t *kb);

/* TEXT, "A B" (two numbers, "inf", "-inf" and "+inf" among them, the
 * first no larger, a range that holds a number: not "inf inf"), as G's
 * score range. */
int sp_settings_range(struct sp_problem_build *b, const char *text, const char *where,
		      struct sp_problem_group *g);

/* DOC, the legacy testdata.yaml named WHERE, over G: on_reject, grading
 * (only "default"), grader_flags (the default grader's modes and flags; a
 * group that gives them gives all of its own), accept_score, reject_score,
 * range; *VALIDATOR_FLAGS its output_validator_flags when it gives them
 * (borrowed from DOC). Unknown keys are refused. */
int sp_settings_testdata(struct sp_problem_build *b, json_t *doc, const char *where,
			 struct sp_problem_group *g, const char **validator_flags);

#endif
