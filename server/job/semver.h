/* Version ranges as npm's semver reads them (the ranges Piston's clients
 * send): "*", "x" and "" for any; a version, whole or partial ("3", "3.11",
 * "3.x", "3.11.*"); comparators >, >=, <, <=, = before one; caret (^) and
 * tilde (~) ranges; hyphen ranges ("1.2 - 2"); comparators joined by
 * spaces (all must hold) and alternatives joined by "||". A version is
 * read by its first three numbers ("17.0.21.1" is 17.0.21); pre-release
 * tags are not told apart. */
#ifndef SANDPOOL_SEMVER_H
#define SANDPOOL_SEMVER_H

/* 1 when VERSION satisfies RANGE, 0 when not, -1 when either cannot be
 * read. */
int sp_semver_satisfies(const char *version, const char *range);

/* <0, 0, >0 as version A is below, equal to or above B (by their first
 * three numbers; one that cannot be read is below any other). */
int sp_semver_compare(const char *a, const char *b);

#endif
