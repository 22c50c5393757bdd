/* sandpool: a self-hosted code execution server. Subcommand dispatch. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_check.h"
#include "cmd_image.h"
#include "cmd_run.h"

#ifndef SANDPOOL_VERSION
#define SANDPOOL_VERSION "0.1.0"
#endif

static void usage(FILE *to)
{
	fputs("usage: sandpool COMMAND [ARGS]\n"
	      "commands:\n"
	      "  serve    the HTTP API over a warm pool of sandboxes\n"
	      "  worker   run the jobs of a queue shared in Redis (sandpool serve --queue)\n"
	      "  run      run one command in a fresh sandbox, print the result as JSON\n"
	      "  check    show what this host supports and which limits are enforced\n"
	      "  image    import, list, inspect and remove images\n"
	      "  version  print the version\n"
	      "'sandpool COMMAND --help' tells more.\n",
	      to);
}

/* `sandpool serve` is sandpool-server, beside this executable: the server
 * links civetweb, which Debian ships only as a shared library, while
 * sandpool itself stays static (a cold run is about 3 ms faster for it). */
static int exec_server(char **argv)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0) {
		fprintf(stderr, "sandpool: cannot find my own executable: %s\n", strerror(errno));
		return 1;
	}
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/sandpool-server", dirname(exe));
	argv[0] = path;
	execv(path, argv);
	fprintf(stderr, "sandpool: cannot run %s: %s\n", path, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0 || strcmp(argv[1], "worker") == 0)
		return exec_server(argv);
	if (strcmp(argv[1], "run") == 0)
		return sp_cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return sp_cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "image") == 0)
		return sp_cmd_image(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("sandpool %s\n", SANDPOOL_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "sandpool: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
