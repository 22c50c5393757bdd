/* The command line of `sandpool run`. */
#ifndef SANDPOOL_RUN_OPTIONS_H
#define SANDPOOL_RUN_OPTIONS_H

#include <stddef.h>

#include "sandbox/cgroup.h"
#include "sandbox/limits.h"
#include "sandbox/userns.h"

#define SP_RUN_MAX_ENV	 256
#define SP_RUN_MAX_FILES 256

struct sp_run_options {
	const char *rootfs;    /* --rootfs DIR */
	const char *image;     /* --image NAME, from the image store */
	const char *language;  /* --language NAME */
	const char *source;    /* --source FILE: the program, with --language */
	const char *state_dir; /* --state-dir DIR */
	const char *stdin_path;
	const char *policy_path;
	const char *hostname;
	struct sp_limits limits; /* only the limits given; 0 = not given */
	enum sp_cgroup_request cgroup;
	enum sp_idmap_request idmap;
	char *env[SP_RUN_MAX_ENV + 1];
	size_t env_count;
	const char *files[SP_RUN_MAX_FILES];
	size_t file_count;
	char **argv; /* the command (with --language: the program's arguments); or NULL */
};

/* Parse ARGV (argv[0] is "run"). Prints one line on stderr and returns -1
 * on bad usage; prints the help and exits 0 on --help. */
int sp_run_options_parse(struct sp_run_options *o, int argc, char **argv);

/* DST, with every limit given in GIVEN put over it. */
void sp_limits_overlay(struct sp_limits *dst, const struct sp_limits *given);

#endif
