/* The plain package format: NAME.in with NAME.ans or NAME.out, and a
 * testlib checker and interactor (problem_package.h says how). */
#ifndef SANDPOOL_PROBLEM_PLAIN_H
#define SANDPOOL_PROBLEM_PLAIN_H

#include "problem_build.h"

/* Read the plain package of B. Returns 0, or -1 with B's error. */
int sp_plain_read(struct sp_problem_build *b);

#endif
