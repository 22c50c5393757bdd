/* cgroups: one interface, three backends (v2, v1, none), detected as crun does. */
#ifndef SANDPOOL_CGROUP_H
#define SANDPOOL_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "limits.h"
#include "sandbox/base/error.h"

enum sp_cgroup_mode { SP_CGROUP_NONE, SP_CGROUP_V1, SP_CGROUP_V2 };

/* What the caller asks for: detect, or force one mode (tests, `--cgroup none`). */
enum sp_cgroup_request { SP_CGROUP_AUTO, SP_CGROUP_FORCE_NONE };

const char *sp_cgroup_mode_to_string(enum sp_cgroup_mode mode);

/* The cgroup(s) under which sandpool makes one cgroup per cell: a child of
 * the cgroup this process is in, per hierarchy. */
struct sp_cgroup_root {
	enum sp_cgroup_mode mode;
	char v2_dir[PATH_MAX];	      /* v2: the parent of job cgroups */
	char v2_leaf_dir[PATH_MAX];   /* v2: leaf this process moved itself into, "" if none */
	char v1_memory_dir[PATH_MAX]; /* v1: one parent per controller, "" when absent */
	char v1_pids_dir[PATH_MAX];
	char v1_cpuacct_dir[PATH_MAX];
	bool limits_memory; /* memory limit of the whole tree is enforced */
	bool limits_swap;   /* swap is limited to 0 (v2 swap.max, v1 memsw) */
	bool limits_pids;
	bool counts_cpu;  /* cpu time of the whole tree is counted */
	bool has_kill;	  /* v2 cgroup.kill */
	bool has_peak;	  /* v2 memory.peak, v1 max_usage_in_bytes */
	char reason[256]; /* why the mode is what it is (for `sandpool check`) */
};

/* The name of the parent cgroup of a sandpool process doing WORD ("serve",
 * "run"): "sandpool-WORD-PID-nsINODE", its pid and its pid namespace, so
 * that a process of another pid namespace under the same cgroup never
 * takes it for the leftover of a dead one (sp_cgroup_root_init sweeps
 * those of its own namespace only). */
void sp_cgroup_owner_name(char *buf, size_t size, const char *word);

/* Detect the cgroup mode and create the parent cgroup NAME below this
 * process's own cgroup. A host where cgroups cannot be used (no permission,
 * no controllers) gives mode NONE and a reason, not an error. */
int sp_cgroup_root_init(struct sp_cgroup_root *root, const char *name,
			enum sp_cgroup_request request, struct sp_error *err);

/* Remove the parent cgroups made by sp_cgroup_root_init (they must be empty).
 * A v2 supervisor leaf is removed only if empty: while this process lives in
 * it, it stays, and the next init in this process reuses it. */
int sp_cgroup_root_destroy(struct sp_cgroup_root *root, struct sp_error *err);

/* Directory of this process's cgroup for CONTROLLER (a v1 controller such as
 * "memory", or NULL for the v2 hierarchy), from the text of /proc/self/cgroup
 * and /proc/self/mountinfo. Returns 0 and fills DIR, 1 when the hierarchy is
 * not listed or not mounted, -1 on error (e.g. the cgroup lies outside every
 * mount of its hierarchy). Exposed for tests and `sandpool check`. */
int sp_cgroup_resolve_dir(const char *proc_cgroup, const char *mountinfo, const char *controller,
			  char *dir, size_t size, struct sp_error *err);

/* A cell's cgroup. The cell's init joins it once, when the cell is made, and
 * every step the cell runs is born in it: no process migrates on a job's
 * path (on v1 a migration can wait out an RCU grace period, ~10 ms). Per
 * step, limits are written only when they differ from those in force, the
 * memory peak is reset, and cpu time and OOM kills are counted from the
 * step's start. The counter files stay open for the cell's life. */
struct sp_cgroup_cell {
	const struct sp_cgroup_root *root; /* NULL: no cgroup */
	char v2_dir[PATH_MAX];
	char v1_memory_dir[PATH_MAX];
	char v1_pids_dir[PATH_MAX];
	char v1_cpuacct_dir[PATH_MAX];
	int cpu_fd;	   /* v2 cpu.stat, v1 cpuacct.usage; -1 when absent */
	int peak_fd;	   /* v2 memory.peak, v1 memory.max_usage_in_bytes */
	int events_fd;	   /* v2 memory.events, v1 memory.oom_control */
	bool peak_resets;  /* the peak restarts per step: memory is measured */
	bool limits_known; /* memory_kb and processes below are in force */
	uint64_t memory_kb;
	uint64_t processes;
	struct sp_usage start; /* the counters when the step began */
};

/* The processes a step may have: its own plus the cell's init. */
#define SP_CGROUP_CELL_INIT_PROCESSES 1

/* CG as no cgroup: nothing made, nothing open. */
void sp_cgroup_cell_clear(struct sp_cgroup_cell *cg);

/* Make the cell cgroup NAME below ROOT and move process PID (the cell's
 * init, in this process's pid namespace) into it. With mode none, CG is
 * left empty and every call below does nothing. */
int sp_cgroup_cell_create(const struct sp_cgroup_root *root, struct sp_cgroup_cell *cg,
			  const char *name, pid_t pid, struct sp_error *err);

/* Whether CG is a real cgroup (sp_cgroup_cell_create made it). */
bool sp_cgroup_cell_active(const struct sp_cgroup_cell *cg);

/* Write LIMITS (memory, swap 0, pids) where they changed: what a prepared
 * step is made under. */
int sp_cgroup_cell_set_limits(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			      struct sp_error *err);

/* A step begins: write LIMITS (memory, swap 0, pids) where they changed,
 * reset the peak and note the counters. */
int sp_cgroup_cell_begin(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			 struct sp_error *err);

/* Cpu time, peak memory above the step's start (0 unless peak_resets) and
 * OOM kills since sp_cgroup_cell_begin. */
int sp_cgroup_cell_usage(struct sp_cgroup_cell *cg, struct sp_usage *usage, struct sp_error *err);

/* Kill whatever is left in the cgroup (the cell's init must be dead or
 * dying) and remove it. */
int sp_cgroup_cell_destroy(struct sp_cgroup_cell *cg, struct sp_error *err);

#endif
