/* cgroups: one interface, three backends (v2, v1, none), detected as crun does. */
#ifndef SANDPOOL_CGROUP_H
#define SANDPOOL_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "limits.h"

enum sp_cgroup_mode { SP_CGROUP_NONE, SP_CGROUP_V1, SP_CGROUP_V2 };

/* What the caller asks for: detect, or force one mode (tests, `--cgroup none`). */
enum sp_cgroup_request { SP_CGROUP_AUTO, SP_CGROUP_FORCE_NONE };

const char *sp_cgroup_mode_to_string(enum sp_cgroup_mode mode);

/* The cgroup(s) under which sandpool makes one cgroup per job: a child of the
 * cgroup this process is in, per hierarchy. */
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

/* One job's cgroup, made anew for every step so counters start at zero. */
struct sp_cgroup_job {
	const struct sp_cgroup_root *root;
	char v2_dir[PATH_MAX];
	char v1_memory_dir[PATH_MAX];
	char v1_pids_dir[PATH_MAX];
	char v1_cpuacct_dir[PATH_MAX];
};

/* Make the job cgroup NAME and write the limits (memory, swap 0, pids). */
int sp_cgroup_job_create(const struct sp_cgroup_root *root, struct sp_cgroup_job *job,
			 const char *name, const struct sp_limits *limits, struct sp_error *err);

/* Move process PID (a pid of this process's pid namespace) into the job. */
int sp_cgroup_job_attach(struct sp_cgroup_job *job, pid_t pid, struct sp_error *err);

/* Read cpu time, peak memory and oom kills so far. */
int sp_cgroup_job_usage(struct sp_cgroup_job *job, struct sp_usage *usage, struct sp_error *err);

/* Kill every process in the job and wait until the cgroup is empty. */
int sp_cgroup_job_kill(struct sp_cgroup_job *job, struct sp_error *err);

/* Kill what is left and remove the job cgroup. */
int sp_cgroup_job_destroy(struct sp_cgroup_job *job, struct sp_error *err);

#endif
