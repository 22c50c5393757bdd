/* Capabilities: all dropped, from every set, before the job's execve. */
#ifndef SANDPOOL_CAPS_H
#define SANDPOOL_CAPS_H

#include <sys/types.h>

#include "sandbox/base/error.h"

/* Lock root out of privilege (securebits), empty the bounding and ambient
 * sets, switch to UID/GID with no supplementary groups, then empty the
 * effective, permitted and inheritable sets. */
int sp_caps_drop_in_child(uid_t uid, gid_t gid, struct sp_error *err);

/* The part of the drop that a process can make for every child it will
 * have while it keeps its own effective capabilities: lock the securebits,
 * empty the bounding and ambient sets. A cell's init does it once; its steps
 * inherit it, and sp_caps_drop_in_child then skips it. */
int sp_caps_limit(struct sp_error *err);

#endif
