/* Judge mode: the built-in checkers that compare a program's output with the
 * expected answer.
 *
 *   exact   byte for byte. When the two differ but are the same sequence of
 *           whitespace-separated tokens, a presentation error.
 *   lines   line by line: a '\r' before '\n', whitespace at the end of a
 *           line (space, \t, \r, \v, \f) and empty lines at the end of
 *           either side are ignored. Otherwise as exact: token-equal is a
 *           presentation error, anything else a wrong answer naming the
 *           first differing line.
 *   tokens  the whitespace-separated tokens (space, \t, \n, \r, \v, \f) are
 *           the same; how they are spaced never matters.
 *   float   as tokens, but a pair of tokens that are both numbers (all of
 *           the token is read by strtod, "nan" and "inf" in any case
 *           included) are equal when |found - expected| <= epsilon or
 *           <= epsilon * |expected|. NaN only matches NaN, an infinity only
 *           the same infinity (a number too large for a double is that
 *           infinity), -0 matches 0.
 *
 * Both sides are byte strings of a given length: NUL bytes are ordinary
 * bytes and nothing is read past the length. Time is linear in the input and
 * nothing is allocated. */
#ifndef SANDPOOL_CHECKER_H
#define SANDPOOL_CHECKER_H

#include <stddef.h>

enum sp_checker_kind {
	SP_CHECKER_EXACT,
	SP_CHECKER_LINES,
	SP_CHECKER_TOKENS,
	SP_CHECKER_FLOAT,
};

enum sp_check_outcome {
	SP_CHECK_ACCEPTED,
	SP_CHECK_WRONG_ANSWER,
	SP_CHECK_PRESENTATION_ERROR,
};

#define SP_CHECK_MESSAGE_MAX 256

struct sp_check_result {
	enum sp_check_outcome outcome;
	/* "" when accepted, else where the two differ; valid UTF-8 always
	 * (bytes of the output that are not, and control characters, are
	 * escaped as \xNN). */
	char message[SP_CHECK_MESSAGE_MAX];
};

/* "exact", "lines", "tokens", "float" -> kind; returns 0 or -1 for an unknown name */
int sp_checker_kind_from_string(const char *name, enum sp_checker_kind *kind);
const char *sp_checker_kind_to_string(enum sp_checker_kind kind);

/* Compare OUTPUT (the program's, OUT_LEN bytes, may contain NUL bytes, not
 * NUL-terminated) with ANSWER (the expected, ANS_LEN bytes). EPSILON is used
 * by float only (>= 0; a negative or NaN one counts as 0). */
void sp_check(enum sp_checker_kind kind, double epsilon, const char *output, size_t out_len,
	      const char *answer, size_t ans_len, struct sp_check_result *res);

#endif
