/* cgroups, v1 backend: one hierarchy per controller (memory, pids,
 * cpuacct), each with its own parent <own>/<name> below this process's
 * cgroup of that hierarchy and its own directory per cell; a hierarchy that
 * is absent or denied is passed over, and none usable gives mode none.
 * Memory is limited with memsw (swap included) where the kernel has it. */
#include "cgroup.h"
#include "cgroup_backend.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/log.h"

enum { V1_MEMORY, V1_PIDS, V1_CPUACCT, V1_COUNT };

static const char *const v1_controllers[V1_COUNT] = {"memory", "pids", "cpuacct"};

/* The v1 directories of a root or a cell, in the order of v1_controllers. */
#define V1_DIRS(x)                                                                                 \
	{                                                                                          \
		(x)->v1_memory_dir, (x)->v1_pids_dir, (x)->v1_cpuacct_dir                          \
	}

/* The directories of a cell in the order processes enter and leave them. */
#define V1_CELL_ORDER(c)                                                                           \
	{                                                                                          \
		(c)->v1_pids_dir, (c)->v1_memory_dir, (c)->v1_cpuacct_dir                          \
	}

/* ---- root ---- */

static void v1_set_flags(struct sp_cgroup_root *root)
{
	root->limits_memory = sp_cgroup_exists_at(root->v1_memory_dir, "memory.limit_in_bytes");
	root->limits_swap = root->limits_memory &&
			    sp_cgroup_exists_at(root->v1_memory_dir, "memory.memsw.limit_in_bytes");
	root->limits_pids = sp_cgroup_exists_at(root->v1_pids_dir, "pids.max");
	root->counts_cpu = sp_cgroup_exists_at(root->v1_cpuacct_dir, "cpuacct.usage");
	root->has_peak = sp_cgroup_exists_at(root->v1_memory_dir, "memory.max_usage_in_bytes");
	root->has_kill = false;
}

static void v1_set_reason(struct sp_cgroup_root *root, const char *notes)
{
	char *r = root->reason;
	size_t size = sizeof(root->reason);

	snprintf(r, size, "cgroup v1:%s%s%s", root->limits_memory ? " memory" : "",
		 root->limits_pids ? " pids" : "", root->counts_cpu ? " cpuacct" : "");
	if (root->limits_memory && !root->limits_swap)
		sp_cgroup_append_note(r, size, "no memsw (swap not limited)");
	if (notes[0] != '\0')
		sp_cgroup_append_note(r, size, "%s", notes);
}

/* Make <own>/<name> in one hierarchy. Returns 0, 1 when skipped (NOTES says
 * why), -1. */
static int v1_make_parent(const char *proc_cgroup, const char *mountinfo, size_t i,
			  const char *name, char *dir, bool *created, char *notes, size_t nsize,
			  struct sp_error *err)
{
	char own[PATH_MAX];
	int r;

	r = sp_cgroup_resolve_dir(proc_cgroup, mountinfo, v1_controllers[i], own, sizeof(own), err);
	if (r != 0) {
		if (r < 0)
			sp_cgroup_append_note(notes, nsize, "%s", err->message);
		else
			sp_cgroup_append_note(notes, nsize, "no %s hierarchy", v1_controllers[i]);
		return 1;
	}
	if (sp_cgroup_join(dir, PATH_MAX, own, name, err) < 0)
		return -1;
	sp_cgroup_sweep_stale(own);
	if (sp_cgroup_make_dir(dir, true, created, err) == 0)
		return 0;
	dir[0] = '\0';
	if (!sp_cgroup_is_denied(err->errnum))
		return -1;
	log_info("%s: %s", err->message, strerror(err->errnum));
	sp_cgroup_append_note(notes, nsize, "%s: %s", v1_controllers[i], strerror(err->errnum));
	return 1;
}

static int v1_root_init(struct sp_cgroup_root *root, const char *name, struct sp_error *err)
{
	char *dirs[V1_COUNT] = V1_DIRS(root);
	bool created[V1_COUNT] = {false};
	cleanup_free char *proc_cgroup = NULL;
	cleanup_free char *mountinfo = NULL;
	char notes[sizeof(root->reason)] = "";
	size_t i, usable = 0;
	int r;

	if (sp_cgroup_read_self(&proc_cgroup, &mountinfo, err) < 0)
		return -1;
	for (i = 0; i < V1_COUNT; i++) {
		r = v1_make_parent(proc_cgroup, mountinfo, i, name, dirs[i], &created[i], notes,
				   sizeof(notes), err);
		if (r < 0)
			goto fail;
		if (r == 0)
			usable++;
	}
	if (usable == 0) {
		sp_cgroup_set_none(
		    root, "cgroup v1 without a usable memory, pids or cpuacct hierarchy: %s",
		    notes);
		return 0;
	}
	root->mode = SP_CGROUP_V1;
	v1_set_flags(root);
	v1_set_reason(root, notes);
	log_info("%s", root->reason);
	return 0;

fail:
	sp_cgroup_undo_dirs(dirs, created, V1_COUNT);
	return -1;
}

static int v1_root_destroy(struct sp_cgroup_root *root, struct sp_error *err)
{
	char *dirs[V1_COUNT] = V1_DIRS(root);

	return sp_cgroup_remove_dirs(dirs, V1_COUNT, err);
}

/* ---- cells ---- */

/* memsw (memory + swap) may never be below limit_in_bytes: when the kernel
 * refuses the first write, the other order works. */
static int v1_set_memory(const char *dir, uint64_t bytes, bool memsw, struct sp_error *err)
{
	if (sp_cgroup_write_u64_at(dir, "memory.limit_in_bytes", bytes, err) == 0)
		return memsw
			   ? sp_cgroup_write_u64_at(dir, "memory.memsw.limit_in_bytes", bytes, err)
			   : 0;
	if (!memsw || err->errnum != EINVAL)
		return -1;
	if (sp_cgroup_write_u64_at(dir, "memory.memsw.limit_in_bytes", bytes, err) < 0)
		return -1;
	return sp_cgroup_write_u64_at(dir, "memory.limit_in_bytes", bytes, err);
}

static int v1_cell_set_limits(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			      struct sp_error *err)
{
	const struct sp_cgroup_root *root = cg->root;
	const char *mem = cg->v1_memory_dir;
	const char *pids = cg->v1_pids_dir;
	uint64_t bytes = limits->memory_kb ? sp_cgroup_memory_bytes(limits->memory_kb) : INT64_MAX;

	if (root->limits_memory && mem[0] != '\0' && sp_cgroup_memory_changed(cg, limits) &&
	    v1_set_memory(mem, bytes, root->limits_swap, err) < 0)
		return -1;
	if (root->limits_pids && pids[0] != '\0' && sp_cgroup_processes_changed(cg, limits) &&
	    sp_cgroup_write_pids_max(pids, limits->processes, err) < 0)
		return -1;
	return 0;
}

static int v1_prepare(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	const char *mem = cg->v1_memory_dir;

	/* a parent's oom_kill_disable would be inherited: tasks would hang */
	if (cg->root->limits_memory && mem[0] != '\0' &&
	    sp_cgroup_write_at(mem, "memory.oom_control", "0", err) < 0)
		return -1;
	return 0;
}

/* Whether dirs[i] is one of dirs[0..i) (co-mounted hierarchies). */
static bool same_as_earlier(char *const dirs[], size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (dirs[j][0] != '\0' && strcmp(dirs[j], dirs[i]) == 0)
			return true;
	return false;
}

static int v1_make_dirs(struct sp_cgroup_cell *cg, const char *name, struct sp_error *err)
{
	const char *parents[V1_COUNT] = V1_DIRS(cg->root);
	char *dirs[V1_COUNT] = V1_DIRS(cg);
	bool created[V1_COUNT] = {false};
	size_t i;

	for (i = 0; i < V1_COUNT; i++) {
		if (parents[i][0] == '\0')
			continue;
		if (sp_cgroup_join(dirs[i], PATH_MAX, parents[i], name, err) < 0)
			goto fail;
		if (!same_as_earlier(dirs, i) &&
		    sp_cgroup_make_dir(dirs[i], false, &created[i], err) < 0)
			goto fail;
	}
	return 0;

fail:
	sp_cgroup_undo_dirs(dirs, created, V1_COUNT);
	return -1;
}

static int v1_cell_make(struct sp_cgroup_cell *cg, const char *name, struct sp_error *err)
{
	return v1_make_dirs(cg, name, err) < 0 ? -1 : v1_prepare(cg, err);
}

static int v1_cell_open_counters(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	const struct sp_cgroup_counter_files files = {
	    .cpu_dir = cg->v1_cpuacct_dir,
	    .cpu_file = "cpuacct.usage",
	    .memory_dir = cg->v1_memory_dir,
	    .events_file = "memory.oom_control",
	    .peak_file = "memory.max_usage_in_bytes",
	};

	return sp_cgroup_open_counters(cg, &files, err);
}

static int v1_cell_attach(struct sp_cgroup_cell *cg, pid_t pid, struct sp_error *err)
{
	char *dirs[] = V1_CELL_ORDER(cg);

	return sp_cgroup_attach(dirs, SP_ARRAY_SIZE(dirs), pid, err);
}

/* cpuacct.usage is in ns already. */
static int v1_cell_read_counters(struct sp_cgroup_cell *cg, struct sp_usage *now,
				 struct sp_error *err)
{
	return sp_cgroup_read_counters(cg, NULL, now, err);
}

/* No cgroup.kill in v1: kill what each hierarchy lists until it is empty. */
static int v1_cell_remove(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	char *dirs[] = V1_CELL_ORDER(cg);
	size_t i;

	for (i = 0; i < SP_ARRAY_SIZE(dirs); i++) {
		if (dirs[i][0] == '\0')
			continue;
		if (sp_cgroup_kill_until_empty(dirs[i], err) < 0 ||
		    sp_cgroup_remove_dir(dirs[i], err) < 0)
			return -1;
		dirs[i][0] = '\0';
	}
	return 0;
}

const struct sp_cgroup_backend sp_cgroup_v1_backend = {
    .root_init = v1_root_init,
    .root_destroy = v1_root_destroy,
    .cell_make = v1_cell_make,
    .cell_open_counters = v1_cell_open_counters,
    .cell_attach = v1_cell_attach,
    .cell_set_limits = v1_cell_set_limits,
    .cell_read_counters = v1_cell_read_counters,
    .cell_remove = v1_cell_remove,
};
