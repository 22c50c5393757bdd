/* Capabilities: all dropped, from every set, before the job's execve. */
#ifndef SANDPOOL_CAPS_H
#define SANDPOOL_CAPS_H

#include <sys/types.h>

#include "error.h"

/* Lock root out of privilege (securebits), empty the bounding and ambient
 * sets, switch to UID/GID with no supplementary groups, then empty the
 * effective, permitted and inheritable sets. */
int sp_caps_drop_in_child(uid_t uid, gid_t gid, struct sp_error *err);

#endif
