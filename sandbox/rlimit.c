#include "rlimit.h"

#include <errno.h>
#include <sys/resource.h>

static int set_limit(int resource, const char *name, rlim_t value, struct sp_error *err)
{
	struct rlimit rl = {.rlim_cur = value, .rlim_max = value};

	if (setrlimit(resource, &rl) < 0)
		return sp_error_set(err, errno, "setrlimit %s", name);
	return 0;
}

/* A bound in KiB as bytes, or infinity when 0 (not limited). */
static rlim_t kib(uint64_t value)
{
	return value == 0 ? RLIM_INFINITY : (rlim_t)value * 1024;
}

/* CPU seconds rounded up, plus one, so that the supervisor's own accounting
 * decides and the rlimit is a backstop. */
static rlim_t cpu_seconds(uint64_t cpu_ms)
{
	return cpu_ms == 0 ? RLIM_INFINITY : (rlim_t)((cpu_ms + 999) / 1000 + 1);
}

int sp_rlimit_in_child(const struct sp_limits *limits, bool cgroup_memory, bool cgroup_pids,
		       struct sp_error *err)
{
	if (set_limit(RLIMIT_CORE, "core", 0, err) < 0)
		return -1;
	if (set_limit(RLIMIT_FSIZE, "fsize", kib(limits->file_kb), err) < 0)
		return -1;
	if (limits->open_files && set_limit(RLIMIT_NOFILE, "nofile", limits->open_files, err) < 0)
		return -1;
	if (set_limit(RLIMIT_STACK, "stack", kib(limits->stack_kb), err) < 0)
		return -1;
	if (set_limit(RLIMIT_CPU, "cpu", cpu_seconds(limits->cpu_ms), err) < 0)
		return -1;
	if (!cgroup_memory && set_limit(RLIMIT_AS, "as", kib(limits->memory_kb), err) < 0)
		return -1;
	if (!cgroup_pids && limits->processes &&
	    set_limit(RLIMIT_NPROC, "nproc", limits->processes, err) < 0)
		return -1;
	return 0;
}
