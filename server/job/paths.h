/* Where sandpool finds its data files. */
#ifndef SANDPOOL_PATHS_H
#define SANDPOOL_PATHS_H

#include <stddef.h>

#include "sandbox/base/error.h"

/* The path of policy NAME ("default"): $SANDPOOL_POLICY_DIR, then policies/
 * beside the executable (a build tree), then ../share/sandpool/policies from
 * it (an installed tree, wherever it was put), then the data directory. */
int sp_policy_path(const char *name, char *buf, size_t size, struct sp_error *err);

/* The languages folder: $SANDPOOL_LANGUAGES_DIR, then languages/ found the
 * same way as the policies. */
int sp_languages_dir(char *buf, size_t size, struct sp_error *err);

/* The playground's folder: $SANDPOOL_WEB_DIR, then web/ found the same way
 * as the policies. */
int sp_web_dir(char *buf, size_t size, struct sp_error *err);

/* The cache folder WHAT ("seccomp"), made if missing: /var/cache/sandpool/WHAT
 * as root, else $XDG_CACHE_HOME/sandpool/WHAT or ~/.cache/sandpool/WHAT;
 * $SANDPOOL_CACHE_DIR/WHAT when that is set. Returns -1 when there is none. */
int sp_cache_dir(const char *what, char *buf, size_t size);

#endif
