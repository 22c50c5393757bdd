/* Judge mode: the default output validator of the ICPC/Kattis problem package
 * format (spec/legacy.md, "Default output validator specification"), as a
 * built-in checker. Where the format's text and its reference implementation
 * (problemtools, support/default_validator/default_validator.cc) differ, this
 * follows the implementation; such places are marked (impl).
 *
 * Flags, word by word as the package gives them (validator_flags, then a test
 * group's output_validator_flags):
 *   case_sensitive              string tokens compare byte for byte
 *   space_change_sensitive      whitespace compares byte for byte
 *   float_absolute_tolerance E  the absolute tolerance is E
 *   float_relative_tolerance E  the relative tolerance is E
 *   float_tolerance E           both are E
 * A flag may come again; a later value replaces an earlier one. E is a number
 * as below (so finite), and not negative: the reference takes a negative E,
 * which then never accepts anything; it is refused here. Any other word is
 * refused, as the reference refuses it.
 *
 * Whitespace is the "C" locale's isspace(): space, \t, \n, \v, \f, \r. A token
 * is a maximal run of other bytes; NUL and bytes >= 0x80 are bytes like any
 * other.
 *
 *   - By default whitespace only separates tokens: any run of it, at the start
 *     and at the end too, is the same as any other or as none.
 *   - space_change_sensitive: the whitespace before each token and after the
 *     last one must be the same bytes on both sides (impl: the spec speaks of
 *     "changes in the amount of whitespace"; the reference compares the bytes,
 *     so a missing or an extra final newline, or '\t' for ' ', is wrong).
 *
 * The answer's tokens are taken in order; for each, the output's next one:
 *   1. When a tolerance is set and the answer token is a finite number, the
 *      output token must be a finite number too, and is accepted when
 *      |a - t| <= the absolute tolerance or |a - t| <= the relative tolerance
 *      * |a| (only a tolerance that is set counts). Their text does not
 *      matter: with a tolerance of 0, "1" still accepts "1.0" or "1E0".
 *   2. Otherwise (no tolerance, or an answer token that is not a finite
 *      number) they compare as strings: byte for byte with case_sensitive,
 *      else as strcasecmp() does in the "C" locale, where only A-Z and a-z
 *      fold.
 *   A number is a token that is all one ISO C strtod() number in the "C"
 *   locale: a sign, decimal digits with at most one '.' and an optional e or E
 *   exponent, or 0x hexadecimal digits with at most one '.' and an optional p
 *   or P exponent; at least one mantissa digit, a whole exponent. It is finite
 *   unless it is "inf", "infinity", "nan", "nan(...)" (any case) or too large
 *   for a double, like 1e400 (impl: the spec does not say); a value too small
 *   for one is 0 or subnormal, finite. So an answer "inf" or "nan" is a string
 *   token, and "NaN" matches it unless case_sensitive.
 * The output ending while the answer has a token left is wrong; a token left
 * in the output after the answer's last is wrong. An answer with no token
 * accepts an output with no token (impl: the spec does not say).
 *
 * Where this differs from the reference (a C++ program, on glibc):
 *   - The reference compares and reads tokens as C strings, so it ignores what
 *     follows a NUL byte within a token; here a NUL is an ordinary byte.
 *   - The reference reads numbers with sscanf("%lf%10s"). ISO C makes that a
 *     whole-token strtod() read, as here, but glibc's sscanf also takes a token
 *     that ends in a bare exponent mark ("1e", "2E-", "0x1p") or is "0x." as a
 *     number; not here.
 *
 * The message says where the two sides part: the line (1-based) of the output
 * and of the answer at the tokens (or whitespace) compared, and what each has
 * there: a token, a whitespace byte or "end of output", quoted and escaped as
 * checker.c does (valid UTF-8, control bytes and bytes that are not UTF-8 as
 * \xNN, at most 40 bytes of each).
 *
 * Time is linear in the input and nothing is allocated: a number of any length
 * is read in bounded memory (its first 800 significant digits, and whether any
 * later one is not 0, fix the double it rounds to). */
#ifndef SANDPOOL_DEFAULT_VALIDATOR_H
#define SANDPOOL_DEFAULT_VALIDATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "checker.h"

struct sp_default_validator_flags {
	bool case_sensitive;
	bool space_change_sensitive;
	bool has_float_abs, has_float_rel;
	double float_abs, float_rel; /* >= 0 and finite when set */
};

/* The flags ARGS (COUNT words, as the package gives them: validator_flags and
 * a test group's output_validator_flags, split on whitespace) into *FLAGS.
 * Returns 0, or -1 with *FLAGS cleared and WHY (WHY_SIZE bytes; may be NULL
 * when WHY_SIZE is 0) a sentence for a client, such as "unknown flag \"foo\""
 * or "float_tolerance needs a number", when a word is not a flag the default
 * validator takes or a tolerance is not a finite number >= 0. */
int sp_default_validator_flags_parse(const char *const *args, size_t count,
				     struct sp_default_validator_flags *flags, char *why,
				     size_t why_size);

/* Judge OUTPUT (the program's, OUT_LEN bytes, may hold NUL bytes, not
 * NUL-terminated) against ANSWER (the answer file, ANS_LEN bytes) under FLAGS
 * (NULL: none). RES->outcome is SP_CHECK_ACCEPTED or SP_CHECK_WRONG_ANSWER,
 * never a presentation error; RES->message is "" when accepted, else where
 * and how they differ. */
void sp_default_validate(const struct sp_default_validator_flags *flags, const char *output,
			 size_t out_len, const char *answer, size_t ans_len,
			 struct sp_check_result *res);

#endif
