#include "rlimit.h"

#include <errno.h>
#include <sys/resource.h>

#define AS_BACKSTOP_KB (4ull * 1024 * 1024) /* 4 GiB */

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

/* Without a memory cgroup only per-process bounds exist, and they count
 * mappings, not the pages used. RLIMIT_DATA counts private writable
 * mappings, committed or not (a JVM's thread stacks count in full), so it
 * is twice the limit. The address space gets a backstop above that, since
 * runtimes reserve far more than they use (the JVM's class space, Go's page
 * summaries) and would not start under RLIMIT_AS = the limit; the backstop
 * bounds shared anonymous memory, which RLIMIT_DATA does not count. */
static int limit_memory(uint64_t memory_kb, struct sp_error *err)
{
	if (memory_kb == 0)
		return 0;
	if (set_limit(RLIMIT_DATA, "data", kib(memory_kb * 2), err) < 0)
		return -1;
	return set_limit(RLIMIT_AS, "as", kib(memory_kb * 4 + AS_BACKSTOP_KB), err);
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
	if (!cgroup_memory && limit_memory(limits->memory_kb, err) < 0)
		return -1;
	if (!cgroup_pids && limits->processes &&
	    set_limit(RLIMIT_NPROC, "nproc", limits->processes, err) < 0)
		return -1;
	return 0;
}
