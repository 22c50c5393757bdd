/* cgroups, mode none: no cgroup at all. The root holds only the reason
 * (asked for, or why the host's cgroups cannot be used); no cell cgroup is
 * made, and the limits are left to the rlimits of each step (rlimit.c). The
 * v2 and v1 backends fall back to this mode through sp_cgroup_set_none. */
#include "cgroup.h"
#include "cgroup_backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sandbox/base/log.h"

void sp_cgroup_set_none(struct sp_cgroup_root *root, const char *fmt, ...)
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

/* The detection that chose this mode has set the reason: nothing to make. */
static int none_root_init(struct sp_cgroup_root *root, const char *name, struct sp_error *err)
{
	(void)root;
	(void)name;
	(void)err;
	return 0;
}

static int none_root_destroy(struct sp_cgroup_root *root, struct sp_error *err)
{
	(void)root;
	(void)err;
	return 0;
}

const struct sp_cgroup_backend sp_cgroup_none_backend = {
    .root_init = none_root_init,
    .root_destroy = none_root_destroy,
    .cell_make = NULL, /* a cell has no cgroup: every cell call does nothing */
};
