#include "cmd_run.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "result_json.h"
#include "sandbox/cell.h"
#include "sandbox/cgroup.h"
#include "sandbox/cleanup.h"
#include "sandbox/log.h"
#include "sandbox/mount.h"
#include "sandbox/run.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_cache.h"
#include "units.h"

#define EXIT_USAGE 2
#define MAX_ENV	   256
#define MAX_FILES  256

#define MIB(n) ((uint64_t)(n)*1024)
#define GIB(n) ((uint64_t)(n)*1024 * 1024)

static const char default_path[] =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct run_options {
	const char *rootfs;
	const char *stdin_path;
	const char *policy_path;
	const char *hostname;
	struct sp_limits limits;
	enum sp_cgroup_request cgroup;
	enum sp_idmap_request idmap;
	char *env[MAX_ENV + 1];
	size_t env_count;
	const char *files[MAX_FILES];
	size_t file_count;
	char **argv;
};

static const struct sp_limits default_limits = {
    .cpu_ms = 2000,
    .wall_ms = 5000,
    .memory_kb = MIB(256),
    .processes = 64,
    .output_kb = MIB(1),
    .file_kb = MIB(10),
    .open_files = 256,
    .stack_kb = MIB(8),
    .tmpfs_kb = MIB(64),
};

enum {
	OPT_ROOTFS = 256,
	OPT_MEMORY,
	OPT_CPU,
	OPT_WALL,
	OPT_PIDS,
	OPT_OUTPUT,
	OPT_FILE_SIZE,
	OPT_OPEN_FILES,
	OPT_STACK,
	OPT_TMPFS,
	OPT_STDIN,
	OPT_ENV,
	OPT_FILE,
	OPT_POLICY,
	OPT_CGROUP,
	OPT_ID_MAP,
	OPT_HOSTNAME,
	OPT_VERBOSE,
	OPT_HELP,
};

static const struct option long_options[] = {
    {"rootfs", required_argument, NULL, OPT_ROOTFS},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"cpu", required_argument, NULL, OPT_CPU},
    {"wall", required_argument, NULL, OPT_WALL},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"file-size", required_argument, NULL, OPT_FILE_SIZE},
    {"open-files", required_argument, NULL, OPT_OPEN_FILES},
    {"stack", required_argument, NULL, OPT_STACK},
    {"tmpfs", required_argument, NULL, OPT_TMPFS},
    {"stdin", required_argument, NULL, OPT_STDIN},
    {"env", required_argument, NULL, OPT_ENV},
    {"file", required_argument, NULL, OPT_FILE},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"cgroup", required_argument, NULL, OPT_CGROUP},
    {"id-map", required_argument, NULL, OPT_ID_MAP},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *to)
{
	fputs("usage: sandpool run --rootfs DIR [options] -- CMD [ARG...]\n"
	      "  --memory SIZE      memory of the whole job (default 256M)\n"
	      "  --cpu TIME         cpu time of the whole job (default 2s)\n"
	      "  --wall TIME        wall clock time (default 5s)\n"
	      "  --pids N           processes and threads (default 64)\n"
	      "  --output SIZE      stdout + stderr kept (default 1M)\n"
	      "  --file-size SIZE   largest file written (default 10M)\n"
	      "  --open-files N     open files per process (default 256)\n"
	      "  --stack SIZE       stack per process (default 8M)\n"
	      "  --tmpfs SIZE       size of /box, /tmp and /dev/shm each (default 64M)\n"
	      "  --stdin FILE       the job's standard input (default empty)\n"
	      "  --env K=V          add to the job's environment (repeatable)\n"
	      "  --file PATH        copy PATH into /box, the working directory (repeatable)\n"
	      "  --policy FILE      seccomp policy (default policies/default.json)\n"
	      "  --cgroup auto|none use cgroups when the host allows (default auto)\n"
	      "  --id-map auto|single  user namespace ids (default auto)\n"
	      "  --hostname NAME    the sandbox's host name (default sandpool)\n"
	      "Prints the result as one line of JSON. Exit status 0 when the sandbox\n"
	      "worked, whatever the program did; 1 on an internal error; 2 on bad usage.\n",
	      to);
}

static int bad(const char *option, const char *value, const char *expected)
{
	fprintf(stderr, "sandpool run: --%s: invalid value '%s' (%s)\n", option, value, expected);
	return -1;
}

enum limit_kind { LIMIT_SIZE, LIMIT_DURATION, LIMIT_COUNT };

/* The limit flags: how each is parsed, its bound, and where it goes. */
static const struct limit_flag {
	int opt;
	const char *name;
	enum limit_kind kind;
	uint64_t max;
	size_t offset;
	const char *expected;
} limit_flags[] = {
    {OPT_MEMORY, "memory", LIMIT_SIZE, GIB(64), offsetof(struct sp_limits, memory_kb),
     "a size such as 256M, at most 64G"},
    {OPT_CPU, "cpu", LIMIT_DURATION, 3600000, offsetof(struct sp_limits, cpu_ms),
     "a time such as 2s or 500ms, at most 1h"},
    {OPT_WALL, "wall", LIMIT_DURATION, 3600000, offsetof(struct sp_limits, wall_ms),
     "a time such as 5s, at most 1h"},
    {OPT_PIDS, "pids", LIMIT_COUNT, 65536, offsetof(struct sp_limits, processes),
     "a count from 1 to 65536"},
    {OPT_OUTPUT, "output", LIMIT_SIZE, MIB(256), offsetof(struct sp_limits, output_kb),
     "a size such as 1M, at most 256M"},
    {OPT_FILE_SIZE, "file-size", LIMIT_SIZE, GIB(64), offsetof(struct sp_limits, file_kb),
     "a size such as 10M, at most 64G"},
    {OPT_OPEN_FILES, "open-files", LIMIT_COUNT, 1048576, offsetof(struct sp_limits, open_files),
     "a count from 1 to 1048576"},
    {OPT_STACK, "stack", LIMIT_SIZE, GIB(1), offsetof(struct sp_limits, stack_kb),
     "a size such as 8M, at most 1G"},
    {OPT_TMPFS, "tmpfs", LIMIT_SIZE, GIB(64), offsetof(struct sp_limits, tmpfs_kb),
     "a size such as 64M, at most 64G"},
};

static int parse_limit(int opt, const char *value, struct sp_limits *l)
{
	for (size_t i = 0; i < SP_ARRAY_SIZE(limit_flags); i++) {
		const struct limit_flag *f = &limit_flags[i];
		uint64_t *field = (uint64_t *)(void *)((char *)l + f->offset);
		int rc;

		if (f->opt != opt)
			continue;
		if (f->kind == LIMIT_SIZE)
			rc = sp_parse_size_kb(value, f->max, field);
		else if (f->kind == LIMIT_DURATION)
			rc = sp_parse_duration_ms(value, f->max, field);
		else
			rc = sp_parse_count(value, f->max, field);
		return rc < 0 ? bad(f->name, value, f->expected) : 0;
	}
	return -1;
}

static int add_env(struct run_options *o, char *value)
{
	char *eq = strchr(value, '=');

	if (eq == NULL || eq == value)
		return bad("env", value, "KEY=VALUE");
	if (o->env_count >= MAX_ENV)
		return bad("env", value, "at most 256 variables");
	for (size_t i = 0; i < o->env_count; i++) {
		if (strncmp(o->env[i], value, (size_t)(eq - value) + 1) == 0) {
			o->env[i] = value;
			return 0;
		}
	}
	o->env[o->env_count++] = value;
	return 0;
}

static int parse_choice(const char *option, const char *value, const char *second, int *out)
{
	if (strcmp(value, "auto") == 0)
		*out = 0;
	else if (strcmp(value, second) == 0)
		*out = 1;
	else {
		char expected[64];

		snprintf(expected, sizeof(expected), "auto or %s", second);
		return bad(option, value, expected);
	}
	return 0;
}

static int parse_option(struct run_options *o, int opt, char *value)
{
	int choice;

	switch (opt) {
	case OPT_ROOTFS:
		o->rootfs = value;
		return 0;
	case OPT_STDIN:
		o->stdin_path = value;
		return 0;
	case OPT_ENV:
		return add_env(o, value);
	case OPT_FILE:
		if (o->file_count >= MAX_FILES)
			return bad("file", value, "at most 256 files");
		o->files[o->file_count++] = value;
		return 0;
	case OPT_POLICY:
		o->policy_path = value;
		return 0;
	case OPT_HOSTNAME:
		o->hostname = value;
		return strlen(value) == 0 || strlen(value) > 64
			   ? bad("hostname", value, "1 to 64 characters")
			   : 0;
	case OPT_CGROUP:
		if (parse_choice("cgroup", value, "none", &choice) < 0)
			return -1;
		o->cgroup = choice ? SP_CGROUP_FORCE_NONE : SP_CGROUP_AUTO;
		return 0;
	case OPT_ID_MAP:
		if (parse_choice("id-map", value, "single", &choice) < 0)
			return -1;
		o->idmap = choice ? SP_IDMAP_SINGLE : SP_IDMAP_AUTO;
		return 0;
	case OPT_VERBOSE:
		sp_log_set_level(SP_LOG_DEBUG);
		return 0;
	}
	return parse_limit(opt, value, &o->limits);
}

static int parse_args(struct run_options *o, int argc, char **argv)
{
	int opt;

	memset(o, 0, sizeof(*o));
	o->limits = default_limits;
	o->hostname = "sandpool";
	o->env[o->env_count++] = (char *)default_path;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout);
			exit(0);
		}
		if (opt == '?' || opt == ':') {
			if (optopt != 0)
				fprintf(stderr, "sandpool run: '%s' needs a value\n",
					argv[optind - 1]);
			else
				fprintf(
				    stderr,
				    "sandpool run: unknown option '%s' (see sandpool run --help)\n",
				    argv[optind - 1]);
			return -1;
		}
		if (parse_option(o, opt, optarg) < 0)
			return -1;
	}
	if (o->rootfs == NULL) {
		fprintf(stderr, "sandpool run: --rootfs DIR is required\n");
		return -1;
	}
	if (optind >= argc) {
		fprintf(stderr,
			"sandpool run: no command given (sandpool run --rootfs DIR -- CMD)\n");
		return -1;
	}
	o->argv = argv + optind;
	return 0;
}

/* Checks that need the file system, before any sandbox is built. */
static int check_inputs(const struct run_options *o)
{
	struct sp_error err = {0};
	char text[SP_ERROR_MESSAGE_MAX + 64];
	struct stat st;

	if (sp_mount_check_rootfs(o->rootfs, &err) < 0) {
		fprintf(stderr, "sandpool run: %s\n", sp_error_describe(&err, text, sizeof(text)));
		return -1;
	}
	for (size_t i = 0; i < o->file_count; i++) {
		if (stat(o->files[i], &st) < 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "sandpool run: --file %s: not a readable regular file\n",
				o->files[i]);
			return -1;
		}
	}
	if (o->stdin_path == NULL)
		return 0;
	if (access(o->stdin_path, R_OK) < 0 || stat(o->stdin_path, &st) < 0) {
		fprintf(stderr, "sandpool run: --stdin %s: %s\n", o->stdin_path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "sandpool run: --stdin %s: a directory is no input\n",
			o->stdin_path);
		return -1;
	}
	return 0;
}

/* What lives for one `sandpool run`: policy, cgroups, the cell. */
struct run_session {
	struct sp_seccomp_program seccomp;
	struct sp_cgroup_root cgroups;
	bool cgroups_made;
	struct sp_cell cell;
	bool cell_made;
};

static int open_session(struct run_session *s, const struct run_options *o, struct sp_error *err)
{
	struct sp_cell_config config = {.rootfs = o->rootfs,
					.hostname = o->hostname,
					.seccomp = &s->seccomp,
					.tmpfs_kb = o->limits.tmpfs_kb};
	char policy[PATH_MAX];
	char cache[PATH_MAX];
	char name[64];

	if (o->policy_path != NULL)
		snprintf(policy, sizeof(policy), "%s", o->policy_path);
	else if (sp_policy_path("default", policy, sizeof(policy), err) < 0)
		return -1;
	if (sp_seccomp_load(policy,
			    sp_cache_dir("seccomp", cache, sizeof(cache)) == 0 ? cache : NULL,
			    &s->seccomp, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "sandpool-run-%d", (int)getpid());
	if (sp_cgroup_root_init(&s->cgroups, name, o->cgroup, err) < 0)
		return -1;
	s->cgroups_made = true;
	config.cgroup_memory = s->cgroups.limits_memory;
	config.cgroup_pids = s->cgroups.limits_pids;
	if (sp_idmap_plan(&config.idmap, o->idmap, (unsigned)getpid(), err) < 0)
		return -1;
	if (sp_cell_create(&s->cell, &config, err) < 0)
		return -1;
	s->cell_made = true;
	return 0;
}

static void close_session(struct run_session *s)
{
	if (s->cell_made)
		sp_cell_destroy(&s->cell);
	if (s->cgroups_made)
		sp_cgroup_root_destroy(&s->cgroups, NULL);
	sp_seccomp_program_free(&s->seccomp);
}

static int copy_files(struct run_session *s, const struct run_options *o, struct sp_error *err)
{
	for (size_t i = 0; i < o->file_count; i++) {
		cleanup_close int fd = open(o->files[i], O_RDONLY | O_CLOEXEC);
		char copy[PATH_MAX];
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0)
			return sp_error_set(err, errno, "open %s", o->files[i]);
		snprintf(copy, sizeof(copy), "%s", o->files[i]);
		if (sp_cell_write_file(&s->cell, basename(copy), fd, st.st_mode & 0755, err) < 0)
			return sp_error_wrap(err, "copy %s into /box", o->files[i]);
	}
	return 0;
}

static void print_result(const struct sp_step_result *res, const struct sp_cgroup_root *cgroups)
{
	json_t *obj = sp_result_to_json(res);

	if (obj == NULL) {
		printf("{\"status\": \"internal_error\", \"error\": \"out of memory\"}\n");
		return;
	}
	json_object_set_new(obj, "cgroup", json_string(sp_cgroup_mode_to_string(cgroups->mode)));
	json_dumpf(obj, stdout, JSON_COMPACT);
	putchar('\n');
	fflush(stdout);
	json_decref(obj);
}

static int run_step(struct run_session *s, const struct run_options *o, struct sp_step_result *res,
		    struct sp_error *err)
{
	struct sp_step_request req = {.argv = o->argv, .envp = o->env, .limits = o->limits};
	cleanup_close int in = -1;

	if (o->stdin_path != NULL) {
		in = open(o->stdin_path, O_RDONLY | O_CLOEXEC);
		if (in < 0)
			return sp_error_set(err, errno, "open %s", o->stdin_path);
	}
	req.stdin_fd = in;
	if (copy_files(s, o, err) < 0)
		return -1;
	sp_run_step(&s->cell, &s->cgroups, &req, res);
	return 0;
}

int sp_cmd_run(int argc, char **argv)
{
	struct run_options options;
	struct run_session session = {0};
	struct sp_step_result res = {0};
	struct sp_error err = {0};
	int rc;

	/* The job's stdin is a pipe the supervisor writes: a job that closes it
	 * must not kill sandpool. */
	signal(SIGPIPE, SIG_IGN);
	if (parse_args(&options, argc, argv) < 0)
		return EXIT_USAGE;
	if (check_inputs(&options) < 0)
		return EXIT_USAGE;
	rc = open_session(&session, &options, &err);
	if (rc == 0)
		rc = run_step(&session, &options, &res, &err);
	if (rc < 0) {
		res.status = SP_STATUS_INTERNAL_ERROR;
		res.exit_code = -1;
		res.error = err;
	}
	print_result(&res, &session.cgroups);
	sp_step_result_free(&res);
	close_session(&session);
	return res.status == SP_STATUS_INTERNAL_ERROR ? 1 : 0;
}
