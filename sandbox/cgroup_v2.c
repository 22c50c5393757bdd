/* cgroups, v2 backend: one hierarchy. The parent <own>/<name> of the cells
 * lies below this process's cgroup, with memory, pids and (when the kernel
 * lets us) cpu enabled for its children; each cell is <own>/<name>/<cell>.
 *
 * cgroup v2 forbids enabling controllers in a cgroup that holds processes
 * (the "no internal processes" rule; only the root cgroup is exempt). When
 * <own> holds this process and nothing else, the process moves itself into
 * the leaf <own>/sandpool-supervisor and tries again; when other processes are
 * there, the mode is none with a reason. A later sp_cgroup_root_init that
 * finds the process already in its leaf treats the leaf's parent as <own>.
 */
#include "cgroup.h"
#include "cgroup_backend.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/clock.h"
#include "sandbox/base/log.h"

/* One leaf for every sandpool process of a cgroup: a fixed name, so that
 * runs one after the other reuse it instead of leaving one leaf each. */
#define LEAF_NAME "sandpool-supervisor"

enum { CTRL_MEMORY = 1u << 0, CTRL_PIDS = 1u << 1, CTRL_CPU = 1u << 2 };

static const char *const v2_controllers[] = {"memory", "pids", "cpu"};

/* ---- root ---- */

/* Bits of the controllers listed in DIR/FILE (cgroup.controllers or
 * cgroup.subtree_control). */
static int v2_read_controllers(const char *dir, const char *file, unsigned int *mask,
			       struct sp_error *err)
{
	cleanup_free char *text = NULL;
	size_t i;

	*mask = 0;
	if (sp_cgroup_read_at(dir, file, &text, err) < 0)
		return -1;
	for (i = 0; i < SP_ARRAY_SIZE(v2_controllers); i++)
		if (sp_cgroup_has_word(text, strlen(text), v2_controllers[i], " \n"))
			*mask |= 1u << i;
	return 0;
}

/* Enable memory, pids and cpu (those DIR offers) in DIR/cgroup.subtree_control,
 * one at a time. cpu is best effort (the kernel may refuse it, e.g. while
 * realtime tasks exist); memory and pids failures are returned. */
static int v2_enable(const char *dir, unsigned int *enabled, struct sp_error *err)
{
	unsigned int offered, active, bit;
	char value[16];
	size_t i;

	if (v2_read_controllers(dir, "cgroup.controllers", &offered, err) < 0 ||
	    v2_read_controllers(dir, "cgroup.subtree_control", &active, err) < 0)
		return -1;
	for (i = 0; i < SP_ARRAY_SIZE(v2_controllers); i++) {
		bit = 1u << i;
		if (!(offered & bit) || (active & bit))
			continue;
		snprintf(value, sizeof(value), "+%s", v2_controllers[i]);
		if (sp_cgroup_write_at(dir, "cgroup.subtree_control", value, err) == 0) {
			active |= bit;
			continue;
		}
		if (bit != CTRL_CPU)
			return -1;
		log_warn("cpu controller not enabled in %s: %s", dir, strerror(err->errnum));
	}
	*enabled = active;
	return 0;
}

/* How many processes other than this one DIR holds, or -1. */
static int v2_count_others(const char *dir, struct sp_error *err)
{
	cleanup_free char *text = NULL;
	pid_t self = getpid();
	int others = 0;
	char *p, *end;

	if (sp_cgroup_read_at(dir, "cgroup.procs", &text, err) < 0)
		return -1;
	for (p = text;; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid != self)
			others++;
	}
	return others;
}

static int v2_move_self(const char *dir, struct sp_error *err)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return sp_cgroup_write_at(dir, "cgroup.procs", pid, err);
}

/* Move this process out of OWN into <own>/sandpool-supervisor so that OWN may
 * enable controllers. Returns 0, 1 when the mode is none (reason set), -1. */
static int v2_move_into_leaf(struct sp_cgroup_root *root, const char *own, struct sp_error *err)
{
	char leaf[PATH_MAX];
	bool created;
	int others, n;

	others = v2_count_others(own, err);
	if (others < 0)
		return -1;
	if (others > 0) {
		sp_cgroup_set_none(
		    root,
		    "cgroup v2: %s holds %d other processes, so no controller can be "
		    "enabled below it; run sandpool in a cgroup of its own",
		    own, others);
		return 1;
	}
	n = snprintf(leaf, sizeof(leaf), "%s/%s", own, LEAF_NAME);
	if (n < 0 || (size_t)n >= sizeof(leaf))
		return sp_error_set(err, ENAMETOOLONG, "leaf cgroup below %s", own);
	if (sp_cgroup_make_dir(leaf, true, &created, err) < 0)
		goto denied;
	if (v2_move_self(leaf, err) < 0) {
		if (created)
			rmdir(leaf);
		goto denied;
	}
	memcpy(root->v2_leaf_dir, leaf, sizeof(leaf));
	log_info("moved this process into %s (no internal processes in cgroup v2)", leaf);
	return 0;

denied:
	if (!sp_cgroup_is_denied(err->errnum))
		return -1;
	sp_cgroup_set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
	return 1;
}

/* Undo v2_move_into_leaf, best effort: back into OWN, remove the leaf. */
static void v2_leave_leaf(struct sp_cgroup_root *root, const char *own)
{
	struct sp_error ignored;

	if (root->v2_leaf_dir[0] == '\0')
		return;
	if (v2_move_self(own, &ignored) == 0)
		rmdir(root->v2_leaf_dir);
	root->v2_leaf_dir[0] = '\0';
}

/* Enable the controllers in OWN, moving into a leaf if OWN holds only this
 * process. Returns 0, 1 when the mode is none (reason set), -1. */
static int v2_enable_own(struct sp_cgroup_root *root, const char *own, struct sp_error *err)
{
	unsigned int enabled;
	int r;

	if (v2_enable(own, &enabled, err) == 0)
		return 0;
	if (err->errnum == EBUSY && root->v2_leaf_dir[0] == '\0') {
		r = v2_move_into_leaf(root, own, err);
		if (r != 0)
			return r;
		if (v2_enable(own, &enabled, err) == 0)
			return 0;
		v2_leave_leaf(root, own);
	}
	if (err->errnum == EBUSY) {
		sp_cgroup_set_none(root,
				   "cgroup v2: %s holds other processes, so no controller can be "
				   "enabled below it; run sandpool in a cgroup of its own",
				   own);
		return 1;
	}
	if (sp_cgroup_is_denied(err->errnum) || err->errnum == EOPNOTSUPP) {
		sp_cgroup_set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
		return 1;
	}
	return -1;
}

/* Our own cgroup directory; when this process already lives in the leaf
 * <own>/sandpool-supervisor (an earlier init), its parent. Returns 0, 1 when
 * the mode is none (reason set), -1. */
static int v2_own_dir(struct sp_cgroup_root *root, char *own, size_t size, struct sp_error *err)
{
	cleanup_free char *proc_cgroup = NULL;
	cleanup_free char *mountinfo = NULL;
	char *slash;
	int r;

	if (sp_cgroup_read_self(&proc_cgroup, &mountinfo, err) < 0)
		return -1;
	r = sp_cgroup_resolve_dir(proc_cgroup, mountinfo, NULL, own, size, err);
	if (r != 0) {
		if (r < 0)
			sp_cgroup_set_none(root, "cgroup v2: %s", err->message);
		else
			sp_cgroup_set_none(root, "cgroup v2: this process is in no cgroup2 cgroup");
		return 1;
	}
	slash = strrchr(own, '/');
	if (slash != NULL && strcmp(slash + 1, LEAF_NAME) == 0) {
		memcpy(root->v2_leaf_dir, own, strlen(own) + 1);
		*slash = '\0';
	}
	return 0;
}

static void v2_set_flags(struct sp_cgroup_root *root, unsigned int enabled)
{
	const char *dir = root->v2_dir;

	root->limits_memory = (enabled & CTRL_MEMORY) && sp_cgroup_exists_at(dir, "memory.max");
	root->limits_swap = root->limits_memory && sp_cgroup_exists_at(dir, "memory.swap.max");
	root->limits_pids = (enabled & CTRL_PIDS) && sp_cgroup_exists_at(dir, "pids.max");
	root->counts_cpu = sp_cgroup_exists_at(dir, "cpu.stat");
	root->has_kill = sp_cgroup_exists_at(dir, "cgroup.kill");
	root->has_peak = root->limits_memory && sp_cgroup_exists_at(dir, "memory.peak");
}

static void v2_set_reason(struct sp_cgroup_root *root)
{
	char *r = root->reason;
	size_t size = sizeof(root->reason);

	snprintf(r, size, "cgroup v2:%s%s%s", root->limits_memory ? " memory" : "",
		 root->limits_pids ? " pids" : "", root->counts_cpu ? " cpu.stat" : "");
	if (!root->limits_memory)
		sp_cgroup_append_note(r, size, "memory controller not available");
	else if (!root->limits_swap)
		sp_cgroup_append_note(r, size, "no memory.swap.max (swap not limited)");
	if (!root->limits_pids)
		sp_cgroup_append_note(r, size, "pids controller not available");
	if (root->limits_memory && !root->has_peak)
		sp_cgroup_append_note(r, size, "no memory.peak (largest resident set reported)");
	if (!root->has_kill)
		sp_cgroup_append_note(r, size, "no cgroup.kill");
	if (root->v2_leaf_dir[0] != '\0')
		sp_cgroup_append_note(r, size, "supervisor in %s", root->v2_leaf_dir);
}

static int v2_root_init(struct sp_cgroup_root *root, const char *name, struct sp_error *err)
{
	char *dirs[] = {root->v2_dir};
	char own[PATH_MAX];
	unsigned int enabled = 0;
	bool created = false;
	int r;

	r = v2_own_dir(root, own, sizeof(own), err);
	if (r == 0)
		r = v2_enable_own(root, own, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	sp_cgroup_sweep_stale(own);
	if (sp_cgroup_join(root->v2_dir, sizeof(root->v2_dir), own, name, err) < 0 ||
	    sp_cgroup_make_dir(root->v2_dir, true, &created, err) < 0 ||
	    v2_enable(root->v2_dir, &enabled, err) < 0)
		goto fail;
	if (!(enabled & (CTRL_MEMORY | CTRL_PIDS))) {
		sp_cgroup_undo_dirs(dirs, &created, 1);
		sp_cgroup_set_none(
		    root, "cgroup v2: neither memory nor pids controller available in %s", own);
		return 0;
	}
	root->mode = SP_CGROUP_V2;
	v2_set_flags(root, enabled);
	v2_set_reason(root);
	log_info("%s", root->reason);
	return 0;

fail:
	sp_cgroup_undo_dirs(dirs, &created, 1);
	if (!sp_cgroup_is_denied(err->errnum))
		return -1;
	sp_cgroup_set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
	return 0;
}

static int v2_root_destroy(struct sp_cgroup_root *root, struct sp_error *err)
{
	char *dirs[] = {root->v2_dir};

	if (sp_cgroup_remove_dirs(dirs, SP_ARRAY_SIZE(dirs), err) < 0)
		return -1;
	/* The leaf holds this process until it exits; it goes when empty. */
	if (root->v2_leaf_dir[0] != '\0') {
		if (rmdir(root->v2_leaf_dir) == 0 || errno == ENOENT)
			root->v2_leaf_dir[0] = '\0';
		else
			log_debug("leaving %s in place: %s", root->v2_leaf_dir, strerror(errno));
	}
	return 0;
}

/* ---- cells ---- */

static int v2_cell_set_limits(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			      struct sp_error *err)
{
	const struct sp_cgroup_root *root = cg->root;
	char text[32];

	if (root->limits_memory && sp_cgroup_memory_changed(cg, limits)) {
		sp_cgroup_limit_text(text, sizeof(text),
				     limits->memory_kb ? sp_cgroup_memory_bytes(limits->memory_kb)
						       : 0);
		if (sp_cgroup_write_at(cg->v2_dir, "memory.max", text, err) < 0)
			return -1;
	}
	if (root->limits_pids && sp_cgroup_processes_changed(cg, limits) &&
	    sp_cgroup_write_pids_max(cg->v2_dir, limits->processes, err) < 0)
		return -1;
	return 0;
}

/* Settings made once, when the cell cgroup is new. */
static int v2_prepare(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	if (cg->root->limits_swap &&
	    sp_cgroup_write_at(cg->v2_dir, "memory.swap.max", "0", err) < 0)
		return -1;
	return 0;
}

static int v2_make_dirs(struct sp_cgroup_cell *cg, const char *name, struct sp_error *err)
{
	bool created = false;

	if (sp_cgroup_join(cg->v2_dir, PATH_MAX, cg->root->v2_dir, name, err) < 0 ||
	    sp_cgroup_make_dir(cg->v2_dir, false, &created, err) < 0) {
		cg->v2_dir[0] = '\0';
		return -1;
	}
	return 0;
}

static int v2_cell_make(struct sp_cgroup_cell *cg, const char *name, struct sp_error *err)
{
	return v2_make_dirs(cg, name, err) < 0 ? -1 : v2_prepare(cg, err);
}

static int v2_cell_open_counters(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	const struct sp_cgroup_counter_files files = {
	    .cpu_dir = cg->v2_dir,
	    .cpu_file = "cpu.stat",
	    .memory_dir = cg->v2_dir,
	    .events_file = "memory.events",
	    .peak_file = "memory.peak",
	};

	return sp_cgroup_open_counters(cg, &files, err);
}

static int v2_cell_attach(struct sp_cgroup_cell *cg, pid_t pid, struct sp_error *err)
{
	char *dirs[] = {cg->v2_dir};

	return sp_cgroup_attach(dirs, SP_ARRAY_SIZE(dirs), pid, err);
}

/* cpu.stat counts usage_usec: in ns once every counter is read. */
static int v2_cell_read_counters(struct sp_cgroup_cell *cg, struct sp_usage *now,
				 struct sp_error *err)
{
	if (sp_cgroup_read_counters(cg, "usage_usec", now, err) < 0)
		return -1;
	now->cpu_ns *= 1000;
	return 0;
}

/* ---- killing a cell ---- */

/* Wait until "populated 0" in DIR/cgroup.events, for a bounded time. */
static int v2_wait_unpopulated(const char *dir, struct sp_error *err)
{
	uint64_t deadline = sp_clock_ms() + EMPTY_WAIT_MS;
	unsigned int round;
	uint64_t populated;
	int r;

	for (round = 0;; round++) {
		r = sp_cgroup_read_key_at(dir, "cgroup.events", "populated", &populated, err);
		if (r < 0)
			return -1;
		if (r == 1 || populated == 0)
			return 0;
		if (sp_clock_ms() >= deadline)
			return sp_error_set(err, ETIMEDOUT, "cgroup %s still populated", dir);
		sp_cgroup_backoff(round);
	}
}

static int v2_kill(const struct sp_cgroup_root *root, const char *dir, struct sp_error *err)
{
	if (root->has_kill) {
		if (sp_cgroup_write_at(dir, "cgroup.kill", "1", err) < 0)
			return err->errnum == ENOENT ? 0 : -1;
	} else if (sp_cgroup_kill_until_empty(dir, err) < 0) {
		return -1;
	}
	return v2_wait_unpopulated(dir, err);
}

static int v2_cell_remove(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	if (cg->v2_dir[0] == '\0')
		return 0;
	if (v2_kill(cg->root, cg->v2_dir, err) < 0 || sp_cgroup_remove_dir(cg->v2_dir, err) < 0)
		return -1;
	cg->v2_dir[0] = '\0';
	return 0;
}

const struct sp_cgroup_backend sp_cgroup_v2_backend = {
    .root_init = v2_root_init,
    .root_destroy = v2_root_destroy,
    .cell_make = v2_cell_make,
    .cell_open_counters = v2_cell_open_counters,
    .cell_attach = v2_cell_attach,
    .cell_set_limits = v2_cell_set_limits,
    .cell_read_counters = v2_cell_read_counters,
    .cell_remove = v2_cell_remove,
};
