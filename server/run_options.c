#include "run_options.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/log.h"
#include "server/job/units.h"

#define MIB(n) ((uint64_t)(n)*1024)
#define GIB(n) ((uint64_t)(n)*1024 * 1024)

enum {
	OPT_ROOTFS = 256,
	OPT_IMAGE,
	OPT_LANGUAGE,
	OPT_SOURCE,
	OPT_STATE_DIR,
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
    {"image", required_argument, NULL, OPT_IMAGE},
    {"language", required_argument, NULL, OPT_LANGUAGE},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
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
	fputs("usage: sandpool run (--rootfs DIR | --image NAME) [options] [-- CMD [ARG...]]\n"
	      "       sandpool run --language NAME --source FILE [options] [-- ARG...]\n"
	      "  --rootfs DIR       the sandbox's root: a directory\n"
	      "  --image NAME       the sandbox's root: an image of the store; without\n"
	      "                     CMD, the image's Entrypoint and Cmd run\n"
	      "  --language NAME    compile (if the language does) and run FILE\n"
	      "  --source FILE      the program, copied to the language's source name (Java:\n"
	      "                     its public class's); ARGs go to the program\n"
	      "  --state-dir DIR    the image store (default /var/lib/sandpool as root,\n"
	      "                     ~/.local/share/sandpool otherwise)\n"
	      "  --memory SIZE      memory of the whole job (default 256M)\n"
	      "  --cpu TIME         cpu time of the whole job (default 2s)\n"
	      "  --wall TIME        wall clock time (default 5s)\n"
	      "  --pids N           processes and threads (default 64)\n"
	      "  --output SIZE      stdout + stderr kept (default 1M)\n"
	      "  --file-size SIZE   largest file written (default 10M)\n"
	      "  --open-files N     open files per process (default 256)\n"
	      "  --stack SIZE       stack per process (default 8M)\n"
	      "  --tmpfs SIZE       size of /box, /tmp and /dev/shm each (default 64M)\n"
	      "  --stdin FILE       the program's standard input (default empty)\n"
	      "  --env K=V          add to the program's environment (repeatable)\n"
	      "  --file PATH        copy PATH into /box, the working directory (repeatable)\n"
	      "  --policy FILE      seccomp policy (default: the language's, or default)\n"
	      "  --cgroup auto|none use cgroups when the host allows (default auto)\n"
	      "  --id-map auto|single  user namespace ids (default auto)\n"
	      "  --hostname NAME    the sandbox's host name (default sandpool)\n"
	      "With --language the limits default to the language's; flags override the\n"
	      "run step's. Prints the result as one line of JSON. Exit status 0 when the\n"
	      "sandbox worked, whatever the program did; 1 on an internal error; 2 on bad\n"
	      "usage.\n",
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

static uint64_t *limit_field(struct sp_limits *l, size_t offset)
{
	return (uint64_t *)(void *)((char *)l + offset);
}

static int parse_limit(int opt, const char *value, struct sp_limits *l)
{
	for (size_t i = 0; i < SP_ARRAY_SIZE(limit_flags); i++) {
		const struct limit_flag *f = &limit_flags[i];
		uint64_t *field = limit_field(l, f->offset);
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

void sp_limits_overlay(struct sp_limits *dst, const struct sp_limits *given)
{
	for (size_t i = 0; i < SP_ARRAY_SIZE(limit_flags); i++) {
		struct sp_limits copy = *given;
		uint64_t value = *limit_field(&copy, limit_flags[i].offset);

		if (value != 0)
			*limit_field(dst, limit_flags[i].offset) = value;
	}
}

static int add_env(struct sp_run_options *o, char *value)
{
	char *eq = strchr(value, '=');

	if (eq == NULL || eq == value)
		return bad("env", value, "KEY=VALUE");
	if (o->env_count >= SP_RUN_MAX_ENV)
		return bad("env", value, "at most 256 variables");
	o->env[o->env_count++] = value;
	return 0;
}

static int parse_choice(const char *option, const char *value, const char *second, int *out)
{
	char expected[64];

	if (strcmp(value, "auto") == 0) {
		*out = 0;
		return 0;
	}
	if (strcmp(value, second) == 0) {
		*out = 1;
		return 0;
	}
	snprintf(expected, sizeof(expected), "auto or %s", second);
	return bad(option, value, expected);
}

static int set_string(const char **field, char *value)
{
	*field = value;
	return 0;
}

static int parse_option(struct sp_run_options *o, int opt, char *value)
{
	int choice;

	switch (opt) {
	case OPT_ROOTFS:
		return set_string(&o->rootfs, value);
	case OPT_IMAGE:
		return set_string(&o->image, value);
	case OPT_LANGUAGE:
		return set_string(&o->language, value);
	case OPT_SOURCE:
		return set_string(&o->source, value);
	case OPT_STATE_DIR:
		return set_string(&o->state_dir, value);
	case OPT_STDIN:
		return set_string(&o->stdin_path, value);
	case OPT_POLICY:
		return set_string(&o->policy_path, value);
	case OPT_ENV:
		return add_env(o, value);
	case OPT_FILE:
		if (o->file_count >= SP_RUN_MAX_FILES)
			return bad("file", value, "at most 256 files");
		o->files[o->file_count++] = value;
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

static int usage_error(const char *message)
{
	fprintf(stderr, "sandpool run: %s\n", message);
	return -1;
}

static int unknown_option(char **argv)
{
	if (optopt != 0)
		fprintf(stderr, "sandpool run: '%s' needs a value\n", argv[optind - 1]);
	else
		fprintf(stderr, "sandpool run: unknown option '%s' (see sandpool run --help)\n",
			argv[optind - 1]);
	return -1;
}

/* Which root, and which program: the combinations that make sense. */
static int check_combination(struct sp_run_options *o, int argc, char **argv)
{
	if (o->language != NULL) {
		if (o->source == NULL)
			return usage_error("--language needs --source FILE");
		if (o->rootfs != NULL)
			return usage_error(
			    "--language takes its image from the store, not --rootfs");
		if (optind < argc)
			o->argv = argv + optind; /* the program's arguments */
		return 0;
	}
	if (o->source != NULL)
		return usage_error("--source goes with --language");
	if (o->rootfs == NULL && o->image == NULL)
		return usage_error("--rootfs DIR or --image NAME is required");
	if (o->rootfs != NULL && o->image != NULL)
		return usage_error("--rootfs and --image exclude each other");
	if (optind < argc)
		o->argv = argv + optind;
	else if (o->image == NULL)
		return usage_error("no command given (sandpool run --rootfs DIR -- CMD)");
	return 0;
}

int sp_run_options_parse(struct sp_run_options *o, int argc, char **argv)
{
	int opt;

	memset(o, 0, sizeof(*o));
	o->hostname = "sandpool";
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout);
			exit(0);
		}
		if (opt == '?' || opt == ':')
			return unknown_option(argv);
		if (parse_option(o, opt, optarg) < 0)
			return -1;
	}
	return check_combination(o, argc, argv);
}
