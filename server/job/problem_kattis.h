/* The ICPC/Kattis problem package format (problem_package.h says what of
 * it is read). */
#ifndef SANDPOOL_PROBLEM_KATTIS_H
#define SANDPOOL_PROBLEM_KATTIS_H

#include "problem_build.h"

/* Read the Kattis package of B: its problem.yaml, its tests and groups, its
 * output validator. Returns 0, or -1 with B's error. */
int sp_kattis_read(struct sp_problem_build *b);

#endif
