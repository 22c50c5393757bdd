/* cgroups: the public interface (cgroup.h) over three backends, each a table
 * of functions (cgroup_backend.h): v2 (cgroup_v2.c), v1 (cgroup_v1.c) and
 * none (cgroup_none.c). Here: the detection of the mode, which picks the
 * backend, and the steps of a root's and a cell's life that every backend
 * shares, written once around the backend's calls. What the backends share
 * besides is in cgroup_common.c and cgroup_resolve.c.
 *
 * Every cgroup sandpool makes lies below the cgroup this process is in:
 * <own>/<name> is the parent of the cells and <own>/<name>/<cell> one cell
 * (its init and every step it runs); on v1 once per hierarchy (memory,
 * pids, cpuacct).
 */
#include "cgroup.h"

#include <errno.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup_backend.h"
#include "sandbox/base/cleanup.h"

const char *sp_cgroup_mode_to_string(enum sp_cgroup_mode mode)
{
	switch (mode) {
	case SP_CGROUP_NONE:
		return "none";
	case SP_CGROUP_V1:
		return "v1";
	case SP_CGROUP_V2:
		return "v2";
	}
	return "?";
}

/* The backend of a root of mode MODE. */
static const struct sp_cgroup_backend *backend_of(enum sp_cgroup_mode mode)
{
	switch (mode) {
	case SP_CGROUP_V1:
		return &sp_cgroup_v1_backend;
	case SP_CGROUP_V2:
		return &sp_cgroup_v2_backend;
	case SP_CGROUP_NONE:
		break;
	}
	return &sp_cgroup_none_backend;
}

static bool valid_name(const char *name)
{
	return name != NULL && name[0] != '\0' && strchr(name, '/') == NULL &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strlen(name) <= NAME_MAX;
}

/* ---- root ---- */

/* The backend for this host, as crun detects it: by the type of the file
 * system at /sys/fs/cgroup. When none is asked for or none can be used,
 * ROOT is set to mode none with the reason. */
static const struct sp_cgroup_backend *detect(struct sp_cgroup_root *root,
					      enum sp_cgroup_request request)
{
	struct statfs fs;

	if (request == SP_CGROUP_FORCE_NONE) {
		sp_cgroup_set_none(root, "disabled by request");
		return &sp_cgroup_none_backend;
	}
	if (statfs(CGROUP_MOUNT, &fs) < 0) {
		sp_cgroup_set_none(root, "statfs %s: %s", CGROUP_MOUNT, strerror(errno));
		return &sp_cgroup_none_backend;
	}
	if (fs.f_type == CGROUP2_SUPER_MAGIC)
		return &sp_cgroup_v2_backend;
	if (fs.f_type == TMPFS_MAGIC)
		return &sp_cgroup_v1_backend;
	sp_cgroup_set_none(root, "%s is neither cgroup2 nor tmpfs (type 0x%llx)", CGROUP_MOUNT,
			   (unsigned long long)fs.f_type);
	return &sp_cgroup_none_backend;
}

int sp_cgroup_root_init(struct sp_cgroup_root *root, const char *name,
			enum sp_cgroup_request request, struct sp_error *err)
{
	struct sp_error local;

	if (err == NULL)
		err = &local;
	memset(root, 0, sizeof(*root));
	root->mode = SP_CGROUP_NONE;
	if (!valid_name(name))
		return sp_error_set(err, EINVAL, "bad cgroup name '%s'", name ? name : "(null)");
	return detect(root, request)->root_init(root, name, err);
}

int sp_cgroup_root_destroy(struct sp_cgroup_root *root, struct sp_error *err)
{
	struct sp_error local;

	if (err == NULL)
		err = &local;
	return backend_of(root->mode)->root_destroy(root, err);
}

/* ---- cells ---- */

static void close_counters(struct sp_cgroup_cell *cg)
{
	int *fds[] = {&cg->cpu_fd, &cg->peak_fd, &cg->events_fd};

	for (size_t i = 0; i < SP_ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void sp_cgroup_cell_clear(struct sp_cgroup_cell *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->cpu_fd = cg->peak_fd = cg->events_fd = -1;
}

int sp_cgroup_cell_create(const struct sp_cgroup_root *root, struct sp_cgroup_cell *cg,
			  const char *name, pid_t pid, struct sp_error *err)
{
	const struct sp_cgroup_backend *b = backend_of(root->mode);
	struct sp_error local;
	int rc;

	if (err == NULL)
		err = &local;
	sp_cgroup_cell_clear(cg);
	if (b->cell_make == NULL)
		return 0;
	if (!valid_name(name))
		return sp_error_set(err, EINVAL, "bad cell cgroup name '%s'",
				    name ? name : "(null)");
	cg->root = root;
	rc = b->cell_make(cg, name, err);
	if (rc == 0)
		rc = b->cell_open_counters(cg, err);
	if (rc == 0)
		rc = b->cell_attach(cg, pid, err);
	if (rc < 0) {
		sp_cgroup_cell_destroy(cg, NULL);
		cg->root = NULL;
	}
	return rc;
}

bool sp_cgroup_cell_active(const struct sp_cgroup_cell *cg)
{
	return cg->root != NULL;
}

int sp_cgroup_cell_set_limits(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			      struct sp_error *err)
{
	if (cg->root == NULL)
		return 0;
	if (backend_of(cg->root->mode)->cell_set_limits(cg, limits, err) < 0) {
		cg->limits_known = false;
		return -1;
	}
	cg->limits_known = true;
	cg->memory_kb = limits->memory_kb;
	cg->processes = limits->processes;
	return 0;
}

int sp_cgroup_cell_begin(struct sp_cgroup_cell *cg, const struct sp_limits *limits,
			 struct sp_error *err)
{
	const struct sp_cgroup_backend *b;
	struct sp_error local;

	if (err == NULL)
		err = &local;
	if (cg->root == NULL)
		return 0;
	b = backend_of(cg->root->mode);
	if (sp_cgroup_cell_set_limits(cg, limits, err) < 0)
		return -1;
	if (cg->peak_resets && !sp_cgroup_peak_reset(cg->peak_fd))
		return sp_error_set(err, errno, "reset the memory peak");
	return b->cell_read_counters(cg, &cg->start, err);
}

static uint64_t since(uint64_t now, uint64_t start)
{
	return now > start ? now - start : 0;
}

int sp_cgroup_cell_usage(struct sp_cgroup_cell *cg, struct sp_usage *usage, struct sp_error *err)
{
	struct sp_usage now = {0};
	struct sp_error local;

	if (err == NULL)
		err = &local;
	memset(usage, 0, sizeof(*usage));
	if (cg->root == NULL)
		return 0;
	if (backend_of(cg->root->mode)->cell_read_counters(cg, &now, err) < 0)
		return -1;
	usage->cpu_ns = since(now.cpu_ns, cg->start.cpu_ns);
	usage->memory_bytes = since(now.memory_bytes, cg->start.memory_bytes);
	usage->oom_kills = since(now.oom_kills, cg->start.oom_kills);
	return 0;
}

int sp_cgroup_cell_destroy(struct sp_cgroup_cell *cg, struct sp_error *err)
{
	struct sp_error local;

	if (err == NULL)
		err = &local;
	if (cg->root == NULL)
		return 0;
	close_counters(cg);
	if (backend_of(cg->root->mode)->cell_remove(cg, err) < 0)
		return -1;
	cg->root = NULL;
	return 0;
}
