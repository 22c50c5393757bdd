/* cgroups, private to sandbox/cgroup*.c: the helpers the cgroup files share.
 * Nothing else includes it. */
#ifndef SANDPOOL_CGROUP_BACKEND_H
#define SANDPOOL_CGROUP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "limits.h"

#define CGROUP_MOUNT  "/sys/fs/cgroup"
#define EMPTY_WAIT_MS 5000 /* how long a kill may take to empty a cgroup */

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

/* Roll back a partly made set of N directories: remove those this call
 * made (CREATED), last first, and forget them all. */
void sp_cgroup_undo_dirs(char *const dirs[], const bool created[], size_t n);

/* Kill the processes of DIR until its cgroup.procs is empty, for a bounded time. */
int sp_cgroup_kill_until_empty(const char *dir, struct sp_error *err);

/* Below OWN, remove the cgroups of sandpool processes that died without
 * cleaning up (killed with SIGKILL, say). */
void sp_cgroup_sweep_stale(const char *own);

#endif
