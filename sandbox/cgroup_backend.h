/* cgroups, private to sandbox/cgroup*.c: the table of functions each backend
 * (v2, v1, none) fills, and the helpers they share. Nothing else includes it. */
#ifndef SANDPOOL_CGROUP_BACKEND_H
#define SANDPOOL_CGROUP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "limits.h"
#include "sandbox/base/error.h"

struct sp_cgroup_root; /* cgroup.h */
struct sp_cgroup_cell;

#define CGROUP_MOUNT  "/sys/fs/cgroup"
#define EMPTY_WAIT_MS 5000 /* how long a kill may take to empty a cgroup */

/* One backend: a table of functions, one constant table per mode. The
 * public functions of cgroup.c pick it by the root's mode (detection picks
 * it for sp_cgroup_root_init) and do the steps every backend shares around
 * these calls. A cell that fails to be made is undone with cell_remove,
 * which removes the directories recorded in the cell. */
struct sp_cgroup_backend {
	/* Make the parent cgroup(s) NAME of ROOT, which is zeroed, of mode
	 * none, and holds a valid NAME. Returns 0 with the mode and reason
	 * set (mode none when the host does not let us use cgroups), or -1. */
	int (*root_init)(struct sp_cgroup_root *root, const char *name, struct sp_error *err);
	/* Remove what root_init made. */
	int (*root_destroy)(struct sp_cgroup_root *root, struct sp_error *err);

	/* Make the cell's cgroup(s) NAME and write the settings made once.
	 * NULL: this backend makes no cell cgroup, a cell of its root stays
	 * inactive, and the functions below are never called. */
	int (*cell_make)(struct sp_cgroup_cell *cg, const char *name, struct sp_error *err);
	/* Open the counter files (sp_cgroup_open_counters). */
	int (*cell_open_counters)(struct sp_cgroup_cell *cg, struct sp_error *err);
	/* Move process PID into the cell's cgroup(s). */
	int (*cell_attach)(struct sp_cgroup_cell *cg, pid_t pid, struct sp_error *err);
	/* Write the memory and pids limits that differ from those in force. */
	int (*cell_set_limits)(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			       struct sp_error *err);
	/* The counters now: cpu in ns, the peak, OOM kills. */
	int (*cell_read_counters)(struct sp_cgroup_cell *cg, struct sp_usage *now,
				  struct sp_error *err);
	/* Kill what the cell's cgroup(s) hold and remove them. */
	int (*cell_remove)(struct sp_cgroup_cell *cg, struct sp_error *err);
};

extern const struct sp_cgroup_backend sp_cgroup_v2_backend;
extern const struct sp_cgroup_backend sp_cgroup_v1_backend;
extern const struct sp_cgroup_backend sp_cgroup_none_backend;

/* ---- mode none (cgroup_none.c) ---- */

/* ROOT as mode none, zeroed, with the reason FMT; logged. */
void sp_cgroup_set_none(struct sp_cgroup_root *root, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- where this process is (cgroup_resolve.c) ---- */

/* The text of /proc/self/cgroup and of /proc/self/mountinfo. */
int sp_cgroup_read_self(char **proc_cgroup, char **mountinfo, struct sp_error *err);

/* Whether LIST (LEN bytes) holds WORD between separators from SEPS. */
bool sp_cgroup_has_word(const char *list, size_t len, const char *word, const char *seps);

/* ---- paths, files and directories (cgroup_common.c) ---- */

/* Sleep a little longer each round, 1 ms up to 10 ms. */
void sp_cgroup_backoff(unsigned int round);

/* Errors that mean "this host does not let us use cgroups", not "we failed". */
bool sp_cgroup_is_denied(int errnum);

/* DIR/NAME into OUT. */
int sp_cgroup_join(char *out, size_t size, const char *dir, const char *name, struct sp_error *err);

/* Whether DIR/FILE exists (false when DIR is ""). */
bool sp_cgroup_exists_at(const char *dir, const char *file);

/* Append a formatted note to BUF, separated by "; ". */
void sp_cgroup_append_note(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int sp_cgroup_write_at(const char *dir, const char *file, const char *value, struct sp_error *err);
int sp_cgroup_write_u64_at(const char *dir, const char *file, uint64_t value, struct sp_error *err);

/* Read a whole (small, virtual) file into a NUL-terminated buffer. */
int sp_cgroup_read_file(const char *path, char **out, struct sp_error *err);
int sp_cgroup_read_at(const char *dir, const char *file, char **out, struct sp_error *err);

/* A decimal number or "max" (UINT64_MAX). */
bool sp_cgroup_parse_u64(const char *text, uint64_t *value);

/* KEY of a flat-keyed text ("key value" lines: cpu.stat, memory.events,
 * cgroup.events, memory.oom_control). Returns 0, or 1 when the key is
 * absent or not a number (*value is then 0). */
int sp_cgroup_find_key(const char *text, const char *key, uint64_t *value);

/* KEY of the flat-keyed file DIR/FILE. Returns 0, 1 when the file or the
 * key is absent (*value is then 0), or -1. */
int sp_cgroup_read_key_at(const char *dir, const char *file, const char *key, uint64_t *value,
			  struct sp_error *err);

/* mkdir DIR; *created says whether it is new. An existing DIR is an error
 * unless MAY_EXIST. */
int sp_cgroup_make_dir(const char *dir, bool may_exist, bool *created, struct sp_error *err);

/* rmdir a cgroup, retrying briefly while the kernel still calls it busy.
 * A directory that is already gone is fine. */
int sp_cgroup_remove_dir(const char *dir, struct sp_error *err);

/* Remove each of the N DIRS that is set (sp_cgroup_remove_dir) and forget it. */
int sp_cgroup_remove_dirs(char *const dirs[], size_t n, struct sp_error *err);

/* Roll back a partly made set of N directories: remove those this call
 * made (CREATED), last first, and forget them all. */
void sp_cgroup_undo_dirs(char *const dirs[], const bool created[], size_t n);

/* Kill the processes of DIR until its cgroup.procs is empty, for a bounded time. */
int sp_cgroup_kill_until_empty(const char *dir, struct sp_error *err);

/* Below OWN, remove the cgroups of sandpool processes that died without
 * cleaning up (killed with SIGKILL, say). */
void sp_cgroup_sweep_stale(const char *own);

/* ---- cells (cgroup_common.c) ---- */

/* Whether the memory limit or the process limit wanted differs from the
 * one in force (or none is known to be). */
bool sp_cgroup_memory_changed(const struct sp_cgroup_cell *cg, const struct sp_limits *limits);
bool sp_cgroup_processes_changed(const struct sp_cgroup_cell *cg, const struct sp_limits *limits);

/* MEMORY_KB in bytes, at most INT64_MAX rounded down to a KiB. */
uint64_t sp_cgroup_memory_bytes(uint64_t memory_kb);

/* "max" for 0 (no limit), else the number. */
void sp_cgroup_limit_text(char *text, size_t size, uint64_t value);

/* DIR/pids.max for a step that may have PROCESSES (0: no limit). */
int sp_cgroup_write_pids_max(const char *dir, uint64_t processes, struct sp_error *err);

/* Write PID into DIR/cgroup.procs for each of the N DIRS that is set. */
int sp_cgroup_attach(char *const dirs[], size_t n, pid_t pid, struct sp_error *err);

/* Where a backend keeps the counters of a cell. */
struct sp_cgroup_counter_files {
	const char *cpu_dir;
	const char *cpu_file; /* cpu time */
	const char *memory_dir;
	const char *events_file; /* its "oom_kill" key counts OOM kills */
	const char *peak_file;	 /* the memory peak, reset by a write */
};

/* Open the counter files of CG for the cell's life (the memory ones only
 * when the root limits memory) and note whether the peak can be reset. */
int sp_cgroup_open_counters(struct sp_cgroup_cell *cg, const struct sp_cgroup_counter_files *files,
			    struct sp_error *err);

/* The counters now, in the units of the files: cpu as the number in the
 * cpu file (or its CPU_KEY when not NULL), the peak, OOM kills. */
int sp_cgroup_read_counters(struct sp_cgroup_cell *cg, const char *cpu_key, struct sp_usage *now,
			    struct sp_error *err);

/* The peak restarts when written to (v1: any value; v2: since Linux 6.12,
 * per open file). */
bool sp_cgroup_peak_reset(int fd);

#endif
