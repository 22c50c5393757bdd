/* For the unit tests that run real cells: a rootfs of busybox-static in a
 * new temporary folder, and the default seccomp policy. */
#ifndef SANDPOOL_TEST_BUSYBOX_ROOTFS_H
#define SANDPOOL_TEST_BUSYBOX_ROOTFS_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "sandbox/run.h"
#include "sandbox/seccomp.h"

#define BUSYBOX "/bin/busybox"

/* DIR (at least 64 bytes) gets /tmp/PREFIX-XXXXXX, ROOTFS (at least 96)
 * DIR/rootfs with bin/busybox, bin/sh and the mount points. */
static inline int busybox_rootfs_make(const char *prefix, char *dir, char *rootfs)
{
	char cmd[1024];

	if (access(BUSYBOX, X_OK) != 0) {
		fprintf(stderr, "no %s (busybox-static)\n", BUSYBOX);
		return -1;
	}
	snprintf(dir, 64, "/tmp/%s-XXXXXX", prefix);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(rootfs, 96, "%s/rootfs", dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %1$s/bin %1$s/proc %1$s/dev %1$s/tmp %1$s/box && cp %2$s %1$s/bin/ && "
		 "ln -s busybox %1$s/bin/sh && chmod -R a+rX %3$s",
		 rootfs, BUSYBOX, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline int busybox_rootfs_remove(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* policies/default.json, or the one in $SANDPOOL_POLICY_DIR. */
static inline int default_policy(struct sp_seccomp_program *prog, struct sp_error *err)
{
	const char *dir = getenv("SANDPOOL_POLICY_DIR");
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/default.json", dir ? dir : "policies");
	return sp_seccomp_compile_file(path, prog, err);
}

/* `sh -c SCRIPT` in CELL under small limits. */
static inline int busybox_step(struct sp_cell *cell, const struct sp_cgroup_root *cgroups,
			       const char *script, struct sp_step_result *res)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	char *envp[] = {"PATH=/bin", NULL};
	struct sp_step_request req = {
	    .argv = argv,
	    .envp = envp,
	    .limits = {.cpu_ms = 5000,
		       .wall_ms = 5000,
		       .memory_kb = 65536,
		       .processes = 32,
		       .output_kb = 64,
		       .file_kb = 1024,
		       .open_files = 64},
	    .stdin_fd = -1,
	};

	return sp_run_step(cell, cgroups, &req, res);
}

#endif
