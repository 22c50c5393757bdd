/* sandpool: a self-hosted code execution server. Subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cmd_check.h"
#include "cmd_image.h"
#include "cmd_run.h"
#include "cmd_serve.h"

#ifndef SANDPOOL_VERSION
#define SANDPOOL_VERSION "0.1.0"
#endif

static void usage(FILE *to)
{
	fputs("usage: sandpool COMMAND [ARGS]\n"
	      "commands:\n"
	      "  serve    the HTTP API over a warm pool of sandboxes\n"
	      "  run      run one command in a fresh sandbox, print the result as JSON\n"
	      "  check    show what this host supports and which limits are enforced\n"
	      "  image    import, list, inspect and remove images\n"
	      "  version  print the version\n"
	      "'sandpool COMMAND --help' tells more.\n",
	      to);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0)
		return sp_cmd_serve(argc - 1, argv + 1);
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
