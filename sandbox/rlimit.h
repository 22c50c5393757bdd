/* rlimits of a step process: per process bounds under the cgroup limits, and
 * the only bounds when there is no cgroup. */
#ifndef SANDPOOL_RLIMIT_H
#define SANDPOOL_RLIMIT_H

#include <stdbool.h>

#include "limits.h"
#include "sandbox/base/error.h"

/* Set core 0, fsize, nofile, stack, cpu, and (when the cgroup does not limit
 * them) data size with an address space backstop, and process count. */
int sp_rlimit_in_child(const struct sp_limits *limits, bool cgroup_memory, bool cgroup_pids,
		       struct sp_error *err);

#endif
