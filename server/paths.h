/* Where sandpool finds its data files. */
#ifndef SANDPOOL_PATHS_H
#define SANDPOOL_PATHS_H

#include <stddef.h>

#include "sandbox/error.h"

/* The path of policy NAME ("default"): $SANDPOOL_POLICY_DIR, then policies/
 * beside the executable (a build tree), then the installed data directory. */
int sp_policy_path(const char *name, char *buf, size_t size, struct sp_error *err);

#endif
