#include "cmd_check.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "sandbox/mount.h"
#include "sandbox/seccomp.h"
#include "sandbox/userns.h"
#include "server/job/paths.h"

/* Can this user make a user namespace? Tried in a child, which then exits. */
static json_t *check_userns(void)
{
	json_t *obj = json_object();
	int status = 0;
	pid_t child = fork();

	if (child == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0x7f));
	if (child < 0 || waitpid(child, &status, 0) < 0) {
		json_object_set_new(obj, "available", json_false());
		json_object_set_new(obj, "reason", json_string(strerror(errno)));
		return obj;
	}
	json_object_set_new(obj, "available",
			    json_boolean(WIFEXITED(status) && WEXITSTATUS(status) == 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		json_object_set_new(obj, "reason", json_string(strerror(WEXITSTATUS(status))));
	return obj;
}

/* In a child: 0 when a cell's overlay of mount points works here, else the
 * errno of the kernel's refusal or of what failed before. */
static int probe_overlay(void)
{
	struct sp_idmap map = {
	    .kind = SP_IDMAP_ONE_ID, .outer_uid = geteuid(), .outer_gid = getegid()};
	struct sp_error err = {0};
	int refusal = 0;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return errno;
	/* one id: the process may write its own maps */
	if (sp_userns_from_parent(&map, getpid(), &err) < 0 ||
	    sp_mount_probe_overlay_in_child(&refusal, &err) < 0)
		return err.errnum != 0 ? err.errnum : EIO;
	return refusal;
}

/* Does the kernel let a cell lay the overlay that gives any rootfs its mount
 * points (/box, /tmp, /proc, /dev)? Without it a rootfs must have them. */
static json_t *check_overlay(void)
{
	json_t *obj = json_object();
	int status = 0;
	pid_t child = fork();

	if (child == 0)
		_exit(probe_overlay() & 0x7f);
	if (child < 0 || waitpid(child, &status, 0) < 0) {
		json_object_set_new(obj, "available", json_false());
		json_object_set_new(obj, "reason", json_string(strerror(errno)));
		return obj;
	}
	json_object_set_new(obj, "available",
			    json_boolean(WIFEXITED(status) && WEXITSTATUS(status) == 0));
	if (!WIFEXITED(status))
		json_object_set_new(obj, "reason", json_string("the probe was killed"));
	else if (WEXITSTATUS(status) != 0)
		json_object_set_new(obj, "reason", json_string(strerror(WEXITSTATUS(status))));
	return obj;
}

static json_t *check_idmap(void)
{
	json_t *obj = json_object();
	struct sp_idmap map;
	struct sp_error err = {0};

	if (sp_idmap_plan(&map, SP_IDMAP_AUTO, 0, &err) < 0) {
		json_object_set_new(obj, "error", json_string(err.message));
		return obj;
	}
	json_object_set_new(obj, "mapping", json_string(sp_idmap_kind_to_string(map.kind)));
	json_object_set_new(obj, "job_uid", json_integer(map.job_uid));
	if (map.kind == SP_IDMAP_SUBID) {
		json_object_set_new(obj, "subuid_start", json_integer((json_int_t)map.sub_uid));
		json_object_set_new(obj, "subuid_count",
				    json_integer((json_int_t)map.sub_uid_count));
	}
	return obj;
}

static json_t *check_seccomp(void)
{
	json_t *obj = json_object();
	struct sp_seccomp_program prog = {0};
	struct sp_error err = {0};
	char path[PATH_MAX];

	json_object_set_new(obj, "kernel", json_boolean(prctl(PR_GET_SECCOMP) >= 0));
	if (sp_policy_path("default", path, sizeof(path), &err) == 0 &&
	    sp_seccomp_compile_file(path, &prog, &err) == 0) {
		json_object_set_new(obj, "policy", json_string(path));
		json_object_set_new(obj, "instructions", json_integer(prog.len));
		sp_seccomp_program_free(&prog);
	} else {
		json_object_set_new(obj, "error", json_string(err.message));
	}
	return obj;
}

static json_t *limit(const char *how)
{
	return json_string(how);
}

/* Which limit is enforced, and by what. */
static json_t *enforced_limits(const struct sp_cgroup_root *cg)
{
	json_t *obj = json_object();

	json_object_set_new(obj, "memory",
			    limit(cg->limits_memory
				      ? "cgroup (whole job)"
				      : "rlimit (private memory per process, approximate)"));
	json_object_set_new(
	    obj, "swap",
	    limit(cg->limits_swap ? "cgroup (none allowed)" : "not limited separately"));
	json_object_set_new(obj, "processes",
			    limit(cg->limits_pids ? "cgroup (whole job)"
						  : "rlimit (processes per user namespace)"));
	json_object_set_new(
	    obj, "cpu",
	    limit(cg->counts_cpu ? "cgroup (whole job)" : "rlimit per process + rusage total"));
	json_object_set_new(obj, "wall", limit("supervisor timer"));
	json_object_set_new(obj, "output", limit("supervisor (stdout + stderr)"));
	json_object_set_new(obj, "file_size", limit("rlimit"));
	json_object_set_new(obj, "open_files", limit("rlimit"));
	json_object_set_new(obj, "kill",
			    limit(cg->has_kill
				      ? "pid namespace (cgroup.kill when a cell is destroyed)"
				      : "pid namespace"));
	return obj;
}

static json_t *check_all(void)
{
	json_t *report = json_object();
	struct sp_cgroup_root cg;
	struct sp_error err = {0};
	char name[64];

	snprintf(name, sizeof(name), "sandpool-check-%d", (int)getpid());
	json_object_set_new(report, "root", json_boolean(geteuid() == 0));
	json_object_set_new(report, "user_namespaces", check_userns());
	json_object_set_new(report, "ids", check_idmap());
	json_object_set_new(report, "rootfs_overlay", check_overlay());
	if (sp_cgroup_root_init(&cg, name, SP_CGROUP_AUTO, &err) < 0) {
		memset(&cg, 0, sizeof(cg));
		cg.mode = SP_CGROUP_NONE;
		snprintf(cg.reason, sizeof(cg.reason), "%.200s", err.message);
	} else {
		sp_cgroup_root_destroy(&cg, NULL);
	}
	json_object_set_new(report, "cgroup", json_string(sp_cgroup_mode_to_string(cg.mode)));
	json_object_set_new(report, "cgroup_reason", json_string(cg.reason));
	json_object_set_new(report, "limits", enforced_limits(&cg));
	json_object_set_new(report, "seccomp", check_seccomp());
	return report;
}

static void print_text(json_t *report)
{
	json_t *ids = json_object_get(report, "ids");
	json_t *overlay = json_object_get(report, "rootfs_overlay");
	json_t *sc = json_object_get(report, "seccomp");
	json_t *limits = json_object_get(report, "limits");
	const char *key;
	json_t *value;

	printf("running as root:  %s\n",
	       json_is_true(json_object_get(report, "root")) ? "yes" : "no");
	printf(
	    "user namespaces:  %s\n",
	    json_is_true(json_object_get(json_object_get(report, "user_namespaces"), "available"))
		? "yes"
		: "NO (sandboxes cannot be built)");
	printf("id mapping:       %s (job uid %lld inside)\n",
	       json_string_value(json_object_get(ids, "mapping")),
	       json_integer_value(json_object_get(ids, "job_uid")));
	if (json_is_true(json_object_get(overlay, "available")))
		printf("rootfs overlay:   yes (a rootfs needs no mount points of its own)\n");
	else
		printf("rootfs overlay:   NO (%s): a rootfs must have /box, /tmp, /proc and /dev "
		       "directories\n",
		       json_string_value(json_object_get(overlay, "reason")));
	printf("cgroup mode:      %s (%s)\n", json_string_value(json_object_get(report, "cgroup")),
	       json_string_value(json_object_get(report, "cgroup_reason")));
	printf("seccomp:          %s, policy %s\n",
	       json_is_true(json_object_get(sc, "kernel")) ? "kernel yes" : "kernel NO",
	       json_object_get(sc, "policy") ? json_string_value(json_object_get(sc, "policy"))
					     : json_string_value(json_object_get(sc, "error")));
	printf("limits enforced:\n");
	json_object_foreach(limits, key, value)
	    printf("  %-11s %s\n", key, json_string_value(value));
}

int sp_cmd_check(int argc, char **argv)
{
	json_t *report;
	int as_json = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = 1;
		} else {
			fprintf(stderr, "sandpool check: unknown option '%s' (only --json)\n",
				argv[i]);
			return 2;
		}
	}
	report = check_all();
	if (as_json) {
		json_dumpf(report, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_text(report);
	}
	json_decref(report);
	return 0;
}
