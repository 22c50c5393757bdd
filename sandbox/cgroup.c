/* cgroups: v2, v1 and none behind one interface.
 *
 * Every cgroup sandpool makes lies below the cgroup this process is in:
 * <own>/<name> is the parent of the cells and <own>/<name>/<cell> one cell
 * (its init and every step it runs); on v1 once per hierarchy (memory,
 * pids, cpuacct).
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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cleanup.h"
#include "log.h"

/* One leaf for every sandpool process of a cgroup: a fixed name, so that
 * runs one after the other reuse it instead of leaving one leaf each. */
#define LEAF_NAME "sandpool-supervisor"

enum { V1_MEMORY, V1_PIDS, V1_CPUACCT, V1_COUNT };

static const char *const v1_controllers[V1_COUNT] = {"memory", "pids", "cpuacct"};

/* The v1 directories of a root or a job, in the order of v1_controllers. */
#define V1_DIRS(x)                                                                                 \
	{                                                                                          \
		(x)->v1_memory_dir, (x)->v1_pids_dir, (x)->v1_cpuacct_dir                          \
	}

/* Every directory of a cell cgroup, whatever the mode. */
#define CELL_DIRS(c)                                                                               \
	{                                                                                          \
		(c)->v2_dir, (c)->v1_pids_dir, (c)->v1_memory_dir, (c)->v1_cpuacct_dir             \
	}

enum { CTRL_MEMORY = 1u << 0, CTRL_PIDS = 1u << 1, CTRL_CPU = 1u << 2 };

static const char *const v2_controllers[] = {"memory", "pids", "cpu"};

const char *sp_cgroup_mode_to_string(enum sp_cgroup_mode mode)
{
	switch (mode) {
	case SP_CGROUP_NONE:
		return "none";
	case SP_CGROUP_V1:
		return "v1";
	case SP_CGROUP_V2:
		return "v2";
	}
	return "?";
}

static bool valid_name(const char *name)
{
	return name != NULL && name[0] != '\0' && strchr(name, '/') == NULL &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strlen(name) <= NAME_MAX;
}

/* ---- killing ---- */

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

/* ---- root: none ---- */

static void __attribute__((format(printf, 2, 3)))
set_none(struct sp_cgroup_root *root, const char *fmt, ...)
{
	char reason[sizeof(root->reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	memset(root, 0, sizeof(*root));
	root->mode = SP_CGROUP_NONE;
	memcpy(root->reason, reason, sizeof(reason));
	log_info("cgroups not used: %s", root->reason);
}

/* ---- root: v1 ---- */

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
		set_none(root, "cgroup v1 without a usable memory, pids or cpuacct hierarchy: %s",
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

/* ---- root: v2 ---- */

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
		set_none(root,
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
	set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
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
		set_none(root,
			 "cgroup v2: %s holds other processes, so no controller can be "
			 "enabled below it; run sandpool in a cgroup of its own",
			 own);
		return 1;
	}
	if (sp_cgroup_is_denied(err->errnum) || err->errnum == EOPNOTSUPP) {
		set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
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
			set_none(root, "cgroup v2: %s", err->message);
		else
			set_none(root, "cgroup v2: this process is in no cgroup2 cgroup");
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
		if (created)
			rmdir(root->v2_dir);
		set_none(root, "cgroup v2: neither memory nor pids controller available in %s",
			 own);
		return 0;
	}
	root->mode = SP_CGROUP_V2;
	v2_set_flags(root, enabled);
	v2_set_reason(root);
	log_info("%s", root->reason);
	return 0;

fail:
	if (created)
		rmdir(root->v2_dir);
	root->v2_dir[0] = '\0';
	if (!sp_cgroup_is_denied(err->errnum))
		return -1;
	set_none(root, "cgroup v2: %s: %s", err->message, strerror(err->errnum));
	return 0;
}

/* ---- root ---- */

int sp_cgroup_root_init(struct sp_cgroup_root *root, const char *name,
			enum sp_cgroup_request request, struct sp_error *err)
{
	struct sp_error local;
	struct statfs fs;

	if (err == NULL)
		err = &local;
	memset(root, 0, sizeof(*root));
	root->mode = SP_CGROUP_NONE;
	if (!valid_name(name))
		return sp_error_set(err, EINVAL, "bad cgroup name '%s'", name ? name : "(null)");
	if (request == SP_CGROUP_FORCE_NONE) {
		set_none(root, "disabled by request");
		return 0;
	}
	if (statfs(CGROUP_MOUNT, &fs) < 0) {
		set_none(root, "statfs %s: %s", CGROUP_MOUNT, strerror(errno));
		return 0;
	}
	if (fs.f_type == CGROUP2_SUPER_MAGIC)
		return v2_root_init(root, name, err);
	if (fs.f_type == TMPFS_MAGIC)
		return v1_root_init(root, name, err);
	set_none(root, "%s is neither cgroup2 nor tmpfs (type 0x%llx)", CGROUP_MOUNT,
		 (unsigned long long)fs.f_type);
	return 0;
}

int sp_cgroup_root_destroy(struct sp_cgroup_root *root, struct sp_error *err)
{
	char *dirs[] = {root->v2_dir, root->v1_memory_dir, root->v1_pids_dir, root->v1_cpuacct_dir};
	struct sp_error local;
	size_t i;

	if (err == NULL)
		err = &local;
	for (i = 0; i < SP_ARRAY_SIZE(dirs); i++) {
		if (dirs[i][0] == '\0')
			continue;
		if (sp_cgroup_remove_dir(dirs[i], err) < 0)
			return -1;
		dirs[i][0] = '\0';
	}
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

static uint64_t memory_bytes(uint64_t memory_kb)
{
	const uint64_t max_kb = INT64_MAX / 1024;

	return (memory_kb < max_kb ? memory_kb : max_kb) * 1024;
}

/* The pids limit of the cgroup for a step that may have PROCESSES. */
static uint64_t pids_max(uint64_t processes)
{
	return processes + SP_CGROUP_CELL_INIT_PROCESSES;
}

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

/* "max" for 0 (no limit), else the number. */
static void limit_text(char *text, size_t size, uint64_t value)
{
	if (value == 0)
		snprintf(text, size, "max");
	else
		snprintf(text, size, "%" PRIu64, value);
}

static int v2_set_limits(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			 struct sp_error *err)
{
	const struct sp_cgroup_root *root = cg->root;
	char text[32];

	if (root->limits_memory && (!cg->limits_known || limits->memory_kb != cg->memory_kb)) {
		limit_text(text, sizeof(text),
			   limits->memory_kb ? memory_bytes(limits->memory_kb) : 0);
		if (sp_cgroup_write_at(cg->v2_dir, "memory.max", text, err) < 0)
			return -1;
	}
	if (root->limits_pids && (!cg->limits_known || limits->processes != cg->processes)) {
		limit_text(text, sizeof(text), limits->processes ? pids_max(limits->processes) : 0);
		if (sp_cgroup_write_at(cg->v2_dir, "pids.max", text, err) < 0)
			return -1;
	}
	return 0;
}

static int v1_set_limits(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			 struct sp_error *err)
{
	const struct sp_cgroup_root *root = cg->root;
	const char *mem = cg->v1_memory_dir;
	const char *pids = cg->v1_pids_dir;
	char text[32];

	if (root->limits_memory && mem[0] != '\0' &&
	    (!cg->limits_known || limits->memory_kb != cg->memory_kb) &&
	    v1_set_memory(mem, limits->memory_kb ? memory_bytes(limits->memory_kb) : INT64_MAX,
			  root->limits_swap, err) < 0)
		return -1;
	if (root->limits_pids && pids[0] != '\0' &&
	    (!cg->limits_known || limits->processes != cg->processes)) {
		limit_text(text, sizeof(text), limits->processes ? pids_max(limits->processes) : 0);
		if (sp_cgroup_write_at(pids, "pids.max", text, err) < 0)
			return -1;
	}
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

/* Open DIR/FILE for the cell's life (-1, not an error, when it is absent). */
static int open_counter(const char *dir, const char *file, int flags, int *fd, struct sp_error *err)
{
	char path[PATH_MAX];

	*fd = -1;
	if (dir[0] == '\0')
		return 0;
	if (sp_cgroup_join(path, sizeof(path), dir, file, err) < 0)
		return -1;
	*fd = open(path, flags | O_CLOEXEC);
	if (*fd < 0 && errno != ENOENT)
		return sp_error_set(err, errno, "open %s", path);
	return 0;
}

/* The peak restarts when written to (v1: any value; v2: since Linux 6.12,
 * per open file). */
static bool peak_reset(int fd)
{
	return fd >= 0 && pwrite(fd, "0", 1, 0) == 1;
}

static int open_counters(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	bool v2 = cg->root->mode == SP_CGROUP_V2;
	const char *mem = v2 ? cg->v2_dir : cg->v1_memory_dir;
	const char *cpu = v2 ? cg->v2_dir : cg->v1_cpuacct_dir;

	if (open_counter(cpu, v2 ? "cpu.stat" : "cpuacct.usage", O_RDONLY, &cg->cpu_fd, err) < 0)
		return -1;
	if (!cg->root->limits_memory)
		return 0;
	if (open_counter(mem, v2 ? "memory.events" : "memory.oom_control", O_RDONLY, &cg->events_fd,
			 err) < 0)
		return -1;
	/* a peak this process may not write is read as not measured */
	if (open_counter(mem, v2 ? "memory.peak" : "memory.max_usage_in_bytes", O_RDWR,
			 &cg->peak_fd, err) < 0 &&
	    err->errnum != EACCES && err->errnum != EPERM)
		return -1;
	cg->peak_resets = peak_reset(cg->peak_fd);
	return 0;
}

static int attach(struct sp_cgroup_cell *cg, pid_t pid, struct sp_error *err)
{
	char *dirs[] = CELL_DIRS(cg);
	char value[32];
	size_t i;

	snprintf(value, sizeof(value), "%d", (int)pid);
	for (i = 0; i < SP_ARRAY_SIZE(dirs); i++)
		if (dirs[i][0] != '\0' &&
		    sp_cgroup_write_at(dirs[i], "cgroup.procs", value, err) < 0)
			return -1;
	return 0;
}

static void close_counters(struct sp_cgroup_cell *cg)
{
	int *fds[] = {&cg->cpu_fd, &cg->peak_fd, &cg->events_fd};

	for (size_t i = 0; i < SP_ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void sp_cgroup_cell_clear(struct sp_cgroup_cell *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->cpu_fd = cg->peak_fd = cg->events_fd = -1;
}

int sp_cgroup_cell_create(const struct sp_cgroup_root *root, struct sp_cgroup_cell *cg,
			  const char *name, pid_t pid, struct sp_error *err)
{
	struct sp_error local;
	int rc;

	if (err == NULL)
		err = &local;
	sp_cgroup_cell_clear(cg);
	if (root->mode == SP_CGROUP_NONE)
		return 0;
	if (!valid_name(name))
		return sp_error_set(err, EINVAL, "bad cell cgroup name '%s'",
				    name ? name : "(null)");
	cg->root = root;
	if (root->mode == SP_CGROUP_V2)
		rc = v2_make_dirs(cg, name, err) < 0 ? -1 : v2_prepare(cg, err);
	else
		rc = v1_make_dirs(cg, name, err) < 0 ? -1 : v1_prepare(cg, err);
	if (rc == 0)
		rc = open_counters(cg, err);
	if (rc == 0)
		rc = attach(cg, pid, err);
	if (rc < 0) {
		sp_cgroup_cell_destroy(cg, NULL);
		cg->root = NULL;
	}
	return rc;
}

bool sp_cgroup_cell_active(const struct sp_cgroup_cell *cg)
{
	return cg->root != NULL;
}

/* Read the whole of a counter file through its open FD. */
static int read_counter(int fd, char *buf, size_t size, struct sp_error *err)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return sp_error_set(err, errno, "read a cgroup counter");
	buf[n] = '\0';
	return 0;
}

static int read_number(int fd, const char *key, uint64_t *value, struct sp_error *err)
{
	char text[1024];

	*value = 0;
	if (fd < 0)
		return 0;
	if (read_counter(fd, text, sizeof(text), err) < 0)
		return -1;
	if (key != NULL)
		sp_cgroup_find_key(text, key, value);
	else if (!sp_cgroup_parse_u64(text, value))
		return sp_error_set(err, EINVAL, "no number in a cgroup counter");
	return 0;
}

/* The counters now: cpu in ns, the peak, OOM kills. */
static int read_counters(struct sp_cgroup_cell *cg, struct sp_usage *now, struct sp_error *err)
{
	bool v2 = cg->root->mode == SP_CGROUP_V2;

	if (read_number(cg->cpu_fd, v2 ? "usage_usec" : NULL, &now->cpu_ns, err) < 0 ||
	    read_number(cg->events_fd, "oom_kill", &now->oom_kills, err) < 0 ||
	    (cg->peak_resets && read_number(cg->peak_fd, NULL, &now->memory_bytes, err) < 0))
		return -1;
	if (v2)
		now->cpu_ns *= 1000;
	return 0;
}

int sp_cgroup_cell_begin(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			 struct sp_error *err)
{
	struct sp_error local;
	int rc;

	if (err == NULL)
		err = &local;
	if (cg->root == NULL)
		return 0;
	rc = cg->root->mode == SP_CGROUP_V2 ? v2_set_limits(cg, limits, err)
					    : v1_set_limits(cg, limits, err);
	if (rc < 0) {
		cg->limits_known = false;
		return -1;
	}
	cg->limits_known = true;
	cg->memory_kb = limits->memory_kb;
	cg->processes = limits->processes;
	if (cg->peak_resets && !peak_reset(cg->peak_fd))
		return sp_error_set(err, errno, "reset the memory peak");
	return read_counters(cg, &cg->start, err);
}

static uint64_t since(uint64_t now, uint64_t start)
{
	return now > start ? now - start : 0;
}

int sp_cgroup_cell_usage(struct sp_cgroup_cell *cg, struct sp_usage *usage, struct sp_error *err)
{
	struct sp_usage now = {0};
	struct sp_error local;

	if (err == NULL)
		err = &local;
	memset(usage, 0, sizeof(*usage));
	if (cg->root == NULL)
		return 0;
	if (read_counters(cg, &now, err) < 0)
		return -1;
	usage->cpu_ns = since(now.cpu_ns, cg->start.cpu_ns);
	usage->memory_bytes = since(now.memory_bytes, cg->start.memory_bytes);
	usage->oom_kills = since(now.oom_kills, cg->start.oom_kills);
	return 0;
}

int sp_cgroup_cell_destroy(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	char *dirs[] = CELL_DIRS(cg);
	struct sp_error local;
	size_t i;

	if (err == NULL)
		err = &local;
	if (cg->root == NULL)
		return 0;
	close_counters(cg);
	if (cg->v2_dir[0] != '\0' && v2_kill(cg->root, cg->v2_dir, err) < 0)
		return -1;
	for (i = 0; i < SP_ARRAY_SIZE(dirs); i++) {
		if (dirs[i][0] == '\0')
			continue;
		if (cg->v2_dir[0] == '\0' && sp_cgroup_kill_until_empty(dirs[i], err) < 0)
			return -1;
		if (sp_cgroup_remove_dir(dirs[i], err) < 0)
			return -1;
		dirs[i][0] = '\0';
	}
	cg->root = NULL;
	return 0;
}
