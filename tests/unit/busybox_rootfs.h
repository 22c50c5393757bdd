/* For the unit tests that run real cells: a rootfs of busybox-static in a
 * new temporary folder, the default seccomp policy, and the whole bench
 * (cgroups, id maps, spawner, cell configuration) they share. */
#ifndef SANDPOOL_TEST_BUSYBOX_ROOTFS_H
#define SANDPOOL_TEST_BUSYBOX_ROOTFS_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "sandbox/run.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawner.h"

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

/* What a test needs to make cells: the rootfs, the policy, cgroups below our
 * own, the spawner, and the configuration of its cells. */
struct busybox_bench {
	char dir[64];
	char rootfs[96];
	struct sp_seccomp_program seccomp;
	struct sp_cgroup_root cgroups;
	struct sp_spawner spawner;
	struct sp_cell_config config;
};

/* Set B up for NAME: the rootfs in /tmp/NAME-XXXXXX, cgroups NAME-test. */
static inline int busybox_bench_start(struct busybox_bench *b, const char *name)
{
	struct sp_error err = {0};
	char cgroup[64];

	b->config = (struct sp_cell_config){.hostname = "sandpool", .tmpfs_kb = 8192};
	b->spawner = (struct sp_spawner){.pid = -1, .sock = -1, .program = -1};
	if (busybox_rootfs_make(name, b->dir, b->rootfs) < 0)
		return -1;
	snprintf(cgroup, sizeof(cgroup), "%s-test", name);
	if (default_policy(&b->seccomp, &err) < 0 ||
	    sp_cgroup_root_init(&b->cgroups, cgroup, SP_CGROUP_AUTO, &err) < 0 ||
	    sp_idmap_plan(&b->config.idmap, SP_IDMAP_AUTO, (unsigned)getpid(), &err) < 0 ||
	    sp_spawner_start(&b->spawner, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.message);
		return -1;
	}
	b->config.rootfs = b->rootfs;
	b->config.seccomp = &b->seccomp;
	b->config.cgroup_memory = b->cgroups.limits_memory;
	b->config.cgroup_pids = b->cgroups.limits_pids;
	return 0;
}

/* Undo busybox_bench_start, once the test's cells are gone. */
static inline int busybox_bench_stop(struct busybox_bench *b)
{
	sp_spawner_stop(&b->spawner);
	sp_cgroup_root_destroy(&b->cgroups, NULL);
	sp_seccomp_program_free(&b->seccomp);
	return busybox_rootfs_remove(b->dir);
}

/* A cell of B's configuration in CELL, made by B's spawner; what stopped it
 * printed. */
static inline int busybox_cell(struct busybox_bench *b, struct sp_cell *cell)
{
	struct sp_error err = {0};

	if (sp_spawner_cell(&b->spawner, &b->config, cell, &err) < 0) {
		fprintf(stderr, "spawn: %s\n", err.message);
		return -1;
	}
	return 0;
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
